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
 * Composite key exchange methods: a classical or post-quantum method of
 * the crypto factory (x25519, x448, ML-KEM) and a QKD key in one KE
 * payload, so a hybrid costs no IKE_INTERMEDIATE round trip.
 *
 * KE data of the master (the side sending the first KE payload):
 * the component's public value (x25519 key share, ML-KEM encapsulation key)
 * followed by the 16-byte QKD key ID. KE data of the slave: the component's
 * answer (key share, ML-KEM ciphertext) followed by the 32-byte key
 * confirmation of the QKD key (see qkd_ke_confirmation()). The shared
 * secret is qkd_composite_ke_combine() of both secrets and both KE data.
 *
 * @defgroup qkd_composite_ke qkd_composite_ke
 * @{ @ingroup qkd
 */

#ifndef QKD_COMPOSITE_KE_H_
#define QKD_COMPOSITE_KE_H_

#include <crypto/key_exchange.h>

/**
 * Number of composite methods (enabled or not)
 */
#define QKD_COMPOSITE_METHODS 5

/**
 * Length of the shared secret of a composite method
 */
#define QKD_COMPOSITE_SECRET_LEN 32

/**
 * Read the transform IDs of the composite methods
 * (charon.plugins.qkd.composite.<keyword>, 0 disables one) and check them
 * against each other and the qkd methods; a method with an invalid or
 * duplicate ID is disabled with a log line.
 *
 * @param qkd		transform ID of the qkd method
 */
void qkd_composite_ke_configure(key_exchange_method_t qkd);

/**
 * Get a composite method.
 *
 * @param i			index, 0 to QKD_COMPOSITE_METHODS - 1
 * @param keyword	receives the proposal keyword (e.g. "x25519qkd")
 * @param id		receives its transform ID
 * @param component	receives the classical/post-quantum component's method
 * @return			FALSE if i is out of range or the method is disabled
 */
bool qkd_composite_ke_get(int i, char **keyword, key_exchange_method_t *id,
						  key_exchange_method_t *component);

/**
 * Make a composite method known by name (logs, swanctl) and as proposal
 * keyword, or remove its names again.
 *
 * @param i			index of the method
 * @param reg		TRUE to register, FALSE to remove the names
 */
void qkd_composite_ke_register(int i, bool reg);

/**
 * Derive the shared secret of a composite method with the one-step KDF of
 * NIST SP 800-56C Rev. 2 (4.1, option 2, HMAC-SHA256), one HMAC:
 *
 *   HMAC-SHA256(salt = "strongSwan qkd composite",
 *               00000001 | Z | FixedInfo)
 *   Z         = component secret | QKD key   (Z' = Z | T of SP 800-56C 2)
 *   FixedInfo = transform ID (16 bit) | length of KE_m (16 bit) |
 *               KE_m | KE_s
 *
 * with KE_m and KE_s the KE data of master and slave. Secure if either the
 * component's secret or the QKD key is (HMAC keyed with the salt as an
 * extractor over the concatenation, as HKDF-Extract and the hybrid designs
 * for TLS 1.3 use it); both KE data are bound in.
 *
 * @param method	transform ID of the composite method
 * @param component	the component's shared secret
 * @param qkd		the QKD key
 * @param ke_master	the master's KE data
 * @param ke_slave	the slave's KE data
 * @param secret	receives the allocated secret, QKD_COMPOSITE_SECRET_LEN
 * @return			FALSE if SHA-256 is not available
 */
bool qkd_composite_ke_combine(key_exchange_method_t method, chunk_t component,
							  chunk_t qkd, chunk_t ke_master, chunk_t ke_slave,
							  chunk_t *secret);

/**
 * Create a composite key exchange for the IKE SA currently on the bus.
 *
 * @param method	transform ID of an enabled composite method
 * @return			key exchange, NULL if the method is unknown, its
 *					component not available or no link serves the IKE SA
 */
key_exchange_t *qkd_composite_ke_create(key_exchange_method_t method);

#endif /** QKD_COMPOSITE_KE_H_ @}*/
