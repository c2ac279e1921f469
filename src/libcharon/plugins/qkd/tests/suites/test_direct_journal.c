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

#include <test_suite.h>

#include <netinet/in.h>
#include <unistd.h>

#include "qkd_direct_journal.h"

static char path[] = "/tmp/qkd-test-journal-XXXXXX";

START_SETUP(setup_journal)
{
	int fd = mkstemp(path);

	ck_assert(fd >= 0);
	close(fd);
	unlink(path);
}
END_SETUP

START_TEARDOWN(teardown_journal)
{
	char tmp[sizeof(path) + 4];

	unlink(path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	memcpy(path + strlen(path) - 6, "XXXXXX", 6);
}
END_TEARDOWN

/**
 * Count the entries of a journal, and check whether one is there
 */
static int count(qkd_direct_journal_t *journal, uint8_t want_proto,
				 uint32_t want_in, uint32_t want_out, bool *found)
{
	enumerator_t *enumerator;
	uint32_t spi_in, spi_out;
	uint8_t proto;
	int n = 0;

	*found = FALSE;
	enumerator = journal->create_enumerator(journal);
	while (enumerator->enumerate(enumerator, &proto, &spi_in, &spi_out))
	{
		n++;
		*found |= proto == want_proto && spi_in == want_in &&
				  spi_out == want_out;
	}
	enumerator->destroy(enumerator);
	return n;
}

START_TEST(test_survives_restart)
{
	qkd_direct_journal_t *journal;
	bool found;

	journal = qkd_direct_journal_create(path);
	ck_assert_int_eq(count(journal, 0, 0, 0, &found), 0);
	journal->add(journal, IPPROTO_ESP, 0xd0000001, 0xd0000002);
	journal->add(journal, IPPROTO_AH, 0xd0000003, 0xdfffffff);
	journal->add(journal, IPPROTO_ESP, 0xd0000005, 0xd0000006);
	journal->remove(journal, IPPROTO_ESP, 0xd0000001);
	/* another protocol's SPI is another SA */
	journal->remove(journal, IPPROTO_ESP, 0xd0000003);
	/* a crash: the object is gone without cleaning up, the file stays */
	journal->destroy(journal);

	journal = qkd_direct_journal_create(path);
	ck_assert_int_eq(count(journal, IPPROTO_AH, 0xd0000003, 0xdfffffff,
						   &found), 2);
	ck_assert(found);
	count(journal, IPPROTO_ESP, 0xd0000005, 0xd0000006, &found);
	ck_assert(found);
	count(journal, IPPROTO_ESP, 0xd0000001, 0xd0000002, &found);
	ck_assert(!found);
	journal->destroy(journal);
}
END_TEST

START_TEST(test_remove_while_enumerating)
{
	qkd_direct_journal_t *journal;
	enumerator_t *enumerator;
	uint32_t spi_in, spi_out;
	uint8_t proto;
	bool found;
	int n = 0;

	journal = qkd_direct_journal_create(path);
	journal->add(journal, IPPROTO_ESP, 0xd0000001, 0xd0000002);
	journal->add(journal, IPPROTO_ESP, 0xd0000003, 0xd0000004);
	enumerator = journal->create_enumerator(journal);
	while (enumerator->enumerate(enumerator, &proto, &spi_in, &spi_out))
	{
		journal->remove(journal, proto, spi_in);
		n++;
	}
	enumerator->destroy(enumerator);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(count(journal, 0, 0, 0, &found), 0);
	journal->destroy(journal);

	journal = qkd_direct_journal_create(path);
	ck_assert_int_eq(count(journal, 0, 0, 0, &found), 0);
	journal->destroy(journal);
}
END_TEST

START_TEST(test_garbage_skipped)
{
	qkd_direct_journal_t *journal;
	bool found;
	FILE *file;

	file = fopen(path, "w");
	ck_assert(file);
	fprintf(file, "50 d0000001 d0000002\n"
			"garbage\n"
			"17 d0000003 d0000004\n"
			"51 d0000005\n"
			"51 d0000007 d0000008\n");
	fclose(file);
	journal = qkd_direct_journal_create(path);
	ck_assert_int_eq(count(journal, IPPROTO_AH, 0xd0000007, 0xd0000008,
						   &found), 2);
	ck_assert(found);
	journal->destroy(journal);
}
END_TEST

START_TEST(test_unwritable)
{
	qkd_direct_journal_t *journal;
	bool found;

	/* logged, no crash; the entries are still known in memory */
	journal = qkd_direct_journal_create("/nonexistent-dir/qkd.sas");
	journal->add(journal, IPPROTO_ESP, 0xd0000001, 0xd0000002);
	ck_assert_int_eq(count(journal, IPPROTO_ESP, 0xd0000001, 0xd0000002,
						   &found), 1);
	ck_assert(found);
	journal->destroy(journal);
}
END_TEST

Suite *direct_journal_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd IKE-less SA journal");

	tc = tcase_create("journal");
	tcase_add_checked_fixture(tc, setup_journal, teardown_journal);
	tcase_add_test(tc, test_survives_restart);
	tcase_add_test(tc, test_remove_while_enumerating);
	tcase_add_test(tc, test_garbage_skipped);
	tcase_add_test(tc, test_unwritable);
	suite_add_tcase(s, tc);

	return s;
}
