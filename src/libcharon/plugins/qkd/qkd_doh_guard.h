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
 * Authentication and anti-replay of the DOH messages exchanged with one
 * peer (docs/doh-profile.md, "Authentication and anti-replay").
 *
 * @defgroup qkd_doh_guard qkd_doh_guard
 * @{ @ingroup qkd
 */

#ifndef QKD_DOH_GUARD_H_
#define QKD_DOH_GUARD_H_

#include "qkd_doh_msg.h"

#include <networking/host.h>

typedef struct qkd_doh_guard_t qkd_doh_guard_t;
typedef enum qkd_doh_verdict_t qkd_doh_verdict_t;

/**
 * Outcome of checking a received message.
 */
enum qkd_doh_verdict_t {
	/** authentic and fresh */
	QKD_DOH_VALID,
	/** no AUTH option, or no DOH key (of that generation) yet */
	QKD_DOH_NO_KEY,
	/** MAC does not verify */
	QKD_DOH_BAD_MAC,
	/** timestamp outside the window */
	QKD_DOH_STALE,
	/** (timestamp, sequence) seen before */
	QKD_DOH_REPLAY,
};

/**
 * Enum names for qkd_doh_verdict_t.
 */
extern enum_name_t *qkd_doh_verdict_names;

/**
 * MAC and anti-replay state of one peer: HMAC-SHA256-128 over IPv6 source,
 * destination and the Destination Options Header with the MAC zeroed,
 * keyed with the link's DOH key; timestamps accepted within a window, each
 * (timestamp, sequence) pair once.
 */
struct qkd_doh_guard_t {

	/**
	 * Install a DOH key generation, replacing an older one.
	 *
	 * @param ref		key generation (Key Ref of the AUTH option)
	 * @param key		DOH key (copied)
	 * @return			FALSE if the key can't be used
	 */
	bool (*set_key)(qkd_doh_guard_t *this, uint8_t ref, chunk_t key);

	/**
	 * Send with the previous key generation (while the peer does not hold
	 * the current one yet) or the current one (the default, and again after
	 * set_key()).
	 *
	 * @param previous	TRUE to send with the previous generation, if any
	 */
	void (*sign_with_previous)(qkd_doh_guard_t *this, bool previous);

	/**
	 * Fill in the AUTH option of a message to send: current key generation,
	 * time and the next sequence number. The MAC stays zero.
	 *
	 * @param auth		receives the AUTH option
	 * @return			FALSE if there is no DOH key yet
	 */
	bool (*prepare)(qkd_doh_guard_t *this, qkd_doh_auth_t *auth);

	/**
	 * Write the MAC into an encoded header.
	 *
	 * @param src		IPv6 source the packet is sent from
	 * @param dst		IPv6 destination
	 * @param doh		encoded header, MAC zero (from qkd_doh_encode())
	 * @param mac_offset offset of the MAC in doh
	 * @return			FALSE if there is no DOH key
	 */
	bool (*sign)(qkd_doh_guard_t *this, host_t *src, host_t *dst, chunk_t doh,
				 size_t mac_offset);

	/**
	 * Check a received header: MAC, then time window, then replay. Only a
	 * valid message is recorded against replays.
	 *
	 * @param src		IPv6 source of the packet
	 * @param dst		IPv6 destination of the packet
	 * @param doh		received header
	 * @param auth		its decoded AUTH option
	 * @param mac_offset offset of the MAC in doh
	 * @return			verdict
	 */
	qkd_doh_verdict_t (*verify)(qkd_doh_guard_t *this, host_t *src,
								host_t *dst, chunk_t doh, qkd_doh_auth_t *auth,
								size_t mac_offset);

	/**
	 * Destroy a qkd_doh_guard_t, wiping the keys.
	 */
	void (*destroy)(qkd_doh_guard_t *this);
};

/**
 * Create the guard of one peer.
 *
 * @param window	acceptance window around the local clock, seconds
 * @return			guard
 */
qkd_doh_guard_t *qkd_doh_guard_create(u_int window);

#endif /** QKD_DOH_GUARD_H_ @}*/
