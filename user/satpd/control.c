// SPDX-License-Identifier: GPL-2.0-only
/*
 * satpd's side of the control socket and metrics endpoint (control.h).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "compose.h"
#include "conns.h"
#include "control.h"
#include "ctl.h"
#include "datapath.h"
#include "kx.h"
#include "log.h"
#include "metrics.h"

static int snapshot(void *ctx, struct satp_ctl_snapshot *snap)
{
	return satpd_snapshot(ctx, snap);
}

static void log_line(void *ctx, const char *msg)
{
	log_notice("%s", msg);
}

static void serve_ctl(void *ctx, int fd, short revents)
{
	satpd_ctl_handle(ctx);
}

static void serve_metrics(void *ctx, int fd, short revents)
{
	satpd_metrics_handle(ctx);
}

static void open_ctl(struct satpd *d, const struct satpd_control_opts *o,
		     const struct satpd_ctl_ops *ops, struct satpd_control *c)
{
	struct satpd_ctl_opts co = {
	    .path = o->socket, .group = o->group, .read_group = o->read_group};
	char path[108], err[512];
	int ret;

	if (!o->socket || !o->socket[0]) {
		if (satpd_ctl_default_path(d->dev_name, path, sizeof(path)))
			return;
		co.path = path;
	}
	ret = satpd_ctl_open(&co, ops, &c->ctl, err, sizeof(err));
	if (ret) {
		log_warn("no control socket (satp show reads the pinned maps only): %s", err);
		return;
	}
	if (satpd_add_poll_hook(d, satpd_ctl_fd(c->ctl), POLLIN, serve_ctl, c->ctl)) {
		log_warn("no room for the control socket in the main loop");
		satpd_ctl_close(c->ctl);
		c->ctl = NULL;
		return;
	}
	log_notice("control socket %s", co.path);
	satpd_kx_open(d, c->ctl, &c->kx); /* optional like the control socket: logged */
}

int satpd_control_open(struct satpd_features *f, const struct satpd_control_opts *o,
		       struct satpd_control *c)
{
	struct satpd *d = f->d;
	struct satpd_ctl_ops ops = {
	    .ctx = f,
	    .snapshot = snapshot,
	    .add_conn = satpd_ctl_add_conn,
	    .change_conn = satpd_ctl_change_conn,
	    .del_conn = satpd_ctl_del_conn,
	    .set_keys = satpd_ctl_set_keys,
	    .reset_window = satpd_ctl_reset_window,
	    .set_session = satpd_ctl_set_session,
	    .del_session = satpd_ctl_del_session,
	    .log = log_line,
	    .add_route = satpd_ctl_add_route,
	    .del_route = satpd_ctl_del_route,
	};
	struct satpd_metrics_opts mo = {
	    .listen = o->metrics, .pin_root = o->pin_root, .xdp_ifname = o->xdp_ifname};
	char err[512];
	int ret;

	memset(c, 0, sizeof(*c));
	open_ctl(d, o, &ops, c);
	if (!o->metrics || !o->metrics[0])
		return 0;
	ret = satpd_metrics_open(&mo, &ops, &c->metrics, err, sizeof(err));
	if (!ret && satpd_add_poll_hook(d, satpd_metrics_fd(c->metrics), POLLIN, serve_metrics,
					c->metrics)) {
		snprintf(err, sizeof(err), "no room for --metrics in the main loop");
		ret = -ENOSPC;
	}
	if (ret) {
		log_err("%s", err);
		satpd_control_close(c);
		return ret;
	}
	log_notice("metrics on http://%s/metrics", o->metrics);
	return 0;
}

int satpd_control_start(struct satpd_control *c)
{
	int ret;

	if (!c->metrics)
		return 0;
	ret = satpd_metrics_start(c->metrics);
	if (ret)
		log_err("metrics: cannot start its thread: %s", strerror(-ret));
	return ret;
}

void satpd_control_close(struct satpd_control *c)
{
	satpd_metrics_close(c->metrics);
	satpd_kx_close(c->kx);
	satpd_ctl_close(c->ctl);
	c->kx = NULL;
	c->metrics = NULL;
	c->ctl = NULL;
}
