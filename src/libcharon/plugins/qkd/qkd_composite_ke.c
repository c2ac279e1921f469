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

#include "qkd_composite_ke.h"

#include "qkd_ke.h"
#include "qkd_key.h"
#include "qkd_hkdf.h"

#include <daemon.h>

/**
 * Names of one method at its configured transform ID
 */
typedef struct {
	enum_name_t name;
	char *names[1];
} method_name_t;

/**
 * A composite method
 */
typedef struct {
	/** proposal keyword and short name */
	char *keyword;
	/** the classical or post-quantum component */
	key_exchange_method_t component;
	/** default transform ID */
	key_exchange_method_t default_id;
	/** configured transform ID, 0 if disabled */
	key_exchange_method_t id;
	/** long name for logs */
	method_name_t name;
	/** short name */
	method_name_t name_short;
} method_t;

/**
 * The composite methods, transform IDs below the 65516-65535 QURSA uses
 */
static method_t methods[QKD_COMPOSITE_METHODS] = {
	{ "x25519qkd", CURVE_25519, 65500, .name.names = { "CURVE_25519_QKD" }, },
	{ "x448qkd", CURVE_448, 65501, .name.names = { "CURVE_448_QKD" }, },
	{ "mlkem512qkd", ML_KEM_512, 65502, .name.names = { "ML_KEM_512_QKD" }, },
	{ "mlkem768qkd", ML_KEM_768, 65503, .name.names = { "ML_KEM_768_QKD" }, },
	{ "mlkem1024qkd", ML_KEM_1024, 65504,
	  .name.names = { "ML_KEM_1024_QKD" }, },
};

/**
 * Find an enabled method by transform ID
 */
static method_t *find_method(key_exchange_method_t id)
{
	int i;

	for (i = 0; i < QKD_COMPOSITE_METHODS; i++)
	{
		if (methods[i].id && methods[i].id == id)
		{
			return &methods[i];
		}
	}
	return NULL;
}

/**
 * Whether another composite method is configured with the same ID
 */
static bool id_taken(int i, key_exchange_method_t id)
{
	int j;

	for (j = 0; j < QKD_COMPOSITE_METHODS; j++)
	{
		if (j != i && methods[j].id == id)
		{
			return TRUE;
		}
	}
	return FALSE;
}

/*
 * Described in header
 */
void qkd_composite_ke_configure(key_exchange_method_t qkd)
{
	key_exchange_method_t ids[QKD_COMPOSITE_METHODS];
	method_t *m;
	int i;

	for (i = 0; i < QKD_COMPOSITE_METHODS; i++)
	{
		m = &methods[i];
		m->id = lib->settings->get_int(lib->settings,
						"%s.plugins.qkd.composite.%s", m->default_id, lib->ns,
						m->keyword);
	}
	for (i = 0; i < QKD_COMPOSITE_METHODS; i++)
	{
		m = &methods[i];
		ids[i] = m->id;
		if (!m->id)
		{
			continue;
		}
		if (m->id < 1024 || m->id > 65535)
		{
			DBG1(DBG_CFG, "qkd: transform ID %u of %s is not in the private "
				 "use range 1024-65535, %s disabled", m->id, m->keyword,
				 m->keyword);
			ids[i] = 0;
		}
		else if (m->id == qkd || m->id == QKD_KE_METHOD_QURSA ||
				 id_taken(i, m->id))
		{
			DBG1(DBG_CFG, "qkd: transform ID %u of %s is taken by another "
				 "method, %s disabled", m->id, m->keyword, m->keyword);
			ids[i] = 0;
		}
	}
	for (i = 0; i < QKD_COMPOSITE_METHODS; i++)
	{
		m = &methods[i];
		m->id = ids[i];
		/* only the IDs: the names may be registered (next) */
		m->name.name.first = m->name.name.last = m->id;
		m->name_short.name.first = m->name_short.name.last = m->id;
		m->name_short.names[0] = m->keyword;
	}
}

/*
 * Described in header
 */
bool qkd_composite_ke_get(int i, char **keyword, key_exchange_method_t *id,
						  key_exchange_method_t *component)
{
	if (i < 0 || i >= QKD_COMPOSITE_METHODS || !methods[i].id)
	{
		return FALSE;
	}
	*keyword = methods[i].keyword;
	*id = methods[i].id;
	*component = methods[i].component;
	return TRUE;
}

/*
 * Described in header
 */
void qkd_composite_ke_register(int i, bool reg)
{
	method_t *m = &methods[i];

	if (!m->id)
	{
		return;
	}
	if (reg)
	{
		enum_add_enum_names(key_exchange_method_names, &m->name.name);
		enum_add_enum_names(key_exchange_method_names_short,
							&m->name_short.name);
		lib->proposal->register_token(lib->proposal, m->keyword,
									  KEY_EXCHANGE_METHOD, m->id, 0);
	}
	else
	{
		enum_remove_enum_names(key_exchange_method_names, &m->name.name);
		enum_remove_enum_names(key_exchange_method_names_short,
							   &m->name_short.name);
	}
}

/**
 * Salt of the combiner
 */
#define COMBINER_SALT "strongSwan qkd composite"

/*
 * Described in header
 */
bool qkd_composite_ke_combine(key_exchange_method_t method, chunk_t component,
							  chunk_t qkd, chunk_t ke_master, chunk_t ke_slave,
							  chunk_t *secret)
{
	uint8_t header[4];
	chunk_t z, fixed_info;
	qkd_hkdf_t *hkdf;
	bool ok;

	if (ke_master.len > 0xffff)
	{
		return FALSE;
	}
	hkdf = qkd_hkdf_borrow();
	if (!hkdf)
	{
		return FALSE;
	}
	htoun16(header, method);
	htoun16(header + 2, ke_master.len);
	/* a hybrid secret Z' = Z | T (SP 800-56C Rev. 2, 2) */
	z = chunk_cat("cc", component, qkd);
	fixed_info = chunk_cat("ccc", chunk_from_thing(header), ke_master,
						   ke_slave);
	*secret = chunk_alloc(QKD_COMPOSITE_SECRET_LEN);
	ok = hkdf->one_step(hkdf, chunk_from_str(COMBINER_SALT), z, fixed_info,
						*secret);
	qkd_hkdf_release(hkdf);
	chunk_clear(&z);
	chunk_free(&fixed_info);
	if (!ok)
	{
		chunk_clear(secret);
	}
	return ok;
}

typedef struct private_qkd_composite_ke_t private_qkd_composite_ke_t;

/**
 * Private data of a composite key exchange.
 */
struct private_qkd_composite_ke_t {

	/**
	 * Public interface.
	 */
	key_exchange_t public;

	/**
	 * The method
	 */
	method_t *method;

	/**
	 * The classical or post-quantum component
	 */
	key_exchange_t *component;

	/**
	 * The QKD part
	 */
	key_exchange_t *qkd;

	/**
	 * Whether we send the first KE payload (TRUE) or receive it (FALSE),
	 * once known
	 */
	bool master, role_known;

	/**
	 * KE data of the master and the slave, as sent/received
	 */
	chunk_t ke_master, ke_slave;
};

/**
 * Length of the QKD part of the KE data a side sends
 */
static size_t qkd_part_len(bool master)
{
	return master ? QKD_KEY_ID_LEN : QKD_KE_CONFIRMATION_LEN;
}

METHOD(key_exchange_t, get_public_key, bool,
	private_qkd_composite_ke_t *this, chunk_t *value)
{
	chunk_t component, qkd;

	if (!this->role_known)
	{
		this->role_known = this->master = TRUE;
	}
	if (!this->component->get_public_key(this->component, &component))
	{
		return FALSE;
	}
	if (!this->qkd->get_public_key(this->qkd, &qkd))
	{
		chunk_free(&component);
		return FALSE;
	}
	if (qkd.len != qkd_part_len(this->master))
	{	/* can't happen with the QKD part of a composite method */
		chunk_free(&component);
		chunk_free(&qkd);
		return FALSE;
	}
	*value = chunk_cat("mm", component, qkd);
	if (this->master)
	{
		chunk_free(&this->ke_master);
		this->ke_master = chunk_clone(*value);
	}
	else
	{
		chunk_free(&this->ke_slave);
		this->ke_slave = chunk_clone(*value);
	}
	return TRUE;
}

METHOD(key_exchange_t, set_public_key, bool,
	private_qkd_composite_ke_t *this, chunk_t value)
{
	chunk_t component, qkd;
	size_t len;

	if (!this->role_known)
	{
		this->role_known = TRUE;
		this->master = FALSE;
	}
	else if (!this->master && this->ke_master.len)
	{	/* processed before (retransmission): must be the same */
		return chunk_equals_const(value, this->ke_master);
	}
	/* the peer's QKD part */
	len = qkd_part_len(!this->master);
	if (value.len <= len)
	{
		DBG1(DBG_IKE, "qkd: invalid %N KE data (%zu bytes)",
			 key_exchange_method_names, this->method->id, value.len);
		return FALSE;
	}
	component = chunk_create(value.ptr, value.len - len);
	qkd = chunk_create(value.ptr + component.len, len);
	/* the component first: a key exchange it refuses costs no QKD key */
	if (!this->component->set_public_key(this->component, component) ||
		!this->qkd->set_public_key(this->qkd, qkd))
	{
		return FALSE;
	}
	if (this->master)
	{
		this->ke_slave = chunk_clone(value);
	}
	else
	{
		this->ke_master = chunk_clone(value);
	}
	return TRUE;
}

METHOD(key_exchange_t, get_shared_secret, bool,
	private_qkd_composite_ke_t *this, chunk_t *secret)
{
	chunk_t component = chunk_empty, qkd = chunk_empty;
	bool ok;

	if (!this->ke_master.len || !this->ke_slave.len)
	{
		return FALSE;
	}
	ok = this->component->get_shared_secret(this->component, &component) &&
		 this->qkd->get_shared_secret(this->qkd, &qkd) &&
		 qkd_composite_ke_combine(this->method->id, component, qkd,
								  this->ke_master, this->ke_slave, secret);
	chunk_clear(&component);
	chunk_clear(&qkd);
	return ok;
}

METHOD(key_exchange_t, set_seed, bool,
	private_qkd_composite_ke_t *this, chunk_t value, drbg_t *drbg)
{
	/* QKD keys can't be derived from a seed */
	return FALSE;
}

METHOD(key_exchange_t, get_method, key_exchange_method_t,
	private_qkd_composite_ke_t *this)
{
	return this->method->id;
}

METHOD(key_exchange_t, destroy, void,
	private_qkd_composite_ke_t *this)
{
	this->component->destroy(this->component);
	this->qkd->destroy(this->qkd);
	chunk_free(&this->ke_master);
	chunk_free(&this->ke_slave);
	free(this);
}

/*
 * Described in header
 */
key_exchange_t *qkd_composite_ke_create(key_exchange_method_t id)
{
	private_qkd_composite_ke_t *this;
	key_exchange_t *component, *qkd;
	method_t *method;

	method = find_method(id);
	if (!method)
	{
		return NULL;
	}
	component = lib->crypto->create_ke(lib->crypto, method->component);
	if (!component)
	{
		DBG1(DBG_IKE, "qkd: %N for %N not available",
			 key_exchange_method_names, method->component,
			 key_exchange_method_names, id);
		return NULL;
	}
	qkd = qkd_ke_create_component(id);
	if (!qkd)
	{
		component->destroy(component);
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
		.method = method,
		.component = component,
		.qkd = qkd,
	);
	return &this->public;
}
