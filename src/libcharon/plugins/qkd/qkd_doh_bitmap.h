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
 * Status bitmaps of the DOH sync messages: 2 bits per key, the first key in
 * the most significant bits, and their raw DEFLATE form.
 * @defgroup qkd_doh_bitmap qkd_doh_bitmap
 * @{ @ingroup qkd
 */

#ifndef QKD_DOH_BITMAP_H_
#define QKD_DOH_BITMAP_H_

#include <library.h>

/**
 * Most bytes raw DEFLATE can expand one byte of input to (a 258 byte match
 * costs at least two bits), bounds what an inflated bitmap may claim
 */
#define QKD_DOH_DEFLATE_RATIO_MAX 1032

/**
 * Length of a plain bitmap of count keys.
 *
 * @param count			number of keys
 * @return				ceil(count / 4) bytes
 */
size_t qkd_doh_bitmap_len(uint32_t count);

/**
 * Check that the bits of the last byte after the last of count keys are 0.
 *
 * @param bitmap		plain bitmap
 * @param count			number of keys it carries
 * @return				TRUE if they are
 */
bool qkd_doh_bitmap_pad_zero(chunk_t bitmap, uint32_t count);

/**
 * Get the 2-bit status of a key in a bitmap.
 *
 * @param bitmap		bitmap
 * @param i				0-based position in the bitmap
 * @return				status (0-3), 3 (invalid/blank) beyond the bitmap
 */
u_int qkd_doh_bitmap_get(chunk_t bitmap, u_int i);

/**
 * Set the 2-bit status of a key in a bitmap.
 *
 * @param bitmap		bitmap
 * @param i				0-based position, must be inside the bitmap
 * @param status		status (0-3)
 */
void qkd_doh_bitmap_set(chunk_t bitmap, u_int i, u_int status);

/**
 * Copy the statuses of count keys of a full plain bitmap into a new plain
 * bitmap as a range message carries it (the first key in the most
 * significant bits, unused bits of the last byte zero).
 *
 * @param bitmap_all	plain bitmap of a whole pool (Index 1 at position 0)
 * @param start			Index (1-based) of the first key to copy
 * @param count			number of keys to copy, at least 1
 * @return				allocated bitmap of ceil(count / 4) bytes,
 *						chunk_empty if the keys are not all in bitmap_all
 */
chunk_t qkd_doh_bitmap_extract(chunk_t bitmap_all, uint32_t start,
							   uint32_t count);

/**
 * Raw DEFLATE a plain bitmap (level 9) into a buffer, if it fits.
 *
 * @param plain			plain bitmap
 * @param buf			receives the compressed bitmap
 * @param size			size of buf
 * @param len			receives the compressed length
 * @return				TRUE if the result fits into buf
 */
bool qkd_doh_bitmap_deflate(chunk_t plain, uint8_t *buf, size_t size,
							size_t *len);

/**
 * Inflate a raw DEFLATE bitmap that must produce exactly len bytes from all
 * of its input (what a peer sends: anything else is refused, and the
 * output is bounded by len before anything is inflated).
 *
 * @param in			compressed bitmap
 * @param len			length the plain bitmap must have
 * @param out			receives the allocated plain bitmap
 * @return				TRUE if in inflates to exactly len bytes
 */
bool qkd_doh_bitmap_inflate(chunk_t in, size_t len, chunk_t *out);

#endif /** QKD_DOH_BITMAP_H_ @}*/
