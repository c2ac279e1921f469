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
 * Key derivation with HMAC-SHA256: HKDF-SHA256 (RFC 5869), HKDF-Expand
 * alone for keys that are uniformly random already, and the one-step KDF
 * of NIST SP 800-56C Rev. 2 (4.1, option 2). HMAC-SHA256 runs over one
 * SHA-256 hasher of strongSwan's crypto factory, kept for every
 * derivation.
 * @defgroup qkd_hkdf qkd_hkdf
 * @{ @ingroup qkd
 */

#ifndef QKD_HKDF_H_
#define QKD_HKDF_H_

#include <library.h>

typedef struct qkd_hkdf_t qkd_hkdf_t;

/**
 * Key derivation with HMAC-SHA256, reusable (not thread-safe: one user at
 * a time).
 */
struct qkd_hkdf_t {

	/**
	 * Derive key material.
	 *
	 * @param salt		salt, chunk_empty for none (HashLen zero bytes)
	 * @param ikm		input key material
	 * @param info		context
	 * @param out		output, filled completely
	 * @return			FALSE on failure
	 */
	bool (*derive)(qkd_hkdf_t *this, chunk_t salt, chunk_t ikm, chunk_t info,
				   chunk_t out);

	/**
	 * Derive key material from a key that is uniformly random already
	 * (HKDF-Expand alone, RFC 5869 2.3 and 3.3): one HMAC per 32 bytes of
	 * output, half the cost of derive() for up to 32 bytes.
	 *
	 * @param prk		the key (RFC 5869 asks for at least 32 bytes; a
	 *					shorter one keys HMAC with its own strength)
	 * @param info		context
	 * @param out		output, filled completely (at most 8160 bytes)
	 * @return			FALSE on failure
	 */
	bool (*expand)(qkd_hkdf_t *this, chunk_t prk, chunk_t info, chunk_t out);

	/**
	 * Derive key material with the one-step KDF of NIST SP 800-56C Rev. 2
	 * (4.1, option 2): K(i) = HMAC-SHA256(salt, counter i | Z | FixedInfo),
	 * the counter 32 bits in network order from 1, one HMAC per 32 bytes
	 * of output. Z may be a hybrid secret (2: Z' = Z | T).
	 *
	 * @param salt		salt, chunk_empty for none (64 zero bytes)
	 * @param z			shared secret
	 * @param fixed_info	context
	 * @param out		output, filled completely
	 * @return			FALSE on failure
	 */
	bool (*one_step)(qkd_hkdf_t *this, chunk_t salt, chunk_t z,
					 chunk_t fixed_info, chunk_t out);

	/**
	 * Destroy a qkd_hkdf_t.
	 */
	void (*destroy)(qkd_hkdf_t *this);
};

/**
 * Create an instance.
 *
 * @return			instance, NULL if SHA-256 is not available
 */
qkd_hkdf_t *qkd_hkdf_create();

/**
 * Borrow an instance from a cache shared by all threads, or a
 * new one if none is free, to give back with qkd_hkdf_release(). Creating
 * one costs more than a derivation (OpenSSL 3 fetches SHA-256 by name),
 * too much for every key exchange.
 *
 * @return			instance, NULL if SHA-256 is not available
 */
qkd_hkdf_t *qkd_hkdf_borrow();

/**
 * Give back a borrowed instance (kept for the next borrower, or destroyed
 * if the cache is full or not set up).
 *
 * @param hkdf		instance from qkd_hkdf_borrow(), NULL is ignored
 */
void qkd_hkdf_release(qkd_hkdf_t *hkdf);

/**
 * Set up or tear down the cache of qkd_hkdf_borrow() (destroying what it
 * holds). Without it, borrowing creates and releasing destroys.
 *
 * @param init		TRUE to set up, FALSE to tear down
 */
void qkd_hkdf_cache(bool init);

#endif /** QKD_HKDF_H_ @}*/
