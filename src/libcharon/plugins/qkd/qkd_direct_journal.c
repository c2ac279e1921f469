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

#include "qkd_direct_journal.h"

#include <stdio.h>
#include <netinet/in.h>
#include <errno.h>

#include <utils/debug.h>
#include <collections/array.h>

typedef struct private_qkd_direct_journal_t private_qkd_direct_journal_t;

/**
 * A recorded SA pair
 */
typedef struct {
	uint8_t proto;
	uint32_t spi_in;
	uint32_t spi_out;
} entry_t;

/**
 * Private data of a qkd_direct_journal_t object.
 */
struct private_qkd_direct_journal_t {

	/**
	 * Public interface.
	 */
	qkd_direct_journal_t public;

	/**
	 * The file
	 */
	char *path;

	/**
	 * Recorded SA pairs, entry_t (values)
	 */
	array_t *entries;

	/**
	 * Writing the file failed (logged once)
	 */
	bool failed;
};

/**
 * Rewrite the file from the entries (a new file renamed over the old one)
 */
static void save(private_qkd_direct_journal_t *this)
{
	char tmp[PATH_MAX];
	entry_t entry;
	FILE *file;
	bool ok;
	int i;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", this->path) >= sizeof(tmp))
	{
		return;
	}
	file = fopen(tmp, "w");
	ok = file != NULL;
	for (i = 0; ok && i < array_count(this->entries); i++)
	{
		array_get(this->entries, i, &entry);
		ok = fprintf(file, "%u %.8x %.8x\n", entry.proto, entry.spi_in,
					 entry.spi_out) > 0;
	}
	if (file)
	{
		ok = fclose(file) == 0 && ok;
	}
	ok = ok && rename(tmp, this->path) == 0;
	if (!ok && !this->failed)
	{
		DBG1(DBG_CHD, "qkd IKE-less: writing '%s' failed: %s, a crash would "
			 "leave SAs in the kernel until their lifetime ends", this->path,
			 strerror(errno));
	}
	this->failed = !ok;
}

METHOD(qkd_direct_journal_t, add, void,
	private_qkd_direct_journal_t *this, uint8_t proto, uint32_t spi_in,
	uint32_t spi_out)
{
	entry_t entry = {
		.proto = proto,
		.spi_in = spi_in,
		.spi_out = spi_out,
	};

	array_insert(this->entries, ARRAY_TAIL, &entry);
	save(this);
}

METHOD(qkd_direct_journal_t, remove_, void,
	private_qkd_direct_journal_t *this, uint8_t proto, uint32_t spi_in)
{
	entry_t entry;
	int i;

	for (i = 0; i < array_count(this->entries); i++)
	{
		array_get(this->entries, i, &entry);
		if (entry.proto == proto && entry.spi_in == spi_in)
		{
			array_remove(this->entries, i, NULL);
			save(this);
			return;
		}
	}
}

/**
 * Enumerator over a copy of the entries
 */
typedef struct {
	enumerator_t public;
	array_t *copy;
	int i;
} entry_enumerator_t;

METHOD(enumerator_t, enumerate, bool,
	entry_enumerator_t *this, va_list args)
{
	uint32_t *spi_in, *spi_out;
	uint8_t *proto;
	entry_t entry;

	VA_ARGS_VGET(args, proto, spi_in, spi_out);
	if (!array_get(this->copy, this->i, &entry))
	{
		return FALSE;
	}
	this->i++;
	*proto = entry.proto;
	*spi_in = entry.spi_in;
	*spi_out = entry.spi_out;
	return TRUE;
}

METHOD(enumerator_t, enumerator_destroy, void,
	entry_enumerator_t *this)
{
	array_destroy(this->copy);
	free(this);
}

METHOD(qkd_direct_journal_t, create_enumerator, enumerator_t*,
	private_qkd_direct_journal_t *this)
{
	entry_enumerator_t *enumerator;
	entry_t entry;
	int i;

	INIT(enumerator,
		.public = {
			.enumerate = enumerator_enumerate_default,
			.venumerate = _enumerate,
			.destroy = _enumerator_destroy,
		},
		.copy = array_create(sizeof(entry_t), array_count(this->entries)),
	);
	for (i = 0; i < array_count(this->entries); i++)
	{
		array_get(this->entries, i, &entry);
		array_insert(enumerator->copy, ARRAY_TAIL, &entry);
	}
	return &enumerator->public;
}

/**
 * Read the entries of the previous run; lines that are no entry are
 * skipped (logged)
 */
static void load(private_qkd_direct_journal_t *this)
{
	uint32_t spi_in, spi_out;
	u_int proto, skipped = 0;
	char line[64];
	entry_t entry;
	FILE *file;

	file = fopen(this->path, "r");
	if (!file)
	{
		return;
	}
	while (fgets(line, sizeof(line), file))
	{
		if (sscanf(line, "%u %8x %8x", &proto, &spi_in, &spi_out) != 3 ||
			(proto != IPPROTO_ESP && proto != IPPROTO_AH))
		{
			skipped++;
			continue;
		}
		entry = (entry_t){
			.proto = proto,
			.spi_in = spi_in,
			.spi_out = spi_out,
		};
		array_insert(this->entries, ARRAY_TAIL, &entry);
	}
	fclose(file);
	if (skipped)
	{
		DBG1(DBG_CHD, "qkd IKE-less: skipped %u lines of '%s' that name no "
			 "SA pair", skipped, this->path);
	}
}

METHOD(qkd_direct_journal_t, destroy, void,
	private_qkd_direct_journal_t *this)
{
	array_destroy(this->entries);
	free(this->path);
	free(this);
}

/*
 * Described in header
 */
qkd_direct_journal_t *qkd_direct_journal_create(char *path)
{
	private_qkd_direct_journal_t *this;

	INIT(this,
		.public = {
			.add = _add,
			.remove = _remove_,
			.create_enumerator = _create_enumerator,
			.destroy = _destroy,
		},
		.path = strdup(path),
		.entries = array_create(sizeof(entry_t), 0),
	);
	load(this);
	return &this->public;
}
