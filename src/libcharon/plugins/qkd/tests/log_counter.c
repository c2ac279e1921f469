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

#include "log_counter.h"

#include <daemon.h>

/**
 * A logger counting lines
 */
struct log_counter_t {

	/**
	 * Implements logger_t
	 */
	logger_t logger;

	/**
	 * String to look for
	 */
	char *what;

	/**
	 * Lines counted
	 */
	int count;
};

METHOD(logger_t, log_, void,
	log_counter_t *this, debug_t group, level_t level, int thread,
	ike_sa_t *ike_sa, const char *message)
{
	if (strstr(message, this->what))
	{
		ref_get((refcount_t*)&this->count);
	}
}

METHOD(logger_t, get_level, level_t,
	log_counter_t *this, debug_t group)
{
	return LEVEL_PRIVATE;
}

/*
 * Described in header
 */
log_counter_t *log_counter_create(char *what)
{
	log_counter_t *this;

	INIT(this,
		.logger = {
			.log = _log_,
			.get_level = _get_level,
		},
		.what = what,
	);
	charon->bus->add_logger(charon->bus, &this->logger);
	return this;
}

/*
 * Described in header
 */
int log_counter_destroy(log_counter_t *this)
{
	int count;

	charon->bus->remove_logger(charon->bus, &this->logger);
	count = this->count;
	free(this);
	return count;
}
