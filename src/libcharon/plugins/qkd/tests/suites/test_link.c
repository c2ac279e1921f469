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

	load_link_settings("");
	link = qkd_link_create_from_settings("gw");
	ck_assert(link);
	ck_assert_str_eq(link->get_name(link), "gw");
	ck_assert_str_eq(link->get_kme(link), "https://kme.example.net:8443");
	ck_assert_str_eq(link->get_sae_id(link), "moon");
	ck_assert_str_eq(link->get_peer_sae_id(link), "sun");
	ck_assert_int_eq(link->get_key_size(link), 256);
	link->destroy(link);
}
END_TEST

START_TEST(test_key_size)
{
	qkd_link_t *link;

	load_link_settings("key_size = 512");
	link = qkd_link_create_from_settings("gw");
	ck_assert(link);
	ck_assert_int_eq(link->get_key_size(link), 512);
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
	"cert = /nonexistent/qkd/cert.pem",
	"key = /nonexistent/qkd/key.pem",
	"cacert = /nonexistent/qkd/ca.pem",
	"remote_addrs = fec0::2, not-an-address",
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

	ck_assert_int_eq(link->matches(link, "gw-gw", NULL), 2);
	ck_assert_int_eq(link->matches(link, "other", dave), 2);
	ck_assert_int_eq(link->matches(link, "unknown", sun), 1);
	ck_assert_int_eq(link->matches(link, NULL, sun4), 1);
	ck_assert_int_eq(link->matches(link, "unknown", dave), 0);
	ck_assert_int_eq(link->matches(link, "gw", NULL), 0);
	ck_assert_int_eq(link->matches(link, NULL, NULL), 0);

	sun->destroy(sun);
	sun4->destroy(sun4);
	dave->destroy(dave);
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
	suite_add_tcase(s, tc);

	tc = tcase_create("invalid");
	tcase_add_checked_fixture(tc, setup_files, teardown_files);
	tcase_add_loop_test(tc, test_invalid, 0, countof(invalid));
	tcase_add_test(tc, test_missing_section);
	suite_add_tcase(s, tc);

	tc = tcase_create("matches");
	tcase_add_checked_fixture(tc, setup_files, teardown_files);
	tcase_add_test(tc, test_matches);
	suite_add_tcase(s, tc);

	return s;
}
