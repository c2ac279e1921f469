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


#include "mpss_topology.h"

#include <collections/array.h>
#include <settings/settings.h>

/**
 * The graph: nodes split into an in and an out vertex (2i, 2i + 1) joined
 * by an edge of capacity one (a relay carries one path), links as edges
 * out -> in both ways
 */
typedef struct {
	/** node addresses, host_t* */
	array_t *nodes;
	/** vertices (2 per node) */
	u_int vertices;
	/** residual capacities, vertices x vertices */
	int *cap;
	/** flow, vertices x vertices */
	int *flow;
} graph_t;

#define CAP(g, u, v) (g)->cap[(u) * (g)->vertices + (v)]
#define FLOW(g, u, v) (g)->flow[(u) * (g)->vertices + (v)]

/**
 * Index of a node by name, -1 if unknown
 */
static int node_index(settings_t *settings, graph_t *g, char *name)
{
	host_t *host, *node;
	char *addr;
	int i;

	addr = settings->get_str(settings, "nodes.%s", NULL, name);
	host = addr ? host_create_from_string(addr, 0) : NULL;
	if (!host)
	{
		return -1;
	}
	for (i = 0; i < array_count(g->nodes); i++)
	{
		array_get(g->nodes, i, &node);
		if (node->ip_equals(node, host))
		{
			host->destroy(host);
			return i;
		}
	}
	host->destroy(host);
	return -1;
}

/**
 * Index of a node by address, -1 if none
 */
static int find_node(graph_t *g, host_t *host)
{
	host_t *node;
	int i;

	for (i = 0; i < array_count(g->nodes); i++)
	{
		array_get(g->nodes, i, &node);
		if (node->ip_equals(node, host))
		{
			return i;
		}
	}
	return -1;
}

static void graph_destroy(graph_t *g)
{
	array_destroy_offset(g->nodes, offsetof(host_t, destroy));
	free(g->cap);
	free(g->flow);
}

/**
 * Read nodes and links
 */
static bool load(char *file, graph_t *g)
{
	settings_t *settings;
	enumerator_t *enumerator, *ends;
	char *name, *value, *end;
	int idx[2], n;
	host_t *host;
	bool ok = TRUE;

	settings = settings_create(file);
	g->nodes = array_create(0, 0);
	enumerator = settings->create_key_value_enumerator(settings, "nodes");
	while (ok && enumerator->enumerate(enumerator, &name, &value))
	{
		host = host_create_from_string(value, 0);
		ok = host && host->get_family(host) == AF_INET6 &&
			 find_node(g, host) < 0 &&
			 array_count(g->nodes) < MPSS_TOPOLOGY_MAX_NODES;
		if (!ok)
		{
			DBG1(DBG_CFG, "qkd-mpss: topology %s: node '%s': '%s' is no "
				 "IPv6 address of its own (or too many nodes)", file, name,
				 value);
			DESTROY_IF(host);
			break;
		}
		array_insert(g->nodes, ARRAY_TAIL, host);
	}
	enumerator->destroy(enumerator);
	g->vertices = 2 * array_count(g->nodes);
	g->cap = calloc(g->vertices * g->vertices ?: 1, sizeof(int));
	g->flow = calloc(g->vertices * g->vertices ?: 1, sizeof(int));
	for (n = 0; n < array_count(g->nodes); n++)
	{
		CAP(g, 2 * n, 2 * n + 1) = 1;
	}
	enumerator = settings->create_key_value_enumerator(settings, "links");
	while (ok && enumerator->enumerate(enumerator, &name, &value))
	{
		n = 0;
		ends = enumerator_create_token(value, " ,-", " ");
		while (ends->enumerate(ends, &end))
		{
			idx[min(n, 1)] = node_index(settings, g, end);
			ok = ok && idx[min(n, 1)] >= 0;
			n++;
		}
		ends->destroy(ends);
		if (!ok || n != 2 || idx[0] == idx[1])
		{
			DBG1(DBG_CFG, "qkd-mpss: topology %s: link '%s' must join two "
				 "nodes of the nodes section, not '%s'", file, name, value);
			ok = FALSE;
			break;
		}
		CAP(g, 2 * idx[0] + 1, 2 * idx[1]) = 1;
		CAP(g, 2 * idx[1] + 1, 2 * idx[0]) = 1;
	}
	enumerator->destroy(enumerator);
	settings->destroy(settings);
	if (ok && !array_count(g->nodes))
	{
		DBG1(DBG_CFG, "qkd-mpss: topology %s has no nodes", file);
		ok = FALSE;
	}
	return ok;
}

/**
 * Find a shortest augmenting path from s to t (BFS) and push one unit of
 * flow along it
 */
static bool augment(graph_t *g, u_int s, u_int t)
{
	int *prev, *queue, head = 0, tail = 0, u, v;
	bool found = FALSE;

	prev = malloc(g->vertices * sizeof(int));
	queue = malloc(g->vertices * sizeof(int));
	for (v = 0; v < g->vertices; v++)
	{
		prev[v] = -1;
	}
	prev[s] = s;
	queue[tail++] = s;
	while (head < tail && !found)
	{
		u = queue[head++];
		for (v = 0; v < g->vertices && !found; v++)
		{
			if (prev[v] < 0 && CAP(g, u, v) - FLOW(g, u, v) > 0)
			{
				prev[v] = u;
				queue[tail++] = v;
				found = v == t;
			}
		}
	}
	for (v = t; found && v != s; v = prev[v])
	{
		FLOW(g, prev[v], v)++;
		FLOW(g, v, prev[v])--;
	}
	free(prev);
	free(queue);
	return found;
}

/**
 * Follow one unit of flow from the source's out vertex to the
 * destination's in vertex, taking it off, into a path
 */
static qkd_mpss_path_t *take_path(graph_t *g, u_int s, u_int t, u_int id)
{
	qkd_mpss_path_t *path;
	host_t *node;
	u_int u = s, v;

	INIT(path,
		.id = id,
	);
	while (u != t)
	{
		for (v = 0; v < g->vertices; v++)
		{
			if (FLOW(g, u, v) > 0 && CAP(g, u, v))
			{
				break;
			}
		}
		if (v == g->vertices || path->count == QKD_MPSS_MAX_SEGMENTS)
		{
			break;
		}
		FLOW(g, u, v)--;
		array_get(g->nodes, v / 2, &node);
		path->segments[path->count++] = node->clone(node);
		/* through the node: from its in to its out vertex */
		if (v != t)
		{
			FLOW(g, v, v + 1)--;
			v++;
		}
		u = v;
	}
	if (u != t)
	{
		while (path->count)
		{
			path->count--;
			path->segments[path->count]->destroy(path->segments[path->count]);
		}
		free(path);
		return NULL;
	}
	return path;
}

/*
 * Described in header
 */
int mpss_topology_paths(char *file, host_t *source, host_t *dest,
						u_int wanted, qkd_mpss_path_t *paths[])
{
	graph_t g = {};
	int src, dst, found = 0;
	qkd_mpss_path_t *path;

	if (!load(file, &g))
	{
		graph_destroy(&g);
		return -1;
	}
	src = find_node(&g, source);
	dst = find_node(&g, dest);
	if (src < 0 || dst < 0 || src == dst)
	{
		DBG1(DBG_CFG, "qkd-mpss: topology %s: %H and %H must be two of its "
			 "nodes", file, source, dest);
		graph_destroy(&g);
		return -1;
	}
	while (found < wanted && augment(&g, 2 * src + 1, 2 * dst))
	{
		found++;
	}
	for (wanted = found, found = 0; found < wanted; found++)
	{
		path = take_path(&g, 2 * src + 1, 2 * dst, found + 1);
		if (!path)
		{
			break;
		}
		paths[found] = path;
	}
	graph_destroy(&g);
	return found;
}
