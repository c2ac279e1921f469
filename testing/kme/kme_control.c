/*
 * qkd-kme-sim: ETSI GS QKD 014 KME simulator.
 *
 * kme_control.c - plain HTTP control listener on a UNIX socket:
 * GET /faults lists, POST /faults arms and DELETE /faults clears faults.
 */

#include "kme_control.h"
#include "kme_faults.h"
#include "kme_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <etsi_request.h>

static struct MHD_Daemon *control_daemon;
static char *socket_path;

static enum MHD_Result handle_control(void *cls, struct MHD_Connection *conn,
									  const char *url, const char *method,
									  const char *version,
									  const char *upload_data,
									  size_t *upload_data_size,
									  void **con_cls)
{
	etsi_request_t *req = *con_cls;
	json_object *body, *obj;
	const char *allow = NULL;
	char err[256];
	unsigned status = 200;
	enum MHD_Result ret;

	(void)cls;
	(void)version;
	if (!etsi_request_receive(req, upload_data, upload_data_size))
	{
		return MHD_YES;
	}
	if (strcmp(url, "/faults"))
	{
		status = 404;
		body = etsi_error("unknown resource", NULL, NULL);
	}
	else if (!strcmp(method, MHD_HTTP_METHOD_GET))
	{
		body = json_object_new_object();
		json_object_object_add(body, "faults", faults_list());
	}
	else if (!strcmp(method, MHD_HTTP_METHOD_DELETE))
	{
		body = json_object_new_object();
		json_object_object_add(body, "cleared",
							   json_object_new_int(faults_clear()));
	}
	else if (!strcmp(method, MHD_HTTP_METHOD_POST))
	{
		obj = etsi_request_json(req);
		body = faults_add_json(obj, err, sizeof(err));
		json_object_put(obj);
		if (body)
		{
			status = 201;
		}
		else
		{
			status = 400;
			body = etsi_error(err, NULL, NULL);
		}
	}
	else
	{
		status = 405;
		allow = "GET, POST, DELETE";
		body = etsi_error("method not allowed", NULL, NULL);
	}
	kme_log("control %s %s -> %u %s", method, req->uri, status,
			json_object_to_json_string_ext(body, ETSI_JSON_FLAGS));
	ret = etsi_reply(conn, status, json_object_to_json_string_ext(body,
						ETSI_JSON_FLAGS), allow);
	json_object_put(body);
	return ret;
}

/**
 * Create a listening UNIX socket, replacing a stale socket file.
 */
static int listen_unix(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
	{
		kme_error("control socket path '%s' too long", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	if (!lstat(path, &st))
	{
		if (!S_ISSOCK(st.st_mode))
		{
			kme_error("control socket path '%s' exists and is no socket", path);
			return -1;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && (bind(fd, (struct sockaddr*)&addr, sizeof(addr)) ||
					listen(fd, 16)))
	{
		close(fd);
		fd = -1;
	}
	if (fd < 0)
	{
		kme_error("cannot listen on control socket '%s': %s", path,
				  strerror(errno));
	}
	return fd;
}

bool control_start(const char *path)
{
	int fd = listen_unix(path);

	if (fd < 0)
	{
		return false;
	}
	control_daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_ERROR_LOG, 0, NULL, NULL, handle_control, NULL,
		MHD_OPTION_EXTERNAL_LOGGER, etsi_log_mhd, "control",
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_URI_LOG_CALLBACK, etsi_request_start, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, etsi_request_done, NULL,
		MHD_OPTION_END);
	if (!control_daemon)
	{
		kme_error("starting control listener on '%s' failed", path);
		close(fd);
		unlink(path);
		return false;
	}
	socket_path = strdup(path);
	kme_log("control listening on %s", path);
	return true;
}

void control_stop(void)
{
	if (control_daemon)
	{
		MHD_stop_daemon(control_daemon);
		control_daemon = NULL;
		unlink(socket_path);
		free(socket_path);
		socket_path = NULL;
	}
}
