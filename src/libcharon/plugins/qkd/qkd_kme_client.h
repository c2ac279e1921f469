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

/**
 * @defgroup qkd_kme_client qkd_kme_client
 * @{ @ingroup qkd
 */

#ifndef QKD_KME_CLIENT_H_
#define QKD_KME_CLIENT_H_

#include "qkd_key.h"

#include <collections/array.h>

typedef struct qkd_kme_client_t qkd_kme_client_t;
typedef struct qkd_kme_status_t qkd_kme_status_t;
typedef struct qkd_kme_client_cfg_t qkd_kme_client_cfg_t;
typedef struct qkd_kme_health_t qkd_kme_health_t;
typedef enum qkd_kme_result_t qkd_kme_result_t;

/**
 * Outcome of a KME call.
 */
enum qkd_kme_result_t {
	/** call succeeded, response valid */
	QKD_KME_OK,
	/** HTTP 400: request refused (e.g. unknown or already delivered key) */
	QKD_KME_BAD_REQUEST,
	/** HTTP 401: this SAE is not authorized */
	QKD_KME_UNAUTHORIZED,
	/** HTTP 503: the KME can't serve the request now */
	QKD_KME_UNAVAILABLE,
	/** any other HTTP status */
	QKD_KME_HTTP_ERROR,
	/** connection, TLS or timeout failure */
	QKD_KME_TRANSPORT_ERROR,
	/** HTTP 200 but a response not conforming to ETSI GS QKD 014 */
	QKD_KME_INVALID_RESPONSE,
};

/**
 * Enum names for qkd_kme_result_t.
 */
extern enum_name_t *qkd_kme_result_names;

/**
 * ETSI GS QKD 014 Status, the fields this client uses.
 */
struct qkd_kme_status_t {
	/** default key size, bits */
	u_int key_size;
	/** keys available for this SAE pair */
	u_int stored_key_count;
	/** maximum keys the KME stores */
	u_int max_key_count;
	/** maximum keys per enc_keys request */
	u_int max_key_per_request;
	/** largest key size, bits */
	u_int max_key_size;
	/** smallest key size, bits */
	u_int min_key_size;
};

/**
 * How calls to a KME went so far.
 */
struct qkd_kme_health_t {
	/** calls made, and calls that failed */
	u_int calls, errors;
	/** last call (status, enc_keys, dec_keys), NULL if none */
	char *last_call;
	/** when the last call ended (time_monotonic()), 0 if none */
	time_t last_call_time;
	/** how long the last call took, ms */
	u_int last_latency_ms;
	/** result of the last failed call */
	qkd_kme_result_t last_error;
	/** when the last failed call ended (time_monotonic()), 0 if none */
	time_t last_error_time;
	/** whether the last call failed */
	bool failing;
};

/**
 * How to reach a KME.
 */
struct qkd_kme_client_cfg_t {
	/** name of the link using the KME, for events */
	char *link;
	/** base URL, https://host[:port] (without /api/v1/keys) */
	char *url;
	/** SAE ID of the peer (slave for enc_keys, master for dec_keys) */
	char *peer_sae_id;
	/** TLS client certificate file (PEM) */
	char *cert;
	/** TLS client private key file (PEM) */
	char *key;
	/** CA certificate file verifying the KME (PEM) */
	char *cacert;
	/** connect timeout, ms */
	u_int connect_timeout;
	/** total timeout of a call, ms */
	u_int timeout;
};

/**
 * Client of the ETSI GS QKD 014 REST API of one KME, on behalf of one SAE
 * talking to one peer SAE.
 *
 * HTTPS with mutual TLS (TLS 1.2 or later, KME certificate and host name
 * verified), one connection reused across calls. Responses are validated
 * strictly; a failed call logs the KME, the call and the reason, and
 * returns no key.
 */
struct qkd_kme_client_t {

	/**
	 * Get the KME status for the peer SAE (GET {peer}/status).
	 *
	 * @param status	receives the status
	 * @return			result of the call
	 */
	qkd_kme_result_t (*get_status)(qkd_kme_client_t *this,
								   qkd_kme_status_t *status);

	/**
	 * Get new keys as master (POST {peer}/enc_keys).
	 *
	 * @param number	number of keys
	 * @param size		key size in bits (multiple of 8)
	 * @param keys		receives an array of qkd_key_t*, exactly number keys
	 * @return			result of the call
	 */
	qkd_kme_result_t (*get_keys)(qkd_kme_client_t *this, u_int number,
								 u_int size, array_t **keys);

	/**
	 * Get keys by ID as slave (POST {peer}/dec_keys).
	 *
	 * The master chose the key size: keys of any size between min_size and
	 * max_size are accepted.
	 *
	 * @param ids		binary key IDs (QKD_KEY_ID_LEN bytes each)
	 * @param count		number of IDs
	 * @param min_size	smallest key size accepted, in bits (multiple of 8)
	 * @param max_size	largest key size accepted, in bits (multiple of 8)
	 * @param keys		receives an array of qkd_key_t*, in the order of ids
	 * @return			result of the call
	 */
	qkd_kme_result_t (*get_keys_by_id)(qkd_kme_client_t *this,
									   uint8_t ids[][QKD_KEY_ID_LEN],
									   u_int count, u_int min_size,
									   u_int max_size, array_t **keys);

	/**
	 * Get how calls to the KME went so far. A call failing after a working
	 * one (or at first) raises a kme-error event, a call working after a
	 * failed one a kme-recovered event.
	 *
	 * @param health	receives the figures
	 */
	void (*get_health)(qkd_kme_client_t *this, qkd_kme_health_t *health);

	/**
	 * Destroy a qkd_kme_client_t.
	 */
	void (*destroy)(qkd_kme_client_t *this);
};

/**
 * Create a KME client.
 *
 * @param cfg		how to reach the KME (copied)
 * @return			client, NULL if libcurl can't be initialized
 */
qkd_kme_client_t *qkd_kme_client_create(qkd_kme_client_cfg_t *cfg);

#endif /** QKD_KME_CLIENT_H_ @}*/
