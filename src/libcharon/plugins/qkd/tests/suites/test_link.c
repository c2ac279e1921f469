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

#include <netinet/in.h>
#include <selectors/traffic_selector.h>

#include <unistd.h>

#include "qkd_link.h"

/**
 * A readable file standing in for certificates and keys
 */
static char pem[] = "/tmp/qkd-test-link-XXXXXX";

START_SETUP(setup_files)
{
	int fd;

	strcpy(pem, "/tmp/qkd-test-link-XXXXXX");
	fd = mkstemp(pem);
	ck_assert(fd >= 0);
	close(fd);
}
END_SETUP

START_TEARDOWN(teardown_files)
{
	unlink(pem);
}
END_TEARDOWN

/**
 * Load a links section with a link "gw" made of the complete, valid options
 * followed by the given extra (overriding) options.
 */
static void load_link_settings(char *extra)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
		"%s { plugins { qkd { links { gw {\n"
		"  kme = https://kme.example.net:8443\n"
		"  sae_id = moon\n"
		"  peer_sae_id = sun\n"
		"  cert = %s\n  key = %s\n  cacert = %s\n"
		"  %s\n"
		"} } } } }\n", lib->ns, pem, pem, pem, extra);
	ck_assert(lib->settings->load_string(lib->settings, buf, FALSE));
}

START_TEST(test_valid)
{
	qkd_link_t *link;
	u_int min, max;

	load_link_settings("");
	link = qkd_link_create_from_settings("gw");
	ck_assert(link);
	ck_assert_str_eq(link->get_name(link), "gw");
	ck_assert_str_eq(link->get_kme(link), "https://kme.example.net:8443");
	ck_assert_str_eq(link->get_sae_id(link), "moon");
	ck_assert_str_eq(link->get_peer_sae_id(link), "sun");
	ck_assert_int_eq(link->get_key_size(link), 256);
	link->get_peer_key_sizes(link, &min, &max);
	ck_assert_int_eq(min, 128);
	ck_assert_int_eq(max, 8192);
	link->destroy(link);
}
END_TEST

START_TEST(test_key_size)
{
	qkd_link_t *link;
	u_int min, max;

	load_link_settings("key_size = 512\n min_peer_key_size = 32\n"
					   "max_peer_key_size = 1024");
	link = qkd_link_create_from_settings("gw");
	ck_assert(link);
	ck_assert_int_eq(link->get_key_size(link), 512);
	/* independent of the size requested as master */
	link->get_peer_key_sizes(link, &min, &max);
	ck_assert_int_eq(min, 32);
	ck_assert_int_eq(max, 1024);
	link->destroy(link);
}
END_TEST

/**
 * DOH settings IKE-less children need
 */
#define DOH "doh = yes\n doh_local = fec0::1\n doh_peer = fec0::2\n "

START_TEST(test_children)
{
	qkd_direct_cfg_t *cfg;
	traffic_selector_t *ts;
	enumerator_t *enumerator;
	qkd_link_t *link;
	int found = 0;

	load_link_settings(DOH "children {\n"
		" net { local_ts = 10.1.0.0/16, fec1::/16[tcp/80]\n"
		"  remote_ts = 10.2.0.0/16[udp/1000-2000]\n lifetime = 60s\n"
		"  rekey_margin = 5s\n life_bytes = 1000000 }\n"
		" host { mode = transport\n esp_proposal = aes256-sha256 }\n"
		" auth { mode = transport\n ah_proposal = sha256 }\n"
		"}");
	link = qkd_link_create_from_settings("gw");
	ck_assert(link);
	enumerator = link->create_child_enumerator(link);
	while (enumerator->enumerate(enumerator, &cfg))
	{
		if (streq(cfg->name, "net"))
		{
			found |= 1;
			ck_assert_int_eq(cfg->alg, QKD_DIRECT_ESP_AES_GCM);
			ck_assert_int_eq(cfg->mode, MODE_TUNNEL);
			ck_assert_int_eq(cfg->lifetime, 60);
			ck_assert_int_eq(cfg->rekey_margin, 5);
			ck_assert_int_eq(cfg->life_bytes, 1000000);
			ck_assert_int_eq(cfg->life_packets, 0);
			ck_assert_int_eq(cfg->local_ts->get_count(cfg->local_ts), 2);
			ck_assert(cfg->local_ts->get_last(cfg->local_ts,
											  (void**)&ts) == SUCCESS);
			ck_assert_int_eq(ts->get_protocol(ts), IPPROTO_TCP);
			ck_assert_int_eq(ts->get_from_port(ts), 80);
			ck_assert_int_eq(ts->get_to_port(ts), 80);
			ck_assert(cfg->remote_ts->get_first(cfg->remote_ts,
												(void**)&ts) == SUCCESS);
			ck_assert_int_eq(ts->get_protocol(ts), IPPROTO_UDP);
			ck_assert_int_eq(ts->get_from_port(ts), 1000);
			ck_assert_int_eq(ts->get_to_port(ts), 2000);
		}
		else if (streq(cfg->name, "host"))
		{
			found |= 2;
			ck_assert_int_eq(cfg->alg, QKD_DIRECT_ESP_AES_CBC_SHA256);
			ck_assert_int_eq(cfg->mode, MODE_TRANSPORT);
			ck_assert_int_eq(cfg->lifetime, 3600);
			/* host to host: the DOH addresses */
			ck_assert(cfg->local_ts->get_first(cfg->local_ts,
											   (void**)&ts) == SUCCESS);
			ck_assert(ts->is_host(ts, link->get_doh(link)->local));
			ck_assert(cfg->remote_ts->get_first(cfg->remote_ts,
												(void**)&ts) == SUCCESS);
			ck_assert(ts->is_host(ts, link->get_doh(link)->peer));
		}
		else if (streq(cfg->name, "auth"))
		{
			found |= 4;
			ck_assert_int_eq(cfg->alg, QKD_DIRECT_AH_SHA256);
		}
	}
	enumerator->destroy(enumerator);
	ck_assert_int_eq(found, 7);
	link->destroy(link);
}
END_TEST

/**
 * Options that make a link invalid
 */
static char *invalid[] = {
	"kme = ",
	"sae_id = ",
	"peer_sae_id = ",
	"cert = ",
	"key = ",
	"cacert = ",
	"kme = http://kme.example.net:8080",
	"kme = kme.example.net",
	"key_size = 0",
	"key_size = 100",
	"key_size = -8",
	"key_size = 16384",
	"min_peer_key_size = 0",
	"min_peer_key_size = 100",
	"max_peer_key_size = 16384",
	"min_peer_key_size = 512\n max_peer_key_size = 256",
	"cert = /nonexistent/qkd/cert.pem",
	"key = /nonexistent/qkd/key.pem",
	"cacert = /nonexistent/qkd/ca.pem",
	"remote_addrs = fec0::2, not-an-address",
	"remote_addrs = %anyway",
	"remote_addrs = fec0::/200",
	"remote_addrs = fec0::9-fec0::1",
	"remote_addrs = 10.0.0.1-fec0::1",
	/* IKE-less children */
	"children { c { local_ts = 10.1.0.0/16\n remote_ts = 10.2.0.0/16 } }",
	DOH "children { c { local_ts = 10.1.0.0/16 } }",
	DOH "children { c { local_ts = 10.1.0.0/33\n remote_ts = 10.2.0.0/16 } }",
	DOH "children { c { local_ts = 10.1.0.0/16[nosuchproto]\n "
		"remote_ts = 10.2.0.0/16 } }",
	DOH "children { c { local_ts = 10.1.0.0/16[tcp/99999]\n "
		"remote_ts = 10.2.0.0/16 } }",
	DOH "children { c { local_ts = 10.1.0.0/16[tcp/80\n "
		"remote_ts = 10.2.0.0/16 } }",
	DOH "children { c { mode = tunnel\n } }",
	DOH "children { c { mode = beet\n local_ts = 10.1.0.0/16\n "
		"remote_ts = 10.2.0.0/16 } }",
	DOH "children { c { esp_proposal = aes128ctr\n "
		"local_ts = 10.1.0.0/16\n remote_ts = 10.2.0.0/16 } }",
	DOH "children { c { ah_proposal = md5\n mode = transport } }",
	DOH "children { c { ah_proposal = sha256\n esp_proposal = aes256gcm16\n "
		"mode = transport } }",
	DOH "children { c { mode = transport\n lifetime = 10s\n "
		"rekey_margin = 10s } }",
	DOH "children { c { mode = transport\n lifetime = 1s\n "
		"rekey_margin = 0s } }",
	DOH "children { a/b { mode = transport } }",
};

START_TEST(test_invalid)
{
	load_link_settings(invalid[_i]);
	ck_assert_msg(qkd_link_create_from_settings("gw") == NULL,
				  "accepted '%s'", invalid[_i]);
}
END_TEST

START_TEST(test_missing_section)
{
	ck_assert(qkd_link_create_from_settings("nonexistent") == NULL);
}
END_TEST

START_TEST(test_matches)
{
	qkd_link_t *link;
	host_t *sun, *dave, *sun4;

	load_link_settings("connections = gw-gw, other\n"
					   "remote_addrs = fec0::2, 192.168.0.2");
	link = qkd_link_create_from_settings("gw");
	ck_assert(link);

	sun = host_create_from_string("fec0::2", 500);
	sun4 = host_create_from_string("192.168.0.2", 4500);
	dave = host_create_from_string("fec0::20", 500);

	ck_assert_int_eq(link->matches(link, "gw-gw", NULL), QKD_LINK_MATCH_NAME);
	ck_assert_int_eq(link->matches(link, "other", dave), QKD_LINK_MATCH_NAME);
	ck_assert_int_eq(link->matches(link, "unknown", sun), 129);
	ck_assert_int_eq(link->matches(link, NULL, sun4), 129);
	ck_assert_int_eq(link->matches(link, "unknown", dave), 0);
	ck_assert_int_eq(link->matches(link, "gw", NULL), 0);
	ck_assert_int_eq(link->matches(link, NULL, NULL), 0);

	sun->destroy(sun);
	sun4->destroy(sun4);
	dave->destroy(dave);
	link->destroy(link);
}
END_TEST

/**
 * remote_addrs of road warriors: the quality of a match of a peer address
 */
static struct {
	char *remote_addrs;
	char *peer;
	int quality;
} road_warriors[] = {
	{ "%any", "fec0::20", 1 },
	{ "%any", "192.168.0.20", 1 },
	{ "%any4", "192.168.0.20", 1 },
	{ "%any4", "fec0::20", 0 },
	{ "%any6", "fec0::20", 1 },
	{ "%any6", "192.168.0.20", 0 },
	{ "fec0::/16", "fec0::20", 17 },
	{ "fec0::/16", "fec1::20", 0 },
	{ "192.168.0.0/24, %any", "192.168.0.20", 25 },
	{ "192.168.0.0/24, %any", "10.1.0.1", 1 },
	{ "192.168.0.10-192.168.0.30", "192.168.0.20", 1 },
	{ "192.168.0.10-192.168.0.30", "192.168.0.31", 0 },
	{ "fec0::10-fec0::30", "fec0::20", 1 },
	{ "fec0::/16, fec0::20", "fec0::20", 129 },
};

START_TEST(test_matches_road_warriors)
{
	qkd_link_t *link;
	host_t *peer;
	char conf[256];

	snprintf(conf, sizeof(conf), "remote_addrs = %s",
			 road_warriors[_i].remote_addrs);
	load_link_settings(conf);
	link = qkd_link_create_from_settings("gw");
	ck_assert(link);
	peer = host_create_from_string(road_warriors[_i].peer, 500);
	ck_assert_int_eq(link->matches(link, NULL, peer),
					 road_warriors[_i].quality);
	ck_assert_int_eq(link->matches(link, "unknown", peer),
					 road_warriors[_i].quality);
	peer->destroy(peer);
	link->destroy(link);
}
END_TEST

Suite *link_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd link");

	tc = tcase_create("valid");
	tcase_add_checked_fixture(tc, setup_files, teardown_files);
	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_key_size);
	tcase_add_test(tc, test_children);
	suite_add_tcase(s, tc);

	tc = tcase_create("invalid");
	tcase_add_checked_fixture(tc, setup_files, teardown_files);
	tcase_add_loop_test(tc, test_invalid, 0, countof(invalid));
	tcase_add_test(tc, test_missing_section);
	suite_add_tcase(s, tc);

	tc = tcase_create("matches");
	tcase_add_checked_fixture(tc, setup_files, teardown_files);
	tcase_add_test(tc, test_matches);
	tcase_add_loop_test(tc, test_matches_road_warriors, 0,
						countof(road_warriors));
	suite_add_tcase(s, tc);

	return s;
}
