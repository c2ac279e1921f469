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
 * Node-disjoint paths computed from a topology file: the nodes of a QKD
 * network and its links, in strongswan.conf format.
 * @defgroup mpss_topology mpss_topology
 * @{ @ingroup qkd-mpss
 */

#ifndef MPSS_TOPOLOGY_H_
#define MPSS_TOPOLOGY_H_

#include <qkd_mpss_node.h>

/**
 * Most nodes in a topology
 */
#define MPSS_TOPOLOGY_MAX_NODES 255

/**
 * Compute node-disjoint paths between two nodes of a topology, as many as
 * possible up to a number, the shortest first (maximum flow through
 * nodes of capacity one, Edmonds-Karp).
 *
 * The file has a "nodes" section (name = IPv6 address) and a "links"
 * section (name = node node): links are QKD links, usable both ways.
 *
 * @param file		topology file
 * @param source	address of the source node
 * @param dest		address of the destination node
 * @param wanted	most paths wanted
 * @param paths		receives the allocated paths (IDs 1..count, relays in
 *					order, the destination last)
 * @return			number of paths found, -1 on error (logged)
 */
int mpss_topology_paths(char *file, host_t *source, host_t *dest,
						u_int wanted, qkd_mpss_path_t *paths[]);

#endif /** MPSS_TOPOLOGY_H_ @}*/
