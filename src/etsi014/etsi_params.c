/*
 * libetsi014: HTTPS server plumbing for the ETSI GS QKD 014 REST API.
 *
 * etsi_params.c - enc_keys/dec_keys request parameters and key containers.
 */

#include "etsi_params.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

/**
 * Parse an optional unsigned query parameter, false if malformed.
 */
static bool query_uint(etsi_call_t *call, const char *name, unsigned *out)
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
 * Check the additional_slave_SAE_IDs of a POST enc_keys body, returns 0 or
 * an error status.
 */
static unsigned parse_slaves(etsi_call_t *call, json_object *list,
							 const etsi_limits_t *limits, etsi_slave_cb_t slave,
							 void *ctx)
{
	json_object *item;
	const char *name;
	unsigned status, i, j;
	bool dup;

	if (!json_object_is_type(list, json_type_array))
	{
		return etsi_call_fail(call, 400, NULL, NULL,
							  "additional_slave_SAE_IDs shall be an array");
	}
	if (json_object_array_length(list) > limits->max_sae_id_count)
	{
		return etsi_call_fail(call, 400, NULL, NULL, "too many "
							  "additional_slave_SAE_IDs (max_SAE_ID_count %u)",
							  limits->max_sae_id_count);
	}
	for (i = 0; i < json_object_array_length(list); i++)
	{
		item = json_object_array_get_idx(list, i);
		if (!json_object_is_type(item, json_type_string))
		{
			return etsi_call_fail(call, 400, NULL, NULL,
							"additional_slave_SAE_IDs shall contain strings");
		}
		name = json_object_get_string(item);
		if (slave)
		{
			status = slave(ctx, call, name);
			if (status)
			{
				return status;
			}
		}
		dup = !strcmp(name, call->target);
		for (j = 0; !dup && j < i; j++)
		{
			dup = !strcmp(name, json_object_get_string(
									json_object_array_get_idx(list, j)));
		}
		if (dup)
		{
			return etsi_call_fail(call, 400, "SAE_ID", name,
								  "duplicate slave SAE");
		}
	}
	return 0;
}

/**
 * Parse a POST enc_keys request body, returns 0 or an error status.
 */
static unsigned parse_enc_body(etsi_call_t *call, json_object *req,
							   const etsi_limits_t *limits,
							   etsi_slave_cb_t slave, void *ctx,
							   unsigned *number, unsigned *size)
{
	json_object *val;

	if (!json_uint(req, "number", number) || !json_uint(req, "size", size))
	{
		return etsi_call_fail(call, 400, NULL, NULL,
							  "number and size shall be non-negative integers");
	}
	if (json_object_object_get_ex(req, "extension_mandatory", &val) &&
		(!json_object_is_type(val, json_type_array) ||
		 json_object_array_length(val)))
	{
		return etsi_call_fail(call, 400, NULL, NULL,
						"not all extension_mandatory parameters are supported");
	}
	if (!json_object_object_get_ex(req, "additional_slave_SAE_IDs", &val))
	{
		return 0;
	}
	return parse_slaves(call, val, limits, slave, ctx);
}

unsigned etsi_enc_keys_params(etsi_call_t *call, const etsi_limits_t *limits,
							  etsi_slave_cb_t slave, void *ctx,
							  unsigned *number, unsigned *size)
{
	json_object *req;
	unsigned status;

	*number = 1;
	*size = limits->key_size;
	if (call->post)
	{
		req = etsi_request_json(call->req);
		if (!req)
		{
			return etsi_call_fail(call, 400, NULL, NULL,
								  "request body is not a valid JSON object");
		}
		status = parse_enc_body(call, req, limits, slave, ctx, number, size);
		json_object_put(req);
		if (status)
		{
			return status;
		}
	}
	else if (!query_uint(call, "number", number) ||
			 !query_uint(call, "size", size))
	{
		return etsi_call_fail(call, 400, NULL, NULL,
							  "number and size shall be non-negative integers");
	}
	if (*size % 8)
	{
		return etsi_call_fail(call, 400, NULL, NULL,
							  "size shall be a multiple of 8");
	}
	if (*size < limits->min_key_size || *size > limits->max_key_size)
	{
		return etsi_call_fail(call, 400, NULL, NULL, "size shall be within "
							  "min_key_size (%u) and max_key_size (%u)",
							  limits->min_key_size, limits->max_key_size);
	}
	if (!*number || *number > limits->max_key_per_request)
	{
		return etsi_call_fail(call, 400, NULL, NULL, "number shall be within "
							  "1 and max_key_per_request (%u)",
							  limits->max_key_per_request);
	}
	return 0;
}

unsigned etsi_dec_keys_params(etsi_call_t *call, unsigned max_key_per_request,
							  etsi_key_ids_t *ids)
{
	json_object *list, *val;
	const char *id;
	unsigned i;

	*ids = (etsi_key_ids_t){ .ids = NULL };
	if (!call->post)
	{
		id = MHD_lookup_connection_value(call->conn, MHD_GET_ARGUMENT_KIND,
										 "key_ID");
		if (!id)
		{
			return etsi_call_fail(call, 400, NULL, NULL,
								  "key_ID parameter missing");
		}
		ids->ids = calloc(1, sizeof(char*));
		ids->ids[0] = id;
		ids->count = 1;
		return 0;
	}
	ids->json = etsi_request_json(call->req);
	if (!ids->json)
	{
		return etsi_call_fail(call, 400, NULL, NULL,
							  "request body is not a valid JSON object");
	}
	if (!json_object_object_get_ex(ids->json, "key_IDs", &list) ||
		!json_object_is_type(list, json_type_array) ||
		!json_object_array_length(list))
	{
		return etsi_call_fail(call, 400, NULL, NULL,
							  "key_IDs shall be a non-empty array");
	}
	if (json_object_array_length(list) > max_key_per_request)
	{
		return etsi_call_fail(call, 400, NULL, NULL, "too many key_IDs "
							  "(max_key_per_request %u)", max_key_per_request);
	}
	ids->count = json_object_array_length(list);
	ids->ids = calloc(ids->count, sizeof(char*));
	for (i = 0; i < ids->count; i++)
	{
		if (!json_object_object_get_ex(json_object_array_get_idx(list, i),
									   "key_ID", &val) ||
			!json_object_is_type(val, json_type_string))
		{
			return etsi_call_fail(call, 400, NULL, NULL,
							"key_IDs entries shall contain a key_ID string");
		}
		ids->ids[i] = json_object_get_string(val);
	}
	return 0;
}

void etsi_key_ids_free(etsi_key_ids_t *ids)
{
	free(ids->ids);
	json_object_put(ids->json);
	*ids = (etsi_key_ids_t){ .ids = NULL };
}

bool etsi_key_id_repeated(const char *const *ids, unsigned index)
{
	unsigned i;

	for (i = 0; i < index; i++)
	{
		if (!strcmp(ids[i], ids[index]))
		{
			return true;
		}
	}
	return false;
}

json_object *etsi_key_container(const etsi_key_t *keys, unsigned count)
{
	json_object *container, *list, *entry;
	gnutls_datum_t data, b64;
	unsigned i;

	list = json_object_new_array();
	for (i = 0; i < count; i++)
	{
		data = (gnutls_datum_t){ (unsigned char*)keys[i].data, keys[i].len };
		entry = json_object_new_object();
		json_object_object_add(entry, "key_ID",
							   json_object_new_string(keys[i].id));
		if (gnutls_base64_encode2(&data, &b64) >= 0)
		{
			json_object_object_add(entry, "key",
					json_object_new_string_len((char*)b64.data, b64.size));
			gnutls_memset(b64.data, 0, b64.size);
			gnutls_free(b64.data);
		}
		json_object_array_add(list, entry);
	}
	container = json_object_new_object();
	json_object_object_add(container, "keys", list);
	return container;
}
