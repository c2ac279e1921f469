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
 * Raw IPv6 sockets of an MPSS node: sends share packets as built (IPv6
 * header included) and receives those that reach the node, from their
 * Segment Routing Header on (a raw socket for protocol 43 gets a copy
 * before the kernel processes the header), with the IPv6 header rebuilt
 * from the addresses so that qkd_mpss_packet_parse() checks it whole.
 *
 * @defgroup qkd_mpss_socket qkd_mpss_socket
 * @{ @ingroup qkd
 */

#ifndef QKD_MPSS_SOCKET_H_
#define QKD_MPSS_SOCKET_H_

#include <library.h>

typedef struct qkd_mpss_socket_t qkd_mpss_socket_t;

/**
 * Called for every packet received, from the watcher's thread.
 *
 * @param data		user data
 * @param packet	the packet, IPv6 header first (valid during the call)
 */
typedef void (*qkd_mpss_receive_cb_t)(void *data, chunk_t packet);

/**
 * Raw IPv6 sockets for share packets.
 */
struct qkd_mpss_socket_t {

	/**
	 * Send a packet to the destination address in its IPv6 header.
	 *
	 * @param packet	IPv6 packet, header first
	 * @return			TRUE if sent
	 */
	bool (*send)(qkd_mpss_socket_t *this, chunk_t packet);

	/**
	 * Close the sockets.
	 */
	void (*destroy)(qkd_mpss_socket_t *this);
};

/**
 * Open the sockets (CAP_NET_RAW needed).
 *
 * @param cb		called for every packet with a Segment Routing Header
 * @param data		user data for cb
 * @return			sockets, NULL on failure (logged)
 */
qkd_mpss_socket_t *qkd_mpss_socket_create(qkd_mpss_receive_cb_t cb,
										  void *data);

#endif /** QKD_MPSS_SOCKET_H_ @}*/
