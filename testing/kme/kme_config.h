/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_config.h - configuration model: KMEs, SAEs and global settings,
 * loaded from an INI-like file and/or command line flags.
 */

#ifndef KME_CONFIG_H_
#define KME_CONFIG_H_

#include <stdbool.h>
#include <time.h>

/* upper bound for max_SAE_ID_count, keeps per-request arrays small */
#define KME_MAX_SAE_ID_COUNT 64

typedef struct config_t config_t;
typedef struct kme_t kme_t;
typedef struct sae_t sae_t;

/**
 * A simulated KME with its own HTTPS listener.
 */
struct kme_t {
	char *name;
	char *listen;
	char *cert_file;
	char *key_file;
	char *ca_file;
	/* PEM contents of cert_file, key_file and ca_file */
	char *cert;
	char *key;
	char *ca;
	char *peer_name;
	/* the KME sharing a QKD link (keys) with this one, NULL if none */
	kme_t *peer;
	unsigned key_size;
	unsigned min_key_size;
	unsigned max_key_size;
	unsigned max_key_per_request;
	unsigned max_key_count;
	unsigned max_sae_id_count;
	/* keys per second fed into the pool, 0 for unlimited supply */
	double key_rate;
	/* pool state, owned by kme_store.c */
	double pool;
	struct timespec pool_time;
	/* running listener, owned by kme_http.c */
	struct etsi_server_t *server;
	config_t *config;
	kme_t *next;
};

/**
 * A secure application entity, attached to exactly one KME.
 */
struct sae_t {
	char *name;
	char *kme_name;
	kme_t *kme;
	sae_t *next;
};

/**
 * Complete configuration.
 */
struct config_t {
	kme_t *kmes;
	sae_t *saes;
	char *log;
	char *control;
	char *pidfile;
	/* --fault specs, armed once the configuration is complete */
	char **faults;
	int fault_count;
};

/**
 * Create an empty configuration.
 */
config_t *config_create(void);

/**
 * Load [kme NAME] and [sae NAME] sections from a file.
 */
bool config_load_file(config_t *config, const char *path);

/**
 * Add a KME from a "name=...,listen=...,..." flag value.
 */
bool config_add_kme_flag(config_t *config, const char *spec);

/**
 * Add an SAE from a "name=...,kme=..." flag value.
 */
bool config_add_sae_flag(config_t *config, const char *spec);

/**
 * Check completeness, resolve peers/SAEs and load certificates.
 */
bool config_resolve(config_t *config);

/**
 * Find a KME by name, NULL if unknown.
 */
kme_t *config_find_kme(config_t *config, const char *name);

/**
 * Find an SAE by name, NULL if unknown.
 */
sae_t *config_find_sae(config_t *config, const char *name);

/**
 * Free a configuration.
 */
void config_destroy(config_t *config);

#endif /* KME_CONFIG_H_ */
