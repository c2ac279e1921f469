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

/**
 * Counts log lines on charon's bus, for tests.
 */

#ifndef LOG_COUNTER_H_
#define LOG_COUNTER_H_

typedef struct log_counter_t log_counter_t;

/**
 * Start counting the log lines (any group, any level) containing a string.
 *
 * @param what		string to look for (not copied)
 * @return			counter, registered on charon's bus
 */
log_counter_t *log_counter_create(char *what);

/**
 * Stop counting and destroy the counter.
 *
 * @param this		counter
 * @return			number of lines counted
 */
int log_counter_destroy(log_counter_t *this);

#endif /** LOG_COUNTER_H_ */
