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
 * The qkd-mpss helper's configuration: its QKD links to neighbours and the
 * destinations it is the source for, read from the "qkd-mpss" section of
 * its strongswan.conf-format file (see conf/qkd-mpss.opt).
 * @defgroup mpss_config mpss_config
 * @{ @ingroup qkd-mpss
 */

#ifndef MPSS_CONFIG_H_
#define MPSS_CONFIG_H_

#include <qkd_mpss_kme_keys.h>
#include <qkd_mpss_node.h>
#include <qkd_shamir.h>

#include <collections/linked_list.h>

typedef struct mpss_destination_t mpss_destination_t;

/**
 * A destination this node sends secrets to, as the source.
 */
struct mpss_destination_t {
	/** name of its section */
	char *name;
	/** SAE ID of the destination's gateway (the slave of enc_keys) */
	char *sae_id;
	/** shares needed to rebuild a secret */
	u_int k;
	/** the paths, one share on each (n = count) */
	qkd_mpss_path_t *paths[QKD_SHAMIR_MAX_SHARES];
	u_int count;
};

/**
 * Read the links to neighbours ("neighbours" subsections).
 *
 * @param ns		section of the options ("qkd-mpss")
 * @return			hop keys from their KMEs, NULL on error (logged)
 */
qkd_mpss_kme_keys_t *mpss_config_hop_keys(char *ns);

/**
 * Read the destinations ("destinations" subsections), checking that the
 * paths of each are node-disjoint.
 *
 * @param ns		section of the options ("qkd-mpss")
 * @param list		receives the mpss_destination_t*
 * @return			FALSE on error (logged)
 */
bool mpss_config_destinations(char *ns, linked_list_t *list);

/**
 * Destroy a destination.
 *
 * @param dest		destination
 */
void mpss_destination_destroy(mpss_destination_t *dest);

#endif /** MPSS_CONFIG_H_ @}*/
