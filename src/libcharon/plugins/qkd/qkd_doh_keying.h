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
 * The DOH key with the peer of one link: the announcer (the lower address)
 * takes it from its KME and offers it (AUTH_KEY_OFFER), the other end
 * fetches the offered key by ID or asks for one; an end that holds a key
 * takes another only from an authenticated offer, or after the peer failed
 * to prove it still uses ours (docs/doh-profile.md, "DOH key").
 *
 * @defgroup qkd_doh_keying qkd_doh_keying
 * @{ @ingroup qkd
 */

#ifndef QKD_DOH_KEYING_H_
#define QKD_DOH_KEYING_H_

#include "qkd_doh_context.h"
#include "qkd_doh_announces.h"

typedef struct qkd_doh_keying_t qkd_doh_keying_t;

/**
 * DOH key state with a peer. Called with the peer's lock held.
 */
struct qkd_doh_keying_t {

	/**
	 * Check whether authenticated messages flow both ways.
	 *
	 * @return			TRUE if so
	 */
	bool (*established)(qkd_doh_keying_t *this);

	/**
	 * Get the ID of the DOH key in use.
	 *
	 * @param id		receives the key ID
	 * @return			FALSE if there is none
	 */
	bool (*get_key_id)(qkd_doh_keying_t *this, uint8_t id[QKD_KEY_ID_LEN]);

	/**
	 * An authenticated message arrived: the peer holds the key generation
	 * it was made with.
	 *
	 * @param auth		its AUTH option
	 */
	void (*authenticated)(qkd_doh_keying_t *this, qkd_doh_auth_t *auth);

	/**
	 * A message from the peer's address did not verify: the peer may use
	 * another DOH key (restarted), ask it to prove it uses ours.
	 */
	void (*doubt)(qkd_doh_keying_t *this);

	/**
	 * Process an AUTH_KEY_OFFER.
	 *
	 * @param msg		the offer
	 * @param trusted	TRUE if authenticated with a DOH key we hold
	 */
	void (*process_offer)(qkd_doh_keying_t *this, qkd_doh_msg_t *msg,
						  bool trusted);

	/**
	 * Do what is due: take a DOH key from the KME and offer it (announcer),
	 * fetch an offered one or ask for one, drop ours if the peer no longer
	 * uses it. The lock is released during KME calls.
	 *
	 * @param now		current time, ms
	 */
	void (*tick)(qkd_doh_keying_t *this, uint64_t now);

	/**
	 * Describe the state for the status file.
	 *
	 * @param generation	receives the key generation, 0 if none
	 * @return				"established", "offering" or "no key"
	 */
	char *(*get_state)(qkd_doh_keying_t *this, u_int *generation);

	/**
	 * Destroy a qkd_doh_keying_t.
	 */
	void (*destroy)(qkd_doh_keying_t *this);
};

/**
 * Create the DOH key state with a peer.
 *
 * @param ctx		shared state of the peer
 * @param announces	announce state, to refuse announced keys as DOH keys
 * @return			DOH key state
 */
qkd_doh_keying_t *qkd_doh_keying_create(qkd_doh_context_t *ctx,
										qkd_doh_announces_t *announces);

#endif /** QKD_DOH_KEYING_H_ @}*/
