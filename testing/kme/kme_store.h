/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_store.h - shared key store with delivered-once bookkeeping and the
 * per-KME key pool.
 */

#ifndef KME_STORE_H_
#define KME_STORE_H_

#include "kme_config.h"

#include <stddef.h>

/* length of a UUID string, without the terminating NUL */
#define KME_UUID_LEN 36

/**
 * A key as handed out to an SAE; data is a private copy.
 */
typedef struct {
	char id[KME_UUID_LEN + 1];
	unsigned char *data;
	size_t len;
} kme_key_t;

typedef enum {
	STORE_OK,
	/* pool has fewer keys than requested */
	STORE_NO_KEYS,
	/* random number generator failure */
	STORE_ERROR,
	/* unknown key_ID, or made for another master */
	STORE_NOT_FOUND,
	/* key_ID already delivered to this slave */
	STORE_DELIVERED,
	/* key_ID listed twice in one request */
	STORE_DUPLICATE,
	/* key_ID made for another slave */
	STORE_UNAUTHORIZED,
} store_result_t;

/**
 * Initialize the store and start filling the pools of all KMEs.
 */
void store_init(config_t *config);

/**
 * Number of keys currently available at a KME (stored_key_count).
 */
unsigned store_available(kme_t *kme);

/**
 * Create "number" keys of "len" bytes at a KME for master and slaves;
 * they count as delivered to the master.
 */
store_result_t store_enc_keys(kme_t *kme, sae_t *master, sae_t **slaves,
							  unsigned slave_count, unsigned number, size_t len,
							  kme_key_t *keys);

/**
 * Deliver keys by ID to a slave; nothing is delivered unless all IDs are
 * valid, *bad_id then points to the offending ID.
 */
store_result_t store_dec_keys(sae_t *master, sae_t *slave, const char **ids,
							  unsigned count, kme_key_t *keys,
							  const char **bad_id);

/**
 * Wipe and free key copies returned by the store.
 */
void store_keys_free(kme_key_t *keys, unsigned count);

/**
 * Wipe and free all stored keys.
 */
void store_deinit(void);

#endif /* KME_STORE_H_ */
