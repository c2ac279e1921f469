/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_config.c - parse the INI-like configuration file and the equivalent
 * --kme/--sae flags, then validate and resolve the result.
 */

#define _GNU_SOURCE
#include "kme_config.h"
#include "kme_log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

/* upper bound for PEM files we read */
#define MAX_PEM_SIZE (1024 * 1024)
/* upper bound for key=value items in a --kme/--sae flag */
#define MAX_FLAG_ITEMS 32

typedef enum {
	OPT_STRING,
	OPT_UINT,
	OPT_RATE,
} option_type_t;

typedef struct {
	const char *name;
	size_t offset;
	option_type_t type;
} option_t;

static const option_t kme_options[] = {
	{ "listen", offsetof(kme_t, listen), OPT_STRING },
	{ "cert", offsetof(kme_t, cert_file), OPT_STRING },
	{ "key", offsetof(kme_t, key_file), OPT_STRING },
	{ "ca", offsetof(kme_t, ca_file), OPT_STRING },
	{ "peer", offsetof(kme_t, peer_name), OPT_STRING },
	{ "key_size", offsetof(kme_t, key_size), OPT_UINT },
	{ "min_key_size", offsetof(kme_t, min_key_size), OPT_UINT },
	{ "max_key_size", offsetof(kme_t, max_key_size), OPT_UINT },
	{ "max_key_per_request", offsetof(kme_t, max_key_per_request), OPT_UINT },
	{ "max_key_count", offsetof(kme_t, max_key_count), OPT_UINT },
	{ "max_SAE_ID_count", offsetof(kme_t, max_sae_id_count), OPT_UINT },
	{ "key_rate", offsetof(kme_t, key_rate), OPT_RATE },
	{ NULL, 0, OPT_STRING },
};

static const option_t sae_options[] = {
	{ "kme", offsetof(sae_t, kme_name), OPT_STRING },
	{ NULL, 0, OPT_STRING },
};

config_t *config_create(void)
{
	return calloc(1, sizeof(config_t));
}

kme_t *config_find_kme(config_t *config, const char *name)
{
	kme_t *kme;

	for (kme = config->kmes; kme; kme = kme->next)
	{
		if (!strcmp(kme->name, name))
		{
			return kme;
		}
	}
	return NULL;
}

sae_t *config_find_sae(config_t *config, const char *name)
{
	sae_t *sae;

	for (sae = config->saes; sae; sae = sae->next)
	{
		if (!strcmp(sae->name, name))
		{
			return sae;
		}
	}
	return NULL;
}

/**
 * Check that a KME/SAE name is usable as an ID and as a URL path segment.
 */
static bool valid_name(const char *name, const char *where)
{
	if (!*name || strchr(name, '/') || strchr(name, ','))
	{
		kme_error("%s: invalid name '%s'", where, name);
		return false;
	}
	return true;
}

static kme_t *kme_create(config_t *config, const char *name, const char *where)
{
	kme_t *kme, **last;

	if (!valid_name(name, where))
	{
		return NULL;
	}
	if (config_find_kme(config, name))
	{
		kme_error("%s: duplicate kme '%s'", where, name);
		return NULL;
	}
	kme = calloc(1, sizeof(*kme));
	kme->name = strdup(name);
	kme->key_size = 256;
	kme->min_key_size = 64;
	kme->max_key_size = 1024;
	kme->max_key_per_request = 128;
	kme->max_key_count = 100000;
	kme->config = config;
	last = &config->kmes;
	while (*last)
	{
		last = &(*last)->next;
	}
	*last = kme;
	return kme;
}

static sae_t *sae_create(config_t *config, const char *name, const char *where)
{
	sae_t *sae, **last;

	if (!valid_name(name, where))
	{
		return NULL;
	}
	if (config_find_sae(config, name))
	{
		kme_error("%s: duplicate sae '%s'", where, name);
		return NULL;
	}
	sae = calloc(1, sizeof(*sae));
	sae->name = strdup(name);
	last = &config->saes;
	while (*last)
	{
		last = &(*last)->next;
	}
	*last = sae;
	return sae;
}

/**
 * Set option "key" of object "obj" described by "options".
 */
static bool set_option(const option_t *options, void *obj, const char *key,
					   const char *value, const char *where)
{
	unsigned long num;
	double rate;
	char *end, **str;

	for (; options->name; options++)
	{
		if (strcmp(options->name, key))
		{
			continue;
		}
		switch (options->type)
		{
			case OPT_STRING:
				str = (char**)((char*)obj + options->offset);
				free(*str);
				*str = strdup(value);
				return true;
			case OPT_UINT:
				errno = 0;
				num = strtoul(value, &end, 10);
				if (!isdigit((unsigned char)*value) || *end || errno ||
					num > UINT_MAX)
				{
					break;
				}
				*(unsigned*)((char*)obj + options->offset) = num;
				return true;
			case OPT_RATE:
				rate = strtod(value, &end);
				if (!*value || *end || !isfinite(rate) || rate < 0)
				{
					break;
				}
				*(double*)((char*)obj + options->offset) = rate;
				return true;
		}
		kme_error("%s: invalid value '%s' for '%s'", where, value, key);
		return false;
	}
	kme_error("%s: unknown setting '%s'", where, key);
	return false;
}

static char *trim(char *str)
{
	char *end;

	while (isspace((unsigned char)*str))
	{
		str++;
	}
	end = str + strlen(str);
	while (end > str && isspace((unsigned char)end[-1]))
	{
		*--end = '\0';
	}
	return str;
}

/**
 * Handle a "[kme NAME]" or "[sae NAME]" header, set kme or sae to the result.
 */
static bool parse_section(config_t *config, char *line, const char *where,
						  kme_t **kme, sae_t **sae)
{
	char *end = strchr(line, ']'), *name;

	*kme = NULL;
	*sae = NULL;
	if (!end || end[1])
	{
		kme_error("%s: malformed section header", where);
		return false;
	}
	*end = '\0';
	line = trim(line + 1);
	name = line + strcspn(line, " \t");
	if (*name)
	{
		*name++ = '\0';
		name = trim(name);
	}
	if (!strcmp(line, "kme"))
	{
		*kme = kme_create(config, name, where);
		return *kme != NULL;
	}
	if (!strcmp(line, "sae"))
	{
		*sae = sae_create(config, name, where);
		return *sae != NULL;
	}
	kme_error("%s: unknown section type '%s' (expected kme or sae)", where,
			  line);
	return false;
}

bool config_load_file(config_t *config, const char *path)
{
	char *buf = NULL, *line, *value, where[PATH_MAX + 32];
	size_t size = 0;
	int lineno = 0;
	kme_t *kme = NULL;
	sae_t *sae = NULL;
	bool ok = true;
	FILE *file;

	file = fopen(path, "r");
	if (!file)
	{
		kme_error("cannot open config file '%s': %s", path, strerror(errno));
		return false;
	}
	while (ok && getline(&buf, &size, file) >= 0)
	{
		snprintf(where, sizeof(where), "%s:%d", path, ++lineno);
		line = trim(buf);
		if (!*line || *line == '#' || *line == ';')
		{
			continue;
		}
		if (*line == '[')
		{
			ok = parse_section(config, line, where, &kme, &sae);
			continue;
		}
		value = strchr(line, '=');
		if (!value)
		{
			kme_error("%s: expected 'key = value'", where);
			ok = false;
			continue;
		}
		*value++ = '\0';
		line = trim(line);
		value = trim(value);
		if (kme)
		{
			ok = set_option(kme_options, kme, line, value, where);
		}
		else if (sae)
		{
			ok = set_option(sae_options, sae, line, value, where);
		}
		else
		{
			kme_error("%s: setting outside of a [kme] or [sae] section", where);
			ok = false;
		}
	}
	free(buf);
	fclose(file);
	return ok;
}

/**
 * Parse a "name=X,key=value,..." flag into a KME (is_kme) or SAE.
 */
static bool add_flag(config_t *config, const char *spec, bool is_kme)
{
	const char *flag = is_kme ? "--kme" : "--sae";
	char *copy = strdup(spec), *pos, *save, *name = NULL, *value;
	char *keys[MAX_FLAG_ITEMS], *values[MAX_FLAG_ITEMS];
	int count = 0, i;
	void *obj;
	bool ok = true;

	for (pos = strtok_r(copy, ",", &save); ok && pos;
		 pos = strtok_r(NULL, ",", &save))
	{
		value = strchr(pos, '=');
		if (!value || count == MAX_FLAG_ITEMS)
		{
			kme_error("%s '%s': expected name=NAME,key=value,...", flag, spec);
			ok = false;
			continue;
		}
		*value++ = '\0';
		if (!strcmp(pos, "name"))
		{
			name = value;
			continue;
		}
		keys[count] = pos;
		values[count++] = value;
	}
	if (ok && !name)
	{
		kme_error("%s '%s': missing name=", flag, spec);
		ok = false;
	}
	if (ok)
	{
		obj = is_kme ? (void*)kme_create(config, name, flag)
					 : (void*)sae_create(config, name, flag);
		ok = obj != NULL;
		for (i = 0; ok && i < count; i++)
		{
			ok = set_option(is_kme ? kme_options : sae_options, obj, keys[i],
							values[i], flag);
		}
	}
	free(copy);
	return ok;
}

bool config_add_kme_flag(config_t *config, const char *spec)
{
	return add_flag(config, spec, true);
}

bool config_add_sae_flag(config_t *config, const char *spec)
{
	return add_flag(config, spec, false);
}

/**
 * Read a whole PEM file into a NUL terminated string.
 */
static char *read_pem(kme_t *kme, const char *what, const char *path)
{
	char *data;
	size_t len;
	FILE *file;

	if (!path)
	{
		kme_error("kme %s: missing %s", kme->name, what);
		return NULL;
	}
	file = fopen(path, "r");
	if (!file)
	{
		kme_error("kme %s: cannot read %s '%s': %s", kme->name, what, path,
				  strerror(errno));
		return NULL;
	}
	data = malloc(MAX_PEM_SIZE + 1);
	len = fread(data, 1, MAX_PEM_SIZE, file);
	fclose(file);
	if (!len || len == MAX_PEM_SIZE)
	{
		kme_error("kme %s: %s '%s' is empty or too large", kme->name, what,
				  path);
		free(data);
		return NULL;
	}
	data[len] = '\0';
	return data;
}

/**
 * Load and check server certificate, private key and client CA of a KME.
 */
static bool load_credentials(kme_t *kme)
{
	gnutls_certificate_credentials_t creds;
	gnutls_datum_t cert, key, ca;
	int rc;

	kme->cert = read_pem(kme, "cert", kme->cert_file);
	kme->key = kme->cert ? read_pem(kme, "key", kme->key_file) : NULL;
	kme->ca = kme->key ? read_pem(kme, "ca", kme->ca_file) : NULL;
	if (!kme->ca)
	{
		return false;
	}
	cert = (gnutls_datum_t){ (unsigned char*)kme->cert, strlen(kme->cert) };
	key = (gnutls_datum_t){ (unsigned char*)kme->key, strlen(kme->key) };
	ca = (gnutls_datum_t){ (unsigned char*)kme->ca, strlen(kme->ca) };
	gnutls_certificate_allocate_credentials(&creds);
	rc = gnutls_certificate_set_x509_key_mem(creds, &cert, &key,
											 GNUTLS_X509_FMT_PEM);
	if (rc < 0)
	{
		kme_error("kme %s: unusable cert '%s' / key '%s': %s", kme->name,
				  kme->cert_file, kme->key_file, gnutls_strerror(rc));
	}
	else
	{
		rc = gnutls_certificate_set_x509_trust_mem(creds, &ca,
												   GNUTLS_X509_FMT_PEM);
		if (rc <= 0)
		{
			kme_error("kme %s: no usable CA certificate in '%s'", kme->name,
					  kme->ca_file);
			rc = -1;
		}
	}
	gnutls_certificate_free_credentials(creds);
	return rc >= 0;
}

/**
 * Check key size and count limits of a KME.
 */
static bool check_limits(kme_t *kme)
{
	const char *error = NULL;

	if (kme->min_key_size % 8 || kme->max_key_size % 8 || kme->key_size % 8)
	{
		error = "key sizes must be multiples of 8 bits";
	}
	else if (!kme->min_key_size || kme->min_key_size > kme->key_size ||
			 kme->key_size > kme->max_key_size)
	{
		error = "need 0 < min_key_size <= key_size <= max_key_size";
	}
	else if (!kme->max_key_per_request || !kme->max_key_count)
	{
		error = "max_key_per_request and max_key_count must be positive";
	}
	else if (kme->max_sae_id_count > KME_MAX_SAE_ID_COUNT)
	{
		error = "max_SAE_ID_count too large (at most 64)";
	}
	if (error)
	{
		kme_error("kme %s: %s", kme->name, error);
		return false;
	}
	return true;
}

bool config_resolve(config_t *config)
{
	kme_t *kme;
	sae_t *sae;

	if (!config->kmes)
	{
		kme_error("no KME configured (use --config FILE or --kme)");
		return false;
	}
	for (kme = config->kmes; kme; kme = kme->next)
	{
		if (!kme->listen)
		{
			kme_error("kme %s: missing listen", kme->name);
			return false;
		}
		if (!check_limits(kme) || !load_credentials(kme))
		{
			return false;
		}
		if (kme->peer_name)
		{
			kme->peer = config_find_kme(config, kme->peer_name);
			if (!kme->peer || kme->peer == kme)
			{
				kme_error("kme %s: unknown peer '%s'", kme->name,
						  kme->peer_name);
				return false;
			}
		}
	}
	/* pairs are symmetric, "peer" on one side is enough */
	for (kme = config->kmes; kme; kme = kme->next)
	{
		if (kme->peer && kme->peer->peer && kme->peer->peer != kme)
		{
			kme_error("kme %s: peer %s is already paired with %s", kme->name,
					  kme->peer->name, kme->peer->peer->name);
			return false;
		}
		if (kme->peer)
		{
			kme->peer->peer = kme;
		}
	}
	for (sae = config->saes; sae; sae = sae->next)
	{
		if (!sae->kme_name)
		{
			kme_error("sae %s: missing kme", sae->name);
			return false;
		}
		sae->kme = config_find_kme(config, sae->kme_name);
		if (!sae->kme)
		{
			kme_error("sae %s: unknown kme '%s'", sae->name, sae->kme_name);
			return false;
		}
	}
	return true;
}

void config_destroy(config_t *config)
{
	kme_t *kme;
	sae_t *sae;

	while (config->kmes)
	{
		kme = config->kmes;
		config->kmes = kme->next;
		free(kme->name);
		free(kme->listen);
		free(kme->cert_file);
		free(kme->key_file);
		free(kme->ca_file);
		free(kme->cert);
		free(kme->key);
		free(kme->ca);
		free(kme->peer_name);
		free(kme);
	}
	while (config->saes)
	{
		sae = config->saes;
		config->saes = sae->next;
		free(sae->name);
		free(sae->kme_name);
		free(sae);
	}
	free(config->faults);
	free(config);
}
