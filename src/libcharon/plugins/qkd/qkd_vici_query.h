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
 * The list commands of the control socket (docs/vici.md): list-links,
 * list-pools, list-keys, list-doh, list-ikeless, list-kmes.
 *
 * @defgroup qkd_vici_query qkd_vici_query
 * @{ @ingroup qkd
 */

#ifndef QKD_VICI_QUERY_H_
#define QKD_VICI_QUERY_H_

#include "qkd_links.h"

#include <vici_dispatcher.h>

typedef struct qkd_vici_query_t qkd_vici_query_t;

/**
 * List commands, registered with a dispatcher while this exists.
 */
struct qkd_vici_query_t {

	/**
	 * Unregister the commands and destroy.
	 */
	void (*destroy)(qkd_vici_query_t *this);
};

/**
 * Register the list commands.
 *
 * @param dispatcher	dispatcher of the control socket
 * @param links			links to show
 * @return				list commands
 */
qkd_vici_query_t *qkd_vici_query_create(vici_dispatcher_t *dispatcher,
										qkd_links_t *links);

#endif /** QKD_VICI_QUERY_H_ @}*/
