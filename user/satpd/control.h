/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control socket (ctl.h) and the metrics endpoint (metrics.h) plugged into
 * satpd: callbacks over the daemon (satpd_snapshot; connection changes in
 * ctlops.c) and poll hooks on its main
 * loop. Open after the devices and XDP are up and before dropping privileges
 * (the socket directory and the pinned maps are root's).
 *
 * A control socket that cannot be opened is a warning, not an error: satpd
 * tunnels without it, and `satp show` still reads the pinned maps. Two daemons
 * with the same device name in different network namespaces share the
 * filesystem: the second one needs --ctl-socket.
 */
#ifndef SATPD_CONTROL_H
#define SATPD_CONTROL_H

struct satpd_features;
struct satpd_ctl;
struct satpd_metrics;
struct satpd_kx;

struct satpd_control_opts {
	const char *socket;	/* NULL or "": SATPD_CTL_DIR/<dev>.sock */
	const char *group;	/* may use the control socket besides root */
	const char *read_group; /* may use op=show only (satp show) */
	const char *metrics;	/* ADDR:PORT; NULL or "": no endpoint */
	const char *pin_root;	/* satpd's --pin-root */
	const char *xdp_ifname; /* the underlay with satp_rx, or NULL */
};

struct satpd_control {
	struct satpd_ctl *ctl;
	struct satpd_metrics *metrics;
	struct satpd_kx *kx; /* beside the control socket (kx.h) */
};

/*
 * Its ops' ctx is f (the snapshot reads the transports and features; the
 * changes of ctlops.c the core f->d). 0, or -errno when --metrics was asked
 * for and cannot listen (a bad option).
 */
int satpd_control_open(struct satpd_features *f, const struct satpd_control_opts *o,
		       struct satpd_control *c);
/* Start the metrics thread: after the privileges are dropped (a thread keeps its own). */
int satpd_control_start(struct satpd_control *c);
void satpd_control_close(struct satpd_control *c);

#endif /* SATPD_CONTROL_H */
