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

#include "qkd_direct_kernel.h"

#include <daemon.h>

/*
 * Described in header
 */
uint8_t qkd_direct_kernel_proto(qkd_direct_cfg_t *cfg)
{
	return cfg->alg == QKD_DIRECT_AH_SHA256 ? IPPROTO_AH : IPPROTO_ESP;
}

/**
 * Identity of one SA of a child's pair (SPI in host order)
 */
static kernel_ipsec_sa_id_t sa_id(uint8_t proto, host_t *local,
								  host_t *peer, uint32_t spi, bool inbound)
{
	return (kernel_ipsec_sa_id_t){
		.src = inbound ? peer : local,
		.dst = inbound ? local : peer,
		.spi = htonl(spi),
		.proto = proto,
	};
}

METHOD(qkd_direct_kernel_t, alloc_reqid, bool,
	qkd_direct_kernel_t *this, qkd_direct_cfg_t *cfg, uint32_t *reqid)
{
	*reqid = 0;
	return charon->kernel->alloc_reqid(charon->kernel, cfg->local_ts,
						cfg->remote_ts, (mark_t){}, (mark_t){}, 0, 0, NULL,
						reqid) == SUCCESS;
}

METHOD(qkd_direct_kernel_t, release_reqid, void,
	qkd_direct_kernel_t *this, uint32_t reqid)
{
	charon->kernel->release_reqid(charon->kernel, reqid);
}

/**
 * Install or remove one policy
 */
static bool manage_policy(policy_dir_t dir, traffic_selector_t *src_ts,
						  traffic_selector_t *dst_ts, host_t *src,
						  host_t *dst, ipsec_sa_cfg_t *sa, bool install)
{
	kernel_ipsec_policy_id_t id = {
		.dir = dir,
		.src_ts = src_ts,
		.dst_ts = dst_ts,
	};
	kernel_ipsec_manage_policy_t policy = {
		.type = POLICY_IPSEC,
		.prio = POLICY_PRIORITY_DEFAULT,
		.src = src,
		.dst = dst,
		.sa = sa,
	};

	if (install)
	{
		return charon->kernel->add_policy(charon->kernel, &id,
										  &policy) == SUCCESS;
	}
	return charon->kernel->del_policy(charon->kernel, &id,
									  &policy) == SUCCESS;
}

METHOD(qkd_direct_kernel_t, policies, bool,
	qkd_direct_kernel_t *this, qkd_direct_cfg_t *cfg, host_t *local,
	host_t *peer, uint32_t reqid, bool install)
{
	enumerator_t *mine, *others;
	traffic_selector_t *my_ts, *other_ts;
	ipsec_sa_cfg_t sa = {
		.mode = cfg->mode,
		.reqid = reqid,
	};
	bool ok = TRUE;

	if (cfg->alg == QKD_DIRECT_AH_SHA256)
	{
		sa.ah.use = TRUE;
	}
	else
	{
		sa.esp.use = TRUE;
	}
	mine = cfg->local_ts->create_enumerator(cfg->local_ts);
	while (mine->enumerate(mine, &my_ts))
	{
		others = cfg->remote_ts->create_enumerator(cfg->remote_ts);
		while (others->enumerate(others, &other_ts))
		{
			if (my_ts->get_type(my_ts) != other_ts->get_type(other_ts))
			{
				continue;
			}
			ok = manage_policy(POLICY_OUT, my_ts, other_ts, local, peer,
							   &sa, install) && ok;
			ok = manage_policy(POLICY_IN, other_ts, my_ts, peer, local,
							   &sa, install) && ok;
			if (cfg->mode == MODE_TUNNEL)
			{
				ok = manage_policy(POLICY_FWD, other_ts, my_ts, peer, local,
								   &sa, install) && ok;
			}
		}
		others->destroy(others);
	}
	mine->destroy(mine);
	return ok;
}

METHOD(qkd_direct_kernel_t, add_sa, bool,
	qkd_direct_kernel_t *this, qkd_direct_cfg_t *cfg, host_t *local,
	host_t *peer, uint32_t reqid, qkd_direct_sa_keys_t *keys, bool inbound,
	u_int lifetime)
{
	lifetime_cfg_t life = {
		.time = {
			.life = lifetime,
		},
	};
	kernel_ipsec_sa_id_t id = sa_id(qkd_direct_kernel_proto(cfg), local, peer,
									keys->spi, inbound);
	kernel_ipsec_add_sa_t sa = {
		.reqid = reqid,
		.mode = cfg->mode,
		.src_ts = inbound ? cfg->remote_ts : cfg->local_ts,
		.dst_ts = inbound ? cfg->local_ts : cfg->remote_ts,
		.lifetime = &life,
		.enc_alg = ENCR_UNDEFINED,
		.enc_key = keys->enc,
		.int_alg = AUTH_UNDEFINED,
		.int_key = keys->integ,
		.replay_window = 32,
		.copy_df = TRUE,
		.copy_ecn = TRUE,
		.copy_dscp = DSCP_COPY_OUT_ONLY,
		.inbound = inbound,
	};

	switch (cfg->alg)
	{
		case QKD_DIRECT_ESP_AES_GCM:
			sa.enc_alg = ENCR_AES_GCM_ICV16;
			break;
		case QKD_DIRECT_ESP_AES_CBC_SHA256:
			sa.enc_alg = ENCR_AES_CBC;
			sa.int_alg = AUTH_HMAC_SHA2_256_128;
			break;
		case QKD_DIRECT_AH_SHA256:
			sa.int_alg = AUTH_HMAC_SHA2_256_128;
			break;
	}
	life.bytes.life = cfg->life_bytes ? cfg->life_bytes * 2 : 0;
	life.packets.life = cfg->life_packets ? cfg->life_packets * 2 : 0;
	return charon->kernel->add_sa(charon->kernel, &id, &sa) == SUCCESS;
}

METHOD(qkd_direct_kernel_t, del_sa, bool,
	qkd_direct_kernel_t *this, uint8_t proto, host_t *local, host_t *peer,
	uint32_t spi, bool inbound)
{
	kernel_ipsec_sa_id_t id = sa_id(proto, local, peer, spi, inbound);
	kernel_ipsec_del_sa_t sa = {};

	return charon->kernel->del_sa(charon->kernel, &id, &sa) == SUCCESS;
}

METHOD(qkd_direct_kernel_t, query_sa, bool,
	qkd_direct_kernel_t *this, qkd_direct_cfg_t *cfg, host_t *local,
	host_t *peer, uint32_t spi, bool inbound, uint64_t *bytes,
	uint64_t *packets)
{
	kernel_ipsec_sa_id_t id = sa_id(qkd_direct_kernel_proto(cfg), local, peer,
									spi, inbound);
	kernel_ipsec_query_sa_t sa = {};
	time_t used;

	return charon->kernel->query_sa(charon->kernel, &id, &sa, bytes, packets,
									&used) == SUCCESS;
}

METHOD(qkd_direct_kernel_t, destroy, void,
	qkd_direct_kernel_t *this)
{
	free(this);
}

/*
 * Described in header
 */
qkd_direct_kernel_t *qkd_direct_kernel_create()
{
	qkd_direct_kernel_t *this;

	INIT(this,
		.alloc_reqid = _alloc_reqid,
		.release_reqid = _release_reqid,
		.policies = _policies,
		.add_sa = _add_sa,
		.del_sa = _del_sa,
		.query_sa = _query_sa,
		.destroy = _destroy,
	);
	return this;
}
