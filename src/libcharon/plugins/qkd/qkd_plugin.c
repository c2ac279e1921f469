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

#include "qkd_plugin.h"
#include "qkd_links.h"
#include "qkd_ke.h"
#include "qkd_composite_ke.h"
#include "qkd_hkdf.h"
#include "qkd_events.h"
#include "qkd_vici.h"

#include <curl/curl.h>

#include <daemon.h>

typedef struct private_qkd_plugin_t private_qkd_plugin_t;

/**
 * Private data of the qkd plugin.
 */
struct private_qkd_plugin_t {

	/**
	 * Public interface.
	 */
	qkd_plugin_t public;

	/**
	 * Configured links, while the plugin's features are loaded
	 */
	qkd_links_t *links;

	/**
	 * Control socket, NULL if disabled
	 */
	qkd_vici_t *vici;

	/**
	 * Transform ID of the qkd method
	 */
	key_exchange_method_t method;

	/**
	 * Plugin features, with the composite methods configured
	 */
	plugin_feature_t *features;

	/**
	 * Number of features
	 */
	int count;
};

METHOD(plugin_t, get_name, char*,
	private_qkd_plugin_t *this)
{
	return "qkd";
}

/**
 * Load the links and make the qkd key exchange method known by name; on
 * unload, stop the links while the kernel interface still exists, so the
 * IKE-less children remove their SAs and policies
 */
static bool plugin_cb(private_qkd_plugin_t *this,
					  plugin_feature_t *feature, bool reg, void *cb_data)
{
	if (reg)
	{
		this->links = qkd_links_create();
		qkd_ke_set_links(this->links);
		/* before the links start, so their status goes to the socket */
		this->vici = qkd_vici_create(this->links);
		this->links->load(this->links);
		qkd_ke_register_names(TRUE);
		lib->proposal->register_token(lib->proposal, "qkd",
							KEY_EXCHANGE_METHOD, this->method, 0);
		lib->proposal->register_token(lib->proposal, "qkd_qursa",
							KEY_EXCHANGE_METHOD, QKD_KE_METHOD_QURSA, 0);
	}
	else
	{
		qkd_ke_register_names(FALSE);
		qkd_ke_set_links(NULL);
		DESTROY_IF(this->vici);
		this->vici = NULL;
		DESTROY_IF(this->links);
		this->links = NULL;
	}
	return TRUE;
}

/**
 * Make a composite method known by name once its component is available
 */
static bool composite_cb(private_qkd_plugin_t *this,
						 plugin_feature_t *feature, bool reg, void *cb_data)
{
	qkd_composite_ke_register((uintptr_t)cb_data, reg);
	return TRUE;
}

/**
 * Features of a composite method: its names and keyword once the qkd
 * feature and the component are there, then the key exchange itself
 */
#define COMPOSITE_FEATURES 7

/**
 * Build the plugin features
 */
static void build_features(private_qkd_plugin_t *this)
{
	plugin_feature_t f[] = {
		PLUGIN_CALLBACK((plugin_feature_callback_t)plugin_cb, NULL),
			PLUGIN_PROVIDE(CUSTOM, "qkd"),
				/* for the key pools, which are disabled without them */
				PLUGIN_SDEPEND(AEAD, ENCR_AES_GCM_ICV16, 32),
				/* HKDF (qkd_hkdf) */
				PLUGIN_SDEPEND(HASHER, HASH_SHA256),
				/* MACs of DOH and MPSS messages */
				PLUGIN_SDEPEND(SIGNER, AUTH_HMAC_SHA2_256_128),
				PLUGIN_SDEPEND(RNG, RNG_STRONG),
				PLUGIN_SDEPEND(RNG, RNG_TRUE),
				/* DOH sockets bypass IPsec, IKE-less SAs are installed */
				PLUGIN_SDEPEND(CUSTOM, "kernel-ipsec"),
		PLUGIN_REGISTER(KE, qkd_ke_create),
			PLUGIN_PROVIDE(KE, QKD_KE_METHOD),
				PLUGIN_DEPENDS(CUSTOM, "qkd"),
		/* the ID the released QURSA plugin sends, unless qkd has it */
		PLUGIN_REGISTER(KE, qkd_ke_create),
			PLUGIN_PROVIDE(KE, QKD_KE_METHOD_QURSA),
				PLUGIN_DEPENDS(CUSTOM, "qkd"),
	};
	key_exchange_method_t id, component;
	char *keyword;
	int i, n;

	/* the PROVIDE of qkd, at its configured transform ID */
	f[countof(f) - 5].arg.ke = this->method;
	n = this->method == QKD_KE_METHOD_QURSA ? countof(f) - 3 : countof(f);
	this->features = calloc(n + COMPOSITE_FEATURES * QKD_COMPOSITE_METHODS,
							sizeof(plugin_feature_t));
	memcpy(this->features, f, n * sizeof(plugin_feature_t));
	for (i = 0; i < QKD_COMPOSITE_METHODS; i++)
	{
		if (!qkd_composite_ke_get(i, &keyword, &id, &component))
		{
			continue;
		}
		this->features[n++] = PLUGIN_CALLBACK((plugin_feature_callback_t)
									composite_cb, (void*)(uintptr_t)i);
		this->features[n++] = PLUGIN_PROVIDE(CUSTOM, keyword);
		this->features[n++] = PLUGIN_DEPENDS(CUSTOM, "qkd");
		this->features[n++] = PLUGIN_DEPENDS(KE, component);
		this->features[n++] = PLUGIN_REGISTER(KE, qkd_composite_ke_create);
		this->features[n++] = PLUGIN_PROVIDE(KE, id);
		this->features[n++] = PLUGIN_DEPENDS(CUSTOM, keyword);
	}
	this->count = n;
}

METHOD(plugin_t, get_features, int,
	private_qkd_plugin_t *this, plugin_feature_t *features[])
{
	*features = this->features;
	return this->count;
}

METHOD(plugin_t, reload, bool,
	private_qkd_plugin_t *this)
{
	if (this->links)
	{
		this->links->load(this->links);
		qkd_ke_load_settings();
	}
	return TRUE;
}

METHOD(plugin_t, destroy, void,
	private_qkd_plugin_t *this)
{
	qkd_ke_set_links(NULL);
	DESTROY_IF(this->vici);
	DESTROY_IF(this->links);
	qkd_events_deinit();
	qkd_hkdf_cache(FALSE);
	curl_global_cleanup();
	free(this->features);
	free(this);
}

/**
 * Plugin constructor
 */
plugin_t *qkd_plugin_create()
{
	private_qkd_plugin_t *this;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
	{
		DBG1(DBG_LIB, "qkd: initializing libcurl failed");
		return NULL;
	}

	INIT(this,
		.public = {
			.plugin = {
				.get_name = _get_name,
				.get_features = _get_features,
				.reload = _reload,
				.destroy = _destroy,
			},
		},
		.method = qkd_ke_set_method(lib->settings->get_int(lib->settings,
								"%s.plugins.qkd.transform_id", QKD_KE_METHOD,
								lib->ns)),
	);
	qkd_composite_ke_configure(this->method);
	build_features(this);
	qkd_hkdf_cache(TRUE);
	qkd_events_init();

	return &this->public.plugin;
}
