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
#include "qkd_doh_guard.h"
#include "qkd_doh_sync.h"

#include <utils/debug.h>
#include <collections/array.h>
#include <collections/linked_list.h>
#include <threading/mutex.h>
#include <threading/condvar.h>

#include <time.h>

/**
 * No Next Header
 */
#define NH_NONE 59

/**
 * Most tries of a request (negotiation, announce)
 */
#define MAX_TRIES 5

/**
 * Longest interval between offers or key requests, ms
 */
#define OFFER_INTERVAL_MAX 8000

/**
 * Least time between two new DOH keys the peer asks for, ms
 */
#define KEY_REQUEST_INTERVAL 5000

/**
 * Least time between two KME calls for offered keys, ms
 */
#define OFFER_FETCH_INTERVAL 1000

/**
 * How long the other end waits for an authenticated message after it
 * asked the peer to prove it still holds the DOH key, ms
 */
#define PROBE_TIMEOUT 3000

/**
 * Least time between two refusals sent for bad REQ_NEGOTIATEs, ms
 */
#define REFUSAL_INTERVAL 1000

/**
 * Interval of the summary log line of refused messages, ms
 */
#define DROP_LOG_INTERVAL 10000

/**
 * Announces sent but not acknowledged at once
 */
#define ANNOUNCE_WINDOW 8

/**
 * Announces received and waiting for their KME call
 */
#define INCOMING_MAX 64

/**
 * REQ_NEGOTIATEs received and waiting to be answered
 */
#define REQUESTS_MAX 64

/**
 * Delay of a sync after keys were added, to batch them, ms
 */
#define SYNC_SOON 200

/**
 * Auth Alg HMAC-SHA256, Enc Alg AES-256-GCM
 */
#define AUTH_ALG_HMAC_SHA256 0x02
#define ENC_ALG_AES_256_GCM 0x01

typedef struct private_qkd_doh_peer_t private_qkd_doh_peer_t;

/**
 * Retransmission state of a request
 */
typedef struct {
	/** times sent */
	u_int tries;
	/** when to send next, ms */
	uint64_t due;
} retrans_t;

/**
 * An announce of up to 15 key IDs, sent or received
 */
typedef struct {
	/** sequence number */
	uint16_t seq;
	/** number of key IDs */
	uint8_t count;
	/** Index of the first key, the others follow */
	uint32_t first_index;
	/** the key IDs */
	uint8_t ids[QKD_DOH_MAX_ANNOUNCE][QKD_KEY_ID_LEN];
	/** retransmission (sent announces) */
	retrans_t rt;
} announce_t;

/**
 * Private data of a qkd_doh_peer_t object.
 */
struct private_qkd_doh_peer_t {

	/**
	 * Public interface.
	 */
	qkd_doh_peer_t public;

	/**
	 * Link (referenced), its pool and DOH settings
	 */
	qkd_link_t *link;
	qkd_pool_t *pool;
	qkd_doh_settings_t settings;

	/**
	 * Own and peer's address
	 */
	host_t *local, *peer;

	/**
	 * Whether this end has the lower address (takes keys from the KME)
	 */
	bool announcer;

	/**
	 * Sends headers
	 */
	qkd_doh_send_t send;
	void *send_data;

	/**
	 * MAC and anti-replay
	 */
	qkd_doh_guard_t *guard;

	/**
	 * Whether a DOH key is installed, its generation and key ID
	 */
	bool have_key;
	uint8_t key_ref;
	uint8_t key_id[QKD_KEY_ID_LEN];

	/**
	 * Whether the peer holds the current DOH key (it sent an authenticated
	 * message with it, or we fetched it from the peer's offer)
	 */
	bool confirmed;

	/**
	 * Announcer: a new DOH key is offered while the peer holds the previous
	 * one, which messages are sent with until the peer confirms the new one
	 */
	bool rotating;

	/**
	 * Announcer: take a new DOH key when due
	 */
	bool want_key;
	uint64_t key_due;

	/**
	 * Announcer: when the peer may ask for another new DOH key
	 */
	uint64_t request_ok;

	/**
	 * Announcer: offers of the current key; the other end: key requests
	 */
	retrans_t offer_rt;

	/**
	 * The other end: a key ID offered by the peer to fetch, and when
	 */
	bool offer_pending;
	bool offer_trusted;
	uint8_t offer_id[QKD_KEY_ID_LEN];
	uint64_t fetch_due;

	/**
	 * When an offer of the current key last made us prove we hold it, or
	 * we last asked the peer to prove it still holds it
	 */
	uint64_t proof_due;

	/**
	 * The other end: until when the peer has to send an authenticated
	 * message to show it still uses our DOH key (0 if we don't doubt it),
	 * and whether we asked twice
	 */
	uint64_t probe_due;
	bool probe_resent;

	/**
	 * Peer's statuses as its syncs reported them
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

	/**
	 * When to sync next, ms
	 */
	uint64_t sync_due;

	/**
	 * The negotiation in flight
	 */
	struct {
		bool active;
		uint32_t index;
		uint8_t id[QKD_KEY_ID_LEN];
		uint32_t ts;
		retrans_t rt;
	} inflight;

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
	 * Announcer: when to look next for Idle keys the peer does not hold
	 */
	uint64_t reconcile_due;

	/**
	 * Announcer: Indexes acknowledged lately (the peer's view may not show
	 * them yet), until when
	 */
	uint32_t acked_lo, acked_hi;
	uint64_t acked_until;

	/**
	 * When a view without a common Idle key may be reported next
	 */
	uint64_t stuck_due;

	/**
	 * Keys bound for own key exchanges / for the peer's, key IDs
	 */
	array_t *own_bound;
	array_t *peer_bound;

	/**
	 * Announces sent and not acknowledged, announce_t*
	 */
	linked_list_t *announces;
	uint16_t announce_seq;

	/**
	 * Announces received, waiting for their KME call, announce_t*
	 */
	linked_list_t *incoming;

	/**
	 * REQ_NEGOTIATEs received, waiting to be answered, qkd_doh_msg_t*
	 */
	linked_list_t *requests;

	/**
	 * When a refusal (status 0x03/0x04) may be sent next, ms
	 */
	uint64_t refusal_due;

	/**
	 * Refused messages since the last log line, and when to log next
	 */
	u_int drops;
	char *drop_reason;
	uint64_t drop_log_due;

	/**
	 * Counters
	 */
	qkd_doh_counters_t counters;

	/**
	 * Protects everything, signals bound keys
	 */
	mutex_t *mutex;
	condvar_t *condvar;
};

/**
 * Current monotonic time in ms
 */
static uint64_t now_ms()
{
	timeval_t tv;

	time_monotonic(&tv);
	return (uint64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/**
 * Record that a request was sent, doubling the timeout
 */
static void rt_sent(retrans_t *rt, uint64_t now, u_int base, u_int max)
{
	uint64_t timeout = (uint64_t)base << min(rt->tries, 16);

	rt->due = now + min(timeout, (uint64_t)max);
	rt->tries++;
}

/**
 * Name of the link, for logs
 */
static char *name(private_qkd_doh_peer_t *this)
{
	return this->link->get_name(this->link);
}

/**
 * Count a refused message and log a summary at most every 10 s
 */
static void refused(private_qkd_doh_peer_t *this, char *reason)
{
	uint64_t now = now_ms();

	this->drops++;
	this->drop_reason = reason;
	if (now >= this->drop_log_due)
	{
		DBG1(DBG_NET, "qkd DOH '%s': refused %u message%s from %H in %us, "
			 "latest: %s", name(this), this->drops,
			 this->drops == 1 ? "" : "s", this->peer,
			 DROP_LOG_INTERVAL / 1000, reason);
		this->drops = 0;
		this->drop_log_due = now + DROP_LOG_INTERVAL;
	}
}

/**
 * Encode, authenticate (unless auth is FALSE) and send a message
 */
static bool send_msg(private_qkd_doh_peer_t *this, qkd_doh_msg_t *msg,
					 bool auth)
{
	qkd_doh_auth_t option;
	chunk_t doh;
	size_t mac_offset;
	bool ok;

	if (auth && !this->guard->prepare(this->guard, &option))
	{
		return FALSE;
	}
	if (!qkd_doh_encode(msg, auth ? &option : NULL, NH_NONE, &doh,
						&mac_offset))
	{
		DBG1(DBG_NET, "qkd DOH '%s': encoding %N failed", name(this),
			 qkd_doh_type_names, msg->type);
		return FALSE;
	}
	ok = (!auth || this->guard->sign(this->guard, this->local, this->peer,
									 doh, mac_offset)) &&
		 this->send(this->send_data, this->local, this->peer, doh);
	chunk_free(&doh);
	if (ok)
	{
		this->counters.tx++;
	}
	return ok;
}

/**
 * Whether authenticated messages flow both ways
 */
static bool established(private_qkd_doh_peer_t *this)
{
	return this->have_key && (this->confirmed || this->rotating);
}

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
static u_int expire_bound(private_qkd_doh_peer_t *this, array_t *ids)
{
	uint8_t id[QKD_KEY_ID_LEN];
	u_int count = 0;

	while (array_remove(ids, ARRAY_HEAD, id))
	{
		if (this->pool->set_status(this->pool, id, QKD_KEY_EXPIRED))
		{
			count++;
		}
	}
	return count;
}

/**
 * The peer started afresh: keys negotiated with it before are gone there
 */
static void peer_reset(private_qkd_doh_peer_t *this)
{
	u_int count;

	count = expire_bound(this, this->own_bound) +
			expire_bound(this, this->peer_bound);
	this->counters.reset_expired += count;
	DBG1(DBG_NET, "qkd DOH '%s': %H started afresh, %u key%s negotiated "
		 "with it before expired", name(this), this->peer, count,
		 count == 1 ? "" : "s");
}

/**
 * Mark an Index in the peer's view as not Idle
 */
static void peer_view_used(private_qkd_doh_peer_t *this, uint32_t index,
						   u_int status)
{
	qkd_doh_view_set(&this->peer_view, index, status);
}

/**
 * Get our own statuses
 */
static void own_view(private_qkd_doh_peer_t *this, qkd_doh_view_t *view)
{
	view->size = this->pool->get_bitmap(this->pool, &view->bitmap,
										&view->first);
}

/**
 * Send a sync round: the whole pool in range messages, the first with our
 * reset flag until the peer acknowledged it
 */
static void send_sync(private_qkd_doh_peer_t *this, uint64_t now)
{
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

	this->sync_due = now + this->settings.sync_interval;
	own_view(this, &own);
	if (!own.size)
	{	/* range messages need a key: the draft's sync, all blank */
		qkd_doh_view_clear(&own);
		send_msg(this, &empty, TRUE);
		return;
	}
	msgs = qkd_doh_sync_range(own.bitmap, own.first, own.size, TRUE, TRUE);
	qkd_doh_view_clear(&own);
	for (i = 0; i < array_count(msgs); i++)
	{
		array_get(msgs, i, &msg);
		msg->range.reset = !this->reset_acked && msg->range.first;
		send_msg(this, msg, TRUE);
	}
	qkd_doh_sync_destroy(msgs);
}

/**
 * Answer a sync request with our statuses of the same Indexes (those we
 * don't hold as 11)
 */
static void answer_sync(private_qkd_doh_peer_t *this, qkd_doh_msg_t *req)
{
	qkd_doh_view_t own;
	qkd_doh_msg_t *msg;
	array_t *msgs = NULL;
	uint32_t first, count;
	chunk_t bitmap;
	int i;

	own_view(this, &own);
	if (req->type == QKD_DOH_REQ_SYNC)
	{	/* the draft's messages count from Index 1 */
		count = own.size ? min((uint64_t)own.first + own.size - 1,
						256 * (uint64_t)this->settings.keys_per_offset) : 0;
		bitmap = qkd_doh_view_extract(&own, 1, count);
		if (count)
		{
			msgs = qkd_doh_sync_plain(bitmap, count,
									  this->settings.keys_per_offset, FALSE);
		}
		chunk_free(&bitmap);
		for (i = 0; msgs && i < array_count(msgs); i++)
		{
			array_get(msgs, i, &msg);
			if (msg->sync.offset == req->sync.offset)
			{
				send_msg(this, msg, TRUE);
			}
		}
	}
	else
	{
		first = req->range.start;
		count = req->range.count;
		bitmap = qkd_doh_view_extract(&own, first, count);
		msgs = qkd_doh_sync_range(bitmap, first, count, TRUE, FALSE);
		chunk_free(&bitmap);
		for (i = 0; msgs && i < array_count(msgs); i++)
		{
			array_get(msgs, i, &msg);
			/* a round of answers starts where the peer's round starts */
			msg->range.first = req->range.first && i == 0;
			send_msg(this, msg, TRUE);
		}
	}
	qkd_doh_sync_destroy(msgs);
	qkd_doh_view_clear(&own);
}

/**
 * Record the statuses a sync message reports
 */
static void apply_sync(private_qkd_doh_peer_t *this, qkd_doh_msg_t *msg)
{
	if (qkd_doh_sync_apply(&this->peer_view, msg,
						   this->settings.keys_per_offset))
	{
		this->peer_known = TRUE;
		if (this->idle_wait)
		{	/* news of the peer's keys: look again at once */
			this->idle_wait = FALSE;
			this->neg_due = 0;
		}
	}
}

/**
 * Send the REQ_NEGOTIATE of the negotiation in flight
 */
static void send_negotiate(private_qkd_doh_peer_t *this, uint64_t now)
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

	this->link->get_pool_settings(this->link, &capacity, &low, &wait,
								  &lifetime);
	msg.negotiate.survival = lifetime;
	memcpy(msg.negotiate.keyid, this->inflight.id, QKD_KEY_ID_LEN);
	if (this->inflight.rt.tries)
	{
		this->blocked_ts = this->inflight.ts;
	}
	send_msg(this, &msg, TRUE);
	rt_sent(&this->inflight.rt, now, this->settings.retransmit, UINT_MAX);
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
static void check_stuck(private_qkd_doh_peer_t *this, uint64_t now)
{
	if (now < this->stuck_due ||
		!this->pool->get_count(this->pool, QKD_KEY_IDLE) ||
		!has_idle(&this->peer_view))
	{
		return;
	}
	this->stuck_due = now + DROP_LOG_INTERVAL;
	this->counters.views_apart++;
	DBG1(DBG_NET, "qkd DOH '%s': both ends hold Idle keys, none of them "
		 "Idle on both, syncing again", name(this));
	this->sync_due = now;
	this->reconcile_due = now;
}

/**
 * Start a negotiation if keys are wanted and one is Idle on both ends
 */
static void negotiate(private_qkd_doh_peer_t *this, uint64_t now)
{
	qkd_doh_view_t own;
	uint32_t index, ts;

	if (!established(this) || !this->reset_acked || !this->peer_known ||
		this->inflight.active || now < this->neg_due ||
		array_count(this->own_bound) >= this->settings.bound)
	{
		return;
	}
	ts = max((uint32_t)time(NULL), this->blocked_ts + 1);
	if (ts > (uint32_t)time(NULL) + this->settings.window / 2)
	{	/* the peer refuses Timestamps outside its window: wait for the
		 * clock rather than run ahead of it */
		this->neg_due = now + 1000;
		return;
	}
	own_view(this, &own);
	index = qkd_doh_sync_lowest_idle(&own, &this->peer_view);
	qkd_doh_view_clear(&own);
	if (!index || !this->pool->get_id(this->pool, index, this->inflight.id))
	{	/* nothing Idle on both ends: wait for keys or the next sync */
		this->neg_due = now + this->settings.retransmit;
		this->idle_wait = TRUE;
		check_stuck(this, now);
		return;
	}
	this->inflight.active = TRUE;
	this->inflight.index = index;
	this->inflight.ts = ts;
	this->inflight.rt = (retrans_t){};
	send_negotiate(this, now);
}

/**
 * Retransmit or give up the negotiation in flight
 */
static void retransmit_negotiate(private_qkd_doh_peer_t *this, uint64_t now)
{
	if (!this->inflight.active || now < this->inflight.rt.due)
	{
		return;
	}
	if (this->inflight.rt.tries < MAX_TRIES)
	{
		if (time(NULL) > (time_t)this->inflight.ts + this->settings.window / 2)
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
	this->counters.timeouts++;
	this->sync_due = now;
	DBG1(DBG_NET, "qkd DOH '%s': no answer from %H to negotiating Index %u",
		 name(this), this->peer, this->inflight.index);
}

/**
 * Expire the keys of an announce the peer does not hold (not among held):
 * they are never Idle on both ends
 */
static void expire_unheld(private_qkd_doh_peer_t *this, announce_t *announce,
						  uint8_t held[][QKD_KEY_ID_LEN], u_int nheld)
{
	qkd_key_status_t status;
	bool found;
	u_int i, j;

	for (i = 0; i < announce->count; i++)
	{
		found = FALSE;
		for (j = 0; j < nheld; j++)
		{
			found = found || memeq(announce->ids[i], held[j], QKD_KEY_ID_LEN);
		}
		if (!found && this->pool->get_status(this->pool, announce->ids[i],
											 &status, NULL, NULL) &&
			status == QKD_KEY_IDLE)
		{
			this->pool->set_status(this->pool, announce->ids[i],
								   QKD_KEY_EXPIRED);
		}
	}
}

/**
 * Queue an announce of keys (IDs and Indexes); keys of one announce have
 * consecutive Indexes
 */
static void queue_announce(private_qkd_doh_peer_t *this,
						   uint8_t ids[][QKD_KEY_ID_LEN], uint32_t *indexes,
						   u_int count)
{
	announce_t *announce = NULL;
	u_int i;

	for (i = 0; i < count; i++)
	{
		if (!announce || announce->count == QKD_DOH_MAX_ANNOUNCE ||
			indexes[i] != announce->first_index + announce->count)
		{
			INIT(announce,
				.seq = this->announce_seq++,
				.first_index = indexes[i],
			);
			this->announces->insert_last(this->announces, announce);
		}
		memcpy(announce->ids[announce->count++], ids[i], QKD_KEY_ID_LEN);
		this->counters.announced++;
	}
}

/**
 * Whether a list of announce_t has a key ID
 */
static bool in_announces(linked_list_t *announces, uint8_t id[QKD_KEY_ID_LEN])
{
	enumerator_t *enumerator;
	announce_t *announce;
	bool found = FALSE;
	u_int i;

	enumerator = announces->create_enumerator(announces);
	while (!found && enumerator->enumerate(enumerator, &announce))
	{
		for (i = 0; i < announce->count; i++)
		{
			found = found || memeq(announce->ids[i], id, QKD_KEY_ID_LEN);
		}
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * Most keys announced again per round of reconcile()
 */
#define RECONCILE_MAX (QKD_DOH_MAX_ANNOUNCE * ANNOUNCE_WINDOW)

/**
 * Announcer: announce again the Idle keys the peer's view shows it does
 * not hold and no announce is under way for (announces lost or given up
 * on, or not sent before a restart): the peer fetches them, or they
 * expire here when it can't. So no key stays Idle at this end only.
 */
static void reconcile(private_qkd_doh_peer_t *this, uint64_t now)
{
	uint8_t ids[RECONCILE_MAX][QKD_KEY_ID_LEN];
	uint32_t indexes[RECONCILE_MAX], index;
	qkd_doh_view_t own;
	u_int count = 0, i;

	if (!this->announcer || !this->peer_known || now < this->reconcile_due)
	{
		return;
	}
	this->reconcile_due = now + 2 * max(this->settings.sync_interval,
										(u_int)1000);
	own_view(this, &own);
	for (i = 0; i < own.size && count < RECONCILE_MAX; i++)
	{
		index = own.first + i;
		if (now < this->acked_until && index >= this->acked_lo &&
			index <= this->acked_hi)
		{	/* the peer may not have reported these yet */
			continue;
		}
		if (qkd_doh_bitmap_get(own.bitmap, i) == QKD_KEY_IDLE &&
			qkd_doh_view_get(&this->peer_view, index) == 0x03 &&
			this->pool->get_id(this->pool, index, ids[count]) &&
			!in_announces(this->announces, ids[count]))
		{
			indexes[count++] = index;
		}
	}
	qkd_doh_view_clear(&own);
	if (count)
	{
		this->counters.reannounced += count;
		DBG1(DBG_NET, "qkd DOH '%s': %H does not hold %u Idle key%s of "
			 "this end, announcing them again", name(this), this->peer,
			 count, count == 1 ? "" : "s");
		queue_announce(this, ids, indexes, count);
	}
}

/**
 * Send new and due announces, give up unanswered ones
 */
static void pump_announces(private_qkd_doh_peer_t *this, uint64_t now)
{
	enumerator_t *enumerator;
	announce_t *announce;
	u_int outstanding = 0;
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_KEY_ANNOUNCE,
	};

	if (!established(this))
	{
		return;
	}
	enumerator = this->announces->create_enumerator(this->announces);
	while (enumerator->enumerate(enumerator, &announce))
	{
		if (announce->rt.tries >= MAX_TRIES && now >= announce->rt.due)
		{
			expire_unheld(this, announce, NULL, 0);
			DBG1(DBG_NET, "qkd DOH '%s': announce %u of %u keys not "
				 "acknowledged by %H", name(this), announce->seq,
				 announce->count, this->peer);
			this->announces->remove_at(this->announces, enumerator);
			free(announce);
			continue;
		}
		if (announce->rt.tries ? now < announce->rt.due
							   : outstanding >= ANNOUNCE_WINDOW)
		{
			outstanding += announce->rt.tries ? 1 : 0;
			continue;
		}
		msg.announce.seq = announce->seq;
		msg.announce.count = announce->count;
		msg.announce.first_index = announce->first_index;
		memcpy(msg.announce.ids, announce->ids, sizeof(announce->ids));
		send_msg(this, &msg, TRUE);
		rt_sent(&announce->rt, now, this->settings.retransmit, UINT_MAX);
		outstanding++;
	}
	enumerator->destroy(enumerator);
}

/**
 * Remember the Indexes of an acknowledged announce for two sync intervals,
 * until the peer's statuses show them
 */
static void remember_acked(private_qkd_doh_peer_t *this, announce_t *announce)
{
	uint64_t now = now_ms();
	uint32_t last = announce->first_index + announce->count - 1;

	if (now >= this->acked_until)
	{
		this->acked_lo = announce->first_index;
		this->acked_hi = last;
	}
	this->acked_lo = min(this->acked_lo, announce->first_index);
	this->acked_hi = max(this->acked_hi, last);
	this->acked_until = now + 2 * this->settings.sync_interval + 1000;
}

/**
 * The peer acknowledged an announce
 */
static void process_announce_ack(private_qkd_doh_peer_t *this,
								 qkd_doh_msg_t *msg)
{
	enumerator_t *enumerator;
	announce_t *announce, *found = NULL;

	enumerator = this->announces->create_enumerator(this->announces);
	while (enumerator->enumerate(enumerator, &announce))
	{
		if (announce->seq == msg->announce.seq)
		{
			this->announces->remove_at(this->announces, enumerator);
			found = announce;
			break;
		}
	}
	enumerator->destroy(enumerator);
	if (!found)
	{
		this->counters.rx_unexpected++;
		return;
	}
	this->counters.acked += msg->announce.count;
	expire_unheld(this, found, msg->announce.ids, msg->announce.count);
	remember_acked(this, found);
	if (msg->announce.status)
	{
		DBG1(DBG_NET, "qkd DOH '%s': %H got %u of %u announced keys",
			 name(this), this->peer, msg->announce.count, found->count);
	}
	free(found);
	this->sync_due = min(this->sync_due, now_ms() + SYNC_SOON);
	pump_announces(this, now_ms());
}

/**
 * The peer announced keys: fetch them in tick()
 */
static void process_announce(private_qkd_doh_peer_t *this, qkd_doh_msg_t *msg)
{
	enumerator_t *enumerator;
	announce_t *announce;
	bool queued = FALSE;

	if (this->announcer)
	{
		this->counters.rx_unexpected++;
		return;
	}
	enumerator = this->incoming->create_enumerator(this->incoming);
	while (enumerator->enumerate(enumerator, &announce))
	{
		queued = queued || announce->seq == msg->announce.seq;
	}
	enumerator->destroy(enumerator);
	if (queued || this->incoming->get_count(this->incoming) >= INCOMING_MAX)
	{	/* being fetched, or the peer retransmits later */
		this->counters.rx_unexpected++;
		return;
	}
	INIT(announce,
		.seq = msg->announce.seq,
		.count = msg->announce.count,
		.first_index = msg->announce.first_index,
	);
	memcpy(announce->ids, msg->announce.ids, sizeof(announce->ids));
	this->incoming->insert_last(this->incoming, announce);
}

/**
 * Whether a Timestamp lies in the window around our clock
 */
static bool in_window(private_qkd_doh_peer_t *this, uint32_t timestamp)
{
	time_t now = time(NULL);

	return (time_t)timestamp + this->settings.window >= now &&
		   (time_t)timestamp <= now + this->settings.window;
}

/**
 * Status of our answer to a REQ_NEGOTIATE
 */
static qkd_doh_status_t bind_for_peer(private_qkd_doh_peer_t *this,
									  qkd_doh_msg_t *msg)
{
	uint8_t id[QKD_KEY_ID_LEN];
	uint32_t index;

	if (!in_window(this, msg->negotiate.timestamp))
	{	/* the request's own Timestamp, not only its AUTH option's */
		DBG2(DBG_NET, "qkd DOH '%s': REQ_NEGOTIATE from %H with a Timestamp "
			 "%d s off, refused", name(this), this->peer,
			 (int)(msg->negotiate.timestamp - (uint32_t)time(NULL)));
		return QKD_DOH_TIMESTAMP;
	}
	if (msg->negotiate.auth_alg != AUTH_ALG_HMAC_SHA256 ||
		msg->negotiate.enc_alg != ENC_ALG_AES_256_GCM)
	{
		return QKD_DOH_UNSUPPORTED_ALG;
	}
	if (msg->negotiate.has_keyid)
	{	/* the KEYID names the key: Indexes differ while keys are added */
		memcpy(id, msg->negotiate.keyid, QKD_KEY_ID_LEN);
		index = this->pool->get_index(this->pool, id);
		if (!index)
		{
			return QKD_DOH_INVALID_KEYID;
		}
	}
	else
	{
		index = msg->negotiate.index;
		if (!this->pool->get_id(this->pool, index, id))
		{
			return QKD_DOH_INVALID_KEYID;
		}
	}
	if (find_id(this->peer_bound, id, FALSE))
	{	/* a retransmission: same answer */
		return QKD_DOH_SUCCESS;
	}
	if (this->inflight.active && memeq(this->inflight.id, id, QKD_KEY_ID_LEN))
	{
		this->counters.collisions++;
		if (this->announcer)
		{	/* the lower address wins: our request stands */
			return QKD_DOH_NOT_IDLE;
		}
		this->blocked_ts = this->inflight.ts;
		this->inflight.active = FALSE;
		this->neg_due = 0;
	}
	if (!this->pool->set_status(this->pool, id, QKD_KEY_PENDING))
	{
		return QKD_DOH_NOT_IDLE;
	}
	array_insert(this->peer_bound, ARRAY_TAIL, id);
	peer_view_used(this, index, QKD_KEY_PENDING);
	this->counters.bound_peer++;
	return QKD_DOH_SUCCESS;
}

/**
 * Answer a REQ_NEGOTIATE
 */
static void answer_negotiate(private_qkd_doh_peer_t *this, qkd_doh_msg_t *msg,
							 qkd_doh_status_t status)
{
	qkd_doh_msg_t confirm = {
		.type = QKD_DOH_CONFIRM_NEGOTIATE,
		.confirm = {
			.status = status,
			.ts_echo = msg->negotiate.timestamp,
		},
	};

	send_msg(this, &confirm, TRUE);
}

/**
 * The peer answered our REQ_NEGOTIATE
 */
static void process_confirm(private_qkd_doh_peer_t *this, qkd_doh_msg_t *msg)
{
	uint64_t now = now_ms();

	if (!this->inflight.active || msg->confirm.ts_echo != this->inflight.ts)
	{
		this->counters.rx_unexpected++;
		return;
	}
	if (msg->confirm.status == QKD_DOH_HMAC_FAILED ||
		msg->confirm.status == QKD_DOH_TIMESTAMP)
	{
		this->counters.rx_unexpected++;
		return;
	}
	this->inflight.active = FALSE;
	switch (msg->confirm.status)
	{
		case QKD_DOH_SUCCESS:
			if (this->pool->set_status(this->pool, this->inflight.id,
									   QKD_KEY_PENDING))
			{
				array_insert(this->own_bound, ARRAY_TAIL, this->inflight.id);
				peer_view_used(this, this->inflight.index, QKD_KEY_PENDING);
				this->counters.bound_own++;
				this->condvar->broadcast(this->condvar);
			}
			else
			{
				DBG1(DBG_NET, "qkd DOH '%s': key at Index %u bound by %H is "
					 "no longer Idle here", name(this), this->inflight.index,
					 this->peer);
			}
			break;
		case QKD_DOH_INVALID_KEYID:
		case QKD_DOH_NOT_IDLE:
			this->counters.refused++;
			peer_view_used(this, this->inflight.index,
						   msg->confirm.status == QKD_DOH_NOT_IDLE ?
						   QKD_KEY_PENDING : QKD_KEY_EXPIRED);
			this->sync_due = min(this->sync_due, now + SYNC_SOON);
			break;
		default:
			this->counters.refused++;
			DBG1(DBG_NET, "qkd DOH '%s': %H refused negotiating Index %u: "
				 "status 0x%02x", name(this), this->peer, this->inflight.index,
				 msg->confirm.status);
			this->neg_due = now + (msg->confirm.status ==
								   QKD_DOH_UNSUPPORTED_ALG ? 60000 : 2000);
			break;
	}
	negotiate(this, now);
}

/**
 * Whether a KEYID names a key of the pool, or one the peer announced
 */
static bool is_pool_key(private_qkd_doh_peer_t *this,
						uint8_t id[QKD_KEY_ID_LEN])
{
	return this->pool->get_index(this->pool, id) != 0 ||
		   in_announces(this->incoming, id);
}

/**
 * The other end: something suggests the peer no longer uses our DOH key
 * (an unauthenticated offer of another key, messages that don't verify):
 * ask it to prove it does with an authenticated sync, which it answers.
 * At most one probe per second, so forgeries cost no more than that.
 */
static void start_probe(private_qkd_doh_peer_t *this, uint64_t now)
{
	if (this->announcer || !this->have_key || this->probe_due ||
		now < this->proof_due)
	{
		return;
	}
	this->probe_due = now + PROBE_TIMEOUT;
	this->probe_resent = FALSE;
	this->proof_due = now + OFFER_FETCH_INTERVAL;
	this->sync_due = now;
}

/**
 * The other end: an authenticated message arrived, the peer uses our key
 */
static void probe_answered(private_qkd_doh_peer_t *this)
{
	if (!this->probe_due)
	{
		return;
	}
	this->probe_due = 0;
	if (this->offer_pending && !this->offer_trusted)
	{
		this->offer_pending = FALSE;
		this->counters.offers_refused++;
		refused(this, "AUTH_KEY_OFFER of another DOH key while ours verifies");
	}
}

/**
 * The other end: the peer did not answer a probe, it does not hold our DOH
 * key any more (restarted, or ours was never its): drop ours, take an
 * offered one or ask for a new one
 */
static void check_probe(private_qkd_doh_peer_t *this, uint64_t now)
{
	if (!this->probe_due)
	{
		return;
	}
	if (now < this->probe_due)
	{
		if (!this->probe_resent && now + PROBE_TIMEOUT / 2 >= this->probe_due)
		{	/* in case the first one got lost */
			this->probe_resent = TRUE;
			this->sync_due = now;
		}
		return;
	}
	DBG1(DBG_NET, "qkd DOH '%s': %H does not use DOH key generation %u any "
		 "more, dropping it", name(this), this->peer, this->key_ref);
	this->probe_due = 0;
	this->have_key = this->confirmed = FALSE;
	this->offer_rt = (retrans_t){};
	this->counters.keys_lost++;
}

/**
 * Process an AUTH_KEY_OFFER (trusted if authenticated with a DOH key we
 * hold)
 */
static void process_offer(private_qkd_doh_peer_t *this, qkd_doh_msg_t *msg,
						  bool trusted)
{
	uint64_t now = now_ms();
	bool request = msg->offer.flags & QKD_DOH_OFFER_REQUEST;

	if (this->announcer)
	{
		if (!request)
		{
			this->counters.rx_unexpected++;
			return;
		}
		if (this->have_key && !this->confirmed)
		{	/* our offer answers it */
			this->offer_rt.due = now;
		}
		else if (now >= this->request_ok)
		{
			DBG1(DBG_NET, "qkd DOH '%s': %H asks for a new DOH key",
				 name(this), this->peer);
			this->want_key = TRUE;
			this->key_due = now;
			this->request_ok = now + KEY_REQUEST_INTERVAL;
		}
		return;
	}
	if (request)
	{
		this->counters.rx_unexpected++;
		return;
	}
	if (this->have_key && memeq(msg->offer.keyid, this->key_id,
								QKD_KEY_ID_LEN))
	{	/* we hold it: an authenticated sync tells the peer so */
		if (now >= this->proof_due)
		{
			this->sync_due = now;
			this->proof_due = now + OFFER_FETCH_INTERVAL;
		}
		return;
	}
	if (is_pool_key(this, msg->offer.keyid))
	{	/* anybody can copy a KEYID from a (cleartext) announce */
		this->counters.offers_refused++;
		refused(this, "AUTH_KEY_OFFER names a pool key");
		return;
	}
	if (trusted)
	{	/* made with the DOH key we hold: fetch it right away */
		this->offer_trusted = TRUE;
		this->fetch_due = now;
	}
	else if (this->offer_trusted && this->offer_pending)
	{	/* anybody can send an unauthenticated one */
		return;
	}
	else if (this->have_key)
	{	/* taken only if the peer no longer uses our key (it restarted) */
		start_probe(this, now);
	}
	this->offer_pending = TRUE;
	memcpy(this->offer_id, msg->offer.keyid, QKD_KEY_ID_LEN);
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
	return copy;
}

/**
 * Free a copied REQ_NEGOTIATE
 */
static void free_negotiate(qkd_doh_msg_t *msg)
{
	chunk_free(&msg->negotiate.seed);
	free(msg);
}

/**
 * Bind and answer the REQ_NEGOTIATEs received
 */
static void answer_requests(private_qkd_doh_peer_t *this)
{
	qkd_doh_msg_t *msg;

	while (this->requests->remove_first(this->requests,
										(void**)&msg) == SUCCESS)
	{
		answer_negotiate(this, msg, bind_for_peer(this, msg));
		free_negotiate(msg);
	}
}

/**
 * Process an authenticated message
 */
static void process(private_qkd_doh_peer_t *this, qkd_doh_msg_t *msg,
					qkd_doh_auth_t *auth)
{
	uint64_t now = now_ms();

	probe_answered(this);
	if (this->have_key && !this->confirmed && auth->key_ref == this->key_ref)
	{
		this->confirmed = TRUE;
		this->rotating = FALSE;
		this->guard->sign_with_previous(this->guard, FALSE);
		this->sync_due = now;
		DBG1(DBG_NET, "qkd DOH '%s': %H holds DOH key generation %u, "
			 "messages authenticated both ways", name(this), this->peer,
			 this->key_ref);
	}
	switch (msg->type)
	{
		case QKD_DOH_REQ_SYNC_RANGE:
			if (msg->range.reset && !(this->reset_seen &&
				memeq(this->reset_key_id, this->key_id, QKD_KEY_ID_LEN)))
			{	/* once per DOH key: the peer repeats it until we answer,
				 * and a restart of either end changes the DOH key */
				this->reset_seen = TRUE;
				memcpy(this->reset_key_id, this->key_id, QKD_KEY_ID_LEN);
				peer_reset(this);
			}
			/* fall */
		case QKD_DOH_REQ_SYNC:
			apply_sync(this, msg);
			answer_sync(this, msg);
			break;
		case QKD_DOH_ACK_AVAILABLE_RANGE:
			if (msg->range.first && !this->reset_acked)
			{
				this->reset_acked = TRUE;
			}
			/* fall */
		case QKD_DOH_ACK_AVAILABLE:
			apply_sync(this, msg);
			negotiate(this, now);
			break;
		case QKD_DOH_REQ_NEGOTIATE:
			if (!this->reset_acked ||
				this->requests->get_count(this->requests) >= REQUESTS_MAX)
			{
				this->counters.rx_unexpected++;
				break;
			}
			/* binding writes to disk: in tick(), not in the thread that
			 * receives packets */
			this->requests->insert_last(this->requests,
										copy_negotiate(msg));
			break;
		case QKD_DOH_CONFIRM_NEGOTIATE:
			process_confirm(this, msg);
			break;
		case QKD_DOH_KEY_ANNOUNCE:
			process_announce(this, msg);
			break;
		case QKD_DOH_ANNOUNCE_ACK:
			process_announce_ack(this, msg);
			break;
		default:
			this->counters.rx_unexpected++;
			break;
	}
}

/**
 * Count and log a message the guard refused
 */
static void count_refused(private_qkd_doh_peer_t *this,
						  qkd_doh_verdict_t verdict)
{
	switch (verdict)
	{
		case QKD_DOH_BAD_MAC:
			this->counters.rx_bad_mac++;
			refused(this, "MAC does not verify");
			break;
		case QKD_DOH_STALE:
			this->counters.rx_stale++;
			refused(this, "timestamp outside the window");
			break;
		case QKD_DOH_REPLAY:
			this->counters.rx_replay++;
			refused(this, "replayed");
			break;
		case QKD_DOH_NO_KEY:
		default:
			this->counters.rx_no_key++;
			refused(this, "unknown DOH key");
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
		this->counters.rx_malformed++;
		refused(this, "malformed");
		return FALSE;
	}
	return TRUE;
}

/**
 * Answer a REQ_NEGOTIATE that failed authentication as the draft asks
 * (0x03, 0x04), at most once a second
 */
static void refuse_negotiate(private_qkd_doh_peer_t *this,
							 qkd_doh_frame_t *frame, qkd_doh_verdict_t verdict)
{
	qkd_doh_msg_t msg;

	if ((verdict != QKD_DOH_BAD_MAC && verdict != QKD_DOH_STALE) ||
		frame->type != QKD_DOH_REQ_NEGOTIATE || !established(this) ||
		now_ms() < this->refusal_due || !decode(this, frame, &msg))
	{
		return;
	}
	this->refusal_due = now_ms() + REFUSAL_INTERVAL;
	answer_negotiate(this, &msg, verdict == QKD_DOH_BAD_MAC ?
					 QKD_DOH_HMAC_FAILED : QKD_DOH_TIMESTAMP);
	qkd_doh_msg_clear(&msg);
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
		verdict = this->guard->verify(this->guard, src, dst, doh, &frame.auth,
									  frame.mac_offset);
	}
	this->mutex->lock(this->mutex);
	this->counters.rx++;
	if (!framed)
	{
		this->counters.rx_malformed++;
		refused(this, "malformed");
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
			process_offer(this, &msg, verdict == QKD_DOH_VALID);
			qkd_doh_msg_clear(&msg);
		}
	}
	else if (!frame.has_auth)
	{
		this->counters.rx_no_key++;
		refused(this, "not authenticated");
	}
	else if (verdict == QKD_DOH_VALID)
	{
		if (decode(this, &frame, &msg))
		{
			this->counters.rx_valid++;
			process(this, &msg, &frame.auth);
			qkd_doh_msg_clear(&msg);
		}
	}
	else
	{
		count_refused(this, verdict);
		if (verdict == QKD_DOH_NO_KEY || verdict == QKD_DOH_BAD_MAC)
		{	/* the peer may have another DOH key */
			start_probe(this, now_ms());
		}
		refuse_negotiate(this, &frame, verdict);
	}
	work = this->requests->get_count(this->requests) > 0;
	this->mutex->unlock(this->mutex);
	return work;
}

/**
 * Install a DOH key generation
 */
static void install_key(private_qkd_doh_peer_t *this, qkd_key_t *key,
						bool confirmed)
{
	char uuid[QKD_KEY_ID_STRLEN + 1];

	if (!this->guard->set_key(this->guard, key->id[0], key->key))
	{
		return;
	}
	/* the announcer keeps sending with a key the peer holds */
	this->rotating = !confirmed && this->have_key &&
					 (this->confirmed || this->rotating);
	this->guard->sign_with_previous(this->guard, this->rotating);
	this->have_key = TRUE;
	this->key_ref = key->id[0];
	memcpy(this->key_id, key->id, QKD_KEY_ID_LEN);
	this->confirmed = confirmed;
	this->offer_rt = (retrans_t){};
	this->sync_due = now_ms();
	this->counters.doh_keys++;
	qkd_key_id_format(key->id, uuid);
	DBG1(DBG_NET, "qkd DOH '%s': DOH key %s (generation %u) %s %H", name(this),
		 uuid, this->key_ref, confirmed ? "offered by" : "taken, offering it to",
		 this->peer);
}

/**
 * Get one key from the KME: a new one (enc_keys) if id is NULL, else the
 * one with that ID (dec_keys). The mutex is held, released during the call.
 */
static qkd_key_t *kme_one_key(private_qkd_doh_peer_t *this,
							  uint8_t id[QKD_KEY_ID_LEN],
							  qkd_kme_result_t *result)
{
	qkd_link_t *link;
	qkd_key_t *key;

	link = this->link->get_ref(this->link);
	this->mutex->unlock(this->mutex);
	key = link->get_key(link, id, result);
	this->mutex->lock(this->mutex);
	link->destroy(link);
	return key;
}

/**
 * Announcer: take a new DOH key from the KME (mutex held, released during
 * the call)
 */
static void take_doh_key(private_qkd_doh_peer_t *this, uint64_t now)
{
	qkd_kme_result_t result;
	qkd_key_t *key;

	this->want_key = FALSE;
	key = kme_one_key(this, NULL, &result);
	if (!key || (this->have_key && key->id[0] == this->key_ref))
	{	/* Key Ref must change with the generation: try again */
		if (!key)
		{
			DBG1(DBG_NET, "qkd DOH '%s': no DOH key from the KME: %N",
				 name(this), qkd_kme_result_names, result);
		}
		this->want_key = TRUE;
		this->key_due = now + (key ? 0 : 2000);
		qkd_key_destroy(key);
		return;
	}
	install_key(this, key, FALSE);
	qkd_key_destroy(key);
}

/**
 * The other end: fetch the key the peer offered (mutex held, released
 * during the call)
 */
static void fetch_offered_key(private_qkd_doh_peer_t *this, uint64_t now)
{
	uint8_t id[QKD_KEY_ID_LEN];
	qkd_kme_result_t result;
	qkd_key_t *key;

	memcpy(id, this->offer_id, QKD_KEY_ID_LEN);
	this->offer_pending = this->offer_trusted = FALSE;
	this->fetch_due = now + OFFER_FETCH_INTERVAL;
	key = kme_one_key(this, id, &result);
	if (!key)
	{
		refused(this, "offered DOH key not available from the KME");
		return;
	}
	if (is_pool_key(this, key->id))
	{	/* announced while we fetched it */
		this->counters.offers_refused++;
		refused(this, "AUTH_KEY_OFFER names a pool key");
		qkd_key_destroy(key);
		return;
	}
	install_key(this, key, TRUE);
	qkd_key_destroy(key);
}

/**
 * Send an ANNOUNCE_ACK
 */
static void send_announce_ack(private_qkd_doh_peer_t *this, uint16_t seq,
							  uint8_t ids[][QKD_KEY_ID_LEN], u_int count,
							  bool all)
{
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_ANNOUNCE_ACK,
		.announce = {
			.seq = seq,
			.status = all ? 0 : 1,
			.count = count,
		},
	};

	memcpy(msg.announce.ids, ids, count * QKD_KEY_ID_LEN);
	send_msg(this, &msg, TRUE);
}

/**
 * The other end: add keys fetched for an announce to the pool, with the
 * Indexes the peer gave them
 */
static bool add_announced(private_qkd_doh_peer_t *this, announce_t *announce,
						  array_t *keys)
{
	uint32_t indexes[QKD_DOH_MAX_ANNOUNCE];
	qkd_key_t *key;
	u_int i, j;

	if (array_count(keys) > announce->count)
	{
		return FALSE;
	}
	for (i = 0; i < array_count(keys); i++)
	{
		array_get(keys, i, &key);
		for (j = 0; j < announce->count; j++)
		{
			if (memeq(announce->ids[j], key->id, QKD_KEY_ID_LEN))
			{
				break;
			}
		}
		if (j == announce->count)
		{	/* the KME gave a key we did not ask for */
			return FALSE;
		}
		indexes[i] = announce->first_index + j;
	}
	return this->pool->add_indexed(this->pool, keys, indexes);
}

/**
 * The other end: fetch the keys of a received announce and acknowledge
 * those held (mutex held, released during the call)
 */
static void fetch_announced(private_qkd_doh_peer_t *this,
							announce_t *announce)
{
	uint8_t held[QKD_DOH_MAX_ANNOUNCE][QKD_KEY_ID_LEN];
	uint8_t wanted[QKD_DOH_MAX_ANNOUNCE][QKD_KEY_ID_LEN];
	u_int nheld = 0, nwanted = 0, i;
	qkd_kme_client_t *client;
	qkd_kme_result_t result = QKD_KME_OK;
	array_t *keys = NULL;
	qkd_key_t *key;

	for (i = 0; i < announce->count; i++)
	{
		if (this->pool->get_index(this->pool, announce->ids[i]))
		{
			memcpy(held[nheld++], announce->ids[i], QKD_KEY_ID_LEN);
		}
		else
		{
			memcpy(wanted[nwanted++], announce->ids[i], QKD_KEY_ID_LEN);
		}
	}
	if (nwanted)
	{
		this->mutex->unlock(this->mutex);
		client = this->link->get_client(this->link);
		result = client ? client->get_keys_by_id(client, wanted, nwanted,
									this->link->get_key_size(this->link),
									&keys)
						: QKD_KME_TRANSPORT_ERROR;
		this->mutex->lock(this->mutex);
		if (result == QKD_KME_OK)
		{
			if (add_announced(this, announce, keys))
			{
				for (i = 0; i < array_count(keys); i++)
				{
					array_get(keys, i, &key);
					memcpy(held[nheld++], key->id, QKD_KEY_ID_LEN);
				}
				this->counters.fetched += array_count(keys);
				this->sync_due = min(this->sync_due, now_ms() + SYNC_SOON);
			}
			qkd_key_array_destroy(keys);
		}
		else if (result != QKD_KME_BAD_REQUEST &&
				 result != QKD_KME_INVALID_RESPONSE)
		{	/* KME unreachable or busy: the peer retransmits, try again */
			DBG1(DBG_NET, "qkd DOH '%s': keys announced by %H not fetched: "
				 "%N", name(this), this->peer, qkd_kme_result_names, result);
			return;
		}
	}
	send_announce_ack(this, announce->seq, held, nheld,
					  nheld == announce->count);
}

METHOD(qkd_doh_peer_t, tick, void,
	private_qkd_doh_peer_t *this)
{
	announce_t *announce;
	qkd_doh_msg_t offer = {
		.type = QKD_DOH_AUTH_KEY_OFFER,
		.offer = {
			.flags = QKD_DOH_OFFER_RANGE,
		},
	};
	uint64_t now = now_ms();

	this->mutex->lock(this->mutex);
	answer_requests(this);
	if (this->announcer)
	{
		if (this->want_key && now >= this->key_due)
		{
			take_doh_key(this, now);
		}
		if (this->have_key && !this->confirmed && now >= this->offer_rt.due)
		{
			memcpy(offer.offer.keyid, this->key_id, QKD_KEY_ID_LEN);
			send_msg(this, &offer, this->rotating);
			rt_sent(&this->offer_rt, now, this->settings.retransmit,
					OFFER_INTERVAL_MAX);
		}
	}
	else
	{
		check_probe(this, now);
		if (this->offer_pending && now >= this->fetch_due &&
			(!this->have_key || this->offer_trusted))
		{
			fetch_offered_key(this, now);
		}
		if (!this->have_key && now >= this->offer_rt.due)
		{
			offer.offer.flags |= QKD_DOH_OFFER_REQUEST;
			send_msg(this, &offer, FALSE);
			rt_sent(&this->offer_rt, now, this->settings.retransmit,
					OFFER_INTERVAL_MAX);
		}
		while (established(this) &&
			   this->incoming->remove_first(this->incoming,
											(void**)&announce) == SUCCESS)
		{
			fetch_announced(this, announce);
			free(announce);
		}
	}
	now = now_ms();
	if (established(this))
	{
		if (now >= this->sync_due)
		{
			send_sync(this, now);
		}
		reconcile(this, now);
		pump_announces(this, now);
		retransmit_negotiate(this, now);
		negotiate(this, now);
	}
	this->mutex->unlock(this->mutex);
}

METHOD(qkd_doh_peer_t, announce, void,
	private_qkd_doh_peer_t *this, array_t *keys)
{
	uint8_t (*ids)[QKD_KEY_ID_LEN];
	uint32_t *indexes;
	qkd_key_t *key;
	u_int i, count = 0;

	ids = calloc(array_count(keys) + 1, QKD_KEY_ID_LEN);
	indexes = calloc(array_count(keys) + 1, sizeof(uint32_t));
	this->mutex->lock(this->mutex);
	for (i = 0; i < array_count(keys); i++)
	{
		array_get(keys, i, &key);
		indexes[count] = this->pool->get_index(this->pool, key->id);
		if (indexes[count])
		{	/* still in the pool */
			memcpy(ids[count++], key->id, QKD_KEY_ID_LEN);
		}
	}
	queue_announce(this, ids, indexes, count);
	free(ids);
	free(indexes);
	pump_announces(this, now_ms());
	this->mutex->unlock(this->mutex);
}

METHOD(qkd_doh_peer_t, is_announcer, bool,
	private_qkd_doh_peer_t *this)
{
	return this->announcer;
}

METHOD(qkd_doh_peer_t, take_bound, qkd_key_t*,
	private_qkd_doh_peer_t *this, u_int timeout)
{
	uint8_t id[QKD_KEY_ID_LEN];
	qkd_key_t *key = NULL;
	timeval_t deadline;

	time_monotonic(&deadline);
	timeval_add_ms(&deadline, timeout);
	this->mutex->lock(this->mutex);
	while (!key)
	{
		if (array_remove(this->own_bound, ARRAY_HEAD, id))
		{
			key = this->pool->get_pending(this->pool, id);
			continue;
		}
		this->neg_due = 0;
		negotiate(this, now_ms());
		if (!timeout || this->condvar->timed_wait_abs(this->condvar,
												this->mutex, deadline))
		{
			break;
		}
	}
	if (array_count(this->own_bound) < this->settings.bound)
	{	/* replace it right away */
		negotiate(this, now_ms());
	}
	this->mutex->unlock(this->mutex);
	return key;
}

METHOD(qkd_doh_peer_t, take_peer_bound, qkd_key_t*,
	private_qkd_doh_peer_t *this, uint8_t id[QKD_KEY_ID_LEN])
{
	qkd_key_t *key = NULL;

	this->mutex->lock(this->mutex);
	if (find_id(this->peer_bound, id, TRUE))
	{
		key = this->pool->get_pending(this->pool, id);
	}
	this->mutex->unlock(this->mutex);
	return key;
}

METHOD(qkd_doh_peer_t, matches, bool,
	private_qkd_doh_peer_t *this, host_t *local, host_t *peer)
{
	return this->local->ip_equals(this->local, local) &&
		   this->peer->ip_equals(this->peer, peer);
}

METHOD(qkd_doh_peer_t, set_link, void,
	private_qkd_doh_peer_t *this, qkd_link_t *link)
{
	qkd_doh_settings_t *settings = link->get_doh(link);

	this->mutex->lock(this->mutex);
	this->link->destroy(this->link);
	this->link = link->get_ref(link);
	if (settings)
	{	/* the addresses stay, timers may change */
		this->settings.window = settings->window;
		this->settings.sync_interval = settings->sync_interval;
		this->settings.retransmit = settings->retransmit;
		this->settings.keys_per_offset = settings->keys_per_offset;
		this->settings.bound = settings->bound;
	}
	this->mutex->unlock(this->mutex);
}

METHOD(qkd_doh_peer_t, get_counters, void,
	private_qkd_doh_peer_t *this, qkd_doh_counters_t *counters)
{
	this->mutex->lock(this->mutex);
	*counters = this->counters;
	this->mutex->unlock(this->mutex);
}

METHOD(qkd_doh_peer_t, format_status, bool,
	private_qkd_doh_peer_t *this, char *buf, size_t len)
{
	qkd_doh_counters_t *c = &this->counters;
	int written;

	this->mutex->lock(this->mutex);
	written = snprintf(buf, len,
		"doh_peer: %H\n"
		"doh_state: %s\n"
		"doh_key_generation: %u\n"
		"doh_bound_own: %u\n"
		"doh_bound_peer: %u\n"
		"doh_rx: %u\n"
		"doh_rx_valid: %u\n"
		"doh_rx_malformed: %u\n"
		"doh_rx_no_key: %u\n"
		"doh_rx_bad_mac: %u\n"
		"doh_rx_stale: %u\n"
		"doh_rx_replay: %u\n"
		"doh_rx_unexpected: %u\n"
		"doh_tx: %u\n"
		"doh_keys: %u\n"
		"doh_negotiated_own: %u\n"
		"doh_negotiated_peer: %u\n"
		"doh_refused: %u\n"
		"doh_timeouts: %u\n"
		"doh_collisions: %u\n"
		"doh_announced: %u\n"
		"doh_announce_acked: %u\n"
		"doh_fetched: %u\n"
		"doh_reset_expired: %u\n"
		"doh_offers_refused: %u\n"
		"doh_keys_lost: %u\n"
		"doh_reannounced: %u\n"
		"doh_views_apart: %u\n",
		this->peer,
		established(this) ? "established" :
			this->have_key ? "offering" : "no key",
		this->have_key ? this->key_ref : 0,
		array_count(this->own_bound), array_count(this->peer_bound),
		c->rx, c->rx_valid, c->rx_malformed, c->rx_no_key, c->rx_bad_mac,
		c->rx_stale, c->rx_replay, c->rx_unexpected, c->tx, c->doh_keys,
		c->bound_own, c->bound_peer, c->refused, c->timeouts, c->collisions,
		c->announced, c->acked, c->fetched, c->reset_expired,
		c->offers_refused, c->keys_lost, c->reannounced, c->views_apart);
	this->mutex->unlock(this->mutex);
	return written >= 0 && written < len;
}

METHOD(qkd_doh_peer_t, destroy, void,
	private_qkd_doh_peer_t *this)
{
	this->announces->destroy_function(this->announces, free);
	this->incoming->destroy_function(this->incoming, free);
	this->requests->destroy_function(this->requests, (void*)free_negotiate);
	array_destroy(this->own_bound);
	array_destroy(this->peer_bound);
	qkd_doh_view_clear(&this->peer_view);
	this->guard->destroy(this->guard);
	this->local->destroy(this->local);
	this->peer->destroy(this->peer);
	this->link->destroy(this->link);
	this->condvar->destroy(this->condvar);
	this->mutex->destroy(this->mutex);
	memwipe(this->key_id, sizeof(this->key_id));
	free(this);
}

/*
 * Described in header
 */
qkd_doh_peer_t *qkd_doh_peer_create(qkd_link_t *link, qkd_doh_send_t send,
									void *data)
{
	private_qkd_doh_peer_t *this;
	qkd_doh_settings_t *settings;
	chunk_t local, peer;

	settings = link->get_doh(link);
	if (!settings || !link->get_pool(link))
	{
		return NULL;
	}
	local = settings->local->get_address(settings->local);
	peer = settings->peer->get_address(settings->peer);

	INIT(this,
		.public = {
			.matches = _matches,
			.receive = _receive,
			.tick = _tick,
			.announce = _announce,
			.is_announcer = _is_announcer,
			.take_bound = _take_bound,
			.take_peer_bound = _take_peer_bound,
			.set_link = _set_link,
			.get_counters = _get_counters,
			.format_status = _format_status,
			.destroy = _destroy,
		},
		.link = link->get_ref(link),
		.pool = link->get_pool(link),
		.settings = *settings,
		.local = settings->local->clone(settings->local),
		.peer = settings->peer->clone(settings->peer),
		.announcer = chunk_compare(local, peer) < 0,
		.send = send,
		.send_data = data,
		.guard = qkd_doh_guard_create(settings->window),
		.want_key = TRUE,
		.own_bound = array_create(QKD_KEY_ID_LEN, 0),
		.peer_bound = array_create(QKD_KEY_ID_LEN, 0),
		.announces = linked_list_create(),
		.incoming = linked_list_create(),
		.requests = linked_list_create(),
		.announce_seq = random() & 0xffff,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
	);
	this->settings.local = this->local;
	this->settings.peer = this->peer;

	DBG1(DBG_NET, "qkd DOH '%s': %H <-> %H, this end %s", name(this),
		 this->local, this->peer, this->announcer ?
		 "takes keys from its KME and announces them" :
		 "fetches the keys the peer announces");
	return &this->public;
}
