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

#include "qkd_doh_msg.h"
#include "qkd_doh_bitmap.h"

#include <ctype.h>

#include <bio/bio_reader.h>
#include <bio/bio_writer.h>
#include <utils/debug.h>

ENUM_BEGIN(qkd_doh_type_names, QKD_DOH_REQ_SYNC, QKD_DOH_CONFIRM_NEGOTIATE,
	"REQ_SYNC",
	"ACK_AVAILABLE",
	"REQ_NEGOTIATE",
	"CONFIRM_NEGOTIATE");
ENUM_NEXT(qkd_doh_type_names, QKD_DOH_REQ_SYNC_RANGE, QKD_DOH_AUTH_KEY_OFFER,
		  QKD_DOH_CONFIRM_NEGOTIATE,
	"REQ_SYNC_RANGE",
	"ACK_AVAILABLE_RANGE",
	"KEY_ANNOUNCE",
	"ANNOUNCE_ACK",
	"AUTH",
	"AUTH_KEY_OFFER");
ENUM_END(qkd_doh_type_names, QKD_DOH_AUTH_KEY_OFFER);

/**
 * Option types of the padding options (RFC 8200)
 */
#define OPT_PAD1 0x00
#define OPT_PADN 0x01

/**
 * Most Option Data of an option
 */
#define MAX_OPT_DATA 255

/**
 * Most bytes of a Destination Options Header
 */
#define MAX_DOH_LEN 2048

/**
 * Most bytes of the bitmap of a plain sync message
 */
#define MAX_SYNC_BITMAP 253

/**
 * Option Data lengths of the fixed parts of the messages, with type byte
 */
#define SYNC_HDR_LEN 2
#define RANGE_HDR_LEN 14
#define NEGOTIATE_HDR_LEN 12
#define CONFIRM_LEN 6
#define ANNOUNCE_HDR_LEN 8
#define ANNOUNCE_ACK_HDR_LEN 5
#define AUTH_LEN 26
#define OFFER_LEN 18

/**
 * Offset of the MAC in the Option Data of the AUTH option
 */
#define AUTH_MAC_OFFSET 10

/**
 * Range message flags: bitmap is raw DEFLATE; sender holds no negotiated
 * keys with the receiver
 */
#define RANGE_FLAG_DEFLATE 0x01
#define RANGE_FLAG_RESET 0x02
#define RANGE_FLAG_FIRST 0x04

/**
 * AUTH_KEY_OFFER flags
 */
#define OFFER_FLAGS (QKD_DOH_OFFER_RANGE | QKD_DOH_OFFER_REQUEST)

/**
 * TLV types of REQ_NEGOTIATE
 */
#define TLV_SURVIVAL 0x01
#define TLV_SEED 0x02
#define TLV_CHANNEL 0x03
#define TLV_KEYID 0x80
#define TLV_CHILD 0x81
#define TLV_COUNT 0x82

/**
 * Most bytes of the quantum random seed TLV
 */
#define MAX_SEED 32

/**
 * Compare two byte strings, empty ones are equal whatever their pointers
 */
static bool same_data(chunk_t a, chunk_t b)
{
	return a.len == b.len && (!a.len || memeq(a.ptr, b.ptr, a.len));
}

/**
 * Log why a header is refused and fail (peers send these, so only at
 * level 2)
 */
static bool invalid(char *reason)
{
	DBG2(DBG_NET, "qkd DOH: invalid header: %s", reason);
	return FALSE;
}

/*
 * Described in header
 */
bool qkd_doh_range_fit(chunk_t bitmap_all, uint32_t start, uint32_t max_count,
					   bool deflate, uint32_t *count)
{
	uint8_t buf[QKD_DOH_MAX_RANGE_DATA];
	uint64_t avail, lo, hi, mid;
	chunk_t plain;
	size_t len;
	bool fits;

	avail = (uint64_t)bitmap_all.len * 4;
	if (!start || start > avail || !max_count)
	{
		return FALSE;
	}
	avail = min(avail - (start - 1), max_count);
	/* plain always fits this many */
	lo = min(avail, QKD_DOH_MAX_RANGE_DATA * 4);
	if (deflate && lo < avail)
	{
		/* at most QKD_DOH_DEFLATE_RATIO_MAX bytes per compressed byte */
		hi = min(avail, (uint64_t)QKD_DOH_MAX_RANGE_DATA *
						QKD_DOH_DEFLATE_RATIO_MAX * 4);
		/* lo fits (compressed or plain), find the largest that does */
		while (lo < hi)
		{
			mid = lo + (hi - lo + 1) / 2;
			plain = qkd_doh_bitmap_extract(bitmap_all, start, mid);
			fits = qkd_doh_bitmap_deflate(plain, buf, sizeof(buf), &len);
			chunk_free(&plain);
			if (fits)
			{
				lo = mid;
			}
			else
			{
				hi = mid - 1;
			}
		}
	}
	*count = lo;
	return TRUE;
}

/**
 * Check that the KEYID of an AUTH_KEY_OFFER suits its flags: all zero in a
 * key request, not all zero in an offer
 */
static bool offer_id_ok(uint8_t flags, uint8_t keyid[QKD_KEY_ID_LEN])
{
	uint8_t zero[QKD_KEY_ID_LEN] = {};

	return memeq(keyid, zero, QKD_KEY_ID_LEN) ==
		   ((flags & QKD_DOH_OFFER_REQUEST) != 0);
}

/**
 * Write the Option Data of a range message
 */
static bool encode_range(bio_writer_t *writer, qkd_doh_msg_t *msg)
{
	uint8_t buf[QKD_DOH_MAX_RANGE_DATA];
	chunk_t data;
	size_t len;
	bool deflate;

	if (!msg->range.start || !msg->range.count ||
		(uint64_t)msg->range.start - 1 + msg->range.count >
												msg->range.pool_size ||
		msg->range.bitmap.len != qkd_doh_bitmap_len(msg->range.count) ||
		!qkd_doh_bitmap_pad_zero(msg->range.bitmap, msg->range.count))
	{
		return FALSE;
	}
	data = msg->range.bitmap;
	deflate = msg->range.deflate &&
			  qkd_doh_bitmap_deflate(msg->range.bitmap, buf,
									 sizeof(buf), &len);
	if (deflate)
	{
		data = chunk_create(buf, len);
	}
	else if (data.len > QKD_DOH_MAX_RANGE_DATA)
	{
		return FALSE;
	}
	msg->range.deflate = deflate;
	writer->write_uint8(writer, msg->type);
	writer->write_uint8(writer, (deflate ? RANGE_FLAG_DEFLATE : 0) |
						(msg->range.reset ? RANGE_FLAG_RESET : 0) |
						(msg->range.first ? RANGE_FLAG_FIRST : 0));
	writer->write_uint32(writer, msg->range.start);
	writer->write_uint32(writer, msg->range.count);
	writer->write_uint32(writer, msg->range.pool_size);
	writer->write_data(writer, data);
	return TRUE;
}

/**
 * Whether an IKE-less child name has only letters, digits, '.', '-', '_'
 */
static bool child_name_ok(chunk_t name)
{
	size_t i;

	for (i = 0; i < name.len; i++)
	{
		if (!isalnum(name.ptr[i]) &&
			(!name.ptr[i] || !strchr("._-", name.ptr[i])))
		{
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * Write the Option Data of a REQ_NEGOTIATE
 */
static bool encode_negotiate(bio_writer_t *writer, qkd_doh_msg_t *msg)
{
	if (msg->negotiate.seed.len > MAX_SEED ||
		msg->negotiate.child.len > QKD_DOH_MAX_CHILD ||
		!child_name_ok(msg->negotiate.child) ||
		msg->negotiate.count > QKD_DOH_MAX_BATCH ||
		(msg->negotiate.count > 1 && msg->negotiate.child.len))
	{
		return FALSE;
	}
	writer->write_uint8(writer, msg->type);
	writer->write_uint8(writer, 0);
	writer->write_uint32(writer, msg->negotiate.index);
	writer->write_uint8(writer, msg->negotiate.auth_alg);
	writer->write_uint8(writer, msg->negotiate.enc_alg);
	writer->write_uint32(writer, msg->negotiate.timestamp);
	if (msg->negotiate.survival)
	{
		writer->write_uint8(writer, TLV_SURVIVAL);
		writer->write_uint8(writer, sizeof(uint32_t));
		writer->write_uint32(writer, msg->negotiate.survival);
	}
	if (msg->negotiate.seed.len)
	{
		writer->write_uint8(writer, TLV_SEED);
		writer->write_data8(writer, msg->negotiate.seed);
	}
	if (msg->negotiate.has_channel)
	{
		writer->write_uint8(writer, TLV_CHANNEL);
		writer->write_uint8(writer, sizeof(uint64_t));
		writer->write_uint64(writer, msg->negotiate.channel);
	}
	if (msg->negotiate.has_keyid)
	{
		writer->write_uint8(writer, TLV_KEYID);
		writer->write_data8(writer, chunk_create(msg->negotiate.keyid,
												 QKD_KEY_ID_LEN));
	}
	if (msg->negotiate.child.len)
	{
		writer->write_uint8(writer, TLV_CHILD);
		writer->write_data8(writer, msg->negotiate.child);
	}
	if (msg->negotiate.count > 1)
	{
		writer->write_uint8(writer, TLV_COUNT);
		writer->write_uint8(writer, sizeof(uint16_t));
		writer->write_uint16(writer, msg->negotiate.count);
	}
	return TRUE;
}

/**
 * Whether the Indexes of an announce are valid: at least one key, Indexes
 * from 1 on, the last one in range
 */
static bool announce_indexes_ok(uint32_t first, uint8_t count)
{
	return count && first && (uint64_t)first + count - 1 <= UINT32_MAX;
}

/**
 * Write the Option Data of a KEY_ANNOUNCE or ANNOUNCE_ACK
 */
static bool encode_announce(bio_writer_t *writer, qkd_doh_msg_t *msg)
{
	u_int i;

	if (msg->announce.count > QKD_DOH_MAX_ANNOUNCE ||
		(msg->type == QKD_DOH_KEY_ANNOUNCE &&
		 !announce_indexes_ok(msg->announce.first_index,
							  msg->announce.count)))
	{
		return FALSE;
	}
	writer->write_uint8(writer, msg->type);
	writer->write_uint16(writer, msg->announce.seq);
	if (msg->type == QKD_DOH_ANNOUNCE_ACK)
	{
		writer->write_uint8(writer, msg->announce.status);
	}
	writer->write_uint8(writer, msg->announce.count);
	if (msg->type == QKD_DOH_KEY_ANNOUNCE)
	{
		writer->write_uint32(writer, msg->announce.first_index);
	}
	for (i = 0; i < msg->announce.count; i++)
	{
		writer->write_data(writer, chunk_create(msg->announce.ids[i],
												QKD_KEY_ID_LEN));
	}
	return TRUE;
}

/**
 * Write the Option Data of a message
 */
static bool encode_message(bio_writer_t *writer, qkd_doh_msg_t *msg)
{
	switch (msg->type)
	{
		case QKD_DOH_REQ_SYNC:
		case QKD_DOH_ACK_AVAILABLE:
			if (!msg->sync.bitmap.len ||
				msg->sync.bitmap.len > MAX_SYNC_BITMAP)
			{
				return FALSE;
			}
			writer->write_uint8(writer, msg->type);
			writer->write_uint8(writer, msg->sync.offset);
			writer->write_data(writer, msg->sync.bitmap);
			return TRUE;
		case QKD_DOH_REQ_SYNC_RANGE:
		case QKD_DOH_ACK_AVAILABLE_RANGE:
			return encode_range(writer, msg);
		case QKD_DOH_REQ_NEGOTIATE:
			return encode_negotiate(writer, msg);
		case QKD_DOH_CONFIRM_NEGOTIATE:
			writer->write_uint8(writer, msg->type);
			writer->write_uint8(writer, msg->confirm.status);
			writer->write_uint32(writer, msg->confirm.ts_echo);
			return TRUE;
		case QKD_DOH_KEY_ANNOUNCE:
		case QKD_DOH_ANNOUNCE_ACK:
			return encode_announce(writer, msg);
		case QKD_DOH_AUTH_KEY_OFFER:
			if ((msg->offer.flags & ~OFFER_FLAGS) ||
				!offer_id_ok(msg->offer.flags, msg->offer.keyid))
			{
				return FALSE;
			}
			writer->write_uint8(writer, msg->type);
			writer->write_uint8(writer, msg->offer.flags);
			writer->write_data(writer, chunk_create(msg->offer.keyid,
													QKD_KEY_ID_LEN));
			return TRUE;
		case QKD_DOH_AUTH:
		default:
			return FALSE;
	}
}

/*
 * Described in header
 */
/**
 * Pad a header to a multiple of 8 octets, set its Hdr Ext Len and take it
 * from the writer (destroyed)
 */
static bool finish_header(bio_writer_t *writer, chunk_t *doh)
{
	chunk_t buf;
	size_t pad;

	pad = (8 - writer->get_buf(writer).len % 8) % 8;
	if (pad == 1)
	{
		writer->write_uint8(writer, OPT_PAD1);
	}
	else if (pad)
	{
		writer->write_uint8(writer, OPT_PADN);
		writer->write_uint8(writer, pad - 2);
		memset(writer->skip(writer, pad - 2).ptr, 0, pad - 2);
	}
	buf = writer->extract_buf(writer);
	writer->destroy(writer);
	if (buf.len > MAX_DOH_LEN)
	{
		chunk_free(&buf);
		return FALSE;
	}
	buf.ptr[1] = buf.len / 8 - 1;
	*doh = buf;
	return TRUE;
}

/*
 * Described in header
 */
bool qkd_doh_encode(qkd_doh_msg_t *msg, qkd_doh_auth_t *auth,
					uint8_t next_header, chunk_t *doh, size_t *mac_offset)
{
	bio_writer_t *data, *writer;
	size_t mac = 0;

	data = bio_writer_create(MAX_OPT_DATA);
	if (!encode_message(data, msg) ||
		data->get_buf(data).len > MAX_OPT_DATA)
	{
		DBG1(DBG_NET, "qkd DOH: encoding %N failed, field out of range",
			 qkd_doh_type_names, msg->type);
		data->destroy(data);
		return FALSE;
	}
	writer = bio_writer_create(2 * MAX_OPT_DATA);
	writer->write_uint8(writer, next_header);
	writer->write_uint8(writer, 0); /* Hdr Ext Len, set below */
	writer->write_uint8(writer, QKD_DOH_OPTION);
	writer->write_data8(writer, data->get_buf(data));
	data->destroy(data);
	if (auth)
	{
		writer->write_uint8(writer, QKD_DOH_OPTION);
		writer->write_uint8(writer, AUTH_LEN);
		writer->write_uint8(writer, QKD_DOH_AUTH);
		writer->write_uint8(writer, auth->key_ref);
		writer->write_uint32(writer, auth->timestamp);
		writer->write_uint32(writer, auth->seq);
		mac = writer->get_buf(writer).len;
		writer->write_data(writer, chunk_create(auth->mac, QKD_DOH_MAC_LEN));
	}
	if (!finish_header(writer, doh))
	{
		return FALSE;
	}
	if (mac_offset)
	{
		*mac_offset = mac;
	}
	return TRUE;
}

/*
 * Described in header
 */
bool qkd_doh_wrap(chunk_t data, uint8_t next_header, chunk_t *doh)
{
	bio_writer_t *writer;

	if (!data.len || data.len > MAX_OPT_DATA)
	{
		return FALSE;
	}
	writer = bio_writer_create(2 * MAX_OPT_DATA);
	writer->write_uint8(writer, next_header);
	writer->write_uint8(writer, 0); /* Hdr Ext Len, set below */
	writer->write_uint8(writer, QKD_DOH_OPTION);
	writer->write_data8(writer, data);
	return finish_header(writer, doh);
}

/**
 * Parse the Option Data of a range message (bitmap inflated into msg)
 */
static bool decode_range(chunk_t data, qkd_doh_msg_t *msg)
{
	bio_reader_t *reader;
	uint8_t flags;
	chunk_t bitmap;

	if (data.len <= RANGE_HDR_LEN ||
		data.len > RANGE_HDR_LEN + QKD_DOH_MAX_RANGE_DATA)
	{
		return invalid("range message length");
	}
	reader = bio_reader_create(chunk_skip(data, 1));
	reader->read_uint8(reader, &flags);
	reader->read_uint32(reader, &msg->range.start);
	reader->read_uint32(reader, &msg->range.count);
	reader->read_uint32(reader, &msg->range.pool_size);
	bitmap = reader->peek(reader);
	reader->destroy(reader);

	if (flags & ~(RANGE_FLAG_DEFLATE | RANGE_FLAG_RESET | RANGE_FLAG_FIRST))
	{
		return invalid("unknown range flags");
	}
	msg->range.reset = flags & RANGE_FLAG_RESET;
	msg->range.first = flags & RANGE_FLAG_FIRST;
	if (!msg->range.start || !msg->range.count ||
		(uint64_t)msg->range.start - 1 + msg->range.count >
												msg->range.pool_size)
	{
		return invalid("range outside of the pool");
	}
	msg->range.deflate = flags & RANGE_FLAG_DEFLATE;
	if (msg->range.deflate)
	{
		if (!qkd_doh_bitmap_inflate(bitmap,
									qkd_doh_bitmap_len(msg->range.count),
									&bitmap))
		{
			return FALSE;
		}
	}
	else if (bitmap.len != qkd_doh_bitmap_len(msg->range.count))
	{
		return invalid("range bitmap length does not match key count");
	}
	else
	{	/* always allocated, whatever encoding changes the flag to */
		bitmap = chunk_clone(bitmap);
	}
	msg->range.bitmap = bitmap;
	if (!qkd_doh_bitmap_pad_zero(bitmap, msg->range.count))
	{
		qkd_doh_msg_clear(msg);
		return invalid("range bitmap padding not zero");
	}
	return TRUE;
}

/**
 * Parse the Option Data of a REQ_NEGOTIATE
 */
static bool decode_negotiate(chunk_t data, qkd_doh_msg_t *msg)
{
	bio_reader_t *reader;
	uint8_t reserved, type, len;
	chunk_t value;
	u_int seen = 0, bit;
	bool ok = FALSE;

	if (data.len < NEGOTIATE_HDR_LEN)
	{
		return invalid("REQ_NEGOTIATE length");
	}
	reader = bio_reader_create(chunk_skip(data, 1));
	reader->read_uint8(reader, &reserved);
	reader->read_uint32(reader, &msg->negotiate.index);
	reader->read_uint8(reader, &msg->negotiate.auth_alg);
	reader->read_uint8(reader, &msg->negotiate.enc_alg);
	reader->read_uint32(reader, &msg->negotiate.timestamp);
	if (reserved)
	{
		invalid("REQ_NEGOTIATE reserved field not zero");
		goto out;
	}
	while (reader->remaining(reader))
	{
		if (reader->remaining(reader) < 2)
		{
			invalid("truncated TLV");
			goto out;
		}
		reader->read_uint8(reader, &type);
		reader->read_uint8(reader, &len);
		if (reader->remaining(reader) < len)
		{
			invalid("truncated TLV");
			goto out;
		}
		reader->read_data(reader, len, &value);
		switch (type)
		{
			case TLV_SURVIVAL:
				bit = 0x01;
				if (len != sizeof(uint32_t) || !untoh32(value.ptr))
				{
					invalid("invalid key survival time TLV");
					goto out;
				}
				msg->negotiate.survival = untoh32(value.ptr);
				break;
			case TLV_SEED:
				bit = 0x02;
				if (!len || len > MAX_SEED)
				{
					invalid("invalid quantum random seed TLV");
					goto out;
				}
				msg->negotiate.seed = value;
				break;
			case TLV_CHANNEL:
				bit = 0x04;
				if (len != sizeof(uint64_t))
				{
					invalid("invalid quantum channel ID TLV");
					goto out;
				}
				msg->negotiate.has_channel = TRUE;
				msg->negotiate.channel = untoh64(value.ptr);
				break;
			case TLV_KEYID:
				bit = 0x08;
				if (len != QKD_KEY_ID_LEN)
				{
					invalid("invalid KEYID TLV");
					goto out;
				}
				msg->negotiate.has_keyid = TRUE;
				memcpy(msg->negotiate.keyid, value.ptr, QKD_KEY_ID_LEN);
				break;
			case TLV_CHILD:
				bit = 0x10;
				if (!len || len > QKD_DOH_MAX_CHILD || !child_name_ok(value))
				{
					invalid("invalid IKE-less child TLV");
					goto out;
				}
				msg->negotiate.child = value;
				break;
			case TLV_COUNT:
				bit = 0x20;
				if (len != sizeof(uint16_t) || untoh16(value.ptr) < 2 ||
					untoh16(value.ptr) > QKD_DOH_MAX_BATCH ||
					(uint64_t)msg->negotiate.index + untoh16(value.ptr) - 1 >
															UINT32_MAX)
				{
					invalid("invalid Key Count TLV");
					goto out;
				}
				msg->negotiate.count = untoh16(value.ptr);
				break;
			default:
				invalid("unknown TLV");
				goto out;
		}
		if (seen & bit)
		{
			invalid("duplicate TLV");
			goto out;
		}
		seen |= bit;
	}
	if (msg->negotiate.count && msg->negotiate.child.len)
	{
		invalid("Key Count TLV with an IKE-less child TLV");
		goto out;
	}
	ok = TRUE;

out:
	reader->destroy(reader);
	return ok;
}

/**
 * Parse the Option Data of a KEY_ANNOUNCE or ANNOUNCE_ACK
 */
static bool decode_announce(chunk_t data, qkd_doh_msg_t *msg)
{
	bio_reader_t *reader;
	size_t hdr_len;
	chunk_t id;
	u_int i;

	hdr_len = msg->type == QKD_DOH_ANNOUNCE_ACK ? ANNOUNCE_ACK_HDR_LEN
												: ANNOUNCE_HDR_LEN;
	if (data.len < hdr_len)
	{
		return invalid("announce length");
	}
	reader = bio_reader_create(chunk_skip(data, 1));
	reader->read_uint16(reader, &msg->announce.seq);
	if (msg->type == QKD_DOH_ANNOUNCE_ACK)
	{
		reader->read_uint8(reader, &msg->announce.status);
	}
	reader->read_uint8(reader, &msg->announce.count);
	if (msg->type == QKD_DOH_KEY_ANNOUNCE)
	{
		reader->read_uint32(reader, &msg->announce.first_index);
	}
	if (msg->announce.count > QKD_DOH_MAX_ANNOUNCE ||
		(msg->type == QKD_DOH_KEY_ANNOUNCE &&
		 !announce_indexes_ok(msg->announce.first_index,
							  msg->announce.count)))
	{
		reader->destroy(reader);
		return invalid("announce KEYID count or Index");
	}
	if (data.len != hdr_len + msg->announce.count * QKD_KEY_ID_LEN)
	{
		reader->destroy(reader);
		return invalid("announce length does not match KEYID count");
	}
	for (i = 0; i < msg->announce.count; i++)
	{
		reader->read_data(reader, QKD_KEY_ID_LEN, &id);
		memcpy(msg->announce.ids[i], id.ptr, QKD_KEY_ID_LEN);
	}
	reader->destroy(reader);
	return TRUE;
}

/**
 * Parse the Option Data of a QK message (type known)
 */
static bool decode_message(chunk_t data, qkd_doh_msg_t *msg)
{
	msg->type = data.ptr[0];
	switch (msg->type)
	{
		case QKD_DOH_REQ_SYNC:
		case QKD_DOH_ACK_AVAILABLE:
			if (data.len <= SYNC_HDR_LEN)
			{	/* at most 253 bitmap bytes as Option Data <= 255 */
				return invalid("sync message without bitmap");
			}
			msg->sync.offset = data.ptr[1];
			msg->sync.bitmap = chunk_skip(data, SYNC_HDR_LEN);
			return TRUE;
		case QKD_DOH_REQ_SYNC_RANGE:
		case QKD_DOH_ACK_AVAILABLE_RANGE:
			return decode_range(data, msg);
		case QKD_DOH_REQ_NEGOTIATE:
			return decode_negotiate(data, msg);
		case QKD_DOH_CONFIRM_NEGOTIATE:
			if (data.len != CONFIRM_LEN)
			{
				return invalid("CONFIRM_NEGOTIATE length");
			}
			msg->confirm.status = data.ptr[1];
			msg->confirm.ts_echo = untoh32(data.ptr + 2);
			return TRUE;
		case QKD_DOH_KEY_ANNOUNCE:
		case QKD_DOH_ANNOUNCE_ACK:
			return decode_announce(data, msg);
		case QKD_DOH_AUTH_KEY_OFFER:
			if (data.len != OFFER_LEN)
			{
				return invalid("AUTH_KEY_OFFER length");
			}
			msg->offer.flags = data.ptr[1];
			if (msg->offer.flags & ~OFFER_FLAGS)
			{
				return invalid("unknown AUTH_KEY_OFFER flags");
			}
			memcpy(msg->offer.keyid, data.ptr + 2, QKD_KEY_ID_LEN);
			if (!offer_id_ok(msg->offer.flags, msg->offer.keyid))
			{
				return invalid("AUTH_KEY_OFFER KEYID does not suit its flags");
			}
			return TRUE;
		case QKD_DOH_AUTH:
		default:
			return invalid("unknown QK message type");
	}
}

/**
 * Parse the Option Data of an AUTH option
 */
static bool decode_auth(chunk_t data, qkd_doh_auth_t *auth)
{
	if (data.len != AUTH_LEN)
	{
		return invalid("AUTH length");
	}
	auth->key_ref = data.ptr[1];
	auth->timestamp = untoh32(data.ptr + 2);
	auth->seq = untoh32(data.ptr + 6);
	memcpy(auth->mac, data.ptr + AUTH_MAC_OFFSET, QKD_DOH_MAC_LEN);
	return TRUE;
}

/**
 * Whether a QK Msg Type is one a message option may carry
 */
static bool is_message_type(uint8_t type)
{
	switch (type)
	{
		case QKD_DOH_REQ_SYNC:
		case QKD_DOH_ACK_AVAILABLE:
		case QKD_DOH_REQ_NEGOTIATE:
		case QKD_DOH_CONFIRM_NEGOTIATE:
		case QKD_DOH_REQ_SYNC_RANGE:
		case QKD_DOH_ACK_AVAILABLE_RANGE:
		case QKD_DOH_KEY_ANNOUNCE:
		case QKD_DOH_ANNOUNCE_ACK:
		case QKD_DOH_AUTH_KEY_OFFER:
			return TRUE;
		default:
			return FALSE;
	}
}

/**
 * Where the option walk is
 */
typedef enum {
	/** no QK message yet: padding and skippable options allowed */
	BEFORE_MESSAGE,
	/** right after the message: AUTH or padding */
	AFTER_MESSAGE,
	/** after AUTH or the padding following the message: padding only */
	TRAILER,
} walk_state_t;

/**
 * Walk the options of a header, find the message and AUTH option data
 */
static bool walk_options(chunk_t doh, bool any_type, chunk_t *msg_data,
						 chunk_t *auth_data, size_t *auth_offset)
{
	bio_reader_t *reader;
	walk_state_t state = BEFORE_MESSAGE;
	uint8_t type, len;
	chunk_t data;
	bool ok = FALSE;

	reader = bio_reader_create(chunk_skip(doh, 2));
	while (reader->remaining(reader))
	{
		reader->read_uint8(reader, &type);
		if (type == OPT_PAD1)
		{
			if (state == AFTER_MESSAGE)
			{
				state = TRAILER;
			}
			continue;
		}
		if (!reader->remaining(reader))
		{
			invalid("truncated option");
			goto out;
		}
		reader->read_uint8(reader, &len);
		if (reader->remaining(reader) < len)
		{
			invalid("truncated option");
			goto out;
		}
		reader->read_data(reader, len, &data);
		if (type == OPT_PADN)
		{
			while (data.len)
			{
				if (data.ptr[0])
				{
					invalid("PadN content not zero");
					goto out;
				}
				data = chunk_skip(data, 1);
			}
			if (state == AFTER_MESSAGE)
			{
				state = TRAILER;
			}
			continue;
		}
		if (type != QKD_DOH_OPTION)
		{
			if ((type & 0xc0) || state != BEFORE_MESSAGE)
			{
				invalid("unknown option");
				goto out;
			}
			continue;
		}
		if (!data.len)
		{
			invalid("QK option without message type");
			goto out;
		}
		switch (state)
		{
			case BEFORE_MESSAGE:
				if (!any_type && !is_message_type(data.ptr[0]))
				{
					invalid(data.ptr[0] == QKD_DOH_AUTH ? "AUTH without message"
												: "unknown QK message type");
					goto out;
				}
				*msg_data = data;
				state = AFTER_MESSAGE;
				break;
			case AFTER_MESSAGE:
				if (data.ptr[0] != QKD_DOH_AUTH)
				{
					invalid("more than one QK message");
					goto out;
				}
				*auth_data = data;
				*auth_offset = doh.len - reader->remaining(reader) - len;
				state = TRAILER;
				break;
			case TRAILER:
				invalid("QK option after AUTH or padding");
				goto out;
		}
	}
	if (state == BEFORE_MESSAGE)
	{
		invalid("no QK message");
		goto out;
	}
	ok = TRUE;

out:
	reader->destroy(reader);
	return ok;
}

/*
 * Described in header
 */
bool qkd_doh_frame(chunk_t doh, qkd_doh_frame_t *frame)
{
	chunk_t auth_data = chunk_empty;
	size_t auth_offset = 0;

	memset(frame, 0, sizeof(*frame));
	if (doh.len < 8 || doh.len > MAX_DOH_LEN ||
		doh.len != ((size_t)doh.ptr[1] + 1) * 8)
	{
		return invalid("Hdr Ext Len does not match the length");
	}
	if (!walk_options(doh, FALSE, &frame->data, &auth_data, &auth_offset) ||
		(auth_data.len && !decode_auth(auth_data, &frame->auth)))
	{
		memset(frame, 0, sizeof(*frame));
		return FALSE;
	}
	frame->type = frame->data.ptr[0];
	frame->has_auth = auth_data.len > 0;
	frame->mac_offset = auth_data.len ? auth_offset + AUTH_MAC_OFFSET : 0;
	frame->next_header = doh.ptr[0];
	return TRUE;
}

/*
 * Described in header
 */
bool qkd_doh_unwrap(chunk_t doh, chunk_t *data)
{
	chunk_t auth_data = chunk_empty;
	size_t auth_offset = 0;

	*data = chunk_empty;
	if (doh.len < 8 || doh.len > MAX_DOH_LEN ||
		doh.len != ((size_t)doh.ptr[1] + 1) * 8)
	{
		return invalid("Hdr Ext Len does not match the length");
	}
	if (!walk_options(doh, TRUE, data, &auth_data, &auth_offset))
	{
		*data = chunk_empty;
		return FALSE;
	}
	if (auth_data.len)
	{
		*data = chunk_empty;
		return invalid("more than one QK option");
	}
	return TRUE;
}

/*
 * Described in header
 */
bool qkd_doh_decode_frame(qkd_doh_frame_t *frame, qkd_doh_msg_t *msg)
{
	memset(msg, 0, sizeof(*msg));
	if (!frame->data.len || !decode_message(frame->data, msg))
	{
		memset(msg, 0, sizeof(*msg));
		return FALSE;
	}
	return TRUE;
}

/*
 * Described in header
 */
bool qkd_doh_decode(chunk_t doh, qkd_doh_msg_t *msg, qkd_doh_auth_t *auth,
					bool *has_auth, uint8_t *next_header, size_t *mac_offset)
{
	qkd_doh_frame_t frame;

	memset(msg, 0, sizeof(*msg));
	memset(auth, 0, sizeof(*auth));
	if (!qkd_doh_frame(doh, &frame) || !qkd_doh_decode_frame(&frame, msg))
	{
		return FALSE;
	}
	*auth = frame.auth;
	*has_auth = frame.has_auth;
	if (next_header)
	{
		*next_header = frame.next_header;
	}
	if (mac_offset)
	{
		*mac_offset = frame.mac_offset;
	}
	return TRUE;
}

/*
 * Described in header
 */
void qkd_doh_msg_clear(qkd_doh_msg_t *msg)
{
	if (msg->type == QKD_DOH_REQ_SYNC_RANGE ||
		msg->type == QKD_DOH_ACK_AVAILABLE_RANGE)
	{
		chunk_free(&msg->range.bitmap);
	}
}

/*
 * Described in header
 */
bool qkd_doh_msg_equals(qkd_doh_msg_t *a, qkd_doh_msg_t *b)
{
	if (a->type != b->type)
	{
		return FALSE;
	}
	switch (a->type)
	{
		case QKD_DOH_REQ_SYNC:
		case QKD_DOH_ACK_AVAILABLE:
			return a->sync.offset == b->sync.offset &&
				   same_data(a->sync.bitmap, b->sync.bitmap);
		case QKD_DOH_REQ_SYNC_RANGE:
		case QKD_DOH_ACK_AVAILABLE_RANGE:
			return a->range.start == b->range.start &&
				   a->range.count == b->range.count &&
				   a->range.pool_size == b->range.pool_size &&
				   a->range.reset == b->range.reset &&
				   a->range.first == b->range.first &&
				   same_data(a->range.bitmap, b->range.bitmap);
		case QKD_DOH_REQ_NEGOTIATE:
			return a->negotiate.index == b->negotiate.index &&
				   a->negotiate.auth_alg == b->negotiate.auth_alg &&
				   a->negotiate.enc_alg == b->negotiate.enc_alg &&
				   a->negotiate.timestamp == b->negotiate.timestamp &&
				   a->negotiate.survival == b->negotiate.survival &&
				   same_data(a->negotiate.seed, b->negotiate.seed) &&
				   a->negotiate.has_channel == b->negotiate.has_channel &&
				   (!a->negotiate.has_channel ||
					a->negotiate.channel == b->negotiate.channel) &&
				   a->negotiate.has_keyid == b->negotiate.has_keyid &&
				   (!a->negotiate.has_keyid ||
					memeq(a->negotiate.keyid, b->negotiate.keyid,
						  QKD_KEY_ID_LEN)) &&
				   same_data(a->negotiate.child, b->negotiate.child) &&
				   a->negotiate.count == b->negotiate.count;
		case QKD_DOH_CONFIRM_NEGOTIATE:
			return a->confirm.status == b->confirm.status &&
				   a->confirm.ts_echo == b->confirm.ts_echo;
		case QKD_DOH_KEY_ANNOUNCE:
		case QKD_DOH_ANNOUNCE_ACK:
			return a->announce.seq == b->announce.seq &&
				   (a->type == QKD_DOH_KEY_ANNOUNCE ?
					a->announce.first_index == b->announce.first_index :
					a->announce.status == b->announce.status) &&
				   a->announce.count == b->announce.count &&
				   a->announce.count <= QKD_DOH_MAX_ANNOUNCE &&
				   memeq(a->announce.ids, b->announce.ids,
						 a->announce.count * QKD_KEY_ID_LEN);
		case QKD_DOH_AUTH_KEY_OFFER:
			return a->offer.flags == b->offer.flags &&
				   memeq(a->offer.keyid, b->offer.keyid, QKD_KEY_ID_LEN);
		default:
			return FALSE;
	}
}
