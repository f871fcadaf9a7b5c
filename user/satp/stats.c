// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp stats [IFNAME] [--watch [SECONDS]] [--count N]: rates, not totals.
 * Two readings of the same counters show prints (XDP verdicts, per-sender
 * rx and replay drops, the daemon's per-connection rx/tx) SECONDS apart,
 * divided by the time that really passed between them.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse.h"
#include "satp_cmd.h"
#include "state.h"

#define DEFAULT_INTERVAL_S 1.0
/* Shorter intervals measure the reading more than the traffic. */
#define MIN_INTERVAL_S 0.1
#define MAX_INTERVAL_S 3600.0

/* What one reading keeps to subtract from the next. */
struct sample {
	struct satp_xdp_counter counters[SATP_XDP_REASON_MAX];
	unsigned int n_senders;
	struct satp_xdp_view_sender senders[SATP_XDP_WINDOW_SLOTS];
	uint32_t n_conns, cap_conns;
	struct satp_ctl_conn_rates {
		uint16_t mux;
		uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	} * conns; /* as many as the daemon reports */
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: satp stats [IFNAME] [--watch [SECONDS]] [--count N] [--pin-root DIR]\n"
		   "                  [--run-dir DIR] [--socket PATH]\n\n"
		   "Rates (per second) of the counters satp show prints: XDP verdicts, per\n"
		   "sender rx and replay drops, the daemon's per-connection rx and tx.\n"
		   "Without --watch: one report over one second. --watch: a report every\n"
		   "SECONDS (default 1) until interrupted or --count reports.\n");
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec t = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

static void take_conns(const struct satp_daemon *d, struct sample *s)
{
	uint32_t i;

	s->n_conns = 0;
	if (d && d->snap.n_conns > s->cap_conns) {
		struct satp_ctl_conn_rates *r = realloc(s->conns, d->snap.n_conns * sizeof(*r));

		if (!r)
			return; /* no rates this round rather than none at all */
		s->conns = r;
		s->cap_conns = d->snap.n_conns;
	}
	for (i = 0; d && i < d->snap.n_conns; i++) {
		const struct satp_ctl_conn *c = &d->snap.conns[i];

		s->conns[s->n_conns++] = (struct satp_ctl_conn_rates){
		    c->mux, c->rx_packets, c->rx_bytes, c->tx_packets, c->tx_bytes};
	}
}

static void take(const struct satp_iface *f, struct sample *s)
{
	memcpy(s->counters, f->view->counters, sizeof(s->counters));
	s->n_senders = f->view->n_senders;
	memcpy(s->senders, f->view->senders, s->n_senders * sizeof(s->senders[0]));
	take_conns(f->daemon, s);
}

/* A counter that went down (maps re-created, daemon restarted) counts from zero. */
static double rate(uint64_t now, uint64_t before, double dt)
{
	return (double)(now >= before ? now - before : now) / dt;
}

static const struct satp_xdp_view_sender *find_sender(const struct sample *s, uint16_t mux,
						      uint16_t id)
{
	unsigned int i;

	for (i = 0; i < s->n_senders; i++)
		if (s->senders[i].mux == mux && s->senders[i].sender_id == id)
			return &s->senders[i];
	return NULL;
}

static void report_conns(const struct sample *a, const struct sample *b, double dt)
{
	static const struct satp_ctl_conn_rates zero;
	static uint32_t pos[UINT16_MAX + 1]; /* a's connections by mux, position + 1 (0: none) */
	unsigned int i, k;

	if (!b->n_conns)
		return;
	/* Matched by mux in one pass each: there may be 65536 connections. */
	memset(pos, 0, sizeof(pos));
	for (k = 0; k < a->n_conns; k++)
		pos[a->conns[k].mux] = k + 1;
	printf("  %-22s %12s %14s %12s %14s\n", "connection (satpd)", "rx pkt/s", "rx B/s",
	       "tx pkt/s", "tx B/s");
	for (i = 0; i < b->n_conns; i++) {
		const struct satp_ctl_conn_rates *c = &b->conns[i];
		const struct satp_ctl_conn_rates *p =
		    pos[c->mux] ? &a->conns[pos[c->mux] - 1] : &zero;
		char id[24];

		snprintf(id, sizeof(id), "mux %u", c->mux);
		printf("  %-22s %12.1f %14.0f %12.1f %14.0f\n", id,
		       rate(c->rx_packets, p->rx_packets, dt), rate(c->rx_bytes, p->rx_bytes, dt),
		       rate(c->tx_packets, p->tx_packets, dt), rate(c->tx_bytes, p->tx_bytes, dt));
	}
}

static void report_iface(const char *ifname, const struct sample *a, const struct sample *b,
			 double dt)
{
	static const struct satp_xdp_view_sender none;
	unsigned int r, i, shown = 0;

	printf("%s (%.2f s)\n", ifname, dt);
	printf("  %-22s %12s %14s\n", "verdict", "pkt/s", "B/s");
	for (r = 0; r < SATP_XDP_REASON_MAX; r++) {
		double p = rate(b->counters[r].packets, a->counters[r].packets, dt);

		if (p == 0.0)
			continue;
		printf("  %-22s %12.1f %14.0f\n", satp_xdp_reason_names[r], p,
		       rate(b->counters[r].bytes, a->counters[r].bytes, dt));
		shown++;
	}
	if (!shown)
		printf("  (no frames)\n");
	if (b->n_senders) {
		printf("  %-22s %12s %14s %10s\n", "sender (mux:id)", "pkt/s", "B/s", "replay/s");
		for (i = 0; i < b->n_senders; i++) {
			const struct satp_xdp_view_sender *s = &b->senders[i];
			const struct satp_xdp_view_sender *p = find_sender(a, s->mux, s->sender_id);
			char id[24];

			p = p ? p : &none;
			snprintf(id, sizeof(id), "%u:%u", s->mux, s->sender_id);
			printf("  %-22s %12.1f %14.0f %10.1f\n", id,
			       rate(s->stats.rx_packets, p->stats.rx_packets, dt),
			       rate(s->stats.rx_bytes, p->stats.rx_bytes, dt),
			       rate(s->stats.rx_dropped, p->stats.rx_dropped, dt));
		}
	}
	report_conns(a, b, dt);
}

static int parse_interval(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= MIN_INTERVAL_S && v <= MAX_INTERVAL_S))
		return -EINVAL;
	*out = v;
	return 0;
}

struct stats_opts {
	struct satp_state_opts st;
	double interval;
	bool watch;
	unsigned long count; /* 0: until interrupted */
};

/* --watch takes an optional value that may be the next argument ("--watch 2"). */
static int parse_args(int argc, char **argv, struct stats_opts *o)
{
	static const struct option opts[] = {
	    {"watch", optional_argument, NULL, 'w'},
	    {"count", required_argument, NULL, 'c'},
	    {"pin-root", required_argument, NULL, 'p'},
	    {"run-dir", required_argument, NULL, 'r'},
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			o->watch = true;
			if (!optarg && optind < argc && !parse_interval(argv[optind], &o->interval))
				optind++;
			else if (optarg && parse_interval(optarg, &o->interval))
				goto bad_interval;
			break;
		case 'c':
			if (satpd_parse_uint(optarg, ULONG_MAX, &o->count, "--count", NULL, 0) ||
			    !o->count) {
				fprintf(stderr, "satp stats: invalid --count '%s'\n", optarg);
				return SATP_EXIT_USAGE;
			}
			break;
		case 'p':
			o->st.pin_root = optarg;
			break;
		case 'r':
			o->st.run_dir = optarg;
			break;
		case 's':
			o->st.socket = optarg;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return SATP_EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "satp stats: unexpected argument '%s'\n", argv[optind + 1]);
		return SATP_EXIT_USAGE;
	}
	if (optind < argc)
		o->st.ifname = argv[optind];
	if (!o->watch)
		o->count = 1;
	return 0;
bad_interval:
	fprintf(stderr, "satp stats: invalid --watch '%s': seconds, %.1f..%.0f\n", optarg,
		MIN_INTERVAL_S, MAX_INTERVAL_S);
	return SATP_EXIT_USAGE;
}

/* The newest sample becomes the one to subtract; its arrays are not shared, only moved. */
static void swap(struct sample *a, struct sample *b)
{
	struct sample t = *a;

	*a = *b;
	*b = t;
}

/* Samples: one per pinned interface, then one per daemon shown on its own (socket path). */
static int watch(struct satp_state *st, const struct stats_opts *o, struct sample *prev,
		 struct sample *cur)
{
	unsigned int i, k, nif = st->n_ifs;
	unsigned long n;
	double t0, t1;

	for (i = 0; i < nif; i++)
		take(&st->ifs[i], &prev[i]);
	for (k = 0; k < st->n_daemons; k++)
		take_conns(&st->daemons[k], &prev[nif + k]);
	t0 = now_s();
	for (n = 0; !o->count || n < o->count; n++) {
		sleep_s(o->interval);
		satp_state_refresh(st);
		t1 = now_s();
		for (i = 0; i < nif; i++) {
			if (st->ifs[i].err)
				continue;
			take(&st->ifs[i], &cur[i]);
			report_iface(st->ifs[i].ifname, &prev[i], &cur[i], t1 - t0);
			swap(&prev[i], &cur[i]);
		}
		for (k = 0; k < st->n_daemons; k++) {
			const struct satp_daemon *d = &st->daemons[k];

			if (d->err || !satp_state_show_unmatched(st, d))
				continue;
			take_conns(d, &cur[nif + k]);
			printf("%s (satpd, no XDP) (%.2f s)\n", d->snap.dev, t1 - t0);
			report_conns(&prev[nif + k], &cur[nif + k], t1 - t0);
			swap(&prev[nif + k], &cur[nif + k]);
		}
		t0 = t1;
		fflush(stdout);
	}
	return SATP_EXIT_OK;
}

/* Something to report: a readable pinned interface or a daemon of its own. */
static bool anything(const struct satp_state *st)
{
	unsigned int i;

	for (i = 0; i < st->n_ifs; i++)
		if (!st->ifs[i].err)
			return true;
	for (i = 0; i < st->n_daemons; i++)
		if (!st->daemons[i].err && satp_state_show_unmatched(st, &st->daemons[i]))
			return true;
	return false;
}

int cmd_stats(int argc, char **argv)
{
	static struct satp_state st;
	struct stats_opts o = {.interval = DEFAULT_INTERVAL_S};
	struct sample *prev = NULL, *cur = NULL;
	unsigned int i;
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret < 0 ? SATP_EXIT_OK : ret;
	if (satp_state_read(&o.st, &st, "satp stats")) {
		ret = SATP_EXIT_FAIL;
		goto out;
	}
	for (i = 0; i < st.n_ifs; i++)
		if (st.ifs[i].err && !st.ifs[i].adopted &&
		    (st.ifs[i].err != -ENOENT || !anything(&st))) {
			fprintf(stderr,
				"satp stats: cannot read the maps pinned for %s under %s: %s\n",
				st.ifs[i].ifname, st.ifs[i].pin_root, strerror(-st.ifs[i].err));
			ret = SATP_EXIT_FAIL;
			goto out;
		}
	if (!anything(&st)) {
		fprintf(
		    stderr,
		    "satp stats: nothing pinned under %s/satpd/ and no satpd answers under %s\n",
		    st.pin_root, st.run_dir);
		ret = SATP_EXIT_FAIL;
		goto out;
	}
	prev = calloc(st.n_ifs + st.n_daemons, sizeof(*prev));
	cur = calloc(st.n_ifs + st.n_daemons, sizeof(*cur));
	if (!prev || !cur) {
		ret = SATP_EXIT_FAIL;
		goto out;
	}
	ret = watch(&st, &o, prev, cur);
out:
	for (i = 0; prev && cur && i < st.n_ifs + st.n_daemons; i++) {
		free(prev[i].conns);
		free(cur[i].conns);
	}
	free(prev);
	free(cur);
	satp_state_free(&st);
	return ret;
}
