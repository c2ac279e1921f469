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
 * The ETSI GS QKD 014 interface of the helper to its gateway: enc_keys
 * sends new secrets (source), dec_keys hands out rebuilt ones
 * (destination).
 * @defgroup mpss_etsi mpss_etsi
 * @{ @ingroup qkd-mpss
 */

#ifndef MPSS_ETSI_H_
#define MPSS_ETSI_H_

#include "mpss_engine.h"

typedef struct mpss_etsi_t mpss_etsi_t;

/**
 * HTTPS listener serving the gateway.
 */
struct mpss_etsi_t {

	/**
	 * Stop serving and destroy.
	 */
	void (*destroy)(mpss_etsi_t *this);
};

/**
 * Start serving the gateway, if an "etsi.listen" option is set.
 *
 * @param engine	the helper's engine
 * @param ns		section of the options ("qkd-mpss")
 * @return			listener (doing nothing without etsi.listen), NULL on
 *					error (logged)
 */
mpss_etsi_t *mpss_etsi_create(mpss_engine_t *engine, char *ns);

#endif /** MPSS_ETSI_H_ @}*/
