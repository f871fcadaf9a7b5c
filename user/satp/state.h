/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Everything `satp show` and `satp stats` look at, gathered once: the XDP view
 * of every interface pinned under <pin-root>/satpd/ (or one), and the answer
 * of every daemon whose control socket is under the run directory (or one).
 */
#ifndef SATP_STATE_H
#define SATP_STATE_H

#include <stdbool.h>

#include "ctl_client.h"
#include "xdp_view.h"

/* Interfaces with pinned state one satp call shows. */
#define SATP_STATE_MAX_IFS 64

struct satp_state_opts {
	const char *ifname;   /* NULL: all */
	const char *pin_root; /* NULL: each running satpd's own, else /sys/fs/bpf */
	const char *run_dir;  /* NULL: satp_run_dir() */
	const char *socket;   /* NULL: every socket under run_dir */
};

struct satp_daemon {
	char path[256];
	int err; /* 0: answered; else why not (negative errno) */
	char msg[256];
	bool matched; /* shown with a pinned interface */
	struct satp_ctl_snapshot snap;
};

/* /proc/<pid>/root + a daemon's pin root */
#define SATP_STATE_ROOT_MAX (SATP_CTL_PATH_MAX + 32)

struct satp_iface {
	char ifname[IFNAMSIZ];
	/* Where its maps are read: --pin-root, else the pin root its daemon reports (through
	 * /proc/<pid>/root when that daemon has a mount namespace of its own), else the default. */
	char pin_root[SATP_STATE_ROOT_MAX];
	/* Added for a daemon (not under --pin-root or the default, nor asked for): when its
	 * maps cannot be read it is left out and the daemon is shown on its own, as before. */
	bool adopted;
	int err; /* reading the pinned maps: 0 or negative errno */
	struct satp_xdp_view *view;
	struct satp_daemon *daemon; /* the daemon whose xdp-ifname this is, or NULL */
};

struct satp_state {
	const char *run_dir;
	const char *pin_root; /* --pin-root or the default: where interfaces are listed */
	const char *only;     /* the IFNAME asked for, or NULL */
	unsigned int n_ifs;
	struct satp_iface ifs[SATP_STATE_MAX_IFS];
	unsigned int n_daemons;
	struct satp_daemon *daemons;
};

/* Returns 0, or -errno with a message on stderr (prog prefixed) when nothing could be read. */
int satp_state_read(const struct satp_state_opts *o, struct satp_state *st, const char *prog);
/* Re-read only the pinned maps and the daemons' counters (stats --watch). */
int satp_state_refresh(struct satp_state *st);
void satp_state_free(struct satp_state *st);
/* A daemon not tied to a pinned interface, shown when no IFNAME or its device was asked for. */
bool satp_state_show_unmatched(const struct satp_state *st, const struct satp_daemon *d);

#endif /* SATP_STATE_H */
