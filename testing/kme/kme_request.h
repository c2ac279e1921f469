/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_request.h - libmicrohttpd request plumbing shared by the KME and the
 * control listeners: per-request context, body collection, JSON replies.
 */

#ifndef KME_REQUEST_H_
#define KME_REQUEST_H_

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>
#include <microhttpd.h>

/* requests bodies are limited to this size */
#define REQUEST_MAX_BODY (256 * 1024)

/* json-c serialization flags for all replies */
#define REQUEST_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | \
							JSON_C_TO_STRING_NOSLASHESCAPE)

/**
 * Per-request context.
 */
typedef struct {
	/* request URI including the query string, for the log */
	char *uri;
	/* NUL terminated request body */
	char *body;
	size_t body_len;
	/* body exceeded REQUEST_MAX_BODY and was truncated */
	bool body_overflow;
	/* the access handler has been called before */
	bool started;
} request_t;

/**
 * MHD_OPTION_URI_LOG_CALLBACK creating the request context.
 */
void *request_start(void *cls, const char *uri, struct MHD_Connection *conn);

/**
 * MHD_OPTION_NOTIFY_COMPLETED freeing the request context.
 */
void request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
				  enum MHD_RequestTerminationCode toe);

/**
 * Collect upload data; returns true once the request is complete.
 */
bool request_receive(request_t *req, const char *data, size_t *size);

/**
 * Parse the request body as JSON object, an empty body as {}.
 */
json_object *request_json(request_t *req);

/**
 * Build an ETSI error body {"message": ..., "details": [{key: value}]},
 * details are omitted if key is NULL.
 */
json_object *request_error(const char *message, const char *key,
						   const char *value);

/**
 * Queue a reply with an application/json body and an optional Allow header.
 */
enum MHD_Result request_reply(struct MHD_Connection *conn, unsigned status,
							  const char *body, const char *allow);

/**
 * MHD_OPTION_EXTERNAL_LOGGER forwarding libmicrohttpd messages (e.g. TLS
 * handshake failures) to the log, cls is a label for the listener.
 */
void request_log_mhd(void *cls, const char *fmt, va_list args);

#endif /* KME_REQUEST_H_ */
