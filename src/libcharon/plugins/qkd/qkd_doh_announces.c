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

#include "qkd_doh_announces.h"

#include <utils/debug.h>
#include <collections/linked_list.h>

/**
 * Announces sent but not acknowledged at once
 */
#define ANNOUNCE_WINDOW 8

/**
 * Announces received and waiting for their KME call
 */
#define INCOMING_MAX 64

typedef struct private_qkd_doh_announces_t private_qkd_doh_announces_t;

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
	qkd_doh_retrans_t rt;
} announce_t;

/**
 * An Idle key of ours the peer's view showed in use
 */
typedef struct {
	/** its Index */
	uint32_t index;
	/** when that was first seen, ms */
	uint64_t since;
} suspect_t;

/**
 * Private data of a qkd_doh_announces_t object.
 */
struct private_qkd_doh_announces_t {

	/**
	 * Public interface.
	 */
	qkd_doh_announces_t public;

	/**
	 * Shared state of the peer
	 */
	qkd_doh_context_t *ctx;

	/**
	 * Sync state, for the peer's view
	 */
	qkd_doh_syncer_t *syncer;

	/**
	 * Announces sent and not acknowledged, announce_t*, and the sequence
	 * number of the next one
	 */
	linked_list_t *announces;
	uint16_t announce_seq;

	/**
	 * Announces received, waiting for their KME call, announce_t*
	 */
	linked_list_t *incoming;

	/**
	 * Indexes acknowledged lately (the peer's view may not show them yet),
	 * until when
	 */
	uint32_t acked_lo, acked_hi;
	uint64_t acked_until;

	/**
	 * When to look next for Idle keys the peer does not hold
	 */
	uint64_t reconcile_due;

	/**
	 * Indexes of our Idle keys the peer's view showed in use, since when,
	 * suspect_t
	 */
	array_t *suspects;
};

/**
 * Expire the keys of an announce the peer does not hold (not among held):
 * they are never Idle on both ends
 */
static void expire_unheld(private_qkd_doh_announces_t *this,
						  announce_t *announce, uint8_t held[][QKD_KEY_ID_LEN],
						  u_int nheld)
{
	qkd_pool_t *pool = this->ctx->pool;
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
		if (!found && pool->get_status(pool, announce->ids[i], &status,
									   NULL, NULL) &&
			status == QKD_KEY_IDLE)
		{
			pool->set_status(pool, announce->ids[i], QKD_KEY_EXPIRED);
		}
	}
}

/**
 * Queue an announce of keys (IDs and Indexes); keys of one announce have
 * consecutive Indexes
 */
static void queue_announce(private_qkd_doh_announces_t *this,
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
		this->ctx->counters.announced++;
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
 * Whether the peer's view shows a key we hold Idle as one it will never
 * negotiate: in use there (Pending, Active), or, to the fetching end, not
 * held by the announcer that stored it before announcing it
 */
static bool used_by_peer(private_qkd_doh_announces_t *this,
						 qkd_doh_view_t *peer_view, uint32_t index)
{
	u_int status;

	if (index < peer_view->first || index - peer_view->first >= peer_view->size)
	{	/* newer than the peer's last sync, or not covered by it */
		return FALSE;
	}
	status = qkd_doh_view_get(peer_view, index);
	return status == QKD_KEY_PENDING || status == QKD_KEY_ACTIVE ||
		   (status == QKD_KEY_EXPIRED && !this->ctx->announcer);
}

/**
 * Expire our Idle keys the peer's views showed in use for a while (a
 * negotiation in flight is over by then): one end used them without the
 * other hearing of it (killed before its request left, or the requester
 * gave up), so they are never Idle on both ends again
 */
static void expire_used_by_peer(private_qkd_doh_announces_t *this,
								qkd_doh_view_t *own, qkd_doh_view_t *peer_view,
								uint64_t now, uint64_t hold)
{
	qkd_pool_t *pool = this->ctx->pool;
	uint8_t id[QKD_KEY_ID_LEN];
	array_t *suspects;
	suspect_t suspect, old;
	u_int count = 0, i, j;

	suspects = array_create(sizeof(suspect_t), 0);
	for (i = 0, j = 0; i < own->size; i++)
	{
		suspect = (suspect_t){
			.index = own->first + i,
			.since = now,
		};
		if (qkd_doh_bitmap_get(own->bitmap, i) != QKD_KEY_IDLE ||
			!used_by_peer(this, peer_view, suspect.index))
		{
			continue;
		}
		for (; j < array_count(this->suspects); j++)
		{	/* both in ascending Index order */
			array_get(this->suspects, j, &old);
			if (old.index >= suspect.index)
			{
				suspect.since = old.index == suspect.index ? old.since : now;
				break;
			}
		}
		if (now < suspect.since + hold)
		{
			array_insert(suspects, ARRAY_TAIL, &suspect);
		}
		else if (pool->get_id(pool, suspect.index, id) &&
				 pool->set_status(pool, id, QKD_KEY_EXPIRED))
		{
			count++;
		}
	}
	array_destroy(this->suspects);
	this->suspects = suspects;
	if (count)
	{
		this->ctx->counters.expired_peer_used += count;
		DBG1(DBG_NET, "qkd DOH '%s': %H used %u key%s Idle here without "
			 "negotiating %s, expired %s", qkd_doh_name(this->ctx),
			 this->ctx->peer, count, count == 1 ? "" : "s",
			 count == 1 ? "it" : "them", count == 1 ? "it" : "them");
	}
}

/**
 * Most keys announced again per round of reconcile()
 */
#define RECONCILE_MAX (QKD_DOH_MAX_ANNOUNCE * ANNOUNCE_WINDOW)

METHOD(qkd_doh_announces_t, reconcile, void,
	private_qkd_doh_announces_t *this, uint64_t now)
{
	qkd_doh_view_t *peer_view;
	uint8_t ids[RECONCILE_MAX][QKD_KEY_ID_LEN];
	uint32_t indexes[RECONCILE_MAX], index;
	qkd_doh_view_t own;
	uint64_t interval;
	u_int count = 0, i;

	peer_view = this->syncer->get_peer_view(this->syncer);
	if (!peer_view || now < this->reconcile_due)
	{
		return;
	}
	interval = 2 * max(this->ctx->settings.sync_interval, (u_int)1000);
	this->reconcile_due = now + interval;
	qkd_doh_own_view(this->ctx, &own);
	expire_used_by_peer(this, &own, peer_view, now, interval);
	for (i = 0; this->ctx->announcer && i < own.size &&
		 count < RECONCILE_MAX; i++)
	{
		index = own.first + i;
		if (now < this->acked_until && index >= this->acked_lo &&
			index <= this->acked_hi)
		{	/* the peer may not have reported these yet */
			continue;
		}
		if (qkd_doh_bitmap_get(own.bitmap, i) == QKD_KEY_IDLE &&
			qkd_doh_view_get(peer_view, index) == 0x03 &&
			this->ctx->pool->get_id(this->ctx->pool, index, ids[count]) &&
			!in_announces(this->announces, ids[count]))
		{
			indexes[count++] = index;
		}
	}
	qkd_doh_view_clear(&own);
	if (count)
	{
		this->ctx->counters.reannounced += count;
		DBG1(DBG_NET, "qkd DOH '%s': %H does not hold %u Idle key%s of "
			 "this end, announcing them again", qkd_doh_name(this->ctx),
			 this->ctx->peer, count, count == 1 ? "" : "s");
		queue_announce(this, ids, indexes, count);
	}
}

METHOD(qkd_doh_announces_t, pump, void,
	private_qkd_doh_announces_t *this, uint64_t now)
{
	enumerator_t *enumerator;
	announce_t *announce;
	u_int outstanding = 0;
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_KEY_ANNOUNCE,
	};

	enumerator = this->announces->create_enumerator(this->announces);
	while (enumerator->enumerate(enumerator, &announce))
	{
		if (announce->rt.tries >= QKD_DOH_MAX_TRIES && now >= announce->rt.due)
		{
			expire_unheld(this, announce, NULL, 0);
			DBG1(DBG_NET, "qkd DOH '%s': announce %u of %u keys not "
				 "acknowledged by %H", qkd_doh_name(this->ctx), announce->seq,
				 announce->count, this->ctx->peer);
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
		qkd_doh_send_msg(this->ctx, &msg, TRUE);
		qkd_doh_rt_sent(&announce->rt, now, this->ctx->settings.retransmit,
						UINT_MAX);
		outstanding++;
	}
	enumerator->destroy(enumerator);
}

/**
 * Remember the Indexes of an acknowledged announce for two sync intervals,
 * until the peer's statuses show them
 */
static void remember_acked(private_qkd_doh_announces_t *this,
						   announce_t *announce)
{
	uint64_t now = qkd_doh_now_ms();
	uint32_t last = announce->first_index + announce->count - 1;

	if (now >= this->acked_until)
	{
		this->acked_lo = announce->first_index;
		this->acked_hi = last;
	}
	this->acked_lo = min(this->acked_lo, announce->first_index);
	this->acked_hi = max(this->acked_hi, last);
	this->acked_until = now + 2 * this->ctx->settings.sync_interval + 1000;
}

METHOD(qkd_doh_announces_t, process_ack, void,
	private_qkd_doh_announces_t *this, qkd_doh_msg_t *msg)
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
		this->ctx->counters.rx_unexpected++;
		return;
	}
	this->ctx->counters.acked += msg->announce.count;
	expire_unheld(this, found, msg->announce.ids, msg->announce.count);
	remember_acked(this, found);
	if (msg->announce.status)
	{
		DBG1(DBG_NET, "qkd DOH '%s': %H got %u of %u announced keys",
			 qkd_doh_name(this->ctx), this->ctx->peer, msg->announce.count,
			 found->count);
	}
	free(found);
	qkd_doh_sync_soon(this->ctx);
}

METHOD(qkd_doh_announces_t, process_announce, void,
	private_qkd_doh_announces_t *this, qkd_doh_msg_t *msg)
{
	enumerator_t *enumerator;
	announce_t *announce;
	bool queued = FALSE;

	if (this->ctx->announcer)
	{
		this->ctx->counters.rx_unexpected++;
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
		this->ctx->counters.rx_unexpected++;
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
 * Send an ANNOUNCE_ACK
 */
static void send_announce_ack(private_qkd_doh_announces_t *this,
							  uint16_t seq,
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
	qkd_doh_send_msg(this->ctx, &msg, TRUE);
}

/**
 * The other end: add keys fetched for an announce to the pool, with the
 * Indexes the peer gave them
 */
static bool add_announced(private_qkd_doh_announces_t *this,
						  announce_t *announce,
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
	return this->ctx->pool->add_indexed(this->ctx->pool, keys, indexes);
}

/**
 * The other end: fetch the keys of a received announce and acknowledge
 * those held (mutex held, released during the call)
 */
static void fetch_announced(private_qkd_doh_announces_t *this,
							announce_t *announce)
{
	uint8_t held[QKD_DOH_MAX_ANNOUNCE][QKD_KEY_ID_LEN];
	uint8_t wanted[QKD_DOH_MAX_ANNOUNCE][QKD_KEY_ID_LEN];
	u_int nheld = 0, nwanted = 0, i, min_size, max_size;
	qkd_kme_client_t *client;
	qkd_kme_result_t result = QKD_KME_OK;
	qkd_link_t *link;
	array_t *keys = NULL;
	qkd_key_t *key;

	for (i = 0; i < announce->count; i++)
	{
		if (this->ctx->pool->get_index(this->ctx->pool, announce->ids[i]))
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
		link = this->ctx->link->get_ref(this->ctx->link);
		this->ctx->mutex->unlock(this->ctx->mutex);
		client = link->get_client(link);
		link->get_peer_key_sizes(link, &min_size, &max_size);
		result = client ? client->get_keys_by_id(client, wanted, nwanted,
												 min_size, max_size, &keys)
						: QKD_KME_TRANSPORT_ERROR;
		this->ctx->mutex->lock(this->ctx->mutex);
		link->destroy(link);
		if (result == QKD_KME_OK)
		{
			if (add_announced(this, announce, keys))
			{
				for (i = 0; i < array_count(keys); i++)
				{
					array_get(keys, i, &key);
					memcpy(held[nheld++], key->id, QKD_KEY_ID_LEN);
				}
				this->ctx->counters.fetched += array_count(keys);
				qkd_doh_sync_soon(this->ctx);
			}
			qkd_key_array_destroy(keys);
		}
		else if (result != QKD_KME_BAD_REQUEST &&
				 result != QKD_KME_INVALID_RESPONSE)
		{	/* KME unreachable or busy: the peer retransmits, try again */
			DBG1(DBG_NET, "qkd DOH '%s': keys announced by %H not fetched: "
				 "%N", qkd_doh_name(this->ctx), this->ctx->peer,
				 qkd_kme_result_names, result);
			return;
		}
	}
	send_announce_ack(this, announce->seq, held, nheld,
					  nheld == announce->count);
}


METHOD(qkd_doh_announces_t, fetch, void,
	private_qkd_doh_announces_t *this)
{
	announce_t *announce;

	while (this->incoming->remove_first(this->incoming,
										(void**)&announce) == SUCCESS)
	{
		fetch_announced(this, announce);
		free(announce);
	}
}

METHOD(qkd_doh_announces_t, add, void,
	private_qkd_doh_announces_t *this, array_t *keys)
{
	qkd_pool_t *pool = this->ctx->pool;
	uint8_t (*ids)[QKD_KEY_ID_LEN];
	uint32_t *indexes;
	qkd_key_t *key;
	u_int i, count = 0;

	ids = calloc(array_count(keys) + 1, QKD_KEY_ID_LEN);
	indexes = calloc(array_count(keys) + 1, sizeof(uint32_t));
	for (i = 0; i < array_count(keys); i++)
	{
		array_get(keys, i, &key);
		indexes[count] = pool->get_index(pool, key->id);
		if (indexes[count])
		{	/* still in the pool */
			memcpy(ids[count++], key->id, QKD_KEY_ID_LEN);
		}
	}
	queue_announce(this, ids, indexes, count);
	free(ids);
	free(indexes);
}

METHOD(qkd_doh_announces_t, is_incoming, bool,
	private_qkd_doh_announces_t *this, uint8_t id[QKD_KEY_ID_LEN])
{
	return in_announces(this->incoming, id);
}

METHOD(qkd_doh_announces_t, reconcile_soon, void,
	private_qkd_doh_announces_t *this)
{
	this->reconcile_due = 0;
}

METHOD(qkd_doh_announces_t, destroy, void,
	private_qkd_doh_announces_t *this)
{
	this->announces->destroy_function(this->announces, free);
	this->incoming->destroy_function(this->incoming, free);
	array_destroy(this->suspects);
	free(this);
}

/*
 * Described in header
 */
qkd_doh_announces_t *qkd_doh_announces_create(qkd_doh_context_t *ctx,
											  qkd_doh_syncer_t *syncer)
{
	private_qkd_doh_announces_t *this;

	INIT(this,
		.public = {
			.add = _add,
			.pump = _pump,
			.reconcile = _reconcile,
			.reconcile_soon = _reconcile_soon,
			.process_ack = _process_ack,
			.process_announce = _process_announce,
			.fetch = _fetch,
			.is_incoming = _is_incoming,
			.destroy = _destroy,
		},
		.ctx = ctx,
		.syncer = syncer,
		.announces = linked_list_create(),
		.incoming = linked_list_create(),
		.announce_seq = random() & 0xffff,
		.suspects = array_create(sizeof(suspect_t), 0),
	);
	return &this->public;
}
