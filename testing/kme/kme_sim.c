/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_sim.c - main(): command line, startup of the KME and control
 * listeners, pidfile and shutdown on SIGINT/SIGTERM.
 */

#define _GNU_SOURCE
#include "kme_config.h"
#include "kme_control.h"
#include "kme_faults.h"
#include "kme_http.h"
#include "kme_log.h"
#include "kme_store.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <etsi_request.h>

static void usage(FILE *out)
{
	fprintf(out,
"Usage: qkd-kme-sim [OPTIONS]\n"
"ETSI GS QKD 014 KME simulator serving one or more KMEs over HTTPS with\n"
"mutual TLS.\n"
"\n"
"  -c, --config FILE    load [kme NAME] and [sae NAME] sections from FILE\n"
"  -k, --kme SPEC       add a KME: name=N,listen=ADDR:PORT,cert=F,key=F,ca=F\n"
"                       [,peer=N][,key_size=B][,min_key_size=B]\n"
"                       [,max_key_size=B][,max_key_per_request=N]\n"
"                       [,max_key_count=N][,max_SAE_ID_count=N][,key_rate=R]\n"
"  -s, --sae SPEC       add an SAE: name=N,kme=KME\n"
"  -f, --fault SPEC     arm a fault at startup: KME:TYPE[:COUNT][:ms=N]\n"
"                       [:call=CALL], KME may be * for all KMEs\n"
"  -C, --control PATH   control listener (plain HTTP) on UNIX socket PATH\n"
"  -l, --log FILE       append the request log to FILE (default: stdout)\n"
"  -p, --pidfile FILE   write the process ID to FILE\n"
"  -h, --help           show this help\n"
"\n"
"Fault types: latency, 503, drop, malformed_json, wrong_key_size,\n"
"duplicate_key_ids, invalid_base64, nul_key_id, error_200, wrong_key.\n"
"Calls: status, enc_keys, dec_keys, any.\n");
}

/**
 * Parse the command line into config, exits on usage errors.
 */
static void parse_args(config_t *config, int argc, char *argv[])
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "kme", required_argument, NULL, 'k' },
		{ "sae", required_argument, NULL, 's' },
		{ "fault", required_argument, NULL, 'f' },
		{ "control", required_argument, NULL, 'C' },
		{ "log", required_argument, NULL, 'l' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool ok = true;
	int c;

	while (ok && (c = getopt_long(argc, argv, "c:k:s:f:C:l:p:h", options,
								  NULL)) != -1)
	{
		switch (c)
		{
			case 'c':
				ok = config_load_file(config, optarg);
				break;
			case 'k':
				ok = config_add_kme_flag(config, optarg);
				break;
			case 's':
				ok = config_add_sae_flag(config, optarg);
				break;
			case 'f':
				config->faults = realloc(config->faults, sizeof(char*) *
										 (config->fault_count + 1));
				config->faults[config->fault_count++] = optarg;
				break;
			case 'C':
				config->control = optarg;
				break;
			case 'l':
				config->log = optarg;
				break;
			case 'p':
				config->pidfile = optarg;
				break;
			case 'h':
				usage(stdout);
				exit(0);
			default:
				usage(stderr);
				exit(2);
		}
	}
	if (ok && optind < argc)
	{
		kme_error("unexpected argument '%s'", argv[optind]);
		ok = false;
	}
	if (!ok || !config_resolve(config))
	{
		exit(1);
	}
}

static bool write_pidfile(const char *path)
{
	FILE *file = fopen(path, "w");

	if (!file)
	{
		kme_error("cannot write pidfile '%s': %s", path, strerror(errno));
		return false;
	}
	fprintf(file, "%d\n", getpid());
	fclose(file);
	return true;
}

/**
 * Start all listeners, false on failure.
 */
static bool start(config_t *config)
{
	kme_t *kme;

	for (kme = config->kmes; kme; kme = kme->next)
	{
		if (!http_start(kme))
		{
			return false;
		}
	}
	if (config->control && !control_start(config->control))
	{
		return false;
	}
	return !config->pidfile || write_pidfile(config->pidfile);
}

int main(int argc, char *argv[])
{
	config_t *config = config_create();
	sigset_t signals;
	kme_t *kme;
	int sig = 0, status = 1;

	parse_args(config, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	/* block before starting threads so only sigwait() gets these */
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	if (kme_log_open(config->log) && faults_init(config))
	{
		/* libetsi014's request log and libmicrohttpd's messages */
		etsi_set_logger(kme_logv);
		store_init(config);
		if (start(config))
		{
			kme_log("qkd-kme-sim started, pid %d", getpid());
			sigwait(&signals, &sig);
			kme_log("qkd-kme-sim stopping on signal %d", sig);
			status = 0;
		}
		if (config->pidfile && status == 0)
		{
			unlink(config->pidfile);
		}
		control_stop();
		for (kme = config->kmes; kme; kme = kme->next)
		{
			http_stop(kme);
		}
		store_deinit();
		faults_clear();
	}
	kme_log_close();
	config_destroy(config);
	return status;
}
