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

/**
 * Events of the plugin's links (pools, KMEs, DOH peers, IKE-less SAs) for
 * whoever watches them, e.g. the control socket.
 *
 * The parts raising events know nothing of their listeners; without a
 * listener, raising an event costs a read lock.
 *
 * @defgroup qkd_events qkd_events
 * @{ @ingroup qkd
 */

#ifndef QKD_EVENTS_H_
#define QKD_EVENTS_H_

#include "qkd_key.h"

#include <networking/host.h>

typedef enum qkd_event_type_t qkd_event_type_t;
typedef struct qkd_event_t qkd_event_t;
typedef struct qkd_event_listener_t qkd_event_listener_t;

/**
 * Type of an event, named as on the control socket (docs/vici.md).
 */
enum qkd_event_type_t {
	/** DOH bound keys: index, count, for_peer */
	QKD_EVENT_KEY_BOUND,
	/** Idle keys fell below the low watermark: count */
	QKD_EVENT_POOL_LOW,
	/** no Idle key left: count */
	QKD_EVENT_POOL_DRY,
	/** back at or above the low watermark: count */
	QKD_EVENT_POOL_REFILLED,
	/** a KME call failed after working (or at first): kme, call, reason */
	QKD_EVENT_KME_ERROR,
	/** a KME call worked after failing: kme, call */
	QKD_EVENT_KME_RECOVERED,
	/** DOH keys established with the peer: peer, generation */
	QKD_EVENT_DOH_PEER_UP,
	/** the DOH peer's key was lost: peer, reason */
	QKD_EVENT_DOH_PEER_DOWN,
	/** the DOH peer restarted: peer, reason */
	QKD_EVENT_DOH_PEER_RESET,
	/** first SA pair of an IKE-less child: child, spi_in, spi_out, key_id */
	QKD_EVENT_IKELESS_INSTALLED,
	/** a newer SA pair replaced the current one: as installed */
	QKD_EVENT_IKELESS_REKEYED,
	/** an SA pair was removed: as installed, reason */
	QKD_EVENT_IKELESS_REMOVED,
};

/**
 * Event names as on the control socket, e.g. "pool-low".
 */
extern enum_name_t *qkd_event_type_names;

/**
 * An event. Members that do not apply to its type are 0/NULL.
 */
struct qkd_event_t {
	/** type */
	qkd_event_type_t type;
	/** link name */
	char *link;
	/** DOH peer address */
	host_t *peer;
	/** KME base URL */
	char *kme;
	/** KME call (status, enc_keys, dec_keys) */
	char *call;
	/** why: error or reason */
	char *reason;
	/** IKE-less child name */
	char *child;
	/** key ID of an IKE-less SA pair, NULL if none */
	uint8_t *key_id;
	/** SPIs of an IKE-less SA pair */
	uint32_t spi_in, spi_out;
	/** first Index of bound keys */
	uint32_t index;
	/** number of keys bound, or Idle keys in the pool */
	u_int count;
	/** DOH key generation */
	u_int generation;
	/** keys bound for the peer's key exchanges (else for this end's) */
	bool for_peer;
};

/**
 * A listener to events.
 */
struct qkd_event_listener_t {

	/**
	 * An event happened. Called from the thread raising it, maybe with
	 * locks of the raising part held: must not block or call back.
	 *
	 * @param event		the event (valid during the call)
	 */
	void (*event)(qkd_event_listener_t *this, qkd_event_t *event);
};

/**
 * Add a listener.
 *
 * @param listener	listener to add
 */
void qkd_events_add_listener(qkd_event_listener_t *listener);

/**
 * Remove a listener; it is not called any more once this returns.
 *
 * @param listener	listener to remove
 */
void qkd_events_remove_listener(qkd_event_listener_t *listener);

/**
 * Tell every listener about an event.
 *
 * @param event		the event
 */
void qkd_events_raise(qkd_event_t *event);

/**
 * Set up the listener registry (at plugin start; adding a listener does it
 * too).
 */
void qkd_events_init();

/**
 * Tear down the listener registry (at plugin end).
 */
void qkd_events_deinit();

#endif /** QKD_EVENTS_H_ @}*/
