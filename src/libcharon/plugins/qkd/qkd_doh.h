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
 * The DOH engine: one raw socket for all links running DOH, received
 * headers handed to the peer state of their address pair, and a job that
 * keeps every peer's protocol going.
 * @defgroup qkd_doh qkd_doh
 * @{ @ingroup qkd
 */

#ifndef QKD_DOH_H_
#define QKD_DOH_H_

#include "qkd_doh_peer.h"
#include "qkd_doh_socket.h"

typedef struct qkd_doh_t qkd_doh_t;

/**
 * DOH engine of all links.
 */
struct qkd_doh_t {

	/**
	 * Start DOH with the peer of a link (opens the socket on first use).
	 *
	 * @param link		link with DOH settings
	 * @param pool		the link's pool
	 * @return			DOH peer (destroyed with the engine unless removed), NULL
	 *					on failure (logged)
	 */
	qkd_doh_peer_t *(*add)(qkd_doh_t *this, qkd_link_t *link,
						   qkd_pool_t *pool);

	/**
	 * Stop DOH with a peer: no more messages are sent or handed to it. The
	 * caller destroys it (key exchanges may still take keys from it).
	 *
	 * @param peer		DOH peer returned by add()
	 */
	void (*remove)(qkd_doh_t *this, qkd_doh_peer_t *peer);

	/**
	 * Destroy the engine and all peers.
	 */
	void (*destroy)(qkd_doh_t *this);
};

/**
 * Create the DOH engine (no socket until the first peer is added).
 *
 * @param bypass	installs IPsec bypass policies for its sockets, or NULL
 * @param kernel	installs the SAs of IKE-less children (not owned, it
 *					outlives the peers), or NULL
 * @return			engine
 */
qkd_doh_t *qkd_doh_create(qkd_doh_bypass_t bypass,
						  qkd_direct_kernel_t *kernel);

#endif /** QKD_DOH_H_ @}*/
