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

#include "qkd_events.h"

#include <collections/array.h>
#include <threading/rwlock.h>

ENUM(qkd_event_type_names, QKD_EVENT_KEY_BOUND, QKD_EVENT_IKELESS_REMOVED,
	"key-bound",
	"pool-low",
	"pool-dry",
	"pool-refilled",
	"kme-error",
	"kme-recovered",
	"doh-peer-up",
	"doh-peer-down",
	"doh-peer-reset",
	"ikeless-sa-installed",
	"ikeless-sa-rekeyed",
	"ikeless-sa-removed",
);

/**
 * Listeners, as qkd_event_listener_t*, NULL before init
 */
static array_t *listeners;

/**
 * Protects listeners
 */
static rwlock_t *lock;

/*
 * Described in header
 */
void qkd_events_init()
{
	if (!lock)
	{
		lock = rwlock_create(RWLOCK_TYPE_DEFAULT);
		listeners = array_create(0, 0);
	}
}

/*
 * Described in header
 */
void qkd_events_deinit()
{
	if (lock)
	{
		array_destroy(listeners);
		listeners = NULL;
		lock->destroy(lock);
		lock = NULL;
	}
}

/*
 * Described in header
 */
void qkd_events_add_listener(qkd_event_listener_t *listener)
{
	qkd_events_init();
	lock->write_lock(lock);
	array_insert(listeners, ARRAY_TAIL, listener);
	lock->unlock(lock);
}

/*
 * Described in header
 */
void qkd_events_remove_listener(qkd_event_listener_t *listener)
{
	qkd_event_listener_t *current;
	int i;

	if (!lock)
	{
		return;
	}
	lock->write_lock(lock);
	for (i = array_count(listeners) - 1; i >= 0; i--)
	{
		array_get(listeners, i, &current);
		if (current == listener)
		{
			array_remove(listeners, i, NULL);
		}
	}
	lock->unlock(lock);
}

/*
 * Described in header
 */
void qkd_events_raise(qkd_event_t *event)
{
	qkd_event_listener_t *listener;
	int i;

	if (!lock)
	{
		return;
	}
	lock->read_lock(lock);
	for (i = 0; i < array_count(listeners); i++)
	{
		array_get(listeners, i, &listener);
		listener->event(listener, event);
	}
	lock->unlock(lock);
}
