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

#include "qkd_pool_seal.h"
#include "qkd_hkdf.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utils/debug.h>

/**
 * Length of the storage key
 */
#define STORAGE_KEY_LEN 32

/**
 * Length of the nonce of a seal
 */
#define SEAL_NONCE_LEN 16

/**
 * Length of the AES-256-GCM key and salt of a seal
 */
#define SEAL_KEY_LEN 36

/**
 * Label of the keys of seals
 */
#define SEAL_LABEL "strongSwan qkd pool seal"

/**
 * Label of the key of used key ID hashes
 */
#define USED_LABEL "strongSwan qkd pool used key IDs"

typedef struct private_qkd_pool_seal_t private_qkd_pool_seal_t;

/**
 * Private data of the seal.
 */
struct private_qkd_pool_seal_t {

	/**
	 * Public interface.
	 */
	qkd_pool_seal_t public;

	/**
	 * Storage key
	 */
	chunk_t key;

	/**
	 * SipHash key of used key ID hashes, derived from the storage key
	 */
	u_char used_key[16];

	/**
	 * Derives the key of each seal
	 */
	qkd_hkdf_t *hkdf;

	/**
	 * AES-256-GCM
	 */
	aead_t *aead;

	/**
	 * Source of seal nonces
	 */
	rng_t *rng;
};

/**
 * Set up the AEAD with the key of a seal nonce
 */
static bool set_seal_key(private_qkd_pool_seal_t *this, chunk_t nonce)
{
	uint8_t key[SEAL_KEY_LEN];
	bool ok;

	/* HKDF(salt = storage key, IKM = nonce, info = label), 36 bytes, as
	 * stores made before this helper existed derive it */
	ok = this->hkdf->derive(this->hkdf, this->key, nonce,
							chunk_from_str(SEAL_LABEL), chunk_from_thing(key)) &&
		 this->aead->set_key(this->aead, chunk_from_thing(key));
	memwipe(key, sizeof(key));
	return ok;
}

/**
 * Associated data of a batch: link name, key IDs, key length, status
 * bytes, Indexes as stored (indexes_blob())
 */
static chunk_t assoc_data(char *link, qkd_batch_t *batch, chunk_t indexes)
{
	uint32_t key_len = htonl(batch->key_len);

	return chunk_cat("ccccc", chunk_create(link, strlen(link) + 1),
					 chunk_create(batch->ids, batch->count * QKD_KEY_ID_LEN),
					 chunk_from_thing(key_len),
					 chunk_create(batch->status, batch->count), indexes);
}

METHOD(qkd_pool_seal_t, seal, bool,
	private_qkd_pool_seal_t *this, char *link, qkd_batch_t *batch,
	chunk_t indexes, chunk_t *sealed)
{
	uint8_t iv[8] = {};
	chunk_t nonce, assoc, encrypted;
	bool ok;

	nonce = chunk_alloca(SEAL_NONCE_LEN);
	if (!this->rng->get_bytes(this->rng, nonce.len, nonce.ptr) ||
		!set_seal_key(this, nonce))
	{
		return FALSE;
	}
	/* every seal has a key of its own, so a fixed IV is fine */
	assoc = assoc_data(link, batch, indexes);
	ok = this->aead->encrypt(this->aead, batch->keys, assoc,
							 chunk_from_thing(iv), &encrypted);
	chunk_free(&assoc);
	if (!ok)
	{
		return FALSE;
	}
	*sealed = chunk_cat("cm", nonce, encrypted);
	return TRUE;
}

METHOD(qkd_pool_seal_t, unseal, bool,
	private_qkd_pool_seal_t *this, char *link, qkd_batch_t *batch,
	chunk_t indexes, chunk_t sealed)
{
	uint8_t iv[8] = {};
	chunk_t assoc, plain = chunk_empty;
	bool ok;

	if (sealed.len != SEAL_NONCE_LEN + batch->keys.len +
								this->aead->get_icv_size(this->aead) ||
		!set_seal_key(this, chunk_create(sealed.ptr, SEAL_NONCE_LEN)))
	{
		return FALSE;
	}
	assoc = assoc_data(link, batch, indexes);
	ok = this->aead->decrypt(this->aead, chunk_skip(sealed, SEAL_NONCE_LEN),
							 assoc, chunk_from_thing(iv), &plain);
	chunk_free(&assoc);
	if (!ok)
	{	/* the output is allocated even if authentication fails */
		chunk_clear(&plain);
		return FALSE;
	}
	memcpy(batch->keys.ptr, plain.ptr, batch->keys.len);
	chunk_clear(&plain);
	return TRUE;
}

METHOD(qkd_pool_seal_t, hash_id, uint64_t,
	private_qkd_pool_seal_t *this, uint8_t id[QKD_KEY_ID_LEN])
{
	/* 0 taken as 1: the store's hashtable can't hold a NULL key */
	return chunk_mac(chunk_create(id, QKD_KEY_ID_LEN), this->used_key) ?: 1;
}

/**
 * Load the storage key, or create it (mode 0600) with a strong RNG
 */
static bool load_key(private_qkd_pool_seal_t *this, char *keyfile)
{
	chunk_t *data;
	rng_t *rng;
	int fd;

	data = chunk_map(keyfile, FALSE);
	if (data)
	{
		if (data->len == STORAGE_KEY_LEN)
		{
			this->key = chunk_clone(*data);
		}
		chunk_unmap_clear(data);
		if (!this->key.len)
		{
			DBG1(DBG_CFG, "qkd pool: storage key file '%s' is not %d bytes",
				 keyfile, STORAGE_KEY_LEN);
			return FALSE;
		}
		return TRUE;
	}
	if (errno != ENOENT)
	{
		DBG1(DBG_CFG, "qkd pool: reading storage key file '%s' failed: %s",
			 keyfile, strerror(errno));
		return FALSE;
	}
	rng = lib->crypto->create_rng(lib->crypto, RNG_TRUE);
	if (!rng || !rng->allocate_bytes(rng, STORAGE_KEY_LEN, &this->key))
	{
		DESTROY_IF(rng);
		DBG1(DBG_CFG, "qkd pool: no RNG for the storage key");
		return FALSE;
	}
	rng->destroy(rng);
	fd = open(keyfile, O_WRONLY | O_CREAT | O_EXCL, S_IRUSR | S_IWUSR);
	if (fd < 0 || write(fd, this->key.ptr, this->key.len) != this->key.len ||
		fsync(fd) != 0)
	{
		DBG1(DBG_CFG, "qkd pool: creating storage key file '%s' failed: %s",
			 keyfile, strerror(errno));
		if (fd >= 0)
		{
			close(fd);
			unlink(keyfile);
		}
		return FALSE;
	}
	close(fd);
	DBG1(DBG_CFG, "qkd pool: created storage key file '%s'", keyfile);
	return TRUE;
}

METHOD(qkd_pool_seal_t, destroy, void,
	private_qkd_pool_seal_t *this)
{
	DESTROY_IF(this->hkdf);
	DESTROY_IF(this->aead);
	DESTROY_IF(this->rng);
	chunk_clear(&this->key);
	memwipe(this->used_key, sizeof(this->used_key));
	free(this);
}

/*
 * Described in header
 */
qkd_pool_seal_t *qkd_pool_seal_create(char *keyfile)
{
	private_qkd_pool_seal_t *this;

	INIT(this,
		.public = {
			.seal = _seal,
			.unseal = _unseal,
			.hash_id = _hash_id,
			.destroy = _destroy,
		},
		.hkdf = qkd_hkdf_create(),
		.aead = lib->crypto->create_aead(lib->crypto, ENCR_AES_GCM_ICV16,
										 32, 4),
		.rng = lib->crypto->create_rng(lib->crypto, RNG_STRONG),
	);

	if (!this->hkdf || !this->aead || !this->rng)
	{
		DBG1(DBG_CFG, "qkd pool: SHA-256, AES-256-GCM or a strong RNG not "
			 "available");
		destroy(this);
		return NULL;
	}
	if (!load_key(this, keyfile) ||
		!this->hkdf->derive(this->hkdf, chunk_empty, this->key,
							chunk_from_str(USED_LABEL),
							chunk_from_thing(this->used_key)))
	{
		destroy(this);
		return NULL;
	}
	return &this->public;
}
