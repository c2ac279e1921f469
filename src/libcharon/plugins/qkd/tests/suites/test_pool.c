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

/*
 * The key pool on a real SQLite file: status transitions, encryption at
 * rest, persistence, crash recovery (in a child process killed without any
 * cleanup), expiry.
 */

#include <test_suite.h>

#include <unistd.h>
#include <sys/wait.h>
#include <sys/stat.h>

#include <sqlite3.h>
#include <threading/thread.h>

#include "qkd_pool.h"
#include "qkd_status.h"
#include "qkd_doh_msg.h"

/**
 * Directory of the database and storage key of a test
 */
static char dir[] = "/tmp/qkd-test-pool-XXXXXX";

/**
 * Store and pool under test
 */
static qkd_pool_store_t *store;
static qkd_pool_t *pool;

/**
 * Keys added in a test, as qkd_key_t*
 */
static array_t *keys;

/**
 * Open store and pool on the test files, new keys synced within interval ms
 */
static void open_pool_sync(u_int capacity, u_int interval)
{
	char uri[PATH_MAX], keyfile[PATH_MAX];

	snprintf(uri, sizeof(uri), "sqlite://%s/pool.db", dir);
	snprintf(keyfile, sizeof(keyfile), "%s/pool.key", dir);
	store = qkd_pool_store_create(uri, keyfile, interval);
	ck_assert(store);
	pool = qkd_pool_create(store, "test", capacity);
	/* one key per take(), unless a test reserves more */
	pool->set_reserve(pool, 1);
}

/**
 * Open store and pool on the test files, new keys synced at once
 */
static void open_pool(u_int capacity)
{
	open_pool_sync(capacity, 0);
}

/**
 * Close pool and store, like charon going down
 */
static void close_pool()
{
	pool->destroy(pool);
	store->destroy(store);
}

/**
 * Random keys with random IDs
 */
static array_t *make_keys(u_int count, size_t len)
{
	array_t *array = array_create(0, 0);
	uint8_t id[QKD_KEY_ID_LEN];
	chunk_t material;
	rng_t *rng;
	u_int i;

	rng = lib->crypto->create_rng(lib->crypto, RNG_WEAK);
	for (i = 0; i < count; i++)
	{
		ck_assert(rng->get_bytes(rng, sizeof(id), id));
		ck_assert(rng->allocate_bytes(rng, len, &material));
		array_insert(array, ARRAY_TAIL, qkd_key_create(id, material));
	}
	rng->destroy(rng);
	return array;
}

/**
 * Get a key of the keys array
 */
static qkd_key_t *key_at(u_int i)
{
	qkd_key_t *key;

	ck_assert(array_get(keys, i, &key));
	return key;
}

/**
 * Assert the statuses of a key
 */
static void assert_status(qkd_key_t *key, qkd_key_status_t status,
						  qkd_key_status_t auth, qkd_key_status_t enc)
{
	qkd_key_status_t s, a, e;

	ck_assert(pool->get_status(pool, key->id, &s, &a, &e));
	ck_assert_int_eq(s, status);
	ck_assert_int_eq(a, auth);
	ck_assert_int_eq(e, enc);
}

/**
 * Assert the number of keys per status
 */
static void assert_counts(u_int idle, u_int pending, u_int active)
{
	qkd_pool_stats_t stats;

	pool->get_stats(pool, &stats);
	ck_assert_int_eq(stats.count[QKD_KEY_IDLE], idle);
	ck_assert_int_eq(stats.count[QKD_KEY_PENDING], pending);
	ck_assert_int_eq(stats.count[QKD_KEY_ACTIVE], active);
}

START_SETUP(setup_pool)
{
	strcpy(dir, "/tmp/qkd-test-pool-XXXXXX");
	ck_assert(mkdtemp(dir));
	open_pool(100);
	keys = make_keys(10, 32);
	ck_assert(pool->add(pool, keys));
}
END_SETUP

START_TEARDOWN(teardown_pool)
{
	char cmd[PATH_MAX];

	close_pool();
	qkd_key_array_destroy(keys);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ignore_result(system(cmd));
}
END_TEARDOWN

/**
 * Find the key with the lowest Index: the first one added
 */
static qkd_key_t *lowest_key()
{
	return key_at(0);
}

START_TEST(test_lifecycle)
{
	qkd_key_t *taken, *lowest = lowest_key();

	assert_counts(10, 0, 0);
	ck_assert_int_eq(pool->get_index(pool, lowest->id), 1);

	/* generated: Idle/Idle/Idle, taken in Index order: Pending */
	assert_status(lowest, QKD_KEY_IDLE, QKD_KEY_IDLE, QKD_KEY_IDLE);
	taken = pool->take(pool, 0);
	ck_assert(taken);
	ck_assert(memeq(taken->id, lowest->id, QKD_KEY_ID_LEN));
	ck_assert(chunk_equals(taken->key, lowest->key));
	assert_status(lowest, QKD_KEY_PENDING, QKD_KEY_IDLE, QKD_KEY_IDLE);
	assert_counts(9, 1, 0);

	/* confirmed: Active, the EncKey used by the session: Active */
	ck_assert(pool->set_status(pool, lowest->id, QKD_KEY_ACTIVE));
	ck_assert(pool->set_derived_status(pool, lowest->id, QKD_ENC_KEY,
									   QKD_KEY_ACTIVE));
	assert_status(lowest, QKD_KEY_ACTIVE, QKD_KEY_IDLE, QKD_KEY_ACTIVE);
	assert_counts(9, 0, 1);

	/* used up: everything Expired */
	ck_assert(pool->set_status(pool, lowest->id, QKD_KEY_EXPIRED));
	assert_status(lowest, QKD_KEY_EXPIRED, QKD_KEY_EXPIRED, QKD_KEY_EXPIRED);
	assert_counts(9, 0, 0);
	qkd_key_destroy(taken);
}
END_TEST

/**
 * Illegal transitions of the original key, from the status reached by
 * the given number of legal steps (Idle, Pending, Active, Expired)
 */
static struct {
	u_int steps;
	qkd_key_status_t to;
} illegal[] = {
	{ 0, QKD_KEY_IDLE },
	{ 0, QKD_KEY_ACTIVE },
	{ 1, QKD_KEY_IDLE },
	{ 1, QKD_KEY_PENDING },
	{ 2, QKD_KEY_IDLE },
	{ 2, QKD_KEY_PENDING },
	{ 2, QKD_KEY_ACTIVE },
	{ 3, QKD_KEY_IDLE },
	{ 3, QKD_KEY_PENDING },
	{ 3, QKD_KEY_ACTIVE },
	{ 3, QKD_KEY_EXPIRED },
};

START_TEST(test_illegal)
{
	qkd_key_status_t steps[] = { QKD_KEY_PENDING, QKD_KEY_ACTIVE,
								 QKD_KEY_EXPIRED };
	qkd_key_status_t before, after;
	qkd_key_t *key = key_at(0);
	u_int i;

	for (i = 0; i < illegal[_i].steps; i++)
	{
		ck_assert(pool->set_status(pool, key->id, steps[i]));
	}
	ck_assert(pool->get_status(pool, key->id, &before, NULL, NULL));
	ck_assert(!pool->set_status(pool, key->id, illegal[_i].to));
	ck_assert(pool->get_status(pool, key->id, &after, NULL, NULL));
	ck_assert_int_eq(before, after);
}
END_TEST

START_TEST(test_derived)
{
	qkd_key_t *key = key_at(0);
	chunk_t auth, enc, again;

	/* derived keys only while the original key is Active */
	ck_assert(!pool->derive(pool, key->id, QKD_AUTH_KEY, &auth));
	ck_assert(!pool->set_derived_status(pool, key->id, QKD_AUTH_KEY,
										QKD_KEY_ACTIVE));
	ck_assert(pool->set_status(pool, key->id, QKD_KEY_PENDING));
	ck_assert(!pool->set_derived_status(pool, key->id, QKD_AUTH_KEY,
										QKD_KEY_ACTIVE));
	ck_assert(pool->set_status(pool, key->id, QKD_KEY_ACTIVE));

	ck_assert(pool->derive(pool, key->id, QKD_AUTH_KEY, &auth));
	ck_assert(pool->derive(pool, key->id, QKD_ENC_KEY, &enc));
	ck_assert(pool->derive(pool, key->id, QKD_AUTH_KEY, &again));
	ck_assert_int_eq(auth.len, key->key.len);
	ck_assert(chunk_equals(auth, again));
	ck_assert(!chunk_equals(auth, enc));
	ck_assert(!chunk_equals(auth, key->key));
	chunk_clear(&again);

	/* Idle -> Active -> Expired, never back */
	ck_assert(pool->set_derived_status(pool, key->id, QKD_AUTH_KEY,
									   QKD_KEY_ACTIVE));
	ck_assert(!pool->set_derived_status(pool, key->id, QKD_AUTH_KEY,
										QKD_KEY_ACTIVE));
	ck_assert(pool->set_derived_status(pool, key->id, QKD_AUTH_KEY,
									   QKD_KEY_EXPIRED));
	ck_assert(!pool->set_derived_status(pool, key->id, QKD_AUTH_KEY,
										QKD_KEY_ACTIVE));
	assert_status(key, QKD_KEY_ACTIVE, QKD_KEY_EXPIRED, QKD_KEY_IDLE);
	chunk_clear(&auth);
	chunk_clear(&enc);
}
END_TEST

START_TEST(test_refused_keys)
{
	array_t *more;
	qkd_key_t *dup;

	/* a known key ID, as batch or as peer's key */
	more = make_keys(2, 32);
	array_get(more, 0, &dup);
	memcpy(dup->id, key_at(3)->id, QKD_KEY_ID_LEN);
	ck_assert(!pool->add(pool, more));
	ck_assert(!pool->add_pending(pool, key_at(3)));
	qkd_key_array_destroy(more);

	/* capacity of 100 Idle keys */
	more = make_keys(91, 32);
	ck_assert(!pool->add(pool, more));
	qkd_key_array_destroy(more);
	more = make_keys(90, 32);
	ck_assert(pool->add(pool, more));
	qkd_key_array_destroy(more);
	assert_counts(100, 0, 0);
}
END_TEST

/**
 * Check whether a file contains some bytes
 */
static bool file_contains(char *name, chunk_t what)
{
	char path[PATH_MAX];
	chunk_t *data;
	bool found;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	data = chunk_map(path, FALSE);
	if (!data)
	{	/* e.g. no journal */
		return FALSE;
	}
	found = memmem(data->ptr, data->len, what.ptr, what.len) != NULL;
	chunk_unmap(data);
	return found;
}

/**
 * Check whether the database or its WAL contain some bytes
 */
static bool stored(chunk_t what)
{
	return file_contains("pool.db", what) ||
		   file_contains("pool.db-wal", what);
}

START_TEST(test_encrypted_at_rest)
{
	u_int i, round;

	for (round = 0; round < 2; round++)
	{
		for (i = 0; i < array_count(keys); i++)
		{
			/* the IDs are stored in clear, so the search works... */
			ck_assert(stored(chunk_create(key_at(i)->id, QKD_KEY_ID_LEN)));
			/* ...and no key is */
			ck_assert(!stored(key_at(i)->key));
		}
		/* in the WAL first, then in the database file */
		store->checkpoint(store);
	}
}
END_TEST

START_TEST(test_persistence)
{
	qkd_key_t *taken, *lowest = lowest_key();

	close_pool();
	open_pool(100);
	assert_counts(10, 0, 0);
	taken = pool->take(pool, 0);
	ck_assert(memeq(taken->id, lowest->id, QKD_KEY_ID_LEN));
	ck_assert(chunk_equals(taken->key, lowest->key));
	qkd_key_destroy(taken);
}
END_TEST

START_TEST(test_crash_recovery)
{
	qkd_key_t *pending, *active;
	qkd_key_status_t status;

	pending = pool->take(pool, 0);
	active = pool->take(pool, 0);
	ck_assert(pool->set_status(pool, active->id, QKD_KEY_ACTIVE));
	ck_assert(pool->add_pending(pool, key_at(0)) == FALSE);

	/* charon dies without cleaning up: reopen the same files */
	close_pool();
	open_pool(100);

	/* what was in use is never handed out again, no Idle key is lost */
	assert_counts(8, 0, 0);
	ck_assert(!pool->get_status(pool, pending->id, &status, NULL, NULL) ||
			  status == QKD_KEY_EXPIRED);
	ck_assert(!pool->get_status(pool, active->id, &status, NULL, NULL) ||
			  status == QKD_KEY_EXPIRED);
	/* and their material is in none of the files */
	ck_assert(!stored(pending->key));
	ck_assert(!stored(active->key));
	qkd_key_destroy(pending);
	qkd_key_destroy(active);
}
END_TEST

/**
 * The original status of a key as the database file holds it right now,
 * read over a connection of its own; -1 if the key is not stored
 */
static int stored_status(qkd_key_t *key)
{
	sqlite3_stmt *stmt;
	sqlite3 *db;
	char path[PATH_MAX];
	const u_char *ids, *status;
	int found = -1, i, n;

	snprintf(path, sizeof(path), "%s/pool.db", dir);
	ck_assert(sqlite3_open(path, &db) == SQLITE_OK);
	ck_assert(sqlite3_prepare_v2(db, "SELECT ids, status FROM qkd_batches",
								 -1, &stmt, NULL) == SQLITE_OK);
	while (sqlite3_step(stmt) == SQLITE_ROW)
	{
		ids = sqlite3_column_blob(stmt, 0);
		status = sqlite3_column_blob(stmt, 1);
		n = sqlite3_column_bytes(stmt, 1);
		for (i = 0; i < n; i++)
		{
			if (memeq(ids + i * QKD_KEY_ID_LEN, key->id, QKD_KEY_ID_LEN))
			{
				found = status[i] & 0x03;
			}
		}
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return found;
}

START_TEST(test_reserve)
{
	qkd_key_t *taken[5];
	u_int i;

	/* the first take() reserves the four lowest keys with one write */
	pool->set_reserve(pool, 4);
	taken[0] = pool->take(pool, 0);
	ck_assert(taken[0]);
	ck_assert_chunk_eq(taken[0]->key, key_at(0)->key);
	assert_counts(6, 4, 0);
	for (i = 0; i < 4; i++)
	{
		ck_assert_int_eq(stored_status(key_at(i)), QKD_KEY_PENDING);
	}
	ck_assert_int_eq(stored_status(key_at(4)), QKD_KEY_IDLE);

	/* a reserved key that expired meanwhile is skipped */
	ck_assert(pool->set_status(pool, key_at(1)->id, QKD_KEY_EXPIRED));
	/* the next ones come from the reserve, in Index order, no write */
	for (i = 1; i < 3; i++)
	{
		taken[i] = pool->take(pool, 0);
		ck_assert(taken[i]);
		ck_assert_chunk_eq(taken[i]->key, key_at(i + 1)->key);
	}
	assert_counts(6, 3, 0);
	ck_assert_int_eq(stored_status(key_at(4)), QKD_KEY_IDLE);
	/* reserve empty: the next four */
	taken[3] = pool->take(pool, 0);
	ck_assert(taken[3]);
	ck_assert_chunk_eq(taken[3]->key, key_at(4)->key);
	assert_counts(2, 7, 0);

	/* a restart expires the reserved keys not taken yet, with the others
	 * in use: none is handed out again, no Idle key is lost */
	close_pool();
	open_pool(100);
	pool->set_reserve(pool, 4);
	assert_counts(2, 0, 0);
	taken[4] = pool->take(pool, 0);
	ck_assert(taken[4]);
	ck_assert_chunk_eq(taken[4]->key, key_at(8)->key);
	for (i = 0; i < countof(taken); i++)
	{
		qkd_key_destroy(taken[i]);
	}
}
END_TEST

START_TEST(test_bind_keys)
{
	uint8_t ids[4 * QKD_KEY_ID_LEN];
	array_t *more;
	qkd_key_t *key;
	u_int i;

	/* a second batch: bind two keys of each in one write */
	more = make_keys(10, 32);
	ck_assert(pool->add(pool, more));
	for (i = 0; i < 4; i++)
	{
		ck_assert(array_get(i < 2 ? keys : more, 8 + i % 2, &key));
		memcpy(ids + i * QKD_KEY_ID_LEN, key->id, QKD_KEY_ID_LEN);
	}
	ck_assert(pool->bind_keys(pool, ids, 4));
	assert_counts(16, 4, 0);
	for (i = 0; i < 4; i++)
	{
		ck_assert(array_get(i < 2 ? keys : more, 8 + i % 2, &key));
		assert_status(key, QKD_KEY_PENDING, QKD_KEY_IDLE, QKD_KEY_IDLE);
		/* on disk when bind_keys() returns */
		ck_assert_int_eq(stored_status(key), QKD_KEY_PENDING);
	}

	/* all or nothing: one of them no longer Idle, or unknown */
	memcpy(ids, key_at(0)->id, QKD_KEY_ID_LEN);
	ck_assert(!pool->bind_keys(pool, ids, 2));
	memset(ids + QKD_KEY_ID_LEN, 0x42, QKD_KEY_ID_LEN);
	ck_assert(!pool->bind_keys(pool, ids, 2));
	ck_assert(!pool->bind_keys(pool, ids, 0));
	assert_status(key_at(0), QKD_KEY_IDLE, QKD_KEY_IDLE, QKD_KEY_IDLE);
	ck_assert_int_eq(stored_status(key_at(0)), QKD_KEY_IDLE);
	assert_counts(16, 4, 0);

	/* a restart never hands out a bound key again */
	close_pool();
	open_pool(100);
	assert_counts(16, 0, 0);
	qkd_key_array_destroy(more);
}
END_TEST

/**
 * Keys to bind from a thread, and whether that returned
 */
static struct {
	uint8_t ids[2 * QKD_KEY_ID_LEN];
	bool done;
	bool ok;
} binding;

static void *bind_thread(void *arg)
{
	binding.ok = pool->bind_keys(pool, binding.ids, 2);
	binding.done = TRUE;
	return NULL;
}

/**
 * Open the pool's database and take its write lock, as another process
 */
static sqlite3 *lock_database()
{
	char path[PATH_MAX];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/pool.db", dir);
	ck_assert(sqlite3_open(path, &db) == SQLITE_OK);
	ck_assert(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL,
						   NULL) == SQLITE_OK);
	return db;
}

/**
 * Lock the pool's database (as another process), start a thread that
 * writes to it and check that the write waits: returns the thread, and
 * the database to commit
 */
static thread_t *start_behind_lock(void *(*writer)(void*), bool *done,
								   sqlite3 **db)
{
	thread_t *thread;

	*db = lock_database();
	thread = thread_create(writer, NULL);
	usleep(200000);
	ck_assert(!*done);
	return thread;
}

START_TEST(test_bind_without_waiting)
{
	qkd_key_status_t status;
	thread_t *thread;
	sqlite3 *db;
	u_int round;

	/* a key a key exchange holds */
	ck_assert(pool->set_status(pool, key_at(0)->id, QKD_KEY_PENDING));
	for (round = 0; round < 2; round++)
	{
		memcpy(binding.ids, key_at(4 + 2 * round)->id, QKD_KEY_ID_LEN);
		memcpy(binding.ids + QKD_KEY_ID_LEN, key_at(5 + 2 * round)->id,
			   QKD_KEY_ID_LEN);
		binding.done = FALSE;

		/* the disk is slow: the binding's write waits for the lock */
		thread = start_behind_lock(bind_thread, &binding.done, &db);
		/* Pending at once, not handed out by anything else */
		ck_assert(pool->get_status(pool, key_at(4 + 2 * round)->id,
								   &status, NULL, NULL));
		ck_assert_int_eq(status, QKD_KEY_PENDING);
		/* a key exchange using and dropping its key does not wait */
		if (round == 0)
		{
			ck_assert(pool->set_status(pool, key_at(0)->id, QKD_KEY_ACTIVE));
			ck_assert(pool->set_status(pool, key_at(0)->id,
									   QKD_KEY_EXPIRED));
		}
		ck_assert(!binding.done);
		if (round == 0)
		{	/* the write goes through: bound, on disk */
			ck_assert(sqlite3_exec(db, "COMMIT", NULL, NULL,
								   NULL) == SQLITE_OK);
			thread->join(thread);
			ck_assert(binding.ok);
			ck_assert_int_eq(stored_status(key_at(4)), QKD_KEY_PENDING);
			ck_assert_int_eq(stored_status(key_at(5)), QKD_KEY_PENDING);
			assert_counts(7, 2, 0);
		}
		else
		{	/* the lock outlasts the busy timeout: refused, Idle again */
			thread->join(thread);
			ck_assert(sqlite3_exec(db, "COMMIT", NULL, NULL,
								   NULL) == SQLITE_OK);
			ck_assert(!binding.ok);
			assert_status(key_at(6), QKD_KEY_IDLE, QKD_KEY_IDLE,
						  QKD_KEY_IDLE);
			ck_assert_int_eq(stored_status(key_at(6)), QKD_KEY_IDLE);
			assert_counts(7, 2, 0);
			/* and can be bound later */
			ck_assert(pool->bind_keys(pool, binding.ids, 2));
			assert_counts(5, 4, 0);
		}
		sqlite3_close(db);
	}
}
END_TEST

START_TEST(test_lazy_changes)
{
	qkd_key_t *taken;

	/* leaving the pool is stored at once */
	taken = pool->take(pool, 0);
	ck_assert_int_eq(stored_status(taken), QKD_KEY_PENDING);

	/* using it is not: the stored Pending expires on a restart anyway */
	ck_assert(pool->set_status(pool, taken->id, QKD_KEY_ACTIVE));
	ck_assert(pool->set_derived_status(pool, taken->id, QKD_ENC_KEY,
									   QKD_KEY_ACTIVE));
	ck_assert(pool->set_status(pool, taken->id, QKD_KEY_EXPIRED));
	assert_status(taken, QKD_KEY_EXPIRED, QKD_KEY_EXPIRED, QKD_KEY_EXPIRED);
	assert_counts(9, 0, 0);
	ck_assert_int_eq(stored_status(taken), QKD_KEY_PENDING);

	/* the next checkpoint stores it */
	pool->checkpoint(pool);
	ck_assert_int_eq(stored_status(taken), QKD_KEY_EXPIRED);
	qkd_key_destroy(taken);

	/* so does closing the pool */
	taken = pool->take(pool, 0);
	ck_assert(pool->set_status(pool, taken->id, QKD_KEY_ACTIVE));
	close_pool();
	ck_assert_int_eq(stored_status(taken), QKD_KEY_ACTIVE);
	open_pool(100);
	assert_counts(8, 0, 0);
	qkd_key_destroy(taken);
}
END_TEST

START_TEST(test_lazy_changes_crash)
{
	qkd_key_t *first, *second;
	qkd_key_status_t status;
	pid_t pid;
	int code;

	first = qkd_key_create(lowest_key()->id, chunk_empty);
	close_pool();
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0)
	{	/* charon: takes two keys, uses them, and dies without cleanup */
		open_pool(100);
		qkd_key_destroy(pool->take(pool, 0));
		second = pool->take(pool, 0);
		if (!pool->set_status(pool, first->id, QKD_KEY_ACTIVE) ||
			!pool->set_status(pool, first->id, QKD_KEY_EXPIRED) ||
			!pool->set_status(pool, second->id, QKD_KEY_ACTIVE) ||
			pool->get_count(pool, QKD_KEY_IDLE) != 8)
		{
			_exit(1);
		}
		_exit(0);
	}
	ck_assert(waitpid(pid, &code, 0) == pid);
	ck_assert(WIFEXITED(code) && WEXITSTATUS(code) == 0);

	/* both keys are stored as in use: expired, never Idle again */
	ck_assert_int_eq(stored_status(first), QKD_KEY_PENDING);
	open_pool(100);
	assert_counts(8, 0, 0);
	ck_assert(!pool->get_status(pool, first->id, &status, NULL, NULL) ||
			  status == QKD_KEY_EXPIRED);
	second = pool->take(pool, 0);
	ck_assert(second);
	ck_assert(!memeq(second->id, first->id, QKD_KEY_ID_LEN));
	qkd_key_destroy(second);
	qkd_key_destroy(first);
}
END_TEST

START_TEST(test_unsynced_keys_survive_kill)
{
	array_t *more;
	pid_t pid;
	int code;

	more = make_keys(30, 32);
	close_pool();
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0)
	{	/* charon: adds keys synced only once a minute, then is killed */
		open_pool_sync(100, 60000);
		while (array_count(more))
		{
			array_t *batch = array_create(0, 0);
			qkd_key_t *key;

			while (array_count(batch) < 10 &&
				   array_remove(more, ARRAY_HEAD, &key))
			{
				array_insert(batch, ARRAY_TAIL, key);
			}
			if (!pool->add(pool, batch))
			{
				_exit(1);
			}
			array_destroy(batch);
		}
		_exit(0);
	}
	ck_assert(waitpid(pid, &code, 0) == pid);
	ck_assert(WIFEXITED(code) && WEXITSTATUS(code) == 0);

	/* all in the WAL: none of them lost */
	open_pool(100);
	assert_counts(40, 0, 0);
	qkd_key_array_destroy(more);
}
END_TEST

START_TEST(test_expiry)
{
	array_t *fresh;
	qkd_key_t *taken;

	ck_assert_int_eq(pool->expire(pool, 3600), 0);
	assert_counts(10, 0, 0);
	ck_assert_int_eq(pool->expire(pool, 0), 10);
	assert_counts(0, 0, 0);
	ck_assert(pool->take(pool, 0) == NULL);

	close_pool();
	open_pool(100);
	assert_counts(0, 0, 0);

	fresh = make_keys(1, 16);
	ck_assert(pool->add(pool, fresh));
	taken = pool->take(pool, 0);
	ck_assert(taken && taken->key.len == 16);
	qkd_key_destroy(taken);
	qkd_key_array_destroy(fresh);

	/* the expired batch stayed only while it held the highest Index: with
	 * a newer one it is gone from the files after a checkpoint */
	pool->checkpoint(pool);
	ck_assert(!stored(chunk_create(key_at(0)->id, QKD_KEY_ID_LEN)));
}
END_TEST

/**
 * Assert that the pool's accounting adds up: keys loaded and stored are
 * those it holds plus those dropped
 */
static void assert_accounting(u_int loaded, u_int stored, u_int dropped)
{
	qkd_pool_stats_t stats;

	pool->get_stats(pool, &stats);
	ck_assert_int_eq(stats.loaded, loaded);
	ck_assert_int_eq(stats.stored, stored);
	ck_assert_int_eq(stats.dropped, dropped);
	ck_assert_int_eq(stats.loaded + stats.stored,
					 stats.count[QKD_KEY_IDLE] + stats.count[QKD_KEY_PENDING] +
					 stats.count[QKD_KEY_ACTIVE] +
					 stats.count[QKD_KEY_EXPIRED] + stats.dropped);
}

START_TEST(test_accounting)
{
	array_t *fresh;
	qkd_key_t *taken;

	assert_accounting(0, 10, 0);
	taken = pool->take(pool, 0);
	ck_assert(taken);
	ck_assert(pool->set_status(pool, taken->id, QKD_KEY_ACTIVE));
	qkd_key_destroy(taken);
	ck_assert_int_eq(pool->expire(pool, 0), 9);
	assert_accounting(0, 10, 0);

	/* a restart expires the Active key, the batch stays for its Index */
	close_pool();
	open_pool(100);
	assert_accounting(10, 0, 0);
	assert_counts(0, 0, 0);

	/* a newer batch takes the highest Index, the expired one goes with the
	 * next checkpoint */
	fresh = make_keys(3, 16);
	ck_assert(pool->add(pool, fresh));
	assert_accounting(10, 3, 0);
	pool->checkpoint(pool);
	assert_accounting(10, 3, 10);
	assert_counts(3, 0, 0);
	qkd_key_array_destroy(fresh);
}
END_TEST

/**
 * Expire every key of an array in the pool
 */
static void expire_all(array_t *array)
{
	qkd_key_t *key;
	u_int i;

	for (i = 0; i < array_count(array); i++)
	{
		array_get(array, i, &key);
		ck_assert(pool->set_status(pool, key->id, QKD_KEY_EXPIRED));
	}
}

/**
 * Check that the keys of an array hold consecutive Indexes from first on,
 * in the pool and in its bitmap
 */
static void assert_indexes(array_t *array, uint32_t first)
{
	uint8_t id[QKD_KEY_ID_LEN];
	qkd_key_t *key;
	u_int i;

	for (i = 0; i < array_count(array); i++)
	{
		array_get(array, i, &key);
		ck_assert_int_eq(pool->get_index(pool, key->id), first + i);
		ck_assert(pool->get_id(pool, first + i, id));
		ck_assert(memeq(id, key->id, QKD_KEY_ID_LEN));
	}
}

/**
 * Copies of keys with the same IDs and other material, as a KME that
 * issues them again would deliver them
 */
static array_t *issued_again(array_t *array)
{
	array_t *again = make_keys(array_count(array), 32);
	qkd_key_t *key, *copy;
	u_int i;

	for (i = 0; i < array_count(array); i++)
	{
		array_get(array, i, &key);
		array_get(again, i, &copy);
		memcpy(copy->id, key->id, QKD_KEY_ID_LEN);
	}
	return again;
}

/**
 * Add keys, use them up, and have their batch dropped (a newer batch holds
 * the highest Index)
 */
static array_t *add_used_dropped()
{
	array_t *used, *newer;
	qkd_pool_stats_t before, after;

	used = make_keys(3, 32);
	ck_assert(pool->add(pool, used));
	newer = make_keys(1, 32);
	ck_assert(pool->add(pool, newer));
	qkd_key_array_destroy(newer);
	pool->get_stats(pool, &before);
	expire_all(used);
	pool->get_stats(pool, &after);
	ck_assert_int_eq(after.dropped, before.dropped + 3);
	return used;
}

START_TEST(test_used_ids)
{
	array_t *used, *again;
	uint32_t indexes[] = { 1000, 1001, 1002 };
	qkd_key_t *key;

	used = add_used_dropped();
	/* dropped keys are forgotten, their IDs are not: refused as batch,
	 * with Indexes, as the peer's key */
	again = issued_again(used);
	ck_assert(!pool->add(pool, again));
	ck_assert(!pool->add_indexed(pool, again, indexes));
	array_get(again, 1, &key);
	ck_assert(!pool->add_pending(pool, key));

	/* also after a restart */
	close_pool();
	open_pool(100);
	ck_assert(!pool->add(pool, again));
	ck_assert(!pool->add_pending(pool, key));
	qkd_key_array_destroy(again);
	qkd_key_array_destroy(used);

	/* remembered for as long as set, here not at all */
	pool->set_remember(pool, 0);
	used = add_used_dropped();
	pool->checkpoint(pool);
	again = issued_again(used);
	ck_assert(pool->add(pool, again));
	qkd_key_array_destroy(again);
	qkd_key_array_destroy(used);
}
END_TEST

/**
 * Run SQL on the pool's database file over a connection of its own, the
 * number of rows of the last statement (if it is a query of a count)
 */
static int pool_sql(char *sql)
{
	sqlite3_stmt *stmt;
	sqlite3 *db;
	char path[PATH_MAX];
	int count = 0;

	snprintf(path, sizeof(path), "%s/pool.db", dir);
	ck_assert(sqlite3_open(path, &db) == SQLITE_OK);
	ck_assert(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW)
	{
		count = sqlite3_column_int(stmt, 0);
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return count;
}

START_TEST(test_used_ids_migrated)
{
	array_t *used, *again;

	used = add_used_dropped();
	close_pool();
	/* as a database of a build before the log: the IDs in a table keyed
	 * by their hash */
	pool_sql("CREATE TABLE qkd_used_ids (hash TEXT PRIMARY KEY, "
			 "expires INTEGER NOT NULL) WITHOUT ROWID");
	pool_sql("INSERT INTO qkd_used_ids SELECT hash, expires "
			 "FROM qkd_used_log");
	pool_sql("DROP TABLE qkd_used_log");
	ck_assert_int_eq(pool_sql("SELECT count(*) FROM qkd_used_ids"), 3);

	/* moved to the log on start, still refused */
	open_pool(100);
	ck_assert_int_eq(pool_sql("SELECT count(*) FROM sqlite_master WHERE "
							  "name = 'qkd_used_ids'"), 0);
	ck_assert_int_eq(pool_sql("SELECT count(*) FROM qkd_used_log"), 3);
	again = issued_again(used);
	ck_assert(!pool->add(pool, again));
	qkd_key_array_destroy(again);

	/* and after the next restart */
	close_pool();
	open_pool(100);
	again = issued_again(used);
	ck_assert(!pool->add(pool, again));
	qkd_key_array_destroy(again);
	qkd_key_array_destroy(used);
}
END_TEST

/**
 * Add a batch of three keys and a newer one (holding the last Index), and
 * change the three keys to Pending, then to the given status
 */
static array_t *add_batch_in_use(qkd_key_status_t status)
{
	array_t *used, *newer;
	qkd_key_t *key;
	u_int i;

	used = make_keys(3, 32);
	ck_assert(pool->add(pool, used));
	newer = make_keys(1, 32);
	ck_assert(pool->add(pool, newer));
	qkd_key_array_destroy(newer);
	for (i = 0; i < array_count(used); i++)
	{
		array_get(used, i, &key);
		ck_assert(pool->set_status(pool, key->id, QKD_KEY_PENDING));
		ck_assert(pool->set_status(pool, key->id, status));
	}
	return used;
}

/**
 * A key exchange using and dropping its key from a thread, and a checkpoint
 * from another, and whether they returned
 */
static struct {
	qkd_key_t *key;
	bool done;
	bool ok;
	bool checkpointed;
} exchange;

static void *exchange_thread(void *arg)
{
	exchange.ok = pool->set_status(pool, exchange.key->id,
								   QKD_KEY_ACTIVE) &&
				  pool->set_status(pool, exchange.key->id,
								   QKD_KEY_EXPIRED);
	exchange.done = TRUE;
	return NULL;
}

/**
 * Run a key exchange using and dropping a Pending key from a thread, and
 * assert that it returns within a second, successfully
 */
static void assert_exchange_goes_on(qkd_key_t *key)
{
	thread_t *exchanger;
	u_int i;

	exchange.key = key;
	exchange.done = FALSE;
	exchanger = thread_create(exchange_thread, NULL);
	for (i = 0; i < 100 && !exchange.done; i++)
	{
		usleep(10000);
	}
	ck_assert(exchange.done);
	exchanger->join(exchanger);
	ck_assert(exchange.ok);
}

static void *checkpoint_thread(void *arg)
{
	pool->checkpoint(pool);
	exchange.checkpointed = TRUE;
	return NULL;
}

START_TEST(test_checkpoint_without_waiting)
{
	qkd_pool_stats_t before, after;
	thread_t *checkpointer;
	array_t *used, *again;
	sqlite3 *db;

	/* a batch used up, which the checkpoint deletes, and a key used,
	 * which it stores */
	used = add_batch_in_use(QKD_KEY_EXPIRED);
	ck_assert(pool->set_status(pool, key_at(0)->id, QKD_KEY_PENDING));
	ck_assert(pool->set_status(pool, key_at(0)->id, QKD_KEY_ACTIVE));
	/* the key a key exchange holds */
	ck_assert(pool->set_status(pool, key_at(1)->id, QKD_KEY_PENDING));
	pool->get_stats(pool, &before);
	exchange.checkpointed = FALSE;

	/* the disk is slow: the checkpoint's writes wait for the lock */
	checkpointer = start_behind_lock(checkpoint_thread,
									 &exchange.checkpointed, &db);
	/* a key exchange using and dropping its key does not wait for it */
	assert_exchange_goes_on(key_at(1));
	assert_status(key_at(1), QKD_KEY_EXPIRED, QKD_KEY_EXPIRED,
				  QKD_KEY_EXPIRED);
	/* the batch being deleted is still known: not accepted again */
	again = issued_again(used);
	ck_assert(!pool->add(pool, again));
	ck_assert(!exchange.checkpointed);

	ck_assert(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	checkpointer->join(checkpointer);
	sqlite3_close(db);
	pool->get_stats(pool, &after);
	ck_assert_int_eq(after.dropped, before.dropped + 3);
	ck_assert(!pool->add(pool, again));
	ck_assert_int_eq(stored_status(key_at(0)), QKD_KEY_ACTIVE);
	/* changed after the checkpoint copied its batch: stored by the next */
	ck_assert_int_eq(stored_status(key_at(1)), QKD_KEY_PENDING);
	pool->checkpoint(pool);
	ck_assert_int_eq(stored_status(key_at(1)), QKD_KEY_EXPIRED);
	qkd_key_array_destroy(used);
	qkd_key_array_destroy(again);
}
END_TEST

/**
 * A refill adding keys from a thread, and whether it returned
 */
static struct {
	array_t *keys;
	bool done;
	bool ok;
} refill;

static void *refill_thread(void *arg)
{
	refill.ok = pool->add(pool, refill.keys);
	refill.done = TRUE;
	return NULL;
}

START_TEST(test_add_without_waiting)
{
	thread_t *refiller;
	qkd_key_t *twin;
	sqlite3 *db;

	/* the key a key exchange holds */
	ck_assert(pool->set_status(pool, key_at(0)->id, QKD_KEY_PENDING));
	refill.keys = make_keys(5, 32);
	refill.done = FALSE;

	/* the disk is slow: the refill's write waits for the lock */
	refiller = start_behind_lock(refill_thread, &refill.done, &db);
	/* a key exchange using and dropping its key does not wait for it */
	assert_exchange_goes_on(key_at(0));
	/* the keys being stored are not in the pool yet, but known: the peer
	 * can't make one of them Pending */
	assert_counts(9, 0, 0);
	array_get(refill.keys, 2, &twin);
	twin = qkd_key_create(twin->id, chunk_clone(twin->key));
	ck_assert(!pool->add_pending(pool, twin));
	ck_assert(!refill.done);

	ck_assert(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	refiller->join(refiller);
	sqlite3_close(db);
	ck_assert(refill.ok);
	assert_counts(14, 0, 0);
	ck_assert(!pool->add_pending(pool, twin));
	qkd_key_destroy(twin);
	/* stored: there after a restart */
	close_pool();
	open_pool(100);
	assert_counts(14, 0, 0);
	qkd_key_array_destroy(refill.keys);
}
END_TEST

/**
 * Size of the pool's write-ahead log, 0 if none
 */
static off_t wal_size()
{
	struct stat st;

	return stat("pool.db-wal", &st) == 0 ? st.st_size : 0;
}

START_TEST(test_drop_deferred)
{
	array_t *used, *again;
	qkd_pool_stats_t before, after;
	qkd_key_t *key;
	off_t wal;
	u_int i;

	used = add_batch_in_use(QKD_KEY_ACTIVE);
	pool->get_stats(pool, &before);
	wal = wal_size();

	/* keys used by key exchanges expire without a write, even the last
	 * one of the batch: deleting it is left to the next checkpoint */
	for (i = 0; i < array_count(used); i++)
	{
		array_get(used, i, &key);
		ck_assert(pool->set_status(pool, key->id, QKD_KEY_EXPIRED));
	}
	pool->get_stats(pool, &after);
	ck_assert_int_eq(after.dropped, before.dropped);
	ck_assert_int_eq(after.count[QKD_KEY_EXPIRED],
					 before.count[QKD_KEY_EXPIRED] + 3);
	ck_assert_int_eq(wal_size(), wal);
	/* expired at once all the same, and not accepted again */
	again = issued_again(used);
	ck_assert(!pool->add(pool, again));

	pool->checkpoint(pool);
	pool->get_stats(pool, &after);
	ck_assert_int_eq(after.dropped, before.dropped + 3);
	ck_assert_int_eq(after.count[QKD_KEY_EXPIRED],
					 before.count[QKD_KEY_EXPIRED]);
	/* the IDs are remembered, also after a restart */
	ck_assert(!pool->add(pool, again));
	close_pool();
	open_pool(100);
	ck_assert(!pool->add(pool, again));
	qkd_key_array_destroy(again);
	qkd_key_array_destroy(used);
}
END_TEST

START_TEST(test_indexes)
{
	array_t *more, *last;
	uint8_t id[QKD_KEY_ID_LEN];
	uint32_t first;
	chunk_t bitmap;
	u_int size;

	/* Indexes in the order keys are added, never changed */
	assert_indexes(keys, 1);
	more = make_keys(5, 32);
	ck_assert(pool->add(pool, more));
	assert_indexes(more, 11);
	ck_assert(!pool->get_id(pool, 0, id));
	ck_assert(!pool->get_id(pool, 16, id));

	/* the first batch goes when all its keys expired, the others keep
	 * their Indexes, the bitmap starts at the lowest one held */
	expire_all(keys);
	assert_indexes(more, 11);
	ck_assert(!pool->get_id(pool, 1, id));
	size = pool->get_bitmap(pool, &bitmap, &first);
	ck_assert_int_eq(first, 11);
	ck_assert_int_eq(size, 5);
	ck_assert_chunk_eq(bitmap, chunk_from_chars(0x00, 0x00));
	chunk_free(&bitmap);

	/* across a restart too, and an Index is never given twice: not after
	 * all keys expired, nor after a restart then */
	close_pool();
	open_pool(100);
	assert_indexes(more, 11);
	expire_all(more);
	size = pool->get_bitmap(pool, &bitmap, &first);
	ck_assert_int_eq(size, 5);
	ck_assert_int_eq(first, 11);
	ck_assert_chunk_eq(bitmap, chunk_from_chars(0xff, 0xc0));
	chunk_free(&bitmap);
	close_pool();
	open_pool(100);
	last = make_keys(3, 32);
	ck_assert(pool->add(pool, last));
	assert_indexes(last, 16);
	/* the batch kept for its Index goes with the next checkpoint */
	ck_assert(pool->get_id(pool, 15, id));
	pool->checkpoint(pool);
	ck_assert(!pool->get_id(pool, 15, id));
	size = pool->get_bitmap(pool, &bitmap, &first);
	ck_assert_int_eq(first, 16);
	ck_assert_int_eq(size, 3);
	chunk_free(&bitmap);
	qkd_key_array_destroy(more);
	qkd_key_array_destroy(last);
}
END_TEST

START_TEST(test_add_indexed)
{
	array_t *peer, *again;
	uint32_t indexes[] = { 100, 102, 103 }, bad[] = { 200, 200, 201 };
	uint8_t id[QKD_KEY_ID_LEN];
	qkd_key_status_t status;
	qkd_key_t *key;
	uint32_t first;
	chunk_t bitmap;
	u_int size;

	/* keys the peer announced, with its Indexes: 101 is not held */
	peer = make_keys(3, 32);
	ck_assert(pool->add_indexed(pool, peer, indexes));
	array_get(peer, 1, &key);
	ck_assert_int_eq(pool->get_index(pool, key->id), 102);
	ck_assert(!pool->get_id(pool, 101, id));
	size = pool->get_bitmap(pool, &bitmap, &first);
	ck_assert_int_eq(first, 1);
	ck_assert_int_eq(size, 103);
	ck_assert_int_eq(qkd_doh_bitmap_get(bitmap, 99), 0);
	ck_assert_int_eq(qkd_doh_bitmap_get(bitmap, 100), 3);
	ck_assert_int_eq(qkd_doh_bitmap_get(bitmap, 101), 0);
	chunk_free(&bitmap);

	/* Index 0 or twice: refused, nothing added */
	again = make_keys(3, 32);
	ck_assert(!pool->add_indexed(pool, again, bad));
	bad[0] = 0;
	ck_assert(!pool->add_indexed(pool, again, bad));
	assert_counts(13, 0, 0);

	/* the peer gives Index 102 to another key (it started afresh): the key
	 * that had it expires and loses it */
	indexes[0] = 102;
	indexes[1] = 104;
	indexes[2] = 105;
	ck_assert(pool->add_indexed(pool, again, indexes));
	ck_assert(pool->get_status(pool, key->id, &status, NULL, NULL));
	ck_assert_int_eq(status, QKD_KEY_EXPIRED);
	ck_assert_int_eq(pool->get_index(pool, key->id), 0);
	ck_assert(pool->get_id(pool, 102, id));
	array_get(again, 0, &key);
	ck_assert(memeq(id, key->id, QKD_KEY_ID_LEN));
	close_pool();
	open_pool(100);
	ck_assert_int_eq(pool->get_index(pool, key->id), 102);
	qkd_key_array_destroy(peer);
	qkd_key_array_destroy(again);
}
END_TEST

START_TEST(test_wrong_storage_key)
{
	char keyfile[PATH_MAX];
	FILE *file;

	close_pool();
	snprintf(keyfile, sizeof(keyfile), "%s/pool.key", dir);
	file = fopen(keyfile, "w");
	ck_assert(file);
	fputs("0123456789abcdef0123456789abcdef", file);
	fclose(file);
	open_pool(100);
	/* nothing decrypts, nothing is used */
	assert_counts(0, 0, 0);
	ck_assert(pool->take(pool, 0) == NULL);
}
END_TEST

START_TEST(test_status_default_dir)
{
	char path[PATH_MAX], expected[PATH_MAX], *found;
	FILE *pidfile;

	/* no PID file open (charon-systemd writes none): /run/qkd if /run is
	 * writable, else the build's piddir */
	found = qkd_status_default_dir();
	ck_assert(streq(found, access("/run", W_OK) == 0 ? "/run/qkd"
													 : IPSEC_PIDDIR "/qkd"));
	free(found);
	/* the running charon holds its PID file open: its piddir, not the one
	 * of the strongSwan build the plugin was compiled against */
	snprintf(path, sizeof(path), "%s/%s.pid", dir, lib->ns);
	pidfile = fopen(path, "w");
	ck_assert(pidfile);
	snprintf(expected, sizeof(expected), "%s/qkd", dir);
	found = qkd_status_default_dir();
	ck_assert_str_eq(found, expected);
	free(found);
	fclose(pidfile);
	unlink(path);
}
END_TEST

Suite *pool_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd pool");

	tc = tcase_create("statuses");
	tcase_add_checked_fixture(tc, setup_pool, teardown_pool);
	tcase_add_test(tc, test_lifecycle);
	tcase_add_loop_test(tc, test_illegal, 0, countof(illegal));
	tcase_add_test(tc, test_derived);
	tcase_add_test(tc, test_refused_keys);
	tcase_add_test(tc, test_indexes);
	tcase_add_test(tc, test_add_indexed);
	suite_add_tcase(s, tc);

	tc = tcase_create("storage");
	tcase_add_checked_fixture(tc, setup_pool, teardown_pool);
	tcase_add_test(tc, test_encrypted_at_rest);
	tcase_add_test(tc, test_persistence);
	tcase_add_test(tc, test_crash_recovery);
	tcase_add_test(tc, test_bind_keys);
	tcase_add_test(tc, test_reserve);
	tcase_add_test(tc, test_lazy_changes);
	tcase_add_test(tc, test_lazy_changes_crash);
	tcase_add_test(tc, test_unsynced_keys_survive_kill);
	tcase_add_test(tc, test_expiry);
	tcase_add_test(tc, test_accounting);
	tcase_add_test(tc, test_used_ids);
	tcase_add_test(tc, test_used_ids_migrated);
	tcase_add_test(tc, test_drop_deferred);
	tcase_add_test(tc, test_status_default_dir);
	tcase_add_test(tc, test_wrong_storage_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("binding beside key exchanges");
	tcase_add_checked_fixture(tc, setup_pool, teardown_pool);
	/* the refused write waits out SQLite's busy timeout, 5 s */
	test_case_set_timeout(tc, 15);
	tcase_add_test(tc, test_bind_without_waiting);
	tcase_add_test(tc, test_checkpoint_without_waiting);
	tcase_add_test(tc, test_add_without_waiting);
	suite_add_tcase(s, tc);

	return s;
}
