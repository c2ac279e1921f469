/*
 * libetsi014: HTTPS server plumbing for the ETSI GS QKD 014 REST API.
 *
 * etsi_https.c - HTTPS listener with mutual TLS: client authentication by
 * certificate CN, routing to the ETSI GS QKD 014 calls and the request log.
 */

#define _GNU_SOURCE
#include "etsi_https.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define API_PREFIX "/api/v1/keys/"
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/**
 * A running listener.
 */
struct etsi_server_t {
	/** configuration, with copies of the strings */
	etsi_server_conf_t conf;
	/** the daemon serving */
	struct MHD_Daemon *daemon;
};

unsigned etsi_call_fail(etsi_call_t *call, unsigned status, const char *key,
						const char *value, const char *fmt, ...)
{
	char message[512];
	va_list args;

	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	json_object_put(call->body);
	call->body = etsi_error(message, key, value);
	return status;
}

bool etsi_client_cn(struct MHD_Connection *conn, char *cn, size_t cn_len,
					char *why, size_t why_len)
{
	const union MHD_ConnectionInfo *info;
	const gnutls_datum_t *certs = NULL;
	gnutls_x509_crt_t crt;
	gnutls_datum_t text;
	unsigned count = 0, status;
	char name[256];
	size_t len = sizeof(name);
	int rc;

	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (info)
	{
		certs = gnutls_certificate_get_peers(info->tls_session, &count);
	}
	if (!certs || !count)
	{
		snprintf(why, why_len, "no client certificate");
		return false;
	}
	rc = gnutls_certificate_verify_peers2(info->tls_session, &status);
	if (rc < 0 || status)
	{
		if (rc >= 0 && gnutls_certificate_verification_status_print(status,
										GNUTLS_CRT_X509, &text, 0) >= 0)
		{
			while (text.size && isspace(text.data[text.size - 1]))
			{
				text.size--;
			}
			snprintf(why, why_len, "client certificate rejected: %.*s",
					 (int)text.size, text.data);
			gnutls_free(text.data);
		}
		else
		{
			snprintf(why, why_len, "client certificate rejected: %s",
					 gnutls_strerror(rc));
		}
		return false;
	}
	rc = gnutls_x509_crt_init(&crt);
	if (rc >= 0)
	{
		rc = gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER);
		if (rc >= 0)
		{
			rc = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
											   0, 0, name, &len);
		}
		gnutls_x509_crt_deinit(crt);
	}
	if (rc < 0)
	{
		snprintf(why, why_len, "client certificate without usable CN");
		return false;
	}
	snprintf(cn, cn_len, "%s", name);
	return true;
}

/**
 * Map "/api/v1/keys/{SAE_ID}/{call}" to a call, target gets the SAE ID.
 */
static bool route(const char *url, char *target, size_t len,
				  etsi_call_type_t *type)
{
	static const struct {
		const char *name;
		etsi_call_type_t type;
	} calls[] = {
		{ "status", ETSI_CALL_STATUS },
		{ "enc_keys", ETSI_CALL_ENC_KEYS },
		{ "dec_keys", ETSI_CALL_DEC_KEYS },
	};
	const char *id, *slash;
	size_t i;

	if (strncmp(url, API_PREFIX, strlen(API_PREFIX)))
	{
		return false;
	}
	id = url + strlen(API_PREFIX);
	slash = strchr(id, '/');
	if (!slash || slash == id || (size_t)(slash - id) >= len)
	{
		return false;
	}
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
	{
		if (!strcmp(slash + 1, calls[i].name))
		{
			snprintf(target, len, "%.*s", (int)(slash - id), id);
			*type = calls[i].type;
			return true;
		}
	}
	return false;
}

/**
 * Log a request; key_IDs for key containers, the message for errors.
 */
static void log_request(etsi_server_t *server, etsi_call_t *call,
						const char *method, const char *result)
{
	json_object *keys, *val;
	char *extra = NULL;
	size_t len = 0, i;
	FILE *out;

	out = open_memstream(&extra, &len);
	if (json_object_object_get_ex(call->body, "keys", &keys))
	{
		fputs(" key_IDs=", out);
		for (i = 0; i < json_object_array_length(keys); i++)
		{
			json_object_object_get_ex(json_object_array_get_idx(keys, i),
									  "key_ID", &val);
			fprintf(out, "%s%s", i ? "," : "", json_object_get_string(val));
		}
	}
	else if (json_object_object_get_ex(call->body, "message", &val))
	{
		fprintf(out, " message=\"%s\"", json_object_get_string(val));
	}
	if (*call->note)
	{
		fprintf(out, " %s", call->note);
	}
	fclose(out);
	etsi_log("kme=%s sae=%s %s %s -> %s%s", server->conf.name, call->cn,
			 method, call->req->uri, result, extra);
	free(extra);
}

/**
 * Map the verified CN to the caller with the authorize callback, why gets
 * the reason of a failure.
 */
static bool authorize(etsi_server_t *server, etsi_call_t *call, char *why,
					  size_t why_len)
{
	if (!server->conf.authorize)
	{
		return true;
	}
	snprintf(why, why_len, "client '%s' is not authorized", call->cn);
	call->caller = server->conf.authorize(server->conf.ctx, call->cn, why,
										  why_len);
	return call->caller != NULL;
}

/**
 * MHD access handler: authenticate, route, check the method, call the
 * handler, reply and log.
 */
static enum MHD_Result dispatch(void *cls, struct MHD_Connection *conn,
								const char *url, const char *method,
								const char *version, const char *upload_data,
								size_t *upload_data_size, void **con_cls)
{
	etsi_server_t *server = cls;
	char who[256] = "-", why[512], target[256] = "", result[16];
	etsi_call_t call = {
		.conn = conn,
		.req = *con_cls,
		.target = target,
		.cn = who,
		.post = !strcmp(method, MHD_HTTP_METHOD_POST),
	};
	const char *allow = NULL, *body;
	unsigned status;
	enum MHD_Result ret;

	(void)version;
	if (!etsi_request_receive(call.req, upload_data, upload_data_size))
	{
		return MHD_YES;
	}
	if (!etsi_client_cn(conn, who, sizeof(who), why, sizeof(why)))
	{
		status = etsi_call_fail(&call, 401, NULL, NULL, "%s", why);
	}
	else if (!authorize(server, &call, why, sizeof(why)))
	{
		status = etsi_call_fail(&call, 401, NULL, NULL, "%s", why);
	}
	else if (!route(url, target, sizeof(target), &call.type))
	{
		status = etsi_call_fail(&call, 404, NULL, NULL, "unknown resource");
	}
	else if (strcmp(method, MHD_HTTP_METHOD_GET) &&
			 (call.type == ETSI_CALL_STATUS || !call.post))
	{
		allow = call.type == ETSI_CALL_STATUS ? "GET" : "GET, POST";
		status = etsi_call_fail(&call, 405, NULL, NULL, "method not allowed");
	}
	else
	{
		status = server->conf.handler(server->conf.ctx, &call);
		if (status == ETSI_DROP)
		{
			log_request(server, &call, method, "dropped");
			json_object_put(call.body);
			free(call.raw);
			return MHD_NO;
		}
	}
	snprintf(result, sizeof(result), "%u", status);
	log_request(server, &call, method, result);
	body = call.raw ?: json_object_to_json_string_ext(call.body,
													  ETSI_JSON_FLAGS);
	ret = etsi_reply(conn, status, body, allow);
	json_object_put(call.body);
	free(call.raw);
	return ret;
}

int etsi_listen_tcp(const char *listen_on, char *err, size_t err_len)
{
	struct addrinfo hints = {
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
		.ai_socktype = SOCK_STREAM,
	}, *ai;
	char host[256];
	const char *port, *end;
	int fd = -1, on = 1, off = 0, rc;

	if (listen_on[0] == '[')
	{
		end = strchr(listen_on, ']');
		port = end && end[1] == ':' ? end + 2 : "";
		snprintf(host, sizeof(host), "%.*s",
				 end ? (int)(end - listen_on - 1) : 0, listen_on + 1);
	}
	else
	{
		end = strrchr(listen_on, ':');
		port = end ? end + 1 : listen_on;
		snprintf(host, sizeof(host), "%.*s",
				 end ? (int)(end - listen_on) : 0, listen_on);
	}
	if (!*host || !strcmp(host, "*"))
	{
		strcpy(host, "::");
	}
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc)
	{
		snprintf(err, err_len, "invalid listen address '%s': %s", listen_on,
				 gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
	{
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (ai->ai_family == AF_INET6)
		{
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		}
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64))
		{
			rc = errno;
			close(fd);
			errno = rc;
			fd = -1;
		}
	}
	if (fd < 0)
	{
		snprintf(err, err_len, "cannot listen on %s: %s", listen_on,
				 strerror(errno));
	}
	freeaddrinfo(ai);
	return fd;
}

/**
 * Free a listener's configuration copy, wiping the private key.
 */
static void server_free(etsi_server_t *server)
{
	if (server->conf.key)
	{
		gnutls_memset((char*)server->conf.key, 0, strlen(server->conf.key));
	}
	free((char*)server->conf.name);
	free((char*)server->conf.listen);
	free((char*)server->conf.cert);
	free((char*)server->conf.key);
	free((char*)server->conf.ca);
	free(server);
}

etsi_server_t *etsi_server_start(const etsi_server_conf_t *conf, char *err,
								 size_t err_len)
{
	etsi_server_t *server;
	int fd;

	fd = etsi_listen_tcp(conf->listen, err, err_len);
	if (fd < 0)
	{
		return NULL;
	}
	server = calloc(1, sizeof(*server));
	server->conf = *conf;
	server->conf.name = strdup(conf->name ?: "-");
	server->conf.listen = strdup(conf->listen);
	server->conf.cert = strdup(conf->cert);
	server->conf.key = strdup(conf->key);
	server->conf.ca = strdup(conf->ca);
	server->daemon = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_TLS | MHD_USE_ERROR_LOG, 0, NULL, NULL, dispatch, server,
		MHD_OPTION_EXTERNAL_LOGGER, etsi_log_mhd, server->conf.name,
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_HTTPS_MEM_CERT, server->conf.cert,
		MHD_OPTION_HTTPS_MEM_KEY, server->conf.key,
		MHD_OPTION_HTTPS_MEM_TRUST, server->conf.ca,
		MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
		MHD_OPTION_URI_LOG_CALLBACK, etsi_request_start, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, etsi_request_done, NULL,
		MHD_OPTION_CONNECTION_TIMEOUT,
		conf->timeout ?: (unsigned)ETSI_CONNECTION_TIMEOUT,
		MHD_OPTION_END);
	if (!server->daemon)
	{
		snprintf(err, err_len, "starting HTTPS listener on %s failed",
				 conf->listen);
		close(fd);
		server_free(server);
		return NULL;
	}
	return server;
}

void etsi_server_stop(etsi_server_t *server)
{
	if (server)
	{
		MHD_stop_daemon(server->daemon);
		server_free(server);
	}
}
