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

#include "qkd_plugin.h"
#include "qkd_link.h"

#include <daemon.h>
#include <collections/linked_list.h>
#include <threading/rwlock.h>

typedef struct private_qkd_plugin_t private_qkd_plugin_t;

/**
 * Private data of the qkd plugin.
 */
struct private_qkd_plugin_t {

	/**
	 * Public interface.
	 */
	qkd_plugin_t public;

	/**
	 * Configured links, as qkd_link_t*
	 */
	linked_list_t *links;

	/**
	 * Lock for links
	 */
	rwlock_t *lock;
};

METHOD(plugin_t, get_name, char*,
	private_qkd_plugin_t *this)
{
	return "qkd";
}

/**
 * (Re-)load the links from charon.plugins.qkd.links, replacing the
 * current ones. Invalid links are logged and skipped.
 */
static void load_links(private_qkd_plugin_t *this)
{
	enumerator_t *enumerator;
	linked_list_t *links;
	qkd_link_t *link;
	char *name;

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

	this->lock->write_lock(this->lock);
	this->links->destroy_offset(this->links, offsetof(qkd_link_t, destroy));
	this->links = links;
	this->lock->unlock(this->lock);

	DBG1(DBG_CFG, "qkd: %d link%s configured", links->get_count(links),
		 links->get_count(links) == 1 ? "" : "s");
}

/**
 * Register or unregister the plugin's functionality
 */
static bool plugin_cb(private_qkd_plugin_t *this,
					  plugin_feature_t *feature, bool reg, void *cb_data)
{
	if (reg)
	{
		load_links(this);
	}
	return TRUE;
}

METHOD(plugin_t, get_features, int,
	private_qkd_plugin_t *this, plugin_feature_t *features[])
{
	static plugin_feature_t f[] = {
		PLUGIN_CALLBACK((plugin_feature_callback_t)plugin_cb, NULL),
			PLUGIN_PROVIDE(CUSTOM, "qkd"),
	};
	*features = f;
	return countof(f);
}

METHOD(plugin_t, reload, bool,
	private_qkd_plugin_t *this)
{
	load_links(this);
	return TRUE;
}

METHOD(plugin_t, destroy, void,
	private_qkd_plugin_t *this)
{
	this->links->destroy_offset(this->links, offsetof(qkd_link_t, destroy));
	this->lock->destroy(this->lock);
	free(this);
}

/**
 * Plugin constructor
 */
plugin_t *qkd_plugin_create()
{
	private_qkd_plugin_t *this;

	INIT(this,
		.public = {
			.plugin = {
				.get_name = _get_name,
				.get_features = _get_features,
				.reload = _reload,
				.destroy = _destroy,
			},
		},
		.links = linked_list_create(),
		.lock = rwlock_create(RWLOCK_TYPE_DEFAULT),
	);

	return &this->public.plugin;
}
