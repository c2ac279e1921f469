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

#include <sa/ike_sa.h>

typedef struct qkd_links_t qkd_links_t;

/**
 * The configured QKD links (charon.plugins.qkd.links), reloadable.
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
	 * Select the link keying an IKE SA: the link listing its connection
	 * name, else the first link listing the peer address.
	 *
	 * @param ike_sa	IKE SA
	 * @return			referenced link (release with destroy()), NULL if none
	 */
	qkd_link_t *(*select)(qkd_links_t *this, ike_sa_t *ike_sa);

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
