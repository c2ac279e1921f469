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
	 * HMAC-SHA256, keyed with the salt for Extract, with the PRK for Expand
	 */
	prf_t *hmac;
};

/**
 * HKDF-Expand (RFC 5869 2.3): T(i) = HMAC(PRK, T(i-1) | info | i)
 */
static bool expand(private_qkd_hkdf_t *this, chunk_t prk, chunk_t info,
				   chunk_t out)
{
	uint8_t t[HASH_SIZE_SHA256], i;
	chunk_t previous = chunk_empty;
	size_t done, len;

	if (out.len > 255 * HASH_SIZE_SHA256 ||
		!this->hmac->set_key(this->hmac, prk))
	{
		return FALSE;
	}
	for (i = 1, done = 0; done < out.len; i++, done += len)
	{
		if (!this->hmac->get_bytes(this->hmac, previous, NULL) ||
			!this->hmac->get_bytes(this->hmac, info, NULL) ||
			!this->hmac->get_bytes(this->hmac, chunk_from_thing(i), t))
		{
			memwipe(t, sizeof(t));
			return FALSE;
		}
		len = min(out.len - done, sizeof(t));
		memcpy(out.ptr + done, t, len);
		previous = chunk_from_thing(t);
	}
	memwipe(t, sizeof(t));
	return TRUE;
}

METHOD(qkd_hkdf_t, derive, bool,
	private_qkd_hkdf_t *this, chunk_t salt, chunk_t ikm, chunk_t info,
	chunk_t out)
{
	uint8_t zero[HASH_SIZE_SHA256] = {}, prk[HASH_SIZE_SHA256];
	bool ok;

	/* HKDF-Extract (2.2): PRK = HMAC(salt, IKM). The HMAC instance is
	 * reused: OpenSSL 3 looks up the algorithm by name for every new HMAC
	 * or KDF context (strongSwan's KDFs create one per call), which costs
	 * more than the derivation itself */
	ok = this->hmac->set_key(this->hmac,
							 salt.len ? salt : chunk_from_thing(zero)) &&
		 this->hmac->get_bytes(this->hmac, ikm, prk) &&
		 expand(this, chunk_from_thing(prk), info, out);
	memwipe(prk, sizeof(prk));
	/* the kept instance holds no secret until the next derivation */
	return this->hmac->set_key(this->hmac, chunk_from_thing(zero)) && ok;
}

METHOD(qkd_hkdf_t, destroy, void,
	private_qkd_hkdf_t *this)
{
	DESTROY_IF(this->hmac);
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
			.destroy = _destroy,
		},
		.hmac = lib->crypto->create_prf(lib->crypto, PRF_HMAC_SHA2_256),
	);
	if (!this->hmac)
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
