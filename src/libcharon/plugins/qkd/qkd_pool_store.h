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
typedef enum qkd_store_sync_t qkd_store_sync_t;
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

	/** Index of each key (see qkd_pool.h), 0 if it has none */
	uint32_t *indexes;

	/** status or keys changed since the batch was last stored */
	bool dirty;
};

/**
 * Create an empty batch.
 *
 * @param count		number of keys
 * @param key_len	length of each key, bytes
 * @param created	creation time
 * @return			batch, IDs, keys, status and Indexes zeroed
 */
qkd_batch_t *qkd_batch_create(u_int count, u_int key_len, time_t created);

/**
 * Wipe and free a batch.
 *
 * @param batch		batch to destroy, may be NULL
 */
void qkd_batch_destroy(qkd_batch_t *batch);

/**
 * How soon a write to the store reaches the disk. Every write survives
 * charon being killed; these differ in when it survives a power loss or a
 * kernel crash too.
 */
enum qkd_store_sync_t {
	/** synced by a later sync or checkpoint */
	QKD_STORE_UNSYNCED,
	/** synced within the store's sync interval, by this write if the last
	 * sync is older */
	QKD_STORE_SYNC_SOON,
	/** synced before the write returns */
	QKD_STORE_SYNC_NOW,
};

/**
 * Persistent, encrypted storage of key batches in an SQL database
 * (database_t, e.g. SQLite).
 *
 * Each batch is one row. Its key material is sealed with AES-256-GCM under
 * a key derived (HKDF-SHA256) from the storage key and a random 16-byte
 * nonce per seal; the associated data covers the link name, the key IDs,
 * the status bytes and the Indexes, so none of them can be changed
 * unnoticed (rows stored before Indexes existed load without). Every
 * change rewrites the row with a fresh seal.
 *
 * The database runs in WAL mode. Every write survives charon being killed;
 * a write is synced to disk as its qkd_store_sync_t asks: keys leaving the
 * pool at once, new keys within the sync interval, the others (e.g.
 * expiring a key that was in use, which a restart does anyway) by a later
 * sync or checkpoint. A sync covers all writes before it.
 */
struct qkd_pool_store_t {

	/**
	 * Store a new batch, sets its rowid.
	 *
	 * @param link		link name
	 * @param batch		batch to store
	 * @param sync		when the write must be synced to disk
	 * @return			TRUE if stored
	 */
	bool (*insert)(qkd_pool_store_t *this, char *link, qkd_batch_t *batch,
				   qkd_store_sync_t sync);

	/**
	 * Rewrite a stored batch after a status change (resealed).
	 *
	 * @param link		link name
	 * @param batch		batch to update
	 * @param sync		when the write must be synced to disk
	 * @return			TRUE if updated
	 */
	bool (*update)(qkd_pool_store_t *this, char *link, qkd_batch_t *batch,
				   qkd_store_sync_t sync);

	/**
	 * Delete a stored batch, remembering its key IDs as used (see
	 * find_used()), in one transaction.
	 *
	 * @param batch		batch to delete
	 * @param remember	how long its key IDs are remembered, in seconds
	 * @return			TRUE if deleted
	 */
	bool (*remove)(qkd_pool_store_t *this, qkd_batch_t *batch,
				   u_int remember);

	/**
	 * Check whether key IDs belonged to batches deleted before, within the
	 * time they are remembered. The store keeps a 64-bit keyed hash of each
	 * such ID (SipHash under a key derived from the storage key), on disk
	 * (about 30 bytes per ID) and in memory (a hashtable, about 40 bytes per
	 * ID); the chance that a new ID is taken for a used one is below 2^-40
	 * with a million remembered.
	 *
	 * @param ids		key IDs, count * QKD_KEY_ID_LEN bytes
	 * @param count		number of IDs
	 * @param which		receives the position of a used one
	 * @return			TRUE if one was used before
	 */
	bool (*find_used)(qkd_pool_store_t *this, uint8_t *ids, u_int count,
					  u_int *which);

	/**
	 * Move what the WAL holds into the database file and truncate the WAL,
	 * so that overwritten rows (wiped keys) don't linger there. Syncs all
	 * writes before it. Does nothing if nothing was written since the last
	 * checkpoint, or if that was less than a second ago (every pool of the
	 * store asks once a second).
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
 * @param interval	sync interval of QKD_STORE_SYNC_SOON writes in ms, 0 to
 *					sync each of them at once
 * @return			store, NULL on failure (logged)
 */
qkd_pool_store_t *qkd_pool_store_create(char *uri, char *keyfile,
										u_int interval);

#endif /** QKD_POOL_STORE_H_ @}*/
