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
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

/*
 * Described in header
 */
char *qkdctl_events[] = {
	"key-bound", "pool-low", "pool-dry", "pool-refilled", "kme-error",
	"kme-recovered", "doh-peer-up", "doh-peer-down", "doh-peer-reset",
	"ikeless-sa-installed", "ikeless-sa-rekeyed", "ikeless-sa-removed", NULL,
};

/**
 * State of --monitor
 */
typedef struct {
	/** options */
	qkdctl_opts_t *opts;
	/** the thread waiting for a signal */
	pthread_t waiting;
	/** the server closed the connection */
	bool closed;
} monitor_t;

CALLBACK(event_value, int,
	void *null, vici_res_t *res, char *name, void *value, int len)
{
	if (!streq(name, "link"))
	{
		printf(" %s=%.*s", name, len, (char*)value);
	}
	return 0;
}

CALLBACK(on_event, void,
	monitor_t *this, char *name, vici_res_t *res)
{
	if (!qkdctl_dump(this->opts, name, "event", res))
	{
		/* "pool-low sun: time=1795915498 idle=60", in the server's order */
		printf("%s %s:", name, vici_find_str(res, "", "link"));
		vici_parse_cb(res, NULL, event_value, event_value, NULL);
		printf("\n");
	}
	fflush(stdout);
}

CALLBACK(on_close, void,
	monitor_t *this)
{
	this->closed = TRUE;
	/* to the waiting thread only (send_sigint() would signal our process
	 * group, e.g. the shell of a test script) */
	pthread_kill(this->waiting, SIGTERM);
}

/*
 * Described in header
 */
int qkdctl_monitor(vici_conn_t *conn, qkdctl_opts_t *opts)
{
	monitor_t this = {
		.opts = opts,
		.waiting = pthread_self(),
	};
	char **events;
	sigset_t set;
	int i;

	events = opts->events && opts->events[0] ? opts->events : qkdctl_events;
	vici_on_close(conn, on_close, &this);
	for (i = 0; events[i]; i++)
	{
		if (vici_register(conn, events[i], on_event, &this) != 0)
		{
			fprintf(stderr, "registering for %s failed: %s\n", events[i],
					errno == ENOENT ? "the control socket does not know it"
									: strerror(errno));
			return 1;
		}
	}
	fprintf(stderr, "watching %d events, ^C to stop\n", i);

	/* blocked in main() before any thread started */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	while (sigwaitinfo(&set, NULL) == -1 && errno == EINTR)
	{
		/* wait for a signal */
	}
	vici_on_close(conn, NULL, NULL);
	if (this.closed)
	{
		fprintf(stderr, "the control socket closed the connection\n");
		return 1;
	}
	return 0;
}
