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

#include "qkd_key.h"

START_TEST(test_id_roundtrip)
{
	uint8_t id[QKD_KEY_ID_LEN];
	char buf[QKD_KEY_ID_STRLEN + 1];

	ck_assert(qkd_key_id_parse("0123ABCD-4567-89ef-aBcD-0123456789ab", id));
	ck_assert(chunk_equals(chunk_create(id, sizeof(id)),
		chunk_from_chars(0x01,0x23,0xab,0xcd,0x45,0x67,0x89,0xef,
						 0xab,0xcd,0x01,0x23,0x45,0x67,0x89,0xab)));
	qkd_key_id_format(id, buf);
	ck_assert_str_eq(buf, "0123abcd-4567-89ef-abcd-0123456789ab");
}
END_TEST

static char *invalid_ids[] = {
	"",
	"0123abcd4567-89ef-abcd-0123456789ab",
	"0123abcd-4567-89ef-abcd-0123456789a",
	"0123abcd-4567-89ef-abcd-0123456789abc",
	"0123abcd-4567-89ef-abcd_0123456789ab",
	"0123abcg-4567-89ef-abcd-0123456789ab",
	"0123abcd-4567-89ef-abcd-0123456789a ",
	"-0123abcd-4567-89ef-abcd-0123456789a",
};

START_TEST(test_id_invalid)
{
	uint8_t id[QKD_KEY_ID_LEN];

	ck_assert(!qkd_key_id_parse(invalid_ids[_i], id));
}
END_TEST

START_TEST(test_id_null)
{
	uint8_t id[QKD_KEY_ID_LEN];

	ck_assert(!qkd_key_id_parse(NULL, id));
}
END_TEST

Suite *key_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd key");

	tc = tcase_create("key IDs");
	tcase_add_test(tc, test_id_roundtrip);
	tcase_add_loop_test(tc, test_id_invalid, 0, countof(invalid_ids));
	tcase_add_test(tc, test_id_null);
	suite_add_tcase(s, tc);

	return s;
}
