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
#include "qkd_pool_seal.h"

#include <time.h>
#include <sqlite3.h>

#include <utils/debug.h>
#include <collections/hashtable.h>
#include <collections/linked_list.h>
#include <threading/mutex.h>

/**
 * Least time between two WAL checkpoints of the store (all pools share
 * it, each asks once a second), ms
 */
#define CHECKPOINT_INTERVAL 1000

/**
 * Interval between deletions of expired used key ID hashes, ms
 */
#define USED_EXPIRY_INTERVAL 60000

/**
 * How long a statement waits for a lock another process holds, ms
 */
#define BUSY_TIMEOUT 5000

/**
 * The statements the store runs, prepared once
 */
typedef enum {
	STMT_INSERT,
	STMT_UPDATE,
	STMT_DELETE,
	STMT_REMEMBER,
	STMT_LOAD,
	STMT_COUNT,
} stmt_t;

/**
 * SQL of the prepared statements
 */
static const char *stmt_sql[] = {
	[STMT_INSERT] = "INSERT INTO qkd_batches (link, created, key_len, ids, "
					"status, sealed, indexes) VALUES (?, ?, ?, ?, ?, ?, ?)",
	[STMT_UPDATE] = "UPDATE qkd_batches SET status = ?, sealed = ?, "
					"indexes = ? WHERE id = ?",
	[STMT_DELETE] = "DELETE FROM qkd_batches WHERE id = ?",
	[STMT_REMEMBER] = "INSERT INTO qkd_used_log (hash, expires) "
					  "VALUES (?, ?)",
	[STMT_LOAD] = "SELECT id, created, key_len, ids, status, sealed, "
				  "indexes FROM qkd_batches WHERE link = ? ORDER BY id",
};

typedef struct private_qkd_pool_store_t private_qkd_pool_store_t;

/**
 * Private data of a pool store.
 */
struct private_qkd_pool_store_t {

	/**
	 * Public interface.
	 */
	qkd_pool_store_t public;

	/**
	 * The database
	 */
	sqlite3 *db;

	/**
	 * Prepared statements
	 */
	sqlite3_stmt *stmts[STMT_COUNT];

	/**
	 * Seals batches, hashes used key IDs
	 */
	qkd_pool_seal_t *seal;

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

/**
 * Run SQL without results, logging a failure
 */
static bool exec(private_qkd_pool_store_t *this, char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(this->db, sql, NULL, NULL, &err) != SQLITE_OK)
	{
		DBG1(DBG_CFG, "qkd pool: '%s' failed: %s", sql,
			 err ?: sqlite3_errmsg(this->db));
		sqlite3_free(err);
		return FALSE;
	}
	return TRUE;
}

/**
 * Run a prepared statement without results (its parameters bound), reset
 * it; logs a failure
 */
static bool step(private_qkd_pool_store_t *this, stmt_t which)
{
	sqlite3_stmt *stmt = this->stmts[which];
	bool ok;

	ok = sqlite3_step(stmt) == SQLITE_DONE;
	if (!ok)
	{
		DBG1(DBG_CFG, "qkd pool: '%s' failed: %s", stmt_sql[which],
			 sqlite3_errmsg(this->db));
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return ok;
}

/**
 * Bind a chunk as blob (a zero-length blob for an empty chunk, never NULL)
 */
static void bind_blob(sqlite3_stmt *stmt, int i, chunk_t data)
{
	sqlite3_bind_blob(stmt, i, data.ptr ?: (void*)"", data.len,
					  SQLITE_STATIC);
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
		exec(this, "PRAGMA synchronous = FULL");
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
		exec(this, "PRAGMA synchronous = NORMAL");
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
	sqlite3_stmt *stmt;
	chunk_t sealed, indexes;
	bool full, ok = FALSE;

	this->mutex->lock(this->mutex);
	indexes = indexes_blob(batch);
	if (this->seal->seal(this->seal, link, batch, indexes, &sealed))
	{
		full = begin_write(this, sync);
		if (new)
		{
			stmt = this->stmts[STMT_INSERT];
			sqlite3_bind_text(stmt, 1, link, -1, SQLITE_STATIC);
			sqlite3_bind_int64(stmt, 2, batch->created);
			sqlite3_bind_int(stmt, 3, batch->key_len);
			bind_blob(stmt, 4, chunk_create(batch->ids,
											batch->count * QKD_KEY_ID_LEN));
			bind_blob(stmt, 5, chunk_create(batch->status, batch->count));
			bind_blob(stmt, 6, sealed);
			bind_blob(stmt, 7, indexes);
			ok = step(this, STMT_INSERT);
			if (ok)
			{
				batch->rowid = sqlite3_last_insert_rowid(this->db);
			}
		}
		else
		{
			stmt = this->stmts[STMT_UPDATE];
			bind_blob(stmt, 1, chunk_create(batch->status, batch->count));
			bind_blob(stmt, 2, sealed);
			bind_blob(stmt, 3, indexes);
			sqlite3_bind_int(stmt, 4, batch->rowid);
			ok = step(this, STMT_UPDATE) && sqlite3_changes(this->db) == 1;
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

/**
 * A used key ID hash as stored: hex text
 */
static void used_hex(uint64_t hash, char hex[17])
{
	snprintf(hex, 17, "%016llx", (unsigned long long)hash);
}

METHOD(qkd_pool_store_t, remove_, bool,
	private_qkd_pool_store_t *this, qkd_batch_t *batch, u_int remember)
{
	u_int expires = time(NULL) + remember, i;
	sqlite3_stmt *stmt;
	uint64_t *hashes;
	char hex[17];
	bool ok;

	hashes = calloc(batch->count, sizeof(*hashes));
	this->mutex->lock(this->mutex);
	/* the batch's IDs are remembered in the same transaction */
	ok = exec(this, "BEGIN");
	stmt = this->stmts[STMT_REMEMBER];
	for (i = 0; ok && i < batch->count; i++)
	{
		hashes[i] = this->seal->hash_id(this->seal,
										batch->ids + i * QKD_KEY_ID_LEN);
		used_hex(hashes[i], hex);
		sqlite3_bind_text(stmt, 1, hex, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 2, expires);
		ok = step(this, STMT_REMEMBER);
	}
	if (ok)
	{
		sqlite3_bind_int(this->stmts[STMT_DELETE], 1, batch->rowid);
		ok = step(this, STMT_DELETE) && sqlite3_changes(this->db) == 1;
	}
	ok = ok && exec(this, "COMMIT");
	if (!ok && !sqlite3_get_autocommit(this->db))
	{	/* still in the transaction */
		exec(this, "ROLLBACK");
	}
	for (i = 0; ok && i < batch->count; i++)
	{
		this->used->put(this->used, (void*)(uintptr_t)hashes[i],
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
					(void*)(uintptr_t)this->seal->hash_id(this->seal,
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
	sqlite3_stmt *stmt;
	const char *hex;
	uint64_t hash;

	/* in the order remembered: a key ID remembered again gets the later
	 * expiry */
	if (sqlite3_prepare_v2(this->db, "SELECT hash, expires FROM qkd_used_log "
						   "WHERE expires > ? ORDER BY rowid", -1, &stmt,
						   NULL) != SQLITE_OK)
	{
		return;
	}
	sqlite3_bind_int64(stmt, 1, time(NULL));
	while (sqlite3_step(stmt) == SQLITE_ROW)
	{
		hex = (const char*)sqlite3_column_text(stmt, 0);
		hash = hex ? strtoull(hex, NULL, 16) : 0;
		if (hash)
		{
			this->used->put(this->used, (void*)(uintptr_t)hash,
					(void*)(uintptr_t)sqlite3_column_int64(stmt, 1));
		}
	}
	sqlite3_finalize(stmt);
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
	char sql[96];

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
	snprintf(sql, sizeof(sql), "DELETE FROM qkd_used_log WHERE expires <= %u",
			 time_now);
	if (exec(this, sql) && sqlite3_changes(this->db) > 0)
	{
		this->written = TRUE;
	}
}

METHOD(qkd_pool_store_t, checkpoint, void,
	private_qkd_pool_store_t *this)
{
	int logged = 0, moved = 0;
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
	if (sqlite3_wal_checkpoint_v2(this->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
								  &logged, &moved) != SQLITE_OK)
	{
		DBG1(DBG_CFG, "qkd pool: WAL checkpoint failed: %s",
			 sqlite3_errmsg(this->db));
	}
	else
	{	/* the WAL is synced before it is checkpointed */
		time_monotonic(&this->synced);
	}
	this->mutex->unlock(this->mutex);
}

/**
 * Get a blob column as chunk (pointing into the statement's row)
 */
static chunk_t column_blob(sqlite3_stmt *stmt, int i)
{
	return chunk_create((u_char*)sqlite3_column_blob(stmt, i),
						sqlite3_column_bytes(stmt, i));
}

METHOD(qkd_pool_store_t, create_enumerator, enumerator_t*,
	private_qkd_pool_store_t *this, char *link)
{
	sqlite3_stmt *stmt;
	linked_list_t *batches;
	qkd_batch_t *batch;
	chunk_t ids, status, sealed, indexes;
	u_int created, key_len, i;
	int rowid;

	batches = linked_list_create();
	this->mutex->lock(this->mutex);
	stmt = this->stmts[STMT_LOAD];
	sqlite3_bind_text(stmt, 1, link, -1, SQLITE_STATIC);
	while (sqlite3_step(stmt) == SQLITE_ROW)
	{
		rowid = sqlite3_column_int(stmt, 0);
		created = sqlite3_column_int64(stmt, 1);
		key_len = sqlite3_column_int(stmt, 2);
		ids = column_blob(stmt, 3);
		status = column_blob(stmt, 4);
		sealed = column_blob(stmt, 5);
		indexes = column_blob(stmt, 6);
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
		if (!this->seal->unseal(this->seal, link, batch, indexes, sealed))
		{
			DBG1(DBG_CFG, "qkd pool '%s': stored batch %d does not "
				 "authenticate (wrong storage key or modified), skipped",
				 link, rowid);
			qkd_batch_destroy(batch);
			continue;
		}
		batches->insert_last(batches, batch);
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	this->mutex->unlock(this->mutex);
	return enumerator_create_cleaner(batches->create_enumerator(batches),
				(void*)batches->destroy, batches);
}

METHOD(qkd_pool_store_t, destroy, void,
	private_qkd_pool_store_t *this)
{
	int i;

	for (i = 0; i < STMT_COUNT; i++)
	{
		sqlite3_finalize(this->stmts[i]);
	}
	if (this->db)
	{
		sqlite3_close(this->db);
	}
	DESTROY_IF(this->seal);
	this->used->destroy(this->used);
	this->mutex->destroy(this->mutex);
	free(this);
}

/**
 * Whether a table has a column
 */
static bool has_column(private_qkd_pool_store_t *this, char *table,
					   char *column)
{
	return sqlite3_table_column_metadata(this->db, NULL, table, column, NULL,
										 NULL, NULL, NULL, NULL) == SQLITE_OK;
}

/**
 * Move the used key IDs from the table before qkd_used_log into it. That
 * table was keyed by the hash, so each ID remembered was written at a
 * random place of it, rewriting many pages per deleted batch; the log is
 * only appended to (IDs are looked up in memory).
 */
static bool migrate_used(private_qkd_pool_store_t *this)
{
	if (!has_column(this, "qkd_used_ids", "hash"))
	{
		return TRUE;
	}
	if (exec(this, "BEGIN") &&
		exec(this, "INSERT INTO qkd_used_log (hash, expires) "
			 "SELECT hash, expires FROM qkd_used_ids ORDER BY expires") &&
		exec(this, "DROP TABLE qkd_used_ids") &&
		exec(this, "COMMIT"))
	{
		DBG1(DBG_CFG, "qkd pool: used key IDs moved to table qkd_used_log");
		return TRUE;
	}
	if (!sqlite3_get_autocommit(this->db))
	{
		exec(this, "ROLLBACK");
	}
	return FALSE;
}

/**
 * Set up the tables (the indexes column added to tables made before it
 * existed, used key IDs moved to their log) and prepare the statements
 */
static bool setup_tables(private_qkd_pool_store_t *this)
{
	int i;

	if (!exec(this, "CREATE TABLE IF NOT EXISTS qkd_batches ("
			"id INTEGER PRIMARY KEY AUTOINCREMENT, "
			"link TEXT NOT NULL, created INTEGER NOT NULL, "
			"key_len INTEGER NOT NULL, ids BLOB NOT NULL, "
			"status BLOB NOT NULL, sealed BLOB NOT NULL, indexes BLOB)") ||
		(!has_column(this, "qkd_batches", "indexes") &&
		 !exec(this, "ALTER TABLE qkd_batches ADD COLUMN indexes BLOB")) ||
		!exec(this, "CREATE TABLE IF NOT EXISTS qkd_used_log ("
			"hash TEXT NOT NULL, expires INTEGER NOT NULL)") ||
		!exec(this, "CREATE INDEX IF NOT EXISTS qkd_used_log_expires "
			"ON qkd_used_log (expires)") ||
		!migrate_used(this))
	{
		return FALSE;
	}
	for (i = 0; i < STMT_COUNT; i++)
	{
		if (sqlite3_prepare_v2(this->db, stmt_sql[i], -1, &this->stmts[i],
							   NULL) != SQLITE_OK)
		{
			DBG1(DBG_CFG, "qkd pool: preparing '%s' failed: %s", stmt_sql[i],
				 sqlite3_errmsg(this->db));
			return FALSE;
		}
	}
	return TRUE;
}

/*
 * Described in header
 */
qkd_pool_store_t *qkd_pool_store_create(char *uri, char *keyfile,
										u_int interval)
{
	private_qkd_pool_store_t *this;
	char *path = uri;

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
		.interval = interval,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.used = hashtable_create(hash_used, equals_used, 1024),
	);

	this->seal = qkd_pool_seal_create(keyfile);
	if (!this->seal)
	{
		destroy(this);
		return NULL;
	}
	/* the URI form strongSwan's database plugins take, or a plain path */
	if (strpfx(path, "sqlite://"))
	{
		path += strlen("sqlite://");
	}
	if (sqlite3_open_v2(path, &this->db, SQLITE_OPEN_READWRITE |
						SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
						NULL) != SQLITE_OK)
	{
		DBG1(DBG_CFG, "qkd pool: opening database '%s' failed: %s", path,
			 this->db ? sqlite3_errmsg(this->db) : "out of memory");
		destroy(this);
		return NULL;
	}
	sqlite3_busy_timeout(this->db, BUSY_TIMEOUT);
	/* overwrite deleted content, WAL with syncs only where asked for */
	if (!exec(this, "PRAGMA secure_delete = ON") ||
		!exec(this, "PRAGMA journal_mode = WAL") ||
		!exec(this, "PRAGMA synchronous = NORMAL") ||
		!setup_tables(this))
	{
		DBG1(DBG_CFG, "qkd pool: setting up database '%s' failed", path);
		destroy(this);
		return NULL;
	}
	load_used(this);
	return &this->public;
}
