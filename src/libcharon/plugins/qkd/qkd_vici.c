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

#include "qkd_vici.h"
#include "qkd_vici_query.h"
#include "qkd_vici_control.h"
#include "qkd_events.h"
#include "qkd_status.h"

#include <time.h>

#include <utils/debug.h>
#include <processing/jobs/callback_job.h>
#include <threading/mutex.h>
#include <vici_builder.h>
#include <vici_dispatcher.h>

typedef struct private_qkd_vici_t private_qkd_vici_t;

/**
 * Private data of a qkd_vici_t object.
 */
struct private_qkd_vici_t {

	/**
	 * Public interface.
	 */
	qkd_vici_t public;

	/**
	 * Forwards the plugin's events to registered clients
	 */
	qkd_event_listener_t listener;

	/**
	 * URI of the socket
	 */
	char *uri;

	/**
	 * strongSwan's dispatcher, on the socket, NULL until opened
	 */
	vici_dispatcher_t *dispatcher;

	/**
	 * List commands
	 */
	qkd_vici_query_t *query;

	/**
	 * Actions
	 */
	qkd_vici_control_t *control;

	/**
	 * Links the commands show and act on
	 */
	qkd_links_t *links;

	/**
	 * Whether destroy() was called
	 */
	bool stopped;

	/**
	 * References: this object and the job opening the socket
	 */
	refcount_t refs;

	/**
	 * Protects dispatcher, uri and stopped
	 */
	mutex_t *mutex;
};

/**
 * Build the message of an event: link, time and what applies to its type
 */
static vici_message_t *build_event(qkd_event_t *event)
{
	char uuid[QKD_KEY_ID_STRLEN + 1];
	vici_builder_t *b;

	b = vici_builder_create();
	b->add_kv(b, "link", "%s", event->link);
	b->add_kv(b, "time", "%ld", (long)time(NULL));
	switch (event->type)
	{
		case QKD_EVENT_KEY_BOUND:
			b->add_kv(b, "index", "%u", event->index);
			b->add_kv(b, "count", "%u", event->count);
			b->add_kv(b, "for", event->for_peer ? "peer" : "own");
			break;
		case QKD_EVENT_POOL_LOW:
		case QKD_EVENT_POOL_DRY:
		case QKD_EVENT_POOL_REFILLED:
			b->add_kv(b, "idle", "%u", event->count);
			break;
		case QKD_EVENT_KME_ERROR:
		case QKD_EVENT_KME_RECOVERED:
			b->add_kv(b, "kme", "%s", event->kme);
			b->add_kv(b, "call", "%s", event->call);
			break;
		case QKD_EVENT_DOH_PEER_UP:
			b->add_kv(b, "generation", "%u", event->generation);
			break;
		case QKD_EVENT_IKELESS_INSTALLED:
		case QKD_EVENT_IKELESS_REKEYED:
		case QKD_EVENT_IKELESS_REMOVED:
			b->add_kv(b, "child", "%s", event->child);
			b->add_kv(b, "spi-in", "%.8x", event->spi_in);
			b->add_kv(b, "spi-out", "%.8x", event->spi_out);
			if (event->key_id)
			{
				qkd_key_id_format(event->key_id, uuid);
				b->add_kv(b, "keyid", "%s", uuid);
			}
			break;
		default:
			break;
	}
	if (event->peer)
	{
		b->add_kv(b, "peer", "%H", event->peer);
	}
	if (event->reason)
	{
		b->add_kv(b, event->type == QKD_EVENT_KME_ERROR ? "error" : "reason",
				  "%s", event->reason);
	}
	return b->finalize(b);
}

/**
 * Forward an event to the clients registered for it
 */
static void forward_event(qkd_event_listener_t *listener, qkd_event_t *event)
{
	private_qkd_vici_t *this = (void*)((char*)listener -
								offsetof(private_qkd_vici_t, listener));
	vici_dispatcher_t *dispatcher;
	char *name;

	/* set once, and only unset after this listener is removed */
	dispatcher = this->dispatcher;
	name = enum_to_name(qkd_event_type_names, event->type);
	if (dispatcher && name &&
		dispatcher->has_event_listeners(dispatcher, name))
	{
		dispatcher->raise_event(dispatcher, name, 0, build_event(event));
	}
}

/**
 * (Un-)register the events
 */
static void manage_events(private_qkd_vici_t *this, bool reg)
{
	qkd_event_type_t type;

	for (type = QKD_EVENT_KEY_BOUND; type <= QKD_EVENT_IKELESS_REMOVED; type++)
	{
		this->dispatcher->manage_event(this->dispatcher,
						enum_to_name(qkd_event_type_names, type), reg);
	}
}

METHOD(qkd_vici_t, get_uri, char*,
	private_qkd_vici_t *this)
{
	char *uri;

	this->mutex->lock(this->mutex);
	uri = this->dispatcher ? this->uri : NULL;
	this->mutex->unlock(this->mutex);
	return uri;
}

/**
 * Destroy the private data once the open job is gone too
 */
static void unref(private_qkd_vici_t *this)
{
	if (ref_put(&this->refs))
	{
		this->mutex->destroy(this->mutex);
		free(this->uri);
		free(this);
	}
}

METHOD(qkd_vici_t, destroy, void,
	private_qkd_vici_t *this)
{
	qkd_events_remove_listener(&this->listener);
	qkd_status_set_socket(FALSE);
	this->mutex->lock(this->mutex);
	this->stopped = TRUE;
	if (this->dispatcher)
	{
		this->control->destroy(this->control);
		this->query->destroy(this->query);
		manage_events(this, FALSE);
		this->dispatcher->destroy(this->dispatcher);
		this->dispatcher = NULL;
	}
	this->mutex->unlock(this->mutex);
	unref(this);
}

/**
 * The default URI: the socket in the running charon's piddir
 */
static char *default_uri()
{
	char *piddir, uri[PATH_MAX];

	piddir = qkd_status_piddir();
	snprintf(uri, sizeof(uri), "unix://%s/%s", piddir, QKD_VICI_SOCKET_NAME);
	free(piddir);
	return strdup(uri);
}

/**
 * Open the socket and register the commands and events, FALSE if that
 * failed (status files are written then)
 */
static bool open_socket(private_qkd_vici_t *this)
{
	vici_dispatcher_t *dispatcher;

	this->mutex->lock(this->mutex);
	if (this->stopped)
	{
		this->mutex->unlock(this->mutex);
		return FALSE;
	}
	if (!this->uri)
	{
		this->uri = default_uri();
	}
	dispatcher = vici_dispatcher_create(this->uri);
	if (!dispatcher)
	{
		DBG1(DBG_CFG, "qkd: opening the control socket '%s' failed, writing "
			 "status files instead", this->uri);
		qkd_status_set_socket(FALSE);
		this->mutex->unlock(this->mutex);
		return FALSE;
	}
	this->dispatcher = dispatcher;
	manage_events(this, TRUE);
	this->query = qkd_vici_query_create(dispatcher, this->links);
	this->control = qkd_vici_control_create(dispatcher, this->links);
	DBG1(DBG_CFG, "qkd: control socket on '%s'", this->uri);
	this->mutex->unlock(this->mutex);
	return TRUE;
}

/**
 * Open the socket once charon runs
 */
static job_requeue_t open_job(private_qkd_vici_t *this)
{
	open_socket(this);
	return JOB_REQUEUE_NONE;
}

/*
 * Described in header
 */
qkd_vici_t *qkd_vici_create(qkd_links_t *links)
{
	private_qkd_vici_t *this;
	char *uri;

	if (!lib->settings->get_bool(lib->settings, "%s.plugins.qkd.vici.enable",
								 TRUE, lib->ns))
	{
		DBG1(DBG_CFG, "qkd: control socket disabled, writing status files");
		return NULL;
	}
	uri = lib->settings->get_str(lib->settings, "%s.plugins.qkd.vici.socket",
								 NULL, lib->ns);
	INIT(this,
		.public = {
			.get_uri = _get_uri,
			.destroy = _destroy,
		},
		.listener = {
			.event = forward_event,
		},
		.uri = strdupnull(uri),
		.links = links,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.refs = 1,
	);
	/* the pools' status goes to the socket from the start */
	qkd_status_set_socket(TRUE);
	qkd_events_add_listener(&this->listener);
	if (uri)
	{
		if (!open_socket(this))
		{
			destroy(this);
			return NULL;
		}
		return &this->public;
	}
	/* the default is in the piddir of the running charon, whose PID file
	 * exists once charon's threads run */
	ref_get(&this->refs);
	lib->processor->queue_job(lib->processor,
			(job_t*)callback_job_create((callback_job_cb_t)open_job, this,
										(callback_job_cleanup_t)unref,
										(callback_job_cancel_t)return_false));
	return &this->public;
}
