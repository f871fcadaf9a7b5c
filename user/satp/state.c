// SPDX-License-Identifier: GPL-2.0-only
/*
 * Gathering what show and stats print (state.h). Daemons are matched to
 * pinned interfaces by the xdp-ifname they report, so that show works the
 * same whether it is given the underlay name or nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xdp_query.h"
#include "state.h"

static int ask_daemons(struct satp_state *st, const struct satp_state_opts *o)
{
	static char paths[SATP_CTL_MAX_DAEMONS][256];
	int n, i;

	if (o->socket) {
		snprintf(paths[0], sizeof(paths[0]), "%s", o->socket);
		n = 1;
	} else {
		n = satp_ctl_list(st->run_dir, paths, SATP_CTL_MAX_DAEMONS);
		if (n < 0)
			return n;
	}
	st->daemons = calloc((size_t)(n ? n : 1), sizeof(*st->daemons));
	if (!st->daemons)
		return -ENOMEM;
	st->n_daemons = (unsigned int)n;
	for (i = 0; i < n; i++)
		memcpy(st->daemons[i].path, paths[i], sizeof(st->daemons[i].path));
	return 0;
}

static void query_daemons(struct satp_state *st)
{
	struct satp_ctl_msg m = {.op = SATP_CTL_OP_SHOW};
	unsigned int i;
	int rerr;

	for (i = 0; i < st->n_daemons; i++) {
		struct satp_daemon *d = &st->daemons[i];

		d->err = satp_ctl_call(d->path, &m, &rerr, d->msg, sizeof(d->msg), &d->snap);
		if (!d->err && rerr) {
			d->err = -rerr;
			if (!d->msg[0])
				snprintf(d->msg, sizeof(d->msg), "%s", strerror(rerr));
		}
	}
}

/* Whether PID's namespace of KIND ("mnt", "net") is this process's; -1: cannot tell. */
static int same_ns(int32_t pid, const char *kind)
{
	char path[64], self[64], theirs[64];
	ssize_t a, b;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/ns/%s", kind);
	a = readlink(path, self, sizeof(self));
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, kind);
	b = readlink(path, theirs, sizeof(theirs));
	if (a <= 0 || b <= 0)
		return -1;
	return a == b && !memcmp(self, theirs, (size_t)a);
}

/*
 * Of two daemons that report the same underlay (one per network namespace), the one
 * in this process's network namespace serves the interface this process sees.
 */
static bool serves_better(const struct satp_daemon *cur, const struct satp_daemon *cand)
{
	return !cur || (same_ns(cur->snap.pid, "net") != 1 && same_ns(cand->snap.pid, "net") == 1);
}

/*
 * A daemon's pin root as this process can open it. Each `ip netns exec` mounts a /sys of
 * its own, so the bpffs a daemon started that way mounted at /sys/fs/bpf is in its mount
 * namespace only: reach it through /proc/<pid>/root (same PID namespace assumed; a wrong
 * guess only fails the read, and show then says the maps cannot be read).
 */
static void daemon_pin_root(const struct satp_daemon *d, char *out, size_t len)
{
	if (d->snap.pin_root[0] == '/' && same_ns(d->snap.pid, "mnt") == 0)
		snprintf(out, len, "/proc/%d/root%s", (int)d->snap.pid, d->snap.pin_root);
	else
		snprintf(out, len, "%s", d->snap.pin_root);
}

static struct satp_iface *find_iface(struct satp_state *st, const char *ifname)
{
	unsigned int i;

	for (i = 0; i < st->n_ifs; i++)
		if (!strcmp(st->ifs[i].ifname, ifname))
			return &st->ifs[i];
	return NULL;
}

static struct satp_iface *add_iface(struct satp_state *st, const char *ifname)
{
	struct satp_iface *f = &st->ifs[st->n_ifs];

	if (st->n_ifs == SATP_STATE_MAX_IFS)
		return NULL;
	snprintf(f->ifname, sizeof(f->ifname), "%.*s", IFNAMSIZ - 1, ifname);
	snprintf(f->pin_root, sizeof(f->pin_root), "%s", st->pin_root);
	f->view = malloc(sizeof(*f->view));
	if (!f->view)
		return NULL;
	st->n_ifs++;
	return f;
}

/*
 * Without --pin-root, an interface's maps are read where the daemon serving it pinned
 * them, and an interface pinned only where this process cannot list is added.
 */
static int adopt_daemon_roots(struct satp_state *st)
{
	const struct satp_daemon *by[SATP_STATE_MAX_IFS] = {NULL};
	struct satp_iface *f;
	unsigned int k;

	for (k = 0; k < st->n_daemons; k++) {
		const struct satp_daemon *d = &st->daemons[k];

		if (d->err || !d->snap.xdp_ifname[0] || !d->snap.pin_root[0])
			continue;
		f = find_iface(st, d->snap.xdp_ifname);
		if (!f && st->only)
			continue; /* another interface was asked for */
		if (!f) {
			if (!(f = add_iface(st, d->snap.xdp_ifname)))
				return st->n_ifs == SATP_STATE_MAX_IFS ? 0 : -ENOMEM;
			f->adopted = true;
		}
		if (!serves_better(by[f - st->ifs], d))
			continue;
		by[f - st->ifs] = d;
		daemon_pin_root(d, f->pin_root, sizeof(f->pin_root));
	}
	return 0;
}

static void read_views(struct satp_state *st)
{
	unsigned int i, k;

	for (i = 0; i < st->n_ifs; i++) {
		struct satp_iface *f = &st->ifs[i];

		f->err = satp_xdp_view_read(f->pin_root, f->ifname, f->view);
		if (f->err && !f->adopted && strcmp(f->pin_root, st->pin_root)) {
			/* the daemon's root cannot be read from here: the default still can */
			snprintf(f->pin_root, sizeof(f->pin_root), "%s", st->pin_root);
			f->err = satp_xdp_view_read(f->pin_root, f->ifname, f->view);
		}
		f->daemon = NULL;
		if (f->err && f->adopted)
			continue;
		for (k = 0; k < st->n_daemons; k++) {
			struct satp_daemon *d = &st->daemons[k];

			if (!d->err && !strcmp(d->snap.xdp_ifname, f->ifname) &&
			    serves_better(f->daemon, d))
				f->daemon = d;
		}
		/* Only the daemon shown with the interface: another of the same underlay name
		 * (another network namespace) is shown on its own, not hidden. */
		if (f->daemon)
			f->daemon->matched = true;
	}
}

int satp_state_read(const struct satp_state_opts *o, struct satp_state *st, const char *prog)
{
	static char names[SATP_STATE_MAX_IFS][IFNAMSIZ];
	unsigned int i;
	int n, ret;

	memset(st, 0, sizeof(*st));
	st->run_dir = satp_run_dir(o->run_dir);
	st->pin_root = o->pin_root ? o->pin_root : SATP_XDP_PIN_ROOT_DEFAULT;
	st->only = o->ifname;
	if (o->ifname) {
		snprintf(names[0], IFNAMSIZ, "%s", o->ifname);
		n = 1;
	} else {
		n = satp_xdp_view_list(st->pin_root, names, SATP_STATE_MAX_IFS);
		if (n == -EACCES && !o->pin_root) {
			/* systemd's bpffs is root's only: a read-group caller still gets the
			 * daemons (and the pin roots they report) */
			fprintf(stderr, "%s: cannot list %s/satpd: %s; showing the daemons\n", prog,
				st->pin_root, strerror(-n));
			n = 0;
		}
		if (n < 0) {
			fprintf(stderr, "%s: cannot list %s/satpd: %s\n", prog, st->pin_root,
				strerror(-n));
			return n;
		}
	}
	for (i = 0; i < (unsigned int)n; i++)
		if (!add_iface(st, names[i]))
			return -ENOMEM;
	ret = ask_daemons(st, o);
	if (ret) {
		fprintf(stderr, "%s: cannot list %s: %s\n", prog, st->run_dir, strerror(-ret));
		return ret;
	}
	query_daemons(st);
	if (!o->pin_root && (ret = adopt_daemon_roots(st)))
		return ret;
	read_views(st);
	return 0;
}

int satp_state_refresh(struct satp_state *st)
{
	unsigned int i;

	for (i = 0; i < st->n_daemons; i++)
		st->daemons[i].matched = false;
	query_daemons(st);
	read_views(st);
	return 0;
}

void satp_state_free(struct satp_state *st)
{
	unsigned int i;

	for (i = 0; i < st->n_ifs; i++)
		free(st->ifs[i].view);
	for (i = 0; st->daemons && i < st->n_daemons; i++)
		satp_ctl_snapshot_reset(&st->daemons[i].snap);
	free(st->daemons);
	memset(st, 0, sizeof(*st));
}

bool satp_state_show_unmatched(const struct satp_state *st, const struct satp_daemon *d)
{
	if (d->matched)
		return false;
	return !st->only || (!d->err && !strcmp(d->snap.dev, st->only));
}
