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
 * Keys and SPIs of IKE-less SA pairs (qkd_direct_keys): vectors computed
 * with Python's hmac/hashlib from the documented labels.
 */

#include <test_suite.h>

#include "qkd_direct_keys.h"

/**
 * The original key 00 01 .. 1f, its EncKey and AuthKey (as the pool
 * derives them)
 */
static chunk_t orig, enc, auth;
static qkd_hkdf_t *hkdf;

/**
 * Compare a chunk with a hex string
 */
static void assert_hex(chunk_t chunk, char *hex)
{
	chunk_t expected = chunk_from_hex(chunk_from_str(hex), NULL);

	ck_assert_chunk_eq(chunk, expected);
	chunk_free(&expected);
}

START_SETUP(setup_keys)
{
	u_int i;

	hkdf = qkd_hkdf_create();
	ck_assert(hkdf);
	orig = chunk_alloc(32);
	for (i = 0; i < orig.len; i++)
	{
		orig.ptr[i] = i;
	}
	enc = chunk_alloc(32);
	auth = chunk_alloc(32);
	ck_assert(hkdf->derive(hkdf, chunk_empty, orig,
						   chunk_from_str("QKD EncKey"), enc));
	ck_assert(hkdf->derive(hkdf, chunk_empty, orig,
						   chunk_from_str("QKD AuthKey"), auth));
	assert_hex(enc, "cbbc2fa1f7ceba680d45d83fbbf950beb320a7312a5b59bf259f6f"
					"38888b2d4e");
}
END_SETUP

START_TEARDOWN(teardown_keys)
{
	chunk_clear(&orig);
	chunk_clear(&enc);
	chunk_clear(&auth);
	hkdf->destroy(hkdf);
}
END_TEARDOWN

START_TEST(test_gcm)
{
	qkd_direct_sa_keys_t ir, ri;

	ck_assert(qkd_direct_derive(hkdf, QKD_DIRECT_ESP_AES_GCM, enc, auth,
								TRUE, &ir));
	ck_assert(qkd_direct_derive(hkdf, QKD_DIRECT_ESP_AES_GCM, enc, auth,
								FALSE, &ri));
	ck_assert_int_eq(ir.spi, 0xd0f19534);
	ck_assert_int_eq(ri.spi, 0xd56f3507);
	assert_hex(ir.enc, "2a79638880bfafa51c528c9a43b9cbac0573cec8cae3457444"
					   "c044b49d464199aa01488a");
	assert_hex(ri.enc, "2f7d35aa6c884c8a357c03f726734d7ce10b4fe03849db94eb"
					   "ff4746fedcea8839979f94");
	ck_assert(!ir.integ.len && !ri.integ.len);
	qkd_direct_sa_keys_clear(&ir);
	qkd_direct_sa_keys_clear(&ri);
	ck_assert(!ir.enc.ptr && !ir.spi);
}
END_TEST

START_TEST(test_cbc)
{
	qkd_direct_sa_keys_t ir, ri;

	ck_assert(qkd_direct_derive(hkdf, QKD_DIRECT_ESP_AES_CBC_SHA256, enc,
								auth, TRUE, &ir));
	ck_assert(qkd_direct_derive(hkdf, QKD_DIRECT_ESP_AES_CBC_SHA256, enc,
								auth, FALSE, &ri));
	/* the SPIs depend on the key and direction only */
	ck_assert_int_eq(ir.spi, 0xd0f19534);
	ck_assert_int_eq(ri.spi, 0xd56f3507);
	assert_hex(ir.enc, "25c0158724dcffd64c1c69dae0c9ae64f1412af10977f670d7"
					   "b415f46f832e74");
	assert_hex(ir.integ, "b488d9fa1d3113a0c560d1c3d26947a94281ba20d6437a8f"
						 "05c4df06afbc1648");
	assert_hex(ri.enc, "9bd4c1cb20236217ac718f6aa36ba557453d36ebf67d3bb541"
					   "fbdcac7b4b463f");
	assert_hex(ri.integ, "6ea7e9fe81a726d99ba25a99fe67cd37c8ff7f85a8039321"
						 "039c528dead2b06e");
	qkd_direct_sa_keys_clear(&ir);
	qkd_direct_sa_keys_clear(&ri);
}
END_TEST

START_TEST(test_ah)
{
	qkd_direct_sa_keys_t ir, ri;

	ck_assert(qkd_direct_derive(hkdf, QKD_DIRECT_AH_SHA256, enc, auth, TRUE,
								&ir));
	ck_assert(qkd_direct_derive(hkdf, QKD_DIRECT_AH_SHA256, enc, auth, FALSE,
								&ri));
	ck_assert(!ir.enc.len && !ri.enc.len);
	assert_hex(ir.integ, "efecb7a087bca01f95eef114f99d53c149aaa7d45bcad3e244"
						 "d8332a428cf32e");
	assert_hex(ri.integ, "1ffa8be09a91ac155f38a6f0e3a3dfca3ebd16fa38006f7497"
						 "421a6d0569d618");
	qkd_direct_sa_keys_clear(&ir);
	qkd_direct_sa_keys_clear(&ri);
}
END_TEST

START_TEST(test_spi_range)
{
	qkd_direct_sa_keys_t keys;
	u_int i;

	/* whatever the key, SPIs stay outside charon's default range */
	for (i = 0; i < 256; i++)
	{
		enc.ptr[0] = i;
		ck_assert(qkd_direct_derive(hkdf, QKD_DIRECT_ESP_AES_GCM, enc, auth,
									i % 2, &keys));
		ck_assert(keys.spi >= QKD_DIRECT_SPI_MIN &&
				  keys.spi <= QKD_DIRECT_SPI_MAX);
		qkd_direct_sa_keys_clear(&keys);
	}
}
END_TEST

Suite *direct_keys_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd IKE-less keys");

	tc = tcase_create("derivation");
	tcase_add_checked_fixture(tc, setup_keys, teardown_keys);
	tcase_add_test(tc, test_gcm);
	tcase_add_test(tc, test_cbc);
	tcase_add_test(tc, test_ah);
	tcase_add_test(tc, test_spi_range);
	suite_add_tcase(s, tc);

	return s;
}
