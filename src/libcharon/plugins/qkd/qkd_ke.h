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
 * Transform ID of the qkd key exchange method (private use range), the one
 * used by the QURSA strongSwan QKD plugins.
 */
#define QKD_KE_METHOD 65516

/**
 * Add or remove the names of the qkd key exchange method ("QKD", short
 * "qkd") to/from key_exchange_method_names(_short), so that logs and
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
 * Create a qkd key exchange for the IKE SA currently on the bus.
 *
 * The side that sends the first KE payload is the master for that key: it
 * gets a new key from its KME (enc_keys) and sends the 16-byte key ID; the
 * other side gets the key by ID (dec_keys) and answers with empty KE data.
 * The shared secret is the QKD key.
 *
 * @param method	QKD_KE_METHOD
 * @return			key exchange, NULL if no link serves the IKE SA
 */
key_exchange_t *qkd_ke_create(key_exchange_method_t method);

#endif /** QKD_KE_H_ @}*/
