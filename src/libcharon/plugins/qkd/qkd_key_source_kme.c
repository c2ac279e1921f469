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

#include <utils/debug.h>

typedef struct private_qkd_key_source_t private_qkd_key_source_t;

/**
 * Private data of the KME key source.
 */
struct private_qkd_key_source_t {

	/**
	 * Public interface.
	 */
	qkd_key_source_t public;

	/**
	 * Link (referenced)
	 */
	qkd_link_t *link;
};

METHOD(qkd_key_source_t, take, qkd_key_t*,
	private_qkd_key_source_t *this, char *sa, char **how)
{
	qkd_kme_result_t result;
	qkd_key_t *key;

	*how = "got new";
	key = this->link->get_key(this->link, NULL, &result);
	if (!key)
	{
		DBG1(DBG_IKE, "qkd: no key from link '%s' for %s: %N",
			 this->link->get_name(this->link), sa, qkd_kme_result_names,
			 result);
	}
	return key;
}

METHOD(qkd_key_source_t, take_peer, qkd_key_t*,
	private_qkd_key_source_t *this, uint8_t id[QKD_KEY_ID_LEN],
	bool authenticated, char *sa, char **how)
{
	char uuid[QKD_KEY_ID_STRLEN + 1];
	qkd_kme_result_t result;
	qkd_key_t *key;

	*how = "got peer's";
	if (!authenticated && !this->link->allow_unauthenticated(this->link))
	{	/* unauthenticated peers can make us call the KME */
		DBG1(DBG_IKE, "qkd: KME fetch for unauthenticated %s refused: rate "
			 "limit of link '%s' exceeded", sa,
			 this->link->get_name(this->link));
		return NULL;
	}
	key = this->link->get_key(this->link, id, &result);
	if (!key)
	{
		qkd_key_id_format(id, uuid);
		DBG1(DBG_IKE, "qkd: key %s not available from link '%s' for %s: %N",
			 uuid, this->link->get_name(this->link), sa, qkd_kme_result_names,
			 result);
	}
	return key;
}

METHOD(qkd_key_source_t, used, bool,
	private_qkd_key_source_t *this, uint8_t id[QKD_KEY_ID_LEN])
{
	return TRUE;
}

METHOD(qkd_key_source_t, done, void,
	private_qkd_key_source_t *this, uint8_t id[QKD_KEY_ID_LEN])
{
	/* the KME gives a key once: nothing to remember */
}

METHOD(qkd_key_source_t, get_link, qkd_link_t*,
	private_qkd_key_source_t *this)
{
	return this->link;
}

METHOD(qkd_key_source_t, destroy, void,
	private_qkd_key_source_t *this)
{
	this->link->destroy(this->link);
	free(this);
}

/*
 * Described in header
 */
qkd_key_source_t *qkd_key_source_kme_create(qkd_link_t *link)
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
	);
	return &this->public;
}

/*
 * Described in header
 */
qkd_key_source_t *qkd_key_source_create(qkd_link_t *link, qkd_pool_t *pool,
										qkd_doh_peer_t *doh)
{
	if (pool && doh)
	{
		return qkd_key_source_doh_create(link, pool, doh);
	}
	if (pool)
	{
		return qkd_key_source_pool_create(link, pool);
	}
	return qkd_key_source_kme_create(link);
}
