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

/*
 * Writes the seed corpus of fuzz_doh_msg (fuzz/corpus/doh_msg): valid
 * headers of every message type, with and without AUTH, and a few valid
 * layouts qkd_doh_encode() does not produce. Usage: gen_doh_corpus DIR
 * (testing/fuzz-doh --regen-corpus).
 */

#include <stdio.h>

#include <library.h>

#include "qkd_doh_msg.h"

static char *dir;
static int written;

static qkd_doh_auth_t auth = {
	.key_ref = 1,
	.timestamp = 1767225600,
	.seq = 42,
	.mac = { 0xa0,0xa1,0xa2,0xa3,0xa4,0xa5,0xa6,0xa7,
			 0xa8,0xa9,0xaa,0xab,0xac,0xad,0xae,0xaf },
};

static uint8_t id[QKD_KEY_ID_LEN] = {
	0x10,0x11,0x12,0x13,0x14,0x15,0x16,0x17,
	0x18,0x19,0x1a,0x1b,0x1c,0x1d,0x1e,0x1f,
};

/**
 * Write a header that must decode
 */
static void write_raw(char *name, chunk_t doh)
{
	qkd_doh_msg_t msg;
	qkd_doh_auth_t a;
	char path[PATH_MAX];
	bool has_auth;
	FILE *f;

	if (!qkd_doh_decode(doh, &msg, &a, &has_auth, NULL, NULL))
	{
		fprintf(stderr, "%s does not decode\n", name);
		exit(1);
	}
	qkd_doh_msg_clear(&msg);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(doh.ptr, 1, doh.len, f) != doh.len || fclose(f))
	{
		fprintf(stderr, "writing %s failed\n", path);
		exit(1);
	}
	written++;
}

/**
 * Encode and write a message, with and without AUTH
 */
static void write_msg(char *name, qkd_doh_msg_t *msg)
{
	char buf[128];
	chunk_t doh;
	bool range, deflate = FALSE;
	int i;

	range = msg->type == QKD_DOH_REQ_SYNC_RANGE ||
			msg->type == QKD_DOH_ACK_AVAILABLE_RANGE;
	if (range)
	{
		deflate = msg->range.deflate;
	}
	for (i = 0; i < 2; i++)
	{
		if (range)
		{	/* encoding may clear it */
			msg->range.deflate = deflate;
		}
		if (!qkd_doh_encode(msg, i ? NULL : &auth, 59, &doh, NULL))
		{
			fprintf(stderr, "encoding %s failed\n", name);
			exit(1);
		}
		snprintf(buf, sizeof(buf), "%s%s", name, i ? "-noauth" : "");
		write_raw(buf, doh);
		chunk_free(&doh);
	}
}

int main(int argc, char *argv[])
{
	uint8_t bitmap[250000] = {}, seed[32];
	qkd_doh_msg_t msg;
	u_int i;

	if (argc != 2)
	{
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 1;
	}
	dir = argv[1];
	memset(seed, 0x5a, sizeof(seed));

	/* draft example */
	bitmap[0] = 0x49;
	msg = (qkd_doh_msg_t){
		.type = QKD_DOH_REQ_SYNC,
		.sync = { .offset = 0, .bitmap = chunk_create(bitmap, 3) },
	};
	write_msg("req_sync-draft", &msg);
	for (i = 0; i < 253; i++)
	{
		bitmap[i] = i * 37;
	}
	msg = (qkd_doh_msg_t){
		.type = QKD_DOH_ACK_AVAILABLE,
		.sync = { .offset = 255, .bitmap = chunk_create(bitmap, 253) },
	};
	write_msg("ack_available-max", &msg);
	msg.sync.bitmap.len = 1;
	write_msg("ack_available-min", &msg);

	msg = (qkd_doh_msg_t){
		.type = QKD_DOH_REQ_NEGOTIATE,
		.negotiate = { .index = 4, .auth_alg = 2, .enc_alg = 1,
					   .timestamp = 1767225600 },
	};
	write_msg("req_negotiate-plain", &msg);
	msg.negotiate.survival = 3600;
	msg.negotiate.seed = chunk_create(seed, 32);
	msg.negotiate.has_channel = TRUE;
	msg.negotiate.channel = 0x0102030405060708;
	msg.negotiate.has_keyid = TRUE;
	memcpy(msg.negotiate.keyid, id, QKD_KEY_ID_LEN);
	write_msg("req_negotiate-tlvs", &msg);
	/* an IKE-less child's key: ESP AES-256-GCM-16, Auth Alg none */
	msg.negotiate.auth_alg = 0;
	msg.negotiate.seed = chunk_empty;
	msg.negotiate.has_channel = FALSE;
	msg.negotiate.child = chunk_from_str("net-1.a_b");
	write_msg("req_negotiate-child", &msg);

	msg = (qkd_doh_msg_t){
		.type = QKD_DOH_CONFIRM_NEGOTIATE,
		.confirm = { .status = QKD_DOH_SUCCESS, .ts_echo = 1767225600 },
	};
	write_msg("confirm_negotiate", &msg);
	msg.confirm.status = QKD_DOH_UNSUPPORTED_ALG;
	write_msg("confirm_negotiate-unsupported", &msg);
	msg.confirm.status = QKD_DOH_UNKNOWN_CHILD;
	write_msg("confirm_negotiate-unknown-child", &msg);

	/* range: plain, small deflate, large deflate, non-aligned start */
	memset(bitmap, 0, sizeof(bitmap));
	bitmap[0] = 0x49;
	msg = (qkd_doh_msg_t){
		.type = QKD_DOH_REQ_SYNC_RANGE,
		.range = { .start = 1, .count = 10, .pool_size = 1000000,
				   .bitmap = chunk_create(bitmap, 3) },
	};
	write_msg("req_sync_range-plain", &msg);
	msg.range.deflate = TRUE;
	write_msg("req_sync_range-deflate", &msg);
	for (i = 0; i < 250000; i += 250)
	{
		bitmap[i] = 0x80;
	}
	msg = (qkd_doh_msg_t){
		.type = QKD_DOH_ACK_AVAILABLE_RANGE,
		.range = { .start = 1, .count = 100000, .pool_size = 1000000,
				   .deflate = TRUE, .bitmap = chunk_create(bitmap, 25000) },
	};
	write_msg("ack_available_range-deflate", &msg);
	msg.range.start = 1003;
	msg.range.count = 957;
	msg.range.deflate = FALSE;
	msg.range.bitmap = qkd_doh_bitmap_extract(chunk_create(bitmap, 250000),
											  1003, 957);
	write_msg("ack_available_range-plain", &msg);
	chunk_free(&msg.range.bitmap);

	msg = (qkd_doh_msg_t){
		.type = QKD_DOH_KEY_ANNOUNCE,
		.announce = { .seq = 1, .count = 1, .first_index = 1 },
	};
	for (i = 0; i < QKD_DOH_MAX_ANNOUNCE; i++)
	{
		memcpy(msg.announce.ids[i], id, QKD_KEY_ID_LEN);
		msg.announce.ids[i][0] = i;
	}
	write_msg("key_announce-1", &msg);
	msg.announce.count = 15;
	write_msg("key_announce-15", &msg);
	msg.type = QKD_DOH_ANNOUNCE_ACK;
	msg.announce.first_index = 0;
	msg.announce.count = 0;
	msg.announce.status = 1;
	write_msg("announce_ack-0", &msg);
	msg.announce.count = 15;
	msg.announce.status = 0;
	write_msg("announce_ack-15", &msg);

	msg = (qkd_doh_msg_t){
		.type = QKD_DOH_AUTH_KEY_OFFER,
		.offer = { .flags = 1 },
	};
	memcpy(msg.offer.keyid, id, QKD_KEY_ID_LEN);
	write_msg("auth_key_offer", &msg);

	/* layouts the encoder does not produce */
	write_raw("layout-skipped-option", chunk_from_chars(
		0x3b,0x01, 0x1e,0x02,0xaa,0xbb, 0x00, 0x50,0x06,0x03,0x00,0x65,0xa1,
		0xb2,0xc3, 0x00));
	write_raw("layout-pad-before", chunk_from_chars(
		0x3b,0x01, 0x01,0x00, 0x00, 0x50,0x03,0x00,0x00,0x49, 0x01,0x01,0x00,
		0x00,0x00,0x00));
	write_raw("layout-range-stored", chunk_from_chars(
		0x3b,0x03, 0x50,0x16,0x81,0x01, 0x00,0x00,0x00,0x01,
		0x00,0x00,0x00,0x0a, 0x00,0x00,0x00,0x0a,
		0x01,0x03,0x00,0xfc,0xff,0x49,0x00,0x00, 0x01,0x04,0x00,0x00,0x00,
		0x00));

	printf("%d files written to %s\n", written, dir);
	return 0;
}
