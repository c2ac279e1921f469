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
 * @defgroup qkd_refill qkd_refill
 * @{ @ingroup qkd
 */

#ifndef QKD_REFILL_H_
#define QKD_REFILL_H_

#include "qkd_link.h"
#include "qkd_pool.h"

typedef struct qkd_refill_t qkd_refill_t;

/**
 * Keeps a link's pool filled, outside of any IKE exchange.
 *
 * Runs as short jobs on charon's processor: a round each second
 * (scheduled), and one at once when keys taken leave the pool below the
 * low watermark; no thread waits between rounds, so the threads used do
 * not grow with the number of links.
 *
 * When the pool has fewer Idle keys than the low watermark, it gets
 * batches from the KME (enc_keys with number, at most max_key_per_request
 * and stored_key_count of the KME status) until the pool is full. While
 * the KME fails it backs off (1 s doubling to 60 s). Keys older than the
 * link's survival time are expired. Pool levels are logged when they
 * change between ok, low and dry.
 */
struct qkd_refill_t {

	/**
	 * Use the settings of a reloaded link from now on.
	 *
	 * @param link		link (referenced)
	 */
	void (*set_link)(qkd_refill_t *this, qkd_link_t *link);

	/**
	 * Append more "key: value" lines to the status file of the pool, e.g.
	 * the state of DOH with the link's peer.
	 *
	 * @param cb		formats the lines into buf (of size len), returns
	 *					FALSE if they don't fit; NULL for none
	 * @param data		data passed to cb
	 */
	void (*set_status_cb)(qkd_refill_t *this,
						  bool (*cb)(void *data, char *buf, size_t len),
						  void *data);

	/**
	 * Fill the pool up to its capacity from the KME now, ignoring the low
	 * watermark and a backoff after failures (in a job; returns at once).
	 *
	 * @return			FALSE if the pool gets its keys from a DOH peer
	 */
	bool (*refill_now)(qkd_refill_t *this);

	/**
	 * Stop the job and destroy it.
	 */
	void (*destroy)(qkd_refill_t *this);
};

/**
 * Start refilling the pool of a link.
 *
 * @param link		link (referenced)
 * @param pool		the link's pool
 * @return			refill job
 */
qkd_refill_t *qkd_refill_create(qkd_link_t *link, qkd_pool_t *pool);

#endif /** QKD_REFILL_H_ @}*/
