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

#include "qkd_key.h"

#include <ctype.h>

/*
 * Described in header
 */
qkd_key_t *qkd_key_create(uint8_t id[QKD_KEY_ID_LEN], chunk_t key)
{
	qkd_key_t *this;

	INIT(this,
		.key = key,
	);
	memcpy(this->id, id, QKD_KEY_ID_LEN);
	return this;
}

/*
 * Described in header
 */
void qkd_key_destroy(qkd_key_t *key)
{
	if (key)
	{
		chunk_clear(&key->key);
		free(key);
	}
}

CALLBACK(destroy_key, void,
	qkd_key_t *key, int idx, void *user)
{
	qkd_key_destroy(key);
}

/*
 * Described in header
 */
void qkd_key_array_destroy(array_t *keys)
{
	if (keys)
	{
		array_destroy_function(keys, destroy_key, NULL);
	}
}

/**
 * Positions of the dashes in a UUID string
 */
static bool is_dash_position(int i)
{
	return i == 8 || i == 13 || i == 18 || i == 23;
}

/*
 * Described in header
 */
bool qkd_key_id_parse(const char *str, uint8_t id[QKD_KEY_ID_LEN])
{
	char hex[2 * QKD_KEY_ID_LEN];
	int i, j = 0;

	if (!str || strlen(str) != QKD_KEY_ID_STRLEN)
	{
		return FALSE;
	}
	for (i = 0; i < QKD_KEY_ID_STRLEN; i++)
	{
		if (is_dash_position(i))
		{
			if (str[i] != '-')
			{
				return FALSE;
			}
		}
		else if (isxdigit((unsigned char)str[i]))
		{
			hex[j++] = str[i];
		}
		else
		{
			return FALSE;
		}
	}
	chunk_from_hex(chunk_create(hex, sizeof(hex)), id);
	return TRUE;
}

/*
 * Described in header
 */
void qkd_key_id_format(uint8_t id[QKD_KEY_ID_LEN],
					   char buf[QKD_KEY_ID_STRLEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	int i, pos = 0;

	for (i = 0; i < QKD_KEY_ID_LEN; i++)
	{
		if (is_dash_position(pos))
		{
			buf[pos++] = '-';
		}
		buf[pos++] = digits[id[i] >> 4];
		buf[pos++] = digits[id[i] & 0x0f];
	}
	buf[pos] = '\0';
}

/*
 * Described in header
 */
u_int qkd_key_id_hash(const void *id)
{
	return chunk_hash(chunk_create((u_char*)id, QKD_KEY_ID_LEN));
}

/*
 * Described in header
 */
bool qkd_key_id_equals(const void *a, const void *b)
{
	return memeq(a, b, QKD_KEY_ID_LEN);
}
