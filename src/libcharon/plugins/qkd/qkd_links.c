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
#include "qkd_link_check.h"
#include "qkd_refill.h"

#include <daemon.h>
#include <collections/linked_list.h>
#include "qkd_doh.h"

#include <collections/hashtable.h>
#include <threading/rwlock.h>

/**
 * Default location of the pool database and its storage key
 */
#define DEFAULT_POOL_DATABASE "sqlite:///var/lib/strongswan/qkd-pool.db"
#define DEFAULT_POOL_KEYFILE "/var/lib/strongswan/qkd-pool.key"

/**
 * Default longest time new keys stay unsynced to disk, in seconds
 */
#define DEFAULT_POOL_SYNC_INTERVAL 0.1

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
	 * Installs the SAs of IKE-less children, for the DOH peers
	 */
	qkd_direct_kernel_t *kernel;

	/**
	 * The first link listing a connection name, by name (char* -> the
	 * qkd_link_t* in links)
	 */
	hashtable_t *by_connection;

	/**
	 * Lock for links and by_connection
	 */
	rwlock_t *lock;

	/**
	 * Persistent pool store, NULL if pools are disabled
	 */
	qkd_pool_store_t *store;

	/**
	 * Whether opening the store was tried
	 */
	bool store_tried;

	/**
	 * Pools and their refill jobs by link name, as pool_entry_t
	 */
	hashtable_t *pools;

	/**
	 * DOH engine, created with the first link running DOH
	 */
	qkd_doh_t *doh;

	/**
	 * Checks the links selected before authentication, on charon's bus
	 */
	qkd_link_check_t *check;
};

/**
 * Open the pool store on first use (crypto and database plugins are
 * available from then on)
 */
static void open_store(private_qkd_links_t *this)
{
	double interval;

	if (this->store_tried)
	{
		return;
	}
	this->store_tried = TRUE;
	if (!lib->settings->get_bool(lib->settings, "%s.plugins.qkd.pool.enable",
								 TRUE, lib->ns))
	{
		return;
	}
	interval = lib->settings->get_double(lib->settings,
						"%s.plugins.qkd.pool.sync_interval",
						DEFAULT_POOL_SYNC_INTERVAL, lib->ns);
	if (interval < 0 || interval > 60)
	{
		DBG1(DBG_CFG, "qkd pool: sync_interval %.3f out of range 0-60, "
			 "using %.1f", interval, DEFAULT_POOL_SYNC_INTERVAL);
		interval = DEFAULT_POOL_SYNC_INTERVAL;
	}
	this->store = qkd_pool_store_create(
				lib->settings->get_str(lib->settings,
						"%s.plugins.qkd.pool.database", DEFAULT_POOL_DATABASE,
						lib->ns),
				lib->settings->get_str(lib->settings,
						"%s.plugins.qkd.pool.keyfile", DEFAULT_POOL_KEYFILE,
						lib->ns),
				interval * 1000);
	if (!this->store)
	{
		DBG1(DBG_CFG, "qkd: key pools disabled, keys are fetched from the KME "
			 "during key exchanges");
	}
}

/**
 * The pool of a link name, kept across reloads
 */
typedef struct {
	/** link name */
	char *name;
	/** the pool */
	qkd_pool_t *pool;
	/** its refill job, NULL while the link is not configured */
	qkd_refill_t *refill;
	/** DOH with the link's peer, NULL if not configured */
	qkd_doh_peer_t *doh;
	/** DOH peers no longer driven (key exchanges may still use them) */
	linked_list_t *retired;
} pool_entry_t;

/**
 * Stop DOH of a pool entry (the state stays until shutdown)
 */
static void retire_doh(private_qkd_links_t *this, pool_entry_t *entry)
{
	if (entry->doh)
	{
		this->doh->remove(this->doh, entry->doh);
		entry->retired->insert_last(entry->retired, entry->doh);
		entry->doh = NULL;
	}
}

/**
 * IPsec bypass policies for the DOH sockets, as for charon's IKE sockets
 */
static bool bypass_ipsec(int fd, int family)
{
	return charon->kernel->bypass_socket(charon->kernel, fd, family);
}

/**
 * Give a loaded link DOH with its peer, if configured
 */
static void attach_doh(private_qkd_links_t *this, pool_entry_t *entry,
					   qkd_link_t *link)
{
	qkd_doh_settings_t *settings = link->get_doh(link);

	if (entry->doh && (!settings ||
		!entry->doh->matches(entry->doh, settings->local, settings->peer)))
	{
		retire_doh(this, entry);
	}
	if (!settings)
	{
		return;
	}
	if (entry->doh)
	{
		entry->doh->set_link(entry->doh, link);
	}
	else
	{
		if (!this->doh)
		{
			this->doh = qkd_doh_create(bypass_ipsec, this->kernel);
		}
		entry->doh = this->doh->add(this->doh, link, entry->pool);
	}
}

/**
 * Format the DOH state of a pool entry for the refill job's status file
 */
static bool format_doh_status(void *data, char *buf, size_t len)
{
	qkd_doh_peer_t *doh = data;

	return doh->format_status(doh, buf, len);
}

/**
 * Give a loaded link its pool, creating pool and refill job if needed
 */
static void attach_pool(private_qkd_links_t *this, qkd_link_t *link)
{
	pool_entry_t *entry;
	u_int capacity, low, wait, lifetime;

	link->get_pool_settings(link, &capacity, &low, &wait, &lifetime);
	entry = this->pools->get(this->pools, link->get_name(link));
	if (!entry)
	{
		INIT(entry,
			.name = strdup(link->get_name(link)),
			.pool = qkd_pool_create(this->store, link->get_name(link),
									capacity),
			.retired = linked_list_create(),
		);
		this->pools->put(this->pools, entry->name, entry);
	}
	/* a reload may change the capacity; used key IDs are remembered for as
	 * long as a key may be kept */
	entry->pool->set_capacity(entry->pool, capacity);
	entry->pool->set_remember(entry->pool, lifetime);
	entry->pool->set_reserve(entry->pool, lib->settings->get_int(lib->settings,
						"%s.plugins.qkd.pool.reserve", QKD_POOL_DEFAULT_RESERVE,
						lib->ns));
	attach_doh(this, entry, link);
	if (entry->refill)
	{
		entry->refill->set_link(entry->refill, link);
	}
	else
	{
		entry->refill = qkd_refill_create(link, entry->pool);
	}
	entry->refill->set_status_cb(entry->refill,
								 entry->doh ? format_doh_status : NULL,
								 entry->doh);
}

/**
 * Check whether a list of links has one with the given name
 */
static bool has_link(linked_list_t *links, char *name)
{
	enumerator_t *enumerator;
	qkd_link_t *link;
	bool found = FALSE;

	enumerator = links->create_enumerator(links);
	while (!found && enumerator->enumerate(enumerator, &link))
	{
		found = streq(link->get_name(link), name);
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * Stop refilling pools of links that are gone (the pools stay, key
 * exchanges may still use them)
 */
static void detach_pools(private_qkd_links_t *this, linked_list_t *links)
{
	enumerator_t *enumerator;
	pool_entry_t *entry;

	enumerator = this->pools->create_enumerator(this->pools);
	while (enumerator->enumerate(enumerator, NULL, &entry))
	{
		if (entry->refill && !has_link(links, entry->name))
		{
			entry->refill->destroy(entry->refill);
			entry->refill = NULL;
			retire_doh(this, entry);
		}
	}
	enumerator->destroy(enumerator);
}

/**
 * Index links by the connection names they list, the first link listing a
 * name wins
 */
static hashtable_t *index_connections(linked_list_t *links)
{
	enumerator_t *enumerator, *names;
	hashtable_t *by_connection;
	qkd_link_t *link;
	char *name;

	by_connection = hashtable_create(hashtable_hash_str, hashtable_equals_str,
									 8);
	enumerator = links->create_enumerator(links);
	while (enumerator->enumerate(enumerator, &link))
	{
		names = link->create_connection_enumerator(link);
		while (names->enumerate(names, &name))
		{
			if (!by_connection->get(by_connection, name))
			{
				by_connection->put(by_connection, name, link);
			}
		}
		names->destroy(names);
	}
	enumerator->destroy(enumerator);
	return by_connection;
}

METHOD(qkd_links_t, load, u_int,
	private_qkd_links_t *this)
{
	enumerator_t *enumerator;
	hashtable_t *by_connection;
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
			open_store(this);
			if (!this->store && link->get_doh(link))
			{
				DBG1(DBG_CFG, "qkd link '%s': DOH needs the key pool, not "
					 "started", name);
			}
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
	by_connection = index_connections(links);

	/* key exchanges look up pools and DOH peers meanwhile */
	this->lock->write_lock(this->lock);
	if (this->store)
	{
		enumerator = links->create_enumerator(links);
		while (enumerator->enumerate(enumerator, &link))
		{
			attach_pool(this, link);
		}
		enumerator->destroy(enumerator);
		detach_pools(this, links);
	}
	this->links->destroy_offset(this->links, offsetof(qkd_link_t, destroy));
	this->links = links;
	this->by_connection->destroy(this->by_connection);
	this->by_connection = by_connection;
	this->lock->unlock(this->lock);

	DBG1(DBG_CFG, "qkd: %u link%s configured", count, count == 1 ? "" : "s");
	return count;
}

/**
 * Select the link of an IKE SA: the link listing its connection name, else
 * the link whose remote_addrs include the peer's address most specifically
 * (the first of equals). Call with the lock held.
 */
static qkd_link_t *select_link(private_qkd_links_t *this, ike_sa_t *ike_sa)
{
	enumerator_t *enumerator;
	qkd_link_t *link, *best;
	int quality, best_quality = 0;

	/* by connection name without walking hundreds of links */
	best = this->by_connection->get(this->by_connection,
									ike_sa->get_name(ike_sa));
	enumerator = this->links->create_enumerator(this->links);
	while (!best && enumerator->enumerate(enumerator, &link))
	{
		quality = link->matches(link, NULL, ike_sa->get_other_host(ike_sa));
		if (quality > best_quality)
		{
			best = link;
			best_quality = quality;
		}
	}
	enumerator->destroy(enumerator);
	return best;
}

METHOD(qkd_links_t, create_key_source, qkd_key_source_t*,
	private_qkd_links_t *this, ike_sa_t *ike_sa)
{
	qkd_key_source_t *source = NULL;
	pool_entry_t *entry = NULL;
	qkd_link_t *best;

	this->lock->read_lock(this->lock);
	best = select_link(this, ike_sa);
	if (best)
	{
		if (this->store)
		{
			entry = this->pools->get(this->pools, best->get_name(best));
		}
		source = qkd_key_source_create(best, entry ? entry->pool : NULL,
									   entry ? entry->doh : NULL);
		this->check->note(this->check, ike_sa, best);
	}
	this->lock->unlock(this->lock);
	return source;
}

/**
 * Select the link of an authenticated IKE SA for the check
 */
static char *select_for_check(private_qkd_links_t *this, ike_sa_t *ike_sa)
{
	qkd_link_t *link;
	char *name = NULL;

	this->lock->read_lock(this->lock);
	link = select_link(this, ike_sa);
	if (link)
	{
		name = strdup(link->get_name(link));
	}
	this->lock->unlock(this->lock);
	return name;
}

/**
 * Enumerator over the links, with the lock held
 */
typedef struct {
	/** implements enumerator_t */
	enumerator_t public;
	/** the links */
	private_qkd_links_t *links;
	/** enumerator over the links */
	enumerator_t *inner;
} link_enumerator_t;

METHOD(enumerator_t, enumerate_links, bool,
	link_enumerator_t *this, va_list args)
{
	qkd_link_t *link, **link_out;
	qkd_pool_t **pool;
	qkd_refill_t **refill;
	qkd_doh_peer_t **doh;
	pool_entry_t *entry = NULL;

	VA_ARGS_VGET(args, link_out, pool, refill, doh);
	if (!this->inner->enumerate(this->inner, &link))
	{
		return FALSE;
	}
	if (this->links->store)
	{
		entry = this->links->pools->get(this->links->pools,
										link->get_name(link));
	}
	*link_out = link;
	if (pool)
	{
		*pool = entry ? entry->pool : NULL;
	}
	if (refill)
	{
		*refill = entry ? entry->refill : NULL;
	}
	if (doh)
	{
		*doh = entry ? entry->doh : NULL;
	}
	return TRUE;
}

METHOD(enumerator_t, destroy_link_enumerator, void,
	link_enumerator_t *this)
{
	this->inner->destroy(this->inner);
	this->links->lock->unlock(this->links->lock);
	free(this);
}

METHOD(qkd_links_t, create_enumerator, enumerator_t*,
	private_qkd_links_t *this)
{
	link_enumerator_t *enumerator;

	INIT(enumerator,
		.public = {
			.enumerate = enumerator_enumerate_default,
			.venumerate = _enumerate_links,
			.destroy = _destroy_link_enumerator,
		},
		.links = this,
	);
	this->lock->read_lock(this->lock);
	enumerator->inner = this->links->create_enumerator(this->links);
	return &enumerator->public;
}

CALLBACK(destroy_entry, void,
	pool_entry_t *entry, const void *key)
{
	DESTROY_IF(entry->refill);
	/* the engine destroyed the peers it drove */
	entry->retired->destroy_offset(entry->retired,
								   offsetof(qkd_doh_peer_t, destroy));
	entry->pool->destroy(entry->pool);
	free(entry->name);
	free(entry);
}

METHOD(qkd_links_t, destroy, void,
	private_qkd_links_t *this)
{
	enumerator_t *enumerator;
	pool_entry_t *entry;

	if (charon && charon->bus)
	{
		charon->bus->remove_listener(charon->bus, &this->check->listener);
	}
	this->check->destroy(this->check);
	/* refill jobs announce to DOH peers: stop them first */
	enumerator = this->pools->create_enumerator(this->pools);
	while (enumerator->enumerate(enumerator, NULL, &entry))
	{
		DESTROY_IF(entry->refill);
		entry->refill = NULL;
	}
	enumerator->destroy(enumerator);
	/* stops the DOH job and destroys the peers it drives */
	DESTROY_IF(this->doh);
	this->pools->destroy_function(this->pools, destroy_entry);
	DESTROY_IF(this->store);
	this->links->destroy_offset(this->links, offsetof(qkd_link_t, destroy));
	this->by_connection->destroy(this->by_connection);
	/* after the DOH peers, retired ones included */
	this->kernel->destroy(this->kernel);
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
			.create_key_source = _create_key_source,
			.create_enumerator = _create_enumerator,
			.destroy = _destroy,
		},
		.links = linked_list_create(),
		.by_connection = hashtable_create(hashtable_hash_str,
										  hashtable_equals_str, 8),
		.lock = rwlock_create(RWLOCK_TYPE_DEFAULT),
		.pools = hashtable_create(hashtable_hash_str, hashtable_equals_str, 4),
		.kernel = qkd_direct_kernel_create(),
	);
	this->check = qkd_link_check_create((void*)select_for_check, this);
	if (charon && charon->bus)
	{
		charon->bus->add_listener(charon->bus, &this->check->listener);
	}
	return &this->public;
}
