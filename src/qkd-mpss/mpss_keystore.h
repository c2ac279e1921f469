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
 * Keys the destination rebuilt, waiting for its gateway's dec_keys: each is
 * handed out once, wiped when taken or when it was not taken in time.
 * @defgroup mpss_keystore mpss_keystore
 * @{ @ingroup qkd-mpss
 */

#ifndef MPSS_KEYSTORE_H_
#define MPSS_KEYSTORE_H_

#include <qkd_mpss_collector.h>
#include <qkd_key.h>

typedef struct mpss_keystore_t mpss_keystore_t;
typedef enum mpss_take_t mpss_take_t;

/**
 * Outcome of taking a key.
 */
enum mpss_take_t {
	/** the key, rebuilt */
	MPSS_TAKE_OK,
	/** its shares disagreed: a share was altered, no key */
	MPSS_TAKE_TAMPERED,
	/** fewer than k shares arrived within the wait */
	MPSS_TAKE_TOO_FEW,
	/** no share of it arrived (unknown, or taken already) */
	MPSS_TAKE_UNKNOWN,
};

/**
 * Store of rebuilt keys.
 */
struct mpss_keystore_t {

	/**
	 * Receives the collector's outcomes.
	 */
	qkd_mpss_listener_t listener;

	/**
	 * Take a key, waiting for its outcome if it has none yet.
	 *
	 * @param id		its KEYID
	 * @param timeout	longest wait for the outcome, ms
	 * @param key		receives the key (destroy it) on MPSS_TAKE_OK
	 * @return			outcome
	 */
	mpss_take_t (*take)(mpss_keystore_t *this, uint8_t id[QKD_KEY_ID_LEN],
						u_int timeout, qkd_key_t **key);

	/**
	 * Wipe the keys and outcomes kept longer than the lifetime.
	 */
	void (*expire)(mpss_keystore_t *this);

	/**
	 * Number of keys waiting to be taken.
	 *
	 * @return			count
	 */
	u_int (*get_count)(mpss_keystore_t *this);

	/**
	 * Destroy the store, wiping the keys.
	 */
	void (*destroy)(mpss_keystore_t *this);
};

/**
 * Create a key store.
 *
 * @param lifetime	how long a rebuilt key (or an outcome) is kept, s
 * @param max		most keys kept (older ones are wiped first)
 * @return			store
 */
mpss_keystore_t *mpss_keystore_create(u_int lifetime, u_int max);

#endif /** MPSS_KEYSTORE_H_ @}*/
