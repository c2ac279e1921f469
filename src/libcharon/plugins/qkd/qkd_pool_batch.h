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
 * A batch of keys as the pool keeps and stores it.
 * @defgroup qkd_pool_batch qkd_pool_batch
 * @{ @ingroup qkd
 */

#ifndef QKD_POOL_BATCH_H_
#define QKD_POOL_BATCH_H_

#include "qkd_key.h"

#include <time.h>

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

	/** being deleted from the store, not to be dropped again */
	bool dropping;
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
 * Copy a batch (to store it without holding the pool's lock).
 * @param batch		batch to copy
 * @return			copy, with the row ID, keys, status and Indexes
 */
qkd_batch_t *qkd_batch_clone(qkd_batch_t *batch);

/**
 * Wipe and free a batch.
 *
 * @param batch		batch to destroy, may be NULL
 */
void qkd_batch_destroy(qkd_batch_t *batch);

#endif /** QKD_POOL_BATCH_H_ @}*/
