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

/**
 * Status dump of a link's key pool, shared by every way it is shown.
 *
 * @defgroup qkd_status qkd_status
 * @{ @ingroup qkd
 */

#ifndef QKD_STATUS_H_
#define QKD_STATUS_H_

#include "qkd_pool.h"

/**
 * Format the status of a pool, one "key: value" per line:
 * link, idle, pending, active, expired, loaded, stored, dropped,
 * oldest_idle_created (Unix time, 0 if none), last_refill (Unix time, or
 * "never"), last_error (or "none"). Times are absolute, so the text (and
 * the file) changes only when the pool does.
 *
 * @param buf		buffer
 * @param len		size of buf
 * @param link		link name
 * @param stats		pool stats
 * @return			TRUE if it fit into buf
 */
bool qkd_status_format(char *buf, size_t len, char *link,
					   qkd_pool_stats_t *stats);

/**
 * Write the status of a pool to a file atomically (temporary file and
 * rename), creating the directory if needed.
 *
 * @param dir		directory
 * @param link		link name, the file name
 * @param status	formatted status
 * @return			TRUE if written
 */
bool qkd_status_write(char *dir, char *link, char *status);

/**
 * The default directory of the status files: "qkd" in the directory of the
 * running charon's PID file (its piddir, found among the files it holds
 * open, e.g. /run for Debian's charon), else /run/qkd, else "qkd" in the
 * piddir of the strongSwan build the plugin was compiled against.
 *
 * @return			directory (allocated)
 */
char *qkd_status_default_dir();

/**
 * Tell whether the control socket serves the status of the pools; status
 * files are then written only to a configured directory.
 *
 * @param serves	TRUE while the control socket runs
 */
void qkd_status_set_socket(bool serves);

/**
 * Check whether the control socket serves the status of the pools.
 *
 * @return			TRUE while the control socket runs
 */
bool qkd_status_socket_serves();

/**
 * The directory of the running charon's PID file (its piddir, found among
 * the files it holds open, e.g. /run for Debian's charon), else /run if
 * writable, else the piddir of the strongSwan build the plugin was compiled
 * against.
 *
 * @return			directory (allocated)
 */
char *qkd_status_piddir();

#endif /** QKD_STATUS_H_ @}*/
