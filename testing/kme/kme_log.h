/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_log.h - request/event log (one timestamped line per event) and
 * error reporting on stderr.
 */

#ifndef KME_LOG_H_
#define KME_LOG_H_

#include <stdarg.h>
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
 * kme_log() with a va_list, e.g. for etsi_set_logger().
 */
void kme_logv(const char *fmt, va_list args)
	__attribute__((format(printf, 1, 0)));

/**
 * Print an error message to stderr.
 */
void kme_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * Close the log.
 */
void kme_log_close(void);

#endif /* KME_LOG_H_ */
