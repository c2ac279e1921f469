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
 * Whole IKEv2 exchanges in-process with the qkd key exchange taking its
 * keys from the links' pools (SQLite files), refilled by jobs on charon's
 * processor from the real KME simulator, and with DOH between the two
 * links over raw IPv6 sockets on two addresses of lo.
 *
 * The initiator ("init") uses link "to-resp" (SAE moon), the responder
 * link "to-init" (SAE sun), as in test_ke_exchange.c.
 */

#include <test_suite.h>

#include <unistd.h>

#include <daemon.h>
#include <tests/utils/exchange_test_helper.h>
#include <tests/utils/exchange_test_asserts.h>
#include <tests/utils/sa_asserts.h>

#include "qkd_ke.h"
#include "../kme_test_utils.h"
#include "../log_counter.h"

/**
 * DOH addresses of the two links, added to lo for the tests
 */
#define DOH_MOON "fec0::a:1"
#define DOH_SUN "fec0::a:2"

/**
 * Pool files and status files
 */
static char dir[] = "/tmp/qkd-test-ke-pools-XXXXXX";

/**
 * Links of both sides
 */
static qkd_links_t *links;

/**
 * KME calls before an exchange: moon enc/dec, sun enc/dec
 */
static int calls[4];

static char *kme_calls[] = {
	"kme=kme-a sae=moon POST /api/v1/keys/sun/enc_keys -> 200",
	"kme=kme-a sae=moon POST /api/v1/keys/sun/dec_keys -> 200",
	"kme=kme-b sae=sun POST /api/v1/keys/moon/enc_keys -> 200",
	"kme=kme-b sae=sun POST /api/v1/keys/moon/dec_keys -> 200",
};

/**
 * Remember the KME calls made so far
 */
static void count_kme_calls()
{
	int i;

	for (i = 0; i < countof(calls); i++)
	{
		calls[i] = kme_test_log_count(kme_calls[i]);
	}
}

/**
 * Assert the KME calls made since count_kme_calls()
 */
static void assert_kme_calls(int m_enc, int m_dec, int s_enc, int s_dec)
{
	int expected[] = { m_enc, m_dec, s_enc, s_dec }, i;

	for (i = 0; i < countof(calls); i++)
	{
		ck_assert_msg(kme_test_log_count(kme_calls[i]) - calls[i] ==
					  expected[i], "%d calls '%s', expected %d",
					  kme_test_log_count(kme_calls[i]) - calls[i],
					  kme_calls[i], expected[i]);
	}
}

/**
 * Run a shell command, failing the test if it fails
 */
static void run(char *fmt, ...)
{
	char cmd[512];
	va_list args;

	va_start(args, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, args);
	va_end(args);
	ck_assert_msg(system(cmd) == 0, "'%s' failed", cmd);
}

/**
 * Configure pools for both links, and DOH between them if doh
 */
static void configure(bool doh)
{
	char *pki = kme_test_env("QKD_TEST_PKI");
	char conf[4096], doh_moon[128] = "", doh_sun[128] = "";

	if (doh)
	{
		snprintf(doh_moon, sizeof(doh_moon), "doh = yes\n doh_local = %s\n "
				 "doh_peer = %s\n", DOH_MOON, DOH_SUN);
		snprintf(doh_sun, sizeof(doh_sun), "doh = yes\n doh_local = %s\n "
				 "doh_peer = %s\n", DOH_SUN, DOH_MOON);
	}
	snprintf(conf, sizeof(conf),
		"%s { accept_private_algs = yes\n"
		"plugins { qkd {\n"
		"pool {\n  enable = yes\n  database = sqlite://%s/pool.db\n"
		"  keyfile = %s/pool.key\n  status_dir = %s\n}\n"
		"links {\n"
		"  to-resp {\n"
		"    kme = %s\n    sae_id = moon\n    peer_sae_id = sun\n"
		"    cert = %s/moon.crt\n    key = %s/moon.key\n"
		"    cacert = %s/ca.crt\n    connections = init\n"
		"    pool_capacity = 16\n    pool_low = 4\n    pool_wait = 5\n"
		"    %s"
		"  }\n"
		"  to-init {\n"
		"    kme = %s\n    sae_id = sun\n    peer_sae_id = moon\n"
		"    cert = %s/sun.crt\n    key = %s/sun.key\n"
		"    cacert = %s/ca.crt\n    connections = resp\n"
		"    remote_addrs = 127.0.0.1\n"
		"    pool_capacity = 16\n    pool_low = 4\n    pool_wait = 5\n"
		"    %s"
		"  }\n"
		"} } } }\n", lib->ns, dir, dir, dir,
		kme_test_env("QKD_TEST_KME_A"), pki, pki, pki, doh_moon,
		kme_test_env("QKD_TEST_KME_B"), pki, pki, pki, doh_sun);
	ck_assert(lib->settings->load_string(lib->settings, conf, FALSE));
}

/**
 * Get a line of a link's status file, as a number
 */
static int status_value(char *link, char *name)
{
	char path[PATH_MAX], line[256];
	int value = -1;
	size_t len = strlen(name);
	FILE *file;

	snprintf(path, sizeof(path), "%s/%s", dir, link);
	file = fopen(path, "r");
	if (!file)
	{
		return -1;
	}
	while (fgets(line, sizeof(line), file))
	{
		if (strpfx(line, name) && line[len] == ':')
		{
			value = atoi(line + len + 1);
		}
	}
	fclose(file);
	return value;
}

/**
 * Wait until a condition on the status files holds, up to 10 s
 */
#define wait_until(cond) ({ \
	int _i; \
	for (_i = 0; _i < 200 && !(cond); _i++) \
	{ \
		usleep(50000); \
	} \
	(cond); \
})

/**
 * Start the links with pools, and DOH if doh; wait until the pools are
 * full (and with DOH, until each end bound its keys ahead)
 */
static void start(bool doh)
{
	configure(doh);
	links = qkd_links_create();
	qkd_ke_set_links(links);
	ck_assert_int_eq(links->load(links), 2);
	ck_assert_msg(wait_until(status_value("to-resp", "idle") >= 4 &&
							 status_value("to-init", "idle") >= 4),
				  "pools not filled");
	if (doh)
	{
		ck_assert_msg(wait_until(
						status_value("to-resp", "doh_bound_own") >= 2 &&
						status_value("to-init", "doh_bound_own") >= 2),
					  "no keys bound over DOH");
	}
}

START_SETUP(setup_pools)
{
	strcpy(dir, "/tmp/qkd-test-ke-pools-XXXXXX");
	ck_assert(mkdtemp(dir));
	run("ip -6 addr replace %s/128 dev lo nodad", DOH_MOON);
	run("ip -6 addr replace %s/128 dev lo nodad", DOH_SUN);
	/* for the refill jobs and DOH */
	lib->processor->set_threads(lib->processor, 4);
}
END_SETUP

START_TEARDOWN(teardown_pools)
{
	qkd_ke_set_links(NULL);
	DESTROY_IF(links);
	links = NULL;
	lib->processor->set_threads(lib->processor, 0);
	lib->processor->cancel(lib->processor);
	kme_test_clear_faults();
	run("ip -6 addr del %s/128 dev lo", DOH_MOON);
	run("ip -6 addr del %s/128 dev lo", DOH_SUN);
	run("rm -rf '%s'", dir);
}
END_TEARDOWN

/**
 * Establish an IKE SA and CHILD_SA with qkd, then rekey the IKE SA from the
 * responder and the CHILD_SA from the initiator (with ke1_qkd)
 */
static void establish_rekey(void)
{
	exchange_test_sa_conf_t conf = {
		.initiator = {
			.ike = "aes128-sha256-qkd",
			.esp = "aes128-sha256-modp3072-ke1_qkd",
		},
		.responder = {
			.ike = "aes128-sha256-qkd",
			.esp = "aes128-sha256-modp3072-ke1_qkd",
		},
	};
	ike_sa_t *a, *b;
	child_sa_t *child;
	int i;

	exchange_test_helper->establish_sa(exchange_test_helper, &a, &b, &conf);
	assert_ike_sa_state(a, IKE_ESTABLISHED);
	assert_ike_sa_state(b, IKE_ESTABLISHED);

	/* CHILD_SA rekeyed by moon: CREATE_CHILD_SA, IKE_FOLLOWUP_KE,
	 * INFORMATIONAL */
	child = a->get_child_sa(a, PROTO_ESP, 0, TRUE);
	if (!child)
	{	/* the SPI is unknown here: take the first one */
		enumerator_t *enumerator = a->create_child_sa_enumerator(a);

		ck_assert(enumerator->enumerate(enumerator, &child));
		enumerator->destroy(enumerator);
	}
	call_ikesa(a, rekey_child_sa, PROTO_ESP, child->get_spi(child, TRUE));
	for (i = 0; i < 6; i++)
	{
		exchange_test_helper->process_message(exchange_test_helper,
											  i % 2 ? a : b, NULL);
	}
	ck_assert(a->get_child_count(a) >= 1);
	assert_ike_sa_state(a, IKE_ESTABLISHED);

	/* IKE_SA rekeyed by sun: CREATE_CHILD_SA */
	call_ikesa(b, rekey);
	exchange_test_helper->process_message(exchange_test_helper, a, NULL);
	exchange_test_helper->process_message(exchange_test_helper, b, NULL);
	assert_ike_sa_state(a, IKE_REKEYED);
	call_ikesa(a, destroy);
	call_ikesa(b, destroy);
	charon->ike_sa_manager->flush(charon->ike_sa_manager);
}

START_TEST(test_pools)
{
	log_counter_t *pooled;

	start(FALSE);
	count_kme_calls();
	pooled = log_counter_create("qkd: took pooled key");
	establish_rekey();
	/* the masters took their keys from their pools (moon for the IKE_SA
	 * and the CHILD_SA rekey, sun for the IKE_SA rekey), the slaves
	 * fetched the peer's by ID */
	ck_assert_int_eq(log_counter_destroy(pooled), 3);
	assert_kme_calls(0, 1, 0, 2);
}
END_TEST

START_TEST(test_pools_doh)
{
	log_counter_t *took, *got;

	start(TRUE);
	took = log_counter_create("qkd: took DOH-bound key");
	got = log_counter_create("qkd: got peer's DOH-bound key");
	establish_rekey();
	/* every key was bound over DOH ahead, on both ends: no KME call from
	 * a key exchange */
	ck_assert_int_eq(log_counter_destroy(took), 3);
	ck_assert_int_eq(log_counter_destroy(got), 3);
	ck_assert_int_eq(status_value("to-resp", "doh_rx_bad_mac"), 0);
	ck_assert_int_eq(status_value("to-init", "doh_rx_bad_mac"), 0);
}
END_TEST

Suite *ke_pools_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd key exchange with pools");

	tc = tcase_create("pools");
	tcase_add_checked_fixture(tc, setup_pools, teardown_pools);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pools);
	tcase_add_test(tc, test_pools_doh);
	suite_add_tcase(s, tc);

	return s;
}
