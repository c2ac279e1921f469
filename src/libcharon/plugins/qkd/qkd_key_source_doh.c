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

#include "qkd_key_source.h"
#include "qkd_doh_peer.h"

#include <utils/debug.h>

typedef struct private_qkd_key_source_t private_qkd_key_source_t;

/**
 * Private data of the DOH key source.
 */
struct private_qkd_key_source_t {

	/**
	 * Public interface.
	 */
	qkd_key_source_t public;

	/**
	 * Link (referenced) and its DOH peer
	 */
	qkd_link_t *link;
	qkd_doh_peer_t *doh;

	/**
	 * The pool, which records the statuses of the keys in use
	 */
	qkd_key_source_t *pool;
};

/**
 * How long a key exchange waits for a key, ms
 */
static u_int wait_ms(qkd_link_t *link)
{
	u_int capacity, low, wait, lifetime;

	link->get_pool_settings(link, &capacity, &low, &wait, &lifetime);
	return wait;
}

METHOD(qkd_key_source_t, take, qkd_key_t*,
	private_qkd_key_source_t *this, char *sa, char **how)
{
	qkd_key_t *key;

	/* a key negotiated with the peer beforehand, no KME call */
	*how = "took DOH-bound";
	key = this->doh->take_bound(this->doh, wait_ms(this->link));
	if (!key)
	{
		DBG1(DBG_IKE, "qkd: no key negotiated over DOH with the peer of link "
			 "'%s' for %s (waited %u ms)", this->link->get_name(this->link),
			 sa, wait_ms(this->link));
	}
	return key;
}

METHOD(qkd_key_source_t, take_peer, qkd_key_t*,
	private_qkd_key_source_t *this, uint8_t id[QKD_KEY_ID_LEN],
	bool authenticated, char *sa, char **how)
{
	char uuid[QKD_KEY_ID_STRLEN + 1];
	qkd_key_t *key;

	/* only a key the peer negotiated with us over DOH */
	*how = "got peer's DOH-bound";
	key = this->doh->take_peer_bound(this->doh, id);
	if (!key)
	{
		qkd_key_id_format(id, uuid);
		DBG1(DBG_IKE, "qkd: key %s was not negotiated over DOH with the peer "
			 "of link '%s', refused for %s", uuid,
			 this->link->get_name(this->link), sa);
	}
	return key;
}

METHOD(qkd_key_source_t, used, bool,
	private_qkd_key_source_t *this, uint8_t id[QKD_KEY_ID_LEN])
{
	return this->pool->used(this->pool, id);
}

METHOD(qkd_key_source_t, done, void,
	private_qkd_key_source_t *this, uint8_t id[QKD_KEY_ID_LEN])
{
	this->pool->done(this->pool, id);
}

METHOD(qkd_key_source_t, get_link, qkd_link_t*,
	private_qkd_key_source_t *this)
{
	return this->link;
}

METHOD(qkd_key_source_t, destroy, void,
	private_qkd_key_source_t *this)
{
	this->pool->destroy(this->pool);
	this->link->destroy(this->link);
	free(this);
}

/*
 * Described in header
 */
qkd_key_source_t *qkd_key_source_doh_create(qkd_link_t *link,
											qkd_pool_t *pool,
											qkd_doh_peer_t *doh)
{
	private_qkd_key_source_t *this;

	INIT(this,
		.public = {
			.take = _take,
			.take_peer = _take_peer,
			.used = _used,
			.done = _done,
			.get_link = _get_link,
			.destroy = _destroy,
		},
		.link = link->get_ref(link),
		.doh = doh,
		.pool = qkd_key_source_pool_create(link, pool),
	);
	return &this->public;
}
