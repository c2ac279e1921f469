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
 * Most Key Offsets of plain sync messages (8 bits)
 */
#define MAX_OFFSETS 256

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
array_t *qkd_doh_sync_range(chunk_t bitmap, uint32_t first, uint32_t size,
							bool deflate, bool request)
{
	qkd_doh_msg_t *msg;
	array_t *msgs;
	uint32_t pos, count;

	if (!size || !first || (uint64_t)size > (uint64_t)bitmap.len * 4 ||
		(uint64_t)first + size - 1 > UINT32_MAX)
	{
		return NULL;
	}
	msgs = array_create(0, 0);
	for (pos = 1; pos <= size; pos += count)
	{
		if (!qkd_doh_range_fit(bitmap, pos, size - pos + 1, deflate, &count))
		{
			qkd_doh_sync_destroy(msgs);
			return NULL;
		}
		INIT(msg,
			.type = request ? QKD_DOH_REQ_SYNC_RANGE
							: QKD_DOH_ACK_AVAILABLE_RANGE,
			.range = {
				.deflate = deflate,
				.first = pos == 1,
				.start = first + pos - 1,
				.count = count,
				.pool_size = first + size - 1,
				.bitmap = qkd_doh_bitmap_extract(bitmap, pos, count),
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
 * Make a view cover Indexes lo to hi, newly covered ones blank
 */
static bool cover(qkd_doh_view_t *view, uint32_t lo, uint32_t hi)
{
	uint32_t first, size, i;
	chunk_t bitmap;

	if (view->size)
	{
		if (lo >= view->first && hi - view->first < view->size)
		{
			return TRUE;
		}
		first = min(lo, view->first);
		size = max((uint64_t)hi, (uint64_t)view->first + view->size - 1) -
			   first + 1;
	}
	else
	{
		first = lo;
		size = hi - lo + 1;
	}
	if (size > QKD_POOL_MAX_SPAN)
	{
		return FALSE;
	}
	bitmap = chunk_alloc((size + 3) / 4);
	memset(bitmap.ptr, 0xff, bitmap.len);
	for (i = 0; i < view->size; i++)
	{
		qkd_doh_bitmap_set(bitmap, view->first - first + i,
						   qkd_doh_bitmap_get(view->bitmap, i));
	}
	chunk_free(&view->bitmap);
	view->bitmap = bitmap;
	view->first = first;
	view->size = size;
	return TRUE;
}

/*
 * Described in header
 */
chunk_t qkd_doh_view_extract(qkd_doh_view_t *view, uint32_t first,
							 uint32_t count)
{
	chunk_t bitmap;
	uint32_t i;

	bitmap = chunk_alloc((count + 3) / 4);
	memset(bitmap.ptr, 0, bitmap.len);
	for (i = 0; i < count; i++)
	{
		qkd_doh_bitmap_set(bitmap, i,
						   qkd_doh_view_get(view, (uint64_t)first + i));
	}
	return bitmap;
}

/*
 * Described in header
 */
void qkd_doh_view_clear(qkd_doh_view_t *view)
{
	chunk_free(&view->bitmap);
	*view = (qkd_doh_view_t){};
}

/**
 * Whether a view covers an Index
 */
static bool covers(qkd_doh_view_t *view, uint64_t index)
{
	return view->size && index >= view->first &&
		   index - view->first < view->size;
}

/*
 * Described in header
 */
u_int qkd_doh_view_get(qkd_doh_view_t *view, uint64_t index)
{
	return covers(view, index) ?
		qkd_doh_bitmap_get(view->bitmap, index - view->first) : 0x03;
}

/*
 * Described in header
 */
void qkd_doh_view_set(qkd_doh_view_t *view, uint32_t index, u_int status)
{
	if (covers(view, index))
	{
		qkd_doh_bitmap_set(view->bitmap, index - view->first, status);
	}
}

/*
 * Described in header
 */
bool qkd_doh_sync_apply(qkd_doh_view_t *view, qkd_doh_msg_t *msg,
						uint32_t keys_per_offset)
{
	uint32_t first, count, i;
	chunk_t bitmap;
	bool round;

	switch (msg->type)
	{
		case QKD_DOH_REQ_SYNC:
		case QKD_DOH_ACK_AVAILABLE:
			if (!keys_per_offset)
			{
				return FALSE;
			}
			first = msg->sync.offset * keys_per_offset + 1;
			/* zero padding reads as Idle: no more than B keys */
			count = min(msg->sync.bitmap.len * 4, keys_per_offset);
			bitmap = msg->sync.bitmap;
			round = msg->sync.offset == 0;
			break;
		case QKD_DOH_REQ_SYNC_RANGE:
		case QKD_DOH_ACK_AVAILABLE_RANGE:
			first = msg->range.start;
			count = msg->range.count;
			bitmap = msg->range.bitmap;
			round = msg->range.first;
			break;
		default:
			return FALSE;
	}
	if (!first || !count || count > QKD_POOL_MAX_SPAN ||
		(uint64_t)first + count - 1 > UINT32_MAX)
	{
		return FALSE;
	}
	if (round)
	{	/* a new round: forget what the peer reported before */
		qkd_doh_view_clear(view);
	}
	if (!cover(view, first, first + count - 1))
	{
		return FALSE;
	}
	for (i = 0; i < count; i++)
	{
		qkd_doh_bitmap_set(view->bitmap, first - view->first + i,
						   qkd_doh_bitmap_get(bitmap, i));
	}
	return TRUE;
}

/*
 * Described in header
 */
uint32_t qkd_doh_sync_lowest_idle(qkd_doh_view_t *local, qkd_doh_view_t *peer)
{
	uint64_t index, hi;
	uint32_t i;

	if (!local->size || !peer->size)
	{
		return 0;
	}
	hi = min((uint64_t)local->first + local->size,
			 (uint64_t)peer->first + peer->size);
	for (index = max(local->first, peer->first); index < hi; index++)
	{
		i = index - local->first;
		if ((i % 4) == 0 && local->bitmap.ptr[i / 4] == 0xff)
		{	/* skip four keys all used/blank here at once */
			index += 3;
			continue;
		}
		if (qkd_doh_bitmap_get(local->bitmap, i) == 0 &&
			qkd_doh_bitmap_get(peer->bitmap, index - peer->first) == 0)
		{
			return index;
		}
	}
	return 0;
}

/**
 * Status of an Index in a view, 11 outside of it
 */
static qkd_key_status_t view_status(qkd_doh_view_t *view, uint64_t index)
{
	if (index < view->first || index >= (uint64_t)view->first + view->size)
	{
		return QKD_KEY_EXPIRED;
	}
	return qkd_doh_bitmap_get(view->bitmap, index - view->first);
}

/*
 * Described in header
 */
uint32_t qkd_doh_sync_idle_run(qkd_doh_view_t *local, qkd_doh_view_t *peer,
							   uint32_t index, uint32_t max)
{
	uint32_t count = 0;

	while (count < max &&
		   view_status(local, (uint64_t)index + count) == QKD_KEY_IDLE &&
		   view_status(peer, (uint64_t)index + count) == QKD_KEY_IDLE)
	{
		count++;
	}
	return count;
}

/*
 * Described in header
 */
void qkd_doh_sync_compare(qkd_doh_view_t *local, qkd_doh_view_t *peer,
						  u_int *both, u_int *local_only, u_int *peer_only)
{
	uint64_t index, lo, hi;
	bool here, there;

	*both = *local_only = *peer_only = 0;
	lo = min(local->size ? local->first : UINT32_MAX,
			 peer->size ? peer->first : UINT32_MAX);
	hi = max((uint64_t)local->first + local->size,
			 (uint64_t)peer->first + peer->size);
	for (index = lo; index < hi; index++)
	{
		here = qkd_doh_view_get(local, index) == QKD_KEY_IDLE;
		there = qkd_doh_view_get(peer, index) == QKD_KEY_IDLE;
		*both += here && there;
		*local_only += here && !there;
		*peer_only += !here && there;
	}
}
