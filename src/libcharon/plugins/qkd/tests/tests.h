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

TEST_SUITE(key_suite_create)
TEST_SUITE(hkdf_suite_create)
TEST_SUITE(composite_suite_create)
TEST_SUITE(direct_keys_suite_create)
TEST_SUITE(direct_journal_suite_create)
TEST_SUITE(shamir_suite_create)
TEST_SUITE(mpss_msg_suite_create)
TEST_SUITE(mpss_collector_suite_create)
TEST_SUITE(mpss_packet_suite_create)
TEST_SUITE(mpss_node_suite_create)
TEST_SUITE(mpss_kme_keys_suite_create)
TEST_SUITE(mpss_socket_suite_create)
TEST_SUITE(mpss_daemon_suite_create)
TEST_SUITE(link_suite_create)
TEST_SUITE(kme_client_suite_create)
TEST_SUITE(pool_suite_create)
TEST_SUITE(doh_msg_suite_create)
TEST_SUITE(doh_guard_suite_create)
TEST_SUITE(doh_socket_suite_create)
TEST_SUITE(doh_sync_suite_create)
TEST_SUITE(doh_peer_suite_create)
