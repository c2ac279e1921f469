/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_log.h - request/event log (one timestamped line per event) and
 * error reporting on stderr.
 */

#ifndef KME_LOG_H_
#define KME_LOG_H_

#include <stdbool.h>

/**
 * Open the log, appending to path, or stdout if path is NULL.
 */
bool kme_log_open(const char *path);

/**
 * Write one log line prefixed with an UTC timestamp; control characters
 * are replaced so a line can't be forged or split.
 */
void kme_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * Print an error message to stderr.
 */
void kme_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * Close the log.
 */
void kme_log_close(void);

#endif /* KME_LOG_H_ */
