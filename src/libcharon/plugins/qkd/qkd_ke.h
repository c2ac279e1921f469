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
 * @defgroup qkd_ke qkd_ke
 * @{ @ingroup qkd
 */

#ifndef QKD_KE_H_
#define QKD_KE_H_

#include "qkd_links.h"

#include <crypto/key_exchange.h>

/**
 * Default transform ID of the qkd key exchange method (private use range),
 * the one QURSA's source declares (KE_QKD in qkd_plugin.h); configurable
 * with charon.plugins.qkd.transform_id.
 */
#define QKD_KE_METHOD 65516

/**
 * Transform ID the released QURSA plugin sends: its qkd_kex.h defines
 * KE_QKD as 65535, which overrides the enum value of qkd_plugin.h. Offered
 * as the method qkd_qursa.
 */
#define QKD_KE_METHOD_QURSA 65535

/**
 * Length of the key confirmation a slave of this plugin sends
 */
#define QKD_KE_CONFIRMATION_LEN 32

/**
 * Compute the key confirmation of a key: HKDF-Expand-SHA256(PRK = key,
 * info = "strongSwan qkd key confirmation" | key ID, L = 32). A QKD key is
 * uniformly random, so it keys HMAC directly (RFC 5869 3.3).
 *
 * The slave of a qkd key exchange answers with it instead of empty KE data
 * (not for qkd_qursa, whose peers expect the plain format), so the master
 * learns whether both ends got the same key for the key ID and fails the
 * exchange with a clear line if not.
 *
 * @param key		the key
 * @param tag		receives the confirmation, QKD_KE_CONFIRMATION_LEN bytes
 * @return			FALSE if SHA-256 is not available
 */
bool qkd_ke_confirmation(qkd_key_t *key,
						 uint8_t tag[QKD_KE_CONFIRMATION_LEN]);

/**
 * Set the transform ID of the qkd method, before the names are registered.
 *
 * @param id		transform ID, in the private use range 1024-65535 (another
 *					value is logged and QKD_KE_METHOD used)
 * @return			the transform ID used
 */
key_exchange_method_t qkd_ke_set_method(u_int id);

/**
 * Add or remove the names of the qkd key exchange methods ("QKD", short
 * "qkd", and "QKD_QURSA", short "qkd_qursa", unless qkd has the same
 * transform ID) to/from key_exchange_method_names(_short), so that logs and
 * swanctl print them.
 *
 * @param reg		TRUE to add, FALSE to remove
 */
void qkd_ke_register_names(bool reg);

/**
 * Set the links key exchanges look up their link in.
 *
 * @param links		configured links, NULL to unset
 */
void qkd_ke_set_links(qkd_links_t *links);

/**
 * Read the settings of key exchanges (key_confirmation), at load and on
 * every reload of the settings.
 */
void qkd_ke_load_settings();

/**
 * Create a qkd key exchange for the IKE SA currently on the bus.
 *
 * The side that sends the first KE payload is the master for that key: it
 * gets a new key from its KME (enc_keys) and sends the 16-byte key ID; the
 * other side gets the key by ID (dec_keys) and answers with empty KE data.
 * The shared secret is the QKD key.
 *
 * @param method	the transform ID of qkd, or QKD_KE_METHOD_QURSA
 * @return			key exchange, NULL if no link serves the IKE SA
 */
key_exchange_t *qkd_ke_create(key_exchange_method_t method);

/**
 * Create the QKD part of a composite key exchange method for the IKE SA
 * currently on the bus: as qkd_ke_create(), but the slave always sends the
 * key confirmation and the master requires it.
 *
 * @param method	transform ID of the composite method, for get_method()
 * @return			key exchange, NULL if no link serves the IKE SA
 */
key_exchange_t *qkd_ke_create_component(key_exchange_method_t method);

#endif /** QKD_KE_H_ @}*/
