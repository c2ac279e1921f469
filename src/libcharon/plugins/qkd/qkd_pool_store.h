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

#include "qkd_pool_batch.h"

typedef struct qkd_pool_store_t qkd_pool_store_t;
typedef enum qkd_store_sync_t qkd_store_sync_t;

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
 * Persistent, encrypted storage of key batches in an SQLite file (through
 * libsqlite3, so it works in any charon, with or without strongSwan's
 * sqlite plugin).
 *
 * Each batch is one row, its key material sealed by qkd_pool_seal_t (the
 * link name, key IDs, status bytes and Indexes authenticated; rows stored
 * before Indexes existed load without). Every change rewrites the row with
 * a fresh seal.
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
	 * (about 40 bytes per ID, appended in the order remembered) and in
	 * memory (a hashtable, about 40 bytes per ID); the chance that a new ID
	 * is taken for a used one is below 2^-40 with a million remembered.
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
 * @param uri		database file, as sqlite:///var/lib/strongswan/qkd-pool.db
 *					(the URI form of strongSwan's database plugins) or a path
 * @param keyfile	storage key file, created (mode 0600) if missing
 * @param interval	sync interval of QKD_STORE_SYNC_SOON writes in ms, 0 to
 *					sync each of them at once
 * @return			store, NULL on failure (logged)
 */
qkd_pool_store_t *qkd_pool_store_create(char *uri, char *keyfile,
										u_int interval);

#endif /** QKD_POOL_STORE_H_ @}*/
