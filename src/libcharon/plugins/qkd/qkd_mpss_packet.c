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

#include "qkd_mpss_packet.h"
#include "qkd_doh_msg.h"

#include <netinet/in.h>
#include <bio/bio_writer.h>

/**
 * Lengths and offsets of the IPv6 header
 */
#define IPV6_LEN 40
#define IPV6_PAYLOAD_LEN 4
#define IPV6_NEXT_HEADER 6
#define IPV6_SRC 8
#define IPV6_DST 24
#define IPV6_HOP_LIMIT 64

/**
 * Fixed part of the SRH, its routing type and the offset of Segments Left
 */
#define SRH_LEN 8
#define SRH_TYPE 4
#define SRH_SEGMENTS_LEFT 3

/**
 * Length of an IPv6 address
 */
#define ADDR_LEN 16

/*
 * Described in header
 */
bool qkd_mpss_packet_build(host_t *src, host_t *path[], u_int count,
						   chunk_t share, chunk_t *packet)
{
	bio_writer_t *writer;
	chunk_t doh;
	u_int i;

	if (!count || count > QKD_MPSS_MAX_SEGMENTS ||
		src->get_family(src) != AF_INET6)
	{
		return FALSE;
	}
	for (i = 0; i < count; i++)
	{
		if (path[i]->get_family(path[i]) != AF_INET6)
		{
			return FALSE;
		}
	}
	if (!qkd_doh_wrap(share, IPPROTO_NONE, &doh))
	{
		return FALSE;
	}
	writer = bio_writer_create(IPV6_LEN + SRH_LEN + count * ADDR_LEN +
							   doh.len);
	/* IPv6: version 6, no traffic class or flow label */
	writer->write_uint32(writer, 6 << 28);
	writer->write_uint16(writer, SRH_LEN + count * ADDR_LEN + doh.len);
	writer->write_uint8(writer, IPPROTO_ROUTING);
	writer->write_uint8(writer, IPV6_HOP_LIMIT);
	writer->write_data(writer, src->get_address(src));
	writer->write_data(writer, path[0]->get_address(path[0]));
	/* SRH: the last segment first, the first to visit at Segments Left */
	writer->write_uint8(writer, IPPROTO_DSTOPTS);
	writer->write_uint8(writer, 2 * count);
	writer->write_uint8(writer, SRH_TYPE);
	writer->write_uint8(writer, count - 1);
	writer->write_uint8(writer, count - 1);
	writer->write_uint8(writer, 0);
	writer->write_uint16(writer, 0);
	for (i = count; i > 0; i--)
	{
		writer->write_data(writer, path[i - 1]->get_address(path[i - 1]));
	}
	writer->write_data(writer, doh);
	chunk_free(&doh);
	*packet = writer->extract_buf(writer);
	writer->destroy(writer);
	return TRUE;
}

/*
 * Described in header
 */
bool qkd_mpss_packet_parse(chunk_t packet, qkd_mpss_packet_t *parsed)
{
	chunk_t srh, doh;
	size_t srh_len;
	u_int i;

	memset(parsed, 0, sizeof(*parsed));
	if (packet.len < IPV6_LEN + SRH_LEN || (packet.ptr[0] >> 4) != 6 ||
		untoh16(packet.ptr + IPV6_PAYLOAD_LEN) != packet.len - IPV6_LEN ||
		packet.ptr[IPV6_NEXT_HEADER] != IPPROTO_ROUTING)
	{
		return FALSE;
	}
	srh = chunk_skip(packet, IPV6_LEN);
	srh_len = ((size_t)srh.ptr[1] + 1) * 8;
	parsed->count = srh.ptr[4] + 1;
	parsed->segments_left = srh.ptr[SRH_SEGMENTS_LEFT];
	/* no TLVs: the segments fill the header */
	if (srh.ptr[0] != IPPROTO_DSTOPTS || srh.ptr[2] != SRH_TYPE ||
		parsed->count > QKD_MPSS_MAX_SEGMENTS ||
		srh_len != SRH_LEN + parsed->count * ADDR_LEN ||
		srh.len < srh_len || parsed->segments_left >= parsed->count)
	{
		memset(parsed, 0, sizeof(*parsed));
		return FALSE;
	}
	for (i = 0; i < parsed->count; i++)
	{
		parsed->segments[i] = chunk_create(srh.ptr + SRH_LEN + i * ADDR_LEN,
										   ADDR_LEN);
	}
	parsed->src = chunk_create(packet.ptr + IPV6_SRC, ADDR_LEN);
	parsed->dst = chunk_create(packet.ptr + IPV6_DST, ADDR_LEN);
	doh = chunk_skip(srh, srh_len);
	if (!chunk_equals(parsed->dst, parsed->segments[parsed->segments_left]) ||
		!doh.len || doh.ptr[0] != IPPROTO_NONE ||
		!qkd_doh_unwrap(doh, &parsed->share))
	{
		memset(parsed, 0, sizeof(*parsed));
		return FALSE;
	}
	return TRUE;
}

/*
 * Described in header
 */
bool qkd_mpss_packet_advance(chunk_t packet, qkd_mpss_packet_t *parsed,
							 chunk_t share)
{
	if (!parsed->segments_left || share.len != parsed->share.len)
	{
		return FALSE;
	}
	memcpy(parsed->share.ptr, share.ptr, share.len);
	parsed->segments_left--;
	packet.ptr[IPV6_LEN + SRH_SEGMENTS_LEFT] = parsed->segments_left;
	memcpy(parsed->dst.ptr, parsed->segments[parsed->segments_left].ptr,
		   ADDR_LEN);
	return TRUE;
}
