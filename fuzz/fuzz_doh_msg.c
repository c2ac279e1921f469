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
 * libFuzzer target for the DOH message decoder (testing/fuzz-doh builds and
 * runs it). Every input is decoded, as it is and with its length made
 * consistent; what decodes must re-encode, and the re-encoded header must
 * decode to the same message, AUTH option, Next Header and MAC.
 */

#include <library.h>
#include <utils/debug.h>

#include "qkd_doh_msg.h"
#include "qkd_mpss_msg.h"
#include "qkd_mpss_packet.h"

/**
 * Most keys a plain range bitmap carries (240 bytes)
 */
#define MAX_PLAIN_RANGE_KEYS (QKD_DOH_MAX_RANGE_DATA * 4)

/**
 * Peers send garbage, the decoder logs why it refuses it: not here
 */
static void dbg_silent(debug_t group, level_t level, char *fmt, ...)
{
}

/**
 * Bytes to build bitmaps, seeds and KEYIDs from: random, then a long run of
 * zeros (compressible, for range bitmaps of many keys)
 */
static uint8_t material[2048 + 250000];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	u_int i;

	dbg = dbg_silent;
	for (i = 0; i < 2048; i++)
	{
		material[i] = i * 2654435761u >> 24;
	}
	return 0;
}

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/**
 * xorshift32, seeded by libFuzzer
 */
static uint32_t next(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

/**
 * A number of at most max, biased to the small ones and the limits
 */
static uint32_t pick(uint32_t *state, uint32_t max)
{
	switch (next(state) % 4)
	{
		case 0:
			return max;
		case 1:
			return next(state) % (min(max, 16) + 1);
		default:
			return next(state) % ((uint64_t)max + 1);
	}
}

/**
 * Characters IKE-less child names are made of (and a few others)
 */
static char child_names[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/ x";

/**
 * Change one field of a decoded message to another valid value
 */
static void tweak(qkd_doh_msg_t *msg, qkd_doh_auth_t *auth, bool *has_auth,
				  uint8_t *nh, chunk_t *owned, uint32_t *r)
{
	static const uint8_t types[] = {
		QKD_DOH_REQ_SYNC, QKD_DOH_ACK_AVAILABLE, QKD_DOH_REQ_NEGOTIATE,
		QKD_DOH_CONFIRM_NEGOTIATE, QKD_DOH_REQ_SYNC_RANGE,
		QKD_DOH_ACK_AVAILABLE_RANGE, QKD_DOH_KEY_ANNOUNCE,
		QKD_DOH_ANNOUNCE_ACK, QKD_DOH_AUTH_KEY_OFFER,
	};
	uint32_t count, len;

	switch (next(r) % 4)
	{
		case 0:
			*has_auth = !*has_auth;
			auth->key_ref = next(r);
			return;
		case 1:
			*nh = next(r);
			return;
		case 2:
			/* another type, fields as they are in the union */
			msg->type = types[next(r) % countof(types)];
			break;
		default:
			break;
	}
	switch (msg->type)
	{
		case QKD_DOH_REQ_SYNC:
		case QKD_DOH_ACK_AVAILABLE:
			msg->sync.offset = next(r);
			msg->sync.bitmap = chunk_create(material + next(r) % 1024,
											1 + pick(r, 252));
			break;
		case QKD_DOH_REQ_SYNC_RANGE:
		case QKD_DOH_ACK_AVAILABLE_RANGE:
			msg->range.deflate = next(r) % 2;
			msg->range.reset = next(r) % 2;
			msg->range.first = next(r) % 2;
			count = 1 + pick(r, next(r) % 2 ? 999 : 999999);
			msg->range.count = count;
			msg->range.start = 1 + pick(r, 2000000);
			msg->range.pool_size = msg->range.start - 1 + count +
								   pick(r, 1000000);
			len = (count + 3) / 4;
			/* random keys first, then Idle ones */
			*owned = chunk_clone(chunk_create(material + next(r) % 2048,
											  len));
			if (count % 4)
			{
				owned->ptr[len - 1] &= ~(0xff >> (2 * (count % 4)));
			}
			msg->range.bitmap = *owned;
			break;
		case QKD_DOH_REQ_NEGOTIATE:
			msg->negotiate.index = next(r);
			msg->negotiate.survival = next(r) % 2 ? 0 : 1 + pick(r, 86400);
			msg->negotiate.seed = chunk_create(material, pick(r, 32));
			/* other types leave garbage here (the union); a name or not */
			msg->negotiate.child = next(r) % 2 ? chunk_empty :
						chunk_create(child_names + next(r) % 32,
									 1 + pick(r, 31));
			msg->negotiate.has_channel = next(r) % 2;
			msg->negotiate.has_keyid = next(r) % 2;
			break;
		case QKD_DOH_CONFIRM_NEGOTIATE:
			msg->confirm.status = pick(r, 255);
			break;
		case QKD_DOH_KEY_ANNOUNCE:
		case QKD_DOH_ANNOUNCE_ACK:
			msg->announce.count = pick(r, QKD_DOH_MAX_ANNOUNCE);
			if (msg->type == QKD_DOH_KEY_ANNOUNCE && !msg->announce.count)
			{
				msg->announce.count = 1;
			}
			msg->announce.status = next(r) % 2;
			if (msg->type == QKD_DOH_KEY_ANNOUNCE)
			{
				msg->announce.first_index = 1 + pick(r, 1000000);
			}
			break;
		case QKD_DOH_AUTH_KEY_OFFER:
			msg->offer.flags = next(r) % 4;
			break;
		default:
			break;
	}
}

/**
 * Half of the time, decode the input, change a field and encode it again,
 * so lengths and counts stay consistent; libFuzzer's byte mutations
 * otherwise
 */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
							   unsigned int seed)
{
	qkd_doh_msg_t msg;
	qkd_doh_auth_t auth;
	chunk_t doh, owned = chunk_empty, decoded = chunk_empty;
	uint32_t r = seed | 1;
	uint8_t nh;
	bool has_auth, ok;

	if (next(&r) % 2 ||
		!qkd_doh_decode(chunk_create(data, size), &msg, &auth, &has_auth,
						&nh, NULL))
	{
		return LLVMFuzzerMutate(data, size, max_size);
	}
	if (msg.type == QKD_DOH_REQ_SYNC_RANGE ||
		msg.type == QKD_DOH_ACK_AVAILABLE_RANGE)
	{	/* freed here, whatever tweak() does to the message */
		decoded = msg.range.bitmap;
	}
	tweak(&msg, &auth, &has_auth, &nh, &owned, &r);
	ok = qkd_doh_encode(&msg, has_auth ? &auth : NULL, nh, &doh, NULL);
	chunk_free(&owned);
	chunk_free(&decoded);
	if (!ok)
	{
		return LLVMFuzzerMutate(data, size, max_size);
	}
	if (doh.len > max_size)
	{
		chunk_free(&doh);
		return LLVMFuzzerMutate(data, size, max_size);
	}
	memcpy(data, doh.ptr, doh.len);
	size = doh.len;
	chunk_free(&doh);
	return size;
}

/**
 * Whether a decoded message may legitimately fail to re-encode: a range
 * bitmap that another compressor got into 240 bytes, zlib (level 9) not,
 * and too long for the plain form
 */
static bool may_not_reencode(qkd_doh_msg_t *msg)
{
	return (msg->type == QKD_DOH_REQ_SYNC_RANGE ||
			msg->type == QKD_DOH_ACK_AVAILABLE_RANGE) &&
		   msg->range.deflate && msg->range.count > MAX_PLAIN_RANGE_KEYS;
}

/**
 * Decode a header, re-encode and decode what decodes
 */
static void check(chunk_t doh)
{
	qkd_doh_msg_t msg, msg2;
	qkd_doh_auth_t auth, auth2;
	u_char *data = doh.ptr;
	size_t len = doh.len, mac, mac2, mac_enc;
	chunk_t doh2;
	uint8_t nh, nh2;
	bool has_auth, has_auth2;

	if (!qkd_doh_decode(doh, &msg, &auth, &has_auth, &nh, &mac))
	{
		return;
	}
	if (len % 8 || len > 2048 || nh != data[0] ||
		(has_auth && (mac < 2 || mac + QKD_DOH_MAC_LEN > len ||
					  !memeq(data + mac, auth.mac, QKD_DOH_MAC_LEN))) ||
		(!has_auth && mac))
	{
		abort();
	}
	if (!qkd_doh_encode(&msg, has_auth ? &auth : NULL, nh, &doh2, &mac_enc))
	{
		if (!may_not_reencode(&msg))
		{
			abort();
		}
		qkd_doh_msg_clear(&msg);
		return;
	}
	if (!qkd_doh_decode(doh2, &msg2, &auth2, &has_auth2, &nh2, &mac2) ||
		!qkd_doh_msg_equals(&msg, &msg2) || !qkd_doh_msg_equals(&msg2, &msg) ||
		has_auth2 != has_auth || nh2 != nh || mac2 != mac_enc ||
		(has_auth && !memeq(&auth, &auth2, sizeof(auth))))
	{
		abort();
	}
	qkd_doh_msg_clear(&msg2);
	qkd_doh_msg_clear(&msg);
	chunk_free(&doh2);
}

/**
 * Decode a header as an MPSS share message (qkd_doh_unwrap() and
 * qkd_mpss_decode()): fields in range and inside the header, and the
 * Option Data wrapped again comes back the same
 */
static void check_share(chunk_t doh)
{
	qkd_mpss_share_t msg;
	chunk_t data, data2, doh2;

	if (!qkd_doh_unwrap(doh, &data))
	{
		return;
	}
	if (data.ptr < doh.ptr || data.ptr + data.len > doh.ptr + doh.len ||
		!data.len)
	{
		abort();
	}
	if (!qkd_doh_wrap(data, doh.ptr[0], &doh2) ||
		!qkd_doh_unwrap(doh2, &data2) || !chunk_equals(data, data2))
	{
		abort();
	}
	chunk_free(&doh2);
	if (!qkd_mpss_decode(data, &msg))
	{
		return;
	}
	if (msg.share.ptr < data.ptr ||
		msg.share.ptr + msg.share.len + QKD_MPSS_MAC_LEN !=
			data.ptr + data.len ||
		!msg.share.len || msg.share.len > QKD_MPSS_MAX_SHARE ||
		msg.k < 2 || msg.k > msg.n || !msg.index || msg.index > msg.n)
	{
		abort();
	}
}

/**
 * Parse an input as an MPSS share packet (IPv6, SRH, share): fields
 * inside the packet and consistent, and a relay's step keeps it parseable
 */
static void check_packet(chunk_t packet)
{
	qkd_mpss_packet_t parsed;
	chunk_t copy, share;
	u_int i;

	if (!qkd_mpss_packet_parse(packet, &parsed))
	{
		return;
	}
	if (!parsed.count || parsed.count > QKD_MPSS_MAX_SEGMENTS ||
		parsed.segments_left >= parsed.count || !parsed.share.len ||
		parsed.share.ptr + parsed.share.len > packet.ptr + packet.len)
	{
		abort();
	}
	for (i = 0; i < parsed.count; i++)
	{
		if (parsed.segments[i].ptr + 16 > packet.ptr + packet.len)
		{
			abort();
		}
	}
	copy = chunk_clone(packet);
	if (qkd_mpss_packet_parse(copy, &parsed) && parsed.segments_left)
	{
		share = chunk_clone(parsed.share);
		if (!qkd_mpss_packet_advance(copy, &parsed, share) ||
			!qkd_mpss_packet_parse(copy, &parsed))
		{
			abort();
		}
		chunk_free(&share);
	}
	chunk_free(&copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	chunk_t fixed;

	/* the header as it is, in an allocation of its own so ASan sees any
	 * read beyond it */
	fixed = chunk_clone(chunk_create((u_char*)data, len));
	check(fixed);
	check_share(fixed);
	check_packet(fixed);
	chunk_free(&fixed);

	/* and with a consistent length (zero-padded, Hdr Ext Len set), which
	 * most mutations break, to get to the options more often */
	if (len >= 2 && len <= 2048 && (len % 8 || data[1] != len / 8 - 1))
	{
		fixed = chunk_alloc(round_up(len, 8));
		memcpy(fixed.ptr, data, len);
		memset(fixed.ptr + len, 0, fixed.len - len);
		fixed.ptr[1] = fixed.len / 8 - 1;
		check(fixed);
		check_share(fixed);
		chunk_free(&fixed);
	}
	return 0;
}
