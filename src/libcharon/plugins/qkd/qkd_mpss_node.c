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

#include "qkd_mpss_node.h"
#include "qkd_shamir.h"

#include <utils/debug.h>

typedef struct private_qkd_mpss_node_t private_qkd_mpss_node_t;

/**
 * Private data of a qkd_mpss_node_t object.
 */
struct private_qkd_mpss_node_t {

	/**
	 * Public interface.
	 */
	qkd_mpss_node_t public;

	/**
	 * The node's address
	 */
	host_t *address;

	/**
	 * Hop keys of its links
	 */
	qkd_mpss_hop_keys_t *keys;

	/**
	 * Collector of the shares it is the destination of, or NULL
	 */
	qkd_mpss_collector_t *collector;

	/**
	 * RNG for the coefficients
	 */
	rng_t *rng;

	/**
	 * Counters
	 */
	qkd_mpss_node_counters_t counters;

	/**
	 * Whether relayed shares are altered (tests)
	 */
	bool alter;

	/**
	 * When a dropped packet was last logged, and the drops not logged
	 * since
	 */
	time_t logged_at;
	u_int unlogged;
};

/**
 * Seal a share for the hop to a neighbour with a new key of that hop
 */
static bool seal_for(private_qkd_mpss_node_t *this, qkd_mpss_share_t *msg,
					 chunk_t neighbour, chunk_t *data)
{
	chunk_t key;
	bool ok;

	if (!this->keys->take(this->keys, neighbour,
						  qkd_mpss_hop_key_len(msg->share.len),
						  msg->hop_key_id, &key))
	{
		return FALSE;
	}
	ok = qkd_mpss_seal(msg, key, data);
	chunk_clear(&key);
	return ok;
}

METHOD(qkd_mpss_node_t, send_, bool,
	private_qkd_mpss_node_t *this, uint8_t id[QKD_KEY_ID_LEN], chunk_t secret,
	u_int k, qkd_mpss_path_t *paths[], u_int count, chunk_t packets[])
{
	chunk_t shares[QKD_SHAMIR_MAX_SHARES], data;
	qkd_mpss_share_t msg;
	u_int i, built = 0;
	bool ok;

	if (secret.len > QKD_MPSS_MAX_SHARE ||
		!qkd_shamir_split(this->rng, secret, k, count, shares))
	{
		DBG1(DBG_LIB, "qkd MPSS: splitting a secret (%u of %u) failed", k,
			 count);
		return FALSE;
	}
	ok = TRUE;
	for (i = 0; ok && i < count; i++)
	{
		msg = (qkd_mpss_share_t){
			.index = i + 1,
			.k = k,
			.n = count,
			.path = paths[i]->id,
			.share = shares[i],
		};
		memcpy(msg.secret_id, id, QKD_KEY_ID_LEN);
		ok = paths[i]->count &&
			 seal_for(this, &msg, paths[i]->segments[0]->get_address(
											paths[i]->segments[0]), &data);
		if (!ok)
		{
			DBG1(DBG_LIB, "qkd MPSS: no key for the first hop of path %u",
				 paths[i]->id);
			break;
		}
		ok = qkd_mpss_packet_build(this->address, paths[i]->segments,
								   paths[i]->count, data, &packets[i]);
		chunk_free(&data);
		built += ok;
	}
	for (i = 0; i < count; i++)
	{
		chunk_clear(&shares[i]);
	}
	if (!ok)
	{
		for (i = 0; i < built; i++)
		{
			chunk_free(&packets[i]);
		}
		return FALSE;
	}
	this->counters.secrets_sent++;
	this->counters.shares_sent += count;
	return TRUE;
}

/**
 * Count and log a dropped packet; at level 1 if it may be an attack on
 * the keys (replays, forged MACs), at 2 if it is merely not for us
 */
static qkd_mpss_verdict_t drop(private_qkd_mpss_node_t *this, u_int *counter,
							   bool alert, char *why)
{
	time_t now;

	(*counter)++;
	if (!alert)
	{
		DBG2(DBG_LIB, "qkd MPSS: share packet dropped: %s", why);
		return QKD_MPSS_DROPPED;
	}
	/* at most one line per second: a flood must not flood the log */
	now = time_monotonic(NULL);
	if (now == this->logged_at)
	{
		this->unlogged++;
		return QKD_MPSS_DROPPED;
	}
	if (this->unlogged)
	{
		DBG1(DBG_LIB, "qkd MPSS: share packet dropped: %s (and %u more "
			 "since the last such line, see the counters)", why,
			 this->unlogged);
	}
	else
	{
		DBG1(DBG_LIB, "qkd MPSS: share packet dropped: %s", why);
	}
	this->logged_at = now;
	this->unlogged = 0;
	return QKD_MPSS_DROPPED;
}

METHOD(qkd_mpss_node_t, receive, qkd_mpss_verdict_t,
	private_qkd_mpss_node_t *this, chunk_t packet, uint64_t now)
{
	qkd_mpss_packet_t parsed;
	qkd_mpss_share_t msg;
	chunk_t prev, next, key, plain, data;
	qkd_mpss_verdict_t verdict;
	bool ok;

	if (!qkd_mpss_packet_parse(packet, &parsed) ||
		!qkd_mpss_decode(parsed.share, &msg))
	{
		return drop(this, &this->counters.malformed, FALSE, "malformed");
	}
	if (!chunk_equals(parsed.dst, this->address->get_address(this->address)) ||
		(!parsed.segments_left && !this->collector))
	{
		return drop(this, &this->counters.not_ours, FALSE,
					"not for this node");
	}
	/* the hop it came on: from the previous segment, or the source */
	prev = parsed.segments_left + 1 < parsed.count ?
				parsed.segments[parsed.segments_left + 1] : parsed.src;
	if (!this->keys->fetch(this->keys, prev, msg.hop_key_id,
						   qkd_mpss_hop_key_len(msg.share.len), &key))
	{
		return drop(this, &this->counters.hop_key, TRUE,
					"hop key unknown or used (a replay?)");
	}
	ok = qkd_mpss_open(parsed.share, key, &plain);
	chunk_clear(&key);
	if (!ok)
	{
		return drop(this, &this->counters.bad_mac, TRUE,
					"hop MAC does not verify");
	}
	msg.share = plain;
	if (!parsed.segments_left)
	{
		this->collector->add(this->collector, &msg, now);
		this->counters.collected++;
		chunk_clear(&plain);
		return QKD_MPSS_COLLECTED;
	}
	if (this->alter)
	{
		plain.ptr[0] ^= 0x01;
	}
	next = parsed.segments[parsed.segments_left - 1];
	if (!seal_for(this, &msg, next, &data))
	{
		chunk_clear(&plain);
		return drop(this, &this->counters.next_key, TRUE,
					"no key for the next hop");
	}
	chunk_clear(&plain);
	verdict = QKD_MPSS_FORWARD;
	if (!qkd_mpss_packet_advance(packet, &parsed, data))
	{
		verdict = drop(this, &this->counters.malformed, TRUE,
					   "share message changed its length");
	}
	else
	{
		this->counters.relayed++;
	}
	chunk_free(&data);
	return verdict;
}

METHOD(qkd_mpss_node_t, get_counters, void,
	private_qkd_mpss_node_t *this, qkd_mpss_node_counters_t *counters)
{
	*counters = this->counters;
}

METHOD(qkd_mpss_node_t, alter_shares, void,
	private_qkd_mpss_node_t *this, bool alter)
{
	if (alter)
	{
		DBG1(DBG_LIB, "qkd MPSS: altering the shares this node relays "
			 "(testing.alter_shares)");
	}
	this->alter = alter;
}

METHOD(qkd_mpss_node_t, destroy, void,
	private_qkd_mpss_node_t *this)
{
	this->rng->destroy(this->rng);
	this->address->destroy(this->address);
	free(this);
}

/*
 * Described in header
 */
qkd_mpss_node_t *qkd_mpss_node_create(host_t *address,
									  qkd_mpss_hop_keys_t *keys,
									  qkd_mpss_collector_t *collector)
{
	private_qkd_mpss_node_t *this;
	rng_t *rng;

	if (address->get_family(address) != AF_INET6)
	{
		return NULL;
	}
	rng = lib->crypto->create_rng(lib->crypto, RNG_TRUE);
	if (!rng)
	{
		DBG1(DBG_LIB, "qkd MPSS: no RNG_TRUE for the shares");
		return NULL;
	}
	INIT(this,
		.public = {
			.send = _send_,
			.receive = _receive,
			.get_counters = _get_counters,
			.alter_shares = _alter_shares,
			.destroy = _destroy,
		},
		.address = address->clone(address),
		.keys = keys,
		.collector = collector,
		.rng = rng,
	);
	return &this->public;
}
