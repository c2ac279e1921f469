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
 * IKE-less children of one DOH peer (docs/ikeless.md): keys negotiated
 * over DOH for each child, bound to SA pairs installed through charon's
 * kernel interface, rekeyed make-before-break before the key survival
 * time ends, removed when the key expires, the peer restarts or charon
 * stops.
 *
 * The announcer (the lower address) asks for every child's keys, the other
 * end checks and accepts them; so both never ask for a child at once.
 *
 * @defgroup qkd_doh_direct qkd_doh_direct
 * @{ @ingroup qkd
 */

#ifndef QKD_DOH_DIRECT_H_
#define QKD_DOH_DIRECT_H_

#include "qkd_doh_context.h"
#include "qkd_doh_keying.h"
#include "qkd_doh_negotiation.h"
#include "qkd_direct_kernel.h"

typedef struct qkd_doh_direct_t qkd_doh_direct_t;
typedef struct qkd_doh_direct_info_t qkd_doh_direct_info_t;

/**
 * State of an IKE-less child, as shown.
 */
struct qkd_doh_direct_info_t {
	/** child name (valid while the child is configured) */
	char *name;
	/** installed, negotiating or none */
	char *state;
	/** whether an SA pair is installed, and its key ID and SPIs */
	bool installed;
	uint8_t id[QKD_KEY_ID_LEN];
	uint32_t spi_in, spi_out;
	/** seconds since installed */
	uint64_t age;
	/** bytes through the inbound and outbound SA */
	uint64_t bytes_in, bytes_out;
	/** SA pairs installed so far */
	u_int pairs;
};

/**
 * IKE-less children of a peer. Called with the peer's lock held, except
 * destroy().
 */
struct qkd_doh_direct_t {

	/**
	 * Checks and uses keys negotiated for children (set on the
	 * negotiation).
	 */
	qkd_doh_binder_t binder;

	/**
	 * Ask for keys, switch outbound SAs, remove old and expired SA pairs,
	 * as due.
	 *
	 * @param now		current time, ms
	 */
	void (*tick)(qkd_doh_direct_t *this, uint64_t now);

	/**
	 * The peer started afresh: remove the SA pairs of its previous life.
	 */
	void (*peer_reset)(qkd_doh_direct_t *this);

	/**
	 * Get the state of the children.
	 *
	 * @return			array of qkd_doh_direct_info_t (array_destroy())
	 */
	array_t *(*list)(qkd_doh_direct_t *this);

	/**
	 * Format the children's SA pairs as "key: value" lines.
	 *
	 * @param buf		buffer
	 * @param len		size of buf
	 * @return			TRUE if it fit
	 */
	bool (*format_status)(qkd_doh_direct_t *this, char *buf, size_t len);

	/**
	 * Take the children of a reloaded link's configuration: unchanged ones
	 * keep their SAs, changed ones are stopped and started afresh, removed
	 * ones stopped (SAs and policies removed), new ones started.
	 *
	 * @param link		the link's new configuration
	 */
	void (*set_link)(qkd_doh_direct_t *this, qkd_link_t *link);

	/**
	 * Remove every SA and policy installed and destroy.
	 */
	void (*destroy)(qkd_doh_direct_t *this);
};

/**
 * Create the IKE-less children of a peer.
 *
 * @param ctx			shared state of the peer
 * @param keying		DOH key state (ask only while established)
 * @param negotiation	negotiation, to ask for keys
 * @param kernel		installs the SAs and policies (not owned), NULL if
 *						there is no kernel interface
 * @return				children, NULL if the link has none
 */
qkd_doh_direct_t *qkd_doh_direct_create(qkd_doh_context_t *ctx,
										qkd_doh_keying_t *keying,
										qkd_doh_negotiation_t *negotiation,
										qkd_direct_kernel_t *kernel);

#endif /** QKD_DOH_DIRECT_H_ @}*/
