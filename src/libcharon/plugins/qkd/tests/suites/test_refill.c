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
 * Pools of many links refilled by jobs on charon's processor, next to a
 * real KME pair: the jobs fill the pools and hold no thread while they
 * wait, so other work still runs with few threads and many links.
 */

#include <test_suite.h>

#include <unistd.h>

#include <processing/jobs/callback_job.h>
#include <threading/mutex.h>
#include <threading/condvar.h>

#include "qkd_links.h"
#include "../kme_test_utils.h"

/**
 * Links configured
 */
#define LINKS 20

/**
 * Threads of the processor
 */
#define THREADS 4

/**
 * Directory of the pool database
 */
static char dir[] = "/tmp/qkd-test-refill-XXXXXX";

/**
 * Whether the probe job ran
 */
static struct {
	mutex_t *mutex;
	condvar_t *condvar;
	bool ran;
} probe;

/**
 * Configure LINKS pooled links to the same KME
 */
static void configure()
{
	char *pki = kme_test_env("QKD_TEST_PKI"), *pos;
	char conf[LINKS * 512 + 1024];
	int i;

	pos = conf + snprintf(conf, sizeof(conf),
		"%s { plugins { qkd {\n"
		"pool {\n  database = sqlite://%s/pool.db\n  keyfile = %s/pool.key\n"
		"  status_dir = %s\n}\nlinks {\n", lib->ns, dir, dir, dir);
	for (i = 0; i < LINKS; i++)
	{
		pos += snprintf(pos, conf + sizeof(conf) - pos,
			"  link%d {\n"
			"    kme = %s\n    sae_id = moon\n    peer_sae_id = sun\n"
			"    cert = %s/moon.crt\n    key = %s/moon.key\n"
			"    cacert = %s/ca.crt\n    remote_addrs = fec0::%x\n"
			"    pool_capacity = 16\n    pool_low = 4\n"
			"  }\n", i, kme_test_env("QKD_TEST_KME_A"), pki, pki, pki,
			0x100 + i);
	}
	snprintf(pos, conf + sizeof(conf) - pos, "} } } }\n");
	ck_assert(lib->settings->load_string(lib->settings, conf, TRUE));
}

/**
 * The probe job
 */
static job_requeue_t run_probe(void *data)
{
	probe.mutex->lock(probe.mutex);
	probe.ran = TRUE;
	probe.condvar->signal(probe.condvar);
	probe.mutex->unlock(probe.mutex);
	return JOB_REQUEUE_NONE;
}

/**
 * Whether every pool's status file says it holds 16 Idle keys
 */
static bool all_full()
{
	char path[PATH_MAX], buf[512];
	FILE *file;
	bool full;
	int i;

	for (i = 0; i < LINKS; i++)
	{
		snprintf(path, sizeof(path), "%s/link%d", dir, i);
		file = fopen(path, "r");
		if (!file)
		{
			return FALSE;
		}
		full = FALSE;
		while (fgets(buf, sizeof(buf), file))
		{
			full = full || streq(buf, "idle: 16\n");
		}
		fclose(file);
		if (!full)
		{
			return FALSE;
		}
	}
	return TRUE;
}

START_SETUP(setup_refill)
{
	strcpy(dir, "/tmp/qkd-test-refill-XXXXXX");
	ck_assert(mkdtemp(dir));
	probe.mutex = mutex_create(MUTEX_TYPE_DEFAULT);
	probe.condvar = condvar_create(CONDVAR_TYPE_DEFAULT);
	probe.ran = FALSE;
	lib->processor->set_threads(lib->processor, THREADS);
}
END_SETUP

START_TEARDOWN(teardown_refill)
{
	char cmd[PATH_MAX + 16];

	lib->processor->set_threads(lib->processor, 0);
	lib->processor->cancel(lib->processor);
	probe.condvar->destroy(probe.condvar);
	probe.mutex->destroy(probe.mutex);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ignore_result(system(cmd));
}
END_TEARDOWN

START_TEST(test_many_links)
{
	qkd_links_t *links;
	u_int busy = 0;
	int i;

	configure();
	links = qkd_links_create();
	ck_assert_int_eq(links->load(links), LINKS);

	/* every pool gets filled */
	for (i = 0; i < 200 && !all_full(); i++)
	{
		usleep(50000);
	}
	ck_assert_msg(all_full(), "not all %d pools filled", LINKS);

	/* with 20 links on 4 threads, other jobs still run, and the refill
	 * jobs hold threads only briefly */
	lib->processor->queue_job(lib->processor,
		(job_t*)callback_job_create(run_probe, NULL, NULL, NULL));
	probe.mutex->lock(probe.mutex);
	if (!probe.ran)
	{
		probe.condvar->timed_wait(probe.condvar, probe.mutex, 2000);
	}
	ck_assert_msg(probe.ran, "a job queued beside %d refill jobs did not run "
				  "in 2 s on %d threads", LINKS, THREADS);
	probe.mutex->unlock(probe.mutex);
	for (i = 0; i < 20; i++)
	{
		busy = max(busy, lib->processor->get_working_threads(lib->processor,
														JOB_PRIO_CRITICAL) +
				   lib->processor->get_working_threads(lib->processor,
														JOB_PRIO_MEDIUM));
		usleep(10000);
	}
	ck_assert_msg(busy < THREADS, "%u of %d threads busy while %d pools are "
				  "full", busy, THREADS, LINKS);

	/* reloads and shutdown stop the jobs */
	ck_assert_int_eq(links->load(links), LINKS);
	links->destroy(links);
}
END_TEST

Suite *refill_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd refill");

	tc = tcase_create("many links");
	tcase_add_checked_fixture(tc, setup_refill, teardown_refill);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_many_links);
	suite_add_tcase(s, tc);

	return s;
}
