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
	 * Peers, as qkd_doh_peer_t*
	 */
	linked_list_t *peers;

	/**
	 * Protects peers and socket
	 */
	rwlock_t *lock;

	/**
	 * Messages from addresses no link talks with, and when last logged
	 */
	u_int unknown;
	time_t unknown_logged;

	/**
	 * Whether the job runs / has finished
	 */
	bool running, finished, started;

	/**
	 * Protects the job flags
	 */
	mutex_t *mutex;
	condvar_t *condvar;
};

/**
 * Hand a received header to the peer of its address pair
 */
static void receive(private_qkd_doh_t *this, host_t *src, host_t *dst,
					chunk_t doh)
{
	enumerator_t *enumerator;
	qkd_doh_peer_t *peer, *found = NULL;
	time_t now;

	this->lock->read_lock(this->lock);
	enumerator = this->peers->create_enumerator(this->peers);
	while (enumerator->enumerate(enumerator, &peer))
	{
		if (peer->matches(peer, dst, src))
		{
			found = peer;
			break;
		}
	}
	enumerator->destroy(enumerator);
	if (found)
	{
		found->receive(found, src, dst, doh);
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
 * Drive all peers
 */
static job_requeue_t run(private_qkd_doh_t *this)
{
	enumerator_t *enumerator;
	qkd_doh_peer_t *peer;

	this->lock->read_lock(this->lock);
	enumerator = this->peers->create_enumerator(this->peers);
	while (enumerator->enumerate(enumerator, &peer))
	{
		peer->tick(peer);
	}
	enumerator->destroy(enumerator);
	this->lock->unlock(this->lock);

	this->mutex->lock(this->mutex);
	if (this->running)
	{
		this->condvar->timed_wait(this->condvar, this->mutex, TICK_INTERVAL);
	}
	this->mutex->unlock(this->mutex);
	return this->running ? JOB_REQUEUE_DIRECT : JOB_REQUEUE_NONE;
}

/**
 * The job is gone
 */
static void finished(private_qkd_doh_t *this)
{
	this->mutex->lock(this->mutex);
	this->finished = TRUE;
	this->condvar->broadcast(this->condvar);
	this->mutex->unlock(this->mutex);
}

/**
 * Stop the job
 */
static bool cancel(private_qkd_doh_t *this)
{
	this->mutex->lock(this->mutex);
	this->running = FALSE;
	this->condvar->broadcast(this->condvar);
	this->mutex->unlock(this->mutex);
	return TRUE;
}

METHOD(qkd_doh_t, add, qkd_doh_peer_t*,
	private_qkd_doh_t *this, qkd_link_t *link)
{
	qkd_doh_peer_t *peer;

	this->lock->write_lock(this->lock);
	if (!this->socket)
	{
		this->socket = qkd_doh_socket_create((void*)receive, this);
	}
	if (!this->socket)
	{
		this->lock->unlock(this->lock);
		DBG1(DBG_NET, "qkd DOH '%s': no raw IPv6 socket, DOH disabled",
			 link->get_name(link));
		return NULL;
	}
	peer = qkd_doh_peer_create(link, (qkd_doh_send_t)send_doh, this);
	if (peer)
	{
		this->peers->insert_last(this->peers, peer);
	}
	this->lock->unlock(this->lock);

	this->mutex->lock(this->mutex);
	if (peer && !this->started)
	{
		this->started = this->running = TRUE;
		lib->processor->queue_job(lib->processor,
			(job_t*)callback_job_create_with_prio((callback_job_cb_t)run,
							this, (callback_job_cleanup_t)finished,
							(callback_job_cancel_t)cancel, JOB_PRIO_CRITICAL));
	}
	this->mutex->unlock(this->mutex);
	return peer;
}

METHOD(qkd_doh_t, remove_, void,
	private_qkd_doh_t *this, qkd_doh_peer_t *peer)
{
	this->lock->write_lock(this->lock);
	this->peers->remove(this->peers, peer, NULL);
	this->lock->unlock(this->lock);
}

METHOD(qkd_doh_t, destroy, void,
	private_qkd_doh_t *this)
{
	cancel(this);
	this->mutex->lock(this->mutex);
	while (this->started && !this->finished)
	{
		this->condvar->wait(this->condvar, this->mutex);
	}
	this->mutex->unlock(this->mutex);
	DESTROY_IF(this->socket);
	this->peers->destroy_offset(this->peers, offsetof(qkd_doh_peer_t, destroy));
	this->lock->destroy(this->lock);
	this->condvar->destroy(this->condvar);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
qkd_doh_t *qkd_doh_create()
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
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.condvar = condvar_create(CONDVAR_TYPE_DEFAULT),
	);
	return &this->public;
}
