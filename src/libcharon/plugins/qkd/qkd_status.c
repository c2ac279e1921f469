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

#include "qkd_status.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>

#include <library.h>

#include <utils/debug.h>

/*
 * Described in header
 */
bool qkd_status_format(char *buf, size_t len, char *link,
					   qkd_pool_stats_t *stats)
{
	char refill[32];
	int written;

	if (stats->last_refill)
	{
		snprintf(refill, sizeof(refill), "%ld", (long)stats->last_refill);
	}
	else
	{
		snprintf(refill, sizeof(refill), "never");
	}
	written = snprintf(buf, len,
				"link: %s\nidle: %u\npending: %u\nreserved: %u\nactive: %u\n"
				"expired: %u\nloaded: %u\nstored: %u\ndropped: %u\n"
				"oldest_idle_created: %ld\nlast_refill: %s\nlast_error: %s\n",
				link, stats->count[QKD_KEY_IDLE],
				stats->count[QKD_KEY_PENDING], stats->reserved,
				stats->count[QKD_KEY_ACTIVE],
				stats->count[QKD_KEY_EXPIRED], stats->loaded, stats->stored,
				stats->dropped, (long)stats->oldest_idle, refill,
				stats->last_error[0] ? stats->last_error : "none");
	return written >= 0 && written < len;
}

/*
 * Described in header
 */
bool qkd_status_write(char *dir, char *link, char *status)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	FILE *file;
	bool ok;

	if (!mkdir_p(dir, 0755) ||
		snprintf(path, sizeof(path), "%s/%s", dir, link) >= sizeof(path) ||
		snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
	{
		return FALSE;
	}
	file = fopen(tmp, "w");
	if (!file)
	{
		DBG1(DBG_CFG, "qkd: writing status file '%s' failed: %s", tmp,
			 strerror(errno));
		return FALSE;
	}
	ok = fputs(status, file) >= 0;
	ok = fclose(file) == 0 && ok;
	return ok && rename(tmp, path) == 0;
}

/**
 * The directory of the running daemon's PID file ("<ns>.pid", which charon
 * keeps open while it runs), NULL if it has none open
 */
static char *find_piddir()
{
	char path[PATH_MAX], target[PATH_MAX], suffix[64];
	struct dirent *entry;
	size_t slen;
	ssize_t len;
	DIR *fds;

	snprintf(suffix, sizeof(suffix), "/%s.pid", lib->ns);
	slen = strlen(suffix);
	fds = opendir("/proc/self/fd");
	if (!fds)
	{
		return NULL;
	}
	while ((entry = readdir(fds)))
	{
		snprintf(path, sizeof(path), "/proc/self/fd/%s", entry->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len > (ssize_t)slen)
		{
			target[len] = '\0';
			if (streq(target + len - slen, suffix))
			{
				target[len - slen] = '\0';
				closedir(fds);
				return strdup(target);
			}
		}
	}
	closedir(fds);
	return NULL;
}

/*
 * Described in header
 */
char *qkd_status_piddir()
{
	char *piddir;

	piddir = find_piddir();
	if (piddir)
	{
		return piddir;
	}
	if (access("/run", W_OK) == 0)
	{
		return strdup("/run");
	}
	return strdup(IPSEC_PIDDIR);
}

/*
 * Described in header
 */
char *qkd_status_default_dir()
{
	char *piddir, dir[PATH_MAX];

	piddir = qkd_status_piddir();
	snprintf(dir, sizeof(dir), "%s/qkd", piddir);
	free(piddir);
	return strdup(dir);
}

/**
 * Whether the control socket serves the status
 */
static bool socket_serves;

/*
 * Described in header
 */
void qkd_status_set_socket(bool serves)
{
	socket_serves = serves;
}

/*
 * Described in header
 */
bool qkd_status_socket_serves()
{
	return socket_serves;
}
