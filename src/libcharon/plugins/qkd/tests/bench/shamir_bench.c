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
 * Shamir benchmark: split + combine of 32-byte secrets with qkd_shamir
 * against libgfshare (Debian libgfshare-dev), the baseline, in the same
 * run, for (k, n) = (2, 3) and (3, 5). One operation is a split into n
 * shares and a combine of k of them (varying which). Both take their
 * coefficients from the same strongSwan RNG (RNG_STRONG). Rounds
 * alternate between the two; rates are the means.
 *
 * Prints figures, no pass/fail; lines starting with "summary: " are
 * collected by testing/bench/run.
 *
 * usage: shamir_bench [-n operations per round] [-r rounds]
 */

#include <library.h>

#include <getopt.h>
#include <stdio.h>
#include <time.h>
#include <libgfshare.h>

#include "qkd_shamir.h"

/**
 * Length of the secrets, bytes
 */
#define SECRET_LEN 32

/**
 * RNG of both implementations
 */
static rng_t *rng;

/**
 * libgfshare's randomness, from the same RNG
 */
static void fill_rand(unsigned char *buf, unsigned int len)
{
	if (!rng->get_bytes(rng, len, buf))
	{
		fprintf(stderr, "shamir_bench: RNG failed\n");
		exit(1);
	}
}

/**
 * Monotonic time, s
 */
static double now()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/**
 * Operations per second of qkd_shamir; FALSE if a secret came back wrong
 */
static bool run_ours(u_int k, u_int n, u_int ops, double *rate)
{
	chunk_t secret, shares[QKD_SHAMIR_MAX_SHARES], picked[QKD_SHAMIR_MAX_SHARES];
	chunk_t rebuilt;
	uint8_t xs[QKD_SHAMIR_MAX_SHARES];
	u_int op, i;
	bool ok = TRUE;
	double start;

	secret = chunk_alloca(SECRET_LEN);
	fill_rand(secret.ptr, secret.len);
	start = now();
	for (op = 0; op < ops && ok; op++)
	{
		ok = qkd_shamir_split(rng, secret, k, n, shares);
		for (i = 0; ok && i < k; i++)
		{	/* another subset each time */
			xs[i] = (op + i) % n + 1;
			picked[i] = shares[xs[i] - 1];
		}
		ok = ok && qkd_shamir_combine(xs, picked, k, &rebuilt);
		ok = ok && chunk_equals(rebuilt, secret);
		chunk_clear(&rebuilt);
		for (i = 0; i < n; i++)
		{
			chunk_clear(&shares[i]);
		}
	}
	*rate = ops / (now() - start);
	return ok;
}

/**
 * Operations per second of libgfshare; FALSE if a secret came back wrong
 */
static bool run_gfshare(u_int k, u_int n, u_int ops, double *rate)
{
	uint8_t secret[SECRET_LEN], rebuilt[SECRET_LEN];
	uint8_t shares[QKD_SHAMIR_MAX_SHARES][SECRET_LEN];
	uint8_t nrs[QKD_SHAMIR_MAX_SHARES], picked[QKD_SHAMIR_MAX_SHARES];
	gfshare_ctx *enc, *dec;
	u_int op, i;
	bool ok = TRUE;
	double start;

	for (i = 0; i < n; i++)
	{
		nrs[i] = i + 1;
	}
	for (i = 0; i < k; i++)
	{
		picked[i] = i + 1;
	}
	fill_rand(secret, sizeof(secret));
	start = now();
	/* contexts made once and reused, as libgfshare allows */
	enc = gfshare_ctx_init_enc(nrs, n, k, SECRET_LEN);
	dec = gfshare_ctx_init_dec(picked, k, SECRET_LEN);
	for (op = 0; op < ops && ok; op++)
	{
		gfshare_ctx_enc_setsecret(enc, secret);
		for (i = 0; i < n; i++)
		{
			gfshare_ctx_enc_getshare(enc, i, shares[i]);
		}
		for (i = 0; i < k; i++)
		{
			picked[i] = (op + i) % n + 1;
		}
		gfshare_ctx_dec_newshares(dec, picked);
		for (i = 0; i < k; i++)
		{
			gfshare_ctx_dec_giveshare(dec, i, shares[picked[i] - 1]);
		}
		gfshare_ctx_dec_extract(dec, rebuilt);
		ok = memeq(rebuilt, secret, SECRET_LEN);
		memwipe(shares, sizeof(shares));
		memwipe(rebuilt, sizeof(rebuilt));
	}
	gfshare_ctx_free(enc);
	gfshare_ctx_free(dec);
	*rate = ops / (now() - start);
	return ok;
}

int main(int argc, char *argv[])
{
	struct {
		u_int k, n;
	} params[] = { { 2, 3 }, { 3, 5 } };
	u_int ops = 20000, rounds = 3, p, r;
	double ours, theirs, sum_ours, sum_theirs;
	int opt, status = 0;

	while ((opt = getopt(argc, argv, "n:r:")) != -1)
	{
		switch (opt)
		{
			case 'n':
				ops = atoi(optarg);
				break;
			case 'r':
				rounds = atoi(optarg);
				break;
			default:
				fprintf(stderr, "usage: shamir_bench [-n ops] [-r rounds]\n");
				return 2;
		}
	}
	if (!library_init(NULL, "shamir-bench"))
	{
		return 1;
	}
	plugin_loader_add_plugindirs(PLUGINDIR, PLUGINS);
	if (!lib->plugins->load(lib->plugins, PLUGINS) ||
		!(rng = lib->crypto->create_rng(lib->crypto, RNG_STRONG)))
	{
		fprintf(stderr, "shamir_bench: no RNG_STRONG from '%s'\n", PLUGINS);
		library_deinit();
		return 1;
	}
	gfshare_fill_rand = fill_rand;
	for (p = 0; p < countof(params); p++)
	{
		sum_ours = sum_theirs = 0;
		for (r = 0; r < rounds; r++)
		{
			if (!run_ours(params[p].k, params[p].n, ops, &ours) ||
				!run_gfshare(params[p].k, params[p].n, ops, &theirs))
			{
				fprintf(stderr, "shamir_bench: a secret came back wrong\n");
				status = 1;
			}
			printf("(%u, %u) round %u: qkd_shamir %.0f/s, libgfshare %.0f/s\n",
				   params[p].k, params[p].n, r + 1, ours, theirs);
			sum_ours += ours;
			sum_theirs += theirs;
		}
		printf("summary: Shamir split + combine, 32-byte secrets, (%u, %u): "
			   "qkd_shamir %.0f/s, libgfshare %.0f/s: ratio %.2f\n",
			   params[p].k, params[p].n, sum_ours / rounds,
			   sum_theirs / rounds, sum_ours / sum_theirs);
	}
	rng->destroy(rng);
	library_deinit();
	return status;
}
