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

#include "qkd_doh_context.h"

#include <utils/debug.h>

/**
 * No Next Header
 */
#define NH_NONE 59

/**
 * Interval of the summary log line of refused messages, ms
 */
#define DROP_LOG_INTERVAL 10000

/*
 * Described in header
 */
uint64_t qkd_doh_now_ms()
{
	timeval_t tv;

	time_monotonic(&tv);
	return (uint64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/*
 * Described in header
 */
void qkd_doh_rt_sent(qkd_doh_retrans_t *rt, uint64_t now, u_int base,
					 u_int max)
{
	uint64_t timeout = (uint64_t)base << min(rt->tries, 16);

	rt->due = now + min(timeout, (uint64_t)max);
	rt->tries++;
}

/*
 * Described in header
 */
char *qkd_doh_name(qkd_doh_context_t *ctx)
{
	return ctx->link->get_name(ctx->link);
}

/*
 * Described in header
 */
void qkd_doh_refused(qkd_doh_context_t *ctx, char *reason)
{
	uint64_t now = qkd_doh_now_ms();

	ctx->drops++;
	ctx->drop_reason = reason;
	if (now >= ctx->drop_log_due)
	{
		DBG1(DBG_NET, "qkd DOH '%s': refused %u message%s from %H in %us, "
			 "latest: %s", qkd_doh_name(ctx), ctx->drops,
			 ctx->drops == 1 ? "" : "s", ctx->peer,
			 DROP_LOG_INTERVAL / 1000, reason);
		ctx->drops = 0;
		ctx->drop_log_due = now + DROP_LOG_INTERVAL;
	}
}

/*
 * Described in header
 */
bool qkd_doh_send_msg(qkd_doh_context_t *ctx, qkd_doh_msg_t *msg, bool auth)
{
	qkd_doh_auth_t option;
	chunk_t doh;
	size_t mac_offset;
	bool ok;

	if (auth && !ctx->guard->prepare(ctx->guard, &option))
	{
		return FALSE;
	}
	if (!qkd_doh_encode(msg, auth ? &option : NULL, NH_NONE, &doh,
						&mac_offset))
	{
		DBG1(DBG_NET, "qkd DOH '%s': encoding %N failed", qkd_doh_name(ctx),
			 qkd_doh_type_names, msg->type);
		return FALSE;
	}
	ok = (!auth || ctx->guard->sign(ctx->guard, ctx->local, ctx->peer,
									doh, mac_offset)) &&
		 ctx->send(ctx->send_data, ctx->local, ctx->peer, doh);
	chunk_free(&doh);
	if (ok)
	{
		ctx->counters.tx++;
	}
	return ok;
}

/*
 * Described in header
 */
void qkd_doh_sync_soon(qkd_doh_context_t *ctx)
{
	ctx->sync_due = min(ctx->sync_due, qkd_doh_now_ms() + QKD_DOH_SYNC_SOON);
}

/*
 * Described in header
 */
void qkd_doh_own_view(qkd_doh_context_t *ctx, qkd_doh_view_t *view)
{
	view->size = ctx->pool->get_bitmap(ctx->pool, &view->bitmap,
									   &view->first);
}

/*
 * Described in header
 */
qkd_key_t *qkd_doh_kme_key(qkd_doh_context_t *ctx, uint8_t *id,
						   qkd_kme_result_t *result)
{
	qkd_link_t *link;
	qkd_key_t *key;

	link = ctx->link->get_ref(ctx->link);
	ctx->mutex->unlock(ctx->mutex);
	key = link->get_key(link, id, result);
	ctx->mutex->lock(ctx->mutex);
	link->destroy(link);
	return key;
}

/*
 * Described in header
 */
qkd_doh_context_t *qkd_doh_context_create(qkd_link_t *link, qkd_pool_t *pool,
										  qkd_doh_send_t send, void *data)
{
	qkd_doh_context_t *ctx;
	qkd_doh_settings_t *settings;

	settings = link->get_doh(link);
	if (!settings || !pool)
	{
		return NULL;
	}

	INIT(ctx,
		.link = link->get_ref(link),
		.pool = pool,
		.settings = *settings,
		.local = settings->local->clone(settings->local),
		.peer = settings->peer->clone(settings->peer),
		.announcer = settings->announcer,
		.guard = qkd_doh_guard_create(settings->window),
		.send = send,
		.send_data = data,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	ctx->settings.local = ctx->local;
	ctx->settings.peer = ctx->peer;
	return ctx;
}

/*
 * Described in header
 */
void qkd_doh_context_set_link(qkd_doh_context_t *ctx, qkd_link_t *link)
{
	qkd_doh_settings_t *settings = link->get_doh(link);

	ctx->link->destroy(ctx->link);
	ctx->link = link->get_ref(link);
	if (settings)
	{	/* the addresses stay, timers may change */
		ctx->settings.window = settings->window;
		ctx->settings.sync_interval = settings->sync_interval;
		ctx->settings.retransmit = settings->retransmit;
		ctx->settings.keys_per_offset = settings->keys_per_offset;
		ctx->settings.bound = settings->bound;
	}
}

/*
 * Described in header
 */
void qkd_doh_context_destroy(qkd_doh_context_t *ctx)
{
	ctx->guard->destroy(ctx->guard);
	ctx->local->destroy(ctx->local);
	ctx->peer->destroy(ctx->peer);
	ctx->link->destroy(ctx->link);
	ctx->mutex->destroy(ctx->mutex);
	free(ctx);
}
