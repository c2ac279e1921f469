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

#include "qkd_doh_guard.h"

#include <time.h>

#include <crypto/signers/signer.h>
#include <collections/hashtable.h>
#include <threading/mutex.h>

ENUM(qkd_doh_verdict_names, QKD_DOH_VALID, QKD_DOH_REPLAY,
	"valid",
	"no DOH key",
	"MAC verification failed",
	"timestamp outside the window",
	"replayed",
);

typedef struct private_qkd_doh_guard_t private_qkd_doh_guard_t;

/**
 * Private data of a qkd_doh_guard_t object.
 */
struct private_qkd_doh_guard_t {

	/**
	 * Public interface.
	 */
	qkd_doh_guard_t public;

	/**
	 * HMAC-SHA256-128 keyed with the current and the previous DOH key
	 */
	signer_t *current, *previous;

	/**
	 * Key generations of current and previous
	 */
	uint8_t current_ref, previous_ref;

	/**
	 * Whether messages are sent with the previous key
	 */
	bool use_previous;

	/**
	 * Acceptance window, seconds
	 */
	u_int window;

	/**
	 * Next sequence number to send
	 */
	uint32_t seq;

	/**
	 * (timestamp, sequence) of accepted messages, seen_t* as keys and values
	 */
	hashtable_t *seen;

	/**
	 * Protects everything above
	 */
	mutex_t *mutex;
};

/**
 * A (timestamp, sequence) pair of an accepted message: a struct, not a
 * pointer-sized integer, so that both 32-bit halves count on every target
 */
typedef struct {
	/** Timestamp of the AUTH option */
	uint32_t timestamp;
	/** Sequence of the AUTH option */
	uint32_t seq;
} seen_t;

/**
 * Hash a seen pair
 */
static u_int hash_seen(const void *key)
{
	const seen_t *seen = key;

	return chunk_hash(chunk_from_thing(*seen));
}

/**
 * Compare seen pairs
 */
static bool equals_seen(const void *a, const void *b)
{
	const seen_t *x = a, *y = b;

	return x->timestamp == y->timestamp && x->seq == y->seq;
}

METHOD(qkd_doh_guard_t, set_key, bool,
	private_qkd_doh_guard_t *this, uint8_t ref, chunk_t key)
{
	signer_t *signer;

	signer = lib->crypto->create_signer(lib->crypto, AUTH_HMAC_SHA2_256_128);
	if (!signer || !signer->set_key(signer, key))
	{
		DESTROY_IF(signer);
		return FALSE;
	}
	this->mutex->lock(this->mutex);
	DESTROY_IF(this->previous);
	this->previous = this->current;
	this->previous_ref = this->current_ref;
	this->current = signer;
	this->current_ref = ref;
	this->use_previous = FALSE;
	this->mutex->unlock(this->mutex);
	return TRUE;
}

/**
 * The key messages are sent with
 */
static signer_t *signing_key(private_qkd_doh_guard_t *this)
{
	return this->use_previous ? this->previous : this->current;
}

METHOD(qkd_doh_guard_t, sign_with_previous, void,
	private_qkd_doh_guard_t *this, bool previous)
{
	this->mutex->lock(this->mutex);
	this->use_previous = previous && this->previous;
	this->mutex->unlock(this->mutex);
}

METHOD(qkd_doh_guard_t, prepare, bool,
	private_qkd_doh_guard_t *this, qkd_doh_auth_t *auth)
{
	bool ok;

	this->mutex->lock(this->mutex);
	ok = signing_key(this) != NULL;
	*auth = (qkd_doh_auth_t){
		.key_ref = this->use_previous ? this->previous_ref : this->current_ref,
		.timestamp = time(NULL),
		.seq = this->seq++,
	};
	this->mutex->unlock(this->mutex);
	return ok;
}

/**
 * Compute the MAC of a header with a signer into mac
 */
static bool compute(signer_t *signer, host_t *src, host_t *dst, chunk_t doh,
					size_t mac_offset, uint8_t mac[QKD_DOH_MAC_LEN])
{
	chunk_t copy;
	bool ok;

	if (mac_offset + QKD_DOH_MAC_LEN > doh.len ||
		src->get_family(src) != AF_INET6 || dst->get_family(dst) != AF_INET6)
	{
		return FALSE;
	}
	copy = chunk_clone(doh);
	memset(copy.ptr + mac_offset, 0, QKD_DOH_MAC_LEN);
	ok = signer->get_signature(signer, src->get_address(src), NULL) &&
		 signer->get_signature(signer, dst->get_address(dst), NULL) &&
		 signer->get_signature(signer, copy, mac);
	chunk_free(&copy);
	return ok;
}

METHOD(qkd_doh_guard_t, sign, bool,
	private_qkd_doh_guard_t *this, host_t *src, host_t *dst, chunk_t doh,
	size_t mac_offset)
{
	bool ok;

	this->mutex->lock(this->mutex);
	ok = signing_key(this) && compute(signing_key(this), src, dst, doh,
									  mac_offset, doh.ptr + mac_offset);
	this->mutex->unlock(this->mutex);
	return ok;
}

/**
 * Forget pairs older than the window
 */
static void prune(private_qkd_doh_guard_t *this, time_t now)
{
	enumerator_t *enumerator;
	seen_t *key, *value;

	enumerator = this->seen->create_enumerator(this->seen);
	while (enumerator->enumerate(enumerator, &key, &value))
	{
		if ((time_t)value->timestamp + this->window < now)
		{
			this->seen->remove_at(this->seen, enumerator);
			free(value);
		}
	}
	enumerator->destroy(enumerator);
}

METHOD(qkd_doh_guard_t, verify, qkd_doh_verdict_t,
	private_qkd_doh_guard_t *this, host_t *src, host_t *dst, chunk_t doh,
	qkd_doh_auth_t *auth, size_t mac_offset)
{
	uint8_t mac[QKD_DOH_MAC_LEN];
	qkd_doh_verdict_t verdict = QKD_DOH_VALID;
	signer_t *signer = NULL;
	time_t now = time(NULL);
	seen_t pair, *seen;

	this->mutex->lock(this->mutex);
	if (this->current && auth->key_ref == this->current_ref)
	{
		signer = this->current;
	}
	else if (this->previous && auth->key_ref == this->previous_ref)
	{
		signer = this->previous;
	}
	if (!signer)
	{
		verdict = QKD_DOH_NO_KEY;
	}
	else if (!compute(signer, src, dst, doh, mac_offset, mac) ||
			 !memeq_const(mac, auth->mac, QKD_DOH_MAC_LEN))
	{
		verdict = QKD_DOH_BAD_MAC;
	}
	else if (auth->timestamp + (time_t)this->window < now ||
			 auth->timestamp > now + this->window)
	{
		verdict = QKD_DOH_STALE;
	}
	else
	{
		pair = (seen_t){
			.timestamp = auth->timestamp,
			.seq = auth->seq,
		};
		if (this->seen->get(this->seen, &pair))
		{
			verdict = QKD_DOH_REPLAY;
		}
		else
		{
			if (this->seen->get_count(this->seen) % 256 == 255)
			{
				prune(this, now);
			}
			seen = malloc_thing(seen_t);
			*seen = pair;
			this->seen->put(this->seen, seen, seen);
		}
	}
	this->mutex->unlock(this->mutex);
	return verdict;
}

METHOD(qkd_doh_guard_t, destroy, void,
	private_qkd_doh_guard_t *this)
{
	DESTROY_IF(this->current);
	DESTROY_IF(this->previous);
	this->seen->destroy_function(this->seen, (void*)free);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
qkd_doh_guard_t *qkd_doh_guard_create(u_int window)
{
	private_qkd_doh_guard_t *this;
	rng_t *rng;

	INIT(this,
		.public = {
			.set_key = _set_key,
			.sign_with_previous = _sign_with_previous,
			.prepare = _prepare,
			.sign = _sign,
			.verify = _verify,
			.destroy = _destroy,
		},
		.window = window,
		.seen = hashtable_create(hash_seen, equals_seen, 64),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);

	/* a random start, so that a restarted sender doesn't repeat pairs */
	rng = lib->crypto->create_rng(lib->crypto, RNG_WEAK);
	if (!rng || !rng->get_bytes(rng, sizeof(this->seq), (void*)&this->seq))
	{
		this->seq = time(NULL);
	}
	DESTROY_IF(rng);
	return &this->public;
}
