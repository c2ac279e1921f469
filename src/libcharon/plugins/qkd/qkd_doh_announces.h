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
 * Key announces with the peer of one link: the announcer (the lower
 * address) announces the keys it takes from its KME, with their Indexes,
 * and announces again those the peer turns out not to hold; the other end
 * fetches announced keys by ID and acknowledges those it holds
 * (docs/doh-profile.md, "Key announce").
 *
 * @defgroup qkd_doh_announces qkd_doh_announces
 * @{ @ingroup qkd
 */

#ifndef QKD_DOH_ANNOUNCES_H_
#define QKD_DOH_ANNOUNCES_H_

#include "qkd_doh_context.h"
#include "qkd_doh_syncer.h"

typedef struct qkd_doh_announces_t qkd_doh_announces_t;

/**
 * Announces sent and received. Called with the peer's lock held, and only
 * while authenticated messages flow both ways, except add(),
 * process_announce() and is_incoming().
 */
struct qkd_doh_announces_t {

	/**
	 * Announcer: queue an announce of keys added to the pool.
	 *
	 * @param keys		array of qkd_key_t* (only their IDs are used)
	 */
	void (*add)(qkd_doh_announces_t *this, array_t *keys);

	/**
	 * Announcer: send new and due announces, give up unanswered ones
	 * (expiring their keys here, the peer does not hold them).
	 *
	 * @param now		current time, ms
	 */
	void (*pump)(qkd_doh_announces_t *this, uint64_t now);

	/**
	 * If due: expire our Idle keys the peer's view has shown in use for
	 * two sync intervals at least (the fetching end also those the
	 * announcer no longer holds); the announcer announces again the Idle
	 * keys the peer's view shows it does not hold.
	 *
	 * @param now		current time, ms
	 */
	void (*reconcile)(qkd_doh_announces_t *this, uint64_t now);

	/**
	 * Announcer: compare with the peer's view at the next reconcile().
	 */
	void (*reconcile_soon)(qkd_doh_announces_t *this);

	/**
	 * Announcer: process an ANNOUNCE_ACK.
	 *
	 * @param msg		authenticated ANNOUNCE_ACK
	 */
	void (*process_ack)(qkd_doh_announces_t *this, qkd_doh_msg_t *msg);

	/**
	 * The other end: queue a received KEY_ANNOUNCE for fetch().
	 *
	 * @param msg		authenticated KEY_ANNOUNCE
	 */
	void (*process_announce)(qkd_doh_announces_t *this, qkd_doh_msg_t *msg);

	/**
	 * The other end: fetch the keys of the announces received from the KME
	 * (the lock is released during the calls), add them to the pool and
	 * acknowledge them.
	 */
	void (*fetch)(qkd_doh_announces_t *this);

	/**
	 * Check whether a key ID was announced by the peer and is not fetched
	 * yet.
	 *
	 * @param id		key ID
	 * @return			TRUE if so
	 */
	bool (*is_incoming)(qkd_doh_announces_t *this,
						uint8_t id[QKD_KEY_ID_LEN]);

	/**
	 * Destroy a qkd_doh_announces_t.
	 */
	void (*destroy)(qkd_doh_announces_t *this);
};

/**
 * Create the announce state with a peer.
 *
 * @param ctx		shared state of the peer
 * @param syncer	sync state, for the peer's view
 * @return			announce state
 */
qkd_doh_announces_t *qkd_doh_announces_create(qkd_doh_context_t *ctx,
											  qkd_doh_syncer_t *syncer);

#endif /** QKD_DOH_ANNOUNCES_H_ @}*/
