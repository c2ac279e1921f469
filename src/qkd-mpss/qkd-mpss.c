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


/*
 * qkd-mpss: the MPSS helper daemon, run on the source gateway, the relays
 * and the destination gateway. Reads the "qkd-mpss" section of its
 * configuration file (strongswan.conf format), relays share packets,
 * and serves its gateway ETSI GS QKD 014 enc_keys (source) and dec_keys
 * (destination).
 */

#include "mpss_engine.h"
#include "mpss_etsi.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <library.h>
#include <threading/thread.h>

/**
 * Section of the options
 */
#define NS "qkd-mpss"

/**
 * Log level of the groups
 */
static level_t loglevel = 1;

/**
 * Log a line to stderr, with the time and group
 */
static void dbg_stderr(debug_t group, level_t level, char *fmt, ...)
{
	char stamp[32];
	struct tm tm;
	va_list args;
	time_t now;

	if (level <= loglevel)
	{
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%b %e %T", &tm);
		flockfile(stderr);
		fprintf(stderr, "%s %.2d[%N] ", stamp, thread_current_id(),
				debug_names, group);
		va_start(args, fmt);
		vfprintf(stderr, fmt, args);
		va_end(args);
		fprintf(stderr, "\n");
		funlockfile(stderr);
	}
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: qkd-mpss [--config FILE] [--debug LEVEL] [--help]\n"
		"  --config FILE   options in strongswan.conf format, section "
		"\"qkd-mpss\"\n"
		"                  (default %s/qkd-mpss.conf)\n"
		"  --debug LEVEL   log level -1..4 (default: qkd-mpss.loglevel, 1)\n",
		SYSCONFDIR);
}

/**
 * Wait for SIGINT or SIGTERM
 */
static void wait_for_signal()
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	while (TRUE)
	{
		if (sigwait(&set, &sig) == 0 && sig != SIGHUP)
		{
			DBG1(DBG_DMN, "qkd-mpss: signal %d, stopping", sig);
			return;
		}
	}
}

int main(int argc, char *argv[])
{
	char *config = SYSCONFDIR "/qkd-mpss.conf";
	struct option long_opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "debug", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 }
	};
	mpss_engine_t *engine;
	mpss_etsi_t *etsi = NULL;
	int level = INT_MIN, c, status = 1;
	sigset_t set;

	while ((c = getopt_long(argc, argv, "c:d:h", long_opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'c':
				config = optarg;
				break;
			case 'd':
				level = atoi(optarg);
				break;
			case 'h':
				usage(stdout);
				return 0;
			default:
				usage(stderr);
				return 1;
		}
	}
	dbg = dbg_stderr;
	if (access(config, R_OK) != 0)
	{
		fprintf(stderr, "qkd-mpss: can't read %s: %s\n", config,
				strerror(errno));
		return 1;
	}
	if (!library_init(config, NS))
	{
		library_deinit();
		return 1;
	}
	loglevel = level != INT_MIN ? level : lib->settings->get_int(lib->settings,
												"%s.loglevel", 1, NS);
	if (!lib->plugins->load(lib->plugins, lib->settings->get_str(lib->settings,
						"%s.load", "random openssl nonce", NS)))
	{
		library_deinit();
		return 1;
	}
	/* signals are taken by sigwait(), in no other thread */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	lib->processor->set_threads(lib->processor,
			lib->settings->get_int(lib->settings, "%s.threads", 8, NS));
	engine = mpss_engine_create(NS);
	if (engine)
	{
		etsi = mpss_etsi_create(engine, NS);
	}
	if (etsi)
	{
		DBG1(DBG_DMN, "qkd-mpss: started (strongSwan %s)", VERSION);
		wait_for_signal();
		status = 0;
	}
	DESTROY_IF(etsi);
	lib->processor->set_threads(lib->processor, 0);
	lib->processor->cancel(lib->processor);
	DESTROY_IF(engine);
	library_deinit();
	return status;
}
