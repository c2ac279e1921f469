/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_http.c - HTTPS listener of a KME on libetsi014 (src/etsi014): client
 * authorization by certificate CN, fault injection and the calls.
 */

#include "kme_http.h"
#include "kme_api.h"
#include "kme_faults.h"
#include "kme_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <etsi_https.h>

/* reply body for the malformed_json fault */
#define MALFORMED_JSON "{\"keys\": [{\"key_ID\": \"malformed"

/**
 * Map the CN of a verified client certificate to an SAE attached to this
 * KME.
 */
static void *authorize(void *ctx, const char *cn, char *why, size_t why_len)
{
	kme_t *kme = ctx;
	sae_t *sae;

	sae = config_find_sae(kme->config, cn);
	if (!sae || sae->kme != kme)
	{
		snprintf(why, why_len, "SAE '%s' is not attached to this KME", cn);
		return NULL;
	}
	return sae;
}

/**
 * Apply the faults armed for a call, then handle it.
 */
static unsigned handle(void *ctx, etsi_call_t *call)
{
	static unsigned (*const handlers[])(api_call_t*) = {
		[ETSI_CALL_STATUS] = api_status,
		[ETSI_CALL_ENC_KEYS] = api_enc_keys,
		[ETSI_CALL_DEC_KEYS] = api_dec_keys,
	};
	api_call_t api = {
		.kme = ctx,
		.etsi = call,
		.caller = call->caller,
	};
	char faults[256] = "";
	unsigned ms;

	api.faults = faults_take(api.kme->name, (call_t)call->type, &ms, faults,
							 sizeof(faults));
	if (*faults)
	{
		snprintf(call->note, sizeof(call->note), "fault=%s", faults);
	}
	if (ms)
	{
		nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000 },
				  NULL);
	}
	if (api.faults & FAULT_DROP)
	{
		return ETSI_DROP;
	}
	if (api.faults & FAULT_MALFORMED_JSON)
	{
		call->raw = strdup(MALFORMED_JSON);
		return 200;
	}
	if (api.faults & FAULT_ERROR_200)
	{
		etsi_call_fail(call, 200, NULL, NULL,
					   "key pool\aexhausted\nkme=forged line");
		return 200;
	}
	if (api.faults & FAULT_503)
	{
		return etsi_call_fail(call, 503, NULL, NULL,
							  "KME unavailable (injected fault)");
	}
	return handlers[call->type](&api);
}

bool http_start(kme_t *kme)
{
	etsi_server_conf_t conf = {
		.name = kme->name,
		.listen = kme->listen,
		.cert = kme->cert,
		.key = kme->key,
		.ca = kme->ca,
		.authorize = authorize,
		.handler = handle,
		.ctx = kme,
	};
	char err[512];

	kme->server = etsi_server_start(&conf, err, sizeof(err));
	if (!kme->server)
	{
		kme_error("kme %s: %s", kme->name, err);
		return false;
	}
	kme_log("kme=%s listening on %s peer=%s", kme->name, kme->listen,
			kme->peer ? kme->peer->name : "-");
	return true;
}

void http_stop(kme_t *kme)
{
	etsi_server_stop(kme->server);
	kme->server = NULL;
}
