/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_http.h - HTTPS listener of a KME serving the ETSI GS QKD 014 API.
 */

#ifndef KME_HTTP_H_
#define KME_HTTP_H_

#include "kme_config.h"

/**
 * Bind the KME's listen address and start serving with mutual TLS.
 */
bool http_start(kme_t *kme);

/**
 * Stop serving, if started.
 */
void http_stop(kme_t *kme);

#endif /* KME_HTTP_H_ */
