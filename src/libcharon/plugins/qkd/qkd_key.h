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
 * @defgroup qkd_key qkd_key
 * @{ @ingroup qkd
 */

#ifndef QKD_KEY_H_
#define QKD_KEY_H_

#include <library.h>
#include <collections/array.h>

/**
 * Length of a binary key ID (the 16 bytes of an ETSI GS QKD 014 UUID)
 */
#define QKD_KEY_ID_LEN 16

/**
 * Length of a key ID in its textual UUID form, without terminating null
 */
#define QKD_KEY_ID_STRLEN 36

typedef struct qkd_key_t qkd_key_t;

/**
 * A QKD key as delivered by a KME: its key ID and the key material.
 */
struct qkd_key_t {

	/**
	 * Key ID, binary form of the KME's UUID key_ID
	 */
	uint8_t id[QKD_KEY_ID_LEN];

	/**
	 * Key material, allocated
	 */
	chunk_t key;
};

/**
 * Create a key, taking ownership of the key material.
 *
 * @param id		binary key ID
 * @param key		key material, owned by the key afterwards
 * @return			key
 */
qkd_key_t *qkd_key_create(uint8_t id[QKD_KEY_ID_LEN], chunk_t key);

/**
 * Wipe and free a key.
 *
 * @param key		key to destroy, may be NULL
 */
void qkd_key_destroy(qkd_key_t *key);

/**
 * Wipe and destroy an array of keys.
 *
 * @param keys		array of qkd_key_t*, may be NULL
 */
void qkd_key_array_destroy(array_t *keys);

/**
 * Parse a UUID (8-4-4-4-12 hex digits, any case) into a binary key ID.
 *
 * @param str		UUID string
 * @param id		receives the binary key ID
 * @return			TRUE if str is a well-formed UUID
 */
bool qkd_key_id_parse(const char *str, uint8_t id[QKD_KEY_ID_LEN]);

/**
 * Format a binary key ID as a lower-case UUID string.
 *
 * @param id		binary key ID
 * @param buf		receives the null-terminated UUID
 */
void qkd_key_id_format(uint8_t id[QKD_KEY_ID_LEN],
					   char buf[QKD_KEY_ID_STRLEN + 1]);

/**
 * Hash a binary key ID, for hashtable_t.
 *
 * @param id		binary key ID (QKD_KEY_ID_LEN bytes)
 * @return			hash
 */
u_int qkd_key_id_hash(const void *id);

/**
 * Compare two binary key IDs, for hashtable_t.
 *
 * @param a			binary key ID (QKD_KEY_ID_LEN bytes)
 * @param b			binary key ID (QKD_KEY_ID_LEN bytes)
 * @return			TRUE if equal
 */
bool qkd_key_id_equals(const void *a, const void *b);

#endif /** QKD_KEY_H_ @}*/
