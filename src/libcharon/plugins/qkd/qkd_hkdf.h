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
 * HKDF-SHA256 (RFC 5869), with HMAC-SHA256 over one SHA-256 hasher of
 * strongSwan's crypto factory, kept for every derivation.
 * @defgroup qkd_hkdf qkd_hkdf
 * @{ @ingroup qkd
 */

#ifndef QKD_HKDF_H_
#define QKD_HKDF_H_

#include <library.h>

typedef struct qkd_hkdf_t qkd_hkdf_t;

/**
 * HKDF-SHA256, reusable (not thread-safe: one user at a time).
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
	 * Destroy a qkd_hkdf_t.
	 */
	void (*destroy)(qkd_hkdf_t *this);
};

/**
 * Create an HKDF-SHA256 instance.
 *
 * @return			instance, NULL if SHA-256 is not available
 */
qkd_hkdf_t *qkd_hkdf_create();

/**
 * Borrow an HKDF-SHA256 instance from a cache shared by all threads, or a
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
