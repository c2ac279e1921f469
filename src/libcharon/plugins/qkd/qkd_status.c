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

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

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
				"link: %s\nidle: %u\npending: %u\nactive: %u\nexpired: %u\n"
				"loaded: %u\nstored: %u\ndropped: %u\n"
				"oldest_idle_created: %ld\nlast_refill: %s\nlast_error: %s\n",
				link, stats->count[QKD_KEY_IDLE],
				stats->count[QKD_KEY_PENDING], stats->count[QKD_KEY_ACTIVE],
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
