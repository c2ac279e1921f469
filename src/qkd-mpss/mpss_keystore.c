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

#include "mpss_keystore.h"

#include <collections/hashtable.h>
#include <collections/linked_list.h>
#include <threading/condvar.h>
#include <threading/mutex.h>

typedef struct private_mpss_keystore_t private_mpss_keystore_t;

/**
 * Outcome of a secret, kept until taken or too old
 */
typedef struct {
	/** its KEYID */
	uint8_t id[QKD_KEY_ID_LEN];
	/** the key, if rebuilt and not yet taken */
	chunk_t key;
	/** outcome; MPSS_TAKE_UNKNOWN once taken */
	mpss_take_t outcome;
	/** when it came */
	time_t added;
} entry_t;

/**
 * Private data of an mpss_keystore_t object.
 */
struct private_mpss_keystore_t {

	/**
	 * Public interface.
	 */
	mpss_keystore_t public;

	/**
	 * Outcomes by KEYID, entry_t*
	 */
	hashtable_t *entries;

	/**
	 * The same, oldest first
	 */
	linked_list_t *order;

	/**
	 * Keys not yet taken
	 */
	u_int keys;

	/**
	 * Lifetime of an outcome, s, and most kept
	 */
	u_int lifetime, max;

	/**
	 * Protects the above; signaled when an outcome comes
	 */
	mutex_t *mutex;
	condvar_t *condvar;
};

/**
 * Wipe and free an entry
 */
static void entry_destroy(private_mpss_keystore_t *this, entry_t *entry)
{
	if (entry->key.ptr)
	{
		this->keys--;
	}
	chunk_clear(&entry->key);
	free(entry);
}

/**
 * Drop the oldest entry
 */
static void drop_oldest(private_mpss_keystore_t *this)
{
	entry_t *entry;

	if (this->order->remove_first(this->order, (void**)&entry) == SUCCESS)
	{
		this->entries->remove(this->entries, entry->id);
		entry_destroy(this, entry);
	}
}

/**
 * Store an outcome, if none is known for the secret yet
 */
static void add(private_mpss_keystore_t *this, uint8_t id[QKD_KEY_ID_LEN],
				chunk_t key, mpss_take_t outcome)
{
	entry_t *entry;

	this->mutex->lock(this->mutex);
	if (!this->entries->get(this->entries, id))
	{
		if (this->order->get_count(this->order) >= this->max)
		{
			DBG1(DBG_LIB, "MPSS key store full (%u), dropping the oldest key",
				 this->max);
			drop_oldest(this);
		}
		INIT(entry,
			.key = chunk_clone(key),
			.outcome = outcome,
			.added = time_monotonic(NULL),
		);
		memcpy(entry->id, id, QKD_KEY_ID_LEN);
		this->keys += entry->key.ptr != NULL;
		this->entries->put(this->entries, entry->id, entry);
		this->order->insert_last(this->order, entry);
		this->condvar->broadcast(this->condvar);
	}
	this->mutex->unlock(this->mutex);
}

METHOD(qkd_mpss_listener_t, rebuilt, void,
	private_mpss_keystore_t *this, uint8_t id[QKD_KEY_ID_LEN],
	chunk_t secret, u_int shares, bool checked)
{
	char uuid[QKD_KEY_ID_STRLEN + 1];

	qkd_key_id_format(id, uuid);
	DBG1(DBG_LIB, "qkd-mpss: secret %s rebuilt from %u shares, %s", uuid,
		 shares, checked ? "checked" : "unchecked");
	add(this, id, secret, MPSS_TAKE_OK);
}

METHOD(qkd_mpss_listener_t, failed, void,
	private_mpss_keystore_t *this, uint8_t id[QKD_KEY_ID_LEN],
	u_int shares, bool tampered)
{
	char uuid[QKD_KEY_ID_STRLEN + 1];

	qkd_key_id_format(id, uuid);
	if (tampered)
	{
		DBG1(DBG_LIB, "qkd-mpss: secret %s refused: its %u shares disagree, "
			 "a share was altered", uuid, shares);
	}
	else
	{
		DBG1(DBG_LIB, "qkd-mpss: secret %s given up: %u share%s within the "
			 "wait, too few", uuid, shares, shares == 1 ? "" : "s");
	}
	add(this, id, chunk_empty,
		tampered ? MPSS_TAKE_TAMPERED : MPSS_TAKE_TOO_FEW);
}

METHOD(mpss_keystore_t, take, mpss_take_t,
	private_mpss_keystore_t *this, uint8_t id[QKD_KEY_ID_LEN], u_int timeout,
	qkd_key_t **key)
{
	timeval_t deadline;
	entry_t *entry;
	mpss_take_t outcome;

	time_monotonic(&deadline);
	timeval_add_ms(&deadline, timeout);
	this->mutex->lock(this->mutex);
	while (!(entry = this->entries->get(this->entries, id)))
	{
		if (this->condvar->timed_wait_abs(this->condvar, this->mutex,
										  deadline))
		{
			break;
		}
	}
	outcome = entry ? entry->outcome : MPSS_TAKE_UNKNOWN;
	if (outcome == MPSS_TAKE_OK)
	{
		*key = qkd_key_create(id, entry->key);
		entry->key = chunk_empty;
		entry->outcome = MPSS_TAKE_UNKNOWN;
		this->keys--;
	}
	this->mutex->unlock(this->mutex);
	return outcome;
}

METHOD(mpss_keystore_t, expire, void,
	private_mpss_keystore_t *this)
{
	time_t now = time_monotonic(NULL);
	entry_t *entry;

	this->mutex->lock(this->mutex);
	while (this->order->get_first(this->order, (void**)&entry) == SUCCESS &&
		   entry->added + this->lifetime <= now)
	{
		if (entry->key.ptr)
		{
			DBG1(DBG_LIB, "MPSS key not fetched within %us, wiped",
				 this->lifetime);
		}
		drop_oldest(this);
	}
	this->mutex->unlock(this->mutex);
}

METHOD(mpss_keystore_t, get_count, u_int,
	private_mpss_keystore_t *this)
{
	u_int count;

	this->mutex->lock(this->mutex);
	count = this->keys;
	this->mutex->unlock(this->mutex);
	return count;
}

METHOD(mpss_keystore_t, destroy, void,
	private_mpss_keystore_t *this)
{
	while (this->order->get_count(this->order))
	{
		drop_oldest(this);
	}
	this->order->destroy(this->order);
	this->entries->destroy(this->entries);
	this->condvar->destroy(this->condvar);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
mpss_keystore_t *mpss_keystore_create(u_int lifetime, u_int max)
{
	private_mpss_keystore_t *this;

	INIT(this,
		.public = {
			.listener = {
				.rebuilt = _rebuilt,
				.failed = _failed,
			},
			.take = _take,
			.expire = _expire,
			.get_count = _get_count,
			.destroy = _destroy,
		},
		.entries = hashtable_create(qkd_key_id_hash, qkd_key_id_equals,
									64),
		.order = linked_list_create(),
		.lifetime = lifetime,
		.max = max ?: 1,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
	);
	return &this->public;
}
