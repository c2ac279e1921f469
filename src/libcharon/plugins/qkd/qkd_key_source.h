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
 * Where the qkd key exchange gets its keys: the link's KME directly, the
 * link's key pool, or the keys bound with the peer over DOH.
 * @defgroup qkd_key_source qkd_key_source
 * @{ @ingroup qkd
 */

#ifndef QKD_KEY_SOURCE_H_
#define QKD_KEY_SOURCE_H_

#include "qkd_link.h"
#include "qkd_pool.h"
#include "qkd_doh_peer.h"

typedef struct qkd_key_source_t qkd_key_source_t;

/**
 * The keys of one link, as a key exchange uses them.
 *
 * Failures are logged by the source, naming the link, the IKE SA and why.
 */
struct qkd_key_source_t {

	/**
	 * Get a key for a key exchange this end starts (it sends the key ID).
	 *
	 * @param sa		IKE SA as "name[unique id]", for logs
	 * @param how		receives how the key was got, for logs
	 * @return			key (caller destroys), NULL if none
	 */
	qkd_key_t *(*take)(qkd_key_source_t *this, char *sa, char **how);

	/**
	 * Get the key the peer chose for a key exchange it started.
	 *
	 * @param id		key ID from the peer's KE payload
	 * @param authenticated	whether the peer is authenticated (else KME
	 *					calls it makes are rate-limited)
	 * @param sa		IKE SA as "name[unique id]", for logs
	 * @param how		receives how the key was got, for logs
	 * @return			key (caller destroys), NULL if refused or not there
	 */
	qkd_key_t *(*take_peer)(qkd_key_source_t *this,
							uint8_t id[QKD_KEY_ID_LEN], bool authenticated,
							char *sa, char **how);

	/**
	 * A key exchange completed with a key: it is in use (Active).
	 *
	 * @param id		key ID
	 * @return			FALSE if the change could not be stored
	 */
	bool (*used)(qkd_key_source_t *this, uint8_t id[QKD_KEY_ID_LEN]);

	/**
	 * A key exchange is gone with a key, used or not: never again
	 * (Expired).
	 *
	 * @param id		key ID
	 */
	void (*done)(qkd_key_source_t *this, uint8_t id[QKD_KEY_ID_LEN]);

	/**
	 * Get the link whose keys these are.
	 *
	 * @return			link (not referenced)
	 */
	qkd_link_t *(*get_link)(qkd_key_source_t *this);

	/**
	 * Destroy a qkd_key_source_t.
	 */
	void (*destroy)(qkd_key_source_t *this);
};

/**
 * Create the key source of a link: DOH-bound keys if the link runs DOH,
 * else its pool if it has one, else its KME.
 *
 * @param link		link (referenced)
 * @param pool		the link's pool, NULL if none
 * @param doh		DOH with the link's peer, NULL if none
 * @return			key source
 */
qkd_key_source_t *qkd_key_source_create(qkd_link_t *link, qkd_pool_t *pool,
										qkd_doh_peer_t *doh);

/**
 * Keys straight from the link's KME: a new one for each key exchange this
 * end starts (enc_keys), the peer's by ID (dec_keys).
 *
 * @param link		link (referenced)
 * @return			key source
 */
qkd_key_source_t *qkd_key_source_kme_create(qkd_link_t *link);

/**
 * Keys from the link's pool for key exchanges this end starts; the peer's
 * by ID from the KME, recorded in the pool (refused if known).
 *
 * @param link		link (referenced)
 * @param pool		the link's pool
 * @return			key source
 */
qkd_key_source_t *qkd_key_source_pool_create(qkd_link_t *link,
											 qkd_pool_t *pool);

/**
 * Keys bound with the peer over DOH: one this end negotiated for its key
 * exchanges, only one the peer negotiated for the peer's.
 *
 * @param link		link (referenced)
 * @param pool		the link's pool
 * @param doh		DOH with the link's peer
 * @return			key source
 */
qkd_key_source_t *qkd_key_source_doh_create(qkd_link_t *link,
											qkd_pool_t *pool,
											qkd_doh_peer_t *doh);

#endif /** QKD_KEY_SOURCE_H_ @}*/
