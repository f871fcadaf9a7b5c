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

#include "satp_xdp_loader.h"
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

static void read_views(struct satp_state *st)
{
	unsigned int i, k;

	for (i = 0; i < st->n_ifs; i++) {
		struct satp_iface *f = &st->ifs[i];

		f->err = satp_xdp_view_read(st->pin_root, f->ifname, f->view);
		f->daemon = NULL;
		for (k = 0; k < st->n_daemons; k++) {
			struct satp_daemon *d = &st->daemons[k];

			if (!d->err && !strcmp(d->snap.xdp_ifname, f->ifname)) {
				f->daemon = d;
				d->matched = true;
			}
		}
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
		if (n < 0) {
			fprintf(stderr, "%s: cannot list %s/satpd: %s\n", prog, st->pin_root,
				strerror(-n));
			return n;
		}
	}
	for (i = 0; i < (unsigned int)n; i++) {
		memcpy(st->ifs[i].ifname, names[i], IFNAMSIZ);
		st->ifs[i].view = malloc(sizeof(*st->ifs[i].view));
		if (!st->ifs[i].view)
			return -ENOMEM;
		st->n_ifs++;
	}
	ret = ask_daemons(st, o);
	if (ret) {
		fprintf(stderr, "%s: cannot list %s: %s\n", prog, st->run_dir, strerror(-ret));
		return ret;
	}
	query_daemons(st);
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
