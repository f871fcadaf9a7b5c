// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "datapath.h"
#include "xsk.h"

static void fill_counters(struct satp_ctl_counter *arr, uint32_t *n, const struct satpd_counters *c)
{
#define X(name) satp_ctl_add_counter(arr, n, #name, c->name);
	SATPD_COUNTERS(X)
#undef X
}

static void fill_windows(const struct satpd_conn *conn, struct satp_ctl_conn *sc)
{
	unsigned int i, cap = 1u << conn->windows.bits;
	uint32_t key, top;

	for (i = 0; conn->windows.index && i < cap; i++) {
		if (!satpd_windows_top(&conn->windows, i, &key, &top) || key >> 16 != conn->mux)
			continue;
		if (satp_ctl_add_sender(sc, key & 0xffff, top))
			break; /* more senders than the snapshot holds: the first ones are shown */
	}
}

int satpd_snapshot(const struct satpd *d, struct satp_ctl_snapshot *out)
{
	struct satpd_conn *conn = (struct satpd_conn *)&d->conn;
	const struct satpd_conn_config *cc = conn->cfg;
	struct satp_ctl_conn *sc = &out->conns[0];
	struct satpd_remote_view v;
	struct satpd_counters c;

	memset(out, 0, sizeof(*out));
	out->pid = getpid();
	snprintf(out->version, sizeof(out->version), "%s", SATPD_VERSION);
	snprintf(out->dev, sizeof(out->dev), "%s", d->dev_name);
	snprintf(out->rx_path, sizeof(out->rx_path), "%s", d->xdp ? "xdp" : "udp");
	if (d->xdp) {
		snprintf(out->xdp_ifname, sizeof(out->xdp_ifname), "%s", satpd_xdp_ifname(d->xdp));
		out->xsk_queues = satpd_xdp_queue_mask(d->xdp);
	}
	out->started = d->started;
	out->workers = d->xdp ? d->n_workers : 1;
	satpd_counters_sum(d, &c);
	fill_counters(out->counters, &out->n_counters, &c);

	out->n_conns = 1;
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
	sc->remote_learned = conn->remote_learned;
	sc->seq_out = atomic_load(&conn->seq.next);
	/* One connection: its traffic is the daemon's. */
	sc->rx_packets = c.rx_delivered;
	sc->rx_bytes = c.rx_bytes;
	sc->tx_packets = c.tx_packets;
	sc->tx_bytes = c.tx_bytes;
	sc->last_rx = atomic_load(&((struct satpd *)d)->last_rx);
	fill_windows(conn, sc);
	return 0;
}
