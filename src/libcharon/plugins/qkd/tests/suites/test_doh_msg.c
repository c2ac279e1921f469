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

#include <test_suite.h>

#include <zlib.h>

#include "qkd_doh_msg.h"

/**
 * No Next Header
 */
#define NH_NONE 59

/**
 * The AUTH option all vectors use
 */
#define AUTH_OPT \
	0x50,0x1a,0x84,0x07,0x65,0xa1,0xb2,0xc3,0x00,0x00,0x01,0x02, \
	0xa0,0xa1,0xa2,0xa3,0xa4,0xa5,0xa6,0xa7, \
	0xa8,0xa9,0xaa,0xab,0xac,0xad,0xae,0xaf

#define ID_A \
	0x10,0x11,0x12,0x13,0x14,0x15,0x16,0x17, \
	0x18,0x19,0x1a,0x1b,0x1c,0x1d,0x1e,0x1f

#define ID_B \
	0x20,0x21,0x22,0x23,0x24,0x25,0x26,0x27, \
	0x28,0x29,0x2a,0x2b,0x2c,0x2d,0x2e,0x2f

static uint8_t id_a[QKD_KEY_ID_LEN] = { ID_A };
static uint8_t id_b[QKD_KEY_ID_LEN] = { ID_B };

static qkd_doh_auth_t auth_vec = {
	.key_ref = 0x07,
	.timestamp = 0x65a1b2c3,
	.seq = 0x00000102,
	.mac = { 0xa0,0xa1,0xa2,0xa3,0xa4,0xa5,0xa6,0xa7,
			 0xa8,0xa9,0xaa,0xab,0xac,0xad,0xae,0xaf },
};

/**
 * The draft's worked example (table 6), statuses of keys 1..10 on device A
 */
static u_int draft_statuses[] = { 1, 0, 2, 1, 0, 0, 0, 0, 0, 0 };
static uint8_t draft_bitmap[] = { 0x49, 0x00, 0x00 };

static uint8_t range_bitmap[] = { 0x1b, 0x80 };
static uint8_t seed[] = { 0x01, 0x02, 0x03, 0x04 };

/**
 * Byte-exact test vectors
 */
static uint8_t vec_req_sync[] = {
	0x3b,0x04, 0x50,0x05,0x00,0x00,0x49,0x00,0x00, AUTH_OPT, 0x01,0x01,0x00,
};
static uint8_t vec_ack_available[] = {
	0x3b,0x04, 0x50,0x03,0x01,0x03,0xe4, AUTH_OPT, 0x01,0x03,0x00,0x00,0x00,
};
static uint8_t vec_req_negotiate[] = {
	0x3b,0x0a, 0x50,0x34,
	0x02,0x00,0x00,0x00,0x00,0x04,0x02,0x01,0x65,0xa1,0xb2,0xc3,
	0x01,0x04,0x00,0x00,0x0e,0x10,
	0x02,0x04,0x01,0x02,0x03,0x04,
	0x03,0x08,0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,
	0x80,0x10, ID_A,
	AUTH_OPT, 0x01,0x02,0x00,0x00,
};
static uint8_t vec_confirm[] = {
	0x3b,0x04, 0x50,0x06,0x03,0x80,0x65,0xa1,0xb2,0xc3, AUTH_OPT, 0x01,0x00,
};
static uint8_t vec_req_sync_range[] = {
	0x3b,0x06, 0x50,0x11,0x80,0x00,
	0x00,0x00,0x03,0xf5, 0x00,0x00,0x00,0x0a, 0x00,0x0f,0x42,0x40,
	0x49,0x00,0x00,
	AUTH_OPT, 0x01,0x05,0x00,0x00,0x00,0x00,0x00,
};
static uint8_t vec_ack_available_range[] = {
	0x3b,0x05, 0x50,0x10,0x81,0x00,
	0x00,0x00,0x00,0x01, 0x00,0x00,0x00,0x05, 0x00,0x00,0x00,0x05,
	0x1b,0x80,
	AUTH_OPT,
};
static uint8_t vec_key_announce[] = {
	0x3b,0x08, 0x50,0x28,0x82,0x01,0x02,0x02, 0x00,0x00,0x00,0x07,
	ID_A, ID_B, AUTH_OPT,
};
static uint8_t vec_announce_ack[] = {
	0x3b,0x06, 0x50,0x15,0x83,0x01,0x02,0x01,0x01, ID_A,
	AUTH_OPT, 0x01,0x01,0x00,
};
static uint8_t vec_offer[] = {
	0x3b,0x02, 0x50,0x12,0x85,0x01, ID_A, 0x01,0x00,
};
static uint8_t vec_sync_pad1[] = {
	0x11,0x00, 0x50,0x03,0x00,0x07,0xe4, 0x00,
};
/* decode only: the draft example as a stored raw DEFLATE block */
static uint8_t vec_range_stored[] = {
	0x3b,0x06, 0x50,0x16,0x81,0x01,
	0x00,0x00,0x00,0x01, 0x00,0x00,0x00,0x0a, 0x00,0x00,0x00,0x0a,
	0x01,0x03,0x00,0xfc,0xff,0x49,0x00,0x00,
	AUTH_OPT, 0x01,0x00,
};

static void build_req_sync(qkd_doh_msg_t *msg)
{
	msg->type = QKD_DOH_REQ_SYNC;
	msg->sync.offset = 0;
	msg->sync.bitmap = chunk_create(draft_bitmap, sizeof(draft_bitmap));
}

static void build_ack_available(qkd_doh_msg_t *msg)
{
	static uint8_t bitmap[] = { 0xe4 };

	msg->type = QKD_DOH_ACK_AVAILABLE;
	msg->sync.offset = 3;
	msg->sync.bitmap = chunk_create(bitmap, sizeof(bitmap));
}

static void build_req_negotiate(qkd_doh_msg_t *msg)
{
	msg->type = QKD_DOH_REQ_NEGOTIATE;
	msg->negotiate.index = 4;
	msg->negotiate.auth_alg = 0x02;
	msg->negotiate.enc_alg = 0x01;
	msg->negotiate.timestamp = 0x65a1b2c3;
	msg->negotiate.survival = 3600;
	msg->negotiate.seed = chunk_create(seed, sizeof(seed));
	msg->negotiate.has_channel = TRUE;
	msg->negotiate.channel = 0x0102030405060708;
	msg->negotiate.has_keyid = TRUE;
	memcpy(msg->negotiate.keyid, id_a, QKD_KEY_ID_LEN);
}

static void build_confirm(qkd_doh_msg_t *msg)
{
	msg->type = QKD_DOH_CONFIRM_NEGOTIATE;
	msg->confirm.status = QKD_DOH_UNSUPPORTED_ALG;
	msg->confirm.ts_echo = 0x65a1b2c3;
}

static void build_req_sync_range(qkd_doh_msg_t *msg)
{
	msg->type = QKD_DOH_REQ_SYNC_RANGE;
	msg->range.start = 1013;
	msg->range.count = 10;
	msg->range.pool_size = 1000000;
	msg->range.bitmap = chunk_create(draft_bitmap, sizeof(draft_bitmap));
}

static void build_ack_available_range(qkd_doh_msg_t *msg)
{
	msg->type = QKD_DOH_ACK_AVAILABLE_RANGE;
	msg->range.start = 1;
	msg->range.count = 5;
	msg->range.pool_size = 5;
	msg->range.bitmap = chunk_create(range_bitmap, sizeof(range_bitmap));
}

static void build_key_announce(qkd_doh_msg_t *msg)
{
	msg->type = QKD_DOH_KEY_ANNOUNCE;
	msg->announce.seq = 0x0102;
	msg->announce.count = 2;
	msg->announce.first_index = 7;
	memcpy(msg->announce.ids[0], id_a, QKD_KEY_ID_LEN);
	memcpy(msg->announce.ids[1], id_b, QKD_KEY_ID_LEN);
}

static void build_announce_ack(qkd_doh_msg_t *msg)
{
	msg->type = QKD_DOH_ANNOUNCE_ACK;
	msg->announce.seq = 0x0102;
	msg->announce.status = 1;
	msg->announce.count = 1;
	memcpy(msg->announce.ids[0], id_a, QKD_KEY_ID_LEN);
}

static void build_offer(qkd_doh_msg_t *msg)
{
	msg->type = QKD_DOH_AUTH_KEY_OFFER;
	msg->offer.flags = 0x01;
	memcpy(msg->offer.keyid, id_a, QKD_KEY_ID_LEN);
}

static void build_sync_pad1(qkd_doh_msg_t *msg)
{
	static uint8_t bitmap[] = { 0xe4 };

	msg->type = QKD_DOH_REQ_SYNC;
	msg->sync.offset = 7;
	msg->sync.bitmap = chunk_create(bitmap, sizeof(bitmap));
}

static void build_range_stored(qkd_doh_msg_t *msg)
{
	msg->type = QKD_DOH_ACK_AVAILABLE_RANGE;
	msg->range.start = 1;
	msg->range.count = 10;
	msg->range.pool_size = 10;
	msg->range.bitmap = chunk_create(draft_bitmap, sizeof(draft_bitmap));
}

/**
 * A chunk of a static array, in a static initializer
 */
#define VEC(x) { x, sizeof(x) }

static struct {
	/** fills in the message */
	void (*build)(qkd_doh_msg_t *msg);
	/** expected header */
	chunk_t doh;
	/** whether it has the AUTH option */
	bool auth;
	/** Next Header */
	uint8_t nh;
	/** expected MAC offset */
	size_t mac_offset;
	/** whether encoding gives these bytes (else decode only) */
	bool encode;
} vectors[] = {
	{ build_req_sync, VEC(vec_req_sync), TRUE, NH_NONE, 21, TRUE },
	{ build_ack_available, VEC(vec_ack_available), TRUE, NH_NONE, 19, TRUE },
	{ build_req_negotiate, VEC(vec_req_negotiate), TRUE, NH_NONE, 68, TRUE },
	{ build_confirm, VEC(vec_confirm), TRUE, NH_NONE, 22, TRUE },
	{ build_req_sync_range, VEC(vec_req_sync_range), TRUE, NH_NONE, 33, TRUE },
	{ build_ack_available_range, VEC(vec_ack_available_range), TRUE, NH_NONE, 32, TRUE },
	{ build_key_announce, VEC(vec_key_announce), TRUE, NH_NONE, 56, TRUE },
	{ build_announce_ack, VEC(vec_announce_ack), TRUE, NH_NONE, 37, TRUE },
	{ build_offer, VEC(vec_offer), FALSE, NH_NONE, 0, TRUE },
	{ build_sync_pad1, VEC(vec_sync_pad1), FALSE, 0x11, 0, TRUE },
	{ build_range_stored, VEC(vec_range_stored), TRUE, NH_NONE, 38, FALSE },
};

/**
 * Decode a header that must be valid, check the result against msg
 */
static void assert_decodes(chunk_t doh, qkd_doh_msg_t *msg)
{
	qkd_doh_msg_t dec;
	qkd_doh_auth_t auth;
	bool has_auth;

	ck_assert(qkd_doh_decode(doh, &dec, &auth, &has_auth, NULL, NULL));
	ck_assert(qkd_doh_msg_equals(&dec, msg));
	qkd_doh_msg_clear(&dec);
}

/**
 * Decode a header that must be refused
 */
static void assert_refused(chunk_t doh)
{
	qkd_doh_msg_t dec;
	qkd_doh_auth_t auth;
	bool has_auth;

	ck_assert_msg(!qkd_doh_decode(doh, &dec, &auth, &has_auth, NULL, NULL),
				  "accepted %B", &doh);
}

/**
 * Encode msg with auth_vec or without AUTH, return the header
 */
static chunk_t encode(qkd_doh_msg_t *msg, bool auth)
{
	chunk_t doh;

	ck_assert(qkd_doh_encode(msg, auth ? &auth_vec : NULL, NH_NONE, &doh,
							 NULL));
	return doh;
}

/*******************************************************************************
 * draft example
 */

START_TEST(test_draft_example)
{
	uint8_t buf[3] = {};
	chunk_t bitmap = chunk_from_thing(buf);
	u_int i;

	for (i = 0; i < countof(draft_statuses); i++)
	{
		qkd_doh_bitmap_set(bitmap, i, draft_statuses[i]);
	}
	ck_assert_chunk_eq(bitmap, chunk_from_chars(0x49, 0x00, 0x00));
	for (i = 0; i < countof(draft_statuses); i++)
	{
		ck_assert_int_eq(qkd_doh_bitmap_get(bitmap, i), draft_statuses[i]);
	}
	/* the padding reads as Idle, beyond the bitmap as invalid/blank */
	ck_assert_int_eq(qkd_doh_bitmap_get(bitmap, 11), 0);
	ck_assert_int_eq(qkd_doh_bitmap_get(bitmap, 12), 3);
	ck_assert_int_eq(qkd_doh_bitmap_get(chunk_empty, 0), 3);

	/* set overwrites */
	qkd_doh_bitmap_set(bitmap, 0, 3);
	ck_assert_int_eq(buf[0], 0xc9);
	qkd_doh_bitmap_set(bitmap, 0, 0);
	ck_assert_int_eq(buf[0], 0x09);
}
END_TEST

START_TEST(test_type_names)
{
	ck_assert_str_eq(enum_to_name(qkd_doh_type_names, QKD_DOH_REQ_SYNC),
					 "REQ_SYNC");
	ck_assert_str_eq(enum_to_name(qkd_doh_type_names,
								  QKD_DOH_CONFIRM_NEGOTIATE),
					 "CONFIRM_NEGOTIATE");
	ck_assert_str_eq(enum_to_name(qkd_doh_type_names,
								  QKD_DOH_REQ_SYNC_RANGE), "REQ_SYNC_RANGE");
	ck_assert_str_eq(enum_to_name(qkd_doh_type_names,
								  QKD_DOH_AUTH_KEY_OFFER), "AUTH_KEY_OFFER");
	ck_assert(enum_to_name(qkd_doh_type_names, 0x04) == NULL);
	ck_assert(enum_to_name(qkd_doh_type_names, 0x86) == NULL);
}
END_TEST

/*******************************************************************************
 * byte-exact vectors
 */

START_TEST(test_vector_encode)
{
	qkd_doh_msg_t msg = {};
	chunk_t doh;
	size_t mac_offset = 42;

	if (!vectors[_i].encode)
	{
		return;
	}
	vectors[_i].build(&msg);
	ck_assert(qkd_doh_encode(&msg, vectors[_i].auth ? &auth_vec : NULL,
							 vectors[_i].nh, &doh, &mac_offset));
	ck_assert_chunk_eq(doh, vectors[_i].doh);
	ck_assert_int_eq(mac_offset, vectors[_i].mac_offset);
	chunk_free(&doh);
}
END_TEST

START_TEST(test_vector_decode)
{
	qkd_doh_msg_t msg = {}, dec;
	qkd_doh_auth_t auth;
	chunk_t doh = vectors[_i].doh;
	size_t mac_offset = 42;
	uint8_t nh = 0;
	bool has_auth;

	vectors[_i].build(&msg);
	ck_assert(qkd_doh_decode(doh, &dec, &auth, &has_auth, &nh, &mac_offset));
	ck_assert(qkd_doh_msg_equals(&dec, &msg));
	ck_assert(qkd_doh_msg_equals(&msg, &dec));
	ck_assert_int_eq(dec.type, msg.type);
	ck_assert(has_auth == vectors[_i].auth);
	ck_assert_int_eq(nh, vectors[_i].nh);
	ck_assert_int_eq(mac_offset, vectors[_i].mac_offset);
	if (has_auth)
	{
		ck_assert(memeq(&auth, &auth_vec, sizeof(auth)));
		ck_assert(memeq(doh.ptr + mac_offset, auth_vec.mac, QKD_DOH_MAC_LEN));
	}
	switch (dec.type)
	{
		case QKD_DOH_REQ_SYNC:
		case QKD_DOH_ACK_AVAILABLE:
			/* points into the header */
			ck_assert(dec.sync.bitmap.ptr > doh.ptr &&
					  dec.sync.bitmap.ptr < doh.ptr + doh.len);
			break;
		case QKD_DOH_REQ_SYNC_RANGE:
		case QKD_DOH_ACK_AVAILABLE_RANGE:
			ck_assert(dec.range.deflate == !vectors[_i].encode);
			break;
		default:
			break;
	}
	qkd_doh_msg_clear(&dec);
}
END_TEST

START_TEST(test_vector_roundtrip)
{
	qkd_doh_msg_t msg = {}, dec;
	qkd_doh_auth_t auth;
	chunk_t doh;
	bool has_auth, deflate;
	int i;

	vectors[_i].build(&msg);
	for (i = 0; i < 2; i++)
	{
		deflate = i;
		if (msg.type == QKD_DOH_REQ_SYNC_RANGE ||
			msg.type == QKD_DOH_ACK_AVAILABLE_RANGE)
		{
			msg.range.deflate = deflate;
		}
		doh = encode(&msg, vectors[_i].auth);
		ck_assert(doh.len % 8 == 0);
		ck_assert_int_eq(doh.ptr[1], doh.len / 8 - 1);
		ck_assert(qkd_doh_decode(doh, &dec, &auth, &has_auth, NULL, NULL));
		ck_assert(qkd_doh_msg_equals(&dec, &msg));
		if (msg.type == QKD_DOH_REQ_SYNC_RANGE ||
			msg.type == QKD_DOH_ACK_AVAILABLE_RANGE)
		{	/* small bitmaps compress into fewer than 240 bytes */
			ck_assert(dec.range.deflate == deflate);
			ck_assert(msg.range.deflate == deflate);
			ck_assert_int_eq(doh.ptr[5], deflate ? 0x01 : 0x00);
		}
		qkd_doh_msg_clear(&dec);
		chunk_free(&doh);
	}
}
END_TEST

/**
 * All prefixes of a valid header are refused
 */
START_TEST(test_vector_truncated)
{
	chunk_t doh = vectors[_i].doh;
	size_t len;

	for (len = 0; len < doh.len; len++)
	{
		assert_refused(chunk_create(doh.ptr, len));
	}
	/* and anything longer */
	doh = chunk_cata("cc", doh, chunk_from_chars(0,0,0,0,0,0,0,0));
	for (len = vectors[_i].doh.len + 1; len <= doh.len; len++)
	{
		assert_refused(chunk_create(doh.ptr, len));
	}
}
END_TEST

/**
 * Prefixes with consistent length (Hdr Ext Len fixed, rest filled with zeros
 * i.e. Pad1) and single byte mutations: never crash, and what decodes
 * re-encodes to the same message
 */
START_TEST(test_vector_mutated)
{
	qkd_doh_msg_t dec, dec2;
	qkd_doh_auth_t auth, auth2;
	chunk_t doh, doh2;
	bool has_auth, has_auth2;
	size_t len, i;
	u_int v;
	uint8_t nh;

	doh = chunk_clone(vectors[_i].doh);
	for (len = 2; len < doh.len; len++)
	{
		memcpy(doh.ptr, vectors[_i].doh.ptr, doh.len);
		memset(doh.ptr + len, 0, doh.len - len);
		if (qkd_doh_decode(doh, &dec, &auth, &has_auth, NULL, NULL))
		{
			qkd_doh_msg_clear(&dec);
		}
	}
	for (i = 0; i < doh.len; i++)
	{
		for (v = 0; v < 256; v++)
		{
			memcpy(doh.ptr, vectors[_i].doh.ptr, doh.len);
			doh.ptr[i] = v;
			if (!qkd_doh_decode(doh, &dec, &auth, &has_auth, &nh, NULL))
			{
				continue;
			}
			ck_assert(qkd_doh_encode(&dec, has_auth ? &auth : NULL, nh,
									 &doh2, NULL));
			ck_assert(qkd_doh_decode(doh2, &dec2, &auth2, &has_auth2, NULL,
									 NULL));
			ck_assert(qkd_doh_msg_equals(&dec, &dec2));
			ck_assert(has_auth == has_auth2);
			ck_assert(!has_auth || memeq(&auth, &auth2, sizeof(auth)));
			qkd_doh_msg_clear(&dec);
			qkd_doh_msg_clear(&dec2);
			chunk_free(&doh2);
		}
	}
	chunk_free(&doh);
}
END_TEST

/*******************************************************************************
 * padding
 */

START_TEST(test_padding)
{
	uint8_t buf[16] = {};
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_REQ_SYNC,
		.sync = { .bitmap = chunk_create(buf, _i + 1) },
	};
	chunk_t doh;
	size_t used, pad, i;
	bool auth;
	int j;

	for (j = 0; j < 2; j++)
	{
		auth = j;
		doh = encode(&msg, auth);
		used = 2 + 2 + 2 + msg.sync.bitmap.len + (auth ? 28 : 0);
		pad = (8 - used % 8) % 8;
		ck_assert_int_eq(doh.len, used + pad);
		ck_assert_int_eq(doh.ptr[1], doh.len / 8 - 1);
		if (pad == 1)
		{
			ck_assert_int_eq(doh.ptr[used], 0x00);
		}
		else if (pad)
		{
			ck_assert_int_eq(doh.ptr[used], 0x01);
			ck_assert_int_eq(doh.ptr[used + 1], pad - 2);
			for (i = used + 2; i < doh.len; i++)
			{
				ck_assert_int_eq(doh.ptr[i], 0);
			}
		}
		assert_decodes(doh, &msg);
		chunk_free(&doh);
	}
}
END_TEST

/*******************************************************************************
 * field boundaries
 */

START_TEST(test_sync_bitmap_len)
{
	uint8_t buf[254];
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_ACK_AVAILABLE,
		.sync = { .offset = 255 },
	};
	chunk_t doh;

	memset(buf, 0x5a, sizeof(buf));
	msg.sync.bitmap = chunk_create(buf, 253);
	doh = encode(&msg, TRUE);
	ck_assert_int_eq(doh.ptr[3], 255);
	assert_decodes(doh, &msg);
	chunk_free(&doh);

	msg.sync.bitmap = chunk_create(buf, 1);
	doh = encode(&msg, FALSE);
	assert_decodes(doh, &msg);
	/* no bitmap at all */
	doh.ptr[3] = 2;
	assert_refused(doh);
	chunk_free(&doh);

	msg.sync.bitmap = chunk_create(buf, 254);
	ck_assert(!qkd_doh_encode(&msg, NULL, NH_NONE, &doh, NULL));
	msg.sync.bitmap = chunk_empty;
	ck_assert(!qkd_doh_encode(&msg, NULL, NH_NONE, &doh, NULL));
}
END_TEST

START_TEST(test_announce_count)
{
	qkd_doh_msg_t msg = {
		.type = _i ? QKD_DOH_ANNOUNCE_ACK : QKD_DOH_KEY_ANNOUNCE,
		.announce = { .seq = 0xffff, .first_index = _i ? 0 : 0xfffffff1 },
	};
	chunk_t doh;
	u_int i;

	for (i = 0; i < QKD_DOH_MAX_ANNOUNCE; i++)
	{
		memset(msg.announce.ids[i], i + 1, QKD_KEY_ID_LEN);
	}
	msg.announce.count = 15;
	doh = encode(&msg, TRUE);
	assert_decodes(doh, &msg);
	/* claim 16 (can't be followed by 16 IDs in an option) or 14 */
	doh.ptr[_i ? 8 : 7] = 16;
	assert_refused(doh);
	doh.ptr[_i ? 8 : 7] = 14;
	assert_refused(doh);
	chunk_free(&doh);

	msg.announce.count = 16;
	ck_assert(!qkd_doh_encode(&msg, NULL, NH_NONE, &doh, NULL));
	if (!_i)
	{	/* Indexes from 1 on, the last one in 32 bits */
		msg.announce.count = 15;
		msg.announce.first_index = 0xfffffff2;
		ck_assert(!qkd_doh_encode(&msg, NULL, NH_NONE, &doh, NULL));
		msg.announce.first_index = 0;
		ck_assert(!qkd_doh_encode(&msg, NULL, NH_NONE, &doh, NULL));
		msg.announce.first_index = 1;
		doh = encode(&msg, TRUE);
		doh.ptr[11] = 0;
		assert_refused(doh);
		chunk_free(&doh);
	}

	msg.announce.count = 1;
	doh = encode(&msg, TRUE);
	assert_decodes(doh, &msg);
	chunk_free(&doh);

	msg.announce.count = 0;
	if (_i)
	{	/* an ack may list none */
		doh = encode(&msg, TRUE);
		assert_decodes(doh, &msg);
		chunk_free(&doh);
	}
	else
	{
		ck_assert(!qkd_doh_encode(&msg, NULL, NH_NONE, &doh, NULL));
		/* count 0, no IDs */
		assert_refused(chunk_from_chars(0x3b,0x00, 0x50,0x04,0x82,0x00,0x01,
										0x00));
	}
}
END_TEST

START_TEST(test_negotiate_tlvs)
{
	uint8_t buf[33];
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_REQ_NEGOTIATE,
		.negotiate = {
			.index = 0xffffffff,
			.auth_alg = 0x03,
			.enc_alg = 0x02,
			.timestamp = 0xffffffff,
		},
	};
	chunk_t doh;

	memset(buf, 0x77, sizeof(buf));
	/* no TLV at all */
	doh = encode(&msg, TRUE);
	ck_assert_int_eq(doh.ptr[3], 12);
	assert_decodes(doh, &msg);
	chunk_free(&doh);

	/* shortest and longest seed, largest survival time */
	msg.negotiate.survival = 0xffffffff;
	msg.negotiate.seed = chunk_create(buf, 1);
	doh = encode(&msg, TRUE);
	assert_decodes(doh, &msg);
	chunk_free(&doh);
	msg.negotiate.seed = chunk_create(buf, 32);
	doh = encode(&msg, TRUE);
	assert_decodes(doh, &msg);
	chunk_free(&doh);
	msg.negotiate.seed = chunk_create(buf, 33);
	ck_assert(!qkd_doh_encode(&msg, NULL, NH_NONE, &doh, NULL));

	/* each TLV alone */
	msg.negotiate.seed = chunk_empty;
	msg.negotiate.survival = 0;
	msg.negotiate.has_channel = TRUE;
	msg.negotiate.channel = 0xffffffffffffffff;
	doh = encode(&msg, FALSE);
	assert_decodes(doh, &msg);
	chunk_free(&doh);
	msg.negotiate.has_channel = FALSE;
	msg.negotiate.has_keyid = TRUE;
	memset(msg.negotiate.keyid, 0xff, QKD_KEY_ID_LEN);
	doh = encode(&msg, FALSE);
	assert_decodes(doh, &msg);
	chunk_free(&doh);

	/* IKE-less child names: 1 to 32 letters, digits, '.', '-', '_' */
	msg.negotiate.child = chunk_from_str("net-1.a_B");
	doh = encode(&msg, TRUE);
	assert_decodes(doh, &msg);
	chunk_free(&doh);
	memset(buf, 'x', sizeof(buf));
	msg.negotiate.child = chunk_create(buf, 32);
	doh = encode(&msg, TRUE);
	assert_decodes(doh, &msg);
	chunk_free(&doh);
	msg.negotiate.child = chunk_create(buf, 33);
	ck_assert(!qkd_doh_encode(&msg, NULL, NH_NONE, &doh, NULL));
	msg.negotiate.child = chunk_from_str("a/b");
	ck_assert(!qkd_doh_encode(&msg, NULL, NH_NONE, &doh, NULL));

	/* Key Count: 2 to QKD_DOH_MAX_BATCH keys, none with a child */
	msg.negotiate.child = chunk_empty;
	msg.negotiate.index = 1000;
	msg.negotiate.count = 2;
	doh = encode(&msg, TRUE);
	assert_decodes(doh, &msg);
	chunk_free(&doh);
	msg.negotiate.count = QKD_DOH_MAX_BATCH;
	doh = encode(&msg, TRUE);
	assert_decodes(doh, &msg);
	chunk_free(&doh);
	msg.negotiate.count = QKD_DOH_MAX_BATCH + 1;
	ck_assert(!qkd_doh_encode(&msg, NULL, NH_NONE, &doh, NULL));
	msg.negotiate.count = 2;
	msg.negotiate.child = chunk_from_str("net");
	ck_assert(!qkd_doh_encode(&msg, NULL, NH_NONE, &doh, NULL));
	/* no Index past 2^32 - 1 */
	msg.negotiate.child = chunk_empty;
	msg.negotiate.index = 0xffffffff;
	doh = encode(&msg, TRUE);
	assert_refused(doh);
	chunk_free(&doh);
}
END_TEST

/**
 * TLVs that must be refused, after a valid REQ_NEGOTIATE header; each is
 * padded to its option's needs by the test
 */
static chunk_t bad_tlvs[] = {
	/* truncated */
	chunk_from_chars(0x01),
	chunk_from_chars(0x01,0x04,0x00,0x00,0x00),
	chunk_from_chars(0x02,0x05,0x01),
	/* wrong lengths */
	chunk_from_chars(0x01,0x03,0x00,0x00,0x01),
	chunk_from_chars(0x01,0x05,0x00,0x00,0x00,0x01,0x00),
	chunk_from_chars(0x01,0x00),
	chunk_from_chars(0x02,0x00),
	chunk_from_chars(0x03,0x07,0,0,0,0,0,0,0),
	chunk_from_chars(0x03,0x09,0,0,0,0,0,0,0,0,0),
	chunk_from_chars(0x80,0x0f,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0),
	chunk_from_chars(0x80,0x11,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0),
	/* survival time 0 (would mean absent) */
	chunk_from_chars(0x01,0x04,0x00,0x00,0x00,0x00),
	/* duplicates */
	chunk_from_chars(0x01,0x04,0,0,0,1, 0x01,0x04,0,0,0,2),
	chunk_from_chars(0x02,0x01,0x01, 0x03,0x08,0,0,0,0,0,0,0,0, 0x02,0x01,0x01),
	chunk_from_chars(0x03,0x08,0,0,0,0,0,0,0,0, 0x03,0x08,0,0,0,0,0,0,0,0),
	/* IKE-less child: empty, too long, characters other than
	 * [A-Za-z0-9._-] (NUL, '/', space), twice */
	chunk_from_chars(0x81,0x00),
	chunk_from_chars(0x81,0x21,'a','a','a','a','a','a','a','a','a','a','a',
					 'a','a','a','a','a','a','a','a','a','a','a','a','a','a',
					 'a','a','a','a','a','a','a','a'),
	chunk_from_chars(0x81,0x10,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0),
	chunk_from_chars(0x81,0x03,'a','/','b'),
	chunk_from_chars(0x81,0x03,'a',' ','b'),
	chunk_from_chars(0x81,0x01,'a', 0x81,0x01,'b'),
	/* unknown types */
	chunk_from_chars(0x00,0x00),
	chunk_from_chars(0x04,0x01,0x00),
	chunk_from_chars(0x7f,0x00),
	chunk_from_chars(0x83,0x00),
	chunk_from_chars(0xff,0x00),
	/* Key Count: wrong lengths, 0, 1, more than 1024, twice, with an
	 * IKE-less child */
	chunk_from_chars(0x82,0x01,0x02),
	chunk_from_chars(0x82,0x03,0x00,0x02,0x00),
	chunk_from_chars(0x82,0x02,0x00,0x00),
	chunk_from_chars(0x82,0x02,0x00,0x01),
	chunk_from_chars(0x82,0x02,0x04,0x01),
	chunk_from_chars(0x82,0x02,0x00,0x02, 0x82,0x02,0x00,0x02),
	chunk_from_chars(0x81,0x01,'a', 0x82,0x02,0x00,0x02),
};

/**
 * Build a header with a raw message option (and padding)
 */
static chunk_t build_raw(chunk_t data, bool auth)
{
	chunk_t doh, opt;
	size_t pad;

	opt = chunk_cat("ccc", chunk_from_chars(0x3b, 0x00, QKD_DOH_OPTION),
					chunk_from_thing((uint8_t){ data.len }), data);
	if (auth)
	{
		opt = chunk_cat("mc", opt, chunk_from_chars(AUTH_OPT));
	}
	pad = (8 - opt.len % 8) % 8;
	doh = chunk_alloc(opt.len + pad);
	memcpy(doh.ptr, opt.ptr, opt.len);
	memset(doh.ptr + opt.len, 0, pad);
	doh.ptr[1] = doh.len / 8 - 1;
	chunk_free(&opt);
	return doh;
}

START_TEST(test_negotiate_bad_tlv)
{
	chunk_t hdr = chunk_from_chars(0x02,0x00,0x00,0x00,0x00,0x04,0x02,0x01,
								   0x65,0xa1,0xb2,0xc3);
	chunk_t doh, data;

	data = chunk_cat("cc", hdr, bad_tlvs[_i]);
	doh = build_raw(data, TRUE);
	assert_refused(doh);
	chunk_free(&doh);
	doh = build_raw(data, FALSE);
	assert_refused(doh);
	chunk_free(&doh);
	chunk_free(&data);
}
END_TEST

START_TEST(test_negotiate_reserved)
{
	chunk_t doh;

	doh = build_raw(chunk_from_chars(0x02,0x00,0x00,0x00,0x00,0x04,0x02,0x01,
									 0x65,0xa1,0xb2,0xc3), TRUE);
	ck_assert(qkd_doh_decode(doh, &(qkd_doh_msg_t){}, &(qkd_doh_auth_t){},
							 &(bool){FALSE}, NULL, NULL));
	doh.ptr[5] = 0x01;
	assert_refused(doh);
	doh.ptr[5] = 0x80;
	assert_refused(doh);
	chunk_free(&doh);
	/* header too short */
	doh = build_raw(chunk_from_chars(0x02,0x00,0x00,0x00,0x00,0x04,0x02,0x01,
									 0x65,0xa1,0xb2), TRUE);
	assert_refused(doh);
	chunk_free(&doh);
}
END_TEST

/**
 * Option Data with wrong lengths or reserved bits of the fixed-size
 * messages
 */
static chunk_t bad_messages[] = {
	/* CONFIRM_NEGOTIATE: 6 bytes exactly */
	chunk_from_chars(0x03,0x00,0x00,0x00,0x00),
	chunk_from_chars(0x03,0x00,0x00,0x00,0x00,0x00,0x00),
	chunk_from_chars(0x03),
	/* AUTH_KEY_OFFER: 18 bytes exactly, flags bit 0 only */
	chunk_from_chars(0x85,0x01,ID_A,0x00),
	chunk_from_chars(0x85,0x01,0x10,0x11,0x12,0x13,0x14,0x15,0x16,0x17,
					 0x18,0x19,0x1a,0x1b,0x1c,0x1d,0x1e),
	chunk_from_chars(0x85,0x02,ID_A),
	chunk_from_chars(0x85,0x80,ID_A),
	chunk_from_chars(0x85),
	/* KEY_ANNOUNCE/ANNOUNCE_ACK: length vs count */
	chunk_from_chars(0x82,0x00,0x01,0x01,ID_A,0x00),
	chunk_from_chars(0x82,0x00,0x01,0x02,ID_A),
	chunk_from_chars(0x82,0x00,0x01),
	chunk_from_chars(0x82,0x00,0x01,0x00),
	chunk_from_chars(0x83,0x00,0x01,0x00,0x01),
	chunk_from_chars(0x83,0x00,0x01,0x00,0x00,0x00),
	chunk_from_chars(0x83,0x00,0x01,0x00,0x10),
	chunk_from_chars(0x83,0x00,0x01,0x00),
	/* sync without bitmap */
	chunk_from_chars(0x00,0x00),
	chunk_from_chars(0x01),
	/* AUTH as the message */
	chunk_from_chars(0x84,0x07,0x65,0xa1,0xb2,0xc3,0x00,0x00,0x01,0x02,
					 0xa0,0xa1,0xa2,0xa3,0xa4,0xa5,0xa6,0xa7,
					 0xa8,0xa9,0xaa,0xab,0xac,0xad,0xae,0xaf),
	/* unknown types */
	chunk_from_chars(0x04,0x00,0x00),
	chunk_from_chars(0x7f,0x00,0x00),
	chunk_from_chars(0x86,0x00,0x00),
	chunk_from_chars(0x90,0x00,0x00),
	chunk_from_chars(0xff,0x00,0x00),
	/* empty option */
	{ NULL, 0 },
};

START_TEST(test_bad_message)
{
	chunk_t doh;

	doh = build_raw(bad_messages[_i], TRUE);
	assert_refused(doh);
	chunk_free(&doh);
	doh = build_raw(bad_messages[_i], FALSE);
	assert_refused(doh);
	chunk_free(&doh);
}
END_TEST

START_TEST(test_status_values)
{
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_CONFIRM_NEGOTIATE,
	};
	chunk_t doh;
	u_int status;

	/* status values are the caller's business */
	for (status = 0; status < 256; status++)
	{
		msg.confirm.status = status;
		doh = encode(&msg, TRUE);
		assert_decodes(doh, &msg);
		chunk_free(&doh);
	}
}
END_TEST

/*******************************************************************************
 * range messages
 */

/**
 * Range Option Data with the given fields and bitmap
 */
static chunk_t range_data(uint8_t flags, uint32_t start, uint32_t count,
						  uint32_t pool_size, chunk_t bitmap)
{
	chunk_t data = chunk_alloc(14 + bitmap.len);

	data.ptr[0] = QKD_DOH_REQ_SYNC_RANGE;
	data.ptr[1] = flags;
	htoun32(data.ptr + 2, start);
	htoun32(data.ptr + 6, count);
	htoun32(data.ptr + 10, pool_size);
	memcpy(data.ptr + 14, bitmap.ptr, bitmap.len);
	return data;
}

/**
 * Check whether a range message with the given fields decodes
 */
static bool range_decodes(uint8_t flags, uint32_t start, uint32_t count,
						  uint32_t pool_size, chunk_t bitmap)
{
	qkd_doh_msg_t dec;
	qkd_doh_auth_t auth;
	chunk_t data, doh;
	bool has_auth, ok;

	data = range_data(flags, start, count, pool_size, bitmap);
	if (data.len > 255)
	{
		chunk_free(&data);
		return FALSE;
	}
	doh = build_raw(data, TRUE);
	ok = qkd_doh_decode(doh, &dec, &auth, &has_auth, NULL, NULL);
	if (ok)
	{
		ck_assert_int_eq(dec.range.start, start);
		ck_assert_int_eq(dec.range.count, count);
		ck_assert_int_eq(dec.range.pool_size, pool_size);
		ck_assert(dec.range.reset == ((flags & 0x02) != 0));
		ck_assert_int_eq(dec.range.bitmap.len, (count + 3) / 4);
		qkd_doh_msg_clear(&dec);
	}
	chunk_free(&doh);
	chunk_free(&data);
	return ok;
}

/**
 * Raw DEFLATE at level 9
 */
static chunk_t deflate_raw(chunk_t in)
{
	z_stream zs = {};
	chunk_t out;

	ck_assert(deflateInit2(&zs, 9, Z_DEFLATED, -15, 8,
						   Z_DEFAULT_STRATEGY) == Z_OK);
	out = chunk_alloc(deflateBound(&zs, in.len));
	zs.next_in = in.ptr;
	zs.avail_in = in.len;
	zs.next_out = out.ptr;
	zs.avail_out = out.len;
	ck_assert(deflate(&zs, Z_FINISH) == Z_STREAM_END);
	out.len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

START_TEST(test_range_fields)
{
	uint8_t buf[241];
	chunk_t bitmap;

	memset(buf, 0x1b, sizeof(buf));
	bitmap = chunk_create(buf, 3);
	buf[2] = 0x40;
	/* valid: 9 keys */
	ck_assert(range_decodes(0, 1, 9, 9, bitmap));
	ck_assert(range_decodes(0, 0xfffffff7, 9, 0xffffffff, bitmap));
	/* start 0 */
	ck_assert(!range_decodes(0, 0, 9, 9, bitmap));
	/* count 0 */
	ck_assert(!range_decodes(0, 1, 0, 9, bitmap));
	ck_assert(!range_decodes(0, 1, 0, 9, chunk_empty));
	/* count > pool size, range beyond the pool */
	ck_assert(!range_decodes(0, 1, 9, 8, bitmap));
	ck_assert(!range_decodes(0, 2, 9, 9, bitmap));
	ck_assert(!range_decodes(0, 0xfffffff8, 9, 0xffffffff, bitmap));
	ck_assert(!range_decodes(0, 0xffffffff, 9, 0xffffffff, bitmap));
	/* reset and first-of-round flags; flags other than bits 0 to 2 */
	ck_assert(range_decodes(0x02, 1, 9, 9, bitmap));
	ck_assert(range_decodes(0x04, 1, 9, 9, bitmap));
	ck_assert(range_decodes(0x06, 1, 9, 9, bitmap));
	ck_assert(!range_decodes(0x08, 1, 9, 9, bitmap));
	ck_assert(!range_decodes(0x80, 1, 9, 9, bitmap));
	/* bitmap length != ceil(count / 4) */
	ck_assert(!range_decodes(0, 1, 8, 9, bitmap));
	ck_assert(!range_decodes(0, 1, 13, 13, bitmap));
	ck_assert(!range_decodes(0, 1, 9, 9, chunk_create(buf, 2)));
	/* padding bits of the last byte not zero */
	buf[2] = 0x50;
	ck_assert(!range_decodes(0, 1, 9, 9, bitmap));
	buf[2] = 0x41;
	ck_assert(!range_decodes(0, 1, 9, 9, bitmap));
	buf[2] = 0xc0;
	ck_assert(range_decodes(0, 1, 9, 9, bitmap));
	ck_assert(range_decodes(0, 1, 12, 12, bitmap));
	/* longest plain bitmap */
	ck_assert(range_decodes(0, 1, 960, 960, chunk_create(buf, 240)));
	ck_assert(range_decodes(0, 41, 960, 1000, chunk_create(buf, 240)));
	ck_assert(!range_decodes(0, 42, 960, 1000, chunk_create(buf, 240)));
	/* 957 keys in 240 bytes, but 0x1b has bits set after key 957 */
	ck_assert(!range_decodes(0, 1, 957, 1000, chunk_create(buf, 240)));
	ck_assert(!range_decodes(0, 1, 964, 964, chunk_create(buf, 241)));
	/* no bitmap */
	ck_assert(!range_decodes(0, 1, 1, 1, chunk_empty));
	ck_assert(!range_decodes(1, 1, 1, 1, chunk_empty));
}
END_TEST

START_TEST(test_range_deflate_decode)
{
	uint8_t buf[1000];
	chunk_t plain, comp, longer, big;

	memset(buf, 0, sizeof(buf));
	buf[0] = 0x49;
	buf[999] = 0x80;
	plain = chunk_create(buf, sizeof(buf));
	comp = deflate_raw(plain);
	ck_assert(comp.len < 240);
	ck_assert(range_decodes(1, 1, 3997, 4000, comp));
	ck_assert(range_decodes(1, 3, 3997, 4000, comp));
	ck_assert(range_decodes(1, 1, 3999, 4000, comp));
	ck_assert(range_decodes(1, 1, 4000, 4000, comp));
	/* the same as plain does not fit */
	ck_assert(!range_decodes(0, 1, 4000, 4000, comp));
	/* produces less than ceil(count / 4) */
	ck_assert(!range_decodes(1, 1, 4001, 4001, comp));
	ck_assert(!range_decodes(1, 1, 4004, 4004, comp));
	/* produces more */
	ck_assert(!range_decodes(1, 1, 3996, 4000, comp));
	ck_assert(!range_decodes(1, 1, 1, 4000, comp));
	/* needs more input: every truncation */
	for (; comp.len > 0; comp.len--)
	{
		ck_assert(!range_decodes(1, 1, 4000, 4000,
								 chunk_create(comp.ptr, comp.len - 1)));
	}
	chunk_free(&comp);
	/* trailing data after the final block */
	comp = deflate_raw(plain);
	longer = chunk_cat("cc", comp, chunk_from_chars(0x00));
	ck_assert(!range_decodes(1, 1, 4000, 4000, longer));
	chunk_free(&longer);
	/* two concatenated streams (the second after the final block) */
	longer = chunk_cat("cc", comp, comp);
	ck_assert(!range_decodes(1, 1, 4000, 4000, longer));
	ck_assert(!range_decodes(1, 1, 8000, 8000, longer));
	chunk_free(&longer);
	chunk_free(&comp);
	/* pad bits not zero after inflating */
	buf[999] = 0x81;
	comp = deflate_raw(plain);
	ck_assert(range_decodes(1, 1, 4000, 4000, comp));
	ck_assert(!range_decodes(1, 1, 3999, 4000, comp));
	ck_assert(!range_decodes(1, 1, 3997, 4000, comp));
	chunk_free(&comp);
	/* garbage */
	ck_assert(!range_decodes(1, 1, 4, 4, chunk_from_chars(0xff)));
	ck_assert(!range_decodes(1, 1, 4, 4, chunk_from_chars(0x07,0xff,0xff)));
	/* not final block */
	ck_assert(!range_decodes(1, 1, 4, 4, chunk_from_chars(0x00,0x01,0x00,
														  0xfe,0xff,0x00)));
	ck_assert(range_decodes(1, 1, 4, 4, chunk_from_chars(0x01,0x01,0x00,
														 0xfe,0xff,0x00)));
	/* stored block with the wrong complement */
	ck_assert(!range_decodes(1, 1, 4, 4, chunk_from_chars(0x01,0x01,0x00,
														  0xfe,0xfe,0x00)));
	/* a key count 240 compressed bytes can't inflate to, no matter what */
	big = chunk_from_chars(0x01,0x01,0x00,0xfe,0xff,0x00);
	ck_assert(!range_decodes(1, 1, 0xffffffff, 0xffffffff, big));
	ck_assert(!range_decodes(1, 1, 6 * 1032 * 4 + 1, 0xffffffff, big));
}
END_TEST

/**
 * Find a bitmap of count keys with random statuses
 */
static chunk_t random_bitmap(uint32_t count)
{
	chunk_t bitmap = chunk_alloc((count + 3) / 4);
	u_int i;

	for (i = 0; i < bitmap.len; i++)
	{
		bitmap.ptr[i] = random();
	}
	if (count % 4)
	{
		bitmap.ptr[bitmap.len - 1] &= ~(0xff >> (2 * (count % 4)));
	}
	return bitmap;
}

START_TEST(test_range_encode)
{
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_ACK_AVAILABLE_RANGE,
		.range = { .start = 1, .pool_size = 100000 },
	};
	chunk_t doh;

	srandom(42);
	/* incompressible and too long for plain: fails either way */
	msg.range.count = 961;
	msg.range.bitmap = random_bitmap(msg.range.count);
	msg.range.deflate = TRUE;
	ck_assert(!qkd_doh_encode(&msg, &auth_vec, NH_NONE, &doh, NULL));
	msg.range.deflate = FALSE;
	ck_assert(!qkd_doh_encode(&msg, &auth_vec, NH_NONE, &doh, NULL));
	chunk_free(&msg.range.bitmap);

	/* incompressible but fits plain: falls back, flag cleared */
	msg.range.count = 960;
	msg.range.bitmap = random_bitmap(msg.range.count);
	msg.range.deflate = TRUE;
	doh = encode(&msg, TRUE);
	ck_assert(!msg.range.deflate);
	ck_assert_int_eq(doh.ptr[5], 0x00);
	ck_assert_int_eq(doh.ptr[3], 254);
	assert_decodes(doh, &msg);
	chunk_free(&doh);
	chunk_free(&msg.range.bitmap);

	/* compressible and too long for plain */
	msg.range.count = 20000;
	msg.range.bitmap = chunk_alloc(5000);
	memset(msg.range.bitmap.ptr, 0x55, msg.range.bitmap.len);
	msg.range.deflate = FALSE;
	ck_assert(!qkd_doh_encode(&msg, &auth_vec, NH_NONE, &doh, NULL));
	msg.range.deflate = TRUE;
	doh = encode(&msg, TRUE);
	ck_assert(msg.range.deflate);
	ck_assert_int_eq(doh.ptr[5], 0x01);
	assert_decodes(doh, &msg);
	chunk_free(&doh);

	/* fields out of range */
	msg.range.start = 0;
	ck_assert(!qkd_doh_encode(&msg, &auth_vec, NH_NONE, &doh, NULL));
	msg.range.start = 80002;
	ck_assert(!qkd_doh_encode(&msg, &auth_vec, NH_NONE, &doh, NULL));
	msg.range.start = 80001;
	doh = encode(&msg, TRUE);
	chunk_free(&doh);
	msg.range.count = 19999;
	ck_assert(!qkd_doh_encode(&msg, &auth_vec, NH_NONE, &doh, NULL));
	msg.range.count = 20000;
	msg.range.bitmap.len--;
	ck_assert(!qkd_doh_encode(&msg, &auth_vec, NH_NONE, &doh, NULL));
	msg.range.bitmap.len++;
	msg.range.count = 19997;
	ck_assert(!qkd_doh_encode(&msg, &auth_vec, NH_NONE, &doh, NULL));
	msg.range.count = 0;
	ck_assert(!qkd_doh_encode(&msg, &auth_vec, NH_NONE, &doh, NULL));
	chunk_free(&msg.range.bitmap);
}
END_TEST

START_TEST(test_bitmap_extract)
{
	uint8_t buf[] = { 0x1b, 0xe4, 0x6c, 0x93 };
	chunk_t all = chunk_from_thing(buf), sub;
	uint32_t start, count, i;

	for (start = 1; start <= 16; start++)
	{
		for (count = 1; start - 1 + count <= 16; count++)
		{
			sub = qkd_doh_bitmap_extract(all, start, count);
			ck_assert_int_eq(sub.len, (count + 3) / 4);
			for (i = 0; i < count; i++)
			{
				ck_assert_int_eq(qkd_doh_bitmap_get(sub, i),
								 qkd_doh_bitmap_get(all, start - 1 + i));
			}
			for (; i < sub.len * 4; i++)
			{
				ck_assert_int_eq(qkd_doh_bitmap_get(sub, i), 0);
			}
			chunk_free(&sub);
		}
		ck_assert(!qkd_doh_bitmap_extract(all, start, count).ptr);
	}
	ck_assert(!qkd_doh_bitmap_extract(all, 0, 1).ptr);
	ck_assert(!qkd_doh_bitmap_extract(all, 1, 0).ptr);
	ck_assert(!qkd_doh_bitmap_extract(all, 0xffffffff, 2).ptr);
}
END_TEST

START_TEST(test_range_fit_limits)
{
	uint8_t buf[1000] = {};
	chunk_t all = chunk_from_thing(buf);
	uint32_t count;

	ck_assert(!qkd_doh_range_fit(all, 0, 10, TRUE, &count));
	ck_assert(!qkd_doh_range_fit(all, 4001, 10, TRUE, &count));
	ck_assert(!qkd_doh_range_fit(all, 1, 0, TRUE, &count));
	ck_assert(!qkd_doh_range_fit(chunk_empty, 1, 1, TRUE, &count));

	ck_assert(qkd_doh_range_fit(all, 1, 4000, FALSE, &count));
	ck_assert_int_eq(count, 960);
	ck_assert(qkd_doh_range_fit(all, 1, 100, FALSE, &count));
	ck_assert_int_eq(count, 100);
	ck_assert(qkd_doh_range_fit(all, 3990, 100, FALSE, &count));
	ck_assert_int_eq(count, 11);
	ck_assert(qkd_doh_range_fit(all, 4000, 0xffffffff, TRUE, &count));
	ck_assert_int_eq(count, 1);
	ck_assert(qkd_doh_range_fit(all, 1, 0xffffffff, TRUE, &count));
	ck_assert_int_eq(count, 4000);
	ck_assert(qkd_doh_range_fit(all, 2, 3000, TRUE, &count));
	ck_assert_int_eq(count, 3000);
}
END_TEST

/**
 * Cover a pool with as few range messages as qkd_doh_range_fit() finds, check
 * each is maximal, encode, decode and reassemble them
 */
static u_int cover_pool(chunk_t all, uint32_t pool_size, bool deflate)
{
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_REQ_SYNC_RANGE,
		.range = { .pool_size = pool_size },
	}, dec;
	qkd_doh_auth_t auth;
	chunk_t doh, got, more;
	uint32_t start = 1, count;
	bool has_auth;
	u_int messages = 0;

	got = chunk_alloc(all.len);
	memset(got.ptr, 0xff, got.len);
	while (start <= pool_size)
	{
		ck_assert(qkd_doh_range_fit(all, start, pool_size - start + 1,
									deflate, &count));
		ck_assert(count >= 1 && start - 1 + count <= pool_size);
		msg.range.start = start;
		msg.range.count = count;
		msg.range.deflate = deflate;
		msg.range.bitmap = qkd_doh_bitmap_extract(all, start, count);
		doh = encode(&msg, TRUE);
		ck_assert(doh.len <= 2048);
		ck_assert(qkd_doh_decode(doh, &dec, &auth, &has_auth, NULL, NULL));
		ck_assert(qkd_doh_msg_equals(&dec, &msg));
		ck_assert(dec.range.deflate == msg.range.deflate);
		chunk_free(&msg.range.bitmap);
		if (start - 1 + count < pool_size)
		{	/* one more would not fit */
			msg.range.count = count + 1;
			msg.range.deflate = deflate;
			msg.range.bitmap = qkd_doh_bitmap_extract(all, start, count + 1);
			ck_assert(!qkd_doh_encode(&msg, &auth_vec, NH_NONE, &more, NULL));
			chunk_free(&msg.range.bitmap);
		}
		for (count = 0; count < dec.range.count; count++)
		{
			qkd_doh_bitmap_set(got, start - 1 + count,
							   qkd_doh_bitmap_get(dec.range.bitmap, count));
		}
		start += dec.range.count;
		qkd_doh_msg_clear(&dec);
		/* a plain bitmap points into it */
		chunk_free(&doh);
		messages++;
	}
	for (count = pool_size; count < got.len * 4; count++)
	{	/* unused bits of the last byte */
		qkd_doh_bitmap_set(got, count, 0);
	}
	ck_assert_chunk_eq(got, all);
	chunk_free(&got);
	return messages;
}

START_TEST(test_range_million_idle)
{
	chunk_t all = chunk_alloc(250000);
	qkd_doh_msg_t msg = {
		.type = QKD_DOH_REQ_SYNC_RANGE,
		.range = {
			.start = 1,
			.count = 1000000,
			.pool_size = 1000000,
			.deflate = TRUE,
		},
	};
	uint32_t count;
	chunk_t doh;

	memset(all.ptr, 0, all.len);
	/* raw DEFLATE expands at most 1032-fold, 250000 bytes need at least 243,
	 * so a whole million keys never fit into one message of 240 bytes... */
	msg.range.bitmap = all;
	ck_assert(!qkd_doh_encode(&msg, &auth_vec, NH_NONE, &doh, NULL));
	/* the flag is only updated on success */
	ck_assert(msg.range.deflate);
	/* ...but almost: zlib gets 923720 into one, the rest into a second */
	ck_assert(qkd_doh_range_fit(all, 1, 1000000, TRUE, &count));
	ck_assert(count >= 900000);
	ck_assert_int_eq(cover_pool(all, 1000000, TRUE), 2);
	/* without DEFLATE */
	ck_assert(qkd_doh_range_fit(all, 1, 1000000, FALSE, &count));
	ck_assert_int_eq(count, 960);
	/* a 900,000 key range round-trips by itself */
	msg.range.count = 900000;
	msg.range.bitmap = chunk_create(all.ptr, 225000);
	doh = encode(&msg, TRUE);
	ck_assert(msg.range.deflate);
	assert_decodes(doh, &msg);
	chunk_free(&doh);
	chunk_free(&all);
}
END_TEST

START_TEST(test_range_million_mixed)
{
	chunk_t all = chunk_alloc(250000);
	u_int i, messages;

	/* mostly Idle, every 1000th key Active, a few Pending */
	memset(all.ptr, 0, all.len);
	for (i = 0; i < 1000000; i += 1000)
	{
		qkd_doh_bitmap_set(all, i, 2);
	}
	for (i = 7; i < 1000000; i += 65537)
	{
		qkd_doh_bitmap_set(all, i, 1);
	}
	messages = cover_pool(all, 1000000, TRUE);
	ck_assert(messages < 100);
	/* Active keys at the end of the pool only */
	memset(all.ptr, 0, all.len);
	memset(all.ptr + all.len - 1000, 0xaa, 1000);
	ck_assert(cover_pool(all, 1000000, TRUE) <= 3);
	chunk_free(&all);
}
END_TEST

START_TEST(test_range_random)
{
	chunk_t all;
	uint32_t pool_size = 4000 + 3, count;

	srandom(4711);
	/* incompressible: plain 960 keys per message */
	all = random_bitmap(pool_size);
	ck_assert(qkd_doh_range_fit(all, 1, pool_size, TRUE, &count));
	ck_assert_int_eq(count, 960);
	ck_assert(qkd_doh_range_fit(all, 3, pool_size - 2, TRUE, &count));
	ck_assert_int_eq(count, 960);
	ck_assert_int_eq(cover_pool(all, pool_size, TRUE), 5);
	ck_assert_int_eq(cover_pool(all, pool_size, FALSE), 5);
	chunk_free(&all);
}
END_TEST

/*******************************************************************************
 * header structure
 */

/**
 * A valid CONFIRM_NEGOTIATE option and an AUTH option
 */
#define CONFIRM_OPT 0x50,0x06,0x03,0x00,0x65,0xa1,0xb2,0xc3

static struct {
	/** header */
	chunk_t doh;
	/** whether it is valid */
	bool valid;
	/** expected has_auth if valid */
	bool has_auth;
	/** whether the length is wrong on purpose */
	bool bad_len;
} structures[] = {
	/* reference: message, AUTH, PadN */
	{ chunk_from_chars(0x3b,0x04, CONFIRM_OPT, AUTH_OPT, 0x01,0x00), TRUE, TRUE },
	/* Hdr Ext Len wrong */
	{ chunk_from_chars(0x3b,0x03, CONFIRM_OPT, AUTH_OPT, 0x01,0x00), FALSE, FALSE, TRUE },
	{ chunk_from_chars(0x3b,0x05, CONFIRM_OPT, AUTH_OPT, 0x01,0x00), FALSE, FALSE, TRUE },
	{ chunk_from_chars(0x3b,0xff, CONFIRM_OPT, AUTH_OPT, 0x01,0x00), FALSE, FALSE, TRUE },
	{ chunk_from_chars(0x3b,0x04, CONFIRM_OPT, AUTH_OPT, 0x01,0x00,0x00), FALSE, FALSE, TRUE },
	{ chunk_from_chars(0x3b,0x00, 0x00,0x00,0x00,0x00,0x00), FALSE, FALSE, TRUE },
	{ chunk_from_chars(0x3b,0x00), FALSE, FALSE, TRUE },
	{ chunk_from_chars(0x3b), FALSE, FALSE, TRUE },
	{ { NULL, 0 }, FALSE, FALSE, TRUE },
	/* PadN content not zero */
	{ chunk_from_chars(0x3b,0x01, CONFIRM_OPT, 0x01,0x04,0x00,0x00,0x00,0x01), FALSE },
	{ chunk_from_chars(0x3b,0x01, CONFIRM_OPT, 0x01,0x04,0x80,0x00,0x00,0x00), FALSE },
	{ chunk_from_chars(0x3b,0x01, 0x01,0x00, 0x01,0x02,0x00,0x01, CONFIRM_OPT), FALSE },
	{ chunk_from_chars(0x3b,0x01, CONFIRM_OPT, 0x01,0x04,0x00,0x00,0x00,0x00), TRUE, FALSE },
	/* padding anywhere, well formed */
	{ chunk_from_chars(0x3b,0x01, 0x00, 0x01,0x01,0x00, 0x01,0x00, CONFIRM_OPT), TRUE, FALSE },
	{ chunk_from_chars(0x3b,0x01, 0x00, CONFIRM_OPT, 0x00,0x00,0x00,0x00,0x00), TRUE, FALSE },
	{ chunk_from_chars(0x3b,0x05, 0x01,0x08,0,0,0,0,0,0,0,0, CONFIRM_OPT, AUTH_OPT), TRUE, TRUE },
	{ chunk_from_chars(0x3b,0x05, CONFIRM_OPT, AUTH_OPT, 0x00, 0x01,0x00, 0x01,0x05,0,0,0,0,0), TRUE, TRUE },
	/* truncated options: PadN length beyond the end, type without length */
	{ chunk_from_chars(0x3b,0x01, CONFIRM_OPT, 0x01,0x05,0x00,0x00,0x00,0x00), FALSE },
	{ chunk_from_chars(0x3b,0x01, CONFIRM_OPT, 0x00,0x00,0x00,0x00,0x00,0x01), FALSE },
	{ chunk_from_chars(0x3b,0x01, CONFIRM_OPT, 0x00,0x00,0x00,0x00,0x00,0x50), FALSE },
	{ chunk_from_chars(0x3b,0x01, CONFIRM_OPT, 0x00,0x00,0x00,0x00,0x00,0x1e), FALSE },
	{ chunk_from_chars(0x3b,0x00, 0x50,0x07,0x03,0x00,0x65,0xa1), FALSE },
	{ chunk_from_chars(0x3b,0x00, 0x50,0x05,0x03,0x00,0x65,0xa1), FALSE },
	{ chunk_from_chars(0x3b,0x00, 0x1e,0x05,0x03,0x00,0x65,0xa1), FALSE },
	{ chunk_from_chars(0x3b,0x04, CONFIRM_OPT, 0x50,0x1d,0x84,0x07,0x65,0xa1,0xb2,0xc3,0x00,0x00,0x01,0x02,
		0xa0,0xa1,0xa2,0xa3,0xa4,0xa5,0xa6,0xa7,0xa8,0xa9,0xaa,0xab,0xac,0xad,0xae,0xaf,0x00,0x00), FALSE },
	/* no message */
	{ chunk_from_chars(0x3b,0x00, 0x01,0x04,0x00,0x00,0x00,0x00), FALSE },
	{ chunk_from_chars(0x3b,0x00, 0x00,0x00,0x00,0x00,0x00,0x00), FALSE },
	{ chunk_from_chars(0x3b,0x00, 0x1e,0x04,0x00,0x00,0x00,0x00), FALSE },
	{ chunk_from_chars(0x3b,0x03, AUTH_OPT, 0x01,0x00), FALSE },
	/* more than one message */
	{ chunk_from_chars(0x3b,0x02, CONFIRM_OPT, CONFIRM_OPT, 0x01,0x04,0,0,0,0), FALSE },
	{ chunk_from_chars(0x3b,0x02, CONFIRM_OPT, 0x01,0x04,0,0,0,0, CONFIRM_OPT), FALSE },
	{ chunk_from_chars(0x3b,0x05, CONFIRM_OPT, AUTH_OPT, CONFIRM_OPT, 0x01,0x00), FALSE },
	/* AUTH not directly after the message, twice, before it */
	{ chunk_from_chars(0x3b,0x04, CONFIRM_OPT, 0x01,0x00, AUTH_OPT), FALSE },
	{ chunk_from_chars(0x3b,0x04, CONFIRM_OPT, 0x00,0x00, AUTH_OPT), FALSE },
	{ chunk_from_chars(0x3b,0x08, CONFIRM_OPT, AUTH_OPT, AUTH_OPT, 0x01,0x04,0,0,0,0), FALSE },
	{ chunk_from_chars(0x3b,0x04, AUTH_OPT, CONFIRM_OPT, 0x01,0x00), FALSE },
	/* AUTH with wrong lengths */
	{ chunk_from_chars(0x3b,0x04, CONFIRM_OPT, 0x50,0x19,0x84,0x07,0x65,0xa1,0xb2,0xc3,0x00,0x00,0x01,0x02,
		0xa0,0xa1,0xa2,0xa3,0xa4,0xa5,0xa6,0xa7,0xa8,0xa9,0xaa,0xab,0xac,0xad,0xae, 0x01,0x01,0x00), FALSE },
	{ chunk_from_chars(0x3b,0x04, CONFIRM_OPT, 0x50,0x1b,0x84,0x07,0x65,0xa1,0xb2,0xc3,0x00,0x00,0x01,0x02,
		0xa0,0xa1,0xa2,0xa3,0xa4,0xa5,0xa6,0xa7,0xa8,0xa9,0xaa,0xab,0xac,0xad,0xae,0xaf,0x00, 0x00), FALSE },
	/* unknown options: action 00 skipped before the message */
	{ chunk_from_chars(0x3b,0x01, 0x1e,0x02,0xaa,0xbb, CONFIRM_OPT, 0x01,0x00), TRUE, FALSE },
	{ chunk_from_chars(0x3b,0x05, 0x04,0x01,0x04, 0x00, CONFIRM_OPT, AUTH_OPT, 0x01,0x04,0,0,0,0), TRUE, TRUE },
	{ chunk_from_chars(0x3b,0x01, 0x3f,0x00, 0x00,0x00, CONFIRM_OPT, 0x00,0x00), TRUE, FALSE },
	/* ...refused with other action bits */
	{ chunk_from_chars(0x3b,0x01, 0x5e,0x02,0xaa,0xbb, CONFIRM_OPT, 0x01,0x00), FALSE },
	{ chunk_from_chars(0x3b,0x01, 0x9e,0x02,0xaa,0xbb, CONFIRM_OPT, 0x01,0x00), FALSE },
	{ chunk_from_chars(0x3b,0x01, 0xde,0x02,0xaa,0xbb, CONFIRM_OPT, 0x01,0x00), FALSE },
	{ chunk_from_chars(0x3b,0x01, 0xc2,0x04,0x00,0x01,0x00,0x00, CONFIRM_OPT), FALSE },
	/* ...and after the message (only padding there) */
	{ chunk_from_chars(0x3b,0x01, CONFIRM_OPT, 0x1e,0x02,0xaa,0xbb, 0x01,0x00), FALSE },
	{ chunk_from_chars(0x3b,0x04, CONFIRM_OPT, AUTH_OPT, 0x1e,0x00), FALSE },
	/* offer with AUTH: the caller's business */
	{ chunk_from_chars(0x3b,0x06, 0x50,0x12,0x85,0x00, ID_A, AUTH_OPT, 0x01,0x04,0,0,0,0), TRUE, TRUE },
	/* message types that need AUTH without: the caller's business */
	{ chunk_from_chars(0x3b,0x00, 0x50,0x03,0x00,0x00,0xaa, 0x00), TRUE, FALSE },
	/* another Next Header */
	{ chunk_from_chars(0x06,0x04, CONFIRM_OPT, AUTH_OPT, 0x01,0x00), TRUE, TRUE },
};

START_TEST(test_structure)
{
	qkd_doh_msg_t dec;
	qkd_doh_auth_t auth;
	bool has_auth;
	size_t mac_offset;

	if (!structures[_i].bad_len)
	{	/* check the test data */
		ck_assert(structures[_i].doh.len % 8 == 0);
		ck_assert_int_eq(structures[_i].doh.ptr[1],
						 structures[_i].doh.len / 8 - 1);
	}
	if (structures[_i].valid)
	{
		ck_assert(qkd_doh_decode(structures[_i].doh, &dec, &auth, &has_auth,
								 NULL, &mac_offset));
		ck_assert(has_auth == structures[_i].has_auth);
		if (has_auth)
		{
			ck_assert(memeq(&auth, &auth_vec, sizeof(auth)));
			ck_assert(memeq(structures[_i].doh.ptr + mac_offset,
							auth_vec.mac, QKD_DOH_MAC_LEN));
		}
		else
		{
			ck_assert_int_eq(mac_offset, 0);
		}
		qkd_doh_msg_clear(&dec);
	}
	else
	{
		assert_refused(structures[_i].doh);
	}
}
END_TEST

START_TEST(test_longest_header)
{
	qkd_doh_msg_t dec;
	qkd_doh_auth_t auth;
	chunk_t doh = chunk_alloc(2048);
	bool has_auth;
	size_t mac_offset, pos;

	memset(doh.ptr, 0, doh.len);
	memcpy(doh.ptr, structures[0].doh.ptr, 38);
	doh.ptr[1] = 255;
	/* 7 PadN of 257 bytes and one of 211 */
	for (pos = 38; pos < doh.len; pos += doh.ptr[pos + 1] + 2)
	{
		doh.ptr[pos] = 0x01;
		doh.ptr[pos + 1] = min(255, doh.len - pos - 2);
	}
	ck_assert_int_eq(pos, doh.len);
	ck_assert(qkd_doh_decode(doh, &dec, &auth, &has_auth, NULL, &mac_offset));
	ck_assert(has_auth);
	ck_assert_int_eq(mac_offset, 22);
	/* PadN content checked to the end */
	doh.ptr[2047] = 0x01;
	assert_refused(doh);
	chunk_free(&doh);
}
END_TEST

START_TEST(test_encode_invalid)
{
	qkd_doh_msg_t msg = {};
	chunk_t doh = chunk_empty;

	msg.type = QKD_DOH_AUTH;
	ck_assert(!qkd_doh_encode(&msg, &auth_vec, NH_NONE, &doh, NULL));
	msg.type = 0x04;
	ck_assert(!qkd_doh_encode(&msg, &auth_vec, NH_NONE, &doh, NULL));
	msg.type = QKD_DOH_AUTH_KEY_OFFER;
	msg.offer.flags = 0x04;
	ck_assert(!qkd_doh_encode(&msg, NULL, NH_NONE, &doh, NULL));
	ck_assert(doh.ptr == NULL);
	/* an offer needs a KEYID, a request has none */
	msg.offer.flags = QKD_DOH_OFFER_RANGE;
	ck_assert(!qkd_doh_encode(&msg, NULL, NH_NONE, &doh, NULL));
	msg.offer.flags = QKD_DOH_OFFER_REQUEST | QKD_DOH_OFFER_RANGE;
	doh = encode(&msg, FALSE);
	assert_decodes(doh, &msg);
	chunk_free(&doh);
	msg.offer.keyid[15] = 1;
	ck_assert(!qkd_doh_encode(&msg, NULL, NH_NONE, &doh, NULL));
	/* an offer may be authenticated */
	msg.offer.flags = 0x00;
	doh = encode(&msg, TRUE);
	assert_decodes(doh, &msg);
	chunk_free(&doh);
}
END_TEST

/*******************************************************************************
 * random garbage
 */

START_TEST(test_garbage)
{
	uint8_t buf[512];
	qkd_doh_msg_t dec;
	qkd_doh_auth_t auth;
	bool has_auth;
	size_t len, i;
	u_int n, accepted = 0;

	srandom(1234);
	for (n = 0; n < 20000; n++)
	{
		len = random() % sizeof(buf);
		for (i = 0; i < len; i++)
		{
			buf[i] = random();
		}
		switch (n % 4)
		{
			case 0:
				break;
			case 1:
				/* consistent length */
				len = len / 8 * 8;
				if (len)
				{
					buf[1] = len / 8 - 1;
				}
				break;
			default:
				/* consistent length, starting with a QK option of a known
				 * type and a plausible length */
				len = max(len / 8 * 8, 8);
				buf[1] = len / 8 - 1;
				buf[2] = QKD_DOH_OPTION;
				buf[3] = random() % (len - 3);
				buf[4] = (uint8_t[]){ 0x00, 0x01, 0x02, 0x03, 0x80, 0x81,
									  0x82, 0x83, 0x84, 0x85 }[random() % 10];
				if (n % 8 == 3 && buf[3] + 4 < len)
				{	/* and padding after it */
					memset(buf + 4 + buf[3], 0, len - 4 - buf[3]);
				}
				break;
		}
		if (qkd_doh_decode(chunk_create(buf, len), &dec, &auth, &has_auth,
						   NULL, NULL))
		{
			accepted++;
			qkd_doh_msg_clear(&dec);
		}
	}
	/* some of those should get through */
	ck_assert(accepted > 0);
}
END_TEST

Suite *doh_msg_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd DOH messages");

	tc = tcase_create("draft example");
	tcase_add_test(tc, test_draft_example);
	tcase_add_test(tc, test_type_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("vectors");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_vector_encode, 0, countof(vectors));
	tcase_add_loop_test(tc, test_vector_decode, 0, countof(vectors));
	tcase_add_loop_test(tc, test_vector_roundtrip, 0, countof(vectors));
	tcase_add_loop_test(tc, test_vector_truncated, 0, countof(vectors));
	tcase_add_loop_test(tc, test_vector_mutated, 0, countof(vectors));
	suite_add_tcase(s, tc);

	tc = tcase_create("padding");
	tcase_add_loop_test(tc, test_padding, 0, 16);
	suite_add_tcase(s, tc);

	tc = tcase_create("field boundaries");
	tcase_add_test(tc, test_sync_bitmap_len);
	tcase_add_loop_test(tc, test_announce_count, 0, 2);
	tcase_add_test(tc, test_negotiate_tlvs);
	tcase_add_loop_test(tc, test_negotiate_bad_tlv, 0, countof(bad_tlvs));
	tcase_add_test(tc, test_negotiate_reserved);
	tcase_add_loop_test(tc, test_bad_message, 0, countof(bad_messages));
	tcase_add_test(tc, test_status_values);
	tcase_add_test(tc, test_encode_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("range messages");
	tcase_add_test(tc, test_range_fields);
	tcase_add_test(tc, test_range_deflate_decode);
	tcase_add_test(tc, test_range_encode);
	tcase_add_test(tc, test_bitmap_extract);
	tcase_add_test(tc, test_range_fit_limits);
	tcase_add_test(tc, test_range_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("range messages, 1,000,000 keys");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_range_million_idle);
	tcase_add_test(tc, test_range_million_mixed);
	suite_add_tcase(s, tc);

	tc = tcase_create("header structure");
	tcase_add_loop_test(tc, test_structure, 0, countof(structures));
	tcase_add_test(tc, test_longest_header);
	suite_add_tcase(s, tc);

	tc = tcase_create("garbage");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_garbage);
	suite_add_tcase(s, tc);

	return s;
}
