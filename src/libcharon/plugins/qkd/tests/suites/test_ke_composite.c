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
 * Whole IKEv2 exchanges with the composite methods (x25519, x448 and
 * ML-KEM with a QKD key in one KE payload), the QKD keys coming from the
 * real KME simulator, x25519/x448 from the openssl plugin and ML-KEM from
 * the ml plugin.
 */

#include <test_suite.h>

#include <daemon.h>
#include <tests/utils/exchange_test_helper.h>
#include <tests/utils/exchange_test_asserts.h>
#include <tests/utils/sa_asserts.h>

#include "qkd_ke.h"
#include "qkd_composite_ke.h"
#include "../kme_test_utils.h"
#include "../log_counter.h"
#include "ke_test_helpers.h"

/**
 * Default transform IDs of the composite methods
 */
#define X25519QKD 65500
#define X448QKD 65501
#define MLKEM512QKD 65502
#define MLKEM768QKD 65503
#define MLKEM1024QKD 65504

/**
 * Composite methods, the length of the component's KE data from the master
 * and from the slave
 */
static struct {
	char *ike;
	key_exchange_method_t method;
	size_t master, slave;
} confs[] = {
	{ "aes128-sha256-x25519qkd", X25519QKD, 32, 32 },
	{ "aes128-sha256-x448qkd", X448QKD, 56, 56 },
	{ "aes128-sha256-mlkem512qkd", MLKEM512QKD, 800, 768 },
	{ "aes128-sha256-mlkem768qkd", MLKEM768QKD, 1184, 1088 },
	{ "aes128-sha256-mlkem1024qkd", MLKEM1024QKD, 1568, 1568 },
};

START_TEST(test_ike_sa_init)
{
	exchange_test_sa_conf_t conf = {
		.initiator = { .ike = confs[_i].ike, },
		.responder = { .ike = confs[_i].ike, },
	};
	uint8_t id[QKD_KEY_ID_LEN];
	message_t *message;
	ike_sa_t *a, *b;
	chunk_t data;

	initiate_sa(&conf, &a, &b);
	/* IKE_SA_INIT --> the component's public value, then the key ID moon
	 * got from its KME */
	message = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender);
	data = ke_data_of(message, confs[_i].method);
	ck_assert_int_eq(data.len, confs[_i].master + QKD_KEY_ID_LEN);
	kme_test_last_key_id(MOON_ENC, id);
	ck_assert_chunk_eq(chunk_skip(data, confs[_i].master),
					   chunk_from_thing(id));
	chunk_free(&data);
	exchange_test_helper->process_message(exchange_test_helper, b, message);
	/* <-- IKE_SA_INIT: the component's answer and the key confirmation */
	message = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender);
	data = ke_data_of(message, confs[_i].method);
	ck_assert_int_eq(data.len, confs[_i].slave + QKD_KE_CONFIRMATION_LEN);
	chunk_free(&data);
	learn_responder_spi(a, b);
	exchange_test_helper->process_message(exchange_test_helper, a, message);
	/* IKE_AUTH --> <--: no IKE_INTERMEDIATE round trip, and IKE_AUTH only
	 * succeeds if both derived the same keys */
	exchange_test_helper->process_message(exchange_test_helper, b, NULL);
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	ck_assert(!exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender));
	assert_ike_methods(a, confs[_i].method, KE_NONE);
	assert_ike_methods(b, confs[_i].method, KE_NONE);
	assert_kme_calls(1, 0, 0, 1);
	assert_established_destroy(a, b);
}
END_TEST

START_TEST(test_child_rekey)
{
	exchange_test_sa_conf_t conf = {
		.initiator = { .esp = "aes128-sha256-x25519qkd", },
		.responder = { .esp = "aes128-sha256-x25519qkd", },
	};

	/* CREATE_CHILD_SA and INFORMATIONAL (delete): no IKE_FOLLOWUP_KE */
	rekey_child_test(&conf, _i, 4);
}
END_TEST

START_TEST(test_ike_rekey)
{
	exchange_test_sa_conf_t conf = {
		.initiator = { .ike = "aes128-sha256-mlkem768qkd", },
		.responder = { .ike = "aes128-sha256-mlkem768qkd", },
	};

	/* one CREATE_CHILD_SA exchange */
	rekey_ike_test(&conf, 2, MLKEM768QKD, KE_NONE);
}
END_TEST

START_TEST(test_confirmation_failed)
{
	exchange_test_sa_conf_t conf = {
		.initiator = { .ike = "aes128-sha256-x25519qkd", },
		.responder = { .ike = "aes128-sha256-x25519qkd", },
	};
	log_counter_t *logs;
	ike_sa_t *a, *b;

	/* sun's KME hands out other material for the key ID moon sent */
	kme_test_fault("{\"kme\":\"kme-b\",\"fault\":\"wrong_key\","
				   "\"count\":1,\"call\":\"dec_keys\"}");
	logs = log_counter_create("key confirmation failed for key");
	initiate_sa(&conf, &a, &b);
	exchange_test_helper->process_message(exchange_test_helper, b, NULL);
	learn_responder_spi(a, b);
	deliver_all(a, b);
	ck_assert(a->get_state(a) != IKE_ESTABLISHED);
	ck_assert(b->get_state(b) != IKE_ESTABLISHED);
	ck_assert_int_eq(log_counter_destroy(logs), 1);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

/**
 * Malformed KE data of a master: too short for a key ID, a component
 * value of the wrong length, a key ID without component value
 */
static struct {
	size_t component;
	size_t qkd;
} malformed[] = {
	{ 0, 8 },
	{ 31, QKD_KEY_ID_LEN },
	{ 33, QKD_KEY_ID_LEN },
	{ 0, QKD_KEY_ID_LEN },
};

START_TEST(test_malformed)
{
	exchange_test_sa_conf_t conf = {
		.initiator = { .ike = "aes128-sha256-x25519qkd", },
		.responder = { .ike = "aes128-sha256-x25519qkd", },
	};
	key_exchange_t *ke;
	ike_sa_t *a, *b;
	chunk_t data;

	initiate_sa(&conf, &a, &b);
	/* a new key exchange of the initiator gets the bad data as slave:
	 * refused before any KME request */
	charon->bus->set_sa(charon->bus, a);
	ke = qkd_composite_ke_create(X25519QKD);
	ck_assert(ke);
	data = chunk_alloc(malformed[_i].component + malformed[_i].qkd);
	memset(data.ptr, 0x42, data.len);
	ck_assert(!ke->set_public_key(ke, data));
	ke->destroy(ke);
	chunk_free(&data);
	charon->bus->set_sa(charon->bus, NULL);
	/* moon took the key of its IKE_SA_INIT, sun asked for nothing */
	assert_kme_calls(1, 0, 0, 0);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

/**
 * Whether composite method i is enabled, with its transform ID
 */
static bool enabled(int i, key_exchange_method_t *id)
{
	key_exchange_method_t component;
	char *keyword;

	return qkd_composite_ke_get(i, &keyword, id, &component);
}

/**
 * Transform ID settings of x25519qkd (index 0) and whether it is enabled
 */
static struct {
	char *setting;
	key_exchange_method_t id;
	/* whether mlkem768qkd (index 3) keeps its default */
	bool others;
} id_confs[] = {
	{ "x25519qkd = 65500", 65500, TRUE },
	{ "x25519qkd = 2000", 2000, TRUE },
	{ "x25519qkd = 0", 0, TRUE },
	/* outside the private use range */
	{ "x25519qkd = 1023", 0, TRUE },
	{ "x25519qkd = 65536", 0, TRUE },
	/* taken: qkd, qkd_qursa */
	{ "x25519qkd = 65516", 0, TRUE },
	{ "x25519qkd = 65535", 0, TRUE },
	/* the same ID twice: both disabled */
	{ "x25519qkd = 65503", 0, FALSE },
};

START_TEST(test_transform_ids)
{
	key_exchange_method_t id;
	char conf[256];

	snprintf(conf, sizeof(conf), "%s { plugins { qkd { composite { %s } } } }",
			 lib->ns, id_confs[_i].setting);
	ck_assert(lib->settings->load_string(lib->settings, conf, TRUE));
	qkd_composite_ke_configure(QKD_KE_METHOD);
	if (id_confs[_i].id)
	{
		ck_assert(enabled(0, &id));
		ck_assert_int_eq(id, id_confs[_i].id);
	}
	else
	{
		ck_assert(!enabled(0, &id));
	}
	ck_assert(!enabled(QKD_COMPOSITE_METHODS, &id));
	if (id_confs[_i].others)
	{	/* the others keep their defaults and names */
		ck_assert(enabled(3, &id));
		ck_assert_int_eq(id, 65503);
		ck_assert_str_eq(enum_to_name(key_exchange_method_names, 65503),
						 "ML_KEM_768_QKD");
		ck_assert_str_eq(enum_to_name(key_exchange_method_names_short,
									  65503), "mlkem768qkd");
	}
	else
	{
		ck_assert(!enabled(3, &id));
	}
	/* back to the defaults the other tests use */
	snprintf(conf, sizeof(conf), "%s { plugins { qkd { composite { "
			 "x25519qkd = 65500 } } } }", lib->ns);
	ck_assert(lib->settings->load_string(lib->settings, conf, TRUE));
	qkd_composite_ke_configure(QKD_KE_METHOD);
	ck_assert(enabled(0, &id));
}
END_TEST

Suite *ke_composite_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd composite key exchange");

	tc = tcase_create("IKE_SA_INIT");
	tcase_add_checked_fixture(tc, setup_links, teardown_links);
	tcase_add_loop_test(tc, test_ike_sa_init, 0, countof(confs));
	suite_add_tcase(s, tc);

	tc = tcase_create("rekeying");
	tcase_add_checked_fixture(tc, setup_links, teardown_links);
	tcase_add_loop_test(tc, test_child_rekey, 0, 2);
	tcase_add_test(tc, test_ike_rekey);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_add_checked_fixture(tc, setup_links, teardown_links);
	tcase_add_test(tc, test_confirmation_failed);
	tcase_add_loop_test(tc, test_malformed, 0, countof(malformed));
	suite_add_tcase(s, tc);

	tc = tcase_create("transform IDs");
	tcase_add_loop_test(tc, test_transform_ids, 0, countof(id_confs));
	suite_add_tcase(s, tc);

	return s;
}
