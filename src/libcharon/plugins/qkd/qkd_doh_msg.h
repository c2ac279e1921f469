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
 * Encoder and strict decoder of the quantum key messages carried in the
 * 0x50 option of an IPv6 Destination Options Header (docs/doh-profile.md).
 *
 * @defgroup qkd_doh_msg qkd_doh_msg
 * @{ @ingroup qkd
 */

#ifndef QKD_DOH_MSG_H_
#define QKD_DOH_MSG_H_

#include "qkd_key.h"
#include "qkd_doh_bitmap.h"

/**
 * Option type of the QK options
 */
#define QKD_DOH_OPTION 0x50

/**
 * Most keys a plain sync bitmap carries (253 bytes, 4 keys each)
 */
#define QKD_DOH_MAX_PLAIN_KEYS 1012

/**
 * Most bitmap bytes (plain or compressed) of a range sync message
 */
#define QKD_DOH_MAX_RANGE_DATA 240

/**
 * Most KEYIDs in an announce or its acknowledgement
 */
#define QKD_DOH_MAX_ANNOUNCE 15

/**
 * AUTH_KEY_OFFER flag: the sender understands range sync messages
 */
#define QKD_DOH_OFFER_RANGE 0x01

/**
 * AUTH_KEY_OFFER flag: no offer but a request for one (KEYID all zero),
 * sent by the end that lost its DOH key
 */
#define QKD_DOH_OFFER_REQUEST 0x02

/**
 * Length of the MAC in the AUTH option
 */
#define QKD_DOH_MAC_LEN 16

typedef enum qkd_doh_type_t qkd_doh_type_t;
typedef enum qkd_doh_status_t qkd_doh_status_t;
typedef struct qkd_doh_msg_t qkd_doh_msg_t;
typedef struct qkd_doh_auth_t qkd_doh_auth_t;
typedef struct qkd_doh_frame_t qkd_doh_frame_t;

/**
 * QK message types (docs/doh-profile.md, registry).
 */
enum qkd_doh_type_t {
	QKD_DOH_REQ_SYNC = 0x00,
	QKD_DOH_ACK_AVAILABLE = 0x01,
	QKD_DOH_REQ_NEGOTIATE = 0x02,
	QKD_DOH_CONFIRM_NEGOTIATE = 0x03,
	QKD_DOH_REQ_SYNC_RANGE = 0x80,
	QKD_DOH_ACK_AVAILABLE_RANGE = 0x81,
	QKD_DOH_KEY_ANNOUNCE = 0x82,
	QKD_DOH_ANNOUNCE_ACK = 0x83,
	QKD_DOH_AUTH = 0x84,
	QKD_DOH_AUTH_KEY_OFFER = 0x85,
};

/**
 * Enum names for qkd_doh_type_t.
 */
extern enum_name_t *qkd_doh_type_names;

/**
 * CONFIRM_NEGOTIATE status values.
 */
enum qkd_doh_status_t {
	QKD_DOH_SUCCESS = 0x00,
	QKD_DOH_INVALID_KEYID = 0x01,
	QKD_DOH_NOT_IDLE = 0x02,
	QKD_DOH_HMAC_FAILED = 0x03,
	QKD_DOH_TIMESTAMP = 0x04,
	QKD_DOH_UNSUPPORTED_ALG = 0x80,
	QKD_DOH_UNKNOWN_CHILD = 0x81,
};

/**
 * Most bytes of an IKE-less child name (REQ_NEGOTIATE child TLV)
 */
#define QKD_DOH_MAX_CHILD 32

/**
 * Most keys one REQ_NEGOTIATE binds (Key Count TLV)
 */
#define QKD_DOH_MAX_BATCH 1024

/**
 * A decoded (or to be encoded) QK message. Chunks point into the decoded
 * buffer, except the bitmap of a range message, which is allocated
 * (inflated or copied, free with qkd_doh_msg_clear()).
 */
struct qkd_doh_msg_t {

	/** message type */
	qkd_doh_type_t type;

	union {
		/** REQ_SYNC, ACK_AVAILABLE */
		struct {
			/** Key Offset */
			uint8_t offset;
			/** 2 bits per key, 1-253 bytes */
			chunk_t bitmap;
		} sync;

		/** REQ_SYNC_RANGE, ACK_AVAILABLE_RANGE */
		struct {
			/** whether to send/was sent raw DEFLATE compressed */
			bool deflate;
			/** Index of the first key, 1-based */
			uint32_t start;
			/** number of keys covered */
			uint32_t count;
			/** sender's pool size */
			uint32_t pool_size;
			/** sender started afresh: holds no negotiated keys with us */
			bool reset;
			/** first message of a sync round: the receiver forgets what it
			 * knew of the sender's statuses */
			bool first;
			/** plain bitmap (ceil(count / 4) bytes), allocated on decode */
			chunk_t bitmap;
		} range;

		/** REQ_NEGOTIATE */
		struct {
			/** Key Index */
			uint32_t index;
			/** Auth Alg */
			uint8_t auth_alg;
			/** Enc Alg */
			uint8_t enc_alg;
			/** Timestamp */
			uint32_t timestamp;
			/** key survival time TLV, 0 if absent */
			uint32_t survival;
			/** quantum random seed TLV, empty if absent */
			chunk_t seed;
			/** whether the quantum channel ID TLV is present */
			bool has_channel;
			/** quantum channel ID */
			uint64_t channel;
			/** whether the KEYID TLV is present */
			bool has_keyid;
			/** KEYID */
			uint8_t keyid[QKD_KEY_ID_LEN];
			/** IKE-less child the key is bound to (child TLV), empty for
			 * a key for IKE key exchanges */
			chunk_t child;
			/** Key Count TLV: keys at consecutive Indexes from Key Index
			 * bound together (2 to QKD_DOH_MAX_BATCH), 0 if absent (one
			 * key) */
			uint16_t count;
		} negotiate;

		/** CONFIRM_NEGOTIATE */
		struct {
			/** status, qkd_doh_status_t */
			uint8_t status;
			/** Timestamp Echo */
			uint32_t ts_echo;
		} confirm;

		/** KEY_ANNOUNCE, ANNOUNCE_ACK */
		struct {
			/** sequence number of the announce */
			uint16_t seq;
			/** ANNOUNCE_ACK status (0 all fetched, 1 some not) */
			uint8_t status;
			/** number of KEYIDs (announce 1-15, ack 0-15) */
			uint8_t count;
			/** KEY_ANNOUNCE: Index of the first key, the others follow */
			uint32_t first_index;
			/** KEYIDs */
			uint8_t ids[QKD_DOH_MAX_ANNOUNCE][QKD_KEY_ID_LEN];
		} announce;

		/** AUTH_KEY_OFFER */
		struct {
			/** QKD_DOH_OFFER_RANGE, QKD_DOH_OFFER_REQUEST */
			uint8_t flags;
			/** KEYID of the offered DOH key */
			uint8_t keyid[QKD_KEY_ID_LEN];
		} offer;
	};
};

/**
 * The AUTH option of a message.
 */
struct qkd_doh_auth_t {
	/** DOH key generation */
	uint8_t key_ref;
	/** seconds since the Unix epoch */
	uint32_t timestamp;
	/** per-sender sequence number */
	uint32_t seq;
	/** MAC, zero while computing it */
	uint8_t mac[QKD_DOH_MAC_LEN];
};

/**
 * The options of a received Destination Options Header, found without
 * decoding the message itself: enough to check the AUTH option before any
 * further work (such as inflating a bitmap) is done for the sender.
 */
struct qkd_doh_frame_t {
	/** QK Msg Type */
	uint8_t type;
	/** Option Data of the message option (points into the header) */
	chunk_t data;
	/** whether an AUTH option follows the message */
	bool has_auth;
	/** the AUTH option, if any */
	qkd_doh_auth_t auth;
	/** offset of the MAC in the header, 0 without AUTH option */
	size_t mac_offset;
	/** Next Header field */
	uint8_t next_header;
};

/**
 * Encode a Destination Options Header with a QK message, an AUTH option
 * (unless auth is NULL) and padding to a multiple of 8 octets.
 *
 * @param msg			message (range bitmaps are compressed if deflate is
 *						set and that makes them fit; otherwise sent plain
 *						if they fit and deflate cleared, on success only)
 * @param auth			AUTH option, NULL for none (AUTH_KEY_OFFER)
 * @param next_header	Next Header field (59 for none)
 * @param doh			receives the allocated header
 * @param mac_offset	receives the offset of the MAC in doh, may be NULL
 * @return				FALSE if a field is out of range or it does not fit
 */
bool qkd_doh_encode(qkd_doh_msg_t *msg, qkd_doh_auth_t *auth,
					uint8_t next_header, chunk_t *doh, size_t *mac_offset);

/**
 * Decode a Destination Options Header strictly: consistent lengths, zero
 * padding, exactly one QK message option optionally followed by one AUTH
 * option, unknown options skipped only if their action bits say so,
 * reserved fields zero, every length exact for its type, DEFLATE output
 * bounded. Never reads outside of doh.
 *
 * @param doh			the header (from its Next Header field on)
 * @param msg			receives the message (clear with qkd_doh_msg_clear())
 * @param auth			receives the AUTH option if present
 * @param has_auth		receives whether an AUTH option is present
 * @param next_header	receives the Next Header field, may be NULL
 * @param mac_offset	receives the offset of the MAC in doh (0 without
 *						AUTH option), may be NULL
 * @return				FALSE if malformed (nothing to clear then)
 */
bool qkd_doh_decode(chunk_t doh, qkd_doh_msg_t *msg, qkd_doh_auth_t *auth,
					bool *has_auth, uint8_t *next_header, size_t *mac_offset);

/**
 * Encode a Destination Options Header with one 0x50 option of any message
 * type (e.g. an MPSS share message, docs/mpss-profile.md) and padding.
 *
 * @param data			Option Data, its first byte the message type
 * @param next_header	Next Header field
 * @param doh			receives the allocated header
 * @return				FALSE if it does not fit
 */
bool qkd_doh_wrap(chunk_t data, uint8_t next_header, chunk_t *doh);

/**
 * Find the Option Data of the only 0x50 option of a header, whatever its
 * message type, with the strict checks of qkd_doh_frame() (lengths,
 * padding, unknown options) and no other 0x50 option.
 *
 * @param doh			the header (from its Next Header field on)
 * @param data			receives the Option Data (points into doh)
 * @return				FALSE if malformed
 */
bool qkd_doh_unwrap(chunk_t doh, chunk_t *data);

/**
 * First step of qkd_doh_decode(): check the header's options (lengths,
 * padding, one QK message option optionally followed by one AUTH option)
 * and parse the AUTH option, without decoding the message. Cheap and
 * bounded by the header's length.
 *
 * @param doh			the header (from its Next Header field on)
 * @param frame			receives the options found
 * @return				FALSE if malformed
 */
bool qkd_doh_frame(chunk_t doh, qkd_doh_frame_t *frame);

/**
 * Second step of qkd_doh_decode(): decode the message of a frame strictly
 * (see qkd_doh_decode()), inflating a compressed bitmap.
 *
 * @param frame			frame from qkd_doh_frame(), its header still valid
 * @param msg			receives the message (clear with qkd_doh_msg_clear())
 * @return				FALSE if malformed (nothing to clear then)
 */
bool qkd_doh_decode_frame(qkd_doh_frame_t *frame, qkd_doh_msg_t *msg);

/**
 * Free what qkd_doh_decode() allocated for a message (the bitmap of a range
 * message). Only for decoded messages: frees the bitmap of any range
 * message.
 *
 * @param msg			decoded message
 */
void qkd_doh_msg_clear(qkd_doh_msg_t *msg);

/**
 * Find how many keys, starting at Index start, one range message
 * (REQ_SYNC_RANGE, ACK_AVAILABLE_RANGE) can carry, encoded as
 * qkd_doh_encode() would encode them: raw DEFLATE if deflate is set and
 * the result fits into QKD_DOH_MAX_RANGE_DATA bytes, plain otherwise.
 *
 * The count is found by bisection of the compressed size, so it fits and
 * one key more does not (unless max_count or the end of bitmap_all limit
 * it), which is the largest count whenever the compressed size grows with
 * the count (as it does in practice).
 *
 * @param bitmap_all	plain bitmap of a whole pool (Index 1 at position 0)
 * @param start			Index (1-based) of the first key
 * @param max_count		most keys wanted (e.g. pool size - start + 1)
 * @param deflate		whether the message may be compressed
 * @param count			receives the number of keys, at least 1
 * @return				FALSE if start is 0 or beyond bitmap_all, or
 *						max_count is 0
 */
bool qkd_doh_range_fit(chunk_t bitmap_all, uint32_t start, uint32_t max_count,
					   bool deflate, uint32_t *count);

/**
 * Compare the contents of two messages. Range bitmaps are compared in their
 * plain form, whether they are (to be) compressed on the wire is ignored.
 *
 * @param a				first message
 * @param b				second message
 * @return				TRUE if both carry the same type and fields
 */
bool qkd_doh_msg_equals(qkd_doh_msg_t *a, qkd_doh_msg_t *b);

#endif /** QKD_DOH_MSG_H_ @}*/
