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
 * The ETSI GS QKD 014 client against the real KME simulator over HTTPS with
 * mutual TLS (started by with-kme-sim).
 */

#include <test_suite.h>

#include "qkd_kme_client.h"
#include "../kme_test_utils.h"

/**
 * moon's client at kme-a, with sun as peer
 */
static qkd_kme_client_t *moon;

/**
 * sun's client at kme-b, with moon as peer
 */
static qkd_kme_client_t *sun;

START_SETUP(setup_clients)
{
	moon = kme_test_client("A", "moon", "sun");
	sun = kme_test_client("B", "sun", "moon");
}
END_SETUP

START_TEARDOWN(teardown_clients)
{
	kme_test_clear_faults();
	moon->destroy(moon);
	sun->destroy(sun);
}
END_TEARDOWN

/**
 * Get one key from the keys array
 */
static qkd_key_t *key_at(array_t *keys, int i)
{
	qkd_key_t *key;

	ck_assert(array_get(keys, i, &key));
	return key;
}

START_TEST(test_status)
{
	qkd_kme_status_t status;

	ck_assert_int_eq(moon->get_status(moon, &status), QKD_KME_OK);
	ck_assert_int_eq(status.key_size, 256);
	ck_assert(status.max_key_per_request > 0);
	ck_assert(status.min_key_size <= 256 && status.max_key_size >= 256);
}
END_TEST

START_TEST(test_master_slave)
{
	uint8_t ids[3][QKD_KEY_ID_LEN];
	array_t *keys, *peer_keys;
	int i;

	ck_assert_int_eq(moon->get_keys(moon, 3, 256, &keys), QKD_KME_OK);
	ck_assert_int_eq(array_count(keys), 3);
	for (i = 0; i < 3; i++)
	{
		ck_assert_int_eq(key_at(keys, i)->key.len, 32);
		memcpy(ids[i], key_at(keys, i)->id, QKD_KEY_ID_LEN);
	}
	ck_assert(!memeq(ids[0], ids[1], QKD_KEY_ID_LEN));
	ck_assert(!chunk_equals(key_at(keys, 0)->key, key_at(keys, 1)->key));

	/* sun gets the same keys by ID, in the requested order */
	memcpy(ids[0], key_at(keys, 2)->id, QKD_KEY_ID_LEN);
	memcpy(ids[2], key_at(keys, 0)->id, QKD_KEY_ID_LEN);
	ck_assert_int_eq(sun->get_keys_by_id(sun, ids, 3, 256, 256, &peer_keys),
					 QKD_KME_OK);
	ck_assert(chunk_equals(key_at(peer_keys, 0)->key, key_at(keys, 2)->key));
	ck_assert(chunk_equals(key_at(peer_keys, 1)->key, key_at(keys, 1)->key));
	ck_assert(chunk_equals(key_at(peer_keys, 2)->key, key_at(keys, 0)->key));
	qkd_key_array_destroy(peer_keys);

	/* each key is delivered once to the slave */
	ck_assert_int_eq(sun->get_keys_by_id(sun, ids, 1, 256, 256, &peer_keys),
					 QKD_KME_BAD_REQUEST);
	ck_assert(peer_keys == NULL);
	qkd_key_array_destroy(keys);
}
END_TEST

START_TEST(test_sizes)
{
	array_t *keys;

	ck_assert_int_eq(moon->get_keys(moon, 1, 512, &keys), QKD_KME_OK);
	ck_assert_int_eq(key_at(keys, 0)->key.len, 64);
	qkd_key_array_destroy(keys);

	ck_assert_int_eq(moon->get_keys(moon, 1, 136, &keys), QKD_KME_OK);
	ck_assert_int_eq(key_at(keys, 0)->key.len, 17);
	qkd_key_array_destroy(keys);
}
END_TEST

START_TEST(test_invalid_requests)
{
	uint8_t unknown[1][QKD_KEY_ID_LEN] = {{ 0x42 }};
	array_t *keys = (void*)1;

	/* refused locally */
	ck_assert_int_eq(moon->get_keys(moon, 1, 100, &keys), QKD_KME_BAD_REQUEST);
	ck_assert(keys == NULL);
	ck_assert_int_eq(moon->get_keys(moon, 0, 256, &keys), QKD_KME_BAD_REQUEST);
	/* refused by the KME */
	ck_assert_int_eq(moon->get_keys(moon, 100000, 256, &keys),
					 QKD_KME_BAD_REQUEST);
	ck_assert(keys == NULL);
	ck_assert_int_eq(moon->get_keys(moon, 1, 8 * 4096, &keys),
					 QKD_KME_BAD_REQUEST);
	ck_assert_int_eq(sun->get_keys_by_id(sun, unknown, 1, 256, 256, &keys),
					 QKD_KME_BAD_REQUEST);
	ck_assert(keys == NULL);
}
END_TEST

START_TEST(test_wrong_peer)
{
	qkd_kme_client_t *eve;
	array_t *keys, *stolen;
	uint8_t ids[1][QKD_KEY_ID_LEN];

	/* an SAE the KME does not know */
	eve = kme_test_client("A", "eve", "sun");
	ck_assert_int_eq(eve->get_keys(eve, 1, 256, &keys), QKD_KME_UNAUTHORIZED);
	eve->destroy(eve);

	/* moon can't fetch the keys meant for sun */
	ck_assert_int_eq(moon->get_keys(moon, 1, 256, &keys), QKD_KME_OK);
	memcpy(ids[0], key_at(keys, 0)->id, QKD_KEY_ID_LEN);
	eve = kme_test_client("A", "moon", "sun");
	ck_assert(eve->get_keys_by_id(eve, ids, 1, 256, 256, &stolen) !=
			  QKD_KME_OK);
	ck_assert(stolen == NULL);
	eve->destroy(eve);
	qkd_key_array_destroy(keys);
}
END_TEST

START_TEST(test_slave_size_mismatch)
{
	uint8_t ids[1][QKD_KEY_ID_LEN];
	array_t *keys, *peer_keys;

	ck_assert_int_eq(moon->get_keys(moon, 1, 256, &keys), QKD_KME_OK);
	memcpy(ids[0], key_at(keys, 0)->id, QKD_KEY_ID_LEN);
	ck_assert_int_eq(sun->get_keys_by_id(sun, ids, 1, 512, 512, &peer_keys),
					 QKD_KME_INVALID_RESPONSE);
	ck_assert(peer_keys == NULL);
	qkd_key_array_destroy(keys);
}
END_TEST

/**
 * Fetch a key of a size as moon, by ID as sun accepting a range of sizes
 */
static qkd_kme_result_t fetch_sized(u_int size, u_int min, u_int max)
{
	uint8_t ids[1][QKD_KEY_ID_LEN];
	array_t *keys, *peer_keys;
	qkd_kme_result_t result;

	ck_assert_int_eq(moon->get_keys(moon, 1, size, &keys), QKD_KME_OK);
	memcpy(ids[0], key_at(keys, 0)->id, QKD_KEY_ID_LEN);
	result = sun->get_keys_by_id(sun, ids, 1, min, max, &peer_keys);
	if (result == QKD_KME_OK)
	{
		ck_assert(chunk_equals(key_at(keys, 0)->key,
							   key_at(peer_keys, 0)->key));
		qkd_key_array_destroy(peer_keys);
	}
	else
	{
		ck_assert(peer_keys == NULL);
	}
	qkd_key_array_destroy(keys);
	return result;
}

START_TEST(test_slave_size_range)
{
	/* the master chose the size: any size in the slave's range */
	ck_assert_int_eq(fetch_sized(256, 128, 8192), QKD_KME_OK);
	ck_assert_int_eq(fetch_sized(128, 128, 8192), QKD_KME_OK);
	ck_assert_int_eq(fetch_sized(1024, 128, 8192), QKD_KME_OK);
	ck_assert_int_eq(fetch_sized(64, 64, 64), QKD_KME_OK);
	/* below or above it: refused */
	ck_assert_int_eq(fetch_sized(64, 128, 8192), QKD_KME_INVALID_RESPONSE);
	ck_assert_int_eq(fetch_sized(1024, 128, 512), QKD_KME_INVALID_RESPONSE);
	/* no valid range: not even asked */
	ck_assert_int_eq(fetch_sized(256, 512, 256), QKD_KME_BAD_REQUEST);
}
END_TEST

/**
 * Faults of the simulator and the result they must produce
 */
static struct {
	char *fault;
	qkd_kme_result_t result;
} faults[] = {
	{ "{\"kme\":\"kme-a\",\"fault\":\"503\",\"count\":1}", QKD_KME_UNAVAILABLE },
	{ "{\"kme\":\"kme-a\",\"fault\":\"drop\",\"count\":1}", QKD_KME_TRANSPORT_ERROR },
	{ "{\"kme\":\"kme-a\",\"fault\":\"malformed_json\",\"count\":1}", QKD_KME_INVALID_RESPONSE },
	{ "{\"kme\":\"kme-a\",\"fault\":\"wrong_key_size\",\"count\":1}", QKD_KME_INVALID_RESPONSE },
	{ "{\"kme\":\"kme-a\",\"fault\":\"duplicate_key_ids\",\"count\":1}", QKD_KME_INVALID_RESPONSE },
	/* lying KMEs: keys of the right length that are no base64 (strongSwan's
	 * decoder would make 0xff bytes of them), key_IDs with a NUL and more
	 * after a valid UUID, an ETSI error object with HTTP 200 */
	{ "{\"kme\":\"kme-a\",\"fault\":\"invalid_base64\",\"count\":1}", QKD_KME_INVALID_RESPONSE },
	{ "{\"kme\":\"kme-a\",\"fault\":\"nul_key_id\",\"count\":1}", QKD_KME_INVALID_RESPONSE },
	{ "{\"kme\":\"kme-a\",\"fault\":\"error_200\",\"count\":1}", QKD_KME_INVALID_RESPONSE },
	{ "{\"kme\":\"kme-a\",\"fault\":\"latency\",\"ms\":3000,\"count\":1}", QKD_KME_TRANSPORT_ERROR },
};

START_TEST(test_faults)
{
	array_t *keys = (void*)1;

	kme_test_fault(faults[_i].fault);
	ck_assert_int_eq(moon->get_keys(moon, 2, 256, &keys), faults[_i].result);
	ck_assert(keys == NULL);
	/* the fault is gone, the next call works on the same client */
	ck_assert_int_eq(moon->get_keys(moon, 2, 256, &keys), QKD_KME_OK);
	ck_assert_int_eq(array_count(keys), 2);
	qkd_key_array_destroy(keys);
}
END_TEST

START_TEST(test_slave_faults)
{
	uint8_t ids[2][QKD_KEY_ID_LEN];
	array_t *keys, *peer_keys = (void*)1;

	ck_assert_int_eq(moon->get_keys(moon, 2, 256, &keys), QKD_KME_OK);
	memcpy(ids[0], key_at(keys, 0)->id, QKD_KEY_ID_LEN);
	memcpy(ids[1], key_at(keys, 1)->id, QKD_KEY_ID_LEN);
	kme_test_fault("{\"kme\":\"kme-b\",\"fault\":\"503\",\"count\":1,"
				   "\"call\":\"dec_keys\"}");
	ck_assert_int_eq(sun->get_keys_by_id(sun, ids, 2, 256, 256, &peer_keys),
					 QKD_KME_UNAVAILABLE);
	ck_assert(peer_keys == NULL);
	/* a 503 does not consume the keys */
	ck_assert_int_eq(sun->get_keys_by_id(sun, ids, 2, 256, 256, &peer_keys),
					 QKD_KME_OK);
	ck_assert(chunk_equals(key_at(peer_keys, 1)->key, key_at(keys, 1)->key));
	qkd_key_array_destroy(peer_keys);
	qkd_key_array_destroy(keys);
}
END_TEST

START_TEST(test_unreachable)
{
	qkd_kme_client_cfg_t cfg = {
		.url = "https://127.0.0.1:1",
		.peer_sae_id = "sun",
		.cert = "/nonexistent",
		.key = "/nonexistent",
		.cacert = "/nonexistent",
		.timeout = 1000,
		.connect_timeout = 500,
	};
	qkd_kme_client_t *client;
	qkd_kme_status_t status;

	client = qkd_kme_client_create(&cfg);
	ck_assert_int_eq(client->get_status(client, &status),
					 QKD_KME_TRANSPORT_ERROR);
	client->destroy(client);
}
END_TEST

START_TEST(test_untrusted_kme)
{
	char cacert[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
	char *pki = kme_test_env("QKD_TEST_PKI");
	qkd_kme_client_cfg_t cfg = {
		.url = kme_test_env("QKD_TEST_KME_A"),
		.peer_sae_id = "sun",
		.cert = cert,
		.key = key,
		.cacert = cacert,
		.timeout = 1000,
		.connect_timeout = 500,
	};
	qkd_kme_client_t *client;
	array_t *keys;

	/* the KME's certificate is not issued by this "CA" */
	snprintf(cacert, sizeof(cacert), "%s/moon.crt", pki);
	snprintf(cert, sizeof(cert), "%s/moon.crt", pki);
	snprintf(key, sizeof(key), "%s/moon.key", pki);
	client = qkd_kme_client_create(&cfg);
	ck_assert_int_eq(client->get_keys(client, 1, 256, &keys),
					 QKD_KME_TRANSPORT_ERROR);
	client->destroy(client);
}
END_TEST

Suite *kme_client_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd kme client");

	tc = tcase_create("calls");
	tcase_add_checked_fixture(tc, setup_clients, teardown_clients);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_master_slave);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_invalid_requests);
	tcase_add_test(tc, test_wrong_peer);
	tcase_add_test(tc, test_slave_size_mismatch);
	tcase_add_test(tc, test_slave_size_range);
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup_clients, teardown_clients);
	tcase_add_loop_test(tc, test_faults, 0, countof(faults));
	tcase_add_test(tc, test_slave_faults);
	suite_add_tcase(s, tc);

	tc = tcase_create("transport");
	tcase_add_test(tc, test_unreachable);
	tcase_add_test(tc, test_untrusted_kme);
	suite_add_tcase(s, tc);

	return s;
}
