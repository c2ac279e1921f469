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

#include "qkd_mpss_kme_keys.h"
#include "../kme_test_utils.h"

/**
 * moon (fec0::1, KME A) and sun (fec0::2, KME B), linked by the KME pair
 */
static host_t *moon_addr, *sun_addr;
static qkd_mpss_kme_keys_t *moon_keys, *sun_keys;

START_SETUP(setup_keys)
{
	moon_addr = host_create_from_string("fec0::1", 0);
	sun_addr = host_create_from_string("fec0::2", 0);
	moon_keys = qkd_mpss_kme_keys_create(4);
	moon_keys->add_link(moon_keys, sun_addr,
						kme_test_client("A", "moon", "sun"));
	sun_keys = qkd_mpss_kme_keys_create(1);
	sun_keys->add_link(sun_keys, moon_addr,
					   kme_test_client("B", "sun", "moon"));
}
END_SETUP

START_TEARDOWN(teardown_keys)
{
	moon_keys->destroy(moon_keys);
	sun_keys->destroy(sun_keys);
	moon_addr->destroy(moon_addr);
	sun_addr->destroy(sun_addr);
}
END_TEARDOWN

START_TEST(test_hop_key)
{
	qkd_mpss_hop_keys_t *moon = &moon_keys->keys, *sun = &sun_keys->keys;
	uint8_t id[QKD_KEY_ID_LEN];
	chunk_t taken, fetched;

	/* a 512-bit hop key for a 256-bit share */
	ck_assert(moon->take(moon, sun_addr->get_address(sun_addr), 64, id,
						 &taken));
	ck_assert_int_eq(taken.len, 64);
	ck_assert(sun->fetch(sun, moon_addr->get_address(moon_addr), id, 64,
						 &fetched));
	ck_assert_chunk_eq(fetched, taken);
	chunk_clear(&fetched);
	/* handed out once: a replayed share finds no key */
	ck_assert(!sun->fetch(sun, moon_addr->get_address(moon_addr), id, 64,
						  &fetched));
	/* no link to that neighbour */
	ck_assert(!moon->take(moon, moon_addr->get_address(moon_addr), 64, id,
						  &fetched));
	chunk_clear(&taken);
}
END_TEST

START_TEST(test_hop_key_batch)
{
	qkd_mpss_hop_keys_t *moon = &moon_keys->keys, *sun = &sun_keys->keys;
	uint8_t ids[6][QKD_KEY_ID_LEN];
	chunk_t taken[6], fetched;
	int i, j;

	/* taken four at a time from the KME, each handed out once */
	for (i = 0; i < 6; i++)
	{
		ck_assert(moon->take(moon, sun_addr->get_address(sun_addr), 64,
							 ids[i], &taken[i]));
		ck_assert_int_eq(taken[i].len, 64);
		for (j = 0; j < i; j++)
		{
			ck_assert(!memeq(ids[i], ids[j], QKD_KEY_ID_LEN));
		}
	}
	for (i = 5; i >= 0; i--)
	{
		ck_assert(sun->fetch(sun, moon_addr->get_address(moon_addr), ids[i],
							 64, &fetched));
		ck_assert_chunk_eq(fetched, taken[i]);
		chunk_clear(&fetched);
		chunk_clear(&taken[i]);
	}
	/* another length: a new batch of that length */
	ck_assert(moon->take(moon, sun_addr->get_address(sun_addr), 48, ids[0],
						 &taken[0]));
	ck_assert_int_eq(taken[0].len, 48);
	ck_assert(sun->fetch(sun, moon_addr->get_address(moon_addr), ids[0], 48,
						 &fetched));
	ck_assert_chunk_eq(fetched, taken[0]);
	chunk_clear(&fetched);
	chunk_clear(&taken[0]);
}
END_TEST

/**
 * What the destination rebuilt
 */
static chunk_t rebuilt_secret;

static void rebuilt(qkd_mpss_listener_t *this, uint8_t id[QKD_KEY_ID_LEN],
					chunk_t secret, u_int shares, bool checked)
{
	chunk_clear(&rebuilt_secret);
	rebuilt_secret = chunk_clone(secret);
}

static void failed(qkd_mpss_listener_t *this, uint8_t id[QKD_KEY_ID_LEN],
				   u_int shares, bool tampered)
{
}

START_TEST(test_secret_over_kmes)
{
	qkd_mpss_listener_t listener = {
		.rebuilt = rebuilt,
		.failed = failed,
	};
	chunk_t secret = chunk_from_str("an end-to-end key of 32 bytes...");
	qkd_mpss_path_t path1 = { .id = 1, .count = 1, .segments = { sun_addr } };
	qkd_mpss_path_t path2 = { .id = 2, .count = 1, .segments = { sun_addr } };
	qkd_mpss_path_t *paths[] = { &path1, &path2 };
	uint8_t id[QKD_KEY_ID_LEN] = { 0x01 };
	qkd_mpss_collector_t *collector;
	qkd_mpss_node_t *moon, *sun;
	chunk_t packets[2];
	int i;

	collector = qkd_mpss_collector_create(&listener, 1000, 4);
	moon = qkd_mpss_node_create(moon_addr, &moon_keys->keys, NULL);
	sun = qkd_mpss_node_create(sun_addr, &sun_keys->keys, collector);
	ck_assert(moon->send(moon, id, secret, 2, paths, 2, packets));
	for (i = 0; i < 2; i++)
	{
		ck_assert_int_eq(sun->receive(sun, packets[i], 0),
						 QKD_MPSS_COLLECTED);
		chunk_free(&packets[i]);
	}
	ck_assert_chunk_eq(rebuilt_secret, secret);
	chunk_clear(&rebuilt_secret);
	moon->destroy(moon);
	sun->destroy(sun);
	collector->destroy(collector);
}
END_TEST

Suite *mpss_kme_keys_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd MPSS hop keys");

	tc = tcase_create("from a real KME pair");
	tcase_add_checked_fixture(tc, setup_keys, teardown_keys);
	tcase_add_test(tc, test_hop_key);
	tcase_add_test(tc, test_hop_key_batch);
	tcase_add_test(tc, test_secret_over_kmes);
	suite_add_tcase(s, tc);

	return s;
}
