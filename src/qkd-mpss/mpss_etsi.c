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


#include "mpss_etsi.h"

#include <etsi_params.h>

#include <qkd_mpss_msg.h>

typedef struct private_mpss_etsi_t private_mpss_etsi_t;

/**
 * Most keys per request
 */
#define MAX_KEYS_PER_REQUEST 16

/**
 * Private data of an mpss_etsi_t object.
 */
struct private_mpss_etsi_t {

	/**
	 * Public interface.
	 */
	mpss_etsi_t public;

	/**
	 * Share handling
	 */
	mpss_engine_t *engine;

	/**
	 * The listener, NULL if none
	 */
	etsi_server_t *server;

	/**
	 * SAE ID of the gateway, of the sources it may fetch keys of
	 */
	char *sae_id;
	linked_list_t *sources;

	/**
	 * How long dec_keys waits for a key, ms
	 */
	u_int dec_keys_wait;

	/**
	 * Key sizes, bits
	 */
	etsi_limits_t limits;
};

/**
 * Request and libmicrohttpd log lines of the listener
 */
static void log_etsi(const char *fmt, va_list args)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, args);
	DBG1(DBG_NET, "qkd-mpss ETSI: %s", line);
}

/**
 * Only the gateway's certificate is accepted
 */
static void *authorize(private_mpss_etsi_t *this, const char *cn, char *why,
					   size_t why_len)
{
	return streq(cn, this->sae_id) ? this : NULL;
}

/**
 * Whether an SAE ID is a source the gateway may fetch keys of
 */
static bool is_source(private_mpss_etsi_t *this, const char *sae_id)
{
	return this->sources->find_first(this->sources, linked_list_match_str,
									  NULL, sae_id);
}

/**
 * GET {slave}/status
 */
static unsigned status(private_mpss_etsi_t *this, etsi_call_t *call)
{
	if (!this->engine->has_destination(this->engine, (char*)call->target))
	{
		return etsi_call_fail(call, 400, "SAE_ID", call->target,
							  "no destination with this SAE ID");
	}
	call->body = json_object_new_object();
	json_object_object_add(call->body, "source_KME_ID",
						   json_object_new_string(this->sae_id));
	json_object_object_add(call->body, "target_KME_ID",
						   json_object_new_string(call->target));
	json_object_object_add(call->body, "master_SAE_ID",
						   json_object_new_string(this->sae_id));
	json_object_object_add(call->body, "slave_SAE_ID",
						   json_object_new_string(call->target));
	json_object_object_add(call->body, "key_size",
						   json_object_new_int(this->limits.key_size));
	/* secrets are made on demand */
	json_object_object_add(call->body, "stored_key_count",
			json_object_new_int(this->limits.max_key_per_request));
	json_object_object_add(call->body, "max_key_count",
			json_object_new_int(this->limits.max_key_per_request));
	json_object_object_add(call->body, "max_key_per_request",
			json_object_new_int(this->limits.max_key_per_request));
	json_object_object_add(call->body, "max_key_size",
						   json_object_new_int(this->limits.max_key_size));
	json_object_object_add(call->body, "min_key_size",
						   json_object_new_int(this->limits.min_key_size));
	json_object_object_add(call->body, "max_SAE_ID_count",
						   json_object_new_int(0));
	return 200;
}

/**
 * Reply with a key container of qkd_key_t*
 */
static unsigned reply_keys(etsi_call_t *call, qkd_key_t **keys, u_int count)
{
	char ids[MAX_KEYS_PER_REQUEST][QKD_KEY_ID_STRLEN + 1];
	etsi_key_t container[MAX_KEYS_PER_REQUEST];
	u_int i;

	for (i = 0; i < count; i++)
	{
		qkd_key_id_format(keys[i]->id, ids[i]);
		container[i] = (etsi_key_t){
			.id = ids[i],
			.data = keys[i]->key.ptr,
			.len = keys[i]->key.len,
		};
	}
	call->body = etsi_key_container(container, count);
	return 200;
}

/**
 * enc_keys on the source: new secrets for the destination
 */
static unsigned enc_keys(private_mpss_etsi_t *this, etsi_call_t *call)
{
	qkd_key_t *keys[MAX_KEYS_PER_REQUEST];
	unsigned number, size, status;
	array_t *made = NULL;
	u_int i;

	status = etsi_enc_keys_params(call, &this->limits, NULL, NULL, &number,
								  &size);
	if (status)
	{
		return status;
	}
	switch (this->engine->send(this->engine, (char*)call->target, number,
							   size, &made))
	{
		case MPSS_SEND_OK:
			break;
		case MPSS_SEND_UNKNOWN:
			return etsi_call_fail(call, 400, "SAE_ID", call->target,
								  "no destination with this SAE ID");
		case MPSS_SEND_SIZE:
			return etsi_call_fail(call, 400, NULL, NULL,
								  "size must be a multiple of 8 up to %u",
								  this->limits.max_key_size);
		case MPSS_SEND_FAILED:
		default:
			return etsi_call_fail(call, 503, NULL, NULL,
								  "shares could not be sent to '%s'",
								  call->target);
	}
	for (i = 0; i < number; i++)
	{
		array_get(made, i, &keys[i]);
	}
	status = reply_keys(call, keys, number);
	qkd_key_array_destroy(made);
	return status;
}

/**
 * Why a key could not be taken
 */
static char *take_error(mpss_take_t outcome)
{
	switch (outcome)
	{
		case MPSS_TAKE_TAMPERED:
			return "its shares disagree, a share was altered";
		case MPSS_TAKE_TOO_FEW:
			return "too few of its shares arrived";
		default:
			return "unknown or already delivered";
	}
}

/**
 * dec_keys on the destination: the keys rebuilt, each once
 */
static unsigned dec_keys(private_mpss_etsi_t *this, etsi_call_t *call)
{
	mpss_keystore_t *store = this->engine->get_keystore(this->engine);
	qkd_key_t *keys[MAX_KEYS_PER_REQUEST];
	uint8_t id[QKD_KEY_ID_LEN];
	etsi_key_ids_t ids = {};
	mpss_take_t outcome;
	unsigned status;
	u_int i, taken = 0;

	if (!is_source(this, call->target))
	{
		return etsi_call_fail(call, 401, "SAE_ID", call->target,
							  "not a source of this gateway's keys");
	}
	status = etsi_dec_keys_params(call, this->limits.max_key_per_request,
								  &ids);
	for (i = 0; !status && i < ids.count; i++)
	{
		if (etsi_key_id_repeated(ids.ids, i))
		{
			status = etsi_call_fail(call, 400, "key_ID", ids.ids[i],
									"key_ID requested more than once");
		}
		else if (!qkd_key_id_parse(ids.ids[i], id))
		{
			status = etsi_call_fail(call, 400, "key_ID", ids.ids[i],
									"key_ID is no UUID");
		}
	}
	for (i = 0; !status && i < ids.count; i++)
	{
		qkd_key_id_parse(ids.ids[i], id);
		outcome = store->take(store, id, this->dec_keys_wait, &keys[taken]);
		if (outcome == MPSS_TAKE_OK)
		{
			taken++;
		}
		else
		{
			status = etsi_call_fail(call, 400, "key_ID", ids.ids[i],
									"key not available: %s",
									take_error(outcome));
		}
	}
	if (!status)
	{
		status = reply_keys(call, keys, taken);
	}
	for (i = 0; i < taken; i++)
	{
		qkd_key_destroy(keys[i]);
	}
	etsi_key_ids_free(&ids);
	return status;
}

static unsigned handle(private_mpss_etsi_t *this, etsi_call_t *call)
{
	switch (call->type)
	{
		case ETSI_CALL_STATUS:
			return status(this, call);
		case ETSI_CALL_ENC_KEYS:
			return enc_keys(this, call);
		case ETSI_CALL_DEC_KEYS:
		default:
			return dec_keys(this, call);
	}
}

METHOD(mpss_etsi_t, destroy, void,
	private_mpss_etsi_t *this)
{
	etsi_server_stop(this->server);
	this->sources->destroy_function(this->sources, free);
	free(this->sae_id);
	free(this);
}

/**
 * Load a PEM file, NULL on error (logged)
 */
static chunk_t load_pem(char *ns, char *option)
{
	chunk_t *data, pem = chunk_empty;
	char *path;

	path = lib->settings->get_str(lib->settings, "%s.etsi.%s", NULL, ns,
								  option);
	data = path ? chunk_map(path, FALSE) : NULL;
	if (!data)
	{
		DBG1(DBG_CFG, "qkd-mpss: %s.etsi.%s: can't read '%s'", ns, option,
			 path ?: "");
		return pem;
	}
	/* libmicrohttpd wants them null-terminated */
	pem = chunk_cat("cc", *data, chunk_from_chars(0x00));
	chunk_unmap(data);
	return pem;
}

/*
 * Described in header
 */
mpss_etsi_t *mpss_etsi_create(mpss_engine_t *engine, char *ns)
{
	private_mpss_etsi_t *this;
	chunk_t cert, key, ca;
	char *listen, *sources, err[256];
	enumerator_t *enumerator;
	char *token;

	INIT(this,
		.public = {
			.destroy = _destroy,
		},
		.engine = engine,
		.sources = linked_list_create(),
		.sae_id = strdupnull(lib->settings->get_str(lib->settings,
												"%s.etsi.sae_id", NULL, ns)),
		.dec_keys_wait = lib->settings->get_time(lib->settings,
								"%s.etsi.dec_keys_wait", 3, ns) * 1000,
		.limits = {
			.key_size = lib->settings->get_int(lib->settings,
								"%s.etsi.key_size", 256, ns),
			.min_key_size = 8,
			.max_key_size = QKD_MPSS_MAX_SHARE * 8,
			.max_key_per_request = MAX_KEYS_PER_REQUEST,
		},
	);
	listen = lib->settings->get_str(lib->settings, "%s.etsi.listen", NULL, ns);
	if (!listen)
	{
		DBG1(DBG_CFG, "qkd-mpss: no %s.etsi.listen, serving no gateway", ns);
		return &this->public;
	}
	sources = lib->settings->get_str(lib->settings, "%s.etsi.sources", "",
									 ns);
	enumerator = enumerator_create_token(sources, ",", " ");
	while (enumerator->enumerate(enumerator, &token))
	{
		this->sources->insert_last(this->sources, strdup(token));
	}
	enumerator->destroy(enumerator);
	if (!this->sae_id)
	{
		DBG1(DBG_CFG, "qkd-mpss: %s.etsi.sae_id must name the gateway's SAE",
			 ns);
		destroy(this);
		return NULL;
	}
	cert = load_pem(ns, "cert");
	key = load_pem(ns, "key");
	ca = load_pem(ns, "cacert");
	if (cert.ptr && key.ptr && ca.ptr)
	{
		etsi_set_logger(log_etsi);
		this->server = etsi_server_start(&(etsi_server_conf_t){
				.name = "qkd-mpss",
				.listen = listen,
				.cert = cert.ptr,
				.key = key.ptr,
				.ca = ca.ptr,
				.authorize = (etsi_authorize_t)authorize,
				.handler = (etsi_handler_t)handle,
				.ctx = this,
			}, err, sizeof(err));
		if (!this->server)
		{
			DBG1(DBG_CFG, "qkd-mpss: serving ETSI GS QKD 014 on %s failed: %s",
				 listen, err);
		}
	}
	chunk_free(&cert);
	chunk_clear(&key);
	chunk_free(&ca);
	if (!this->server)
	{
		destroy(this);
		return NULL;
	}
	DBG1(DBG_CFG, "qkd-mpss: ETSI GS QKD 014 for SAE '%s' on %s", this->sae_id,
		 listen);
	return &this->public;
}
