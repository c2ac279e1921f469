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
 * A listing: registers for the streamed event, sends the command, prints
 * each streamed item.
 *
 * @param conn		connection
 * @param command	list command, e.g. "list-pools"
 * @param opts		options
 * @return			exit status
 */
int qkdctl_list(vici_conn_t *conn, char *command, qkdctl_opts_t *opts);

/**
 * An action on a link (or reload-links): sends it, prints its result.
 *
 * @param conn		connection
 * @param command	action, e.g. "drain"
 * @param opts		options
 * @return			exit status
 */
int qkdctl_action(vici_conn_t *conn, char *command, qkdctl_opts_t *opts);

/**
 * Print events as they come, until SIGINT or SIGTERM (which the caller
 * blocked before any thread started) or until the server closes the
 * connection.
 *
 * @param conn		connection
 * @param opts		options
 * @return			exit status
 */
int qkdctl_monitor(vici_conn_t *conn, qkdctl_opts_t *opts);

/**
 * Send a request, dump its reply with --raw/--pretty, report a failure on
 * stderr.
 *
 * @param conn		connection
 * @param req		request, sent and freed
 * @param command	name of the command, for messages
 * @param opts		options
 * @return			reply with success = yes (to free with vici_free_res()),
 *					NULL on failure
 */
vici_res_t *qkdctl_submit(vici_conn_t *conn, vici_req_t *req, char *command,
						  qkdctl_opts_t *opts);

/**
 * Print a message as vici dumps it (--raw, --pretty), labeled as swanctl
 * does ("list-pool event", "drain reply"); nothing in text format.
 *
 * @param opts		options, the format
 * @param name		command or event name
 * @param kind		"event" or "reply"
 * @param res		message
 * @return			TRUE if dumped, FALSE in text format
 */
bool qkdctl_dump(qkdctl_opts_t *opts, char *name, char *kind,
				 vici_res_t *res);

/**
 * Event names of the control socket, NULL-terminated
 */
extern char *qkdctl_events[];

#endif /** QKDCTL_H_ @}*/
