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

/*
 * The raw IPv6 transport over loopback (needs CAP_NET_RAW, as charon has):
 * a DOH sent with a hand-built IPv6 header arrives through the
 * IPPROTO_DSTOPTS socket and charon's watcher, with its addresses.
 */

#include <test_suite.h>

#include <threading/mutex.h>
#include <threading/condvar.h>

#include "qkd_doh_socket.h"
#include "qkd_doh_msg.h"

/**
 * What the receive callback got
 */
static struct {
	mutex_t *mutex;
	condvar_t *condvar;
	chunk_t doh;
	host_t *src;
	host_t *dst;
} rcv;

static void receive(void *data, host_t *src, host_t *dst, chunk_t doh)
{
	rcv.mutex->lock(rcv.mutex);
	if (!rcv.doh.ptr)
	{
		rcv.doh = chunk_clone(doh);
		rcv.src = src->clone(src);
		rcv.dst = dst->clone(dst);
	}
	rcv.condvar->signal(rcv.condvar);
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
	chunk_free(&rcv.doh);
	DESTROY_IF(rcv.src);
	DESTROY_IF(rcv.dst);
	rcv.src = rcv.dst = NULL;
	rcv.condvar->destroy(rcv.condvar);
	rcv.mutex->destroy(rcv.mutex);
	lib->processor->set_threads(lib->processor, 0);
	lib->processor->cancel(lib->processor);
}
END_TEARDOWN

START_TEST(test_loopback)
{
	uint8_t bitmap[] = { 0x49, 0x00, 0x00 };
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_REQ_SYNC,
		.sync = { .bitmap = chunk_from_thing(bitmap), },
	}, got;
	qkd_doh_socket_t *socket;
	qkd_doh_auth_t auth;
	host_t *lo;
	chunk_t doh;
	bool has_auth;

	if (geteuid() != 0)
	{	/* raw sockets need CAP_NET_RAW; CI and charon run as root */
		return;
	}
	socket = qkd_doh_socket_create(receive, NULL, NULL);
	ck_assert(socket);
	lo = host_create_from_string("::1", 0);
	ck_assert(qkd_doh_encode(&msg, NULL, 59, &doh, NULL));
	ck_assert(socket->send(socket, lo, lo, doh));

	rcv.mutex->lock(rcv.mutex);
	if (!rcv.doh.ptr)
	{
		rcv.condvar->timed_wait(rcv.condvar, rcv.mutex, 3000);
	}
	rcv.mutex->unlock(rcv.mutex);

	ck_assert_msg(rcv.doh.ptr, "DOH not received");
	ck_assert_chunk_eq(rcv.doh, doh);
	ck_assert(rcv.src->ip_equals(rcv.src, lo));
	ck_assert(rcv.dst->ip_equals(rcv.dst, lo));
	ck_assert(qkd_doh_decode(rcv.doh, &got, &auth, &has_auth, NULL, NULL));
	ck_assert(!has_auth);
	ck_assert_int_eq(got.type, QKD_DOH_REQ_SYNC);
	ck_assert_chunk_eq(got.sync.bitmap, chunk_from_thing(bitmap));
	qkd_doh_msg_clear(&got);

	chunk_free(&doh);
	lo->destroy(lo);
	socket->destroy(socket);
}
END_TEST

/**
 * Send a header to ::1 and wait up to ms for the first one received
 */
static bool send_and_wait(qkd_doh_socket_t *socket, chunk_t doh, u_int ms)
{
	host_t *lo = host_create_from_string("::1", 0);
	bool got;

	ck_assert(socket->send(socket, lo, lo, doh));
	lo->destroy(lo);
	rcv.mutex->lock(rcv.mutex);
	if (!rcv.doh.ptr)
	{
		rcv.condvar->timed_wait(rcv.condvar, rcv.mutex, ms);
	}
	got = rcv.doh.ptr != NULL;
	rcv.mutex->unlock(rcv.mutex);
	return got;
}

START_TEST(test_dropped)
{
	uint8_t bitmap[] = { 0x49 };
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_REQ_SYNC,
		.sync = { .bitmap = chunk_from_thing(bitmap), },
	};
	/* no 0x50 option: PadN only; another option type (skippable) only */
	chunk_t padn = chunk_from_chars(59, 0, 0x01, 0x04, 0, 0, 0, 0);
	chunk_t other = chunk_from_chars(59, 0, 0x1e, 0x04, 1, 2, 3, 4);
	/* Hdr Ext Len 3 (32 bytes) in a packet of 8 */
	chunk_t truncated = chunk_from_chars(59, 3, 0x50, 0x04, 0, 0, 0, 0);
	/* a DOH before a Segment Routing Header with Segments Left 1 */
	chunk_t before_rh = chunk_from_chars(
		43, 0, 0x50, 0x04, 0x00, 0x00, 0x49, 0x00,
		59, 2, 4, 1, 1, 0, 0, 0,
		0xfe, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02);
	qkd_doh_socket_counters_t counters;
	qkd_doh_socket_t *socket;
	chunk_t doh;

	if (geteuid() != 0)
	{
		return;
	}
	socket = qkd_doh_socket_create(receive, NULL, NULL);
	ck_assert(socket);

	/* none of these reach the callback: the filter or the socket drops
	 * them, the socket counts what it dropped itself */
	ck_assert(!send_and_wait(socket, padn, 300));
	ck_assert(!send_and_wait(socket, other, 300));
	ck_assert(!send_and_wait(socket, truncated, 300));
	ck_assert(!send_and_wait(socket, before_rh, 300));
	socket->get_counters(socket, &counters);
	ck_assert_int_eq(counters.truncated, 1);
	ck_assert_int_eq(counters.not_for_us, 1);

	/* a QK message after padding (Pad1, PadN) and a skippable option */
	ck_assert(qkd_doh_encode(&msg, NULL, 59, &doh, NULL));
	ck_assert(send_and_wait(socket, doh, 3000));
	ck_assert_chunk_eq(rcv.doh, doh);
	chunk_free(&doh);
	chunk_free(&rcv.doh);
	doh = chunk_cat("cc", chunk_from_chars(59, 1, 0x00, 0x01, 0x01, 0x00,
					0x1e, 0x00, 0x50, 0x03, 0x00, 0x00, 0x49),
					chunk_from_chars(0x01, 0x01, 0x00));
	ck_assert(send_and_wait(socket, doh, 3000));
	ck_assert_chunk_eq(rcv.doh, doh);
	chunk_free(&doh);
	socket->destroy(socket);
}
END_TEST

Suite *doh_socket_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd DOH socket");

	tc = tcase_create("raw IPv6");
	tcase_add_checked_fixture(tc, setup_threads, teardown_threads);
	tcase_add_test(tc, test_loopback);
	tcase_add_test(tc, test_dropped);
	suite_add_tcase(s, tc);

	return s;
}
