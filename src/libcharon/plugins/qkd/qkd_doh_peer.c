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

#include "qkd_doh_peer.h"
#include "qkd_doh_context.h"
#include "qkd_doh_keying.h"
#include "qkd_doh_syncer.h"
#include "qkd_doh_announces.h"
#include "qkd_doh_negotiation.h"
#include "qkd_doh_direct.h"
#include "qkd_events.h"

#include <utils/debug.h>

typedef struct private_qkd_doh_peer_t private_qkd_doh_peer_t;

/**
 * Private data of a qkd_doh_peer_t object.
 */
struct private_qkd_doh_peer_t {

	/**
	 * Public interface.
	 */
	qkd_doh_peer_t public;

	/**
	 * Listener to the pool, for keys this end adds (to announce them)
	 */
	qkd_pool_listener_t listener;

	/**
	 * Shared state, with the lock
	 */
	qkd_doh_context_t *ctx;

	/**
	 * DOH key
	 */
	qkd_doh_keying_t *keying;

	/**
	 * Pool sync
	 */
	qkd_doh_syncer_t *syncer;

	/**
	 * Key announces
	 */
	qkd_doh_announces_t *announces;

	/**
	 * Negotiation and binding
	 */
	qkd_doh_negotiation_t *negotiation;

	/**
	 * IKE-less children, if the link has any
	 */
	qkd_doh_direct_t *direct;

	/**
	 * Installs the children's SAs (not owned), NULL if none
	 */
	qkd_direct_kernel_t *kernel;

	/**
	 * Whether the DOH key was established when last looked at
	 */
	bool up;
};

/**
 * Raise an event about the peer (lock held)
 */
static void raise_event(private_qkd_doh_peer_t *this, qkd_event_type_t type,
						char *reason, u_int generation)
{
	qkd_events_raise(&(qkd_event_t){
		.type = type,
		.link = qkd_doh_name(this->ctx),
		.peer = this->ctx->peer,
		.reason = reason,
		.generation = generation,
	});
}

/**
 * Raise an event if the DOH key got established or lost (lock held)
 */
static void note_state(private_qkd_doh_peer_t *this)
{
	u_int generation;
	bool up;

	up = this->keying->established(this->keying);
	if (up != this->up)
	{
		this->up = up;
		this->keying->get_state(this->keying, &generation);
		raise_event(this, up ? QKD_EVENT_DOH_PEER_UP : QKD_EVENT_DOH_PEER_DOWN,
					up ? NULL : "DOH key lost", generation);
	}
}

/**
 * Process a sync message
 */
static void process_sync(private_qkd_doh_peer_t *this, qkd_doh_msg_t *msg)
{
	uint8_t key_id[QKD_KEY_ID_LEN];
	bool news;

	this->keying->get_key_id(this->keying, key_id);
	if (this->syncer->is_reset(this->syncer, msg, key_id))
	{
		raise_event(this, QKD_EVENT_DOH_PEER_RESET, "peer restarted", 0);
		this->negotiation->peer_reset(this->negotiation);
		if (this->direct)
		{
			this->direct->peer_reset(this->direct);
		}
	}
	news = this->syncer->process(this->syncer, msg);
	this->negotiation->views_changed(this->negotiation, news);
}

/**
 * Process an authenticated message
 */
static void process(private_qkd_doh_peer_t *this, qkd_doh_msg_t *msg,
					qkd_doh_auth_t *auth)
{
	this->keying->authenticated(this->keying, auth);
	switch (msg->type)
	{
		case QKD_DOH_REQ_SYNC_RANGE:
		case QKD_DOH_REQ_SYNC:
		case QKD_DOH_ACK_AVAILABLE_RANGE:
		case QKD_DOH_ACK_AVAILABLE:
			process_sync(this, msg);
			break;
		case QKD_DOH_REQ_NEGOTIATE:
			this->negotiation->process_request(this->negotiation, msg);
			break;
		case QKD_DOH_CONFIRM_NEGOTIATE:
			this->negotiation->process_confirm(this->negotiation, msg);
			break;
		case QKD_DOH_KEY_ANNOUNCE:
			this->announces->process_announce(this->announces, msg);
			break;
		case QKD_DOH_ANNOUNCE_ACK:
			this->announces->process_ack(this->announces, msg);
			if (this->keying->established(this->keying))
			{
				this->announces->pump(this->announces, qkd_doh_now_ms());
			}
			break;
		default:
			this->ctx->counters.rx_unexpected++;
			break;
	}
}

/**
 * Count and log a message the guard refused
 */
static void count_refused(private_qkd_doh_peer_t *this,
						  qkd_doh_verdict_t verdict)
{
	qkd_doh_counters_t *counters = &this->ctx->counters;

	switch (verdict)
	{
		case QKD_DOH_BAD_MAC:
			counters->rx_bad_mac++;
			qkd_doh_refused(this->ctx, "MAC does not verify");
			break;
		case QKD_DOH_STALE:
			counters->rx_stale++;
			qkd_doh_refused(this->ctx, "timestamp outside the window");
			break;
		case QKD_DOH_REPLAY:
			counters->rx_replay++;
			qkd_doh_refused(this->ctx, "replayed");
			break;
		case QKD_DOH_NO_KEY:
		default:
			counters->rx_no_key++;
			qkd_doh_refused(this->ctx, "unknown DOH key");
			break;
	}
}

/**
 * Decode the message of a frame, count it if malformed
 */
static bool decode(private_qkd_doh_peer_t *this, qkd_doh_frame_t *frame,
				   qkd_doh_msg_t *msg)
{
	if (!qkd_doh_decode_frame(frame, msg))
	{
		this->ctx->counters.rx_malformed++;
		qkd_doh_refused(this->ctx, "malformed");
		return FALSE;
	}
	return TRUE;
}

/**
 * A message that did not verify: the peer may have another DOH key; a
 * REQ_NEGOTIATE gets the refusal the draft asks for
 */
static void not_verified(private_qkd_doh_peer_t *this, qkd_doh_frame_t *frame,
						 qkd_doh_verdict_t verdict)
{
	qkd_doh_msg_t msg;

	count_refused(this, verdict);
	if (verdict == QKD_DOH_NO_KEY || verdict == QKD_DOH_BAD_MAC)
	{
		this->keying->doubt(this->keying);
	}
	if ((verdict == QKD_DOH_BAD_MAC || verdict == QKD_DOH_STALE) &&
		frame->type == QKD_DOH_REQ_NEGOTIATE &&
		this->keying->established(this->keying) && decode(this, frame, &msg))
	{
		this->negotiation->refuse(this->negotiation, &msg,
								  verdict == QKD_DOH_BAD_MAC ?
								  QKD_DOH_HMAC_FAILED : QKD_DOH_TIMESTAMP);
		qkd_doh_msg_clear(&msg);
	}
}

METHOD(qkd_doh_peer_t, receive, bool,
	private_qkd_doh_peer_t *this, host_t *src, host_t *dst, chunk_t doh)
{
	qkd_doh_verdict_t verdict = QKD_DOH_NO_KEY;
	qkd_doh_frame_t frame;
	qkd_doh_msg_t msg;
	bool framed, work;

	/* only the options are looked at before the MAC is checked; the
	 * message (e.g. a compressed bitmap) is decoded after that */
	framed = qkd_doh_frame(doh, &frame);
	if (framed && frame.has_auth)
	{
		verdict = this->ctx->guard->verify(this->ctx->guard, src, dst, doh,
										   &frame.auth, frame.mac_offset);
	}
	this->ctx->mutex->lock(this->ctx->mutex);
	this->ctx->counters.rx++;
	if (!framed)
	{
		this->ctx->counters.rx_malformed++;
		qkd_doh_refused(this->ctx, "malformed");
	}
	else if (frame.type == QKD_DOH_AUTH_KEY_OFFER)
	{	/* an offer may be authenticated with the previous DOH key; one
		 * that isn't is taken as unauthenticated */
		if (verdict != QKD_DOH_VALID && verdict != QKD_DOH_NO_KEY)
		{
			count_refused(this, verdict);
		}
		if (decode(this, &frame, &msg))
		{
			this->keying->process_offer(this->keying, &msg,
										verdict == QKD_DOH_VALID);
			qkd_doh_msg_clear(&msg);
		}
	}
	else if (!frame.has_auth)
	{
		this->ctx->counters.rx_no_key++;
		qkd_doh_refused(this->ctx, "not authenticated");
	}
	else if (verdict == QKD_DOH_VALID)
	{
		if (decode(this, &frame, &msg))
		{
			this->ctx->counters.rx_valid++;
			process(this, &msg, &frame.auth);
			qkd_doh_msg_clear(&msg);
		}
	}
	else
	{
		not_verified(this, &frame, verdict);
	}
	note_state(this);
	work = this->negotiation->has_work(this->negotiation);
	this->ctx->mutex->unlock(this->ctx->mutex);
	return work;
}

METHOD(qkd_doh_peer_t, tick, void,
	private_qkd_doh_peer_t *this)
{
	uint64_t now = qkd_doh_now_ms();

	this->ctx->mutex->lock(this->ctx->mutex);
	this->keying->tick(this->keying, now);
	if (this->keying->established(this->keying))
	{
		if (!this->ctx->announcer)
		{
			this->announces->fetch(this->announces);
		}
		now = qkd_doh_now_ms();
		this->syncer->tick(this->syncer, now);
		this->announces->reconcile(this->announces, now);
		this->announces->pump(this->announces, now);
	}
	this->negotiation->tick(this->negotiation, now);
	if (this->direct)
	{
		this->direct->tick(this->direct, qkd_doh_now_ms());
	}
	note_state(this);
	this->ctx->mutex->unlock(this->ctx->mutex);
}

/**
 * Keys this end got from its KME were added to the pool: announce them, so
 * that the peer holds them too
 */
static void added(qkd_pool_listener_t *listener, array_t *keys)
{
	private_qkd_doh_peer_t *this = (void*)((char*)listener -
								offsetof(private_qkd_doh_peer_t, listener));

	this->ctx->mutex->lock(this->ctx->mutex);
	this->announces->add(this->announces, keys);
	if (this->keying->established(this->keying))
	{
		this->announces->pump(this->announces, qkd_doh_now_ms());
	}
	this->ctx->mutex->unlock(this->ctx->mutex);
}

METHOD(qkd_doh_peer_t, take_bound, qkd_key_t*,
	private_qkd_doh_peer_t *this, u_int timeout)
{
	return this->negotiation->take_bound(this->negotiation, timeout);
}

METHOD(qkd_doh_peer_t, take_peer_bound, qkd_key_t*,
	private_qkd_doh_peer_t *this, uint8_t id[QKD_KEY_ID_LEN])
{
	return this->negotiation->take_peer_bound(this->negotiation, id);
}

METHOD(qkd_doh_peer_t, matches, bool,
	private_qkd_doh_peer_t *this, host_t *local, host_t *peer)
{
	return this->ctx->local->ip_equals(this->ctx->local, local) &&
		   this->ctx->peer->ip_equals(this->ctx->peer, peer);
}

METHOD(qkd_doh_peer_t, set_link, void,
	private_qkd_doh_peer_t *this, qkd_link_t *link)
{
	this->ctx->mutex->lock(this->ctx->mutex);
	qkd_doh_context_set_link(this->ctx, link);
	if (this->direct)
	{
		this->direct->set_link(this->direct, link);
	}
	else
	{	/* children configured since the start */
		this->direct = qkd_doh_direct_create(this->ctx, this->keying,
											 this->negotiation, this->kernel);
	}
	this->ctx->mutex->unlock(this->ctx->mutex);
}

/**
 * Get the state and counters, with the lock held
 */
static void get_info_locked(private_qkd_doh_peer_t *this,
							qkd_doh_peer_info_t *info)
{
	qkd_doh_counters_t *c = &this->ctx->counters;
	qkd_doh_view_t view, *peer_view, none = {};
	u_int both, here_only, peer_only;
	int i = 0;

#define COUNTER(n, v) ({ info->counters[i].name = n; \
						 info->counters[i++].value = v; })

	*info = (qkd_doh_peer_info_t){
		.peer = this->ctx->peer,
	};
	info->state = this->keying->get_state(this->keying, &info->generation);
	this->negotiation->get_bound(this->negotiation, &info->bound_own,
								 &info->bound_peer);
	peer_view = this->syncer->get_peer_view(this->syncer);
	qkd_doh_own_view(this->ctx, &view);
	qkd_doh_sync_compare(&view, peer_view ?: &none, &both, &here_only,
						 &peer_only);
	qkd_doh_view_clear(&view);
	COUNTER("rx", c->rx);
	COUNTER("rx-valid", c->rx_valid);
	COUNTER("rx-malformed", c->rx_malformed);
	COUNTER("rx-no-key", c->rx_no_key);
	COUNTER("rx-bad-mac", c->rx_bad_mac);
	COUNTER("rx-stale", c->rx_stale);
	COUNTER("rx-replay", c->rx_replay);
	COUNTER("rx-unexpected", c->rx_unexpected);
	COUNTER("tx", c->tx);
	COUNTER("keys", c->doh_keys);
	COUNTER("negotiated-own", c->bound_own);
	COUNTER("negotiated-peer", c->bound_peer);
	COUNTER("refused", c->refused);
	COUNTER("timeouts", c->timeouts);
	COUNTER("collisions", c->collisions);
	COUNTER("reserve-empty", c->reserve_empty);
	COUNTER("announced", c->announced);
	COUNTER("announce-acked", c->acked);
	COUNTER("fetched", c->fetched);
	COUNTER("reset-expired", c->reset_expired);
	COUNTER("offers-refused", c->offers_refused);
	COUNTER("keys-lost", c->keys_lost);
	COUNTER("reannounced", c->reannounced);
	COUNTER("views-apart", c->views_apart);
	COUNTER("idle-both", both);
	COUNTER("idle-here-only", here_only);
	COUNTER("idle-peer-only", peer_only);
	COUNTER("idle-expired-peer-used", c->expired_peer_used);
#undef COUNTER
}

METHOD(qkd_doh_peer_t, get_info, void,
	private_qkd_doh_peer_t *this, qkd_doh_peer_info_t *info)
{
	this->ctx->mutex->lock(this->ctx->mutex);
	get_info_locked(this, info);
	this->ctx->mutex->unlock(this->ctx->mutex);
}

METHOD(qkd_doh_peer_t, resync, void,
	private_qkd_doh_peer_t *this)
{
	this->ctx->mutex->lock(this->ctx->mutex);
	this->ctx->sync_due = qkd_doh_now_ms();
	this->ctx->mutex->unlock(this->ctx->mutex);
}

METHOD(qkd_doh_peer_t, list_ikeless, array_t*,
	private_qkd_doh_peer_t *this)
{
	array_t *children;

	this->ctx->mutex->lock(this->ctx->mutex);
	children = this->direct ? this->direct->list(this->direct)
							: array_create(sizeof(qkd_doh_direct_info_t), 0);
	this->ctx->mutex->unlock(this->ctx->mutex);
	return children;
}

/**
 * Append a "doh_<name>: <value>" line for a counter named "a-b"
 */
static int format_counter(char *buf, size_t len, char *name, u_int value)
{
	char key[64];
	int i;

	for (i = 0; name[i] && i < sizeof(key) - 1; i++)
	{
		key[i] = name[i] == '-' ? '_' : name[i];
	}
	key[i] = '\0';
	return snprintf(buf, len, "doh_%s: %u\n", key, value);
}

METHOD(qkd_doh_peer_t, format_status, bool,
	private_qkd_doh_peer_t *this, char *buf, size_t len)
{
	qkd_doh_peer_info_t info;
	int i, written;
	size_t used;
	bool ok;

	this->ctx->mutex->lock(this->ctx->mutex);
	get_info_locked(this, &info);
	written = snprintf(buf, len,
		"doh_peer: %H\n"
		"doh_state: %s\n"
		"doh_key_generation: %u\n"
		"doh_bound_own: %u\n"
		"doh_bound_peer: %u\n",
		info.peer, info.state, info.generation, info.bound_own,
		info.bound_peer);
	ok = written >= 0 && written < len;
	used = ok ? written : 0;
	for (i = 0; ok && i < QKD_DOH_PEER_COUNTERS; i++)
	{
		written = format_counter(buf + used, len - used,
								 info.counters[i].name, info.counters[i].value);
		ok = written >= 0 && written < len - used;
		used += ok ? written : 0;
	}
	ok = ok && (!this->direct || this->direct->format_status(this->direct,
											buf + used, len - used));
	this->ctx->mutex->unlock(this->ctx->mutex);
	return ok;
}

METHOD(qkd_doh_peer_t, destroy, void,
	private_qkd_doh_peer_t *this)
{
	this->ctx->pool->remove_listener(this->ctx->pool, &this->listener);
	DESTROY_IF(this->direct);
	this->negotiation->destroy(this->negotiation);
	this->keying->destroy(this->keying);
	this->announces->destroy(this->announces);
	this->syncer->destroy(this->syncer);
	qkd_doh_context_destroy(this->ctx);
	free(this);
}

/*
 * Described in header
 */
qkd_doh_peer_t *qkd_doh_peer_create(qkd_link_t *link, qkd_pool_t *pool,
									qkd_doh_send_t send, void *data,
									qkd_direct_kernel_t *kernel)
{
	private_qkd_doh_peer_t *this;
	qkd_doh_context_t *ctx;

	ctx = qkd_doh_context_create(link, pool, send, data);
	if (!ctx)
	{
		return NULL;
	}
	INIT(this,
		.public = {
			.matches = _matches,
			.receive = _receive,
			.tick = _tick,
			.take_bound = _take_bound,
			.take_peer_bound = _take_peer_bound,
			.set_link = _set_link,
			.get_info = _get_info,
			.resync = _resync,
			.list_ikeless = _list_ikeless,
			.format_status = _format_status,
			.destroy = _destroy,
		},
		.listener = {
			.added = added,
		},
		.ctx = ctx,
	);
	this->syncer = qkd_doh_syncer_create(ctx);
	this->announces = qkd_doh_announces_create(ctx, this->syncer);
	this->keying = qkd_doh_keying_create(ctx, this->announces);
	this->negotiation = qkd_doh_negotiation_create(ctx, this->keying,
												   this->syncer,
												   this->announces);
	this->kernel = kernel;
	this->direct = qkd_doh_direct_create(ctx, this->keying,
										 this->negotiation, kernel);
	if (ctx->announcer)
	{
		ctx->pool->add_listener(ctx->pool, &this->listener);
	}

	DBG1(DBG_NET, "qkd DOH '%s': %H <-> %H, this end %s", qkd_doh_name(ctx),
		 ctx->local, ctx->peer, ctx->announcer ?
		 "takes keys from its KME and announces them" :
		 "fetches the keys the peer announces");
	return &this->public;
}
