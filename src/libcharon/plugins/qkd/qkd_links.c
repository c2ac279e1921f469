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

#include "qkd_links.h"

#include <daemon.h>
#include <collections/linked_list.h>
#include <threading/rwlock.h>

typedef struct private_qkd_links_t private_qkd_links_t;

/**
 * Private data of a qkd_links_t object.
 */
struct private_qkd_links_t {

	/**
	 * Public interface.
	 */
	qkd_links_t public;

	/**
	 * Configured links, as qkd_link_t*
	 */
	linked_list_t *links;

	/**
	 * Lock for links
	 */
	rwlock_t *lock;
};

METHOD(qkd_links_t, load, u_int,
	private_qkd_links_t *this)
{
	enumerator_t *enumerator;
	linked_list_t *links;
	qkd_link_t *link;
	char *name;
	u_int count;

	links = linked_list_create();
	enumerator = lib->settings->create_section_enumerator(lib->settings,
										"%s.plugins.qkd.links", lib->ns);
	while (enumerator->enumerate(enumerator, &name))
	{
		link = qkd_link_create_from_settings(name);
		if (link)
		{
			DBG2(DBG_CFG, "qkd link '%s': KME %s, SAE '%s' <-> '%s', %u-bit "
				 "keys", name, link->get_kme(link), link->get_sae_id(link),
				 link->get_peer_sae_id(link), link->get_key_size(link));
			links->insert_last(links, link);
		}
		else
		{
			DBG1(DBG_CFG, "qkd link '%s' skipped", name);
		}
	}
	enumerator->destroy(enumerator);
	count = links->get_count(links);

	this->lock->write_lock(this->lock);
	this->links->destroy_offset(this->links, offsetof(qkd_link_t, destroy));
	this->links = links;
	this->lock->unlock(this->lock);

	DBG1(DBG_CFG, "qkd: %u link%s configured", count, count == 1 ? "" : "s");
	return count;
}

METHOD(qkd_links_t, select_link, qkd_link_t*,
	private_qkd_links_t *this, ike_sa_t *ike_sa)
{
	enumerator_t *enumerator;
	qkd_link_t *link, *best = NULL;
	int quality, best_quality = 0;

	this->lock->read_lock(this->lock);
	enumerator = this->links->create_enumerator(this->links);
	while (enumerator->enumerate(enumerator, &link))
	{
		quality = link->matches(link, ike_sa->get_name(ike_sa),
								ike_sa->get_other_host(ike_sa));
		if (quality > best_quality)
		{
			best = link;
			best_quality = quality;
		}
	}
	enumerator->destroy(enumerator);
	if (best)
	{
		best = best->get_ref(best);
	}
	this->lock->unlock(this->lock);
	return best;
}

METHOD(qkd_links_t, destroy, void,
	private_qkd_links_t *this)
{
	this->links->destroy_offset(this->links, offsetof(qkd_link_t, destroy));
	this->lock->destroy(this->lock);
	free(this);
}

/*
 * Described in header
 */
qkd_links_t *qkd_links_create()
{
	private_qkd_links_t *this;

	INIT(this,
		.public = {
			.load = _load,
			.select = _select_link,
			.destroy = _destroy,
		},
		.links = linked_list_create(),
		.lock = rwlock_create(RWLOCK_TYPE_DEFAULT),
	);
	return &this->public;
}
