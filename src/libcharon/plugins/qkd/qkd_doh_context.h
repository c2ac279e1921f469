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
 * What the objects running the DOH protocol with one peer share: the link,
 * its pool and settings, the addresses, the MAC guard, the send function,
 * counters and the peer's lock (docs/doh-profile.md).
 *
 * The objects (qkd_doh_keying_t, qkd_doh_announces_t, qkd_doh_syncer_t,
 * qkd_doh_negotiation_t) are called by qkd_doh_peer_t with the lock held;
 * they release it only around KME calls and pool writes, and re-check
 * their state afterwards.
 *
 * @defgroup qkd_doh_context qkd_doh_context
 * @{ @ingroup qkd
 */

#ifndef QKD_DOH_CONTEXT_H_
#define QKD_DOH_CONTEXT_H_

#include "qkd_link.h"
#include "qkd_pool.h"
#include "qkd_doh_msg.h"
#include "qkd_doh_guard.h"
#include "qkd_doh_sync.h"

#include <threading/mutex.h>

typedef struct qkd_doh_context_t qkd_doh_context_t;
typedef struct qkd_doh_counters_t qkd_doh_counters_t;
typedef struct qkd_doh_retrans_t qkd_doh_retrans_t;

/**
 * Most tries of a request (negotiation, announce)
 */
#define QKD_DOH_MAX_TRIES 5

/**
 * Delay of a sync after keys were added or bound, to batch them, ms
 */
#define QKD_DOH_SYNC_SOON 200

/**
 * Sends a Destination Options Header to the peer.
 * @param data		user data
 * @param src		own address
 * @param dst		peer's address
 * @param doh		the header
 * @return			TRUE if sent
 */
typedef bool (*qkd_doh_send_t)(void *data, host_t *src, host_t *dst,
							   chunk_t doh);

/**
 * What happened on the DOH link with a peer, for status and tests.
 */
struct qkd_doh_counters_t {
	/** messages received from the peer's address */
	u_int rx;
	/** of those: authentic, fresh and well-formed */
	u_int rx_valid;
	/** refused: malformed */
	u_int rx_malformed;
	/** refused: no AUTH option or unknown DOH key generation */
	u_int rx_no_key;
	/** refused: MAC does not verify */
	u_int rx_bad_mac;
	/** refused: timestamp outside the window */
	u_int rx_stale;
	/** refused: replayed */
	u_int rx_replay;
	/** valid but not expected now (duplicates, late answers) */
	u_int rx_unexpected;
	/** messages sent */
	u_int tx;
	/** DOH key generations installed */
	u_int doh_keys;
	/** keys negotiated (bound) by this end for its key exchanges */
	u_int bound_own;
	/** keys bound at the peer's request */
	u_int bound_peer;
	/** negotiations refused by the peer (status other than success) */
	u_int refused;
	/** negotiations without answer */
	u_int timeouts;
	/** both ends asked for the same key at once */
	u_int collisions;
	/** key exchanges that found no key bound ahead and waited for one
	 * (doh_bound below the key exchanges started at once) */
	u_int reserve_empty;
	/** keys announced to the peer / acknowledged by it */
	u_int announced, acked;
	/** keys fetched because the peer announced them */
	u_int fetched;
	/** negotiated keys expired because the peer started afresh */
	u_int reset_expired;
	/** AUTH_KEY_OFFERs refused: naming a pool key, or unauthenticated
	 * while the peer still uses our DOH key */
	u_int offers_refused;
	/** DOH keys dropped because the peer no longer used them */
	u_int keys_lost;
	/** Idle keys announced again because the peer did not hold them */
	u_int reannounced;
	/** times both ends held Idle keys but none Idle on both */
	u_int views_apart;
	/** Idle keys expired because the peer used them without negotiating */
	u_int expired_peer_used;
};

/**
 * Retransmission state of a request.
 */
struct qkd_doh_retrans_t {
	/** times sent */
	u_int tries;
	/** when to send next, ms */
	uint64_t due;
};

/**
 * State shared by the objects talking DOH with one peer.
 */
struct qkd_doh_context_t {

	/** link (referenced), replaced on reloads */
	qkd_link_t *link;

	/** the link's pool */
	qkd_pool_t *pool;

	/** DOH settings (addresses owned by the context) */
	qkd_doh_settings_t settings;

	/** own and the peer's address */
	host_t *local, *peer;

	/** whether this end takes the keys from its KME and announces them */
	bool announcer;

	/** MAC and anti-replay */
	qkd_doh_guard_t *guard;

	/** sends headers */
	qkd_doh_send_t send;
	void *send_data;

	/** counters */
	qkd_doh_counters_t counters;

	/** when to send the next sync round, ms */
	uint64_t sync_due;

	/** refused messages since the last log line, and when to log next */
	u_int drops;
	char *drop_reason;
	uint64_t drop_log_due;

	/** the peer's lock, held while the DOH objects run */
	mutex_t *mutex;
};

/**
 * Current monotonic time in ms.
 *
 * @return				ms
 */
uint64_t qkd_doh_now_ms();

/**
 * Record that a request was sent, doubling its timeout up to a maximum.
 *
 * @param rt			retransmission state
 * @param now			current time, ms
 * @param base			first timeout, ms
 * @param max			longest timeout, ms
 */
void qkd_doh_rt_sent(qkd_doh_retrans_t *rt, uint64_t now, u_int base,
					 u_int max);

/**
 * Name of the link, for logs.
 *
 * @param ctx			context
 * @return				link name
 */
char *qkd_doh_name(qkd_doh_context_t *ctx);

/**
 * Count a refused message and log a summary at most every 10 s.
 *
 * @param ctx			context
 * @param reason		why it was refused (static string)
 */
void qkd_doh_refused(qkd_doh_context_t *ctx, char *reason);

/**
 * Encode, authenticate (unless auth is FALSE) and send a message.
 *
 * @param ctx			context
 * @param msg			message
 * @param auth			whether to add an AUTH option
 * @return				TRUE if sent
 */
bool qkd_doh_send_msg(qkd_doh_context_t *ctx, qkd_doh_msg_t *msg, bool auth);

/**
 * Sync soon (QKD_DOH_SYNC_SOON), to batch changes.
 *
 * @param ctx			context
 */
void qkd_doh_sync_soon(qkd_doh_context_t *ctx);

/**
 * Get this end's statuses of the pool.
 *
 * @param ctx			context
 * @param view			receives the statuses (free with
 *						qkd_doh_view_clear())
 */
void qkd_doh_own_view(qkd_doh_context_t *ctx, qkd_doh_view_t *view);

/**
 * Get one key from the KME: a new one (enc_keys) if id is NULL, else the
 * one with that ID (dec_keys). The lock is released during the call.
 *
 * @param ctx			context (lock held)
 * @param id			key ID, NULL for a new key
 * @param result		receives the result
 * @return				key (caller destroys), NULL on failure
 */
qkd_key_t *qkd_doh_kme_key(qkd_doh_context_t *ctx, uint8_t *id,
						   qkd_kme_result_t *result);

/**
 * Create the shared state of a link's DOH peer.
 *
 * @param link			link with DOH settings (referenced)
 * @param pool			the link's pool
 * @param send			sends headers
 * @param data			user data for send
 * @return				context, NULL if the link has no DOH settings
 */
qkd_doh_context_t *qkd_doh_context_create(qkd_link_t *link, qkd_pool_t *pool,
										  qkd_doh_send_t send, void *data);

/**
 * Use another link object after a reload (same addresses, timers may
 * change). The lock must be held.
 *
 * @param ctx			context
 * @param link			link (referenced)
 */
void qkd_doh_context_set_link(qkd_doh_context_t *ctx, qkd_link_t *link);

/**
 * Destroy a context.
 *
 * @param ctx			context
 */
void qkd_doh_context_destroy(qkd_doh_context_t *ctx);

#endif /** QKD_DOH_CONTEXT_H_ @}*/
