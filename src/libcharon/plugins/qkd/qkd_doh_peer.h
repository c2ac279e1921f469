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
 * The DOH protocol with the peer of one link: DOH key, key announce, pool
 * sync, negotiation of the keys the qkd key exchange uses
 * (docs/doh-profile.md).
 * @defgroup qkd_doh_peer qkd_doh_peer
 * @{ @ingroup qkd
 */

#ifndef QKD_DOH_PEER_H_
#define QKD_DOH_PEER_H_

#include "qkd_link.h"
#include "qkd_doh_context.h"
#include "qkd_direct_kernel.h"
#include "qkd_doh_direct.h"

typedef struct qkd_doh_peer_t qkd_doh_peer_t;
typedef struct qkd_doh_peer_info_t qkd_doh_peer_info_t;

/**
 * Number of counters in qkd_doh_peer_info_t
 */
#define QKD_DOH_PEER_COUNTERS 28

/**
 * State and counters of DOH with a peer, as shown.
 */
struct qkd_doh_peer_info_t {
	/** peer's address (valid as long as the peer state) */
	host_t *peer;
	/** state of the DOH key: established, offering, no key */
	char *state;
	/** DOH key generation, 0 if none */
	u_int generation;
	/** keys bound for this end's key exchanges and for the peer's */
	u_int bound_own, bound_peer;
	/** counters, named as on the control socket ("rx-valid") */
	struct {
		/** name */
		char *name;
		/** value */
		u_int value;
	} counters[QKD_DOH_PEER_COUNTERS];
};

/**
 * DOH state with the peer of one link.
 *
 * The end with the numerically lower address takes the DOH key and the
 * pool's keys from its KME (enc_keys) and announces them; the other end
 * fetches them by ID (dec_keys). Each end negotiates a few keys ahead for
 * the key exchanges it starts (it "owns" them) and binds keys at the
 * peer's request for the key exchanges the peer starts.
 *
 * receive() only records what needs a KME call or a synced write; tick()
 * does that work, so the thread delivering packets never waits for a KME
 * or the disk.
 */
struct qkd_doh_peer_t {

	/**
	 * Check whether this peer state talks between two addresses.
	 *
	 * @param local		own address
	 * @param peer		peer's address
	 * @return			TRUE if so
	 */
	bool (*matches)(qkd_doh_peer_t *this, host_t *local, host_t *peer);

	/**
	 * Process a Destination Options Header received from the peer's
	 * address. Work that writes to disk (binding a key the peer asks for)
	 * is left to tick().
	 *
	 * @param src		source address (the peer's)
	 * @param dst		destination address (own)
	 * @param doh		the header
	 * @return			TRUE if tick() should run soon
	 */
	bool (*receive)(qkd_doh_peer_t *this, host_t *src, host_t *dst,
					chunk_t doh);

	/**
	 * Do what is due: DOH key, offers, announces, syncs, negotiations,
	 * retransmissions, KME calls. Called every few 100 ms.
	 */
	void (*tick)(qkd_doh_peer_t *this);

	/**
	 * Take a key this end negotiated for a key exchange it starts.
	 *
	 * @param timeout	ms to wait for a negotiation if none is ready
	 * @return			copy of the key (Pending, caller destroys), NULL
	 */
	qkd_key_t *(*take_bound)(qkd_doh_peer_t *this, u_int timeout);

	/**
	 * Take the key the peer named in a key exchange it started, if the
	 * peer negotiated it with this end.
	 *
	 * @param id		key ID from the KE payload
	 * @return			copy of the key (Pending, caller destroys), NULL if
	 *					not bound with this peer
	 */
	qkd_key_t *(*take_peer_bound)(qkd_doh_peer_t *this,
								  uint8_t id[QKD_KEY_ID_LEN]);

	/**
	 * Use another link object after a reload (same addresses).
	 *
	 * @param link		link (referenced)
	 */
	void (*set_link)(qkd_doh_peer_t *this, qkd_link_t *link);

	/**
	 * Get the state and counters.
	 *
	 * @param info		receives them
	 */
	void (*get_info)(qkd_doh_peer_t *this, qkd_doh_peer_info_t *info);

	/**
	 * Send a synchronization to the peer now (if the DOH key is
	 * established; else once it is).
	 */
	void (*resync)(qkd_doh_peer_t *this);

	/**
	 * Get the IKE-less children of the link.
	 *
	 * @return			array of qkd_doh_direct_info_t (array_destroy())
	 */
	array_t *(*list_ikeless)(qkd_doh_peer_t *this);

	/**
	 * Format the DOH state as "key: value" lines (appended to the pool
	 * status file).
	 *
	 * @param buf		buffer
	 * @param len		size of buf
	 * @return			TRUE if it fit
	 */
	bool (*format_status)(qkd_doh_peer_t *this, char *buf, size_t len);

	/**
	 * Destroy a qkd_doh_peer_t, wiping the DOH keys.
	 */
	void (*destroy)(qkd_doh_peer_t *this);
};

/**
 * Create the DOH state of a link.
 * @param link		link with DOH settings (referenced)
 * @param pool		the link's pool
 * @param send		sends a header to the peer
 * @param data		user data for send
 * @param kernel	installs the SAs of IKE-less children (not owned), or
 *					NULL
 * @return			DOH peer, NULL if the link has no DOH settings
 */
qkd_doh_peer_t *qkd_doh_peer_create(qkd_link_t *link, qkd_pool_t *pool,
									qkd_doh_send_t send, void *data,
									qkd_direct_kernel_t *kernel);

#endif /** QKD_DOH_PEER_H_ @}*/
