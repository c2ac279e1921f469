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
 * Pool sync with the peer of one link: sync rounds of this end's statuses,
 * answers to the peer's rounds, the peer's statuses as they reported them,
 * and the reset handshake of a fresh start (docs/doh-profile.md,
 * "Pool sync").
 *
 * @defgroup qkd_doh_syncer qkd_doh_syncer
 * @{ @ingroup qkd
 */

#ifndef QKD_DOH_SYNCER_H_
#define QKD_DOH_SYNCER_H_

#include "qkd_doh_context.h"

typedef struct qkd_doh_syncer_t qkd_doh_syncer_t;

/**
 * Sync state with a peer. Called with the peer's lock held.
 */
struct qkd_doh_syncer_t {

	/**
	 * Send a sync round if one is due (the context's sync_due).
	 *
	 * @param now		current time, ms
	 */
	void (*tick)(qkd_doh_syncer_t *this, uint64_t now);

	/**
	 * Check whether an authenticated sync message tells that the peer
	 * started afresh (its reset flag), once per DOH key: the peer repeats
	 * it until we answer, and a restart of either end changes the DOH key.
	 * Keys negotiated with the peer before must be expired before the
	 * message is processed.
	 *
	 * @param msg		message
	 * @param key_id	ID of the DOH key in use
	 * @return			TRUE if the peer started afresh
	 */
	bool (*is_reset)(qkd_doh_syncer_t *this, qkd_doh_msg_t *msg,
					 uint8_t key_id[QKD_KEY_ID_LEN]);

	/**
	 * Process an authenticated sync message (REQ_SYNC, REQ_SYNC_RANGE,
	 * ACK_AVAILABLE, ACK_AVAILABLE_RANGE): record the peer's statuses and
	 * answer requests.
	 *
	 * @param msg		message
	 * @return			TRUE if the message told something new about the
	 *					peer's keys
	 */
	bool (*process)(qkd_doh_syncer_t *this, qkd_doh_msg_t *msg);

	/**
	 * Get the peer's statuses as its messages reported them.
	 *
	 * @return			view, NULL until the peer reported any
	 */
	qkd_doh_view_t *(*get_peer_view)(qkd_doh_syncer_t *this);

	/**
	 * Record that an Index is no longer Idle at the peer (bound, refused).
	 *
	 * @param index		Index
	 * @param status	its status there now
	 */
	void (*mark)(qkd_doh_syncer_t *this, uint32_t index, u_int status);

	/**
	 * Check whether the peer acknowledged our reset flag, so it knows that
	 * keys negotiated before our start are gone here.
	 *
	 * @return			TRUE if so
	 */
	bool (*reset_acked)(qkd_doh_syncer_t *this);

	/**
	 * Destroy a qkd_doh_syncer_t.
	 */
	void (*destroy)(qkd_doh_syncer_t *this);
};

/**
 * Create the sync state with a peer.
 *
 * @param ctx		shared state of the peer
 * @return			sync state
 */
qkd_doh_syncer_t *qkd_doh_syncer_create(qkd_doh_context_t *ctx);

#endif /** QKD_DOH_SYNCER_H_ @}*/
