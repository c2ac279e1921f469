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

#include "qkd_mpss_packet.h"

static host_t *src, *path[3];
static chunk_t share;

START_SETUP(setup_path)
{
	src = host_create_from_string("fec0::1", 0);
	path[0] = host_create_from_string("fec3::1", 0);
	path[1] = host_create_from_string("fec4::1", 0);
	path[2] = host_create_from_string("fec0::2", 0);
	share = chunk_from_chars(0x90, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55);
}
END_SETUP

START_TEARDOWN(teardown_path)
{
	int i;

	src->destroy(src);
	for (i = 0; i < countof(path); i++)
	{
		path[i]->destroy(path[i]);
	}
}
END_TEARDOWN

START_TEST(test_along_the_path)
{
	chunk_t packet, other = chunk_from_chars(0x90, 0x00, 0xaa, 0xbb, 0xcc,
											 0xdd, 0xee);
	qkd_mpss_packet_t parsed;
	int i;

	ck_assert(qkd_mpss_packet_build(src, path, 3, share, &packet));
	ck_assert_int_eq(packet.len % 8, 0);
	ck_assert(qkd_mpss_packet_parse(packet, &parsed));
	ck_assert_int_eq(parsed.count, 3);
	ck_assert_chunk_eq(parsed.src, src->get_address(src));
	ck_assert_chunk_eq(parsed.share, share);
	for (i = 0; i < 3; i++)
	{	/* visits the path in order, the destination last */
		ck_assert_int_eq(parsed.segments_left, 2 - i);
		ck_assert_chunk_eq(parsed.dst, path[i]->get_address(path[i]));
		ck_assert_chunk_eq(parsed.segments[2 - i],
						   path[i]->get_address(path[i]));
		if (i < 2)
		{	/* a relay: new share message, on to the next segment */
			ck_assert(!qkd_mpss_packet_advance(packet, &parsed,
											   chunk_create(other.ptr, 6)));
			ck_assert(qkd_mpss_packet_advance(packet, &parsed, other));
			ck_assert(qkd_mpss_packet_parse(packet, &parsed));
			ck_assert_chunk_eq(parsed.share, other);
		}
	}
	ck_assert(!qkd_mpss_packet_advance(packet, &parsed, other));
	chunk_free(&packet);
}
END_TEST

START_TEST(test_malformed)
{
	chunk_t packet, bad;
	qkd_mpss_packet_t parsed;
	size_t len;

	ck_assert(qkd_mpss_packet_build(src, path, 3, share, &packet));
	for (len = 0; len < packet.len; len++)
	{	/* every truncation, with a Payload Length that matches too */
		bad = chunk_clone(chunk_create(packet.ptr, len));
		ck_assert(!qkd_mpss_packet_parse(bad, &parsed));
		if (len >= 40)
		{
			htoun16(bad.ptr + 4, len - 40);
			ck_assert(!qkd_mpss_packet_parse(bad, &parsed));
		}
		chunk_free(&bad);
	}
	bad = chunk_clone(packet);
	bad.ptr[0] = 0x40;			/* version */
	ck_assert(!qkd_mpss_packet_parse(bad, &parsed));
	bad.ptr[0] = 0x60;
	bad.ptr[40 + 2] = 3;		/* routing type */
	ck_assert(!qkd_mpss_packet_parse(bad, &parsed));
	bad.ptr[40 + 2] = 4;
	bad.ptr[40 + 3] = 3;		/* Segments Left beyond Last Entry */
	ck_assert(!qkd_mpss_packet_parse(bad, &parsed));
	bad.ptr[40 + 3] = 1;		/* destination is not that segment */
	ck_assert(!qkd_mpss_packet_parse(bad, &parsed));
	bad.ptr[40 + 3] = 2;
	bad.ptr[40 + 4] = 1;		/* Last Entry off the header's length */
	ck_assert(!qkd_mpss_packet_parse(bad, &parsed));
	bad.ptr[40 + 4] = 2;
	bad.ptr[40] = 59;			/* no Destination Options after the SRH */
	ck_assert(!qkd_mpss_packet_parse(bad, &parsed));
	bad.ptr[40] = 60;
	ck_assert(qkd_mpss_packet_parse(bad, &parsed));
	chunk_free(&bad);
	/* a byte more after the share's header */
	bad = chunk_cat("cc", packet, chunk_from_chars(0x00));
	htoun16(bad.ptr + 4, bad.len - 40);
	ck_assert(!qkd_mpss_packet_parse(bad, &parsed));
	chunk_free(&bad);
	chunk_free(&packet);
}
END_TEST

START_TEST(test_build_refused)
{
	host_t *v4 = host_create_from_string("192.168.0.1", 0);
	host_t *many[QKD_MPSS_MAX_SEGMENTS + 1];
	chunk_t packet;
	int i;

	ck_assert(!qkd_mpss_packet_build(v4, path, 3, share, &packet));
	ck_assert(!qkd_mpss_packet_build(src, &v4, 1, share, &packet));
	ck_assert(!qkd_mpss_packet_build(src, path, 0, share, &packet));
	ck_assert(!qkd_mpss_packet_build(src, path, 3, chunk_empty, &packet));
	for (i = 0; i < countof(many); i++)
	{
		many[i] = path[0];
	}
	ck_assert(!qkd_mpss_packet_build(src, many, countof(many), share,
									 &packet));
	ck_assert(qkd_mpss_packet_build(src, many, countof(many) - 1, share,
									&packet));
	chunk_free(&packet);
	v4->destroy(v4);
}
END_TEST

Suite *mpss_packet_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd MPSS packets");

	tc = tcase_create("SRv6 share packets");
	tcase_add_checked_fixture(tc, setup_path, teardown_path);
	tcase_add_test(tc, test_along_the_path);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_build_refused);
	suite_add_tcase(s, tc);

	return s;
}
