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

#include "qkd_doh_sync.h"

/**
 * Most keys accepted from a peer's sync messages
 */
#define MAX_PEER_KEYS (1 << 20)

/**
 * Most Key Offsets of plain sync messages (8 bits)
 */
#define MAX_OFFSETS 256

/**
 * Status of keys not reported (yet): "invalid or blank"
 */
#define BLANK 0x03

/*
 * Described in header
 */
void qkd_doh_sync_destroy(array_t *msgs)
{
	qkd_doh_msg_t *msg;

	while (array_remove(msgs, ARRAY_HEAD, &msg))
	{
		if (msg->type == QKD_DOH_REQ_SYNC ||
			msg->type == QKD_DOH_ACK_AVAILABLE)
		{
			chunk_free(&msg->sync.bitmap);
		}
		else
		{
			qkd_doh_msg_clear(msg);
		}
		free(msg);
	}
	array_destroy(msgs);
}

/*
 * Described in header
 */
array_t *qkd_doh_sync_range(chunk_t bitmap, uint32_t size, bool deflate,
							bool request)
{
	qkd_doh_msg_t *msg;
	array_t *msgs;
	uint32_t start, count;

	if (!size || (uint64_t)size > (uint64_t)bitmap.len * 4)
	{
		return NULL;
	}
	msgs = array_create(0, 0);
	for (start = 1; start <= size; start += count)
	{
		if (!qkd_doh_range_fit(bitmap, start, size - start + 1, deflate,
							   &count))
		{
			qkd_doh_sync_destroy(msgs);
			return NULL;
		}
		INIT(msg,
			.type = request ? QKD_DOH_REQ_SYNC_RANGE
							: QKD_DOH_ACK_AVAILABLE_RANGE,
			.range = {
				.deflate = deflate,
				.start = start,
				.count = count,
				.pool_size = size,
				.bitmap = qkd_doh_bitmap_extract(bitmap, start, count),
			},
		);
		array_insert(msgs, ARRAY_TAIL, msg);
	}
	return msgs;
}

/*
 * Described in header
 */
array_t *qkd_doh_sync_plain(chunk_t bitmap, uint32_t size,
							uint32_t keys_per_offset, bool request)
{
	qkd_doh_msg_t *msg;
	array_t *msgs;
	uint32_t offset, first;

	if (!size || !keys_per_offset ||
		keys_per_offset > QKD_DOH_MAX_PLAIN_KEYS ||
		(uint64_t)size > (uint64_t)bitmap.len * 4)
	{
		return NULL;
	}
	msgs = array_create(0, 0);
	for (offset = 0; offset < MAX_OFFSETS; offset++)
	{
		first = offset * keys_per_offset;
		if (first >= size)
		{
			break;
		}
		INIT(msg,
			.type = request ? QKD_DOH_REQ_SYNC : QKD_DOH_ACK_AVAILABLE,
			.sync = {
				.offset = offset,
				.bitmap = qkd_doh_bitmap_extract(bitmap, first + 1,
									min(keys_per_offset, size - first)),
			},
		);
		array_insert(msgs, ARRAY_TAIL, msg);
	}
	return msgs;
}

/**
 * Grow the peer's bitmap to a number of keys, new keys blank
 */
static void grow(chunk_t *peer, uint32_t *peer_size, uint32_t size)
{
	uint32_t i;

	if (size <= *peer_size)
	{
		return;
	}
	if ((size + 3) / 4 > peer->len)
	{
		peer->len = (size + 3) / 4;
		peer->ptr = realloc(peer->ptr, peer->len);
	}
	for (i = *peer_size; i < size; i++)
	{
		qkd_doh_bitmap_set(*peer, i, BLANK);
	}
	*peer_size = size;
}

/*
 * Described in header
 */
bool qkd_doh_sync_apply(chunk_t *peer, uint32_t *peer_size, qkd_doh_msg_t *msg,
						uint32_t keys_per_offset)
{
	uint32_t first, count, i;
	chunk_t bitmap;

	switch (msg->type)
	{
		case QKD_DOH_REQ_SYNC:
		case QKD_DOH_ACK_AVAILABLE:
			if (!keys_per_offset)
			{
				return FALSE;
			}
			first = msg->sync.offset * keys_per_offset;
			/* zero padding reads as Idle: no more than B keys */
			count = min(msg->sync.bitmap.len * 4, keys_per_offset);
			bitmap = msg->sync.bitmap;
			break;
		case QKD_DOH_REQ_SYNC_RANGE:
		case QKD_DOH_ACK_AVAILABLE_RANGE:
			first = msg->range.start - 1;
			count = msg->range.count;
			bitmap = msg->range.bitmap;
			break;
		default:
			return FALSE;
	}
	if ((uint64_t)first + count > MAX_PEER_KEYS)
	{
		return FALSE;
	}
	grow(peer, peer_size, first + count);
	for (i = 0; i < count; i++)
	{
		qkd_doh_bitmap_set(*peer, first + i, qkd_doh_bitmap_get(bitmap, i));
	}
	return TRUE;
}

/*
 * Described in header
 */
uint32_t qkd_doh_sync_lowest_idle(chunk_t local, uint32_t local_size,
								  chunk_t peer, uint32_t peer_size)
{
	uint32_t i, n;

	n = min(min(local_size, peer_size),
			min(local.len * 4, peer.len * 4));
	for (i = 0; i < n; i++)
	{
		if ((i % 4) == 0 && local.ptr[i / 4] == 0xff)
		{	/* skip four keys all used/blank here at once */
			i += 3;
			continue;
		}
		if (qkd_doh_bitmap_get(local, i) == 0 &&
			qkd_doh_bitmap_get(peer, i) == 0)
		{
			return i + 1;
		}
	}
	return 0;
}
