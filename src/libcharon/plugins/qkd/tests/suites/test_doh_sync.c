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

/**
 * A view of statuses from Index first on
 */
static qkd_doh_view_t make_view(uint32_t first, u_int *status, u_int count)
{
	return (qkd_doh_view_t){
		.first = first,
		.size = count,
		.bitmap = make_bitmap(status, count),
	};
}

START_TEST(test_draft_table5)
{
	/* table 5: A: Idle, Active, Pending, Idle x7; B: Pending, Idle x9 */
	u_int a[] = { 0, 2, 1, 0, 0, 0, 0, 0, 0, 0 };
	u_int b[] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	qkd_doh_view_t view_a, view_b, peer = {};
	qkd_doh_msg_t *msg, got;
	array_t *msgs;
	chunk_t doh;

	view_a = make_view(1, a, countof(a));
	view_b = make_view(1, b, countof(b));

	/* A sends REQ_SYNC with B = 10, B learns A's statuses */
	msgs = qkd_doh_sync_plain(view_a.bitmap, countof(a), 10, TRUE);
	ck_assert_int_eq(array_count(msgs), 1);
	array_get(msgs, 0, &msg);
	travel(msg, &got, &doh);
	ck_assert(qkd_doh_sync_apply(&peer, &got, 10));
	ck_assert_int_eq(peer.first, 1);
	ck_assert_int_eq(peer.size, 10);
	/* keys 4 to 10 are Idle on both, key 4 is chosen */
	ck_assert_int_eq(qkd_doh_sync_lowest_idle(&view_b, &peer), 4);
	qkd_doh_msg_clear(&got);
	chunk_free(&doh);
	qkd_doh_sync_destroy(msgs);
	qkd_doh_view_clear(&peer);
	qkd_doh_view_clear(&view_a);
	qkd_doh_view_clear(&view_b);
}
END_TEST

START_TEST(test_none_idle)
{
	u_int a[] = { 0, 1, 3, 0 }, b[] = { 1, 0, 0, 2 };
	qkd_doh_view_t view_a, view_b, empty = {};

	view_a = make_view(1, a, countof(a));
	view_b = make_view(1, b, countof(b));
	ck_assert_int_eq(qkd_doh_sync_lowest_idle(&view_a, &view_b), 0);
	/* unreported keys are blank, not Idle */
	ck_assert_int_eq(qkd_doh_sync_lowest_idle(&view_a, &empty), 0);
	qkd_doh_view_clear(&view_a);
	qkd_doh_view_clear(&view_b);
}
END_TEST

START_TEST(test_compare)
{
	/* Indexes 3-8 here, 5-10 there */
	u_int a[] = { 0, 0, 1, 0, 2, 0 }, b[] = { 3, 0, 0, 0, 0, 0 };
	qkd_doh_view_t view_a, view_b, empty = {};
	u_int both, here, there;

	view_a = make_view(3, a, countof(a));
	view_b = make_view(5, b, countof(b));
	qkd_doh_sync_compare(&view_a, &view_b, &both, &here, &there);
	/* 3, 4 here only (not covered there), 5 Pending here, 6 and 8 on
	 * both, 7 and 9, 10 there only */
	ck_assert_int_eq(both, 2);
	ck_assert_int_eq(here, 2);
	ck_assert_int_eq(there, 3);
	qkd_doh_sync_compare(&view_a, &empty, &both, &here, &there);
	ck_assert_int_eq(both, 0);
	ck_assert_int_eq(here, 4);
	ck_assert_int_eq(there, 0);
	qkd_doh_view_clear(&view_a);
	qkd_doh_view_clear(&view_b);
}
END_TEST

START_TEST(test_offset_views)
{
	/* own Indexes 101-108, peer's 105-112: Idle on both from 107 on */
	u_int own[] = { 0, 0, 0, 0, 1, 3, 0, 0 };
	u_int peer[] = { 0, 0, 0, 0, 0, 0, 0, 0 };
	qkd_doh_view_t view_own, view_peer, got_view = {};
	qkd_doh_msg_t *msg, got;
	array_t *msgs;
	chunk_t doh, extract;

	view_own = make_view(101, own, countof(own));
	view_peer = make_view(105, peer, countof(peer));
	ck_assert_int_eq(qkd_doh_sync_lowest_idle(&view_own, &view_peer), 107);
	ck_assert_int_eq(qkd_doh_sync_lowest_idle(&view_peer, &view_own), 107);

	/* range messages carry the Indexes, the first one starts a round */
	msgs = qkd_doh_sync_range(view_own.bitmap, 101, 8, TRUE, TRUE);
	ck_assert_int_eq(array_count(msgs), 1);
	array_get(msgs, 0, &msg);
	ck_assert(msg->range.first);
	ck_assert_int_eq(msg->range.start, 101);
	ck_assert_int_eq(msg->range.pool_size, 108);
	travel(msg, &got, &doh);
	ck_assert(got.range.first);
	ck_assert(qkd_doh_sync_apply(&got_view, &got, 0));
	ck_assert_int_eq(got_view.first, 101);
	ck_assert_int_eq(got_view.size, 8);
	ck_assert_chunk_eq(got_view.bitmap, view_own.bitmap);
	qkd_doh_msg_clear(&got);
	chunk_free(&doh);

	/* a message of the same round below and above grows the view, Indexes
	 * between blank; the first of a new round replaces it */
	got = *msg;
	got.range.first = FALSE;
	got.range.start = 95;
	got.range.count = 1;
	ck_assert(qkd_doh_sync_apply(&got_view, &got, 0));
	ck_assert_int_eq(got_view.first, 95);
	ck_assert_int_eq(got_view.size, 14);
	ck_assert_int_eq(qkd_doh_bitmap_get(got_view.bitmap, 1), 3);
	ck_assert_int_eq(qkd_doh_bitmap_get(got_view.bitmap, 6), 0);
	got.range.first = TRUE;
	got.range.start = 200;
	ck_assert(qkd_doh_sync_apply(&got_view, &got, 0));
	ck_assert_int_eq(got_view.first, 200);
	ck_assert_int_eq(got_view.size, 1);

	/* statuses out of a view, 11 outside */
	extract = qkd_doh_view_extract(&view_own, 99, 12);
	ck_assert_int_eq(qkd_doh_bitmap_get(extract, 0), 3);
	ck_assert_int_eq(qkd_doh_bitmap_get(extract, 1), 3);
	ck_assert_int_eq(qkd_doh_bitmap_get(extract, 2), 0);
	ck_assert_int_eq(qkd_doh_bitmap_get(extract, 6), 1);
	ck_assert_int_eq(qkd_doh_bitmap_get(extract, 11), 3);
	chunk_free(&extract);

	qkd_doh_view_set(&view_own, 102, 2);
	qkd_doh_view_set(&view_own, 500, 2);
	ck_assert_int_eq(qkd_doh_bitmap_get(view_own.bitmap, 1), 2);

	qkd_doh_sync_destroy(msgs);
	qkd_doh_view_clear(&got_view);
	qkd_doh_view_clear(&view_own);
	qkd_doh_view_clear(&view_peer);
}
END_TEST

/**
 * Sync a pool of size keys from Index first on with range messages, check
 * the peer's view, return the number of messages
 */
static u_int sync_pool(uint32_t first, u_int size, bool deflate, double *ms)
{
	qkd_doh_view_t own, peer = {};
	qkd_doh_msg_t *msg, got;
	struct timespec t0, t1;
	array_t *msgs;
	chunk_t doh;
	u_int i, count, *status;

	/* mostly Idle, a used prefix and scattered used keys */
	status = calloc(size, sizeof(u_int));
	for (i = 0; i < size; i++)
	{
		status[i] = i < size / 10 ? 3 : (i % 997 == 0 ? 1 : 0);
	}
	own = make_view(first, status, size);
	free(status);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	msgs = qkd_doh_sync_range(own.bitmap, first, size, deflate, TRUE);
	ck_assert(msgs);
	count = array_count(msgs);
	for (i = 0; i < count; i++)
	{
		array_get(msgs, i, &msg);
		travel(msg, &got, &doh);
		ck_assert(doh.len <= 2048);
		ck_assert(qkd_doh_sync_apply(&peer, &got, 0));
		qkd_doh_msg_clear(&got);
		chunk_free(&doh);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ms = (t1.tv_sec - t0.tv_sec) * 1000.0 +
		  (t1.tv_nsec - t0.tv_nsec) / 1000000.0;

	ck_assert_int_eq(peer.first, first);
	ck_assert_int_eq(peer.size, size);
	ck_assert_chunk_eq(peer.bitmap, own.bitmap);
	ck_assert_int_eq(qkd_doh_sync_lowest_idle(&own, &peer),
					 first + size / 10);
	qkd_doh_sync_destroy(msgs);
	qkd_doh_view_clear(&peer);
	qkd_doh_view_clear(&own);
	return count;
}

START_TEST(test_million)
{
	u_int compressed, plain;
	double ms_c, ms_p;

	compressed = sync_pool(1, 1000000, TRUE, &ms_c);
	plain = sync_pool(1, 1000000, FALSE, &ms_p);
	/* the figures of the README, printed with the test output */
	printf("\n      1,000,000-key sync: %u packets, %.0f ms compressed; "
		   "%u packets, %.0f ms plain ", compressed, ms_c, plain, ms_p);
	ck_assert(compressed < plain);
	/* 240 plain bitmap bytes carry 960 keys */
	ck_assert_int_eq(plain, (1000000 + 959) / 960);
	/* the same far up the Index space */
	ck_assert_int_eq(sync_pool(4000000000u, 1000000, TRUE, &ms_c),
					 compressed);
}
END_TEST

START_TEST(test_apply_refused)
{
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_REQ_SYNC_RANGE,
		.range = { .start = 1, .count = 2, .pool_size = 2, .first = TRUE },
	};
	uint8_t bits = 0;
	qkd_doh_view_t view = {};

	msg.range.bitmap = chunk_from_thing(bits);
	ck_assert(qkd_doh_sync_apply(&view, &msg, 10));
	/* a view spans at most QKD_POOL_MAX_SPAN Indexes */
	msg.range.first = FALSE;
	msg.range.start = QKD_POOL_MAX_SPAN;
	msg.range.pool_size = QKD_POOL_MAX_SPAN + 1;
	ck_assert(!qkd_doh_sync_apply(&view, &msg, 10));
	ck_assert_int_eq(view.size, 2);
	msg.type = QKD_DOH_CONFIRM_NEGOTIATE;
	ck_assert(!qkd_doh_sync_apply(&view, &msg, 10));
	msg.type = QKD_DOH_REQ_SYNC;
	ck_assert(!qkd_doh_sync_apply(&view, &msg, 0));
	ck_assert_int_eq(view.size, 2);
	qkd_doh_view_clear(&view);
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
	tcase_add_test(tc, test_compare);
	tcase_add_test(tc, test_offset_views);
	tcase_add_test(tc, test_apply_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("1,000,000 keys");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_million);
	suite_add_tcase(s, tc);

	return s;
}
