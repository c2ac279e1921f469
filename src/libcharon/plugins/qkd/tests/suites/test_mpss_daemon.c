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
#include <mpss_topology.h>

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

/*******************************************************************************
 * Node-disjoint paths from a topology file
 */

static char topology[] = "/tmp/qkd-mpss-test-topology.XXXXXX";

/**
 * Write the topology file
 */
static void write_topology(char *content)
{
	int fd;

	strcpy(topology, "/tmp/qkd-mpss-test-topology.XXXXXX");
	fd = mkstemp(topology);
	ck_assert(fd >= 0);
	ck_assert(write(fd, content, strlen(content)) == strlen(content));
	close(fd);
}

/**
 * Compute paths between two addresses, checking that they are
 * node-disjoint, follow links and end at the destination
 */
static int compute(char *from, char *to, u_int wanted,
				   qkd_mpss_path_t *paths[])
{
	host_t *src, *dst, *a, *b;
	int found, i, j, k, l;

	src = host_create_from_string(from, 0);
	dst = host_create_from_string(to, 0);
	found = mpss_topology_paths(topology, src, dst, wanted, paths);
	for (i = 0; i < found; i++)
	{
		ck_assert_int_eq(paths[i]->id, i + 1);
		ck_assert(dst->ip_equals(dst, paths[i]->segments[paths[i]->count - 1]));
		for (j = 0; j + 1 < paths[i]->count; j++)
		{
			a = paths[i]->segments[j];
			ck_assert(!a->ip_equals(a, src) && !a->ip_equals(a, dst));
			/* no relay on an earlier path */
			for (k = 0; k < i; k++)
			{
				for (l = 0; l + 1 < paths[k]->count; l++)
				{
					b = paths[k]->segments[l];
					ck_assert(!a->ip_equals(a, b));
				}
			}
		}
	}
	src->destroy(src);
	dst->destroy(dst);
	return found;
}

static void paths_destroy(qkd_mpss_path_t *paths[], int count)
{
	int i, j;

	for (i = 0; i < count; i++)
	{
		for (j = 0; j < paths[i]->count; j++)
		{
			paths[i]->segments[j]->destroy(paths[i]->segments[j]);
		}
		free(paths[i]);
	}
	unlink(topology);
}

START_TEST(test_topology_relays)
{
	qkd_mpss_path_t *paths[8];
	int found;

	/* three one-relay paths and a two-relay one */
	write_topology(
		"nodes {\n moon = fec0::1\n sun = fec0::2\n carol = fec0::10\n"
		" dave = fec0::20\n winnetou = fec0::15\n x1 = fec3::1\n"
		" x2 = fec3::2\n}\n"
		"links {\n a = moon carol\n b = carol sun\n c = moon dave\n"
		" d = dave sun\n e = moon winnetou\n f = winnetou sun\n"
		" g = carol dave\n h = moon x1\n i = x1 x2\n j = x2 sun\n}\n");
	found = compute("fec0::1", "fec0::2", 8, paths);
	ck_assert_int_eq(found, 4);
	/* the shortest first: one relay each */
	ck_assert_int_eq(paths[0]->count + paths[1]->count + paths[2]->count +
					 paths[3]->count, 3 * 2 + 3);
	paths_destroy(paths, found);
}
END_TEST

START_TEST(test_topology_not_greedy)
{
	qkd_mpss_path_t *paths[4];
	int found;

	/* the shortest path moon-a-b-sun blocks both others: taking paths
	 * greedily finds one, the maximum flow two (moon-a-c-sun and
	 * moon-d-b-sun) */
	write_topology(
		"nodes {\n moon = fec0::1\n sun = fec0::2\n a = fec3::a\n"
		" b = fec3::b\n c = fec3::c\n d = fec3::d\n}\n"
		"links {\n 1 = moon a\n 2 = a b\n 3 = b sun\n 4 = a c\n"
		" 5 = c sun\n 6 = moon d\n 7 = d b\n}\n");
	found = compute("fec0::1", "fec0::2", 4, paths);
	ck_assert_int_eq(found, 2);
	ck_assert_int_eq(paths[0]->count, 3);
	ck_assert_int_eq(paths[1]->count, 3);
	paths_destroy(paths, found);
}
END_TEST

START_TEST(test_topology_refused)
{
	qkd_mpss_path_t *paths[4];
	static char *bad[] = {
		/* a link to an unknown node */
		"nodes {\n moon = fec0::1\n sun = fec0::2\n}\n"
		"links {\n a = moon carol\n}\n",
		/* a node without an IPv6 address */
		"nodes {\n moon = fec0::1\n sun = 192.168.0.2\n}\n",
		/* the destination is no node */
		"nodes {\n moon = fec0::1\n carol = fec0::10\n}\n"
		"links {\n a = moon carol\n}\n",
	};

	write_topology(bad[_i]);
	ck_assert_int_eq(compute("fec0::1", "fec0::2", 2, paths), -1);
	unlink(topology);
}
END_TEST

START_TEST(test_config_topology)
{
	mpss_destination_t *dest;
	char conf[512];

	write_topology(
		"nodes {\n moon = fec0::1\n sun = fec0::2\n carol = fec0::10\n"
		" dave = fec0::20\n}\n"
		"links {\n a = moon carol\n b = carol sun\n c = moon dave\n"
		" d = dave sun\n}\n");
	snprintf(conf, sizeof(conf), "address = fec0::1\n topology = %s\n"
			 "destinations { sun { address = fec0::2\n sae_id = sun\n"
			 " n = 2\n } }", topology);
	load(conf);
	ck_assert(mpss_config_destinations("qkd-mpss-test", dests));
	ck_assert_int_eq(dests->get_count(dests), 1);
	dests->get_first(dests, (void**)&dest);
	ck_assert_int_eq(dest->count, 2);
	ck_assert_int_eq(dest->k, 2);
	dests->destroy_function(dests, (void*)mpss_destination_destroy);
	dests = linked_list_create();
	/* three wanted, two there */
	snprintf(conf, sizeof(conf), "address = fec0::1\n topology = %s\n"
			 "destinations { sun { address = fec0::2\n sae_id = sun\n"
			 " n = 3\n } }", topology);
	load(conf);
	ck_assert(!mpss_config_destinations("qkd-mpss-test", dests));
	unlink(topology);
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
	tcase_add_test(tc, test_config_topology);
	suite_add_tcase(s, tc);

	tc = tcase_create("topology");
	tcase_add_test(tc, test_topology_relays);
	tcase_add_test(tc, test_topology_not_greedy);
	tcase_add_loop_test(tc, test_topology_refused, 0, 3);
	suite_add_tcase(s, tc);

	return s;
}
