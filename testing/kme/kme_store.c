/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_store.c - shared key store: keys are indexed by key_ID, handed to the
 * master on creation and to each slave exactly once, then wiped.
 */

#define _GNU_SOURCE
#include "kme_store.h"

#include <pthread.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <etsi_params.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

/**
 * A stored key; id comes first so the tree compares records as strings.
 */
typedef struct {
	char id[KME_UUID_LEN + 1];
	sae_t *master;
	unsigned char *data;
	size_t len;
	unsigned slave_count;
	struct {
		sae_t *sae;
		bool delivered;
	} slaves[];
} record_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *tree;

static int compare(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void record_free(void *ptr)
{
	record_t *record = ptr;

	gnutls_memset(record->data, 0, record->len);
	free(record->data);
	free(record);
}

void store_init(config_t *config)
{
	struct timespec now;
	kme_t *kme;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (kme = config->kmes; kme; kme = kme->next)
	{
		kme->pool = 0;
		kme->pool_time = now;
	}
}

/**
 * Add the keys produced since the last update to the pool, lock held.
 */
static unsigned pool_update(kme_t *kme)
{
	struct timespec now;

	if (!kme->key_rate)
	{
		return kme->max_key_count;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	kme->pool += kme->key_rate * ((now.tv_sec - kme->pool_time.tv_sec) +
								  (now.tv_nsec - kme->pool_time.tv_nsec) / 1e9);
	if (kme->pool > kme->max_key_count)
	{
		kme->pool = kme->max_key_count;
	}
	kme->pool_time = now;
	return kme->pool;
}

unsigned store_available(kme_t *kme)
{
	unsigned available;

	pthread_mutex_lock(&lock);
	available = pool_update(kme);
	pthread_mutex_unlock(&lock);
	return available;
}

/**
 * Write a random UUIDv4 string.
 */
static bool uuid_generate(char *out)
{
	unsigned char b[16];

	if (gnutls_rnd(GNUTLS_RND_NONCE, b, sizeof(b)) < 0)
	{
		return false;
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, KME_UUID_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
			 "%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
			 b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
			 b[15]);
	return true;
}

static void key_copy(kme_key_t *key, record_t *record)
{
	memcpy(key->id, record->id, sizeof(key->id));
	key->len = record->len;
	key->data = malloc(record->len);
	memcpy(key->data, record->data, record->len);
}

/**
 * Create and insert one key record, lock held.
 */
static record_t *record_create(sae_t *master, sae_t **slaves,
							   unsigned slave_count, size_t len)
{
	record_t *record;
	unsigned i;

	record = calloc(1, sizeof(*record) +
					slave_count * sizeof(record->slaves[0]));
	record->master = master;
	record->len = len;
	record->data = malloc(len);
	record->slave_count = slave_count;
	for (i = 0; i < slave_count; i++)
	{
		record->slaves[i].sae = slaves[i];
	}
	do
	{
		if (!uuid_generate(record->id) ||
			gnutls_rnd(GNUTLS_RND_KEY, record->data, len) < 0)
		{
			record_free(record);
			return NULL;
		}
	}
	while (tfind(record, &tree, compare));
	tsearch(record, &tree, compare);
	return record;
}

store_result_t store_enc_keys(kme_t *kme, sae_t *master, sae_t **slaves,
							  unsigned slave_count, unsigned number, size_t len,
							  kme_key_t *keys)
{
	store_result_t result = STORE_OK;
	record_t *record;
	unsigned i;

	pthread_mutex_lock(&lock);
	if (pool_update(kme) < number)
	{
		result = STORE_NO_KEYS;
	}
	for (i = 0; result == STORE_OK && i < number; i++)
	{
		record = record_create(master, slaves, slave_count, len);
		if (!record)
		{
			result = STORE_ERROR;
			break;
		}
		key_copy(&keys[i], record);
		if (kme->key_rate)
		{
			kme->pool--;
		}
	}
	pthread_mutex_unlock(&lock);
	return result;
}

/**
 * Check whether a slave may fetch a key, lock held.
 */
static store_result_t check_key(sae_t *master, sae_t *slave, const char **ids,
								unsigned index, record_t **out)
{
	record_t **node, *record;
	unsigned i;

	if (etsi_key_id_repeated(ids, index))
	{
		return STORE_DUPLICATE;
	}
	node = tfind(ids[index], &tree, compare);
	if (!node || (*node)->master != master)
	{
		return STORE_NOT_FOUND;
	}
	record = *node;
	for (i = 0; i < record->slave_count; i++)
	{
		if (record->slaves[i].sae == slave)
		{
			*out = record;
			return record->slaves[i].delivered ? STORE_DELIVERED : STORE_OK;
		}
	}
	return STORE_UNAUTHORIZED;
}

/**
 * Mark a key delivered to slave, drop it once all slaves have it; lock held.
 */
static void deliver(record_t *record, sae_t *slave)
{
	unsigned i, pending = 0;

	for (i = 0; i < record->slave_count; i++)
	{
		if (record->slaves[i].sae == slave)
		{
			record->slaves[i].delivered = true;
		}
		pending += !record->slaves[i].delivered;
	}
	if (!pending)
	{
		tdelete(record, &tree, compare);
		record_free(record);
	}
}

store_result_t store_dec_keys(sae_t *master, sae_t *slave, const char **ids,
							  unsigned count, kme_key_t *keys,
							  const char **bad_id)
{
	store_result_t result = STORE_OK;
	record_t **records = calloc(count, sizeof(record_t*));
	unsigned i;

	pthread_mutex_lock(&lock);
	for (i = 0; result == STORE_OK && i < count; i++)
	{
		result = check_key(master, slave, ids, i, &records[i]);
		*bad_id = ids[i];
	}
	for (i = 0; result == STORE_OK && i < count; i++)
	{
		key_copy(&keys[i], records[i]);
		deliver(records[i], slave);
	}
	pthread_mutex_unlock(&lock);
	free(records);
	return result;
}

void store_keys_free(kme_key_t *keys, unsigned count)
{
	unsigned i;

	for (i = 0; i < count; i++)
	{
		if (keys[i].data)
		{
			gnutls_memset(keys[i].data, 0, keys[i].len);
			free(keys[i].data);
		}
	}
	free(keys);
}

void store_deinit(void)
{
	pthread_mutex_lock(&lock);
	tdestroy(tree, record_free);
	tree = NULL;
	pthread_mutex_unlock(&lock);
}
