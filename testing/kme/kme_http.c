/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_http.c - HTTPS listener of a KME: mutual TLS, client authentication by
 * certificate CN, routing to the ETSI GS QKD 014 calls, fault injection and
 * the request log.
 */

#define _GNU_SOURCE
#include "kme_http.h"
#include "kme_api.h"
#include "kme_faults.h"
#include "kme_log.h"
#include "kme_request.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define API_PREFIX "/api/v1/keys/"
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define CONNECTION_TIMEOUT 30
/* reply body for the malformed_json fault */
#define MALFORMED_JSON "{\"keys\": [{\"key_ID\": \"malformed"

/**
 * Verify the client certificate against the KME's CA and map its CN to an
 * SAE attached to this KME. cn gets the CN once verified, why the reason of
 * a failure.
 */
static sae_t *authenticate(api_call_t *call, char *cn, size_t cn_len,
						   char *why, size_t why_len)
{
	const union MHD_ConnectionInfo *info;
	const gnutls_datum_t *certs = NULL;
	gnutls_x509_crt_t crt;
	gnutls_datum_t text;
	unsigned count = 0, status;
	char name[256];
	size_t len = sizeof(name);
	sae_t *sae;
	int rc;

	info = MHD_get_connection_info(call->conn,
								   MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (info)
	{
		certs = gnutls_certificate_get_peers(info->tls_session, &count);
	}
	if (!certs || !count)
	{
		snprintf(why, why_len, "no client certificate");
		return NULL;
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
		return NULL;
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
		return NULL;
	}
	snprintf(cn, cn_len, "%s", name);
	sae = config_find_sae(call->kme->config, name);
	if (!sae || sae->kme != call->kme)
	{
		snprintf(why, why_len, "SAE '%s' is not attached to this KME", name);
		return NULL;
	}
	return sae;
}

/**
 * Map "/api/v1/keys/{SAE_ID}/{call}" to a call, target gets the SAE ID.
 */
static bool route(const char *url, char *target, size_t len, call_t *call)
{
	static const struct {
		const char *name;
		call_t call;
	} calls[] = {
		{ "status", CALL_STATUS },
		{ "enc_keys", CALL_ENC_KEYS },
		{ "dec_keys", CALL_DEC_KEYS },
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
			*call = calls[i].call;
			return true;
		}
	}
	return false;
}

/**
 * Log a request; key_IDs for key containers, the message for errors.
 */
static void log_request(api_call_t *call, const char *who, const char *method,
						const char *result, const char *faults)
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
	if (*faults)
	{
		fprintf(out, " fault=%s", faults);
	}
	fclose(out);
	kme_log("kme=%s sae=%s %s %s -> %s%s", call->kme->name, who, method,
			call->req->uri, result, extra);
	free(extra);
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *conn,
									  const char *url, const char *method,
									  const char *version,
									  const char *upload_data,
									  size_t *upload_data_size,
									  void **con_cls)
{
	static unsigned (*const handlers[])(api_call_t*) = {
		[CALL_STATUS] = api_status,
		[CALL_ENC_KEYS] = api_enc_keys,
		[CALL_DEC_KEYS] = api_dec_keys,
	};
	char who[256] = "-", why[512], target[256], faults[256] = "", result[16];
	api_call_t call = {
		.kme = cls,
		.conn = conn,
		.req = *con_cls,
		.target = target,
		.post = !strcmp(method, MHD_HTTP_METHOD_POST),
	};
	const char *allow = NULL;
	unsigned status, ms;
	enum MHD_Result ret;
	call_t type;

	(void)version;
	if (!request_receive(call.req, upload_data, upload_data_size))
	{
		return MHD_YES;
	}
	call.caller = authenticate(&call, who, sizeof(who), why, sizeof(why));
	if (!call.caller)
	{
		status = api_fail(&call, 401, NULL, NULL, "%s", why);
	}
	else if (!route(url, target, sizeof(target), &type))
	{
		status = api_fail(&call, 404, NULL, NULL, "unknown resource");
	}
	else if (strcmp(method, MHD_HTTP_METHOD_GET) &&
			 (type == CALL_STATUS || !call.post))
	{
		allow = type == CALL_STATUS ? "GET" : "GET, POST";
		status = api_fail(&call, 405, NULL, NULL, "method not allowed");
	}
	else
	{
		call.faults = faults_take(call.kme->name, type, &ms, faults,
								  sizeof(faults));
		if (ms)
		{
			nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000 },
					  NULL);
		}
		if (call.faults & FAULT_DROP)
		{
			log_request(&call, who, method, "dropped", faults);
			return MHD_NO;
		}
		if (call.faults & FAULT_MALFORMED_JSON)
		{
			log_request(&call, who, method, "200", faults);
			return request_reply(conn, 200, MALFORMED_JSON, NULL);
		}
		if (call.faults & FAULT_503)
		{
			status = api_fail(&call, 503, NULL, NULL,
							  "KME unavailable (injected fault)");
		}
		else
		{
			status = handlers[type](&call);
		}
	}
	snprintf(result, sizeof(result), "%u", status);
	log_request(&call, who, method, result, faults);
	ret = request_reply(conn, status, json_object_to_json_string_ext(call.body,
						REQUEST_JSON_FLAGS), allow);
	json_object_put(call.body);
	return ret;
}

/**
 * Create a listening TCP socket for "[addr]:port", "addr:port" or "port";
 * an empty or "*" address means dual stack "::".
 */
static int listen_tcp(kme_t *kme)
{
	struct addrinfo hints = {
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
		.ai_socktype = SOCK_STREAM,
	}, *ai;
	char host[256];
	const char *port, *end;
	int fd = -1, on = 1, off = 0, rc;

	if (kme->listen[0] == '[')
	{
		end = strchr(kme->listen, ']');
		port = end && end[1] == ':' ? end + 2 : "";
		snprintf(host, sizeof(host), "%.*s",
				 end ? (int)(end - kme->listen - 1) : 0, kme->listen + 1);
	}
	else
	{
		end = strrchr(kme->listen, ':');
		port = end ? end + 1 : kme->listen;
		snprintf(host, sizeof(host), "%.*s",
				 end ? (int)(end - kme->listen) : 0, kme->listen);
	}
	if (!*host || !strcmp(host, "*"))
	{
		strcpy(host, "::");
	}
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc)
	{
		kme_error("kme %s: invalid listen address '%s': %s", kme->name,
				  kme->listen, gai_strerror(rc));
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
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
	{
		kme_error("kme %s: cannot listen on %s: %s", kme->name, kme->listen,
				  strerror(errno));
	}
	freeaddrinfo(ai);
	return fd;
}

bool http_start(kme_t *kme)
{
	int fd = listen_tcp(kme);

	if (fd < 0)
	{
		return false;
	}
	kme->daemon = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_TLS | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle_request, kme,
		MHD_OPTION_EXTERNAL_LOGGER, request_log_mhd, kme->name,
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_HTTPS_MEM_CERT, kme->cert,
		MHD_OPTION_HTTPS_MEM_KEY, kme->key,
		MHD_OPTION_HTTPS_MEM_TRUST, kme->ca,
		MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
		MHD_OPTION_URI_LOG_CALLBACK, request_start, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
		MHD_OPTION_END);
	if (!kme->daemon)
	{
		kme_error("kme %s: starting HTTPS listener on %s failed", kme->name,
				  kme->listen);
		close(fd);
		return false;
	}
	kme_log("kme=%s listening on %s peer=%s", kme->name, kme->listen,
			kme->peer ? kme->peer->name : "-");
	return true;
}

void http_stop(kme_t *kme)
{
	if (kme->daemon)
	{
		MHD_stop_daemon(kme->daemon);
		kme->daemon = NULL;
	}
}
