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

#include "qkd_pool.h"
#include "qkd_hkdf.h"

#include <stdlib.h>
#include <time.h>

#include <utils/debug.h>
#include <collections/linked_list.h>
#include <collections/hashtable.h>
#include <threading/mutex.h>
#include <threading/condvar.h>
#include <threading/rwlock.h>

ENUM(qkd_key_status_names, QKD_KEY_IDLE, QKD_KEY_EXPIRED,
	"Idle",
	"Pending",
	"Active",
	"Expired",
);

/**
 * Status byte of a key: original (bits 0-1), AuthKey (2-3), EncKey (4-5)
 */
#define ORIG(b) ((qkd_key_status_t)((b) & 0x03))
#define DERIVED(b, which) ((qkd_key_status_t)(((b) >> (2 + 2 * (which))) & 0x03))
#define WITH_DERIVED(b, which, s) \
	(((b) & ~(0x03 << (2 + 2 * (which)))) | ((s) << (2 + 2 * (which))))
#define ALL_EXPIRED (QKD_KEY_EXPIRED | QKD_KEY_EXPIRED << 2 | \
					 QKD_KEY_EXPIRED << 4)

typedef struct private_qkd_pool_t private_qkd_pool_t;

/**
 * A key in Index order: where it lives
 */
typedef struct {
	/** key ID, in the batch */
	uint8_t *id;
	/** batch of the key */
	qkd_batch_t *batch;
	/** position in the batch */
	u_int idx;
} entry_t;

/**
 * Index of an entry's key
 */
#define INDEX(e) ((e)->batch->indexes[(e)->idx])

/**
 * Private data of a qkd_pool_t object.
 */
struct private_qkd_pool_t {

	/**
	 * Public interface.
	 */
	qkd_pool_t public;

	/**
	 * Persistent store
	 */
	qkd_pool_store_t *store;

	/**
	 * Link name
	 */
	char *link;

	/**
	 * Maximum number of Idle keys
	 */
	u_int capacity;

	/**
	 * How long the IDs of dropped keys are remembered, in seconds
	 */
	u_int remember;

	/**
	 * Batches, as qkd_batch_t*
	 */
	linked_list_t *batches;

	/**
	 * Batch of each key, by key ID (pointing into the batch)
	 */
	hashtable_t *ids;

	/**
	 * All keys, sorted by Index unless dirty (sorted when needed); keys
	 * without Index (0) first
	 */
	entry_t *entries;

	/**
	 * Number of entries, and allocated entries
	 */
	u_int count, size;

	/**
	 * Whether entries need sorting
	 */
	bool dirty;

	/**
	 * No Idle key below this position in entries
	 */
	u_int first_idle;

	/**
	 * Keys take() reserved (Pending on disk) and did not hand out yet, key
	 * IDs
	 */
	array_t *reserved;

	/**
	 * How many keys take() reserves at once
	 */
	u_int reserve;

	/**
	 * Index the next key added gets: above every Index ever given, as the
	 * batch holding the highest one stays stored until a newer one is
	 */
	uint32_t next_index;

	/**
	 * Original keys per status
	 */
	u_int counts[4];

	/**
	 * Keys loaded at start, stored and dropped since, for accounting
	 */
	u_int loaded, stored, dropped;

	/**
	 * Last successful refill
	 */
	time_t last_refill;

	/**
	 * Last refill error
	 */
	char last_error[128];

	/**
	 * Protects everything above
	 */
	mutex_t *mutex;

	/**
	 * Signals changes of the Idle count
	 */
	condvar_t *condvar;

	/**
	 * Orders the writes to the store: a write takes the next ticket with
	 * mutex held, so batches are stored in the order they were changed,
	 * and waits for its turn with writer held. bind_keys(), checkpoint()
	 * and add() release mutex before they wait, so key exchanges need
	 * not wait for the disk. Holding a ticket, a thread takes mutex only if
	 * it held it when it took the ticket.
	 */
	mutex_t *writer;

	/**
	 * Signals the next turn to write
	 */
	condvar_t *turn;

	/**
	 * Next ticket to hand out (with mutex), ticket whose turn it is (with
	 * writer)
	 */
	u_int tickets, serving;

	/**
	 * Serializes add() and add_indexed(), which store their batch without
	 * mutex held; taken before mutex
	 */
	mutex_t *adder;

	/**
	 * Batch add() or add_indexed() is storing, not in the pool yet, or
	 * NULL (with mutex): its key IDs are known already
	 */
	qkd_batch_t *adding;

	/**
	 * Listeners (qkd_pool_listener_t*), and the lock protecting them
	 */
	linked_list_t *listeners;
	rwlock_t *cb_lock;

	/**
	 * Derives AuthKey and EncKey
	 */
	qkd_hkdf_t *hkdf;
};

/**
 * Compare two entries by Index
 */
static int entry_cmp(const void *a, const void *b)
{
	uint32_t x = INDEX((entry_t*)a), y = INDEX((entry_t*)b);

	return x < y ? -1 : x > y;
}

/**
 * Sort the entries if needed
 */
static void sort_entries(private_qkd_pool_t *this)
{
	if (this->dirty)
	{
		qsort(this->entries, this->count, sizeof(entry_t), entry_cmp);
		this->dirty = FALSE;
		this->first_idle = 0;
	}
}

/**
 * Find the position of a key ID in a batch (which may be NULL)
 */
static bool find_in_batch(qkd_batch_t *batch, uint8_t id[QKD_KEY_ID_LEN],
						  u_int *idx)
{
	u_int i;

	for (i = 0; batch && i < batch->count; i++)
	{
		if (memeq(batch->ids + i * QKD_KEY_ID_LEN, id, QKD_KEY_ID_LEN))
		{
			*idx = i;
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * Find the batch and position of a key ID
 */
static bool lookup(private_qkd_pool_t *this, uint8_t id[QKD_KEY_ID_LEN],
				   entry_t *entry)
{
	qkd_batch_t *batch;
	u_int i;

	batch = this->ids->get(this->ids, id);
	if (!find_in_batch(batch, id, &i))
	{
		return FALSE;
	}
	*entry = (entry_t){
		.id = batch->ids + i * QKD_KEY_ID_LEN,
		.batch = batch,
		.idx = i,
	};
	return TRUE;
}

/**
 * Copy the ID and material of a key out of its batch
 */
static qkd_key_t *copy_key(entry_t *entry)
{
	qkd_batch_t *batch = entry->batch;

	return qkd_key_create(entry->id, chunk_clone(chunk_create(
						  batch->keys.ptr + entry->idx * batch->key_len,
						  batch->key_len)));
}

/**
 * Find the entry of an Index (not 0)
 */
static entry_t *find_index(private_qkd_pool_t *this, uint32_t index)
{
	u_int low = 0, high, mid;

	sort_entries(this);
	high = this->count;
	while (low < high)
	{
		mid = low + (high - low) / 2;
		if (INDEX(&this->entries[mid]) < index)
		{
			low = mid + 1;
		}
		else
		{
			high = mid;
		}
	}
	if (index && low < this->count && INDEX(&this->entries[low]) == index)
	{
		return &this->entries[low];
	}
	return NULL;
}

/**
 * Whether a batch holds the highest Index given so far, which keeps it
 * stored (see next_index)
 */
static bool holds_last_index(private_qkd_pool_t *this, qkd_batch_t *batch)
{
	u_int i;

	for (i = 0; i < batch->count; i++)
	{
		if (batch->indexes[i] && batch->indexes[i] + 1 == this->next_index)
		{
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * Add the keys of a batch to the entries and counts
 */
static void add_entries(private_qkd_pool_t *this, qkd_batch_t *batch)
{
	u_int i;

	if (this->count + batch->count > this->size)
	{
		this->size = max(this->size * 2, this->count + batch->count);
		this->entries = realloc(this->entries, this->size * sizeof(entry_t));
	}
	for (i = 0; i < batch->count; i++)
	{
		this->entries[this->count++] = (entry_t){
			.id = batch->ids + i * QKD_KEY_ID_LEN,
			.batch = batch,
			.idx = i,
		};
		this->ids->put(this->ids, batch->ids + i * QKD_KEY_ID_LEN, batch);
		this->counts[ORIG(batch->status[i])]++;
		this->next_index = max(this->next_index, batch->indexes[i] + 1);
	}
	this->batches->insert_last(this->batches, batch);
	this->dirty = TRUE;
}

/**
 * Take the next ticket to write, with mutex held
 */
static u_int write_ticket(private_qkd_pool_t *this)
{
	return this->tickets++;
}

/**
 * Wait for the turn of a ticket to write, returns with writer held
 */
static void write_turn(private_qkd_pool_t *this, u_int ticket)
{
	this->writer->lock(this->writer);
	while (this->serving != ticket)
	{
		this->turn->wait(this->turn, this->writer);
	}
}

/**
 * End a turn to write
 */
static void write_done(private_qkd_pool_t *this)
{
	this->serving++;
	this->turn->broadcast(this->turn);
	this->writer->unlock(this->writer);
}

/**
 * Write a batch over its row, with mutex held
 */
static bool write_update(private_qkd_pool_t *this, qkd_batch_t *batch,
						 qkd_store_sync_t sync)
{
	bool ok;

	write_turn(this, write_ticket(this));
	ok = this->store->update(this->store, this->link, batch, sync);
	write_done(this);
	return ok;
}

/**
 * Store a new batch, with mutex held
 */
static bool write_insert(private_qkd_pool_t *this, qkd_batch_t *batch,
						 qkd_store_sync_t sync)
{
	bool ok;

	write_turn(this, write_ticket(this));
	ok = this->store->insert(this->store, this->link, batch, sync);
	write_done(this);
	return ok;
}

/**
 * Delete a batch, remembering its key IDs, with mutex held
 */
static bool write_remove(private_qkd_pool_t *this, qkd_batch_t *batch)
{
	bool ok;

	write_turn(this, write_ticket(this));
	ok = this->store->remove(this->store, batch, this->remember);
	write_done(this);
	return ok;
}

/**
 * Drop a batch whose keys all expired, from the store (unless removed
 * already) and from memory
 */
static void drop_batch(private_qkd_pool_t *this, qkd_batch_t *batch,
					   bool removed)
{
	u_int i, j;

	if (!removed && !write_remove(this, batch))
	{	/* its stored keys are wiped already, try again on next start */
		DBG1(DBG_CFG, "qkd pool '%s': deleting batch %d failed", this->link,
			 batch->rowid);
	}
	for (i = 0; i < batch->count; i++)
	{
		this->ids->remove(this->ids, batch->ids + i * QKD_KEY_ID_LEN);
	}
	for (i = j = 0; i < this->count; i++)
	{
		if (this->entries[i].batch != batch)
		{
			this->entries[j++] = this->entries[i];
		}
	}
	this->count = j;
	this->first_idle = 0;
	this->counts[QKD_KEY_EXPIRED] -= batch->count;
	this->dropped += batch->count;
	this->batches->remove(this->batches, batch, NULL);
	qkd_batch_destroy(batch);
}

/**
 * Check whether all keys of a batch expired
 */
static bool all_expired(qkd_batch_t *batch)
{
	u_int i;

	for (i = 0; i < batch->count; i++)
	{
		if (batch->status[i] != ALL_EXPIRED)
		{
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * Whether a batch can go: all its keys expired, and it does not hold the
 * highest Index given (Indexes are never given twice)
 */
static bool droppable(private_qkd_pool_t *this, qkd_batch_t *batch)
{
	return !batch->dropping && all_expired(batch) &&
		   !holds_last_index(this, batch);
}

/**
 * State of a batch before a change, to undo it if it can't be stored
 */
typedef struct {
	/** status bytes before the change */
	uint8_t *status;
	/** key material before the change, only if the change wipes keys */
	chunk_t keys;
} snapshot_t;

/**
 * Remember the state of a batch before changing it
 */
static snapshot_t snapshot(qkd_batch_t *batch, bool wipes)
{
	return (snapshot_t){
		.status = chunk_clone(chunk_create(batch->status, batch->count)).ptr,
		.keys = wipes ? chunk_clone(batch->keys) : chunk_empty,
	};
}

/**
 * Release a snapshot, wiping its keys
 */
static void release(snapshot_t *old)
{
	free(old->status);
	chunk_clear(&old->keys);
}

/**
 * Store changed status bytes (and wiped keys) of a batch, or undo them
 * from the snapshot, which is released either way.
 */
static bool commit_batch(private_qkd_pool_t *this, qkd_batch_t *batch,
						 snapshot_t old, bool durable)
{
	bool gone, ok = TRUE;
	u_int i;

	/* a batch whose keys all expired is deleted (secure_delete wipes the
	 * row), no need to rewrite it first */
	gone = droppable(this, batch) &&
		   write_remove(this, batch);
	if (!gone && !write_update(this, batch,
						durable ? QKD_STORE_SYNC_NOW : QKD_STORE_UNSYNCED))
	{
		DBG1(DBG_CFG, "qkd pool '%s': storing a status change failed, "
			 "change undone", this->link);
		memcpy(batch->status, old.status, batch->count);
		this->first_idle = 0;
		if (old.keys.ptr)
		{
			memcpy(batch->keys.ptr, old.keys.ptr, batch->keys.len);
		}
		ok = FALSE;
	}
	else
	{
		for (i = 0; i < batch->count; i++)
		{
			this->counts[ORIG(old.status[i])]--;
			this->counts[ORIG(batch->status[i])]++;
		}
		if (droppable(this, batch))
		{
			drop_batch(this, batch, gone);
		}
	}
	release(&old);
	return ok;
}

/**
 * Set the status byte of a key in its batch, wiping the key if it expires
 */
static void set_byte(qkd_batch_t *batch, u_int idx, uint8_t status)
{
	batch->status[idx] = status;
	if (ORIG(status) == QKD_KEY_EXPIRED)
	{
		batch->status[idx] = ALL_EXPIRED;
		memwipe(batch->keys.ptr + idx * batch->key_len, batch->key_len);
	}
}

/**
 * Change the status byte of a key no longer stored as Idle: in memory at
 * once, in the store with the next write of its batch or checkpoint(). A
 * restart expires keys stored as Pending or Active anyway, so nothing
 * here needs a write of its own; key material of expired keys is wiped in
 * memory at once and in the store when the batch is written or deleted.
 */
static void change_lazily(private_qkd_pool_t *this, entry_t *entry,
						  uint8_t status)
{
	qkd_batch_t *batch = entry->batch;
	uint8_t old = batch->status[entry->idx];

	set_byte(batch, entry->idx, status);
	this->counts[ORIG(old)]--;
	this->counts[ORIG(batch->status[entry->idx])]++;
	/* a batch whose keys all expired goes with the next checkpoint(): its
	 * deletion is a write, not to be done by a key exchange */
	batch->dirty = TRUE;
}

/**
 * Change the status byte of one key. A key stored as Idle is stored at
 * once (synced to disk if durable), so that a restart does not find it
 * Idle again; any other is changed lazily.
 */
static bool change(private_qkd_pool_t *this, entry_t *entry, uint8_t status,
				   bool durable)
{
	qkd_batch_t *batch = entry->batch;
	snapshot_t old;

	if (ORIG(batch->status[entry->idx]) != QKD_KEY_IDLE)
	{
		change_lazily(this, entry, status);
		return TRUE;
	}
	/* only expiring wipes key material that an undo must restore */
	old = snapshot(batch, ORIG(status) == QKD_KEY_EXPIRED);
	set_byte(batch, entry->idx, status);
	return commit_batch(this, batch, old, durable);
}

/**
 * Check an original key transition
 */
static bool legal(qkd_key_status_t from, qkd_key_status_t to)
{
	switch (to)
	{
		case QKD_KEY_PENDING:
			return from == QKD_KEY_IDLE;
		case QKD_KEY_ACTIVE:
			return from == QKD_KEY_PENDING;
		case QKD_KEY_EXPIRED:
			return from != QKD_KEY_EXPIRED;
		case QKD_KEY_IDLE:
		default:
			return FALSE;
	}
}

/**
 * Compare two key IDs for qsort()
 */
static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, QKD_KEY_ID_LEN);
}

/**
 * Check whether a batch has the same key ID twice
 */
static bool batch_has_duplicates(qkd_batch_t *batch)
{
	uint8_t *sorted;
	bool found = FALSE;
	u_int i;

	sorted = malloc(batch->count * QKD_KEY_ID_LEN);
	memcpy(sorted, batch->ids, batch->count * QKD_KEY_ID_LEN);
	qsort(sorted, batch->count, QKD_KEY_ID_LEN, id_cmp);
	for (i = 1; i < batch->count && !found; i++)
	{
		found = memeq(sorted + (i - 1) * QKD_KEY_ID_LEN,
					  sorted + i * QKD_KEY_ID_LEN, QKD_KEY_ID_LEN);
	}
	free(sorted);
	return found;
}

/**
 * Check the Indexes the peer gave keys: not 0, not twice
 */
static bool indexes_valid(uint32_t *indexes, u_int count)
{
	u_int i, j;

	for (i = 0; i < count; i++)
	{
		if (!indexes[i])
		{
			return FALSE;
		}
		for (j = 0; j < i; j++)
		{
			if (indexes[i] == indexes[j])
			{
				return FALSE;
			}
		}
	}
	return TRUE;
}

/**
 * A key holds an Index the peer now gives another key: the peer started
 * afresh without it. Expire it and take its Index away.
 */
static void evict_index(private_qkd_pool_t *this, uint32_t index)
{
	entry_t *entry;
	char uuid[QKD_KEY_ID_STRLEN + 1];

	entry = find_index(this, index);
	if (!entry)
	{
		return;
	}
	qkd_key_id_format(entry->id, uuid);
	DBG1(DBG_CFG, "qkd pool '%s': the peer gives Index %u to another key, "
		 "key %s that had it expires", this->link, index, uuid);
	entry->batch->indexes[entry->idx] = 0;
	entry->batch->dirty = TRUE;
	this->dirty = TRUE;
	if (ORIG(entry->batch->status[entry->idx]) != QKD_KEY_EXPIRED)
	{
		change(this, entry, QKD_KEY_EXPIRED, FALSE);
	}
}

/**
 * Check keys to add and fill the batch with them and their Indexes, with
 * mutex held. Returns FALSE if they are refused.
 */
static bool check_batch(private_qkd_pool_t *this, qkd_batch_t *batch,
						array_t *keys, uint32_t *indexes)
{
	char uuid[QKD_KEY_ID_STRLEN + 1];
	qkd_key_t *key;
	entry_t known;
	u_int i, used, count = array_count(keys);

	for (i = 0; i < count; i++)
	{
		array_get(keys, i, &key);
		if (key->key.len != batch->key_len)
		{
			DBG1(DBG_CFG, "qkd pool '%s': batch with keys of %u and %zu "
				 "bytes refused", this->link, batch->key_len, key->key.len);
			return FALSE;
		}
		if (lookup(this, key->id, &known))
		{
			qkd_key_id_format(key->id, uuid);
			DBG1(DBG_CFG, "qkd pool '%s': batch refused, key %s is known "
				 "(issued twice?)", this->link, uuid);
			return FALSE;
		}
		memcpy(batch->ids + i * QKD_KEY_ID_LEN, key->id, QKD_KEY_ID_LEN);
		memcpy(batch->keys.ptr + i * batch->key_len, key->key.ptr,
			   batch->key_len);
		batch->indexes[i] = indexes ? indexes[i] : this->next_index + i;
	}
	if (this->store->find_used(this->store, batch->ids, count, &used))
	{
		qkd_key_id_format(batch->ids + used * QKD_KEY_ID_LEN, uuid);
		DBG1(DBG_CFG, "qkd pool '%s': batch refused, key %s was used before "
			 "(issued again?)", this->link, uuid);
		return FALSE;
	}
	if (batch_has_duplicates(batch))
	{
		DBG1(DBG_CFG, "qkd pool '%s': batch with duplicate key IDs refused",
			 this->link);
		return FALSE;
	}
	if (this->counts[QKD_KEY_IDLE] + count > this->capacity)
	{
		DBG1(DBG_CFG, "qkd pool '%s': %u keys would exceed the capacity of "
			 "%u Idle keys, refused", this->link, count, this->capacity);
		return FALSE;
	}
	return TRUE;
}

/**
 * Add a batch of keys with the given Indexes, or new ones if NULL. The
 * batch is stored without mutex held, so key exchanges need not wait for
 * a refill's write; it joins the pool once stored.
 */
static bool add_keys(private_qkd_pool_t *this, array_t *keys,
					 uint32_t *indexes)
{
	qkd_batch_t *batch;
	qkd_key_t *key;
	u_int i, ticket, count = array_count(keys);
	bool ok;

	if (!count)
	{
		return TRUE;
	}
	if (indexes && !indexes_valid(indexes, count))
	{
		DBG1(DBG_CFG, "qkd pool '%s': batch with an Index 0 or twice "
			 "refused", this->link);
		return FALSE;
	}
	array_get(keys, ARRAY_HEAD, &key);
	batch = qkd_batch_create(count, key->key.len, time(NULL));
	/* one add at a time: Indexes and key IDs checked here stay free until
	 * the batch joins the pool */
	this->adder->lock(this->adder);
	this->mutex->lock(this->mutex);
	if (!check_batch(this, batch, keys, indexes))
	{
		this->mutex->unlock(this->mutex);
		this->adder->unlock(this->adder);
		qkd_batch_destroy(batch);
		return FALSE;
	}
	for (i = 0; indexes && i < count; i++)
	{
		evict_index(this, indexes[i]);
	}
	this->adding = batch;
	ticket = write_ticket(this);
	this->mutex->unlock(this->mutex);

	/* the KME delivered these keys once, they must not get lost: survives
	 * charon being killed at once, a power loss after the sync interval */
	write_turn(this, ticket);
	ok = this->store->insert(this->store, this->link, batch,
							 QKD_STORE_SYNC_SOON);
	write_done(this);

	this->mutex->lock(this->mutex);
	this->adding = NULL;
	if (ok)
	{
		add_entries(this, batch);
		this->stored += batch->count;
		/* a batch kept only for holding the highest Index goes with the
		 * next checkpoint() */
		this->condvar->broadcast(this->condvar);
	}
	this->mutex->unlock(this->mutex);
	this->adder->unlock(this->adder);
	if (!ok)
	{
		DBG1(DBG_CFG, "qkd pool '%s': storing %u keys failed", this->link,
			 count);
		qkd_batch_destroy(batch);
	}
	return ok;
}

/**
 * Tell the listeners that keys from the KME were added
 */
static void notify_added(private_qkd_pool_t *this, array_t *keys)
{
	enumerator_t *enumerator;
	qkd_pool_listener_t *listener;

	this->cb_lock->read_lock(this->cb_lock);
	enumerator = this->listeners->create_enumerator(this->listeners);
	while (enumerator->enumerate(enumerator, &listener))
	{
		if (listener->added)
		{
			listener->added(listener, keys);
		}
	}
	enumerator->destroy(enumerator);
	this->cb_lock->unlock(this->cb_lock);
}

METHOD(qkd_pool_t, add, bool,
	private_qkd_pool_t *this, array_t *keys)
{
	if (!add_keys(this, keys, NULL))
	{
		return FALSE;
	}
	notify_added(this, keys);
	return TRUE;
}

METHOD(qkd_pool_t, add_indexed, bool,
	private_qkd_pool_t *this, array_t *keys, uint32_t *indexes)
{
	return add_keys(this, keys, indexes);
}

/**
 * Find the Idle key with the lowest Index
 */
static entry_t *find_idle(private_qkd_pool_t *this)
{
	entry_t *entry;

	sort_entries(this);
	for (; this->first_idle < this->count; this->first_idle++)
	{
		entry = &this->entries[this->first_idle];
		if (ORIG(entry->batch->status[entry->idx]) == QKD_KEY_IDLE)
		{
			return entry;
		}
	}
	return NULL;
}

METHOD(qkd_pool_t, add_listener, void,
	private_qkd_pool_t *this, qkd_pool_listener_t *listener)
{
	this->cb_lock->write_lock(this->cb_lock);
	this->listeners->insert_last(this->listeners, listener);
	this->cb_lock->unlock(this->cb_lock);
}

METHOD(qkd_pool_t, remove_listener, void,
	private_qkd_pool_t *this, qkd_pool_listener_t *listener)
{
	this->cb_lock->write_lock(this->cb_lock);
	this->listeners->remove(this->listeners, listener, NULL);
	this->cb_lock->unlock(this->cb_lock);
}

/**
 * Tell the listeners that keys were taken
 */
static void notify_taken(private_qkd_pool_t *this)
{
	enumerator_t *enumerator;
	qkd_pool_listener_t *listener;

	this->cb_lock->read_lock(this->cb_lock);
	enumerator = this->listeners->create_enumerator(this->listeners);
	while (enumerator->enumerate(enumerator, &listener))
	{
		if (listener->taken)
		{
			listener->taken(listener);
		}
	}
	enumerator->destroy(enumerator);
	this->cb_lock->unlock(this->cb_lock);
}

/**
 * Collect the distinct batches the keys of entries belong to into batches
 * (room for count), returns how many
 */
static u_int distinct_batches(entry_t *entries, u_int count,
							  qkd_batch_t **batches)
{
	u_int i, j, n = 0;

	for (i = 0; i < count; i++)
	{
		for (j = 0; j < n && batches[j] != entries[i].batch; j++)
		{
			/* keys stored together are mostly in one or two batches */
		}
		if (j == n)
		{
			batches[n++] = entries[i].batch;
		}
	}
	return n;
}

/**
 * Set the original status of a key to Pending in memory
 */
static void set_pending(entry_t *entry)
{
	set_byte(entry->batch, entry->idx,
			 (entry->batch->status[entry->idx] & ~0x03) | QKD_KEY_PENDING);
}

/**
 * Mark Idle keys Pending, in memory and with one write per batch they
 * belong to, only the last one synced (a sync covers all writes before
 * it). FALSE if a write failed: the changes of that batch are undone.
 */
static bool store_pending(private_qkd_pool_t *this, entry_t *entries,
						  u_int count)
{
	qkd_batch_t **batches;
	snapshot_t *old;
	u_int i, j, n;
	bool ok = TRUE;

	batches = calloc(count, sizeof(qkd_batch_t*));
	old = calloc(count, sizeof(snapshot_t));
	n = distinct_batches(entries, count, batches);
	for (j = 0; j < n; j++)
	{
		old[j] = snapshot(batches[j], FALSE);
	}
	for (i = 0; i < count; i++)
	{
		set_pending(&entries[i]);
	}
	for (j = 0; j < n; j++)
	{
		if (!commit_batch(this, batches[j], old[j], j == n - 1))
		{
			ok = FALSE;
		}
	}
	free(old);
	free(batches);
	this->condvar->broadcast(this->condvar);
	return ok;
}

/**
 * Set a key back to Idle after its Pending state could not be stored, if
 * it is still Pending (it may have expired meanwhile, or its batch gone)
 */
static void unbind(private_qkd_pool_t *this, uint8_t id[QKD_KEY_ID_LEN])
{
	entry_t entry;
	uint8_t byte;

	if (lookup(this, id, &entry))
	{
		byte = entry.batch->status[entry.idx];
		if (ORIG(byte) == QKD_KEY_PENDING)
		{
			set_byte(entry.batch, entry.idx, (byte & ~0x03) | QKD_KEY_IDLE);
			this->counts[QKD_KEY_PENDING]--;
			this->counts[QKD_KEY_IDLE]++;
			/* Idle again, maybe below the first Idle one */
			this->first_idle = 0;
		}
	}
}

/**
 * Mark Idle keys Pending as store_pending() does, but write copies of
 * their batches with only the writer lock held: key exchanges taking,
 * using and expiring other keys meanwhile don't wait for the disk. The
 * keys are Pending in memory at once, so nothing else hands them out, and
 * are handed out by the caller only once this returned TRUE. Called and
 * returns with the mutex held.
 */
static bool store_pending_unlocked(private_qkd_pool_t *this,
								   entry_t *entries, u_int count)
{
	qkd_batch_t **batches, **copies;
	bool *failed, ok = TRUE;
	u_int i, j, n, ticket;
	uint8_t *ids;

	batches = calloc(count, sizeof(qkd_batch_t*));
	ids = malloc(count * QKD_KEY_ID_LEN);
	n = distinct_batches(entries, count, batches);
	for (i = 0; i < count; i++)
	{
		memcpy(ids + i * QKD_KEY_ID_LEN,
			   entries[i].batch->ids + entries[i].idx * QKD_KEY_ID_LEN,
			   QKD_KEY_ID_LEN);
		set_pending(&entries[i]);
		this->counts[QKD_KEY_IDLE]--;
		this->counts[QKD_KEY_PENDING]++;
	}
	copies = calloc(n, sizeof(qkd_batch_t*));
	failed = calloc(n, sizeof(bool));
	for (j = 0; j < n; j++)
	{
		copies[j] = qkd_batch_clone(batches[j]);
	}
	/* the copies are written in the order they were made, not holding
	 * mutex: key exchanges go on while the disk syncs */
	ticket = write_ticket(this);
	this->mutex->unlock(this->mutex);
	write_turn(this, ticket);
	for (j = 0; j < n; j++)
	{	/* only the last one synced, a sync covers all writes before it */
		failed[j] = !this->store->update(this->store, this->link, copies[j],
							j == n - 1 ? QKD_STORE_SYNC_NOW : QKD_STORE_UNSYNCED);
	}
	write_done(this);
	this->mutex->lock(this->mutex);
	for (j = 0; j < n; j++)
	{
		if (failed[j])
		{
			DBG1(DBG_CFG, "qkd pool '%s': storing keys as Pending failed, "
				 "they stay Idle", this->link);
			ok = FALSE;
			for (i = 0; i < count; i++)
			{
				if (entries[i].batch == batches[j])
				{	/* the batch may be gone by now: by ID */
					unbind(this, ids + i * QKD_KEY_ID_LEN);
				}
			}
		}
		qkd_batch_destroy(copies[j]);
	}
	free(failed);
	free(copies);
	free(batches);
	free(ids);
	this->condvar->broadcast(this->condvar);
	return ok;
}

/**
 * Hand out a reserved key, if any is left (skipping any expired meanwhile)
 */
static qkd_key_t *take_reserved(private_qkd_pool_t *this)
{
	uint8_t id[QKD_KEY_ID_LEN];
	entry_t entry;

	while (array_remove(this->reserved, ARRAY_HEAD, id))
	{
		if (lookup(this, id, &entry) &&
			ORIG(entry.batch->status[entry.idx]) == QKD_KEY_PENDING)
		{
			return copy_key(&entry);
		}
	}
	return NULL;
}

/**
 * Reserve up to this->reserve Idle keys (the lowest Indexes, at most an
 * eighth of the capacity) for take(), with one synced write; FALSE if none
 * is Idle or the write failed
 */
static bool reserve_keys(private_qkd_pool_t *this)
{
	entry_t *entries;
	u_int i, count = 0, want;
	bool ok;

	if (!find_idle(this))
	{
		return FALSE;
	}
	/* a small pool keeps most of its keys Idle */
	want = min(this->reserve, max(this->capacity / 8, 1));
	entries = calloc(want, sizeof(entry_t));
	for (i = this->first_idle; i < this->count && count < want; i++)
	{
		if (ORIG(this->entries[i].batch->status[this->entries[i].idx]) ==
															QKD_KEY_IDLE)
		{
			entries[count++] = this->entries[i];
		}
	}
	ok = store_pending(this, entries, count);
	for (i = 0; i < count; i++)
	{	/* those of a batch whose write failed are Idle again: skipped */
		array_insert(this->reserved, ARRAY_TAIL, entries[i].id);
	}
	free(entries);
	return ok;
}

METHOD(qkd_pool_t, take, qkd_key_t*,
	private_qkd_pool_t *this, u_int timeout)
{
	timeval_t deadline;
	qkd_key_t *key = NULL;
	bool reserved = FALSE;

	time_monotonic(&deadline);
	timeval_add_ms(&deadline, timeout);
	this->mutex->lock(this->mutex);
	while (!(key = take_reserved(this)))
	{
		/* stored (and synced) as Pending before a key leaves the pool */
		if (reserve_keys(this))
		{
			reserved = TRUE;
			continue;
		}
		if (!timeout || this->condvar->timed_wait_abs(this->condvar,
												this->mutex, deadline))
		{
			break;
		}
	}
	this->mutex->unlock(this->mutex);
	if (reserved)
	{
		notify_taken(this);
	}
	return key;
}

METHOD(qkd_pool_t, add_pending, bool,
	private_qkd_pool_t *this, qkd_key_t *key)
{
	char uuid[QKD_KEY_ID_STRLEN + 1];
	qkd_batch_t *batch;
	entry_t known;
	u_int used;

	batch = qkd_batch_create(1, key->key.len, time(NULL));
	memcpy(batch->ids, key->id, QKD_KEY_ID_LEN);
	memcpy(batch->keys.ptr, key->key.ptr, key->key.len);
	batch->status[0] = QKD_KEY_PENDING;

	this->mutex->lock(this->mutex);
	if (lookup(this, key->id, &known) ||
		find_in_batch(this->adding, key->id, &used) ||
		this->store->find_used(this->store, key->id, 1, &used))
	{
		qkd_key_id_format(key->id, uuid);
		DBG1(DBG_CFG, "qkd pool '%s': key %s the peer chose is known "
			 "already or was used before, refused", this->link, uuid);
		this->mutex->unlock(this->mutex);
		qkd_batch_destroy(batch);
		return FALSE;
	}
	/* the KME refuses a second dec_keys for it anyway: no sync needed */
	if (!write_insert(this, batch, QKD_STORE_UNSYNCED))
	{
		this->mutex->unlock(this->mutex);
		qkd_batch_destroy(batch);
		return FALSE;
	}
	add_entries(this, batch);
	this->mutex->unlock(this->mutex);
	return TRUE;
}

METHOD(qkd_pool_t, set_status, bool,
	private_qkd_pool_t *this, uint8_t id[QKD_KEY_ID_LEN],
	qkd_key_status_t status)
{
	entry_t e, *entry = NULL;
	uint8_t byte;
	bool ok = FALSE, taken = FALSE;

	this->mutex->lock(this->mutex);
	if (lookup(this, id, &e))
	{
		entry = &e;
	}
	if (entry)
	{
		byte = entry->batch->status[entry->idx];
		if (legal(ORIG(byte), status))
		{
			/* a key bound by negotiation is Pending before anybody may use
			 * it (synced) */
			ok = change(this, entry, (byte & ~0x03) | status,
						status == QKD_KEY_PENDING);
			taken = ok && ORIG(byte) == QKD_KEY_IDLE;
		}
		else
		{
			DBG1(DBG_CFG, "qkd pool '%s': key status change %N -> %N refused",
				 this->link, qkd_key_status_names, ORIG(byte),
				 qkd_key_status_names, status);
		}
	}
	this->mutex->unlock(this->mutex);
	if (taken)
	{
		notify_taken(this);
	}
	return ok;
}

METHOD(qkd_pool_t, bind_keys, bool,
	private_qkd_pool_t *this, uint8_t *ids, u_int count)
{
	entry_t *entries;
	u_int i;
	bool ok = TRUE;

	if (!count)
	{
		return FALSE;
	}
	entries = calloc(count, sizeof(entry_t));
	this->mutex->lock(this->mutex);
	for (i = 0; i < count && ok; i++)
	{
		ok = lookup(this, ids + i * QKD_KEY_ID_LEN, &entries[i]) &&
			 ORIG(entries[i].batch->status[entries[i].idx]) == QKD_KEY_IDLE;
	}
	if (ok)
	{
		ok = store_pending_unlocked(this, entries, count);
	}
	this->mutex->unlock(this->mutex);
	free(entries);
	if (ok)
	{
		notify_taken(this);
	}
	return ok;
}

METHOD(qkd_pool_t, set_derived_status, bool,
	private_qkd_pool_t *this, uint8_t id[QKD_KEY_ID_LEN],
	qkd_derived_t which, qkd_key_status_t status)
{
	qkd_key_status_t from;
	entry_t e, *entry = NULL;
	uint8_t byte;
	bool ok = FALSE;

	this->mutex->lock(this->mutex);
	if (lookup(this, id, &e))
	{
		entry = &e;
	}
	if (entry)
	{
		byte = entry->batch->status[entry->idx];
		from = DERIVED(byte, which);
		if ((status == QKD_KEY_ACTIVE && from == QKD_KEY_IDLE &&
			 ORIG(byte) == QKD_KEY_ACTIVE) ||
			(status == QKD_KEY_EXPIRED && from != QKD_KEY_EXPIRED))
		{
			ok = change(this, entry, WITH_DERIVED(byte, which, status), FALSE);
		}
	}
	this->mutex->unlock(this->mutex);
	return ok;
}

METHOD(qkd_pool_t, get_status, bool,
	private_qkd_pool_t *this, uint8_t id[QKD_KEY_ID_LEN],
	qkd_key_status_t *status, qkd_key_status_t *auth, qkd_key_status_t *enc)
{
	entry_t e, *entry = NULL;
	uint8_t byte;

	this->mutex->lock(this->mutex);
	if (lookup(this, id, &e))
	{
		entry = &e;
	}
	if (entry)
	{
		byte = entry->batch->status[entry->idx];
		*status = ORIG(byte);
		if (auth)
		{
			*auth = DERIVED(byte, QKD_AUTH_KEY);
		}
		if (enc)
		{
			*enc = DERIVED(byte, QKD_ENC_KEY);
		}
	}
	this->mutex->unlock(this->mutex);
	return entry != NULL;
}

METHOD(qkd_pool_t, derive, bool,
	private_qkd_pool_t *this, uint8_t id[QKD_KEY_ID_LEN], qkd_derived_t which,
	chunk_t *key)
{
	entry_t e, *entry = NULL;
	chunk_t ikm;
	bool ok = FALSE;

	this->mutex->lock(this->mutex);
	if (lookup(this, id, &e))
	{
		entry = &e;
	}
	if (entry && ORIG(entry->batch->status[entry->idx]) == QKD_KEY_ACTIVE)
	{
		ikm = chunk_create(entry->batch->keys.ptr +
						   entry->idx * entry->batch->key_len,
						   entry->batch->key_len);
		*key = chunk_alloc(ikm.len);
		ok = this->hkdf && this->hkdf->derive(this->hkdf, chunk_empty, ikm,
							chunk_from_str(which == QKD_AUTH_KEY ? "QKD AuthKey"
															: "QKD EncKey"),
							*key);
		if (!ok)
		{
			chunk_clear(key);
		}
	}
	this->mutex->unlock(this->mutex);
	return ok;
}

METHOD(qkd_pool_t, get_index, u_int,
	private_qkd_pool_t *this, uint8_t id[QKD_KEY_ID_LEN])
{
	entry_t entry;
	u_int index = 0;

	this->mutex->lock(this->mutex);
	if (lookup(this, id, &entry))
	{
		index = INDEX(&entry);
	}
	this->mutex->unlock(this->mutex);
	return index;
}

METHOD(qkd_pool_t, get_id, bool,
	private_qkd_pool_t *this, u_int index, uint8_t id[QKD_KEY_ID_LEN])
{
	entry_t *entry;

	this->mutex->lock(this->mutex);
	entry = find_index(this, index);
	if (entry)
	{
		memcpy(id, entry->id, QKD_KEY_ID_LEN);
	}
	this->mutex->unlock(this->mutex);
	return entry != NULL;
}

METHOD(qkd_pool_t, get_pending, qkd_key_t*,
	private_qkd_pool_t *this, uint8_t id[QKD_KEY_ID_LEN])
{
	qkd_key_t *key = NULL;
	entry_t entry;

	this->mutex->lock(this->mutex);
	if (lookup(this, id, &entry) &&
		ORIG(entry.batch->status[entry.idx]) == QKD_KEY_PENDING)
	{
		key = copy_key(&entry);
	}
	this->mutex->unlock(this->mutex);
	return key;
}

METHOD(qkd_pool_t, get_bitmap, u_int,
	private_qkd_pool_t *this, chunk_t *bitmap, uint32_t *first)
{
	entry_t *entry;
	uint32_t pos;
	u_int i = 0, count = 0;

	this->mutex->lock(this->mutex);
	sort_entries(this);
	while (i < this->count && !INDEX(&this->entries[i]))
	{	/* keys without Index are not synced */
		i++;
	}
	*first = 0;
	if (i < this->count)
	{
		*first = INDEX(&this->entries[i]);
		count = INDEX(&this->entries[this->count - 1]) - *first + 1;
		if (count > QKD_POOL_MAX_SPAN)
		{
			*first += count - QKD_POOL_MAX_SPAN;
			count = QKD_POOL_MAX_SPAN;
			while (INDEX(&this->entries[i]) < *first)
			{
				i++;
			}
		}
	}
	/* Indexes not held read as 11, "invalid or blank" */
	*bitmap = chunk_alloc((count + 3) / 4);
	memset(bitmap->ptr, 0xff, bitmap->len);
	for (; i < this->count; i++)
	{
		entry = &this->entries[i];
		pos = INDEX(entry) - *first;
		bitmap->ptr[pos / 4] &= ~(0x03 << (6 - 2 * (pos % 4)));
		bitmap->ptr[pos / 4] |= ORIG(entry->batch->status[entry->idx]) <<
								(6 - 2 * (pos % 4));
	}
	if (count % 4)
	{	/* bits after the last key are zero */
		bitmap->ptr[bitmap->len - 1] &= 0xff << (8 - 2 * (count % 4));
	}
	this->mutex->unlock(this->mutex);
	return count;
}

/**
 * Expire the keys of a batch whose status is in a mask of
 * (1 << qkd_key_status_t) bits, durably. The batch is gone if all its keys
 * expired. Returns the number of keys expired.
 */
static u_int expire_batch(private_qkd_pool_t *this, qkd_batch_t *batch,
						  u_int mask)
{
	snapshot_t old;
	u_int i, expired = 0;

	old = snapshot(batch, TRUE);
	for (i = 0; i < batch->count; i++)
	{
		if (batch->status[i] != ALL_EXPIRED &&
			(mask & (1 << ORIG(batch->status[i]))))
		{
			set_byte(batch, i, QKD_KEY_EXPIRED);
			expired++;
		}
	}
	if (!expired)
	{
		release(&old);
		return 0;
	}
	return commit_batch(this, batch, old, FALSE) ? expired : 0;
}

METHOD(qkd_pool_t, expire, u_int,
	private_qkd_pool_t *this, u_int lifetime)
{
	enumerator_t *enumerator;
	linked_list_t *old;
	qkd_batch_t *batch;
	time_t now = time(NULL);
	u_int expired = 0;

	this->mutex->lock(this->mutex);
	/* collect first, expiring may drop batches */
	old = linked_list_create();
	enumerator = this->batches->create_enumerator(this->batches);
	while (enumerator->enumerate(enumerator, &batch))
	{
		if (batch->created + lifetime <= now)
		{
			old->insert_last(old, batch);
		}
	}
	enumerator->destroy(enumerator);
	while (old->remove_first(old, (void**)&batch) == SUCCESS)
	{
		expired += expire_batch(this, batch, 1 << QKD_KEY_IDLE);
	}
	old->destroy(old);
	this->mutex->unlock(this->mutex);
	if (expired)
	{
		DBG1(DBG_CFG, "qkd pool '%s': %u Idle keys older than %us expired",
			 this->link, expired, lifetime);
	}
	return expired;
}

METHOD(qkd_pool_t, refilled, void,
	private_qkd_pool_t *this, char *error)
{
	this->mutex->lock(this->mutex);
	if (error)
	{
		snprintf(this->last_error, sizeof(this->last_error), "%s", error);
	}
	else
	{
		this->last_refill = time(NULL);
		this->last_error[0] = '\0';
	}
	this->mutex->unlock(this->mutex);
}

METHOD(qkd_pool_t, set_capacity, void,
	private_qkd_pool_t *this, u_int capacity)
{
	this->mutex->lock(this->mutex);
	this->capacity = capacity;
	this->mutex->unlock(this->mutex);
}

METHOD(qkd_pool_t, set_reserve, void,
	private_qkd_pool_t *this, u_int reserve)
{
	this->mutex->lock(this->mutex);
	this->reserve = max(reserve, 1);
	this->mutex->unlock(this->mutex);
}

METHOD(qkd_pool_t, set_remember, void,
	private_qkd_pool_t *this, u_int remember)
{
	this->mutex->lock(this->mutex);
	this->remember = remember;
	this->mutex->unlock(this->mutex);
}

METHOD(qkd_pool_t, get_count, u_int,
	private_qkd_pool_t *this, qkd_key_status_t status)
{
	u_int count;

	this->mutex->lock(this->mutex);
	count = this->counts[status & 0x03];
	this->mutex->unlock(this->mutex);
	return count;
}

/**
 * Batches to delete and copies of batches to store, collected with mutex
 * held and written without it
 */
typedef struct {
	/** batches whose keys all expired (qkd_batch_t*, dropping set) */
	linked_list_t *gone;
	/** copies of batches changed lazily (qkd_batch_t*) */
	linked_list_t *copies;
	/** row IDs of copies whose store failed (intptr_t) */
	linked_list_t *failed;
	/** how long deleted key IDs are remembered, s */
	u_int remember;
} lazy_writes_t;

/**
 * Collect the deletions and lazy changes to write, with mutex held
 */
static void collect_writes(private_qkd_pool_t *this, lazy_writes_t *w)
{
	enumerator_t *enumerator;
	qkd_batch_t *batch;

	enumerator = this->batches->create_enumerator(this->batches);
	while (enumerator->enumerate(enumerator, &batch))
	{
		if (droppable(this, batch))
		{	/* nothing changes it any more, it stays findable until gone */
			batch->dropping = TRUE;
			w->gone->insert_last(w->gone, batch);
		}
		else if (batch->dirty && !batch->dropping)
		{
			w->copies->insert_last(w->copies, qkd_batch_clone(batch));
			batch->dirty = FALSE;
		}
	}
	enumerator->destroy(enumerator);
	w->remember = this->remember;
}

/**
 * Write collected deletions and copies, in the writer's turn
 */
static void write_collected(private_qkd_pool_t *this, lazy_writes_t *w)
{
	enumerator_t *enumerator;
	qkd_batch_t *batch;

	enumerator = w->gone->create_enumerator(w->gone);
	while (enumerator->enumerate(enumerator, &batch))
	{
		if (!this->store->remove(this->store, batch, w->remember))
		{	/* its stored keys are wiped already, try again on next start */
			DBG1(DBG_CFG, "qkd pool '%s': deleting batch %d failed",
				 this->link, batch->rowid);
		}
	}
	enumerator->destroy(enumerator);
	while (w->copies->remove_first(w->copies, (void**)&batch) == SUCCESS)
	{
		if (!this->store->update(this->store, this->link, batch,
								 QKD_STORE_UNSYNCED))
		{	/* stored as in use, a restart expires them anyway */
			DBG1(DBG_CFG, "qkd pool '%s': storing status changes of batch "
				 "%d failed", this->link, batch->rowid);
			w->failed->insert_last(w->failed, (void*)(intptr_t)batch->rowid);
		}
		qkd_batch_destroy(batch);
	}
}

/**
 * Find a batch in the pool by its row ID, with mutex held
 */
static qkd_batch_t *find_batch(private_qkd_pool_t *this, int rowid)
{
	enumerator_t *enumerator;
	qkd_batch_t *batch, *found = NULL;

	enumerator = this->batches->create_enumerator(this->batches);
	while (!found && enumerator->enumerate(enumerator, &batch))
	{
		if (batch->rowid == rowid)
		{
			found = batch;
		}
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * Drop the deleted batches from memory and mark those whose store failed
 * for the next try, with mutex held
 */
static void finish_writes(private_qkd_pool_t *this, lazy_writes_t *w)
{
	qkd_batch_t *batch;
	void *rowid;

	while (w->gone->remove_first(w->gone, (void**)&batch) == SUCCESS)
	{
		drop_batch(this, batch, TRUE);
	}
	while (w->failed->remove_first(w->failed, &rowid) == SUCCESS)
	{
		batch = find_batch(this, (intptr_t)rowid);
		if (batch)
		{
			batch->dirty = TRUE;
		}
	}
}

/**
 * Delete batches whose keys all expired and store the batches changed
 * lazily, then run the store's checkpoint if asked to. The disk is written
 * without mutex held, so key exchanges need not wait for it, in the order
 * batches changed (the writer's turn).
 */
static void write_lazily(private_qkd_pool_t *this, bool checkpoint)
{
	lazy_writes_t w = {
		.gone = linked_list_create(),
		.copies = linked_list_create(),
		.failed = linked_list_create(),
	};
	u_int ticket;

	this->mutex->lock(this->mutex);
	collect_writes(this, &w);
	ticket = write_ticket(this);
	this->mutex->unlock(this->mutex);

	write_turn(this, ticket);
	write_collected(this, &w);
	if (checkpoint)
	{
		this->store->checkpoint(this->store);
	}
	write_done(this);

	this->mutex->lock(this->mutex);
	finish_writes(this, &w);
	this->mutex->unlock(this->mutex);
	w.gone->destroy(w.gone);
	w.copies->destroy(w.copies);
	w.failed->destroy(w.failed);
}

METHOD(qkd_pool_t, checkpoint, void,
	private_qkd_pool_t *this)
{
	write_lazily(this, TRUE);
}

METHOD(qkd_pool_t, get_stats, void,
	private_qkd_pool_t *this, qkd_pool_stats_t *stats)
{
	enumerator_t *enumerator;
	qkd_batch_t *batch;
	u_int i;

	*stats = (qkd_pool_stats_t){};
	this->mutex->lock(this->mutex);
	memcpy(stats->count, this->counts, sizeof(stats->count));
	stats->reserved = array_count(this->reserved);
	stats->loaded = this->loaded;
	stats->stored = this->stored;
	stats->dropped = this->dropped;
	enumerator = this->batches->create_enumerator(this->batches);
	while (enumerator->enumerate(enumerator, &batch))
	{
		for (i = 0; i < batch->count; i++)
		{
			if (ORIG(batch->status[i]) == QKD_KEY_IDLE &&
				(!stats->oldest_idle || batch->created < stats->oldest_idle))
			{
				stats->oldest_idle = batch->created;
			}
		}
	}
	enumerator->destroy(enumerator);
	stats->last_refill = this->last_refill;
	memcpy(stats->last_error, this->last_error, sizeof(stats->last_error));
	this->mutex->unlock(this->mutex);
}

METHOD(qkd_pool_t, list_keys, array_t*,
	private_qkd_pool_t *this, u_int statuses, u_int limit)
{
	qkd_pool_key_info_t info;
	array_t *keys;
	entry_t *entry;
	u_int i;

	keys = array_create(sizeof(qkd_pool_key_info_t), 0);
	this->mutex->lock(this->mutex);
	sort_entries(this);
	for (i = 0; i < this->count && (!limit || array_count(keys) < limit); i++)
	{
		entry = &this->entries[i];
		info = (qkd_pool_key_info_t){
			.index = INDEX(entry),
			.status = ORIG(entry->batch->status[entry->idx]),
			.created = entry->batch->created,
		};
		if (statuses & (1 << info.status))
		{
			memcpy(info.id, entry->id, QKD_KEY_ID_LEN);
			array_insert(keys, ARRAY_TAIL, &info);
		}
	}
	this->mutex->unlock(this->mutex);
	return keys;
}

METHOD(qkd_pool_t, destroy, void,
	private_qkd_pool_t *this)
{
	write_lazily(this, FALSE);
	array_destroy(this->reserved);
	this->ids->destroy(this->ids);
	this->batches->destroy_function(this->batches, (void*)qkd_batch_destroy);
	free(this->entries);
	this->condvar->destroy(this->condvar);
	this->turn->destroy(this->turn);
	this->writer->destroy(this->writer);
	this->adder->destroy(this->adder);
	this->mutex->destroy(this->mutex);
	this->listeners->destroy(this->listeners);
	this->cb_lock->destroy(this->cb_lock);
	DESTROY_IF(this->hkdf);
	free(this->link);
	free(this);
}

/**
 * Give Indexes to the keys of a batch stored before Indexes existed
 */
static void give_indexes(private_qkd_pool_t *this, qkd_batch_t *batch)
{
	u_int i;

	for (i = 0; i < batch->count; i++)
	{
		if (batch->indexes[i])
		{
			return;
		}
	}
	for (i = 0; i < batch->count; i++)
	{
		batch->indexes[i] = this->next_index++;
	}
	batch->dirty = TRUE;
	this->dirty = TRUE;
}

/**
 * Load the stored batches, expiring what a previous run left in use
 */
static void load(private_qkd_pool_t *this)
{
	enumerator_t *enumerator;
	linked_list_t *loaded;
	qkd_batch_t *batch;
	u_int expired = 0;

	enumerator = this->store->create_enumerator(this->store, this->link);
	while (enumerator->enumerate(enumerator, &batch))
	{
		add_entries(this, batch);
	}
	enumerator->destroy(enumerator);
	this->loaded = this->count;
	/* expiring may drop batches from the list: walk a copy */
	loaded = linked_list_create_from_enumerator(
					this->batches->create_enumerator(this->batches));
	while (loaded->remove_first(loaded, (void**)&batch) == SUCCESS)
	{
		give_indexes(this, batch);
		/* keys Pending or Active may have been used before a crash */
		expired += expire_batch(this, batch,
						1 << QKD_KEY_PENDING | 1 << QKD_KEY_ACTIVE);
	}
	loaded->destroy(loaded);
	/* those only kept for their Index, and deletions that failed before */
	write_lazily(this, FALSE);
	DBG1(DBG_CFG, "qkd pool '%s': %u Idle keys loaded, %u keys left in use "
		 "by the last run expired", this->link, this->counts[QKD_KEY_IDLE],
		 expired);
}

/*
 * Described in header
 */
qkd_pool_t *qkd_pool_create(qkd_pool_store_t *store, char *link,
							u_int capacity)
{
	private_qkd_pool_t *this;

	INIT(this,
		.public = {
			.add = _add,
			.add_indexed = _add_indexed,
			.take = _take,
			.add_pending = _add_pending,
			.set_status = _set_status,
			.bind_keys = _bind_keys,
			.set_derived_status = _set_derived_status,
			.get_status = _get_status,
			.derive = _derive,
			.get_index = _get_index,
			.get_id = _get_id,
			.get_pending = _get_pending,
			.get_bitmap = _get_bitmap,
			.expire = _expire,
			.refilled = _refilled,
			.add_listener = _add_listener,
			.remove_listener = _remove_listener,
			.set_capacity = _set_capacity,
			.set_remember = _set_remember,
			.set_reserve = _set_reserve,
			.get_count = _get_count,
			.get_stats = _get_stats,
			.list_keys = _list_keys,
			.checkpoint = _checkpoint,
			.destroy = _destroy,
		},
		.store = store,
		.link = strdup(link),
		.capacity = capacity,
		.remember = QKD_POOL_DEFAULT_REMEMBER,
		.reserve = QKD_POOL_DEFAULT_RESERVE,
		.reserved = array_create(QKD_KEY_ID_LEN, 0),
		.batches = linked_list_create(),
		.ids = hashtable_create(qkd_key_id_hash, qkd_key_id_equals,
							   1024),
		.next_index = 1,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
		.writer = mutex_create(MUTEX_TYPE_DEFAULT),
		.turn = condvar_create(CONDVAR_TYPE_DEFAULT),
		.adder = mutex_create(MUTEX_TYPE_DEFAULT),
		.listeners = linked_list_create(),
		.cb_lock = rwlock_create(RWLOCK_TYPE_DEFAULT),
		.hkdf = qkd_hkdf_create(),
	);
	load(this);
	return &this->public;
}
