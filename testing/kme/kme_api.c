/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_api.c - the ETSI GS QKD 014 calls: status, enc_keys (master) and
 * dec_keys (slave), with parameter validation and key containers.
 */

#include "kme_api.h"
#include "kme_faults.h"
#include "kme_request.h"
#include "kme_store.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <gnutls/gnutls.h>

/**
 * Set an error reply body, returns status.
 */
unsigned api_fail(api_call_t *call, unsigned status, const char *key,
				  const char *value, const char *fmt, ...)
				  {
				  char message[512];
	va_list args;

	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	json_object_put(call->body);
	call->body = request_error(message, key, value);
	return status;
}

/**
 * Parse an optional unsigned query parameter, false if malformed.
 */
static bool query_uint(api_call_t *call, const char *name, unsigned *out)
{
	const char *str;
	unsigned long val;
	char *end;

	str = MHD_lookup_connection_value(call->conn, MHD_GET_ARGUMENT_KIND, name);
	if (!str)
	{
		return true;
	}
	errno = 0;
	val = strtoul(str, &end, 10);
	if (!isdigit((unsigned char)*str) || *end || errno || val > UINT_MAX)
	{
		return false;
	}
	*out = val;
	return true;
}

/**
 * Parse an optional unsigned JSON member, false if malformed.
 */
static bool json_uint(json_object *obj, const char *name, unsigned *out)
{
	json_object *val;
	int64_t num;

	if (!json_object_object_get_ex(obj, name, &val))
	{
		return true;
	}
	num = json_object_get_int64(val);
	if (!json_object_is_type(val, json_type_int) || num < 0 || num > UINT_MAX)
	{
		return false;
	}
	*out = num;
	return true;
}

/**
 * Look up a slave SAE reachable from this KME (attached to it or its peer);
 * on failure, sets the error reply and *status.
 */
static sae_t *find_slave(api_call_t *call, const char *name, unsigned *status)
{
	sae_t *sae = config_find_sae(call->kme->config, name);

	if (!sae)
	{
		*status = api_fail(call, 401, "SAE_ID", name, "unknown slave SAE");
	}
	else if (sae == call->caller)
	{
		*status = api_fail(call, 401, "SAE_ID", name,
						   "master and slave SAE must differ");
	}
	else if (sae->kme != call->kme && sae->kme != call->kme->peer)
	{
		*status = api_fail(call, 401, "SAE_ID", name,
						   "slave SAE is not reachable from this KME");
	}
	else
	{
		return sae;
	}
	return NULL;
}

/**
 * Build a key container, applying the wrong_key_size and duplicate_key_ids
 * faults to what is sent (never to what is stored).
 */
static json_object *key_container(kme_key_t *keys, unsigned count,
								  unsigned faults)
{
	json_object *container, *list, *entry;
	gnutls_datum_t data, b64;
	unsigned char pad[2];
	unsigned i, id;

	list = json_object_new_array();
	for (i = 0; i < count; i++)
	{
		data = (gnutls_datum_t){ keys[i].data, keys[i].len };
		if (faults & FAULT_WRONG_KEY_SIZE)
		{
			if (data.size > 1)
			{
				data.size /= 2;
			}
			else
			{
				pad[0] = data.data[0];
				pad[1] = 0;
				data = (gnutls_datum_t){ pad, sizeof(pad) };
			}
		}
		id = i;
		if ((faults & FAULT_DUPLICATE_KEY_IDS) && i && i == count - 1)
		{
			id = 0;
		}
		entry = json_object_new_object();
		json_object_object_add(entry, "key_ID",
							   json_object_new_string(keys[id].id));
		if (gnutls_base64_encode2(&data, &b64) >= 0)
		{
			json_object_object_add(entry, "key",
					json_object_new_string_len((char*)b64.data, b64.size));
			gnutls_memset(b64.data, 0, b64.size);
			gnutls_free(b64.data);
		}
		json_object_array_add(list, entry);
	}
	if ((faults & FAULT_DUPLICATE_KEY_IDS) && count == 1)
	{
		json_object_array_add(list,
						json_object_get(json_object_array_get_idx(list, 0)));
	}
	container = json_object_new_object();
	json_object_object_add(container, "keys", list);
	return container;
}

unsigned api_status(api_call_t *call)
{
	kme_t *kme = call->kme;
	json_object *obj;
	unsigned status;
	sae_t *slave;

	slave = find_slave(call, call->target, &status);
	if (!slave)
	{
		return status;
	}
	obj = json_object_new_object();
	json_object_object_add(obj, "source_KME_ID",
						   json_object_new_string(kme->name));
	json_object_object_add(obj, "target_KME_ID",
						   json_object_new_string(slave->kme->name));
	json_object_object_add(obj, "master_SAE_ID",
						   json_object_new_string(call->caller->name));
	json_object_object_add(obj, "slave_SAE_ID",
						   json_object_new_string(slave->name));
	json_object_object_add(obj, "key_size",
						   json_object_new_int64(kme->key_size));
	json_object_object_add(obj, "stored_key_count",
						   json_object_new_int64(store_available(kme)));
	json_object_object_add(obj, "max_key_count",
						   json_object_new_int64(kme->max_key_count));
	json_object_object_add(obj, "max_key_per_request",
						   json_object_new_int64(kme->max_key_per_request));
	json_object_object_add(obj, "max_key_size",
						   json_object_new_int64(kme->max_key_size));
	json_object_object_add(obj, "min_key_size",
						   json_object_new_int64(kme->min_key_size));
	json_object_object_add(obj, "max_SAE_ID_count",
						   json_object_new_int64(kme->max_sae_id_count));
	json_object_object_add(obj, "status_extension", json_object_new_object());
	call->body = obj;
	return 200;
}

/**
 * Parse a POST enc_keys request body, returns 0 or an error status.
 */
static unsigned parse_enc_request(api_call_t *call, json_object *req,
								  unsigned *number, unsigned *size,
								  sae_t **slaves, unsigned *count)
{
	json_object *val, *item;
	unsigned status, i, j;
	const char *name;

	if (!json_uint(req, "number", number) || !json_uint(req, "size", size))
	{
		return api_fail(call, 400, NULL, NULL,
						"number and size shall be non-negative integers");
	}
	if (json_object_object_get_ex(req, "extension_mandatory", &val) &&
		(!json_object_is_type(val, json_type_array) ||
		 json_object_array_length(val)))
	{
		return api_fail(call, 400, NULL, NULL,
						"not all extension_mandatory parameters are supported");
	}
	if (!json_object_object_get_ex(req, "additional_slave_SAE_IDs", &val))
	{
		return 0;
	}
	if (!json_object_is_type(val, json_type_array))
	{
		return api_fail(call, 400, NULL, NULL,
						"additional_slave_SAE_IDs shall be an array");
	}
	if (json_object_array_length(val) > call->kme->max_sae_id_count)
	{
		return api_fail(call, 400, NULL, NULL, "too many "
						"additional_slave_SAE_IDs (max_SAE_ID_count %u)",
						call->kme->max_sae_id_count);
	}
	for (i = 0; i < json_object_array_length(val); i++)
	{
		item = json_object_array_get_idx(val, i);
		if (!json_object_is_type(item, json_type_string))
		{
			return api_fail(call, 400, NULL, NULL,
							"additional_slave_SAE_IDs shall contain strings");
		}
		name = json_object_get_string(item);
		slaves[*count] = find_slave(call, name, &status);
		if (!slaves[*count])
		{
			return status;
		}
		for (j = 0; j < *count; j++)
		{
			if (slaves[j] == slaves[*count])
			{
				return api_fail(call, 400, "SAE_ID", name,
								"duplicate slave SAE");
			}
		}
		(*count)++;
	}
	return 0;
}

unsigned api_enc_keys(api_call_t *call)
{
	sae_t *slaves[KME_MAX_SAE_ID_COUNT + 1];
	kme_t *kme = call->kme;
	unsigned number = 1, size = kme->key_size, count = 0, status;
	store_result_t result;
	json_object *req;
	kme_key_t *keys;

	slaves[count] = find_slave(call, call->target, &status);
	if (!slaves[count++])
	{
		return status;
	}
	if (call->post)
	{
		req = request_json(call->req);
		if (!req)
		{
			return api_fail(call, 400, NULL, NULL,
							"request body is not a valid JSON object");
		}
		status = parse_enc_request(call, req, &number, &size, slaves, &count);
		json_object_put(req);
		if (status)
		{
			return status;
		}
	}
	else if (!query_uint(call, "number", &number) ||
			 !query_uint(call, "size", &size))
	{
		return api_fail(call, 400, NULL, NULL,
						"number and size shall be non-negative integers");
	}
	if (size % 8)
	{
		return api_fail(call, 400, NULL, NULL, "size shall be a multiple of 8");
	}
	if (size < kme->min_key_size || size > kme->max_key_size)
	{
		return api_fail(call, 400, NULL, NULL, "size shall be within "
						"min_key_size (%u) and max_key_size (%u)",
						kme->min_key_size, kme->max_key_size);
	}
	if (!number || number > kme->max_key_per_request)
	{
		return api_fail(call, 400, NULL, NULL, "number shall be within 1 and "
						"max_key_per_request (%u)", kme->max_key_per_request);
	}
	keys = calloc(number, sizeof(*keys));
	result = store_enc_keys(kme, call->caller, slaves, count, number, size / 8,
							keys);
	switch (result)
	{
		case STORE_OK:
			call->body = key_container(keys, number, call->faults);
			status = 200;
			break;
		case STORE_NO_KEYS:
			status = api_fail(call, 503, NULL, NULL, "not enough keys "
							  "available (stored_key_count %u)",
							  store_available(kme));
			break;
		default:
			status = api_fail(call, 503, NULL, NULL,
							  "KME error: key generation failed");
			break;
	}
	store_keys_free(keys, number);
	return status;
}

/**
 * Collect the requested key_IDs of a dec_keys call into *ids (pointing into
 * req or the query), returns 0 or an error status.
 */
static unsigned parse_dec_request(api_call_t *call, json_object *req,
								  const char ***ids, unsigned *count)
{
	json_object *list, *val;
	const char *id;
	unsigned i;

	if (!call->post)
	{
		id = MHD_lookup_connection_value(call->conn, MHD_GET_ARGUMENT_KIND,
										 "key_ID");
		if (!id)
		{
			return api_fail(call, 400, NULL, NULL, "key_ID parameter missing");
		}
		*ids = calloc(1, sizeof(char*));
		(*ids)[0] = id;
		*count = 1;
		return 0;
	}
	if (!req)
	{
		return api_fail(call, 400, NULL, NULL,
						"request body is not a valid JSON object");
	}
	if (!json_object_object_get_ex(req, "key_IDs", &list) ||
		!json_object_is_type(list, json_type_array) ||
		!json_object_array_length(list))
	{
		return api_fail(call, 400, NULL, NULL,
						"key_IDs shall be a non-empty array");
	}
	*count = json_object_array_length(list);
	if (*count > call->kme->max_key_per_request)
	{
		return api_fail(call, 400, NULL, NULL, "too many key_IDs "
						"(max_key_per_request %u)",
						call->kme->max_key_per_request);
	}
	*ids = calloc(*count, sizeof(char*));
	for (i = 0; i < *count; i++)
	{
		if (!json_object_object_get_ex(json_object_array_get_idx(list, i),
									   "key_ID", &val) ||
			!json_object_is_type(val, json_type_string))
		{
			return api_fail(call, 400, NULL, NULL,
							"key_IDs entries shall contain a key_ID string");
		}
		(*ids)[i] = json_object_get_string(val);
	}
	return 0;
}

unsigned api_dec_keys(api_call_t *call)
{
	sae_t *master = config_find_sae(call->kme->config, call->target);
	json_object *req = NULL;
	const char **ids = NULL, *bad = NULL;
	unsigned count = 0, status;
	kme_key_t *keys;

	if (!master)
	{
		return api_fail(call, 401, "SAE_ID", call->target,
						"unknown master SAE");
	}
	if (master == call->caller)
	{
		return api_fail(call, 401, "SAE_ID", call->target,
						"master and slave SAE must differ");
	}
	if (call->post)
	{
		req = request_json(call->req);
	}
	status = parse_dec_request(call, req, &ids, &count);
	if (!status)
	{
		keys = calloc(count, sizeof(*keys));
		switch (store_dec_keys(master, call->caller, ids, count, keys, &bad))
		{
			case STORE_OK:
				call->body = key_container(keys, count, call->faults);
				status = 200;
				break;
			case STORE_UNAUTHORIZED:
				status = api_fail(call, 401, "key_ID", bad,
								  "key was not made for this slave SAE");
				break;
			case STORE_DUPLICATE:
				status = api_fail(call, 400, "key_ID", bad,
								  "key_ID requested more than once");
				break;
			case STORE_DELIVERED:
				status = api_fail(call, 400, "key_ID", bad, "one or more keys "
								  "specified are not found on KME (already "
								  "delivered)");
				break;
			default:
				status = api_fail(call, 400, "key_ID", bad, "one or more keys "
								  "specified are not found on KME");
				break;
		}
		store_keys_free(keys, count);
	}
	free(ids);
	json_object_put(req);
	return status;
}
