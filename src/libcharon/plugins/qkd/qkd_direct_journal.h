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
 * The SA pairs of a link's IKE-less children that are in the kernel, kept
 * in a file so that a charon started after a crash removes those its
 * previous run left: with kernel-netlink they outlive the process, and
 * the kernel would otherwise keep them until their hard lifetime.
 *
 * The file lists SPIs only, never key material. It is rewritten on every
 * change, without fsync: kernel SAs do not outlive a reboot, a file the
 * page cache holds outlives a crash of charon.
 *
 * @defgroup qkd_direct_journal qkd_direct_journal
 * @{ @ingroup qkd
 */

#ifndef QKD_DIRECT_JOURNAL_H_
#define QKD_DIRECT_JOURNAL_H_

#include <library.h>

typedef struct qkd_direct_journal_t qkd_direct_journal_t;

/**
 * SA pairs of a link's IKE-less children in the kernel.
 */
struct qkd_direct_journal_t {

	/**
	 * Record an SA pair that is being installed.
	 *
	 * @param proto		IPPROTO_ESP or IPPROTO_AH
	 * @param spi_in	SPI of the inbound SA, host order
	 * @param spi_out	SPI of the outbound SA, host order
	 */
	void (*add)(qkd_direct_journal_t *this, uint8_t proto, uint32_t spi_in,
				uint32_t spi_out);

	/**
	 * Forget an SA pair that was removed.
	 *
	 * @param proto		IPPROTO_ESP or IPPROTO_AH
	 * @param spi_in	SPI of its inbound SA, host order
	 */
	void (*remove)(qkd_direct_journal_t *this, uint8_t proto,
				   uint32_t spi_in);

	/**
	 * Enumerate the recorded SA pairs (right after creation: those the
	 * previous run left). Enumerates a copy: remove() may be called.
	 *
	 * @return			enumerator over uint8_t proto, uint32_t spi_in,
	 *					uint32_t spi_out
	 */
	enumerator_t *(*create_enumerator)(qkd_direct_journal_t *this);

	/**
	 * Destroy a qkd_direct_journal_t (the file stays).
	 */
	void (*destroy)(qkd_direct_journal_t *this);
};

/**
 * Open the journal of a link, reading what the previous run recorded.
 *
 * @param path		file of the link's SA pairs
 * @return			journal
 */
qkd_direct_journal_t *qkd_direct_journal_create(char *path);

#endif /** QKD_DIRECT_JOURNAL_H_ @}*/
