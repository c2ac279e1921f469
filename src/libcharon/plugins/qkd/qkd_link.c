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

#include "qkd_link.h"

#include <errno.h>
#include <unistd.h>

#include <utils/debug.h>
#include <collections/linked_list.h>
#include <selectors/traffic_selector.h>
#include <threading/mutex.h>

/**
 * Default size of requested keys, in bits
 */
#define QKD_DEFAULT_KEY_SIZE 256

/**
 * Largest key size accepted in the configuration, in bits
 */
#define QKD_MAX_KEY_SIZE 8192

/**
 * Default smallest size of keys the peer chose, in bits: a shorter key adds
 * too little to the security of a key exchange
 */
#define QKD_DEFAULT_MIN_PEER_KEY_SIZE 128

/**
 * Default timeouts of KME calls, in seconds
 */
#define QKD_DEFAULT_TIMEOUT 5.0
#define QKD_DEFAULT_CONNECT_TIMEOUT 2.0

/**
 * Default rate of KME fetches unauthenticated peers may trigger, per second
 */
#define QKD_DEFAULT_UNAUTH_RATE 10

/**
 * Default pool settings: capacity, low watermark, wait (s), lifetime (s)
 */
#define QKD_DEFAULT_POOL_CAPACITY 1024
#define QKD_DEFAULT_POOL_LOW 64
#define QKD_DEFAULT_POOL_WAIT 2.0
#define QKD_DEFAULT_KEY_LIFETIME 86400

/**
 * Default DOH settings: window (s), sync interval (s), first retransmission
 * (s), keys per Key Offset, keys negotiated ahead per end
 */
#define QKD_DEFAULT_DOH_WINDOW 30
#define QKD_DEFAULT_DOH_SYNC_INTERVAL 10.0
#define QKD_DEFAULT_DOH_RETRANSMIT 0.5
#define QKD_DEFAULT_DOH_KEYS_PER_OFFSET 1012
#define QKD_DEFAULT_DOH_BOUND 2

/**
 * Most keys a DOH end may keep negotiated ahead
 */
#define QKD_MAX_DOH_BOUND 4096

typedef struct private_qkd_link_t private_qkd_link_t;

/**
 * Private data of a qkd_link_t object.
 */
struct private_qkd_link_t {

	/**
	 * Public interface.
	 */
	qkd_link_t public;

	/**
	 * Link (section) name
	 */
	char *name;

	/**
	 * KME base URL
	 */
	char *kme;

	/**
	 * Own SAE ID
	 */
	char *sae_id;

	/**
	 * Peer SAE ID
	 */
	char *peer_sae_id;

	/**
	 * TLS client certificate file
	 */
	char *cert;

	/**
	 * TLS client key file
	 */
	char *key;

	/**
	 * CA certificate file verifying the KME
	 */
	char *cacert;

	/**
	 * Key size in bits
	 */
	u_int key_size;

	/**
	 * Smallest and largest size of keys the peer chose, in bits
	 */
	u_int min_peer_key_size, max_peer_key_size;

	/**
	 * Connection names served by this link, as char*
	 */
	linked_list_t *connections;

	/**
	 * Peer addresses served by this link, as host_t*
	 */
	linked_list_t *remote_addrs;

	/**
	 * Timeout of a KME call, ms
	 */
	u_int timeout;

	/**
	 * Connect timeout of a KME call, ms
	 */
	u_int connect_timeout;

	/**
	 * KME fetches per second unauthenticated peers may trigger
	 */
	u_int unauth_rate;

	/**
	 * Tokens left in the unauthenticated fetch bucket
	 */
	double tokens;

	/**
	 * Last refill of the bucket
	 */
	timeval_t refilled;

	/**
	 * Pool capacity, low watermark, wait (ms), key lifetime (s)
	 */
	u_int pool_capacity, pool_low, pool_wait, key_lifetime;

	/**
	 * Whether DOH is enabled, and its settings
	 */
	bool doh_enabled;
	qkd_doh_settings_t doh;

	/**
	 * IKE-less children, qkd_direct_cfg_t*
	 */
	linked_list_t *children;

	/**
	 * KME client, created on first use
	 */
	qkd_kme_client_t *client;

	/**
	 * Protects client and the token bucket
	 */
	mutex_t *mutex;

	/**
	 * Reference count
	 */
	refcount_t ref;
};

METHOD(qkd_link_t, get_name, char*,
	private_qkd_link_t *this)
{
	return this->name;
}

METHOD(qkd_link_t, get_kme, char*,
	private_qkd_link_t *this)
{
	return this->kme;
}

METHOD(qkd_link_t, get_sae_id, char*,
	private_qkd_link_t *this)
{
	return this->sae_id;
}

METHOD(qkd_link_t, get_peer_sae_id, char*,
	private_qkd_link_t *this)
{
	return this->peer_sae_id;
}

METHOD(qkd_link_t, get_key_size, u_int,
	private_qkd_link_t *this)
{
	return this->key_size;
}

METHOD(qkd_link_t, get_peer_key_sizes, void,
	private_qkd_link_t *this, u_int *min, u_int *max)
{
	*min = this->min_peer_key_size;
	*max = this->max_peer_key_size;
}

METHOD(qkd_link_t, get_pool_settings, void,
	private_qkd_link_t *this, u_int *capacity, u_int *low, u_int *wait,
	u_int *lifetime)
{
	*capacity = this->pool_capacity;
	*low = this->pool_low;
	*wait = this->pool_wait;
	*lifetime = this->key_lifetime;
}

METHOD(qkd_link_t, get_doh, qkd_doh_settings_t*,
	private_qkd_link_t *this)
{
	return this->doh_enabled ? &this->doh : NULL;
}

METHOD(qkd_link_t, get_client, qkd_kme_client_t*,
	private_qkd_link_t *this)
{
	qkd_kme_client_cfg_t cfg = {
		.link = this->name,
		.url = this->kme,
		.peer_sae_id = this->peer_sae_id,
		.cert = this->cert,
		.key = this->key,
		.cacert = this->cacert,
		.timeout = this->timeout,
		.connect_timeout = this->connect_timeout,
	};
	qkd_kme_client_t *client;

	this->mutex->lock(this->mutex);
	if (!this->client)
	{
		this->client = qkd_kme_client_create(&cfg);
	}
	client = this->client;
	this->mutex->unlock(this->mutex);
	return client;
}

METHOD(qkd_link_t, get_key, qkd_key_t*,
	private_qkd_link_t *this, uint8_t *id, qkd_kme_result_t *result)
{
	uint8_t ids[1][QKD_KEY_ID_LEN];
	qkd_kme_client_t *client;
	qkd_key_t *key = NULL;
	array_t *keys;

	client = get_client(this);
	if (!client)
	{
		*result = QKD_KME_TRANSPORT_ERROR;
		return NULL;
	}
	if (id)
	{
		memcpy(ids[0], id, QKD_KEY_ID_LEN);
		*result = client->get_keys_by_id(client, ids, 1,
										 this->min_peer_key_size,
										 this->max_peer_key_size, &keys);
	}
	else
	{
		*result = client->get_keys(client, 1, this->key_size, &keys);
	}
	if (*result == QKD_KME_OK)
	{
		array_remove(keys, ARRAY_HEAD, &key);
		qkd_key_array_destroy(keys);
	}
	return key;
}

METHOD(qkd_link_t, allow_unauthenticated, bool,
	private_qkd_link_t *this)
{
	timeval_t now, diff;
	bool allowed = FALSE;

	this->mutex->lock(this->mutex);
	time_monotonic(&now);
	timersub(&now, &this->refilled, &diff);
	this->refilled = now;
	this->tokens = min(this->unauth_rate, this->tokens + this->unauth_rate *
					   (diff.tv_sec + diff.tv_usec / 1000000.0));
	if (this->tokens >= 1.0)
	{
		this->tokens -= 1.0;
		allowed = TRUE;
	}
	this->mutex->unlock(this->mutex);
	return allowed;
}

/**
 * Match quality of a peer address against one remote_addrs entry, as
 * charon's ike_cfg rates them: 129 for the address itself, the prefix
 * length + 1 for a subnet, 1 for a range or %any, 0 if not included
 */
static int address_quality(traffic_selector_t *ts, host_t *peer)
{
	host_t *net;
	uint8_t mask;
	int quality = 1;

	if (!ts->includes(ts, peer))
	{
		return 0;
	}
	if (ts->is_host(ts, peer))
	{
		return 129;
	}
	if (ts->to_subnet(ts, &net, &mask))
	{
		quality = mask + 1;
	}
	net->destroy(net);
	return quality;
}

METHOD(qkd_link_t, matches, int,
	private_qkd_link_t *this, char *name, host_t *peer)
{
	enumerator_t *enumerator;
	traffic_selector_t *ts;
	int quality = 0;

	if (name && this->connections->find_first(this->connections,
								linked_list_match_str, NULL, name))
	{
		return QKD_LINK_MATCH_NAME;
	}
	if (peer)
	{
		enumerator = this->remote_addrs->create_enumerator(this->remote_addrs);
		while (enumerator->enumerate(enumerator, &ts))
		{
			quality = max(quality, address_quality(ts, peer));
		}
		enumerator->destroy(enumerator);
	}
	return quality;
}

METHOD(qkd_link_t, create_child_enumerator, enumerator_t*,
	private_qkd_link_t *this)
{
	return this->children->create_enumerator(this->children);
}

METHOD(qkd_link_t, create_connection_enumerator, enumerator_t*,
	private_qkd_link_t *this)
{
	return this->connections->create_enumerator(this->connections);
}

METHOD(qkd_link_t, create_remote_addrs_enumerator, enumerator_t*,
	private_qkd_link_t *this)
{
	return this->remote_addrs->create_enumerator(this->remote_addrs);
}

METHOD(qkd_link_t, get_ref, qkd_link_t*,
	private_qkd_link_t *this)
{
	ref_get(&this->ref);
	return &this->public;
}

METHOD(qkd_link_t, destroy, void,
	private_qkd_link_t *this)
{
	if (!ref_put(&this->ref))
	{
		return;
	}
	DESTROY_IF(this->client);
	this->mutex->destroy(this->mutex);
	this->connections->destroy_function(this->connections, free);
	this->remote_addrs->destroy_offset(this->remote_addrs,
									   offsetof(traffic_selector_t, destroy));
	DESTROY_IF(this->doh.local);
	DESTROY_IF(this->doh.peer);
	this->children->destroy_function(this->children,
									 (void*)qkd_direct_cfg_destroy);
	free(this->name);
	free(this->kme);
	free(this->sae_id);
	free(this->peer_sae_id);
	free(this->cert);
	free(this->key);
	free(this->cacert);
	free(this);
}

/**
 * Read a string option of a link section, strdup()ed
 */
static char *get_str(char *name, char *option)
{
	return strdupnull(lib->settings->get_str(lib->settings,
						"%s.plugins.qkd.links.%s.%s", NULL, lib->ns, name,
						option));
}

/**
 * Split a comma separated option into a list of strings
 */
static linked_list_t *get_list(char *name, char *option)
{
	enumerator_t *enumerator;
	linked_list_t *list;
	char *value, *item;

	list = linked_list_create();
	value = lib->settings->get_str(lib->settings,
						"%s.plugins.qkd.links.%s.%s", NULL, lib->ns, name,
						option);
	if (value)
	{
		enumerator = enumerator_create_token(value, ",", " ");
		while (enumerator->enumerate(enumerator, &item))
		{
			list->insert_last(list, strdup(item));
		}
		enumerator->destroy(enumerator);
	}
	return list;
}

/**
 * Read a time in seconds as ms, UINT_MAX if not between min ms and one hour
 */
static u_int get_ms(char *name, char *option, double def, u_int min)
{
	double value;

	value = lib->settings->get_double(lib->settings,
						"%s.plugins.qkd.links.%s.%s", def, lib->ns, name,
						option);
	if (value * 1000 < min || value > 3600)
	{
		return UINT_MAX;
	}
	return value * 1000;
}

/**
 * Check that a mandatory option is set, log if not
 */
static bool check_set(char *name, char *option, char *value)
{
	if (!value || !*value)
	{
		DBG1(DBG_CFG, "qkd link '%s': option '%s' missing", name, option);
		return FALSE;
	}
	return TRUE;
}

/**
 * Check that a configured file is readable, log if not
 */
static bool check_file(char *name, char *option, char *path)
{
	if (access(path, R_OK) != 0)
	{
		DBG1(DBG_CFG, "qkd link '%s': %s '%s' not readable: %s", name, option,
			 path, strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/**
 * Parse an IPv6 address option of the DOH settings, log if invalid
 */
static host_t *get_doh_host(char *name, char *option)
{
	host_t *host;
	char *value;

	value = lib->settings->get_str(lib->settings,
						"%s.plugins.qkd.links.%s.%s", NULL, lib->ns, name,
						option);
	if (!value)
	{
		DBG1(DBG_CFG, "qkd link '%s': option '%s' missing (doh = yes)", name,
			 option);
		return NULL;
	}
	host = host_create_from_string(value, 0);
	if (!host || host->get_family(host) != AF_INET6 || host->is_anyaddr(host))
	{
		DBG1(DBG_CFG, "qkd link '%s': %s '%s' is no IPv6 unicast address",
			 name, option, value);
		DESTROY_IF(host);
		return NULL;
	}
	return host;
}

/**
 * Load the IKE-less children of a link (they need DOH)
 */
static bool load_children(private_qkd_link_t *this)
{
	enumerator_t *enumerator;
	qkd_direct_cfg_t *cfg;
	char *name;
	bool ok = TRUE;

	enumerator = lib->settings->create_section_enumerator(lib->settings,
							"%s.plugins.qkd.links.%s.children", lib->ns,
							this->name);
	while (ok && enumerator->enumerate(enumerator, &name))
	{
		if (!this->doh_enabled)
		{
			DBG1(DBG_CFG, "qkd link '%s': IKE-less children need doh = yes",
				 this->name);
			ok = FALSE;
			break;
		}
		cfg = qkd_direct_cfg_create_from_settings(this->name, name,
												  this->doh.local,
												  this->doh.peer);
		if (!cfg)
		{
			ok = FALSE;
			break;
		}
		this->children->insert_last(this->children, cfg);
	}
	enumerator->destroy(enumerator);
	return ok;
}

/**
 * Read and validate the DOH settings of a link
 */
static bool validate_doh(private_qkd_link_t *this)
{
	qkd_doh_settings_t *doh = &this->doh;

	this->doh_enabled = lib->settings->get_bool(lib->settings,
						"%s.plugins.qkd.links.%s.doh", FALSE, lib->ns,
						this->name);
	if (!this->doh_enabled)
	{
		return TRUE;
	}
	doh->local = get_doh_host(this->name, "doh_local");
	doh->peer = get_doh_host(this->name, "doh_peer");
	if (!doh->local || !doh->peer)
	{
		return FALSE;
	}
	if (doh->local->ip_equals(doh->local, doh->peer))
	{
		DBG1(DBG_CFG, "qkd link '%s': doh_local and doh_peer are the same "
			 "address", this->name);
		return FALSE;
	}
	doh->announcer = chunk_compare(doh->local->get_address(doh->local),
								   doh->peer->get_address(doh->peer)) < 0;
	doh->window = lib->settings->get_time(lib->settings,
						"%s.plugins.qkd.links.%s.doh_window",
						QKD_DEFAULT_DOH_WINDOW, lib->ns, this->name);
	doh->sync_interval = get_ms(this->name, "doh_sync_interval",
								QKD_DEFAULT_DOH_SYNC_INTERVAL, 100);
	doh->retransmit = get_ms(this->name, "doh_retransmit",
							 QKD_DEFAULT_DOH_RETRANSMIT, 10);
	doh->keys_per_offset = lib->settings->get_int(lib->settings,
						"%s.plugins.qkd.links.%s.doh_keys_per_offset",
						QKD_DEFAULT_DOH_KEYS_PER_OFFSET, lib->ns, this->name);
	doh->bound = lib->settings->get_int(lib->settings,
						"%s.plugins.qkd.links.%s.doh_bound",
						QKD_DEFAULT_DOH_BOUND, lib->ns, this->name);
	if (!doh->window || doh->window > 3600 ||
		doh->sync_interval == UINT_MAX || doh->retransmit == UINT_MAX ||
		!doh->keys_per_offset || doh->keys_per_offset > 1012 ||
		(int)doh->bound < 1 || doh->bound > QKD_MAX_DOH_BOUND)
	{
		DBG1(DBG_CFG, "qkd link '%s': doh_window must be 1-3600 s, "
			 "doh_sync_interval 0.1-3600 s, doh_retransmit 0.01-3600 s, "
			 "doh_keys_per_offset 1-1012, doh_bound 1-%d", this->name,
			 QKD_MAX_DOH_BOUND);
		return FALSE;
	}
	return TRUE;
}

/**
 * Add a remote_addrs entry: an address, a subnet, a range or %any (also
 * %any4, %any6), as in swanctl.conf's remote_addrs
 */
static bool parse_remote_addr(private_qkd_link_t *this, char *addr)
{
	traffic_selector_t *ts = NULL;
	host_t *from, *to;

	if (streq(addr, "%any") || streq(addr, "%any4"))
	{
		this->remote_addrs->insert_last(this->remote_addrs,
					traffic_selector_create_from_cidr("0.0.0.0/0", 0, 0, 0));
	}
	if (streq(addr, "%any") || streq(addr, "%any6"))
	{
		this->remote_addrs->insert_last(this->remote_addrs,
					traffic_selector_create_from_cidr("::/0", 0, 0, 0));
	}
	if (strpfx(addr, "%any"))
	{
		return streq(addr, "%any") || streq(addr, "%any4") ||
			   streq(addr, "%any6");
	}
	if (strchr(addr, '-') && host_create_from_range(addr, &from, &to))
	{
		if (memcmp(from->get_address(from).ptr, to->get_address(to).ptr,
				   from->get_address(from).len) <= 0)
		{
			ts = traffic_selector_create_from_bytes(0,
					to->get_family(to) == AF_INET ? TS_IPV4_ADDR_RANGE
												  : TS_IPV6_ADDR_RANGE,
					from->get_address(from), 0, to->get_address(to), 0);
		}
		from->destroy(from);
		to->destroy(to);
	}
	else if (!strchr(addr, '-'))
	{	/* a subnet, or a single address */
		ts = traffic_selector_create_from_cidr(addr, 0, 0, 0);
		if (ts && strchr(addr, '/') &&
			atoi(strchr(addr, '/') + 1) > (ts->get_type(ts) ==
											TS_IPV4_ADDR_RANGE ? 32 : 128))
		{
			ts->destroy(ts);
			ts = NULL;
		}
	}
	if (ts)
	{
		this->remote_addrs->insert_last(this->remote_addrs, ts);
	}
	return ts != NULL;
}

/**
 * Validate the loaded configuration and parse the peer addresses
 */
static bool validate(private_qkd_link_t *this)
{
	linked_list_t *addrs;
	char *addr;
	bool ok = TRUE;

	if (!check_set(this->name, "kme", this->kme) ||
		!check_set(this->name, "sae_id", this->sae_id) ||
		!check_set(this->name, "peer_sae_id", this->peer_sae_id) ||
		!check_set(this->name, "cert", this->cert) ||
		!check_set(this->name, "key", this->key) ||
		!check_set(this->name, "cacert", this->cacert))
	{
		return FALSE;
	}
	if (!strpfx(this->kme, "https://"))
	{
		DBG1(DBG_CFG, "qkd link '%s': kme '%s' is not an https:// URL",
			 this->name, this->kme);
		return FALSE;
	}
	if (!this->key_size || this->key_size > QKD_MAX_KEY_SIZE ||
		this->key_size % 8)
	{
		DBG1(DBG_CFG, "qkd link '%s': key_size %d is not a multiple of 8 "
			 "bits between 8 and %d", this->name, (int)this->key_size,
			 QKD_MAX_KEY_SIZE);
		return FALSE;
	}
	if (!this->min_peer_key_size || this->min_peer_key_size % 8 ||
		this->max_peer_key_size % 8 ||
		this->max_peer_key_size > QKD_MAX_KEY_SIZE ||
		this->min_peer_key_size > this->max_peer_key_size)
	{
		DBG1(DBG_CFG, "qkd link '%s': min_peer_key_size %d and "
			 "max_peer_key_size %d are not multiples of 8 bits with 8 <= min "
			 "<= max <= %d", this->name, (int)this->min_peer_key_size,
			 (int)this->max_peer_key_size, QKD_MAX_KEY_SIZE);
		return FALSE;
	}
	if (this->min_peer_key_size < QKD_DEFAULT_MIN_PEER_KEY_SIZE)
	{
		DBG1(DBG_CFG, "qkd link '%s': accepting keys of %u bits from the "
			 "peer, which add little security", this->name,
			 this->min_peer_key_size);
	}
	if ((int)this->pool_capacity <= 0 || (int)this->pool_low < 0 ||
		this->pool_low > this->pool_capacity ||
		this->pool_wait == UINT_MAX || !this->key_lifetime)
	{
		DBG1(DBG_CFG, "qkd link '%s': pool_capacity must be positive, "
			 "pool_low between 0 and pool_capacity, pool_wait between 0 "
			 "and 3600, key_lifetime positive", this->name);
		return FALSE;
	}
	if ((int)this->unauth_rate < 0)
	{
		DBG1(DBG_CFG, "qkd link '%s': unauth_rate must not be negative",
			 this->name);
		return FALSE;
	}
	if (this->timeout == UINT_MAX || this->connect_timeout == UINT_MAX)
	{
		DBG1(DBG_CFG, "qkd link '%s': timeouts must be between 0.001 and "
			 "3600 seconds", this->name);
		return FALSE;
	}
	if (!check_file(this->name, "cert", this->cert) ||
		!check_file(this->name, "key", this->key) ||
		!check_file(this->name, "cacert", this->cacert))
	{
		return FALSE;
	}
	if (!validate_doh(this) || !load_children(this))
	{
		return FALSE;
	}
	addrs = get_list(this->name, "remote_addrs");
	while (addrs->remove_first(addrs, (void**)&addr) == SUCCESS)
	{
		if (!parse_remote_addr(this, addr))
		{
			DBG1(DBG_CFG, "qkd link '%s': invalid remote address '%s' (an "
				 "address, subnet, range or %%any)", this->name, addr);
			ok = FALSE;
		}
		free(addr);
	}
	addrs->destroy(addrs);
	return ok;
}

/*
 * Described in header
 */
qkd_link_t *qkd_link_create_from_settings(char *name)
{
	private_qkd_link_t *this;

	INIT(this,
		.public = {
			.get_name = _get_name,
			.get_kme = _get_kme,
			.get_sae_id = _get_sae_id,
			.get_peer_sae_id = _get_peer_sae_id,
			.get_key_size = _get_key_size,
			.get_peer_key_sizes = _get_peer_key_sizes,
			.get_pool_settings = _get_pool_settings,
			.get_key = _get_key,
			.get_doh = _get_doh,
			.get_client = _get_client,
			.allow_unauthenticated = _allow_unauthenticated,
			.matches = _matches,
			.create_connection_enumerator = _create_connection_enumerator,
			.create_remote_addrs_enumerator = _create_remote_addrs_enumerator,
			.create_child_enumerator = _create_child_enumerator,
			.get_ref = _get_ref,
			.destroy = _destroy,
		},
		.name = strdup(name),
		.kme = get_str(name, "kme"),
		.sae_id = get_str(name, "sae_id"),
		.peer_sae_id = get_str(name, "peer_sae_id"),
		.cert = get_str(name, "cert"),
		.key = get_str(name, "key"),
		.cacert = get_str(name, "cacert"),
		.key_size = lib->settings->get_int(lib->settings,
						"%s.plugins.qkd.links.%s.key_size",
						QKD_DEFAULT_KEY_SIZE, lib->ns, name),
		.min_peer_key_size = lib->settings->get_int(lib->settings,
						"%s.plugins.qkd.links.%s.min_peer_key_size",
						QKD_DEFAULT_MIN_PEER_KEY_SIZE, lib->ns, name),
		.max_peer_key_size = lib->settings->get_int(lib->settings,
						"%s.plugins.qkd.links.%s.max_peer_key_size",
						QKD_MAX_KEY_SIZE, lib->ns, name),
		.connections = get_list(name, "connections"),
		.remote_addrs = linked_list_create(),
		.children = linked_list_create(),
		.timeout = get_ms(name, "timeout", QKD_DEFAULT_TIMEOUT, 1),
		.connect_timeout = get_ms(name, "connect_timeout",
								  QKD_DEFAULT_CONNECT_TIMEOUT, 1),
		.unauth_rate = lib->settings->get_int(lib->settings,
						"%s.plugins.qkd.links.%s.unauth_rate",
						QKD_DEFAULT_UNAUTH_RATE, lib->ns, name),
		.pool_capacity = lib->settings->get_int(lib->settings,
						"%s.plugins.qkd.links.%s.pool_capacity",
						QKD_DEFAULT_POOL_CAPACITY, lib->ns, name),
		.pool_low = lib->settings->get_int(lib->settings,
						"%s.plugins.qkd.links.%s.pool_low",
						QKD_DEFAULT_POOL_LOW, lib->ns, name),
		.pool_wait = get_ms(name, "pool_wait", QKD_DEFAULT_POOL_WAIT, 0),
		.key_lifetime = lib->settings->get_time(lib->settings,
						"%s.plugins.qkd.links.%s.key_lifetime",
						QKD_DEFAULT_KEY_LIFETIME, lib->ns, name),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.ref = 1,
	);
	this->tokens = this->unauth_rate;
	time_monotonic(&this->refilled);

	if (!validate(this))
	{
		destroy(this);
		return NULL;
	}
	return &this->public;
}
