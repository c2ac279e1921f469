/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_control.h - plain HTTP control listener on a UNIX socket to arm,
 * list and clear faults.
 */

#ifndef KME_CONTROL_H_
#define KME_CONTROL_H_

#include <stdbool.h>

/**
 * Bind the UNIX socket at path (replacing a stale one) and start serving.
 */
bool control_start(const char *path);

/**
 * Stop serving and remove the socket, if started.
 */
void control_stop(void);

#endif /* KME_CONTROL_H_ */
