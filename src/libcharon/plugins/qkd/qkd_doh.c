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

#include "qkd_doh.h"
#include "qkd_doh_socket.h"

#include <utils/debug.h>
#include <collections/linked_list.h>
#include <threading/mutex.h>
#include <threading/condvar.h>
#include <threading/rwlock.h>
#include <processing/jobs/callback_job.h>

/**
 * Interval of the job driving the peers, ms
 */
#define TICK_INTERVAL 100

/**
 * Interval of the log line about messages from unknown addresses, s
 */
#define UNKNOWN_LOG_INTERVAL 10

typedef struct private_qkd_doh_t private_qkd_doh_t;

/**
 * A peer the engine drives
 */
typedef struct {
	/** the peer */
	qkd_doh_peer_t *peer;
	/** whether a tick job for it is queued or running */
	bool busy;
} peer_entry_t;

/**
 * Private data of a qkd_doh_t object.
 */
struct private_qkd_doh_t {

	/**
	 * Public interface.
	 */
	qkd_doh_t public;

	/**
	 * Raw socket, NULL until the first peer
	 */
	qkd_doh_socket_t *socket;

	/**
	 * Peers, as peer_entry_t*
	 */
	linked_list_t *peers;

	/**
	 * Protects peers and socket against changes while packets are handed
	 * to peers
	 */
	rwlock_t *lock;

	/**
	 * Messages from addresses no link talks with, and when last logged
	 */
	u_int unknown;
	time_t unknown_logged;

	/**
	 * Whether rounds are scheduled, whether destroy() was called
	 */
	bool started, stopped;

	/**
	 * References: the engine and each job queued or scheduled for it
	 */
	refcount_t refs;

	/**
	 * Protects the busy flags, started, stopped and unknown; signals the
	 * end of tick jobs
	 */
	mutex_t *mutex;
	condvar_t *condvar;

	/**
	 * Installs IPsec bypass policies for the socket, or NULL
	 */
	qkd_doh_bypass_t bypass;

	/**
	 * Installs the SAs of IKE-less children, or NULL
	 */
	qkd_direct_kernel_t *kernel;
};

static void queue_tick(private_qkd_doh_t *this, peer_entry_t *entry);

/**
 * Hand a received header to the peer of its address pair
 */
static void receive(private_qkd_doh_t *this, host_t *src, host_t *dst,
					chunk_t doh)
{
	enumerator_t *enumerator;
	peer_entry_t *entry, *found = NULL;
	time_t now;

	this->lock->read_lock(this->lock);
	enumerator = this->peers->create_enumerator(this->peers);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (entry->peer->matches(entry->peer, dst, src))
		{
			found = entry;
			break;
		}
	}
	enumerator->destroy(enumerator);
	if (found && found->peer->receive(found->peer, src, dst, doh))
	{	/* work for a tick job, e.g. binding a key the peer asks for */
		this->mutex->lock(this->mutex);
		queue_tick(this, found);
		this->mutex->unlock(this->mutex);
	}
	this->lock->unlock(this->lock);
	if (!found)
	{	/* only configured peers are talked to */
		now = time_monotonic(NULL);
		this->mutex->lock(this->mutex);
		this->unknown++;
		if (now - this->unknown_logged >= UNKNOWN_LOG_INTERVAL)
		{
			DBG1(DBG_NET, "qkd DOH: ignored %u message%s from addresses no "
				 "link talks with, latest %H -> %H", this->unknown,
				 this->unknown == 1 ? "" : "s", src, dst);
			this->unknown = 0;
			this->unknown_logged = now;
		}
		this->mutex->unlock(this->mutex);
	}
}

/**
 * Send a header (qkd_doh_send_t)
 */
static bool send_doh(private_qkd_doh_t *this, host_t *src, host_t *dst,
					 chunk_t doh)
{
	return this->socket && this->socket->send(this->socket, src, dst, doh);
}

/**
 * Destroy the private data once no job references it any more
 */
static void unref(private_qkd_doh_t *this)
{
	if (ref_put(&this->refs))
	{
		DESTROY_IF(this->socket);
		this->peers->destroy(this->peers);
		this->lock->destroy(this->lock);
		this->condvar->destroy(this->condvar);
		this->mutex->destroy(this->mutex);
		free(this);
	}
}

/**
 * A tick job: the engine and the peer entry
 */
typedef struct {
	private_qkd_doh_t *engine;
	peer_entry_t *entry;
} tick_job_t;

/**
 * Drive one peer: KME calls and disk writes it makes hold up no other peer
 * and no lock of the engine
 */
static job_requeue_t tick(tick_job_t *job)
{
	job->entry->peer->tick(job->entry->peer);
	return JOB_REQUEUE_NONE;
}

/**
 * A tick job is gone (run or not): the peer may be ticked again
 */
static void tick_done(tick_job_t *job)
{
	private_qkd_doh_t *this = job->engine;

	this->mutex->lock(this->mutex);
	job->entry->busy = FALSE;
	this->condvar->broadcast(this->condvar);
	this->mutex->unlock(this->mutex);
	unref(this);
	free(job);
}

static void schedule_round(private_qkd_doh_t *this);

/**
 * Queue a tick job for a peer unless one is queued or running (mutex held)
 */
static void queue_tick(private_qkd_doh_t *this, peer_entry_t *entry)
{
	tick_job_t *job;

	if (entry->busy || this->stopped)
	{
		return;
	}
	entry->busy = TRUE;
	INIT(job,
		.engine = this,
		.entry = entry,
	);
	ref_get(&this->refs);
	lib->processor->queue_job(lib->processor,
		(job_t*)callback_job_create_with_prio((callback_job_cb_t)tick,
							job, (callback_job_cleanup_t)tick_done,
							(callback_job_cancel_t)return_false,
							JOB_PRIO_HIGH));
}

/**
 * A round: a tick job for each peer not still busy with the last one
 */
static job_requeue_t run_round(private_qkd_doh_t *this)
{
	enumerator_t *enumerator;
	peer_entry_t *entry;

	this->lock->read_lock(this->lock);
	this->mutex->lock(this->mutex);
	if (!this->stopped)
	{
		enumerator = this->peers->create_enumerator(this->peers);
		while (enumerator->enumerate(enumerator, &entry))
		{
			queue_tick(this, entry);
		}
		enumerator->destroy(enumerator);
		schedule_round(this);
	}
	this->mutex->unlock(this->mutex);
	this->lock->unlock(this->lock);
	return JOB_REQUEUE_NONE;
}

/**
 * Schedule the next round (mutex held)
 */
static void schedule_round(private_qkd_doh_t *this)
{
	ref_get(&this->refs);
	lib->scheduler->schedule_job_ms(lib->scheduler,
		(job_t*)callback_job_create_with_prio((callback_job_cb_t)run_round,
							this, (callback_job_cleanup_t)unref,
							(callback_job_cancel_t)return_false,
							JOB_PRIO_HIGH), TICK_INTERVAL);
}

/**
 * Wait until no tick job of a peer entry is queued or running (mutex held)
 */
static void wait_idle(private_qkd_doh_t *this, peer_entry_t *entry)
{
	while (entry->busy)
	{
		this->condvar->wait(this->condvar, this->mutex);
	}
}

METHOD(qkd_doh_t, add, qkd_doh_peer_t*,
	private_qkd_doh_t *this, qkd_link_t *link, qkd_pool_t *pool)
{
	qkd_doh_peer_t *peer;
	peer_entry_t *entry;

	this->lock->write_lock(this->lock);
	if (!this->socket)
	{
		this->socket = qkd_doh_socket_create((void*)receive, this,
											 this->bypass);
	}
	if (!this->socket)
	{
		this->lock->unlock(this->lock);
		DBG1(DBG_NET, "qkd DOH '%s': no raw IPv6 socket, DOH disabled",
			 link->get_name(link));
		return NULL;
	}
	peer = qkd_doh_peer_create(link, pool, (qkd_doh_send_t)send_doh, this,
							   this->kernel);
	if (peer)
	{
		INIT(entry,
			.peer = peer,
		);
		this->peers->insert_last(this->peers, entry);
	}
	this->mutex->lock(this->mutex);
	if (peer && !this->started)
	{
		this->started = TRUE;
		schedule_round(this);
	}
	this->mutex->unlock(this->mutex);
	this->lock->unlock(this->lock);
	return peer;
}

/**
 * Wait until no tick job of a peer entry removed from the list is queued or
 * running (call with no lock held: jobs may wait for the read lock), then
 * free it, and its peer if asked to
 */
static void drop_entry(private_qkd_doh_t *this, peer_entry_t *entry,
					   bool destroy_peer)
{
	this->mutex->lock(this->mutex);
	wait_idle(this, entry);
	this->mutex->unlock(this->mutex);
	if (destroy_peer)
	{
		entry->peer->destroy(entry->peer);
	}
	free(entry);
}

METHOD(qkd_doh_t, remove_, void,
	private_qkd_doh_t *this, qkd_doh_peer_t *peer)
{
	enumerator_t *enumerator;
	peer_entry_t *entry, *found = NULL;

	/* once removed under the write lock, no packet and no round reaches
	 * the peer any more */
	this->lock->write_lock(this->lock);
	enumerator = this->peers->create_enumerator(this->peers);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (entry->peer == peer)
		{
			this->peers->remove_at(this->peers, enumerator);
			found = entry;
			break;
		}
	}
	enumerator->destroy(enumerator);
	this->lock->unlock(this->lock);
	/* no tick after this returns */
	if (found)
	{
		drop_entry(this, found, FALSE);
	}
}

METHOD(qkd_doh_t, destroy, void,
	private_qkd_doh_t *this)
{
	qkd_doh_socket_t *socket;
	linked_list_t *peers;
	peer_entry_t *entry;

	/* take the peers and the socket under the write lock, but wait for
	 * their jobs without it: jobs waiting for the read lock (a round, a
	 * packet received) would otherwise hold the threads a tick job needs */
	this->lock->write_lock(this->lock);
	this->mutex->lock(this->mutex);
	this->stopped = TRUE;
	this->mutex->unlock(this->mutex);
	peers = this->peers;
	this->peers = linked_list_create();
	socket = this->socket;
	this->socket = NULL;
	this->lock->unlock(this->lock);
	while (peers->remove_first(peers, (void**)&entry) == SUCCESS)
	{
		drop_entry(this, entry, TRUE);
	}
	peers->destroy(peers);
	/* no more packets for the peers */
	DESTROY_IF(socket);
	unref(this);
}

/*
 * Described in header
 */
qkd_doh_t *qkd_doh_create(qkd_doh_bypass_t bypass,
						  qkd_direct_kernel_t *kernel)
{
	private_qkd_doh_t *this;

	INIT(this,
		.public = {
			.add = _add,
			.remove = _remove_,
			.destroy = _destroy,
		},
		.peers = linked_list_create(),
		.lock = rwlock_create(RWLOCK_TYPE_DEFAULT),
		.refs = 1,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
		.bypass = bypass,
		.kernel = kernel,
	);
	return &this->public;
}
