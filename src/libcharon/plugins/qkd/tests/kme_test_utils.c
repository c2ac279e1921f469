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

#include "kme_test_utils.h"

#include <test_suite.h>
#include <curl/curl.h>

/*
 * Described in header
 */
char *kme_test_env(char *name)
{
	char *value = getenv(name);

	ck_assert_msg(value, "%s not set: run the tests through with-kme-sim",
				  name);
	return value;
}

/*
 * Described in header
 */
qkd_kme_client_t *kme_test_client(char *kme, char *sae, char *peer)
{
	char url_var[32], cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX];
	char *pki = kme_test_env("QKD_TEST_PKI");
	qkd_kme_client_cfg_t cfg = {
		.peer_sae_id = peer,
		.cert = cert,
		.key = key,
		.cacert = ca,
		.timeout = 2000,
		.connect_timeout = 1000,
	};
	qkd_kme_client_t *client;

	snprintf(url_var, sizeof(url_var), "QKD_TEST_KME_%s", kme);
	cfg.url = kme_test_env(url_var);
	snprintf(cert, sizeof(cert), "%s/%s.crt", pki, sae);
	snprintf(key, sizeof(key), "%s/%s.key", pki, sae);
	snprintf(ca, sizeof(ca), "%s/ca.crt", pki);
	client = qkd_kme_client_create(&cfg);
	ck_assert(client);
	return client;
}

/**
 * Discard a response body
 */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *user)
{
	return size * nmemb;
}

/**
 * Send a request to the simulator's control socket
 */
static void control(char *method, char *body)
{
	CURL *curl;
	long status = 0;

	curl = curl_easy_init();
	ck_assert(curl);
	curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH,
					 kme_test_env("QKD_TEST_KME_CTL"));
	curl_easy_setopt(curl, CURLOPT_URL, "http://kme/faults");
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (body)
	{
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	ck_assert_int_eq(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	ck_assert_int_eq(status / 100, 2);
	curl_easy_cleanup(curl);
}

/*
 * Described in header
 */
void kme_test_fault(char *json)
{
	control("POST", json);
}

/*
 * Described in header
 */
void kme_test_clear_faults()
{
	control("DELETE", NULL);
}

/*
 * Described in header
 */
int kme_test_log_count(char *what)
{
	char line[1024];
	int count = 0;
	FILE *file;

	file = fopen(kme_test_env("QKD_TEST_KME_LOG"), "r");
	ck_assert(file);
	while (fgets(line, sizeof(line), file))
	{
		if (strstr(line, what))
		{
			count++;
		}
	}
	fclose(file);
	return count;
}

/*
 * Described in header
 */
void kme_test_last_key_id(char *what, uint8_t id[QKD_KEY_ID_LEN])
{
	char line[8192], uuid[QKD_KEY_ID_STRLEN + 1] = "", *pos;
	FILE *file;

	file = fopen(kme_test_env("QKD_TEST_KME_LOG"), "r");
	ck_assert(file);
	while (fgets(line, sizeof(line), file))
	{
		pos = strstr(line, "key_IDs=");
		if (strstr(line, what) && pos)
		{
			snprintf(uuid, sizeof(uuid), "%s", pos + strlen("key_IDs="));
		}
	}
	fclose(file);
	ck_assert_msg(qkd_key_id_parse(uuid, id), "no key ID in '%s'", what);
}
