/*
 * libetsi014: HTTPS server plumbing for the ETSI GS QKD 014 REST API.
 *
 * etsi_request.h - libmicrohttpd request plumbing: per-request context,
 * body collection, JSON parsing and replies, and the log.
 */

#ifndef ETSI_REQUEST_H_
#define ETSI_REQUEST_H_

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>
#include <microhttpd.h>

/**
 * Request bodies are limited to this size, longer bodies are truncated and
 * rejected by etsi_request_json().
 */
#define ETSI_MAX_BODY (256 * 1024)

/**
 * json-c serialization flags for all replies.
 */
#define ETSI_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | \
						 JSON_C_TO_STRING_NOSLASHESCAPE)

/**
 * Log callback: one line, without a trailing newline.
 */
typedef void (*etsi_logger_t)(const char *fmt, va_list args);

/**
 * Per-request context, created by etsi_request_start() and freed by
 * etsi_request_done(); MHD passes it to the access handler as *con_cls.
 */
typedef struct {
	/** request URI including the query string, for the log */
	char *uri;
	/** NUL terminated request body */
	char *body;
	/** length of the body */
	size_t body_len;
	/** body exceeded ETSI_MAX_BODY and was truncated */
	bool body_overflow;
	/** the access handler has been called before */
	bool started;
} etsi_request_t;

/**
 * Set the log callback for all log lines of this library (the request log
 * of etsi_https.h and libmicrohttpd's messages). Set it before starting a
 * listener; without it, lines go to stderr.
 *
 * @param log		callback, NULL for stderr
 */
void etsi_set_logger(etsi_logger_t log);

/**
 * Write a line to the log set with etsi_set_logger().
 *
 * @param fmt		printf() style format
 */
void etsi_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * MHD_OPTION_URI_LOG_CALLBACK creating the request context.
 */
void *etsi_request_start(void *cls, const char *uri,
						 struct MHD_Connection *conn);

/**
 * MHD_OPTION_NOTIFY_COMPLETED freeing the request context.
 */
void etsi_request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
					   enum MHD_RequestTerminationCode toe);

/**
 * Collect upload data in an MHD access handler.
 *
 * @param req		request context (*con_cls)
 * @param data		upload_data of the access handler
 * @param size		upload_data_size of the access handler, set to 0
 * @return			true once the request is complete (then reply), false
 *					to return MHD_YES and wait for more
 */
bool etsi_request_receive(etsi_request_t *req, const char *data, size_t *size);

/**
 * Parse the request body as JSON object, an empty body as {}.
 *
 * @param req		complete request
 * @return			JSON object (to put), NULL if the body is truncated,
 *					contains NUL, is no valid JSON or no object
 */
json_object *etsi_request_json(etsi_request_t *req);

/**
 * Build an ETSI error body {"message": ..., "details": [{key: value}]}.
 *
 * @param message	error message
 * @param key		key of the only details entry, NULL for no details
 * @param value		value of the details entry
 * @return			JSON object (to put)
 */
json_object *etsi_error(const char *message, const char *key,
						const char *value);

/**
 * Queue a reply with an application/json body.
 *
 * @param conn		connection to reply on
 * @param status	HTTP status code
 * @param body		reply body (copied)
 * @param allow		value of an Allow header, NULL for none
 * @return			return value for the access handler
 */
enum MHD_Result etsi_reply(struct MHD_Connection *conn, unsigned status,
						   const char *body, const char *allow);

/**
 * MHD_OPTION_EXTERNAL_LOGGER forwarding libmicrohttpd messages (e.g. TLS
 * handshake failures) to the log as "mhd LABEL: message".
 *
 * @param cls		label of the listener (const char*)
 */
void etsi_log_mhd(void *cls, const char *fmt, va_list args);

#endif /* ETSI_REQUEST_H_ */
