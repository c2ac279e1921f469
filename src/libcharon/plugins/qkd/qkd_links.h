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
 * @defgroup qkd_links qkd_links
 * @{ @ingroup qkd
 */

#ifndef QKD_LINKS_H_
#define QKD_LINKS_H_

#include "qkd_link.h"
#include "qkd_key_source.h"
#include "qkd_refill.h"
#include "qkd_doh_peer.h"

#include <sa/ike_sa.h>

typedef struct qkd_links_t qkd_links_t;

/**
 * The configured QKD links (charon.plugins.qkd.links), reloadable, and
 * what runs for each: its pool, refill job and DOH with its peer. The one
 * place that wires them together; a qkd_link_t is only configuration.
 */
struct qkd_links_t {

	/**
	 * (Re-)load all links from strongswan.conf, replacing the current set.
	 * Invalid links are logged and skipped.
	 *
	 * @return			number of links loaded
	 */
	u_int (*load)(qkd_links_t *this);

	/**
	 * Select the link keying an IKE SA (the link listing its connection
	 * name, else the link whose remote_addrs include the peer address most
	 * specifically) and create the source of its keys: keys bound over DOH
	 * if the link runs DOH, else its pool if it has one, else its KME.
	 *
	 * A link selected by address before the peer is authenticated must be
	 * the link of the connection IKE_AUTH selects, else the IKE SA's
	 * authorization fails.
	 *
	 * @param ike_sa	IKE SA
	 * @return			key source (destroy after use), NULL if no link
	 */
	qkd_key_source_t *(*create_key_source)(qkd_links_t *this,
										   ike_sa_t *ike_sa);

	/**
	 * Enumerate the configured links with their pools, refill jobs and
	 * DOH peers (each NULL if the link has none). The links are not
	 * reloaded while the enumerator exists.
	 *
	 * @return			enumerator over qkd_link_t*, qkd_pool_t*,
	 *					qkd_refill_t*, qkd_doh_peer_t*
	 */
	enumerator_t *(*create_enumerator)(qkd_links_t *this);

	/**
	 * Destroy a qkd_links_t.
	 */
	void (*destroy)(qkd_links_t *this);
};

/**
 * Create an empty set of links, see load().
 *
 * @return			links
 */
qkd_links_t *qkd_links_create();

#endif /** QKD_LINKS_H_ @}*/
