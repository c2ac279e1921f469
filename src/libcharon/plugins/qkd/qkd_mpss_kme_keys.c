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

#include "qkd_mpss_kme_keys.h"

#include <collections/array.h>
#include <utils/debug.h>

typedef struct private_qkd_mpss_kme_keys_t private_qkd_mpss_kme_keys_t;

/**
 * A link to a neighbour
 */
typedef struct {
	/** the neighbour's address */
	host_t *neighbour;
	/** client of this node's KME for the link */
	qkd_kme_client_t *client;
	/** keys taken from the KME and not used yet, qkd_key_t*, all of
	 * cached_len bytes */
	array_t *cached;
	size_t cached_len;
} link_t;

/**
 * Private data of a qkd_mpss_kme_keys_t object.
 */
struct private_qkd_mpss_kme_keys_t {

	/**
	 * Public interface.
	 */
	qkd_mpss_kme_keys_t public;

	/**
	 * Links, link_t*
	 */
	array_t *links;

	/**
	 * Keys taken from a KME per enc_keys call
	 */
	u_int batch;
};

/**
 * The link to a neighbour, NULL if none
 */
static link_t *link_for(private_qkd_mpss_kme_keys_t *this, chunk_t neighbour)
{
	link_t *link;
	host_t *host;
	int i;

	for (i = 0; i < array_count(this->links); i++)
	{
		array_get(this->links, i, &link);
		if (chunk_equals(link->neighbour->get_address(link->neighbour),
						 neighbour))
		{
			return link;
		}
	}
	host = host_create_from_chunk(AF_INET6, neighbour, 0);
	DBG1(DBG_LIB, "qkd MPSS: no QKD link to %H", host);
	DESTROY_IF(host);
	return NULL;
}

/**
 * Take the single key of a KME answer
 */
static bool single_key(qkd_kme_result_t result, array_t *keys, size_t len,
					   chunk_t *key)
{
	qkd_key_t *got;
	bool ok = FALSE;

	if (result == QKD_KME_OK && array_get(keys, ARRAY_HEAD, &got) &&
		got->key.len >= len)
	{
		*key = chunk_clone(got->key);
		ok = TRUE;
	}
	if (result == QKD_KME_OK)
	{
		qkd_key_array_destroy(keys);
	}
	return ok;
}

/**
 * Take a batch of keys of a length from the KME of a link, replacing those
 * cached (of another length)
 */
static bool refill(private_qkd_mpss_kme_keys_t *this, link_t *link,
				   size_t len)
{
	qkd_kme_result_t result;
	array_t *keys = NULL;
	qkd_key_t *key;
	int i;

	result = link->client->get_keys(link->client, this->batch, len * 8,
									&keys);
	if (result != QKD_KME_OK)
	{
		return FALSE;
	}
	for (i = 0; i < array_count(keys); i++)
	{
		array_get(keys, i, &key);
		if (key->key.len != len)
		{
			qkd_key_array_destroy(keys);
			return FALSE;
		}
	}
	qkd_key_array_destroy(link->cached);
	link->cached = keys;
	link->cached_len = len;
	return TRUE;
}

METHOD(qkd_mpss_hop_keys_t, take, bool,
	private_qkd_mpss_kme_keys_t *this, chunk_t neighbour, size_t len,
	uint8_t id[QKD_KEY_ID_LEN], chunk_t *key)
{
	qkd_key_t *got;
	link_t *link;

	link = link_for(this, neighbour);
	if (!link)
	{
		return FALSE;
	}
	if ((link->cached_len != len || !array_count(link->cached)) &&
		!refill(this, link, len))
	{
		return FALSE;
	}
	if (!array_remove(link->cached, ARRAY_HEAD, &got))
	{
		return FALSE;
	}
	memcpy(id, got->id, QKD_KEY_ID_LEN);
	*key = got->key;
	got->key = chunk_empty;
	qkd_key_destroy(got);
	return TRUE;
}

METHOD(qkd_mpss_hop_keys_t, fetch, bool,
	private_qkd_mpss_kme_keys_t *this, chunk_t neighbour,
	uint8_t id[QKD_KEY_ID_LEN], size_t len, chunk_t *key)
{
	uint8_t ids[1][QKD_KEY_ID_LEN];
	qkd_kme_result_t result;
	array_t *keys = NULL;
	link_t *link;

	link = link_for(this, neighbour);
	if (!link)
	{
		return FALSE;
	}
	memcpy(ids[0], id, QKD_KEY_ID_LEN);
	result = link->client->get_keys_by_id(link->client, ids, 1, len * 8,
										  len * 8, &keys);
	return single_key(result, keys, len, key);
}

METHOD(qkd_mpss_kme_keys_t, add_link, void,
	private_qkd_mpss_kme_keys_t *this, host_t *neighbour,
	qkd_kme_client_t *client)
{
	link_t *link;

	INIT(link,
		.neighbour = neighbour->clone(neighbour),
		.client = client,
	);
	array_insert(this->links, ARRAY_TAIL, link);
}

static void link_destroy(link_t *link)
{
	qkd_key_array_destroy(link->cached);
	link->neighbour->destroy(link->neighbour);
	link->client->destroy(link->client);
	free(link);
}

METHOD(qkd_mpss_kme_keys_t, destroy, void,
	private_qkd_mpss_kme_keys_t *this)
{
	array_destroy_function(this->links, (void*)link_destroy, NULL);
	free(this);
}

/*
 * Described in header
 */
qkd_mpss_kme_keys_t *qkd_mpss_kme_keys_create(u_int batch)
{
	private_qkd_mpss_kme_keys_t *this;

	INIT(this,
		.public = {
			.keys = {
				.take = _take,
				.fetch = _fetch,
			},
			.add_link = _add_link,
			.destroy = _destroy,
		},
		.links = array_create(0, 0),
		.batch = max(batch, 1),
	);
	return &this->public;
}
