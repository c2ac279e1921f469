/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_log.c - request/event log and error reporting.
 */

#define _GNU_SOURCE
#include "kme_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static FILE *log_file;

bool kme_log_open(const char *path)
{
	log_file = stdout;
	if (path)
	{
		log_file = fopen(path, "a");
		if (!log_file)
		{
			kme_error("cannot open log file '%s': %s", path, strerror(errno));
			return false;
		}
	}
	setvbuf(log_file, NULL, _IOLBF, 0);
	return true;
}

void kme_log(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	kme_logv(fmt, args);
	va_end(args);
}

void kme_logv(const char *fmt, va_list args)
{
	char stamp[32], *line, *pos;
	struct tm tm;
	time_t now;

	if (vasprintf(&line, fmt, args) < 0)
	{
		return;
	}
	for (pos = line; *pos; pos++)
	{
		if ((unsigned char)*pos < 0x20 || *pos == 0x7f)
		{
			*pos = '?';
		}
	}
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(log_file ?: stdout, "%s %s\n", stamp, line);
	free(line);
}

void kme_error(const char *fmt, ...)
{
	va_list args;

	fputs("qkd-kme-sim: ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
}

void kme_log_close(void)
{
	if (log_file && log_file != stdout)
	{
		fclose(log_file);
	}
	log_file = NULL;
}
