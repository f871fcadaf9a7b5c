// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "compose.h"
#include "ctl_proto.h"
#include "conns.h"
#include "datapath.h"
#include "handshake.h"
#include "edge.h"
#include "rail.h"
#include "satp_xdp.h"
#include "satpd_options.h"
#include "xsk.h"

/*
 * The daemon scope carries every core counter, the features' (as many as a
 * worker keeps: counters.h), "connections" and the edge exchange's.
 */
#define X(n) +1
_Static_assert(0 SATPD_COUNTERS(X) + SATPD_EXT_COUNTERS_MAX + 1 SATPD_EDGE_COUNTERS(X) <=
		   SATP_CTL_COUNTERS_MAX,
	       "the daemon's counters must fit a snapshot (ctl_proto.h)");
#undef X

/* Every counter name whole in a snapshot (satp_ctl_add_counter would cut a longer one). */
#define X(n)                                                                                       \
	_Static_assert(sizeof(#n) <= SATP_CTL_NAME_MAX, #n ": a longer name than a snapshot holds");
SATPD_COUNTERS(X)
SATPD_EDGE_COUNTERS(X)
#undef X

/* Limits the control protocol (ctl_proto.h) and the daemon must agree on. */
_Static_assert(SATP_CTL_PASSPHRASE_MAX == SATPD_PASSPHRASE_MAX, "passphrase= is -E");
_Static_assert(SATP_CTL_REASON_MAX >= SATPD_XDP_REASON_MAX, "xdp-fallback= holds the reason whole");
_Static_assert(SATPD_QUEUES_MAX <= 8 * sizeof(((struct satp_ctl_snapshot *)0)->xsk_queues) &&
		   SATP_XDP_MAX_QUEUES <= 8 * sizeof(((struct satp_ctl_snapshot *)0)->xsk_queues),
	       "xsk-queues= has a bit for every rx queue");

/* The core's counters, then the features' in the order they registered. */
static void fill_counters(const struct satpd *d, struct satp_ctl_counter *arr, uint32_t *n,
			  const struct satpd_counters *c)
{
	unsigned int k;

#define X(name) satp_ctl_add_counter(arr, n, #name, c->name);
	SATPD_COUNTERS(X)
#undef X
	for (k = 0; k < d->counter_sets.n; k++)
		satp_ctl_add_counter(arr, n, d->counter_sets.name[k], c->ext[k]);
}

/* Senders of conn's mux from the daemon's window store. */
static void fill_windows(const struct satpd *d, const struct satpd_conn *conn,
			 struct satp_ctl_conn *sc)
{
	unsigned int i, cap = 1u << d->windows.bits;
	uint32_t key, top;

	for (i = 0; d->windows.index && i < cap; i++) {
		if (!satpd_windows_top(&d->windows, i, &key, &top) || key >> 16 != conn->mux)
			continue;
		if (satp_ctl_add_sender(sc, key & 0xffff, top))
			break; /* more senders than the snapshot holds: the first ones are shown */
	}
}

static void fill_conn(const struct satpd *d, struct satpd_conn *conn, struct satp_ctl_conn *sc)
{
	const struct satpd_conn_config *cc = &conn->cfg;
	struct satpd_keyset *k = atomic_load(&conn->keys);
	struct satpd_remote_view v;

	sc->mux = conn->mux;
	sc->sender_id = cc->sender_id;
	snprintf(sc->role, sizeof(sc->role), "%s", satp_role_name(cc->keys.role));
	snprintf(sc->cipher, sizeof(sc->cipher), "%s", satp_algo_name(cc->keys.algos.cipher_bits));
	snprintf(sc->auth, sizeof(sc->auth), "%s", satp_auth_name(cc->keys.algos.auth));
	snprintf(sc->kd_prf, sizeof(sc->kd_prf), "%s", satp_algo_name(cc->keys.algos.kd_bits));
	sc->tag_len = cc->keys.algos.tag_len;
	sc->window = cc->window;
	satpd_conn_read_remote(conn, &v);
	if (v.known)
		satpd_addr_str(&v.addr.sa, sc->remote, sizeof(sc->remote));
	sc->remote_learned = conn->remote.learned;
	/* a kx session counts its own seqs from 0 */
	sc->seq_out = !k	   ? 0 /* handshake mode before the first session */
		      : k->session ? atomic_load(&k->tx_seq)
				   : atomic_load(&conn->seq->next);
	sc->rx_packets = atomic_load(&conn->rx_packets);
	sc->rx_bytes = atomic_load(&conn->rx_bytes);
	sc->tx_packets = atomic_load(&conn->tx_packets);
	sc->tx_bytes = atomic_load(&conn->tx_bytes);
	sc->last_rx = atomic_load(&conn->last_rx);
	sc->seq_resumed = conn->seq->start;
	snprintf(sc->seq_state, sizeof(sc->seq_state), "%s", conn->seq->name);
	satp_ctl_add_counter(sc->counters, &sc->n_counters, SATP_CTL_S_KEYS_PENDING,
			     atomic_load(&conn->pending) != NULL);
	satp_ctl_add_counter(sc->counters, &sc->n_counters, SATP_CTL_S_OLD_KEYS_ACCEPTED,
			     atomic_load(&conn->old) != NULL);
	/*
	 * kx (docs/kx.md): the session sent with (0: static keys), removed by
	 * del-session; a handshake's (keys_managed) are its own (satpd_hs_fill_conn)
	 */
	if (conn->per_session_windows && !conn->keys_managed) {
		satp_ctl_add_counter(sc->counters, &sc->n_counters, SATP_CTL_S_SESSION,
				     k->session_id);
		satp_ctl_add_counter(sc->counters, &sc->n_counters, SATP_CTL_S_SESSION_REMOVED,
				     k->none);
	}
	fill_windows(d, conn, sc);
	satpd_hs_fill_conn(conn, sc);
}

_Static_assert(SATP_CTL_PATHS_MAX >= SATPD_RAIL_PATHS_MAX, "every RAIL path in a snapshot");

static void fill_paths(const struct satpd_rail *r, struct satp_ctl_snapshot *out)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		satpd_rail_read(r, i, &out->paths[out->n_paths++]);
}

/* Where satp show reads the XDP maps: whole or not at all (a cut path would mislead). */
static void fill_pin_root(const struct satpd *d, struct satp_ctl_snapshot *out)
{
	const char *root = d->cfg->pin_root[0] ? d->cfg->pin_root : SATPD_PIN_ROOT;

	if (strlen(root) < sizeof(out->pin_root))
		snprintf(out->pin_root, sizeof(out->pin_root), "%s", root);
}

int satpd_snapshot(const struct satpd_features *f, struct satp_ctl_snapshot *out)
{
	const struct satpd *d = f->d;
	struct satpd *dd = f->d;
	struct satpd_counters c;
	struct satp_ctl_conn *sc;
	struct satpd_conn *conn;
	unsigned int m = 0;

	satp_ctl_snapshot_reset(out);
	out->pid = getpid();
	snprintf(out->version, sizeof(out->version), "%s", SATPD_VERSION);
	snprintf(out->dev, sizeof(out->dev), "%s", d->dev_name);
	snprintf(out->rx_path, sizeof(out->rx_path), "%s", f->xdp ? "xdp" : "udp");
	if (f->xdp) {
		snprintf(out->xdp_ifname, sizeof(out->xdp_ifname), "%s", satpd_xdp_ifname(f->xdp));
		out->xsk_queues = satpd_xdp_queue_mask(f->xdp);
		snprintf(out->xdp_program, sizeof(out->xdp_program), "%s",
			 satpd_xdp_took_over(f->xdp) ? "taken-over" : "fresh");
		fill_pin_root(d, out);
	}
	out->windows_adopted = d->windows_adopted;
	snprintf(out->xdp_mode_requested, sizeof(out->xdp_mode_requested), "%s",
		 satpd_xdp_mode_name(d->cfg->xdp_mode));
	out->xdp_mode_explicit = d->cfg->xdp_mode_set;
	snprintf(out->xdp_mode_obtained, sizeof(out->xdp_mode_obtained), "%s",
		 f->xdp ? satpd_xdp_mode_obtained(f->xdp) : "off");
	snprintf(out->xdp_fallback, sizeof(out->xdp_fallback), "%s", f->xdp_fallback);
	/* cut at the snapshot's size: it is for people to read */
	snprintf(out->state_dir, sizeof(out->state_dir), "%.*s", (int)sizeof(out->state_dir) - 1,
		 d->conns->state_dir);
	out->started = d->started;
	out->workers = f->xdp ? d->n_workers : 1;
	satpd_counters_sum(d, &c);
	fill_counters(d, out->counters, &out->n_counters, &c);
	satp_ctl_add_counter(out->counters, &out->n_counters, SATP_CTL_S_CONNECTIONS, d->conns->n);
	if (f->edge) {
#define X(name) satp_ctl_add_counter(out->counters, &out->n_counters, #name, f->edge->ctr.name);
		SATPD_EDGE_COUNTERS(X)
#undef X
	}
	fill_paths(f->rail, out);
	while ((conn = satpd_conns_next(dd, &m))) {
		sc = satp_ctl_snapshot_add_conn(out);
		if (!sc)
			return -ENOMEM; /* every mux fits SATP_CTL_MAX_CONNS: only memory runs out
					 */
		fill_conn(d, conn, sc);
	}
	return 0;
}
