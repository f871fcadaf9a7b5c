// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Prometheus renderer (metrics_text.h). Families are written whole, HELP
 * and TYPE once each, because the format requires a family's samples to be
 * contiguous.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "metrics_text.h"
#include "textbuf.h"
#include "xdp_query.h"

static void family(struct satp_text *o, const char *name, const char *type, const char *help)
{
	satp_text_put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * Daemon-wide values beside its counters that are a state, not a count (they
 * fall as well as rise): gauges, without Prometheus' _total.
 */
static bool daemon_is_gauge(const char *name)
{
	return !strcmp(name, SATP_CTL_S_CONNECTIONS);
}

/* A counter name as a metric-name part: [a-z0-9_], anything else becomes '_'. */
static void metric_part(const char *in, char *out, size_t cap)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < cap; i++) {
		char c = in[i];

		out[i] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c
			 : (c >= 'A' && c <= 'Z')			  ? (char)(c - 'A' + 'a')
									  : '_';
	}
	out[i] = '\0';
}

/* Label values: escape backslash, quote and newline as the format asks. */
static void label_value(const char *in, char *out, size_t cap)
{
	size_t j = 0;

	for (; *in && j + 2 < cap; in++) {
		if (*in == '\\' || *in == '"') {
			out[j++] = '\\';
			out[j++] = *in;
		} else if (*in == '\n') {
			out[j++] = '\\';
			out[j++] = 'n';
		} else {
			out[j++] = *in;
		}
	}
	out[j] = '\0';
}

/* 1 when the default --xdp-mode fell back to the UDP sockets; the reason is a label. */
static void render_xdp_mode(struct satp_text *o, const struct satp_ctl_snapshot *s)
{
	char a[3][16], why[2 * SATP_CTL_REASON_MAX];

	if (!s->xdp_mode_requested[0])
		return; /* an older daemon */
	family(o, "satpd_xdp_fallback", "gauge",
	       "1 when satpd runs on another data path than the --xdp-mode asked for.");
	label_value(s->xdp_mode_requested, a[0], sizeof(a[0]));
	label_value(s->xdp_mode_obtained, a[1], sizeof(a[1]));
	label_value(s->xdp_mode_explicit ? "yes" : "no", a[2], sizeof(a[2]));
	label_value(s->xdp_fallback, why, sizeof(why));
	satp_text_put(o,
		      "satpd_xdp_fallback{requested=\"%s\",explicit=\"%s\",obtained=\"%s\","
		      "reason=\"%s\"} %d\n",
		      a[0], a[2], a[1], why, s->xdp_fallback[0] ? 1 : 0);
}

static void render_daemon(struct satp_text *o, const struct satp_ctl_snapshot *s)
{
	char a[4][2 * SATP_CTL_NAME_MAX], name[2 * SATP_CTL_NAME_MAX];
	uint32_t i;

	family(o, "satpd_info", "gauge", "satpd's version, device and receive path.");
	label_value(s->version, a[0], sizeof(a[0]));
	label_value(s->dev, a[1], sizeof(a[1]));
	label_value(s->rx_path, a[2], sizeof(a[2]));
	label_value(s->xdp_ifname, a[3], sizeof(a[3]));
	satp_text_put(o,
		      "satpd_info{version=\"%s\",dev=\"%s\",rx_path=\"%s\",xdp_ifname=\"%s\"} 1\n",
		      a[0], a[1], a[2], a[3]);
	render_xdp_mode(o, s);
	family(o, "satpd_start_time_seconds", "gauge", "When satpd started, Unix time.");
	satp_text_put(o, "satpd_start_time_seconds %" PRId64 "\n", s->started);
	for (i = 0; i < s->n_counters && i < SATP_CTL_COUNTERS_MAX; i++) {
		const char *sfx = daemon_is_gauge(s->counters[i].name) ? "" : "_total";

		metric_part(s->counters[i].name, name, sizeof(name));
		satp_text_put(o, "# HELP satpd_daemon_%s%s satpd %s %s.\n", name, sfx,
			      *sfx ? "counter" : "state", name);
		satp_text_put(o, "# TYPE satpd_daemon_%s%s %s\n", name, sfx,
			      *sfx ? "counter" : "gauge");
		satp_text_put(o, "satpd_daemon_%s%s %" PRIu64 "\n", name, sfx,
			      s->counters[i].value);
	}
}

#define CONN_FIELD(f) offsetof(struct satp_ctl_conn, f)

static const struct {
	const char *name, *type, *help;
	size_t off;
	bool is_signed;
} conn_metrics[] = {
    {"satpd_conn_rx_packets_total", "counter", "Authenticated datagrams received.",
     CONN_FIELD(rx_packets), false},
    {"satpd_conn_rx_bytes_total", "counter", "Bytes of authenticated datagrams received.",
     CONN_FIELD(rx_bytes), false},
    {"satpd_conn_tx_packets_total", "counter", "Datagrams sent.", CONN_FIELD(tx_packets), false},
    {"satpd_conn_tx_bytes_total", "counter", "Bytes of datagrams sent.", CONN_FIELD(tx_bytes),
     false},
    {"satpd_conn_seq_out", "gauge", "Next sequence number to send.", CONN_FIELD(seq_out), false},
    {"satpd_conn_last_rx_timestamp_seconds", "gauge",
     "Unix time of the last authenticated datagram (0: none).", CONN_FIELD(last_rx), true},
};

/*
 * Per-connection values the daemon reports beside its counters that are a
 * state, not a count: exported as gauges, without Prometheus' _total.
 */
static bool conn_is_gauge(const char *name)
{
	static const char *const gauges[] = {SATP_CTL_CONN_STATES};
	size_t i;

	for (i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
		if (!strcmp(name, gauges[i]))
			return true;
	return false;
}

static void render_conns(struct satp_text *o, const struct satp_ctl_snapshot *s)
{
	char name[2 * SATP_CTL_NAME_MAX];
	uint32_t i, j, k, n = s->n_conns < SATP_CTL_MAX_CONNS ? s->n_conns : SATP_CTL_MAX_CONNS;

	for (k = 0; k < sizeof(conn_metrics) / sizeof(conn_metrics[0]); k++) {
		family(o, conn_metrics[k].name, conn_metrics[k].type, conn_metrics[k].help);
		for (i = 0; i < n; i++) {
			const char *p = (const char *)&s->conns[i] + conn_metrics[k].off;

			if (conn_metrics[k].is_signed)
				satp_text_put(o, "%s{mux=\"%u\"} %" PRId64 "\n",
					      conn_metrics[k].name, s->conns[i].mux,
					      *(const int64_t *)(const void *)p);
			else
				satp_text_put(o, "%s{mux=\"%u\"} %" PRIu64 "\n",
					      conn_metrics[k].name, s->conns[i].mux,
					      *(const uint64_t *)(const void *)p);
		}
	}
	family(o, "satpd_conn_window_top", "gauge",
	       "Highest committed sequence number of a sender, as satpd reports it.");
	for (i = 0; i < n; i++)
		for (j = 0; j < s->conns[i].n_senders && j < SATP_CTL_SENDERS_MAX; j++)
			satp_text_put(o, "satpd_conn_window_top{mux=\"%u\",sender=\"%u\"} %u\n",
				      s->conns[i].mux, s->conns[i].senders[j].id,
				      s->conns[i].senders[j].window_top);
	/* per-connection daemon counters: one family per name, in first-seen order */
	for (i = 0; i < n; i++) {
		for (j = 0; j < s->conns[i].n_counters && j < SATP_CTL_COUNTERS_MAX; j++) {
			const char *cname = s->conns[i].counters[j].name;
			const char *sfx;
			uint32_t a, b;
			bool seen = false;

			for (a = 0; a < i && !seen; a++)
				for (b = 0; b < s->conns[a].n_counters && !seen; b++)
					seen = !strcmp(s->conns[a].counters[b].name, cname);
			if (seen)
				continue;
			metric_part(cname, name, sizeof(name));
			sfx = conn_is_gauge(cname) ? "" : "_total";
			satp_text_put(o, "# HELP satpd_conn_%s%s Connection %s %s.\n", name, sfx,
				      *sfx ? "counter" : "state", name);
			satp_text_put(o, "# TYPE satpd_conn_%s%s %s\n", name, sfx,
				      *sfx ? "counter" : "gauge");
			for (a = i; a < n; a++)
				for (b = 0; b < s->conns[a].n_counters; b++)
					if (!strcmp(s->conns[a].counters[b].name, cname))
						satp_text_put(
						    o, "satpd_conn_%s%s{mux=\"%u\"} %" PRIu64 "\n",
						    name, sfx, s->conns[a].mux,
						    s->conns[a].counters[b].value);
		}
	}
}

#define PATH_FIELD(f) offsetof(struct satp_ctl_path, f)

static const struct {
	const char *name, *type, *help;
	size_t off;
} path_metrics[] = {
    {"satpd_rail_path_rx_total", "counter",
     "Copies that came by a RAIL path (reached satpd, or dropped in XDP as committed already: "
     "those are counted pre-auth).",
     PATH_FIELD(rx)},
    {"satpd_rail_path_first_total", "counter", "Copies of a RAIL path that were delivered first.",
     PATH_FIELD(first)},
    {"satpd_rail_path_duplicates_total", "counter",
     "Copies of a RAIL path dropped as another path's duplicate (satpd, or XDP pre-auth).",
     PATH_FIELD(dups)},
    {"satpd_rail_path_xdp_dropped_total", "counter",
     "Pre-auth: of the duplicates, those satp_rx dropped in XDP (judged by source tuple).",
     PATH_FIELD(xdp_dropped)},
    {"satpd_rail_path_tx_total", "counter", "Copies sent on a RAIL path.", PATH_FIELD(tx)},
    {"satpd_rail_path_last_seen_timestamp_seconds", "gauge",
     "Unix time of a RAIL path's last authenticated copy (0: none).", PATH_FIELD(last_seen)},
    {"satpd_rail_path_xdp_last_seen_timestamp_seconds", "gauge",
     "Pre-auth: Unix time of the last copy satp_rx judged on a RAIL path (0: none).",
     PATH_FIELD(xdp_last_seen)},
};

/* RAIL: a row per path, labelled so that the bad link stands out in a graph. */
static void render_paths(struct satp_text *o, const struct satp_ctl_snapshot *s)
{
	uint32_t i, k, n = s->n_paths < SATP_CTL_PATHS_MAX ? s->n_paths : SATP_CTL_PATHS_MAX;
	char remote[2 * SATP_CTL_ADDR_MAX];

	for (k = 0; n && k < sizeof(path_metrics) / sizeof(path_metrics[0]); k++) {
		family(o, path_metrics[k].name, path_metrics[k].type, path_metrics[k].help);
		for (i = 0; i < n; i++) {
			const char *p = (const char *)&s->paths[i] + path_metrics[k].off;

			label_value(s->paths[i].remote, remote, sizeof(remote));
			satp_text_put(o, "%s{path=\"%u\",local_port=\"%u\",remote=\"%s\"} ",
				      path_metrics[k].name, i, s->paths[i].local_port, remote);
			if (path_metrics[k].off == PATH_FIELD(last_seen) ||
			    path_metrics[k].off == PATH_FIELD(xdp_last_seen))
				satp_text_put(o, "%" PRId64 "\n",
					      *(const int64_t *)(const void *)p);
			else
				satp_text_put(o, "%" PRIu64 "\n",
					      *(const uint64_t *)(const void *)p);
		}
	}
}

static void render_xdp_reasons(struct satp_text *o, const struct satp_xdp_view *v, const char *ifn)
{
	unsigned int r;

	family(o, "satpd_xdp_packets_total", "counter", "Frames satp_rx judged, by verdict.");
	for (r = 0; r < SATP_XDP_REASON_MAX; r++)
		satp_text_put(o, "satpd_xdp_packets_total{ifname=\"%s\",reason=\"%s\"} %llu\n", ifn,
			      satp_xdp_reason_names[r], (unsigned long long)v->counters[r].packets);
	family(o, "satpd_xdp_bytes_total", "counter",
	       "Bytes of frames satp_rx judged, by verdict.");
	for (r = 0; r < SATP_XDP_REASON_MAX; r++)
		satp_text_put(o, "satpd_xdp_bytes_total{ifname=\"%s\",reason=\"%s\"} %llu\n", ifn,
			      satp_xdp_reason_names[r], (unsigned long long)v->counters[r].bytes);
	family(o, "satpd_xdp_drops_total", "counter", "SATP datagrams satp_rx dropped, by reason.");
	for (r = 0; r < SATP_XDP_REASON_MAX; r++)
		if (!strncmp(satp_xdp_reason_names[r], "drop-", 5))
			satp_text_put(o,
				      "satpd_xdp_drops_total{ifname=\"%s\",reason=\"%s\"} %llu\n",
				      ifn, satp_xdp_reason_names[r] + 5,
				      (unsigned long long)v->counters[r].packets);
}

static void render_senders(struct satp_text *o, const struct satp_xdp_view *v, const char *ifn)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
	    {"satpd_rx_packets_total", "counter",
	     "Pre-auth: datagrams XDP handed to satpd for a (mux, sender) verified once, before "
	     "their tag is checked."},
	    {"satpd_rx_bytes_total", "counter", "Pre-auth: SATP bytes of those datagrams."},
	    {"satpd_rx_replay_drops_total", "counter",
	     "Pre-auth: datagrams XDP dropped as replays for a (mux, sender) verified once."},
	    {"satpd_window_top", "gauge", "Highest committed sequence number of a sender."},
	};
	unsigned int f, i;

	for (f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		family(o, fam[f].name, fam[f].type, fam[f].help);
		for (i = 0; i < v->n_senders; i++) {
			const struct satp_xdp_view_sender *s = &v->senders[i];
			uint64_t val = f == 0	? s->stats.rx_packets
				       : f == 1 ? s->stats.rx_bytes
				       : f == 2 ? s->stats.rx_dropped
						: s->top;

			if (f == 3 && !s->valid)
				continue;
			satp_text_put(o, "%s{ifname=\"%s\",mux=\"%u\",sender=\"%u\"} %llu\n",
				      fam[f].name, ifn, s->mux, s->sender_id,
				      (unsigned long long)val);
		}
	}
}

static void render_xdp(struct satp_text *o, const struct satp_xdp_view *v)
{
	char ifn[2 * IFNAMSIZ];

	label_value(v->ifname, ifn, sizeof(ifn));
	family(o, "satpd_xdp_attached", "gauge",
	       "1 when the kernel runs the satp_rx the pinned maps name.");
	satp_text_put(o, "satpd_xdp_attached{ifname=\"%s\",mode=\"%s\",dispatcher=\"%s\"} %d\n",
		      ifn, satp_xdp_mode_name((enum satp_xdp_attach_mode)v->cfg.attach_mode),
		      v->cfg.attach_flags & SATP_XDP_ATTACH_DISPATCHER ? "yes" : "no",
		      satp_xdp_view_attached(v));
	if (v->n_xsks >= 0) {
		family(o, "satpd_xdp_sockets", "gauge", "AF_XDP sockets bound to the interface.");
		satp_text_put(o, "satpd_xdp_sockets{ifname=\"%s\"} %d\n", ifn, v->n_xsks);
	}
	render_xdp_reasons(o, v, ifn);
	render_senders(o, v, ifn);
}

int satp_metrics_render(const struct satp_ctl_snapshot *snap, const struct satp_xdp_view *view,
			char *buf, size_t len)
{
	struct satp_text o = SATP_TEXT(buf, len);

	if (!len)
		return -ENOSPC;
	buf[0] = '\0';
	family(&o, "satpd_up", "gauge", "1 when satpd answered for this scrape.");
	satp_text_put(&o, "satpd_up %d\n", snap ? 1 : 0);
	if (snap) {
		render_daemon(&o, snap);
		render_conns(&o, snap);
		render_paths(&o, snap);
	}
	if (view)
		render_xdp(&o, view);
	return satp_text_end(&o);
}
