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

#include "qkd_doh_bitmap.h"

#include <zlib.h>

#include <utils/debug.h>

/**
 * Raw DEFLATE: no zlib header, 32 KiB window
 */
#define DEFLATE_WINDOW_BITS -15

/*
 * Described in header
 */
size_t qkd_doh_bitmap_len(uint32_t count)
{
	return count / 4 + (count % 4 ? 1 : 0);
}

/*
 * Described in header
 */
bool qkd_doh_bitmap_pad_zero(chunk_t bitmap, uint32_t count)
{
	if (count % 4 == 0 || !bitmap.len)
	{
		return TRUE;
	}
	return !(bitmap.ptr[bitmap.len - 1] & (0xff >> (2 * (count % 4))));
}

/*
 * Described in header
 */
u_int qkd_doh_bitmap_get(chunk_t bitmap, u_int i)
{
	if (i / 4 >= bitmap.len)
	{
		return 3;
	}
	return (bitmap.ptr[i / 4] >> (6 - 2 * (i % 4))) & 0x03;
}

/*
 * Described in header
 */
void qkd_doh_bitmap_set(chunk_t bitmap, u_int i, u_int status)
{
	u_int shift = 6 - 2 * (i % 4);

	bitmap.ptr[i / 4] = (bitmap.ptr[i / 4] & ~(0x03 << shift)) |
						((status & 0x03) << shift);
}

/*
 * Described in header
 */
chunk_t qkd_doh_bitmap_extract(chunk_t bitmap_all, uint32_t start,
							   uint32_t count)
{
	chunk_t out;
	size_t pos, byte, i;
	u_int shift;

	if (!start || !count ||
		(uint64_t)start - 1 + count > (uint64_t)bitmap_all.len * 4)
	{
		return chunk_empty;
	}
	pos = start - 1;
	byte = pos / 4;
	shift = 2 * (pos % 4);
	out = chunk_alloc(qkd_doh_bitmap_len(count));
	if (!shift)
	{
		memcpy(out.ptr, bitmap_all.ptr + byte, out.len);
	}
	else
	{
		for (i = 0; i < out.len; i++)
		{
			out.ptr[i] = bitmap_all.ptr[byte + i] << shift;
			if (byte + i + 1 < bitmap_all.len)
			{
				out.ptr[i] |= bitmap_all.ptr[byte + i + 1] >> (8 - shift);
			}
		}
	}
	if (count % 4)
	{
		out.ptr[out.len - 1] &= ~(0xff >> (2 * (count % 4)));
	}
	return out;
}

/*
 * Described in header
 */
bool qkd_doh_bitmap_deflate(chunk_t plain, uint8_t *buf, size_t size,
							size_t *len)
{
	z_stream zs = {};
	bool fits;

	if (plain.len > size * QKD_DOH_DEFLATE_RATIO_MAX)
	{	/* can't possibly fit, don't bother */
		return FALSE;
	}
	if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, DEFLATE_WINDOW_BITS,
					 8, Z_DEFAULT_STRATEGY) != Z_OK)
	{
		DBG1(DBG_NET, "qkd DOH: initializing DEFLATE failed");
		return FALSE;
	}
	zs.next_in = plain.ptr;
	zs.avail_in = plain.len;
	zs.next_out = buf;
	zs.avail_out = size;
	/* with a bounded output buffer the stream only ends if all of it fits,
	 * and then it is the same as with an unbounded one */
	fits = deflate(&zs, Z_FINISH) == Z_STREAM_END;
	*len = zs.total_out;
	deflateEnd(&zs);
	return fits;
}

/*
 * Described in header
 */
bool qkd_doh_bitmap_inflate(chunk_t in, size_t len, chunk_t *out)
{
	z_stream zs = {};
	bool ok;

	if (len > in.len * QKD_DOH_DEFLATE_RATIO_MAX)
	{
		DBG2(DBG_NET, "qkd DOH: invalid header: compressed bitmap too short "
			 "for its key count");
		return FALSE;
	}
	if (inflateInit2(&zs, DEFLATE_WINDOW_BITS) != Z_OK)
	{
		DBG1(DBG_NET, "qkd DOH: initializing INFLATE failed");
		return FALSE;
	}
	*out = chunk_alloc(len);
	zs.next_in = in.ptr;
	zs.avail_in = in.len;
	zs.next_out = out->ptr;
	zs.avail_out = out->len;
	/* Z_STREAM_END only if the stream ends within the output buffer, so
	 * anything producing more output or needing more input fails */
	ok = inflate(&zs, Z_FINISH) == Z_STREAM_END &&
		 zs.avail_out == 0 && zs.avail_in == 0;
	inflateEnd(&zs);
	if (!ok)
	{
		chunk_free(out);
		DBG2(DBG_NET, "qkd DOH: invalid header: compressed bitmap does not "
			 "inflate to its key count");
		return FALSE;
	}
	return TRUE;
}
