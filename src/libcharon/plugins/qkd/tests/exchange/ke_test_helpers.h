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
 * Shared parts of the key exchange test suites: two links against the
 * real KME simulator, the initiator ("init") using link "to-resp" (SAE
 * moon at kme-a, selected by connection name), the responder link
 * "to-init" (SAE sun at kme-b, selected by address in IKE_SA_INIT and by
 * its connection name "resp" afterwards), and helpers driving and checking
 * exchanges of strongSwan's exchange_test_helper.
 */

#ifndef KE_TEST_HELPERS_H_
#define KE_TEST_HELPERS_H_

#include <daemon.h>
#include <tests/utils/exchange_test_helper.h>

#include "qkd_links.h"

#define MOON_ENC "kme=kme-a sae=moon POST /api/v1/keys/sun/enc_keys -> 200"
#define MOON_DEC "kme=kme-a sae=moon POST /api/v1/keys/sun/dec_keys -> 200"
#define SUN_ENC "kme=kme-b sae=sun POST /api/v1/keys/moon/enc_keys -> 200"
#define SUN_DEC "kme=kme-b sae=sun POST /api/v1/keys/moon/dec_keys -> 200"

/**
 * Key size options at their defaults
 */
#define DEFAULT_SIZES "key_size = 256\n min_peer_key_size = 128\n " \
					  "max_peer_key_size = 8192"

/**
 * The links of both sides, between setup_links() and teardown_links()
 */
extern qkd_links_t *ke_test_links;

/**
 * Fixture setup: load both links (rate limit 10 for the responder) and
 * remember the KME's counters
 */
void setup_links();

/**
 * Fixture teardown: clear KME faults, destroy the links
 */
void teardown_links();

/**
 * Configure the two links, with a rate limit for the responder and more
 * options for the initiator's (to-resp) and the responder's (to-init) link
 * (settings are merged: options these set are reset to their defaults
 * first). Keys are fetched during the exchanges (no pools: these tests run no
 * threads for refill jobs).
 */
void configure_links_with(int unauth_rate, char *to_resp,
								 char *to_init);

/**
 * Configure the two links, with a rate limit for the responder
 */
void configure_links(int unauth_rate);

/**
 * (Re-)load the links with a rate limit for the responder
 */
void load_links(int unauth_rate);

/**
 * Assert how many keys moon and sun got as master and slave since setup
 */
void assert_kme_calls(int m_enc, int m_dec, int s_enc, int s_dec);

/**
 * Assert that an IKE SA uses the given key exchange methods
 */
void assert_ike_methods(ike_sa_t *ike_sa, key_exchange_method_t ke,
							   key_exchange_method_t ake1);

/**
 * Assert that both IKE SAs are established (IKE_AUTH only succeeds if both
 * derived the same keys), then destroy them
 */
void assert_established_destroy(ike_sa_t *a, ike_sa_t *b);

/**
 * Process the messages of an exchange started by a, alternating b and a
 */
void run_exchanges(ike_sa_t *a, ike_sa_t *b, int messages);

/**
 * Find the only installed CHILD_SA's inbound SPI
 */
uint32_t installed_spi(ike_sa_t *ike_sa);

/**
 * Count the IKE SAs in the manager that are established with the given
 * methods, other than the two given ones
 */
int count_new_ike_sas(ike_sa_t *a, ike_sa_t *b, key_exchange_method_t ke,
							 key_exchange_method_t ake1);

/**
 * Create both IKE SAs and start the initiator's IKE_SA_INIT (queued)
 */
void initiate_sa(exchange_test_sa_conf_t *conf, ike_sa_t **a,
						ike_sa_t **b);

/**
 * Tell the initiator the responder's SPI, before it processes the
 * IKE_SA_INIT response
 */
void learn_responder_spi(ike_sa_t *a, ike_sa_t *b);

/**
 * Get a copy of the KE data of a queued message's KE payload (of the given
 * method), without taking the message off the queue's order
 */
chunk_t ke_data_of(message_t *message, key_exchange_method_t method);

/**
 * Deliver the queued messages between the IKE SAs (a the IKE initiator)
 * until none is left
 */
void deliver_all(ike_sa_t *a, ike_sa_t *b);

/**
 * Establish IKE and CHILD SA with conf, rekey the CHILD_SA from the IKE
 * initiator (moon) or responder (sun, by_responder) in as many messages
 * as given (none left over), check the new CHILD_SA on both sides and
 * that the rekeying end was master for the key; destroy both IKE SAs.
 */
void rekey_child_test(exchange_test_sa_conf_t *conf, bool by_responder,
					  int messages);

/**
 * Establish an IKE SA with conf, rekey it from the IKE responder (sun, the
 * master for the key) in as many messages as given, check that both new
 * IKE SAs use the methods ke and ake1; destroy both IKE SAs.
 */
void rekey_ike_test(exchange_test_sa_conf_t *conf, int messages,
					key_exchange_method_t ke, key_exchange_method_t ake1);

#endif /* KE_TEST_HELPERS_H_ */
