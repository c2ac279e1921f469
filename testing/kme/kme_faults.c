/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_faults.c - list of armed faults, matched against requests by KME name
 * and call; each fault fires "count" times (-1: until cleared).
 */

#define _GNU_SOURCE
#include "kme_faults.h"
#include "kme_log.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* latency applied if no "ms" is given */
#define DEFAULT_LATENCY_MS 1000

typedef struct fault_t fault_t;

struct fault_t {
	unsigned id;
	/* KME name, NULL for all */
	char *kme;
	/* index into fault_names, bit in the faults_take() mask */
	unsigned type;
	call_t call;
	/* remaining count, -1 for unlimited */
	long count;
	unsigned ms;
	fault_t *next;
};

static const char *fault_names[] = {
	"latency", "503", "drop", "malformed_json", "wrong_key_size",
	"duplicate_key_ids", "invalid_base64", "nul_key_id", "error_200",
	"wrong_key", NULL,
};

static const char *call_names[] = {
	"any", "status", "enc_keys", "dec_keys", NULL,
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static fault_t *faults;
static unsigned next_id = 1;
static config_t *faults_config;

static int lookup(const char **names, const char *name)
{
	int i;

	for (i = 0; names[i]; i++)
	{
		if (!strcmp(names[i], name))
		{
			return i;
		}
	}
	return -1;
}

static json_object *fault_to_json(fault_t *fault)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "id", json_object_new_int(fault->id));
	json_object_object_add(obj, "kme",
						   json_object_new_string(fault->kme ?: "*"));
	json_object_object_add(obj, "fault",
						   json_object_new_string(fault_names[fault->type]));
	json_object_object_add(obj, "call",
						   json_object_new_string(call_names[fault->call]));
	json_object_object_add(obj, "count", json_object_new_int64(fault->count));
	if ((1u << fault->type) == FAULT_LATENCY)
	{
		json_object_object_add(obj, "ms", json_object_new_int(fault->ms));
	}
	return obj;
}

/**
 * Validate and arm a fault; kme and call may be NULL, ms < 0 for default.
 */
static json_object *fault_add(const char *kme, const char *type,
							  const char *call, long count, long ms, char *err,
							  size_t len)
{
	fault_t *fault, **last;
	json_object *obj;
	int type_index, call_index = CALL_ANY;

	if (kme && (!strcmp(kme, "*") || !strcmp(kme, "all")))
	{
		kme = NULL;
	}
	type_index = type ? lookup(fault_names, type) : -1;
	if (call)
	{
		call_index = lookup(call_names, call);
	}
	if (kme && !config_find_kme(faults_config, kme))
	{
		snprintf(err, len, "unknown kme '%s'", kme);
		return NULL;
	}
	if (type_index < 0)
	{
		snprintf(err, len, "unknown fault '%s' (latency, 503, drop, "
				 "malformed_json, wrong_key_size, duplicate_key_ids, "
				 "invalid_base64, nul_key_id, error_200, wrong_key)", type ?: "");
		return NULL;
	}
	if (call_index < 0)
	{
		snprintf(err, len, "unknown call '%s' (status, enc_keys, dec_keys, "
				 "any)", call);
		return NULL;
	}
	if (count == 0 || count < -1)
	{
		snprintf(err, len, "count must be positive or -1 (unlimited)");
		return NULL;
	}
	if (ms > INT_MAX)
	{
		snprintf(err, len, "ms too large");
		return NULL;
	}
	fault = calloc(1, sizeof(*fault));
	fault->kme = kme ? strdup(kme) : NULL;
	fault->type = type_index;
	fault->call = call_index;
	fault->count = count;
	fault->ms = ms < 0 ? DEFAULT_LATENCY_MS : ms;
	pthread_mutex_lock(&lock);
	fault->id = next_id++;
	last = &faults;
	while (*last)
	{
		last = &(*last)->next;
	}
	*last = fault;
	obj = fault_to_json(fault);
	pthread_mutex_unlock(&lock);
	kme_log("fault armed %s", json_object_to_json_string_ext(obj,
			JSON_C_TO_STRING_PLAIN));
	return obj;
}

/**
 * Parse a non-negative number, or -1; returns false on garbage.
 */
static bool parse_long(const char *str, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(str, &end, 10);
	return *str && !*end && !errno && *out >= -1;
}

/**
 * Arm a "KME:TYPE[:COUNT][:ms=N][:call=CALL]" spec.
 */
static bool fault_add_spec(const char *spec)
{
	char *copy = strdup(spec), *fields[5] = { NULL }, *pos, *save;
	char err[256] = "";
	const char *call = NULL;
	long count = -1, ms = -1;
	json_object *obj = NULL;
	int i, n = 0;

	for (pos = strtok_r(copy, ":", &save); pos && n < 5;
		 pos = strtok_r(NULL, ":", &save))
	{
		fields[n++] = pos;
	}
	for (i = 2; i < n && !*err; i++)
	{
		if (!strncmp(fields[i], "ms=", 3))
		{
			if (!parse_long(fields[i] + 3, &ms) || ms < 0)
			{
				snprintf(err, sizeof(err), "invalid ms");
			}
		}
		else if (!strncmp(fields[i], "call=", 5))
		{
			call = fields[i] + 5;
		}
		else if (i != 2 || !parse_long(fields[i], &count))
		{
			snprintf(err, sizeof(err), "invalid field '%s'", fields[i]);
		}
	}
	if (n < 2 || pos)
	{
		snprintf(err, sizeof(err), "expected KME:TYPE[:COUNT][:ms=N][:call=C]");
	}
	if (!*err)
	{
		obj = fault_add(fields[0], fields[1], call, count, ms, err,
						sizeof(err));
	}
	if (!obj)
	{
		kme_error("--fault '%s': %s", spec, err);
	}
	json_object_put(obj);
	free(copy);
	return obj != NULL;
}

bool faults_init(config_t *config)
{
	int i;

	faults_config = config;
	for (i = 0; i < config->fault_count; i++)
	{
		if (!fault_add_spec(config->faults[i]))
		{
			return false;
		}
	}
	return true;
}

json_object *faults_add_json(json_object *obj, char *err, size_t len)
{
	const char *kme = NULL, *type = NULL, *call = NULL;
	long count = -1, ms = -1;

	if (!json_object_is_type(obj, json_type_object))
	{
		snprintf(err, len, "expected a JSON object");
		return NULL;
	}
	json_object_object_foreach(obj, key, val)
	{
		if (!strcmp(key, "kme") && json_object_is_type(val, json_type_string))
		{
			kme = json_object_get_string(val);
		}
		else if (!strcmp(key, "fault") &&
				 (json_object_is_type(val, json_type_string) ||
				  json_object_is_type(val, json_type_int)))
		{
			type = json_object_get_string(val);
		}
		else if (!strcmp(key, "call") &&
				 json_object_is_type(val, json_type_string))
		{
			call = json_object_get_string(val);
		}
		else if (!strcmp(key, "count") &&
				 json_object_is_type(val, json_type_int))
		{
			count = json_object_get_int64(val);
		}
		else if (!strcmp(key, "ms") &&
				 json_object_is_type(val, json_type_int) &&
				 json_object_get_int64(val) >= 0)
		{
			ms = json_object_get_int64(val);
		}
		else
		{
			snprintf(err, len, "unknown or invalid member '%s'", key);
			return NULL;
		}
	}
	return fault_add(kme, type, call, count, ms, err, len);
}

json_object *faults_list(void)
{
	json_object *list = json_object_new_array();
	fault_t *fault;

	pthread_mutex_lock(&lock);
	for (fault = faults; fault; fault = fault->next)
	{
		json_object_array_add(list, fault_to_json(fault));
	}
	pthread_mutex_unlock(&lock);
	return list;
}

unsigned faults_clear(void)
{
	fault_t *fault;
	unsigned count = 0;

	pthread_mutex_lock(&lock);
	while (faults)
	{
		fault = faults;
		faults = fault->next;
		free(fault->kme);
		free(fault);
		count++;
	}
	pthread_mutex_unlock(&lock);
	return count;
}

unsigned faults_take(const char *kme, call_t call, unsigned *ms, char *desc,
					 size_t len)
{
	fault_t *fault, **prev = &faults;
	unsigned mask = 0, bit;
	size_t used = 0;

	*ms = 0;
	*desc = '\0';
	pthread_mutex_lock(&lock);
	while ((fault = *prev))
	{
		bit = 1u << fault->type;
		if ((fault->kme && strcmp(fault->kme, kme)) ||
			(fault->call != CALL_ANY && fault->call != call) ||
			(call == CALL_STATUS && (bit & FAULTS_CONTAINER)) ||
			(bit != FAULT_LATENCY && (mask & ~FAULT_LATENCY)))
		{
			prev = &fault->next;
			continue;
		}
		mask |= bit;
		if (bit == FAULT_LATENCY)
		{
			*ms += fault->ms;
			used += snprintf(desc + used, len - used, "%slatency:%ums",
							 used ? "," : "", fault->ms);
		}
		else
		{
			used += snprintf(desc + used, len - used, "%s%s", used ? "," : "",
							 fault_names[fault->type]);
		}
		used = used < len ? used : len - 1;
		if (fault->count > 0 && --fault->count == 0)
		{
			*prev = fault->next;
			free(fault->kme);
			free(fault);
			continue;
		}
		prev = &fault->next;
	}
	pthread_mutex_unlock(&lock);
	return mask;
}
