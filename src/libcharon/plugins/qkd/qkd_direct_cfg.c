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

#include "qkd_direct_cfg.h"

#include <netdb.h>

#include <utils/debug.h>
#include <selectors/traffic_selector.h>

/**
 * Default key survival time and rekey margin, seconds
 */
#define DEFAULT_LIFETIME 3600
#define DEFAULT_REKEY_MARGIN 60

/**
 * Settings of the child, as "%s.plugins.qkd.links.<link>.children.<name>.KEY"
 */
#define CHILD_KEY "%s.plugins.qkd.links.%s.children.%s."

/**
 * Check a child name: 1-32 letters, digits, '.', '-', '_'
 */
static bool name_ok(char *name)
{
	size_t len = strlen(name);

	return len && len <= QKD_DIRECT_NAME_MAX &&
		   strspn(name, "abcdefghijklmnopqrstuvwxyz"
						"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

/**
 * Parse "PROTO" or "PROTO/PORT" or "PROTO/FROM-TO" of a traffic selector
 */
static bool parse_proto_port(char *spec, uint8_t *proto, uint16_t *from,
							 uint16_t *to)
{
	struct protoent *entry;
	char *port, *end;
	u_long value;

	port = strchr(spec, '/');
	if (port)
	{
		*port++ = '\0';
	}
	if (*spec && !streq(spec, "any"))
	{
		value = strtoul(spec, &end, 10);
		if (*end)
		{
			entry = getprotobyname(spec);
			if (!entry)
			{
				return FALSE;
			}
			value = entry->p_proto;
		}
		if (value > 255)
		{
			return FALSE;
		}
		*proto = value;
	}
	if (port && *port && !streq(port, "any"))
	{
		value = strtoul(port, &end, 10);
		if (value > 65535 || (*end && *end != '-'))
		{
			return FALSE;
		}
		*from = *to = value;
		if (*end == '-')
		{
			value = strtoul(end + 1, &end, 10);
			if (*end || value > 65535 || value < *from)
			{
				return FALSE;
			}
			*to = value;
		}
	}
	return TRUE;
}

/**
 * Check that a subnet in CIDR notation has an address and a prefix length
 * that suits its family
 */
static bool cidr_ok(char *cidr)
{
	host_t *net;
	char *end;
	int bits;
	bool ok;

	net = host_create_from_subnet(cidr, &bits);
	if (!net)
	{
		return FALSE;
	}
	end = strchr(cidr, '/');
	ok = !end || (strtol(end + 1, &end, 10) >= 0 && !*end &&
		 bits <= (net->get_family(net) == AF_INET ? 32 : 128));
	net->destroy(net);
	return ok;
}

/**
 * Parse a comma-separated list of traffic selectors, each a subnet in
 * CIDR notation with an optional [PROTO/PORT] (swanctl.conf syntax)
 */
static bool parse_ts(char *str, linked_list_t *list)
{
	enumerator_t *enumerator;
	traffic_selector_t *ts;
	char *token, buf[128], *spec;
	uint16_t from, to;
	uint8_t proto;
	bool ok = TRUE;

	enumerator = enumerator_create_token(str, ",", " ");
	while (ok && enumerator->enumerate(enumerator, &token))
	{
		proto = 0;
		from = 0;
		to = 0xffff;
		if (snprintf(buf, sizeof(buf), "%s", token) >= sizeof(buf))
		{
			ok = FALSE;
			break;
		}
		spec = strchr(buf, '[');
		if (spec)
		{
			*spec++ = '\0';
			if (!strlen(spec) || spec[strlen(spec) - 1] != ']')
			{
				ok = FALSE;
				break;
			}
			spec[strlen(spec) - 1] = '\0';
			if (!parse_proto_port(spec, &proto, &from, &to))
			{
				ok = FALSE;
				break;
			}
		}
		if (!cidr_ok(buf))
		{
			ok = FALSE;
			break;
		}
		ts = traffic_selector_create_from_cidr(buf, proto, from, to);
		if (!ts)
		{
			ok = FALSE;
			break;
		}
		list->insert_last(list, ts);
	}
	enumerator->destroy(enumerator);
	return ok && list->get_count(list);
}

/**
 * A host's traffic selector (the whole address)
 */
static traffic_selector_t *host_ts(host_t *host)
{
	return traffic_selector_create_from_subnet(host->clone(host),
				host->get_family(host) == AF_INET ? 32 : 128, 0, 0, 0xffff);
}

/**
 * Read the algorithm: esp_proposal or ah_proposal, one of them
 */
static bool get_alg(char *link, char *name, qkd_direct_alg_t *alg)
{
	char *esp, *ah;

	esp = lib->settings->get_str(lib->settings, CHILD_KEY "esp_proposal",
								 NULL, lib->ns, link, name);
	ah = lib->settings->get_str(lib->settings, CHILD_KEY "ah_proposal",
								NULL, lib->ns, link, name);
	if (esp && ah)
	{
		DBG1(DBG_CFG, "qkd link '%s' child '%s': esp_proposal and "
			 "ah_proposal are exclusive", link, name);
		return FALSE;
	}
	if (ah)
	{
		if (!streq(ah, "sha256"))
		{
			DBG1(DBG_CFG, "qkd link '%s' child '%s': ah_proposal '%s' not "
				 "supported, only sha256", link, name, ah);
			return FALSE;
		}
		*alg = QKD_DIRECT_AH_SHA256;
		return TRUE;
	}
	if (!esp || streq(esp, "aes256gcm16"))
	{
		*alg = QKD_DIRECT_ESP_AES_GCM;
		return TRUE;
	}
	if (streq(esp, "aes256-sha256"))
	{
		*alg = QKD_DIRECT_ESP_AES_CBC_SHA256;
		return TRUE;
	}
	DBG1(DBG_CFG, "qkd link '%s' child '%s': esp_proposal '%s' not "
		 "supported, only aes256gcm16 or aes256-sha256", link, name, esp);
	return FALSE;
}

/*
 * Described in header
 */
qkd_direct_cfg_t *qkd_direct_cfg_create_from_settings(char *link, char *name,
													 host_t *local,
													 host_t *peer)
{
	qkd_direct_cfg_t *cfg;
	char *mode, *local_ts, *remote_ts;

	if (!name_ok(name))
	{
		DBG1(DBG_CFG, "qkd link '%s': child name '%s' must be 1-%d letters, "
			 "digits, '.', '-' or '_'", link, name, QKD_DIRECT_NAME_MAX);
		return NULL;
	}
	INIT(cfg,
		.name = strdup(name),
		.mode = MODE_TUNNEL,
		.local_ts = linked_list_create(),
		.remote_ts = linked_list_create(),
		.lifetime = lib->settings->get_time(lib->settings,
							CHILD_KEY "lifetime", DEFAULT_LIFETIME, lib->ns,
							link, name),
		.rekey_margin = lib->settings->get_time(lib->settings,
							CHILD_KEY "rekey_margin", DEFAULT_REKEY_MARGIN,
							lib->ns, link, name),
		.life_bytes = lib->settings->get_int(lib->settings,
							CHILD_KEY "life_bytes", 0, lib->ns, link, name),
		.life_packets = lib->settings->get_int(lib->settings,
							CHILD_KEY "life_packets", 0, lib->ns, link, name),
	);
	mode = lib->settings->get_str(lib->settings, CHILD_KEY "mode", "tunnel",
								  lib->ns, link, name);
	if (streq(mode, "transport"))
	{
		cfg->mode = MODE_TRANSPORT;
	}
	else if (!streq(mode, "tunnel"))
	{
		DBG1(DBG_CFG, "qkd link '%s' child '%s': mode must be tunnel or "
			 "transport", link, name);
		qkd_direct_cfg_destroy(cfg);
		return NULL;
	}
	if (!get_alg(link, name, &cfg->alg))
	{
		qkd_direct_cfg_destroy(cfg);
		return NULL;
	}
	local_ts = lib->settings->get_str(lib->settings, CHILD_KEY "local_ts",
									  NULL, lib->ns, link, name);
	remote_ts = lib->settings->get_str(lib->settings, CHILD_KEY "remote_ts",
									   NULL, lib->ns, link, name);
	if (!local_ts && !remote_ts && cfg->mode == MODE_TRANSPORT)
	{	/* host to host */
		cfg->local_ts->insert_last(cfg->local_ts, host_ts(local));
		cfg->remote_ts->insert_last(cfg->remote_ts, host_ts(peer));
	}
	else if (!local_ts || !remote_ts ||
			 !parse_ts(local_ts, cfg->local_ts) ||
			 !parse_ts(remote_ts, cfg->remote_ts))
	{
		DBG1(DBG_CFG, "qkd link '%s' child '%s': local_ts and remote_ts "
			 "must be subnets in CIDR notation, each with an optional "
			 "[proto/port] (both may be omitted in transport mode)", link,
			 name);
		qkd_direct_cfg_destroy(cfg);
		return NULL;
	}
	if (cfg->lifetime < 2 || cfg->rekey_margin >= cfg->lifetime)
	{
		DBG1(DBG_CFG, "qkd link '%s' child '%s': lifetime must be at least "
			 "2 s and longer than rekey_margin", link, name);
		qkd_direct_cfg_destroy(cfg);
		return NULL;
	}
	return cfg;
}

/**
 * Whether two lists of traffic selectors are equal, in order
 */
static bool ts_equal(linked_list_t *a, linked_list_t *b)
{
	return a->equals_offset(a, b, offsetof(traffic_selector_t, equals));
}

/*
 * Described in header
 */
bool qkd_direct_cfg_equals(qkd_direct_cfg_t *a, qkd_direct_cfg_t *b)
{
	return streq(a->name, b->name) && a->alg == b->alg &&
		   a->mode == b->mode && a->lifetime == b->lifetime &&
		   a->rekey_margin == b->rekey_margin &&
		   a->life_bytes == b->life_bytes &&
		   a->life_packets == b->life_packets &&
		   ts_equal(a->local_ts, b->local_ts) &&
		   ts_equal(a->remote_ts, b->remote_ts);
}

/*
 * Described in header
 */
void qkd_direct_cfg_destroy(qkd_direct_cfg_t *cfg)
{
	if (cfg)
	{
		cfg->local_ts->destroy_offset(cfg->local_ts,
									  offsetof(traffic_selector_t, destroy));
		cfg->remote_ts->destroy_offset(cfg->remote_ts,
									   offsetof(traffic_selector_t, destroy));
		free(cfg->name);
		free(cfg);
	}
}
