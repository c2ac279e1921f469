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

#include "qkd_mpss_msg.h"
#include "qkd_doh_msg.h"

/**
 * A hop key of 64 bytes and a share message of 32 bytes
 */
static chunk_t hop_key, share;
static qkd_mpss_share_t msg;

START_SETUP(setup_msg)
{
	int i;

	hop_key = chunk_alloc(64);
	share = chunk_alloc(32);
	for (i = 0; i < hop_key.len; i++)
	{
		hop_key.ptr[i] = i * 37 + 11;
	}
	for (i = 0; i < share.len; i++)
	{
		share.ptr[i] = 0xa0 + i;
	}
	msg = (qkd_mpss_share_t){
		.index = 2,
		.k = 2,
		.n = 3,
		.path = 7,
		.share = share,
	};
	memset(msg.secret_id, 0x5e, sizeof(msg.secret_id));
	memset(msg.hop_key_id, 0x4b, sizeof(msg.hop_key_id));
}
END_SETUP

START_TEARDOWN(teardown_msg)
{
	chunk_clear(&hop_key);
	chunk_clear(&share);
}
END_TEARDOWN

START_TEST(test_round_trip)
{
	chunk_t data, doh, unwrapped, plain;
	qkd_mpss_share_t decoded;
	size_t i;

	ck_assert(qkd_mpss_seal(&msg, hop_key, &data));
	ck_assert_int_eq(data.len, 39 + share.len + QKD_MPSS_MAC_LEN);
	ck_assert_int_eq(data.ptr[0], QKD_MPSS_SHARE);
	/* in a Destination Options Header of its own */
	ck_assert(qkd_doh_wrap(data, 59, &doh));
	ck_assert_int_eq(doh.len % 8, 0);
	ck_assert(qkd_doh_unwrap(doh, &unwrapped));
	ck_assert_chunk_eq(unwrapped, data);
	ck_assert(qkd_mpss_decode(unwrapped, &decoded));
	ck_assert(memeq(decoded.secret_id, msg.secret_id, QKD_KEY_ID_LEN));
	ck_assert(memeq(decoded.hop_key_id, msg.hop_key_id, QKD_KEY_ID_LEN));
	ck_assert_int_eq(decoded.index, 2);
	ck_assert_int_eq(decoded.k, 2);
	ck_assert_int_eq(decoded.n, 3);
	ck_assert_int_eq(decoded.path, 7);
	/* one-time pad with the hop key's first bytes */
	ck_assert_int_eq(decoded.share.len, share.len);
	for (i = 0; i < share.len; i++)
	{
		ck_assert_int_eq(decoded.share.ptr[i], share.ptr[i] ^ hop_key.ptr[i]);
	}
	ck_assert(qkd_mpss_open(unwrapped, hop_key, &plain));
	ck_assert_chunk_eq(plain, share);
	chunk_clear(&plain);
	chunk_free(&doh);
	chunk_free(&data);
}
END_TEST

START_TEST(test_tampered)
{
	chunk_t data, plain, other;
	size_t i;

	ck_assert(qkd_mpss_seal(&msg, hop_key, &data));
	for (i = 0; i < data.len; i++)
	{	/* every changed bit is refused, by the decoder or the MAC */
		data.ptr[i] ^= 1 << (i % 8);
		ck_assert(!qkd_mpss_open(data, hop_key, &plain));
		data.ptr[i] ^= 1 << (i % 8);
	}
	/* another hop key (pad or MAC key) */
	other = chunk_clone(hop_key);
	other.ptr[40] ^= 0x01;
	ck_assert(!qkd_mpss_open(data, other, &plain));
	ck_assert(!qkd_mpss_open(data, chunk_create(hop_key.ptr, 63), &plain));
	chunk_clear(&other);
	chunk_free(&data);
}
END_TEST

START_TEST(test_malformed)
{
	qkd_mpss_share_t decoded;
	chunk_t data, bad;
	size_t len;

	ck_assert(qkd_mpss_seal(&msg, hop_key, &data));
	for (len = 0; len < data.len; len++)
	{	/* every truncation */
		ck_assert(!qkd_mpss_decode(chunk_create(data.ptr, len), &decoded));
	}
	bad = chunk_cat("cc", data, chunk_from_chars(0x00));
	ck_assert(!qkd_mpss_decode(bad, &decoded));
	chunk_free(&bad);
	bad = chunk_clone(data);
	bad.ptr[1] = 0x01;		/* flags */
	ck_assert(!qkd_mpss_decode(bad, &decoded));
	bad.ptr[1] = 0;
	bad.ptr[18] = 0;		/* index 0 */
	ck_assert(!qkd_mpss_decode(bad, &decoded));
	bad.ptr[18] = 4;		/* index > n */
	ck_assert(!qkd_mpss_decode(bad, &decoded));
	bad.ptr[18] = 2;
	bad.ptr[19] = 1;		/* k < 2 */
	ck_assert(!qkd_mpss_decode(bad, &decoded));
	bad.ptr[19] = 4;		/* k > n */
	ck_assert(!qkd_mpss_decode(bad, &decoded));
	bad.ptr[19] = 2;
	bad.ptr[0] = 0x91;		/* type */
	ck_assert(!qkd_mpss_decode(bad, &decoded));
	bad.ptr[0] = QKD_MPSS_SHARE;
	ck_assert(qkd_mpss_decode(bad, &decoded));
	chunk_free(&bad);
	chunk_free(&data);
}
END_TEST

START_TEST(test_seal_refused)
{
	chunk_t data, long_share = chunk_alloca(QKD_MPSS_MAX_SHARE + 1);

	ck_assert(!qkd_mpss_seal(&msg, chunk_create(hop_key.ptr, 63), &data));
	msg.index = 4;
	ck_assert(!qkd_mpss_seal(&msg, hop_key, &data));
	msg.index = 2;
	msg.share = long_share;
	memset(long_share.ptr, 0, long_share.len);
	ck_assert(!qkd_mpss_seal(&msg, chunk_alloca(128), &data));
	msg.share = chunk_empty;
	ck_assert(!qkd_mpss_seal(&msg, hop_key, &data));
}
END_TEST

START_TEST(test_unwrap)
{
	chunk_t doh, data = chunk_from_chars(0x90, 0x01, 0x02);
	chunk_t two = chunk_from_chars(59, 1, 0x50, 1, 0x90, 0x50, 1, 0x91,
								   0x01, 0x06, 0, 0, 0, 0, 0, 0);
	chunk_t padding = chunk_from_chars(59, 0, 0x50, 1, 0x90, 0x01, 0x00,
									   0x01);

	ck_assert(qkd_doh_wrap(data, 43, &doh));
	ck_assert_int_eq(doh.ptr[0], 43);
	ck_assert(qkd_doh_unwrap(doh, &data));
	ck_assert_int_eq(data.len, 3);
	chunk_free(&doh);
	/* two 0x50 options, non-zero padding */
	ck_assert(!qkd_doh_unwrap(two, &data));
	ck_assert(!qkd_doh_unwrap(padding, &data));
	ck_assert(!qkd_doh_wrap(chunk_empty, 59, &doh));
}
END_TEST

Suite *mpss_msg_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd MPSS messages");

	tc = tcase_create("share messages");
	tcase_add_checked_fixture(tc, setup_msg, teardown_msg);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_tampered);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_seal_refused);
	tcase_add_test(tc, test_unwrap);
	suite_add_tcase(s, tc);

	return s;
}
