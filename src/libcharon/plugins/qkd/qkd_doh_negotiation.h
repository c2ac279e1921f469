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
 * Key negotiation with the peer of one link: this end negotiates a few
 * keys ahead (REQ_NEGOTIATE / CONFIRM_NEGOTIATE) for the key exchanges it
 * starts, and binds keys at the peer's request for those the peer starts
 * (docs/doh-profile.md, "Negotiation").
 *
 * @defgroup qkd_doh_negotiation qkd_doh_negotiation
 * @{ @ingroup qkd
 */

#ifndef QKD_DOH_NEGOTIATION_H_
#define QKD_DOH_NEGOTIATION_H_

#include "qkd_doh_context.h"
#include "qkd_doh_keying.h"
#include "qkd_doh_syncer.h"
#include "qkd_doh_announces.h"

typedef struct qkd_doh_negotiation_t qkd_doh_negotiation_t;
typedef struct qkd_doh_binding_t qkd_doh_binding_t;
typedef struct qkd_doh_binder_t qkd_doh_binder_t;

/**
 * What a key is negotiated for other than IKE key exchanges: an IKE-less
 * child (REQ_NEGOTIATE's child TLV, algorithms and survival time).
 */
struct qkd_doh_binding_t {
	/** child name, 0-terminated */
	char child[QKD_DOH_MAX_CHILD + 1];
	/** Auth Alg and Enc Alg */
	uint8_t auth_alg, enc_alg;
	/** key survival time, seconds */
	uint32_t survival;
};

/**
 * Decides on and uses keys negotiated for IKE-less children. Called with
 * the peer's lock held.
 */
struct qkd_doh_binder_t {

	/**
	 * Check a binding the peer asks for.
	 *
	 * @param binding	child, algorithms, survival time
	 * @return			QKD_DOH_SUCCESS, or the status refusing it
	 */
	qkd_doh_status_t (*check)(qkd_doh_binder_t *this,
							  qkd_doh_binding_t *binding);

	/**
	 * A key was bound (Pending on both ends) for a binding.
	 *
	 * The end that did not ask confirms only if this succeeds, and refuses
	 * with QKD_DOH_INVALID_KEYID otherwise (the key is expired).
	 *
	 * @param binding	child, algorithms, survival time
	 * @param id		key ID
	 * @param initiator	TRUE if this end asked for it
	 * @return			TRUE if the key is in use, FALSE if it expired
	 */
	bool (*bound)(qkd_doh_binder_t *this, qkd_doh_binding_t *binding,
				  uint8_t id[QKD_KEY_ID_LEN], bool initiator);

	/**
	 * A negotiation this end asked for failed (refused or unanswered).
	 *
	 * @param binding	child, algorithms, survival time
	 */
	void (*failed)(qkd_doh_binder_t *this, qkd_doh_binding_t *binding);
};

/**
 * Negotiation state with a peer. Called with the peer's lock held, except
 * take_bound() and take_peer_bound(), which take it.
 *
 * Binding a key writes the pool synchronously; that happens in tick() (or
 * in take_bound()) with the lock released, so threads taking keys or
 * delivering packets don't wait for the disk.
 */
struct qkd_doh_negotiation_t {

	/**
	 * Queue a REQ_NEGOTIATE of the peer, bound and answered in tick().
	 *
	 * @param msg		authenticated REQ_NEGOTIATE (copied)
	 */
	void (*process_request)(qkd_doh_negotiation_t *this, qkd_doh_msg_t *msg);

	/**
	 * Process the peer's CONFIRM_NEGOTIATE of our request; a key the peer
	 * bound is bound here in tick().
	 *
	 * @param msg		authenticated CONFIRM_NEGOTIATE
	 */
	void (*process_confirm)(qkd_doh_negotiation_t *this, qkd_doh_msg_t *msg);

	/**
	 * Answer a REQ_NEGOTIATE that failed authentication as the draft asks
	 * (0x03 for a MAC that does not verify, 0x04 for a stale timestamp), at
	 * most once a second.
	 *
	 * @param msg		the request
	 * @param status	QKD_DOH_HMAC_FAILED or QKD_DOH_TIMESTAMP
	 */
	void (*refuse)(qkd_doh_negotiation_t *this, qkd_doh_msg_t *msg,
				   qkd_doh_status_t status);

	/**
	 * The peer's statuses changed: negotiate if a key is wanted.
	 *
	 * @param news		TRUE if they told something new
	 */
	void (*views_changed)(qkd_doh_negotiation_t *this, bool news);

	/**
	 * The peer started afresh: expire the keys negotiated with it before.
	 */
	void (*peer_reset)(qkd_doh_negotiation_t *this);

	/**
	 * Check whether tick() has pool writes to do.
	 *
	 * @return			TRUE if so
	 */
	bool (*has_work)(qkd_doh_negotiation_t *this);

	/**
	 * Bind and answer the peer's requests, bind keys the peer confirmed,
	 * retransmit, start a negotiation if keys are wanted (the lock is
	 * released during pool writes).
	 *
	 * @param now		current time, ms
	 */
	void (*tick)(qkd_doh_negotiation_t *this, uint64_t now);

	/**
	 * Take a key this end negotiated for a key exchange it starts. Takes
	 * the lock. While it waits, the calling thread writes the bindings
	 * that are due (under load, all threads may wait here while the tick
	 * job waits for one).
	 *
	 * @param timeout	ms to wait for a negotiation if none is ready
	 * @return			copy of the key (Pending, caller destroys), NULL
	 */
	qkd_key_t *(*take_bound)(qkd_doh_negotiation_t *this, u_int timeout);

	/**
	 * Take the key the peer named in a key exchange it started, if the
	 * peer negotiated it with this end. Takes the lock.
	 *
	 * @param id		key ID from the KE payload
	 * @return			copy of the key (Pending, caller destroys), NULL
	 */
	qkd_key_t *(*take_peer_bound)(qkd_doh_negotiation_t *this,
								  uint8_t id[QKD_KEY_ID_LEN]);

	/**
	 * Get the number of keys bound and not taken yet.
	 *
	 * @param own		receives those for our key exchanges
	 * @param peer		receives those for the peer's
	 */
	void (*get_bound)(qkd_doh_negotiation_t *this, u_int *own, u_int *peer);

	/**
	 * Set what decides on and uses keys for IKE-less children.
	 *
	 * @param binder	binder, NULL for none (children refused)
	 */
	void (*set_binder)(qkd_doh_negotiation_t *this, qkd_doh_binder_t *binder);

	/**
	 * Negotiate a key for a binding (before keys for IKE key exchanges);
	 * a request for a child already waiting replaces it.
	 *
	 * @param binding	child, algorithms, survival time (copied)
	 */
	void (*request)(qkd_doh_negotiation_t *this, qkd_doh_binding_t *binding);

	/**
	 * Destroy a qkd_doh_negotiation_t.
	 */
	void (*destroy)(qkd_doh_negotiation_t *this);
};

/**
 * Create the negotiation state with a peer.
 *
 * @param ctx		shared state of the peer
 * @param keying	DOH key state
 * @param syncer	sync state
 * @param announces	announce state
 * @return			negotiation state
 */
qkd_doh_negotiation_t *qkd_doh_negotiation_create(qkd_doh_context_t *ctx,
											qkd_doh_keying_t *keying,
											qkd_doh_syncer_t *syncer,
											qkd_doh_announces_t *announces);

#endif /** QKD_DOH_NEGOTIATION_H_ @}*/
