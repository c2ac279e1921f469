/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_api.h - the ETSI GS QKD 014 calls on an authenticated request.
 */

#ifndef KME_API_H_
#define KME_API_H_

#include "kme_config.h"
#include "kme_request.h"

/**
 * State of an API call being processed.
 */
typedef struct {
	kme_t *kme;
	struct MHD_Connection *conn;
	request_t *req;
	/* authenticated caller */
	sae_t *caller;
	/* SAE ID from the path */
	const char *target;
	bool post;
	/* FAULT_* mask applied to this call */
	unsigned faults;
	/* reply body */
	json_object *body;
} api_call_t;

/**
 * Set an error reply body {"message", "details": [{key: value}]}, returns
 * status for convenience.
 */
unsigned api_fail(api_call_t *call, unsigned status, const char *key,
				  const char *value, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/**
 * GET {slave_SAE_ID}/status, the caller is the master.
 */
unsigned api_status(api_call_t *call);

/**
 * GET/POST {slave_SAE_ID}/enc_keys, the caller is the master.
 */
unsigned api_enc_keys(api_call_t *call);

/**
 * GET/POST {master_SAE_ID}/dec_keys, the caller is a slave.
 */
unsigned api_dec_keys(api_call_t *call);

#endif /* KME_API_H_ */
