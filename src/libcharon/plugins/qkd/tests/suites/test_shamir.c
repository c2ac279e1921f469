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

#include "qkd_shamir.h"

/**
 * An RNG handing out 0x10, 0x11, ... (known-answer vectors)
 */
typedef struct {
	rng_t public;
	uint8_t next;
} counting_rng_t;

METHOD(rng_t, get_bytes, bool,
	counting_rng_t *this, size_t len, uint8_t *buf)
{
	size_t i;

	for (i = 0; i < len; i++)
	{
		buf[i] = this->next++;
	}
	return TRUE;
}

METHOD(rng_t, allocate_bytes, bool,
	counting_rng_t *this, size_t len, chunk_t *chunk)
{
	*chunk = chunk_alloc(len);
	return get_bytes(this, len, chunk->ptr);
}

METHOD(rng_t, rng_destroy, void,
	counting_rng_t *this)
{
	free(this);
}

static rng_t *counting_rng_create()
{
	counting_rng_t *this;

	INIT(this,
		.public = {
			.get_bytes = _get_bytes,
			.allocate_bytes = _allocate_bytes,
			.destroy = _rng_destroy,
		},
		.next = 0x10,
	);
	return &this->public;
}

static rng_t *rng;

START_SETUP(setup_rng)
{
	rng = lib->crypto->create_rng(lib->crypto, RNG_STRONG);
	ck_assert(rng);
}
END_SETUP

START_TEARDOWN(teardown_rng)
{
	rng->destroy(rng);
}
END_TEARDOWN

static void free_shares(chunk_t shares[], u_int n)
{
	u_int i;

	for (i = 0; i < n; i++)
	{
		chunk_clear(&shares[i]);
	}
}

START_TEST(test_vectors)
{
	/* computed independently (polynomial evaluated term by term) */
	uint8_t expected[5][5] = {
		{ 0x56, 0x42, 0x46, 0x0b, 0xf2 },
		{ 0x27, 0x3f, 0x3b, 0x46, 0xb3 },
		{ 0x22, 0x38, 0x3e, 0x4d, 0xbe },
		{ 0x58, 0x7a, 0x60, 0xd7, 0x24 },
		{ 0x5d, 0x7d, 0x65, 0xdc, 0x29 },
	};
	chunk_t secret = chunk_from_chars(0x53, 0x45, 0x43, 0x00, 0xff);
	rng_t *counting = counting_rng_create();
	chunk_t shares[5], picked[3], rebuilt;
	uint8_t xs[3] = { 5, 2, 4 };
	int i;

	ck_assert(qkd_shamir_split(counting, secret, 3, 5, shares));
	counting->destroy(counting);
	for (i = 0; i < 5; i++)
	{
		ck_assert_chunk_eq(shares[i], chunk_create(expected[i], 5));
	}
	for (i = 0; i < 3; i++)
	{
		picked[i] = shares[xs[i] - 1];
	}
	ck_assert(qkd_shamir_combine(xs, picked, 3, &rebuilt));
	ck_assert_chunk_eq(rebuilt, secret);
	chunk_clear(&rebuilt);
	free_shares(shares, 5);
}
END_TEST

/**
 * (k, n) pairs for the subset test
 */
static struct {
	u_int k, n;
} params[] = {
	{ 2, 2 }, { 2, 3 }, { 3, 5 }, { 4, 7 }, { 5, 9 }, { 8, 8 },
};

START_TEST(test_every_subset)
{
	u_int k = params[_i].k, n = params[_i].n, mask, count, i;
	chunk_t secret, shares[9], picked[9], rebuilt;
	uint8_t xs[9];

	ck_assert(rng->allocate_bytes(rng, 32, &secret));
	ck_assert(qkd_shamir_split(rng, secret, k, n, shares));
	for (mask = 1; mask < (1u << n); mask++)
	{
		count = 0;
		for (i = 0; i < n; i++)
		{
			if (mask & (1 << i))
			{
				xs[count] = i + 1;
				picked[count++] = shares[i];
			}
		}
		if (count < k)
		{
			continue;
		}
		/* any k of them rebuild it, all of them agree */
		ck_assert(qkd_shamir_combine(xs, picked, k, &rebuilt));
		ck_assert_chunk_eq(rebuilt, secret);
		chunk_clear(&rebuilt);
		ck_assert(qkd_shamir_verify(xs, picked, count, k));
	}
	free_shares(shares, n);
	chunk_clear(&secret);
}
END_TEST

START_TEST(test_max_shares)
{
	chunk_t secret = chunk_from_str("a secret of 32 bytes, no more..!");
	chunk_t shares[QKD_SHAMIR_MAX_SHARES], picked[3], rebuilt;
	uint8_t xs[3] = { 255, 1, 128 };
	int i;

	ck_assert(qkd_shamir_split(rng, secret, 3, 255, shares));
	for (i = 0; i < 3; i++)
	{
		picked[i] = shares[xs[i] - 1];
	}
	ck_assert(qkd_shamir_combine(xs, picked, 3, &rebuilt));
	ck_assert_chunk_eq(rebuilt, secret);
	chunk_clear(&rebuilt);
	ck_assert(!qkd_shamir_split(rng, secret, 3, 256, shares));
	free_shares(shares, 255);
}
END_TEST

START_TEST(test_fewer_than_k)
{
	/* k - 1 shares of two very different secrets: the first byte of each
	 * of those shares is uniform whatever the secret (chi-square over 256
	 * values, 64 samples per value, far below the 0.1% critical value) */
	chunk_t secrets[] = {
		chunk_from_chars(0x00, 0x00, 0x00, 0x00),
		chunk_from_chars(0xff, 0xff, 0xff, 0xff),
	};
	u_int k = 3, n = 5, runs = 256 * 64, counts[2][256], s, r, i, v;
	chunk_t shares[5];
	double chi2;

	for (s = 0; s < countof(secrets); s++)
	{
		for (i = 0; i < k - 1; i++)
		{
			memset(counts, 0, sizeof(counts));
			for (r = 0; r < runs; r++)
			{
				ck_assert(qkd_shamir_split(rng, secrets[s], k, n, shares));
				counts[0][shares[i].ptr[0]]++;
				/* joint: the pair of bytes of share 1 and 2, folded */
				counts[1][shares[0].ptr[1] ^ shares[1].ptr[1]]++;
				free_shares(shares, n);
			}
			for (v = 0; v < 2; v++)
			{
				chi2 = 0;
				for (r = 0; r < 256; r++)
				{
					chi2 += (counts[v][r] - 64.0) * (counts[v][r] - 64.0) / 64.0;
				}
				/* 255 degrees of freedom: 0.1% critical value 330.5 */
				ck_assert_msg(chi2 < 330.5, "secret %u share %u: chi2 %.1f",
							  s, i, chi2);
			}
		}
	}
}
END_TEST

START_TEST(test_tampered)
{
	chunk_t secret = chunk_from_chars(0x01, 0x02, 0x03, 0x04, 0x05, 0x06);
	chunk_t shares[5], rebuilt;
	uint8_t xs[5] = { 1, 2, 3, 4, 5 };
	int i, pos;

	ck_assert(qkd_shamir_split(rng, secret, 3, 5, shares));
	ck_assert(qkd_shamir_verify(xs, shares, 5, 3));
	for (i = 0; i < 5; i++)
	{
		for (pos = 0; pos < secret.len; pos++)
		{	/* any single changed byte of any share is detected */
			shares[i].ptr[pos] ^= 0x01 << (pos % 8);
			ck_assert(!qkd_shamir_verify(xs, shares, 5, 3));
			ck_assert(!qkd_shamir_verify(xs, shares, 4, 3) ||
					  i == 4);
			shares[i].ptr[pos] ^= 0x01 << (pos % 8);
		}
	}
	/* with exactly k shares a change goes unnoticed: a wrong secret */
	shares[0].ptr[0] ^= 0x80;
	ck_assert(qkd_shamir_verify(xs, shares, 3, 3));
	ck_assert(qkd_shamir_combine(xs, shares, 3, &rebuilt));
	ck_assert(!chunk_equals(rebuilt, secret));
	chunk_clear(&rebuilt);
	free_shares(shares, 5);
}
END_TEST

START_TEST(test_bad_parameters)
{
	chunk_t secret = chunk_from_chars(0x01, 0x02), shares[4], rebuilt;
	chunk_t two[2];
	uint8_t xs[2] = { 1, 1 }, zero[2] = { 0, 1 };

	ck_assert(!qkd_shamir_split(rng, secret, 1, 3, shares));
	ck_assert(!qkd_shamir_split(rng, secret, 4, 3, shares));
	ck_assert(!qkd_shamir_split(rng, chunk_empty, 2, 3, shares));
	ck_assert(qkd_shamir_split(rng, secret, 2, 4, shares));
	two[0] = shares[0];
	two[1] = shares[1];
	/* the same x twice, x = 0, shares of other lengths */
	ck_assert(!qkd_shamir_combine(xs, two, 2, &rebuilt));
	ck_assert(!qkd_shamir_combine(zero, two, 2, &rebuilt));
	ck_assert(!qkd_shamir_verify(xs, two, 2, 2));
	xs[1] = 2;
	two[1] = chunk_create(shares[1].ptr, 1);
	ck_assert(!qkd_shamir_combine(xs, two, 2, &rebuilt));
	free_shares(shares, 4);
}
END_TEST

Suite *shamir_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd Shamir");

	tc = tcase_create("split and combine");
	tcase_add_checked_fixture(tc, setup_rng, teardown_rng);
	tcase_add_test(tc, test_vectors);
	tcase_add_loop_test(tc, test_every_subset, 0, countof(params));
	tcase_add_test(tc, test_max_shares);
	tcase_add_test(tc, test_tampered);
	tcase_add_test(tc, test_bad_parameters);
	suite_add_tcase(s, tc);

	tc = tcase_create("fewer than k shares");
	tcase_add_checked_fixture(tc, setup_rng, teardown_rng);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fewer_than_k);
	suite_add_tcase(s, tc);

	return s;
}
