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

#include "qkd_hkdf.h"

#include <collections/array.h>
#include <threading/mutex.h>

typedef struct private_qkd_hkdf_t private_qkd_hkdf_t;

/**
 * Private data of a qkd_hkdf_t object.
 */
struct private_qkd_hkdf_t {

	/**
	 * Public interface.
	 */
	qkd_hkdf_t public;

	/**
	 * SHA-256, holding no secret between calls (reset after each hash)
	 */
	hasher_t *sha256;
};

/**
 * SHA-256 block size
 */
#define BLOCK_SIZE 64

/**
 * HMAC-SHA256 (RFC 2104) of the concatenation of count (at least one)
 * chunks, over the hasher. Not strongSwan's HMAC PRF: with OpenSSL 3 each
 * of its set_key() calls (for Extract, for Expand, and once more to wipe
 * the PRK from the kept instance) costs about 11,000 instructions, about
 * as much as a whole HMAC of a short message here; a derivation took
 * 2.1 us that way, 1.2 us this way.
 */
static bool hmac(private_qkd_hkdf_t *this, chunk_t key, chunk_t *data,
				 int count, uint8_t out[HASH_SIZE_SHA256])
{
	uint8_t pad[BLOCK_SIZE], hashed[HASH_SIZE_SHA256];
	bool ok = TRUE;
	int i;

	if (key.len > BLOCK_SIZE)
	{
		ok = this->sha256->get_hash(this->sha256, key, hashed);
		key = chunk_from_thing(hashed);
	}
	/* inner hash: H((K ^ ipad) | data) */
	memset(pad, 0x36, sizeof(pad));
	memxor(pad, key.ptr, key.len);
	ok = ok &&
		 this->sha256->get_hash(this->sha256, chunk_from_thing(pad), NULL);
	for (i = 0; ok && i < count; i++)
	{
		ok = this->sha256->get_hash(this->sha256, data[i],
									i == count - 1 ? out : NULL);
	}
	/* outer hash: H((K ^ opad) | inner) */
	memset(pad, 0x5c, sizeof(pad));
	memxor(pad, key.ptr, key.len);
	ok = ok &&
		 this->sha256->get_hash(this->sha256, chunk_from_thing(pad), NULL) &&
		 this->sha256->get_hash(this->sha256,
								chunk_create(out, HASH_SIZE_SHA256), out);
	if (!ok)
	{	/* leave no secret in the hasher: end whatever hash it holds */
		ignore_result(this->sha256->get_hash(this->sha256, chunk_empty,
											 hashed));
	}
	memwipe(pad, sizeof(pad));
	memwipe(hashed, sizeof(hashed));
	return ok;
}

METHOD(qkd_hkdf_t, expand, bool,
	private_qkd_hkdf_t *this, chunk_t prk, chunk_t info, chunk_t out)
{
	uint8_t t[HASH_SIZE_SHA256], i;
	/* T(i) = HMAC(PRK, T(i-1) | info | i) (RFC 5869 2.3) */
	chunk_t data[3] = { chunk_empty, info, chunk_from_thing(i) };
	size_t done, len;

	if (out.len > 255 * HASH_SIZE_SHA256)
	{
		return FALSE;
	}
	for (i = 1, done = 0; done < out.len; i++, done += len)
	{
		if (!hmac(this, prk, data, countof(data), t))
		{
			memwipe(t, sizeof(t));
			return FALSE;
		}
		len = min(out.len - done, sizeof(t));
		memcpy(out.ptr + done, t, len);
		data[0] = chunk_from_thing(t);
	}
	memwipe(t, sizeof(t));
	return TRUE;
}

METHOD(qkd_hkdf_t, derive, bool,
	private_qkd_hkdf_t *this, chunk_t salt, chunk_t ikm, chunk_t info,
	chunk_t out)
{
	uint8_t prk[HASH_SIZE_SHA256];
	bool ok;

	/* HKDF-Extract (2.2): PRK = HMAC(salt, IKM); no salt means HashLen zero
	 * bytes, which key HMAC as an empty key does (both are zero-padded) */
	ok = hmac(this, salt, &ikm, 1, prk) &&
		 expand(this, chunk_from_thing(prk), info, out);
	memwipe(prk, sizeof(prk));
	return ok;
}

METHOD(qkd_hkdf_t, one_step, bool,
	private_qkd_hkdf_t *this, chunk_t salt, chunk_t z, chunk_t fixed_info,
	chunk_t out)
{
	uint8_t k[HASH_SIZE_SHA256], counter[4];
	/* K(i) = HMAC(salt, counter i | Z | FixedInfo) (SP 800-56C Rev. 2 4.1) */
	chunk_t data[3] = { chunk_from_thing(counter), z, fixed_info };
	uint32_t i;
	size_t done, len;

	for (i = 1, done = 0; done < out.len; i++, done += len)
	{
		htoun32(counter, i);
		if (!hmac(this, salt, data, countof(data), k))
		{
			memwipe(k, sizeof(k));
			return FALSE;
		}
		len = min(out.len - done, sizeof(k));
		memcpy(out.ptr + done, k, len);
	}
	memwipe(k, sizeof(k));
	return TRUE;
}

METHOD(qkd_hkdf_t, destroy, void,
	private_qkd_hkdf_t *this)
{
	DESTROY_IF(this->sha256);
	free(this);
}

/*
 * Described in header
 */
qkd_hkdf_t *qkd_hkdf_create()
{
	private_qkd_hkdf_t *this;

	INIT(this,
		.public = {
			.derive = _derive,
			.expand = _expand,
			.one_step = _one_step,
			.destroy = _destroy,
		},
		.sha256 = lib->crypto->create_hasher(lib->crypto, HASH_SHA256),
	);
	if (!this->sha256)
	{
		destroy(this);
		return NULL;
	}
	return &this->public;
}

/**
 * Most instances the cache keeps
 */
#define CACHE_MAX 16

/**
 * Cached instances (qkd_hkdf_t*) and their lock, while set up
 */
static array_t *cache;
static mutex_t *cache_lock;

/*
 * Described in header
 */
qkd_hkdf_t *qkd_hkdf_borrow()
{
	qkd_hkdf_t *hkdf = NULL;

	if (cache_lock)
	{
		cache_lock->lock(cache_lock);
		array_remove(cache, ARRAY_TAIL, &hkdf);
		cache_lock->unlock(cache_lock);
	}
	return hkdf ?: qkd_hkdf_create();
}

/*
 * Described in header
 */
void qkd_hkdf_release(qkd_hkdf_t *hkdf)
{
	if (!hkdf)
	{
		return;
	}
	if (cache_lock)
	{
		cache_lock->lock(cache_lock);
		if (array_count(cache) < CACHE_MAX)
		{
			array_insert(cache, ARRAY_TAIL, hkdf);
			hkdf = NULL;
		}
		cache_lock->unlock(cache_lock);
	}
	DESTROY_IF(hkdf);
}

/*
 * Described in header
 */
void qkd_hkdf_cache(bool init)
{
	if (init && !cache_lock)
	{
		cache = array_create(0, 0);
		cache_lock = mutex_create(MUTEX_TYPE_DEFAULT);
	}
	else if (!init && cache_lock)
	{
		array_destroy_offset(cache, offsetof(qkd_hkdf_t, destroy));
		cache_lock->destroy(cache_lock);
		cache = NULL;
		cache_lock = NULL;
	}
}
