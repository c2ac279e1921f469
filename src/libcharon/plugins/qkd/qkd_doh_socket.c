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

/* for struct in6_pktinfo */
#define _GNU_SOURCE

#include "qkd_doh_socket.h"

#include <errno.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/ip6.h>
#include <sys/socket.h>

#include <utils/debug.h>

/**
 * Largest DOH (Hdr Ext Len is 8 bits: 256 * 8 octets)
 */
#define MAX_DOH 2048

/**
 * Hop limit of sent packets
 */
#define HOP_LIMIT 64

typedef struct private_qkd_doh_socket_t private_qkd_doh_socket_t;

/**
 * Private data of a qkd_doh_socket_t object.
 */
struct private_qkd_doh_socket_t {

	/**
	 * Public interface.
	 */
	qkd_doh_socket_t public;

	/**
	 * IPPROTO_RAW socket for sending
	 */
	int send_fd;

	/**
	 * IPPROTO_DSTOPTS socket for receiving
	 */
	int recv_fd;

	/**
	 * Receive callback and its data
	 */
	qkd_doh_receive_cb_t cb;
	void *data;
};

METHOD(qkd_doh_socket_t, send_, bool,
	private_qkd_doh_socket_t *this, host_t *src, host_t *dst, chunk_t doh)
{
	struct ip6_hdr hdr = {
		.ip6_flow = htonl(6 << 28),
		.ip6_plen = htons(doh.len),
		.ip6_nxt = IPPROTO_DSTOPTS,
		.ip6_hlim = HOP_LIMIT,
	};
	struct sockaddr_in6 *sin;
	struct iovec iov[2];
	struct msghdr msg = {
		.msg_iov = iov,
		.msg_iovlen = countof(iov),
	};

	if (src->get_family(src) != AF_INET6 || dst->get_family(dst) != AF_INET6 ||
		doh.len > MAX_DOH)
	{
		return FALSE;
	}
	memcpy(&hdr.ip6_src, src->get_address(src).ptr, sizeof(hdr.ip6_src));
	memcpy(&hdr.ip6_dst, dst->get_address(dst).ptr, sizeof(hdr.ip6_dst));
	iov[0] = (struct iovec){ .iov_base = &hdr, .iov_len = sizeof(hdr) };
	iov[1] = (struct iovec){ .iov_base = doh.ptr, .iov_len = doh.len };
	/* the port of a raw IPv6 socket address must be 0 */
	sin = (struct sockaddr_in6*)dst->get_sockaddr(dst);
	msg.msg_name = &(struct sockaddr_in6){
		.sin6_family = AF_INET6,
		.sin6_addr = sin->sin6_addr,
		.sin6_scope_id = sin->sin6_scope_id,
	};
	msg.msg_namelen = sizeof(struct sockaddr_in6);
	if (sendmsg(this->send_fd, &msg, 0) != sizeof(hdr) + doh.len)
	{
		DBG1(DBG_NET, "qkd: sending DOH to %H failed: %s", dst,
			 strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/**
 * Receive a DOH from the watcher
 */
CALLBACK(receive, bool,
	private_qkd_doh_socket_t *this, int fd, watcher_event_t event)
{
	uint8_t buf[MAX_DOH], ctrl[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct sockaddr_in6 from, to = { .sin6_family = AF_INET6 };
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctrl,
		.msg_controllen = sizeof(ctrl),
	};
	struct cmsghdr *cmsg;
	struct in6_pktinfo *info;
	host_t *src, *dst;
	ssize_t len;
	bool have_dst = FALSE;

	len = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (len < 2)
	{
		return TRUE;
	}
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
	{
		if (cmsg->cmsg_level == IPPROTO_IPV6 &&
			cmsg->cmsg_type == IPV6_PKTINFO)
		{
			info = (struct in6_pktinfo*)CMSG_DATA(cmsg);
			to.sin6_addr = info->ipi6_addr;
			have_dst = TRUE;
		}
	}
	/* the DOH is as long as its Hdr Ext Len says, payload may follow */
	if (!have_dst || (buf[1] + 1) * 8 > len)
	{
		return TRUE;
	}
	src = host_create_from_sockaddr((sockaddr_t*)&from);
	dst = host_create_from_sockaddr((sockaddr_t*)&to);
	if (src && dst)
	{
		this->cb(this->data, src, dst, chunk_create(buf, (buf[1] + 1) * 8));
	}
	DESTROY_IF(src);
	DESTROY_IF(dst);
	return TRUE;
}

METHOD(qkd_doh_socket_t, destroy, void,
	private_qkd_doh_socket_t *this)
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
qkd_doh_socket_t *qkd_doh_socket_create(qkd_doh_receive_cb_t cb, void *data)
{
	private_qkd_doh_socket_t *this;
	int on = 1;

	INIT(this,
		.public = {
			.send = _send_,
			.destroy = _destroy,
		},
		.send_fd = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW),
		.recv_fd = socket(AF_INET6, SOCK_RAW, IPPROTO_DSTOPTS),
		.cb = cb,
		.data = data,
	);

	if (this->send_fd < 0 || this->recv_fd < 0 ||
		setsockopt(this->recv_fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
				   sizeof(on)) < 0)
	{
		DBG1(DBG_NET, "qkd: opening raw IPv6 sockets failed: %s (CAP_NET_RAW "
			 "needed)", strerror(errno));
		destroy(this);
		return NULL;
	}
	lib->watcher->add(lib->watcher, this->recv_fd, WATCHER_READ, receive, this);
	return &this->public;
}
