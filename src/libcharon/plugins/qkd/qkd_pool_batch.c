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

#include "qkd_pool_batch.h"

/*
 * Described in header
 */
qkd_batch_t *qkd_batch_create(u_int count, u_int key_len, time_t created)
{
	qkd_batch_t *this;

	INIT(this,
		.count = count,
		.key_len = key_len,
		.created = created,
		.ids = calloc(count, QKD_KEY_ID_LEN),
		.keys = chunk_alloc(count * key_len),
		.status = calloc(count, 1),
		.indexes = calloc(count, sizeof(uint32_t)),
	);
	memset(this->keys.ptr, 0, this->keys.len);
	return this;
}

/*
 * Described in header
 */
qkd_batch_t *qkd_batch_clone(qkd_batch_t *batch)
{
	qkd_batch_t *this;

	this = qkd_batch_create(batch->count, batch->key_len, batch->created);
	this->rowid = batch->rowid;
	this->dirty = batch->dirty;
	memcpy(this->ids, batch->ids, batch->count * QKD_KEY_ID_LEN);
	memcpy(this->keys.ptr, batch->keys.ptr, batch->keys.len);
	memcpy(this->status, batch->status, batch->count);
	memcpy(this->indexes, batch->indexes, batch->count * sizeof(uint32_t));
	return this;
}

/*
 * Described in header
 */
void qkd_batch_destroy(qkd_batch_t *this)
{
	if (this)
	{
		chunk_clear(&this->keys);
		free(this->ids);
		free(this->status);
		free(this->indexes);
		free(this);
	}
}
