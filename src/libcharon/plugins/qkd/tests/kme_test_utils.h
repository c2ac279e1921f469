/*
 * Copyright (C) 2026 The strongswan-qkd authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
 *
 * This program is distributed in the hope that it will be useful, but
 * WITHOUT ANY WARRANTY; without even the implied warranty of MERCHANTABILITY
 * or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU General Public License
 * for more details.
 */

/**
 * Access to the KME simulator the tests run against (see with-kme-sim).
 *
 * @defgroup kme_test_utils kme_test_utils
 * @{ @ingroup qkd
 */

#ifndef KME_TEST_UTILS_H_
#define KME_TEST_UTILS_H_

#include "qkd_kme_client.h"

/**
 * Get a test environment variable, failing the test if unset.
 *
 * @param name		variable name
 * @return			value
 */
char *kme_test_env(char *name);

/**
 * Create a client for an SAE of the test PKI.
 *
 * @param kme		"A" or "B" (QKD_TEST_KME_A/B)
 * @param sae		own SAE ID (certificate name)
 * @param peer		peer SAE ID
 * @return			client
 */
qkd_kme_client_t *kme_test_client(char *kme, char *sae, char *peer);

/**
 * Arm a fault in the simulator.
 *
 * @param json		fault as JSON, e.g. {"kme":"kme-a","fault":"503","count":1}
 */
void kme_test_fault(char *json);

/**
 * Clear all faults of the simulator.
 */
void kme_test_clear_faults();

/**
 * Count the lines of the simulator's log containing a string.
 *
 * @param what		string to look for
 * @return			number of lines
 */
int kme_test_log_count(char *what);

/**
 * Get the first key ID of the last line of the simulator's log containing
 * a string (a key container's "key_IDs=...").
 *
 * @param what		string to look for
 * @param id		receives the binary key ID
 */
void kme_test_last_key_id(char *what, uint8_t id[QKD_KEY_ID_LEN]);

#endif /** KME_TEST_UTILS_H_ @}*/
