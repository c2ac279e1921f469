/*
 * libetsi014: HTTPS server plumbing for the ETSI GS QKD 014 REST API.
 *
 * etsi_request.c - libmicrohttpd request plumbing and the log.
 */

#include "etsi_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/**
 * Log callback, NULL for stderr.
 */
static etsi_logger_t logger;

void etsi_set_logger(etsi_logger_t log)
{
	logger = log;
}

void etsi_log(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	if (logger)
	{
		logger(fmt, args);
	}
	else
	{
		vfprintf(stderr, fmt, args);
		fputc('\n', stderr);
	}
	va_end(args);
}

void *etsi_request_start(void *cls, const char *uri,
						 struct MHD_Connection *conn)
{
	etsi_request_t *req = calloc(1, sizeof(*req));

	(void)cls;
	(void)conn;
	req->uri = strdup(uri);
	req->body = calloc(1, 1);
	return req;
}

void etsi_request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
					   enum MHD_RequestTerminationCode toe)
{
	etsi_request_t *req = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (req)
	{
		free(req->uri);
		free(req->body);
		free(req);
		*con_cls = NULL;
	}
}

bool etsi_request_receive(etsi_request_t *req, const char *data, size_t *size)
{
	size_t len;

	if (!req->started)
	{
		req->started = true;
		return false;
	}
	if (!*size)
	{
		return true;
	}
	len = *size;
	if (req->body_len + len > ETSI_MAX_BODY)
	{
		req->body_overflow = true;
		len = ETSI_MAX_BODY - req->body_len;
	}
	req->body = realloc(req->body, req->body_len + len + 1);
	memcpy(req->body + req->body_len, data, len);
	req->body_len += len;
	req->body[req->body_len] = '\0';
	*size = 0;
	return false;
}

json_object *etsi_request_json(etsi_request_t *req)
{
	struct json_tokener *tok;
	json_object *obj;
	const char *end;

	if (req->body_overflow || strlen(req->body) != req->body_len)
	{
		return NULL;
	}
	if (!req->body_len)
	{
		return json_object_new_object();
	}
	tok = json_tokener_new();
	obj = json_tokener_parse_ex(tok, req->body, req->body_len);
	end = req->body + json_tokener_get_parse_end(tok);
	end += strspn(end, " \t\r\n");
	if (json_tokener_get_error(tok) != json_tokener_success || *end ||
		!json_object_is_type(obj, json_type_object))
	{
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

json_object *etsi_error(const char *message, const char *key,
						const char *value)
{
	json_object *obj = json_object_new_object(), *details, *detail;

	json_object_object_add(obj, "message", json_object_new_string(message));
	if (key)
	{
		detail = json_object_new_object();
		json_object_object_add(detail, key, json_object_new_string(value));
		details = json_object_new_array();
		json_object_array_add(details, detail);
		json_object_object_add(obj, "details", details);
	}
	return obj;
}

enum MHD_Result etsi_reply(struct MHD_Connection *conn, unsigned status,
						   const char *body, const char *allow)
{
	struct MHD_Response *response;
	enum MHD_Result ret;

	response = MHD_create_response_from_buffer(strlen(body), (void*)body,
											   MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
							"application/json");
	if (allow)
	{
		MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
	}
	ret = MHD_queue_response(conn, status, response);
	MHD_destroy_response(response);
	return ret;
}

void etsi_log_mhd(void *cls, const char *fmt, va_list args)
{
	char msg[512];
	size_t len;

	vsnprintf(msg, sizeof(msg), fmt, args);
	len = strlen(msg);
	while (len && msg[len - 1] == '\n')
	{
		msg[--len] = '\0';
	}
	etsi_log("mhd %s: %s", (const char*)cls, msg);
}
