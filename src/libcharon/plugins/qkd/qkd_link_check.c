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

#include "qkd_link_check.h"

#include <daemon.h>
#include <collections/hashtable.h>
#include <threading/mutex.h>

typedef struct private_qkd_link_check_t private_qkd_link_check_t;

/**
 * Private data of the link check.
 */
struct private_qkd_link_check_t {

	/**
	 * Public interface.
	 */
	qkd_link_check_t public;

	/**
	 * Selects the link of an authenticated IKE SA
	 */
	qkd_link_check_select_t select;

	/**
	 * Data for select
	 */
	void *data;

	/**
	 * Links of IKE SAs not authenticated yet, unique ID -> link name
	 */
	hashtable_t *noted;

	/**
	 * Lock for noted
	 */
	mutex_t *mutex;
};

/**
 * Link name a key exchange of an IKE SA used with another link before
 */
static char *mixed = "(several links)";

/**
 * Forget an IKE SA, returning the link noted for it (to free) or NULL
 */
static char *forget(private_qkd_link_check_t *this, ike_sa_t *ike_sa)
{
	char *name;

	this->mutex->lock(this->mutex);
	name = this->noted->remove(this->noted,
						(void*)(uintptr_t)ike_sa->get_unique_id(ike_sa));
	this->mutex->unlock(this->mutex);
	return name;
}

/**
 * Free a noted link name
 */
static void free_name(char *name)
{
	if (name != mixed)
	{
		free(name);
	}
}

METHOD(qkd_link_check_t, note, void,
	private_qkd_link_check_t *this, ike_sa_t *ike_sa, qkd_link_t *link)
{
	void *key = (void*)(uintptr_t)ike_sa->get_unique_id(ike_sa);
	char *name;

	if (ike_sa->get_state(ike_sa) != IKE_CREATED &&
		ike_sa->get_state(ike_sa) != IKE_CONNECTING)
	{	/* authenticated: the link was selected by the connection */
		return;
	}
	this->mutex->lock(this->mutex);
	name = this->noted->get(this->noted, key);
	if (!name)
	{
		this->noted->put(this->noted, key, strdup(link->get_name(link)));
	}
	else if (name != mixed && !streq(name, link->get_name(link)))
	{
		free(name);
		this->noted->put(this->noted, key, mixed);
	}
	this->mutex->unlock(this->mutex);
}

METHOD(listener_t, authorize, bool,
	private_qkd_link_check_t *this, ike_sa_t *ike_sa, bool final,
	bool *success)
{
	char *noted, *selected;

	if (!final || !*success)
	{
		return TRUE;
	}
	noted = forget(this, ike_sa);
	if (!noted)
	{	/* no QKD key before authentication */
		return TRUE;
	}
	selected = this->select(this->data, ike_sa);
	if (!selected || !streq(selected, noted))
	{
		DBG1(DBG_IKE, "qkd: %s[%u] was keyed with QKD link '%s' before "
			 "authentication, but connection '%s' with peer %H uses %s%s%s, "
			 "authorization failed", ike_sa->get_name(ike_sa),
			 ike_sa->get_unique_id(ike_sa), noted, ike_sa->get_name(ike_sa),
			 ike_sa->get_other_host(ike_sa), selected ? "link '" : "no link",
			 selected ?: "", selected ? "'" : "");
		*success = FALSE;
	}
	free(selected);
	free_name(noted);
	return TRUE;
}

METHOD(listener_t, ike_state_change, bool,
	private_qkd_link_check_t *this, ike_sa_t *ike_sa, ike_sa_state_t state)
{
	if (state == IKE_DESTROYING)
	{
		free_name(forget(this, ike_sa));
	}
	return TRUE;
}

CALLBACK(destroy_name, void,
	char *name, const void *key)
{
	free_name(name);
}

METHOD(qkd_link_check_t, destroy, void,
	private_qkd_link_check_t *this)
{
	this->noted->destroy_function(this->noted, destroy_name);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
qkd_link_check_t *qkd_link_check_create(qkd_link_check_select_t select,
										void *data)
{
	private_qkd_link_check_t *this;

	INIT(this,
		.public = {
			.listener = {
				.authorize = _authorize,
				.ike_state_change = _ike_state_change,
			},
			.note = _note,
			.destroy = _destroy,
		},
		.select = select,
		.data = data,
		.noted = hashtable_create(hashtable_hash_ptr, hashtable_equals_ptr,
								  32),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
