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
 * Raw IPv6 transport of Destination Options Headers.
 *
 * @defgroup qkd_doh_socket qkd_doh_socket
 * @{ @ingroup qkd
 */

#ifndef QKD_DOH_SOCKET_H_
#define QKD_DOH_SOCKET_H_

#include <library.h>
#include <networking/host.h>

typedef struct qkd_doh_socket_t qkd_doh_socket_t;
typedef struct qkd_doh_socket_counters_t qkd_doh_socket_counters_t;

/**
 * Receives a Destination Options Header.
 *
 * @param data		user data
 * @param src		IPv6 source of the packet
 * @param dst		IPv6 destination of the packet
 * @param doh		the header (Next Header field on, as long as its Hdr
 *					Ext Len says), valid during the call
 */
typedef void (*qkd_doh_receive_cb_t)(void *data, host_t *src, host_t *dst,
									 chunk_t doh);

/**
 * Headers the socket dropped before handing them on.
 */
struct qkd_doh_socket_counters_t {
	/** Hdr Ext Len says the header is longer than the packet */
	u_int truncated;
	/** before a Routing Header with segments left (meant for another node) */
	u_int not_for_us;
};

/**
 * Sends and receives IPv6 packets made of an IPv6 header and a Destination
 * Options Header.
 *
 * Sending uses a raw IPPROTO_RAW socket with a hand-built IPv6 header,
 * receiving a raw IPPROTO_DSTOPTS socket (the kernel hands it a copy of
 * every packet with a DOH before it drops the packet for the unknown 0x50
 * option), watched by charon's watcher. Both need CAP_NET_RAW. A classic
 * BPF filter lets only headers with option 0x50 among their first four
 * options through.
 */
struct qkd_doh_socket_t {

	/**
	 * Send a DOH in an IPv6 packet of its own.
	 *
	 * @param src		source address
	 * @param dst		destination address
	 * @param doh		Destination Options Header (Next Header 59)
	 * @return			TRUE if sent
	 */
	bool (*send)(qkd_doh_socket_t *this, host_t *src, host_t *dst,
				 chunk_t doh);

	/**
	 * Get the counters of dropped headers.
	 *
	 * @param counters	receives the counters
	 */
	void (*get_counters)(qkd_doh_socket_t *this,
						 qkd_doh_socket_counters_t *counters);

	/**
	 * Destroy a qkd_doh_socket_t.
	 */
	void (*destroy)(qkd_doh_socket_t *this);
};

/**
 * Install IPsec bypass policies for a socket, e.g. through
 * charon->kernel->bypass_socket().
 *
 * @param fd		socket
 * @param family	its address family
 * @return			TRUE if installed
 */
typedef bool (*qkd_doh_bypass_t)(int fd, int family);

/**
 * Open the sockets.
 *
 * With a bypass function, the sockets get IPsec bypass policies, as
 * charon's IKE sockets do: DOH negotiates the keys of the SAs that
 * policies covering the two ends' addresses need.
 *
 * @param cb		called for every received DOH
 * @param data		user data for cb
 * @param bypass	installs IPsec bypass policies for the sockets, or NULL
 * @return			socket, NULL on failure (logged)
 */
qkd_doh_socket_t *qkd_doh_socket_create(qkd_doh_receive_cb_t cb, void *data,
										qkd_doh_bypass_t bypass);

#endif /** QKD_DOH_SOCKET_H_ @}*/
