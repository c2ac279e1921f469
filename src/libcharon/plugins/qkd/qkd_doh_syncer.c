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

#include "qkd_doh_syncer.h"

typedef struct private_qkd_doh_syncer_t private_qkd_doh_syncer_t;

/**
 * Private data of a qkd_doh_syncer_t object.
 */
struct private_qkd_doh_syncer_t {

	/**
	 * Public interface.
	 */
	qkd_doh_syncer_t public;

	/**
	 * Shared state of the peer
	 */
	qkd_doh_context_t *ctx;

	/**
	 * Peer's statuses as its syncs reported them, and whether it reported
	 * any
	 */
	qkd_doh_view_t peer_view;
	bool peer_known;

	/**
	 * Whether the peer acknowledged a sync carrying our reset flag
	 */
	bool reset_acked;

	/**
	 * Whether (and under which DOH key) the peer's reset was processed
	 */
	bool reset_seen;
	uint8_t reset_key_id[QKD_KEY_ID_LEN];
};

/**
 * Send a sync round: the whole pool in range messages, the first with our
 * reset flag until the peer acknowledged it
 */
static void send_sync(private_qkd_doh_syncer_t *this, uint64_t now)
{
	qkd_doh_context_t *ctx = this->ctx;
	uint8_t blank = 0xff;
	qkd_doh_msg_t empty = {
		.type = QKD_DOH_REQ_SYNC,
		.sync = {
			.bitmap = chunk_from_thing(blank),
		},
	}, *msg;
	qkd_doh_view_t own;
	array_t *msgs;
	int i;

	ctx->sync_due = now + ctx->settings.sync_interval;
	qkd_doh_own_view(ctx, &own);
	if (!own.size)
	{	/* range messages need a key: the draft's sync, all blank */
		qkd_doh_view_clear(&own);
		qkd_doh_send_msg(ctx, &empty, TRUE);
		return;
	}
	msgs = qkd_doh_sync_range(own.bitmap, own.first, own.size, TRUE, TRUE);
	qkd_doh_view_clear(&own);
	for (i = 0; i < array_count(msgs); i++)
	{
		array_get(msgs, i, &msg);
		msg->range.reset = !this->reset_acked && msg->range.first;
		qkd_doh_send_msg(ctx, msg, TRUE);
	}
	qkd_doh_sync_destroy(msgs);
}

/**
 * Answer the draft's REQ_SYNC: the statuses of its offset, counting from
 * Index 1 (those we don't hold as 11)
 */
static void answer_plain(private_qkd_doh_syncer_t *this, qkd_doh_msg_t *req,
						 qkd_doh_view_t *own)
{
	uint32_t per_offset = this->ctx->settings.keys_per_offset;
	qkd_doh_msg_t *msg;
	array_t *msgs = NULL;
	uint32_t count;
	chunk_t bitmap;
	int i;

	count = own->size ? min((uint64_t)own->first + own->size - 1,
							256 * (uint64_t)per_offset) : 0;
	if (!count)
	{
		return;
	}
	bitmap = qkd_doh_view_extract(own, 1, count);
	msgs = qkd_doh_sync_plain(bitmap, count, per_offset, FALSE);
	chunk_free(&bitmap);
	for (i = 0; i < array_count(msgs); i++)
	{
		array_get(msgs, i, &msg);
		if (msg->sync.offset == req->sync.offset)
		{
			qkd_doh_send_msg(this->ctx, msg, TRUE);
		}
	}
	qkd_doh_sync_destroy(msgs);
}

/**
 * Answer a REQ_SYNC_RANGE with our statuses of the same Indexes
 */
static void answer_range(private_qkd_doh_syncer_t *this, qkd_doh_msg_t *req,
						 qkd_doh_view_t *own)
{
	qkd_doh_msg_t *msg;
	array_t *msgs;
	chunk_t bitmap;
	int i;

	bitmap = qkd_doh_view_extract(own, req->range.start, req->range.count);
	msgs = qkd_doh_sync_range(bitmap, req->range.start, req->range.count,
							  TRUE, FALSE);
	chunk_free(&bitmap);
	for (i = 0; msgs && i < array_count(msgs); i++)
	{
		array_get(msgs, i, &msg);
		/* a round of answers starts where the peer's round starts */
		msg->range.first = req->range.first && i == 0;
		qkd_doh_send_msg(this->ctx, msg, TRUE);
	}
	qkd_doh_sync_destroy(msgs);
}

METHOD(qkd_doh_syncer_t, tick, void,
	private_qkd_doh_syncer_t *this, uint64_t now)
{
	if (now >= this->ctx->sync_due)
	{
		send_sync(this, now);
	}
}

METHOD(qkd_doh_syncer_t, is_reset, bool,
	private_qkd_doh_syncer_t *this, qkd_doh_msg_t *msg,
	uint8_t key_id[QKD_KEY_ID_LEN])
{
	if (msg->type != QKD_DOH_REQ_SYNC_RANGE || !msg->range.reset ||
		(this->reset_seen && memeq(this->reset_key_id, key_id,
								   QKD_KEY_ID_LEN)))
	{
		return FALSE;
	}
	this->reset_seen = TRUE;
	memcpy(this->reset_key_id, key_id, QKD_KEY_ID_LEN);
	return TRUE;
}

METHOD(qkd_doh_syncer_t, process, bool,
	private_qkd_doh_syncer_t *this, qkd_doh_msg_t *msg)
{
	qkd_doh_view_t own;
	bool news;

	if (msg->type == QKD_DOH_ACK_AVAILABLE_RANGE && msg->range.first)
	{
		this->reset_acked = TRUE;
	}
	news = qkd_doh_sync_apply(&this->peer_view, msg,
							  this->ctx->settings.keys_per_offset);
	this->peer_known = this->peer_known || news;
	if (msg->type == QKD_DOH_REQ_SYNC || msg->type == QKD_DOH_REQ_SYNC_RANGE)
	{
		qkd_doh_own_view(this->ctx, &own);
		if (msg->type == QKD_DOH_REQ_SYNC)
		{
			answer_plain(this, msg, &own);
		}
		else
		{
			answer_range(this, msg, &own);
		}
		qkd_doh_view_clear(&own);
	}
	return news;
}

METHOD(qkd_doh_syncer_t, get_peer_view, qkd_doh_view_t*,
	private_qkd_doh_syncer_t *this)
{
	return this->peer_known ? &this->peer_view : NULL;
}

METHOD(qkd_doh_syncer_t, mark, void,
	private_qkd_doh_syncer_t *this, uint32_t index, u_int status)
{
	qkd_doh_view_set(&this->peer_view, index, status);
}

METHOD(qkd_doh_syncer_t, reset_acked, bool,
	private_qkd_doh_syncer_t *this)
{
	return this->reset_acked;
}

METHOD(qkd_doh_syncer_t, destroy, void,
	private_qkd_doh_syncer_t *this)
{
	qkd_doh_view_clear(&this->peer_view);
	free(this);
}

/*
 * Described in header
 */
qkd_doh_syncer_t *qkd_doh_syncer_create(qkd_doh_context_t *ctx)
{
	private_qkd_doh_syncer_t *this;

	INIT(this,
		.public = {
			.tick = _tick,
			.is_reset = _is_reset,
			.process = _process,
			.get_peer_view = _get_peer_view,
			.mark = _mark,
			.reset_acked = _reset_acked,
			.destroy = _destroy,
		},
		.ctx = ctx,
	);
	return &this->public;
}
