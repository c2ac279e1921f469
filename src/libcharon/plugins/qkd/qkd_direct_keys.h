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
 * Keys and SPIs of an IKE-less SA pair, derived from a key negotiated over
 * DOH (docs/ikeless.md, "Keys and SPIs").
 *
 * The pool derives AuthKey and EncKey from the original key (draft tables
 * 3 and 4). Each direction of the pair gets its own SPI and keys, derived
 * from those with HKDF-SHA256 (no salt) and a label naming the direction:
 * "i" is the end that sent REQ_NEGOTIATE, "r" the one that confirmed it.
 *
 *   SPI       HKDF(EncKey,  "QKD SPI <d>", 4) into 0xd0000000-0xdfffffff
 *   ESP GCM   HKDF(EncKey,  "QKD ESP <d>", 36) (AES-256 key, 4-byte salt)
 *   ESP CBC   HKDF(EncKey,  "QKD ESP enc <d>", 32) and
 *             HKDF(AuthKey, "QKD ESP integ <d>", 32)
 *   AH        HKDF(AuthKey, "QKD AH <d>", 32)
 *
 * with <d> "i->r" or "r->i". Distinct keys per direction keep the GCM
 * nonces (salt and sequence number) of the two SAs apart.
 *
 * @defgroup qkd_direct_keys qkd_direct_keys
 * @{ @ingroup qkd
 */

#ifndef QKD_DIRECT_KEYS_H_
#define QKD_DIRECT_KEYS_H_

#include "qkd_hkdf.h"

typedef enum qkd_direct_alg_t qkd_direct_alg_t;
typedef struct qkd_direct_sa_keys_t qkd_direct_sa_keys_t;

/**
 * Lowest and highest SPI of IKE-less SAs: above charon's default range
 * for SPIs it allocates (charon.spi_min/spi_max, 0xc0000000-0xcfffffff)
 */
#define QKD_DIRECT_SPI_MIN 0xd0000000
#define QKD_DIRECT_SPI_MAX 0xdfffffff

/**
 * What an IKE-less SA pair is keyed for.
 */
enum qkd_direct_alg_t {
	/** ESP with AES-256-GCM-16 (EncKey) */
	QKD_DIRECT_ESP_AES_GCM,
	/** ESP with AES-256-CBC (EncKey) and HMAC-SHA256-128 (AuthKey) */
	QKD_DIRECT_ESP_AES_CBC_SHA256,
	/** AH with HMAC-SHA256-128 (AuthKey) */
	QKD_DIRECT_AH_SHA256,
};

/**
 * Enum names for qkd_direct_alg_t.
 */
extern enum_name_t *qkd_direct_alg_names;

/**
 * SPI and keys of one SA of the pair.
 */
struct qkd_direct_sa_keys_t {
	/** SPI, host order */
	uint32_t spi;
	/** encryption key (with the 4-byte salt for GCM), empty for AH */
	chunk_t enc;
	/** integrity key, empty for GCM */
	chunk_t integ;
};

/**
 * Derive the SPI and keys of one direction of an SA pair.
 *
 * @param hkdf			HKDF instance
 * @param alg			what the pair is keyed for
 * @param enc_key		EncKey of the negotiated key
 * @param auth_key		AuthKey of the negotiated key
 * @param from_initiator	TRUE for the SA carrying traffic from the end that
 *						sent REQ_NEGOTIATE, FALSE for the other way
 * @param keys			receives SPI and keys (clear with
 *						qkd_direct_sa_keys_clear())
 * @return				FALSE if HKDF failed
 */
bool qkd_direct_derive(qkd_hkdf_t *hkdf, qkd_direct_alg_t alg,
					   chunk_t enc_key, chunk_t auth_key, bool from_initiator,
					   qkd_direct_sa_keys_t *keys);

/**
 * Wipe and free the keys of an SA.
 *
 * @param keys			keys to clear
 */
void qkd_direct_sa_keys_clear(qkd_direct_sa_keys_t *keys);

#endif /** QKD_DIRECT_KEYS_H_ @}*/
