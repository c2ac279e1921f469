/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_api.h - the ETSI GS QKD 014 calls on an authenticated request.
 */

#ifndef KME_API_H_
#define KME_API_H_

#include "kme_config.h"

#include <etsi_https.h>

/**
 * State of an API call being processed.
 */
typedef struct {
	kme_t *kme;
	/* the call: target SAE ID, request, reply body */
	etsi_call_t *etsi;
	/* authenticated caller */
	sae_t *caller;
	/* FAULT_* mask applied to this call */
	unsigned faults;
} api_call_t;

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
