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

/*
 * Runner for the in-process IKEv2 exchange tests, set up like libcharon's
 * own exchange_tests, plus the qkd key exchange method.
 */

#include <test_runner.h>
#include <daemon.h>
#include <tests/utils/exchange_test_helper.h>

#include "qkd_ke.h"
#include "qkd_composite_ke.h"
#include "qkd_hkdf.h"

/* declare test suite constructors */
#define TEST_SUITE(x) test_suite_t* x();
#define TEST_SUITE_DEPEND(x, ...) TEST_SUITE(x)
#include "exchange_tests.h"
#undef TEST_SUITE
#undef TEST_SUITE_DEPEND

static test_configuration_t tests[] = {
#define TEST_SUITE(x) \
	{ .suite = x, },
#define TEST_SUITE_DEPEND(x, type, ...) \
	{ .suite = x, .feature = PLUGIN_DEPENDS(type, __VA_ARGS__) },
#include "exchange_tests.h"
	{ .suite = NULL, }
};

/**
 * What the qkd plugin registers for the composite methods
 */
static void register_composites(bool reg)
{
	key_exchange_method_t id, component;
	char *keyword;
	int i;

	if (reg)
	{
		qkd_composite_ke_configure(QKD_KE_METHOD);
	}
	for (i = 0; i < QKD_COMPOSITE_METHODS; i++)
	{
		if (qkd_composite_ke_get(i, &keyword, &id, &component))
		{
			qkd_composite_ke_register(i, reg);
			if (reg)
			{
				lib->crypto->add_ke(lib->crypto, id, "qkd",
								(ke_constructor_t)qkd_composite_ke_create);
			}
		}
	}
	if (!reg)
	{
		lib->crypto->remove_ke(lib->crypto,
							   (ke_constructor_t)qkd_composite_ke_create);
	}
}

static bool test_runner_init(bool init)
{
	if (init)
	{
		char *plugins, *plugindir;

		libcharon_init();
		plugins = getenv("TESTS_PLUGINS") ?:
					lib->settings->get_str(lib->settings,
										   "tests.load", EXCHANGE_PLUGINS);
		plugindir = lib->settings->get_str(lib->settings,
										   "tests.plugindir", PLUGINDIR);
		plugin_loader_add_plugindirs(plugindir, plugins);
		exchange_test_helper_init(plugins);

		/* what the qkd plugin registers */
		lib->crypto->add_ke(lib->crypto, QKD_KE_METHOD, "qkd",
							(ke_constructor_t)qkd_ke_create);
		qkd_ke_register_names(TRUE);
		lib->proposal->register_token(lib->proposal, "qkd",
							KEY_EXCHANGE_METHOD, QKD_KE_METHOD, 0);
		lib->crypto->add_ke(lib->crypto, QKD_KE_METHOD_QURSA, "qkd",
							(ke_constructor_t)qkd_ke_create);
		lib->proposal->register_token(lib->proposal, "qkd_qursa",
							KEY_EXCHANGE_METHOD, QKD_KE_METHOD_QURSA, 0);
		register_composites(TRUE);
		qkd_hkdf_cache(TRUE);
	}
	else
	{
		qkd_hkdf_cache(FALSE);
		register_composites(FALSE);
		lib->crypto->remove_ke(lib->crypto,
							   (ke_constructor_t)qkd_ke_create);
		qkd_ke_register_names(FALSE);
		exchange_test_helper_deinit();
		libcharon_deinit();
	}
	return TRUE;
}

int main(int argc, char *argv[])
{
	return test_runner_run("qkd exchanges", tests, test_runner_init);
}
