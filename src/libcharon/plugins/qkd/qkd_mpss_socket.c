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

/* struct in6_pktinfo */
#define _GNU_SOURCE

#include "qkd_mpss_socket.h"
#include "qkd_raw6.h"

#include <errno.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <utils/debug.h>

/**
 * Largest packet handled
 */
#define MAX_PACKET 2048

/**
 * Length of the IPv6 header, offsets of its addresses
 */
#define IPV6_LEN 40
#define IPV6_SRC 8
#define IPV6_DST 24

typedef struct private_qkd_mpss_socket_t private_qkd_mpss_socket_t;

/**
 * Private data of a qkd_mpss_socket_t object.
 */
struct private_qkd_mpss_socket_t {

	/**
	 * Public interface.
	 */
	qkd_mpss_socket_t public;

	/**
	 * Sending (IPPROTO_RAW) and receiving (IPPROTO_ROUTING) sockets
	 */
	int send_fd, recv_fd;

	/**
	 * Receiver of packets
	 */
	qkd_mpss_receive_cb_t cb;
	void *data;
};

METHOD(qkd_mpss_socket_t, send_, bool,
	private_qkd_mpss_socket_t *this, chunk_t packet)
{
	struct sockaddr_in6 dst = { .sin6_family = AF_INET6 };

	if (packet.len < IPV6_LEN || packet.len > MAX_PACKET)
	{
		return FALSE;
	}
	memcpy(&dst.sin6_addr, packet.ptr + IPV6_DST, sizeof(dst.sin6_addr));
	if (sendto(this->send_fd, packet.ptr, packet.len, 0,
			   (struct sockaddr*)&dst, sizeof(dst)) != packet.len)
	{
		DBG1(DBG_NET, "qkd MPSS: sending a share packet failed: %s",
			 strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/**
 * Receive a packet from the watcher
 */
CALLBACK(receive, bool,
	private_qkd_mpss_socket_t *this, int fd, watcher_event_t event)
{
	uint8_t buf[MAX_PACKET];
	struct sockaddr_in6 src;
	struct in6_addr dst;
	bool truncated;
	ssize_t len;

	len = qkd_raw6_recv(fd, chunk_create(buf + IPV6_LEN,
						sizeof(buf) - IPV6_LEN), &src, &dst, &truncated);
	if (len <= 0 || truncated)
	{
		return TRUE;
	}
	/* the IPv6 header the kernel took off: version 6, payload length,
	 * next header routing, hop limit unknown */
	memset(buf, 0, IPV6_LEN);
	buf[0] = 0x60;
	htoun16(buf + 4, len);
	buf[6] = IPPROTO_ROUTING;
	memcpy(buf + IPV6_SRC, &src.sin6_addr, 16);
	memcpy(buf + IPV6_DST, &dst, 16);
	this->cb(this->data, chunk_create(buf, IPV6_LEN + len));
	memwipe(buf, IPV6_LEN + len);
	return TRUE;
}

METHOD(qkd_mpss_socket_t, destroy, void,
	private_qkd_mpss_socket_t *this)
{
	if (this->recv_fd >= 0)
	{
		lib->watcher->remove(lib->watcher, this->recv_fd);
		close(this->recv_fd);
	}
	if (this->send_fd >= 0)
	{
		close(this->send_fd);
	}
	free(this);
}

/*
 * Described in header
 */
qkd_mpss_socket_t *qkd_mpss_socket_create(qkd_mpss_receive_cb_t cb,
										  void *data)
{
	private_qkd_mpss_socket_t *this;
	int on = 1;

	INIT(this,
		.public = {
			.send = _send_,
			.destroy = _destroy,
		},
		.send_fd = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW),
		.recv_fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ROUTING),
		.cb = cb,
		.data = data,
	);
	if (this->send_fd < 0 || this->recv_fd < 0 ||
		setsockopt(this->recv_fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
				   sizeof(on)) < 0)
	{
		DBG1(DBG_NET, "qkd MPSS: opening raw IPv6 sockets failed: %s "
			 "(CAP_NET_RAW needed)", strerror(errno));
		destroy(this);
		return NULL;
	}
	lib->watcher->add(lib->watcher, this->recv_fd, WATCHER_READ, receive,
					  this);
	return &this->public;
}
