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

#include <test_suite.h>

#include <unistd.h>
#include <threading/mutex.h>
#include <threading/condvar.h>

#include "qkd_mpss_socket.h"
#include "qkd_mpss_packet.h"

/**
 * The packets received whose share message starts with the test's marker
 */
static struct {
	mutex_t *mutex;
	condvar_t *condvar;
	chunk_t packet;
} rcv;

/**
 * Marker in the share messages of this test (other traffic may arrive)
 */
static uint8_t marker[] = { 0x90, 0x00, 0x7e, 0x57 };

static void receive(void *data, chunk_t packet)
{
	qkd_mpss_packet_t parsed;

	rcv.mutex->lock(rcv.mutex);
	if (!rcv.packet.ptr && qkd_mpss_packet_parse(packet, &parsed) &&
		chunk_equals(chunk_create(parsed.share.ptr, 4),
					 chunk_from_thing(marker)))
	{
		rcv.packet = chunk_clone(packet);
		rcv.condvar->signal(rcv.condvar);
	}
	rcv.mutex->unlock(rcv.mutex);
}

START_SETUP(setup_threads)
{
	lib->processor->set_threads(lib->processor, 2);
	rcv.mutex = mutex_create(MUTEX_TYPE_DEFAULT);
	rcv.condvar = condvar_create(CONDVAR_TYPE_DEFAULT);
}
END_SETUP

START_TEARDOWN(teardown_threads)
{
	chunk_free(&rcv.packet);
	rcv.condvar->destroy(rcv.condvar);
	rcv.mutex->destroy(rcv.mutex);
	lib->processor->set_threads(lib->processor, 0);
	lib->processor->cancel(lib->processor);
}
END_TEARDOWN

/**
 * Send a share packet over ::1 along a path of segments (all ::1) and
 * check it arrives whole
 */
static void send_over_loopback(u_int segments)
{
	chunk_t share = chunk_from_chars(0x90, 0x00, 0x7e, 0x57, 0x01, 0x02);
	host_t *lo, *path[3];
	qkd_mpss_socket_t *socket;
	qkd_mpss_packet_t parsed;
	chunk_t packet;
	u_int i;

	if (geteuid() != 0)
	{	/* raw sockets need CAP_NET_RAW; CI runs as root */
		return;
	}
	socket = qkd_mpss_socket_create(receive, NULL);
	ck_assert(socket);
	lo = host_create_from_string("::1", 0);
	for (i = 0; i < segments; i++)
	{
		path[i] = lo;
	}
	ck_assert(qkd_mpss_packet_build(lo, path, segments, share, &packet));
	ck_assert(socket->send(socket, packet));

	rcv.mutex->lock(rcv.mutex);
	if (!rcv.packet.ptr)
	{
		rcv.condvar->timed_wait(rcv.condvar, rcv.mutex, 3000);
	}
	rcv.mutex->unlock(rcv.mutex);
	ck_assert_msg(rcv.packet.ptr, "share packet not received");
	/* the same packet but the hop limit the kernel took off */
	ck_assert_int_eq(rcv.packet.len, packet.len);
	ck_assert(memeq(rcv.packet.ptr + 8, packet.ptr + 8, packet.len - 8));
	ck_assert(qkd_mpss_packet_parse(rcv.packet, &parsed));
	ck_assert_int_eq(parsed.segments_left, segments - 1);
	chunk_free(&packet);
	lo->destroy(lo);
	socket->destroy(socket);
}

START_TEST(test_destination)
{
	send_over_loopback(1);
}
END_TEST

START_TEST(test_relay)
{
	/* segments left: the kernel, not being an SRv6 endpoint, would drop
	 * it, but the raw socket has a copy first */
	send_over_loopback(3);
}
END_TEST

Suite *mpss_socket_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd MPSS socket");

	tc = tcase_create("raw IPv6");
	tcase_add_checked_fixture(tc, setup_threads, teardown_threads);
	tcase_add_test(tc, test_destination);
	tcase_add_test(tc, test_relay);
	suite_add_tcase(s, tc);

	return s;
}
