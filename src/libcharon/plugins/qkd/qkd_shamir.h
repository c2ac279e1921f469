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

/**
 * Shamir's (k, n) threshold secret sharing over GF(2^8), bytewise: any k of
 * the n shares rebuild the secret, k - 1 of them give no information on it.
 *
 * The field is GF(2)[x]/(x^8 + x^4 + x^3 + x + 1) (AES). Share i (1-based)
 * is the value at x = i of a polynomial per secret byte whose constant
 * term is that byte and whose k - 1 other coefficients are random.
 * Arithmetic on secret bytes (shares, coefficients, the secret) uses no
 * table lookup or branch indexed by them; x coordinates are public.
 *
 * @defgroup qkd_shamir qkd_shamir
 * @{ @ingroup qkd
 */

#ifndef QKD_SHAMIR_H_
#define QKD_SHAMIR_H_

#include <library.h>

/**
 * Most shares of a secret (x = 1..255)
 */
#define QKD_SHAMIR_MAX_SHARES 255

/**
 * Split a secret into n shares.
 *
 * @param rng		RNG for the coefficients (RNG_TRUE or RNG_STRONG)
 * @param secret	secret, at least one byte
 * @param k			shares needed to rebuild it, 2 <= k <= n
 * @param n			shares, k <= n <= QKD_SHAMIR_MAX_SHARES
 * @param shares	receives n allocated shares as long as the secret,
 *					shares[i] for x = i + 1 (chunk_clear() them)
 * @return			FALSE for bad parameters or if the RNG failed
 */
bool qkd_shamir_split(rng_t *rng, chunk_t secret, u_int k, u_int n,
					  chunk_t shares[]);

/**
 * Rebuild a secret from k (or more) shares: the value at 0 of the
 * polynomial through the first k of them.
 *
 * @param xs		x coordinates of the shares (1..255, distinct)
 * @param shares	shares, all of the same length
 * @param k			shares to use, the first k of xs and shares
 * @param secret	receives the allocated secret (chunk_clear() it)
 * @return			FALSE for bad parameters
 */
bool qkd_shamir_combine(uint8_t xs[], chunk_t shares[], u_int k,
						chunk_t *secret);

/**
 * Check that shares lie on one polynomial of degree below k: those beyond
 * the first k must have the values the first k predict. With more shares
 * than k, a share altered alone (or any set of altered shares that is not
 * itself consistent with k - 1 others) is detected; with exactly k shares
 * nothing can be detected.
 *
 * @param xs		x coordinates of the shares (1..255, distinct)
 * @param shares	shares, all of the same length
 * @param count		shares, more than k for a check to be made
 * @param k			threshold
 * @return			TRUE if consistent (or count == k), FALSE otherwise
 */
bool qkd_shamir_verify(uint8_t xs[], chunk_t shares[], u_int count, u_int k);

#endif /** QKD_SHAMIR_H_ @}*/
