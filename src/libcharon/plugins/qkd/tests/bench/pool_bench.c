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
 * Key pool benchmark, on real SQLite files in a directory on disk:
 *
 *  - ingest: pool->add() of N keys (256-bit, random 16-byte IDs, generated
 *    up front) in batches of B keys into a fresh pool, plus the checkpoint
 *    that syncs the last of them, for each sync interval S (pool.
 *    sync_interval; 0 syncs every batch), against plain SQLite inserts of
 *    the same ID and key bytes (one row and one synced transaction per
 *    batch, unencrypted) as the baseline, alternating batch by batch;
 *  - memory: heap (mallinfo2) and RSS growth per key while a pool takes
 *    M keys;
 *  - take: pool->take() (synced) plus set_status(EXPIRED) (stored lazily),
 *    per key;
 *  - bound keys: what one end of a DOH link does at R key exchanges per
 *    second: bind_keys() of half the reserve whenever half of it is used
 *    (one synced write), then per key get_pending(), set_status(ACTIVE) and
 *    set_status(EXPIRED), and the checkpoint once a second; CPU time (the
 *    process's and the whole machine's, so that the kernel's writeback
 *    threads count too, coarse: in ticks, and whatever else runs) and
 *    bytes written per key, with the files on disk
 *    and, as the baseline in the same run, in memory (/dev/shm).
 *
 * Prints figures, no pass/fail. Exits non-zero if a measurement could not be
 * made (a pool or database operation failed).
 *
 * usage: pool_bench [-n keys] [-b batch,...] [-s seconds,...] [-m keys]
 *                   [-M batch] [-t keys] [-c keys] [-r rate] [-R reserve]
 *                   [-d dir] [-v]
 */

#include <library.h>
#include <utils/debug.h>
#include <sqlite3.h>

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <sys/resource.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "qkd_pool.h"

/**
 * Key size, bytes (256 bits as requested from the KME)
 */
#define KEY_LEN 32

/**
 * Target ingest rate, keys/s
 */
#define TARGET_RATE 450000

/**
 * Link name of the benchmark pools
 */
#define LINK "bench"

/**
 * Most batch sizes and sync intervals for the ingest benchmark
 */
#define MAX_BATCH_SIZES 8

/**
 * Default sync interval of the pool (pool.sync_interval), ms
 */
#define DEFAULT_SYNC_INTERVAL 100

/**
 * Directory holding the database files of the runs
 */
static char dir[PATH_MAX];

/**
 * Number of database files created, for unique names
 */
static u_int runs;

/**
 * ms per committed row of the first plain SQLite baseline, 0 if none
 */
static double commit_ms;

/**
 * Monotonic time in seconds
 */
static double now()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/**
 * Format a number with thousands separators into buf
 */
static char *fmt_num(char *buf, size_t len, double value)
{
	char digits[32], *pos = buf;
	int n, i;

	n = snprintf(digits, sizeof(digits), "%.0f", value);
	for (i = 0; i < n && pos < buf + len - 2; i++)
	{
		if (i && digits[i - 1] != '-' && (n - i) % 3 == 0)
		{
			*pos++ = ',';
		}
		*pos++ = digits[i];
	}
	*pos = '\0';
	return buf;
}

/**
 * Generate random keys with random IDs, as qkd_key_t*, in an array
 */
static array_t *make_keys(u_int count)
{
	uint8_t id[QKD_KEY_ID_LEN], material[KEY_LEN];
	array_t *keys;
	rng_t *rng;
	u_int i;

	rng = lib->crypto->create_rng(lib->crypto, RNG_WEAK);
	if (!rng)
	{
		return NULL;
	}
	keys = array_create(0, count);
	for (i = 0; i < count; i++)
	{
		if (!rng->get_bytes(rng, sizeof(id), id) ||
			!rng->get_bytes(rng, sizeof(material), material))
		{
			rng->destroy(rng);
			qkd_key_array_destroy(keys);
			return NULL;
		}
		array_insert(keys, ARRAY_TAIL,
					 qkd_key_create(id, chunk_clone(chunk_from_thing(material))));
	}
	rng->destroy(rng);
	return keys;
}

/**
 * Group keys into batches of up to size keys: an array of arrays of
 * qkd_key_t* (keys not owned)
 */
static array_t *make_batches(array_t *keys, u_int size)
{
	array_t *batches, *batch = NULL;
	qkd_key_t *key;
	u_int i;

	batches = array_create(0, array_count(keys) / size + 1);
	for (i = 0; i < array_count(keys); i++)
	{
		if (!batch || array_count(batch) == size)
		{
			batch = array_create(0, size);
			array_insert(batches, ARRAY_TAIL, batch);
		}
		array_get(keys, i, &key);
		array_insert(batch, ARRAY_TAIL, key);
	}
	return batches;
}

/**
 * Destroy the batch arrays made by make_batches()
 */
static void destroy_batches(array_t *batches)
{
	array_destroy_function(batches, (void*)array_destroy, NULL);
}

/**
 * Names of the files of one run (database, journal, storage key)
 */
typedef struct {
	char uri[PATH_MAX + 16];
	char db[PATH_MAX];
	char journal[PATH_MAX + 16];
	char key[PATH_MAX];
} files_t;

/**
 * Fresh file names in a directory
 */
static void new_files(files_t *files, char *base, char *name)
{
	runs++;
	snprintf(files->db, sizeof(files->db), "%s/%s-%u.db", base, name, runs);
	snprintf(files->uri, sizeof(files->uri), "sqlite://%s", files->db);
	snprintf(files->journal, sizeof(files->journal), "%s-journal", files->db);
	snprintf(files->key, sizeof(files->key), "%s/%s-%u.key", base, name,
			 runs);
}

/**
 * Delete the files of a run
 */
static void delete_files(files_t *files)
{
	unlink(files->db);
	unlink(files->journal);
	unlink(files->key);
}

/**
 * A pool on fresh files
 */
typedef struct {
	files_t files;
	qkd_pool_store_t *store;
	qkd_pool_t *pool;
} bench_pool_t;

/**
 * Open a pool on fresh files in a directory
 */
static bool open_pool(bench_pool_t *this, char *base, u_int capacity,
					  u_int interval)
{
	new_files(&this->files, base, "pool");
	this->store = qkd_pool_store_create(this->files.uri, this->files.key,
										interval);
	if (!this->store)
	{
		fprintf(stderr, "pool_bench: opening store %s failed\n",
				this->files.uri);
		return FALSE;
	}
	this->pool = qkd_pool_create(this->store, LINK, capacity);
	return TRUE;
}

/**
 * Close a pool and delete its files
 */
static void close_pool(bench_pool_t *this)
{
	DESTROY_IF(this->pool);
	DESTROY_IF(this->store);
	delete_files(&this->files);
	this->pool = NULL;
	this->store = NULL;
}

/**
 * Add all batches to a pool
 */
static bool add_all(qkd_pool_t *pool, array_t *batches)
{
	array_t *batch;
	u_int i;

	for (i = 0; i < array_count(batches); i++)
	{
		array_get(batches, i, &batch);
		if (!pool->add(pool, batch))
		{
			fprintf(stderr, "pool_bench: pool->add() of batch %u failed\n", i);
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * Plain SQLite database of the baseline: same table shape as the store,
 * keys unencrypted, SQLite's default journal and sync settings
 */
typedef struct {
	sqlite3 *db;
	sqlite3_stmt *insert;
} plain_t;

/**
 * Close a plain database
 */
static void close_plain(plain_t *plain)
{
	sqlite3_finalize(plain->insert);
	sqlite3_close(plain->db);
}

/**
 * Open a fresh plain database
 */
static bool open_plain(files_t *files, plain_t *plain)
{
	*plain = (plain_t){};
	new_files(files, dir, "plain");
	if (sqlite3_open(files->db, &plain->db) != SQLITE_OK ||
		/* like the store */
		sqlite3_exec(plain->db, "PRAGMA secure_delete = ON", NULL, NULL,
					 NULL) != SQLITE_OK ||
		sqlite3_exec(plain->db, "CREATE TABLE plain_batches ("
			"id INTEGER PRIMARY KEY AUTOINCREMENT, "
			"link TEXT NOT NULL, created INTEGER NOT NULL, "
			"key_len INTEGER NOT NULL, ids BLOB NOT NULL, "
			"status BLOB NOT NULL, keys BLOB NOT NULL)",
			NULL, NULL, NULL) != SQLITE_OK ||
		sqlite3_prepare_v2(plain->db, "INSERT INTO plain_batches (link, "
			"created, key_len, ids, status, keys) VALUES (?, ?, ?, ?, ?, ?)",
			-1, &plain->insert, NULL) != SQLITE_OK)
	{
		fprintf(stderr, "pool_bench: setting up %s failed: %s\n", files->db,
				sqlite3_errmsg(plain->db));
		close_plain(plain);
		delete_files(files);
		return FALSE;
	}
	return TRUE;
}

/**
 * Baseline: one plain SQLite insert of a batch (IDs, status bytes, keys
 * unencrypted, assembled from the keys like the pool does), its own
 * transaction like the pool's inserts
 */
static bool insert_plain(plain_t *plain, array_t *batch)
{
	chunk_t ids, status, material;
	qkd_key_t *key;
	u_int i, n = array_count(batch);
	bool ok;

	ids = chunk_alloc(n * QKD_KEY_ID_LEN);
	material = chunk_alloc(n * KEY_LEN);
	status = chunk_alloc(n);
	memset(status.ptr, 0, status.len);
	for (i = 0; i < n; i++)
	{
		array_get(batch, i, &key);
		memcpy(ids.ptr + i * QKD_KEY_ID_LEN, key->id, QKD_KEY_ID_LEN);
		memcpy(material.ptr + i * KEY_LEN, key->key.ptr, KEY_LEN);
	}
	sqlite3_bind_text(plain->insert, 1, LINK, -1, SQLITE_STATIC);
	sqlite3_bind_int64(plain->insert, 2, time(NULL));
	sqlite3_bind_int(plain->insert, 3, KEY_LEN);
	sqlite3_bind_blob(plain->insert, 4, ids.ptr, ids.len, SQLITE_STATIC);
	sqlite3_bind_blob(plain->insert, 5, status.ptr, status.len,
					  SQLITE_STATIC);
	sqlite3_bind_blob(plain->insert, 6, material.ptr, material.len,
					  SQLITE_STATIC);
	ok = sqlite3_step(plain->insert) == SQLITE_DONE;
	sqlite3_reset(plain->insert);
	chunk_free(&ids);
	chunk_free(&status);
	chunk_clear(&material);
	return ok;
}

/**
 * Keys/s over a range of batches
 */
static double range_rate(array_t *batches, double *times, u_int from, u_int to)
{
	array_t *batch;
	double total = 0;
	u_int i, keys = 0;

	for (i = from; i < to; i++)
	{
		array_get(batches, i, &batch);
		keys += array_count(batch);
		total += times[i];
	}
	return total > 0 ? keys / total : 0;
}

/**
 * Ingest: time pool->add() of each batch into a fresh pool and the plain
 * SQLite insert of the same batch into a fresh database. The two alternate
 * batch by batch, so that both see the same disk (fsync latency varies a
 * lot on shared storage). Returns pool keys/s, 0 on failure; plain gets the
 * baseline keys/s.
 */
static double bench_ingest(array_t *keys, array_t *batches, u_int interval,
						   double *plain)
{
	bench_pool_t bp = {};
	plain_t db;
	files_t files;
	array_t *batch;
	u_int count = array_count(keys), n = array_count(batches), tenth, i;
	double start, *times, *plain_times, total = 0, plain_total = 0, sync;
	char a[32], b[32], c[32], d[32], e[32];
	bool ok = TRUE;

	if (!open_pool(&bp, dir, count, interval))
	{
		return 0;
	}
	if (!open_plain(&files, &db))
	{
		close_pool(&bp);
		return 0;
	}
	times = calloc(n, sizeof(double));
	plain_times = calloc(n, sizeof(double));
	for (i = 0; ok && i < n; i++)
	{
		array_get(batches, i, &batch);
		start = now();
		ok = insert_plain(&db, batch);
		plain_times[i] = now() - start;
		plain_total += plain_times[i];
		if (!ok)
		{
			fprintf(stderr, "pool_bench: plain SQLite insert of batch %u "
					"failed\n", i);
			break;
		}
		start = now();
		ok = bp.pool->add(bp.pool, batch);
		times[i] = now() - start;
		total += times[i];
		if (!ok)
		{
			fprintf(stderr, "pool_bench: pool->add() of batch %u failed\n", i);
		}
	}
	/* what makes the last keys durable too, as the refill job does when the
	 * pool is full: part of the pool's time */
	start = now();
	bp.pool->checkpoint(bp.pool);
	sync = now() - start;
	total += sync;
	close_plain(&db);
	delete_files(&files);
	close_pool(&bp);
	if (!ok)
	{
		free(times);
		free(plain_times);
		return 0;
	}

	printf("    plain SQLite: %u keys in %u rows, %.3f s: %s keys/s "
		   "(%.3f ms per row)\n", count, n, plain_total,
		   fmt_num(a, sizeof(a), count / plain_total),
		   plain_total * 1000 / n);
	if (!commit_ms)
	{
		commit_ms = plain_total * 1000 / n;
	}
	/* how the rate changes as the pool grows */
	tenth = max(n / 10, 1);
	printf("    pool: %u keys in %u batches, %.3f s (final checkpoint "
		   "%.3f ms): %s keys/s (first 10%% of batches %s keys/s, last 10%% "
		   "%s keys/s; plain SQLite %s and %s)\n",
		   count, n, total, sync * 1000, fmt_num(a, sizeof(a), count / total),
		   fmt_num(b, sizeof(b), range_rate(batches, times, 0, tenth)),
		   fmt_num(c, sizeof(c), range_rate(batches, times, n - tenth, n)),
		   fmt_num(d, sizeof(d), range_rate(batches, plain_times, 0, tenth)),
		   fmt_num(e, sizeof(e), range_rate(batches, plain_times,
											n - tenth, n)));
	/* what the pool adds to the same SQLite work, independent of the disk */
	printf("    pool overhead over plain SQLite: %.2f us per key (first 10%% "
		   "of batches %.2f, last 10%% %.2f)\n",
		   (total - plain_total) * 1e6 / count,
		   1e6 / range_rate(batches, times, 0, tenth) -
		   1e6 / range_rate(batches, plain_times, 0, tenth),
		   1e6 / range_rate(batches, times, n - tenth, n) -
		   1e6 / range_rate(batches, plain_times, n - tenth, n));
	free(times);
	free(plain_times);
	*plain = count / plain_total;
	return count / total;
}

/**
 * Heap in use (malloc'ed and mmap'ed chunks), bytes
 */
static size_t heap_in_use()
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/**
 * Resident set size, bytes
 */
static size_t rss()
{
	unsigned long size, resident = 0;
	FILE *file;

	file = fopen("/proc/self/statm", "r");
	if (file)
	{
		if (fscanf(file, "%lu %lu", &size, &resident) != 2)
		{
			resident = 0;
		}
		fclose(file);
	}
	return resident * sysconf(_SC_PAGESIZE);
}

/**
 * Memory: heap and RSS growth while a fresh pool takes count keys in
 * batches of size. Returns heap bytes per key, 0 on failure.
 */
static double bench_memory(u_int count, u_int size, double *rss_per_key,
						   double *elapsed)
{
	bench_pool_t bp = {};
	array_t *keys, *batches;
	size_t heap_before, rss_before;
	double heap_per_key, start;

	keys = make_keys(count);
	if (!keys)
	{
		return 0;
	}
	batches = make_batches(keys, size);
	if (!open_pool(&bp, dir, count, DEFAULT_SYNC_INTERVAL))
	{
		destroy_batches(batches);
		qkd_key_array_destroy(keys);
		return 0;
	}
	/* everything but the pool's own memory exists now */
	malloc_trim(0);
	heap_before = heap_in_use();
	rss_before = rss();
	start = now();
	if (!add_all(bp.pool, batches))
	{
		close_pool(&bp);
		destroy_batches(batches);
		qkd_key_array_destroy(keys);
		return 0;
	}
	*elapsed = now() - start;
	heap_per_key = ((double)heap_in_use() - heap_before) / count;
	*rss_per_key = ((double)rss() - rss_before) / count;
	close_pool(&bp);
	destroy_batches(batches);
	qkd_key_array_destroy(keys);
	return heap_per_key;
}

/**
 * Take: pool->take() (stored Pending) and set_status(EXPIRED) (stored,
 * wiped) of every key of a fresh pool of count keys added in batches of
 * size. Returns keys/s, 0 on failure.
 */
static double bench_take(u_int count, u_int size, double *take_ms,
						 double *expire_ms)
{
	bench_pool_t bp = {};
	array_t *keys, *batches;
	qkd_key_t *key;
	double start, t, in_take = 0, in_expire = 0, elapsed;
	u_int i;
	bool ok = TRUE;

	keys = make_keys(count);
	if (!keys)
	{
		return 0;
	}
	batches = make_batches(keys, size);
	if (!open_pool(&bp, dir, count, DEFAULT_SYNC_INTERVAL) ||
		!add_all(bp.pool, batches))
	{
		close_pool(&bp);
		destroy_batches(batches);
		qkd_key_array_destroy(keys);
		return 0;
	}
	start = now();
	for (i = 0; ok && i < count; i++)
	{
		t = now();
		key = bp.pool->take(bp.pool, 0);
		in_take += now() - t;
		if (!key)
		{
			fprintf(stderr, "pool_bench: pool->take() of key %u failed\n", i);
			ok = FALSE;
			break;
		}
		t = now();
		ok = bp.pool->set_status(bp.pool, key->id, QKD_KEY_EXPIRED);
		in_expire += now() - t;
		if (!ok)
		{
			fprintf(stderr, "pool_bench: set_status(EXPIRED) of key %u "
					"failed\n", i);
		}
		qkd_key_destroy(key);
	}
	elapsed = now() - start;
	close_pool(&bp);
	destroy_batches(batches);
	qkd_key_array_destroy(keys);
	if (!ok)
	{
		return 0;
	}
	*take_ms = in_take * 1000 / count;
	*expire_ms = in_expire * 1000 / count;
	return count / elapsed;
}

/**
 * CPU time of this thread, seconds
 */
static double thread_cpu()
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/**
 * CPU time and writes at one moment: of this process, and of the machine
 */
typedef struct {
	double wall;
	double cpu;
	double machine;
	unsigned long long written;
} usage_t;

/**
 * Busy CPU time of the whole machine (all but idle and iowait), seconds
 */
static double machine_busy()
{
	unsigned long long v[10] = {}, busy = 0;
	FILE *file;
	int i;

	file = fopen("/proc/stat", "r");
	if (file)
	{
		if (fscanf(file, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
				   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8)
		{
			for (i = 0; i < 8; i++)
			{
				busy += (i == 3 || i == 4) ? 0 : v[i];
			}
		}
		fclose(file);
	}
	return (double)busy / sysconf(_SC_CLK_TCK);
}

/**
 * Bytes this process caused to be written to storage
 */
static unsigned long long bytes_written()
{
	unsigned long long bytes = 0;
	char line[128];
	FILE *file;

	file = fopen("/proc/self/io", "r");
	if (file)
	{
		while (fgets(line, sizeof(line), file))
		{
			if (sscanf(line, "write_bytes: %llu", &bytes) == 1)
			{
				break;
			}
		}
		fclose(file);
	}
	return bytes;
}

/**
 * Take a usage sample
 */
static void sample(usage_t *this)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	this->wall = now();
	this->cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
				ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	this->machine = machine_busy();
	this->written = bytes_written();
}

/**
 * Bound keys: one end of a DOH link at rate key exchanges per second with
 * reserve keys bound ahead (doh_bound), count keys, pool files in base.
 * Prints the figures and fills per key the CPU time spent in the pool
 * (us) and the bytes written.
 * FALSE on failure.
 */
static bool bench_bound(char *base, u_int count, u_int rate, u_int reserve,
						double *cpu_us, double *bytes)
{
	bench_pool_t bp = {};
	array_t *keys, *batches;
	qkd_key_t *key;
	usage_t before, after;
	uint8_t *ids;
	double start, due, checkpointed, t, in_pool = 0;
	u_int capacity = count + reserve, bound = 0, used, n, i;
	bool ok = TRUE;

	keys = make_keys(capacity);
	if (!keys)
	{
		return FALSE;
	}
	batches = make_batches(keys, 128);
	ok = open_pool(&bp, base, capacity, DEFAULT_SYNC_INTERVAL) &&
		 add_all(bp.pool, batches);
	ids = malloc(capacity * QKD_KEY_ID_LEN);
	for (i = 0; i < capacity; i++)
	{
		array_get(keys, i, &key);
		memcpy(ids + i * QKD_KEY_ID_LEN, key->id, QKD_KEY_ID_LEN);
	}
	if (ok)
	{	/* the reserve is bound before the key exchanges start */
		bp.pool->checkpoint(bp.pool);
		ok = bp.pool->bind_keys(bp.pool, ids, reserve);
		bound = reserve;
		if (!ok)
		{
			fprintf(stderr, "pool_bench: bind_keys() of the reserve failed\n");
		}
	}
	sample(&before);
	start = checkpointed = before.wall;
	for (used = 0; ok && used < count; used++)
	{
		t = thread_cpu();
		if (bound - used <= reserve / 2 && bound < capacity)
		{	/* as the DOH engine: ask for what the reserve lacks */
			n = min(reserve - (bound - used), capacity - bound);
			ok = bp.pool->bind_keys(bp.pool, ids + bound * QKD_KEY_ID_LEN, n);
			bound += n;
			if (!ok)
			{
				fprintf(stderr, "pool_bench: bind_keys() of %u keys failed\n",
						n);
				break;
			}
		}
		key = bp.pool->get_pending(bp.pool, ids + used * QKD_KEY_ID_LEN);
		ok = key && bp.pool->set_status(bp.pool, key->id, QKD_KEY_ACTIVE) &&
			 bp.pool->set_status(bp.pool, key->id, QKD_KEY_EXPIRED);
		if (key)
		{
			qkd_key_destroy(key);
		}
		if (!ok)
		{
			fprintf(stderr, "pool_bench: using bound key %u failed\n", used);
			break;
		}
		if (now() - checkpointed >= 1)
		{
			bp.pool->checkpoint(bp.pool);
			checkpointed = now();
		}
		in_pool += thread_cpu() - t;
		due = start + (double)(used + 1) / rate;
		if (due - now() > 0.001)
		{	/* in steps of a ms or more, as key exchanges come in bursts */
			usleep((due - now()) * 1e6);
		}
	}
	if (ok)
	{	/* what makes the last changes durable is part of it */
		t = thread_cpu();
		bp.pool->checkpoint(bp.pool);
		in_pool += thread_cpu() - t;
	}
	sample(&after);
	close_pool(&bp);
	free(ids);
	destroy_batches(batches);
	qkd_key_array_destroy(keys);
	if (!ok)
	{
		return FALSE;
	}
	*cpu_us = in_pool * 1e6 / count;
	*bytes = (double)(after.written - before.written) / count;
	printf("    %s: %u keys in %.2f s (%.0f keys/s), CPU in the pool %.1f "
		   "us/key (process %.1f), machine CPU %.1f us/key, %.0f bytes "
		   "written/key\n", base, count, after.wall - before.wall,
		   count / (after.wall - before.wall), *cpu_us,
		   (after.cpu - before.cpu) * 1e6 / count,
		   (after.machine - before.machine) * 1e6 / count, *bytes);
	return TRUE;
}

/**
 * Load the plugins the pool needs
 */
static bool load_plugins()
{
	plugin_loader_add_plugindirs(PLUGINDIR, PLUGINS);
	if (!lib->plugins->load(lib->plugins, PLUGINS))
	{
		fprintf(stderr, "pool_bench: loading plugins '%s' from %s failed\n",
				PLUGINS, PLUGINDIR);
		return FALSE;
	}
	return TRUE;
}

/**
 * Parse a comma separated list of batch sizes
 */
static u_int parse_sizes(char *str, u_int sizes[MAX_BATCH_SIZES])
{
	enumerator_t *enumerator;
	char *token;
	u_int n = 0;

	enumerator = enumerator_create_token(str, ",", " ");
	while (n < MAX_BATCH_SIZES && enumerator->enumerate(enumerator, &token))
	{
		sizes[n] = atoi(token);
		if (sizes[n])
		{
			n++;
		}
	}
	enumerator->destroy(enumerator);
	return n;
}

/**
 * Parse a comma separated list of sync intervals in seconds, into ms
 */
static u_int parse_intervals(char *str, u_int intervals[MAX_BATCH_SIZES])
{
	enumerator_t *enumerator;
	char *token, *end;
	double seconds;
	u_int n = 0;

	enumerator = enumerator_create_token(str, ",", " ");
	while (n < MAX_BATCH_SIZES && enumerator->enumerate(enumerator, &token))
	{
		seconds = strtod(token, &end);
		if (end != token && !*end && seconds >= 0 && seconds <= 60)
		{
			intervals[n++] = seconds * 1000;
		}
	}
	enumerator->destroy(enumerator);
	return n;
}

/**
 * Print usage
 */
static void usage(FILE *out)
{
	fprintf(out,
		"usage: pool_bench [options]\n"
		"  -n KEYS       keys per ingest run (default 100000)\n"
		"  -b B[,B...]   ingest batch sizes (default 128,1024)\n"
		"  -s S[,S...]   pool sync intervals in seconds for the ingest runs "
		"(default\n"
		"                0,0.1: every batch synced, and the default of "
		"pool.sync_interval)\n"
		"  -m KEYS       keys for the memory measurement (default 1000000, "
		"0: skip)\n"
		"  -M B          batch size for the memory measurement "
		"(default 1024)\n"
		"  -t KEYS       keys for the take measurement (default 10000, "
		"0: skip)\n"
		"  -c KEYS       keys for the bound keys measurement (default 20000, "
		"0: skip)\n"
		"  -r RATE       key exchanges per second in it (default 2000)\n"
		"  -R KEYS       keys bound ahead in it, doh_bound (default 1024)\n"
		"  -d DIR        directory for the database files, on disk "
		"(default /var/tmp)\n"
		"  -v            log the pool's messages\n");
}

int main(int argc, char *argv[])
{
	u_int count = 100000, mem_count = 1000000, mem_batch = 1024;
	u_int take_count = 10000, bound_count = 20000, bound_rate = 2000;
	u_int bound_reserve = 1024, sizes[MAX_BATCH_SIZES] = { 128, 1024 };
	u_int intervals[MAX_BATCH_SIZES] = { 0, DEFAULT_SYNC_INTERVAL };
	u_int nsizes = 2, nintervals = 2, i, j;
	char *base = "/var/tmp", a[32], b[32], c[32], d[32], e[32];
	double rate, plain, heap, rss_key, elapsed, take_ms, expire_ms;
	double cpu[2], bytes[2];
	char shm[PATH_MAX];
	array_t *keys, *batches;
	int opt, level = 0, status = 0;

	while ((opt = getopt(argc, argv, "n:b:s:m:M:t:c:r:R:d:vh")) != -1)
	{
		switch (opt)
		{
			case 'n':
				count = atoi(optarg);
				break;
			case 'b':
				nsizes = parse_sizes(optarg, sizes);
				break;
			case 's':
				nintervals = parse_intervals(optarg, intervals);
				break;
			case 'm':
				mem_count = atoi(optarg);
				break;
			case 'M':
				mem_batch = atoi(optarg);
				break;
			case 't':
				take_count = atoi(optarg);
				break;
			case 'c':
				bound_count = atoi(optarg);
				break;
			case 'r':
				bound_rate = atoi(optarg);
				break;
			case 'R':
				bound_reserve = atoi(optarg);
				break;
			case 'd':
				base = optarg;
				break;
			case 'v':
				level = 1;
				break;
			case 'h':
				usage(stdout);
				return 0;
			default:
				usage(stderr);
				return 1;
		}
	}
	if (!count || !nsizes || !nintervals || !mem_batch || !bound_rate ||
		bound_reserve < 2)
	{
		usage(stderr);
		return 1;
	}

	dbg_default_set_level(level);
	atexit(library_deinit);
	if (!library_init(NULL, "pool-bench") || !load_plugins())
	{
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/qkd-pool-bench-XXXXXX", base);
	if (!mkdtemp(dir))
	{
		fprintf(stderr, "pool_bench: creating a directory in %s failed: %s\n",
				base, strerror(errno));
		return 1;
	}
	printf("pool benchmark: databases in %s, %d-bit keys\n", dir,
		   KEY_LEN * 8);

	/* ingest: the same keys for every batch size and for the baseline */
	keys = make_keys(count);
	if (!keys)
	{
		fprintf(stderr, "pool_bench: generating keys failed\n");
		rmdir(dir);
		return 1;
	}
	for (i = 0; i < nsizes; i++)
	{
		batches = make_batches(keys, sizes[i]);
		for (j = 0; j < nintervals; j++)
		{
			snprintf(e, sizeof(e), intervals[j] ? "synced every %g s" :
					 "every batch synced", intervals[j] / 1000.0);
			printf("ingest, B=%u, %s:\n", sizes[i], e);
			rate = bench_ingest(keys, batches, intervals[j], &plain);
			if (!rate)
			{
				status = 1;
				continue;
			}
			printf("summary: pool ingest (B=%u, %s, %s keys): %s keys/s  "
				   "(target %s: %.2fx; plain SQLite baseline %s keys/s: "
				   "%.2fx)\n", sizes[i], e, fmt_num(c, sizeof(c), count),
				   fmt_num(a, sizeof(a), rate),
				   fmt_num(b, sizeof(b), TARGET_RATE), rate / TARGET_RATE,
				   fmt_num(d, sizeof(d), plain), rate / plain);
		}
		destroy_batches(batches);
	}
	qkd_key_array_destroy(keys);

	/* memory per key held by the pool */
	if (mem_count)
	{
		printf("memory, %u keys in batches of %u:\n", mem_count, mem_batch);
		heap = bench_memory(mem_count, mem_batch, &rss_key, &elapsed);
		if (heap)
		{
			printf("    added in %.1f s; heap +%.1f bytes/key, RSS +%.1f "
				   "bytes/key\n", elapsed, heap, rss_key);
			printf("summary: pool memory: %.1f bytes/key heap (RSS %.1f), "
				   "raw %d bytes/key (16 ID + %d key): %.2fx\n", heap, rss_key,
				   QKD_KEY_ID_LEN + KEY_LEN, KEY_LEN, heap /
				   (QKD_KEY_ID_LEN + KEY_LEN));
		}
		else
		{
			status = 1;
		}
	}

	/* take (synced) + expire (stored lazily) */
	if (take_count)
	{
		printf("take, %u keys (pool filled in batches of %u):\n", take_count,
			   sizes[0]);
		rate = bench_take(take_count, sizes[0], &take_ms, &expire_ms);
		if (rate)
		{
			printf("    take %.3f ms/key (a synced row update; plain SQLite "
				   "insert: %.3f ms per row), set_status(EXPIRED) %.3f ms/key "
				   "(stored lazily)\n", take_ms, commit_ms, expire_ms);
			printf("summary: pool take+expire: %s keys/s (take %.3f ms + "
				   "expire %.3f ms per key)\n",
				   fmt_num(a, sizeof(a), rate), take_ms, expire_ms);
		}
		else
		{
			status = 1;
		}
	}
	/* bound keys, on disk and in memory */
	snprintf(shm, sizeof(shm), "/dev/shm/qkd-pool-bench-XXXXXX");
	if (bound_count && !mkdtemp(shm))
	{
		fprintf(stderr, "pool_bench: creating a directory in /dev/shm failed: "
				"%s\n", strerror(errno));
		status = 1;
	}
	else if (bound_count)
	{
		printf("bound keys, %u at %u key exchanges/s, %u bound ahead:\n",
			   bound_count, bound_rate, bound_reserve);
		if (bench_bound(dir, bound_count, bound_rate, bound_reserve,
						&cpu[0], &bytes[0]) &&
			bench_bound(shm, bound_count, bound_rate, bound_reserve,
						&cpu[1], &bytes[1]))
		{
			printf("summary: pool bound keys (%u/s, %u ahead): CPU in the pool "
				   "%.1f us/key on disk, %.1f in memory: %.2fx; %.0f bytes "
				   "written/key\n", bound_rate, bound_reserve, cpu[0], cpu[1],
				   cpu[0] / cpu[1], bytes[0]);
		}
		else
		{
			status = 1;
		}
		rmdir(shm);
	}
	if (rmdir(dir) != 0)
	{
		fprintf(stderr, "pool_bench: removing %s failed: %s\n", dir,
				strerror(errno));
	}
	return status;
}
