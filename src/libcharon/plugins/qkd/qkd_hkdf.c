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

#include <crypto/kdfs/kdf.h>
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
	 * HKDF-Extract: HMAC-SHA256 keyed with the salt, over the IKM
	 */
	kdf_t *extract;

	/**
	 * HKDF-Expand: prf+
	 */
	kdf_t *expand;
};

METHOD(qkd_hkdf_t, derive, bool,
	private_qkd_hkdf_t *this, chunk_t salt, chunk_t ikm, chunk_t info,
	chunk_t out)
{
	uint8_t zero[HASH_SIZE_SHA256] = {}, prk[HASH_SIZE_SHA256];
	bool ok;

	/* strongSwan's prf KDF keys the PRF with SALT, over KEY (as for
	 * SKEYSEED = prf(Ni | Nr, g^ir)): HMAC(salt, IKM) */
	ok = this->extract->set_param(this->extract, KDF_PARAM_KEY, ikm) &&
		 this->extract->set_param(this->extract, KDF_PARAM_SALT,
						salt.len ? salt : chunk_from_thing(zero)) &&
		 this->extract->get_bytes(this->extract, sizeof(prk), prk) &&
		 this->expand->set_param(this->expand, KDF_PARAM_KEY,
								 chunk_from_thing(prk)) &&
		 this->expand->set_param(this->expand, KDF_PARAM_SALT, info) &&
		 this->expand->get_bytes(this->expand, out.len, out.ptr);
	memwipe(prk, sizeof(prk));
	return ok;
}

METHOD(qkd_hkdf_t, destroy, void,
	private_qkd_hkdf_t *this)
{
	DESTROY_IF(this->extract);
	DESTROY_IF(this->expand);
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
		.extract = lib->crypto->create_kdf(lib->crypto, KDF_PRF,
										   PRF_HMAC_SHA2_256),
		.expand = lib->crypto->create_kdf(lib->crypto, KDF_PRF_PLUS,
										  PRF_HMAC_SHA2_256),
	);
	if (!this->extract || !this->expand)
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
