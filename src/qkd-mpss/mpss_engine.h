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
 * The qkd-mpss helper's share handling: a node (source, relay and
 * destination at once) on raw IPv6 sockets, with the hop keys and
 * destinations of its configuration, and the key store its gateway
 * fetches rebuilt keys from.
 * @defgroup mpss_engine mpss_engine
 * @{ @ingroup qkd-mpss
 */

#ifndef MPSS_ENGINE_H_
#define MPSS_ENGINE_H_

#include "mpss_keystore.h"

#include <collections/array.h>

typedef struct mpss_engine_t mpss_engine_t;
typedef enum mpss_send_t mpss_send_t;

/**
 * Outcome of sending secrets.
 */
enum mpss_send_t {
	/** sent, keys returned */
	MPSS_SEND_OK,
	/** no destination with that SAE ID */
	MPSS_SEND_UNKNOWN,
	/** size not a whole number of bytes, or too long for a share */
	MPSS_SEND_SIZE,
	/** no hop key, or fewer than k shares could be sent */
	MPSS_SEND_FAILED,
};

/**
 * Share handling of the helper.
 */
struct mpss_engine_t {

	/**
	 * Make new secrets for a destination and send their shares (source).
	 *
	 * @param sae_id	SAE ID of the destination's gateway
	 * @param count		number of secrets
	 * @param bits		size of each, bits
	 * @param keys		receives an array of qkd_key_t* on success
	 * @return			outcome
	 */
	mpss_send_t (*send)(mpss_engine_t *this, char *sae_id, u_int count,
						u_int bits, array_t **keys);

	/**
	 * Whether secrets can be sent to a destination.
	 *
	 * @param sae_id	SAE ID of the destination's gateway
	 * @return			TRUE if configured
	 */
	bool (*has_destination)(mpss_engine_t *this, char *sae_id);

	/**
	 * Get the store of rebuilt keys (destination).
	 *
	 * @return			key store
	 */
	mpss_keystore_t *(*get_keystore)(mpss_engine_t *this);

	/**
	 * Destroy the engine; the processor's threads must be stopped before.
	 */
	void (*destroy)(mpss_engine_t *this);
};

/**
 * Create the engine from the options under a section.
 *
 * @param ns		section ("qkd-mpss")
 * @return			engine, NULL on error (logged)
 */
mpss_engine_t *mpss_engine_create(char *ns);

#endif /** MPSS_ENGINE_H_ @}*/
