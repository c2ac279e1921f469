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

#include "qkd_vici_query.h"

#include <ctype.h>
#include <time.h>

#include <vici_builder.h>

typedef struct private_qkd_vici_query_t private_qkd_vici_query_t;

/**
 * Private data of a qkd_vici_query_t object.
 */
struct private_qkd_vici_query_t {

	/**
	 * Public interface.
	 */
	qkd_vici_query_t public;

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
 * Lists one item of a link: adds its keys to the builder, returns FALSE if
 * the link has no such item
 */
typedef bool (*list_item_t)(private_qkd_vici_query_t *this, vici_builder_t *b,
							qkd_link_t *link, qkd_pool_t *pool,
							qkd_doh_peer_t *doh);

/**
 * Reply to a listing
 */
static vici_message_t *reply(u_int count, char *error)
{
	vici_builder_t *b;

	b = vici_builder_create();
	b->add_kv(b, "success", error ? "no" : "yes");
	if (error)
	{
		b->add_kv(b, "errmsg", "%s", error);
	}
	else
	{
		b->add_kv(b, "count", "%u", count);
	}
	return b->finalize(b);
}

/**
 * Reply to a listing naming a link that is not configured
 */
static vici_message_t *unknown_link(char *name)
{
	char error[128];

	snprintf(error, sizeof(error), "unknown link '%s'", name);
	return reply(0, error);
}

/**
 * Stream an event per link with an item (or the one link the request
 * names), then reply
 */
static vici_message_t *list(private_qkd_vici_query_t *this, u_int id,
							vici_message_t *request, char *event,
							list_item_t item)
{
	enumerator_t *enumerator;
	qkd_link_t *link;
	qkd_pool_t *pool;
	qkd_doh_peer_t *doh;
	vici_builder_t *b;
	char *name;
	u_int count = 0;
	bool found = FALSE;

	name = request->get_str(request, NULL, "link");
	enumerator = this->links->create_enumerator(this->links);
	while (enumerator->enumerate(enumerator, &link, &pool, NULL, &doh))
	{
		if (name && !streq(name, link->get_name(link)))
		{
			continue;
		}
		found = TRUE;
		b = vici_builder_create();
		b->begin_section(b, link->get_name(link));
		if (item(this, b, link, pool, doh))
		{
			b->end_section(b);
			this->dispatcher->raise_event(this->dispatcher, event, id,
										  b->finalize(b));
			count++;
		}
		else
		{
			b->destroy(b);
		}
	}
	enumerator->destroy(enumerator);
	if (name && !found)
	{
		return unknown_link(name);
	}
	return reply(count, NULL);
}

/**
 * Add an age in seconds of a Unix time, if set
 */
static void add_age(vici_builder_t *b, char *key, time_t when, time_t now)
{
	if (when)
	{
		b->add_kv(b, key, "%ld", (long)(now > when ? now - when : 0));
	}
}

/**
 * Add a remote_addrs entry as configured: an address, a subnet or a range
 */
static void add_remote_addr(vici_builder_t *b, traffic_selector_t *ts)
{
	host_t *net, *from, *to;
	uint8_t mask;

	if (ts->to_subnet(ts, &net, &mask))
	{
		if (mask == (net->get_family(net) == AF_INET ? 32 : 128))
		{
			b->add_li(b, "%H", net);
		}
		else if (mask == 0)
		{
			b->add_li(b, "%%any%s", net->get_family(net) == AF_INET ? "4"
																	: "6");
		}
		else
		{
			b->add_li(b, "%H/%u", net, mask);
		}
		net->destroy(net);
		return;
	}
	DESTROY_IF(net);
	from = host_create_from_chunk(AF_UNSPEC, ts->get_from_address(ts), 0);
	to = host_create_from_chunk(AF_UNSPEC, ts->get_to_address(ts), 0);
	if (from && to)
	{
		b->add_li(b, "%H-%H", from, to);
	}
	DESTROY_IF(from);
	DESTROY_IF(to);
}

/**
 * A link's configuration
 */
static bool list_link(private_qkd_vici_query_t *this, vici_builder_t *b,
					  qkd_link_t *link, qkd_pool_t *pool, qkd_doh_peer_t *doh)
{
	qkd_doh_settings_t *settings;
	traffic_selector_t *ts;
	enumerator_t *enumerator;
	char *connection;

	b->add_kv(b, "kme", "%s", link->get_kme(link));
	b->add_kv(b, "sae-id", "%s", link->get_sae_id(link));
	b->add_kv(b, "peer-sae-id", "%s", link->get_peer_sae_id(link));
	b->add_kv(b, "key-size", "%u", link->get_key_size(link));
	b->begin_list(b, "connections");
	enumerator = link->create_connection_enumerator(link);
	while (enumerator->enumerate(enumerator, &connection))
	{
		b->add_li(b, "%s", connection);
	}
	enumerator->destroy(enumerator);
	b->end_list(b);
	b->begin_list(b, "remote-addrs");
	enumerator = link->create_remote_addrs_enumerator(link);
	while (enumerator->enumerate(enumerator, &ts))
	{
		add_remote_addr(b, ts);
	}
	enumerator->destroy(enumerator);
	b->end_list(b);
	b->add_kv(b, "pool", pool ? "yes" : "no");
	settings = link->get_doh(link);
	b->add_kv(b, "doh", doh ? "yes" : "no");
	if (doh && settings)
	{
		b->add_kv(b, "doh-role", settings->announcer ? "announcer"
													 : "follower");
		b->add_kv(b, "doh-local", "%H", settings->local);
		b->add_kv(b, "doh-peer", "%H", settings->peer);
	}
	return TRUE;
}

/**
 * A link's pool
 */
static bool list_pool(private_qkd_vici_query_t *this, vici_builder_t *b,
					  qkd_link_t *link, qkd_pool_t *pool, qkd_doh_peer_t *doh)
{
	qkd_pool_stats_t stats;
	u_int capacity, low, wait, lifetime;
	time_t now = time(NULL);

	if (!pool)
	{
		return FALSE;
	}
	link->get_pool_settings(link, &capacity, &low, &wait, &lifetime);
	pool->get_stats(pool, &stats);
	b->add_kv(b, "capacity", "%u", capacity);
	b->add_kv(b, "low", "%u", low);
	b->add_kv(b, "idle", "%u", stats.count[QKD_KEY_IDLE]);
	b->add_kv(b, "pending", "%u", stats.count[QKD_KEY_PENDING]);
	b->add_kv(b, "reserved", "%u", stats.reserved);
	b->add_kv(b, "active", "%u", stats.count[QKD_KEY_ACTIVE]);
	b->add_kv(b, "expired", "%u", stats.count[QKD_KEY_EXPIRED]);
	b->add_kv(b, "loaded", "%u", stats.loaded);
	b->add_kv(b, "stored", "%u", stats.stored);
	b->add_kv(b, "dropped", "%u", stats.dropped);
	add_age(b, "oldest-idle-age", stats.oldest_idle, now);
	if (stats.last_refill)
	{
		b->add_kv(b, "last-refill-time", "%ld", (long)stats.last_refill);
		add_age(b, "last-refill-age", stats.last_refill, now);
	}
	if (stats.last_error[0])
	{
		b->add_kv(b, "last-error", "%s", stats.last_error);
	}
	return TRUE;
}

/**
 * DOH with a link's peer
 */
static bool list_doh_peer(private_qkd_vici_query_t *this, vici_builder_t *b,
						  qkd_link_t *link, qkd_pool_t *pool,
						  qkd_doh_peer_t *doh)
{
	qkd_doh_peer_info_t info;
	int i;

	if (!doh)
	{
		return FALSE;
	}
	doh->get_info(doh, &info);
	b->add_kv(b, "peer", "%H", info.peer);
	b->add_kv(b, "state", "%s", info.state);
	b->add_kv(b, "key-generation", "%u", info.generation);
	b->add_kv(b, "bound-own", "%u", info.bound_own);
	b->add_kv(b, "bound-peer", "%u", info.bound_peer);
	b->begin_section(b, "counters");
	for (i = 0; i < QKD_DOH_PEER_COUNTERS; i++)
	{
		b->add_kv(b, info.counters[i].name, "%u", info.counters[i].value);
	}
	b->end_section(b);
	return TRUE;
}

/**
 * How calls to a link's KME went
 */
static bool list_kme(private_qkd_vici_query_t *this, vici_builder_t *b,
					 qkd_link_t *link, qkd_pool_t *pool, qkd_doh_peer_t *doh)
{
	qkd_kme_client_t *client;
	qkd_kme_health_t health = {};
	time_t now = time_monotonic(NULL);

	client = link->get_client(link);
	if (client)
	{
		client->get_health(client, &health);
	}
	b->add_kv(b, "kme", "%s", link->get_kme(link));
	b->add_kv(b, "state", !health.calls ? "unused" :
						  health.failing ? "failing" : "ok");
	b->add_kv(b, "calls", "%u", health.calls);
	b->add_kv(b, "errors", "%u", health.errors);
	if (health.calls)
	{
		b->add_kv(b, "last-call", "%s", health.last_call);
		add_age(b, "last-call-age", health.last_call_time, now);
		b->add_kv(b, "last-latency-ms", "%u", health.last_latency_ms);
	}
	if (health.errors)
	{
		b->add_kv(b, "last-error", "%N", qkd_kme_result_names,
				  health.last_error);
		add_age(b, "last-error-age", health.last_error_time, now);
	}
	return TRUE;
}

/**
 * Listings of one item per link: command, event streamed, item
 */
static struct {
	char *command;
	char *event;
	list_item_t item;
} per_link[] = {
	{ "list-links", "list-link", list_link },
	{ "list-pools", "list-pool", list_pool },
	{ "list-doh", "list-doh-peer", list_doh_peer },
	{ "list-kmes", "list-kme", list_kme },
};

CALLBACK(list_per_link, vici_message_t*,
	private_qkd_vici_query_t *this, char *name, u_int id,
	vici_message_t *request)
{
	int i;

	for (i = 0; i < countof(per_link) - 1; i++)
	{
		if (streq(name, per_link[i].command))
		{
			break;
		}
	}
	return list(this, id, request, per_link[i].event, per_link[i].item);
}

/**
 * Find a link's pool and DOH peer by name, FALSE if there is no such link
 */
static bool find_link(private_qkd_vici_query_t *this, char *name,
					  qkd_pool_t **pool, qkd_doh_peer_t **doh)
{
	enumerator_t *enumerator;
	qkd_link_t *link;
	bool found = FALSE;

	enumerator = this->links->create_enumerator(this->links);
	while (!found && enumerator->enumerate(enumerator, &link, pool, NULL, doh))
	{
		found = streq(name, link->get_name(link));
	}
	enumerator->destroy(enumerator);
	return found;
}

CALLBACK(list_ikeless, vici_message_t*,
	private_qkd_vici_query_t *this, char *name, u_int id,
	vici_message_t *request)
{
	enumerator_t *enumerator;
	qkd_doh_direct_info_t info;
	qkd_link_t *link;
	qkd_doh_peer_t *doh;
	vici_builder_t *b;
	array_t *children;
	char *only, uuid[QKD_KEY_ID_STRLEN + 1];
	u_int count = 0;
	int i;

	only = request->get_str(request, NULL, "link");
	if (only && !find_link(this, only, NULL, NULL))
	{
		return unknown_link(only);
	}
	enumerator = this->links->create_enumerator(this->links);
	while (enumerator->enumerate(enumerator, &link, NULL, NULL, &doh))
	{
		if (!doh || (only && !streq(only, link->get_name(link))))
		{
			continue;
		}
		children = doh->list_ikeless(doh);
		for (i = 0; i < array_count(children); i++)
		{
			array_get(children, i, &info);
			b = vici_builder_create();
			b->begin_section(b, info.name);
			b->add_kv(b, "link", "%s", link->get_name(link));
			b->add_kv(b, "state", "%s", info.state);
			if (info.installed)
			{
				qkd_key_id_format(info.id, uuid);
				b->add_kv(b, "spi-in", "%.8x", info.spi_in);
				b->add_kv(b, "spi-out", "%.8x", info.spi_out);
				b->add_kv(b, "keyid", "%s", uuid);
				b->add_kv(b, "age", "%llu", (unsigned long long)info.age);
				b->add_kv(b, "bytes-in", "%llu",
						  (unsigned long long)info.bytes_in);
				b->add_kv(b, "bytes-out", "%llu",
						  (unsigned long long)info.bytes_out);
			}
			b->add_kv(b, "pairs", "%u", info.pairs);
			b->end_section(b);
			this->dispatcher->raise_event(this->dispatcher, "list-ikeless-sa",
										  id, b->finalize(b));
			count++;
		}
		array_destroy(children);
	}
	enumerator->destroy(enumerator);
	return reply(count, NULL);
}

/**
 * Parse a key status name, -1 if invalid
 */
static int parse_status(char *name)
{
	qkd_key_status_t status;

	for (status = QKD_KEY_IDLE; status <= QKD_KEY_EXPIRED; status++)
	{
		if (strcaseeq(name, enum_to_name(qkd_key_status_names, status)))
		{
			return status;
		}
	}
	return -1;
}

CALLBACK(list_keys, vici_message_t*,
	private_qkd_vici_query_t *this, char *name, u_int id,
	vici_message_t *request)
{
	qkd_pool_key_info_t info;
	qkd_pool_t *pool;
	vici_builder_t *b;
	array_t *keys;
	char *link, *status_name, error[128], uuid[QKD_KEY_ID_STRLEN + 1];
	char status[16];
	u_int statuses = 0x0f, count;
	time_t now = time(NULL);
	int limit, status_value, i, j;

	link = request->get_str(request, NULL, "link");
	status_name = request->get_str(request, NULL, "status");
	limit = request->get_int(request, 0, "limit");
	if (!link)
	{
		return reply(0, "missing link");
	}
	if (status_name)
	{
		status_value = parse_status(status_name);
		if (status_value < 0)
		{
			snprintf(error, sizeof(error), "invalid status '%s', expected "
					 "idle, pending, active or expired", status_name);
			return reply(0, error);
		}
		statuses = 1 << status_value;
	}
	if (limit < 0)
	{
		return reply(0, "invalid limit");
	}
	if (!find_link(this, link, &pool, NULL))
	{
		return unknown_link(link);
	}
	if (!pool)
	{
		snprintf(error, sizeof(error), "link '%s' has no pool", link);
		return reply(0, error);
	}
	/* a copy of the metadata: the pool is not locked while streaming */
	keys = pool->list_keys(pool, statuses, limit);
	count = array_count(keys);
	for (i = 0; i < count; i++)
	{
		array_get(keys, i, &info);
		qkd_key_id_format(info.id, uuid);
		snprintf(status, sizeof(status), "%N", qkd_key_status_names,
				 info.status);
		for (j = 0; status[j]; j++)
		{
			status[j] = tolower(status[j]);
		}
		b = vici_builder_create();
		b->add_kv(b, "link", "%s", link);
		b->add_kv(b, "index", "%u", info.index);
		b->add_kv(b, "keyid", "%s", uuid);
		b->add_kv(b, "status", "%s", status);
		b->add_kv(b, "age", "%ld",
				  (long)(now > info.created ? now - info.created : 0));
		this->dispatcher->raise_event(this->dispatcher, "list-key", id,
									  b->finalize(b));
	}
	array_destroy(keys);
	return reply(count, NULL);
}

/**
 * (Un-)register the commands and events
 */
static void manage_commands(private_qkd_vici_query_t *this, bool reg)
{
	int i;

	for (i = 0; i < countof(per_link); i++)
	{
		this->dispatcher->manage_event(this->dispatcher, per_link[i].event,
									   reg);
		this->dispatcher->manage_command(this->dispatcher, per_link[i].command,
										 reg ? list_per_link : NULL, this);
	}
	this->dispatcher->manage_event(this->dispatcher, "list-key", reg);
	this->dispatcher->manage_command(this->dispatcher, "list-keys",
									 reg ? list_keys : NULL, this);
	this->dispatcher->manage_event(this->dispatcher, "list-ikeless-sa", reg);
	this->dispatcher->manage_command(this->dispatcher, "list-ikeless",
									 reg ? list_ikeless : NULL, this);
}

METHOD(qkd_vici_query_t, destroy, void,
	private_qkd_vici_query_t *this)
{
	manage_commands(this, FALSE);
	free(this);
}

/*
 * Described in header
 */
qkd_vici_query_t *qkd_vici_query_create(vici_dispatcher_t *dispatcher,
										qkd_links_t *links)
{
	private_qkd_vici_query_t *this;

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
