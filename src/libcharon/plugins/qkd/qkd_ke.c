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

#include "qkd_ke.h"

#include "qkd_doh_peer.h"

#include <daemon.h>

ENUM_EXT(qkd_ke_method_names, QKD_KE_METHOD, QKD_KE_METHOD,
	"QKD");

ENUM_EXT(qkd_ke_method_names_short, QKD_KE_METHOD, QKD_KE_METHOD,
	"qkd");

/*
 * Described in header
 */
void qkd_ke_register_names(bool reg)
{
	if (reg)
	{
		enum_add_enum_names(key_exchange_method_names, qkd_ke_method_names);
		enum_add_enum_names(key_exchange_method_names_short,
							qkd_ke_method_names_short);
	}
	else
	{
		enum_remove_enum_names(key_exchange_method_names, qkd_ke_method_names);
		enum_remove_enum_names(key_exchange_method_names_short,
							   qkd_ke_method_names_short);
	}
}

/**
 * Links to select from
 */
static qkd_links_t *links;

/**
 * Key ID a master sends when it has no key (the nil UUID, which no KME
 * gives a key): the peer refuses the key exchange
 */
static const uint8_t no_key_id[QKD_KEY_ID_LEN];

typedef struct private_qkd_ke_t private_qkd_ke_t;

/**
 * Role of this end for the key of one key exchange
 */
typedef enum {
	/** not decided yet */
	ROLE_NONE,
	/** sends the key ID first, got the key with enc_keys */
	ROLE_MASTER,
	/** receives the key ID, gets the key with dec_keys */
	ROLE_SLAVE,
} role_t;

/**
 * Private data of a qkd key exchange.
 */
struct private_qkd_ke_t {

	/**
	 * Public interface.
	 */
	key_exchange_t public;

	/**
	 * Link keying the IKE SA
	 */
	qkd_link_t *link;

	/**
	 * Name and unique ID of the IKE SA, for logging
	 */
	char *sa_name;
	u_int sa_id;

	/**
	 * Whether the peer was authenticated when this exchange was created
	 */
	bool authenticated;

	/**
	 * Our role for this key
	 */
	role_t role;

	/**
	 * The key, once fetched
	 */
	qkd_key_t *key;

	/**
	 * The link's pool, NULL if keys are fetched one by one
	 */
	qkd_pool_t *pool;

	/**
	 * DOH with the link's peer, NULL if the link does not run DOH
	 */
	qkd_doh_peer_t *doh;

	/**
	 * Whether the exchange is complete (the peer's KE data was processed)
	 */
	bool complete;
};

/**
 * Log a key ID with the IKE SA
 */
static void log_key(private_qkd_ke_t *this, char *what)
{
	char uuid[QKD_KEY_ID_STRLEN + 1];

	qkd_key_id_format(this->key->id, uuid);
	DBG1(DBG_IKE, "qkd: %s key %s from link '%s' for %s[%u]", what, uuid,
		 this->link->get_name(this->link), this->sa_name, this->sa_id);
}

/**
 * Check the rate limit for fetches unauthenticated peers trigger
 */
static bool rate_limit_ok(private_qkd_ke_t *this)
{
	if (this->authenticated ||
		this->link->allow_unauthenticated(this->link))
	{
		return TRUE;
	}
	DBG1(DBG_IKE, "qkd: KME fetch for unauthenticated %s[%u] refused: rate "
		 "limit of link '%s' exceeded", this->sa_name, this->sa_id,
		 this->link->get_name(this->link));
	return FALSE;
}

/**
 * Get a new key as master: from the pool, or directly from the KME
 */
static bool fetch_as_master(private_qkd_ke_t *this)
{
	qkd_kme_client_t *client;
	qkd_kme_result_t result;
	array_t *keys;
	u_int capacity, low, wait, lifetime;

	if (this->doh)
	{	/* a key negotiated with the peer beforehand, no KME call */
		this->link->get_pool_settings(this->link, &capacity, &low, &wait,
									  &lifetime);
		this->key = this->doh->take_bound(this->doh, wait);
		if (!this->key)
		{
			DBG1(DBG_IKE, "qkd: no key negotiated over DOH with the peer of "
				 "link '%s' for %s[%u] (waited %u ms)",
				 this->link->get_name(this->link), this->sa_name, this->sa_id,
				 wait);
			return FALSE;
		}
		log_key(this, "took DOH-bound");
		return TRUE;
	}
	if (this->pool)
	{
		this->link->get_pool_settings(this->link, &capacity, &low, &wait,
									  &lifetime);
		this->key = this->pool->take(this->pool, wait);
		if (!this->key)
		{
			DBG1(DBG_IKE, "qkd: no Idle key in the pool of link '%s' for "
				 "%s[%u] (waited %u ms)", this->link->get_name(this->link),
				 this->sa_name, this->sa_id, wait);
			return FALSE;
		}
		log_key(this, "took pooled");
		return TRUE;
	}
	client = this->link->get_client(this->link);
	if (!client)
	{
		return FALSE;
	}
	result = client->get_keys(client, 1, this->link->get_key_size(this->link),
							  &keys);
	if (result != QKD_KME_OK)
	{
		DBG1(DBG_IKE, "qkd: no key from link '%s' for %s[%u]: %N",
			 this->link->get_name(this->link), this->sa_name, this->sa_id,
			 qkd_kme_result_names, result);
		return FALSE;
	}
	array_remove(keys, ARRAY_HEAD, &this->key);
	qkd_key_array_destroy(keys);
	log_key(this, "got new");
	return TRUE;
}

/**
 * Get the key with the given ID from the KME as slave
 */
static bool fetch_as_slave(private_qkd_ke_t *this, chunk_t id)
{
	qkd_kme_client_t *client;
	qkd_kme_result_t result;
	uint8_t ids[1][QKD_KEY_ID_LEN];
	array_t *keys;

	if (this->doh)
	{	/* only a key the peer negotiated with us over DOH */
		memcpy(ids[0], id.ptr, QKD_KEY_ID_LEN);
		this->key = this->doh->take_peer_bound(this->doh, ids[0]);
		if (!this->key)
		{
			DBG1(DBG_IKE, "qkd: key %#B was not negotiated over DOH with the "
				 "peer of link '%s', refused for %s[%u]", &id,
				 this->link->get_name(this->link), this->sa_name, this->sa_id);
			return FALSE;
		}
		log_key(this, "got peer's DOH-bound");
		return TRUE;
	}
	if (!rate_limit_ok(this))
	{
		return FALSE;
	}
	client = this->link->get_client(this->link);
	if (!client)
	{
		return FALSE;
	}
	memcpy(ids[0], id.ptr, QKD_KEY_ID_LEN);
	result = client->get_keys_by_id(client, ids, 1,
							this->link->get_key_size(this->link), &keys);
	if (result != QKD_KME_OK)
	{
		DBG1(DBG_IKE, "qkd: key %#B not available from link '%s' for %s[%u]: "
			 "%N", &id, this->link->get_name(this->link), this->sa_name,
			 this->sa_id, qkd_kme_result_names, result);
		return FALSE;
	}
	array_remove(keys, ARRAY_HEAD, &this->key);
	qkd_key_array_destroy(keys);
	if (this->pool && !this->pool->add_pending(this->pool, this->key))
	{	/* known already: used before, never again */
		log_key(this, "refused peer's");
		qkd_key_destroy(this->key);
		this->key = NULL;
		return FALSE;
	}
	log_key(this, "got peer's");
	return TRUE;
}

/**
 * Both sides hold the key: it is bound to this key exchange now
 */
static bool complete(private_qkd_ke_t *this)
{
	if (this->pool &&
		!this->pool->set_status(this->pool, this->key->id, QKD_KEY_ACTIVE))
	{
		return FALSE;
	}
	this->complete = TRUE;
	return TRUE;
}

METHOD(key_exchange_t, get_public_key, bool,
	private_qkd_ke_t *this, chunk_t *value)
{
	if (this->role == ROLE_NONE)
	{	/* we send the first KE payload, so we are the master */
		this->role = ROLE_MASTER;
		if (!fetch_as_master(this))
		{
			if (!this->authenticated)
			{	/* setting up the IKE_SA: it fails, no message is sent */
				return FALSE;
			}
			/* on an established IKE_SA failing here would make charon tear
			 * it down (e.g. in an IKE_FOLLOWUP_KE): send the nil key ID
			 * instead, which the peer refuses, failing just this exchange */
			DBG1(DBG_IKE, "qkd: no key for %s[%u], asking the peer to refuse "
				 "this key exchange", this->sa_name, this->sa_id);
		}
	}
	if (this->role == ROLE_MASTER)
	{
		*value = this->key ? chunk_clone(chunk_create(this->key->id,
													  QKD_KEY_ID_LEN))
						   : chunk_clone(chunk_from_thing(no_key_id));
	}
	else
	{	/* the slave answers with empty KE data */
		*value = chunk_empty;
	}
	return TRUE;
}

METHOD(key_exchange_t, set_public_key, bool,
	private_qkd_ke_t *this, chunk_t value)
{
	if (this->role == ROLE_MASTER)
	{	/* the slave's answer: empty, or an echo of the key ID */
		if (!this->key ||
			(value.len && (value.len != QKD_KEY_ID_LEN ||
						   !memeq(value.ptr, this->key->id, QKD_KEY_ID_LEN))))
		{
			DBG1(DBG_IKE, "qkd: invalid KE data from peer of %s[%u] (%zu "
				 "bytes)", this->sa_name, this->sa_id, value.len);
			return FALSE;
		}
		return complete(this);
	}
	if (value.len != QKD_KEY_ID_LEN)
	{
		DBG1(DBG_IKE, "qkd: invalid key ID from peer of %s[%u] (%zu bytes)",
			 this->sa_name, this->sa_id, value.len);
		return FALSE;
	}
	if (this->role == ROLE_SLAVE)
	{	/* processed before (retransmission): must be the same key */
		return this->key && memeq(value.ptr, this->key->id, QKD_KEY_ID_LEN);
	}
	this->role = ROLE_SLAVE;
	if (memeq(value.ptr, no_key_id, QKD_KEY_ID_LEN))
	{
		DBG1(DBG_IKE, "qkd: the peer of %s[%u] had no key, key exchange "
			 "refused", this->sa_name, this->sa_id);
		return FALSE;
	}
	return fetch_as_slave(this, value) && complete(this);
}

METHOD(key_exchange_t, get_shared_secret, bool,
	private_qkd_ke_t *this, chunk_t *secret)
{
	if (!this->key || !this->complete)
	{
		return FALSE;
	}
	*secret = chunk_clone(this->key->key);
	return TRUE;
}

METHOD(key_exchange_t, set_seed, bool,
	private_qkd_ke_t *this, chunk_t value, drbg_t *drbg)
{
	/* QKD keys can't be derived from a seed */
	return FALSE;
}

METHOD(key_exchange_t, get_method, key_exchange_method_t,
	private_qkd_ke_t *this)
{
	return QKD_KE_METHOD;
}

METHOD(key_exchange_t, destroy, void,
	private_qkd_ke_t *this)
{
	if (this->key)
	{
		if (!this->complete)
		{
			log_key(this, "discarded unused");
		}
		/* used or not, its material left the pool: never again */
		if (this->pool)
		{
			this->pool->set_status(this->pool, this->key->id,
								   QKD_KEY_EXPIRED);
		}
	}
	qkd_key_destroy(this->key);
	this->link->destroy(this->link);
	free(this->sa_name);
	free(this);
}

/*
 * Described in header
 */
void qkd_ke_set_links(qkd_links_t *set)
{
	links = set;
}

/*
 * Described in header
 */
key_exchange_t *qkd_ke_create(key_exchange_method_t method)
{
	private_qkd_ke_t *this;
	qkd_link_t *link;
	ike_sa_t *ike_sa;

	if (method != QKD_KE_METHOD || !links)
	{
		return NULL;
	}
	ike_sa = charon->bus->get_sa(charon->bus);
	if (!ike_sa)
	{
		DBG1(DBG_IKE, "qkd: key exchange outside of an IKE SA not supported");
		return NULL;
	}
	link = links->select(links, ike_sa);
	if (!link)
	{
		DBG1(DBG_IKE, "qkd: no QKD link configured for %s[%u] (peer %H)",
			 ike_sa->get_name(ike_sa), ike_sa->get_unique_id(ike_sa),
			 ike_sa->get_other_host(ike_sa));
		return NULL;
	}

	INIT(this,
		.public = {
			.get_shared_secret = _get_shared_secret,
			.set_public_key = _set_public_key,
			.get_public_key = _get_public_key,
			.set_seed = _set_seed,
			.get_method = _get_method,
			.destroy = _destroy,
		},
		.link = link,
		.pool = link->get_pool(link),
		.doh = link->get_doh_peer(link),
		.sa_name = strdup(ike_sa->get_name(ike_sa)),
		.sa_id = ike_sa->get_unique_id(ike_sa),
		.authenticated = ike_sa->get_state(ike_sa) != IKE_CREATED &&
						 ike_sa->get_state(ike_sa) != IKE_CONNECTING,
	);
	return &this->public;
}
