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

#include "qkd_doh_direct.h"
#include "qkd_events.h"
#include "qkd_direct_kernel.h"
#include "qkd_direct_journal.h"

#include <utils/debug.h>
#include <collections/array.h>

/**
 * How long the old SA pair stays after a rekey, ms: the peer switches its
 * outbound SA within OUT_SWITCH_DELAY
 */
#define OVERLAP 3000

/**
 * How long the end that accepted a key waits before it sends with the new
 * SA, so that the requester's inbound SA is there, ms
 */
#define OUT_SWITCH_DELAY 1000

/**
 * How long before the kernel's hard lifetime (the key survival time) an SA
 * pair is removed, ms
 */
#define EXPIRE_EARLY 1500

/**
 * How long to wait before asking again after a negotiation failed, ms,
 * doubled per failure in a row up to RETRY_DELAY_MAX
 */
#define RETRY_DELAY 1000
#define RETRY_DELAY_MAX 60000

/**
 * How often the byte and packet counters of SAs are read, ms
 */
#define QUERY_INTERVAL 1000

/**
 * Where the files of the SA pairs in the kernel are, by default
 */
#define DEFAULT_JOURNAL_DIR "/var/lib/strongswan"

/**
 * Auth Alg / Enc Alg values of the bindings (docs/ikeless.md)
 */
#define AUTH_ALG_NONE 0x00
#define AUTH_ALG_HMAC_SHA256 0x02
#define ENC_ALG_NONE 0x00
#define ENC_ALG_AES_256_GCM 0x01
#define ENC_ALG_AES_256_CBC 0x80

typedef struct private_qkd_doh_direct_t private_qkd_doh_direct_t;

/**
 * An SA pair of a child
 */
typedef struct {
	/** whether installed */
	bool used;
	/** key ID of its key */
	uint8_t id[QKD_KEY_ID_LEN];
	/** SPIs, host order */
	uint32_t spi_in, spi_out;
	/** outbound SA installed (else at out_due) */
	bool out_installed;
	/** when installed, to rekey, to expire, to install the outbound SA,
	 * and the end of the key survival time (the SAs' hard lifetime), ms */
	uint64_t installed, rekey_due, expire_due, out_due, hard_due;
	/** the outbound SA's keys until it is installed */
	qkd_direct_sa_keys_t out_keys;
} pair_t;

/**
 * An IKE-less child
 */
typedef struct {
	/** configuration (of the link we hold) */
	qkd_direct_cfg_t *cfg;
	/** reqid, 0 until allocated, and whether the policies are installed */
	uint32_t reqid;
	bool policies;
	/** current and previous SA pair */
	pair_t cur, old;
	/** when the old pair goes, ms */
	uint64_t old_due;
	/** a key is being negotiated, when to ask again after a failure, and
	 * failures in a row */
	bool requested;
	uint64_t retry_due;
	u_int failures;
	/** when the SA counters were read last, ms */
	uint64_t queried;
	/** SA pairs installed so far */
	u_int pairs;
} child_t;

/**
 * Private data of a qkd_doh_direct_t object.
 */
struct private_qkd_doh_direct_t {

	/**
	 * Public interface.
	 */
	qkd_doh_direct_t public;

	/**
	 * Shared state of the peer, DOH key state, negotiation
	 */
	qkd_doh_context_t *ctx;
	qkd_doh_keying_t *keying;
	qkd_doh_negotiation_t *negotiation;

	/**
	 * The link the children are configured on (referenced)
	 */
	qkd_link_t *link;

	/**
	 * Children, child_t*
	 */
	array_t *children;

	/**
	 * Installs the SAs and policies
	 */
	qkd_direct_kernel_t *kernel;

	/**
	 * SA pairs in the kernel, kept in a file for the next run
	 */
	qkd_direct_journal_t *journal;

	/**
	 * Derives SA keys
	 */
	qkd_hkdf_t *hkdf;

	/**
	 * Time from a key bound (the peer's confirmation, or our binding at its
	 * request) to its SAs installed: sum and most, us, and pairs measured
	 */
	uint64_t install_us, install_us_max;
	u_int installs;
};

/**
 * Current monotonic time in us
 */
static uint64_t now_us()
{
	timeval_t tv;

	time_monotonic(&tv);
	return (uint64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/**
 * How long to wait before asking again after failures in a row, ms
 */
static uint64_t retry_delay(u_int failures)
{
	return min((uint64_t)RETRY_DELAY << min(failures, 16),
			   (uint64_t)RETRY_DELAY_MAX);
}

/**
 * Find a child by name
 */
static child_t *find_child(private_qkd_doh_direct_t *this, char *name)
{
	child_t *child;
	int i;

	for (i = 0; i < array_count(this->children); i++)
	{
		array_get(this->children, i, &child);
		if (streq(child->cfg->name, name))
		{
			return child;
		}
	}
	return NULL;
}

/**
 * The Auth Alg and Enc Alg of an algorithm
 */
static void alg_values(qkd_direct_alg_t alg, uint8_t *auth, uint8_t *enc)
{
	switch (alg)
	{
		case QKD_DIRECT_ESP_AES_GCM:
			*auth = AUTH_ALG_NONE;
			*enc = ENC_ALG_AES_256_GCM;
			break;
		case QKD_DIRECT_ESP_AES_CBC_SHA256:
			*auth = AUTH_ALG_HMAC_SHA256;
			*enc = ENC_ALG_AES_256_CBC;
			break;
		case QKD_DIRECT_AH_SHA256:
		default:
			*auth = AUTH_ALG_HMAC_SHA256;
			*enc = ENC_ALG_NONE;
			break;
	}
}

/**
 * Tell listeners about an SA pair of a child
 */
static void raise_pair(private_qkd_doh_direct_t *this, qkd_event_type_t type,
					   child_t *child, pair_t *pair, char *why)
{
	qkd_events_raise(&(qkd_event_t){
		.type = type,
		.link = qkd_doh_name(this->ctx),
		.peer = this->ctx->peer,
		.child = child->cfg->name,
		.key_id = pair->id,
		.spi_in = pair->spi_in,
		.spi_out = pair->spi_out,
		.reason = why,
	});
}

/**
 * Remove an SA pair: its SAs, and its key (Expired, wiped)
 */
static void remove_pair(private_qkd_doh_direct_t *this, child_t *child,
						pair_t *pair, char *why)
{
	qkd_doh_context_t *ctx = this->ctx;
	char uuid[QKD_KEY_ID_STRLEN + 1];
	uint8_t proto;

	if (!pair->used)
	{
		return;
	}
	proto = qkd_direct_kernel_proto(child->cfg);
	this->kernel->del_sa(this->kernel, proto, ctx->local, ctx->peer,
						 pair->spi_in, TRUE);
	if (pair->out_installed)
	{
		this->kernel->del_sa(this->kernel, proto, ctx->local, ctx->peer,
							 pair->spi_out, FALSE);
	}
	this->journal->remove(this->journal, proto, pair->spi_in);
	ctx->pool->set_status(ctx->pool, pair->id, QKD_KEY_EXPIRED);
	qkd_key_id_format(pair->id, uuid);
	DBG1(DBG_CHD, "qkd IKE-less '%s': SA pair removed (%s), SPIs in %.8x "
		 "out %.8x, key %s", child->cfg->name, why, pair->spi_in,
		 pair->spi_out, uuid);
	raise_pair(this, QKD_EVENT_IKELESS_REMOVED, child, pair, why);
	qkd_direct_sa_keys_clear(&pair->out_keys);
	*pair = (pair_t){};
}

/**
 * Install a child's policies once
 */
static bool install_policies(private_qkd_doh_direct_t *this, child_t *child)
{
	if (child->policies)
	{
		return TRUE;
	}
	if (!child->reqid && !this->kernel->alloc_reqid(this->kernel, child->cfg,
													 &child->reqid))
	{
		DBG1(DBG_CHD, "qkd IKE-less '%s': allocating a reqid failed",
			 child->cfg->name);
		return FALSE;
	}
	if (!this->kernel->policies(this->kernel, child->cfg, this->ctx->local,
								this->ctx->peer, child->reqid, TRUE))
	{
		DBG1(DBG_CHD, "qkd IKE-less '%s': installing policies failed",
			 child->cfg->name);
		this->kernel->policies(this->kernel, child->cfg, this->ctx->local,
							   this->ctx->peer, child->reqid, FALSE);
		return FALSE;
	}
	child->policies = TRUE;
	return TRUE;
}

/**
 * Derive the keys of both SAs of a pair from a bound key (made Active)
 */
static bool derive_pair(private_qkd_doh_direct_t *this, child_t *child,
						uint8_t id[QKD_KEY_ID_LEN], bool initiator,
						qkd_direct_sa_keys_t *in, qkd_direct_sa_keys_t *out)
{
	qkd_pool_t *pool = this->ctx->pool;
	chunk_t enc = chunk_empty, auth = chunk_empty;
	qkd_direct_alg_t alg = child->cfg->alg;
	bool ok;

	ok = pool->set_status(pool, id, QKD_KEY_ACTIVE) &&
		 pool->derive(pool, id, QKD_ENC_KEY, &enc) &&
		 pool->derive(pool, id, QKD_AUTH_KEY, &auth) &&
		 (alg == QKD_DIRECT_AH_SHA256 ||
		  pool->set_derived_status(pool, id, QKD_ENC_KEY, QKD_KEY_ACTIVE)) &&
		 (alg == QKD_DIRECT_ESP_AES_GCM ||
		  pool->set_derived_status(pool, id, QKD_AUTH_KEY, QKD_KEY_ACTIVE)) &&
		 qkd_direct_derive(this->hkdf, alg, enc, auth, !initiator, in) &&
		 qkd_direct_derive(this->hkdf, alg, enc, auth, initiator, out);
	chunk_clear(&enc);
	chunk_clear(&auth);
	return ok;
}

/**
 * Install the SA pair of a key bound for a child; the current pair becomes
 * the old one, removed after an overlap. Returns FALSE if the key expired
 * instead.
 */
static bool install_pair(private_qkd_doh_direct_t *this, child_t *child,
						 qkd_doh_binding_t *binding,
						 uint8_t id[QKD_KEY_ID_LEN], bool initiator)
{
	qkd_doh_context_t *ctx = this->ctx;
	qkd_direct_sa_keys_t in = {}, out = {};
	uint64_t start = now_us(), took;
	char uuid[QKD_KEY_ID_STRLEN + 1];
	uint64_t now = qkd_doh_now_ms();
	uint8_t proto = qkd_direct_kernel_proto(child->cfg);
	bool ok;
	pair_t pair = {
		.used = TRUE,
		.installed = now,
		.rekey_due = now + (uint64_t)(binding->survival -
						min(child->cfg->rekey_margin, binding->survival / 2)) *
						1000,
		/* before the kernel's hard lifetime, so we remove it, not the
		 * kernel (which would tell charon about an SA it does not know),
		 * and after the rekey */
		.expire_due = now + (uint64_t)binding->survival * 1000 -
					  min(EXPIRE_EARLY, binding->survival * 1000 / 4),
		.hard_due = now + (uint64_t)binding->survival * 1000,
	};

	memcpy(pair.id, id, QKD_KEY_ID_LEN);
	qkd_key_id_format(id, uuid);
	ok = install_policies(this, child) &&
		 derive_pair(this, child, id, initiator, &in, &out);
	if (ok)
	{	/* recorded before the kernel has it: a crash leaves none unknown */
		this->journal->add(this->journal, proto, in.spi, out.spi);
		ok = this->kernel->add_sa(this->kernel, child->cfg, ctx->local,
								  ctx->peer, child->reqid, &in, TRUE,
								  binding->survival);
		if (!ok)
		{
			this->journal->remove(this->journal, proto, in.spi);
		}
	}
	if (!ok)
	{
		DBG1(DBG_CHD, "qkd IKE-less '%s': installing the SAs of key %s "
			 "failed%s", child->cfg->name, uuid,
			 child->cfg->alg == QKD_DIRECT_AH_SHA256 ?
			 " (the kernel interface may have no AH)" : "");
		ctx->pool->set_status(ctx->pool, id, QKD_KEY_EXPIRED);
		qkd_direct_sa_keys_clear(&in);
		qkd_direct_sa_keys_clear(&out);
		/* the asking end asks again, at once the first time (the peer
		 * switches to the pair we lack within OUT_SWITCH_DELAY), then
		 * backing off: each try takes a key */
		child->retry_due = now + (child->failures ?
								  retry_delay(child->failures - 1) : 0);
		child->failures++;
		return FALSE;
	}
	pair.spi_in = in.spi;
	pair.spi_out = out.spi;
	qkd_direct_sa_keys_clear(&in);
	if (child->cur.used && !child->cur.out_installed && child->old.used)
	{	/* the current pair never sent (a rekey within OUT_SWITCH_DELAY,
		 * e.g. after the peer failed to install it): the old one sends
		 * until the new pair's outbound SA is installed */
		remove_pair(this, child, &child->cur, "replaced before use");
	}
	else
	{	/* the previous pair stays for the overlap */
		remove_pair(this, child, &child->old, "replaced earlier");
		child->old = child->cur;
		child->old_due = min(now + OVERLAP, child->old.expire_due);
	}
	if (initiator || !child->old.used)
	{	/* the peer's inbound SA is there: it confirmed, or there is no
		 * other SA to send with meanwhile */
		pair.out_installed = this->kernel->add_sa(this->kernel, child->cfg,
									ctx->local, ctx->peer, child->reqid, &out,
									FALSE, binding->survival);
		qkd_direct_sa_keys_clear(&out);
	}
	else
	{
		pair.out_keys = out;
		pair.out_due = now + OUT_SWITCH_DELAY;
	}
	child->cur = pair;
	child->pairs++;
	took = now_us() - start;
	this->install_us += took;
	this->install_us_max = max(this->install_us_max, took);
	this->installs++;
	DBG1(DBG_CHD, "qkd IKE-less '%s': SA pair installed with %H, SPIs in "
		 "%.8x out %.8x, key %s, %u s", child->cfg->name, ctx->peer,
		 pair.spi_in, pair.spi_out, uuid, binding->survival);
	raise_pair(this, child->old.used ? QKD_EVENT_IKELESS_REKEYED
									 : QKD_EVENT_IKELESS_INSTALLED,
			   child, &child->cur, NULL);
	return TRUE;
}

METHOD(qkd_doh_binder_t, check, qkd_doh_status_t,
	private_qkd_doh_direct_t *this, qkd_doh_binding_t *binding)
{
	child_t *child;
	uint8_t auth, enc;

	child = find_child(this, binding->child);
	if (!child)
	{
		DBG1(DBG_CHD, "qkd IKE-less: %H asks for a key for child '%s', "
			 "which link '%s' does not have", this->ctx->peer,
			 binding->child, qkd_doh_name(this->ctx));
		return QKD_DOH_UNKNOWN_CHILD;
	}
	alg_values(child->cfg->alg, &auth, &enc);
	if (binding->auth_alg != auth || binding->enc_alg != enc)
	{
		DBG1(DBG_CHD, "qkd IKE-less '%s': %H asks for Auth Alg 0x%02x, Enc "
			 "Alg 0x%02x, configured is %N", child->cfg->name,
			 this->ctx->peer, binding->auth_alg, binding->enc_alg,
			 qkd_direct_alg_names, child->cfg->alg);
		return QKD_DOH_UNSUPPORTED_ALG;
	}
	if (binding->survival < 2 || binding->survival > child->cfg->lifetime)
	{
		DBG1(DBG_CHD, "qkd IKE-less '%s': %H asks for a key survival time "
			 "of %u s, at most %u s configured", child->cfg->name,
			 this->ctx->peer, binding->survival, child->cfg->lifetime);
		return QKD_DOH_UNKNOWN_CHILD;
	}
	return QKD_DOH_SUCCESS;
}

METHOD(qkd_doh_binder_t, bound, bool,
	private_qkd_doh_direct_t *this, qkd_doh_binding_t *binding,
	uint8_t id[QKD_KEY_ID_LEN], bool initiator)
{
	child_t *child;

	child = find_child(this, binding->child);
	if (!child)
	{	/* checked before, but be safe: the key is of no use */
		this->ctx->pool->set_status(this->ctx->pool, id, QKD_KEY_EXPIRED);
		return FALSE;
	}
	if (initiator)
	{
		child->requested = FALSE;
	}
	if (!install_pair(this, child, binding, id, initiator))
	{
		return FALSE;
	}
	child->failures = 0;
	return TRUE;
}

METHOD(qkd_doh_binder_t, failed, void,
	private_qkd_doh_direct_t *this, qkd_doh_binding_t *binding)
{
	child_t *child;

	child = find_child(this, binding->child);
	if (child)
	{
		child->requested = FALSE;
		child->retry_due = qkd_doh_now_ms() + retry_delay(child->failures);
		child->failures++;
	}
}

/**
 * Ask for a key for a child
 */
static void request_key(private_qkd_doh_direct_t *this, child_t *child)
{
	qkd_doh_binding_t binding = {
		.survival = child->cfg->lifetime,
	};

	alg_values(child->cfg->alg, &binding.auth_alg, &binding.enc_alg);
	strncpy(binding.child, child->cfg->name, QKD_DOH_MAX_CHILD);
	child->requested = TRUE;
	this->negotiation->request(this->negotiation, &binding);
}

/**
 * Rekey early if the outbound SA carried its byte or packet limit
 */
static void check_limits(private_qkd_doh_direct_t *this, child_t *child,
						 uint64_t now)
{
	uint64_t bytes, packets;

	if ((!child->cfg->life_bytes && !child->cfg->life_packets) ||
		!child->cur.out_installed || now < child->queried + QUERY_INTERVAL)
	{
		return;
	}
	child->queried = now;
	if (this->kernel->query_sa(this->kernel, child->cfg, this->ctx->local,
							   this->ctx->peer, child->cur.spi_out, FALSE,
							   &bytes, &packets) &&
		((child->cfg->life_bytes && bytes >= child->cfg->life_bytes) ||
		 (child->cfg->life_packets && packets >= child->cfg->life_packets)))
	{
		child->cur.rekey_due = min(child->cur.rekey_due, now);
	}
}

METHOD(qkd_doh_direct_t, tick, void,
	private_qkd_doh_direct_t *this, uint64_t now)
{
	qkd_doh_context_t *ctx = this->ctx;
	child_t *child;
	int i;

	for (i = 0; i < array_count(this->children); i++)
	{
		array_get(this->children, i, &child);
		if (child->cur.used && !child->cur.out_installed &&
			(now >= child->cur.out_due ||
			 (child->old.used && now >= child->old_due)))
		{	/* switch when the peer has the inbound SA, or when the old
			 * pair goes (a late rekey must not leave us without one) */
			child->cur.out_installed = this->kernel->add_sa(this->kernel,
							child->cfg, ctx->local, ctx->peer, child->reqid,
							&child->cur.out_keys, FALSE,
							(child->cur.hard_due - now) / 1000);
			qkd_direct_sa_keys_clear(&child->cur.out_keys);
		}
		if (child->old.used && now >= child->old_due)
		{
			remove_pair(this, child, &child->old, "rekeyed");
		}
		if (child->cur.used && now >= child->cur.expire_due)
		{	/* never beyond the key's survival time */
			remove_pair(this, child, &child->cur, "key survival time over");
		}
		check_limits(this, child, now);
		if (ctx->announcer && !child->requested &&
			this->keying->established(this->keying) &&
			now >= child->retry_due &&
			(!child->cur.used || now >= child->cur.rekey_due))
		{
			request_key(this, child);
		}
	}
}

METHOD(qkd_doh_direct_t, peer_reset, void,
	private_qkd_doh_direct_t *this)
{
	child_t *child;
	int i;

	for (i = 0; i < array_count(this->children); i++)
	{
		array_get(this->children, i, &child);
		remove_pair(this, child, &child->old, "peer restarted");
		remove_pair(this, child, &child->cur, "peer restarted");
		/* a negotiation under way goes on with the peer's new life */
		child->retry_due = 0;
	}
}

/**
 * Get the state of a child
 */
static void child_info(private_qkd_doh_direct_t *this, child_t *child,
					   uint64_t now, qkd_doh_direct_info_t *info)
{
	uint64_t packets;

	*info = (qkd_doh_direct_info_t){
		.name = child->cfg->name,
		.state = child->cur.used ? "installed" :
				 child->requested ? "negotiating" : "none",
		.pairs = child->pairs,
	};
	if (!child->cur.used)
	{
		return;
	}
	info->installed = TRUE;
	memcpy(info->id, child->cur.id, QKD_KEY_ID_LEN);
	info->spi_in = child->cur.spi_in;
	info->spi_out = child->cur.spi_out;
	info->age = (now - child->cur.installed) / 1000;
	this->kernel->query_sa(this->kernel, child->cfg, this->ctx->local,
						   this->ctx->peer, child->cur.spi_in, TRUE,
						   &info->bytes_in, &packets);
	if (child->cur.out_installed)
	{
		this->kernel->query_sa(this->kernel, child->cfg, this->ctx->local,
							   this->ctx->peer, child->cur.spi_out, FALSE,
							   &info->bytes_out, &packets);
	}
}

METHOD(qkd_doh_direct_t, list, array_t*,
	private_qkd_doh_direct_t *this)
{
	qkd_doh_direct_info_t info;
	uint64_t now = qkd_doh_now_ms();
	array_t *children;
	child_t *child;
	int i;

	children = array_create(sizeof(qkd_doh_direct_info_t), 0);
	for (i = 0; i < array_count(this->children); i++)
	{
		array_get(this->children, i, &child);
		child_info(this, child, now, &info);
		array_insert(children, ARRAY_TAIL, &info);
	}
	return children;
}

METHOD(qkd_doh_direct_t, format_status, bool,
	private_qkd_doh_direct_t *this, char *buf, size_t len)
{
	char uuid[QKD_KEY_ID_STRLEN + 1];
	uint64_t now = qkd_doh_now_ms();
	qkd_doh_direct_info_t info;
	child_t *child;
	size_t used = 0;
	int i, written;

	written = snprintf(buf, len, "ikeless_install_us: avg %llu max %llu "
				"pairs %u\n", this->installs ?
				(unsigned long long)(this->install_us / this->installs) : 0,
				(unsigned long long)this->install_us_max, this->installs);
	if (written < 0 || written >= len)
	{
		return FALSE;
	}
	used = written;
	for (i = 0; i < array_count(this->children); i++)
	{
		array_get(this->children, i, &child);
		child_info(this, child, now, &info);
		if (info.installed)
		{
			qkd_key_id_format(info.id, uuid);
			written = snprintf(buf + used, len - used,
				"ikeless_%s: installed spi_in %.8x spi_out %.8x key %s "
				"age %llu bytes_in %llu bytes_out %llu pairs %u\n",
				info.name, info.spi_in, info.spi_out, uuid,
				(unsigned long long)info.age,
				(unsigned long long)info.bytes_in,
				(unsigned long long)info.bytes_out, info.pairs);
		}
		else
		{
			written = snprintf(buf + used, len - used,
				"ikeless_%s: %s pairs %u\n", info.name, info.state,
				info.pairs);
		}
		if (written < 0 || written >= len - used)
		{
			return FALSE;
		}
		used += written;
	}
	return TRUE;
}

/**
 * Remove a child's SAs and policies, release its reqid and free it
 */
static void stop_child(private_qkd_doh_direct_t *this, child_t *child,
					   char *why)
{
	remove_pair(this, child, &child->old, why);
	remove_pair(this, child, &child->cur, why);
	if (child->policies)
	{
		this->kernel->policies(this->kernel, child->cfg, this->ctx->local,
							   this->ctx->peer, child->reqid, FALSE);
	}
	if (child->reqid)
	{
		this->kernel->release_reqid(this->kernel, child->reqid);
	}
	free(child);
}

/**
 * Take a child by name out of the children, NULL if there is none
 */
static child_t *take_child(private_qkd_doh_direct_t *this, char *name)
{
	child_t *child;
	int i;

	for (i = 0; i < array_count(this->children); i++)
	{
		array_get(this->children, i, &child);
		if (streq(child->cfg->name, name))
		{
			array_remove(this->children, i, NULL);
			return child;
		}
	}
	return NULL;
}

METHOD(qkd_doh_direct_t, set_link, void,
	private_qkd_doh_direct_t *this, qkd_link_t *link)
{
	enumerator_t *enumerator;
	qkd_direct_cfg_t *cfg;
	array_t *children;
	child_t *child;

	children = array_create(0, 0);
	enumerator = link->create_child_enumerator(link);
	while (enumerator->enumerate(enumerator, &cfg))
	{
		child = take_child(this, cfg->name);
		if (child && qkd_direct_cfg_equals(child->cfg, cfg))
		{	/* unchanged: keeps its SAs */
			child->cfg = cfg;
		}
		else
		{
			if (child)
			{
				stop_child(this, child, "reconfigured");
			}
			DBG1(DBG_CHD, "qkd IKE-less '%s': %s on link '%s'", cfg->name,
				 child ? "reconfigured" : "added", link->get_name(link));
			INIT(child,
				.cfg = cfg,
			);
		}
		array_insert(children, ARRAY_TAIL, child);
	}
	enumerator->destroy(enumerator);
	while (array_remove(this->children, ARRAY_TAIL, &child))
	{
		DBG1(DBG_CHD, "qkd IKE-less '%s': removed from link '%s'",
			 child->cfg->name, link->get_name(link));
		stop_child(this, child, "removed from the configuration");
	}
	array_destroy(this->children);
	this->children = children;
	/* the old configurations go with the old link */
	this->link->destroy(this->link);
	this->link = link->get_ref(link);
}

METHOD(qkd_doh_direct_t, destroy, void,
	private_qkd_doh_direct_t *this)
{
	child_t *child;

	while (array_remove(this->children, ARRAY_TAIL, &child))
	{
		stop_child(this, child, "stopping");
	}
	array_destroy(this->children);
	DESTROY_IF(this->journal);
	DESTROY_IF(this->hkdf);
	this->link->destroy(this->link);
	free(this);
}

/**
 * Open the link's SA journal and remove the SA pairs a crashed previous
 * run left in the kernel
 */
static qkd_direct_journal_t *open_journal(private_qkd_doh_direct_t *this)
{
	qkd_doh_context_t *ctx = this->ctx;
	qkd_direct_journal_t *journal;
	enumerator_t *enumerator;
	uint32_t spi_in, spi_out;
	char path[PATH_MAX], *dir;
	u_int removed = 0;
	uint8_t proto;

	dir = lib->settings->get_str(lib->settings, "%s.plugins.qkd.ikeless_dir",
								 DEFAULT_JOURNAL_DIR, lib->ns);
	if (strchr(qkd_doh_name(ctx), '/') ||
		snprintf(path, sizeof(path), "%s/qkd-ikeless-%s.sas", dir,
				 qkd_doh_name(ctx)) >= sizeof(path))
	{
		DBG1(DBG_CHD, "qkd IKE-less: link name '%s' makes no file name in "
			 "'%s'", qkd_doh_name(ctx), dir);
		return NULL;
	}
	journal = qkd_direct_journal_create(path);
	enumerator = journal->create_enumerator(journal);
	while (enumerator->enumerate(enumerator, &proto, &spi_in, &spi_out))
	{
		removed += this->kernel->del_sa(this->kernel, proto, ctx->local,
										ctx->peer, spi_in, TRUE);
		removed += this->kernel->del_sa(this->kernel, proto, ctx->local,
										ctx->peer, spi_out, FALSE);
		journal->remove(journal, proto, spi_in);
	}
	enumerator->destroy(enumerator);
	if (removed)
	{
		DBG1(DBG_CHD, "qkd IKE-less: removed %u SAs of link '%s' that the "
			 "previous run left", removed, qkd_doh_name(ctx));
	}
	return journal;
}

/*
 * Described in header
 */
qkd_doh_direct_t *qkd_doh_direct_create(qkd_doh_context_t *ctx,
										qkd_doh_keying_t *keying,
										qkd_doh_negotiation_t *negotiation,
										qkd_direct_kernel_t *kernel)
{
	private_qkd_doh_direct_t *this;
	enumerator_t *enumerator;
	qkd_direct_cfg_t *cfg;
	child_t *child;

	INIT(this,
		.public = {
			.binder = {
				.check = _check,
				.bound = _bound,
				.failed = _failed,
			},
			.tick = _tick,
			.peer_reset = _peer_reset,
			.set_link = _set_link,
			.list = _list,
			.format_status = _format_status,
			.destroy = _destroy,
		},
		.ctx = ctx,
		.keying = keying,
		.negotiation = negotiation,
		.kernel = kernel,
		.link = ctx->link->get_ref(ctx->link),
		.children = array_create(0, 0),
		.hkdf = qkd_hkdf_create(),
	);
	enumerator = this->link->create_child_enumerator(this->link);
	while (enumerator->enumerate(enumerator, &cfg))
	{
		INIT(child,
			.cfg = cfg,
		);
		array_insert(this->children, ARRAY_TAIL, child);
	}
	enumerator->destroy(enumerator);
	if (!array_count(this->children))
	{
		destroy(this);
		return NULL;
	}
	if (!this->hkdf || !this->kernel)
	{
		DBG1(DBG_CHD, "qkd IKE-less: %s, children of link '%s' not started",
			 this->hkdf ? "no kernel interface" : "HKDF-SHA256 not available",
			 qkd_doh_name(ctx));
		destroy(this);
		return NULL;
	}
	this->journal = open_journal(this);
	if (!this->journal)
	{
		DBG1(DBG_CHD, "qkd IKE-less: children of link '%s' not started",
			 qkd_doh_name(ctx));
		destroy(this);
		return NULL;
	}
	negotiation->set_binder(negotiation, &this->public.binder);
	return &this->public;
}
