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
 * Whole IKEv2 exchanges in-process (strongSwan's exchange_test_helper) with
 * the qkd key exchange, its keys coming from the real KME simulator.
 *
 * Both IKE SAs live in this process: the initiator ("init") uses link
 * "to-resp" (SAE moon at kme-a, selected by connection name), the responder
 * uses link "to-init" (SAE sun at kme-b, selected by address in
 * IKE_SA_INIT and by its connection name "resp" afterwards).
 */

#include <test_suite.h>

#include <daemon.h>
#include <tests/utils/exchange_test_helper.h>
#include <tests/utils/exchange_test_asserts.h>
#include <tests/utils/sa_asserts.h>
#include <encoding/payloads/ke_payload.h>

#include "qkd_ke.h"
#include "../kme_test_utils.h"
#include "../log_counter.h"
#include "ke_test_helpers.h"

/**
 * IKE proposals: qkd alone, and qkd as additional key exchange
 */
static struct {
	char *ike;
	key_exchange_method_t ke;
	key_exchange_method_t ake1;
} ike_confs[] = {
	{ "aes128-sha256-qkd", QKD_KE_METHOD, KE_NONE },
	{ "aes128-sha256-modp3072-ke1_qkd", MODP_3072_BIT, QKD_KE_METHOD },
	/* the transform ID the released QURSA plugin sends */
	{ "aes128-sha256-qkd_qursa", QKD_KE_METHOD_QURSA, KE_NONE },
	{ "aes128-sha256-modp3072-ke1_qkd_qursa", MODP_3072_BIT,
	  QKD_KE_METHOD_QURSA },
};

START_TEST(test_establish)
{
	exchange_test_sa_conf_t conf = {
		.initiator = { .ike = ike_confs[_i].ike, },
		.responder = { .ike = ike_confs[_i].ike, },
	};
	ike_sa_t *a, *b;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, &conf);
	/* IKE_AUTH only succeeds if both derived the same keys */
	assert_ike_sa_state(a, IKE_ESTABLISHED);
	assert_ike_sa_state(b, IKE_ESTABLISHED);
	assert_ike_methods(a, ike_confs[_i].ke, ike_confs[_i].ake1);
	assert_ike_methods(b, ike_confs[_i].ke, ike_confs[_i].ake1);
	/* the initiator sent the first KE payload: moon master, sun slave */
	assert_kme_calls(1, 0, 0, 1);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_child_rekey)
{
	exchange_test_sa_conf_t conf = {
		.initiator = { .esp = "aes128-sha256-modp3072-ke1_qkd", },
		.responder = { .esp = "aes128-sha256-modp3072-ke1_qkd", },
	};

	/* CREATE_CHILD_SA, IKE_FOLLOWUP_KE, INFORMATIONAL (delete) */
	rekey_child_test(&conf, _i, 6);
}
END_TEST

START_TEST(test_child_rekey_no_key)
{
	exchange_test_sa_conf_t conf = {
		.initiator = { .esp = "aes128-sha256-modp3072-ke1_qkd", },
		.responder = { .esp = "aes128-sha256-modp3072-ke1_qkd", },
	};
	ike_sa_t *a, *b;
	uint32_t old, new;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, &conf);
	old = installed_spi(a);

	/* moon has no key for the IKE_FOLLOWUP_KE of the rekeying: it sends the
	 * nil key ID and sun refuses; no IKE_SA is torn down */
	kme_test_fault("{\"kme\":\"kme-a\",\"fault\":\"503\",\"count\":1,"
				   "\"call\":\"enc_keys\"}");
	call_ikesa(a, rekey_child_sa, PROTO_ESP, old);
	/* CREATE_CHILD_SA --> <-- */
	run_exchanges(a, b, 2);
	/* IKE_FOLLOWUP_KE --> */
	exchange_test_helper->process_message(exchange_test_helper, b, NULL);
	/* <-- N(NO_PROP) */
	assert_notify(IN, NO_PROPOSAL_CHOSEN);
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	assert_ike_sa_state(a, IKE_ESTABLISHED);
	assert_ike_sa_state(b, IKE_ESTABLISHED);
	assert_kme_calls(0, 0, 0, 0);

	/* as after any failed additional key exchange, charon closes the CHILD_SA
	 * and creates it anew right away, which gets a key now:
	 * INFORMATIONAL (delete), CREATE_CHILD_SA, IKE_FOLLOWUP_KE */
	run_exchanges(a, b, 6);
	assert_ike_sa_state(a, IKE_ESTABLISHED);
	assert_ike_sa_state(b, IKE_ESTABLISHED);
	new = installed_spi(a);
	ck_assert(new != old);
	installed_spi(b);
	assert_kme_calls(1, 0, 0, 1);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_ike_rekey)
{
	exchange_test_sa_conf_t conf = {
		.initiator = { .ike = "aes128-sha256-modp3072-ke1_qkd", },
		.responder = { .ike = "aes128-sha256-modp3072-ke1_qkd", },
	};

	/* CREATE_CHILD_SA, IKE_FOLLOWUP_KE */
	rekey_ike_test(&conf, 4, MODP_3072_BIT, QKD_KE_METHOD);
}
END_TEST

/**
 * Pure qkd IKE proposal
 */
static exchange_test_sa_conf_t qkd_only_conf = {
	.initiator = { .ike = "aes128-sha256-qkd", },
	.responder = { .ike = "aes128-sha256-qkd", },
};

/**
 * Initiate an IKE_SA the responder refuses in IKE_SA_INIT with
 * NO_PROPOSAL_CHOSEN; both IKE_SAs are gone afterwards.
 */
static void initiate_refused()
{
	ike_sa_t *a, *b;
	status_t status;

	initiate_sa(&qkd_only_conf, &a, &b);
	/* IKE_SA_INIT --> */
	assert_single_notify(OUT, NO_PROPOSAL_CHOSEN);
	status = exchange_test_helper->process_message(exchange_test_helper, b,
												   NULL);
	ck_assert_int_eq(status, DESTROY_ME);
	/* <-- N(NO_PROP) */
	status = exchange_test_helper->process_message(exchange_test_helper, a,
												   NULL);
	ck_assert_int_eq(status, DESTROY_ME);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}

START_TEST(test_kme_unavailable)
{
	/* sun can't get the key and refuses, moon discards its key */
	kme_test_fault("{\"kme\":\"kme-b\",\"fault\":\"503\",\"count\":1,"
				   "\"call\":\"dec_keys\"}");
	initiate_refused();
	assert_kme_calls(1, 0, 0, 0);
}
END_TEST

START_TEST(test_rate_limit)
{
	ike_sa_t *a, *b;

	/* the responder allows one fetch per second for unauthenticated peers */
	load_links(1);
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b,
									   &qkd_only_conf);
	assert_ike_sa_state(b, IKE_ESTABLISHED);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);

	initiate_refused();
	/* moon got two keys, sun fetched only one */
	assert_kme_calls(2, 0, 0, 1);
}
END_TEST

/**
 * Key sizes of master and slave: the master chooses, the slave accepts any
 * size in its range
 */
static struct {
	char *to_resp;
	char *to_init;
	bool established;
} size_confs[] = {
	/* moon asks for 512 bits, sun's own key_size stays 256 */
	{ "key_size = 512", "", TRUE },
	{ "key_size = 128", "key_size = 1024", TRUE },
	/* QURSA's 32-bit keys (KME simulator: 64 bits at least) */
	{ "key_size = 64", "", FALSE },
	{ "key_size = 64", "min_peer_key_size = 64", TRUE },
	{ "key_size = 1024", "max_peer_key_size = 512", FALSE },
};

START_TEST(test_key_sizes)
{
	ike_sa_t *a, *b;

	configure_links_with(10, size_confs[_i].to_resp, size_confs[_i].to_init);
	ck_assert_int_eq(ke_test_links->load(ke_test_links), 2);
	if (size_confs[_i].established)
	{
		exchange_test_helper->establish_sa(exchange_test_helper, &a, &b,
										   &qkd_only_conf);
		assert_ike_sa_state(a, IKE_ESTABLISHED);
		assert_ike_sa_state(b, IKE_ESTABLISHED);
		call_ikesa(a, destroy);
		call_ikesa(b, destroy);
	}
	else
	{	/* sun refuses the key the KME handed out, moon discards its own */
		initiate_refused();
	}
	assert_kme_calls(1, 0, 0, 1);
}
END_TEST

/**
 * Build the response of a responder under DoS protection to an IKE_SA_INIT
 * request: a COOKIE notify only, the request's KE data left alone
 */
static message_t *cookie_response(message_t *request)
{
	message_t *response;
	packet_t *packet;
	ike_sa_id_t *id;

	response = message_create(IKEV2_MAJOR_VERSION, IKEV2_MINOR_VERSION);
	id = request->get_ike_sa_id(request);
	id = id->clone(id);
	id->switch_initiator(id);
	response->set_ike_sa_id(response, id);
	id->destroy(id);
	response->set_exchange_type(response, IKE_SA_INIT);
	response->set_request(response, FALSE);
	response->set_message_id(response, 0);
	response->set_source(response,
						 request->get_destination(request)->clone(
										request->get_destination(request)));
	response->set_destination(response,
						 request->get_source(request)->clone(
										request->get_source(request)));
	response->add_notify(response, FALSE, COOKIE,
						 chunk_from_str("qkd-test-cookie"));
	ck_assert(response->generate(response, NULL, &packet) == SUCCESS);
	response->destroy(response);
	response = message_create_from_packet(packet);
	ck_assert(response->parse_header(response) == SUCCESS);
	return response;
}

START_TEST(test_retry_cookie)
{
	ike_sa_t *a, *b;
	message_t *request;
	chunk_t first, second;

	initiate_sa(&qkd_only_conf, &a, &b);
	request = exchange_test_helper->sender->dequeue(exchange_test_helper->sender);
	first = ke_data_of(request, QKD_KE_METHOD);
	assert_kme_calls(1, 0, 0, 0);
	/* <-- N(COOKIE), sun fetched nothing */
	exchange_test_helper->process_message(exchange_test_helper, a,
										  cookie_response(request));
	request->destroy(request);
	/* IKE_SA_INIT again, with the cookie: the same key ID, no new key */
	request = exchange_test_helper->sender->dequeue(exchange_test_helper->sender);
	second = ke_data_of(request, QKD_KE_METHOD);
	ck_assert_chunk_eq(first, second);
	assert_kme_calls(1, 0, 0, 0);
	exchange_test_helper->process_message(exchange_test_helper, b, request);
	/* <-- IKE_SA_INIT, IKE_AUTH */
	learn_responder_spi(a, b);
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	exchange_test_helper->process_message(exchange_test_helper, b, NULL);
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	assert_ike_sa_state(a, IKE_ESTABLISHED);
	assert_ike_sa_state(b, IKE_ESTABLISHED);
	assert_kme_calls(1, 0, 0, 1);
	chunk_free(&first);
	chunk_free(&second);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

/**
 * Proposals where the responder asks the initiator for another method with
 * INVALID_KE_PAYLOAD, and the KME calls it takes (moon enc/dec, sun enc/dec)
 */
static struct {
	char *init;
	char *resp;
	key_exchange_method_t first;
	key_exchange_method_t used;
	int calls[4];
} invalid_ke_confs[] = {
	/* qkd sent first, modp wanted: moon's key is discarded unused, sun
	 * fetches nothing, no second key */
	{ "aes128-sha256-qkd-modp3072", "aes128-sha256-modp3072",
	  QKD_KE_METHOD, MODP_3072_BIT, { 1, 0, 0, 0 } },
	/* modp sent first, qkd wanted: one key, fetched once by each end */
	{ "aes128-sha256-modp3072-qkd", "aes128-sha256-qkd",
	  MODP_3072_BIT, QKD_KE_METHOD, { 1, 0, 0, 1 } },
};

START_TEST(test_retry_invalid_ke)
{
	exchange_test_sa_conf_t conf = {
		.initiator = { .ike = invalid_ke_confs[_i].init, },
		.responder = { .ike = invalid_ke_confs[_i].resp, },
	};
	ike_sa_t *a, *b;
	message_t *request;
	chunk_t data;
	int *calls = invalid_ke_confs[_i].calls;

	initiate_sa(&conf, &a, &b);
	request = exchange_test_helper->sender->dequeue(exchange_test_helper->sender);
	data = ke_data_of(request, invalid_ke_confs[_i].first);
	chunk_free(&data);
	/* IKE_SA_INIT --> <-- N(INVALID_KE_PAYLOAD) */
	assert_single_notify(OUT, INVALID_KE_PAYLOAD);
	exchange_test_helper->process_message(exchange_test_helper, b, request);
	/* the responder keeps no state: a new IKE_SA answers the retry */
	call_ikesa(b, destroy);
	b = charon->ike_sa_manager->create_new(charon->ike_sa_manager, IKEV2,
										   FALSE);
	b->get_id(b)->set_initiator_spi(b->get_id(b),
							a->get_id(a)->get_initiator_spi(a->get_id(a)));
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	request = exchange_test_helper->sender->dequeue(exchange_test_helper->sender);
	data = ke_data_of(request, invalid_ke_confs[_i].used);
	chunk_free(&data);
	exchange_test_helper->process_message(exchange_test_helper, b, request);
	learn_responder_spi(a, b);
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	exchange_test_helper->process_message(exchange_test_helper, b, NULL);
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	assert_ike_sa_state(a, IKE_ESTABLISHED);
	assert_ike_sa_state(b, IKE_ESTABLISHED);
	assert_ike_methods(a, invalid_ke_confs[_i].used, KE_NONE);
	assert_kme_calls(calls[0], calls[1], calls[2], calls[3]);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

/**
 * remote_addrs of the responder's link for road warriors, whose address it
 * does not know
 */
static char *road_warrior_addrs[] = {
	"%any",
	"%any4",
	"127.0.0.0/8",
	"127.0.0.1-127.0.0.9",
	"10.1.0.0/16, 127.0.0.1",
};

START_TEST(test_road_warrior)
{
	char to_init[128];
	ike_sa_t *a, *b;

	snprintf(to_init, sizeof(to_init), "remote_addrs = %s",
			 road_warrior_addrs[_i]);
	configure_links_with(10, "", to_init);
	ck_assert_int_eq(ke_test_links->load(ke_test_links), 2);
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b,
									   &qkd_only_conf);
	assert_ike_sa_state(a, IKE_ESTABLISHED);
	assert_ike_sa_state(b, IKE_ESTABLISHED);
	assert_kme_calls(1, 0, 0, 1);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

START_TEST(test_link_mismatch)
{
	char *pki = kme_test_env("QKD_TEST_PKI");
	char conf[1024];
	ike_sa_t *a, *b;

	/* the responder's link for the connection does not list the peer's
	 * address, another link of the same KME does: IKE_SA_INIT is keyed with
	 * that one, and IKE_AUTH selects connection resp of link to-init */
	configure_links_with(10, "", "remote_addrs = 10.9.9.9");
	snprintf(conf, sizeof(conf),
		"%s { plugins { qkd { links { rw {\n"
		"  kme = %s\n  sae_id = sun\n  peer_sae_id = moon\n"
		"  cert = %s/sun.crt\n  key = %s/sun.key\n  cacert = %s/ca.crt\n"
		"  remote_addrs = 127.0.0.0/8\n"
		"} } } } }\n", lib->ns, kme_test_env("QKD_TEST_KME_B"), pki, pki,
		pki);
	ck_assert(lib->settings->load_string(lib->settings, conf, TRUE));
	ck_assert_int_eq(ke_test_links->load(ke_test_links), 3);
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b,
									   &qkd_only_conf);
	/* the responder refused the authorization, nothing established */
	ck_assert(a->get_state(a) != IKE_ESTABLISHED);
	ck_assert(b->get_state(b) != IKE_ESTABLISHED);
	assert_kme_calls(1, 0, 0, 1);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);

	/* with the connection's link selected by address too, it is fine */
	configure_links_with(10, "", "remote_addrs = 127.0.0.1");
	ck_assert_int_eq(ke_test_links->load(ke_test_links), 3);
	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b,
									   &qkd_only_conf);
	assert_established_destroy(a, b);
}
END_TEST

#define CONFIRMATION_FAILED "key confirmation failed for key"

/**
 * The QURSA wire format and ours: the master's KE data is the 16-byte key
 * ID, the slave answers with empty KE data (qkd_qursa, as QURSA's plugin
 * does, or qkd with key_confirmation = no) or with the 32-byte key
 * confirmation (qkd)
 */
static struct {
	char *ike;
	key_exchange_method_t method;
	size_t answer;
	bool no_confirmation;
} wire_confs[] = {
	{ "aes128-sha256-qkd", QKD_KE_METHOD, QKD_KE_CONFIRMATION_LEN },
	{ "aes128-sha256-qkd_qursa", QKD_KE_METHOD_QURSA, 0 },
	{ "aes128-sha256-qkd", QKD_KE_METHOD, 0, TRUE },
};

/**
 * Set key_confirmation, read as on a reload (TRUE is the default)
 */
static void set_confirmation(bool confirm)
{
	lib->settings->set_bool(lib->settings, "%s.plugins.qkd.key_confirmation",
							confirm, lib->ns);
	qkd_ke_load_settings();
}

START_TEST(test_wire_format)
{
	exchange_test_sa_conf_t conf = {
		.initiator = { .ike = wire_confs[_i].ike, },
		.responder = { .ike = wire_confs[_i].ike, },
	};
	uint8_t id[QKD_KEY_ID_LEN];
	ike_sa_t *a, *b;
	message_t *message;
	chunk_t data;

	set_confirmation(!wire_confs[_i].no_confirmation);
	initiate_sa(&conf, &a, &b);
	/* IKE_SA_INIT --> with the key ID moon got, binary as RFC 4122 lays
	 * out the UUID (what QURSA's uuid_parse() gives) */
	message = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender);
	data = ke_data_of(message, wire_confs[_i].method);
	kme_test_last_key_id(MOON_ENC, id);
	ck_assert_chunk_eq(data, chunk_from_thing(id));
	chunk_free(&data);
	exchange_test_helper->process_message(exchange_test_helper, b, message);
	/* <-- IKE_SA_INIT with the answer */
	message = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender);
	data = ke_data_of(message, wire_confs[_i].method);
	ck_assert_int_eq(data.len, wire_confs[_i].answer);
	chunk_free(&data);
	learn_responder_spi(a, b);
	exchange_test_helper->process_message(exchange_test_helper, a, message);
	/* IKE_AUTH --> <-- */
	exchange_test_helper->process_message(exchange_test_helper, b, NULL);
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	assert_established_destroy(a, b);
	set_confirmation(TRUE);
}
END_TEST

START_TEST(test_confirmation_ike_sa)
{
	exchange_test_sa_conf_t conf = {
		.initiator = { .ike = wire_confs[_i].ike, },
		.responder = { .ike = wire_confs[_i].ike, },
	};
	log_counter_t *logs;
	ike_sa_t *a, *b;

	/* sun's KME hands out other material for the key ID moon sent */
	kme_test_fault("{\"kme\":\"kme-b\",\"fault\":\"wrong_key\","
				   "\"count\":1,\"call\":\"dec_keys\"}");
	logs = log_counter_create(CONFIRMATION_FAILED);
	set_confirmation(!wire_confs[_i].no_confirmation);
	initiate_sa(&conf, &a, &b);
	/* IKE_SA_INIT --> <-- */
	exchange_test_helper->process_message(exchange_test_helper, b, NULL);
	learn_responder_spi(a, b);
	deliver_all(a, b);
	ck_assert(a->get_state(a) != IKE_ESTABLISHED);
	ck_assert(b->get_state(b) != IKE_ESTABLISHED);
	assert_kme_calls(1, 0, 0, 1);
	if (wire_confs[_i].answer)
	{	/* moon, the master, names the key and the link in IKE_SA_INIT */
		ck_assert_int_eq(log_counter_destroy(logs), 1);
	}
	else
	{	/* plain format: IKE_AUTH fails without naming the key */
		ck_assert_int_eq(log_counter_destroy(logs), 0);
	}
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
	set_confirmation(TRUE);
}
END_TEST

START_TEST(test_confirmation_child_sa)
{
	exchange_test_sa_conf_t conf = {
		.initiator = { .esp = "aes128-sha256-modp3072-ke1_qkd", },
		.responder = { .esp = "aes128-sha256-modp3072-ke1_qkd", },
	};
	log_counter_t *logs;
	ike_sa_t *a, *b;
	uint32_t old, new;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, &conf);
	old = installed_spi(a);

	/* the rekeying's key differs between the ends: moon fails it at once
	 * instead of installing SAs that would drop all traffic */
	kme_test_fault("{\"kme\":\"kme-b\",\"fault\":\"wrong_key\","
				   "\"count\":1,\"call\":\"dec_keys\"}");
	logs = log_counter_create(CONFIRMATION_FAILED);
	call_ikesa(a, rekey_child_sa, PROTO_ESP, old);
	/* CREATE_CHILD_SA, IKE_FOLLOWUP_KE, and whatever charon does after a
	 * failed key exchange */
	deliver_all(a, b);
	ck_assert_int_eq(log_counter_destroy(logs), 1);
	assert_ike_sa_state(a, IKE_ESTABLISHED);
	assert_ike_sa_state(b, IKE_ESTABLISHED);
	/* charon closed the CHILD_SA and created it anew with the next key */
	new = installed_spi(a);
	ck_assert(new != old);
	installed_spi(b);
	assert_kme_calls(2, 0, 0, 2);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}
END_TEST

Suite *ke_exchange_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd key exchange");

	tc = tcase_create("IKE_SA");
	tcase_add_checked_fixture(tc, setup_links, teardown_links);
	tcase_add_loop_test(tc, test_establish, 0, countof(ike_confs));
	tcase_add_test(tc, test_ike_rekey);
	suite_add_tcase(s, tc);

	tc = tcase_create("CHILD_SA rekey");
	tcase_add_checked_fixture(tc, setup_links, teardown_links);
	tcase_add_loop_test(tc, test_child_rekey, 0, 2);
	tcase_add_test(tc, test_child_rekey_no_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("key sizes");
	tcase_add_checked_fixture(tc, setup_links, teardown_links);
	tcase_add_loop_test(tc, test_key_sizes, 0, countof(size_confs));
	suite_add_tcase(s, tc);

	tc = tcase_create("IKE_SA_INIT retries");
	tcase_add_checked_fixture(tc, setup_links, teardown_links);
	tcase_add_test(tc, test_retry_cookie);
	tcase_add_loop_test(tc, test_retry_invalid_ke, 0,
						countof(invalid_ke_confs));
	suite_add_tcase(s, tc);

	tc = tcase_create("road warriors");
	tcase_add_checked_fixture(tc, setup_links, teardown_links);
	tcase_add_loop_test(tc, test_road_warrior, 0,
						countof(road_warrior_addrs));
	tcase_add_test(tc, test_link_mismatch);
	suite_add_tcase(s, tc);

	tc = tcase_create("key confirmation");
	tcase_add_checked_fixture(tc, setup_links, teardown_links);
	tcase_add_loop_test(tc, test_wire_format, 0, countof(wire_confs));
	tcase_add_loop_test(tc, test_confirmation_ike_sa, 0,
						countof(wire_confs));
	tcase_add_test(tc, test_confirmation_child_sa);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_add_checked_fixture(tc, setup_links, teardown_links);
	tcase_add_test(tc, test_kme_unavailable);
	tcase_add_test(tc, test_rate_limit);
	suite_add_tcase(s, tc);

	return s;
}
