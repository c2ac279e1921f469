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
 * The combiner of the composite methods against a vector computed with
 * Python's hmac and hashlib.
 */

#include <test_suite.h>

#include "qkd_composite_ke.h"

/**
 * Fill a buffer with start, start + 1, ...
 */
static chunk_t counting(size_t len, int start)
{
	chunk_t chunk = chunk_alloc(len);
	size_t i;

	for (i = 0; i < len; i++)
	{
		chunk.ptr[i] = start + i;
	}
	return chunk;
}

START_TEST(test_combine)
{
	/* HMAC-SHA256(salt = "strongSwan qkd composite", 00000001 |
	 * Z = 00..1f | 20..3f | FixedInfo = ffdc 0030 | 00..2f | 40..7f) */
	chunk_t expected = chunk_from_chars(
		0x80, 0xd1, 0xe5, 0x27, 0x37, 0x61, 0x2d, 0x15,
		0x05, 0xd8, 0x54, 0x1f, 0x74, 0xe4, 0x18, 0x47,
		0x01, 0xd7, 0xf2, 0x3d, 0xa6, 0xd4, 0x25, 0x3f,
		0x23, 0xeb, 0xdb, 0xef, 0x9a, 0xcf, 0x66, 0x01);
	chunk_t in[4], secret, other;
	int i;

	in[0] = counting(32, 0x00);		/* component secret */
	in[1] = counting(32, 0x20);		/* QKD key */
	in[2] = counting(48, 0x00);		/* master's KE data */
	in[3] = counting(64, 0x40);		/* slave's KE data */
	ck_assert(qkd_composite_ke_combine(65500, in[0], in[1], in[2], in[3],
									   &secret));
	ck_assert_chunk_eq(secret, expected);
	/* every input is bound in: one changed bit changes the secret */
	for (i = 0; i < countof(in); i++)
	{
		in[i].ptr[in[i].len - 1] ^= 0x01;
		ck_assert(qkd_composite_ke_combine(65500, in[0], in[1], in[2], in[3],
										   &other));
		ck_assert(!chunk_equals(secret, other));
		chunk_clear(&other);
		in[i].ptr[in[i].len - 1] ^= 0x01;
	}
	/* and so is the transform ID */
	ck_assert(qkd_composite_ke_combine(65503, in[0], in[1], in[2], in[3],
									   &other));
	ck_assert(!chunk_equals(secret, other));
	chunk_clear(&other);
	/* the split between the KE data too */
	ck_assert(qkd_composite_ke_combine(65500, in[0], in[1],
									   chunk_create(in[2].ptr, 47),
									   chunk_cat("cc", chunk_skip(in[2], 47),
												 in[3]), &other));
	chunk_free(&in[3]);
	chunk_clear(&other);
	for (i = 0; i < countof(in) - 1; i++)
	{
		chunk_free(&in[i]);
	}
	chunk_clear(&secret);
}
END_TEST

Suite *composite_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd composite methods");

	tc = tcase_create("combiner");
	tcase_add_test(tc, test_combine);
	suite_add_tcase(s, tc);

	return s;
}
