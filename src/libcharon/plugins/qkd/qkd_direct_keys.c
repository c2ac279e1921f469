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

#include "qkd_direct_keys.h"

ENUM(qkd_direct_alg_names, QKD_DIRECT_ESP_AES_GCM, QKD_DIRECT_AH_SHA256,
	"esp-aes256gcm16",
	"esp-aes256-sha256",
	"ah-sha256",
);

/**
 * Length of an AES-256 key, of the GCM salt and of an HMAC-SHA256 key
 */
#define AES256_KEY_LEN 32
#define GCM_SALT_LEN 4
#define SHA256_KEY_LEN 32

/**
 * HKDF with a label and the direction: "<label> i->r" or "<label> r->i"
 */
static bool derive_labeled(qkd_hkdf_t *hkdf, chunk_t ikm, char *label,
						   bool from_initiator, size_t len, chunk_t *out)
{
	char info[64];

	snprintf(info, sizeof(info), "%s %s", label,
			 from_initiator ? "i->r" : "r->i");
	*out = chunk_alloc(len);
	if (!hkdf->derive(hkdf, chunk_empty, ikm, chunk_from_str(info), *out))
	{
		chunk_clear(out);
		return FALSE;
	}
	return TRUE;
}

/*
 * Described in header
 */
bool qkd_direct_derive(qkd_hkdf_t *hkdf, qkd_direct_alg_t alg,
					   chunk_t enc_key, chunk_t auth_key, bool from_initiator,
					   qkd_direct_sa_keys_t *keys)
{
	chunk_t spi;
	bool ok;

	*keys = (qkd_direct_sa_keys_t){};
	if (!derive_labeled(hkdf, enc_key, "QKD SPI", from_initiator, 4, &spi))
	{
		return FALSE;
	}
	keys->spi = QKD_DIRECT_SPI_MIN |
				(untoh32(spi.ptr) & (QKD_DIRECT_SPI_MAX - QKD_DIRECT_SPI_MIN));
	chunk_clear(&spi);
	switch (alg)
	{
		case QKD_DIRECT_ESP_AES_GCM:
			ok = derive_labeled(hkdf, enc_key, "QKD ESP", from_initiator,
								AES256_KEY_LEN + GCM_SALT_LEN, &keys->enc);
			break;
		case QKD_DIRECT_ESP_AES_CBC_SHA256:
			ok = derive_labeled(hkdf, enc_key, "QKD ESP enc", from_initiator,
								AES256_KEY_LEN, &keys->enc) &&
				 derive_labeled(hkdf, auth_key, "QKD ESP integ",
								from_initiator, SHA256_KEY_LEN, &keys->integ);
			break;
		case QKD_DIRECT_AH_SHA256:
			ok = derive_labeled(hkdf, auth_key, "QKD AH", from_initiator,
								SHA256_KEY_LEN, &keys->integ);
			break;
		default:
			ok = FALSE;
			break;
	}
	if (!ok)
	{
		qkd_direct_sa_keys_clear(keys);
	}
	return ok;
}

/*
 * Described in header
 */
void qkd_direct_sa_keys_clear(qkd_direct_sa_keys_t *keys)
{
	chunk_clear(&keys->enc);
	chunk_clear(&keys->integ);
	keys->spi = 0;
}
