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

#include "qkd_doh_guard.h"

/**
 * Guards of the sender (moon) and receiver (sun), sharing the DOH key
 */
static qkd_doh_guard_t *moon, *sun;

/**
 * Addresses of moon and sun
 */
static host_t *moon_addr, *sun_addr;

START_SETUP(setup_guards)
{
	chunk_t key = chunk_from_chars(0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,
								   0x09,0x0a,0x0b,0x0c,0x0d,0x0e,0x0f,0x10);

	moon = qkd_doh_guard_create(30);
	sun = qkd_doh_guard_create(30);
	ck_assert(moon->set_key(moon, 1, key));
	ck_assert(sun->set_key(sun, 1, key));
	moon_addr = host_create_from_string("fec0::1", 0);
	sun_addr = host_create_from_string("fec0::2", 0);
}
END_SETUP

START_TEARDOWN(teardown_guards)
{
	moon->destroy(moon);
	sun->destroy(sun);
	moon_addr->destroy(moon_addr);
	sun_addr->destroy(sun_addr);
}
END_TEARDOWN

/**
 * Build a signed REQ_SYNC from moon to sun, optionally with a timestamp
 */
static chunk_t build(uint32_t timestamp, size_t *mac_offset)
{
	uint8_t bitmap[] = { 0x49, 0x00, 0x00 };
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_REQ_SYNC,
		.sync = { .bitmap = chunk_from_thing(bitmap), },
	};
	qkd_doh_auth_t auth;
	chunk_t doh;

	ck_assert(moon->prepare(moon, &auth));
	if (timestamp)
	{
		auth.timestamp = timestamp;
	}
	ck_assert(qkd_doh_encode(&msg, &auth, 59, &doh, mac_offset));
	ck_assert(moon->sign(moon, moon_addr, sun_addr, doh, *mac_offset));
	return doh;
}

/**
 * Decode and check a header at sun
 */
static qkd_doh_verdict_t check(chunk_t doh, host_t *src, host_t *dst)
{
	qkd_doh_msg_t msg;
	qkd_doh_auth_t auth;
	qkd_doh_verdict_t verdict;
	size_t mac_offset;
	bool has_auth;

	ck_assert(qkd_doh_decode(doh, &msg, &auth, &has_auth, NULL,
							 &mac_offset));
	ck_assert(has_auth);
	verdict = sun->verify(sun, src, dst, doh, &auth, mac_offset);
	qkd_doh_msg_clear(&msg);
	return verdict;
}

START_TEST(test_valid_once)
{
	size_t mac_offset;
	chunk_t doh;

	doh = build(0, &mac_offset);
	ck_assert_int_eq(check(doh, moon_addr, sun_addr), QKD_DOH_VALID);
	/* the same packet again is a replay */
	ck_assert_int_eq(check(doh, moon_addr, sun_addr), QKD_DOH_REPLAY);
	chunk_free(&doh);
	/* the next one has a new sequence number */
	doh = build(0, &mac_offset);
	ck_assert_int_eq(check(doh, moon_addr, sun_addr), QKD_DOH_VALID);
	chunk_free(&doh);
}
END_TEST

START_TEST(test_tampered)
{
	qkd_doh_msg_t msg;
	qkd_doh_auth_t auth;
	size_t mac_offset, offset, i;
	bool has_auth;
	chunk_t doh;

	doh = build(0, &mac_offset);
	/* no changed bit anywhere gives a valid message */
	for (i = 0; i < doh.len * 8; i++)
	{
		doh.ptr[i / 8] ^= 1 << (i % 8);
		if (qkd_doh_decode(doh, &msg, &auth, &has_auth, NULL, &offset))
		{
			ck_assert(!has_auth ||
					  sun->verify(sun, moon_addr, sun_addr, doh, &auth,
								  offset) != QKD_DOH_VALID);
			qkd_doh_msg_clear(&msg);
		}
		doh.ptr[i / 8] ^= 1 << (i % 8);
	}
	ck_assert_int_eq(check(doh, moon_addr, sun_addr), QKD_DOH_VALID);
	chunk_free(&doh);
}
END_TEST

START_TEST(test_addresses)
{
	host_t *eve = host_create_from_string("fec0::66", 0);
	size_t mac_offset;
	chunk_t doh;

	doh = build(0, &mac_offset);
	ck_assert_int_eq(check(doh, eve, sun_addr), QKD_DOH_BAD_MAC);
	ck_assert_int_eq(check(doh, moon_addr, eve), QKD_DOH_BAD_MAC);
	ck_assert_int_eq(check(doh, sun_addr, moon_addr), QKD_DOH_BAD_MAC);
	/* failed checks don't count as seen */
	ck_assert_int_eq(check(doh, moon_addr, sun_addr), QKD_DOH_VALID);
	chunk_free(&doh);
	eve->destroy(eve);
}
END_TEST

START_TEST(test_window)
{
	size_t mac_offset;
	chunk_t doh;

	doh = build(time(NULL) - 31, &mac_offset);
	ck_assert_int_eq(check(doh, moon_addr, sun_addr), QKD_DOH_STALE);
	chunk_free(&doh);
	doh = build(time(NULL) + 31, &mac_offset);
	ck_assert_int_eq(check(doh, moon_addr, sun_addr), QKD_DOH_STALE);
	chunk_free(&doh);
	doh = build(time(NULL) - 25, &mac_offset);
	ck_assert_int_eq(check(doh, moon_addr, sun_addr), QKD_DOH_VALID);
	chunk_free(&doh);
}
END_TEST

/**
 * Build a signed REQ_SYNC from moon to sun with a given AUTH pair
 */
static chunk_t build_pair(uint32_t timestamp, uint32_t seq)
{
	uint8_t bitmap[] = { 0x49 };
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_REQ_SYNC,
		.sync = { .bitmap = chunk_from_thing(bitmap), },
	};
	qkd_doh_auth_t auth;
	size_t mac_offset;
	chunk_t doh;

	ck_assert(moon->prepare(moon, &auth));
	auth.timestamp = timestamp;
	auth.seq = seq;
	ck_assert(qkd_doh_encode(&msg, &auth, 59, &doh, &mac_offset));
	ck_assert(moon->sign(moon, moon_addr, sun_addr, doh, mac_offset));
	return doh;
}

START_TEST(test_replay_pairs)
{
	uint32_t now = time(NULL), ts[] = { now - 20, now - 10, now, now + 10 };
	uint32_t seqs[] = { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff };
	chunk_t doh;
	int i, j, round;

	/* a pair is the whole (timestamp, sequence): messages that share one
	 * half are distinct (a key of 32 bits, as on ILP32 targets with the
	 * timestamp shifted out, would call them replays), each is accepted
	 * once; more than 256 of them make the guard prune its table */
	for (round = 0; round < 2; round++)
	{
		for (i = 0; i < countof(ts); i++)
		{
			for (j = 0; j < countof(seqs); j++)
			{
				doh = build_pair(ts[i], seqs[j] + round * 1000);
				ck_assert_int_eq(check(doh, moon_addr, sun_addr),
								 QKD_DOH_VALID);
				ck_assert_int_eq(check(doh, moon_addr, sun_addr),
								 QKD_DOH_REPLAY);
				chunk_free(&doh);
			}
		}
	}
	for (i = 0; i < 300; i++)
	{
		doh = build_pair(now, 5000 + i);
		ck_assert_int_eq(check(doh, moon_addr, sun_addr), QKD_DOH_VALID);
		chunk_free(&doh);
	}
	/* the pairs in the window survived pruning */
	for (i = 0; i < countof(ts); i++)
	{
		for (j = 0; j < countof(seqs); j++)
		{
			doh = build_pair(ts[i], seqs[j]);
			ck_assert_int_eq(check(doh, moon_addr, sun_addr), QKD_DOH_REPLAY);
			chunk_free(&doh);
		}
	}
}
END_TEST

START_TEST(test_keys)
{
	chunk_t other = chunk_from_chars(0xff,0xfe,0xfd,0xfc,0xfb,0xfa,0xf9,0xf8,
									 0xf7,0xf6,0xf5,0xf4,0xf3,0xf2,0xf1,0xf0);
	qkd_doh_guard_t *nokey;
	qkd_doh_auth_t auth;
	size_t mac_offset;
	chunk_t old, doh;

	/* without a key nothing is sent or accepted */
	nokey = qkd_doh_guard_create(30);
	ck_assert(!nokey->prepare(nokey, &auth));
	nokey->destroy(nokey);

	/* a message under generation 1, then both move to generation 2 */
	old = build(0, &mac_offset);
	ck_assert(moon->set_key(moon, 2, other));
	ck_assert(sun->set_key(sun, 2, other));
	doh = build(0, &mac_offset);
	ck_assert_int_eq(check(doh, moon_addr, sun_addr), QKD_DOH_VALID);
	/* the previous generation still verifies, until the next one */
	ck_assert_int_eq(check(old, moon_addr, sun_addr), QKD_DOH_VALID);
	chunk_free(&doh);
	ck_assert(sun->set_key(sun, 3, other));
	ck_assert(moon->set_key(moon, 3, other));
	doh = build(0, &mac_offset);
	chunk_free(&old);
	ck_assert(moon->set_key(moon, 4, other));
	old = build(0, &mac_offset);
	/* generation 4 is unknown to sun */
	ck_assert_int_eq(check(old, moon_addr, sun_addr), QKD_DOH_NO_KEY);
	ck_assert_int_eq(check(doh, moon_addr, sun_addr), QKD_DOH_VALID);
	chunk_free(&old);
	chunk_free(&doh);
}
END_TEST

Suite *doh_guard_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd DOH guard");

	tc = tcase_create("authentication and anti-replay");
	tcase_add_checked_fixture(tc, setup_guards, teardown_guards);
	tcase_add_test(tc, test_valid_once);
	tcase_add_test(tc, test_tampered);
	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_window);
	tcase_add_test(tc, test_replay_pairs);
	tcase_add_test(tc, test_keys);
	suite_add_tcase(s, tc);

	return s;
}
