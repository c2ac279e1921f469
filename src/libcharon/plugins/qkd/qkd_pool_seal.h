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
 * The pool's storage key and what it protects: the seals of stored
 * batches and the hashes of used key IDs.
 * @defgroup qkd_pool_seal qkd_pool_seal
 * @{ @ingroup qkd
 */

#ifndef QKD_POOL_SEAL_H_
#define QKD_POOL_SEAL_H_

#include "qkd_pool_batch.h"

typedef struct qkd_pool_seal_t qkd_pool_seal_t;

/**
 * Seals batches for the store with a 32-byte storage key kept in a
 * root-only file.
 *
 * A batch's key material is sealed with AES-256-GCM under a key derived
 * (HKDF-SHA256) from the storage key and a random 16-byte nonce per seal;
 * the associated data covers the link name, the key IDs, the key length,
 * the status bytes and the Indexes, so none of them can be changed
 * unnoticed. Not thread-safe: one user at a time.
 */
struct qkd_pool_seal_t {

	/**
	 * Seal the keys of a batch.
	 *
	 * @param link		link name
	 * @param batch		batch
	 * @param indexes	the Indexes as stored
	 * @param sealed	receives nonce | ciphertext | ICV (allocated)
	 * @return			FALSE on failure
	 */
	bool (*seal)(qkd_pool_seal_t *this, char *link, qkd_batch_t *batch,
				 chunk_t indexes, chunk_t *sealed);

	/**
	 * Open sealed keys into a batch whose other fields are set.
	 *
	 * @param link		link name
	 * @param batch		batch receiving the keys
	 * @param indexes	the Indexes as stored
	 * @param sealed	nonce | ciphertext | ICV
	 * @return			FALSE if it does not authenticate
	 */
	bool (*unseal)(qkd_pool_seal_t *this, char *link, qkd_batch_t *batch,
				   chunk_t indexes, chunk_t sealed);

	/**
	 * Hash a key ID for the list of used ones: 64-bit SipHash under a key
	 * derived from the storage key, so the list does not reveal the IDs.
	 *
	 * @param id		key ID
	 * @return			hash, never 0
	 */
	uint64_t (*hash_id)(qkd_pool_seal_t *this, uint8_t id[QKD_KEY_ID_LEN]);

	/**
	 * Destroy a qkd_pool_seal_t, wiping the keys.
	 */
	void (*destroy)(qkd_pool_seal_t *this);
};

/**
 * Load the storage key, or create it (mode 0600, from a true RNG).
 *
 * @param keyfile	storage key file
 * @return			seal, NULL on failure (logged)
 */
qkd_pool_seal_t *qkd_pool_seal_create(char *keyfile);

#endif /** QKD_POOL_SEAL_H_ @}*/
