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

#include <utils/debug.h>

/*
 * Described in header
 */
char *qkdctl_events[] = {
	"key-bound", "pool-low", "pool-dry", "pool-refilled", "kme-error",
	"kme-recovered", "doh-peer-up", "doh-peer-down", "doh-peer-reset",
	"ikeless-sa-installed", "ikeless-sa-rekeyed", "ikeless-sa-removed", NULL,
};

/**
 * A value of a section, "" if none
 */
static char *get(vici_res_t *res, char *section, char *key)
{
	if (section)
	{
		return vici_find_str(res, "", "%s.%s", section, key);
	}
	return vici_find_str(res, "", "%s", key);
}

/**
 * The values of a message: the name of its first section, and the items of
 * two lists in it (joined with ", ")
 */
static void walk(vici_res_t *res, char *name, size_t len, char *list1,
				 char *items1, char *list2, char *items2, size_t items_len)
{
	char *current = NULL, *value;
	int depth = 0;

	name[0] = items1[0] = items2[0] = '\0';
	while (TRUE)
	{
		switch (vici_parse(res))
		{
			case VICI_PARSE_BEGIN_SECTION:
				if (depth++ == 0)
				{
					snprintf(name, len, "%s", vici_parse_name(res));
				}
				continue;
			case VICI_PARSE_END_SECTION:
				depth--;
				continue;
			case VICI_PARSE_BEGIN_LIST:
				value = vici_parse_name(res);
				current = list1 && streq(value, list1) ? items1 :
						  list2 && streq(value, list2) ? items2 : NULL;
				continue;
			case VICI_PARSE_LIST_ITEM:
				value = vici_parse_value_str(res);
				if (current && value)
				{
					snprintf(current + strlen(current),
							 items_len - strlen(current), "%s%s",
							 current[0] ? ", " : "", value);
				}
				continue;
			case VICI_PARSE_END_LIST:
				current = NULL;
				continue;
			case VICI_PARSE_KEY_VALUE:
				continue;
			default:
				return;
		}
	}
}

/**
 * A link's configuration
 */
static void print_link(vici_res_t *res)
{
	char link[128], conns[512], addrs[512];

	walk(res, link, sizeof(link), "connections", conns, "remote-addrs",
		 addrs, sizeof(conns));
	printf("%s: KME %s, SAE '%s' <-> '%s', %s-bit keys\n", link,
		   get(res, link, "kme"), get(res, link, "sae-id"),
		   get(res, link, "peer-sae-id"), get(res, link, "key-size"));
	if (conns[0])
	{
		printf("  connections: %s\n", conns);
	}
	if (addrs[0])
	{
		printf("  remote addresses: %s\n", addrs);
	}
	printf("  pool: %s", get(res, link, "pool"));
	if (streq(get(res, link, "doh"), "yes"))
	{
		printf(", DOH %s %s <-> %s", get(res, link, "doh-role"),
			   get(res, link, "doh-local"), get(res, link, "doh-peer"));
	}
	printf("\n");
}

/**
 * Print an age in seconds if there is one
 */
static void print_age(char *label, char *age)
{
	if (age[0])
	{
		printf("%s %ss ago", label, age);
	}
	else
	{
		printf("%s never", label);
	}
}

/**
 * A link's pool
 */
static void print_pool(vici_res_t *res)
{
	char link[128], none[1];
	char *error, *oldest;

	walk(res, link, sizeof(link), NULL, none, NULL, none, 1);
	printf("%s: %s idle, %s pending (%s reserved), %s active, %s expired; "
		   "capacity %s, low %s\n", link, get(res, link, "idle"),
		   get(res, link, "pending"), get(res, link, "reserved"),
		   get(res, link, "active"), get(res, link, "expired"),
		   get(res, link, "capacity"), get(res, link, "low"));
	printf("  loaded %s, stored %s, dropped %s", get(res, link, "loaded"),
		   get(res, link, "stored"), get(res, link, "dropped"));
	oldest = get(res, link, "oldest-idle-age");
	if (oldest[0])
	{
		printf(", oldest Idle key %ss old", oldest);
	}
	printf("\n  ");
	print_age("last refill", get(res, link, "last-refill-age"));
	error = get(res, link, "last-error");
	printf(", last error: %s\n", error[0] ? error : "none");
}

/**
 * A key's metadata
 */
static void print_key(vici_res_t *res)
{
	printf("%s #%s %s %s %ss\n", get(res, NULL, "link"),
		   get(res, NULL, "index"), get(res, NULL, "keyid"),
		   get(res, NULL, "status"), get(res, NULL, "age"));
}

/**
 * Print the key/values of a section one level down, as "key value, ..."
 */
static void print_counters(vici_res_t *res, char *section, char *sub)
{
	char *name, *value;
	int depth = 0, n = 0;
	bool in = FALSE;

	printf("  %s:", sub);
	while (TRUE)
	{
		switch (vici_parse(res))
		{
			case VICI_PARSE_BEGIN_SECTION:
				in = ++depth == 2 && streq(vici_parse_name(res), sub);
				continue;
			case VICI_PARSE_END_SECTION:
				depth--;
				in = FALSE;
				continue;
			case VICI_PARSE_KEY_VALUE:
				if (in)
				{
					name = vici_parse_name(res);
					value = vici_parse_value_str(res);
					printf("%s%s %s", n++ % 6 ? ", " : "\n    ", name,
						   value ?: "");
				}
				continue;
			case VICI_PARSE_BEGIN_LIST:
			case VICI_PARSE_LIST_ITEM:
			case VICI_PARSE_END_LIST:
				continue;
			default:
				printf("\n");
				return;
		}
	}
}

/**
 * DOH with a link's peer
 */
static void print_doh(vici_res_t *res)
{
	char link[128];

	/* the section name first, the counters in the same walk after */
	if (vici_parse(res) != VICI_PARSE_BEGIN_SECTION)
	{
		return;
	}
	snprintf(link, sizeof(link), "%s", vici_parse_name(res));
	printf("%s: %s with %s, DOH key generation %s, bound %s own, %s peer\n",
		   link, get(res, link, "state"), get(res, link, "peer"),
		   get(res, link, "key-generation"), get(res, link, "bound-own"),
		   get(res, link, "bound-peer"));
	print_counters(res, link, "counters");
}

/**
 * An IKE-less child
 */
static void print_ikeless(vici_res_t *res)
{
	char child[128], none[1];

	walk(res, child, sizeof(child), NULL, none, NULL, none, 1);
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
}

/**
 * How calls to a link's KME went
 */
static void print_kme(vici_res_t *res)
{
	char link[128], none[1];
	char *error;

	walk(res, link, sizeof(link), NULL, none, NULL, none, 1);
	printf("%s: %s %s, %s calls, %s errors\n", link, get(res, link, "kme"),
		   get(res, link, "state"), get(res, link, "calls"),
		   get(res, link, "errors"));
	if (get(res, link, "last-call")[0])
	{
		printf("  last call %s %ss ago, %s ms\n", get(res, link, "last-call"),
			   get(res, link, "last-call-age"),
			   get(res, link, "last-latency-ms"));
	}
	error = get(res, link, "last-error");
	if (error[0])
	{
		printf("  last error: %s %ss ago\n", error,
			   get(res, link, "last-error-age"));
	}
}

/**
 * An event, as "<name> <link>: key=value ..."
 */
static void print_event(char *name, vici_res_t *res)
{
	char *key, *value;

	printf("%s %s:", name, get(res, NULL, "link"));
	while (vici_parse(res) == VICI_PARSE_KEY_VALUE)
	{
		key = vici_parse_name(res);
		value = vici_parse_value_str(res);
		if (!streq(key, "link"))
		{
			printf(" %s=%s", key, value ?: "");
		}
	}
	printf("\n");
}

/**
 * Print a message as asked
 */
static void print(qkdctl_opts_t *opts, char *name, vici_res_t *res)
{
	struct {
		char *name;
		void (*print)(vici_res_t *res);
	} printers[] = {
		{ "list-link", print_link },
		{ "list-pool", print_pool },
		{ "list-key", print_key },
		{ "list-doh-peer", print_doh },
		{ "list-ikeless-sa", print_ikeless },
		{ "list-kme", print_kme },
	};
	int i;

	if (opts->format != QKDCTL_TEXT)
	{
		vici_dump(res, name, opts->format == QKDCTL_PRETTY, stdout);
	}
	else
	{
		for (i = 0; i < countof(printers); i++)
		{
			if (streq(name, printers[i].name))
			{
				printers[i].print(res);
				break;
			}
		}
		if (i == countof(printers))
		{
			print_event(name, res);
		}
	}
	fflush(stdout);
}

CALLBACK(on_event, void,
	qkdctl_opts_t *opts, char *name, vici_res_t *res)
{
	print(opts, name, res);
}

/**
 * Check a command's reply, FALSE (and an error on stderr) if it failed
 */
static bool check_reply(char *command, vici_res_t *res)
{
	if (!res)
	{
		fprintf(stderr, "%s request failed: %s\n", command, strerror(errno));
		return FALSE;
	}
	if (!streq(vici_find_str(res, "no", "success"), "yes"))
	{
		fprintf(stderr, "%s failed: %s\n", command,
				vici_find_str(res, "unknown error", "errmsg"));
		return FALSE;
	}
	return TRUE;
}

/*
 * Described in header
 */
int qkdctl_list(vici_conn_t *conn, char *command, qkdctl_opts_t *opts)
{
	char event[64];
	vici_req_t *req;
	vici_res_t *res;
	bool ok;

	/* list-pools streams list-pool, list-doh list-doh-peer, ... */
	snprintf(event, sizeof(event), "%s", command);
	if (streq(command, "list-doh"))
	{
		snprintf(event, sizeof(event), "list-doh-peer");
	}
	else if (streq(command, "list-ikeless"))
	{
		snprintf(event, sizeof(event), "list-ikeless-sa");
	}
	else if (event[strlen(event) - 1] == 's')
	{
		event[strlen(event) - 1] = '\0';
	}
	if (vici_register(conn, event, on_event, opts) != 0)
	{
		fprintf(stderr, "registering for %s failed: %s\n", event,
				strerror(errno));
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
	res = vici_submit(req, conn);
	ok = check_reply(command, res);
	if (res && opts->format != QKDCTL_TEXT)
	{
		vici_dump(res, command, opts->format == QKDCTL_PRETTY, stdout);
	}
	if (res)
	{
		vici_free_res(res);
	}
	vici_register(conn, event, NULL, NULL);
	return ok ? 0 : 1;
}

/**
 * The server closed the connection: stop waiting
 */
CALLBACK(on_close, void,
	bool *closed)
{
	*closed = TRUE;
	send_sigint();
}

/*
 * Described in header
 */
int qkdctl_monitor(vici_conn_t *conn, qkdctl_opts_t *opts)
{
	char **events = opts->events && opts->events[0] ? opts->events
													: qkdctl_events;
	bool closed = FALSE;
	int i;

	for (i = 0; events[i]; i++)
	{
		if (vici_register(conn, events[i], on_event, opts) != 0)
		{
			fprintf(stderr, "registering for %s failed: %s\n", events[i],
					strerror(errno));
			return 1;
		}
	}
	vici_on_close(conn, on_close, &closed);
	fprintf(stderr, "watching %d events, ^C to stop\n", i);
	wait_sigint();
	if (closed)
	{
		fprintf(stderr, "the control socket closed the connection\n");
		return 1;
	}
	return 0;
}
