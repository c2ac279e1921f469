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
 * Pool status synchronization: a pool's status bitmap as sync messages,
 * the peer's bitmap from the messages received, and the choice of the key
 * to negotiate (draft section 4, docs/doh-profile.md).
 *
 * @defgroup qkd_doh_sync qkd_doh_sync
 * @{ @ingroup qkd
 */

#ifndef QKD_DOH_SYNC_H_
#define QKD_DOH_SYNC_H_

#include "qkd_doh_msg.h"

#include "qkd_pool.h"

#include <collections/array.h>

/**
 * What an end knows of the statuses of the other end's keys (or its own,
 * from qkd_pool_t.get_bitmap()).
 */
typedef struct {
	/** Index of the first status in bitmap, 0 if nothing is known */
	uint32_t first;
	/** number of Indexes covered */
	uint32_t size;
	/** 2 bits per Index, unreported ones 11 (allocated) */
	chunk_t bitmap;
} qkd_doh_view_t;

/**
 * Cover a whole pool with range sync messages (REQ_SYNC_RANGE or
 * ACK_AVAILABLE_RANGE), each carrying as many keys as fit, the first one
 * flagged as the first of the round.
 *
 * @param bitmap		the pool's status bitmap (qkd_pool_t.get_bitmap())
 * @param first			Index of its first status, at least 1
 * @param size			number of Indexes it covers, at least 1
 * @param deflate		whether the peer understands compressed bitmaps
 * @param request		TRUE for REQ_SYNC_RANGE, FALSE for the answer
 * @return				array of qkd_doh_msg_t* (free with
 *						qkd_doh_sync_destroy()), NULL on failure
 */
array_t *qkd_doh_sync_range(chunk_t bitmap, uint32_t first, uint32_t size,
							bool deflate, bool request);

/**
 * Cover the first keys of a pool with the draft's plain sync messages
 * (REQ_SYNC or ACK_AVAILABLE), Key Offset N carrying the keys from Index
 * B * N + 1 on. At most 256 * B keys are covered.
 *
 * @param bitmap		the pool's status bitmap, from Index 1 on
 * @param size			number of Indexes in it, at least 1
 * @param keys_per_offset B, 1 to QKD_DOH_MAX_PLAIN_KEYS
 * @param request		TRUE for REQ_SYNC, FALSE for ACK_AVAILABLE
 * @return				array of qkd_doh_msg_t*, NULL on failure
 */
array_t *qkd_doh_sync_plain(chunk_t bitmap, uint32_t size,
							uint32_t keys_per_offset, bool request);

/**
 * Destroy sync messages and their bitmaps.
 *
 * @param msgs			array from qkd_doh_sync_range/plain(), may be NULL
 */
void qkd_doh_sync_destroy(array_t *msgs);

/**
 * Record the statuses a received sync message reports in a view of the
 * peer's pool, growing it as needed. The first message of a round (range
 * messages flagged so, plain ones with Key Offset 0) replaces the view.
 *
 * @param view			view of the peer's pool
 * @param msg			received sync message (plain or range)
 * @param keys_per_offset B of plain messages
 * @return				FALSE if the message is no sync message or the view
 *						would span more than QKD_POOL_MAX_SPAN Indexes
 *						(refused)
 */
bool qkd_doh_sync_apply(qkd_doh_view_t *view, qkd_doh_msg_t *msg,
						uint32_t keys_per_offset);

/**
 * Get the status of an Index in a view.
 *
 * @param view			view
 * @param index			Index
 * @return				status (0-3), 11 if the view does not cover it
 */
u_int qkd_doh_view_get(qkd_doh_view_t *view, uint64_t index);

/**
 * Set the status of an Index in a view, if the view covers it.
 *
 * @param view			view
 * @param index			Index
 * @param status		status (0-3)
 */
void qkd_doh_view_set(qkd_doh_view_t *view, uint32_t index, u_int status);

/**
 * Copy the statuses of count Indexes from first on out of a view, those it
 * does not cover as 11 (unused bits of the last byte zero).
 *
 * @param view			view
 * @param first			first Index to copy
 * @param count			number of Indexes
 * @return				allocated bitmap of ceil(count / 4) bytes
 */
chunk_t qkd_doh_view_extract(qkd_doh_view_t *view, uint32_t first,
							 uint32_t count);

/**
 * Forget a view.
 *
 * @param view			view to empty
 */
void qkd_doh_view_clear(qkd_doh_view_t *view);

/**
 * Find the key to negotiate: the lowest Index that is Idle on both sides.
 *
 * @param local			own statuses
 * @param peer			view of the peer's statuses
 * @return				Index, 0 if no key is Idle on both sides
 */
uint32_t qkd_doh_sync_lowest_idle(qkd_doh_view_t *local, qkd_doh_view_t *peer);

/**
 * Count the Indexes Idle on both sides from one on, to negotiate them
 * together.
 *
 * @param local			own statuses
 * @param peer			view of the peer's statuses
 * @param index			first Index, Idle on both sides
 * @param max			most Indexes to count
 * @return				number of consecutive Indexes Idle on both sides
 */
uint32_t qkd_doh_sync_idle_run(qkd_doh_view_t *local, qkd_doh_view_t *peer,
							   uint32_t index, uint32_t max);

/**
 * Count the Indexes Idle on both sides, on this side only and on the
 * peer's only (not Idle or not held on the other side).
 *
 * @param local			own statuses
 * @param peer			view of the peer's statuses
 * @param both			receives the number Idle on both
 * @param local_only	receives the number Idle here only
 * @param peer_only		receives the number Idle at the peer only
 */
void qkd_doh_sync_compare(qkd_doh_view_t *local, qkd_doh_view_t *peer,
						  u_int *both, u_int *local_only, u_int *peer_only);

#endif /** QKD_DOH_SYNC_H_ @}*/
