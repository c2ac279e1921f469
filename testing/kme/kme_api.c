/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_api.c - the ETSI GS QKD 014 calls: status, enc_keys (master) and
 * dec_keys (slave) on the KME model, with key containers as faults make
 * them. Parameter parsing is libetsi014's (etsi_params.h).
 */

#include "kme_api.h"
#include "kme_faults.h"
#include "kme_store.h"

#include <stdlib.h>
#include <string.h>

#include <etsi_params.h>
#include <gnutls/gnutls.h>

/**
 * Limits of a KME for etsi_params.
 */
static etsi_limits_t limits(kme_t *kme)
{
	return (etsi_limits_t){
		.key_size = kme->key_size,
		.min_key_size = kme->min_key_size,
		.max_key_size = kme->max_key_size,
		.max_key_per_request = kme->max_key_per_request,
		.max_sae_id_count = kme->max_sae_id_count,
	};
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
		*status = etsi_call_fail(call->etsi, 401, "SAE_ID", name,
								 "unknown slave SAE");
	}
	else if (sae == call->caller)
	{
		*status = etsi_call_fail(call->etsi, 401, "SAE_ID", name,
								 "master and slave SAE must differ");
	}
	else if (sae->kme != call->kme && sae->kme != call->kme->peer)
	{
		*status = etsi_call_fail(call->etsi, 401, "SAE_ID", name,
								 "slave SAE is not reachable from this KME");
	}
	else
	{
		return sae;
	}
	return NULL;
}

/**
 * Apply the invalid_base64 and nul_key_id faults to the entries of a key
 * container: keys become text of their length that is no base64, key_IDs
 * get a NUL and more after the UUID
 */
static void lie_in_container(json_object *container, unsigned faults)
{
	json_object *keys, *entry, *val;
	char *text;
	size_t i, len;

	json_object_object_get_ex(container, "keys", &keys);
	for (i = 0; i < json_object_array_length(keys); i++)
	{
		entry = json_object_array_get_idx(keys, i);
		if ((faults & FAULT_INVALID_BASE64) &&
			json_object_object_get_ex(entry, "key", &val))
		{
			len = json_object_get_string_len(val);
			text = malloc(len + 1);
			memset(text, '!', len);
			if (len)
			{
				text[len - 1] = '=';
			}
			text[len] = '\0';
			json_object_object_add(entry, "key", json_object_new_string(text));
			free(text);
		}
		if ((faults & FAULT_NUL_KEY_ID) &&
			json_object_object_get_ex(entry, "key_ID", &val))
		{
			len = json_object_get_string_len(val);
			text = malloc(len + 8);
			memcpy(text, json_object_get_string(val), len);
			memcpy(text + len, "\0-extra", 7);
			json_object_object_add(entry, "key_ID",
								   json_object_new_string_len(text, len + 7));
			free(text);
		}
	}
}

/**
 * Build a key container, applying the wrong_key_size, wrong_key,
 * duplicate_key_ids, invalid_base64 and nul_key_id faults to what is sent
 * (never to what is stored).
 */
static json_object *key_container(kme_key_t *keys, unsigned count,
								  unsigned faults)
{
	etsi_key_t *out = calloc(count + 1, sizeof(*out));
	unsigned char (*pads)[2] = calloc(count, sizeof(*pads));
	unsigned char **inverted = calloc(count, sizeof(*inverted));
	json_object *container;
	unsigned i, j, n = count;

	for (i = 0; i < count; i++)
	{
		out[i] = (etsi_key_t){ keys[i].id, keys[i].data, keys[i].len };
		if (faults & FAULT_WRONG_KEY_SIZE)
		{
			if (out[i].len > 1)
			{
				out[i].len /= 2;
			}
			else
			{
				pads[i][0] = keys[i].data[0];
				out[i].data = pads[i];
				out[i].len = sizeof(pads[i]);
			}
		}
		if (faults & FAULT_WRONG_KEY)
		{	/* every bit inverted */
			inverted[i] = malloc(out[i].len);
			for (j = 0; j < out[i].len; j++)
			{
				inverted[i][j] = ~out[i].data[j];
			}
			out[i].data = inverted[i];
		}
	}
	if (faults & FAULT_DUPLICATE_KEY_IDS)
	{
		if (count == 1)
		{
			out[n++] = out[0];
		}
		else if (count)
		{
			out[count - 1].id = keys[0].id;
		}
	}
	container = etsi_key_container(out, n);
	if (faults & (FAULT_INVALID_BASE64 | FAULT_NUL_KEY_ID))
	{
		lie_in_container(container, faults);
	}
	for (i = 0; i < count; i++)
	{
		if (inverted[i])
		{
			gnutls_memset(inverted[i], 0, out[i].len);
			free(inverted[i]);
		}
	}
	gnutls_memset(pads, 0, count * sizeof(*pads));
	free(inverted);
	free(pads);
	free(out);
	return container;
}

unsigned api_status(api_call_t *call)
{
	kme_t *kme = call->kme;
	json_object *obj;
	unsigned status;
	sae_t *slave;

	slave = find_slave(call, call->etsi->target, &status);
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
	call->etsi->body = obj;
	return 200;
}

/**
 * Slaves of an enc_keys call: the target and the additional ones.
 */
typedef struct {
	api_call_t *call;
	sae_t *saes[KME_MAX_SAE_ID_COUNT + 1];
	unsigned count;
} slaves_t;

/**
 * etsi_slave_cb_t adding a reachable additional slave SAE.
 */
static unsigned add_slave(void *ctx, etsi_call_t *call, const char *name)
{
	slaves_t *slaves = ctx;
	unsigned status;
	sae_t *sae;

	if (slaves->count >= sizeof(slaves->saes) / sizeof(slaves->saes[0]))
	{
		return etsi_call_fail(call, 400, NULL, NULL, "too many "
							  "additional_slave_SAE_IDs");
	}
	sae = find_slave(slaves->call, name, &status);
	if (!sae)
	{
		return status;
	}
	slaves->saes[slaves->count++] = sae;
	return 0;
}

unsigned api_enc_keys(api_call_t *call)
{
	slaves_t slaves = { .call = call };
	kme_t *kme = call->kme;
	etsi_limits_t lim = limits(kme);
	unsigned number, size, status;
	store_result_t result;
	kme_key_t *keys;

	slaves.saes[0] = find_slave(call, call->etsi->target, &status);
	if (!slaves.saes[slaves.count++])
	{
		return status;
	}
	status = etsi_enc_keys_params(call->etsi, &lim, add_slave, &slaves,
								  &number, &size);
	if (status)
	{
		return status;
	}
	keys = calloc(number, sizeof(*keys));
	result = store_enc_keys(kme, call->caller, slaves.saes, slaves.count,
							number, size / 8, keys);
	switch (result)
	{
		case STORE_OK:
			call->etsi->body = key_container(keys, number, call->faults);
			status = 200;
			break;
		case STORE_NO_KEYS:
			status = etsi_call_fail(call->etsi, 503, NULL, NULL, "not enough "
									"keys available (stored_key_count %u)",
									store_available(kme));
			break;
		default:
			status = etsi_call_fail(call->etsi, 503, NULL, NULL,
									"KME error: key generation failed");
			break;
	}
	store_keys_free(keys, number);
	return status;
}

unsigned api_dec_keys(api_call_t *call)
{
	etsi_call_t *etsi = call->etsi;
	sae_t *master = config_find_sae(call->kme->config, etsi->target);
	etsi_key_ids_t ids;
	const char *bad = NULL;
	unsigned status;
	kme_key_t *keys;

	if (!master)
	{
		return etsi_call_fail(etsi, 401, "SAE_ID", etsi->target,
							  "unknown master SAE");
	}
	if (master == call->caller)
	{
		return etsi_call_fail(etsi, 401, "SAE_ID", etsi->target,
							  "master and slave SAE must differ");
	}
	status = etsi_dec_keys_params(etsi, call->kme->max_key_per_request, &ids);
	if (!status)
	{
		keys = calloc(ids.count, sizeof(*keys));
		switch (store_dec_keys(master, call->caller, ids.ids, ids.count, keys,
							   &bad))
		{
			case STORE_OK:
				etsi->body = key_container(keys, ids.count, call->faults);
				status = 200;
				break;
			case STORE_UNAUTHORIZED:
				status = etsi_call_fail(etsi, 401, "key_ID", bad,
										"key was not made for this slave SAE");
				break;
			case STORE_DUPLICATE:
				status = etsi_call_fail(etsi, 400, "key_ID", bad,
										"key_ID requested more than once");
				break;
			case STORE_DELIVERED:
				status = etsi_call_fail(etsi, 400, "key_ID", bad, "one or "
										"more keys specified are not found on "
										"KME (already delivered)");
				break;
			default:
				status = etsi_call_fail(etsi, 400, "key_ID", bad, "one or "
										"more keys specified are not found on "
										"KME");
				break;
		}
		store_keys_free(keys, ids.count);
	}
	etsi_key_ids_free(&ids);
	return status;
}
