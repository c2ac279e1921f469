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

#include <collections/array.h>

/**
 * Cover a whole pool with range sync messages (REQ_SYNC_RANGE or
 * ACK_AVAILABLE_RANGE), each carrying as many keys as fit.
 *
 * @param bitmap		the pool's status bitmap (qkd_pool_t.get_bitmap())
 * @param size			number of keys in the pool, at least 1
 * @param deflate		whether the peer understands compressed bitmaps
 * @param request		TRUE for REQ_SYNC_RANGE, FALSE for the answer
 * @return				array of qkd_doh_msg_t* (free with
 *						qkd_doh_sync_destroy()), NULL on failure
 */
array_t *qkd_doh_sync_range(chunk_t bitmap, uint32_t size, bool deflate,
							bool request);

/**
 * Cover the first keys of a pool with the draft's plain sync messages
 * (REQ_SYNC or ACK_AVAILABLE), Key Offset N carrying the keys from Index
 * B * N + 1 on. At most 256 * B keys are covered.
 *
 * @param bitmap		the pool's status bitmap
 * @param size			number of keys in the pool, at least 1
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
 * Record the statuses a received sync message reports in the peer's
 * bitmap, growing it as needed (keys not reported yet read as 11).
 *
 * @param peer			peer's bitmap (allocated, grown, free with chunk_free)
 * @param peer_size		number of keys in it, updated
 * @param msg			received sync message (plain or range)
 * @param keys_per_offset B of plain messages
 * @return				FALSE if the message is no sync message or reports
 *						keys beyond 1,048,576 (refused)
 */
bool qkd_doh_sync_apply(chunk_t *peer, uint32_t *peer_size, qkd_doh_msg_t *msg,
						uint32_t keys_per_offset);

/**
 * Find the key to negotiate: the lowest Index that is Idle on both sides.
 *
 * @param local			own status bitmap
 * @param local_size	number of own keys
 * @param peer			peer's status bitmap
 * @param peer_size		number of keys the peer reported
 * @return				Index (1-based), 0 if no key is Idle on both sides
 */
uint32_t qkd_doh_sync_lowest_idle(chunk_t local, uint32_t local_size,
								  chunk_t peer, uint32_t peer_size);

#endif /** QKD_DOH_SYNC_H_ @}*/
