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

#include "qkd_doh_negotiation.h"
#include "qkd_events.h"

#include <utils/debug.h>
#include <collections/array.h>
#include <collections/linked_list.h>
#include <threading/condvar.h>

#include <time.h>

/**
 * REQ_NEGOTIATEs received and waiting to be answered
 */
#define REQUESTS_MAX 64

/**
 * Least time between two refusals sent for bad REQ_NEGOTIATEs, ms
 */
#define REFUSAL_INTERVAL 1000

/**
 * Least time between two log lines about views without a common Idle key,
 * ms
 */
#define STUCK_LOG_INTERVAL 10000

/**
 * How long to negotiate one key at a time after a batched REQ_NEGOTIATE got
 * no answer (a peer of profile version 4 drops the Key Count TLV), ms
 */
#define BATCH_OFF_TIME 60000

/**
 * Auth Alg HMAC-SHA256, Enc Alg AES-256-GCM
 */
#define AUTH_ALG_HMAC_SHA256 0x02
#define ENC_ALG_AES_256_GCM 0x01

typedef struct private_qkd_doh_negotiation_t private_qkd_doh_negotiation_t;

/**
 * Private data of a qkd_doh_negotiation_t object.
 */
struct private_qkd_doh_negotiation_t {

	/**
	 * Public interface.
	 */
	qkd_doh_negotiation_t public;

	/**
	 * Shared state of the peer
	 */
	qkd_doh_context_t *ctx;

	/**
	 * DOH key, sync and announce state
	 */
	qkd_doh_keying_t *keying;
	qkd_doh_syncer_t *syncer;
	qkd_doh_announces_t *announces;

	/**
	 * The negotiation in flight, of count keys at consecutive Indexes from
	 * index (ids, allocated); confirmed once the peer bound them, until
	 * tick() binds them here
	 */
	struct {
		bool active;
		bool confirmed;
		bool writing;
		bool has_binding;
		qkd_doh_binding_t binding;
		uint32_t index;
		uint32_t count;
		uint8_t *ids;
		uint32_t ts;
		qkd_doh_retrans_t rt;
	} inflight;

	/**
	 * Negotiate one key at a time until then (ms): a batch got no answer
	 */
	uint64_t batch_off;

	/**
	 * Negotiate one key at a time until the next news of the peer's
	 * statuses: a batch was refused
	 */
	bool batch_refused;

	/**
	 * The reserve fell to half and is refilled until full
	 */
	bool refilling;

	/**
	 * Timestamp of the last request sent more than once (the next one must
	 * differ so late answers can't be mistaken for its answer)
	 */
	uint32_t blocked_ts;

	/**
	 * When to negotiate next, ms, and whether that waits for a key Idle on
	 * both ends
	 */
	uint64_t neg_due;
	bool idle_wait;

	/**
	 * When a view without a common Idle key may be reported next
	 */
	uint64_t stuck_due;

	/**
	 * Bindings being written to the pool (lock released): no new
	 * negotiation meanwhile
	 */
	u_int binding;

	/**
	 * Keys bound for own key exchanges / for the peer's, key IDs
	 */
	array_t *own_bound;
	array_t *peer_bound;

	/**
	 * REQ_NEGOTIATEs received, waiting to be answered, qkd_doh_msg_t*
	 */
	linked_list_t *requests;

	/**
	 * Decides on and uses keys for IKE-less children, if any
	 */
	qkd_doh_binder_t *binder;

	/**
	 * Keys wanted for IKE-less children, qkd_doh_binding_t (inline)
	 */
	array_t *wants;

	/**
	 * Keys bound for IKE-less children at the peer's request, lately (to
	 * answer retransmissions), key IDs
	 */
	array_t *child_bound;

	/**
	 * When a refusal (status 0x03/0x04) may be sent next, ms
	 */
	uint64_t refusal_due;

	/**
	 * Signals bound keys (with the peer's lock)
	 */
	condvar_t *condvar;
};

/**
 * Check whether an array of key IDs holds one, remove it if asked
 */
static bool find_id(array_t *ids, uint8_t id[QKD_KEY_ID_LEN], bool remove)
{
	uint8_t item[QKD_KEY_ID_LEN];
	int i;

	for (i = 0; i < array_count(ids); i++)
	{	/* elements are stored inline, array_get() copies one */
		array_get(ids, i, item);
		if (memeq(item, id, QKD_KEY_ID_LEN))
		{
			if (remove)
			{
				array_remove(ids, i, NULL);
			}
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * Expire the keys of an array of bound key IDs and empty it
 */
static u_int expire_bound(private_qkd_doh_negotiation_t *this, array_t *ids)
{
	uint8_t id[QKD_KEY_ID_LEN];
	u_int count = 0;

	while (array_remove(ids, ARRAY_HEAD, id))
	{
		if (this->ctx->pool->set_status(this->ctx->pool, id, QKD_KEY_EXPIRED))
		{
			count++;
		}
	}
	return count;
}

/**
 * Send the REQ_NEGOTIATE of the negotiation in flight
 */
static void send_negotiate(private_qkd_doh_negotiation_t *this, uint64_t now)
{
	u_int capacity, low, wait, lifetime;
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_REQ_NEGOTIATE,
		.negotiate = {
			.index = this->inflight.index,
			.auth_alg = AUTH_ALG_HMAC_SHA256,
			.enc_alg = ENC_ALG_AES_256_GCM,
			.timestamp = this->inflight.ts,
			.has_keyid = TRUE,
		},
	};

	this->ctx->link->get_pool_settings(this->ctx->link, &capacity, &low, &wait,
								  &lifetime);
	msg.negotiate.survival = lifetime;
	if (this->inflight.has_binding)
	{
		msg.negotiate.auth_alg = this->inflight.binding.auth_alg;
		msg.negotiate.enc_alg = this->inflight.binding.enc_alg;
		msg.negotiate.survival = this->inflight.binding.survival;
		msg.negotiate.child = chunk_from_str(this->inflight.binding.child);
	}
	memcpy(msg.negotiate.keyid, this->inflight.ids, QKD_KEY_ID_LEN);
	if (this->inflight.count > 1)
	{
		msg.negotiate.count = this->inflight.count;
	}
	if (this->inflight.rt.tries)
	{
		this->blocked_ts = this->inflight.ts;
	}
	qkd_doh_send_msg(this->ctx, &msg, TRUE);
	qkd_doh_rt_sent(&this->inflight.rt, now, this->ctx->settings.retransmit,
					UINT_MAX);
}

/**
 * Whether a view has an Idle status
 */
static bool has_idle(qkd_doh_view_t *view)
{
	uint32_t i;

	for (i = 0; i < view->size; i++)
	{
		if (qkd_doh_bitmap_get(view->bitmap, i) == QKD_KEY_IDLE)
		{
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * No Index is Idle on both ends: if both ends do hold Idle keys, the views
 * don't match (keys one end lacks), count and log it, sync again; the
 * announcer announces its keys the peer lacks again
 */
static void check_stuck(private_qkd_doh_negotiation_t *this,
						qkd_doh_view_t *peer_view, uint64_t now)
{
	qkd_doh_context_t *ctx = this->ctx;

	if (now < this->stuck_due ||
		!ctx->pool->get_count(ctx->pool, QKD_KEY_IDLE) ||
		!has_idle(peer_view))
	{
		return;
	}
	this->stuck_due = now + STUCK_LOG_INTERVAL;
	ctx->counters.views_apart++;
	DBG1(DBG_NET, "qkd DOH '%s': both ends hold Idle keys, none of them "
		 "Idle on both, syncing again", qkd_doh_name(ctx));
	ctx->sync_due = now;
	this->announces->reconcile_soon(this->announces);
}

/**
 * How many keys to negotiate together next: as many as the reserve of
 * keys for our key exchanges lacks, one for an IKE-less child or while
 * batches are off
 */
static uint32_t batch_size(private_qkd_doh_negotiation_t *this, uint64_t now)
{
	u_int bound = array_count(this->own_bound);

	if (array_count(this->wants) || this->batch_refused ||
		now < this->batch_off || bound >= this->ctx->settings.bound)
	{
		return 1;
	}
	return min(this->ctx->settings.bound - bound, QKD_DOH_MAX_BATCH);
}

/**
 * Whether the reserve of keys for our key exchanges needs no refill yet:
 * with batches it is refilled once half of it is used, by a batch of all
 * it lacks then, not key by key as key exchanges take keys. The keys taken
 * during that round trip are not negotiated right after it (a round trip
 * and a synced write on each end for a few keys): refilling stops at three
 * quarters, unless the reserve is larger than a batch (then it is filled
 * in several).
 */
static bool reserve_full(private_qkd_doh_negotiation_t *this, uint64_t now)
{
	u_int bound = array_count(this->own_bound);
	u_int want = this->ctx->settings.bound;

	if (bound >= want)
	{
		this->refilling = FALSE;
		return TRUE;
	}
	if (bound <= want / 2)
	{
		this->refilling = TRUE;
	}
	else if (bound >= want - want / 4 && want <= QKD_DOH_MAX_BATCH)
	{
		this->refilling = FALSE;
	}
	return !this->refilling && !this->batch_refused && now >= this->batch_off;
}

/**
 * Get the IDs of count keys from Index on into the negotiation in flight,
 * the number of keys found
 */
static uint32_t get_ids(private_qkd_doh_negotiation_t *this, uint32_t index,
						uint32_t count)
{
	uint32_t i;

	free(this->inflight.ids);
	this->inflight.ids = malloc(max(count, 1) * QKD_KEY_ID_LEN);
	for (i = 0; i < count; i++)
	{
		if (!this->ctx->pool->get_id(this->ctx->pool, index + i,
									 this->inflight.ids + i * QKD_KEY_ID_LEN))
		{
			break;
		}
	}
	return i;
}

/**
 * Start a negotiation if keys are wanted and one is Idle on both ends
 */
static void negotiate(private_qkd_doh_negotiation_t *this, uint64_t now)
{
	qkd_doh_context_t *ctx = this->ctx;
	qkd_doh_view_t own, *peer_view;
	uint32_t index, count, ts;

	peer_view = this->syncer->get_peer_view(this->syncer);
	if (!this->keying->established(this->keying) ||
		!this->syncer->reset_acked(this->syncer) || !peer_view ||
		this->inflight.active || this->binding || now < this->neg_due ||
		/* the peer's requests first: the keys they bind are no longer
		 * ours to ask for */
		this->requests->get_count(this->requests) ||
		(!array_count(this->wants) && reserve_full(this, now)))
	{
		return;
	}
	ts = max((uint32_t)time(NULL), this->blocked_ts + 1);
	if (ts > (uint32_t)time(NULL) + ctx->settings.window / 2)
	{	/* the peer refuses Timestamps outside its window: wait for the
		 * clock rather than run ahead of it */
		this->neg_due = now + 1000;
		return;
	}
	qkd_doh_own_view(ctx, &own);
	index = qkd_doh_sync_lowest_idle(&own, peer_view);
	count = 0;
	if (index)
	{
		count = qkd_doh_sync_idle_run(&own, peer_view, index,
									  batch_size(this, now));
	}
	qkd_doh_view_clear(&own);
	count = get_ids(this, index, count);
	if (!count)
	{	/* nothing Idle on both ends: wait for keys or the next sync */
		this->neg_due = now + ctx->settings.retransmit;
		this->idle_wait = TRUE;
		check_stuck(this, peer_view, now);
		return;
	}
	this->inflight.active = TRUE;
	this->inflight.confirmed = FALSE;
	this->inflight.index = index;
	this->inflight.count = count;
	this->inflight.has_binding = array_remove(this->wants, ARRAY_HEAD,
											  &this->inflight.binding);
	this->inflight.ts = ts;
	this->inflight.rt = (qkd_doh_retrans_t){};
	send_negotiate(this, now);
}

/**
 * The negotiation in flight for a binding failed: tell the binder
 */
static void negotiation_failed(private_qkd_doh_negotiation_t *this)
{
	if (this->inflight.has_binding && this->binder)
	{
		this->binder->failed(this->binder, &this->inflight.binding);
	}
	this->inflight.has_binding = FALSE;
}

/**
 * Retransmit or give up the negotiation in flight
 */
static void retransmit_negotiate(private_qkd_doh_negotiation_t *this,
								 uint64_t now)
{
	if (!this->inflight.active || this->inflight.confirmed ||
		now < this->inflight.rt.due)
	{
		return;
	}
	if (this->inflight.rt.tries < QKD_DOH_MAX_TRIES)
	{
		if (time(NULL) > (time_t)this->inflight.ts +
										this->ctx->settings.window / 2)
		{	/* the peer would refuse it as stale soon: a new Timestamp, the
			 * answer to the old one no longer counts */
			this->blocked_ts = this->inflight.ts;
			this->inflight.ts = max((uint32_t)time(NULL),
									this->blocked_ts + 1);
		}
		send_negotiate(this, now);
		return;
	}
	this->inflight.active = FALSE;
	this->ctx->counters.timeouts++;
	this->ctx->sync_due = now;
	negotiation_failed(this);
	if (this->inflight.count > 1)
	{
		this->batch_off = now + BATCH_OFF_TIME;
		DBG1(DBG_NET, "qkd DOH '%s': no answer from %H to negotiating %u "
			 "keys from Index %u (a peer of DOH profile version 4 drops "
			 "them), one key at a time for %d s", qkd_doh_name(this->ctx),
			 this->ctx->peer, this->inflight.count, this->inflight.index,
			 BATCH_OFF_TIME / 1000);
		return;
	}
	DBG1(DBG_NET, "qkd DOH '%s': no answer from %H to negotiating Index %u",
		 qkd_doh_name(this->ctx), this->ctx->peer, this->inflight.index);
}

/**
 * Whether a Timestamp lies in the window around our clock
 */
static bool in_window(private_qkd_doh_negotiation_t *this, uint32_t timestamp)
{
	time_t now = time(NULL);

	return (time_t)timestamp + this->ctx->settings.window >= now &&
		   (time_t)timestamp <= now + this->ctx->settings.window;
}

/**
 * Most keys remembered as bound for children at the peer's request
 */
#define CHILD_BOUND_MAX 16

/**
 * The binding a REQ_NEGOTIATE with a child TLV asks for
 */
static void to_binding(qkd_doh_msg_t *msg, qkd_doh_binding_t *binding)
{
	*binding = (qkd_doh_binding_t){
		.auth_alg = msg->negotiate.auth_alg,
		.enc_alg = msg->negotiate.enc_alg,
		.survival = msg->negotiate.survival,
	};
	memcpy(binding->child, msg->negotiate.child.ptr,
		   min(msg->negotiate.child.len, QKD_DOH_MAX_CHILD));
}

/**
 * Whether the negotiation in flight covers one of count Indexes from index
 */
static bool inflight_overlaps(private_qkd_doh_negotiation_t *this,
							  uint32_t index, uint32_t count)
{
	return this->inflight.active &&
		   (uint64_t)index + count > this->inflight.index &&
		   (uint64_t)this->inflight.index + this->inflight.count > index;
}

/**
 * Get the IDs of the keys a REQ_NEGOTIATE names: count keys from the Index
 * on (ids allocated), which the KEYID TLV, if any, names the first of
 */
static qkd_doh_status_t request_ids(private_qkd_doh_negotiation_t *this,
									qkd_doh_msg_t *msg, uint8_t **ids,
									uint32_t *index, uint32_t *count)
{
	qkd_pool_t *pool = this->ctx->pool;
	uint32_t i;

	*count = max(msg->negotiate.count, 1);
	*index = msg->negotiate.index;
	if (msg->negotiate.has_keyid)
	{	/* the KEYID names the key, for a batch the first */
		*index = pool->get_index(pool, msg->negotiate.keyid);
		if (!*index || (*count > 1 && *index != msg->negotiate.index))
		{
			return QKD_DOH_INVALID_KEYID;
		}
	}
	*ids = malloc(*count * QKD_KEY_ID_LEN);
	for (i = 0; i < *count; i++)
	{
		if (!pool->get_id(pool, *index + i, *ids + i * QKD_KEY_ID_LEN))
		{
			return QKD_DOH_INVALID_KEYID;
		}
	}
	return QKD_DOH_SUCCESS;
}

/**
 * Decide on a REQ_NEGOTIATE: the status of our answer and, if bind is set,
 * the keys to bind for it (ids allocated in any case, count of them from
 * Index index)
 */
static qkd_doh_status_t check_request(private_qkd_doh_negotiation_t *this,
									  qkd_doh_msg_t *msg,
									  qkd_doh_binding_t *binding,
									  uint8_t **ids, uint32_t *index,
									  uint32_t *count, bool *bind)
{
	qkd_doh_context_t *ctx = this->ctx;
	qkd_doh_status_t status;

	*bind = FALSE;
	*ids = NULL;
	if (!in_window(this, msg->negotiate.timestamp))
	{	/* the request's own Timestamp, not only its AUTH option's */
		DBG2(DBG_NET, "qkd DOH '%s': REQ_NEGOTIATE from %H with a Timestamp "
			 "%d s off, refused", qkd_doh_name(ctx), ctx->peer,
			 (int)(msg->negotiate.timestamp - (uint32_t)time(NULL)));
		return QKD_DOH_TIMESTAMP;
	}
	if (msg->negotiate.child.len)
	{
		if (!this->binder)
		{
			return QKD_DOH_UNKNOWN_CHILD;
		}
		to_binding(msg, binding);
		status = this->binder->check(this->binder, binding);
		if (status != QKD_DOH_SUCCESS)
		{
			return status;
		}
	}
	else if (msg->negotiate.auth_alg != AUTH_ALG_HMAC_SHA256 ||
			 msg->negotiate.enc_alg != ENC_ALG_AES_256_GCM)
	{
		return QKD_DOH_UNSUPPORTED_ALG;
	}
	status = request_ids(this, msg, ids, index, count);
	if (status != QKD_DOH_SUCCESS)
	{
		return status;
	}
	if (find_id(this->peer_bound, *ids, FALSE) ||
		find_id(this->child_bound, *ids, FALSE))
	{	/* a retransmission: same answer */
		return QKD_DOH_SUCCESS;
	}
	if (inflight_overlaps(this, *index, *count))
	{
		this->ctx->counters.collisions++;
		if (ctx->announcer || this->inflight.confirmed)
		{	/* the lower address wins: our request stands */
			return QKD_DOH_NOT_IDLE;
		}
		this->blocked_ts = this->inflight.ts;
		this->inflight.active = FALSE;
		this->neg_due = 0;
		negotiation_failed(this);
	}
	*bind = TRUE;
	return QKD_DOH_SUCCESS;
}

/**
 * Tell listeners that keys were bound
 */
static void raise_bound(private_qkd_doh_negotiation_t *this, uint32_t index,
						u_int count, bool for_peer)
{
	qkd_events_raise(&(qkd_event_t){
		.type = QKD_EVENT_KEY_BOUND,
		.link = qkd_doh_name(this->ctx),
		.peer = this->ctx->peer,
		.index = index,
		.count = count,
		.for_peer = for_peer,
	});
}

/**
 * Write that keys are Pending (one synced write) with the lock released,
 * no negotiation starts meanwhile
 */
static bool bind_keys(private_qkd_doh_negotiation_t *this, uint8_t *ids,
					  uint32_t count)
{
	qkd_pool_t *pool = this->ctx->pool;
	bool ok;

	this->binding++;
	this->ctx->mutex->unlock(this->ctx->mutex);
	ok = pool->bind_keys(pool, ids, count);
	this->ctx->mutex->lock(this->ctx->mutex);
	this->binding--;
	return ok;
}

/**
 * Mark count Indexes from index on with a status in the views
 */
static void mark_range(private_qkd_doh_negotiation_t *this, uint32_t index,
					   uint32_t count, qkd_key_status_t status)
{
	uint32_t i;

	for (i = 0; i < count; i++)
	{
		this->syncer->mark(this->syncer, index + i, status);
	}
}

/**
 * Answer a REQ_NEGOTIATE
 */
static void answer_negotiate(private_qkd_doh_negotiation_t *this,
							 qkd_doh_msg_t *msg, qkd_doh_status_t status)
{
	qkd_doh_msg_t confirm = {
		.type = QKD_DOH_CONFIRM_NEGOTIATE,
		.confirm = {
			.status = status,
			.ts_echo = msg->negotiate.timestamp,
		},
	};

	qkd_doh_send_msg(this->ctx, &confirm, TRUE);
}

/**
 * Copy a received REQ_NEGOTIATE (its seed points into the packet)
 */
static qkd_doh_msg_t *copy_negotiate(qkd_doh_msg_t *msg)
{
	qkd_doh_msg_t *copy;

	copy = malloc_thing(qkd_doh_msg_t);
	*copy = *msg;
	copy->negotiate.seed = chunk_clone(msg->negotiate.seed);
	copy->negotiate.child = chunk_clone(msg->negotiate.child);
	return copy;
}

/**
 * Free a copied REQ_NEGOTIATE
 */
static void free_negotiate(qkd_doh_msg_t *msg)
{
	chunk_free(&msg->negotiate.seed);
	chunk_free(&msg->negotiate.child);
	free(msg);
}

/**
 * Bind and answer the REQ_NEGOTIATEs received
 */
static void answer_requests(private_qkd_doh_negotiation_t *this)
{
	qkd_doh_binding_t binding;
	qkd_doh_status_t status;
	qkd_doh_msg_t *msg;
	uint32_t index, count, i;
	uint8_t *ids;
	bool bind;

	while (this->requests->remove_first(this->requests,
										(void**)&msg) == SUCCESS)
	{
		status = check_request(this, msg, &binding, &ids, &index, &count,
							   &bind);
		if (bind)
		{
			if (bind_keys(this, ids, count))
			{
				mark_range(this, index, count, QKD_KEY_PENDING);
				this->ctx->counters.bound_peer += count;
				DBG2(DBG_NET, "qkd DOH '%s': bound %u key%s from Index %u "
					 "for %H", qkd_doh_name(this->ctx), count,
					 count == 1 ? "" : "s", index, this->ctx->peer);
				raise_bound(this, index, count, TRUE);
				if (msg->negotiate.child.len && this->binder)
				{	/* its SAs are installed before we confirm, so the peer
					 * may use them at once */
					if (array_count(this->child_bound) >= CHILD_BOUND_MAX)
					{
						array_remove(this->child_bound, ARRAY_HEAD, NULL);
					}
					array_insert(this->child_bound, ARRAY_TAIL, ids);
					if (!this->binder->bound(this->binder, &binding, ids,
											 FALSE))
					{	/* e.g. an SPI taken: expired, the peer asks again */
						status = QKD_DOH_INVALID_KEYID;
					}
				}
				else
				{
					for (i = 0; i < count; i++)
					{
						array_insert(this->peer_bound, ARRAY_TAIL,
									 ids + i * QKD_KEY_ID_LEN);
					}
				}
			}
			else
			{
				status = QKD_DOH_NOT_IDLE;
			}
		}
		answer_negotiate(this, msg, status);
		free_negotiate(msg);
		free(ids);
	}
}

/**
 * Bind the keys the peer confirmed for our negotiation, unless another
 * thread does
 */
static void bind_confirmed(private_qkd_doh_negotiation_t *this)
{
	uint32_t index, count, i;
	uint8_t *ids;

	if (!this->inflight.active || !this->inflight.confirmed ||
		this->inflight.writing)
	{
		return;
	}
	index = this->inflight.index;
	count = this->inflight.count;
	ids = this->inflight.ids;
	this->inflight.ids = NULL;
	this->inflight.writing = TRUE;
	if (bind_keys(this, ids, count))
	{
		mark_range(this, index, count, QKD_KEY_PENDING);
		this->ctx->counters.bound_own += count;
		DBG2(DBG_NET, "qkd DOH '%s': bound %u key%s from Index %u with %H",
			 qkd_doh_name(this->ctx), count, count == 1 ? "" : "s", index,
			 this->ctx->peer);
		raise_bound(this, index, count, FALSE);
		/* batches again after a refused one */
		this->batch_refused = FALSE;
		if (this->inflight.has_binding && this->binder)
		{
			this->binder->bound(this->binder, &this->inflight.binding, ids,
								TRUE);
		}
		else
		{
			for (i = 0; i < count; i++)
			{
				array_insert(this->own_bound, ARRAY_TAIL,
							 ids + i * QKD_KEY_ID_LEN);
			}
			this->condvar->broadcast(this->condvar);
		}
	}
	else
	{
		DBG1(DBG_NET, "qkd DOH '%s': %u key%s from Index %u bound by %H no "
			 "longer Idle here", qkd_doh_name(this->ctx), count,
			 count == 1 ? "" : "s", index, this->ctx->peer);
		negotiation_failed(this);
	}
	free(ids);
	this->inflight.active = this->inflight.confirmed = FALSE;
	this->inflight.writing = FALSE;
}

/**
 * Write the bindings due: the peer's requests, our confirmed negotiation
 */
static void bind_due(private_qkd_doh_negotiation_t *this)
{
	answer_requests(this);
	bind_confirmed(this);
}

METHOD(qkd_doh_negotiation_t, process_confirm, void,
	private_qkd_doh_negotiation_t *this, qkd_doh_msg_t *msg)
{
	qkd_doh_context_t *ctx = this->ctx;
	uint64_t now = qkd_doh_now_ms();
	bool child;

	if (!this->inflight.active || this->inflight.confirmed ||
		msg->confirm.ts_echo != this->inflight.ts ||
		msg->confirm.status == QKD_DOH_HMAC_FAILED ||
		msg->confirm.status == QKD_DOH_TIMESTAMP)
	{
		ctx->counters.rx_unexpected++;
		return;
	}
	if (msg->confirm.status == QKD_DOH_SUCCESS)
	{	/* bound in tick() or by a thread waiting in take_bound(), not in
		 * the thread delivering packets */
		this->inflight.confirmed = TRUE;
		this->condvar->broadcast(this->condvar);
		return;
	}
	this->inflight.active = FALSE;
	ctx->counters.refused++;
	child = this->inflight.has_binding;
	negotiation_failed(this);
	switch (msg->confirm.status)
	{
		case QKD_DOH_INVALID_KEYID:
		case QKD_DOH_NOT_IDLE:
			/* until the next sync tells, none of them is Idle there (mostly
			 * the peer's own batch crossed ours): the next request asks for
			 * the keys after them, one at a time until one is bound */
			mark_range(this, this->inflight.index, this->inflight.count,
					   msg->confirm.status == QKD_DOH_NOT_IDLE ?
					   QKD_KEY_PENDING : QKD_KEY_EXPIRED);
			this->batch_refused = this->inflight.count > 1;
			qkd_doh_sync_soon(ctx);
			break;
		default:
			DBG1(DBG_NET, "qkd DOH '%s': %H refused negotiating Index %u: "
				 "status 0x%02x", qkd_doh_name(ctx), ctx->peer,
				 this->inflight.index, msg->confirm.status);
			/* a child's refusal is retried by its binder, keys for IKE
			 * go on */
			this->neg_due = now + (child ? 0 : msg->confirm.status ==
								   QKD_DOH_UNSUPPORTED_ALG ? 60000 : 2000);
			break;
	}
	negotiate(this, now);
}

METHOD(qkd_doh_negotiation_t, peer_reset, void,
	private_qkd_doh_negotiation_t *this)
{
	u_int count;

	count = expire_bound(this, this->own_bound) +
			expire_bound(this, this->peer_bound);
	this->ctx->counters.reset_expired += count;
	DBG1(DBG_NET, "qkd DOH '%s': %H started afresh, %u key%s negotiated "
		 "with it before expired", qkd_doh_name(this->ctx), this->ctx->peer,
		 count, count == 1 ? "" : "s");
}

METHOD(qkd_doh_negotiation_t, take_bound, qkd_key_t*,
	private_qkd_doh_negotiation_t *this, u_int timeout)
{
	uint8_t id[QKD_KEY_ID_LEN];
	qkd_key_t *key = NULL;
	timeval_t deadline;

	time_monotonic(&deadline);
	timeval_add_ms(&deadline, timeout);
	this->ctx->mutex->lock(this->ctx->mutex);
	if (!array_count(this->own_bound))
	{	/* waits for a binding round trip: doh_bound too small for the
		 * key exchanges started at once */
		this->ctx->counters.reserve_empty++;
	}
	while (!key)
	{
		if (array_remove(this->own_bound, ARRAY_HEAD, id))
		{
			key = this->ctx->pool->get_pending(this->ctx->pool, id);
			continue;
		}
		/* under load the tick job may wait for a thread while all of them
		 * wait here: do its writes */
		bind_due(this);
		if (array_count(this->own_bound))
		{
			continue;
		}
		this->neg_due = 0;
		negotiate(this, qkd_doh_now_ms());
		if (!timeout || this->condvar->timed_wait_abs(this->condvar,
												this->ctx->mutex, deadline))
		{
			break;
		}
	}
	if (array_count(this->own_bound) < this->ctx->settings.bound)
	{	/* refill the reserve if due */
		negotiate(this, qkd_doh_now_ms());
	}
	this->ctx->mutex->unlock(this->ctx->mutex);
	return key;
}

METHOD(qkd_doh_negotiation_t, take_peer_bound, qkd_key_t*,
	private_qkd_doh_negotiation_t *this, uint8_t id[QKD_KEY_ID_LEN])
{
	qkd_key_t *key = NULL;

	this->ctx->mutex->lock(this->ctx->mutex);
	if (find_id(this->peer_bound, id, TRUE))
	{
		key = this->ctx->pool->get_pending(this->ctx->pool, id);
	}
	this->ctx->mutex->unlock(this->ctx->mutex);
	return key;
}


METHOD(qkd_doh_negotiation_t, process_request, void,
	private_qkd_doh_negotiation_t *this, qkd_doh_msg_t *msg)
{
	if (!this->syncer->reset_acked(this->syncer) ||
		this->requests->get_count(this->requests) >= REQUESTS_MAX)
	{
		this->ctx->counters.rx_unexpected++;
		return;
	}
	this->requests->insert_last(this->requests, copy_negotiate(msg));
}

METHOD(qkd_doh_negotiation_t, refuse, void,
	private_qkd_doh_negotiation_t *this, qkd_doh_msg_t *msg,
	qkd_doh_status_t status)
{
	uint64_t now = qkd_doh_now_ms();

	if (now >= this->refusal_due)
	{
		this->refusal_due = now + REFUSAL_INTERVAL;
		answer_negotiate(this, msg, status);
	}
}

METHOD(qkd_doh_negotiation_t, views_changed, void,
	private_qkd_doh_negotiation_t *this, bool news)
{
	if (news)
	{	/* batches again */
		this->batch_refused = FALSE;
	}
	if (news && this->idle_wait)
	{	/* news of the peer's keys: look again at once */
		this->idle_wait = FALSE;
		this->neg_due = 0;
	}
	negotiate(this, qkd_doh_now_ms());
}

METHOD(qkd_doh_negotiation_t, has_work, bool,
	private_qkd_doh_negotiation_t *this)
{
	return this->requests->get_count(this->requests) ||
		   (this->inflight.active && this->inflight.confirmed);
}

METHOD(qkd_doh_negotiation_t, tick, void,
	private_qkd_doh_negotiation_t *this, uint64_t now)
{
	bind_due(this);
	if (this->keying->established(this->keying))
	{
		now = qkd_doh_now_ms();
		retransmit_negotiate(this, now);
		negotiate(this, now);
	}
}

METHOD(qkd_doh_negotiation_t, set_binder, void,
	private_qkd_doh_negotiation_t *this, qkd_doh_binder_t *binder)
{
	this->binder = binder;
}

METHOD(qkd_doh_negotiation_t, request, void,
	private_qkd_doh_negotiation_t *this, qkd_doh_binding_t *binding)
{
	qkd_doh_binding_t want;
	int i;

	for (i = 0; i < array_count(this->wants); i++)
	{
		array_get(this->wants, i, &want);
		if (streq(want.child, binding->child))
		{
			array_remove(this->wants, i, NULL);
			break;
		}
	}
	array_insert(this->wants, ARRAY_TAIL, binding);
	negotiate(this, qkd_doh_now_ms());
}

METHOD(qkd_doh_negotiation_t, get_bound, void,
	private_qkd_doh_negotiation_t *this, u_int *own, u_int *peer)
{
	*own = array_count(this->own_bound);
	*peer = array_count(this->peer_bound);
}

METHOD(qkd_doh_negotiation_t, destroy, void,
	private_qkd_doh_negotiation_t *this)
{
	this->requests->destroy_function(this->requests, (void*)free_negotiate);
	array_destroy(this->own_bound);
	array_destroy(this->peer_bound);
	array_destroy(this->child_bound);
	array_destroy(this->wants);
	this->condvar->destroy(this->condvar);
	free(this->inflight.ids);
	free(this);
}

/*
 * Described in header
 */
qkd_doh_negotiation_t *qkd_doh_negotiation_create(qkd_doh_context_t *ctx,
											qkd_doh_keying_t *keying,
											qkd_doh_syncer_t *syncer,
											qkd_doh_announces_t *announces)
{
	private_qkd_doh_negotiation_t *this;

	INIT(this,
		.public = {
			.process_request = _process_request,
			.process_confirm = _process_confirm,
			.refuse = _refuse,
			.views_changed = _views_changed,
			.peer_reset = _peer_reset,
			.has_work = _has_work,
			.tick = _tick,
			.take_bound = _take_bound,
			.take_peer_bound = _take_peer_bound,
			.get_bound = _get_bound,
			.set_binder = _set_binder,
			.request = _request,
			.destroy = _destroy,
		},
		.ctx = ctx,
		.keying = keying,
		.syncer = syncer,
		.announces = announces,
		.own_bound = array_create(QKD_KEY_ID_LEN, 0),
		.peer_bound = array_create(QKD_KEY_ID_LEN, 0),
		.child_bound = array_create(QKD_KEY_ID_LEN, 0),
		.wants = array_create(sizeof(qkd_doh_binding_t), 0),
		.requests = linked_list_create(),
		.condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
	);
	return &this->public;
}
