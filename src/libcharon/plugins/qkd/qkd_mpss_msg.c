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

#include "qkd_mpss_msg.h"

#include <bio/bio_reader.h>
#include <bio/bio_writer.h>
#include <crypto/signers/signer.h>
#include <utils/debug.h>

/**
 * Bytes of a message before the share: type, flags, secret ID, index, k,
 * n, path, hop key ID, share length
 */
#define HEADER_LEN (1 + 1 + QKD_KEY_ID_LEN + 4 + QKD_KEY_ID_LEN + 1)

/**
 * MAC of a message's bytes before the MAC, with the MAC key of a hop key
 */
static bool mac(chunk_t before, chunk_t hop_key, size_t share_len,
				uint8_t out[QKD_MPSS_MAC_LEN])
{
	signer_t *signer;
	bool ok;

	signer = lib->crypto->create_signer(lib->crypto, AUTH_HMAC_SHA2_256_128);
	if (!signer)
	{
		DBG1(DBG_LIB, "qkd MPSS: no HMAC-SHA256-128");
		return FALSE;
	}
	ok = signer->set_key(signer, chunk_create(hop_key.ptr + share_len,
											  QKD_MPSS_MAC_KEY_LEN)) &&
		 signer->get_signature(signer, before, out);
	signer->destroy(signer);
	return ok;
}

/**
 * Whether the counts of a message make sense
 */
static bool counts_ok(qkd_mpss_share_t *msg)
{
	return msg->k >= 2 && msg->k <= msg->n && msg->index >= 1 &&
		   msg->index <= msg->n;
}

/*
 * Described in header
 */
bool qkd_mpss_seal(qkd_mpss_share_t *msg, chunk_t hop_key, chunk_t *data)
{
	uint8_t tag[QKD_MPSS_MAC_LEN];
	bio_writer_t *writer;
	chunk_t encrypted;
	size_t i;
	bool ok;

	if (!counts_ok(msg) || !msg->share.len ||
		msg->share.len > QKD_MPSS_MAX_SHARE ||
		hop_key.len < qkd_mpss_hop_key_len(msg->share.len))
	{
		return FALSE;
	}
	writer = bio_writer_create(HEADER_LEN + msg->share.len +
							   QKD_MPSS_MAC_LEN);
	writer->write_uint8(writer, QKD_MPSS_SHARE);
	writer->write_uint8(writer, 0);
	writer->write_data(writer, chunk_create(msg->secret_id, QKD_KEY_ID_LEN));
	writer->write_uint8(writer, msg->index);
	writer->write_uint8(writer, msg->k);
	writer->write_uint8(writer, msg->n);
	writer->write_uint8(writer, msg->path);
	writer->write_data(writer, chunk_create(msg->hop_key_id,
											QKD_KEY_ID_LEN));
	writer->write_uint8(writer, msg->share.len);
	encrypted = writer->skip(writer, msg->share.len);
	for (i = 0; i < msg->share.len; i++)
	{	/* one-time pad */
		encrypted.ptr[i] = msg->share.ptr[i] ^ hop_key.ptr[i];
	}
	ok = mac(writer->get_buf(writer), hop_key, msg->share.len, tag);
	writer->write_data(writer, chunk_create(tag, QKD_MPSS_MAC_LEN));
	*data = writer->extract_buf(writer);
	writer->destroy(writer);
	if (!ok)
	{
		chunk_free(data);
	}
	return ok;
}

/*
 * Described in header
 */
bool qkd_mpss_decode(chunk_t data, qkd_mpss_share_t *msg)
{
	bio_reader_t *reader;
	uint8_t type, flags, len;
	chunk_t secret_id, hop_key_id;
	bool ok;

	memset(msg, 0, sizeof(*msg));
	reader = bio_reader_create(data);
	ok = reader->read_uint8(reader, &type) && type == QKD_MPSS_SHARE &&
		 reader->read_uint8(reader, &flags) && flags == 0 &&
		 reader->read_data(reader, QKD_KEY_ID_LEN, &secret_id) &&
		 reader->read_uint8(reader, &msg->index) &&
		 reader->read_uint8(reader, &msg->k) &&
		 reader->read_uint8(reader, &msg->n) &&
		 reader->read_uint8(reader, &msg->path) &&
		 reader->read_data(reader, QKD_KEY_ID_LEN, &hop_key_id) &&
		 reader->read_uint8(reader, &len) &&
		 len >= 1 && len <= QKD_MPSS_MAX_SHARE &&
		 reader->read_data(reader, len, &msg->share) &&
		 reader->remaining(reader) == QKD_MPSS_MAC_LEN &&
		 counts_ok(msg);
	reader->destroy(reader);
	if (!ok)
	{
		memset(msg, 0, sizeof(*msg));
		return FALSE;
	}
	memcpy(msg->secret_id, secret_id.ptr, QKD_KEY_ID_LEN);
	memcpy(msg->hop_key_id, hop_key_id.ptr, QKD_KEY_ID_LEN);
	return TRUE;
}

/*
 * Described in header
 */
bool qkd_mpss_open(chunk_t data, chunk_t hop_key, chunk_t *share)
{
	uint8_t expected[QKD_MPSS_MAC_LEN];
	qkd_mpss_share_t msg;
	chunk_t before;
	size_t i;

	if (!qkd_mpss_decode(data, &msg) ||
		hop_key.len < qkd_mpss_hop_key_len(msg.share.len))
	{
		return FALSE;
	}
	before = chunk_create(data.ptr, data.len - QKD_MPSS_MAC_LEN);
	if (!mac(before, hop_key, msg.share.len, expected) ||
		!memeq_const(expected, data.ptr + before.len, QKD_MPSS_MAC_LEN))
	{
		return FALSE;
	}
	*share = chunk_alloc(msg.share.len);
	for (i = 0; i < share->len; i++)
	{
		share->ptr[i] = msg.share.ptr[i] ^ hop_key.ptr[i];
	}
	return TRUE;
}
