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
 * qkdctl: the qkd plugin's control socket on the command line, in
 * swanctl's style (docs/vici.md).
 *
 * @defgroup qkdctl qkdctl
 * @{
 */

#ifndef QKDCTL_H_
#define QKDCTL_H_

#include <library.h>
#include <libvici.h>

/**
 * How messages are printed
 */
typedef enum {
	/** human readable, swanctl's style */
	QKDCTL_TEXT,
	/** vici's dump on one line */
	QKDCTL_RAW,
	/** vici's dump, indented */
	QKDCTL_PRETTY,
} qkdctl_format_t;

/**
 * Options of a command
 */
typedef struct {
	/** link name, NULL for all */
	char *link;
	/** key status filter of --list-keys, NULL for all */
	char *status;
	/** key limit of --list-keys, NULL for none */
	char *limit;
	/** events of --monitor, NULL-terminated, empty for all */
	char **events;
	/** output format */
	qkdctl_format_t format;
} qkdctl_opts_t;

/**
 * A listing: sends command, prints each streamed event.
 *
 * @param conn		connection
 * @param command	list command, e.g. "list-pools"
 * @param opts		options
 * @return			exit status
 */
int qkdctl_list(vici_conn_t *conn, char *command, qkdctl_opts_t *opts);

/**
 * Print events as they come, until interrupted.
 *
 * @param conn		connection
 * @param opts		options
 * @return			exit status
 */
int qkdctl_monitor(vici_conn_t *conn, qkdctl_opts_t *opts);

/**
 * Event names of the control socket
 */
extern char *qkdctl_events[];

#endif /** QKDCTL_H_ @}*/
