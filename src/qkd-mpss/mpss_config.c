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


#include "mpss_config.h"
#include "mpss_topology.h"

#include <qkd_kme_client.h>

/**
 * Option of a section below the helper's, "ns.section.name.option"
 */
static char *get_str(char *ns, char *section, char *name, char *option)
{
	return lib->settings->get_str(lib->settings, "%s.%s.%s.%s", NULL, ns,
								  section, name, option);
}

/**
 * Parse an IPv6 address option
 */
static host_t *get_address(char *ns, char *section, char *name)
{
	char *str = get_str(ns, section, name, "address");
	host_t *host;

	host = str ? host_create_from_string(str, 0) : NULL;
	if (!host || host->get_family(host) != AF_INET6)
	{
		DBG1(DBG_CFG, "qkd-mpss: %s '%s' needs an IPv6 address, not '%s'",
			 section, name, str ?: "");
		DESTROY_IF(host);
		return NULL;
	}
	return host;
}

/**
 * Read the link to one neighbour into the hop keys
 */
static bool add_neighbour(char *ns, char *name, qkd_mpss_kme_keys_t *keys)
{
	qkd_kme_client_cfg_t cfg = {
		.url = get_str(ns, "neighbours", name, "kme"),
		.peer_sae_id = get_str(ns, "neighbours", name, "peer_sae_id"),
		.cert = get_str(ns, "neighbours", name, "cert"),
		.key = get_str(ns, "neighbours", name, "key"),
		.cacert = get_str(ns, "neighbours", name, "cacert"),
		.connect_timeout = lib->settings->get_time(lib->settings,
							"%s.neighbours.%s.connect_timeout", 2, ns,
							name) * 1000,
		.timeout = lib->settings->get_time(lib->settings,
							"%s.neighbours.%s.timeout", 5, ns, name) * 1000,
	};
	qkd_kme_client_t *client;
	host_t *address;

	if (!cfg.url || !cfg.peer_sae_id || !cfg.cert || !cfg.key || !cfg.cacert)
	{
		DBG1(DBG_CFG, "qkd-mpss: neighbour '%s' needs kme, peer_sae_id, "
			 "cert, key and cacert", name);
		return FALSE;
	}
	address = get_address(ns, "neighbours", name);
	if (!address)
	{
		return FALSE;
	}
	client = qkd_kme_client_create(&cfg);
	if (!client)
	{
		address->destroy(address);
		return FALSE;
	}
	keys->add_link(keys, address, client);
	DBG2(DBG_CFG, "qkd-mpss: neighbour '%s' at %H, KME %s", name, address,
		 cfg.url);
	address->destroy(address);
	return TRUE;
}

/*
 * Described in header
 */
qkd_mpss_kme_keys_t *mpss_config_hop_keys(char *ns)
{
	qkd_mpss_kme_keys_t *keys;
	enumerator_t *enumerator;
	char *name;
	bool ok = TRUE;

	keys = qkd_mpss_kme_keys_create(lib->settings->get_int(lib->settings,
										"%s.hop_key_batch", 16, ns));
	enumerator = lib->settings->create_section_enumerator(lib->settings,
												"%s.neighbours", ns);
	while (ok && enumerator->enumerate(enumerator, &name))
	{
		ok = add_neighbour(ns, name, keys);
	}
	enumerator->destroy(enumerator);
	if (!ok)
	{
		keys->destroy(keys);
		return NULL;
	}
	return keys;
}

/*
 * Described in header
 */
void mpss_destination_destroy(mpss_destination_t *dest)
{
	u_int i, j;

	for (i = 0; i < dest->count; i++)
	{
		for (j = 0; j < dest->paths[i]->count; j++)
		{
			dest->paths[i]->segments[j]->destroy(dest->paths[i]->segments[j]);
		}
		free(dest->paths[i]);
	}
	free(dest->name);
	free(dest->sae_id);
	free(dest);
}

/**
 * Whether an address is a segment of a path (the destination excluded)
 */
static bool on_path(qkd_mpss_path_t *path, host_t *address)
{
	u_int i;

	for (i = 0; i + 1 < path->count; i++)
	{
		if (address->ip_equals(address, path->segments[i]))
		{
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * Parse a path: relays in order, separated by spaces or commas; the
 * destination is appended. Refuses a relay that is on an earlier path.
 */
static qkd_mpss_path_t *parse_path(mpss_destination_t *dest, char *name,
								   char *value, host_t *destination)
{
	enumerator_t *enumerator;
	qkd_mpss_path_t *path;
	host_t *relay;
	char *token;
	bool ok = TRUE;
	u_int i;

	INIT(path,
		.id = dest->count + 1,
	);
	enumerator = enumerator_create_token(value, ", ", " ");
	while (ok && enumerator->enumerate(enumerator, &token))
	{
		relay = host_create_from_string(token, 0);
		ok = relay && relay->get_family(relay) == AF_INET6 &&
			 path->count + 1 < QKD_MPSS_MAX_SEGMENTS &&
			 !relay->ip_equals(relay, destination);
		if (!ok)
		{
			DBG1(DBG_CFG, "qkd-mpss: path '%s' to '%s': '%s' is no relay "
				 "address (IPv6, not the destination, at most %d)", name,
				 dest->name, token, QKD_MPSS_MAX_SEGMENTS - 1);
		}
		for (i = 0; ok && i < dest->count; i++)
		{
			if (on_path(dest->paths[i], relay))
			{
				DBG1(DBG_CFG, "qkd-mpss: paths to '%s' are not node-disjoint:"
					 " relay %H is on path %u and '%s'", dest->name, relay,
					 dest->paths[i]->id, name);
				ok = FALSE;
			}
		}
		if (ok)
		{
			path->segments[path->count++] = relay;
		}
		else
		{
			DESTROY_IF(relay);
		}
	}
	enumerator->destroy(enumerator);
	path->segments[path->count++] = destination->clone(destination);
	for (i = 0; ok && i < dest->count; i++)
	{
		if (path->count == 1 && dest->paths[i]->count == 1)
		{
			DBG1(DBG_CFG, "qkd-mpss: two direct paths to '%s'", dest->name);
			ok = FALSE;
		}
	}
	if (!ok)
	{
		for (i = 0; i < path->count; i++)
		{
			path->segments[i]->destroy(path->segments[i]);
		}
		free(path);
		return NULL;
	}
	return path;
}

/**
 * Compute the paths to a destination from the topology file, as many as
 * its "n" option asks for
 */
static bool paths_from_topology(char *ns, mpss_destination_t *dest,
								host_t *destination)
{
	char *file, *str;
	host_t *source;
	u_int wanted;
	int found;

	file = lib->settings->get_str(lib->settings, "%s.topology", NULL, ns);
	wanted = lib->settings->get_int(lib->settings, "%s.destinations.%s.n", 0,
									ns, dest->name);
	if (!file || !wanted || wanted > QKD_SHAMIR_MAX_SHARES)
	{
		DBG1(DBG_CFG, "qkd-mpss: destination '%s' needs paths, or n (at most "
			 "%d) and a %s.topology file to compute them from", dest->name,
			 QKD_SHAMIR_MAX_SHARES, ns);
		return FALSE;
	}
	str = lib->settings->get_str(lib->settings, "%s.address", NULL, ns);
	source = str ? host_create_from_string(str, 0) : NULL;
	if (!source)
	{
		return FALSE;
	}
	found = mpss_topology_paths(file, source, destination, wanted,
								dest->paths);
	source->destroy(source);
	if (found < 0)
	{
		return FALSE;
	}
	dest->count = found;
	if (found < wanted)
	{
		DBG1(DBG_CFG, "qkd-mpss: topology %s has only %d node-disjoint "
			 "paths to '%s', n = %u", file, found, dest->name, wanted);
		return FALSE;
	}
	DBG1(DBG_CFG, "qkd-mpss: %u node-disjoint paths to '%s' computed from "
		 "topology %s", found, dest->name, file);
	return TRUE;
}

/**
 * Read one destination
 */
static mpss_destination_t *read_destination(char *ns, char *name)
{
	mpss_destination_t *dest;
	enumerator_t *enumerator;
	qkd_mpss_path_t *path;
	host_t *destination;
	char *key, *value;
	bool ok = TRUE;

	destination = get_address(ns, "destinations", name);
	if (!destination)
	{
		return NULL;
	}
	INIT(dest,
		.name = strdup(name),
		.sae_id = strdupnull(get_str(ns, "destinations", name, "sae_id")),
		.k = lib->settings->get_int(lib->settings, "%s.destinations.%s.k", 2,
									ns, name),
	);
	enumerator = lib->settings->create_key_value_enumerator(lib->settings,
								"%s.destinations.%s.paths", ns, name);
	while (ok && enumerator->enumerate(enumerator, &key, &value))
	{
		ok = dest->count < QKD_SHAMIR_MAX_SHARES;
		path = ok ? parse_path(dest, key, value, destination) : NULL;
		if (path)
		{
			dest->paths[dest->count++] = path;
		}
		ok = path != NULL;
	}
	enumerator->destroy(enumerator);
	if (ok && !dest->count)
	{
		ok = paths_from_topology(ns, dest, destination);
	}
	destination->destroy(destination);
	if (ok && !dest->sae_id)
	{
		DBG1(DBG_CFG, "qkd-mpss: destination '%s' needs the sae_id of its "
			 "gateway", name);
		ok = FALSE;
	}
	if (ok && (dest->k < 2 || dest->k > dest->count))
	{
		DBG1(DBG_CFG, "qkd-mpss: destination '%s': k = %u needs 2 <= k <= "
			 "n paths (%u)", name, dest->k, dest->count);
		ok = FALSE;
	}
	if (!ok)
	{
		mpss_destination_destroy(dest);
		return NULL;
	}
	DBG1(DBG_CFG, "qkd-mpss: destination '%s' (SAE '%s'): %u of %u shares "
		 "over node-disjoint paths", name, dest->sae_id, dest->k,
		 dest->count);
	return dest;
}

/*
 * Described in header
 */
bool mpss_config_destinations(char *ns, linked_list_t *list)
{
	mpss_destination_t *dest;
	enumerator_t *enumerator;
	char *name;
	bool ok = TRUE;

	enumerator = lib->settings->create_section_enumerator(lib->settings,
												"%s.destinations", ns);
	while (ok && enumerator->enumerate(enumerator, &name))
	{
		dest = read_destination(ns, name);
		if (dest)
		{
			list->insert_last(list, dest);
		}
		ok = dest != NULL;
	}
	enumerator->destroy(enumerator);
	return ok;
}
