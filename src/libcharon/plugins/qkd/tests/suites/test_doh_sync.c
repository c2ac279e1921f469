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

#include <time.h>

#include "qkd_doh_sync.h"

/**
 * Make a bitmap from one status per key
 */
static chunk_t make_bitmap(u_int *status, u_int count)
{
	chunk_t bitmap = chunk_alloc((count + 3) / 4);
	u_int i;

	memset(bitmap.ptr, 0, bitmap.len);
	for (i = 0; i < count; i++)
	{
		qkd_doh_bitmap_set(bitmap, i, status[i]);
	}
	return bitmap;
}

/**
 * Encode and decode a message, as it travels to the peer
 */
static void travel(qkd_doh_msg_t *msg, qkd_doh_msg_t *out, chunk_t *doh)
{
	qkd_doh_auth_t auth = {}, got_auth;
	bool has_auth;

	ck_assert(qkd_doh_encode(msg, &auth, 59, doh, NULL));
	ck_assert(qkd_doh_decode(*doh, out, &got_auth, &has_auth, NULL, NULL));
}

START_TEST(test_draft_table5)
{
	/* table 5: A: Idle, Active, Pending, Idle x7; B: Pending, Idle x9 */
	u_int a[] = { 0, 2, 1, 0, 0, 0, 0, 0, 0, 0 };
	u_int b[] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	chunk_t bitmap_a, bitmap_b, peer = chunk_empty, doh;
	uint32_t peer_size = 0;
	qkd_doh_msg_t *msg, got;
	array_t *msgs;

	bitmap_a = make_bitmap(a, countof(a));
	bitmap_b = make_bitmap(b, countof(b));

	/* A sends REQ_SYNC with B = 10, B learns A's statuses */
	msgs = qkd_doh_sync_plain(bitmap_a, countof(a), 10, TRUE);
	ck_assert_int_eq(array_count(msgs), 1);
	array_get(msgs, 0, &msg);
	travel(msg, &got, &doh);
	ck_assert(qkd_doh_sync_apply(&peer, &peer_size, &got, 10));
	ck_assert_int_eq(peer_size, 10);
	/* keys 4 to 10 are Idle on both, key 4 is chosen */
	ck_assert_int_eq(qkd_doh_sync_lowest_idle(bitmap_b, countof(b),
											  peer, peer_size), 4);
	qkd_doh_msg_clear(&got);
	chunk_free(&doh);
	qkd_doh_sync_destroy(msgs);
	chunk_free(&peer);
	chunk_free(&bitmap_a);
	chunk_free(&bitmap_b);
}
END_TEST

START_TEST(test_none_idle)
{
	u_int a[] = { 0, 1, 3, 0 }, b[] = { 1, 0, 0, 2 };
	chunk_t bitmap_a, bitmap_b;

	bitmap_a = make_bitmap(a, countof(a));
	bitmap_b = make_bitmap(b, countof(b));
	ck_assert_int_eq(qkd_doh_sync_lowest_idle(bitmap_a, 4, bitmap_b, 4), 0);
	/* unreported keys are blank, not Idle */
	ck_assert_int_eq(qkd_doh_sync_lowest_idle(bitmap_a, 4, bitmap_b, 0), 0);
	chunk_free(&bitmap_a);
	chunk_free(&bitmap_b);
}
END_TEST

/**
 * Sync a pool of size keys with range messages, check the peer's view,
 * return the number of messages
 */
static u_int sync_pool(u_int size, bool deflate, double *ms)
{
	chunk_t bitmap, peer = chunk_empty, doh;
	uint32_t peer_size = 0;
	qkd_doh_msg_t *msg, got;
	struct timespec t0, t1;
	array_t *msgs;
	u_int i, count, *status;

	/* mostly Idle, a used prefix and scattered used keys */
	status = calloc(size, sizeof(u_int));
	for (i = 0; i < size; i++)
	{
		status[i] = i < size / 10 ? 3 : (i % 997 == 0 ? 1 : 0);
	}
	bitmap = make_bitmap(status, size);
	free(status);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	msgs = qkd_doh_sync_range(bitmap, size, deflate, TRUE);
	ck_assert(msgs);
	count = array_count(msgs);
	for (i = 0; i < count; i++)
	{
		array_get(msgs, i, &msg);
		travel(msg, &got, &doh);
		ck_assert(doh.len <= 2048);
		ck_assert(qkd_doh_sync_apply(&peer, &peer_size, &got, 0));
		qkd_doh_msg_clear(&got);
		chunk_free(&doh);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ms = (t1.tv_sec - t0.tv_sec) * 1000.0 +
		  (t1.tv_nsec - t0.tv_nsec) / 1000000.0;

	ck_assert_int_eq(peer_size, size);
	ck_assert_chunk_eq(peer, bitmap);
	ck_assert_int_eq(qkd_doh_sync_lowest_idle(bitmap, size, peer, peer_size),
					 size / 10 + 1);
	qkd_doh_sync_destroy(msgs);
	chunk_free(&peer);
	chunk_free(&bitmap);
	return count;
}

START_TEST(test_million)
{
	u_int compressed, plain;
	double ms_c, ms_p;

	compressed = sync_pool(1000000, TRUE, &ms_c);
	plain = sync_pool(1000000, FALSE, &ms_p);
	/* the figures of the README, printed with the test output */
	printf("\n      1,000,000-key sync: %u packets, %.0f ms compressed; "
		   "%u packets, %.0f ms plain ", compressed, ms_c, plain, ms_p);
	ck_assert(compressed < plain);
	/* 240 plain bitmap bytes carry 960 keys */
	ck_assert_int_eq(plain, (1000000 + 959) / 960);
}
END_TEST

START_TEST(test_apply_refused)
{
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_REQ_SYNC_RANGE,
		.range = { .start = (1 << 20), .count = 2, .pool_size = (1 << 20) + 1, },
	};
	chunk_t peer = chunk_empty;
	uint32_t size = 0;

	ck_assert(!qkd_doh_sync_apply(&peer, &size, &msg, 10));
	msg.type = QKD_DOH_CONFIRM_NEGOTIATE;
	ck_assert(!qkd_doh_sync_apply(&peer, &size, &msg, 10));
	msg.type = QKD_DOH_REQ_SYNC;
	ck_assert(!qkd_doh_sync_apply(&peer, &size, &msg, 0));
	ck_assert_int_eq(size, 0);
}
END_TEST

Suite *doh_sync_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd DOH sync");

	tc = tcase_create("statuses");
	tcase_add_test(tc, test_draft_table5);
	tcase_add_test(tc, test_none_idle);
	tcase_add_test(tc, test_apply_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("1,000,000 keys");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_million);
	suite_add_tcase(s, tc);

	return s;
}
