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


#define _GNU_SOURCE
#include "qkd_raw6.h"

#include <sys/socket.h>

/*
 * Described in header
 */
ssize_t qkd_raw6_recv(int fd, chunk_t buf, struct sockaddr_in6 *src,
					  struct in6_addr *dst, bool *truncated)
{
	uint8_t ctrl[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct iovec iov = {
		.iov_base = buf.ptr,
		.iov_len = buf.len,
	};
	struct msghdr msg = {
		.msg_name = src,
		.msg_namelen = sizeof(*src),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctrl,
		.msg_controllen = sizeof(ctrl),
	};
	struct cmsghdr *cmsg;
	struct in6_pktinfo *info;
	bool have_dst = FALSE;
	ssize_t len;

	len = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (len < 0)
	{
		return -1;
	}
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
	{
		if (cmsg->cmsg_level == IPPROTO_IPV6 &&
			cmsg->cmsg_type == IPV6_PKTINFO)
		{
			info = (struct in6_pktinfo*)CMSG_DATA(cmsg);
			*dst = info->ipi6_addr;
			have_dst = TRUE;
		}
	}
	if (!have_dst)
	{
		return -1;
	}
	*truncated = (msg.msg_flags & MSG_TRUNC) != 0;
	return len;
}
