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
 * What an MPSS node does with share packets, whatever its role: the
 * source splits a secret and sends a share along each path, a relay takes
 * the share off with the key of the hop it came on and puts it on with the
 * key of the next hop, the destination takes it off and collects it.
 * Hop keys come from a qkd_mpss_hop_keys_t (the KMEs of the node's QKD
 * links); sockets, configuration and the ETSI interface are the helper's.
 *
 * @defgroup qkd_mpss_node qkd_mpss_node
 * @{ @ingroup qkd
 */

#ifndef QKD_MPSS_NODE_H_
#define QKD_MPSS_NODE_H_

#include "qkd_mpss_collector.h"
#include "qkd_mpss_packet.h"

typedef struct qkd_mpss_node_t qkd_mpss_node_t;
typedef struct qkd_mpss_hop_keys_t qkd_mpss_hop_keys_t;
typedef struct qkd_mpss_path_t qkd_mpss_path_t;
typedef struct qkd_mpss_node_counters_t qkd_mpss_node_counters_t;
typedef enum qkd_mpss_verdict_t qkd_mpss_verdict_t;

/**
 * The QKD keys of a node's links to its neighbours.
 */
struct qkd_mpss_hop_keys_t {

	/**
	 * Take a new key shared with a neighbour (ETSI 014 enc_keys).
	 *
	 * @param neighbour	the neighbour's address (16 bytes)
	 * @param len		key length needed, bytes
	 * @param id		receives the key's ID
	 * @param key		receives the allocated key (chunk_clear() it)
	 * @return			FALSE if no key could be had
	 */
	bool (*take)(qkd_mpss_hop_keys_t *this, chunk_t neighbour, size_t len,
				 uint8_t id[QKD_KEY_ID_LEN], chunk_t *key);

	/**
	 * Get the key a neighbour took for a hop to this node (ETSI 014
	 * dec_keys); a key is handed out once only.
	 *
	 * @param neighbour	the neighbour's address (16 bytes)
	 * @param id		the key's ID
	 * @param len		key length needed, bytes
	 * @param key		receives the allocated key (chunk_clear() it)
	 * @return			FALSE if unknown, used already or too short
	 */
	bool (*fetch)(qkd_mpss_hop_keys_t *this, chunk_t neighbour,
				  uint8_t id[QKD_KEY_ID_LEN], size_t len, chunk_t *key);
};

/**
 * A path to a destination: the relays in order, the destination last.
 */
struct qkd_mpss_path_t {
	/** path ID, carried in the share messages */
	uint8_t id;
	/** segments (IPv6), the destination last */
	host_t *segments[QKD_MPSS_MAX_SEGMENTS];
	/** number of segments */
	u_int count;
};

/**
 * What a node did with a received packet.
 */
enum qkd_mpss_verdict_t {
	/** relayed: the packet was changed in place, send it on */
	QKD_MPSS_FORWARD,
	/** the share was given to the collector */
	QKD_MPSS_COLLECTED,
	/** dropped (logged and counted) */
	QKD_MPSS_DROPPED,
};

/**
 * Counters of a node.
 */
struct qkd_mpss_node_counters_t {
	/** secrets sent, shares sent */
	u_int secrets_sent, shares_sent;
	/** shares relayed, collected */
	u_int relayed, collected;
	/** packets dropped: malformed, not for this node, hop key unknown or
	 * used (or from no neighbour), MAC wrong, no key for the next hop */
	u_int malformed, not_ours, hop_key, bad_mac, next_key;
};

/**
 * MPSS share handling of one node.
 */
struct qkd_mpss_node_t {

	/**
	 * Split a secret and build a share packet for each path (source).
	 *
	 * @param id		the secret's KEYID
	 * @param secret	the secret (at most QKD_MPSS_MAX_SHARE bytes)
	 * @param k			shares needed to rebuild it
	 * @param paths		one path per share, n = count
	 * @param count		number of paths (n)
	 * @param packets	receives an allocated packet per path, the packet
	 *					for paths[i] at packets[i]
	 * @return			FALSE if splitting failed or a first hop had no key
	 *					(nothing to send then)
	 */
	bool (*send)(qkd_mpss_node_t *this, uint8_t id[QKD_KEY_ID_LEN],
				 chunk_t secret, u_int k, qkd_mpss_path_t *paths[],
				 u_int count, chunk_t packets[]);

	/**
	 * Process a received share packet (relay or destination).
	 *
	 * @param packet	the packet, IPv6 header first (changed in place
	 *					when relayed)
	 * @param now		monotonic time, ms (for the collector)
	 * @return			what was done with it
	 */
	qkd_mpss_verdict_t (*receive)(qkd_mpss_node_t *this, chunk_t packet,
								  uint64_t now);

	/**
	 * Get the counters.
	 *
	 * @param counters	receives them
	 */
	void (*get_counters)(qkd_mpss_node_t *this,
						 qkd_mpss_node_counters_t *counters);

	/**
	 * For tests only: act as a malicious relay that holds its hop keys
	 * and alters every share it relays (one bit), with valid hop MACs.
	 *
	 * @param alter		TRUE to alter the shares relayed from now on
	 */
	void (*alter_shares)(qkd_mpss_node_t *this, bool alter);

	/**
	 * Destroy a qkd_mpss_node_t.
	 */
	void (*destroy)(qkd_mpss_node_t *this);
};

/**
 * Create the share handling of a node.
 *
 * @param address	the node's address (IPv6)
 * @param keys		hop keys of its links (not owned)
 * @param collector	collector of the shares for which the node is the
 *					destination (not owned), NULL if it is none
 * @return			node, NULL if the address is not IPv6 or no RNG
 */
qkd_mpss_node_t *qkd_mpss_node_create(host_t *address,
									  qkd_mpss_hop_keys_t *keys,
									  qkd_mpss_collector_t *collector);

#endif /** QKD_MPSS_NODE_H_ @}*/
