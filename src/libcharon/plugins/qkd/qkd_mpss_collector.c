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

#include "qkd_mpss_collector.h"
#include "qkd_shamir.h"

#include <collections/hashtable.h>
#include <collections/linked_list.h>

/**
 * How long the IDs of finished secrets are remembered, in waits (at least
 * a minute)
 */
#define DONE_WAITS 10
#define DONE_MIN 60000

typedef struct private_qkd_mpss_collector_t private_qkd_mpss_collector_t;

/**
 * A secret being collected
 */
typedef struct {
	/** KEYID */
	uint8_t id[QKD_KEY_ID_LEN];
	/** k, n and share length of its first share */
	uint8_t k, n;
	size_t len;
	/** shares by index - 1, empty if not there */
	chunk_t shares[QKD_SHAMIR_MAX_SHARES];
	/** shares there */
	u_int count;
	/** when the wait is over, ms */
	uint64_t due;
} entry_t;

/**
 * A finished secret, remembered to drop its late shares
 */
typedef struct {
	/** KEYID */
	uint8_t id[QKD_KEY_ID_LEN];
	/** when to forget it, ms */
	uint64_t until;
} done_t;

/**
 * Private data of a qkd_mpss_collector_t object.
 */
struct private_qkd_mpss_collector_t {

	/**
	 * Public interface.
	 */
	qkd_mpss_collector_t public;

	/**
	 * Outcomes go here
	 */
	qkd_mpss_listener_t *listener;

	/**
	 * Secrets being collected, entry_t by KEYID
	 */
	hashtable_t *pending;

	/**
	 * Finished secrets, done_t by KEYID, and in the order they finished
	 */
	hashtable_t *done;
	linked_list_t *done_order;

	/**
	 * Wait for the shares of a secret, ms; most secrets pending
	 */
	u_int wait, max_pending;

	/**
	 * Counters
	 */
	qkd_mpss_counters_t counters;
};

/**
 * Wipe and free an entry
 */
static void entry_destroy(entry_t *entry)
{
	int i;

	for (i = 0; i < entry->n; i++)
	{
		chunk_clear(&entry->shares[i]);
	}
	free(entry);
}

/**
 * Remember a finished secret
 */
static void remember(private_qkd_mpss_collector_t *this,
					 uint8_t id[QKD_KEY_ID_LEN], uint64_t now)
{
	done_t *done;

	INIT(done,
		.until = now + max((uint64_t)this->wait * DONE_WAITS,
						   (uint64_t)DONE_MIN),
	);
	memcpy(done->id, id, QKD_KEY_ID_LEN);
	this->done->put(this->done, done->id, done);
	this->done_order->insert_last(this->done_order, done);
}

/**
 * Rebuild a secret from the shares there, or give up; removes the entry
 */
static void finish(private_qkd_mpss_collector_t *this, entry_t *entry,
				   uint64_t now)
{
	uint8_t xs[QKD_SHAMIR_MAX_SHARES];
	chunk_t shares[QKD_SHAMIR_MAX_SHARES], secret;
	u_int i, count = 0;

	this->pending->remove(this->pending, entry->id);
	for (i = 0; i < entry->n; i++)
	{
		if (entry->shares[i].len)
		{
			xs[count] = i + 1;
			shares[count++] = entry->shares[i];
		}
	}
	if (count < entry->k)
	{
		this->counters.too_few++;
		this->listener->failed(this->listener, entry->id, count, FALSE);
	}
	else if (!qkd_shamir_verify(xs, shares, count, entry->k))
	{
		this->counters.tampered++;
		this->listener->failed(this->listener, entry->id, count, TRUE);
	}
	else if (qkd_shamir_combine(xs, shares, entry->k, &secret))
	{
		this->counters.rebuilt++;
		this->counters.checked += count > entry->k;
		this->listener->rebuilt(this->listener, entry->id, secret, count,
								count > entry->k);
		chunk_clear(&secret);
	}
	remember(this, entry->id, now);
	entry_destroy(entry);
}

METHOD(qkd_mpss_collector_t, add, qkd_mpss_add_t,
	private_qkd_mpss_collector_t *this, qkd_mpss_share_t *msg, uint64_t now)
{
	entry_t *entry;

	if (!msg->index || msg->index > msg->n || msg->k < 2 ||
		msg->k > msg->n || !msg->share.len)
	{
		this->counters.mismatch++;
		return QKD_MPSS_MISMATCH;
	}
	if (this->done->get(this->done, msg->secret_id))
	{
		this->counters.late++;
		return QKD_MPSS_LATE;
	}
	entry = this->pending->get(this->pending, msg->secret_id);
	if (!entry)
	{
		if (this->pending->get_count(this->pending) >= this->max_pending)
		{
			this->counters.full++;
			return QKD_MPSS_FULL;
		}
		INIT(entry,
			.k = msg->k,
			.n = msg->n,
			.len = msg->share.len,
			.due = now + this->wait,
		);
		memcpy(entry->id, msg->secret_id, QKD_KEY_ID_LEN);
		this->pending->put(this->pending, entry->id, entry);
	}
	else if (entry->k != msg->k || entry->n != msg->n ||
			 entry->len != msg->share.len)
	{
		this->counters.mismatch++;
		return QKD_MPSS_MISMATCH;
	}
	if (entry->shares[msg->index - 1].len)
	{
		this->counters.duplicate++;
		return QKD_MPSS_DUPLICATE;
	}
	entry->shares[msg->index - 1] = chunk_clone(msg->share);
	entry->count++;
	this->counters.stored++;
	if (entry->count == entry->n)
	{
		finish(this, entry, now);
		return QKD_MPSS_COMPLETED;
	}
	return QKD_MPSS_STORED;
}

METHOD(qkd_mpss_collector_t, tick, uint64_t,
	private_qkd_mpss_collector_t *this, uint64_t now)
{
	enumerator_t *enumerator;
	linked_list_t *due;
	uint64_t next = UINT64_MAX;
	entry_t *entry;
	done_t *done;

	due = linked_list_create();
	enumerator = this->pending->create_enumerator(this->pending);
	while (enumerator->enumerate(enumerator, NULL, &entry))
	{
		if (entry->due <= now)
		{
			due->insert_last(due, entry);
		}
		else
		{
			next = min(next, entry->due);
		}
	}
	enumerator->destroy(enumerator);
	while (due->remove_first(due, (void**)&entry) == SUCCESS)
	{
		finish(this, entry, now);
	}
	due->destroy(due);
	while (this->done_order->get_first(this->done_order,
									   (void**)&done) == SUCCESS &&
		   done->until <= now)
	{
		this->done_order->remove_first(this->done_order, (void**)&done);
		this->done->remove(this->done, done->id);
		free(done);
	}
	return next;
}

METHOD(qkd_mpss_collector_t, get_counters, void,
	private_qkd_mpss_collector_t *this, qkd_mpss_counters_t *counters)
{
	*counters = this->counters;
}

METHOD(qkd_mpss_collector_t, destroy, void,
	private_qkd_mpss_collector_t *this)
{
	enumerator_t *enumerator;
	entry_t *entry;

	enumerator = this->pending->create_enumerator(this->pending);
	while (enumerator->enumerate(enumerator, NULL, &entry))
	{
		entry_destroy(entry);
	}
	enumerator->destroy(enumerator);
	this->pending->destroy(this->pending);
	this->done->destroy(this->done);
	this->done_order->destroy_function(this->done_order, free);
	free(this);
}

/*
 * Described in header
 */
qkd_mpss_collector_t *qkd_mpss_collector_create(qkd_mpss_listener_t *listener,
												u_int wait, u_int max_pending)
{
	private_qkd_mpss_collector_t *this;

	INIT(this,
		.public = {
			.add = _add,
			.tick = _tick,
			.get_counters = _get_counters,
			.destroy = _destroy,
		},
		.listener = listener,
		.pending = hashtable_create(qkd_key_id_hash, qkd_key_id_equals, 32),
		.done = hashtable_create(qkd_key_id_hash, qkd_key_id_equals, 32),
		.done_order = linked_list_create(),
		.wait = wait,
		.max_pending = max_pending,
	);
	return &this->public;
}
