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

#include "qkd_vici_control.h"

#include <utils/debug.h>
#include <vici_builder.h>

typedef struct private_qkd_vici_control_t private_qkd_vici_control_t;

/**
 * Private data of a qkd_vici_control_t object.
 */
struct private_qkd_vici_control_t {

	/**
	 * Public interface.
	 */
	qkd_vici_control_t public;

	/**
	 * Dispatcher
	 */
	vici_dispatcher_t *dispatcher;

	/**
	 * Links
	 */
	qkd_links_t *links;
};

/**
 * An action on a link's parts, returns an error or NULL (and may add keys
 * to the reply)
 */
typedef char *(*link_action_t)(vici_builder_t *b, qkd_link_t *link,
						  qkd_pool_t *pool, qkd_refill_t *refill,
						  qkd_doh_peer_t *doh);

/**
 * Run an action on the link the request names, and reply
 */
static vici_message_t *act(private_qkd_vici_control_t *this, char *command,
						   vici_message_t *request, link_action_t action)
{
	enumerator_t *enumerator;
	qkd_link_t *link;
	qkd_pool_t *pool;
	qkd_refill_t *refill;
	qkd_doh_peer_t *doh;
	vici_builder_t *b;
	char *name, *error = "missing link", buf[128];

	b = vici_builder_create();
	name = request->get_str(request, NULL, "link");
	if (name)
	{
		snprintf(buf, sizeof(buf), "unknown link '%s'", name);
		error = buf;
		enumerator = this->links->create_enumerator(this->links);
		while (enumerator->enumerate(enumerator, &link, &pool, &refill, &doh))
		{
			if (streq(name, link->get_name(link)))
			{
				error = action(b, link, pool, refill, doh);
				break;
			}
		}
		enumerator->destroy(enumerator);
	}
	if (error)
	{
		DBG1(DBG_CFG, "qkd control socket: %s %s failed: %s", command,
			 name ?: "", error);
	}
	else
	{
		DBG1(DBG_CFG, "qkd control socket: %s %s", command, name);
	}
	b->add_kv(b, "success", error ? "no" : "yes");
	if (error)
	{
		b->add_kv(b, "errmsg", "%s", error);
	}
	return b->finalize(b);
}

/**
 * Send a sync to the DOH peer
 */
static char *resync_link(vici_builder_t *b, qkd_link_t *link, qkd_pool_t *pool,
						 qkd_refill_t *refill, qkd_doh_peer_t *doh)
{
	if (!doh)
	{
		return "link runs no DOH";
	}
	doh->resync(doh);
	return NULL;
}

/**
 * Fill the pool from the KME now
 */
static char *refill_link(vici_builder_t *b, qkd_link_t *link, qkd_pool_t *pool,
						 qkd_refill_t *refill, qkd_doh_peer_t *doh)
{
	if (!refill)
	{
		return "link has no pool";
	}
	if (!refill->refill_now(refill))
	{
		return "the pool gets its keys from the DOH peer";
	}
	return NULL;
}

/**
 * Expire every Idle key of the pool
 */
static char *drain_link(vici_builder_t *b, qkd_link_t *link, qkd_pool_t *pool,
						qkd_refill_t *refill, qkd_doh_peer_t *doh)
{
	if (!pool)
	{
		return "link has no pool";
	}
	b->add_kv(b, "expired", "%u", pool->expire(pool, 0));
	return NULL;
}

/**
 * Actions on a link, by command name
 */
static struct {
	char *command;
	link_action_t action;
} actions[] = {
	{ "resync", resync_link },
	{ "refill", refill_link },
	{ "drain", drain_link },
};

CALLBACK(link_command, vici_message_t*,
	private_qkd_vici_control_t *this, char *name, u_int id,
	vici_message_t *request)
{
	int i;

	for (i = 0; i < countof(actions) - 1; i++)
	{
		if (streq(name, actions[i].command))
		{
			break;
		}
	}
	return act(this, name, request, actions[i].action);
}

CALLBACK(reload_links, vici_message_t*,
	private_qkd_vici_control_t *this, char *name, u_int id,
	vici_message_t *request)
{
	vici_builder_t *b;
	u_int count;

	DBG1(DBG_CFG, "qkd control socket: reloading the links");
	/* as swanctl --reload-settings does, the settings first */
	if (lib->conf && !lib->settings->load_files(lib->settings, lib->conf, FALSE))
	{
		DBG1(DBG_CFG, "qkd control socket: reloading '%s' failed, the "
			 "links stay", lib->conf);
		b = vici_builder_create();
		b->add_kv(b, "success", "no");
		b->add_kv(b, "errmsg", "reloading %s failed", lib->conf);
		return b->finalize(b);
	}
	count = this->links->load(this->links);
	b = vici_builder_create();
	b->add_kv(b, "success", "yes");
	b->add_kv(b, "links", "%u", count);
	return b->finalize(b);
}

/**
 * (Un-)register the commands
 */
static void manage_commands(private_qkd_vici_control_t *this, bool reg)
{
	int i;

	for (i = 0; i < countof(actions); i++)
	{
		this->dispatcher->manage_command(this->dispatcher, actions[i].command,
										 reg ? link_command : NULL, this);
	}
	this->dispatcher->manage_command(this->dispatcher, "reload-links",
									 reg ? reload_links : NULL, this);
}

METHOD(qkd_vici_control_t, destroy, void,
	private_qkd_vici_control_t *this)
{
	manage_commands(this, FALSE);
	free(this);
}

/*
 * Described in header
 */
qkd_vici_control_t *qkd_vici_control_create(vici_dispatcher_t *dispatcher,
											qkd_links_t *links)
{
	private_qkd_vici_control_t *this;

	INIT(this,
		.public = {
			.destroy = _destroy,
		},
		.dispatcher = dispatcher,
		.links = links,
	);
	manage_commands(this, TRUE);
	return &this->public;
}
