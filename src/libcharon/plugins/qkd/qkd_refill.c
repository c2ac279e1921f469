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

#include "qkd_refill.h"
#include "qkd_status.h"
#include "qkd_events.h"

#include <time.h>

#include <daemon.h>
#include <processing/jobs/callback_job.h>
#include <threading/mutex.h>
#include <threading/condvar.h>

/**
 * Backoff after a failed refill, ms
 */
#define BACKOFF_MIN 1000
#define BACKOFF_MAX 60000

/**
 * How often a round runs without being asked for, ms
 */
#define CHECK_INTERVAL 1000

/**
 * Most bytes of a status file (pool, DOH, a line per IKE-less child)
 */
#define STATUS_MAX 131072

typedef struct private_qkd_refill_t private_qkd_refill_t;

/**
 * Pool level, as logged
 */
typedef enum {
	LEVEL_OK,
	LEVEL_LOW,
	LEVEL_DRY,
} pool_level_t;

/**
 * Private data of a qkd_refill_t object.
 */
struct private_qkd_refill_t {

	/**
	 * Public interface.
	 */
	qkd_refill_t public;

	/**
	 * Listener to the pool, for keys taken
	 */
	qkd_pool_listener_t listener;

	/**
	 * Link, current settings
	 */
	qkd_link_t *link;

	/**
	 * Pool of the link
	 */
	qkd_pool_t *pool;

	/**
	 * Current backoff, 0 if the last refill succeeded
	 */
	u_int backoff;

	/**
	 * Last periodic housekeeping (expiry, status file, checkpoint)
	 */
	time_t housekeeping;

	/**
	 * Whether the pool is being filled up to its capacity
	 */
	bool filling;

	/**
	 * Level last logged
	 */
	pool_level_t level;

	/**
	 * Directory of status files, NULL for none
	 */
	char *status_dir;

	/**
	 * Status last written
	 */
	char *status;

	/**
	 * Appends more lines to the status, and its data
	 */
	bool (*status_cb)(void *data, char *buf, size_t len);
	void *status_data;

	/**
	 * When a refill may be tried again after a failure (monotonic)
	 */
	timeval_t retry_due;

	/**
	 * Whether a round runs, and whether another one was asked for meanwhile
	 */
	bool in_round, again;

	/**
	 * Whether destroy() was called: rounds do nothing any more
	 */
	bool stopped;

	/**
	 * Whether refill_now() asked the next round to fill up at once
	 */
	bool fill_now;

	/**
	 * References: this object and each job queued or scheduled for it
	 */
	refcount_t refs;

	/**
	 * Protects link, in_round, again, stopped and fill_now
	 */
	mutex_t *mutex;

	/**
	 * Signals the end of a round
	 */
	condvar_t *condvar;
};

/**
 * A job running one round
 */
typedef struct {
	/** the refill object (referenced) */
	private_qkd_refill_t *refill;
	/** whether this is the periodic round, which schedules the next one */
	bool periodic;
} round_job_t;

/**
 * Number of Idle keys in the pool
 */
static u_int idle_keys(private_qkd_refill_t *this)
{
	return this->pool->get_count(this->pool, QKD_KEY_IDLE);
}

/**
 * Log the pool level and raise an event when it changes
 */
static void log_level(private_qkd_refill_t *this, qkd_link_t *link, u_int low)
{
	qkd_event_type_t event;
	pool_level_t level;
	u_int idle;

	idle = idle_keys(this);
	level = idle == 0 ? LEVEL_DRY : idle < low ? LEVEL_LOW : LEVEL_OK;
	if (level == this->level)
	{
		return;
	}
	switch (level)
	{
		case LEVEL_DRY:
			DBG1(DBG_CFG, "qkd pool '%s' is dry: no Idle keys",
				 link->get_name(link));
			event = QKD_EVENT_POOL_DRY;
			break;
		case LEVEL_LOW:
			if (this->level == LEVEL_OK)
			{
				DBG1(DBG_CFG, "qkd pool '%s' is low: %u Idle keys",
					 link->get_name(link), idle);
			}
			event = QKD_EVENT_POOL_LOW;
			break;
		case LEVEL_OK:
		default:
			DBG1(DBG_CFG, "qkd pool '%s' refilled: %u Idle keys",
				 link->get_name(link), idle);
			event = QKD_EVENT_POOL_REFILLED;
			break;
	}
	/* dry -> low while refilling is no news */
	if (!(level == LEVEL_LOW && this->level == LEVEL_DRY))
	{
		qkd_events_raise(&(qkd_event_t){
			.type = event,
			.link = link->get_name(link),
			.count = idle,
		});
	}
	this->level = level;
}

/**
 * Write the status file of the pool if the status changed
 */
static void write_status(private_qkd_refill_t *this, qkd_link_t *link)
{
	bool (*cb)(void *data, char *buf, size_t len);
	void *data;
	qkd_pool_stats_t stats;
	char *status;
	size_t len;

	if (!this->status_dir && qkd_status_socket_serves())
	{	/* the control socket shows the status instead */
		return;
	}
	status = malloc(STATUS_MAX);
	this->pool->get_stats(this->pool, &stats);
	this->mutex->lock(this->mutex);
	if (!this->status_dir)
	{
		this->status_dir = qkd_status_default_dir();
	}
	cb = this->status_cb;
	data = this->status_data;
	this->mutex->unlock(this->mutex);
	if (qkd_status_format(status, STATUS_MAX, link->get_name(link),
						  &stats) &&
		(len = strlen(status), !cb ||
		 cb(data, status + len, STATUS_MAX - len)) &&
		!streq(status, this->status) &&
		qkd_status_write(this->status_dir, link->get_name(link), status))
	{
		strcpy(this->status, status);
	}
	free(status);
}

/**
 * Get one batch of keys into the pool. Returns FALSE on failure.
 */
static bool refill_once(private_qkd_refill_t *this, qkd_link_t *link,
						u_int wanted)
{
	qkd_kme_client_t *client;
	qkd_kme_status_t status;
	qkd_kme_result_t result;
	array_t *keys;
	char error[128];
	u_int number;

	client = link->get_client(link);
	if (!client)
	{
		this->pool->refilled(this->pool, "no KME client");
		return FALSE;
	}
	result = client->get_status(client, &status);
	if (result == QKD_KME_OK)
	{
		number = min(wanted, max(status.max_key_per_request, 1));
		number = min(number, status.stored_key_count);
		if (!number)
		{
			DBG1(DBG_CFG, "qkd KME %s: status: no keys stored for SAE '%s', "
				 "pool '%s' not refilled", link->get_kme(link),
				 link->get_peer_sae_id(link), link->get_name(link));
			this->pool->refilled(this->pool, "KME has no keys stored");
			return FALSE;
		}
		result = client->get_keys(client, number, link->get_key_size(link),
								  &keys);
	}
	if (result != QKD_KME_OK)
	{
		snprintf(error, sizeof(error), "%N", qkd_kme_result_names, result);
		this->pool->refilled(this->pool, error);
		return FALSE;
	}
	if (!this->pool->add(this->pool, keys))
	{
		DBG1(DBG_CFG, "qkd KME %s: enc_keys: batch of %u keys refused by "
			 "pool '%s'", link->get_kme(link), array_count(keys),
			 link->get_name(link));
		qkd_key_array_destroy(keys);
		this->pool->refilled(this->pool, "storing keys failed");
		return FALSE;
	}
	DBG1(DBG_CFG, "qkd pool '%s': %u keys added", link->get_name(link),
		 array_count(keys));
	qkd_key_array_destroy(keys);
	this->pool->refilled(this->pool, NULL);
	return TRUE;
}

/**
 * One round: housekeeping, and a batch from the KME if the pool is low and
 * no backoff is running.
 */
static void refill_round(private_qkd_refill_t *this)
{
	qkd_link_t *link;
	qkd_doh_settings_t *doh;
	u_int capacity, low, wait, lifetime, idle;
	timeval_t now;
	bool fetches;

	this->mutex->lock(this->mutex);
	link = this->link->get_ref(this->link);
	if (this->fill_now)
	{	/* asked for: fill up now, whatever the level and the backoff */
		this->fill_now = FALSE;
		this->filling = TRUE;
		this->retry_due = (timeval_t){};
		this->backoff = 0;
	}
	this->mutex->unlock(this->mutex);
	link->get_pool_settings(link, &capacity, &low, &wait, &lifetime);
	/* walks all keys: once a second, not on every key taken */
	if (time_monotonic(NULL) != this->housekeeping)
	{
		this->housekeeping = time_monotonic(NULL);
		this->pool->expire(this->pool, lifetime);
		this->pool->checkpoint(this->pool);
		write_status(this, link);
	}
	idle = idle_keys(this);
	log_level(this, link, low);
	/* with DOH, only one end fetches keys, the other gets those it
	 * announces */
	doh = link->get_doh(link);
	fetches = !doh || doh->announcer;
	/* below the low watermark (or empty), fill up to the capacity */
	if (fetches && idle < max(low, 1))
	{
		this->filling = TRUE;
	}
	time_monotonic(&now);
	while (this->filling && idle < capacity &&
		   !timercmp(&now, &this->retry_due, <))
	{
		if (!refill_once(this, link, capacity - idle))
		{
			this->backoff = this->backoff ? min(this->backoff * 2,
												BACKOFF_MAX) : BACKOFF_MIN;
			time_monotonic(&this->retry_due);
			timeval_add_ms(&this->retry_due, this->backoff);
			DBG1(DBG_CFG, "qkd pool '%s': refill failed, retrying in %u ms",
				 link->get_name(link), this->backoff);
			break;
		}
		this->backoff = 0;
		log_level(this, link, low);
		idle = idle_keys(this);
	}
	if (this->filling && idle >= capacity)
	{	/* full: sync the last keys added right away */
		this->pool->checkpoint(this->pool);
		this->filling = FALSE;
	}
	link->destroy(link);
}

static void queue_round(private_qkd_refill_t *this, bool periodic,
						u_int delay);

/**
 * Run a round unless one runs already (which then runs another), or the
 * object is stopped; the periodic round schedules the next one
 */
static job_requeue_t run_round(round_job_t *job)
{
	private_qkd_refill_t *this = job->refill;

	this->mutex->lock(this->mutex);
	if (this->stopped)
	{
		this->mutex->unlock(this->mutex);
		return JOB_REQUEUE_NONE;
	}
	if (this->in_round)
	{
		this->again = TRUE;
	}
	else
	{
		this->in_round = TRUE;
		do
		{
			this->again = FALSE;
			this->mutex->unlock(this->mutex);
			refill_round(this);
			this->mutex->lock(this->mutex);
		}
		while (this->again && !this->stopped);
		this->in_round = FALSE;
		this->condvar->broadcast(this->condvar);
	}
	if (job->periodic && !this->stopped)
	{
		queue_round(this, TRUE, CHECK_INTERVAL);
	}
	this->mutex->unlock(this->mutex);
	return JOB_REQUEUE_NONE;
}

/**
 * Destroy the private data, once no job references it any more
 */
static void unref(private_qkd_refill_t *this)
{
	if (ref_put(&this->refs))
	{
		this->link->destroy(this->link);
		free(this->status_dir);
		free(this->status);
		this->condvar->destroy(this->condvar);
		this->mutex->destroy(this->mutex);
		free(this);
	}
}

/**
 * A round job is gone
 */
static void round_job_destroy(round_job_t *job)
{
	unref(job->refill);
	free(job);
}

/**
 * Queue a round at once or schedule it after a delay (ms)
 */
static void queue_round(private_qkd_refill_t *this, bool periodic,
						u_int delay)
{
	round_job_t *data;
	job_t *job;

	INIT(data,
		.refill = this,
		.periodic = periodic,
	);
	ref_get(&this->refs);
	job = (job_t*)callback_job_create_with_prio((callback_job_cb_t)run_round,
							data, (callback_job_cleanup_t)round_job_destroy,
							(callback_job_cancel_t)return_false,
							JOB_PRIO_MEDIUM);
	if (delay)
	{
		lib->scheduler->schedule_job_ms(lib->scheduler, job, delay);
	}
	else
	{
		lib->processor->queue_job(lib->processor, job);
	}
}

/**
 * Keys were taken from the pool: a round, if the pool runs low
 */
static void taken(qkd_pool_listener_t *listener)
{
	private_qkd_refill_t *this = (void*)((char*)listener -
								offsetof(private_qkd_refill_t, listener));
	u_int capacity, low, wait, lifetime;

	this->mutex->lock(this->mutex);
	this->link->get_pool_settings(this->link, &capacity, &low, &wait,
								  &lifetime);
	if (!this->stopped && idle_keys(this) < max(low, 1))
	{
		if (this->in_round)
		{
			this->again = TRUE;
		}
		else
		{
			queue_round(this, FALSE, 0);
		}
	}
	this->mutex->unlock(this->mutex);
}

METHOD(qkd_refill_t, set_link, void,
	private_qkd_refill_t *this, qkd_link_t *link)
{
	this->mutex->lock(this->mutex);
	this->link->destroy(this->link);
	this->link = link->get_ref(link);
	if (!this->stopped)
	{	/* new settings: look at the pool now */
		queue_round(this, FALSE, 0);
	}
	this->mutex->unlock(this->mutex);
}

METHOD(qkd_refill_t, set_status_cb, void,
	private_qkd_refill_t *this, bool (*cb)(void *data, char *buf, size_t len),
	void *data)
{
	this->mutex->lock(this->mutex);
	this->status_cb = cb;
	this->status_data = data;
	this->mutex->unlock(this->mutex);
}

METHOD(qkd_refill_t, refill_now, bool,
	private_qkd_refill_t *this)
{
	qkd_doh_settings_t *doh;

	this->mutex->lock(this->mutex);
	doh = this->link->get_doh(this->link);
	if (doh && !doh->announcer)
	{
		this->mutex->unlock(this->mutex);
		return FALSE;
	}
	/* the round owns the fill state, it takes the request over */
	this->fill_now = TRUE;
	if (this->in_round)
	{
		this->again = TRUE;
	}
	else if (!this->stopped)
	{
		queue_round(this, FALSE, 0);
	}
	this->mutex->unlock(this->mutex);
	return TRUE;
}

METHOD(qkd_refill_t, destroy, void,
	private_qkd_refill_t *this)
{
	this->pool->remove_listener(this->pool, &this->listener);
	this->mutex->lock(this->mutex);
	this->stopped = TRUE;
	while (this->in_round)
	{
		this->condvar->wait(this->condvar, this->mutex);
	}
	this->mutex->unlock(this->mutex);
	/* jobs still queued or scheduled keep the rest until they are gone */
	unref(this);
}

/*
 * Described in header
 */
qkd_refill_t *qkd_refill_create(qkd_link_t *link, qkd_pool_t *pool)
{
	private_qkd_refill_t *this;

	INIT(this,
		.public = {
			.set_link = _set_link,
			.set_status_cb = _set_status_cb,
			.refill_now = _refill_now,
			.destroy = _destroy,
		},
		.listener = {
			.taken = taken,
		},
		.link = link->get_ref(link),
		.pool = pool,
		.level = LEVEL_OK,
		.refs = 1,
		/* the default is found when first written, charon runs then */
		.status_dir = strdupnull(lib->settings->get_str(lib->settings,
							"%s.plugins.qkd.pool.status_dir", NULL, lib->ns)),
		.status = calloc(1, STATUS_MAX),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
	);

	this->pool->add_listener(this->pool, &this->listener);
	this->mutex->lock(this->mutex);
	queue_round(this, TRUE, 0);
	this->mutex->unlock(this->mutex);
	return &this->public;
}
