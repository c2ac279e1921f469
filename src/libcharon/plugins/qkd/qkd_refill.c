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
#include "qkd_doh_peer.h"

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
 * How often the job looks at the pool without being woken, ms
 */
#define CHECK_INTERVAL 1000

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
	char status[2048];

	/**
	 * Whether the job is running, FALSE to stop it
	 */
	bool running;

	/**
	 * Whether the job has finished
	 */
	bool finished;

	/**
	 * Protects link, running and finished
	 */
	mutex_t *mutex;

	/**
	 * Signals finished
	 */
	condvar_t *condvar;
};

/**
 * Get a reference to the current link
 */
static qkd_link_t *get_link(private_qkd_refill_t *this)
{
	qkd_link_t *link;

	this->mutex->lock(this->mutex);
	link = this->link->get_ref(this->link);
	this->mutex->unlock(this->mutex);
	return link;
}

/**
 * Number of Idle keys in the pool
 */
static u_int idle_keys(private_qkd_refill_t *this)
{
	return this->pool->get_count(this->pool, QKD_KEY_IDLE);
}

/**
 * Log the pool level when it changes
 */
static void log_level(private_qkd_refill_t *this, qkd_link_t *link, u_int low)
{
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
			break;
		case LEVEL_LOW:
			if (this->level == LEVEL_OK)
			{
				DBG1(DBG_CFG, "qkd pool '%s' is low: %u Idle keys",
					 link->get_name(link), idle);
			}
			break;
		case LEVEL_OK:
			DBG1(DBG_CFG, "qkd pool '%s' refilled: %u Idle keys",
				 link->get_name(link), idle);
			break;
	}
	this->level = level;
}

/**
 * Write the status file of the pool if the status changed
 */
static void write_status(private_qkd_refill_t *this, qkd_link_t *link)
{
	qkd_pool_stats_t stats;
	qkd_doh_peer_t *doh;
	char status[sizeof(this->status)];
	size_t len;

	if (!this->status_dir)
	{
		return;
	}
	this->pool->get_stats(this->pool, &stats);
	doh = link->get_doh_peer(link);
	if (qkd_status_format(status, sizeof(status), link->get_name(link),
						  &stats, time(NULL)) &&
		(len = strlen(status), !doh ||
		 doh->format_status(doh, status + len, sizeof(status) - len)) &&
		!streq(status, this->status) &&
		qkd_status_write(this->status_dir, link->get_name(link), status))
	{
		strcpy(this->status, status);
	}
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
	qkd_doh_peer_t *doh;
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
		qkd_key_array_destroy(keys);
		this->pool->refilled(this->pool, "storing keys failed");
		return FALSE;
	}
	DBG1(DBG_CFG, "qkd pool '%s': %u keys added", link->get_name(link),
		 array_count(keys));
	doh = link->get_doh_peer(link);
	if (doh)
	{	/* so that the peer holds them too */
		doh->announce(doh, keys);
	}
	qkd_key_array_destroy(keys);
	this->pool->refilled(this->pool, NULL);
	return TRUE;
}

/**
 * Run another round unless the job was stopped
 */
static job_requeue_t next_round(private_qkd_refill_t *this)
{
	job_requeue_t requeue;

	this->mutex->lock(this->mutex);
	requeue = this->running ? JOB_REQUEUE_DIRECT : JOB_REQUEUE_NONE;
	this->mutex->unlock(this->mutex);
	return requeue;
}

/**
 * One round of the job
 */
static job_requeue_t refill(private_qkd_refill_t *this)
{
	qkd_link_t *link;
	qkd_doh_peer_t *doh;
	u_int capacity, low, wait, lifetime, idle;
	bool fetches;

	link = get_link(this);
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
	doh = link->get_doh_peer(link);
	fetches = !doh || doh->is_announcer(doh);

	/* below the low watermark (or empty), fill up to the capacity */
	if (fetches && idle < max(low, 1))
	{
		this->filling = TRUE;
	}
	if (this->filling && idle < capacity)
	{
		if (refill_once(this, link, capacity - idle))
		{
			this->backoff = 0;
			log_level(this, link, low);
			link->destroy(link);
			return next_round(this);
		}
		this->backoff = this->backoff ? min(this->backoff * 2, BACKOFF_MAX)
									  : BACKOFF_MIN;
		DBG1(DBG_CFG, "qkd pool '%s': refill failed, retrying in %u ms",
			 link->get_name(link), this->backoff);
	}
	else
	{
		if (this->filling)
		{	/* full: sync the last keys added right away */
			this->pool->checkpoint(this->pool);
		}
		this->filling = FALSE;
	}
	link->destroy(link);

	if (this->backoff)
	{
		this->mutex->lock(this->mutex);
		if (this->running)
		{
			this->condvar->timed_wait(this->condvar, this->mutex,
									  this->backoff);
		}
		this->mutex->unlock(this->mutex);
	}
	else
	{	/* until the pool runs low, or for housekeeping; an end that does
		 * not fetch waits for any change, it can't help a low pool */
		this->pool->wait_below(this->pool, fetches ? max(low, 1) : 0,
							   CHECK_INTERVAL);
	}
	return next_round(this);
}

/**
 * The job is gone (stopped, or cancelled by the processor)
 */
static void finished(private_qkd_refill_t *this)
{
	this->mutex->lock(this->mutex);
	this->finished = TRUE;
	this->condvar->broadcast(this->condvar);
	this->mutex->unlock(this->mutex);
}

/**
 * Stop the job
 */
static bool cancel(private_qkd_refill_t *this)
{
	this->mutex->lock(this->mutex);
	this->running = FALSE;
	this->condvar->broadcast(this->condvar);
	this->mutex->unlock(this->mutex);
	this->pool->wakeup(this->pool);
	return TRUE;
}

METHOD(qkd_refill_t, set_link, void,
	private_qkd_refill_t *this, qkd_link_t *link)
{
	this->mutex->lock(this->mutex);
	this->link->destroy(this->link);
	this->link = link->get_ref(link);
	this->mutex->unlock(this->mutex);
	this->pool->wakeup(this->pool);
}

METHOD(qkd_refill_t, destroy, void,
	private_qkd_refill_t *this)
{
	cancel(this);
	this->mutex->lock(this->mutex);
	while (!this->finished)
	{
		this->condvar->wait(this->condvar, this->mutex);
	}
	this->mutex->unlock(this->mutex);
	this->link->destroy(this->link);
	free(this->status_dir);
	this->condvar->destroy(this->condvar);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
qkd_refill_t *qkd_refill_create(qkd_link_t *link)
{
	private_qkd_refill_t *this;

	INIT(this,
		.public = {
			.set_link = _set_link,
			.destroy = _destroy,
		},
		.link = link->get_ref(link),
		.pool = link->get_pool(link),
		.level = LEVEL_OK,
		.running = TRUE,
		.status_dir = strdupnull(lib->settings->get_str(lib->settings,
							"%s.plugins.qkd.pool.status_dir",
							IPSEC_PIDDIR "/qkd", lib->ns)),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
	);

	lib->processor->queue_job(lib->processor,
		(job_t*)callback_job_create_with_prio((callback_job_cb_t)refill,
							this, (callback_job_cleanup_t)finished,
							(callback_job_cancel_t)cancel, JOB_PRIO_CRITICAL));
	return &this->public;
}
