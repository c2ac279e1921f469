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
 * @defgroup qkd_link qkd_link
 * @{ @ingroup qkd
 */

#ifndef QKD_LINK_H_
#define QKD_LINK_H_

#include "qkd_kme_client.h"
#include "qkd_direct_cfg.h"

#include <library.h>
#include <networking/host.h>

typedef struct qkd_link_t qkd_link_t;
typedef struct qkd_doh_settings_t qkd_doh_settings_t;

/**
 * Match quality of a link listing the connection by name
 */
#define QKD_LINK_MATCH_NAME 1000

/**
 * DOH settings of a link (docs/doh-profile.md).
 */
struct qkd_doh_settings_t {
	/** own IPv6 address DOH messages are sent from */
	host_t *local;
	/** peer's IPv6 address */
	host_t *peer;
	/** timestamp acceptance window, seconds */
	u_int window;
	/** interval of periodic syncs, ms */
	u_int sync_interval;
	/** first retransmission timeout, ms (doubled per retry) */
	u_int retransmit;
	/** keys per Key Offset step of plain sync messages (B) */
	u_int keys_per_offset;
	/** number of keys each end keeps negotiated for its key exchanges */
	u_int bound;
	/** whether this end (the lower address) takes the keys from its KME
	 * and announces them; the other end fetches announced keys */
	bool announcer;
};

/**
 * Configuration of one QKD link: the local KME and the two SAEs (this
 * gateway and its peer) that share keys through it.
 *
 * Read from a section charon.plugins.qkd.links.<name> in strongswan.conf.
 */
struct qkd_link_t {

	/**
	 * Name of the link (the settings section name).
	 *
	 * @return			link name
	 */
	char *(*get_name)(qkd_link_t *this);

	/**
	 * Base URL of the local KME, e.g. https://kme.example.net:8443
	 *
	 * @return			KME URL, without trailing /api/v1/keys
	 */
	char *(*get_kme)(qkd_link_t *this);

	/**
	 * SAE ID of this gateway (as in its client certificate).
	 *
	 * @return			own SAE ID
	 */
	char *(*get_sae_id)(qkd_link_t *this);

	/**
	 * SAE ID of the peer gateway on this link.
	 *
	 * @return			peer SAE ID
	 */
	char *(*get_peer_sae_id)(qkd_link_t *this);

	/**
	 * Size of the keys requested from the KME.
	 *
	 * @return			key size in bits (a multiple of 8)
	 */
	u_int (*get_key_size)(qkd_link_t *this);

	/**
	 * Sizes accepted for keys the peer chose (fetched by ID).
	 *
	 * @param min		receives the smallest size, in bits
	 * @param max		receives the largest size, in bits
	 */
	void (*get_peer_key_sizes)(qkd_link_t *this, u_int *min, u_int *max);

	/**
	 * Pool settings of this link.
	 *
	 * @param capacity	receives the maximum number of Idle keys
	 * @param low		receives the low watermark of Idle keys
	 * @param wait		receives the ms a key exchange waits for a refill
	 * @param lifetime	receives the survival time of keys, seconds
	 */
	void (*get_pool_settings)(qkd_link_t *this, u_int *capacity, u_int *low,
							  u_int *wait, u_int *lifetime);

	/**
	 * Get the DOH settings of this link.
	 *
	 * @return			settings, NULL if the link does not run DOH
	 */
	qkd_doh_settings_t *(*get_doh)(qkd_link_t *this);

	/**
	 * Get the client for this link's KME, created on first use.
	 *
	 * @return			KME client (owned by the link), NULL on failure
	 */
	qkd_kme_client_t *(*get_client)(qkd_link_t *this);

	/**
	 * Get one key of the link's key size from its KME: a new one as master
	 * (enc_keys) or the one with an ID as slave (dec_keys).
	 *
	 * @param id		key ID, NULL for a new key
	 * @param result	receives the result of the call
	 * @return			key (caller destroys), NULL on failure
	 */
	qkd_key_t *(*get_key)(qkd_link_t *this, uint8_t *id,
						  qkd_kme_result_t *result);

	/**
	 * Take a token for a KME fetch triggered by an unauthenticated peer
	 * (IKE_SA_INIT, IKE_INTERMEDIATE). Token bucket with unauth_rate tokens
	 * per second and a burst of the same size.
	 *
	 * @return			TRUE if the fetch may go ahead
	 */
	bool (*allow_unauthenticated)(qkd_link_t *this);

	/**
	 * Check whether this link serves an IKE SA.
	 *
	 * A link matches if the connection name is listed in its connections
	 * option, or, failing that, if the peer address is included in one of
	 * its remote_addrs (addresses, subnets, ranges, %any).
	 *
	 * @param name		connection (peer config) name, or NULL
	 * @param peer		peer address, or NULL
	 * @return			match quality: 0 none, QKD_LINK_MATCH_NAME for the
	 *					connection name, else rated like charon's ike_cfg
	 *					rates remote_addrs: 129 for the address itself,
	 *					the prefix length + 1 for a subnet, 1 for a range
	 *					or %any
	 */
	int (*matches)(qkd_link_t *this, char *name, host_t *peer);

	/**
	 * Enumerate the connection names listed in the connections option.
	 *
	 * @return			enumerator over char*
	 */
	enumerator_t *(*create_connection_enumerator)(qkd_link_t *this);

	/**
	 * Enumerate the remote_addrs entries.
	 *
	 * @return			enumerator over traffic_selector_t*
	 */
	enumerator_t *(*create_remote_addrs_enumerator)(qkd_link_t *this);

	/**
	 * Enumerate the IKE-less children of the link (charon.plugins.qkd.
	 * links.<name>.children, only with DOH).
	 *
	 * @return			enumerator over qkd_direct_cfg_t*
	 */
	enumerator_t *(*create_child_enumerator)(qkd_link_t *this);

	/**
	 * Get a reference to this link.
	 *
	 * @return			this, with an additional reference
	 */
	qkd_link_t *(*get_ref)(qkd_link_t *this);

	/**
	 * Release a reference, destroying the link with the last one.
	 */
	void (*destroy)(qkd_link_t *this);
};

/**
 * Load a link from its strongswan.conf section.
 *
 * Logs the reason and returns NULL if the configuration is incomplete or
 * invalid.
 *
 * @param name			section name below charon.plugins.qkd.links
 * @return				link, NULL if invalid
 */
qkd_link_t *qkd_link_create_from_settings(char *name);

#endif /** QKD_LINK_H_ @}*/
