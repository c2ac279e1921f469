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
#include <linux/filter.h>

#include <utils/debug.h>
#include <threading/mutex.h>

#include "qkd_doh_msg.h"
#include "qkd_raw6.h"

/**
 * Largest DOH (Hdr Ext Len is 8 bits: 256 * 8 octets)
 */
#define MAX_DOH 2048

/**
 * Hop limit of sent packets
 */
#define HOP_LIMIT 64

/**
 * Interval of the log line about dropped headers, s
 */
#define DROP_LOG_INTERVAL 10

/**
 * Option types of padding
 */
#define OPT_PAD1 0x00
#define OPT_PADN 0x01

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

	/**
	 * Headers dropped, and when last logged
	 */
	qkd_doh_socket_counters_t counters;
	u_int unlogged;
	time_t logged;

	/**
	 * Protects the counters
	 */
	mutex_t *mutex;
};

/**
 * Steps of the filter program that look for the QK option: one per option
 * that may precede it (padding or skippable options)
 */
#define FILTER_STEPS 4

/**
 * One step: accept if the option at X is the QK option; skip it otherwise
 * (one byte for Pad1, two plus its length for others)
 */
#define FILTER_STEP(left) \
	BPF_STMT(BPF_LD+BPF_B+BPF_IND, 0), \
	BPF_JUMP(BPF_JMP+BPF_JEQ+BPF_K, QKD_DOH_OPTION, (left) * 10 + 9, 0), \
	BPF_JUMP(BPF_JMP+BPF_JEQ+BPF_K, OPT_PAD1, 4, 0), \
	BPF_STMT(BPF_LD+BPF_B+BPF_IND, 1), \
	BPF_STMT(BPF_ALU+BPF_ADD+BPF_X, 0), \
	BPF_STMT(BPF_ALU+BPF_ADD+BPF_K, 1), \
	BPF_STMT(BPF_JMP+BPF_JA, 1), \
	BPF_STMT(BPF_MISC+BPF_TXA, 0), \
	BPF_STMT(BPF_ALU+BPF_ADD+BPF_K, 1), \
	BPF_STMT(BPF_MISC+BPF_TAX, 0)

/**
 * Classic BPF on the receiving socket (as strongSwan's farp and dhcp
 * plugins use): only Destination Options Headers carrying option 0x50
 * among their first options reach charon, not every packet with a DOH.
 * The socket sees the header from its Next Header field on.
 */
static struct sock_filter doh_filter_code[] = {
	BPF_STMT(BPF_LDX+BPF_IMM, 2),
	FILTER_STEP(3),
	FILTER_STEP(2),
	FILTER_STEP(1),
	FILTER_STEP(0),
	BPF_STMT(BPF_RET+BPF_K, 0),
	BPF_STMT(BPF_RET+BPF_K, MAX_DOH + 512),
};

/**
 * Count a dropped header, log a summary at most every 10 s
 */
static void dropped(private_qkd_doh_socket_t *this, u_int *counter,
					char *reason)
{
	time_t now = time_monotonic(NULL);

	this->mutex->lock(this->mutex);
	(*counter)++;
	this->unlogged++;
	if (now - this->logged >= DROP_LOG_INTERVAL)
	{
		DBG1(DBG_NET, "qkd DOH: dropped %u header%s in %ds, latest: %s",
			 this->unlogged, this->unlogged == 1 ? "" : "s",
			 DROP_LOG_INTERVAL, reason);
		this->unlogged = 0;
		this->logged = now;
	}
	this->mutex->unlock(this->mutex);
}

/**
 * Whether a DOH precedes a Routing Header with segments left: such a
 * header is meant for the next segment endpoint (RFC 8200 4.1), not for
 * this node as destination
 */
static bool meant_for_next_segment(uint8_t *buf, size_t len)
{
	size_t rh = (buf[1] + 1) * 8;

	return buf[0] == IPPROTO_ROUTING && len >= rh + 4 && buf[rh + 3] > 0;
}

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
	uint8_t buf[MAX_DOH];
	struct sockaddr_in6 from, to = { .sin6_family = AF_INET6 };
	host_t *src, *dst;
	bool truncated;
	ssize_t len;

	len = qkd_raw6_recv(fd, chunk_from_thing(buf), &from,
						&to.sin6_addr, &truncated);
	if (len < 2)
	{
		return TRUE;
	}
	/* the DOH is as long as its Hdr Ext Len says, payload may follow */
	if ((buf[1] + 1) * 8 > len)
	{
		dropped(this, &this->counters.truncated,
				"Hdr Ext Len beyond the packet");
		return TRUE;
	}
	if (meant_for_next_segment(buf, len))
	{
		dropped(this, &this->counters.not_for_us,
				"before a Routing Header with segments left");
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

METHOD(qkd_doh_socket_t, get_counters, void,
	private_qkd_doh_socket_t *this, qkd_doh_socket_counters_t *counters)
{
	this->mutex->lock(this->mutex);
	*counters = this->counters;
	this->mutex->unlock(this->mutex);
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
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
qkd_doh_socket_t *qkd_doh_socket_create(qkd_doh_receive_cb_t cb, void *data,
										qkd_doh_bypass_t bypass)
{
	private_qkd_doh_socket_t *this;
	struct sock_fprog filter = {
		.len = countof(doh_filter_code),
		.filter = doh_filter_code,
	};
	int on = 1;

	INIT(this,
		.public = {
			.send = _send_,
			.get_counters = _get_counters,
			.destroy = _destroy,
		},
		.send_fd = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW),
		.recv_fd = socket(AF_INET6, SOCK_RAW, IPPROTO_DSTOPTS),
		.cb = cb,
		.data = data,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
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
	if (setsockopt(this->recv_fd, SOL_SOCKET, SO_ATTACH_FILTER, &filter,
				   sizeof(filter)) < 0)
	{
		DBG1(DBG_NET, "qkd: attaching the DOH filter to the raw socket "
			 "failed: %s", strerror(errno));
		destroy(this);
		return NULL;
	}
	/* DOH must pass IPsec policies that cover the two ends' addresses
	 * (IKE-less transport mode, or tunnels between the gateways): it
	 * negotiates the keys of the very SAs they need */
	if (bypass && (!bypass(this->send_fd, AF_INET6) ||
				   !bypass(this->recv_fd, AF_INET6)))
	{
		DBG1(DBG_NET, "qkd: installing IPsec bypass policies for the DOH "
			 "sockets failed, DOH fails where IPsec policies cover it");
	}
	lib->watcher->add(lib->watcher, this->recv_fd, WATCHER_READ, receive, this);
	return &this->public;
}
