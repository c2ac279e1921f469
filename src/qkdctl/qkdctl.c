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

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include <utils/debug.h>

/**
 * Name of the control socket in charon's piddir
 */
#define SOCKET_NAME "charon.qkd.vici"

/**
 * Piddir of Debian's charon
 */
#define DEBIAN_PIDDIR "/run"

/**
 * Commands, getopt_long()'s values of their options (above any character)
 */
typedef enum {
	CMD_NONE = 0x100,
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
 * A command: its option, its name on the socket, what it needs
 */
static struct {
	/** option, without "--" */
	char *option;
	/** command on the socket, NULL for --monitor */
	char *name;
	/** --link is required (1), optional (0) or not taken (-1) */
	int link;
} commands[] = {
	[CMD_LIST_LINKS - CMD_LIST_LINKS] = { "list-links", "list-links", 0 },
	[CMD_LIST_POOLS - CMD_LIST_LINKS] = { "list-pools", "list-pools", 0 },
	[CMD_LIST_KEYS - CMD_LIST_LINKS] = { "list-keys", "list-keys", 1 },
	[CMD_LIST_DOH - CMD_LIST_LINKS] = { "list-doh", "list-doh", 0 },
	[CMD_LIST_IKELESS - CMD_LIST_LINKS] = { "list-ikeless", "list-ikeless", 0 },
	[CMD_LIST_KMES - CMD_LIST_LINKS] = { "list-kmes", "list-kmes", 0 },
	[CMD_RESYNC - CMD_LIST_LINKS] = { "resync", "resync", 1 },
	[CMD_REFILL - CMD_LIST_LINKS] = { "refill", "refill", 1 },
	[CMD_DRAIN - CMD_LIST_LINKS] = { "drain", "drain", 1 },
	[CMD_RELOAD_LINKS - CMD_LIST_LINKS] = { "reload-links", "reload-links", -1 },
	[CMD_MONITOR - CMD_LIST_LINKS] = { "monitor", NULL, -1 },
};

/**
 * The command entry of a command_t
 */
#define COMMAND(c) commands[(c) - CMD_LIST_LINKS]

/**
 * Print the usage, to stderr after an error
 *
 * @param error		error message, NULL for --help
 * @return			exit status
 */
static int usage(char *error, ...)
{
	FILE *out = error ? stderr : stdout;
	va_list args;

	if (error)
	{
		fprintf(out, "qkdctl: ");
		va_start(args, error);
		vfprintf(out, error, args);
		va_end(args);
		fprintf(out, "\n");
	}
	fprintf(out,
"qkdctl: the qkd plugin's control socket (docs/vici.md)\n"
"usage:\n"
"  qkdctl --list-links   [--link NAME]  links: KME, SAEs, connections, DOH\n"
"  qkdctl --list-pools   [--link NAME]  keys per status, refills, errors\n"
"  qkdctl --list-keys    --link NAME [--status idle|pending|active|expired]\n"
"                        [--limit N]    key metadata (never key bytes)\n"
"  qkdctl --list-doh     [--link NAME]  DOH peers, states and counters\n"
"  qkdctl --list-ikeless [--link NAME]  IKE-less children and their SAs\n"
"  qkdctl --list-kmes    [--link NAME]  KME health: calls, errors, latency\n"
"  qkdctl --resync       --link NAME    send a sync to the DOH peer now\n"
"  qkdctl --refill       --link NAME    fill the pool from the KME now\n"
"  qkdctl --drain        --link NAME    expire every Idle key of the pool\n"
"  qkdctl --reload-links                load the links from strongswan.conf\n"
"  qkdctl --monitor      [--event NAME ...]\n"
"                                       print events (all if none named)\n"
"                                       until SIGINT/SIGTERM\n"
"options:\n"
"  --uri URI   control socket, unix://PATH or tcp://HOST:PORT; default:\n"
"              qkdctl.socket, else charon.plugins.qkd.vici.socket in\n"
"              strongswan.conf, else\n"
"              unix://%s/%s if it exists,\n"
"              else unix://%s/%s\n"
"  --raw       vici's dump of each message on one line\n"
"  --pretty    vici's dump of each message, indented\n"
"  --help      this text\n"
"events:\n"
"  key-bound pool-low pool-dry pool-refilled kme-error kme-recovered\n"
"  doh-peer-up doh-peer-down doh-peer-reset ikeless-sa-installed\n"
"  ikeless-sa-rekeyed ikeless-sa-removed\n",
		IPSEC_PIDDIR, SOCKET_NAME, DEBIAN_PIDDIR, SOCKET_NAME);
	return error ? 1 : 0;
}

/**
 * The URI to connect to if none is given: settings, else the socket in
 * this build's piddir if it exists, else the one in Debian's piddir
 *
 * @return			URI (static or from settings)
 */
static char *default_uri()
{
	char *configured;
	struct stat st;

	configured = lib->settings->get_str(lib->settings, "qkdctl.socket",
					lib->settings->get_str(lib->settings,
							"charon.plugins.qkd.vici.socket", NULL));
	if (configured)
	{
		return configured;
	}
	if (stat(IPSEC_PIDDIR "/" SOCKET_NAME, &st) == 0)
	{
		return "unix://" IPSEC_PIDDIR "/" SOCKET_NAME;
	}
	return "unix://" DEBIAN_PIDDIR "/" SOCKET_NAME;
}

/**
 * Check an event name of --event
 *
 * @param name		event name
 * @return			TRUE if the control socket has that event
 */
static bool known_event(char *name)
{
	int i;

	for (i = 0; qkdctl_events[i]; i++)
	{
		if (streq(qkdctl_events[i], name))
		{
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * Check --status: the key statuses the server accepts (in any case)
 *
 * @param status	value of --status
 * @return			TRUE if valid
 */
static bool valid_status(char *status)
{
	return strcaseeq(status, "idle") || strcaseeq(status, "pending") ||
		   strcaseeq(status, "active") || strcaseeq(status, "expired");
}

/**
 * Check --limit: a positive number
 *
 * @param limit		value of --limit
 * @return			TRUE if valid
 */
static bool valid_limit(char *limit)
{
	char *end;
	long value;

	errno = 0;
	value = strtol(limit, &end, 10);
	return limit[0] && !*end && !errno && value > 0 && value <= INT_MAX;
}

/*
 * Described in header
 */
bool qkdctl_dump(qkdctl_opts_t *opts, char *name, char *kind,
				 vici_res_t *res)
{
	char label[128];

	if (opts->format == QKDCTL_TEXT)
	{
		return FALSE;
	}
	snprintf(label, sizeof(label), "%s %s", name, kind);
	vici_dump(res, label, opts->format == QKDCTL_PRETTY, stdout);
	fflush(stdout);
	return TRUE;
}

/*
 * Described in header
 */
vici_res_t *qkdctl_submit(vici_conn_t *conn, vici_req_t *req, char *command,
						  qkdctl_opts_t *opts)
{
	vici_res_t *res;

	res = vici_submit(req, conn);
	if (!res)
	{
		if (errno == ENOENT)
		{	/* libvici's answer to CMD_UNKNOWN */
			fprintf(stderr, "%s failed: the control socket does not know "
					"this command (an older plugin?)\n", command);
		}
		else
		{
			fprintf(stderr, "%s request failed: %s\n", command,
					strerror(errno));
		}
		return NULL;
	}
	qkdctl_dump(opts, command, "reply", res);
	if (!streq(vici_find_str(res, "no", "success"), "yes"))
	{
		fprintf(stderr, "%s failed: %s\n", command,
				vici_find_str(res, "unknown error", "errmsg"));
		vici_free_res(res);
		return NULL;
	}
	return res;
}

/**
 * Free the library on exit
 */
static void cleanup()
{
	lib->processor->cancel(lib->processor);
	library_deinit();
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
	char *events[64] = {}, *uri = NULL;
	qkdctl_opts_t opts = {
		.events = events,
	};
	command_t command = CMD_NONE;
	vici_conn_t *conn;
	sigset_t set;
	int c, nevents = 0, ret, i;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'l':
				opts.link = optarg;
				break;
			case 's':
				if (!valid_status(optarg))
				{
					return usage("invalid --status '%s', expected idle, "
								 "pending, active or expired", optarg);
				}
				/* the spec's spelling; the server takes any case */
				for (i = 0; optarg[i]; i++)
				{
					optarg[i] = tolower(optarg[i]);
				}
				opts.status = optarg;
				break;
			case 'n':
				if (!valid_limit(optarg))
				{
					return usage("invalid --limit '%s', expected a positive "
								 "number", optarg);
				}
				opts.limit = optarg;
				break;
			case 'e':
				if (!known_event(optarg))
				{
					return usage("unknown event '%s'", optarg);
				}
				for (i = 0; i < nevents && !streq(events[i], optarg); i++)
				{
					/* named twice? */
				}
				if (i == nevents)
				{
					events[nevents++] = optarg;
				}
				break;
			case 'u':
				uri = optarg;
				break;
			case 'r':
				if (opts.format != QKDCTL_PRETTY)
				{
					opts.format = QKDCTL_RAW;
				}
				break;
			case 'P':
				opts.format = QKDCTL_PRETTY;
				break;
			case CMD_HELP:
				return usage(NULL);
			case '?':
				if (!optopt)
				{
					return usage("unknown or ambiguous option '%s'",
								 argv[optind - 1]);
				}
				if (strpfx(argv[optind - 1], "--"))
				{
					return usage("option '%s' needs an argument",
								 argv[optind - 1]);
				}
				return usage("unknown option '-%c'", optopt);
			default:
				if (command != CMD_NONE && command != c)
				{
					return usage("more than one command given (--%s and --%s)",
								 COMMAND(command).option, COMMAND(c).option);
				}
				command = c;
				break;
		}
	}
	if (optind < argc)
	{
		return usage("unexpected argument '%s'", argv[optind]);
	}
	if (command == CMD_NONE)
	{
		return usage("no command given");
	}
	if (!opts.link && COMMAND(command).link > 0)
	{
		return usage("--%s needs --link NAME", COMMAND(command).option);
	}
	if (opts.link && COMMAND(command).link < 0)
	{
		return usage("--%s takes no --link", COMMAND(command).option);
	}
	if ((opts.status || opts.limit) && command != CMD_LIST_KEYS)
	{
		return usage("--status and --limit go with --list-keys only");
	}
	if (nevents && command != CMD_MONITOR)
	{
		return usage("--event goes with --monitor only");
	}

	if (command == CMD_MONITOR)
	{	/* for sigwaitinfo() in qkdctl_monitor(), before any thread starts:
		 * the threads inherit the mask */
		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
	}

	atexit(cleanup);
	if (!library_init(NULL, "qkdctl"))
	{
		fprintf(stderr, "qkdctl: initializing libstrongswan failed\n");
		return 1;
	}
	/* libvici needs threads for its connection; no log lines from them,
	 * qkdctl reports errors itself */
	dbg_default_set_level(0);
	lib->processor->set_threads(lib->processor, 4);

	uri = uri ?: default_uri();
	errno = 0;
	conn = vici_connect(uri);
	if (!conn)
	{
		fprintf(stderr, "connecting to '%s' failed: %s\n", uri,
				errno ? strerror(errno) : "invalid URI (expected "
				"unix://PATH or tcp://HOST:PORT)");
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
			ret = qkdctl_action(conn, COMMAND(command).name, &opts);
			break;
		default:
			ret = qkdctl_list(conn, COMMAND(command).name, &opts);
			break;
	}
	vici_disconnect(conn);
	return ret;
}
