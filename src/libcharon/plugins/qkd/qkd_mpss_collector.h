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
 * The destination's side of MPSS: collects the shares of each secret
 * (decrypted share messages) and rebuilds the secret once all n arrived,
 * or, after a bounded wait, from the k or more that did. With more than k
 * shares they are checked against each other first, and a secret whose
 * shares disagree is refused, never rebuilt wrong.
 *
 * Shares of a secret already rebuilt, refused or given up, repeated
 * indexes and shares whose k, n or length differ from the secret's first
 * share are dropped and counted; nothing else changes. Shares are wiped
 * when dropped.
 *
 * @defgroup qkd_mpss_collector qkd_mpss_collector
 * @{ @ingroup qkd
 */

#ifndef QKD_MPSS_COLLECTOR_H_
#define QKD_MPSS_COLLECTOR_H_

#include "qkd_mpss_msg.h"

typedef struct qkd_mpss_collector_t qkd_mpss_collector_t;
typedef struct qkd_mpss_listener_t qkd_mpss_listener_t;
typedef struct qkd_mpss_counters_t qkd_mpss_counters_t;
typedef enum qkd_mpss_add_t qkd_mpss_add_t;

/**
 * What happened to a share given to the collector.
 */
enum qkd_mpss_add_t {
	/** kept until the secret is rebuilt */
	QKD_MPSS_STORED,
	/** the last one needed: the secret was rebuilt or refused */
	QKD_MPSS_COMPLETED,
	/** a share with this index is there already: dropped */
	QKD_MPSS_DUPLICATE,
	/** k, n or length differ from the secret's first share: dropped */
	QKD_MPSS_MISMATCH,
	/** the secret was rebuilt, refused or given up: dropped */
	QKD_MPSS_LATE,
	/** too many secrets pending: dropped */
	QKD_MPSS_FULL,
};

/**
 * Receives the outcome of each secret.
 */
struct qkd_mpss_listener_t {

	/**
	 * A secret was rebuilt.
	 *
	 * @param id		its KEYID
	 * @param secret	the secret (wiped after the call: copy it)
	 * @param shares	shares it was rebuilt from (k..n)
	 * @param checked	whether they were checked against each other
	 */
	void (*rebuilt)(qkd_mpss_listener_t *this, uint8_t id[QKD_KEY_ID_LEN],
					chunk_t secret, u_int shares, bool checked);

	/**
	 * A secret could not be rebuilt.
	 *
	 * @param id		its KEYID
	 * @param shares	shares that arrived
	 * @param tampered	TRUE if they disagree, FALSE if fewer than k came
	 *					within the wait
	 */
	void (*failed)(qkd_mpss_listener_t *this, uint8_t id[QKD_KEY_ID_LEN],
				   u_int shares, bool tampered);
};

/**
 * Counters of a collector.
 */
struct qkd_mpss_counters_t {
	/** shares kept */
	u_int stored;
	/** shares dropped as duplicate, mismatching, late, or for lack of room */
	u_int duplicate, mismatch, late, full;
	/** secrets rebuilt (of them from more than k checked shares) */
	u_int rebuilt, checked;
	/** secrets refused for disagreeing shares, given up for too few */
	u_int tampered, too_few;
};

/**
 * Collects shares and rebuilds secrets.
 */
struct qkd_mpss_collector_t {

	/**
	 * Give a share (decrypted) to the collector.
	 *
	 * @param msg		share message, its share in the clear (copied)
	 * @param now		monotonic time, ms
	 * @return			what happened to it
	 */
	qkd_mpss_add_t (*add)(qkd_mpss_collector_t *this, qkd_mpss_share_t *msg,
						  uint64_t now);

	/**
	 * Rebuild or give up the secrets whose wait is over.
	 *
	 * @param now		monotonic time, ms
	 * @return			when to call again at the latest, ms (UINT64_MAX
	 *					if nothing is pending)
	 */
	uint64_t (*tick)(qkd_mpss_collector_t *this, uint64_t now);

	/**
	 * Get the counters.
	 *
	 * @param counters	receives them
	 */
	void (*get_counters)(qkd_mpss_collector_t *this,
						 qkd_mpss_counters_t *counters);

	/**
	 * Destroy a qkd_mpss_collector_t, wiping the shares it holds.
	 */
	void (*destroy)(qkd_mpss_collector_t *this);
};

/**
 * Create a collector.
 *
 * @param listener	receives the outcomes (called from add() and tick())
 * @param wait		how long after its first share a secret waits for
 *					the others, ms
 * @param max_pending	most secrets collected at once
 * @return			collector
 */
qkd_mpss_collector_t *qkd_mpss_collector_create(qkd_mpss_listener_t *listener,
												u_int wait, u_int max_pending);

#endif /** QKD_MPSS_COLLECTOR_H_ @}*/
