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
 * @defgroup qkd_pool_store qkd_pool_store
 * @{ @ingroup qkd
 */

#ifndef QKD_POOL_STORE_H_
#define QKD_POOL_STORE_H_

#include "qkd_key.h"

typedef struct qkd_pool_store_t qkd_pool_store_t;
typedef struct qkd_batch_t qkd_batch_t;

/**
 * A batch of keys as stored: the keys one KME response delivered, with the
 * status byte of each key.
 */
struct qkd_batch_t {

	/** row ID in the database, 0 if not stored yet */
	int rowid;

	/** number of keys */
	u_int count;

	/** length of each key, bytes */
	u_int key_len;

	/** when the keys were fetched */
	time_t created;

	/** key IDs, count * QKD_KEY_ID_LEN bytes */
	uint8_t *ids;

	/** key material, count * key_len bytes (zeroes for expired keys) */
	chunk_t keys;

	/** status byte per key (see qkd_pool.h) */
	uint8_t *status;

	/** status or keys changed since the batch was last stored */
	bool dirty;
};

/**
 * Create an empty batch.
 *
 * @param count		number of keys
 * @param key_len	length of each key, bytes
 * @param created	creation time
 * @return			batch, IDs, keys and status zeroed
 */
qkd_batch_t *qkd_batch_create(u_int count, u_int key_len, time_t created);

/**
 * Wipe and free a batch.
 *
 * @param batch		batch to destroy, may be NULL
 */
void qkd_batch_destroy(qkd_batch_t *batch);

/**
 * Persistent, encrypted storage of key batches in an SQL database
 * (database_t, e.g. SQLite).
 *
 * Each batch is one row. Its key material is sealed with AES-256-GCM under
 * a key derived (HKDF-SHA256) from the storage key and a random 16-byte
 * nonce per seal; the associated data covers the link name, the key IDs
 * and the status bytes, so none of them can be changed unnoticed. Every
 * change rewrites the row with a fresh seal.
 *
 * The database runs in WAL mode. Every write survives charon being killed;
 * writes marked durable are also synced to disk before they return (new
 * keys, keys leaving the pool), the others (e.g. expiring a key that was
 * in use, which a restart does anyway) are not.
 */
struct qkd_pool_store_t {

	/**
	 * Store a new batch, sets its rowid.
	 *
	 * @param link		link name
	 * @param batch		batch to store
	 * @param durable	TRUE to sync to disk before returning
	 * @return			TRUE if stored
	 */
	bool (*insert)(qkd_pool_store_t *this, char *link, qkd_batch_t *batch,
				   bool durable);

	/**
	 * Rewrite a stored batch after a status change (resealed).
	 *
	 * @param link		link name
	 * @param batch		batch to update
	 * @param durable	TRUE to sync to disk before returning
	 * @return			TRUE if updated
	 */
	bool (*update)(qkd_pool_store_t *this, char *link, qkd_batch_t *batch,
				   bool durable);

	/**
	 * Delete a stored batch.
	 *
	 * @param batch		batch to delete
	 * @return			TRUE if deleted
	 */
	bool (*remove)(qkd_pool_store_t *this, qkd_batch_t *batch);

	/**
	 * Move what the WAL holds into the database file and truncate the WAL,
	 * so that overwritten rows (wiped keys) don't linger there.
	 */
	void (*checkpoint)(qkd_pool_store_t *this);

	/**
	 * Load all batches of a link. Batches that fail to decrypt or
	 * authenticate are logged and skipped.
	 *
	 * @param link		link name
	 * @return			enumerator over qkd_batch_t* (owned by the caller)
	 */
	enumerator_t *(*create_enumerator)(qkd_pool_store_t *this, char *link);

	/**
	 * Destroy a qkd_pool_store_t.
	 */
	void (*destroy)(qkd_pool_store_t *this);
};

/**
 * Open (and create) the store.
 *
 * @param uri		database URI, e.g. sqlite:///var/lib/strongswan/qkd-pool.db
 * @param keyfile	storage key file, created (mode 0600) if missing
 * @return			store, NULL on failure (logged)
 */
qkd_pool_store_t *qkd_pool_store_create(char *uri, char *keyfile);

#endif /** QKD_POOL_STORE_H_ @}*/
