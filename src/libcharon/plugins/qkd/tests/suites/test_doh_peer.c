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
 * The DOH protocol of two links wired together in-process: real KMEs
 * (with-kme-sim), pools on SQLite files, and a simulated network between
 * the two qkd_doh_peer_t that loses, duplicates, reorders, delays or holds
 * back messages. Both peers are driven by calling tick() and delivering
 * due messages in a loop until a condition holds or a deadline passes.
 */

#include <test_suite.h>

#include <unistd.h>
#include <time.h>

#include <collections/linked_list.h>

#include "qkd_doh_peer.h"
#include "qkd_doh_msg.h"
#include "qkd_doh_guard.h"
#include "qkd_events.h"
#include "../kme_test_utils.h"
#include "../mock_direct_kernel.h"

/**
 * Key size of the links, bits
 */
#define KEY_SIZE 256

/**
 * Keys each end keeps bound (doh_bound)
 */
#define BOUND 2

/**
 * Deadline of a condition, ms
 */
#define DEADLINE 10000

/**
 * Most keys taken in a test
 */
#define MAX_TAKEN 512

/**
 * One end of the DOH link under test
 */
typedef struct {
	/** link name, also names the pool and its files */
	char *name;
	/** own address */
	host_t *addr;
	/** the link */
	qkd_link_t *link;
	/** store and pool of the link */
	qkd_pool_store_t *store;
	qkd_pool_t *pool;
	/** DOH peer of the link */
	qkd_doh_peer_t *peer;
	/** the host's kernel, for IKE-less children */
	mock_direct_kernel_t *kernel;
} side_t;

/**
 * The two ends: A (fec0::1, takes keys from its KME and announces them)
 * and B (fec0::2, fetches the announced keys)
 */
static side_t sides[2];
static side_t *a = &sides[0], *b = &sides[1];

/**
 * Directory of the pool files
 */
static char dir[] = "/tmp/qkd-test-doh-peer-XXXXXX";

/**
 * A message on the simulated network
 */
typedef struct {
	/** sender and receiver */
	side_t *from, *to;
	/** message type, decoded when sent */
	int type;
	/** the header */
	chunk_t doh;
	/** when to deliver it, ms */
	uint64_t due;
} packet_t;

/**
 * What a network filter does with a message
 */
typedef enum {
	/** drop it */
	FILTER_DROP,
	/** send it */
	FILTER_PASS,
	/** hold it back until the test releases it */
	FILTER_STASH,
} filter_t;

/**
 * The simulated network between A and B
 */
static struct {
	/** messages in flight, packet_t* */
	linked_list_t *queue;
	/** whether to keep a copy of every message sent */
	bool capture;
	/** copies of the messages sent, packet_t* */
	linked_list_t *captured;
	/** percentage of messages lost */
	u_int loss;
	/** message types dropped, by sender (0 A, 1 B) */
	bool drop[2][256];
	/** deliver every message twice */
	bool duplicate;
	/** random delay of each copy, up to this, ms (reorders messages) */
	u_int jitter;
	/** messages stay queued while set */
	bool hold;
	/** decides what happens to each message, if set */
	filter_t (*filter)(side_t *from, qkd_doh_msg_t *msg);
	/** messages held back by the filter, packet_t* */
	linked_list_t *stash;
	/** PRNG state */
	uint32_t rng;
	/** messages sent, by sender and type */
	u_int sent[2][256];
	/** KEYID of the last REQ_NEGOTIATE sent, by sender */
	uint8_t negotiated[2][QKD_KEY_ID_LEN];
	/** Timestamp of the last REQ_NEGOTIATE sent, by sender */
	uint32_t negotiated_ts[2];
	/** AUTH_KEY_OFFERs sent with the request flag, by sender */
	u_int requests[2];
	/** CONFIRM_NEGOTIATEs sent, by sender and status */
	u_int confirms[2][256];
	/** messages lost or dropped */
	u_int dropped;
	/** messages the peers sent that don't decode */
	u_int undecodable;
	/** messages sent with other addresses than the link's */
	u_int misaddressed;
	/** an end's tick job never runs (all threads busy), by end */
	bool starved[2];
} net;

/**
 * Keys taken with take_bound() in a test, by the end that took them
 */
static struct {
	side_t *owner;
	uint8_t id[QKD_KEY_ID_LEN];
} taken[MAX_TAKEN];
static u_int ntaken;

/**
 * Keys being checked by take_and_accept(), destroyed if a check fails
 */
static qkd_key_t *checking[2];

/**
 * The test's guard when it takes B's part (see start_with_fake_b())
 */
static qkd_doh_guard_t *fake_b;

/**
 * Current monotonic time in ms
 */
static uint64_t now_ms()
{
	timeval_t tv;

	time_monotonic(&tv);
	return (uint64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/**
 * Seeded PRNG (xorshift32), so that loss patterns are repeatable
 */
static uint32_t rnd()
{
	net.rng ^= net.rng << 13;
	net.rng ^= net.rng >> 17;
	net.rng ^= net.rng << 5;
	return net.rng;
}

/**
 * The other end
 */
static side_t *other(side_t *side)
{
	return side == a ? b : a;
}

/**
 * Index of an end in the per-sender arrays
 */
static int dir_of(side_t *side)
{
	return side == a ? 0 : 1;
}

/**
 * Create a message on the network
 */
static packet_t *packet_create(side_t *from, int type, chunk_t doh)
{
	packet_t *packet;

	INIT(packet,
		.from = from,
		.to = other(from),
		.type = type,
		.doh = chunk_clone(doh),
		.due = now_ms(),
	);
	return packet;
}

/**
 * Destroy a message
 */
static void packet_destroy(packet_t *packet)
{
	chunk_free(&packet->doh);
	free(packet);
}

/**
 * Send callback of both peers: puts the header on the network
 */
static bool send_cb(void *data, host_t *src, host_t *dst, chunk_t doh)
{
	side_t *from = data;
	qkd_doh_msg_t msg;
	qkd_doh_auth_t auth;
	packet_t *packet;
	filter_t verdict = FILTER_DROP;
	bool has_auth;
	int type = -1, copies;

	if (!src->ip_equals(src, from->addr) ||
		!dst->ip_equals(dst, other(from)->addr))
	{
		net.misaddressed++;
	}
	if (qkd_doh_decode(doh, &msg, &auth, &has_auth, NULL, NULL))
	{
		type = msg.type;
		net.sent[dir_of(from)][type]++;
		switch (msg.type)
		{
			case QKD_DOH_REQ_NEGOTIATE:
				memcpy(net.negotiated[dir_of(from)], msg.negotiate.keyid,
					   QKD_KEY_ID_LEN);
				net.negotiated_ts[dir_of(from)] = msg.negotiate.timestamp;
				break;
			case QKD_DOH_AUTH_KEY_OFFER:
				if (msg.offer.flags & QKD_DOH_OFFER_REQUEST)
				{
					net.requests[dir_of(from)]++;
				}
				break;
			case QKD_DOH_CONFIRM_NEGOTIATE:
				net.confirms[dir_of(from)][msg.confirm.status]++;
				break;
			default:
				break;
		}
		verdict = net.filter ? net.filter(from, &msg) : FILTER_PASS;
		qkd_doh_msg_clear(&msg);
	}
	else
	{
		net.undecodable++;
	}
	if (net.capture)
	{
		net.captured->insert_last(net.captured,
								  packet_create(from, type, doh));
	}
	if (verdict == FILTER_STASH)
	{
		net.stash->insert_last(net.stash, packet_create(from, type, doh));
		return TRUE;
	}
	if (verdict == FILTER_DROP || net.drop[dir_of(from)][type] ||
		(net.loss && rnd() % 100 < net.loss))
	{
		net.dropped++;
		return TRUE;
	}
	for (copies = net.duplicate ? 2 : 1; copies > 0; copies--)
	{
		packet = packet_create(from, type, doh);
		if (net.jitter)
		{
			packet->due += rnd() % (net.jitter + 1);
		}
		net.queue->insert_last(net.queue, packet);
	}
	return TRUE;
}

/**
 * Hand a header to the receiving peer, from the sender's address; like the
 * engine, tick it at once if it has work for tick()
 */
static void inject(side_t *from, chunk_t doh)
{
	side_t *to = other(from);

	if (to->peer && to->peer->receive(to->peer, from->addr, to->addr, doh) &&
		!net.starved[dir_of(to)])
	{
		to->peer->tick(to->peer);
	}
}

/**
 * Deliver queued messages: those due (unless held), or all of a sender
 * (from != NULL) regardless of hold and delay, optionally of one type only
 */
static void deliver_from(side_t *from, int type)
{
	enumerator_t *enumerator;
	packet_t *packet, **due;
	uint64_t now = now_ms();
	u_int count = 0, i, j;

	if (!from && net.hold)
	{
		return;
	}
	due = calloc(net.queue->get_count(net.queue) + 1, sizeof(packet_t*));
	enumerator = net.queue->create_enumerator(net.queue);
	while (enumerator->enumerate(enumerator, &packet))
	{
		if (from ? packet->from == from && (type < 0 || packet->type == type)
				 : packet->due <= now)
		{
			net.queue->remove_at(net.queue, enumerator);
			due[count++] = packet;
		}
	}
	enumerator->destroy(enumerator);
	if (net.jitter && !from)
	{	/* messages due at once arrive in any order */
		for (i = count; i > 1; i--)
		{
			j = rnd() % i;
			packet = due[i - 1];
			due[i - 1] = due[j];
			due[j] = packet;
		}
	}
	for (i = 0; i < count; i++)
	{
		inject(due[i]->from, due[i]->doh);
		packet_destroy(due[i]);
	}
	free(due);
}

/**
 * Count the messages held back of a sender and type
 */
static u_int stashed(side_t *from, int type)
{
	enumerator_t *enumerator;
	packet_t *packet;
	u_int count = 0;

	enumerator = net.stash->create_enumerator(net.stash);
	while (enumerator->enumerate(enumerator, &packet))
	{
		count += packet->from == from && packet->type == type;
	}
	enumerator->destroy(enumerator);
	return count;
}

/**
 * Deliver the messages held back of a sender (of one type, or all if type
 * is negative), in the order they were sent
 */
static void release(side_t *from, int type)
{
	enumerator_t *enumerator;
	linked_list_t *released;
	packet_t *packet;

	/* the answers may be held back again */
	released = linked_list_create();
	enumerator = net.stash->create_enumerator(net.stash);
	while (enumerator->enumerate(enumerator, &packet))
	{
		if (packet->from == from && (type < 0 || packet->type == type))
		{
			net.stash->remove_at(net.stash, enumerator);
			released->insert_last(released, packet);
		}
	}
	enumerator->destroy(enumerator);
	while (released->remove_first(released, (void**)&packet) == SUCCESS)
	{
		inject(packet->from, packet->doh);
		packet_destroy(packet);
	}
	released->destroy(released);
}

/**
 * Deliver the messages due
 */
static void deliver()
{
	deliver_from(NULL, -1);
}

/**
 * Drive both peers one step
 */
static void step()
{
	int i;

	for (i = 0; i < countof(sides); i++)
	{
		if (sides[i].peer && !net.starved[i])
		{
			sides[i].peer->tick(sides[i].peer);
		}
	}
	deliver();
	usleep(1000);
}

/**
 * Drive both peers until a condition holds or ms passed, evaluates to
 * whether the condition holds
 */
#define run_until(cond, ms) ({ \
	uint64_t _end = now_ms() + (ms); \
	while (!(cond) && now_ms() < _end) \
	{ \
		step(); \
	} \
	(cond); \
})

/**
 * Drive both peers for a while
 */
static void run_for(u_int ms)
{
	uint64_t end = now_ms() + ms;

	while (now_ms() < end)
	{
		step();
	}
}

/**
 * Get a value of the status lines of an end
 */
static u_int status_value(side_t *side, char *key)
{
	char buf[2048], needle[64], *pos;

	ck_assert(side->peer->format_status(side->peer, buf, sizeof(buf)));
	snprintf(needle, sizeof(needle), "\n%s: ", key);
	pos = strstr(buf, needle);
	ck_assert_msg(pos, "no '%s' in status", key);
	return strtoul(pos + strlen(needle), NULL, 10);
}

/**
 * Get the counters of an end, as its status lines show them
 */
static qkd_doh_counters_t counters(side_t *side)
{
	return (qkd_doh_counters_t){
		.rx = status_value(side, "doh_rx"),
		.rx_valid = status_value(side, "doh_rx_valid"),
		.rx_malformed = status_value(side, "doh_rx_malformed"),
		.rx_no_key = status_value(side, "doh_rx_no_key"),
		.rx_bad_mac = status_value(side, "doh_rx_bad_mac"),
		.rx_stale = status_value(side, "doh_rx_stale"),
		.rx_replay = status_value(side, "doh_rx_replay"),
		.rx_unexpected = status_value(side, "doh_rx_unexpected"),
		.tx = status_value(side, "doh_tx"),
		.doh_keys = status_value(side, "doh_keys"),
		.bound_own = status_value(side, "doh_negotiated_own"),
		.bound_peer = status_value(side, "doh_negotiated_peer"),
		.refused = status_value(side, "doh_refused"),
		.timeouts = status_value(side, "doh_timeouts"),
		.collisions = status_value(side, "doh_collisions"),
		.reserve_empty = status_value(side, "doh_reserve_empty"),
		.announced = status_value(side, "doh_announced"),
		.acked = status_value(side, "doh_announce_acked"),
		.fetched = status_value(side, "doh_fetched"),
		.reset_expired = status_value(side, "doh_reset_expired"),
		.offers_refused = status_value(side, "doh_offers_refused"),
		.keys_lost = status_value(side, "doh_keys_lost"),
		.reannounced = status_value(side, "doh_reannounced"),
		.views_apart = status_value(side, "doh_views_apart"),
	};
}

/**
 * Check whether an end's status says it is established
 */
static bool established(side_t *side)
{
	char buf[2048];

	return side->peer &&
		   side->peer->format_status(side->peer, buf, sizeof(buf)) &&
		   strstr(buf, "\ndoh_state: established\n");
}

/**
 * Number of keys an end holds bound for its own key exchanges
 */
static u_int own_bound(side_t *side)
{
	return status_value(side, "doh_bound_own");
}

/**
 * Number of keys an end holds bound for the peer's key exchanges
 */
static u_int peer_bound(side_t *side)
{
	return status_value(side, "doh_bound_peer");
}

/**
 * Whether both ends hold all the keys they want bound
 */
static bool all_bound()
{
	return own_bound(a) == BOUND && own_bound(b) == BOUND;
}

/**
 * Highest Index of a pool
 */
static u_int pool_size(side_t *side)
{
	chunk_t bitmap;
	uint32_t first;
	u_int size;

	size = side->pool->get_bitmap(side->pool, &bitmap, &first);
	chunk_free(&bitmap);
	return size ? first + size - 1 : 0;
}

/**
 * Whether both pools hold the same keys at the same Indexes
 */
static bool pools_equal()
{
	uint8_t ida[QKD_KEY_ID_LEN], idb[QKD_KEY_ID_LEN];
	u_int size, i;

	size = pool_size(a);
	if (size != pool_size(b))
	{
		return FALSE;
	}
	for (i = 1; i <= size; i++)
	{
		if (a->pool->get_id(a->pool, i, ida) !=
			b->pool->get_id(b->pool, i, idb))
		{
			return FALSE;
		}
		if (a->pool->get_id(a->pool, i, ida) &&
			!memeq(ida, idb, QKD_KEY_ID_LEN))
		{
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * Whether A announced keys and B holds all of them
 */
static bool announced_all(u_int count)
{
	return counters(a).announced == count && counters(a).acked == count &&
		   counters(b).fetched == count && pools_equal();
}

/**
 * Get the status of a key in a pool, QKD_KEY_EXPIRED if unknown
 */
static qkd_key_status_t status_of(side_t *side, uint8_t id[QKD_KEY_ID_LEN])
{
	qkd_key_status_t status;

	if (!side->pool->get_status(side->pool, id, &status, NULL, NULL))
	{
		return QKD_KEY_EXPIRED;
	}
	return status;
}

/**
 * Get the ID of the lowest Index Idle in both pools (FALSE if none)
 */
static bool lowest_idle_on_both(uint8_t id[QKD_KEY_ID_LEN])
{
	u_int size, i;

	size = pool_size(a);
	for (i = 1; i <= size; i++)
	{
		if (!a->pool->get_id(a->pool, i, id))
		{
			continue;
		}
		if (status_of(a, id) == QKD_KEY_IDLE &&
			status_of(b, id) == QKD_KEY_IDLE)
		{
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * Capacity of the pools
 */
#define POOL_CAPACITY 4096

/**
 * Most keys the KME simulator hands out per request
 */
#define KME_MAX_KEYS 128

/**
 * The announcer's refill: keys from its KME into its pool, announced
 */
static void refill(u_int count)
{
	qkd_kme_client_t *client;
	array_t *keys;
	u_int n;

	ck_assert(a->link->get_doh(a->link)->announcer);
	client = a->link->get_client(a->link);
	ck_assert(client);
	for (; count; count -= n)
	{
		n = min(count, KME_MAX_KEYS);
		ck_assert_int_eq(client->get_keys(client, n, KEY_SIZE, &keys),
						 QKD_KME_OK);
		ck_assert_int_eq(array_count(keys), n);
		/* the peer announces keys added to the pool */
		ck_assert(a->pool->add(a->pool, keys));
		qkd_key_array_destroy(keys);
	}
}

/**
 * Load the settings of both links, with extra options for both
 */
static void configure(char *extra)
{
	char *pki = kme_test_env("QKD_TEST_PKI");
	char conf[4096];

	snprintf(conf, sizeof(conf),
		"%s { plugins { qkd { links {\n"
		"  doh-a {\n"
		"    kme = %s\n    sae_id = moon\n    peer_sae_id = sun\n"
		"    cert = %s/moon.crt\n    key = %s/moon.key\n"
		"    cacert = %s/ca.crt\n    key_size = %d\n"
		"    doh = yes\n    doh_local = fec0::1\n    doh_peer = fec0::2\n"
		"    doh_retransmit = 0.02\n    doh_sync_interval = 0.2\n"
		"    doh_bound = %d\n    doh_window = 30\n"
		"    %s\n"
		"  }\n"
		"  doh-b {\n"
		"    kme = %s\n    sae_id = sun\n    peer_sae_id = moon\n"
		"    cert = %s/sun.crt\n    key = %s/sun.key\n"
		"    cacert = %s/ca.crt\n    key_size = %d\n"
		"    doh = yes\n    doh_local = fec0::2\n    doh_peer = fec0::1\n"
		"    doh_retransmit = 0.02\n    doh_sync_interval = 0.2\n"
		"    doh_bound = %d\n    doh_window = 30\n"
		"    %s\n"
		"  }\n"
		"} ikeless_dir = %s } } }\n", lib->ns,
		kme_test_env("QKD_TEST_KME_A"), pki, pki, pki, KEY_SIZE, BOUND,
		extra,
		kme_test_env("QKD_TEST_KME_B"), pki, pki, pki, KEY_SIZE, BOUND,
		extra, dir);
	ck_assert(lib->settings->load_string(lib->settings, conf, TRUE));
}

/**
 * Open the store and pool of an end on its files (again after a restart)
 */
static void open_pool(side_t *side)
{
	char uri[PATH_MAX], keyfile[PATH_MAX];

	snprintf(uri, sizeof(uri), "sqlite://%s/%s.db", dir, side->name);
	snprintf(keyfile, sizeof(keyfile), "%s/%s.key", dir, side->name);
	side->store = qkd_pool_store_create(uri, keyfile, 0);
	ck_assert(side->store);
	side->pool = qkd_pool_create(side->store, side->name, POOL_CAPACITY);
	ck_assert(side->pool);
}

/**
 * Create the DOH peer of an end
 */
static void create_peer(side_t *side)
{
	side->peer = qkd_doh_peer_create(side->link, side->pool, send_cb, side,
									  &side->kernel->kernel);
	ck_assert(side->peer);
}

/**
 * Stop an end like charon going down: DOH peer, pool and store
 */
static void stop_side(side_t *side)
{
	if (side->peer)
	{
		side->peer->destroy(side->peer);
		side->peer = NULL;
	}
	if (side->pool)
	{
		side->pool->destroy(side->pool);
		side->pool = NULL;
	}
	if (side->store)
	{
		side->store->destroy(side->store);
		side->store = NULL;
	}
}

/**
 * Configure and start both ends
 */
static void start(char *extra)
{
	int i;

	configure(extra);
	for (i = 0; i < countof(sides); i++)
	{
		sides[i].link = qkd_link_create_from_settings(sides[i].name);
		ck_assert(sides[i].link);
		open_pool(&sides[i]);
		create_peer(&sides[i]);
	}
}

/**
 * Start both ends, announce keys and wait until both hold them and all the
 * keys they want bound
 */
static void bootstrap(char *extra, u_int keys, u_int deadline)
{
	start(extra);
	refill(keys);
	ck_assert_msg(run_until(established(a) && established(b) &&
							announced_all(keys) && all_bound(), deadline),
				  "no bootstrap: A %s/%u own, B %s/%u own, fetched %u",
				  established(a) ? "established" : "not established",
				  own_bound(a), established(b) ? "established" :
				  "not established", own_bound(b), counters(b).fetched);
}

/**
 * Check whether a key was taken before in this test
 */
static bool was_taken(uint8_t id[QKD_KEY_ID_LEN])
{
	u_int i;

	for (i = 0; i < ntaken; i++)
	{
		if (memeq(taken[i].id, id, QKD_KEY_ID_LEN))
		{
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * Number of keys an end took in this test
 */
static u_int ntaken_by(side_t *side)
{
	u_int i, count = 0;

	for (i = 0; i < ntaken; i++)
	{
		count += taken[i].owner == side;
	}
	return count;
}

/**
 * Take a key bound by one end for a key exchange it starts and check that
 * the other end accepts its ID exactly once, with the same key material;
 * no key is ever taken twice (by either end)
 */
static void take_and_accept(side_t *owner)
{
	side_t *peer = other(owner);
	qkd_key_t *key, *peer_key;

	ck_assert_msg(run_until(own_bound(owner) > 0, DEADLINE),
				  "%s has no key bound", owner->name);
	key = checking[0] = owner->peer->take_bound(owner->peer, 0);
	ck_assert(key);
	ck_assert_int_eq(key->key.len, KEY_SIZE / 8);
	ck_assert_msg(!was_taken(key->id), "key taken twice");
	ck_assert(ntaken < MAX_TAKEN);
	taken[ntaken].owner = owner;
	memcpy(taken[ntaken].id, key->id, QKD_KEY_ID_LEN);
	ntaken++;

	/* taken keys are Pending on both ends */
	ck_assert_int_eq(status_of(owner, key->id), QKD_KEY_PENDING);
	ck_assert_msg(status_of(peer, key->id) == QKD_KEY_PENDING,
				  "%s took a key %s did not bind (status %d there)",
				  owner->name, peer->name, status_of(peer, key->id));

	/* the owner never accepts its own key as the peer's */
	ck_assert(!owner->peer->take_peer_bound(owner->peer, key->id));
	peer_key = checking[1] = peer->peer->take_peer_bound(peer->peer, key->id);
	ck_assert_msg(peer_key, "%s does not accept the key %s bound",
				  peer->name, owner->name);
	ck_assert(memeq(peer_key->id, key->id, QKD_KEY_ID_LEN));
	ck_assert_chunk_eq(peer_key->key, key->key);
	/* only once */
	ck_assert(!peer->peer->take_peer_bound(peer->peer, key->id));
	qkd_key_destroy(peer_key);
	qkd_key_destroy(key);
	checking[0] = checking[1] = NULL;
}

/**
 * Check that the keys bound at one end for the other are exactly those the
 * other holds for itself: both pools hold the same Pending keys, none
 * expired (no key negotiated for nothing)
 */
static void assert_nothing_stranded()
{
	uint8_t id[QKD_KEY_ID_LEN];
	u_int size, i;

	size = pool_size(a);
	for (i = 1; i <= size; i++)
	{
		if (!a->pool->get_id(a->pool, i, id))
		{
			continue;
		}
		ck_assert_msg((status_of(a, id) == QKD_KEY_PENDING) ==
					  (status_of(b, id) == QKD_KEY_PENDING),
					  "key at Index %u is %s at A, %s at B", i,
					  status_of(a, id) == QKD_KEY_PENDING ? "Pending" : "not",
					  status_of(b, id) == QKD_KEY_PENDING ? "Pending" : "not");
	}
	ck_assert_msg(own_bound(a) == peer_bound(b), "A holds %u keys for "
				  "itself, B holds %u for A", own_bound(a), peer_bound(b));
	ck_assert_msg(own_bound(b) == peer_bound(a), "B holds %u keys for "
				  "itself, A holds %u for B", own_bound(b), peer_bound(a));
	ck_assert_msg(a->pool->get_count(a->pool, QKD_KEY_PENDING) ==
				  ntaken + own_bound(a) + peer_bound(a), "A has %u Pending "
				  "keys, %u taken and %u bound", a->pool->get_count(a->pool,
				  QKD_KEY_PENDING), ntaken, own_bound(a) + peer_bound(a));
	ck_assert_msg(b->pool->get_count(b->pool, QKD_KEY_PENDING) ==
				  ntaken + own_bound(b) + peer_bound(b), "B has %u Pending "
				  "keys, %u taken and %u bound", b->pool->get_count(b->pool,
				  QKD_KEY_PENDING), ntaken, own_bound(b) + peer_bound(b));
	ck_assert_msg(a->pool->get_count(a->pool, QKD_KEY_EXPIRED) == 0,
				  "A expired %u keys", a->pool->get_count(a->pool,
				  QKD_KEY_EXPIRED));
	ck_assert_msg(b->pool->get_count(b->pool, QKD_KEY_EXPIRED) == 0,
				  "B expired %u keys", b->pool->get_count(b->pool,
				  QKD_KEY_EXPIRED));
}

/**
 * Check that the peers sent only well-formed, correctly addressed messages
 */
static void assert_clean_output()
{
	ck_assert_int_eq(net.undecodable, 0);
	ck_assert_int_eq(net.misaddressed, 0);
}

/**
 * Events raised, by type, and keys bound per link and purpose
 */
static struct {
	qkd_event_listener_t listener;
	u_int count[QKD_EVENT_IKELESS_REMOVED + 1];
	u_int bound[2][2];
} events;

/**
 * Count an event
 */
static void count_event(qkd_event_listener_t *listener, qkd_event_t *event)
{
	ck_assert(event->link);
	events.count[event->type]++;
	if (event->type == QKD_EVENT_KEY_BOUND)
	{
		ck_assert(event->index >= 1 && event->count >= 1);
		events.bound[streq(event->link, "doh-b")][event->for_peer] +=
																event->count;
	}
	if (event->type >= QKD_EVENT_IKELESS_INSTALLED)
	{
		ck_assert(event->child && event->key_id && event->spi_in &&
				  event->spi_out);
	}
}

START_SETUP(setup_net)
{
	memset(&events, 0, sizeof(events));
	events.listener.event = count_event;
	qkd_events_add_listener(&events.listener);
	strcpy(dir, "/tmp/qkd-test-doh-peer-XXXXXX");
	ck_assert(mkdtemp(dir));
	memset(&net, 0, sizeof(net));
	net.queue = linked_list_create();
	net.captured = linked_list_create();
	net.stash = linked_list_create();
	net.rng = 0x2545f491;
	sides[0] = (side_t){
		.name = "doh-a",
		.addr = host_create_from_string("fec0::1", 0),
		.kernel = mock_direct_kernel_create(),
	};
	sides[1] = (side_t){
		.name = "doh-b",
		.addr = host_create_from_string("fec0::2", 0),
		.kernel = mock_direct_kernel_create(),
	};
	ntaken = 0;
}
END_SETUP

START_TEARDOWN(teardown_net)
{
	char cmd[PATH_MAX + 16];
	int i;

	qkd_events_remove_listener(&events.listener);
	qkd_key_destroy(checking[0]);
	qkd_key_destroy(checking[1]);
	checking[0] = checking[1] = NULL;
	DESTROY_IF(fake_b);
	fake_b = NULL;
	for (i = 0; i < countof(sides); i++)
	{
		stop_side(&sides[i]);
		DESTROY_IF(sides[i].link);
		sides[i].link = NULL;
		sides[i].addr->destroy(sides[i].addr);
		sides[i].kernel->destroy(sides[i].kernel);
	}
	net.queue->destroy_function(net.queue, (void*)packet_destroy);
	net.captured->destroy_function(net.captured, (void*)packet_destroy);
	net.stash->destroy_function(net.stash, (void*)packet_destroy);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ignore_result(system(cmd));
}
END_TEARDOWN

/*******************************************************************************
 * bootstrap: DOH key, announce, sync
 */

START_TEST(test_bootstrap)
{
	qkd_doh_counters_t ca, cb;
	char buf[2048];

	start("");
	ck_assert(a->link->get_doh(a->link)->announcer);
	ck_assert(!b->link->get_doh(b->link)->announcer);
	ck_assert(a->peer->matches(a->peer, a->addr, b->addr));
	ck_assert(!a->peer->matches(a->peer, b->addr, a->addr));
	ck_assert(b->peer->matches(b->peer, b->addr, a->addr));
	ck_assert(!established(a) && !established(b));

	/* keys added before the DOH key is there are announced once it is */
	refill(20);
	ck_assert_msg(run_until(established(a) && established(b) &&
							announced_all(20), DEADLINE),
				  "no bootstrap: fetched %u of %u", counters(b).fetched,
				  counters(a).announced);
	/* and it stays that way: no new DOH keys, nothing announced again */
	run_for(500);

	ck_assert(a->peer->format_status(a->peer, buf, sizeof(buf)));
	ck_assert(strstr(buf, "doh_peer: fec0::2\ndoh_state: established\n"));
	ck_assert(b->peer->format_status(b->peer, buf, sizeof(buf)));
	ck_assert(strstr(buf, "doh_peer: fec0::1\ndoh_state: established\n"));
	ck_assert_int_eq(status_value(a, "doh_key_generation"),
					 status_value(b, "doh_key_generation"));

	ca = counters(a);
	cb = counters(b);
	ck_assert_int_eq(ca.doh_keys, 1);
	ck_assert_int_eq(cb.doh_keys, 1);
	ck_assert_int_eq(ca.announced, 20);
	ck_assert_int_eq(ca.acked, 20);
	ck_assert_int_eq(cb.fetched, ca.announced);
	ck_assert_int_eq(cb.announced, 0);
	ck_assert_int_eq(ca.fetched, 0);
	/* same keys at the same Indexes, all there */
	ck_assert(pools_equal());
	ck_assert_int_eq(pool_size(b), 20);
	/* a clean network: nothing refused */
	ck_assert_int_eq(ca.rx_malformed + ca.rx_no_key + ca.rx_bad_mac +
					 ca.rx_stale + ca.rx_replay, 0);
	ck_assert_int_eq(cb.rx_malformed + cb.rx_no_key + cb.rx_bad_mac +
					 cb.rx_stale + cb.rx_replay, 0);
	ck_assert(ca.rx_valid > 0 && cb.rx_valid > 0);
	ck_assert_int_eq(ca.tx, net.sent[0][QKD_DOH_AUTH_KEY_OFFER] +
					 net.sent[0][QKD_DOH_REQ_SYNC] +
					 net.sent[0][QKD_DOH_ACK_AVAILABLE] +
					 net.sent[0][QKD_DOH_REQ_SYNC_RANGE] +
					 net.sent[0][QKD_DOH_ACK_AVAILABLE_RANGE] +
					 net.sent[0][QKD_DOH_REQ_NEGOTIATE] +
					 net.sent[0][QKD_DOH_CONFIRM_NEGOTIATE] +
					 net.sent[0][QKD_DOH_KEY_ANNOUNCE] +
					 net.sent[0][QKD_DOH_ANNOUNCE_ACK]);
	/* 20 keys: announces of 15 and 5 (sent again if B's KME is slow) */
	ck_assert(net.sent[0][QKD_DOH_KEY_ANNOUNCE] >= 2);
	ck_assert(net.sent[1][QKD_DOH_ANNOUNCE_ACK] >= 2);
	/* periodic syncs go on */
	ck_assert(net.sent[0][QKD_DOH_REQ_SYNC_RANGE] >= 2);
	ck_assert(net.sent[1][QKD_DOH_REQ_SYNC_RANGE] >= 2);
	assert_clean_output();
}
END_TEST

/*******************************************************************************
 * negotiation and binding to the key exchange
 */

START_TEST(test_binding)
{
	uint8_t id[QKD_KEY_ID_LEN];
	qkd_key_t *key;
	u_int i, j;

	bootstrap("", 40, DEADLINE);
	ck_assert_int_eq(counters(a).bound_own, BOUND);
	ck_assert_int_eq(counters(b).bound_own, BOUND);
	ck_assert_int_eq(counters(a).bound_peer, BOUND);
	ck_assert_int_eq(counters(b).bound_peer, BOUND);
	assert_nothing_stranded();

	/* B refuses IDs A did not bind: unknown, Idle on both */
	memset(id, 0x42, sizeof(id));
	ck_assert(!b->peer->take_peer_bound(b->peer, id));
	ck_assert(lowest_idle_on_both(id));
	ck_assert(!b->peer->take_peer_bound(b->peer, id));
	ck_assert(!a->peer->take_peer_bound(a->peer, id));
	ck_assert_int_eq(status_of(a, id), QKD_KEY_IDLE);
	ck_assert_int_eq(status_of(b, id), QKD_KEY_IDLE);

	/* one key each way */
	take_and_accept(a);
	take_and_accept(b);

	/* all bound keys taken at once: none left until negotiated again */
	for (i = 0; i < BOUND - 1; i++)
	{
		take_and_accept(a);
	}
	key = a->peer->take_bound(a->peer, 0);
	ck_assert(!key);
	ck_assert(run_until(all_bound(), DEADLINE));

	/* many rounds, both ends, sometimes emptying their bound keys */
	for (i = 0; i < 8; i++)
	{
		for (j = 0; j <= i % BOUND; j++)
		{
			take_and_accept(i % 3 ? a : b);
		}
		ck_assert(run_until(all_bound(), DEADLINE));
	}
	run_for(200);
	ck_assert_int_eq(counters(a).bound_own, BOUND + ntaken_by(a));
	ck_assert_int_eq(counters(b).bound_own, BOUND + ntaken_by(b));
	ck_assert_int_eq(counters(a).bound_peer, counters(b).bound_own);
	ck_assert_int_eq(counters(b).bound_peer, counters(a).bound_own);
	assert_nothing_stranded();
	assert_clean_output();
}
END_TEST

/*******************************************************************************
 * lost answers: retransmissions, answered idempotently
 */

/**
 * Drops the first two CONFIRM_NEGOTIATEs, KEY_ANNOUNCEs and ANNOUNCE_ACKs
 * of each end
 */
static filter_t drop_first_answers(side_t *from, qkd_doh_msg_t *msg)
{
	static u_int seen[2][256];

	if (!from)
	{	/* reset */
		memset(seen, 0, sizeof(seen));
		return FILTER_PASS;
	}
	switch (msg->type)
	{
		case QKD_DOH_CONFIRM_NEGOTIATE:
		case QKD_DOH_KEY_ANNOUNCE:
		case QKD_DOH_ANNOUNCE_ACK:
			return ++seen[dir_of(from)][msg->type] > 2 ? FILTER_PASS
													   : FILTER_DROP;
		default:
			return FILTER_PASS;
	}
}

START_TEST(test_retransmit)
{
	drop_first_answers(NULL, NULL);
	net.filter = drop_first_answers;
	bootstrap("", 20, DEADLINE);
	run_for(200);

	/* requests were sent again, answered again, nothing done twice */
	ck_assert(net.sent[0][QKD_DOH_KEY_ANNOUNCE] > 2);
	ck_assert(net.sent[1][QKD_DOH_ANNOUNCE_ACK] > 2);
	ck_assert_int_eq(counters(a).acked, 20);
	ck_assert_int_eq(counters(b).fetched, 20);
	ck_assert(net.sent[0][QKD_DOH_REQ_NEGOTIATE] +
			  net.sent[1][QKD_DOH_REQ_NEGOTIATE] >
			  counters(a).bound_own + counters(b).bound_own +
			  counters(a).refused + counters(b).refused);
	ck_assert(net.confirms[0][QKD_DOH_SUCCESS] +
			  net.confirms[1][QKD_DOH_SUCCESS] > 2 * BOUND);
	ck_assert_int_eq(counters(a).bound_own, BOUND);
	ck_assert_int_eq(counters(b).bound_own, BOUND);
	ck_assert_int_eq(counters(a).bound_peer, BOUND);
	ck_assert_int_eq(counters(b).bound_peer, BOUND);
	ck_assert_int_eq(counters(a).timeouts + counters(b).timeouts, 0);
	assert_nothing_stranded();

	take_and_accept(a);
	take_and_accept(b);
	assert_clean_output();
}
END_TEST

/*******************************************************************************
 * random loss
 */

START_TEST(test_loss)
{
	qkd_doh_counters_t ca, cb;
	u_int i;

	net.loss = 30;
	start("");
	refill(40);
	ck_assert_msg(run_until(established(a) && established(b) &&
							all_bound(), 2 * DEADLINE),
				  "no bootstrap with loss: A %u, B %u own keys bound",
				  own_bound(a), own_bound(b));
	for (i = 0; i < 4; i++)
	{
		take_and_accept(i % 2 ? b : a);
	}
	ck_assert(run_until(all_bound(), 2 * DEADLINE));

	ca = counters(a);
	cb = counters(b);
	ck_assert(net.dropped > 0);
	/* negotiations needed retransmissions */
	ck_assert(net.sent[0][QKD_DOH_REQ_NEGOTIATE] +
			  net.sent[1][QKD_DOH_REQ_NEGOTIATE] >
			  ca.bound_own + cb.bound_own + ca.refused + cb.refused +
			  ca.timeouts + cb.timeouts);
	/* B never holds keys A did not announce */
	ck_assert(cb.fetched <= ca.announced);
	ck_assert_int_eq(cb.announced + ca.fetched, 0);
	ck_assert_int_eq(ca.doh_keys, 1);
	ck_assert_int_eq(cb.doh_keys, 1);
	/* no refusals but those of duplicated answers */
	ck_assert_int_eq(ca.rx_malformed + ca.rx_bad_mac + ca.rx_stale, 0);
	ck_assert_int_eq(cb.rx_malformed + cb.rx_bad_mac + cb.rx_stale, 0);
	assert_clean_output();
}
END_TEST

/*******************************************************************************
 * duplication and reordering
 */

START_TEST(test_duplicate_reorder)
{
	qkd_doh_counters_t ca, cb;
	u_int i;

	net.duplicate = TRUE;
	net.jitter = 10;
	bootstrap("", 40, DEADLINE);
	for (i = 0; i < 8; i++)
	{
		take_and_accept(i % 3 ? a : b);
		if (i % 2)
		{
			ck_assert(run_until(all_bound(), DEADLINE));
		}
	}
	ck_assert(run_until(all_bound(), DEADLINE));
	run_for(200);

	ca = counters(a);
	cb = counters(b);
	/* duplicates were refused as replays */
	ck_assert(ca.rx_replay > 0);
	ck_assert(cb.rx_replay > 0);
	/* and changed nothing: every key bound once, announced keys once */
	ck_assert_int_eq(ca.bound_own, ntaken_by(a) + own_bound(a));
	ck_assert_int_eq(cb.bound_own, ntaken_by(b) + own_bound(b));
	ck_assert_int_eq(ca.bound_peer, cb.bound_own);
	ck_assert_int_eq(cb.bound_peer, ca.bound_own);
	ck_assert_int_eq(ca.acked, 40);
	ck_assert_int_eq(cb.fetched, 40);
	ck_assert_int_eq(ca.doh_keys, 1);
	ck_assert_int_eq(cb.doh_keys, 1);
	ck_assert(pools_equal());
	ck_assert_int_eq(ca.rx_malformed + ca.rx_bad_mac + ca.rx_stale, 0);
	ck_assert_int_eq(cb.rx_malformed + cb.rx_bad_mac + cb.rx_stale, 0);
	assert_nothing_stranded();
	assert_clean_output();
}
END_TEST

/*******************************************************************************
 * collisions
 */

/*******************************************************************************
 * batches: several keys bound by one REQ_NEGOTIATE, one synced write per end
 */

/**
 * Keys each end keeps bound in the batch tests
 */
#define BATCH_BOUND 32

/**
 * Start both ends with BATCH_BOUND keys to keep bound and keys announced,
 * until both hold the keys they want
 */
static void start_batches(char *extra, u_int keys, u_int deadline)
{
	char conf[256];

	snprintf(conf, sizeof(conf), "doh_bound = %d\n%s", BATCH_BOUND, extra);
	start(conf);
	refill(keys);
	ck_assert_msg(run_until(established(a) && established(b) &&
							announced_all(keys) &&
							own_bound(a) == BATCH_BOUND &&
							own_bound(b) == BATCH_BOUND, deadline),
				  "A %u, B %u own keys bound", own_bound(a), own_bound(b));
}

START_TEST(test_batch_binding)
{
	u_int i;

	start_batches("", 5 * BATCH_BOUND, DEADLINE);
	/* a few requests bound them, not one per key */
	ck_assert(net.sent[0][QKD_DOH_REQ_NEGOTIATE] <= 4);
	ck_assert(net.sent[1][QKD_DOH_REQ_NEGOTIATE] <= 4);
	ck_assert_int_eq(counters(a).bound_own, BATCH_BOUND);
	ck_assert_int_eq(counters(b).bound_peer, BATCH_BOUND);
	assert_nothing_stranded();
	/* both ends saw DOH come up, and announced each binding */
	ck_assert(events.count[QKD_EVENT_DOH_PEER_UP] >= 2);
	ck_assert_int_eq(events.count[QKD_EVENT_DOH_PEER_DOWN], 0);
	ck_assert_int_eq(events.bound[0][FALSE], counters(a).bound_own);
	ck_assert_int_eq(events.bound[0][TRUE], counters(a).bound_peer);
	ck_assert_int_eq(events.bound[1][FALSE], counters(b).bound_own);
	ck_assert_int_eq(events.bound[1][TRUE], counters(b).bound_peer);
	/* every key bound is taken by one key exchange, accepted once */
	for (i = 0; i < BATCH_BOUND; i++)
	{
		take_and_accept(a);
		take_and_accept(b);
	}
	/* and the reserve is bound again */
	ck_assert(run_until(own_bound(a) == BATCH_BOUND &&
						own_bound(b) == BATCH_BOUND, DEADLINE));
	assert_nothing_stranded();
	assert_clean_output();
}
END_TEST

START_TEST(test_batch_refill_once)
{
	u_int i, sent;

	start_batches("", 6 * BATCH_BOUND, DEADLINE);
	sent = net.sent[0][QKD_DOH_REQ_NEGOTIATE];
	/* half of A's reserve used: A asks for all it lacks in one batch */
	for (i = 0; i < BATCH_BOUND / 2; i++)
	{
		take_and_accept(a);
	}
	ck_assert_int_eq(net.sent[0][QKD_DOH_REQ_NEGOTIATE], sent + 1);
	/* key exchanges take a few more while it is in flight */
	for (i = 0; i < 4; i++)
	{
		take_and_accept(a);
	}
	ck_assert(run_until(own_bound(a) == BATCH_BOUND - 4, DEADLINE));
	/* no round trip and synced write on each end for those few: the next
	 * batch once half is used again */
	run_for(200);
	ck_assert_int_eq(net.sent[0][QKD_DOH_REQ_NEGOTIATE], sent + 1);
	ck_assert_int_eq(own_bound(a), BATCH_BOUND - 4);
	for (i = 0; i < BATCH_BOUND / 2 - 4; i++)
	{
		take_and_accept(a);
	}
	ck_assert(run_until(own_bound(a) == BATCH_BOUND, DEADLINE));
	ck_assert_int_eq(net.sent[0][QKD_DOH_REQ_NEGOTIATE], sent + 2);
	assert_nothing_stranded();
}
END_TEST

START_TEST(test_batch_beyond_max)
{
	u_int bound = QKD_DOH_MAX_BATCH + 100;
	char conf[64];

	/* a reserve larger than a batch is filled in several batches, not
	 * left at one batch until half of it is used */
	snprintf(conf, sizeof(conf), "doh_bound = %u\n", bound);
	start(conf);
	refill(2 * bound + 64);
	ck_assert_msg(run_until(established(a) && established(b) &&
							own_bound(a) == bound && own_bound(b) == bound,
							5 * DEADLINE),
				  "A %u, B %u own keys bound", own_bound(a), own_bound(b));
	ck_assert(net.sent[0][QKD_DOH_REQ_NEGOTIATE] <= 8);
	assert_nothing_stranded();
}
END_TEST

/**
 * Drops REQ_NEGOTIATEs for several keys, as an end of DOH profile version
 * 4 does (the Key Count TLV is unknown to it)
 */
static filter_t drop_batches(side_t *from, qkd_doh_msg_t *msg)
{
	if (from && msg->type == QKD_DOH_REQ_NEGOTIATE && msg->negotiate.count)
	{
		return FILTER_DROP;
	}
	return FILTER_PASS;
}

START_TEST(test_batch_unanswered)
{
	u_int i;

	net.filter = drop_batches;
	/* each end gives its batch up after the retransmissions, then binds
	 * one key at a time */
	start_batches("", 3 * BATCH_BOUND, 5 * DEADLINE);
	ck_assert(counters(a).timeouts >= 1);
	ck_assert(counters(b).timeouts >= 1);
	assert_nothing_stranded();
	for (i = 0; i < 4; i++)
	{
		take_and_accept(a);
		take_and_accept(b);
	}
	net.filter = NULL;
}
END_TEST

/**
 * Both ends negotiate overlapping batches at once: the lower address's
 * stands, nothing is bound twice or stranded
 */
START_TEST(test_batch_collision)
{
	u_int i;

	start_batches("", 10 * BATCH_BOUND, DEADLINE);
	for (i = 0; i < 3; i++)
	{
		/* both ends take all their keys and negotiate new batches at the
		 * same lowest Indexes, the requests cross */
		net.hold = TRUE;
		while (own_bound(a))
		{
			take_and_accept(a);
		}
		while (own_bound(b))
		{
			take_and_accept(b);
		}
		net.hold = FALSE;
		ck_assert(run_until(own_bound(a) == BATCH_BOUND &&
							own_bound(b) == BATCH_BOUND, DEADLINE));
		assert_nothing_stranded();
	}
	ck_assert(counters(a).collisions + counters(b).collisions > 0);
	assert_clean_output();
}
END_TEST

/**
 * Orders in which the two requests for the same key and the refusal of B's
 * arrive
 */
static char *collision_orders[] = {
	"A's request first, then B's",
	"B's request first, then A's",
	"B's request and A's refusal, then A's request",
};

START_TEST(test_collision)
{
	uint8_t id[QKD_KEY_ID_LEN];
	u_int order, i, sent_a, sent_b, collisions_a, collisions_b;
	bool owned;

	bootstrap("", 40, DEADLINE);
	for (order = 0; order < countof(collision_orders); order++)
	{
		run_for(100);
		ck_assert(lowest_idle_on_both(id));
		collisions_a = counters(a).collisions;
		collisions_b = counters(b).collisions;

		/* both ends take a key and negotiate the next one at once */
		net.hold = TRUE;
		sent_a = net.sent[0][QKD_DOH_REQ_NEGOTIATE];
		sent_b = net.sent[1][QKD_DOH_REQ_NEGOTIATE];
		take_and_accept(a);
		take_and_accept(b);
		ck_assert(run_until(net.sent[0][QKD_DOH_REQ_NEGOTIATE] > sent_a &&
							net.sent[1][QKD_DOH_REQ_NEGOTIATE] > sent_b,
							2000));
		/* for the same key, the lowest Index Idle on both */
		ck_assert(memeq(net.negotiated[0], id, QKD_KEY_ID_LEN));
		ck_assert(memeq(net.negotiated[1], id, QKD_KEY_ID_LEN));

		switch (order)
		{
			case 0:
				deliver_from(a, -1);
				deliver_from(b, -1);
				break;
			case 1:
				deliver_from(b, -1);
				deliver_from(a, -1);
				break;
			case 2:
				deliver_from(b, -1);
				deliver_from(a, QKD_DOH_CONFIRM_NEGOTIATE);
				deliver_from(a, -1);
				break;
		}
		net.hold = FALSE;
		ck_assert_msg(run_until(all_bound(), DEADLINE), "%s: not all bound",
					  collision_orders[order]);

		/* the lower address won: A owns the key, B bound it for A */
		ck_assert_msg(counters(a).collisions > collisions_a ||
					  counters(b).collisions > collisions_b,
					  "%s: no collision", collision_orders[order]);
		if (order < 2)
		{	/* B saw A's request while its own was in flight */
			ck_assert(counters(b).collisions > collisions_b);
		}
		ck_assert_int_eq(status_of(a, id), QKD_KEY_PENDING);
		ck_assert_int_eq(status_of(b, id), QKD_KEY_PENDING);
		ck_assert(!a->peer->take_peer_bound(a->peer, id));
		for (i = 0; i < BOUND; i++)
		{
			take_and_accept(b);
			ck_assert_msg(!memeq(taken[ntaken - 1].id, id, QKD_KEY_ID_LEN),
						  "%s: B owns the key", collision_orders[order]);
		}
		owned = FALSE;
		for (i = 0; i < BOUND; i++)
		{
			take_and_accept(a);
			owned = owned || memeq(taken[ntaken - 1].id, id, QKD_KEY_ID_LEN);
		}
		ck_assert_msg(owned, "%s: A does not own the key both asked for",
					  collision_orders[order]);
		ck_assert(run_until(all_bound(), DEADLINE));
		run_for(100);
		assert_nothing_stranded();
	}
	assert_clean_output();
}
END_TEST

/*******************************************************************************
 * bad messages
 */

/**
 * State that refused messages must not change
 */
typedef struct {
	chunk_t bitmap[2];
	uint32_t first[2];
	u_int own[2], peer[2], generation[2];
	qkd_doh_counters_t c[2];
} snapshot_t;

/**
 * Record the state of both ends
 */
static void take_snapshot(snapshot_t *snap)
{
	int i;

	for (i = 0; i < countof(sides); i++)
	{
		sides[i].pool->get_bitmap(sides[i].pool, &snap->bitmap[i],
								  &snap->first[i]);
		snap->own[i] = own_bound(&sides[i]);
		snap->peer[i] = peer_bound(&sides[i]);
		snap->generation[i] = status_value(&sides[i], "doh_key_generation");
		snap->c[i] = counters(&sides[i]);
	}
}

/**
 * Check that the state of both ends did not change since the snapshot
 * (which is freed)
 */
static void assert_unchanged(snapshot_t *snap)
{
	qkd_doh_counters_t c;
	chunk_t bitmap;
	uint32_t first;
	int i;

	for (i = 0; i < countof(sides); i++)
	{
		sides[i].pool->get_bitmap(sides[i].pool, &bitmap, &first);
		ck_assert_chunk_eq(bitmap, snap->bitmap[i]);
		ck_assert_int_eq(first, snap->first[i]);
		chunk_free(&bitmap);
		chunk_free(&snap->bitmap[i]);
		ck_assert(established(&sides[i]));
		ck_assert_int_eq(own_bound(&sides[i]), snap->own[i]);
		ck_assert_int_eq(peer_bound(&sides[i]), snap->peer[i]);
		ck_assert_int_eq(status_value(&sides[i], "doh_key_generation"),
						 snap->generation[i]);
		c = counters(&sides[i]);
		ck_assert_int_eq(c.doh_keys, snap->c[i].doh_keys);
		ck_assert_int_eq(c.bound_own, snap->c[i].bound_own);
		ck_assert_int_eq(c.bound_peer, snap->c[i].bound_peer);
		ck_assert_int_eq(c.refused, snap->c[i].refused);
		ck_assert_int_eq(c.timeouts, snap->c[i].timeouts);
		ck_assert_int_eq(c.collisions, snap->c[i].collisions);
		ck_assert_int_eq(c.announced, snap->c[i].announced);
		ck_assert_int_eq(c.acked, snap->c[i].acked);
		ck_assert_int_eq(c.fetched, snap->c[i].fetched);
		ck_assert_int_eq(c.reset_expired, snap->c[i].reset_expired);
	}
}

/**
 * Get a copy of the first or last captured message of a sender and type
 */
static chunk_t captured(side_t *from, int type, bool last)
{
	enumerator_t *enumerator;
	packet_t *packet;
	chunk_t found = chunk_empty;

	enumerator = net.captured->create_enumerator(net.captured);
	while (enumerator->enumerate(enumerator, &packet))
	{
		if (packet->from == from && packet->type == type)
		{
			chunk_free(&found);
			found = chunk_clone(packet->doh);
			if (!last)
			{
				break;
			}
		}
	}
	enumerator->destroy(enumerator);
	ck_assert_msg(found.len, "no message of type 0x%02x captured", type);
	return found;
}

/**
 * Get the offset of the MAC and the AUTH option of a valid header
 */
static size_t auth_of(chunk_t doh, qkd_doh_auth_t *auth)
{
	qkd_doh_msg_t msg;
	bool has_auth;
	size_t mac;

	ck_assert(qkd_doh_decode(doh, &msg, auth, &has_auth, NULL, &mac));
	qkd_doh_msg_clear(&msg);
	ck_assert(has_auth);
	return mac;
}

/**
 * Offset of a counter in qkd_doh_counters_t
 */
#define COUNTER(field) offsetof(qkd_doh_counters_t, field)

/**
 * Get a counter by its offset
 */
static u_int counter(qkd_doh_counters_t *c, size_t offset)
{
	return *(u_int*)((char*)c + offset);
}

/**
 * Hand a header to the other end and check that it was refused and counted
 * with the given counter (and freed)
 */
static void assert_refused(side_t *from, chunk_t doh, size_t offset,
						   char *what)
{
	qkd_doh_counters_t before, after;

	before = counters(other(from));
	inject(from, doh);
	after = counters(other(from));
	ck_assert_msg(after.rx == before.rx + 1 &&
				  after.rx_valid == before.rx_valid &&
				  counter(&after, offset) == counter(&before, offset) + 1,
				  "%s to %s not refused as expected: rx %u -> %u, "
				  "valid %u -> %u, counter %u -> %u", what, other(from)->name,
				  before.rx, after.rx, before.rx_valid, after.rx_valid,
				  counter(&before, offset), counter(&after, offset));
	chunk_free(&doh);
}

/**
 * Copy a header with one byte flipped
 */
static chunk_t flipped(chunk_t doh, size_t pos, uint8_t bits)
{
	chunk_t copy = chunk_clone(doh);

	copy.ptr[pos] ^= bits;
	return copy;
}

START_TEST(test_bad_messages)
{
	qkd_doh_frame_t frame;
	qkd_doh_msg_t msg;
	qkd_doh_auth_t auth;
	snapshot_t snap;
	chunk_t doh;
	host_t *eve;
	size_t mac;
	bool has_auth;
	u_int i, len, refusals;
	int types[] = {
		QKD_DOH_REQ_SYNC_RANGE, QKD_DOH_ACK_AVAILABLE_RANGE,
		QKD_DOH_REQ_NEGOTIATE, QKD_DOH_CONFIRM_NEGOTIATE,
	};

	net.capture = TRUE;
	bootstrap("", 40, DEADLINE);
	run_for(200);
	take_snapshot(&snap);
	refusals = net.confirms[0][QKD_DOH_HMAC_FAILED];

	/* replays of valid messages, both ways, first and latest */
	for (i = 0; i < countof(types); i++)
	{
		assert_refused(b, captured(b, types[i], FALSE), COUNTER(rx_replay),
					   "first replayed");
		assert_refused(b, captured(b, types[i], TRUE), COUNTER(rx_replay),
					   "latest replayed");
		assert_refused(a, captured(a, types[i], FALSE), COUNTER(rx_replay),
					   "first replayed");
		assert_refused(a, captured(a, types[i], TRUE), COUNTER(rx_replay),
					   "latest replayed");
	}
	assert_refused(a, captured(a, QKD_DOH_KEY_ANNOUNCE, FALSE),
				   COUNTER(rx_replay), "KEY_ANNOUNCE replayed");
	assert_refused(b, captured(b, QKD_DOH_ANNOUNCE_ACK, TRUE),
				   COUNTER(rx_replay), "ANNOUNCE_ACK replayed");

	/* wrong MAC: MAC, Sequence, Timestamp, message, addresses changed */
	doh = captured(b, QKD_DOH_REQ_NEGOTIATE, TRUE);
	mac = auth_of(doh, &auth);
	assert_refused(b, flipped(doh, mac, 0x01), COUNTER(rx_bad_mac),
				   "MAC changed");
	assert_refused(b, flipped(doh, mac + QKD_DOH_MAC_LEN - 1, 0x80),
				   COUNTER(rx_bad_mac), "MAC changed");
	assert_refused(b, flipped(doh, mac - 1, 0x01), COUNTER(rx_bad_mac),
				   "Sequence changed");
	assert_refused(b, flipped(doh, mac - 5, 0x01), COUNTER(rx_bad_mac),
				   "Timestamp changed");
	/* the low byte of the Key Index */
	assert_refused(b, flipped(doh, 9, 0x01), COUNTER(rx_bad_mac),
				   "Key Index changed");
	eve = host_create_from_string("fec0::3", 0);
	i = counters(a).rx_bad_mac;
	a->peer->receive(a->peer, eve, a->addr, doh);
	ck_assert_int_eq(counters(a).rx_bad_mac, i + 1);
	eve->destroy(eve);
	/* unknown DOH key generation */
	assert_refused(b, flipped(doh, mac - 9, 0xff), COUNTER(rx_no_key),
				   "Key Ref changed");
	chunk_free(&doh);

	/* bad MACs the other way */
	doh = captured(a, QKD_DOH_ACK_AVAILABLE_RANGE, TRUE);
	mac = auth_of(doh, &auth);
	assert_refused(a, flipped(doh, mac + 3, 0x10), COUNTER(rx_bad_mac),
				   "MAC changed");
	/* the most significant byte of Pool Size */
	assert_refused(a, flipped(doh, 14, 0x01), COUNTER(rx_bad_mac),
				   "Pool Size changed");
	chunk_free(&doh);

	/* without AUTH option */
	doh = captured(b, QKD_DOH_REQ_SYNC_RANGE, TRUE);
	ck_assert(qkd_doh_decode(doh, &msg, &auth, &has_auth, NULL, NULL));
	chunk_free(&doh);
	ck_assert(qkd_doh_encode(&msg, NULL, 59, &doh, NULL));
	qkd_doh_msg_clear(&msg);
	assert_refused(b, doh, COUNTER(rx_no_key), "without AUTH");

	/* truncated */
	doh = captured(b, QKD_DOH_REQ_NEGOTIATE, TRUE);
	for (len = 0; len < doh.len; len += (len < 16 || len > doh.len - 16) ?
										1 : 7)
	{
		assert_refused(b, chunk_clone(chunk_create(doh.ptr, len)),
					   COUNTER(rx_malformed), "truncated");
	}
	chunk_free(&doh);

	/* garbage, half of it with a plausible start */
	for (i = 0; i < 200; i++)
	{
		len = rnd() % 64 * 8 + (i % 2 ? 0 : rnd() % 8);
		doh = chunk_alloc(len);
		for (len = 0; len < doh.len; len++)
		{
			doh.ptr[len] = rnd();
		}
		if (i % 2 && doh.len >= 8)
		{
			doh.ptr[0] = 59;
			doh.ptr[1] = doh.len / 8 - 1;
			doh.ptr[2] = QKD_DOH_OPTION;
			doh.ptr[3] = min(doh.len - 4, 255);
		}
		if (qkd_doh_decode(doh, &msg, &auth, &has_auth, NULL, NULL))
		{	/* unlikely, but not garbage then */
			qkd_doh_msg_clear(&msg);
			chunk_free(&doh);
			continue;
		}
		if (qkd_doh_frame(doh, &frame) &&
			frame.type != QKD_DOH_AUTH_KEY_OFFER)
		{	/* options that parse: refused for the (missing) MAC, before
			 * the message is decoded */
			assert_refused(i % 3 ? b : a, doh, frame.has_auth &&
						   frame.auth.key_ref == status_value(a,
										"doh_key_generation") ?
						   COUNTER(rx_bad_mac) : COUNTER(rx_no_key),
						   "garbage with options that parse");
			continue;
		}
		assert_refused(i % 3 ? b : a, doh, COUNTER(rx_malformed), "garbage");
	}

	/* a compressed bitmap that does not inflate, under a MAC that does not
	 * verify: refused for the MAC, never inflated */
	doh = captured(a, QKD_DOH_ACK_AVAILABLE_RANGE, TRUE);
	ck_assert(qkd_doh_frame(doh, &frame));
	ck_assert(frame.data.ptr[1] & 0x01);
	ck_assert(!qkd_doh_decode(flipped(doh, 18, 0xff), &msg, &auth, &has_auth,
							  NULL, NULL));
	assert_refused(a, flipped(doh, 18, 0xff), COUNTER(rx_bad_mac),
				   "bad MAC over a bad compressed bitmap");
	chunk_free(&doh);

	/* none of it changed anything */
	deliver();
	run_for(500);
	assert_unchanged(&snap);
	/* bad MACs on REQ_NEGOTIATE are answered, at most once a second */
	ck_assert_int_eq(net.confirms[0][QKD_DOH_HMAC_FAILED], refusals + 1);

	/* and the link still works */
	take_and_accept(a);
	take_and_accept(b);
	assert_clean_output();
}
END_TEST

START_TEST(test_stale)
{
	qkd_doh_auth_t auth;
	snapshot_t snap;
	chunk_t sync, neg;
	uint32_t ts;
	u_int refusals, unexpected;

	net.capture = TRUE;
	bootstrap("doh_window = 1", 40, DEADLINE);
	run_for(200);
	take_snapshot(&snap);

	sync = captured(b, QKD_DOH_REQ_SYNC_RANGE, TRUE);
	auth_of(sync, &auth);
	ts = auth.timestamp;
	neg = captured(b, QKD_DOH_REQ_NEGOTIATE, TRUE);
	auth_of(neg, &auth);
	ts = max(ts, auth.timestamp);
	/* wait until they are outside the window of 1 s */
	ck_assert(run_until(time(NULL) >= ts + 2, 4000));

	assert_refused(b, sync, COUNTER(rx_stale), "stale sync");
	refusals = net.confirms[0][QKD_DOH_TIMESTAMP];
	unexpected = counters(b).rx_unexpected;
	assert_refused(b, neg, COUNTER(rx_stale), "stale REQ_NEGOTIATE");
	/* answered with status 0x04, which B does not expect */
	ck_assert_int_eq(net.confirms[0][QKD_DOH_TIMESTAMP], refusals + 1);
	deliver();
	ck_assert_int_eq(counters(b).rx_unexpected, unexpected + 1);

	run_for(200);
	assert_unchanged(&snap);
	take_and_accept(a);
	take_and_accept(b);
	assert_clean_output();
}
END_TEST

/*******************************************************************************
 * forged AUTH_KEY_OFFERs (unauthenticated by design)
 */

START_TEST(test_forged_offers)
{
	qkd_doh_msg_t offer = {
		.type = QKD_DOH_AUTH_KEY_OFFER,
		.offer = {
			.flags = QKD_DOH_OFFER_RANGE,
		},
	};
	snapshot_t snap;
	chunk_t doh;
	u_int i;

	bootstrap("", 40, DEADLINE);
	run_for(200);
	take_snapshot(&snap);

	/* B asks its KME for a key that isn't there, nothing else */
	memset(offer.offer.keyid, 0x42, QKD_KEY_ID_LEN);
	ck_assert(qkd_doh_encode(&offer, NULL, 59, &doh, NULL));
	inject(a, doh);
	/* A does not take offers */
	assert_refused(b, doh, COUNTER(rx_unexpected), "offer");
	run_for(500);
	assert_unchanged(&snap);

	/* a key request makes A take a new DOH key, once in 5 s */
	offer.offer.flags |= QKD_DOH_OFFER_REQUEST;
	memset(offer.offer.keyid, 0, QKD_KEY_ID_LEN);
	ck_assert(qkd_doh_encode(&offer, NULL, 59, &doh, NULL));
	for (i = 0; i < 5; i++)
	{
		inject(b, doh);
		run_for(50);
	}
	chunk_free(&doh);
	ck_assert(run_until(counters(b).doh_keys == 2 && established(a) &&
						established(b), DEADLINE));
	run_for(200);
	ck_assert_int_eq(counters(a).doh_keys, 2);
	ck_assert_int_eq(counters(b).doh_keys, 2);
	ck_assert_int_eq(status_value(a, "doh_key_generation"),
					 status_value(b, "doh_key_generation"));
	/* the keys bound before are still good */
	ck_assert(all_bound());
	take_and_accept(a);
	take_and_accept(b);
	ck_assert(run_until(all_bound(), DEADLINE));
	run_for(200);
	assert_nothing_stranded();
	assert_clean_output();
}
END_TEST

/**
 * KEYID of the first key of the last announce A sent, held back
 */
static uint8_t announced_id[QKD_KEY_ID_LEN];

/**
 * Hold back A's announces, remember a KEYID of them
 */
static filter_t hold_announces(side_t *from, qkd_doh_msg_t *msg)
{
	if (from == a && msg->type == QKD_DOH_KEY_ANNOUNCE)
	{
		memcpy(announced_id, msg->announce.ids[0], QKD_KEY_ID_LEN);
		return FILTER_STASH;
	}
	return FILTER_PASS;
}

START_TEST(test_offer_of_announced_key)
{
	qkd_doh_msg_t offer = {
		.type = QKD_DOH_AUTH_KEY_OFFER,
		.offer = {
			.flags = QKD_DOH_OFFER_RANGE,
		},
	};
	u_int generation, no_key;
	chunk_t doh;

	bootstrap("", 40, DEADLINE);
	/* past the least time between two fetches of offered keys */
	run_for(1200);
	generation = status_value(b, "doh_key_generation");

	/* an attacker copies the KEYID of an announced key into an offer; _i 0:
	 * B got the announce first, 1: the offer arrives first */
	net.filter = hold_announces;
	refill(15);
	ck_assert(run_until(stashed(a, QKD_DOH_KEY_ANNOUNCE) == 1, DEADLINE));
	net.filter = NULL;
	memcpy(offer.offer.keyid, announced_id, QKD_KEY_ID_LEN);
	ck_assert(qkd_doh_encode(&offer, NULL, 59, &doh, NULL));
	if (_i == 0)
	{
		release(a, QKD_DOH_KEY_ANNOUNCE);
	}
	inject(a, doh);
	chunk_free(&doh);
	if (_i == 1)
	{
		step();
		release(a, QKD_DOH_KEY_ANNOUNCE);
	}
	no_key = counters(b).rx_no_key;
	run_for(2000);

	/* B keeps its DOH key, the announced key goes into both pools */
	ck_assert_int_eq(counters(b).doh_keys, 1);
	ck_assert_int_eq(status_value(b, "doh_key_generation"), generation);
	ck_assert(established(a) && established(b));
	ck_assert_int_eq(counters(b).rx_no_key, no_key);
	ck_assert(run_until(announced_all(55), DEADLINE));
	ck_assert_int_eq(status_of(b, announced_id), QKD_KEY_IDLE);
	take_and_accept(a);
	take_and_accept(b);
	ck_assert(run_until(all_bound(), DEADLINE));
	assert_clean_output();
}
END_TEST

START_TEST(test_recover_wrong_doh_key)
{
	qkd_doh_msg_t offer = {
		.type = QKD_DOH_AUTH_KEY_OFFER,
		.offer = {
			.flags = QKD_DOH_OFFER_RANGE,
		},
	};
	chunk_t doh;

	bootstrap("", 40, DEADLINE);
	run_for(1200);

	/* B restarts; before A's offer of a new DOH key reaches it, an attacker
	 * offers it a key A announced in an announce B did not see yet */
	net.filter = hold_announces;
	refill(15);
	ck_assert(run_until(stashed(a, QKD_DOH_KEY_ANNOUNCE) >= 1, DEADLINE));
	net.drop[0][QKD_DOH_AUTH_KEY_OFFER] = TRUE;
	stop_side(b);
	open_pool(b);
	create_peer(b);
	memcpy(offer.offer.keyid, announced_id, QKD_KEY_ID_LEN);
	ck_assert(qkd_doh_encode(&offer, NULL, 59, &doh, NULL));
	inject(a, doh);
	chunk_free(&doh);
	ck_assert(run_until(counters(b).doh_keys == 1, DEADLINE));
	ck_assert_int_eq(status_value(b, "doh_key_generation"), announced_id[0]);

	/* A's messages don't verify at B: B finds out and takes A's key */
	net.drop[0][QKD_DOH_AUTH_KEY_OFFER] = FALSE;
	net.filter = NULL;
	release(a, QKD_DOH_KEY_ANNOUNCE);
	ck_assert_msg(run_until(counters(b).keys_lost == 1 &&
							established(a) && established(b) &&
							all_bound(), 2 * DEADLINE),
				  "B did not recover: keys lost %u, A %s, B %s",
				  counters(b).keys_lost,
				  established(a) ? "established" : "not established",
				  established(b) ? "established" : "not established");
	ck_assert_int_eq(status_value(a, "doh_key_generation"),
					 status_value(b, "doh_key_generation"));
	take_and_accept(a);
	take_and_accept(b);
	assert_clean_output();
}
END_TEST

/*******************************************************************************
 * a hand-driven B: the test takes B's part with the DOH key A offers, so
 * it can send A authenticated messages with any content
 */

/**
 * Sign a message as B and hand it to A
 */
static void send_as_b(qkd_doh_msg_t *msg)
{
	qkd_doh_auth_t auth;
	size_t mac_offset;
	chunk_t doh;

	ck_assert(fake_b->prepare(fake_b, &auth));
	ck_assert(qkd_doh_encode(msg, &auth, 59, &doh, &mac_offset));
	ck_assert(fake_b->sign(fake_b, b->addr, a->addr, doh, mac_offset));
	inject(b, doh);
	chunk_free(&doh);
}

/**
 * Start A alone with keys, fetch the DOH key it offers with B's KME client
 * and complete the bootstrap as B would
 */
static void start_with_fake_b(u_int keys)
{
	uint8_t ids[1][QKD_KEY_ID_LEN], one_idle = 0x00;
	qkd_doh_msg_t offer, ack = {
		.type = QKD_DOH_ACK_AVAILABLE_RANGE,
		.range = {
			.first = TRUE,
			.start = 1,
			.count = 1,
			.pool_size = 1,
			.bitmap = chunk_from_thing(one_idle),
		},
	}, sync = ack;
	qkd_kme_client_t *client;
	qkd_doh_auth_t auth;
	qkd_key_t *key;
	array_t *got;
	chunk_t doh;
	bool has_auth;

	net.capture = TRUE;
	configure("");
	a->link = qkd_link_create_from_settings(a->name);
	b->link = qkd_link_create_from_settings(b->name);
	ck_assert(a->link && b->link);
	open_pool(a);
	create_peer(a);
	refill(keys);
	ck_assert(run_until(net.sent[0][QKD_DOH_AUTH_KEY_OFFER] > 0, DEADLINE));
	doh = captured(a, QKD_DOH_AUTH_KEY_OFFER, FALSE);
	ck_assert(qkd_doh_decode(doh, &offer, &auth, &has_auth, NULL, NULL));
	chunk_free(&doh);
	memcpy(ids[0], offer.offer.keyid, QKD_KEY_ID_LEN);
	client = b->link->get_client(b->link);
	ck_assert(client);
	ck_assert_int_eq(client->get_keys_by_id(client, ids, 1, KEY_SIZE,
											KEY_SIZE, &got), QKD_KME_OK);
	ck_assert(array_remove(got, ARRAY_HEAD, &key));
	qkd_key_array_destroy(got);
	fake_b = qkd_doh_guard_create(30);
	ck_assert(fake_b->set_key(fake_b, key->id[0], key->key));
	qkd_key_destroy(key);

	/* B's first sync (reset) and its answer to A's */
	sync.type = QKD_DOH_REQ_SYNC_RANGE;
	sync.range.reset = TRUE;
	send_as_b(&sync);
	send_as_b(&ack);
	ck_assert(run_until(established(a), DEADLINE));
}

/**
 * A REQ_NEGOTIATE from B for the key at an Index of A's pool
 */
static qkd_doh_msg_t negotiate_msg(u_int index, uint32_t timestamp)
{
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_REQ_NEGOTIATE,
		.negotiate = {
			.index = index,
			.auth_alg = 0x02,
			.enc_alg = 0x01,
			.timestamp = timestamp,
			.survival = 3600,
			.has_keyid = TRUE,
		},
	};

	ck_assert(a->pool->get_id(a->pool, index, msg.negotiate.keyid));
	return msg;
}

START_TEST(test_stale_negotiate_timestamp)
{
	qkd_doh_msg_t msg;
	u_int refusals, successes;

	start_with_fake_b(10);
	refusals = net.confirms[0][QKD_DOH_TIMESTAMP];
	successes = net.confirms[0][QKD_DOH_SUCCESS];

	/* fresh AUTH option, REQ_NEGOTIATE's own Timestamp an hour old (or
	 * ahead): refused with 0x04, nothing bound */
	msg = negotiate_msg(9, time(NULL) - 3600);
	send_as_b(&msg);
	msg = negotiate_msg(10, time(NULL) + 3600);
	send_as_b(&msg);
	ck_assert_int_eq(net.confirms[0][QKD_DOH_TIMESTAMP], refusals + 2);
	ck_assert_int_eq(net.confirms[0][QKD_DOH_SUCCESS], successes);
	ck_assert_int_eq(peer_bound(a), 0);
	ck_assert_int_eq(status_of(a, msg.negotiate.keyid), QKD_KEY_IDLE);
	msg = negotiate_msg(9, time(NULL) - 3600);
	ck_assert_int_eq(status_of(a, msg.negotiate.keyid), QKD_KEY_IDLE);

	/* the same with a current Timestamp binds */
	msg = negotiate_msg(9, time(NULL));
	send_as_b(&msg);
	ck_assert_int_eq(net.confirms[0][QKD_DOH_SUCCESS], successes + 1);
	ck_assert_int_eq(peer_bound(a), 1);
	ck_assert_int_eq(status_of(a, msg.negotiate.keyid), QKD_KEY_PENDING);
	assert_clean_output();
}
END_TEST

/*******************************************************************************
 * restarts
 */

START_TEST(test_reset)
{
	side_t *restarted = _i ? a : b, *survivor = other(restarted);
	uint8_t idle[64][QKD_KEY_ID_LEN], id[QKD_KEY_ID_LEN];
	u_int expected, nidle = 0, size, i, j, requests, offers, before;
	bool found;

	bootstrap("", 40, DEADLINE);
	take_and_accept(a);
	take_and_accept(b);
	ck_assert(run_until(all_bound(), DEADLINE));
	run_for(200);
	assert_nothing_stranded();
	expected = own_bound(survivor) + peer_bound(survivor);
	ck_assert_int_eq(expected, 2 * BOUND);

	/* restart one end: what it had in flight is lost */
	stop_side(restarted);
	net.queue->destroy_function(net.queue, (void*)packet_destroy);
	net.queue = linked_list_create();
	open_pool(restarted);
	/* what was Pending expired: keys bound and taken before */
	ck_assert_int_eq(restarted->pool->get_count(restarted->pool,
												QKD_KEY_PENDING), 0);
	ck_assert_int_eq(restarted->pool->get_count(restarted->pool,
												QKD_KEY_EXPIRED),
					 ntaken + 2 * BOUND);
	size = pool_size(a);
	ck_assert_int_eq(size, pool_size(b));
	for (i = 1; i <= size; i++)
	{
		if (!a->pool->get_id(a->pool, i, id))
		{
			continue;
		}
		if (status_of(a, id) == QKD_KEY_IDLE &&
			status_of(b, id) == QKD_KEY_IDLE)
		{
			memcpy(idle[nidle++], id, QKD_KEY_ID_LEN);
		}
	}
	ck_assert_int_eq(nidle, 40 - ntaken - 2 * BOUND);
	requests = net.requests[1];
	offers = net.sent[0][QKD_DOH_AUTH_KEY_OFFER];
	before = ntaken;
	create_peer(restarted);

	ck_assert_msg(run_until(established(a) && established(b) &&
							counters(survivor).reset_expired == expected &&
							all_bound(), DEADLINE),
				  "not after the restart: %s established %d, %s established "
				  "%d, reset_expired %u", a->name, established(a), b->name,
				  established(b), counters(survivor).reset_expired);
	if (restarted == b)
	{	/* B asked for a new DOH key */
		ck_assert(net.requests[1] > requests);
	}
	ck_assert(net.sent[0][QKD_DOH_AUTH_KEY_OFFER] > offers);
	ck_assert_int_eq(counters(survivor).doh_keys, 2);
	ck_assert_int_eq(counters(restarted).doh_keys, 1);
	ck_assert_int_eq(status_value(a, "doh_key_generation"),
					 status_value(b, "doh_key_generation"));
	/* the survivor expired what it had negotiated with the restarted end */
	ck_assert_int_eq(survivor->pool->get_count(survivor->pool,
											   QKD_KEY_EXPIRED), expected);
	run_for(200);
	ck_assert_int_eq(counters(survivor).reset_expired, expected);
	/* the survivor told its listeners the peer restarted */
	ck_assert(events.count[QKD_EVENT_DOH_PEER_RESET] >= 1);
	ck_assert_int_eq(own_bound(a), peer_bound(b));
	ck_assert_int_eq(own_bound(b), peer_bound(a));

	/* from now on only keys Idle on both ends at the restart are used */
	for (i = 0; i < 4; i++)
	{
		take_and_accept(i % 2 ? a : b);
		ck_assert(run_until(all_bound(), DEADLINE));
	}
	for (i = before; i < ntaken; i++)
	{
		found = FALSE;
		for (j = 0; j < nidle; j++)
		{
			found = found || memeq(idle[j], taken[i].id, QKD_KEY_ID_LEN);
		}
		ck_assert_msg(found, "a key not Idle on both ends was negotiated");
	}
	ck_assert(pools_equal());
	assert_clean_output();
}
END_TEST

/*******************************************************************************
 * the reset flag of an end that (re)started
 */

/**
 * Phase of test_reset_race: 0 B's answers and reset syncs held back, 1 A's
 * requests held back too, 2 A's answers to B's syncs held back and the
 * first request for another key lost
 */
static u_int race_phase;

/**
 * KEYID of A's first request, whether one for another key was lost
 */
static uint8_t race_keyid[QKD_KEY_ID_LEN];
static bool race_lost;

/**
 * Holds back B's syncs with the reset flag, B's answers to A's syncs (in
 * phase 0) and A's REQ_NEGOTIATEs (up to phase 1); then (phase 2) holds
 * back A's answers to B's syncs and drops A's first REQ_NEGOTIATE for
 * another key than the first
 */
static filter_t hold_reset(side_t *from, qkd_doh_msg_t *msg)
{
	if (race_phase == 2)
	{
		if (from == a && msg->type == QKD_DOH_REQ_NEGOTIATE && !race_lost &&
			!memeq(msg->negotiate.keyid, race_keyid, QKD_KEY_ID_LEN))
		{
			race_lost = TRUE;
			return FILTER_DROP;
		}
		return from == a && msg->type == QKD_DOH_ACK_AVAILABLE_RANGE ?
					FILTER_STASH : FILTER_PASS;
	}
	if (from == b && msg->type == QKD_DOH_REQ_SYNC_RANGE && msg->range.reset)
	{
		return FILTER_STASH;
	}
	if (from == b && msg->type == QKD_DOH_ACK_AVAILABLE_RANGE &&
		race_phase == 0)
	{
		return FILTER_STASH;
	}
	if (from == a && msg->type == QKD_DOH_REQ_NEGOTIATE)
	{
		return FILTER_STASH;
	}
	return FILTER_PASS;
}

START_TEST(test_reset_race)
{
	race_phase = 0;
	race_lost = FALSE;
	net.filter = hold_reset;
	start("");
	refill(40);
	/* B's reset flag and its answer to A's sync are on their way */
	ck_assert(run_until(announced_all(40) &&
						stashed(b, QKD_DOH_REQ_SYNC_RANGE) &&
						stashed(b, QKD_DOH_ACK_AVAILABLE_RANGE), DEADLINE));
	/* the answer arrives: A negotiates a key */
	race_phase = 1;
	release(b, QKD_DOH_ACK_AVAILABLE_RANGE);
	ck_assert_int_eq(stashed(a, QKD_DOH_REQ_NEGOTIATE), 1);
	memcpy(race_keyid, net.negotiated[0], QKD_KEY_ID_LEN);
	/* right after A sent its request, B's reset flag arrives, then A's
	 * request at B; B does not negotiate keys of its own for a moment (it
	 * does not know A got its reset flag), A's request for the next key
	 * gets lost once */
	race_phase = 2;
	release(b, -1);
	release(a, QKD_DOH_REQ_NEGOTIATE);
	run_for(100);
	net.filter = NULL;
	release(a, -1);

	ck_assert(run_until(all_bound(), DEADLINE));
	run_for(200);
	/* A bound the keys B bound for it, no others, and none got lost */
	assert_nothing_stranded();
	take_and_accept(a);
	take_and_accept(a);
	take_and_accept(b);
	assert_clean_output();
}
END_TEST

START_TEST(test_reset_unacked)
{
	start("");
	refill(40);
	/* A's answers to B's syncs get lost for a while: B keeps sending its
	 * reset flag while A negotiates keys with it */
	net.drop[0][QKD_DOH_ACK_AVAILABLE_RANGE] = TRUE;
	ck_assert(run_until(established(a) && established(b) &&
						announced_all(40) &&
						net.sent[0][QKD_DOH_REQ_NEGOTIATE] > 0, DEADLINE));
	run_for(1000);
	net.drop[0][QKD_DOH_ACK_AVAILABLE_RANGE] = FALSE;

	ck_assert(run_until(all_bound(), DEADLINE));
	run_for(200);
	/* nothing B bound for A was expired by B's reset flag at A */
	assert_nothing_stranded();
	take_and_accept(a);
	take_and_accept(b);
	assert_clean_output();
}
END_TEST

/*******************************************************************************
 * answers to forged requests
 */

START_TEST(test_forged_refusal)
{
	qkd_doh_msg_t req = {
		.type = QKD_DOH_REQ_NEGOTIATE,
		.negotiate = {
			.index = 1,
			.auth_alg = 0x02,
			.enc_alg = 0x01,
		},
	};
	qkd_doh_auth_t auth = {
		.seq = 42,
	};
	chunk_t doh;
	u_int sent;

	bootstrap("", 40, DEADLINE);
	run_for(200);

	/* B takes a key and negotiates the next one, its request held back */
	net.hold = TRUE;
	sent = net.sent[1][QKD_DOH_REQ_NEGOTIATE];
	take_and_accept(b);
	ck_assert(run_until(net.sent[1][QKD_DOH_REQ_NEGOTIATE] > sent, 2000));

	/* someone without the DOH key sends A a REQ_NEGOTIATE from B's address,
	 * with the current second as Timestamp (as B's request has it) and the
	 * DOH key generation (in clear in every message) */
	req.negotiate.timestamp = net.negotiated_ts[1];
	auth.key_ref = status_value(a, "doh_key_generation");
	auth.timestamp = time(NULL);
	ck_assert(qkd_doh_encode(&req, &auth, 59, &doh, NULL));
	assert_refused(b, doh, COUNTER(rx_bad_mac), "forged REQ_NEGOTIATE");
	/* A answers it with status 0x03, which arrives before B's request */
	ck_assert_int_eq(net.confirms[0][QKD_DOH_HMAC_FAILED], 1);
	deliver_from(a, -1);
	deliver_from(b, -1);
	net.hold = FALSE;

	ck_assert(run_until(all_bound(), DEADLINE));
	run_for(200);
	/* the forgery did not make B give up the key A bound for it */
	assert_nothing_stranded();
	take_and_accept(b);
	take_and_accept(a);
	assert_clean_output();
}
END_TEST

/*******************************************************************************
 * announces that get lost
 */

/**
 * Whether B holds every key Idle at A
 */
static bool idle_keys_shared()
{
	uint8_t id[QKD_KEY_ID_LEN];
	u_int size, i;

	size = pool_size(a);
	for (i = 1; i <= size; i++)
	{
		if (!a->pool->get_id(a->pool, i, id))
		{
			continue;
		}
		if (status_of(a, id) == QKD_KEY_IDLE &&
			!b->pool->get_index(b->pool, id))
		{
			return FALSE;
		}
	}
	return TRUE;
}

START_TEST(test_announce_lost)
{
	/* the announces of 20 keys get lost until A stopped sending them */
	net.drop[0][QKD_DOH_KEY_ANNOUNCE] = TRUE;
	start("");
	refill(20);
	ck_assert(run_until(established(a) && established(b), DEADLINE));
	ck_assert(run_until(net.sent[0][QKD_DOH_KEY_ANNOUNCE] >= 10, DEADLINE));
	run_for(1000);
	net.drop[0][QKD_DOH_KEY_ANNOUNCE] = FALSE;

	/* B gets them after all, or A does not keep keys Idle that B lacks (they
	 * would never be Idle on both ends, and shift the Indexes) */
	ck_assert_msg(run_until(idle_keys_shared(), DEADLINE),
				  "A keeps %u Idle keys that B does not have",
				  a->pool->get_count(a->pool, QKD_KEY_IDLE) -
				  b->pool->get_count(b->pool, QKD_KEY_IDLE));
	/* keys added later are negotiated as usual */
	refill(10);
	ck_assert(run_until(all_bound(), DEADLINE));
	take_and_accept(a);
	take_and_accept(b);
	assert_clean_output();
}
END_TEST

START_TEST(test_announcer_restart)
{
	u_int before;

	bootstrap("", 20, DEADLINE);
	/* B's KME refuses dec_keys: the next keys A announces stay unfetched */
	kme_test_fault("{\"kme\":\"kme-b\",\"fault\":\"503\",\"count\":1000,"
				   "\"call\":\"dec_keys\"}");
	before = net.sent[0][QKD_DOH_KEY_ANNOUNCE];
	refill(15);
	ck_assert(run_until(net.sent[0][QKD_DOH_KEY_ANNOUNCE] > before + 1,
						DEADLINE));
	/* A is killed while its announce is unanswered, and restarted: what it
	 * had announced is in its pool, the announce is gone */
	stop_side(a);
	net.queue->destroy_function(net.queue, (void*)packet_destroy);
	net.queue = linked_list_create();
	open_pool(a);
	create_peer(a);
	run_for(1000);
	ck_assert(!idle_keys_shared());
	kme_test_clear_faults();

	/* no key stays Idle at A only: announced again, fetched by B */
	ck_assert_msg(run_until(established(a) && established(b) &&
							idle_keys_shared() && all_bound(), 3 * DEADLINE),
				  "A keeps %u Idle keys, B %u", a->pool->get_count(a->pool,
				  QKD_KEY_IDLE), b->pool->get_count(b->pool, QKD_KEY_IDLE));
	ck_assert(status_value(a, "doh_reannounced") >= 15);
	take_and_accept(a);
	take_and_accept(b);
	assert_clean_output();
}
END_TEST

/**
 * Index of a key Idle on both ends, 0 if none
 */
static u_int shared_idle_index()
{
	uint8_t id[QKD_KEY_ID_LEN];
	u_int size, i;

	size = pool_size(a);
	for (i = size; i >= 1; i--)
	{
		if (a->pool->get_id(a->pool, i, id) &&
			status_of(a, id) == QKD_KEY_IDLE && b->pool->get_index(b->pool, id)
			&& status_of(b, id) == QKD_KEY_IDLE)
		{
			return i;
		}
	}
	return 0;
}

START_TEST(test_idle_one_end_only)
{
	/* a key one end used without the other ever hearing of it: A expired a
	 * Pending key whose negotiation never left it when it was killed (0),
	 * A (1) or B (2) bound a key as acceptor and the requester gave up */
	side_t *user = _i == 2 ? b : a, *holder = other(user);
	qkd_key_status_t status = _i ? QKD_KEY_PENDING : QKD_KEY_EXPIRED;
	uint8_t id[QKD_KEY_ID_LEN];
	u_int index;

	bootstrap("", 20, DEADLINE);
	index = shared_idle_index();
	ck_assert(index);
	ck_assert(user->pool->get_id(user->pool, index, id));
	if (status == QKD_KEY_EXPIRED)
	{
		ck_assert(user->pool->set_status(user->pool, id, QKD_KEY_PENDING));
	}
	ck_assert(user->pool->set_status(user->pool, id, status));
	run_for(1000);

	/* the other end does not keep it Idle for ever: it can never be
	 * negotiated */
	ck_assert_msg(run_until(status_of(holder, id) == QKD_KEY_EXPIRED &&
							!status_value(holder, "doh_idle_here_only") &&
							!status_value(user, "doh_idle_peer_only"),
							DEADLINE),
				  "%s keeps a key Idle that %s used: idle_here_only %u",
				  holder->name, user->name,
				  status_value(holder, "doh_idle_here_only"));
	ck_assert_int_eq(status_value(holder, "doh_idle_expired_peer_used"), 1);
	/* nothing else is expired, keys are negotiated as usual */
	ck_assert_int_eq(holder->pool->get_count(holder->pool, QKD_KEY_EXPIRED),
					 1);
	take_and_accept(a);
	take_and_accept(b);
	ck_assert(run_until(all_bound(), DEADLINE));
	assert_clean_output();
}
END_TEST

/*******************************************************************************
 * Indexes that name the same key on both ends for as long as both hold it
 */

START_TEST(test_take_bound_starved)
{
	qkd_key_t *key = NULL;
	uint64_t end;
	u_int i;

	/* under load every processor thread may wait in take_bound() while
	 * the tick job that would bind the confirmed key waits for a thread */
	bootstrap("", 40, DEADLINE);
	for (i = 0; i < BOUND; i++)
	{
		take_and_accept(a);
	}
	ck_assert_int_eq(own_bound(a), 0);
	/* every take so far found a key bound ahead */
	ck_assert_int_eq(counters(a).reserve_empty, 0);
	net.starved[dir_of(a)] = TRUE;
	/* once B confirmed the key A asked for, the waiting thread binds it,
	 * no tick job needed */
	end = now_ms() + DEADLINE;
	while (!(key = a->peer->take_bound(a->peer, 0)) && now_ms() < end)
	{
		step();
	}
	ck_assert(key);
	ck_assert_int_eq(status_of(a, key->id), QKD_KEY_PENDING);
	ck_assert_int_eq(status_of(b, key->id), QKD_KEY_PENDING);
	/* this one did not: counted for the operator */
	ck_assert(counters(a).reserve_empty >= 1);
	ck_assert_int_eq(counters(b).reserve_empty, 0);
	qkd_key_destroy(key);
	net.starved[dir_of(a)] = FALSE;
}
END_TEST

/**
 * Start both ends with IKE-less children of their own (sections of the
 * links' children), announce keys, wait until DOH is established
 */
/**
 * Configure both links with children of their own
 */
static void configure_children(char *children_a, char *children_b)
{
	char conf[1024];

	configure("");
	snprintf(conf, sizeof(conf), "%s { plugins { qkd { links {\n"
			 "  doh-a { children { %s } }\n  doh-b { children { %s } }\n"
			 "} } } }\n", lib->ns, children_a, children_b);
	ck_assert(lib->settings->load_string(lib->settings, conf, TRUE));
}

static void start_children(char *children_a, char *children_b)
{
	int i;

	configure_children(children_a, children_b);
	for (i = 0; i < countof(sides); i++)
	{
		sides[i].link = qkd_link_create_from_settings(sides[i].name);
		ck_assert(sides[i].link);
		open_pool(&sides[i]);
		create_peer(&sides[i]);
	}
	refill(20);
	ck_assert(run_until(established(a) && established(b) &&
						announced_all(20) && all_bound(), DEADLINE));
}

/**
 * A child of a link
 */
#define CHILD_NET "net { local_ts = fec1::/16\n remote_ts = fec2::/16\n " \
				  "lifetime = 20s\n rekey_margin = 5s\n %s }"

/**
 * Assert that B refused A's requests for child keys with a status, that
 * nothing was bound for them and that keys for IKE are still negotiated
 */
static void assert_child_refused(uint8_t status)
{
	char buf[2048];
	u_int bound;

	ck_assert_msg(run_until(net.confirms[1][status] >= 2, DEADLINE),
				  "B sent %u refusals 0x%02x", net.confirms[1][status],
				  status);
	/* nothing bound for the child: both pools hold the same Pending keys
	 * (those for IKE), none expired */
	assert_nothing_stranded();
	ck_assert(a->peer->format_status(a->peer, buf, sizeof(buf)));
	ck_assert(strstr(buf, "ikeless_net: negotiating pairs 0\n") ||
			  strstr(buf, "ikeless_net: none pairs 0\n"));
	ck_assert_int_eq(a->kernel->count_sas(a->kernel, NULL), 0);
	ck_assert_int_eq(b->kernel->count_sas(b->kernel, NULL), 0);
	/* keys for IKE key exchanges still flow */
	bound = counters(a).bound_own;
	take_and_accept(a);
	ck_assert(run_until(counters(a).bound_own > bound, DEADLINE));
}

START_TEST(test_child_unknown)
{
	char child[256];

	snprintf(child, sizeof(child), CHILD_NET, "");
	start_children(child, "");
	assert_child_refused(QKD_DOH_UNKNOWN_CHILD);
}
END_TEST

START_TEST(test_child_other_alg)
{
	char child_a[256], child_b[256];

	snprintf(child_a, sizeof(child_a), CHILD_NET, "");
	snprintf(child_b, sizeof(child_b), CHILD_NET,
			 "esp_proposal = aes256-sha256");
	start_children(child_a, child_b);
	assert_child_refused(QKD_DOH_UNSUPPORTED_ALG);
}
END_TEST

START_TEST(test_child_longer_lifetime)
{
	char child_a[256], child_b[256];

	snprintf(child_a, sizeof(child_a), CHILD_NET, "");
	snprintf(child_b, sizeof(child_b), CHILD_NET, "lifetime = 10s");
	start_children(child_a, child_b);
	assert_child_refused(QKD_DOH_UNKNOWN_CHILD);
}
END_TEST

/**
 * A child that rekeys every 3 s (key survival time 6 s)
 */
#define CHILD_FAST "net { local_ts = fec1::/16\n remote_ts = fec2::/16\n " \
				   "lifetime = 6s\n rekey_margin = 3s\n }"

/**
 * Whether packets pass both ways between the ends' SAs of a child
 */
static bool passes(char *child)
{
	return a->kernel->send(a->kernel, child, b->kernel) &&
		   b->kernel->send(b->kernel, child, a->kernel);
}

/**
 * Whether packets pass both ways between the ends' SAs of the child
 */
static bool child_passes()
{
	return passes("net");
}

/**
 * Run both ends' children for a while, passing a packet each way at every
 * step once both have their first SA pair: none may be lost across the
 * rekeys, no end holds more than the current and the previous pair, no SA
 * outlives its key survival time, no SPI or key is used twice
 */
static void assert_lossless_rekeys(u_int ms, u_int min_pairs)
{
	u_int sent = 0, lost = 0, installed, reused;
	bool started = FALSE;
	uint64_t end;
	int i;

	ck_assert(run_until(child_passes(), DEADLINE));
	end = now_ms() + ms;
	while (now_ms() < end)
	{
		step();
		sent += 2;
		lost += !a->kernel->send(a->kernel, "net", b->kernel);
		lost += !b->kernel->send(b->kernel, "net", a->kernel);
		ck_assert(a->kernel->count_sas(a->kernel, "net") <= 4);
		ck_assert(b->kernel->count_sas(b->kernel, "net") <= 4);
		started = TRUE;
	}
	ck_assert(started);
	ck_assert_msg(lost == 0, "%u of %u packets lost", lost, sent);
	for (i = 0; i < countof(sides); i++)
	{
		installed = sides[i].kernel->count_installed(sides[i].kernel,
													 &reused);
		ck_assert_msg(installed >= 2 * min_pairs, "%s installed %u SAs",
					  sides[i].name, installed);
		ck_assert_int_eq(reused, 0);
		ck_assert_int_eq(sides[i].kernel->count_overdue(sides[i].kernel), 0);
	}
	/* each pair installed was announced, each one removed too */
	ck_assert(events.count[QKD_EVENT_IKELESS_INSTALLED] >= 2);
	ck_assert(events.count[QKD_EVENT_IKELESS_REKEYED] + 2 >= 2 * min_pairs);
	ck_assert(events.count[QKD_EVENT_IKELESS_REMOVED] + 4 >= 2 * min_pairs);
	/* stopping removes every SA and policy, releases the reqids */
	for (i = 0; i < countof(sides); i++)
	{
		stop_side(&sides[i]);
		ck_assert_int_eq(sides[i].kernel->count_sas(sides[i].kernel, NULL),
						 0);
		ck_assert_int_eq(sides[i].kernel->count_policies(sides[i].kernel),
						 0);
		ck_assert_int_eq(sides[i].kernel->count_reqids(sides[i].kernel), 0);
	}
}

START_TEST(test_child_rekeys)
{
	start_children(CHILD_FAST, CHILD_FAST);
	assert_lossless_rekeys(12000, 4);
}
END_TEST

START_TEST(test_child_rekeys_loss)
{
	net.loss = 20;
	start_children(CHILD_FAST, CHILD_FAST);
	assert_lossless_rekeys(12000, 4);
	ck_assert(net.dropped > 0);
}
END_TEST

START_TEST(test_child_spi_collision)
{
	start_children(CHILD_FAST, CHILD_FAST);
	ck_assert(run_until(child_passes(), DEADLINE));
	/* B installed its first pair (two SAs): the inbound SA of the first
	 * rekey fails, as if its SPI were taken; B refuses, A asks again */
	b->kernel->fail_add(b->kernel, 1);
	assert_lossless_rekeys(12000, 3);
	ck_assert_int_eq(net.confirms[1][QKD_DOH_INVALID_KEYID], 1);
}
END_TEST

START_TEST(test_child_spi_collision_requester)
{
	start_children(CHILD_FAST, CHILD_FAST);
	ck_assert(run_until(child_passes(), DEADLINE));
	/* B confirmed and installed the first rekey's pair, A fails to: A
	 * asks again at once, B drops the pair it never sent with */
	a->kernel->fail_add(a->kernel, 1);
	assert_lossless_rekeys(12000, 3);
}
END_TEST

/**
 * Reload both ends with other children, as charon's reload does
 */
static void reload_children(char *children_a, char *children_b)
{
	qkd_link_t *link;
	int i;

	/* settings replaced, not merged: removed children are gone */
	ck_assert(lib->settings->load_string(lib->settings, "", FALSE));
	configure_children(children_a, children_b);
	for (i = 0; i < countof(sides); i++)
	{
		link = qkd_link_create_from_settings(sides[i].name);
		ck_assert(link);
		sides[i].peer->set_link(sides[i].peer, link);
		sides[i].link->destroy(sides[i].link);
		sides[i].link = link;
	}
}

/**
 * A second child, rekeying every 3 s, with a lifetime option to vary
 */
#define CHILD_TWO "two { local_ts = fec1:2::/32\n remote_ts = fec2:2::/32\n " \
				  "lifetime = %us\n rekey_margin = 3s\n }"

START_TEST(test_child_reload)
{
	char children[512], two[256];
	u_int installed, reused;

	start_children(CHILD_FAST, CHILD_FAST);
	ck_assert(run_until(passes("net"), DEADLINE));

	/* a child added: the other keeps its SAs */
	snprintf(two, sizeof(two), CHILD_TWO, 6);
	snprintf(children, sizeof(children), "%s %s", CHILD_FAST, two);
	installed = a->kernel->count_installed(a->kernel, &reused);
	reload_children(children, children);
	ck_assert(passes("net"));
	ck_assert_int_eq(a->kernel->count_installed(a->kernel, &reused),
					 installed);
	ck_assert(run_until(passes("two"), DEADLINE));

	/* one removed, the other changed: removed at once, the changed one
	 * keyed afresh */
	snprintf(two, sizeof(two), CHILD_TWO, 8);
	reload_children(two, two);
	ck_assert_int_eq(a->kernel->count_sas(a->kernel, "net"), 0);
	ck_assert_int_eq(b->kernel->count_sas(b->kernel, "net"), 0);
	ck_assert_int_eq(a->kernel->count_sas(a->kernel, "two"), 0);
	ck_assert(run_until(passes("two"), DEADLINE));
	ck_assert_int_eq(a->kernel->count_policies(a->kernel), 1);

	/* none left */
	reload_children("", "");
	ck_assert_int_eq(a->kernel->count_sas(a->kernel, NULL), 0);
	ck_assert_int_eq(b->kernel->count_sas(b->kernel, NULL), 0);
	ck_assert_int_eq(a->kernel->count_policies(a->kernel), 0);
	ck_assert_int_eq(b->kernel->count_reqids(b->kernel), 0);
	ck_assert_int_eq(a->kernel->count_overdue(a->kernel), 0);
	ck_assert_int_eq(a->kernel->count_installed(a->kernel, &reused) > 0,
					 TRUE);
	ck_assert_int_eq(reused, 0);
}
END_TEST

START_TEST(test_child_reload_added)
{
	/* no children at the start, one after a reload */
	start_children("", "");
	reload_children(CHILD_FAST, CHILD_FAST);
	ck_assert(run_until(passes("net"), DEADLINE));
}
END_TEST

START_TEST(test_child_rekeys_reorder)
{
	net.duplicate = TRUE;
	net.jitter = 50;
	start_children(CHILD_FAST, CHILD_FAST);
	assert_lossless_rekeys(12000, 4);
}
END_TEST

/**
 * Copy the captured REQ_NEGOTIATEs and CONFIRM_NEGOTIATEs of a sender
 * (chunk_t*), before any is replayed: the receiver's answers to replays
 * (e.g. a refusal for a bad MAC) are new messages, not replays
 */
static linked_list_t *captured_negotiations(side_t *from)
{
	enumerator_t *enumerator;
	linked_list_t *copies;
	packet_t *packet;
	chunk_t *doh;

	copies = linked_list_create();
	enumerator = net.captured->create_enumerator(net.captured);
	while (enumerator->enumerate(enumerator, &packet))
	{
		if (packet->from == from &&
			(packet->type == QKD_DOH_REQ_NEGOTIATE ||
			 packet->type == QKD_DOH_CONFIRM_NEGOTIATE))
		{
			INIT(doh);
			*doh = chunk_clone(packet->doh);
			copies->insert_last(copies, doh);
		}
	}
	enumerator->destroy(enumerator);
	return copies;
}

/**
 * Replay copied messages of a sender, as sent and with a bit of the message
 * changed; return how many
 */
static u_int replay_negotiations(side_t *from, linked_list_t *copies)
{
	chunk_t *doh;
	u_int count = 0;

	while (copies->remove_first(copies, (void**)&doh) == SUCCESS)
	{
		inject(from, *doh);
		/* the last byte of the message, e.g. the child's name */
		doh->ptr[doh->len - 1] ^= 0x01;
		inject(from, *doh);
		chunk_free(doh);
		free(doh);
		count++;
	}
	copies->destroy(copies);
	return count;
}

/**
 * Messages refused as replayed, stale or with a bad MAC
 */
static u_int refused(qkd_doh_counters_t c)
{
	return c.rx_replay + c.rx_stale + c.rx_bad_mac + c.rx_malformed;
}

START_TEST(test_child_replayed)
{
	qkd_doh_counters_t ca, cb;
	u_int installed_a, installed_b, reused, replayed;
	linked_list_t *copies_a, *copies_b;
	int i;

	/* spoofed, replayed or changed DOH messages never install, replace or
	 * delete an SA */
	net.capture = TRUE;
	start_children(CHILD_FAST, CHILD_FAST);
	ck_assert(run_until(child_passes(), DEADLINE));
	/* a few rekeys to capture */
	run_for(7000);
	ck_assert(child_passes());
	ca = counters(a);
	cb = counters(b);
	installed_a = a->kernel->count_installed(a->kernel, &reused);
	installed_b = b->kernel->count_installed(b->kernel, &reused);
	ck_assert(installed_a >= 4);
	copies_a = captured_negotiations(a);
	copies_b = captured_negotiations(b);
	replayed = replay_negotiations(a, copies_a) +
			   replay_negotiations(b, copies_b);
	ck_assert(replayed >= 4);
	ck_assert_int_eq(counters(a).rx_valid, ca.rx_valid);
	ck_assert_int_eq(counters(b).rx_valid, cb.rx_valid);
	ck_assert_int_eq(counters(a).rx + counters(b).rx,
					 ca.rx + cb.rx + 2 * replayed);
	ck_assert_int_eq(refused(counters(a)) + refused(counters(b)),
					 refused(ca) + refused(cb) + 2 * replayed);
	ck_assert_int_eq(a->kernel->count_installed(a->kernel, &reused),
					 installed_a);
	ck_assert_int_eq(b->kernel->count_installed(b->kernel, &reused),
					 installed_b);
	ck_assert(child_passes());
	/* and the rekeys go on as before */
	for (i = 0; i < countof(sides); i++)
	{
		ck_assert(sides[i].kernel->count_sas(sides[i].kernel, "net") <= 4);
	}
	assert_lossless_rekeys(6000, 1);
}
END_TEST

START_TEST(test_index_stable)
{
	uint8_t ida[QKD_KEY_ID_LEN], idb[QKD_KEY_ID_LEN];
	u_int i, j, size;

	/* A stores keys in batches of 20 (one per KME answer), B in batches
	 * of up to 15 (one per announce); used keys expire and batches whose
	 * keys all expired are dropped, at different times on each end */
	start("");
	refill(20);
	refill(20);
	refill(20);
	ck_assert(run_until(established(a) && established(b) &&
						announced_all(60) && all_bound(), DEADLINE));
	for (i = 0; i < 120; i++)
	{
		if (a->pool->get_count(a->pool, QKD_KEY_IDLE) < 16)
		{	/* the refill job's low watermark */
			refill(20);
		}
		take_and_accept(i % 2 ? a : b);
		/* the key exchange is done with the key: expired on both ends */
		ck_assert(a->pool->set_status(a->pool, taken[ntaken - 1].id,
									  QKD_KEY_EXPIRED));
		ck_assert(b->pool->set_status(b->pool, taken[ntaken - 1].id,
									  QKD_KEY_EXPIRED));
		ck_assert_msg(run_until(all_bound(), DEADLINE),
					  "no key negotiated after %u keys used: A %u/B %u Idle, "
					  "bound A %u B %u", i + 1,
					  a->pool->get_count(a->pool, QKD_KEY_IDLE),
					  b->pool->get_count(b->pool, QKD_KEY_IDLE),
					  own_bound(a), own_bound(b));
		/* every Index held on both ends names the same key */
		size = max(pool_size(a), pool_size(b));
		for (j = 1; j <= size; j++)
		{
			if (a->pool->get_id(a->pool, j, ida) &&
				b->pool->get_id(b->pool, j, idb))
			{
				ck_assert_msg(memeq(ida, idb, QKD_KEY_ID_LEN),
							  "Index %u names different keys", j);
			}
		}
	}
	assert_clean_output();
}
END_TEST

Suite *doh_peer_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd DOH peer");

	tc = tcase_create("bootstrap");
	tcase_add_checked_fixture(tc, setup_net, teardown_net);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_bootstrap);
	suite_add_tcase(s, tc);

	tc = tcase_create("binding");
	tcase_add_checked_fixture(tc, setup_net, teardown_net);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_binding);
	tcase_add_test(tc, test_retransmit);
	tcase_add_test(tc, test_take_bound_starved);
	suite_add_tcase(s, tc);

	tc = tcase_create("unreliable network");
	tcase_add_checked_fixture(tc, setup_net, teardown_net);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_loss);
	tcase_add_test(tc, test_duplicate_reorder);
	tcase_add_test(tc, test_announce_lost);
	tcase_add_test(tc, test_index_stable);
	tcase_add_test(tc, test_announcer_restart);
	tcase_add_loop_test(tc, test_idle_one_end_only, 0, 3);
	suite_add_tcase(s, tc);

	tc = tcase_create("IKE-less children refused");
	tcase_add_checked_fixture(tc, setup_net, teardown_net);
	tcase_add_test(tc, test_child_unknown);
	tcase_add_test(tc, test_child_other_alg);
	tcase_add_test(tc, test_child_longer_lifetime);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("IKE-less rekeys");
	tcase_add_checked_fixture(tc, setup_net, teardown_net);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_child_rekeys);
	tcase_add_test(tc, test_child_rekeys_loss);
	tcase_add_test(tc, test_child_rekeys_reorder);
	tcase_add_test(tc, test_child_spi_collision);
	tcase_add_test(tc, test_child_spi_collision_requester);
	tcase_add_test(tc, test_child_reload);
	tcase_add_test(tc, test_child_reload_added);
	tcase_add_test(tc, test_child_replayed);
	suite_add_tcase(s, tc);

	tc = tcase_create("batches");
	tcase_add_checked_fixture(tc, setup_net, teardown_net);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_batch_binding);
	tcase_add_test(tc, test_batch_refill_once);
	tcase_add_test(tc, test_batch_beyond_max);
	tcase_add_test(tc, test_batch_unanswered);
	tcase_add_test(tc, test_batch_collision);
	suite_add_tcase(s, tc);

	tc = tcase_create("collisions");
	tcase_add_checked_fixture(tc, setup_net, teardown_net);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_collision);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad messages");
	tcase_add_checked_fixture(tc, setup_net, teardown_net);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_bad_messages);
	tcase_add_test(tc, test_stale);
	tcase_add_test(tc, test_forged_offers);
	tcase_add_loop_test(tc, test_offer_of_announced_key, 0, 2);
	tcase_add_test(tc, test_forged_refusal);
	tcase_add_test(tc, test_stale_negotiate_timestamp);
	tcase_add_test(tc, test_recover_wrong_doh_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("restarts");
	tcase_add_checked_fixture(tc, setup_net, teardown_net);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_reset, 0, 2);
	tcase_add_test(tc, test_reset_race);
	tcase_add_test(tc, test_reset_unacked);
	suite_add_tcase(s, tc);

	return s;
}
