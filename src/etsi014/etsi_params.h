/*
 * libetsi014: HTTPS server plumbing for the ETSI GS QKD 014 REST API.
 *
 * etsi_params.h - request parameters of enc_keys and dec_keys (GET query
 * or POST JSON body) and key container replies.
 */

#ifndef ETSI_PARAMS_H_
#define ETSI_PARAMS_H_

#include "etsi_https.h"

/**
 * Limits of a KME, as in its status reply; sizes in bits.
 */
typedef struct {
	/** default key size (size if not requested) */
	unsigned key_size;
	/** smallest key size allowed */
	unsigned min_key_size;
	/** largest key size allowed */
	unsigned max_key_size;
	/** most keys per enc_keys/dec_keys request */
	unsigned max_key_per_request;
	/** most additional_slave_SAE_IDs per enc_keys request */
	unsigned max_sae_id_count;
} etsi_limits_t;

/**
 * Check one of the additional_slave_SAE_IDs of an enc_keys request.
 *
 * @param ctx		ctx passed to etsi_enc_keys_params()
 * @param call		the call, for etsi_call_fail()
 * @param sae_id	an additional slave SAE ID
 * @return			0 if acceptable, else an error status with call->body
 *					set (etsi_call_fail())
 */
typedef unsigned (*etsi_slave_cb_t)(void *ctx, etsi_call_t *call,
									const char *sae_id);

/**
 * The key_IDs requested by a dec_keys call.
 */
typedef struct {
	/** key_IDs in request order, may contain duplicates */
	const char **ids;
	/** number of ids */
	unsigned count;
	/** request body the ids point into, NULL for GET */
	json_object *json;
} etsi_key_ids_t;

/**
 * A key for a key container.
 */
typedef struct {
	/** key_ID */
	const char *id;
	/** key material */
	const unsigned char *data;
	/** length of data in bytes */
	size_t len;
} etsi_key_t;

/**
 * Parse and check the number and size of an enc_keys call: the "number"
 * and "size" query parameters for GET; for POST, the "number", "size",
 * "extension_mandatory" (only [] is supported) and
 * "additional_slave_SAE_IDs" members of the body. Each additional slave
 * SAE ID is checked with slave, then rejected (400) if it repeats the
 * target or an earlier one. Then size must be a multiple of 8 within the
 * limits, and number within 1 and max_key_per_request.
 *
 * @param call		enc_keys call
 * @param limits	limits of the KME, key_size is the default size
 * @param slave		checks each additional slave SAE ID, NULL to accept
 *					them all
 * @param ctx		context passed to slave
 * @param number	number of keys requested (default 1)
 * @param size		size of the keys requested in bits
 * @return			0 if acceptable, else an error status with call->body
 *					set
 */
unsigned etsi_enc_keys_params(etsi_call_t *call, const etsi_limits_t *limits,
							  etsi_slave_cb_t slave, void *ctx,
							  unsigned *number, unsigned *size);

/**
 * Parse the key_IDs of a dec_keys call: the "key_ID" query parameter for
 * GET, the "key_IDs" list of {"key_ID": ...} objects (1 to
 * max_key_per_request entries) for POST. Duplicates are not rejected here,
 * see etsi_key_id_repeated().
 *
 * @param call		dec_keys call
 * @param max_key_per_request	most key_IDs accepted
 * @param ids		key_IDs requested, free with etsi_key_ids_free()
 * @return			0 if acceptable, else an error status with call->body
 *					set
 */
unsigned etsi_dec_keys_params(etsi_call_t *call, unsigned max_key_per_request,
							  etsi_key_ids_t *ids);

/**
 * Free the key_IDs of a dec_keys call (also if parsing failed).
 *
 * @param ids		key_IDs to free, zeroed
 */
void etsi_key_ids_free(etsi_key_ids_t *ids);

/**
 * Check whether a key_ID repeats an earlier one of the same request; the
 * reply is then 400 "key_ID requested more than once" with details
 * {"key_ID": id}.
 *
 * @param ids		key_IDs of the request
 * @param index		index of the key_ID to check
 * @return			true if ids[index] equals one of ids[0..index-1]
 */
bool etsi_key_id_repeated(const char *const *ids, unsigned index);

/**
 * Build a key container {"keys": [{"key_ID": ..., "key": base64}, ...]}.
 *
 * @param keys		keys in reply order
 * @param count		number of keys
 * @return			JSON object (to put)
 */
json_object *etsi_key_container(const etsi_key_t *keys, unsigned count);

#endif /* ETSI_PARAMS_H_ */
