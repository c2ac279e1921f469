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

#include "qkd_mpss_collector.h"
#include "qkd_shamir.h"

/**
 * Outcomes seen by the listener
 */
static struct {
	u_int rebuilt, failed, shares;
	bool checked, tampered;
	chunk_t secret;
	uint8_t id[QKD_KEY_ID_LEN];
} seen;

static void rebuilt(qkd_mpss_listener_t *this, uint8_t id[QKD_KEY_ID_LEN],
					chunk_t secret, u_int shares, bool checked)
{
	seen.rebuilt++;
	seen.shares = shares;
	seen.checked = checked;
	chunk_clear(&seen.secret);
	seen.secret = chunk_clone(secret);
	memcpy(seen.id, id, QKD_KEY_ID_LEN);
}

static void failed(qkd_mpss_listener_t *this, uint8_t id[QKD_KEY_ID_LEN],
				   u_int shares, bool tampered)
{
	seen.failed++;
	seen.shares = shares;
	seen.tampered = tampered;
	memcpy(seen.id, id, QKD_KEY_ID_LEN);
}

static qkd_mpss_listener_t listener = {
	.rebuilt = rebuilt,
	.failed = failed,
};

static qkd_mpss_collector_t *collector;
static rng_t *rng;
static chunk_t secret, shares[5];

/**
 * Split a fresh 32-byte secret (k, n), KEYID filled with a byte
 */
static void split(u_int k, u_int n)
{
	int i;

	for (i = 0; i < countof(shares); i++)
	{
		chunk_clear(&shares[i]);
	}
	chunk_clear(&secret);
	ck_assert(rng->allocate_bytes(rng, 32, &secret));
	ck_assert(qkd_shamir_split(rng, secret, k, n, shares));
}

/**
 * Give share index (1-based) of the current secret
 */
static qkd_mpss_add_t give(uint8_t idbyte, u_int index, u_int k, u_int n,
						   uint64_t now)
{
	qkd_mpss_share_t msg = {
		.index = index,
		.k = k,
		.n = n,
		.share = shares[index - 1],
	};

	memset(msg.secret_id, idbyte, QKD_KEY_ID_LEN);
	return collector->add(collector, &msg, now);
}

START_SETUP(setup_collector)
{
	memset(&seen, 0, sizeof(seen));
	rng = lib->crypto->create_rng(lib->crypto, RNG_STRONG);
	ck_assert(rng);
	/* 1 s wait, at most 4 secrets at once */
	collector = qkd_mpss_collector_create(&listener, 1000, 4);
}
END_SETUP

START_TEARDOWN(teardown_collector)
{
	int i;

	collector->destroy(collector);
	rng->destroy(rng);
	for (i = 0; i < countof(shares); i++)
	{
		chunk_clear(&shares[i]);
	}
	chunk_clear(&secret);
	chunk_clear(&seen.secret);
}
END_TEARDOWN

START_TEST(test_all_shares)
{
	qkd_mpss_counters_t c;

	split(2, 3);
	ck_assert_int_eq(give(1, 3, 2, 3, 0), QKD_MPSS_STORED);
	ck_assert_int_eq(give(1, 1, 2, 3, 10), QKD_MPSS_STORED);
	/* k there: still waiting for the third, to check them */
	ck_assert_int_eq(seen.rebuilt, 0);
	ck_assert_int_eq(give(1, 2, 2, 3, 20), QKD_MPSS_COMPLETED);
	ck_assert_int_eq(seen.rebuilt, 1);
	ck_assert(seen.checked);
	ck_assert_int_eq(seen.shares, 3);
	ck_assert_chunk_eq(seen.secret, secret);
	/* late shares of it are dropped */
	ck_assert_int_eq(give(1, 2, 2, 3, 30), QKD_MPSS_LATE);
	collector->get_counters(collector, &c);
	ck_assert_int_eq(c.stored, 3);
	ck_assert_int_eq(c.rebuilt, 1);
	ck_assert_int_eq(c.checked, 1);
	ck_assert_int_eq(c.late, 1);
	ck_assert_int_eq(collector->tick(collector, 40), UINT64_MAX);
}
END_TEST

START_TEST(test_path_lost)
{
	split(2, 3);
	ck_assert_int_eq(give(2, 1, 2, 3, 0), QKD_MPSS_STORED);
	ck_assert_int_eq(give(2, 3, 2, 3, 100), QKD_MPSS_STORED);
	ck_assert_int_eq(collector->tick(collector, 500), 1000);
	ck_assert_int_eq(seen.rebuilt, 0);
	/* the wait is over: rebuilt from k unchecked shares */
	ck_assert_int_eq(collector->tick(collector, 1000), UINT64_MAX);
	ck_assert_int_eq(seen.rebuilt, 1);
	ck_assert(!seen.checked);
	ck_assert_chunk_eq(seen.secret, secret);
}
END_TEST

START_TEST(test_too_few)
{
	qkd_mpss_counters_t c;

	split(3, 5);
	ck_assert_int_eq(give(3, 5, 3, 5, 0), QKD_MPSS_STORED);
	ck_assert_int_eq(give(3, 2, 3, 5, 0), QKD_MPSS_STORED);
	collector->tick(collector, 1000);
	ck_assert_int_eq(seen.rebuilt, 0);
	ck_assert_int_eq(seen.failed, 1);
	ck_assert(!seen.tampered);
	ck_assert_int_eq(seen.shares, 2);
	ck_assert_int_eq(give(3, 1, 3, 5, 1001), QKD_MPSS_LATE);
	collector->get_counters(collector, &c);
	ck_assert_int_eq(c.too_few, 1);
}
END_TEST

START_TEST(test_tampered)
{
	u_int bad;

	for (bad = 1; bad <= 3; bad++)
	{	/* whichever share a relay altered */
		split(2, 3);
		shares[bad - 1].ptr[bad * 5] ^= 0x40;
		give(10 + bad, 1, 2, 3, 0);
		give(10 + bad, 2, 2, 3, 0);
		ck_assert_int_eq(give(10 + bad, 3, 2, 3, 0), QKD_MPSS_COMPLETED);
		ck_assert_int_eq(seen.failed, bad);
		ck_assert(seen.tampered);
	}
	ck_assert_int_eq(seen.rebuilt, 0);
}
END_TEST

START_TEST(test_dropped)
{
	qkd_mpss_share_t msg = {};
	qkd_mpss_counters_t c;
	chunk_t short_share;

	split(2, 3);
	ck_assert_int_eq(give(4, 1, 2, 3, 0), QKD_MPSS_STORED);
	ck_assert_int_eq(give(4, 1, 2, 3, 0), QKD_MPSS_DUPLICATE);
	/* other k or n than the first share */
	ck_assert_int_eq(give(4, 2, 3, 3, 0), QKD_MPSS_MISMATCH);
	ck_assert_int_eq(give(4, 2, 2, 4, 0), QKD_MPSS_MISMATCH);
	/* other length */
	short_share = shares[1];
	shares[1].len = 16;
	ck_assert_int_eq(give(4, 2, 2, 3, 0), QKD_MPSS_MISMATCH);
	shares[1] = short_share;
	/* out of range */
	msg.index = 4;
	msg.k = 2;
	msg.n = 3;
	msg.share = shares[0];
	ck_assert_int_eq(collector->add(collector, &msg, 0), QKD_MPSS_MISMATCH);
	/* no room: 4 secrets pending at most */
	ck_assert_int_eq(give(5, 1, 2, 3, 0), QKD_MPSS_STORED);
	ck_assert_int_eq(give(6, 1, 2, 3, 0), QKD_MPSS_STORED);
	ck_assert_int_eq(give(7, 1, 2, 3, 0), QKD_MPSS_STORED);
	ck_assert_int_eq(give(8, 1, 2, 3, 0), QKD_MPSS_FULL);
	/* the first secret still completes */
	ck_assert_int_eq(give(4, 3, 2, 3, 0), QKD_MPSS_STORED);
	ck_assert_int_eq(give(4, 2, 2, 3, 0), QKD_MPSS_COMPLETED);
	ck_assert_chunk_eq(seen.secret, secret);
	collector->get_counters(collector, &c);
	ck_assert_int_eq(c.duplicate, 1);
	ck_assert_int_eq(c.mismatch, 4);
	ck_assert_int_eq(c.full, 1);
	ck_assert_int_eq(c.rebuilt, 1);
}
END_TEST

START_TEST(test_forgotten)
{
	split(2, 2);
	give(9, 1, 2, 2, 0);
	ck_assert_int_eq(give(9, 2, 2, 2, 0), QKD_MPSS_COMPLETED);
	ck_assert_int_eq(give(9, 2, 2, 2, 59999), QKD_MPSS_LATE);
	/* remembered for at least a minute, then forgotten */
	collector->tick(collector, 60000);
	ck_assert_int_eq(give(9, 2, 2, 2, 60000), QKD_MPSS_STORED);
}
END_TEST

Suite *mpss_collector_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd MPSS collector");

	tc = tcase_create("collecting shares");
	tcase_add_checked_fixture(tc, setup_collector, teardown_collector);
	tcase_add_test(tc, test_all_shares);
	tcase_add_test(tc, test_path_lost);
	tcase_add_test(tc, test_too_few);
	tcase_add_test(tc, test_tampered);
	tcase_add_test(tc, test_dropped);
	tcase_add_test(tc, test_forgotten);
	suite_add_tcase(s, tc);

	return s;
}
