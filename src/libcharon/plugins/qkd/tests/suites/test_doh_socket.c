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
	socket = qkd_doh_socket_create(receive, NULL);
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

Suite *doh_socket_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd DOH socket");

	tc = tcase_create("raw IPv6");
	tcase_add_checked_fixture(tc, setup_threads, teardown_threads);
	tcase_add_test(tc, test_loopback);
	suite_add_tcase(s, tc);

	return s;
}
