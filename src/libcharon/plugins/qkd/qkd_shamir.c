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

#include "qkd_shamir.h"

/**
 * Product in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1, without branches or
 * lookups depending on the operands
 */
static uint8_t gf_mul(uint8_t a, uint8_t b)
{
	uint8_t p = 0;
	int i;

	for (i = 0; i < 8; i++)
	{
		p ^= a & (uint8_t)-(b & 1);
		/* a * x, reduced if the top bit was set */
		a = (a << 1) ^ (0x1b & (uint8_t)-(a >> 7));
		b >>= 1;
	}
	return p;
}

/**
 * Products of eight field elements (the bytes of a) with one public
 * element x in GF(2^8), at once: constant-time in a
 */
static uint64_t gf_mul8(uint64_t a, uint8_t x)
{
	uint64_t p = 0;
	int i;

	for (i = 0; i < 8; i++)
	{
		p ^= a & -(uint64_t)((x >> i) & 1);
		a = ((a & 0x7f7f7f7f7f7f7f7fULL) << 1) ^
			(((a >> 7) & 0x0101010101010101ULL) * 0x1b);
	}
	return p;
}

/**
 * Load up to eight bytes at pos of a chunk (zero-padded)
 */
static uint64_t load8(chunk_t c, size_t pos)
{
	uint64_t v = 0;

	memcpy(&v, c.ptr + pos, min(sizeof(v), c.len - pos));
	return v;
}

/**
 * Store up to eight bytes at pos of a chunk
 */
static void store8(chunk_t c, size_t pos, uint64_t v)
{
	memcpy(c.ptr + pos, &v, min(sizeof(v), c.len - pos));
}

/**
 * Inverse in GF(2^8): a^254 (0 for 0), by a fixed chain of squarings and
 * multiplications
 */
static uint8_t gf_inv(uint8_t a)
{
	uint8_t a2, a3, a6, a12, a15, a30, a60, a120, a126, a127;

	a2 = gf_mul(a, a);
	a3 = gf_mul(a2, a);
	a6 = gf_mul(a3, a3);
	a12 = gf_mul(a6, a6);
	a15 = gf_mul(a12, a3);
	a30 = gf_mul(a15, a15);
	a60 = gf_mul(a30, a30);
	a120 = gf_mul(a60, a60);
	a126 = gf_mul(a120, a6);
	a127 = gf_mul(a126, a);
	return gf_mul(a127, a127);
}

/**
 * Whether x coordinates are usable: non-zero and distinct
 */
static bool xs_ok(uint8_t xs[], u_int count)
{
	u_int i, j;

	for (i = 0; i < count; i++)
	{
		if (!xs[i])
		{
			return FALSE;
		}
		for (j = 0; j < i; j++)
		{
			if (xs[i] == xs[j])
			{
				return FALSE;
			}
		}
	}
	return TRUE;
}

/**
 * Whether shares are non-empty and of one length
 */
static bool lengths_ok(chunk_t shares[], u_int count)
{
	u_int i;

	for (i = 0; i < count; i++)
	{
		if (!shares[i].len || shares[i].len != shares[0].len)
		{
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * Lagrange coefficients at x of the polynomial through points xs[0..k-1]:
 * l_i = prod_{j != i} (x - x_j) / (x_i - x_j) (subtraction is XOR)
 */
static void lagrange(uint8_t xs[], u_int k, uint8_t x, uint8_t l[])
{
	uint8_t num, den;
	u_int i, j;

	for (i = 0; i < k; i++)
	{
		num = den = 1;
		for (j = 0; j < k; j++)
		{
			if (j != i)
			{
				num = gf_mul(num, x ^ xs[j]);
				den = gf_mul(den, xs[i] ^ xs[j]);
			}
		}
		l[i] = gf_mul(num, gf_inv(den));
	}
}

/**
 * Values at x of the polynomials through the first k shares, of the up to
 * eight bytes at pos, given their Lagrange coefficients at x
 */
static uint64_t interpolate(chunk_t shares[], uint8_t l[], u_int k,
							size_t pos)
{
	uint64_t y = 0;
	u_int i;

	for (i = 0; i < k; i++)
	{
		y ^= gf_mul8(load8(shares[i], pos), l[i]);
	}
	return y;
}

/*
 * Described in header
 */
bool qkd_shamir_split(rng_t *rng, chunk_t secret, u_int k, u_int n,
					  chunk_t shares[])
{
	chunk_t coeffs, coeff;
	uint64_t y;
	size_t pos;
	u_int i, c;
	uint8_t x;

	if (k < 2 || k > n || n > QKD_SHAMIR_MAX_SHARES || !secret.len)
	{
		return FALSE;
	}
	/* coefficients 1..k-1 of each byte's polynomial */
	if (!rng->allocate_bytes(rng, (k - 1) * secret.len, &coeffs))
	{
		return FALSE;
	}
	for (i = 0; i < n; i++)
	{
		shares[i] = chunk_alloc(secret.len);
		x = i + 1;
		for (pos = 0; pos < secret.len; pos += sizeof(y))
		{	/* Horner, eight bytes at a time:
			 * a_{k-1} x^{k-1} + ... + a_1 x + secret */
			y = 0;
			for (c = k - 1; c > 0; c--)
			{
				coeff = chunk_create(coeffs.ptr + (c - 1) * secret.len,
									 secret.len);
				y = gf_mul8(y, x) ^ load8(coeff, pos);
			}
			store8(shares[i], pos, gf_mul8(y, x) ^ load8(secret, pos));
		}
	}
	chunk_clear(&coeffs);
	memwipe(&y, sizeof(y));
	return TRUE;
}

/*
 * Described in header
 */
bool qkd_shamir_combine(uint8_t xs[], chunk_t shares[], u_int k,
						chunk_t *secret)
{
	uint8_t l[QKD_SHAMIR_MAX_SHARES];
	size_t pos;

	if (k < 1 || k > QKD_SHAMIR_MAX_SHARES || !xs_ok(xs, k) ||
		!lengths_ok(shares, k))
	{
		return FALSE;
	}
	lagrange(xs, k, 0, l);
	*secret = chunk_alloc(shares[0].len);
	for (pos = 0; pos < secret->len; pos += sizeof(uint64_t))
	{
		store8(*secret, pos, interpolate(shares, l, k, pos));
	}
	return TRUE;
}

/*
 * Described in header
 */
bool qkd_shamir_verify(uint8_t xs[], chunk_t shares[], u_int count, u_int k)
{
	uint8_t l[QKD_SHAMIR_MAX_SHARES];
	uint64_t diff = 0;
	size_t pos;
	u_int j;

	if (k < 1 || k > count || count > QKD_SHAMIR_MAX_SHARES ||
		!xs_ok(xs, count) || !lengths_ok(shares, count))
	{
		return FALSE;
	}
	for (j = k; j < count; j++)
	{
		lagrange(xs, k, xs[j], l);
		for (pos = 0; pos < shares[j].len; pos += sizeof(diff))
		{	/* accumulated, no early exit on secret-dependent data */
			diff |= interpolate(shares, l, k, pos) ^ load8(shares[j], pos);
		}
	}
	return diff == 0;
}
