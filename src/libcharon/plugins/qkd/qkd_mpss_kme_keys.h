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
 * Hop keys of an MPSS node from the KMEs of its QKD links, through the
 * plugin's ETSI GS QKD 014 client: enc_keys for a new key to a neighbour,
 * dec_keys for the key a neighbour took (the KME hands each key out once).
 *
 * @defgroup qkd_mpss_kme_keys qkd_mpss_kme_keys
 * @{ @ingroup qkd
 */

#ifndef QKD_MPSS_KME_KEYS_H_
#define QKD_MPSS_KME_KEYS_H_

#include "qkd_mpss_node.h"
#include "qkd_kme_client.h"

typedef struct qkd_mpss_kme_keys_t qkd_mpss_kme_keys_t;

/**
 * Hop keys from the KMEs of a node's links.
 */
struct qkd_mpss_kme_keys_t {

	/**
	 * The hop keys, for qkd_mpss_node_create().
	 */
	qkd_mpss_hop_keys_t keys;

	/**
	 * Add the link to a neighbour.
	 *
	 * @param neighbour	the neighbour's address (IPv6, cloned)
	 * @param client	client of this node's KME on that link, its peer
	 *					SAE the neighbour's (owned)
	 */
	void (*add_link)(qkd_mpss_kme_keys_t *this, host_t *neighbour,
					 qkd_kme_client_t *client);

	/**
	 * Destroy a qkd_mpss_kme_keys_t and the clients.
	 */
	void (*destroy)(qkd_mpss_kme_keys_t *this);
};

/**
 * Create the hop keys of a node, without links.
 *
 * @param batch		keys taken from a KME per enc_keys call, the others
 *					kept in memory (wiped when destroyed) for the next
 *					takes on that link
 * @return			hop keys
 */
qkd_mpss_kme_keys_t *qkd_mpss_kme_keys_create(u_int batch);

#endif /** QKD_MPSS_KME_KEYS_H_ @}*/
