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
 * Receiving on raw IPv6 sockets: a packet with the source and destination
 * addresses of its IPv6 header (the kernel strips the header itself).
 * @defgroup qkd_raw6 qkd_raw6
 * @{ @ingroup qkd
 */

#ifndef QKD_RAW6_H_
#define QKD_RAW6_H_

#include <library.h>

#include <netinet/in.h>

/**
 * Receive a packet from a raw IPv6 socket that has IPV6_RECVPKTINFO set,
 * without blocking.
 *
 * @param fd		the socket
 * @param buf		receives the payload after the IPv6 header
 * @param src		receives the source address (with its scope)
 * @param dst		receives the destination address
 * @param truncated	set to TRUE if the packet did not fit into buf
 * @return			bytes received, -1 if none or without its destination
 */
ssize_t qkd_raw6_recv(int fd, chunk_t buf, struct sockaddr_in6 *src,
					  struct in6_addr *dst, bool *truncated);

#endif /** QKD_RAW6_H_ @}*/
