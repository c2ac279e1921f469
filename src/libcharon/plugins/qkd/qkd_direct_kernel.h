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
 * SAs and policies of IKE-less children: the kernel facilities they use,
 * implemented with charon's kernel interface (kernel-netlink or
 * kernel-libipsec alike), or by a test.
 *
 * @defgroup qkd_direct_kernel qkd_direct_kernel
 * @{ @ingroup qkd
 */

#ifndef QKD_DIRECT_KERNEL_H_
#define QKD_DIRECT_KERNEL_H_

#include "qkd_direct_cfg.h"

typedef struct qkd_direct_kernel_t qkd_direct_kernel_t;

/**
 * Installs and removes the SAs and policies of IKE-less children.
 */
struct qkd_direct_kernel_t {

	/**
	 * Get a reqid for a child's traffic selectors.
	 *
	 * @param cfg		child
	 * @param reqid		receives the reqid (release with release_reqid())
	 * @return			TRUE if allocated
	 */
	bool (*alloc_reqid)(qkd_direct_kernel_t *this, qkd_direct_cfg_t *cfg,
						uint32_t *reqid);

	/**
	 * Release a reqid.
	 *
	 * @param reqid		reqid
	 */
	void (*release_reqid)(qkd_direct_kernel_t *this, uint32_t reqid);

	/**
	 * Install or remove the policies of a child (out, in and, in tunnel
	 * mode, fwd).
	 *
	 * @param cfg		child
	 * @param local		own address (SA endpoint)
	 * @param peer		the peer's address
	 * @param reqid		the child's reqid
	 * @param install	TRUE to install, FALSE to remove
	 * @return			TRUE if all succeeded
	 */
	bool (*policies)(qkd_direct_kernel_t *this, qkd_direct_cfg_t *cfg,
					 host_t *local, host_t *peer, uint32_t reqid,
					 bool install);

	/**
	 * Install one SA of a pair.
	 *
	 * @param cfg		child
	 * @param local		own address
	 * @param peer		the peer's address
	 * @param reqid		the child's reqid
	 * @param keys		SPI and keys of the SA
	 * @param inbound	TRUE for the SA from the peer
	 * @param lifetime	hard lifetime, seconds (never rekeyed by the kernel)
	 * @return			TRUE if installed
	 */
	bool (*add_sa)(qkd_direct_kernel_t *this, qkd_direct_cfg_t *cfg,
				   host_t *local, host_t *peer, uint32_t reqid,
				   qkd_direct_sa_keys_t *keys, bool inbound, u_int lifetime);

	/**
	 * Remove one SA of a pair (one that is gone already is no error).
	 *
	 * @param proto		IPPROTO_ESP or IPPROTO_AH
	 * @param local		own address
	 * @param peer		the peer's address
	 * @param spi		its SPI, host order
	 * @param inbound	TRUE for the SA from the peer
	 * @return			TRUE if removed
	 */
	bool (*del_sa)(qkd_direct_kernel_t *this, uint8_t proto, host_t *local,
				   host_t *peer, uint32_t spi, bool inbound);

	/**
	 * Get the bytes and packets an SA carried.
	 *
	 * @param cfg		child
	 * @param local		own address
	 * @param peer		the peer's address
	 * @param spi		its SPI, host order
	 * @param inbound	TRUE for the SA from the peer
	 * @param bytes		receives the bytes
	 * @param packets	receives the packets
	 * @return			TRUE if known
	 */
	bool (*query_sa)(qkd_direct_kernel_t *this, qkd_direct_cfg_t *cfg,
					 host_t *local, host_t *peer, uint32_t spi, bool inbound,
					 uint64_t *bytes, uint64_t *packets);

	/**
	 * Destroy a qkd_direct_kernel_t.
	 */
	void (*destroy)(qkd_direct_kernel_t *this);
};

/**
 * IP protocol of a child's SAs.
 *
 * @param cfg			child
 * @return				IPPROTO_ESP or IPPROTO_AH
 */
uint8_t qkd_direct_kernel_proto(qkd_direct_cfg_t *cfg);

/**
 * Create the implementation on charon's kernel interface (charon->kernel).
 *
 * @return				kernel facilities
 */
qkd_direct_kernel_t *qkd_direct_kernel_create();

#endif /** QKD_DIRECT_KERNEL_H_ @}*/
