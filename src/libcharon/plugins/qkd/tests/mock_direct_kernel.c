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


#include "mock_direct_kernel.h"

#include <netinet/in.h>
#include <collections/array.h>

typedef struct private_mock_direct_kernel_t private_mock_direct_kernel_t;

/**
 * An SA in the mock kernel
 */
typedef struct {
	/** child it belongs to */
	char child[QKD_DIRECT_NAME_MAX + 1];
	/** protocol, SPI (host order), direction */
	uint8_t proto;
	uint32_t spi;
	bool inbound;
	/** keys */
	chunk_t enc, integ;
	/** when installed, its hard lifetime end, ms */
	uint64_t added, hard;
} sa_t;

/**
 * Private data of a mock_direct_kernel_t.
 */
struct private_mock_direct_kernel_t {

	/**
	 * Public interface.
	 */
	mock_direct_kernel_t public;

	/**
	 * Installed SAs, sa_t*, oldest first
	 */
	array_t *sas;

	/**
	 * SPIs and keys of every SA installed so far, chunk_t* (SPI | keys)
	 */
	array_t *seen;

	/**
	 * SAs installed so far, those reusing an SPI or keys, those found
	 * after their hard lifetime
	 */
	u_int installed, reused, overdue;

	/**
	 * Children with policies, reqids allocated
	 */
	u_int policies, reqids;

	/**
	 * add_sa() calls until one fails, 0 for none
	 */
	u_int fail_in;
};

/**
 * Current monotonic time, ms
 */
static uint64_t now_ms()
{
	timeval_t tv;

	time_monotonic(&tv);
	return (uint64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void sa_destroy(sa_t *sa)
{
	chunk_clear(&sa->enc);
	chunk_clear(&sa->integ);
	free(sa);
}

/**
 * Count SAs past their hard lifetime and drop them, as the kernel would
 */
static void expire(private_mock_direct_kernel_t *this)
{
	uint64_t now = now_ms();
	sa_t *sa;
	int i;

	for (i = array_count(this->sas) - 1; i >= 0; i--)
	{
		array_get(this->sas, i, &sa);
		if (sa->hard && now > sa->hard)
		{
			this->overdue++;
			array_remove(this->sas, i, NULL);
			sa_destroy(sa);
		}
	}
}

/**
 * Find an installed SA
 */
static sa_t *find(private_mock_direct_kernel_t *this, uint8_t proto,
				  uint32_t spi, bool inbound, int *idx)
{
	sa_t *sa;
	int i;

	for (i = 0; i < array_count(this->sas); i++)
	{
		array_get(this->sas, i, &sa);
		if (sa->proto == proto && sa->spi == spi && sa->inbound == inbound)
		{
			if (idx)
			{
				*idx = i;
			}
			return sa;
		}
	}
	return NULL;
}

METHOD(qkd_direct_kernel_t, alloc_reqid, bool,
	private_mock_direct_kernel_t *this, qkd_direct_cfg_t *cfg,
	uint32_t *reqid)
{
	*reqid = ++this->reqids + 100;
	return TRUE;
}

METHOD(qkd_direct_kernel_t, release_reqid, void,
	private_mock_direct_kernel_t *this, uint32_t reqid)
{
	this->reqids--;
}

METHOD(qkd_direct_kernel_t, policies, bool,
	private_mock_direct_kernel_t *this, qkd_direct_cfg_t *cfg, host_t *local,
	host_t *peer, uint32_t reqid, bool install)
{
	this->policies += install ? 1 : -1;
	return TRUE;
}

/**
 * Remember an SPI and keys, count a reuse
 */
static void remember(private_mock_direct_kernel_t *this, sa_t *sa)
{
	chunk_t *seen, spi = chunk_from_thing(sa->spi);
	chunk_t keys[] = { spi, sa->enc, sa->integ };
	int i, j;

	for (i = 0; i < array_count(this->seen); i++)
	{
		array_get(this->seen, i, &seen);
		for (j = 0; j < countof(keys); j++)
		{
			if (keys[j].len && chunk_equals(*seen, keys[j]))
			{
				this->reused++;
				break;
			}
		}
	}
	for (j = 0; j < countof(keys); j++)
	{
		if (keys[j].len)
		{
			INIT(seen);
			*seen = chunk_clone(keys[j]);
			array_insert(this->seen, ARRAY_TAIL, seen);
		}
	}
}

METHOD(qkd_direct_kernel_t, add_sa, bool,
	private_mock_direct_kernel_t *this, qkd_direct_cfg_t *cfg, host_t *local,
	host_t *peer, uint32_t reqid, qkd_direct_sa_keys_t *keys, bool inbound,
	u_int lifetime)
{
	uint8_t proto = qkd_direct_kernel_proto(cfg);
	sa_t *sa;

	expire(this);
	if (this->fail_in && --this->fail_in == 0)
	{	/* as if the SPI were taken */
		return FALSE;
	}
	if (find(this, proto, keys->spi, inbound, NULL) || !lifetime)
	{	/* like the kernel: the SA exists, or no lifetime given */
		return FALSE;
	}
	INIT(sa,
		.proto = proto,
		.spi = keys->spi,
		.inbound = inbound,
		.enc = chunk_clone(keys->enc),
		.integ = chunk_clone(keys->integ),
		.added = now_ms(),
	);
	sa->hard = sa->added + lifetime * 1000;
	strncpy(sa->child, cfg->name, QKD_DIRECT_NAME_MAX);
	remember(this, sa);
	array_insert(this->sas, ARRAY_TAIL, sa);
	this->installed++;
	return TRUE;
}

METHOD(qkd_direct_kernel_t, del_sa, bool,
	private_mock_direct_kernel_t *this, uint8_t proto, host_t *local,
	host_t *peer, uint32_t spi, bool inbound)
{
	sa_t *sa;
	int idx;

	sa = find(this, proto, spi, inbound, &idx);
	if (!sa)
	{
		return FALSE;
	}
	array_remove(this->sas, idx, NULL);
	sa_destroy(sa);
	return TRUE;
}

METHOD(qkd_direct_kernel_t, query_sa, bool,
	private_mock_direct_kernel_t *this, qkd_direct_cfg_t *cfg, host_t *local,
	host_t *peer, uint32_t spi, bool inbound, uint64_t *bytes,
	uint64_t *packets)
{
	if (!find(this, qkd_direct_kernel_proto(cfg), spi, inbound, NULL))
	{
		return FALSE;
	}
	*bytes = *packets = 0;
	return TRUE;
}

METHOD(qkd_direct_kernel_t, kernel_destroy, void,
	private_mock_direct_kernel_t *this)
{
	/* owned by the test, see destroy() */
}

/**
 * Whether two keys are the same (both may be empty)
 */
static bool same_key(chunk_t a, chunk_t b)
{
	return a.len == b.len && (!a.len || memeq(a.ptr, b.ptr, a.len));
}

METHOD(mock_direct_kernel_t, send_, bool,
	private_mock_direct_kernel_t *this, char *child,
	mock_direct_kernel_t *to_public)
{
	private_mock_direct_kernel_t *to = (private_mock_direct_kernel_t*)to_public;
	sa_t *sa, *out = NULL, *in;
	int i;

	expire(this);
	expire(to);
	for (i = 0; i < array_count(this->sas); i++)
	{
		array_get(this->sas, i, &sa);
		if (!sa->inbound && streq(sa->child, child))
		{
			out = sa;
		}
	}
	if (!out)
	{
		return FALSE;
	}
	in = find(to, out->proto, out->spi, TRUE, NULL);
	return in && streq(in->child, child) && same_key(in->enc, out->enc) &&
		   same_key(in->integ, out->integ);
}

METHOD(mock_direct_kernel_t, fail_add, void,
	private_mock_direct_kernel_t *this, u_int nth)
{
	this->fail_in = nth;
}

METHOD(mock_direct_kernel_t, count_sas, u_int,
	private_mock_direct_kernel_t *this, char *child)
{
	u_int count = 0;
	sa_t *sa;
	int i;

	expire(this);
	for (i = 0; i < array_count(this->sas); i++)
	{
		array_get(this->sas, i, &sa);
		count += !child || streq(sa->child, child);
	}
	return count;
}

METHOD(mock_direct_kernel_t, count_policies, u_int,
	private_mock_direct_kernel_t *this)
{
	return this->policies;
}

METHOD(mock_direct_kernel_t, count_reqids, u_int,
	private_mock_direct_kernel_t *this)
{
	return this->reqids;
}

METHOD(mock_direct_kernel_t, count_installed, u_int,
	private_mock_direct_kernel_t *this, u_int *reused)
{
	*reused = this->reused;
	return this->installed;
}

METHOD(mock_direct_kernel_t, count_overdue, u_int,
	private_mock_direct_kernel_t *this)
{
	return this->overdue;
}

static void seen_destroy(chunk_t *seen)
{
	chunk_clear(seen);
	free(seen);
}

METHOD(mock_direct_kernel_t, destroy, void,
	private_mock_direct_kernel_t *this)
{
	array_destroy_function(this->sas, (void*)sa_destroy, NULL);
	array_destroy_function(this->seen, (void*)seen_destroy, NULL);
	free(this);
}

/*
 * Described in header
 */
mock_direct_kernel_t *mock_direct_kernel_create()
{
	private_mock_direct_kernel_t *this;

	INIT(this,
		.public = {
			.kernel = {
				.alloc_reqid = _alloc_reqid,
				.release_reqid = _release_reqid,
				.policies = _policies,
				.add_sa = _add_sa,
				.del_sa = _del_sa,
				.query_sa = _query_sa,
				.destroy = _kernel_destroy,
			},
			.send = _send_,
			.fail_add = _fail_add,
			.count_sas = _count_sas,
			.count_policies = _count_policies,
			.count_reqids = _count_reqids,
			.count_installed = _count_installed,
			.count_overdue = _count_overdue,
			.destroy = _destroy,
		},
		.sas = array_create(0, 0),
		.seen = array_create(0, 0),
	);
	return &this->public;
}
