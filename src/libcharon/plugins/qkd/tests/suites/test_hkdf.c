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
 * HKDF-SHA256 against the test vectors of RFC 5869, appendix A.1 and A.3.
 */

#include <test_suite.h>

#include "qkd_hkdf.h"
#include "qkd_ke.h"

START_TEST(test_rfc5869)
{
	chunk_t ikm = chunk_from_chars(
		0x0b,0x0b,0x0b,0x0b,0x0b,0x0b,0x0b,0x0b,0x0b,0x0b,0x0b,
		0x0b,0x0b,0x0b,0x0b,0x0b,0x0b,0x0b,0x0b,0x0b,0x0b,0x0b);
	chunk_t salt = chunk_from_chars(
		0x00,0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,0x09,0x0a,0x0b,0x0c);
	chunk_t info = chunk_from_chars(
		0xf0,0xf1,0xf2,0xf3,0xf4,0xf5,0xf6,0xf7,0xf8,0xf9);
	chunk_t okm1 = chunk_from_chars(
		0x3c,0xb2,0x5f,0x25,0xfa,0xac,0xd5,0x7a,0x90,0x43,0x4f,0x64,
		0xd0,0x36,0x2f,0x2a,0x2d,0x2d,0x0a,0x90,0xcf,0x1a,0x5a,0x4c,
		0x5d,0xb0,0x2d,0x56,0xec,0xc4,0xc5,0xbf,0x34,0x00,0x72,0x08,
		0xd5,0xb8,0x87,0x18,0x58,0x65);
	chunk_t okm3 = chunk_from_chars(
		0x8d,0xa4,0xe7,0x75,0xa5,0x63,0xc1,0x8f,0x71,0x5f,0x80,0x2a,
		0x06,0x3c,0x5a,0x31,0xb8,0xa1,0x1f,0x5c,0x5e,0xe1,0x87,0x9e,
		0xc3,0x45,0x4e,0x5f,0x3c,0x73,0x8d,0x2d,0x9d,0x20,0x13,0x95,
		0xfa,0xa4,0xb6,0x1a,0x96,0xc8);
	chunk_t prk1 = chunk_from_chars(
		0x07,0x77,0x09,0x36,0x2c,0x2e,0x32,0xdf,0x0d,0xdc,0x3f,0x0d,
		0xc4,0x7b,0xba,0x63,0x90,0xb6,0xc7,0x3b,0xb5,0x0f,0x9c,0x31,
		0x22,0xec,0x84,0x4a,0xd7,0xc2,0xb3,0xe5);
	uint8_t out[42], big[255 * 32 + 1];
	qkd_hkdf_t *hkdf;

	hkdf = qkd_hkdf_create();
	ck_assert(hkdf);
	/* A.1 */
	ck_assert(hkdf->derive(hkdf, salt, ikm, info, chunk_from_thing(out)));
	ck_assert_chunk_eq(chunk_from_thing(out), okm1);
	/* A.1's Expand alone, from its PRK; at most 255 blocks */
	memset(out, 0, sizeof(out));
	ck_assert(hkdf->expand(hkdf, prk1, info, chunk_from_thing(out)));
	ck_assert_chunk_eq(chunk_from_thing(out), okm1);
	ck_assert(!hkdf->expand(hkdf, prk1, info, chunk_from_thing(big)));
	/* A.3: no salt, no info; reused */
	ck_assert(hkdf->derive(hkdf, chunk_empty, ikm, chunk_empty,
						   chunk_from_thing(out)));
	ck_assert_chunk_eq(chunk_from_thing(out), okm3);
	hkdf->destroy(hkdf);
}
END_TEST

/**
 * Bytes from first to first + len - 1
 */
static chunk_t counting(uint8_t first, size_t len)
{
	chunk_t c = chunk_alloc(len);
	size_t i;

	for (i = 0; i < len; i++)
	{
		c.ptr[i] = first + i;
	}
	return c;
}

START_TEST(test_rfc5869_long)
{
	chunk_t okm = chunk_from_chars(
		0xb1,0x1e,0x39,0x8d,0xc8,0x03,0x27,0xa1,0xc8,0xe7,0xf7,0x8c,
		0x59,0x6a,0x49,0x34,0x4f,0x01,0x2e,0xda,0x2d,0x4e,0xfa,0xd8,
		0xa0,0x50,0xcc,0x4c,0x19,0xaf,0xa9,0x7c,0x59,0x04,0x5a,0x99,
		0xca,0xc7,0x82,0x72,0x71,0xcb,0x41,0xc6,0x5e,0x59,0x0e,0x09,
		0xda,0x32,0x75,0x60,0x0c,0x2f,0x09,0xb8,0x36,0x77,0x93,0xa9,
		0xac,0xa3,0xdb,0x71,0xcc,0x30,0xc5,0x81,0x79,0xec,0x3e,0x87,
		0xc1,0x4c,0x01,0xd5,0xc1,0xf3,0x43,0x4f,0x1d,0x87);
	chunk_t ikm, salt, info;
	uint8_t out[82], big[255 * 32 + 1];
	qkd_hkdf_t *hkdf;

	ikm = counting(0x00, 80);
	salt = counting(0x60, 80);
	info = counting(0xb0, 80);
	hkdf = qkd_hkdf_create();
	ck_assert(hkdf);
	/* A.2: three blocks of Expand, each over the one before */
	ck_assert(hkdf->derive(hkdf, salt, ikm, info, chunk_from_thing(out)));
	ck_assert_chunk_eq(chunk_from_thing(out), okm);
	/* at most 255 blocks */
	ck_assert(hkdf->derive(hkdf, salt, ikm, info,
						   chunk_create(big, sizeof(big) - 1)));
	ck_assert(!hkdf->derive(hkdf, salt, ikm, info, chunk_from_thing(big)));
	/* usable again after a refusal */
	ck_assert(hkdf->derive(hkdf, salt, ikm, info, chunk_from_thing(out)));
	ck_assert_chunk_eq(chunk_from_thing(out), okm);
	hkdf->destroy(hkdf);
	chunk_free(&ikm);
	chunk_free(&salt);
	chunk_free(&info);
}
END_TEST

START_TEST(test_one_step)
{
	/* computed with Python's hmac and hashlib: HMAC-SHA256(b"salt",
	 * counter | b"Z" * 40 | b"info") for counters 1, 2, 3, 80 bytes */
	chunk_t expected = chunk_from_chars(
		0x95,0xd3,0x4e,0x73,0x3f,0xb5,0x7a,0x06,0xbf,0xf6,0x6f,0x4a,
		0x1a,0xd3,0x56,0x63,0x80,0x64,0x5f,0x5b,0xfb,0x6d,0xdc,0x03,
		0x54,0x47,0x8c,0x82,0xba,0xfc,0x06,0xe5,0xb5,0xe6,0x5b,0x9b,
		0xc5,0xcb,0x65,0xc5,0x4d,0x51,0x57,0xa0,0x4e,0x5e,0x88,0xf9,
		0x74,0xd8,0x69,0xb5,0x3c,0xf2,0x62,0xa1,0x02,0x78,0xfa,0x9e,
		0x47,0x37,0x8a,0x27,0x2d,0x2d,0x71,0xf6,0x92,0x8c,0x23,0xa6,
		0x83,0xaa,0x84,0xad,0x05,0x1b,0x54,0x73);
	chunk_t salt = chunk_from_str("salt"), info = chunk_from_str("info");
	chunk_t z = chunk_alloca(40), msg;
	uint8_t out[80], block[HASH_SIZE_SHA256];
	qkd_hkdf_t *hkdf;
	prf_t *prf;
	int i;

	memset(z.ptr, 'Z', z.len);
	hkdf = qkd_hkdf_create();
	ck_assert(hkdf);
	ck_assert(hkdf->one_step(hkdf, salt, z, info, chunk_from_thing(out)));
	ck_assert_chunk_eq(chunk_from_thing(out), expected);
	/* each block is strongSwan's own HMAC-SHA256 of counter | Z | info */
	prf = lib->crypto->create_prf(lib->crypto, PRF_HMAC_SHA2_256);
	if (prf)
	{
		ck_assert(prf->set_key(prf, salt));
		for (i = 0; i < 2; i++)
		{
			msg = chunk_cat("ccc", chunk_from_chars(0, 0, 0, i + 1), z, info);
			ck_assert(prf->get_bytes(prf, msg, block));
			ck_assert(memeq(block, out + i * sizeof(block), sizeof(block)));
			chunk_free(&msg);
		}
		prf->destroy(prf);
	}
	/* a shorter output is the first bytes of the longer one */
	ck_assert(hkdf->one_step(hkdf, salt, z, info, chunk_create(out, 20)));
	ck_assert(chunk_equals(chunk_create(out, 20),
						   chunk_create(expected.ptr, 20)));
	hkdf->destroy(hkdf);
}
END_TEST

START_TEST(test_key_confirmation)
{
	uint8_t id[QKD_KEY_ID_LEN] = {
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	};
	/* computed with Python's hmac and hashlib: HKDF-Expand-SHA256(PRK =
	 * 00 01 .. 1f, info = "strongSwan qkd key confirmation" | ID), that is
	 * HMAC-SHA256(PRK, info | 01) */
	uint8_t expected[QKD_KE_CONFIRMATION_LEN] = {
		0xed, 0xc8, 0x6b, 0x93, 0x9a, 0x50, 0xf2, 0xe2,
		0x9d, 0x0a, 0x1e, 0x87, 0x8a, 0x26, 0x22, 0x60,
		0x64, 0x2f, 0x4b, 0xf2, 0x8b, 0xcd, 0x8d, 0x9e,
		0xd9, 0x72, 0x2d, 0xfe, 0x64, 0xdd, 0x3d, 0xcb,
	}, tag[QKD_KE_CONFIRMATION_LEN], material[32];
	qkd_key_t *key;
	u_int i;

	for (i = 0; i < sizeof(material); i++)
	{
		material[i] = i;
	}
	key = qkd_key_create(id, chunk_clone(chunk_from_thing(material)));
	ck_assert(qkd_ke_confirmation(key, tag));
	ck_assert(memeq(tag, expected, sizeof(tag)));
	/* another key under the same ID confirms differently */
	key->key.ptr[0] ^= 0x01;
	ck_assert(qkd_ke_confirmation(key, tag));
	ck_assert(!memeq(tag, expected, sizeof(tag)));
	qkd_key_destroy(key);
}
END_TEST

START_TEST(test_cache)
{
	uint8_t out[32], again[32];
	qkd_hkdf_t *a, *b, *c;

	/* without the cache: new instances, destroyed on release */
	a = qkd_hkdf_borrow();
	ck_assert(a);
	qkd_hkdf_release(a);
	qkd_hkdf_cache(TRUE);
	a = qkd_hkdf_borrow();
	b = qkd_hkdf_borrow();
	ck_assert(a && b && a != b);
	ck_assert(a->derive(a, chunk_empty, chunk_from_str("ikm"),
						chunk_from_str("info"), chunk_from_thing(out)));
	qkd_hkdf_release(a);
	qkd_hkdf_release(b);
	qkd_hkdf_release(NULL);
	/* a released instance is lent again, and derives the same */
	c = qkd_hkdf_borrow();
	ck_assert(c == a || c == b);
	ck_assert(c->derive(c, chunk_empty, chunk_from_str("ikm"),
						chunk_from_str("info"), chunk_from_thing(again)));
	ck_assert(memeq(out, again, sizeof(out)));
	qkd_hkdf_release(c);
	qkd_hkdf_cache(FALSE);
}
END_TEST

Suite *hkdf_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd HKDF");

	tc = tcase_create("RFC 5869");
	tcase_add_test(tc, test_rfc5869);
	tcase_add_test(tc, test_rfc5869_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("SP 800-56C one-step KDF");
	tcase_add_test(tc, test_one_step);
	suite_add_tcase(s, tc);

	tc = tcase_create("key confirmation");
	tcase_add_test(tc, test_key_confirmation);
	suite_add_tcase(s, tc);

	tc = tcase_create("shared instances");
	tcase_add_test(tc, test_cache);
	suite_add_tcase(s, tc);

	return s;
}
