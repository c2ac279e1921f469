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
 * Configuration of an IKE-less child: SAs keyed with keys negotiated over
 * DOH, no IKE (charon.plugins.qkd.links.<link>.children.<name>).
 *
 * @defgroup qkd_direct_cfg qkd_direct_cfg
 * @{ @ingroup qkd
 */

#ifndef QKD_DIRECT_CFG_H_
#define QKD_DIRECT_CFG_H_

#include "qkd_direct_keys.h"

#include <ipsec/ipsec_types.h>
#include <collections/linked_list.h>
#include <networking/host.h>

typedef struct qkd_direct_cfg_t qkd_direct_cfg_t;

/**
 * Longest child name (the REQ_NEGOTIATE child TLV carries it)
 */
#define QKD_DIRECT_NAME_MAX 32

/**
 * An IKE-less child of a link.
 */
struct qkd_direct_cfg_t {

	/** child name (also on the wire, 1-32 of [A-Za-z0-9._-]) */
	char *name;

	/** what its SAs are keyed for (ESP with AES-GCM, ESP with AES-CBC and
	 * HMAC-SHA256, AH with HMAC-SHA256) */
	qkd_direct_alg_t alg;

	/** tunnel or transport */
	ipsec_mode_t mode;

	/** traffic selectors, traffic_selector_t* */
	linked_list_t *local_ts;
	linked_list_t *remote_ts;

	/** key survival time: an SA pair lives this long, seconds */
	u_int lifetime;

	/** rekey this long before the survival time ends, seconds */
	u_int rekey_margin;

	/** rekey after this many bytes / packets per SA, 0 for no limit */
	uint64_t life_bytes;
	uint64_t life_packets;
};

/**
 * Load an IKE-less child from its strongswan.conf section. Logs why and
 * returns NULL if it is incomplete or invalid.
 *
 * @param link			link name
 * @param name			child name (section below the link's children)
 * @param local			own DOH address (traffic selector of transport mode
 *						children without local_ts)
 * @param peer			the peer's DOH address (likewise for remote_ts)
 * @return				child, NULL if invalid
 */
qkd_direct_cfg_t *qkd_direct_cfg_create_from_settings(char *link, char *name,
													 host_t *local,
													 host_t *peer);

/**
 * Destroy a child configuration.
 *
 * @param cfg			child configuration
 */
void qkd_direct_cfg_destroy(qkd_direct_cfg_t *cfg);

/**
 * Whether two child configurations are the same (name, algorithm, mode,
 * traffic selectors, lifetimes and limits).
 *
 * @param a				one
 * @param b				the other
 * @return				TRUE if equal
 */
bool qkd_direct_cfg_equals(qkd_direct_cfg_t *a, qkd_direct_cfg_t *b);

#endif /** QKD_DIRECT_CFG_H_ @}*/
