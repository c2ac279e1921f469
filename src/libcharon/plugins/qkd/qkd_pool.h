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
 * @defgroup qkd_pool qkd_pool
 * @{ @ingroup qkd
 */

#ifndef QKD_POOL_H_
#define QKD_POOL_H_

#include "qkd_key.h"
#include "qkd_pool_store.h"

typedef struct qkd_pool_t qkd_pool_t;
typedef struct qkd_pool_stats_t qkd_pool_stats_t;
typedef struct qkd_pool_key_info_t qkd_pool_key_info_t;
typedef struct qkd_pool_listener_t qkd_pool_listener_t;
typedef enum qkd_key_status_t qkd_key_status_t;
typedef enum qkd_derived_t qkd_derived_t;

/**
 * Status of a key (draft-qu-ipv6-quantum-key-sync-negotiation, tables 3
 * and 4). Original keys go Idle -> Pending -> Active -> Expired; derived
 * keys Idle -> Active -> Expired. Any key may expire at any time; a key
 * whose material left the pool never becomes Idle again.
 */
enum qkd_key_status_t {
	/** in the pool, unused */
	QKD_KEY_IDLE = 0,
	/** reserved for a key exchange or negotiation (original key only) */
	QKD_KEY_PENDING = 1,
	/** bound to a session */
	QKD_KEY_ACTIVE = 2,
	/** used up or too old: material wiped */
	QKD_KEY_EXPIRED = 3,
};

/**
 * Enum names for qkd_key_status_t.
 */
extern enum_name_t *qkd_key_status_names;

/**
 * Keys derived from each original key.
 */
enum qkd_derived_t {
	/** integrity key (e.g. HMAC-SHA256) */
	QKD_AUTH_KEY,
	/** encryption key (e.g. AES-256-GCM) */
	QKD_ENC_KEY,
};

/**
 * Pool levels and history, for logs and status dumps.
 */
struct qkd_pool_stats_t {
	/** original keys per status */
	u_int count[4];
	/** Pending keys reserved by take() and not handed out yet */
	u_int reserved;
	/** keys loaded from the store at start, stored since, and dropped
	 * since (all their keys expired): loaded + stored = the sum of count
	 * + dropped */
	u_int loaded, stored, dropped;
	/** creation time of the oldest Idle key, 0 if none */
	time_t oldest_idle;
	/** time of the last successful refill, 0 if none */
	time_t last_refill;
	/** last refill error, empty if none */
	char last_error[128];
};

/**
 * Metadata of a key in a pool, never its bytes.
 */
struct qkd_pool_key_info_t {
	/** Index in the pool, 0 if none yet */
	uint32_t index;
	/** key ID */
	uint8_t id[QKD_KEY_ID_LEN];
	/** status of the original key */
	qkd_key_status_t status;
	/** when the key entered the pool */
	time_t created;
};

/**
 * Listener to changes of a pool. Called without the pool locked; must not
 * block. Either function may be NULL.
 */
struct qkd_pool_listener_t {

	/**
	 * Keys left the Idle status (taken, bound, expired), e.g. to refill.
	 */
	void (*taken)(qkd_pool_listener_t *this);

	/**
	 * Keys this end got from its KME were added (qkd_pool_t.add(), not
	 * keys a peer announced), e.g. to announce them.
	 *
	 * @param keys		array of qkd_key_t*, read only
	 */
	void (*added)(qkd_pool_listener_t *this, array_t *keys);
};

/**
 * Keys take() reserves at once by default
 */
#define QKD_POOL_DEFAULT_RESERVE 16

/**
 * How long the IDs of dropped keys are remembered by default, in seconds
 */
#define QKD_POOL_DEFAULT_REMEMBER 86400

/**
 * Most Indexes a sync bitmap covers (the highest ones)
 */
#define QKD_POOL_MAX_SPAN (1 << 20)

/**
 * The quantum key pool of one link: persistent, encrypted, every key used
 * exactly once.
 *
 * Every key added gets an Index (1, 2, ...) that never changes and is
 * never given twice, stored with the key: keys added with add() get the
 * next Indexes of this pool, keys a peer announced get the Indexes the
 * peer gave them (add_indexed()), so an Index names the same key on both
 * ends for as long as both hold it. A key is marked Pending durably before
 * its material leaves the
 * pool. On start, keys that were Pending or Active when charon stopped
 * are expired (their sessions are gone) and never handed out again; Idle
 * keys stay.
 */
struct qkd_pool_t {

	/**
	 * Add keys fetched from the KME as Idle keys, stored before they are
	 * usable.
	 *
	 * @param keys		array of qkd_key_t*, all of the same size (copied)
	 * @return			FALSE if not stored (or beyond capacity), pool unchanged
	 */
	bool (*add)(qkd_pool_t *this, array_t *keys);

	/**
	 * Add keys a peer announced as Idle keys with the Indexes the peer gave
	 * them. A key of this pool holding one of these Indexes is from an
	 * earlier life of the peer: it expires and loses its Index.
	 *
	 * @param keys		array of qkd_key_t*, all of the same size (copied)
	 * @param indexes	Index of each key, none 0, none twice
	 * @return			FALSE if not stored (or beyond capacity), pool unchanged
	 */
	bool (*add_indexed)(qkd_pool_t *this, array_t *keys, uint32_t *indexes);

	/**
	 * Take the Idle key with the lowest Index: it becomes Pending (stored)
	 * before a copy of it is returned.
	 *
	 * @param timeout	ms to wait for a refill if no key is Idle, 0 for none
	 * @return			copy of the key (caller destroys), NULL if none
	 */
	qkd_key_t *(*take)(qkd_pool_t *this, u_int timeout);

	/**
	 * Record a key the peer chose (fetched by ID as slave) as Pending.
	 *
	 * @param key		key (copied)
	 * @return			FALSE if the key ID is known already or not stored
	 */
	bool (*add_pending)(qkd_pool_t *this, qkd_key_t *key);

	/**
	 * Change the status of an original key. Expiring a key wipes its
	 * material and those of its derived keys, and expires them.
	 *
	 * Idle -> Pending is synced to disk before this returns, Idle ->
	 * Expired is stored at once. Changes of keys already stored as in use
	 * (Pending -> Active -> Expired) are stored with the next write of
	 * their batch or by checkpoint(): a restart expires such keys anyway.
	 *
	 * @param id		key ID
	 * @param status	new status
	 * @return			FALSE if unknown, illegal transition or not stored
	 */
	bool (*set_status)(qkd_pool_t *this, uint8_t id[QKD_KEY_ID_LEN],
					   qkd_key_status_t status);

	/**
	 * Bind keys: change them all from Idle to Pending in one write, synced
	 * before it returns (one sync for all, however many batches they
	 * belong to), or none of them if one is unknown or not Idle.
	 *
	 * The keys are Pending in memory at once; the write is made without
	 * holding the pool's lock, so other keys can be used and expired (by
	 * key exchanges) meanwhile without waiting for the disk. If the write
	 * fails, the keys are Idle again.
	 *
	 * @param ids		key IDs, count * QKD_KEY_ID_LEN bytes
	 * @param count		number of keys
	 * @return			FALSE if none was bound (one unknown or not Idle) or
	 *					the write failed
	 */
	bool (*bind_keys)(qkd_pool_t *this, uint8_t *ids, u_int count);

	/**
	 * Change the status of a derived key (Idle -> Active -> Expired, only
	 * while the original key is Active, or Expired anytime).
	 *
	 * @param id		key ID of the original key
	 * @param which		which derived key
	 * @param status	new status
	 * @return			FALSE if unknown, illegal transition or not stored
	 */
	bool (*set_derived_status)(qkd_pool_t *this, uint8_t id[QKD_KEY_ID_LEN],
							   qkd_derived_t which, qkd_key_status_t status);

	/**
	 * Get the statuses of a key.
	 *
	 * @param id		key ID
	 * @param status	receives the status of the original key
	 * @param auth		receives the status of the AuthKey, or NULL
	 * @param enc		receives the status of the EncKey, or NULL
	 * @return			FALSE if the key is unknown
	 */
	bool (*get_status)(qkd_pool_t *this, uint8_t id[QKD_KEY_ID_LEN],
					   qkd_key_status_t *status, qkd_key_status_t *auth,
					   qkd_key_status_t *enc);

	/**
	 * Get a derived key of an Active original key:
	 * HKDF-SHA256(IKM = key, salt = none, info = "QKD AuthKey"/"QKD EncKey"),
	 * as long as the original key.
	 *
	 * @param id		key ID
	 * @param which		which derived key
	 * @param key		receives the derived key (caller clears)
	 * @return			FALSE if unknown or not Active
	 */
	bool (*derive)(qkd_pool_t *this, uint8_t id[QKD_KEY_ID_LEN],
				   qkd_derived_t which, chunk_t *key);

	/**
	 * Get the Index of a key.
	 *
	 * @param id		key ID
	 * @return			Index (1-based), 0 if unknown
	 */
	u_int (*get_index)(qkd_pool_t *this, uint8_t id[QKD_KEY_ID_LEN]);

	/**
	 * Get the key ID at an Index.
	 *
	 * @param index		Index (1-based)
	 * @param id		receives the key ID
	 * @return			FALSE if there is no key at that Index
	 */
	bool (*get_id)(qkd_pool_t *this, u_int index, uint8_t id[QKD_KEY_ID_LEN]);

	/**
	 * Get a copy of a Pending key, e.g. one bound by a DOH negotiation
	 * (qkd_pool_t.set_status() made it Pending, stored and synced).
	 *
	 * @param id		key ID
	 * @return			copy of the key (caller destroys), NULL if unknown
	 *					or not Pending
	 */
	qkd_key_t *(*get_pending)(qkd_pool_t *this, uint8_t id[QKD_KEY_ID_LEN]);

	/**
	 * Get the statuses of the keys from the lowest to the highest Index
	 * held as a sync bitmap: 2 bits per Index, the first in the most
	 * significant bits of the first byte, Idle 00, Pending 01, Active 10,
	 * Expired or not held 11 (the draft's "invalid or blank"). At most the
	 * highest QKD_POOL_MAX_SPAN Indexes.
	 *
	 * @param bitmap	receives the allocated bitmap, ceil(count / 4) bytes
	 * @param first		receives the first Index covered, 0 if none
	 * @return			number of Indexes covered, 0 if the pool is empty
	 */
	u_int (*get_bitmap)(qkd_pool_t *this, chunk_t *bitmap, uint32_t *first);

	/**
	 * Expire Idle keys older than the survival time.
	 *
	 * @param lifetime	survival time in seconds
	 * @return			number of keys expired
	 */
	u_int (*expire)(qkd_pool_t *this, u_int lifetime);

	/**
	 * Record the outcome of a refill attempt.
	 *
	 * @param error		NULL on success, else what went wrong
	 */
	void (*refilled)(qkd_pool_t *this, char *error);

	/**
	 * Register a listener to changes of the pool.
	 *
	 * @param listener	listener (not owned)
	 */
	void (*add_listener)(qkd_pool_t *this, qkd_pool_listener_t *listener);

	/**
	 * Unregister a listener; returns once no call to it is running any
	 * more.
	 *
	 * @param listener	listener
	 */
	void (*remove_listener)(qkd_pool_t *this, qkd_pool_listener_t *listener);

	/**
	 * Change the maximum number of Idle keys (existing keys stay).
	 *
	 * @param capacity	maximum number of Idle keys
	 */
	void (*set_capacity)(qkd_pool_t *this, u_int capacity);

	/**
	 * Change how long the IDs of keys dropped from the pool are remembered
	 * (QKD_POOL_DEFAULT_REMEMBER at first): a key with such an ID is
	 * refused by add(), add_indexed() and add_pending(), so a KME that
	 * issues a used key again never gets it used twice.
	 *
	 * @param remember	seconds
	 */
	void (*set_remember)(qkd_pool_t *this, u_int remember);

	/**
	 * Change how many keys take() reserves at once (QKD_POOL_DEFAULT_RESERVE
	 * at first, at most an eighth of the capacity): it marks that many Idle
	 * keys Pending with one synced write
	 * and hands them out one by one without writing, so a take is a memory
	 * operation most of the time. A restart expires the reserved keys not
	 * handed out yet, like every Pending key: up to that many keys are lost
	 * per restart, none is ever used twice.
	 *
	 * @param reserve	keys per reservation, at least 1
	 */
	void (*set_reserve)(qkd_pool_t *this, u_int reserve);

	/**
	 * Get the number of original keys with a status (cheap).
	 *
	 * @param status	status
	 * @return			number of keys
	 */
	u_int (*get_count)(qkd_pool_t *this, qkd_key_status_t status);

	/**
	 * Get levels and history (walks all keys).
	 *
	 * @param stats		receives the stats
	 */
	void (*get_stats)(qkd_pool_t *this, qkd_pool_stats_t *stats);

	/**
	 * List the metadata of the pool's keys, in Index order.
	 *
	 * @param statuses	(1 << qkd_key_status_t) bits of the statuses to list
	 * @param limit		at most this many keys, 0 for all
	 * @return			array of qkd_pool_key_info_t (array_destroy())
	 */
	array_t *(*list_keys)(qkd_pool_t *this, u_int statuses, u_int limit);

	/**
	 * Delete the batches whose keys all expired since (remembering their
	 * key IDs), store the status changes of keys in use made since their
	 * batch was last written, then move stored changes out of the
	 * write-ahead log (see qkd_pool_store_t.checkpoint()).
	 */
	void (*checkpoint)(qkd_pool_t *this);

	/**
	 * Destroy a qkd_pool_t: as checkpoint() without the write-ahead log
	 * step, then wipe all keys in memory.
	 */
	void (*destroy)(qkd_pool_t *this);
};

/**
 * Load the pool of a link from the store, expiring keys left Pending or
 * Active by a previous run.
 *
 * @param store		persistent store (not owned)
 * @param link		link name
 * @param capacity	maximum number of Idle keys
 * @return			pool
 */
qkd_pool_t *qkd_pool_create(qkd_pool_store_t *store, char *link,
							u_int capacity);

#endif /** QKD_POOL_H_ @}*/
