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

#include <stdio.h>

/*
 * Described in header
 */
int qkdctl_action(vici_conn_t *conn, char *command, qkdctl_opts_t *opts)
{
	vici_req_t *req;
	vici_res_t *res;
	char *expired, *links;

	req = vici_begin(command);
	if (opts->link)
	{
		vici_add_key_valuef(req, "link", "%s", opts->link);
	}
	res = qkdctl_submit(conn, req, command, opts);
	if (!res)
	{
		return 1;
	}
	if (opts->format == QKDCTL_TEXT)
	{
		/* "drain sun: done, 900 Idle keys expired" */
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
	vici_free_res(res);
	return 0;
}
