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
 * Checks after IKE_AUTH that the link keying an IKE SA before
 * authentication (selected by the peer's address) is the link of the
 * connection IKE_AUTH selected.
 * @defgroup qkd_link_check qkd_link_check
 * @{ @ingroup qkd
 */

#ifndef QKD_LINK_CHECK_H_
#define QKD_LINK_CHECK_H_

#include "qkd_link.h"

#include <bus/listeners/listener.h>

typedef struct qkd_link_check_t qkd_link_check_t;

/**
 * Selects the link of an IKE SA now.
 *
 * @param data		data given to qkd_link_check_create()
 * @param ike_sa	IKE SA
 * @return			name of the link (allocated), NULL if none
 */
typedef char *(*qkd_link_check_select_t)(void *data, ike_sa_t *ike_sa);

/**
 * A listener on charon's bus: a responder selects the link of IKE_SA_INIT
 * and IKE_INTERMEDIATE key exchanges by the peer's address (ranges, %any),
 * before it knows the connection. Once the peer is authenticated, the
 * connection's link must be that link, else the authorization fails.
 */
struct qkd_link_check_t {

	/**
	 * Implements listener_t.
	 */
	listener_t listener;

	/**
	 * Note the link a key exchange of an IKE SA uses. Only IKE SAs not
	 * authenticated yet are remembered, until they are authorized or gone.
	 *
	 * @param ike_sa	IKE SA
	 * @param link		link keying it
	 */
	void (*note)(qkd_link_check_t *this, ike_sa_t *ike_sa, qkd_link_t *link);

	/**
	 * Destroy a qkd_link_check_t.
	 */
	void (*destroy)(qkd_link_check_t *this);
};

/**
 * Create the check (not registered on the bus).
 *
 * @param select	selects the link of an authenticated IKE SA
 * @param data		data passed to select
 * @return			check
 */
qkd_link_check_t *qkd_link_check_create(qkd_link_check_select_t select,
										void *data);

#endif /** QKD_LINK_CHECK_H_ @}*/
