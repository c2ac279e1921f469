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
 * A kernel for IKE-less unit tests: keeps the SAs and policies a
 * qkd_doh_direct_t installs, as one host's kernel would, checks that no SA
 * outlives its hard lifetime and passes simulated packets between two
 * hosts' SAs.
 */

#ifndef MOCK_DIRECT_KERNEL_H_
#define MOCK_DIRECT_KERNEL_H_

#include "qkd_direct_kernel.h"

typedef struct mock_direct_kernel_t mock_direct_kernel_t;

/**
 * Mock kernel of one host.
 */
struct mock_direct_kernel_t {

	/**
	 * The implementation handed to the code under test.
	 */
	qkd_direct_kernel_t kernel;

	/**
	 * Send a packet of a child to another host: with the outbound SA the
	 * kernel would pick (the newest), received if the other host has the
	 * inbound SA with that SPI and the same keys.
	 *
	 * @param child		child name
	 * @param to		the other host's kernel
	 * @return			TRUE if received
	 */
	bool (*send)(mock_direct_kernel_t *this, char *child,
				 mock_direct_kernel_t *to);

	/**
	 * Make an SA fail to install, as the kernel does for an SPI in use.
	 *
	 * @param nth		the nth add_sa() from now fails (1 the next)
	 */
	void (*fail_add)(mock_direct_kernel_t *this, u_int nth);

	/**
	 * Number of SAs installed now, of a child or all (NULL).
	 *
	 * @param child		child name, or NULL
	 * @return			SAs
	 */
	u_int (*count_sas)(mock_direct_kernel_t *this, char *child);

	/**
	 * Number of children with policies installed now.
	 */
	u_int (*count_policies)(mock_direct_kernel_t *this);

	/**
	 * Number of reqids allocated and not released.
	 */
	u_int (*count_reqids)(mock_direct_kernel_t *this);

	/**
	 * SAs installed so far, and how many of them reused an SPI or keys an
	 * SA of this host had before (in any direction).
	 *
	 * @param reused	receives the SAs that reused an SPI or keys
	 * @return			SAs installed so far
	 */
	u_int (*count_installed)(mock_direct_kernel_t *this, u_int *reused);

	/**
	 * SAs found installed after their hard lifetime (checked in send() and
	 * count_sas()).
	 */
	u_int (*count_overdue)(mock_direct_kernel_t *this);

	/**
	 * Destroy a mock_direct_kernel_t.
	 */
	void (*destroy)(mock_direct_kernel_t *this);
};

/**
 * Create a mock kernel.
 *
 * @return			mock kernel
 */
mock_direct_kernel_t *mock_direct_kernel_create();

#endif /** MOCK_DIRECT_KERNEL_H_ */
