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

#include "qkd_key_source.h"
#include "qkd_hkdf.h"

#include <daemon.h>

ENUM_EXT(qkd_qursa_names, QKD_KE_METHOD_QURSA, QKD_KE_METHOD_QURSA,
	"QKD_QURSA");

ENUM_EXT(qkd_qursa_names_short, QKD_KE_METHOD_QURSA, QKD_KE_METHOD_QURSA,
	"qkd_qursa");

/**
 * Transform ID of the qkd method
 */
static key_exchange_method_t qkd_method = QKD_KE_METHOD;

/**
 * Names of the qkd method at its configured transform ID
 */
static struct {
	enum_name_t name;
	char *names[1];
} qkd_names = {
	.name = { .first = QKD_KE_METHOD, .last = QKD_KE_METHOD, },
	.names = { "QKD" },
}, qkd_names_short = {
	.name = { .first = QKD_KE_METHOD, .last = QKD_KE_METHOD, },
	.names = { "qkd" },
};

/*
 * Described in header
 */
key_exchange_method_t qkd_ke_set_method(u_int id)
{
	if (id < 1024 || id > 65535)
	{
		DBG1(DBG_CFG, "qkd: transform_id %u is not in the private use range "
			 "1024-65535, using %d", id, QKD_KE_METHOD);
		id = QKD_KE_METHOD;
	}
	qkd_method = id;
	qkd_names.name.first = qkd_names.name.last = id;
	qkd_names_short.name.first = qkd_names_short.name.last = id;
	return qkd_method;
}

/*
 * Described in header
 */
void qkd_ke_register_names(bool reg)
{
	bool qursa = qkd_method != QKD_KE_METHOD_QURSA;

	if (reg)
	{
		enum_add_enum_names(key_exchange_method_names, &qkd_names.name);
		enum_add_enum_names(key_exchange_method_names_short,
							&qkd_names_short.name);
		if (qursa)
		{
			enum_add_enum_names(key_exchange_method_names, qkd_qursa_names);
			enum_add_enum_names(key_exchange_method_names_short,
								qkd_qursa_names_short);
		}
	}
	else
	{
		enum_remove_enum_names(key_exchange_method_names, &qkd_names.name);
		enum_remove_enum_names(key_exchange_method_names_short,
							   &qkd_names_short.name);
		if (qursa)
		{
			enum_remove_enum_names(key_exchange_method_names,
								   qkd_qursa_names);
			enum_remove_enum_names(key_exchange_method_names_short,
								   qkd_qursa_names_short);
		}
	}
}

/**
 * Links to select from
 */
static qkd_links_t *links;

/**
 * Whether the slave of a qkd key exchange sends a key confirmation
 * (key_confirmation), read when the links are loaded
 */
static bool key_confirmation = TRUE;

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
	 * Where the link's keys come from
	 */
	qkd_key_source_t *source;

	/**
	 * The IKE SA as "name[unique id]", for logs
	 */
	char sa[64];

	/**
	 * Whether the exchange is complete (the peer's KE data was processed)
	 */
	bool complete;

	/**
	 * Transform ID it was created for
	 */
	key_exchange_method_t method;

	/**
	 * Whether the slave sends a key confirmation
	 */
	bool confirm;

	/**
	 * Whether the master requires the key confirmation (the QKD part of a
	 * composite method, never plain)
	 */
	bool require_confirmation;
};

/**
 * Label of key confirmations
 */
#define CONFIRMATION_LABEL "strongSwan qkd key confirmation"
#define LABEL_LEN (sizeof(CONFIRMATION_LABEL) - 1)

/*
 * Described in header
 */
bool qkd_ke_confirmation(qkd_key_t *key,
						 uint8_t tag[QKD_KE_CONFIRMATION_LEN])
{
	uint8_t info[LABEL_LEN + QKD_KEY_ID_LEN];
	qkd_hkdf_t *hkdf;
	bool ok;

	hkdf = qkd_hkdf_borrow();
	if (!hkdf)
	{
		return FALSE;
	}
	/* the QKD key is uniformly random: HKDF-Expand alone (RFC 5869 3.3) */
	memcpy(info, CONFIRMATION_LABEL, LABEL_LEN);
	memcpy(info + LABEL_LEN, key->id, QKD_KEY_ID_LEN);
	ok = hkdf->expand(hkdf, key->key, chunk_from_thing(info),
					  chunk_create(tag, QKD_KE_CONFIRMATION_LEN));
	qkd_hkdf_release(hkdf);
	return ok;
}

/**
 * Log a key ID with the IKE SA
 */
static void log_key(private_qkd_ke_t *this, char *what)
{
	qkd_link_t *link = this->source->get_link(this->source);
	char uuid[QKD_KEY_ID_STRLEN + 1];

	qkd_key_id_format(this->key->id, uuid);
	DBG1(DBG_IKE, "qkd: %s key %s from link '%s' for %s", what, uuid,
		 link->get_name(link), this->sa);
}

/**
 * Get a new key as master
 */
static bool fetch_as_master(private_qkd_ke_t *this)
{
	char *how;

	this->key = this->source->take(this->source, this->sa, &how);
	if (this->key)
	{
		log_key(this, how);
	}
	return this->key != NULL;
}

/**
 * Get the key the master chose
 */
static bool fetch_as_slave(private_qkd_ke_t *this, chunk_t id)
{
	char *how;

	this->key = this->source->take_peer(this->source, id.ptr,
										this->authenticated, this->sa, &how);
	if (this->key)
	{
		log_key(this, how);
	}
	return this->key != NULL;
}

/**
 * Both sides hold the key: it is bound to this key exchange now
 */
static bool complete(private_qkd_ke_t *this)
{
	if (!this->source->used(this->source, this->key->id))
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
			DBG1(DBG_IKE, "qkd: no key for %s, asking the peer to refuse "
				 "this key exchange", this->sa);
		}
	}
	if (this->role == ROLE_MASTER)
	{
		*value = this->key ? chunk_clone(chunk_create(this->key->id,
													  QKD_KEY_ID_LEN))
						   : chunk_clone(chunk_from_thing(no_key_id));
	}
	else if (this->confirm && this->key)
	{	/* the slave confirms the key it got for the key ID */
		*value = chunk_alloc(QKD_KE_CONFIRMATION_LEN);
		if (!qkd_ke_confirmation(this->key, value->ptr))
		{
			DBG1(DBG_IKE, "qkd: HKDF-SHA256 for the key confirmation of %s "
				 "not available", this->sa);
			chunk_free(value);
			return FALSE;
		}
	}
	else
	{	/* plain format: empty KE data */
		*value = chunk_empty;
	}
	return TRUE;
}

/**
 * Check the slave's answer to our key ID: empty (plain format, e.g. QURSA's
 * plugin), an echo of the key ID, or the key confirmation
 */
static bool check_answer(private_qkd_ke_t *this, chunk_t value)
{
	uint8_t tag[QKD_KE_CONFIRMATION_LEN];
	char uuid[QKD_KEY_ID_STRLEN + 1];
	qkd_link_t *link;
	bool ok;

	if (!this->key ||
		(value.len && value.len != QKD_KEY_ID_LEN &&
		 value.len != QKD_KE_CONFIRMATION_LEN) ||
		(value.len == QKD_KEY_ID_LEN &&
		 !memeq(value.ptr, this->key->id, QKD_KEY_ID_LEN)))
	{
		DBG1(DBG_IKE, "qkd: invalid KE data from peer of %s (%zu "
			 "bytes)", this->sa, value.len);
		return FALSE;
	}
	if (value.len != QKD_KE_CONFIRMATION_LEN)
	{
		if (this->require_confirmation)
		{
			DBG1(DBG_IKE, "qkd: peer of %s sent no key confirmation",
				 this->sa);
			return FALSE;
		}
		DBG2(DBG_IKE, "qkd: peer of %s sent no key confirmation", this->sa);
		return TRUE;
	}
	ok = qkd_ke_confirmation(this->key, tag) &&
		 memeq_const(tag, value.ptr, QKD_KE_CONFIRMATION_LEN);
	memwipe(tag, sizeof(tag));
	if (!ok)
	{
		link = this->source->get_link(this->source);
		qkd_key_id_format(this->key->id, uuid);
		DBG1(DBG_IKE, "qkd: key confirmation failed for key %s from link "
			 "'%s' in %s: the peer got other key material for this key ID "
			 "from its KME", uuid, link->get_name(link), this->sa);
	}
	return ok;
}

METHOD(key_exchange_t, set_public_key, bool,
	private_qkd_ke_t *this, chunk_t value)
{
	if (this->role == ROLE_MASTER)
	{
		return check_answer(this, value) && complete(this);
	}
	if (value.len != QKD_KEY_ID_LEN)
	{
		DBG1(DBG_IKE, "qkd: invalid key ID from peer of %s (%zu bytes)",
			 this->sa, value.len);
		return FALSE;
	}
	if (this->role == ROLE_SLAVE)
	{	/* processed before (retransmission): must be the same key */
		return this->key && memeq(value.ptr, this->key->id, QKD_KEY_ID_LEN);
	}
	this->role = ROLE_SLAVE;
	if (memeq(value.ptr, no_key_id, QKD_KEY_ID_LEN))
	{
		DBG1(DBG_IKE, "qkd: the peer of %s had no key, key exchange "
			 "refused", this->sa);
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
	return this->method;
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
		this->source->done(this->source, this->key->id);
	}
	qkd_key_destroy(this->key);
	this->source->destroy(this->source);
	free(this);
}

/*
 * Described in header
 */
void qkd_ke_set_links(qkd_links_t *set)
{
	links = set;
	qkd_ke_load_settings();
}

/*
 * Described in header
 */
void qkd_ke_load_settings()
{
	/* not per key exchange: a settings lookup costs more than taking a
	 * bound key */
	key_confirmation = lib->settings->get_bool(lib->settings,
							"%s.plugins.qkd.key_confirmation", TRUE, lib->ns);
}

/**
 * Create a qkd key exchange for the IKE SA on the bus
 */
static private_qkd_ke_t *create(key_exchange_method_t method)
{
	private_qkd_ke_t *this;
	qkd_key_source_t *source;
	ike_sa_t *ike_sa;

	if (!links)
	{
		return NULL;
	}
	ike_sa = charon->bus->get_sa(charon->bus);
	if (!ike_sa)
	{
		DBG1(DBG_IKE, "qkd: key exchange outside of an IKE SA not supported");
		return NULL;
	}
	source = links->create_key_source(links, ike_sa);
	if (!source)
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
		.source = source,
		.method = method,
		/* QURSA's peers expect empty KE data from the slave */
		.confirm = method != QKD_KE_METHOD_QURSA && key_confirmation,
		.authenticated = ike_sa->get_state(ike_sa) != IKE_CREATED &&
						 ike_sa->get_state(ike_sa) != IKE_CONNECTING,
	);
	snprintf(this->sa, sizeof(this->sa), "%s[%u]", ike_sa->get_name(ike_sa),
			 ike_sa->get_unique_id(ike_sa));
	return this;
}

/*
 * Described in header
 */
key_exchange_t *qkd_ke_create(key_exchange_method_t method)
{
	private_qkd_ke_t *this;

	if (method != qkd_method && method != QKD_KE_METHOD_QURSA)
	{
		return NULL;
	}
	this = create(method);
	return this ? &this->public : NULL;
}

/*
 * Described in header
 */
key_exchange_t *qkd_ke_create_component(key_exchange_method_t method)
{
	private_qkd_ke_t *this;

	this = create(method);
	if (!this)
	{
		return NULL;
	}
	this->confirm = this->require_confirmation = TRUE;
	return &this->public;
}
