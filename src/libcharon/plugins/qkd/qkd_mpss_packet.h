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
 * IPv6 packets carrying MPSS share messages along a pinned path: the IPv6
 * header, a Segment Routing Header (RFC 8754) listing the relays and the
 * destination, and a Destination Options Header with the share message
 * (docs/mpss-profile.md). Each relay works as an SRv6 endpoint in user
 * space: it replaces the share message (re-encrypted for the next hop, same
 * length), decrements Segments Left and sends the packet on to the next
 * segment.
 *
 * @defgroup qkd_mpss_packet qkd_mpss_packet
 * @{ @ingroup qkd
 */

#ifndef QKD_MPSS_PACKET_H_
#define QKD_MPSS_PACKET_H_

#include <library.h>
#include <networking/host.h>

/**
 * Most segments of a path (relays and the destination)
 */
#define QKD_MPSS_MAX_SEGMENTS 16

typedef struct qkd_mpss_packet_t qkd_mpss_packet_t;

/**
 * A parsed share packet; chunks point into the packet.
 */
struct qkd_mpss_packet_t {
	/** source address (16 bytes) */
	chunk_t src;
	/** destination address, the segment being visited (16 bytes) */
	chunk_t dst;
	/** Segments Left */
	uint8_t segments_left;
	/** segments, segments[0] the last one (the destination), 16 bytes
	 * each */
	chunk_t segments[QKD_MPSS_MAX_SEGMENTS];
	/** number of segments */
	u_int count;
	/** Option Data of the share message */
	chunk_t share;
};

/**
 * Build a share packet for a path.
 *
 * @param src		source address (IPv6)
 * @param path		segments in the order they are visited, the
 *					destination last (IPv6, 1..QKD_MPSS_MAX_SEGMENTS)
 * @param count		number of segments
 * @param share		Option Data of the share message
 * @param packet	receives the allocated packet (IPv6 header first)
 * @return			FALSE for bad parameters
 */
bool qkd_mpss_packet_build(host_t *src, host_t *path[], u_int count,
						   chunk_t share, chunk_t *packet);

/**
 * Parse a share packet strictly: IPv6 header with a Payload Length that
 * matches, an SRH (routing type 4) right after it whose lengths, Last
 * Entry and Segments Left agree, a destination address that is the
 * segment Segments Left names, then a Destination Options Header with
 * only a 0x50 option and No Next Header.
 *
 * @param packet	the packet, IPv6 header first
 * @param parsed	receives its fields (pointing into packet)
 * @return			FALSE if malformed
 */
bool qkd_mpss_packet_parse(chunk_t packet, qkd_mpss_packet_t *parsed);

/**
 * Move a parsed packet on to its next segment, in place: the share
 * message is replaced (same length), Segments Left decremented and the
 * destination address set to the next segment.
 *
 * @param packet	the packet parsed into parsed
 * @param parsed	its fields, updated
 * @param share		the new share message, as long as the old one
 * @return			FALSE if the packet is at its last segment or the
 *					share's length differs
 */
bool qkd_mpss_packet_advance(chunk_t packet, qkd_mpss_packet_t *parsed,
							 chunk_t share);

#endif /** QKD_MPSS_PACKET_H_ @}*/
