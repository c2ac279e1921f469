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
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include <utils/debug.h>

/**
 * Name of the control socket in charon's piddir
 */
#define SOCKET_NAME "charon.qkd.vici"

/**
 * Commands
 */
typedef enum {
	CMD_NONE,
	CMD_LIST_LINKS,
	CMD_LIST_POOLS,
	CMD_LIST_KEYS,
	CMD_LIST_DOH,
	CMD_LIST_IKELESS,
	CMD_LIST_KMES,
	CMD_RESYNC,
	CMD_REFILL,
	CMD_DRAIN,
	CMD_RELOAD_LINKS,
	CMD_MONITOR,
	CMD_HELP,
} command_t;

/**
 * Command names on the socket, by command_t
 */
static char *names[] = {
	NULL, "list-links", "list-pools", "list-keys", "list-doh",
	"list-ikeless", "list-kmes", "resync", "refill", "drain", "reload-links",
	NULL, NULL,
};

/**
 * Print the usage, to stderr with an error
 */
static int usage(char *error)
{
	FILE *out = error ? stderr : stdout;

	if (error)
	{
		fprintf(out, "Error: %s\n", error);
	}
	fprintf(out,
"qkdctl: the qkd plugin's control socket (docs/vici.md)\n"
"usage:\n"
"  qkdctl --list-links   [--link NAME]   links: KME, SAEs, connections, DOH\n"
"  qkdctl --list-pools   [--link NAME]   keys per status, refills, errors\n"
"  qkdctl --list-keys    --link NAME [--status idle|pending|active|expired]\n"
"                        [--limit N]     key metadata (never key bytes)\n"
"  qkdctl --list-doh     [--link NAME]   DOH peers, states and counters\n"
"  qkdctl --list-ikeless [--link NAME]   IKE-less children and their SAs\n"
"  qkdctl --list-kmes    [--link NAME]   KME health: calls, errors, latency\n"
"  qkdctl --resync       --link NAME     send a sync to the DOH peer now\n"
"  qkdctl --refill       --link NAME     fill the pool from the KME now\n"
"  qkdctl --drain        --link NAME     expire every Idle key of the pool\n"
"  qkdctl --reload-links                 load the links from strongswan.conf\n"
"  qkdctl --monitor      [--event NAME ...]  print events until ^C\n"
"options:\n"
"  --uri URI   control socket (default: qkdctl.socket or\n"
"              charon.plugins.qkd.vici.socket in strongswan.conf, else\n"
"              unix://%s/%s or unix:///run/%s)\n"
"  --raw       vici's dump of each message on one line\n"
"  --pretty    vici's dump of each message, indented\n"
"  --help      this text\n", IPSEC_PIDDIR, SOCKET_NAME, SOCKET_NAME);
	return error ? 1 : 0;
}

/**
 * The URI to connect to, if none given: settings, else the socket in the
 * piddir of this build or /run (Debian's charon) that exists
 */
static char *default_uri()
{
	static char uri[PATH_MAX];
	char *configured, path[PATH_MAX];
	struct stat st;

	configured = lib->settings->get_str(lib->settings, "qkdctl.socket",
					lib->settings->get_str(lib->settings,
							"charon.plugins.qkd.vici.socket", NULL));
	if (configured)
	{
		return configured;
	}
	snprintf(path, sizeof(path), "%s/%s", IPSEC_PIDDIR, SOCKET_NAME);
	if (stat(path, &st) != 0)
	{
		snprintf(path, sizeof(path), "/run/%s", SOCKET_NAME);
	}
	snprintf(uri, sizeof(uri), "unix://%s", path);
	return uri;
}

/**
 * Run an action on a link, print its result
 */
static int action(vici_conn_t *conn, char *command, qkdctl_opts_t *opts)
{
	vici_req_t *req;
	vici_res_t *res;
	char *expired, *links;
	int ret = 1;

	req = vici_begin(command);
	if (opts->link)
	{
		vici_add_key_valuef(req, "link", "%s", opts->link);
	}
	res = vici_submit(req, conn);
	if (!res)
	{
		fprintf(stderr, "%s request failed: %s\n", command, strerror(errno));
		return 1;
	}
	if (opts->format != QKDCTL_TEXT)
	{
		vici_dump(res, command, opts->format == QKDCTL_PRETTY, stdout);
	}
	if (streq(vici_find_str(res, "no", "success"), "yes"))
	{
		ret = 0;
		if (opts->format == QKDCTL_TEXT)
		{
			expired = vici_find_str(res, NULL, "expired");
			links = vici_find_str(res, NULL, "links");
			printf("%s%s%s: done", command, opts->link ? " " : "",
				   opts->link ?: "");
			if (expired)
			{
				printf(", %s Idle keys expired", expired);
			}
			if (links)
			{
				printf(", %s links loaded", links);
			}
			printf("\n");
		}
	}
	else
	{
		fprintf(stderr, "%s failed: %s\n", command,
				vici_find_str(res, "unknown error", "errmsg"));
	}
	vici_free_res(res);
	return ret;
}

/**
 * Free the library on exit
 */
static void cleanup()
{
	vici_deinit();
}

int main(int argc, char *argv[])
{
	struct option long_opts[] = {
		{ "list-links", no_argument, NULL, CMD_LIST_LINKS },
		{ "list-pools", no_argument, NULL, CMD_LIST_POOLS },
		{ "list-keys", no_argument, NULL, CMD_LIST_KEYS },
		{ "list-doh", no_argument, NULL, CMD_LIST_DOH },
		{ "list-ikeless", no_argument, NULL, CMD_LIST_IKELESS },
		{ "list-kmes", no_argument, NULL, CMD_LIST_KMES },
		{ "resync", no_argument, NULL, CMD_RESYNC },
		{ "refill", no_argument, NULL, CMD_REFILL },
		{ "drain", no_argument, NULL, CMD_DRAIN },
		{ "reload-links", no_argument, NULL, CMD_RELOAD_LINKS },
		{ "monitor", no_argument, NULL, CMD_MONITOR },
		{ "help", no_argument, NULL, CMD_HELP },
		{ "link", required_argument, NULL, 'l' },
		{ "status", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "event", required_argument, NULL, 'e' },
		{ "uri", required_argument, NULL, 'u' },
		{ "raw", no_argument, NULL, 'r' },
		{ "pretty", no_argument, NULL, 'P' },
		{ 0 }
	};
	char *events[countof(names) + 16] = {}, *uri = NULL;
	qkdctl_opts_t opts = {
		.events = events,
	};
	command_t command = CMD_NONE;
	vici_conn_t *conn;
	int c, nevents = 0, ret, i;

	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'l':
				opts.link = optarg;
				break;
			case 's':
				opts.status = optarg;
				break;
			case 'n':
				opts.limit = optarg;
				break;
			case 'e':
				for (i = 0; qkdctl_events[i]; i++)
				{
					if (streq(qkdctl_events[i], optarg))
					{
						break;
					}
				}
				if (!qkdctl_events[i])
				{
					return usage("unknown event (see docs/vici.md)");
				}
				if (nevents >= countof(events) - 1)
				{
					return usage("too many events");
				}
				events[nevents++] = optarg;
				break;
			case 'u':
				uri = optarg;
				break;
			case 'r':
				opts.format = QKDCTL_RAW;
				break;
			case 'P':
				opts.format = QKDCTL_PRETTY;
				break;
			case CMD_HELP:
				return usage(NULL);
			case '?':
				return usage("invalid option");
			default:
				if (command != CMD_NONE)
				{
					return usage("more than one command given");
				}
				command = c;
				break;
		}
	}
	if (optind < argc)
	{
		return usage("unexpected argument");
	}
	if (command == CMD_NONE)
	{
		return usage("no command given");
	}
	if (!opts.link && (command == CMD_LIST_KEYS || command == CMD_RESYNC ||
					   command == CMD_REFILL || command == CMD_DRAIN))
	{
		return usage("this command needs --link NAME");
	}

	vici_init();
	atexit(cleanup);
	dbg_default_set_level(0);
	uri = uri ?: default_uri();
	conn = vici_connect(uri);
	if (!conn)
	{
		fprintf(stderr, "connecting to '%s' failed: %s\n", uri,
				strerror(errno));
		return 1;
	}
	switch (command)
	{
		case CMD_MONITOR:
			ret = qkdctl_monitor(conn, &opts);
			break;
		case CMD_RESYNC:
		case CMD_REFILL:
		case CMD_DRAIN:
		case CMD_RELOAD_LINKS:
			ret = action(conn, names[command], &opts);
			break;
		default:
			ret = qkdctl_list(conn, names[command], &opts);
			break;
	}
	vici_disconnect(conn);
	return ret;
}
