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
 * The control socket over a real unix socket, with strongSwan's own client
 * library (libvici), a pooled link refilled from a real KME: every command,
 * the events of the pool and the KME, refusals of bad requests and of
 * garbage on the socket.
 */

#include <test_suite.h>

#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <threading/mutex.h>
#include <threading/condvar.h>
#include <libvici.h>

#include "qkd_links.h"
#include "qkd_vici.h"
#include "qkd_events.h"
#include "qkd_status.h"
#include "../kme_test_utils.h"

/**
 * Directory of the socket, pool database and status files
 */
static char dir[] = "/tmp/qkd-test-vici-XXXXXX";

/**
 * URI of the socket
 */
static char uri[PATH_MAX];

/**
 * Links and their control socket
 */
static qkd_links_t *links;
static qkd_vici_t *vici;

/**
 * Events and streamed items a client received
 */
static struct {
	mutex_t *mutex;
	condvar_t *condvar;
	/** names of the events, in order, space separated */
	char names[4096];
	/** streamed items */
	u_int items;
	/** a value of the last event: the key given in want */
	char want[32];
	char value[128];
} seen;

/**
 * Configure a pooled link to KME A (16 keys, refilled below 4)
 */
static void configure(char *kme)
{
	char path[PATH_MAX];
	char *pki = kme_test_env("QKD_TEST_PKI");
	char conf[4096];
	FILE *file;

	snprintf(conf, sizeof(conf),
		"%s { plugins { qkd {\n"
		"vici { socket = %s }\n"
		"pool {\n  database = sqlite://%s/pool.db\n  keyfile = %s/pool.key\n"
		"  reserve = 1\n}\nlinks {\n"
		"  sun {\n"
		"    kme = %s\n    sae_id = moon\n    peer_sae_id = sun\n"
		"    cert = %s/moon.crt\n    key = %s/moon.key\n"
		"    cacert = %s/ca.crt\n    remote_addrs = fec0::1, 10.1.0.0/16\n"
		"    connections = gw\n    pool_capacity = 16\n    pool_low = 4\n"
		"  }\n"
		"} } } }\n", lib->ns, uri, dir, dir, kme, pki, pki, pki);
	/* in a file, as reload-links reads strongswan.conf again */
	snprintf(path, sizeof(path), "%s/strongswan.conf", dir);
	file = fopen(path, "w");
	ck_assert(file);
	ck_assert(fputs(conf, file) >= 0);
	ck_assert(fclose(file) == 0);
	ck_assert(lib->settings->load_files(lib->settings, path, TRUE));
	free(lib->conf);
	lib->conf = strdup(path);
}

/**
 * Record an event or streamed item
 */
static void on_event(void *user, char *name, vici_res_t *res)
{
	char *value = NULL;

	if (seen.want[0])
	{
		value = vici_find_str(res, NULL, "%s", seen.want);
	}
	seen.mutex->lock(seen.mutex);
	if (user)
	{
		seen.items++;
	}
	else
	{
		strncat(seen.names, name, sizeof(seen.names) - strlen(seen.names) - 2);
		strcat(seen.names, " ");
	}
	if (value)
	{
		snprintf(seen.value, sizeof(seen.value), "%s", value);
	}
	seen.condvar->broadcast(seen.condvar);
	seen.mutex->unlock(seen.mutex);
}

/**
 * Wait until the events seen contain a string, up to 10 s
 */
static bool wait_events(char *what)
{
	int i;
	bool found;

	seen.mutex->lock(seen.mutex);
	for (i = 0; i < 100 && !strstr(seen.names, what); i++)
	{
		seen.condvar->timed_wait(seen.condvar, seen.mutex, 100);
	}
	found = strstr(seen.names, what) != NULL;
	seen.mutex->unlock(seen.mutex);
	return found;
}

/**
 * Submit a command with an optional link and more key/values (NULL
 * terminated), check it succeeded or failed as expected
 */
static vici_res_t *command(vici_conn_t *conn, char *name, bool success, ...)
{
	vici_req_t *req;
	vici_res_t *res;
	va_list args;
	char *key, *value;

	req = vici_begin(name);
	va_start(args, success);
	while ((key = va_arg(args, char*)))
	{
		value = va_arg(args, char*);
		vici_add_key_valuef(req, key, "%s", value);
	}
	va_end(args);
	res = vici_submit(req, conn);
	ck_assert_msg(res, "%s: no reply", name);
	ck_assert_msg(streq(vici_find_str(res, "", "success"),
						success ? "yes" : "no"),
				  "%s: success %s, errmsg '%s'", name,
				  vici_find_str(res, "", "success"),
				  vici_find_str(res, "", "errmsg"));
	return res;
}

/**
 * Run a listing command, count the streamed items
 */
static u_int stream(vici_conn_t *conn, char *name, char *event, char *want,
					...)
{
	vici_req_t *req;
	vici_res_t *res;
	va_list args;
	char *key, *value;
	u_int count;

	seen.items = 0;
	seen.value[0] = '\0';
	snprintf(seen.want, sizeof(seen.want), "%s", want ?: "");
	ck_assert(vici_register(conn, event, on_event, (void*)1) == 0);
	req = vici_begin(name);
	va_start(args, want);
	while ((key = va_arg(args, char*)))
	{
		value = va_arg(args, char*);
		vici_add_key_valuef(req, key, "%s", value);
	}
	va_end(args);
	res = vici_submit(req, conn);
	ck_assert(res);
	ck_assert_str_eq(vici_find_str(res, "", "success"), "yes");
	count = vici_find_int(res, -1, "count");
	vici_free_res(res);
	ck_assert(vici_register(conn, event, NULL, NULL) == 0);
	seen.mutex->lock(seen.mutex);
	ck_assert_int_eq(seen.items, count);
	seen.mutex->unlock(seen.mutex);
	seen.want[0] = '\0';
	return count;
}

/**
 * Get a value of the pool of link sun
 */
static int pool_value(vici_conn_t *conn, char *key)
{
	char want[64];
	int value;

	snprintf(want, sizeof(want), "sun.%s", key);
	stream(conn, "list-pools", "list-pool", want, NULL);
	value = seen.value[0] ? atoi(seen.value) : -1;
	return value;
}

/**
 * Wait until the pool holds a number of Idle keys, up to 10 s
 */
static bool wait_idle(vici_conn_t *conn, int idle)
{
	int i;

	for (i = 0; i < 100; i++)
	{
		if (pool_value(conn, "idle") == idle)
		{
			return TRUE;
		}
		usleep(100000);
	}
	return FALSE;
}

/**
 * Connect once the pool is full
 */
static vici_conn_t *connect_filled()
{
	vici_conn_t *conn;

	conn = vici_connect(uri);
	ck_assert(conn);
	ck_assert_msg(wait_idle(conn, 16), "pool not filled");
	return conn;
}

START_SETUP(setup_vici)
{
	strcpy(dir, "/tmp/qkd-test-vici-XXXXXX");
	ck_assert(mkdtemp(dir));
	snprintf(uri, sizeof(uri), "unix://%s/qkd.vici", dir);
	seen.mutex = mutex_create(MUTEX_TYPE_DEFAULT);
	seen.condvar = condvar_create(CONDVAR_TYPE_DEFAULT);
	seen.names[0] = '\0';
	seen.want[0] = '\0';
	lib->processor->set_threads(lib->processor, 6);
	configure(kme_test_env("QKD_TEST_KME_A"));
	links = qkd_links_create();
	vici = qkd_vici_create(links);
	ck_assert(vici);
	ck_assert(links->load(links) == 1);
}
END_SETUP

START_TEARDOWN(teardown_vici)
{
	char cmd[PATH_MAX + 16];

	kme_test_clear_faults();
	/* as charon does: jobs first (strongSwan's vici socket queues one per
	 * client that disconnects, which must not outlive the socket), then
	 * the plugin's objects */
	lib->processor->set_threads(lib->processor, 0);
	lib->processor->cancel(lib->processor);
	vici->destroy(vici);
	links->destroy(links);
	seen.condvar->destroy(seen.condvar);
	seen.mutex->destroy(seen.mutex);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ignore_result(system(cmd));
}
END_TEARDOWN

START_TEST(test_socket)
{
	struct stat st;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/qkd.vici", dir);
	ck_assert(stat(path, &st) == 0);
	ck_assert(S_ISSOCK(st.st_mode));
	/* as charon's own: nobody else may connect */
	ck_assert_int_eq(st.st_mode & S_IRWXO, 0);
	ck_assert_str_eq(vici->get_uri(vici), uri);
	/* the socket shows the pools, no status files without a directory */
	ck_assert(qkd_status_socket_serves());
}
END_TEST

START_TEST(test_lists)
{
	vici_conn_t *conn;
	vici_res_t *res;

	conn = connect_filled();

	seen.want[0] = '\0';
	ck_assert_int_eq(stream(conn, "list-links", "list-link", "sun.kme", NULL),
					 1);
	ck_assert_int_eq(stream(conn, "list-links", "list-link", "sun.kme", NULL),
					 1);
	ck_assert_str_eq(seen.value, kme_test_env("QKD_TEST_KME_A"));
	stream(conn, "list-links", "list-link", "sun.peer-sae-id", NULL);
	ck_assert_str_eq(seen.value, "sun");
	stream(conn, "list-links", "list-link", "sun.pool", NULL);
	ck_assert_str_eq(seen.value, "yes");
	stream(conn, "list-links", "list-link", "sun.doh", NULL);
	ck_assert_str_eq(seen.value, "no");
	stream(conn, "list-links", "list-link", "sun.connections", "link", "sun",
		   NULL);

	ck_assert_int_eq(pool_value(conn, "capacity"), 16);
	ck_assert_int_eq(pool_value(conn, "pending"), 0);
	ck_assert(pool_value(conn, "last-refill-age") >= 0);

	/* keys: metadata in Index order, filtered, limited */
	ck_assert_int_eq(stream(conn, "list-keys", "list-key", "status",
							"link", "sun", NULL), 16);
	ck_assert_str_eq(seen.value, "idle");
	ck_assert_int_eq(stream(conn, "list-keys", "list-key", "index",
							"link", "sun", NULL), 16);
	ck_assert_str_eq(seen.value, "16");
	ck_assert_int_eq(stream(conn, "list-keys", "list-key", "keyid",
							"link", "sun", "limit", "5", NULL), 5);
	ck_assert_int_eq(strlen(seen.value), 36);
	ck_assert_int_eq(stream(conn, "list-keys", "list-key", NULL,
							"link", "sun", "status", "pending", NULL), 0);
	ck_assert_int_eq(stream(conn, "list-keys", "list-key", NULL,
							"link", "sun", "status", "IDLE", NULL), 16);

	/* the KME answered the refills */
	stream(conn, "list-kmes", "list-kme", "sun.state", NULL);
	ck_assert_str_eq(seen.value, "ok");
	stream(conn, "list-kmes", "list-kme", "sun.last-call", NULL);
	ck_assert_str_eq(seen.value, "enc_keys");
	stream(conn, "list-kmes", "list-kme", "sun.errors", NULL);
	ck_assert_str_eq(seen.value, "0");

	/* no DOH, no IKE-less children */
	ck_assert_int_eq(stream(conn, "list-doh", "list-doh-peer", NULL, NULL), 0);
	ck_assert_int_eq(stream(conn, "list-ikeless", "list-ikeless-sa", NULL,
							NULL), 0);

	/* bad requests: an error, nothing streamed */
	res = command(conn, "list-keys", FALSE, NULL);
	ck_assert_str_eq(vici_find_str(res, "", "errmsg"), "missing link");
	vici_free_res(res);
	res = command(conn, "list-keys", FALSE, "link", "nope", NULL);
	ck_assert_str_eq(vici_find_str(res, "", "errmsg"), "unknown link 'nope'");
	vici_free_res(res);
	res = command(conn, "list-keys", FALSE, "link", "sun", "status", "used",
				  NULL);
	ck_assert(strstr(vici_find_str(res, "", "errmsg"), "invalid status"));
	vici_free_res(res);
	res = command(conn, "list-pools", FALSE, "link", "nope", NULL);
	ck_assert_str_eq(vici_find_str(res, "", "errmsg"), "unknown link 'nope'");
	vici_free_res(res);
	vici_disconnect(conn);
}
END_TEST

START_TEST(test_actions)
{
	vici_conn_t *conn, *monitor;
	vici_res_t *res;

	conn = connect_filled();
	monitor = vici_connect(uri);
	ck_assert(monitor);
	ck_assert(vici_register(monitor, "pool-dry", on_event, NULL) == 0);
	ck_assert(vici_register(monitor, "pool-refilled", on_event, NULL) == 0);

	/* drain: every Idle key expired, the pool runs dry and refills */
	res = command(conn, "drain", TRUE, "link", "sun", NULL);
	ck_assert_str_eq(vici_find_str(res, "", "expired"), "16");
	vici_free_res(res);
	ck_assert_msg(wait_events("pool-dry pool-refilled"), "events: %s",
				  seen.names);
	ck_assert_msg(wait_idle(conn, 16), "pool not refilled");
	ck_assert_int_eq(pool_value(conn, "dropped"), 16);

	/* refill: nothing to do for a full pool, but accepted */
	res = command(conn, "refill", TRUE, "link", "sun", NULL);
	vici_free_res(res);

	/* resync needs DOH; unknown links and missing names are refused */
	res = command(conn, "resync", FALSE, "link", "sun", NULL);
	ck_assert_str_eq(vici_find_str(res, "", "errmsg"), "link runs no DOH");
	vici_free_res(res);
	res = command(conn, "drain", FALSE, "link", "nope", NULL);
	ck_assert_str_eq(vici_find_str(res, "", "errmsg"), "unknown link 'nope'");
	vici_free_res(res);
	res = command(conn, "refill", FALSE, NULL);
	ck_assert_str_eq(vici_find_str(res, "", "errmsg"), "missing link");
	vici_free_res(res);

	/* reload: the link and its pool stay */
	res = command(conn, "reload-links", TRUE, NULL);
	ck_assert_str_eq(vici_find_str(res, "", "links"), "1");
	vici_free_res(res);
	ck_assert_int_eq(pool_value(conn, "idle"), 16);

	vici_disconnect(monitor);
	vici_disconnect(conn);
}
END_TEST

START_TEST(test_kme_events)
{
	vici_conn_t *conn, *monitor;
	vici_res_t *res;

	conn = connect_filled();
	monitor = vici_connect(uri);
	ck_assert(monitor);
	ck_assert(vici_register(monitor, "kme-error", on_event, NULL) == 0);
	ck_assert(vici_register(monitor, "kme-recovered", on_event, NULL) == 0);
	ck_assert(vici_register(monitor, "pool-dry", on_event, NULL) == 0);
	ck_assert(vici_register(monitor, "pool-refilled", on_event, NULL) == 0);

	/* the KME fails the next calls: dry, error, recovery, refilled */
	kme_test_fault("{\"kme\":\"kme-a\",\"fault\":\"503\",\"count\":2}");
	res = command(conn, "drain", TRUE, "link", "sun", NULL);
	vici_free_res(res);
	ck_assert_msg(wait_events("pool-dry kme-error kme-recovered "
							  "pool-refilled"), "events: %s", seen.names);
	stream(conn, "list-kmes", "list-kme", "sun.errors", NULL);
	ck_assert_str_eq(seen.value, "2");
	stream(conn, "list-kmes", "list-kme", "sun.last-error", NULL);
	ck_assert_str_eq(seen.value, "unavailable (HTTP 503)");
	stream(conn, "list-kmes", "list-kme", "sun.state", NULL);
	ck_assert_str_eq(seen.value, "ok");

	vici_disconnect(monitor);
	vici_disconnect(conn);
}
END_TEST

START_TEST(test_garbage)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char junk[] = "\x00\x00\x00\x05\x07garbage";
	char huge[] = "\x7f\xff\xff\xff\x01";
	vici_conn_t *conn;
	char buf[64];
	int fd, i;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/qkd.vici", dir);
	for (i = 0; i < 2; i++)
	{
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		ck_assert(fd >= 0);
		ck_assert(connect(fd, (struct sockaddr*)&addr, sizeof(addr)) == 0);
		if (i == 0)
		{	/* an unknown operation in a valid frame */
			ck_assert(write(fd, junk, sizeof(junk) - 1) > 0);
		}
		else
		{	/* a length beyond vici's limit: the server hangs up */
			ck_assert(write(fd, huge, sizeof(huge) - 1) > 0);
			ck_assert(read(fd, buf, sizeof(buf)) <= 0);
		}
		close(fd);
	}
	/* still serving, nothing changed */
	conn = connect_filled();
	ck_assert_int_eq(pool_value(conn, "expired"), 0);
	vici_disconnect(conn);
}
END_TEST

Suite *vici_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("qkd control socket");

	tc = tcase_create("commands and events");
	tcase_add_checked_fixture(tc, setup_vici, teardown_vici);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_socket);
	tcase_add_test(tc, test_lists);
	tcase_add_test(tc, test_actions);
	tcase_add_test(tc, test_kme_events);
	tcase_add_test(tc, test_garbage);
	suite_add_tcase(s, tc);

	return s;
}
