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

#include "qkdctl.h"

#include <errno.h>
#include <stdio.h>

/**
 * Width of the counters' lines of --list-doh
 */
#define COUNTERS_WIDTH 78

/**
 * A value of an item's section ("" if the server left it out)
 *
 * @param res		streamed item
 * @param section	name of the item's section
 * @param key		key in it
 * @return			value, "" if none
 */
static char *get(vici_res_t *res, char *section, char *key)
{
	return vici_find_str(res, "", "%s.%s", section, key);
}

/**
 * Print " <age>s ago" if the server sent an age
 */
static void print_ago(char *age)
{
	if (age[0])
	{
		printf(" %ss ago", age);
	}
}

/**
 * The lists of a link: connections and remote addresses, joined by ", "
 */
typedef struct {
	/** names of the connections */
	char conns[512];
	/** remote addresses */
	char addrs[512];
} link_lists_t;

/**
 * Append a list item to a buffer, ", " separated
 */
static void append(char *buf, size_t size, void *value, int len)
{
	size_t used = strlen(buf);

	snprintf(buf + used, size - used, "%s%.*s", used ? ", " : "", len,
			 (char*)value);
}

CALLBACK(link_item, int,
	link_lists_t *lists, vici_res_t *res, char *name, void *value, int len)
{
	if (streq(name, "connections"))
	{
		append(lists->conns, sizeof(lists->conns), value, len);
	}
	else if (streq(name, "remote-addrs"))
	{
		append(lists->addrs, sizeof(lists->addrs), value, len);
	}
	return 0;
}

CALLBACK(link_section, int,
	void *null, vici_res_t *res, char *link)
{
	link_lists_t lists = {};
	int ret;

	ret = vici_parse_cb(res, NULL, NULL, link_item, &lists);
	printf("%s: KME %s, SAE '%s' <-> '%s', %s-bit keys\n", link,
		   get(res, link, "kme"), get(res, link, "sae-id"),
		   get(res, link, "peer-sae-id"), get(res, link, "key-size"));
	if (lists.conns[0])
	{
		printf("  connections: %s\n", lists.conns);
	}
	if (lists.addrs[0])
	{
		printf("  remote addresses: %s\n", lists.addrs);
	}
	printf("  pool: %s", get(res, link, "pool"));
	if (streq(get(res, link, "doh"), "yes"))
	{
		printf(", DOH %s %s <-> %s", get(res, link, "doh-role"),
			   get(res, link, "doh-local"), get(res, link, "doh-peer"));
	}
	printf("\n");
	return ret;
}

/**
 * A link's configuration (list-link)
 */
static int print_link(vici_res_t *res)
{
	return vici_parse_cb(res, link_section, NULL, NULL, NULL);
}

CALLBACK(pool_section, int,
	void *null, vici_res_t *res, char *link)
{
	char *age, *low, *oldest, *error;

	printf("%s: %s idle, %s pending (%s reserved), %s active, %s expired; "
		   "capacity %s", link, get(res, link, "idle"),
		   get(res, link, "pending"), get(res, link, "reserved"),
		   get(res, link, "active"), get(res, link, "expired"),
		   get(res, link, "capacity"));
	low = get(res, link, "low");
	if (low[0])
	{
		printf(", low %s", low);
	}
	printf("\n  loaded %s, stored %s, dropped %s", get(res, link, "loaded"),
		   get(res, link, "stored"), get(res, link, "dropped"));
	oldest = get(res, link, "oldest-idle-age");
	if (oldest[0])
	{
		printf(", oldest Idle key %ss old", oldest);
	}
	age = get(res, link, "last-refill-age");
	error = get(res, link, "last-error");
	printf("\n  last refill %s%s%s, last error: %s\n", age[0] ? age : "never",
		   age[0] ? "s" : "", age[0] ? " ago" : "", error[0] ? error : "none");
	return 0;
}

/**
 * A link's pool (list-pool)
 */
static int print_pool(vici_res_t *res)
{
	return vici_parse_cb(res, pool_section, NULL, NULL, NULL);
}

/**
 * A key's metadata (list-key, a flat message)
 */
static int print_key(vici_res_t *res)
{
	printf("%s #%s %s %s %ss\n", vici_find_str(res, "", "link"),
		   vici_find_str(res, "", "index"), vici_find_str(res, "", "keyid"),
		   vici_find_str(res, "", "status"), vici_find_str(res, "", "age"));
	return 0;
}

CALLBACK(counter, int,
	int *column, vici_res_t *res, char *name, void *value, int len)
{
	int width;

	width = strlen(name) + 1 + len;
	if (*column && *column + 2 + width > COUNTERS_WIDTH)
	{
		printf(",\n");
		*column = 0;
	}
	if (*column)
	{
		printf(", ");
		*column += 2;
	}
	else
	{
		printf("    ");
		*column = 4;
	}
	printf("%s %.*s", name, len, (char*)value);
	*column += width;
	return 0;
}

CALLBACK(doh_subsection, int,
	void *null, vici_res_t *res, char *name)
{
	int column = 0, ret;

	if (!streq(name, "counters"))
	{
		return 0;
	}
	printf("  counters:\n");
	ret = vici_parse_cb(res, NULL, counter, NULL, &column);
	if (column)
	{
		printf("\n");
	}
	return ret;
}

CALLBACK(doh_section, int,
	void *null, vici_res_t *res, char *link)
{
	printf("%s: %s with %s, DOH key generation %s, bound %s own, %s peer\n",
		   link, get(res, link, "state"), get(res, link, "peer"),
		   get(res, link, "key-generation"), get(res, link, "bound-own"),
		   get(res, link, "bound-peer"));
	return vici_parse_cb(res, doh_subsection, NULL, NULL, NULL);
}

/**
 * DOH with a link's peer (list-doh-peer)
 */
static int print_doh(vici_res_t *res)
{
	return vici_parse_cb(res, doh_section, NULL, NULL, NULL);
}

CALLBACK(ikeless_section, int,
	void *null, vici_res_t *res, char *child)
{
	printf("%s (link %s): %s, %s SA pairs so far\n", child,
		   get(res, child, "link"), get(res, child, "state"),
		   get(res, child, "pairs"));
	if (streq(get(res, child, "state"), "installed"))
	{
		printf("  SPIs %s_i %s_o, key %s, %ss\n", get(res, child, "spi-in"),
			   get(res, child, "spi-out"), get(res, child, "keyid"),
			   get(res, child, "age"));
		printf("  %s bytes in, %s bytes out\n", get(res, child, "bytes-in"),
			   get(res, child, "bytes-out"));
	}
	return 0;
}

/**
 * An IKE-less child (list-ikeless-sa)
 */
static int print_ikeless(vici_res_t *res)
{
	return vici_parse_cb(res, ikeless_section, NULL, NULL, NULL);
}

CALLBACK(kme_section, int,
	void *null, vici_res_t *res, char *link)
{
	char *call, *error, *latency;

	printf("%s: %s %s, %s calls, %s errors\n", link, get(res, link, "kme"),
		   get(res, link, "state"), get(res, link, "calls"),
		   get(res, link, "errors"));
	call = get(res, link, "last-call");
	if (call[0])
	{
		printf("  last call %s", call);
		print_ago(get(res, link, "last-call-age"));
		latency = get(res, link, "last-latency-ms");
		if (latency[0])
		{
			printf(", %s ms", latency);
		}
		printf("\n");
	}
	error = get(res, link, "last-error");
	if (error[0])
	{
		printf("  last error: %s", error);
		print_ago(get(res, link, "last-error-age"));
		printf("\n");
	}
	return 0;
}

/**
 * How calls to a link's KME went (list-kme)
 */
static int print_kme(vici_res_t *res)
{
	return vici_parse_cb(res, kme_section, NULL, NULL, NULL);
}

/**
 * Listing commands, the event each streams and how it is printed
 */
static struct {
	/** command */
	char *command;
	/** streamed event */
	char *event;
	/** text printer of an event */
	int (*print)(vici_res_t *res);
} listings[] = {
	{ "list-links", "list-link", print_link },
	{ "list-pools", "list-pool", print_pool },
	{ "list-keys", "list-key", print_key },
	{ "list-doh", "list-doh-peer", print_doh },
	{ "list-ikeless", "list-ikeless-sa", print_ikeless },
	{ "list-kmes", "list-kme", print_kme },
};

/**
 * A streamed item and how to print it
 */
typedef struct {
	/** options */
	qkdctl_opts_t *opts;
	/** text printer */
	int (*print)(vici_res_t *res);
} listing_t;

CALLBACK(on_item, void,
	listing_t *listing, char *name, vici_res_t *res)
{
	if (qkdctl_dump(listing->opts, name, "event", res))
	{
		return;
	}
	if (listing->print(res) != 0)
	{
		fprintf(stderr, "parsing %s event failed: %s\n", name,
				strerror(errno));
	}
	fflush(stdout);
}

/*
 * Described in header
 */
int qkdctl_list(vici_conn_t *conn, char *command, qkdctl_opts_t *opts)
{
	listing_t listing = {
		.opts = opts,
	};
	vici_req_t *req;
	vici_res_t *res;
	char *event = NULL;
	int i;

	for (i = 0; i < countof(listings); i++)
	{
		if (streq(listings[i].command, command))
		{
			event = listings[i].event;
			listing.print = listings[i].print;
			break;
		}
	}
	if (!event)
	{
		fprintf(stderr, "%s is no listing\n", command);
		return 1;
	}
	if (vici_register(conn, event, on_item, &listing) != 0)
	{
		fprintf(stderr, "registering for %s failed: %s\n", event,
				errno == ENOENT ? "the control socket does not know it"
								: strerror(errno));
		return 1;
	}
	req = vici_begin(command);
	if (opts->link)
	{
		vici_add_key_valuef(req, "link", "%s", opts->link);
	}
	if (opts->status)
	{
		vici_add_key_valuef(req, "status", "%s", opts->status);
	}
	if (opts->limit)
	{
		vici_add_key_valuef(req, "limit", "%s", opts->limit);
	}
	res = qkdctl_submit(conn, req, command, opts);
	vici_register(conn, event, NULL, NULL);
	if (!res)
	{
		return 1;
	}
	vici_free_res(res);
	return 0;
}
