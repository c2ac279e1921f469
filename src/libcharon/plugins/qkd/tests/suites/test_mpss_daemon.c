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

#include <mpss_config.h>
#include <mpss_keystore.h>

#include <threading/thread.h>

/*******************************************************************************
 * The destination's key store
 */

static mpss_keystore_t *store;
static uint8_t id_a[QKD_KEY_ID_LEN] = { 0xa1 }, id_b[QKD_KEY_ID_LEN] = { 0xb2 };

START_SETUP(setup_store)
{
	store = mpss_keystore_create(60, 2);
}
END_SETUP

START_TEARDOWN(teardown_store)
{
	store->destroy(store);
}
END_TEARDOWN

START_TEST(test_store_once)
{
	chunk_t secret = chunk_from_str("a rebuilt secret");
	qkd_key_t *key = NULL;

	store->listener.rebuilt(&store->listener, id_a, secret, 3, TRUE);
	ck_assert_int_eq(store->get_count(store), 1);
	ck_assert_int_eq(store->take(store, id_a, 0, &key), MPSS_TAKE_OK);
	ck_assert_chunk_eq(key->key, secret);
	ck_assert(memeq(key->id, id_a, QKD_KEY_ID_LEN));
	qkd_key_destroy(key);
	/* handed out once only, at once */
	ck_assert_int_eq(store->take(store, id_a, 5000, &key),
					 MPSS_TAKE_UNKNOWN);
	ck_assert_int_eq(store->get_count(store), 0);
	/* a late outcome of the same secret changes nothing */
	store->listener.rebuilt(&store->listener, id_a, secret, 3, TRUE);
	ck_assert_int_eq(store->take(store, id_a, 0, &key), MPSS_TAKE_UNKNOWN);
}
END_TEST

START_TEST(test_store_refused)
{
	qkd_key_t *key = NULL;

	store->listener.failed(&store->listener, id_a, 3, TRUE);
	store->listener.failed(&store->listener, id_b, 1, FALSE);
	ck_assert_int_eq(store->take(store, id_a, 0, &key), MPSS_TAKE_TAMPERED);
	ck_assert_int_eq(store->take(store, id_b, 0, &key), MPSS_TAKE_TOO_FEW);
	ck_assert(!key);
	ck_assert_int_eq(store->get_count(store), 0);
}
END_TEST

static void *rebuild_later(void *data)
{
	usleep(200000);
	store->listener.rebuilt(&store->listener, id_b,
							chunk_from_str("late secret"), 2, FALSE);
	return NULL;
}

START_TEST(test_store_waits)
{
	qkd_key_t *key = NULL;
	thread_t *thread;

	/* unknown: waits the whole timeout */
	ck_assert_int_eq(store->take(store, id_a, 50, &key), MPSS_TAKE_UNKNOWN);
	/* shares still travelling: the take waits for them */
	thread = thread_create(rebuild_later, NULL);
	ck_assert_int_eq(store->take(store, id_b, 5000, &key), MPSS_TAKE_OK);
	thread->join(thread);
	ck_assert_chunk_eq(key->key, chunk_from_str("late secret"));
	qkd_key_destroy(key);
}
END_TEST

START_TEST(test_store_full)
{
	uint8_t id_c[QKD_KEY_ID_LEN] = { 0xc3 };
	qkd_key_t *key = NULL;

	store->listener.rebuilt(&store->listener, id_a, chunk_from_str("a"), 2,
							FALSE);
	store->listener.rebuilt(&store->listener, id_b, chunk_from_str("b"), 2,
							FALSE);
	store->listener.rebuilt(&store->listener, id_c, chunk_from_str("c"), 2,
							FALSE);
	/* at most 2 kept: the oldest went */
	ck_assert_int_eq(store->get_count(store), 2);
	ck_assert_int_eq(store->take(store, id_a, 0, &key), MPSS_TAKE_UNKNOWN);
	ck_assert_int_eq(store->take(store, id_c, 0, &key), MPSS_TAKE_OK);
	qkd_key_destroy(key);
}
END_TEST

START_TEST(test_store_expire)
{
	qkd_key_t *key = NULL;

	store->destroy(store);
	store = mpss_keystore_create(0, 16);
	store->listener.rebuilt(&store->listener, id_a, chunk_from_str("a"), 2,
							FALSE);
	store->expire(store);
	ck_assert_int_eq(store->get_count(store), 0);
	ck_assert_int_eq(store->take(store, id_a, 0, &key), MPSS_TAKE_UNKNOWN);
}
END_TEST

/*******************************************************************************
 * Destinations and their paths
 */

static linked_list_t *dests;

START_SETUP(setup_config)
{
	dests = linked_list_create();
}
END_SETUP

START_TEARDOWN(teardown_config)
{
	dests->destroy_function(dests, (void*)mpss_destination_destroy);
}
END_TEARDOWN

/**
 * Load a qkd-mpss-test section
 */
static void load(char *conf)
{
	ck_assert(lib->settings->load_string_section(lib->settings, conf, FALSE,
												 "qkd-mpss-test"));
}

START_TEST(test_config_paths)
{
	mpss_destination_t *dest;
	host_t *relay;

	load("destinations { sun { address = fec0::2\n sae_id = sun\n k = 2\n"
		 " paths { a = fec0::10\n b = fec0::20, fec0::21\n c = fec0::15 }"
		 " } }");
	ck_assert(mpss_config_destinations("qkd-mpss-test", dests));
	ck_assert_int_eq(dests->get_count(dests), 1);
	dests->get_first(dests, (void**)&dest);
	ck_assert_str_eq(dest->sae_id, "sun");
	ck_assert_int_eq(dest->k, 2);
	ck_assert_int_eq(dest->count, 3);
	/* relays in order, the destination appended; IDs by position */
	ck_assert_int_eq(dest->paths[1]->id, 2);
	ck_assert_int_eq(dest->paths[1]->count, 3);
	relay = host_create_from_string("fec0::21", 0);
	ck_assert(relay->ip_equals(relay, dest->paths[1]->segments[1]));
	relay->destroy(relay);
	relay = host_create_from_string("fec0::2", 0);
	ck_assert(relay->ip_equals(relay, dest->paths[1]->segments[2]));
	relay->destroy(relay);
}
END_TEST

static char *bad_configs[] = {
	/* a relay on two paths */
	"destinations { sun { address = fec0::2\n sae_id = sun\n"
	" paths { a = fec0::10\n b = fec0::20 fec0::10 } } }",
	/* k above n */
	"destinations { sun { address = fec0::2\n sae_id = sun\n k = 3\n"
	" paths { a = fec0::10\n b = fec0::20 } } }",
	/* k below 2 */
	"destinations { sun { address = fec0::2\n sae_id = sun\n k = 1\n"
	" paths { a = fec0::10\n b = fec0::20 } } }",
	/* no SAE ID */
	"destinations { sun { address = fec0::2\n"
	" paths { a = fec0::10\n b = fec0::20 } } }",
	/* the destination as a relay */
	"destinations { sun { address = fec0::2\n sae_id = sun\n"
	" paths { a = fec0::2\n b = fec0::20 } } }",
	/* no IPv6 address */
	"destinations { sun { address = 192.168.0.2\n sae_id = sun\n"
	" paths { a = fec0::10\n b = fec0::20 } } }",
	/* a relay that is no address */
	"destinations { sun { address = fec0::2\n sae_id = sun\n"
	" paths { a = carol\n b = fec0::20 } } }",
	/* two direct paths */
	"destinations { sun { address = fec0::2\n sae_id = sun\n"
	" paths { a = \"\"\n b = \"\"\n c = fec0::10 } } }",
};

START_TEST(test_config_refused)
{
	load(bad_configs[_i]);
	ck_assert(!mpss_config_destinations("qkd-mpss-test", dests));
	ck_assert_int_eq(dests->get_count(dests), 0);
}
END_TEST

Suite *mpss_daemon_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd-mpss daemon");

	tc = tcase_create("key store");
	tcase_add_checked_fixture(tc, setup_store, teardown_store);
	tcase_add_test(tc, test_store_once);
	tcase_add_test(tc, test_store_refused);
	tcase_add_test(tc, test_store_waits);
	tcase_add_test(tc, test_store_full);
	tcase_add_test(tc, test_store_expire);
	suite_add_tcase(s, tc);

	tc = tcase_create("destinations");
	tcase_add_checked_fixture(tc, setup_config, teardown_config);
	tcase_add_test(tc, test_config_paths);
	tcase_add_loop_test(tc, test_config_refused, 0, countof(bad_configs));
	suite_add_tcase(s, tc);

	return s;
}
