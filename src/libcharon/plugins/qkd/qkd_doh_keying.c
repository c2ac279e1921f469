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

#include "qkd_doh_keying.h"

#include <utils/debug.h>

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

typedef struct private_qkd_doh_keying_t private_qkd_doh_keying_t;

/**
 * Private data of a qkd_doh_keying_t object.
 */
struct private_qkd_doh_keying_t {

	/**
	 * Public interface.
	 */
	qkd_doh_keying_t public;

	/**
	 * Shared state of the peer
	 */
	qkd_doh_context_t *ctx;

	/**
	 * Announce state, for keys announced but not fetched yet
	 */
	qkd_doh_announces_t *announces;

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
	qkd_doh_retrans_t offer_rt;

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
};

METHOD(qkd_doh_keying_t, established, bool,
	private_qkd_doh_keying_t *this)
{
	return this->have_key && (this->confirmed || this->rotating);
}

/**
 * Whether a KEYID names a key of the pool, or one the peer announced
 */
static bool is_pool_key(private_qkd_doh_keying_t *this,
						uint8_t id[QKD_KEY_ID_LEN])
{
	return this->ctx->pool->get_index(this->ctx->pool, id) != 0 ||
		   this->announces->is_incoming(this->announces, id);
}

/**
 * The other end: something suggests the peer no longer uses our DOH key
 * (an unauthenticated offer of another key, messages that don't verify):
 * ask it to prove it does with an authenticated sync, which it answers.
 * At most one probe per second, so forgeries cost no more than that.
 */
static void start_probe(private_qkd_doh_keying_t *this, uint64_t now)
{
	if (this->ctx->announcer || !this->have_key || this->probe_due ||
		now < this->proof_due)
	{
		return;
	}
	this->probe_due = now + PROBE_TIMEOUT;
	this->probe_resent = FALSE;
	this->proof_due = now + OFFER_FETCH_INTERVAL;
	this->ctx->sync_due = now;
}

/**
 * The other end: an authenticated message arrived, the peer uses our key
 */
static void probe_answered(private_qkd_doh_keying_t *this)
{
	if (!this->probe_due)
	{
		return;
	}
	this->probe_due = 0;
	if (this->offer_pending && !this->offer_trusted)
	{
		this->offer_pending = FALSE;
		this->ctx->counters.offers_refused++;
		qkd_doh_refused(this->ctx, "AUTH_KEY_OFFER of another DOH key while "
						"ours verifies");
	}
}

/**
 * The other end: the peer did not answer a probe, it does not hold our DOH
 * key any more (restarted, or ours was never its): drop ours, take an
 * offered one or ask for a new one
 */
static void check_probe(private_qkd_doh_keying_t *this, uint64_t now)
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
			this->ctx->sync_due = now;
		}
		return;
	}
	DBG1(DBG_NET, "qkd DOH '%s': %H does not use DOH key generation %u any "
		 "more, dropping it", qkd_doh_name(this->ctx), this->ctx->peer,
		 this->key_ref);
	this->probe_due = 0;
	this->have_key = this->confirmed = FALSE;
	this->offer_rt = (qkd_doh_retrans_t){};
	this->ctx->counters.keys_lost++;
}

METHOD(qkd_doh_keying_t, process_offer, void,
	private_qkd_doh_keying_t *this, qkd_doh_msg_t *msg, bool trusted)
{
	uint64_t now = qkd_doh_now_ms();
	bool request = msg->offer.flags & QKD_DOH_OFFER_REQUEST;

	if (this->ctx->announcer)
	{
		if (!request)
		{
			this->ctx->counters.rx_unexpected++;
			return;
		}
		if (this->have_key && !this->confirmed)
		{	/* our offer answers it */
			this->offer_rt.due = now;
		}
		else if (now >= this->request_ok)
		{
			DBG1(DBG_NET, "qkd DOH '%s': %H asks for a new DOH key",
				 qkd_doh_name(this->ctx), this->ctx->peer);
			this->want_key = TRUE;
			this->key_due = now;
			this->request_ok = now + KEY_REQUEST_INTERVAL;
		}
		return;
	}
	if (request)
	{
		this->ctx->counters.rx_unexpected++;
		return;
	}
	if (this->have_key && memeq(msg->offer.keyid, this->key_id,
								QKD_KEY_ID_LEN))
	{	/* we hold it: an authenticated sync tells the peer so */
		if (now >= this->proof_due)
		{
			this->ctx->sync_due = now;
			this->proof_due = now + OFFER_FETCH_INTERVAL;
		}
		return;
	}
	if (is_pool_key(this, msg->offer.keyid))
	{	/* anybody can copy a KEYID from a (cleartext) announce */
		this->ctx->counters.offers_refused++;
		qkd_doh_refused(this->ctx, "AUTH_KEY_OFFER names a pool key");
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
 * Install a DOH key generation
 */
static void install_key(private_qkd_doh_keying_t *this, qkd_key_t *key,
						bool confirmed)
{
	char uuid[QKD_KEY_ID_STRLEN + 1];

	if (!this->ctx->guard->set_key(this->ctx->guard, key->id[0], key->key))
	{
		return;
	}
	/* the announcer keeps sending with a key the peer holds */
	this->rotating = !confirmed && this->have_key &&
					 (this->confirmed || this->rotating);
	this->ctx->guard->sign_with_previous(this->ctx->guard, this->rotating);
	this->have_key = TRUE;
	this->key_ref = key->id[0];
	memcpy(this->key_id, key->id, QKD_KEY_ID_LEN);
	this->confirmed = confirmed;
	this->offer_rt = (qkd_doh_retrans_t){};
	this->ctx->sync_due = qkd_doh_now_ms();
	this->ctx->counters.doh_keys++;
	qkd_key_id_format(key->id, uuid);
	DBG1(DBG_NET, "qkd DOH '%s': DOH key %s (generation %u) %s %H",
		 qkd_doh_name(this->ctx), uuid, this->key_ref,
		 confirmed ? "offered by" : "taken, offering it to", this->ctx->peer);
}

/**
 * Announcer: take a new DOH key from the KME (mutex held, released during
 * the call)
 */
static void take_doh_key(private_qkd_doh_keying_t *this, uint64_t now)
{
	qkd_kme_result_t result;
	qkd_key_t *key;

	this->want_key = FALSE;
	key = qkd_doh_kme_key(this->ctx, NULL, &result);
	if (!key || (this->have_key && key->id[0] == this->key_ref))
	{	/* Key Ref must change with the generation: try again */
		if (!key)
		{
			DBG1(DBG_NET, "qkd DOH '%s': no DOH key from the KME: %N",
				 qkd_doh_name(this->ctx), qkd_kme_result_names, result);
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
static void fetch_offered_key(private_qkd_doh_keying_t *this, uint64_t now)
{
	uint8_t id[QKD_KEY_ID_LEN];
	qkd_kme_result_t result;
	qkd_key_t *key;

	memcpy(id, this->offer_id, QKD_KEY_ID_LEN);
	this->offer_pending = this->offer_trusted = FALSE;
	this->fetch_due = now + OFFER_FETCH_INTERVAL;
	key = qkd_doh_kme_key(this->ctx, id, &result);
	if (!key)
	{
		qkd_doh_refused(this->ctx, "offered DOH key not available from the "
						"KME");
		return;
	}
	if (is_pool_key(this, key->id))
	{	/* announced while we fetched it */
		this->ctx->counters.offers_refused++;
		qkd_doh_refused(this->ctx, "AUTH_KEY_OFFER names a pool key");
		qkd_key_destroy(key);
		return;
	}
	install_key(this, key, TRUE);
	qkd_key_destroy(key);
}

METHOD(qkd_doh_keying_t, get_key_id, bool,
	private_qkd_doh_keying_t *this, uint8_t id[QKD_KEY_ID_LEN])
{
	memcpy(id, this->key_id, QKD_KEY_ID_LEN);
	return this->have_key;
}

METHOD(qkd_doh_keying_t, authenticated, void,
	private_qkd_doh_keying_t *this, qkd_doh_auth_t *auth)
{
	probe_answered(this);
	if (this->have_key && !this->confirmed && auth->key_ref == this->key_ref)
	{
		this->confirmed = TRUE;
		this->rotating = FALSE;
		this->ctx->guard->sign_with_previous(this->ctx->guard, FALSE);
		this->ctx->sync_due = qkd_doh_now_ms();
		DBG1(DBG_NET, "qkd DOH '%s': %H holds DOH key generation %u, "
			 "messages authenticated both ways", qkd_doh_name(this->ctx),
			 this->ctx->peer, this->key_ref);
	}
}

METHOD(qkd_doh_keying_t, doubt, void,
	private_qkd_doh_keying_t *this)
{
	start_probe(this, qkd_doh_now_ms());
}

/**
 * Announcer: take a new DOH key when due, offer it until the peer confirms
 * it
 */
static void tick_announcer(private_qkd_doh_keying_t *this, uint64_t now)
{
	qkd_doh_msg_t offer = {
		.type = QKD_DOH_AUTH_KEY_OFFER,
		.offer = {
			.flags = QKD_DOH_OFFER_RANGE,
		},
	};

	if (this->want_key && now >= this->key_due)
	{
		take_doh_key(this, now);
	}
	if (this->have_key && !this->confirmed && now >= this->offer_rt.due)
	{
		memcpy(offer.offer.keyid, this->key_id, QKD_KEY_ID_LEN);
		qkd_doh_send_msg(this->ctx, &offer, this->rotating);
		qkd_doh_rt_sent(&this->offer_rt, now, this->ctx->settings.retransmit,
						OFFER_INTERVAL_MAX);
	}
}

/**
 * The other end: drop our key if the peer did not prove it uses it, fetch
 * an offered key, ask for one while we have none
 */
static void tick_other(private_qkd_doh_keying_t *this, uint64_t now)
{
	qkd_doh_msg_t request = {
		.type = QKD_DOH_AUTH_KEY_OFFER,
		.offer = {
			.flags = QKD_DOH_OFFER_RANGE | QKD_DOH_OFFER_REQUEST,
		},
	};

	check_probe(this, now);
	if (this->offer_pending && now >= this->fetch_due &&
		(!this->have_key || this->offer_trusted))
	{
		fetch_offered_key(this, now);
	}
	if (!this->have_key && now >= this->offer_rt.due)
	{
		qkd_doh_send_msg(this->ctx, &request, FALSE);
		qkd_doh_rt_sent(&this->offer_rt, now, this->ctx->settings.retransmit,
						OFFER_INTERVAL_MAX);
	}
}

METHOD(qkd_doh_keying_t, tick, void,
	private_qkd_doh_keying_t *this, uint64_t now)
{
	if (this->ctx->announcer)
	{
		tick_announcer(this, now);
	}
	else
	{
		tick_other(this, now);
	}
}

METHOD(qkd_doh_keying_t, get_state, char*,
	private_qkd_doh_keying_t *this, u_int *generation)
{
	*generation = this->have_key ? this->key_ref : 0;
	if (_established(this))
	{
		return "established";
	}
	return this->have_key ? "offering" : "no key";
}

METHOD(qkd_doh_keying_t, destroy, void,
	private_qkd_doh_keying_t *this)
{
	memwipe(this->key_id, sizeof(this->key_id));
	memwipe(this->offer_id, sizeof(this->offer_id));
	free(this);
}

/*
 * Described in header
 */
qkd_doh_keying_t *qkd_doh_keying_create(qkd_doh_context_t *ctx,
										qkd_doh_announces_t *announces)
{
	private_qkd_doh_keying_t *this;

	INIT(this,
		.public = {
			.established = _established,
			.get_key_id = _get_key_id,
			.authenticated = _authenticated,
			.doubt = _doubt,
			.process_offer = _process_offer,
			.tick = _tick,
			.get_state = _get_state,
			.destroy = _destroy,
		},
		.ctx = ctx,
		.announces = announces,
		.want_key = TRUE,
	);
	return &this->public;
}
