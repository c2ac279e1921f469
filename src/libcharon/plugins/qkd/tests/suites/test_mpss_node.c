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

#include <collections/linked_list.h>

#include "qkd_mpss_node.h"

/**
 * A hop key as the two KMEs of a link hold it
 */
typedef struct {
	chunk_t from, to;
	uint8_t id[QKD_KEY_ID_LEN];
	chunk_t key;
	bool used;
} hop_key_t;

/**
 * The KMEs of all links: hop_key_t
 */
static linked_list_t *kmes;

/**
 * Hop keys of one node, from the shared KMEs
 */
typedef struct {
	qkd_mpss_hop_keys_t public;
	host_t *me;
	/** no keys to hand out */
	bool dry;
} node_keys_t;

static rng_t *rng;

METHOD(qkd_mpss_hop_keys_t, take, bool,
	node_keys_t *this, chunk_t neighbour, size_t len,
	uint8_t id[QKD_KEY_ID_LEN], chunk_t *key)
{
	hop_key_t *hop;

	if (this->dry)
	{
		return FALSE;
	}
	INIT(hop,
		.from = chunk_clone(this->me->get_address(this->me)),
		.to = chunk_clone(neighbour),
	);
	ck_assert(rng->get_bytes(rng, QKD_KEY_ID_LEN, hop->id));
	ck_assert(rng->allocate_bytes(rng, len, &hop->key));
	kmes->insert_last(kmes, hop);
	memcpy(id, hop->id, QKD_KEY_ID_LEN);
	*key = chunk_clone(hop->key);
	return TRUE;
}

METHOD(qkd_mpss_hop_keys_t, fetch, bool,
	node_keys_t *this, chunk_t neighbour, uint8_t id[QKD_KEY_ID_LEN],
	size_t len, chunk_t *key)
{
	enumerator_t *enumerator;
	hop_key_t *hop;
	bool found = FALSE;

	enumerator = kmes->create_enumerator(kmes);
	while (enumerator->enumerate(enumerator, &hop))
	{
		if (memeq(hop->id, id, QKD_KEY_ID_LEN) && !hop->used &&
			chunk_equals(hop->from, neighbour) &&
			chunk_equals(hop->to, this->me->get_address(this->me)) &&
			hop->key.len >= len)
		{
			hop->used = TRUE;
			*key = chunk_clone(hop->key);
			found = TRUE;
			break;
		}
	}
	enumerator->destroy(enumerator);
	return found;
}

static void hop_key_destroy(hop_key_t *hop)
{
	chunk_free(&hop->from);
	chunk_free(&hop->to);
	chunk_clear(&hop->key);
	free(hop);
}

/**
 * The nodes: source, four relays, destination
 */
#define NODES 6
static char *addresses[NODES] = {
	"fec0::1", "fec3::1", "fec4::1", "fec5::1", "fec6::1", "fec0::2",
};
static node_keys_t keys[NODES];
static qkd_mpss_node_t *nodes[NODES];
static qkd_mpss_node_t *source, *destination;
static qkd_mpss_collector_t *collector;

/**
 * Paths from the source to the destination: via fec3::1, via fec4::1,
 * via fec5::1 and fec6::1
 */
static qkd_mpss_path_t paths[3];
static qkd_mpss_path_t *path_list[3] = { &paths[0], &paths[1], &paths[2] };

/**
 * What the destination's collector gave
 */
static struct {
	u_int rebuilt, failed;
	bool checked, tampered;
	chunk_t secret;
} got;

static void rebuilt(qkd_mpss_listener_t *this, uint8_t id[QKD_KEY_ID_LEN],
					chunk_t secret, u_int shares, bool checked)
{
	got.rebuilt++;
	got.checked = checked;
	chunk_clear(&got.secret);
	got.secret = chunk_clone(secret);
}

static void failed(qkd_mpss_listener_t *this, uint8_t id[QKD_KEY_ID_LEN],
				   u_int shares, bool tampered)
{
	got.failed++;
	got.tampered = tampered;
}

static qkd_mpss_listener_t listener = {
	.rebuilt = rebuilt,
	.failed = failed,
};

START_SETUP(setup_nodes)
{
	int i;

	memset(&got, 0, sizeof(got));
	rng = lib->crypto->create_rng(lib->crypto, RNG_STRONG);
	kmes = linked_list_create();
	collector = qkd_mpss_collector_create(&listener, 1000, 16);
	for (i = 0; i < NODES; i++)
	{
		keys[i] = (node_keys_t){
			.public = {
				.take = _take,
				.fetch = _fetch,
			},
			.me = host_create_from_string(addresses[i], 0),
		};
		nodes[i] = qkd_mpss_node_create(keys[i].me, &keys[i].public,
										i == NODES - 1 ? collector : NULL);
		ck_assert(nodes[i]);
	}
	source = nodes[0];
	destination = nodes[NODES - 1];
	memset(paths, 0, sizeof(paths));
	paths[0] = (qkd_mpss_path_t){ .id = 1, .count = 2,
		.segments = { keys[1].me, keys[5].me } };
	paths[1] = (qkd_mpss_path_t){ .id = 2, .count = 2,
		.segments = { keys[2].me, keys[5].me } };
	paths[2] = (qkd_mpss_path_t){ .id = 3, .count = 3,
		.segments = { keys[3].me, keys[4].me, keys[5].me } };
}
END_SETUP

START_TEARDOWN(teardown_nodes)
{
	int i;

	for (i = 0; i < NODES; i++)
	{
		nodes[i]->destroy(nodes[i]);
		keys[i].me->destroy(keys[i].me);
	}
	collector->destroy(collector);
	kmes->destroy_function(kmes, (void*)hop_key_destroy);
	rng->destroy(rng);
	chunk_clear(&got.secret);
}
END_TEARDOWN

/**
 * The node a packet is addressed to
 */
static qkd_mpss_node_t *node_for(chunk_t packet)
{
	qkd_mpss_packet_t parsed;
	int i;

	ck_assert(qkd_mpss_packet_parse(packet, &parsed));
	for (i = 0; i < NODES; i++)
	{
		if (chunk_equals(parsed.dst, keys[i].me->get_address(keys[i].me)))
		{
			return nodes[i];
		}
	}
	return NULL;
}

/**
 * Pass a packet along its path until it is collected or dropped
 */
static qkd_mpss_verdict_t route(chunk_t packet)
{
	qkd_mpss_verdict_t verdict;
	qkd_mpss_node_t *node;

	do
	{
		node = node_for(packet);
		ck_assert(node);
		verdict = node->receive(node, packet, 0);
	}
	while (verdict == QKD_MPSS_FORWARD);
	return verdict;
}

static void send_secret(chunk_t secret, u_int k, chunk_t packets[3])
{
	uint8_t id[QKD_KEY_ID_LEN];

	memset(id, 0x42, sizeof(id));
	ck_assert(source->send(source, id, secret, k, path_list, 3, packets));
}

START_TEST(test_delivered)
{
	chunk_t secret = chunk_from_str("an end-to-end key of 32 bytes...");
	qkd_mpss_node_counters_t c;
	chunk_t packets[3];
	int i;

	send_secret(secret, 2, packets);
	for (i = 0; i < 3; i++)
	{
		ck_assert_int_eq(route(packets[i]), QKD_MPSS_COLLECTED);
		chunk_free(&packets[i]);
	}
	ck_assert_int_eq(got.rebuilt, 1);
	ck_assert(got.checked);
	ck_assert_chunk_eq(got.secret, secret);
	/* every hop took its own key: 7 hops */
	ck_assert_int_eq(kmes->get_count(kmes), 7);
	nodes[3]->get_counters(nodes[3], &c);
	ck_assert_int_eq(c.relayed, 1);
	destination->get_counters(destination, &c);
	ck_assert_int_eq(c.collected, 3);
}
END_TEST

START_TEST(test_path_cut)
{
	chunk_t secret = chunk_from_str("an end-to-end key of 32 bytes...");
	chunk_t packets[3];

	send_secret(secret, 2, packets);
	ck_assert_int_eq(route(packets[0]), QKD_MPSS_COLLECTED);
	ck_assert_int_eq(route(packets[2]), QKD_MPSS_COLLECTED);
	ck_assert_int_eq(got.rebuilt, 0);
	/* the wait is over: k unchecked shares rebuild it */
	collector->tick(collector, 1000);
	ck_assert_int_eq(got.rebuilt, 1);
	ck_assert(!got.checked);
	ck_assert_chunk_eq(got.secret, secret);
	chunk_free(&packets[0]);
	chunk_free(&packets[1]);
	chunk_free(&packets[2]);
}
END_TEST

START_TEST(test_malicious_relay)
{
	chunk_t secret = chunk_from_str("an end-to-end key of 32 bytes...");
	chunk_t packets[3];
	int i;

	send_secret(secret, 2, packets);
	/* fec4::1 does its job, but changes the share it relays: it holds
	 * the keys on both sides, the hop MACs verify */
	nodes[2]->alter_shares(nodes[2], TRUE);
	for (i = 0; i < 3; i++)
	{
		ck_assert_int_eq(route(packets[i]), QKD_MPSS_COLLECTED);
		chunk_free(&packets[i]);
	}
	/* with 3 shares for 2 needed: detected, no key delivered */
	ck_assert_int_eq(got.rebuilt, 0);
	ck_assert_int_eq(got.failed, 1);
	ck_assert(got.tampered);
}
END_TEST

START_TEST(test_on_the_wire)
{
	chunk_t secret = chunk_from_str("an end-to-end key of 32 bytes...");
	qkd_mpss_node_counters_t c;
	chunk_t packets[3], copy;
	int i;

	send_secret(secret, 2, packets);
	/* replayed: the hop key is used up */
	copy = chunk_clone(packets[0]);
	ck_assert_int_eq(route(packets[0]), QKD_MPSS_COLLECTED);
	ck_assert_int_eq(nodes[1]->receive(nodes[1], copy, 0),
					 QKD_MPSS_DROPPED);
	chunk_free(&copy);
	/* changed on the wire: the hop MAC fails */
	packets[1].ptr[packets[1].len - 20] ^= 0x01;
	ck_assert_int_eq(route(packets[1]), QKD_MPSS_DROPPED);
	/* sent to a node it is not for, garbage */
	ck_assert_int_eq(nodes[4]->receive(nodes[4], packets[2], 0),
					 QKD_MPSS_DROPPED);
	ck_assert_int_eq(nodes[4]->receive(nodes[4], chunk_from_str("junk"), 0),
					 QKD_MPSS_DROPPED);
	nodes[1]->get_counters(nodes[1], &c);
	ck_assert_int_eq(c.hop_key, 1);
	nodes[2]->get_counters(nodes[2], &c);
	ck_assert_int_eq(c.bad_mac, 1);
	nodes[4]->get_counters(nodes[4], &c);
	ck_assert_int_eq(c.not_ours, 1);
	ck_assert_int_eq(c.malformed, 1);
	/* the third share still arrives, too late to be checked */
	ck_assert_int_eq(route(packets[2]), QKD_MPSS_COLLECTED);
	collector->tick(collector, 1000);
	ck_assert_int_eq(got.rebuilt, 1);
	ck_assert_chunk_eq(got.secret, secret);
	for (i = 0; i < 3; i++)
	{
		chunk_free(&packets[i]);
	}
}
END_TEST

START_TEST(test_no_hop_key)
{
	chunk_t secret = chunk_from_str("an end-to-end key of 32 bytes...");
	uint8_t id[QKD_KEY_ID_LEN] = {};
	qkd_mpss_node_counters_t c;
	chunk_t packets[3];
	int i;

	/* the relay's KME of the next hop has no keys */
	send_secret(secret, 2, packets);
	keys[3].dry = TRUE;
	ck_assert_int_eq(route(packets[2]), QKD_MPSS_DROPPED);
	nodes[3]->get_counters(nodes[3], &c);
	ck_assert_int_eq(c.next_key, 1);
	/* the source's: nothing sent */
	keys[0].dry = TRUE;
	for (i = 0; i < 3; i++)
	{
		chunk_free(&packets[i]);
	}
	ck_assert(!source->send(source, id, secret, 2, path_list, 3, packets));
}
END_TEST

Suite *mpss_node_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd MPSS nodes");

	tc = tcase_create("source, relays, destination");
	tcase_add_checked_fixture(tc, setup_nodes, teardown_nodes);
	tcase_add_test(tc, test_delivered);
	tcase_add_test(tc, test_path_cut);
	tcase_add_test(tc, test_malicious_relay);
	tcase_add_test(tc, test_on_the_wire);
	tcase_add_test(tc, test_no_hop_key);
	suite_add_tcase(s, tc);

	return s;
}
