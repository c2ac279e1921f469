/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_faults.h - faults armed for tests (latency, 503, dropped connections,
 * malformed JSON, wrong key sizes, duplicate key_IDs, invalid base64,
 * key_IDs with a NUL, errors with HTTP 200).
 */

#ifndef KME_FAULTS_H_
#define KME_FAULTS_H_

#include "kme_config.h"

#include <stddef.h>

#include <etsi_https.h>
#include <json-c/json.h>

/**
 * ETSI 014 calls a fault may be restricted to, as etsi_call_type_t.
 */
typedef enum {
	CALL_ANY = 0,
	CALL_STATUS = ETSI_CALL_STATUS,
	CALL_ENC_KEYS = ETSI_CALL_ENC_KEYS,
	CALL_DEC_KEYS = ETSI_CALL_DEC_KEYS,
} call_t;

/**
 * Fault types, as bits of the mask returned by faults_take().
 */
enum {
	FAULT_LATENCY = (1 << 0),
	FAULT_503 = (1 << 1),
	FAULT_DROP = (1 << 2),
	FAULT_MALFORMED_JSON = (1 << 3),
	FAULT_WRONG_KEY_SIZE = (1 << 4),
	FAULT_DUPLICATE_KEY_IDS = (1 << 5),
	/* keys of the right length that are no base64 ("!!!...=") */
	FAULT_INVALID_BASE64 = (1 << 6),
	/* key_IDs with a NUL and more after the UUID */
	FAULT_NUL_KEY_ID = (1 << 7),
	/* HTTP 200 carrying an ETSI error object, its message with control
	 * characters */
	FAULT_ERROR_200 = (1 << 8),
	/* keys of the right ID and size but other material (a lying KME
	 * pair: the ends of a key exchange get different keys) */
	FAULT_WRONG_KEY = (1 << 9),
};

/**
 * Faults that change key containers (not applied to status calls).
 */
#define FAULTS_CONTAINER (FAULT_WRONG_KEY_SIZE | FAULT_DUPLICATE_KEY_IDS | \
						  FAULT_INVALID_BASE64 | FAULT_NUL_KEY_ID | \
						  FAULT_WRONG_KEY)

/**
 * Arm the --fault specs "KME:TYPE[:COUNT][:ms=N][:call=CALL]" of a config.
 */
bool faults_init(config_t *config);

/**
 * Arm a fault from a JSON object {"kme","fault","count","call","ms"};
 * returns the armed fault as JSON, or NULL with a message in err.
 */
json_object *faults_add_json(json_object *obj, char *err, size_t len);

/**
 * List armed faults as JSON array.
 */
json_object *faults_list(void);

/**
 * Disarm all faults, returns how many were armed.
 */
unsigned faults_clear(void);

/**
 * Take the faults matching a request: any number of latency faults (their
 * delays add up into *ms) plus at most one other fault. Counts are
 * decremented, desc gets a description for the log ("" if none).
 */
unsigned faults_take(const char *kme, call_t call, unsigned *ms, char *desc,
					 size_t len);

#endif /* KME_FAULTS_H_ */
