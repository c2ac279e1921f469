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
 * MPSS share messages (docs/mpss-profile.md): one Shamir share of an
 * end-to-end secret on one hop of its relay path, one-time-pad encrypted
 * and authenticated with that hop's QKD key, in the Option Data of a 0x50
 * option (message type 0x90).
 *
 * @defgroup qkd_mpss_msg qkd_mpss_msg
 * @{ @ingroup qkd
 */

#ifndef QKD_MPSS_MSG_H_
#define QKD_MPSS_MSG_H_

#include "qkd_key.h"

/**
 * Message type of a share
 */
#define QKD_MPSS_SHARE 0x90

/**
 * Longest share, bytes
 */
#define QKD_MPSS_MAX_SHARE 64

/**
 * Length of the hop MAC (HMAC-SHA256-128)
 */
#define QKD_MPSS_MAC_LEN 16

/**
 * Length of the MAC key taken from a hop key, after the pad
 */
#define QKD_MPSS_MAC_KEY_LEN 32

typedef struct qkd_mpss_share_t qkd_mpss_share_t;

/**
 * A share message.
 */
struct qkd_mpss_share_t {
	/** KEYID of the end-to-end key the share belongs to */
	uint8_t secret_id[QKD_KEY_ID_LEN];
	/** share index (its x coordinate), 1..n */
	uint8_t index;
	/** shares needed, 2..n */
	uint8_t k;
	/** shares, k..255 */
	uint8_t n;
	/** path the share travels */
	uint8_t path;
	/** KEYID of the QKD key of the hop the message is on */
	uint8_t hop_key_id[QKD_KEY_ID_LEN];
	/** the share, encrypted (plain after qkd_mpss_open()) */
	chunk_t share;
};

/**
 * Hop key length a share needs: the pad, then the MAC key.
 *
 * @param share_len		length of the share
 * @return				bytes of hop key needed
 */
static inline size_t qkd_mpss_hop_key_len(size_t share_len)
{
	return share_len + QKD_MPSS_MAC_KEY_LEN;
}

/**
 * Encrypt a share with a hop key and encode the message.
 *
 * @param msg			message, share in the clear
 * @param hop_key		the hop's QKD key, at least qkd_mpss_hop_key_len()
 * @param data			receives the allocated Option Data
 * @return				FALSE if a field is out of range or the key short
 */
bool qkd_mpss_seal(qkd_mpss_share_t *msg, chunk_t hop_key, chunk_t *data);

/**
 * Decode a share message strictly (exact length, fields in range, zero
 * flags), without checking its MAC.
 *
 * @param data			Option Data
 * @param msg			receives the message, its share encrypted (points
 *						into data)
 * @return				FALSE if malformed
 */
bool qkd_mpss_decode(chunk_t data, qkd_mpss_share_t *msg);

/**
 * Check the MAC of a decoded message with the hop key its hop_key_id names
 * and decrypt its share.
 *
 * @param data			Option Data the message was decoded from
 * @param hop_key		the hop's QKD key
 * @param share			receives the allocated share in the clear
 *						(chunk_clear() it)
 * @return				FALSE if the MAC does not verify or the key is short
 */
bool qkd_mpss_open(chunk_t data, chunk_t hop_key, chunk_t *share);

#endif /** QKD_MPSS_MSG_H_ @}*/
