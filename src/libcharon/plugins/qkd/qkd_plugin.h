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
 * @defgroup qkd qkd
 * @ingroup cplugins
 *
 * @defgroup qkd_plugin qkd_plugin
 * @{ @ingroup qkd
 */

#ifndef QKD_PLUGIN_H_
#define QKD_PLUGIN_H_

#include <plugins/plugin.h>

typedef struct qkd_plugin_t qkd_plugin_t;

/**
 * Plugin keying IPsec SAs with Quantum Key Distribution keys.
 *
 * Keys come from ETSI GS QKD 014 Key Management Entities, one configured
 * link per peer (see qkd_link_t).
 */
struct qkd_plugin_t {

	/**
	 * Implements plugin interface.
	 */
	plugin_t plugin;
};

#endif /** QKD_PLUGIN_H_ @}*/
