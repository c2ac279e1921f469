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

#include "qkd_pool_store.h"
#include "qkd_hkdf.h"

#include <errno.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utils/debug.h>
#include <collections/hashtable.h>
#include <database/database.h>
#include <threading/mutex.h>

/**
 * Length of the storage key
 */
#define STORAGE_KEY_LEN 32

/**
 * Length of the random nonce each seal derives its key from
 */
#define SEAL_NONCE_LEN 16

/**
 * AES-256-GCM key (32) and salt (4) derived per seal
 */
#define SEAL_KEY_LEN 36

/**
 * Label of the seal key derivation
 */
#define SEAL_LABEL "strongSwan qkd pool seal"

/**
 * Least time between two WAL checkpoints of the store (all pools share
 * it, each asks once a second), ms
 */
#define CHECKPOINT_INTERVAL 1000

/**
 * Label of the key of the used key ID hashes
 */
#define USED_LABEL "strongSwan qkd pool used key IDs"

/**
 * Interval between deletions of expired used key ID hashes, ms
 */
#define USED_EXPIRY_INTERVAL 60000

typedef struct private_qkd_pool_store_t private_qkd_pool_store_t;

/**
 * Private data of a qkd_pool_store_t object.
 */
struct private_qkd_pool_store_t {

	/**
	 * Public interface.
	 */
	qkd_pool_store_t public;

	/**
	 * The database
	 */
	database_t *db;

	/**
	 * Storage key
	 */
	chunk_t key;

	/**
	 * Derives the key of each seal
	 */
	qkd_hkdf_t *hkdf;

	/**
	 * AES-256-GCM
	 */
	aead_t *aead;

	/**
	 * Source of seal nonces
	 */
	rng_t *rng;

	/**
	 * Sync interval of QKD_STORE_SYNC_SOON writes, ms
	 */
	u_int interval;

	/**
	 * Last sync to disk (monotonic)
	 */
	timeval_t synced;

	/**
	 * Last checkpoint (monotonic), and whether anything was written since
	 */
	timeval_t checkpointed;
	bool written;

	/**
	 * SipHash key of used key ID hashes, derived from the storage key
	 */
	u_char used_key[16];

	/**
	 * Last deletion of expired used key ID hashes (monotonic)
	 */
	timeval_t used_expired;

	/**
	 * Hashes of used key IDs, as stored: the hash (never 0) as key, when
	 * it expires (Unix time) as value, both cast to pointers
	 */
	hashtable_t *used;

	/**
	 * Serializes access
	 */
	mutex_t *mutex;
};

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

/**
 * Set up the AEAD with the key of a seal nonce
 */
static bool set_seal_key(private_qkd_pool_store_t *this, chunk_t nonce)
{
	uint8_t key[SEAL_KEY_LEN];
	bool ok;

	/* HKDF(salt = storage key, IKM = nonce, info = label), 36 bytes, as
	 * stores made before this helper existed derive it */
	ok = this->hkdf->derive(this->hkdf, this->key, nonce,
							chunk_from_str(SEAL_LABEL), chunk_from_thing(key)) &&
		 this->aead->set_key(this->aead, chunk_from_thing(key));
	memwipe(key, sizeof(key));
	return ok;
}

/**
 * The Indexes of a batch as stored: 32-bit, network order; empty if the
 * batch has none (stored before Indexes existed)
 */
static chunk_t indexes_blob(qkd_batch_t *batch)
{
	chunk_t blob;
	u_int i;

	for (i = 0; i < batch->count && !batch->indexes[i]; i++)
	{
		/* look for one */
	}
	if (i == batch->count)
	{
		return chunk_empty;
	}
	blob = chunk_alloc(batch->count * sizeof(uint32_t));
	for (i = 0; i < batch->count; i++)
	{
		htoun32(blob.ptr + i * sizeof(uint32_t), batch->indexes[i]);
	}
	return blob;
}

/**
 * Associated data of a batch: link name, key IDs, key length, status
 * bytes, Indexes as stored (indexes_blob())
 */
static chunk_t assoc_data(char *link, qkd_batch_t *batch, chunk_t indexes)
{
	uint32_t key_len = htonl(batch->key_len);

	return chunk_cat("ccccc", chunk_create(link, strlen(link) + 1),
					 chunk_create(batch->ids, batch->count * QKD_KEY_ID_LEN),
					 chunk_from_thing(key_len),
					 chunk_create(batch->status, batch->count), indexes);
}

/**
 * Seal the keys of a batch: nonce | ciphertext | ICV
 */
static bool seal(private_qkd_pool_store_t *this, char *link,
				 qkd_batch_t *batch, chunk_t indexes, chunk_t *sealed)
{
	uint8_t iv[8] = {};
	chunk_t nonce, assoc, encrypted;
	bool ok;

	nonce = chunk_alloca(SEAL_NONCE_LEN);
	if (!this->rng->get_bytes(this->rng, nonce.len, nonce.ptr) ||
		!set_seal_key(this, nonce))
	{
		return FALSE;
	}
	/* every seal has a key of its own, so a fixed IV is fine */
	assoc = assoc_data(link, batch, indexes);
	ok = this->aead->encrypt(this->aead, batch->keys, assoc,
							 chunk_from_thing(iv), &encrypted);
	chunk_free(&assoc);
	if (!ok)
	{
		return FALSE;
	}
	*sealed = chunk_cat("cm", nonce, encrypted);
	return TRUE;
}

/**
 * Open sealed keys into a batch
 */
static bool unseal(private_qkd_pool_store_t *this, char *link,
				   qkd_batch_t *batch, chunk_t indexes, chunk_t sealed)
{
	uint8_t iv[8] = {};
	chunk_t assoc, plain = chunk_empty;
	bool ok;

	if (sealed.len != SEAL_NONCE_LEN + batch->keys.len +
								this->aead->get_icv_size(this->aead) ||
		!set_seal_key(this, chunk_create(sealed.ptr, SEAL_NONCE_LEN)))
	{
		return FALSE;
	}
	assoc = assoc_data(link, batch, indexes);
	ok = this->aead->decrypt(this->aead, chunk_skip(sealed, SEAL_NONCE_LEN),
							 assoc, chunk_from_thing(iv), &plain);
	chunk_free(&assoc);
	if (!ok)
	{	/* the output is allocated even if authentication fails */
		chunk_clear(&plain);
		return FALSE;
	}
	memcpy(batch->keys.ptr, plain.ptr, batch->keys.len);
	chunk_clear(&plain);
	return TRUE;
}

/**
 * Prepare a write: FULL syncs its commit and every write before it to
 * disk, NORMAL (the default) leaves it in the WAL until a sync. Returns
 * whether the write is synced.
 */
static bool begin_write(private_qkd_pool_store_t *this, qkd_store_sync_t sync)
{
	timeval_t now, due;
	bool full = sync == QKD_STORE_SYNC_NOW;

	if (sync == QKD_STORE_SYNC_SOON)
	{
		time_monotonic(&now);
		due = this->synced;
		timeval_add_ms(&due, this->interval);
		full = !timercmp(&now, &due, <);
	}
	if (full)
	{
		this->db->execute(this->db, NULL, "PRAGMA synchronous = FULL");
	}
	return full;
}

/**
 * Finish a write prepared by begin_write()
 */
static void end_write(private_qkd_pool_store_t *this, bool full, bool ok)
{
	this->written = TRUE;
	if (full)
	{
		this->db->execute(this->db, NULL, "PRAGMA synchronous = NORMAL");
		if (ok)
		{
			time_monotonic(&this->synced);
		}
	}
}

/**
 * Seal a batch and store it as a new row (setting its rowid) or over its
 * row
 */
static bool write_batch(private_qkd_pool_store_t *this, char *link,
						qkd_batch_t *batch, qkd_store_sync_t sync, bool new)
{
	chunk_t sealed, indexes;
	bool full, ok = FALSE;

	this->mutex->lock(this->mutex);
	indexes = indexes_blob(batch);
	if (seal(this, link, batch, indexes, &sealed))
	{
		full = begin_write(this, sync);
		if (new)
		{
			ok = this->db->execute(this->db, &batch->rowid,
				"INSERT INTO qkd_batches (link, created, key_len, ids, status, "
				"sealed, indexes) VALUES (?, ?, ?, ?, ?, ?, ?)",
				DB_TEXT, link, DB_UINT, (u_int)batch->created,
				DB_UINT, batch->key_len,
				DB_BLOB, chunk_create(batch->ids,
									  batch->count * QKD_KEY_ID_LEN),
				DB_BLOB, chunk_create(batch->status, batch->count),
				DB_BLOB, sealed, DB_BLOB, indexes) == 1;
		}
		else
		{
			ok = this->db->execute(this->db, NULL,
				"UPDATE qkd_batches SET status = ?, sealed = ?, indexes = ? "
				"WHERE id = ?",
				DB_BLOB, chunk_create(batch->status, batch->count),
				DB_BLOB, sealed, DB_BLOB, indexes, DB_INT, batch->rowid) == 1;
		}
		end_write(this, full, ok);
		chunk_free(&sealed);
		if (ok)
		{
			batch->dirty = FALSE;
		}
	}
	chunk_free(&indexes);
	this->mutex->unlock(this->mutex);
	return ok;
}

METHOD(qkd_pool_store_t, insert, bool,
	private_qkd_pool_store_t *this, char *link, qkd_batch_t *batch,
	qkd_store_sync_t sync)
{
	return write_batch(this, link, batch, sync, TRUE);
}

METHOD(qkd_pool_store_t, update, bool,
	private_qkd_pool_store_t *this, char *link, qkd_batch_t *batch,
	qkd_store_sync_t sync)
{
	return write_batch(this, link, batch, sync, FALSE);
}

/**
 * The hash of a used key ID: 64-bit SipHash under a key derived from the
 * storage key, so the table does not reveal the IDs (0 taken as 1, since
 * a hashtable key can't be NULL)
 */
static uint64_t used_hash(private_qkd_pool_store_t *this, uint8_t *id)
{
	return chunk_mac(chunk_create(id, QKD_KEY_ID_LEN), this->used_key) ?: 1;
}

/**
 * The hashes of key IDs as a JSON array of hex strings, for one statement
 * over all of them (SQLite's json_each())
 */
static char *used_hashes(private_qkd_pool_store_t *this, uint8_t *ids,
						 u_int count)
{
	char *json, *pos;
	u_int i;

	json = pos = malloc(count * 19 + 3);
	*pos++ = '[';
	for (i = 0; i < count; i++)
	{
		pos += sprintf(pos, "%s\"%016llx\"", i ? "," : "",
			(unsigned long long)used_hash(this, ids + i * QKD_KEY_ID_LEN));
	}
	strcpy(pos, "]");
	return json;
}

/**
 * Hash function of the used key ID hashes: they are random already
 */
static u_int hash_used(const void *key)
{
	return (uintptr_t)key;
}

/**
 * Compare two used key ID hashes
 */
static bool equals_used(const void *a, const void *b)
{
	return a == b;
}

METHOD(qkd_pool_store_t, remove_, bool,
	private_qkd_pool_store_t *this, qkd_batch_t *batch, u_int remember)
{
	u_int expires = time(NULL) + remember, i;
	char *hashes;
	bool ok;

	hashes = used_hashes(this, batch->ids, batch->count);
	this->mutex->lock(this->mutex);
	/* the batch's IDs are remembered in the same transaction */
	ok = this->db->transaction(this->db, FALSE);
	ok = ok && this->db->execute(this->db, NULL,
				"INSERT OR REPLACE INTO qkd_used_ids (hash, expires) "
				"SELECT value, ? FROM json_each(?)",
				DB_UINT, expires, DB_TEXT, hashes) == batch->count;
	ok = ok && this->db->execute(this->db, NULL,
				"DELETE FROM qkd_batches WHERE id = ?",
				DB_INT, batch->rowid) == 1;
	ok = ok ? this->db->commit(this->db) : !this->db->rollback(this->db);
	for (i = 0; ok && i < batch->count; i++)
	{
		this->used->put(this->used, (void*)(uintptr_t)used_hash(this,
							batch->ids + i * QKD_KEY_ID_LEN),
						(void*)(uintptr_t)expires);
	}
	this->written = TRUE;
	this->mutex->unlock(this->mutex);
	free(hashes);
	return ok;
}

METHOD(qkd_pool_store_t, find_used, bool,
	private_qkd_pool_store_t *this, uint8_t *ids, u_int count, u_int *which)
{
	u_int now = time(NULL), i;
	bool used = FALSE;
	uintptr_t expires;

	this->mutex->lock(this->mutex);
	for (i = 0; !used && i < count; i++)
	{
		expires = (uintptr_t)this->used->get(this->used,
					(void*)(uintptr_t)used_hash(this,
												ids + i * QKD_KEY_ID_LEN));
		if (expires > now)
		{
			*which = i;
			used = TRUE;
		}
	}
	this->mutex->unlock(this->mutex);
	return used;
}

/**
 * Load the hashes of used key IDs
 */
static void load_used(private_qkd_pool_store_t *this)
{
	enumerator_t *enumerator;
	uint64_t hash;
	u_int expires;
	char *hex;

	enumerator = this->db->query(this->db,
				"SELECT hash, expires FROM qkd_used_ids WHERE expires > ?",
				DB_UINT, (u_int)time(NULL), DB_TEXT, DB_UINT);
	while (enumerator && enumerator->enumerate(enumerator, &hex, &expires))
	{
		hash = strtoull(hex, NULL, 16);
		if (hash)
		{
			this->used->put(this->used, (void*)(uintptr_t)hash,
							(void*)(uintptr_t)expires);
		}
	}
	DESTROY_IF(enumerator);
}

/**
 * Delete the hashes of used key IDs remembered long enough, at most once
 * a minute. Call with the mutex held.
 */
static void expire_used(private_qkd_pool_store_t *this, timeval_t *now)
{
	enumerator_t *enumerator;
	timeval_t due = this->used_expired;
	u_int time_now = time(NULL);
	void *hash, *expires;

	timeval_add_ms(&due, USED_EXPIRY_INTERVAL);
	if (timercmp(now, &due, <))
	{
		return;
	}
	this->used_expired = *now;
	enumerator = this->used->create_enumerator(this->used);
	while (enumerator->enumerate(enumerator, &hash, &expires))
	{
		if ((uintptr_t)expires <= time_now)
		{
			this->used->remove_at(this->used, enumerator);
		}
	}
	enumerator->destroy(enumerator);
	if (this->db->execute(this->db, NULL,
				"DELETE FROM qkd_used_ids WHERE expires <= ?",
				DB_UINT, time_now) > 0)
	{
		this->written = TRUE;
	}
}

/**
 * Run a pragma that answers with a row (the statement runs when the row
 * is enumerated)
 */
static void pragma_query(private_qkd_pool_store_t *this, char *sql)
{
	enumerator_t *enumerator;
	char *value;

	enumerator = this->db->query(this->db, sql, DB_TEXT);
	if (enumerator)
	{
		if (!enumerator->enumerate(enumerator, &value))
		{
			DBG1(DBG_CFG, "qkd pool: '%s' failed", sql);
		}
		enumerator->destroy(enumerator);
	}
}

METHOD(qkd_pool_store_t, checkpoint, void,
	private_qkd_pool_store_t *this)
{
	enumerator_t *enumerator;
	int busy, logged, moved;
	timeval_t now, due;

	this->mutex->lock(this->mutex);
	time_monotonic(&now);
	expire_used(this, &now);
	due = this->checkpointed;
	timeval_add_ms(&due, CHECKPOINT_INTERVAL);
	if (!this->written || timercmp(&now, &due, <))
	{	/* every pool asks once a second: one checkpoint for all of them */
		this->mutex->unlock(this->mutex);
		return;
	}
	this->written = FALSE;
	this->checkpointed = now;
	/* answers busy flag, WAL frames, frames moved */
	enumerator = this->db->query(this->db, "PRAGMA wal_checkpoint(TRUNCATE)",
								 DB_INT, DB_INT, DB_INT);
	if (enumerator)
	{
		if (!enumerator->enumerate(enumerator, &busy, &logged, &moved) ||
			busy)
		{
			DBG1(DBG_CFG, "qkd pool: WAL checkpoint failed");
		}
		else
		{	/* the WAL is synced before it is checkpointed */
			time_monotonic(&this->synced);
		}
		enumerator->destroy(enumerator);
	}
	this->mutex->unlock(this->mutex);
}

METHOD(qkd_pool_store_t, create_enumerator, enumerator_t*,
	private_qkd_pool_store_t *this, char *link)
{
	enumerator_t *enumerator;
	linked_list_t *batches;
	qkd_batch_t *batch;
	chunk_t ids, status, sealed, indexes;
	u_int created, key_len, i;
	int rowid;

	batches = linked_list_create();
	this->mutex->lock(this->mutex);
	enumerator = this->db->query(this->db,
				"SELECT id, created, key_len, ids, status, sealed, indexes "
				"FROM qkd_batches WHERE link = ? ORDER BY id",
				DB_TEXT, link,
				DB_INT, DB_UINT, DB_UINT, DB_BLOB, DB_BLOB, DB_BLOB, DB_BLOB);
	while (enumerator &&
		   enumerator->enumerate(enumerator, &rowid, &created, &key_len,
								 &ids, &status, &sealed, &indexes))
	{
		if (!key_len || key_len > 1024 || !status.len ||
			ids.len != status.len * QKD_KEY_ID_LEN ||
			(indexes.len && indexes.len != status.len * sizeof(uint32_t)))
		{
			DBG1(DBG_CFG, "qkd pool '%s': stored batch %d malformed, skipped",
				 link, rowid);
			continue;
		}
		batch = qkd_batch_create(status.len, key_len, created);
		batch->rowid = rowid;
		memcpy(batch->ids, ids.ptr, ids.len);
		memcpy(batch->status, status.ptr, status.len);
		for (i = 0; i < batch->count && indexes.len; i++)
		{
			batch->indexes[i] = untoh32(indexes.ptr + i * sizeof(uint32_t));
		}
		if (!unseal(this, link, batch, indexes, sealed))
		{
			DBG1(DBG_CFG, "qkd pool '%s': stored batch %d does not "
				 "authenticate (wrong storage key or modified), skipped",
				 link, rowid);
			qkd_batch_destroy(batch);
			continue;
		}
		batches->insert_last(batches, batch);
	}
	DESTROY_IF(enumerator);
	this->mutex->unlock(this->mutex);
	return enumerator_create_cleaner(batches->create_enumerator(batches),
				(void*)batches->destroy, batches);
}

METHOD(qkd_pool_store_t, destroy, void,
	private_qkd_pool_store_t *this)
{
	DESTROY_IF(this->db);
	DESTROY_IF(this->hkdf);
	DESTROY_IF(this->aead);
	DESTROY_IF(this->rng);
	DESTROY_IF(this->mutex);
	this->used->destroy(this->used);
	chunk_clear(&this->key);
	memwipe(this->used_key, sizeof(this->used_key));
	free(this);
}

/**
 * Add the indexes column to a table made before it existed
 */
static bool add_indexes_column(private_qkd_pool_store_t *this)
{
	enumerator_t *enumerator;
	char *name;
	bool found = FALSE;

	enumerator = this->db->query(this->db,
				"SELECT name FROM pragma_table_info('qkd_batches')", DB_TEXT);
	while (enumerator && enumerator->enumerate(enumerator, &name))
	{
		found = found || streq(name, "indexes");
	}
	DESTROY_IF(enumerator);
	return found || this->db->execute(this->db, NULL,
				"ALTER TABLE qkd_batches ADD COLUMN indexes BLOB") >= 0;
}

/**
 * Load the storage key, or create it (mode 0600) with a strong RNG
 */
static bool load_key(private_qkd_pool_store_t *this, char *keyfile)
{
	chunk_t *data;
	rng_t *rng;
	int fd;

	data = chunk_map(keyfile, FALSE);
	if (data)
	{
		if (data->len == STORAGE_KEY_LEN)
		{
			this->key = chunk_clone(*data);
		}
		chunk_unmap_clear(data);
		if (!this->key.len)
		{
			DBG1(DBG_CFG, "qkd pool: storage key file '%s' is not %d bytes",
				 keyfile, STORAGE_KEY_LEN);
			return FALSE;
		}
		return TRUE;
	}
	if (errno != ENOENT)
	{
		DBG1(DBG_CFG, "qkd pool: reading storage key file '%s' failed: %s",
			 keyfile, strerror(errno));
		return FALSE;
	}
	rng = lib->crypto->create_rng(lib->crypto, RNG_TRUE);
	if (!rng || !rng->allocate_bytes(rng, STORAGE_KEY_LEN, &this->key))
	{
		DESTROY_IF(rng);
		DBG1(DBG_CFG, "qkd pool: no RNG for the storage key");
		return FALSE;
	}
	rng->destroy(rng);
	fd = open(keyfile, O_WRONLY | O_CREAT | O_EXCL, S_IRUSR | S_IWUSR);
	if (fd < 0 || write(fd, this->key.ptr, this->key.len) != this->key.len ||
		fsync(fd) != 0)
	{
		DBG1(DBG_CFG, "qkd pool: creating storage key file '%s' failed: %s",
			 keyfile, strerror(errno));
		if (fd >= 0)
		{
			close(fd);
			unlink(keyfile);
		}
		return FALSE;
	}
	close(fd);
	DBG1(DBG_CFG, "qkd pool: created storage key file '%s'", keyfile);
	return TRUE;
}

/*
 * Described in header
 */
qkd_pool_store_t *qkd_pool_store_create(char *uri, char *keyfile,
										u_int interval)
{
	private_qkd_pool_store_t *this;

	INIT(this,
		.public = {
			.insert = _insert,
			.update = _update,
			.remove = _remove_,
			.checkpoint = _checkpoint,
			.create_enumerator = _create_enumerator,
			.find_used = _find_used,
			.destroy = _destroy,
		},
		.hkdf = qkd_hkdf_create(),
		.aead = lib->crypto->create_aead(lib->crypto, ENCR_AES_GCM_ICV16,
										 32, 4),
		.rng = lib->crypto->create_rng(lib->crypto, RNG_STRONG),
		.interval = interval,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.used = hashtable_create(hash_used, equals_used, 1024),
	);

	if (!this->hkdf || !this->aead || !this->rng)
	{
		DBG1(DBG_CFG, "qkd pool: HMAC-SHA256, prf+ or AES-256-GCM not "
			 "available");
		destroy(this);
		return NULL;
	}
	if (!load_key(this, keyfile) ||
		!this->hkdf->derive(this->hkdf, chunk_empty, this->key,
							chunk_from_str(USED_LABEL),
							chunk_from_thing(this->used_key)))
	{
		destroy(this);
		return NULL;
	}
	this->db = lib->db->create(lib->db, uri);
	if (!this->db)
	{
		DBG1(DBG_CFG, "qkd pool: opening database '%s' failed", uri);
		destroy(this);
		return NULL;
	}
	/* overwrite deleted content, WAL with syncs only where asked for */
	pragma_query(this, "PRAGMA secure_delete = ON");
	pragma_query(this, "PRAGMA journal_mode = WAL");
	this->db->execute(this->db, NULL, "PRAGMA synchronous = NORMAL");
	if (this->db->execute(this->db, NULL,
			"CREATE TABLE IF NOT EXISTS qkd_batches ("
			"id INTEGER PRIMARY KEY AUTOINCREMENT, "
			"link TEXT NOT NULL, created INTEGER NOT NULL, "
			"key_len INTEGER NOT NULL, ids BLOB NOT NULL, "
			"status BLOB NOT NULL, sealed BLOB NOT NULL, indexes BLOB)") < 0 ||
		!add_indexes_column(this) ||
		this->db->execute(this->db, NULL,
			"CREATE TABLE IF NOT EXISTS qkd_used_ids ("
			"hash TEXT PRIMARY KEY, expires INTEGER NOT NULL) "
			"WITHOUT ROWID") < 0 ||
		this->db->execute(this->db, NULL,
			"CREATE INDEX IF NOT EXISTS qkd_used_ids_expires "
			"ON qkd_used_ids (expires)") < 0)
	{
		DBG1(DBG_CFG, "qkd pool: setting up database '%s' failed", uri);
		destroy(this);
		return NULL;
	}
	load_used(this);
	return &this->public;
}
