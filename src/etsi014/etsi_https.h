/*
 * libetsi014: HTTPS server plumbing for the ETSI GS QKD 014 REST API.
 *
 * etsi_https.h - an HTTPS listener with mutual TLS serving
 * /api/v1/keys/{SAE_ID}/{status|enc_keys|dec_keys}: client certificate
 * verification, authorization of the certificate's CN, routing, method
 * checks, replies and one request log line per request. What a call does
 * is up to the program's handler.
 */

#ifndef ETSI_HTTPS_H_
#define ETSI_HTTPS_H_

#include "etsi_request.h"

/**
 * Default timeout of idle connections, in seconds.
 */
#define ETSI_CONNECTION_TIMEOUT 30

/**
 * Handler return value to drop the connection without a reply.
 */
#define ETSI_DROP 0

/**
 * The ETSI GS QKD 014 calls (0 is none of them).
 */
typedef enum {
	/** GET {slave_SAE_ID}/status, the caller is the master */
	ETSI_CALL_STATUS = 1,
	/** GET/POST {slave_SAE_ID}/enc_keys, the caller is the master */
	ETSI_CALL_ENC_KEYS,
	/** GET/POST {master_SAE_ID}/dec_keys, the caller is a slave */
	ETSI_CALL_DEC_KEYS,
} etsi_call_type_t;

typedef struct etsi_call_t etsi_call_t;
typedef struct etsi_server_t etsi_server_t;

/**
 * An authenticated, routed call, handed to the program's handler.
 */
struct etsi_call_t {
	/** connection, e.g. for MHD_lookup_connection_value() */
	struct MHD_Connection *conn;
	/** request context (URI, body) */
	etsi_request_t *req;
	/** the call requested */
	etsi_call_type_t type;
	/** the method is POST (else GET) */
	bool post;
	/** SAE ID from the path (slave for status/enc_keys, else master) */
	const char *target;
	/** CN of the verified client certificate, the caller's SAE ID */
	const char *cn;
	/** the caller, as returned by the authorize callback */
	void *caller;
	/** reply body, set by the handler; freed by the dispatcher */
	json_object *body;
	/** raw reply body sent instead of body (e.g. malformed JSON), NULL for
	 *  none; malloc()ed by the handler, freed by the dispatcher */
	char *raw;
	/** text the request log line ends with (after a space), "" for none */
	char note[512];
};

/**
 * Map the CN of a verified client certificate to the program's caller.
 *
 * @param ctx		ctx of the server
 * @param cn		CN of the client certificate
 * @param why		reason of a failure, for the 401 reply (preset to
 *					"client 'CN' is not authorized")
 * @param why_len	size of why
 * @return			caller object (etsi_call_t.caller), NULL to reply 401
 */
typedef void *(*etsi_authorize_t)(void *ctx, const char *cn, char *why,
								  size_t why_len);

/**
 * Handle an authorized call. Called concurrently, one thread per
 * connection.
 *
 * @param ctx		ctx of the server
 * @param call		the call; set call->body (e.g. with etsi_call_fail()) or
 *					call->raw, optionally call->note
 * @return			HTTP status of the reply, ETSI_DROP to close the
 *					connection without one
 */
typedef unsigned (*etsi_handler_t)(void *ctx, etsi_call_t *call);

/**
 * Configuration of a listener, copied by etsi_server_start().
 */
typedef struct {
	/** name of the listener, for the log: "kme=NAME sae=CN ..." for
	 *  requests, "mhd NAME: ..." for libmicrohttpd's messages */
	const char *name;
	/** "[addr]:port", "addr:port" or "port"; an empty or "*" addr means
	 *  dual stack "::" */
	const char *listen;
	/** PEM server certificate (chain), private key and the CA(s) client
	 *  certificates are verified against */
	const char *cert;
	const char *key;
	const char *ca;
	/** connection timeout in seconds, 0 for ETSI_CONNECTION_TIMEOUT */
	unsigned timeout;
	/** CN to caller mapping, NULL to accept every verified certificate */
	etsi_authorize_t authorize;
	/** handler of the calls */
	etsi_handler_t handler;
	/** context passed to authorize and handler */
	void *ctx;
} etsi_server_conf_t;

/**
 * Start an HTTPS listener with mutual TLS (TLS 1.2/1.3, thread per
 * connection).
 *
 * For every complete request it verifies the client certificate (401),
 * calls authorize with its CN (401), routes the path (404), checks the
 * method (405 with an Allow header: status GET, enc_keys/dec_keys GET or
 * POST) and calls the handler; then it replies and logs one line:
 * "kme=NAME sae=CN METHOD URI -> STATUS" plus " key_IDs=ID,..." for a
 * body with "keys", " message=\"...\"" for one with "message" and
 * " NOTE" if call->note is set ("dropped" instead of STATUS for ETSI_DROP).
 *
 * @param conf		configuration
 * @param err		error message on failure
 * @param err_len	size of err
 * @return			running listener, NULL on failure
 */
etsi_server_t *etsi_server_start(const etsi_server_conf_t *conf, char *err,
								 size_t err_len);

/**
 * Stop a listener, waiting for running requests.
 *
 * @param server	listener to stop, NULL for none
 */
void etsi_server_stop(etsi_server_t *server);

/**
 * Set an ETSI error reply body {"message", "details": [{key: value}]}.
 *
 * @param call		call to set call->body of (replacing a previous one)
 * @param status	HTTP status, returned
 * @param key		key of the details entry, NULL for no details
 * @param value		value of the details entry
 * @param fmt		printf() style format of the message
 * @return			status
 */
unsigned etsi_call_fail(etsi_call_t *call, unsigned status, const char *key,
						const char *value, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/**
 * Create a listening TCP socket (SO_REUSEADDR, close-on-exec).
 *
 * @param listen_on	"[addr]:port", "addr:port" or "port"; an empty or "*"
 *					addr means dual stack "::"
 * @param err		error message on failure
 * @param err_len	size of err
 * @return			socket, -1 on failure
 */
int etsi_listen_tcp(const char *listen_on, char *err, size_t err_len);

/**
 * Verify the client certificate of a TLS connection against the trusted
 * CAs and get its CN.
 *
 * @param conn		connection of a listener with MHD_OPTION_HTTPS_MEM_TRUST
 * @param cn		CN of the verified certificate, untouched on failure
 * @param cn_len	size of cn
 * @param why		reason of a failure
 * @param why_len	size of why
 * @return			true if verified and cn set
 */
bool etsi_client_cn(struct MHD_Connection *conn, char *cn, size_t cn_len,
					char *why, size_t why_len);

#endif /* ETSI_HTTPS_H_ */
