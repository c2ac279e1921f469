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
 * The plugin's control socket: strongSwan's vici protocol, dispatcher and
 * socket (compiled into the plugin), with the plugin's commands and
 * events (docs/vici.md).
 *
 * @defgroup qkd_vici qkd_vici
 * @{ @ingroup qkd
 */

#ifndef QKD_VICI_H_
#define QKD_VICI_H_

#include "qkd_links.h"

/**
 * Default URI of the socket, in the running charon's piddir
 */
#define QKD_VICI_SOCKET_NAME "charon.qkd.vici"

typedef struct qkd_vici_t qkd_vici_t;

/**
 * The control socket.
 */
struct qkd_vici_t {

	/**
	 * Get the URI the socket listens on.
	 *
	 * @return			URI, NULL until the socket is open
	 */
	char *(*get_uri)(qkd_vici_t *this);

	/**
	 * Close the socket and destroy.
	 */
	void (*destroy)(qkd_vici_t *this);
};

/**
 * Open the control socket (charon.plugins.qkd.vici.socket), unless
 * charon.plugins.qkd.vici.enable is no. A configured socket is opened at
 * once; the default one, in the piddir of the running charon, by a job once
 * charon runs (its PID file exists then).
 *
 * @param links		links the commands show and act on
 * @return			control socket, NULL if disabled or it failed
 */
qkd_vici_t *qkd_vici_create(qkd_links_t *links);

#endif /** QKD_VICI_H_ @}*/
