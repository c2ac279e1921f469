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


#include "mpss_engine.h"
#include "mpss_config.h"

#include <qkd_mpss_socket.h>
#include <qkd_mpss_msg.h>

#include <processing/jobs/callback_job.h>
#include <threading/mutex.h>

typedef struct private_mpss_engine_t private_mpss_engine_t;

/**
 * Interval of the engine's tick, ms
 */
#define TICK_MS 100

/**
 * Private data of an mpss_engine_t object.
 */
struct private_mpss_engine_t {

	/**
	 * Public interface.
	 */
	mpss_engine_t public;

	/**
	 * The node's share handling, its collector and hop keys
	 */
	qkd_mpss_node_t *node;
	qkd_mpss_collector_t *collector;
	qkd_mpss_kme_keys_t *keys;

	/**
	 * Rebuilt keys
	 */
	mpss_keystore_t *keystore;

	/**
	 * Destinations, mpss_destination_t*
	 */
	linked_list_t *destinations;

	/**
	 * Raw sockets for share packets
	 */
	qkd_mpss_socket_t *socket;

	/**
	 * RNG for the secrets, and one for their KEYIDs
	 */
	rng_t *rng, *weak;

	/**
	 * Counters last logged, and when
	 */
	qkd_mpss_node_counters_t logged;
	time_t logged_at;

	/**
	 * Serializes the node, its collector and hop keys
	 */
	mutex_t *mutex;
};

/**
 * Seconds between two logs of the counters, if they changed
 */
#define COUNTERS_LOG_INTERVAL 5

/**
 * Monotonic time, ms
 */
static uint64_t now_ms()
{
	timeval_t now;

	time_monotonic(&now);
	return (uint64_t)now.tv_sec * 1000 + now.tv_usec / 1000;
}

/**
 * A packet came in: relay or collect its share
 */
static void receive_packet(private_mpss_engine_t *this, chunk_t packet)
{
	this->mutex->lock(this->mutex);
	if (this->node->receive(this->node, packet, now_ms()) ==
			QKD_MPSS_FORWARD)
	{
		this->socket->send(this->socket, packet);
	}
	this->mutex->unlock(this->mutex);
}

/**
 * Log the node's counters if they changed and the last log is old enough
 */
static void log_counters(private_mpss_engine_t *this)
{
	qkd_mpss_node_counters_t c;
	time_t now = time_monotonic(NULL);

	this->node->get_counters(this->node, &c);
	if (now < this->logged_at + COUNTERS_LOG_INTERVAL ||
		memeq(&c, &this->logged, sizeof(c)))
	{
		return;
	}
	this->logged = c;
	this->logged_at = now;
	DBG1(DBG_LIB, "qkd-mpss: secrets sent %u (%u shares), shares relayed %u,"
		 " collected %u; dropped: malformed %u, not for this node %u, hop "
		 "key unknown or used %u, bad MAC %u, no next hop key %u",
		 c.secrets_sent, c.shares_sent, c.relayed, c.collected, c.malformed,
		 c.not_ours, c.hop_key, c.bad_mac, c.next_key);
}

/**
 * Rebuild or give up secrets whose wait is over, wipe old keys
 */
static job_requeue_t tick(private_mpss_engine_t *this)
{
	this->mutex->lock(this->mutex);
	this->collector->tick(this->collector, now_ms());
	log_counters(this);
	this->mutex->unlock(this->mutex);
	this->keystore->expire(this->keystore);
	return JOB_RESCHEDULE_MS(TICK_MS);
}

/**
 * Find a destination by the SAE ID of its gateway
 */
static mpss_destination_t *find_destination(private_mpss_engine_t *this,
											char *sae_id)
{
	enumerator_t *enumerator;
	mpss_destination_t *dest, *found = NULL;

	enumerator = this->destinations->create_enumerator(this->destinations);
	while (!found && enumerator->enumerate(enumerator, &dest))
	{
		if (streq(dest->sae_id, sae_id))
		{
			found = dest;
		}
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * Make a secret and its KEYID (a random UUID), send its shares; returns
 * the key, NULL on failure
 */
static qkd_key_t *send_secret(private_mpss_engine_t *this,
							  mpss_destination_t *dest, size_t len)
{
	uint8_t id[QKD_KEY_ID_LEN];
	chunk_t secret, packets[QKD_SHAMIR_MAX_SHARES];
	char uuid[QKD_KEY_ID_STRLEN + 1];
	u_int i, sent = 0;

	if (!this->weak->get_bytes(this->weak, sizeof(id), id) ||
		!this->rng->allocate_bytes(this->rng, len, &secret))
	{
		DBG1(DBG_LIB, "qkd-mpss: no random bytes for a secret");
		return NULL;
	}
	id[6] = (id[6] & 0x0f) | 0x40;
	id[8] = (id[8] & 0x3f) | 0x80;
	if (!this->node->send(this->node, id, secret, dest->k, dest->paths,
						  dest->count, packets))
	{
		chunk_clear(&secret);
		return NULL;
	}
	for (i = 0; i < dest->count; i++)
	{
		sent += this->socket->send(this->socket, packets[i]);
		chunk_free(&packets[i]);
	}
	qkd_key_id_format(id, uuid);
	if (sent < dest->k)
	{
		DBG1(DBG_LIB, "qkd-mpss: only %u of %u shares of secret %s to '%s' "
			 "sent, %u needed", sent, dest->count, uuid, dest->name,
			 dest->k);
		chunk_clear(&secret);
		return NULL;
	}
	DBG1(DBG_LIB, "qkd-mpss: secret %s to '%s' sent as %u shares, %u needed",
		 uuid, dest->name, sent, dest->k);
	return qkd_key_create(id, secret);
}

METHOD(mpss_engine_t, send_, mpss_send_t,
	private_mpss_engine_t *this, char *sae_id, u_int count, u_int bits,
	array_t **keys)
{
	mpss_destination_t *dest;
	qkd_key_t *key;
	u_int i;

	dest = find_destination(this, sae_id);
	if (!dest)
	{
		return MPSS_SEND_UNKNOWN;
	}
	if (!bits || bits % 8 || bits / 8 > QKD_MPSS_MAX_SHARE)
	{
		return MPSS_SEND_SIZE;
	}
	*keys = array_create(0, count);
	this->mutex->lock(this->mutex);
	for (i = 0; i < count; i++)
	{
		key = send_secret(this, dest, bits / 8);
		if (!key)
		{
			break;
		}
		array_insert(*keys, ARRAY_TAIL, key);
	}
	this->mutex->unlock(this->mutex);
	if (i < count)
	{
		qkd_key_array_destroy(*keys);
		*keys = NULL;
		return MPSS_SEND_FAILED;
	}
	return MPSS_SEND_OK;
}

METHOD(mpss_engine_t, has_destination, bool,
	private_mpss_engine_t *this, char *sae_id)
{
	return find_destination(this, sae_id) != NULL;
}

METHOD(mpss_engine_t, get_keystore, mpss_keystore_t*,
	private_mpss_engine_t *this)
{
	return this->keystore;
}

METHOD(mpss_engine_t, destroy, void,
	private_mpss_engine_t *this)
{
	DESTROY_IF(this->socket);
	DESTROY_IF(this->node);
	DESTROY_IF(this->collector);
	DESTROY_IF(this->keystore);
	DESTROY_IF(this->keys);
	DESTROY_IF(this->rng);
	DESTROY_IF(this->weak);
	this->destinations->destroy_function(this->destinations,
										 (void*)mpss_destination_destroy);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
mpss_engine_t *mpss_engine_create(char *ns)
{
	private_mpss_engine_t *this;
	host_t *address;
	char *str;

	str = lib->settings->get_str(lib->settings, "%s.address", NULL, ns);
	address = str ? host_create_from_string(str, 0) : NULL;
	if (!address || address->get_family(address) != AF_INET6)
	{
		DBG1(DBG_CFG, "qkd-mpss: %s.address must be this node's IPv6 "
			 "address, not '%s'", ns, str ?: "");
		DESTROY_IF(address);
		return NULL;
	}
	INIT(this,
		.public = {
			.send = _send_,
			.has_destination = _has_destination,
			.get_keystore = _get_keystore,
			.destroy = _destroy,
		},
		.destinations = linked_list_create(),
		.keystore = mpss_keystore_create(
				lib->settings->get_time(lib->settings, "%s.key_lifetime", 86400,
										ns),
				lib->settings->get_int(lib->settings, "%s.max_keys", 65536,
									   ns)),
		.rng = lib->crypto->create_rng(lib->crypto, RNG_TRUE),
		.weak = lib->crypto->create_rng(lib->crypto, RNG_WEAK),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	this->collector = qkd_mpss_collector_create(&this->keystore->listener,
				lib->settings->get_time(lib->settings, "%s.share_wait", 2,
										ns) * 1000,
				lib->settings->get_int(lib->settings, "%s.max_pending", 1024,
									   ns));
	this->keys = mpss_config_hop_keys(ns);
	if (this->keys && this->rng && this->weak &&
		mpss_config_destinations(ns, this->destinations))
	{
		this->node = qkd_mpss_node_create(address, &this->keys->keys,
										  this->collector);
		if (this->node)
		{
			this->node->alter_shares(this->node,
					lib->settings->get_bool(lib->settings,
									"%s.testing.alter_shares", FALSE, ns));
		}
	}
	if (this->node)
	{
		this->socket = qkd_mpss_socket_create((void*)receive_packet, this);
	}
	if (!this->socket)
	{
		DBG1(DBG_CFG, "qkd-mpss: setting up node %H failed", address);
		address->destroy(address);
		destroy(this);
		return NULL;
	}
	DBG1(DBG_CFG, "qkd-mpss: node %H relays shares%s%s", address,
		 this->destinations->get_count(this->destinations) ?
		 ", sends secrets" : "", ", rebuilds secrets sent to it");
	address->destroy(address);
	lib->scheduler->schedule_job_ms(lib->scheduler,
			(job_t*)callback_job_create((callback_job_cb_t)tick, this, NULL,
										NULL), TICK_MS);
	return &this->public;
}
