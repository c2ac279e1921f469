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

#include "qkd_kme_client.h"
#include "qkd_events.h"

#include <curl/curl.h>
#include <json-c/json.h>

#include <utils/debug.h>
#include <collections/linked_list.h>
#include <threading/mutex.h>

/**
 * Largest response accepted from a KME, in bytes
 */
#define MAX_RESPONSE (1024 * 1024)

/**
 * Most idle connections kept open to the KME
 */
#define MAX_IDLE_HANDLES 4

ENUM(qkd_kme_result_names, QKD_KME_OK, QKD_KME_INVALID_RESPONSE,
	"ok",
	"bad request (HTTP 400)",
	"unauthorized (HTTP 401)",
	"unavailable (HTTP 503)",
	"HTTP error",
	"transport error",
	"invalid response",
);

typedef struct private_qkd_kme_client_t private_qkd_kme_client_t;

/**
 * Private data of a qkd_kme_client_t object.
 */
struct private_qkd_kme_client_t {

	/**
	 * Public interface.
	 */
	qkd_kme_client_t public;

	/**
	 * Configuration, strings owned
	 */
	qkd_kme_client_cfg_t cfg;

	/**
	 * Idle libcurl handles, each keeping its TLS connection open, as CURL*
	 */
	linked_list_t *handles;

	/**
	 * How calls went so far
	 */
	qkd_kme_health_t health;

	/**
	 * Protects handles and health
	 */
	mutex_t *mutex;
};

/**
 * Response being received
 */
typedef struct {
	/** response body, wiped after use */
	chunk_t data;
	/** TRUE if the body exceeded MAX_RESPONSE */
	bool too_large;
} response_t;

/**
 * libcurl write callback collecting the body, up to MAX_RESPONSE
 */
static size_t write_cb(char *ptr, size_t size, size_t nmemb, response_t *resp)
{
	size_t len = size * nmemb;
	chunk_t grown;

	if (resp->data.len + len > MAX_RESPONSE)
	{
		resp->too_large = TRUE;
		return 0;
	}
	/* grow by copying, so that no unwiped copy of key material remains in
	 * this buffer (json-c's parser keeps its own copy of each string while
	 * parsing, in buffers it frees without wiping: json-c offers no way to
	 * wipe them; the key strings of the parsed objects are wiped) */
	grown = chunk_alloc(resp->data.len + len);
	memcpy(grown.ptr, resp->data.ptr, resp->data.len);
	memcpy(grown.ptr + resp->data.len, ptr, len);
	chunk_clear(&resp->data);
	resp->data = grown;
	return len;
}

/**
 * Create a libcurl handle set up for this KME
 */
static CURL *create_handle(private_qkd_kme_client_t *this)
{
	CURL *curl;

	curl = curl_easy_init();
	if (!curl)
	{
		return NULL;
	}
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_CAINFO, this->cfg.cacert);
	curl_easy_setopt(curl, CURLOPT_SSLCERT, this->cfg.cert);
	curl_easy_setopt(curl, CURLOPT_SSLKEY, this->cfg.key);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
					 (long)this->cfg.connect_timeout);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)this->cfg.timeout);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "strongSwan qkd plugin");
	return curl;
}

/**
 * Get an idle handle (with an open connection if possible) or a new one,
 * so that concurrent calls don't wait for each other
 */
static CURL *get_handle(private_qkd_kme_client_t *this)
{
	CURL *curl = NULL;

	this->mutex->lock(this->mutex);
	this->handles->remove_first(this->handles, (void**)&curl);
	this->mutex->unlock(this->mutex);
	return curl ?: create_handle(this);
}

/**
 * Return a handle for reuse, closing it if enough are idle
 */
static void put_handle(private_qkd_kme_client_t *this, CURL *curl)
{
	this->mutex->lock(this->mutex);
	if (this->handles->get_count(this->handles) < MAX_IDLE_HANDLES)
	{
		this->handles->insert_first(this->handles, curl);
		curl = NULL;
	}
	this->mutex->unlock(this->mutex);
	if (curl)
	{
		curl_easy_cleanup(curl);
	}
}

/**
 * Longest part of a KME's message that is logged
 */
#define MAX_MESSAGE_LOG 200

/**
 * Copy a KME's message for the log: control characters replaced, capped
 */
static void sanitize(const char *msg, size_t len, char *buf, size_t size)
{
	size_t i, n = min(len, min(size - 1, (size_t)MAX_MESSAGE_LOG));

	for (i = 0; i < n; i++)
	{
		buf[i] = (msg[i] < 0x20 || msg[i] == 0x7f) ? '?' : msg[i];
	}
	buf[n] = '\0';
	if (n < len && size > n + 4)
	{
		strcpy(buf + n, "...");
	}
}

/**
 * Perform one call: method GET if body is NULL, POST with a JSON body
 * otherwise. On QKD_KME_OK, json receives the parsed response.
 */
static qkd_kme_result_t call(private_qkd_kme_client_t *this, char *what,
							 char *path, char *body, json_object **json)
{
	response_t resp = {};
	struct curl_slist *headers = NULL;
	char url[512], errbuf[CURL_ERROR_SIZE] = "", text[MAX_MESSAGE_LOG + 4];
	json_tokener *tokener;
	json_object *msg;
	qkd_kme_result_t result;
	long status = 0;
	CURLcode res;
	CURL *curl;

	*json = NULL;
	if (snprintf(url, sizeof(url), "%s/api/v1/keys/%s", this->cfg.url,
				 path) >= sizeof(url))
	{
		DBG1(DBG_CFG, "qkd KME %s: %s URL too long", this->cfg.url, what);
		return QKD_KME_TRANSPORT_ERROR;
	}

	curl = get_handle(this);
	if (!curl)
	{
		DBG1(DBG_CFG, "qkd KME %s: %s failed: no libcurl handle",
			 this->cfg.url, what);
		return QKD_KME_TRANSPORT_ERROR;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
	if (body)
	{
		headers = curl_slist_append(headers, "Content-Type: application/json");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	}
	else
	{
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	}
	res = curl_easy_perform(curl);
	if (res == CURLE_OK)
	{
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
	put_handle(this, curl);
	curl_slist_free_all(headers);

	if (res != CURLE_OK)
	{
		DBG1(DBG_CFG, "qkd KME %s: %s failed: %s", this->cfg.url, what,
			 resp.too_large ? "response too large" :
			 (errbuf[0] ? errbuf : curl_easy_strerror(res)));
		chunk_clear(&resp.data);
		return QKD_KME_TRANSPORT_ERROR;
	}

	tokener = json_tokener_new();
	*json = json_tokener_parse_ex(tokener, resp.data.ptr, resp.data.len);
	if (*json && json_tokener_get_parse_end(tokener) != resp.data.len)
	{	/* trailing garbage */
		json_object_put(*json);
		*json = NULL;
	}
	json_tokener_free(tokener);
	chunk_clear(&resp.data);

	switch (status)
	{
		case 200:
			if (*json && json_object_is_type(*json, json_type_object) &&
				json_object_object_get_ex(*json, "message", &msg) &&
				!json_object_object_get_ex(*json, "keys", NULL) &&
				!json_object_object_get_ex(*json, "key_size", NULL))
			{
				sanitize(json_object_get_string(msg),
						 json_object_get_string_len(msg), text, sizeof(text));
				DBG1(DBG_CFG, "qkd KME %s: %s failed: HTTP 200 with an error "
					 "object: %s", this->cfg.url, what, text);
				json_object_put(*json);
				*json = NULL;
				return QKD_KME_INVALID_RESPONSE;
			}
			if (*json && json_object_is_type(*json, json_type_object))
			{
				return QKD_KME_OK;
			}
			DBG1(DBG_CFG, "qkd KME %s: %s failed: response is no JSON object",
				 this->cfg.url, what);
			json_object_put(*json);
			*json = NULL;
			return QKD_KME_INVALID_RESPONSE;
		case 400:
			result = QKD_KME_BAD_REQUEST;
			break;
		case 401:
			result = QKD_KME_UNAUTHORIZED;
			break;
		case 503:
			result = QKD_KME_UNAVAILABLE;
			break;
		default:
			result = QKD_KME_HTTP_ERROR;
			break;
	}
	msg = NULL;
	if (*json)
	{
		json_object_object_get_ex(*json, "message", &msg);
	}
	if (msg)
	{
		sanitize(json_object_get_string(msg), json_object_get_string_len(msg),
				 text, sizeof(text));
	}
	DBG1(DBG_CFG, "qkd KME %s: %s failed: HTTP %ld%s%s", this->cfg.url, what,
		 status, msg ? ": " : "", msg ? text : "");
	json_object_put(*json);
	*json = NULL;
	return result;
}

/**
 * Get a non-negative integer member of a JSON object
 */
static bool get_uint(json_object *obj, char *name, u_int *value)
{
	json_object *member;
	int64_t v;

	if (!json_object_object_get_ex(obj, name, &member) ||
		!json_object_is_type(member, json_type_int))
	{
		return FALSE;
	}
	v = json_object_get_int64(member);
	if (v < 0 || v > UINT_MAX)
	{
		return FALSE;
	}
	*value = v;
	return TRUE;
}

/**
 * GET status, see get_status()
 */
static qkd_kme_result_t status_call(private_qkd_kme_client_t *this,
									qkd_kme_status_t *status)
{
	json_object *json;
	qkd_kme_result_t result;
	char path[256];

	snprintf(path, sizeof(path), "%s/status", this->cfg.peer_sae_id);
	result = call(this, "status", path, NULL, &json);
	if (result != QKD_KME_OK)
	{
		return result;
	}
	*status = (qkd_kme_status_t){};
	if (!get_uint(json, "key_size", &status->key_size) ||
		!get_uint(json, "stored_key_count", &status->stored_key_count) ||
		!get_uint(json, "max_key_count", &status->max_key_count) ||
		!get_uint(json, "max_key_per_request", &status->max_key_per_request) ||
		!get_uint(json, "max_key_size", &status->max_key_size) ||
		!get_uint(json, "min_key_size", &status->min_key_size))
	{
		DBG1(DBG_CFG, "qkd KME %s: status failed: missing or invalid fields",
			 this->cfg.url);
		result = QKD_KME_INVALID_RESPONSE;
	}
	json_object_put(json);
	return result;
}

/**
 * Wipe the string value of a JSON member in place (key material)
 */
static void wipe_json_string(json_object *str)
{
	if (str && json_object_is_type(str, json_type_string))
	{
		memwipe((char*)json_object_get_string(str),
				json_object_get_string_len(str));
	}
}

/**
 * Wipe all key strings of a key container
 */
static void wipe_container(json_object *json)
{
	json_object *list, *entry, *key;
	size_t i;

	if (json_object_object_get_ex(json, "keys", &list) &&
		json_object_is_type(list, json_type_array))
	{
		for (i = 0; i < json_object_array_length(list); i++)
		{
			entry = json_object_array_get_idx(list, i);
			if (json_object_is_type(entry, json_type_object) &&
				json_object_object_get_ex(entry, "key", &key))
			{
				wipe_json_string(key);
			}
		}
	}
}

/**
 * Check whether a key with the given ID is already in an array
 */
static bool contains_id(array_t *keys, uint8_t id[QKD_KEY_ID_LEN])
{
	qkd_key_t *key;
	int i;

	for (i = 0; i < array_count(keys); i++)
	{
		array_get(keys, i, &key);
		if (memeq(key->id, id, QKD_KEY_ID_LEN))
		{
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * Decode a key strictly: the text must be the canonical, padded base64 of
 * the bytes it decodes to (strongSwan's decoder takes any character and
 * stops at the first '='), chunk_empty if not
 */
static chunk_t decode_key(json_object *key)
{
	chunk_t text, material, canonical;

	text = chunk_create((char*)json_object_get_string(key),
						json_object_get_string_len(key));
	if (!text.len || text.len % 4)
	{
		return chunk_empty;
	}
	material = chunk_from_base64(text, NULL);
	canonical = chunk_to_base64(material, NULL);
	if (!chunk_equals_const(canonical, text))
	{
		chunk_clear(&material);
	}
	chunk_clear(&canonical);
	return material;
}

/**
 * Parse and validate a key container: exactly number keys of min_size to
 * max_size bits, UUID key_IDs, no duplicates.
 */
static bool parse_container(private_qkd_kme_client_t *this, char *what,
							json_object *json, u_int number, u_int min_size,
							u_int max_size, array_t **keys)
{
	json_object *list, *entry, *id, *key;
	uint8_t bin[QKD_KEY_ID_LEN];
	chunk_t material;
	char *reason = NULL, why[96];
	size_t i;

	*keys = array_create(0, 0);
	if (!json_object_object_get_ex(json, "keys", &list) ||
		!json_object_is_type(list, json_type_array))
	{
		reason = "no keys array";
	}
	else if (json_object_array_length(list) != number)
	{
		reason = "wrong number of keys";
	}
	for (i = 0; !reason && i < number; i++)
	{
		entry = json_object_array_get_idx(list, i);
		if (!json_object_is_type(entry, json_type_object) ||
			!json_object_object_get_ex(entry, "key_ID", &id) ||
			!json_object_object_get_ex(entry, "key", &key) ||
			!json_object_is_type(id, json_type_string) ||
			!json_object_is_type(key, json_type_string))
		{
			reason = "key entry without key_ID and key strings";
			break;
		}
		if (json_object_get_string_len(id) != QKD_KEY_ID_STRLEN ||
			!qkd_key_id_parse(json_object_get_string(id), bin))
		{
			reason = "key_ID is not a UUID";
			break;
		}
		if (contains_id(*keys, bin))
		{
			reason = "duplicate key_ID";
			break;
		}
		material = decode_key(key);
		if (!material.ptr)
		{
			reason = "key is not base64 (canonical, padded)";
			break;
		}
		if (material.len < min_size / 8 || material.len > max_size / 8)
		{
			if (min_size == max_size)
			{
				snprintf(why, sizeof(why), "key of %zu bits, %u requested",
						 material.len * 8, min_size);
			}
			else
			{
				snprintf(why, sizeof(why), "key of %zu bits, %u to %u bits "
						 "accepted", material.len * 8, min_size, max_size);
			}
			chunk_clear(&material);
			reason = why;
			break;
		}
		array_insert(*keys, ARRAY_TAIL, qkd_key_create(bin, material));
	}
	wipe_container(json);
	if (reason)
	{
		DBG1(DBG_CFG, "qkd KME %s: %s failed: invalid key container: %s",
			 this->cfg.url, what, reason);
		qkd_key_array_destroy(*keys);
		*keys = NULL;
		return FALSE;
	}
	return TRUE;
}

/**
 * POST enc_keys, see get_keys()
 */
static qkd_kme_result_t enc_keys_call(private_qkd_kme_client_t *this,
									  u_int number, u_int size, array_t **keys)
{
	json_object *json;
	qkd_kme_result_t result;
	char path[256], body[128];

	*keys = NULL;
	if (!number || !size || size % 8)
	{
		DBG1(DBG_CFG, "qkd KME %s: enc_keys: invalid request for %u keys of "
			 "%u bits", this->cfg.url, number, size);
		return QKD_KME_BAD_REQUEST;
	}
	snprintf(path, sizeof(path), "%s/enc_keys", this->cfg.peer_sae_id);
	snprintf(body, sizeof(body), "{\"number\":%u,\"size\":%u}", number, size);
	result = call(this, "enc_keys", path, body, &json);
	if (result != QKD_KME_OK)
	{
		return result;
	}
	if (!parse_container(this, "enc_keys", json, number, size, size, keys))
	{
		result = QKD_KME_INVALID_RESPONSE;
	}
	json_object_put(json);
	return result;
}

/**
 * POST dec_keys, see get_keys_by_id()
 */
static qkd_kme_result_t dec_keys_call(private_qkd_kme_client_t *this,
								uint8_t ids[][QKD_KEY_ID_LEN], u_int count,
								u_int min_size, u_int max_size, array_t **keys)
{
	json_object *json, *list, *entry;
	qkd_kme_result_t result;
	char path[256], uuid[QKD_KEY_ID_STRLEN + 1];
	qkd_key_t *key;
	u_int i;

	*keys = NULL;
	if (!count || !min_size || min_size % 8 || max_size % 8 ||
		max_size < min_size)
	{
		return QKD_KME_BAD_REQUEST;
	}
	list = json_object_new_array();
	for (i = 0; i < count; i++)
	{
		qkd_key_id_format(ids[i], uuid);
		entry = json_object_new_object();
		json_object_object_add(entry, "key_ID", json_object_new_string(uuid));
		json_object_array_add(list, entry);
	}
	json = json_object_new_object();
	json_object_object_add(json, "key_IDs", list);
	snprintf(path, sizeof(path), "%s/dec_keys", this->cfg.peer_sae_id);
	result = call(this, "dec_keys", path,
				  (char*)json_object_to_json_string_ext(json,
										JSON_C_TO_STRING_PLAIN), &list);
	json_object_put(json);
	if (result != QKD_KME_OK)
	{
		return result;
	}
	json = list;
	if (!parse_container(this, "dec_keys", json, count, min_size, max_size,
						 keys))
	{
		result = QKD_KME_INVALID_RESPONSE;
	}
	json_object_put(json);
	for (i = 0; result == QKD_KME_OK && i < count; i++)
	{
		array_get(*keys, i, &key);
		if (!memeq(key->id, ids[i], QKD_KEY_ID_LEN))
		{
			DBG1(DBG_CFG, "qkd KME %s: dec_keys failed: returned keys do not "
				 "match the requested key_IDs", this->cfg.url);
			qkd_key_array_destroy(*keys);
			*keys = NULL;
			result = QKD_KME_INVALID_RESPONSE;
		}
	}
	return result;
}

/**
 * Account for a call that ended, raising an event if it changed the KME's
 * health
 */
static qkd_kme_result_t record(private_qkd_kme_client_t *this, char *call,
							   qkd_kme_result_t result, timeval_t *start)
{
	qkd_kme_health_t *health = &this->health;
	timeval_t end, took;
	char error[64];
	bool changed;

	time_monotonic(&end);
	timersub(&end, start, &took);
	this->mutex->lock(this->mutex);
	/* a first call that fails changes it too: failing starts FALSE */
	changed = health->failing != (result != QKD_KME_OK);
	health->calls++;
	health->last_call = call;
	health->last_call_time = end.tv_sec;
	health->last_latency_ms = took.tv_sec * 1000 + took.tv_usec / 1000;
	health->failing = result != QKD_KME_OK;
	if (health->failing)
	{
		health->errors++;
		health->last_error = result;
		health->last_error_time = end.tv_sec;
	}
	this->mutex->unlock(this->mutex);
	if (changed)
	{
		snprintf(error, sizeof(error), "%N", qkd_kme_result_names, result);
		qkd_events_raise(&(qkd_event_t){
			.type = result == QKD_KME_OK ? QKD_EVENT_KME_RECOVERED
										 : QKD_EVENT_KME_ERROR,
			.link = this->cfg.link,
			.kme = this->cfg.url,
			.call = call,
			.reason = result == QKD_KME_OK ? NULL : error,
		});
	}
	return result;
}

METHOD(qkd_kme_client_t, get_status, qkd_kme_result_t,
	private_qkd_kme_client_t *this, qkd_kme_status_t *status)
{
	timeval_t start;

	time_monotonic(&start);
	return record(this, "status", status_call(this, status), &start);
}

METHOD(qkd_kme_client_t, get_keys, qkd_kme_result_t,
	private_qkd_kme_client_t *this, u_int number, u_int size, array_t **keys)
{
	timeval_t start;

	time_monotonic(&start);
	return record(this, "enc_keys", enc_keys_call(this, number, size, keys),
				  &start);
}

METHOD(qkd_kme_client_t, get_keys_by_id, qkd_kme_result_t,
	private_qkd_kme_client_t *this, uint8_t ids[][QKD_KEY_ID_LEN],
	u_int count, u_int min_size, u_int max_size, array_t **keys)
{
	timeval_t start;

	time_monotonic(&start);
	return record(this, "dec_keys", dec_keys_call(this, ids, count, min_size,
												  max_size, keys), &start);
}

METHOD(qkd_kme_client_t, get_health, void,
	private_qkd_kme_client_t *this, qkd_kme_health_t *health)
{
	this->mutex->lock(this->mutex);
	*health = this->health;
	this->mutex->unlock(this->mutex);
}

METHOD(qkd_kme_client_t, destroy, void,
	private_qkd_kme_client_t *this)
{
	this->handles->destroy_function(this->handles, (void*)curl_easy_cleanup);
	this->mutex->destroy(this->mutex);
	free(this->cfg.link);
	free(this->cfg.url);
	free(this->cfg.peer_sae_id);
	free(this->cfg.cert);
	free(this->cfg.key);
	free(this->cfg.cacert);
	free(this);
}

/*
 * Described in header
 */
qkd_kme_client_t *qkd_kme_client_create(qkd_kme_client_cfg_t *cfg)
{
	private_qkd_kme_client_t *this;
	CURL *curl;

	INIT(this,
		.public = {
			.get_status = _get_status,
			.get_keys = _get_keys,
			.get_keys_by_id = _get_keys_by_id,
			.get_health = _get_health,
			.destroy = _destroy,
		},
		.cfg = {
			.link = strdup(cfg->link ?: ""),
			.url = strdup(cfg->url),
			.peer_sae_id = strdup(cfg->peer_sae_id),
			.cert = strdup(cfg->cert),
			.key = strdup(cfg->key),
			.cacert = strdup(cfg->cacert),
			.connect_timeout = cfg->connect_timeout,
			.timeout = cfg->timeout,
		},
		.handles = linked_list_create(),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	/* strip trailing slashes of the base URL */
	while (strlen(this->cfg.url) && this->cfg.url[strlen(this->cfg.url) - 1] == '/')
	{
		this->cfg.url[strlen(this->cfg.url) - 1] = '\0';
	}

	curl = create_handle(this);
	if (!curl)
	{
		DBG1(DBG_CFG, "qkd KME %s: initializing libcurl failed", cfg->url);
		destroy(this);
		return NULL;
	}
	put_handle(this, curl);
	return &this->public;
}
