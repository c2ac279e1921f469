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

#include "ke_test_helpers.h"

#include <test_suite.h>
#include <tests/utils/sa_asserts.h>
#include <encoding/payloads/ke_payload.h>

#include "qkd_ke.h"
#include "../kme_test_utils.h"

/**
 * KME log counters before a test
 */
static int moon_enc, moon_dec, sun_enc, sun_dec;

/**
 * Links of both sides
 */
qkd_links_t *ke_test_links;

/**
 * Configure the two links, with a rate limit for the responder and more
 * options for the initiator's (to-resp) and the responder's (to-init) link
 * (settings are merged: options these set are reset to their defaults
 * first). Keys are fetched during the exchanges (no pools: these tests run no
 * threads for refill jobs).
 */
void configure_links_with(int unauth_rate, char *to_resp,
								 char *to_init)
{
	char *pki = kme_test_env("QKD_TEST_PKI");
	char conf[4096];

	snprintf(conf, sizeof(conf),
		"%s { accept_private_algs = yes\n"
		"plugins { qkd { pool { enable = no }\nlinks {\n"
		"  to-resp {\n"
		"    kme = %s\n    sae_id = moon\n    peer_sae_id = sun\n"
		"    cert = %s/moon.crt\n    key = %s/moon.key\n"
		"    cacert = %s/ca.crt\n    connections = init\n"
		"    " DEFAULT_SIZES "\n    %s\n"
		"  }\n"
		"  to-init {\n"
		"    kme = %s\n    sae_id = sun\n    peer_sae_id = moon\n"
		"    cert = %s/sun.crt\n    key = %s/sun.key\n"
		"    cacert = %s/ca.crt\n    connections = resp\n"
		"    remote_addrs = 127.0.0.1\n    unauth_rate = %d\n"
		"    " DEFAULT_SIZES "\n    %s\n"
		"  }\n"
		"} } } }\n", lib->ns, kme_test_env("QKD_TEST_KME_A"), pki, pki, pki,
		to_resp, kme_test_env("QKD_TEST_KME_B"), pki, pki, pki, unauth_rate,
		to_init);
	ck_assert(lib->settings->load_string(lib->settings, conf, TRUE));
}

/**
 * Configure the two links, with a rate limit for the responder
 */
void configure_links(int unauth_rate)
{
	configure_links_with(unauth_rate, "", "");
}

/**
 * (Re-)load the links with a rate limit for the responder
 */
void load_links(int unauth_rate)
{
	configure_links(unauth_rate);
	ck_assert_int_eq(ke_test_links->load(ke_test_links), 2);
}

/*
 * Described in header
 */
void setup_links()
{
	configure_links(10);
	ke_test_links = qkd_links_create();
	qkd_ke_set_links(ke_test_links);
	load_links(10);
	moon_enc = kme_test_log_count(MOON_ENC);
	moon_dec = kme_test_log_count(MOON_DEC);
	sun_enc = kme_test_log_count(SUN_ENC);
	sun_dec = kme_test_log_count(SUN_DEC);
}

/*
 * Described in header
 */
void teardown_links()
{
	kme_test_clear_faults();
	qkd_ke_set_links(NULL);
	ke_test_links->destroy(ke_test_links);
}

/**
 * Assert how many keys moon and sun got as master and slave since setup
 */
void assert_kme_calls(int m_enc, int m_dec, int s_enc, int s_dec)
{
	ck_assert_int_eq(kme_test_log_count(MOON_ENC) - moon_enc, m_enc);
	ck_assert_int_eq(kme_test_log_count(MOON_DEC) - moon_dec, m_dec);
	ck_assert_int_eq(kme_test_log_count(SUN_ENC) - sun_enc, s_enc);
	ck_assert_int_eq(kme_test_log_count(SUN_DEC) - sun_dec, s_dec);
}

/**
 * Assert that an IKE SA uses the given key exchange methods
 */
void assert_ike_methods(ike_sa_t *ike_sa, key_exchange_method_t ke,
							   key_exchange_method_t ake1)
{
	proposal_t *proposal = ike_sa->get_proposal(ike_sa);
	uint16_t alg;

	ck_assert(proposal->get_algorithm(proposal, KEY_EXCHANGE_METHOD, &alg,
									  NULL));
	ck_assert_int_eq(alg, ke);
	if (ake1)
	{
		ck_assert(proposal->get_algorithm(proposal,
								ADDITIONAL_KEY_EXCHANGE_1, &alg, NULL));
		ck_assert_int_eq(alg, ake1);
	}
}

/**
 * Assert that both IKE SAs are established (IKE_AUTH only succeeds if both
 * derived the same keys), then destroy them
 */
void assert_established_destroy(ike_sa_t *a, ike_sa_t *b)
{
	assert_ike_sa_state(a, IKE_ESTABLISHED);
	assert_ike_sa_state(b, IKE_ESTABLISHED);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}

/**
 * Process the messages of an exchange started by a, alternating b and a
 */
void run_exchanges(ike_sa_t *a, ike_sa_t *b, int messages)
{
	int i;

	for (i = 0; i < messages; i++)
	{
		exchange_test_helper->process_message(exchange_test_helper,
											  i % 2 ? a : b, NULL);
	}
}

/**
 * Find the only installed CHILD_SA's inbound SPI
 */
uint32_t installed_spi(ike_sa_t *ike_sa)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;
	uint32_t spi = 0;
	int count = 0;

	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (enumerator->enumerate(enumerator, &child_sa))
	{
		if (child_sa->get_state(child_sa) == CHILD_INSTALLED)
		{
			spi = child_sa->get_spi(child_sa, TRUE);
			count++;
		}
	}
	enumerator->destroy(enumerator);
	ck_assert_int_eq(count, 1);
	return spi;
}

/**
 * Count the IKE SAs in the manager that are established with the given
 * methods, other than the two given ones
 */
int count_new_ike_sas(ike_sa_t *a, ike_sa_t *b, key_exchange_method_t ke,
							 key_exchange_method_t ake1)
{
	enumerator_t *enumerator;
	ike_sa_t *ike_sa;
	int count = 0;

	enumerator = charon->ike_sa_manager->create_enumerator(
											charon->ike_sa_manager, FALSE);
	while (enumerator->enumerate(enumerator, &ike_sa))
	{
		if (ike_sa != a && ike_sa != b &&
			ike_sa->get_state(ike_sa) == IKE_ESTABLISHED)
		{
			assert_ike_methods(ike_sa, ke, ake1);
			count++;
		}
	}
	enumerator->destroy(enumerator);
	return count;
}

/**
 * Create both IKE SAs and start the initiator's IKE_SA_INIT (queued)
 */
void initiate_sa(exchange_test_sa_conf_t *conf, ike_sa_t **a,
						ike_sa_t **b)
{
	child_cfg_t *child;
	ike_sa_t *init;

	child = exchange_test_helper->create_sa(exchange_test_helper, a, b,
											conf);
	init = *a;
	call_ikesa(init, initiate, child, NULL);
	(*b)->get_id(*b)->set_initiator_spi((*b)->get_id(*b),
							init->get_id(init)->get_initiator_spi(
													init->get_id(init)));
}

/**
 * Tell the initiator the responder's SPI, before it processes the
 * IKE_SA_INIT response
 */
void learn_responder_spi(ike_sa_t *a, ike_sa_t *b)
{
	a->get_id(a)->set_responder_spi(a->get_id(a),
							b->get_id(b)->get_responder_spi(b->get_id(b)));
}

/**
 * Get a copy of the KE data of a queued message's KE payload (of the given
 * method), without taking the message off the queue's order
 */
chunk_t ke_data_of(message_t *message, key_exchange_method_t method)
{
	message_t *copy;
	ke_payload_t *ke;
	chunk_t data;

	copy = message_create_from_packet(message->get_packet(message));
	ck_assert(copy->parse_header(copy) == SUCCESS);
	ck_assert(copy->parse_body(copy, NULL) == SUCCESS);
	ke = (ke_payload_t*)copy->get_payload(copy, PLV2_KEY_EXCHANGE);
	ck_assert(ke);
	ck_assert_int_eq(ke->get_key_exchange_method(ke), method);
	data = chunk_clone(ke->get_key_exchange_data(ke));
	copy->destroy(copy);
	return data;
}

/**
 * Deliver the queued messages between the IKE SAs (a the IKE initiator)
 * until none is left
 */
void deliver_all(ike_sa_t *a, ike_sa_t *b)
{
	message_t *message;
	ike_sa_id_t *id;
	int i;

	for (i = 0; i < 20; i++)
	{
		message = exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender);
		if (!message)
		{
			return;
		}
		/* sent by the IKE initiator if its flag is set */
		id = message->get_ike_sa_id(message);
		exchange_test_helper->process_message(exchange_test_helper,
								id->is_initiator(id) ? b : a, message);
	}
	ck_assert_msg(FALSE, "the exchanges did not end");
}

/*
 * Described in header
 */
void rekey_child_test(exchange_test_sa_conf_t *conf, bool by_responder,
					  int messages)
{
	ike_sa_t *a, *b;
	uint32_t old, new;

	if (by_responder)
	{	/* the IKE responder (sun) rekeys: it is master for the key */
		exchange_test_helper->establish_sa(exchange_test_helper, &b, &a,
										   conf);
	}
	else
	{
		exchange_test_helper->establish_sa(exchange_test_helper, &a, &b,
										   conf);
	}
	/* the CHILD_SA of IKE_AUTH needs no key exchange */
	assert_kme_calls(0, 0, 0, 0);
	old = installed_spi(a);
	call_ikesa(a, rekey_child_sa, PROTO_ESP, old);
	run_exchanges(a, b, messages);
	ck_assert(!exchange_test_helper->sender->dequeue(
												exchange_test_helper->sender));
	/* one new CHILD_SA installed on each side (the old one is deleted) */
	new = installed_spi(a);
	ck_assert(new != old);
	installed_spi(b);
	if (by_responder)
	{
		assert_kme_calls(0, 1, 1, 0);
	}
	else
	{
		assert_kme_calls(1, 0, 0, 1);
	}
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
}

/*
 * Described in header
 */
void rekey_ike_test(exchange_test_sa_conf_t *conf, int messages,
					key_exchange_method_t ke, key_exchange_method_t ake1)
{
	ike_sa_t *a, *b;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, conf);
	assert_kme_calls(1, 0, 0, 1);
	/* the IKE responder rekeys the IKE_SA: sun is master this time */
	call_ikesa(b, rekey);
	run_exchanges(b, a, messages);
	assert_kme_calls(1, 1, 1, 1);
	assert_ike_sa_state(a, IKE_REKEYED);
	assert_ike_sa_state(b, IKE_DELETING);
	/* both new IKE_SAs are established, with the QKD key */
	ck_assert_int_eq(count_new_ike_sas(a, b, ke, ake1), 2);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
	charon->ike_sa_manager->flush(charon->ike_sa_manager);
}
