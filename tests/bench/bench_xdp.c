// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_xdp: what satp_rx costs per packet.
 *
 *   bench_xdp testrun [--repeat N]   (N >= 100000: see reason_share_ok)
 *       ns per packet under BPF_PROG_TEST_RUN (repeat N, best of 5 rounds) for
 *       valid SATP (with and without a replay window to read), invalid SATP
 *       (unknown mux, too short, replayed), handshakes (mux 0xFFFF) from one
 *       source over and within its budget, and non-SATP UDP and TCP, beside
 *       xdp_drop_all on the same frame, the floor of any XDP program. Valid
 *       SATP is timed with an AF_XDP socket (bound to lo, queue 0) in the
 *       xsks map, so that its row ends in XDP_REDIRECT as on a live
 *       interface, and once without one (the XDP_DROP fallback). A test run
 *       returns the verdict without doing the redirect, so one more row runs
 *       live (BPF_F_TEST_XDP_LIVE_FRAMES): redirected, copied into the
 *       socket's UMEM and received. Every row checks the verdict and the
 *       counter it names, the live row that every frame was received (a row
 *       that timed something else fails).
 *   bench_xdp flood --ifname IF --prog satp|drop --seconds S [--pin-root DIR]
 *                   [--ready FILE] [--mode native|skb]
 *       attach one program, switch the interface to threaded NAPI (so XDP runs
 *       in a kthread whose CPU time can be read, on the core the sender does
 *       not use), wait 1 s for the flood to settle, then count packets for S
 *       seconds (satp from its drop counters: unknown mux, or for a flood of
 *       handshakes over budget drop-hs-ratelimit or -ceiling; drop from its own) and the
 *       NAPI thread's CPU time over the same interval. Reports the drop rate
 *       and the capacity: packets per second of NAPI CPU (what one core could
 *       drop when the sender is the bottleneck). scripts/bench-xdp.sh runs
 *       the flood from another namespace.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <sys/mman.h>
#include <xdp/xsk.h>

#include "satp_xdp_loader.h"
#include "xdp_drop.skel.h"
#include "../tools/satp_frame.h"

#define ROUNDS		     5 /* best of: the machine is shared, single runs swing */
#define REPEAT_DEFAULT	     2000000
#define REPEAT_MIN	     100000 /* keeps a budget's burst under 1% of a row (reason_share_ok) */
#define REASON_SHARE_MIN_PCT 99
#define PORT		     4444
#define MUX		     7
#define SLOT		     1
#define SETTLE_US	     1000000 /* let the flood and NAPI reach a steady state */
#define XSK_DEV		     "lo"    /* any device binds a copy-mode socket; lo is in every netns */
#define XSK_QUEUE	     0	     /* a test run's rx_queue_index */
#define XSK_FRAMES	     XSK_RING_PROD__DEFAULT_NUM_DESCS /* all lent to the fill ring */
#define LIVE_FRAMES	     XSK_RING_CONS__DEFAULT_NUM_DESCS /* a live run: what the rx ring holds */
#define LIVE_ROUNDS	     50 /* best of: one run is short (2048 frames) */

static const uint8_t local4[4] = {10, 99, 0, 2};

struct bench_case {
	const char *name;
	struct satp_frame_spec spec;
	uint32_t hs_pps;  /* handshake budget and burst (source, ceiling) in the case; 0: default */
	uint32_t unv_pps; /* unverified-sender budget and burst in the case; 0: the default */
	bool xsk;	  /* an AF_XDP socket in the xsks map during the case */
	uint32_t verdict; /* the XDP action the row must end in: what it times */
	enum satp_xdp_reason reason; /* ... and the counter its packets must bump */
};

/* A copy-mode AF_XDP socket that only fills the xsks map: nothing reads it. */
struct bench_xsk {
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *sock;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq, rx;
};

static struct satp_frame_spec base(uint16_t mux, uint16_t sid, uint32_t seq, size_t len)
{
	return satp_frame_v4(local4, PORT, mux, sid, seq, len);
}

/* Every free UMEM frame to the fill ring: frames come back through drain(). */
static void fill_all(struct bench_xsk *s)
{
	__u32 idx, i, n = XSK_RING_PROD__DEFAULT_NUM_DESCS;

	if (xsk_ring_prod__reserve(&s->fq, n, &idx) != n)
		return;
	for (i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&s->fq, idx + i) =
		    (__u64)i * XSK_UMEM__DEFAULT_FRAME_SIZE;
	xsk_ring_prod__submit(&s->fq, n);
}

/* Every frame the socket received back to the fill ring; how many there were. */
static __u32 recycle(struct bench_xsk *s)
{
	__u32 ri, fi, n, i, all = 0;

	while ((n = xsk_ring_cons__peek(&s->rx, XSK_RING_CONS__DEFAULT_NUM_DESCS, &ri))) {
		if (xsk_ring_prod__reserve(&s->fq, n, &fi) != n)
			break; /* cannot be: the fill ring lent them out */
		for (i = 0; i < n; i++)
			*xsk_ring_prod__fill_addr(&s->fq, fi + i) =
			    xsk_ring_cons__rx_desc(&s->rx, ri + i)->addr;
		xsk_ring_prod__submit(&s->fq, n);
		xsk_ring_cons__release(&s->rx, n);
		all += n;
	}
	return all;
}

/*
 * A live test run (BPF_F_TEST_XDP_LIVE_FRAMES, the frame arriving on lo queue
 * 0): the redirect is done and the frame copied into the socket's UMEM. A run
 * is as many frames as the fill and rx rings hold, so that every one can be
 * delivered with nobody reading meanwhile; the best ns per packet of
 * LIVE_ROUNDS runs, each of which must have delivered all its frames to s
 * (NULL: a program that redirects nothing).
 */
static double run_live(int prog_fd, struct bench_xsk *s, const uint8_t *frame, size_t len)
{
	struct xdp_md ctx = {.data_end = (__u32)len,
			     .ingress_ifindex = if_nametoindex(XSK_DEV),
			     .rx_queue_index = XSK_QUEUE};
	double best = 0;
	__u32 got;
	int i;

	for (i = 0; i < LIVE_ROUNDS; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame, .data_size_in = (__u32)len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = LIVE_FRAMES,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

		if (s)
			recycle(s);
		if (bpf_prog_test_run_opts(prog_fd, &t))
			return -errno;
		got = s ? recycle(s) : LIVE_FRAMES;
		if (got != LIVE_FRAMES) {
			fprintf(stderr,
				"bench_xdp: live run: the socket received %u of %u frames\n", got,
				LIVE_FRAMES);
			return -EPROTO;
		}
		if (!i || t.duration < best)
			best = t.duration;
	}
	return best;
}

static int xsk_bind(struct bench_xsk *s)
{
	struct xsk_socket_config cfg = {
	    .rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
	    .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
	    .bind_flags = XDP_COPY,
	};
	size_t size = (size_t)XSK_FRAMES * XSK_UMEM__DEFAULT_FRAME_SIZE;
	int err;

	s->area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->area == MAP_FAILED) {
		s->area = NULL;
		return -errno;
	}
	err = xsk_umem__create(&s->umem, s->area, size, &s->fq, &s->cq, NULL);
	if (!err)
		err = xsk_socket__create(&s->sock, XSK_DEV, XSK_QUEUE, s->umem, &s->rx, NULL, &cfg);
	if (!err)
		fill_all(s);
	return err;
}

static void xsk_unbind(struct bench_xsk *s)
{
	xsk_socket__delete(s->sock);
	xsk_umem__delete(s->umem);
	if (s->area)
		munmap(s->area, (size_t)XSK_FRAMES * XSK_UMEM__DEFAULT_FRAME_SIZE);
}

/*
 * The first row again, the redirect done: the frame copied into the UMEM of
 * the socket (an XSK in copy mode, as satpd's on veth). A live run has costs
 * of its own (a frame from a page pool per packet): xdp_drop's column is its
 * live run, the floor of this row.
 */
static int live_row(struct satp_xdp *x, struct bench_xsk *s, const struct bench_case *c,
		    struct xdp_drop_bpf *drop, uint8_t *frame, size_t size)
{
	size_t len = satp_frame_build(&c->spec, frame, size);
	double ns, floor_ns;
	int err;

	err = satp_xdp_set_unverified_budget(x, c->unv_pps, c->unv_pps);
	err = err ? err : satp_xdp_register_xsk(x, XSK_QUEUE, xsk_socket__fd(s->sock));
	if (err)
		return err;
	ns = run_live(satp_xdp_prog_fd(x), s, frame, len);
	floor_ns = run_live(bpf_program__fd(drop->progs.xdp_drop_all), NULL, frame, len);
	if (ns < 0 || floor_ns < 0)
		return ns < 0 ? (int)ns : (int)floor_ns;
	printf("  %-38s %-18s %10.1f %10.1f\n", "valid SATP, no window, live, to AF_XDP",
	       "copied into UMEM", ns, floor_ns);
	return 0;
}

/* Best ns per packet of ROUNDS runs; -EPROTO when a run ends in another verdict. */
static double run_best(int prog_fd, const uint8_t *frame, size_t len, unsigned int repeat,
		       uint32_t verdict)
{
	uint8_t out[SATP_FRAME_MAX + 256];
	double best = 0;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame, .data_size_in = (__u32)len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

		if (bpf_prog_test_run_opts(prog_fd, &t))
			return -errno;
		if (t.retval != verdict) {
			fprintf(stderr, "bench_xdp: verdict %u, not %u\n", t.retval, verdict);
			return -EPROTO;
		}
		if (!i || t.duration < best)
			best = t.duration;
	}
	return best;
}

/* The packets counted under one reason so far, and under all of them. */
static int reason_count(struct satp_xdp *x, enum satp_xdp_reason r, uint64_t *n, uint64_t *all)
{
	struct satp_xdp_counter c[SATP_XDP_REASON_MAX];
	int i, err;

	err = satp_xdp_read_counters(x, c);
	if (err)
		return err;
	*n = c[r].packets;
	for (*all = 0, i = 0; i < SATP_XDP_REASON_MAX; i++)
		*all += c[i].packets;
	return 0;
}

/*
 * Did the row time what it names? Every packet of the ROUNDS runs is counted,
 * and all but a budget's burst and refill under the row's reason: the bursts
 * are at most SATP_HS_CEILING_BURST (500), the refill at most 5000/s over a
 * fraction of a second, both under 1% of REPEAT_MIN * ROUNDS packets.
 */
static bool reason_share_ok(uint64_t n, uint64_t all, unsigned int repeat)
{
	return all == (uint64_t)repeat * ROUNDS && n * 100 >= all * REASON_SHARE_MIN_PCT;
}

/* Why a row ended in another verdict: the counters satp_rx bumped so far. */
static void print_reasons(struct satp_xdp *x)
{
	struct satp_xdp_counter c[SATP_XDP_REASON_MAX];
	int i;

	if (satp_xdp_read_counters(x, c))
		return;
	for (i = 0; i < SATP_XDP_REASON_MAX; i++)
		if (c[i].packets)
			fprintf(stderr, "  satp_rx so far: %s %llu\n", satp_xdp_reason_names[i],
				(unsigned long long)c[i].packets);
}

static const char *verdict_name(uint32_t v)
{
	switch (v) {
	case XDP_DROP:
		return "XDP_DROP";
	case XDP_PASS:
		return "XDP_PASS";
	case XDP_REDIRECT:
		return "XDP_REDIRECT";
	default:
		return "?";
	}
}

static int seed(struct satp_xdp *x)
{
	struct satp_window *w = &satp_xdp_windows(x)[SLOT];
	int err = 0;

	err |= satp_xdp_set_port(x, PORT, true);
	err |= satp_xdp_set_addr(x, AF_INET, local4, true);
	err |= satp_xdp_set_conn(x, MUX, SATP_TAG_DEFAULT, 64);
	memset(w, 0, sizeof(*w));
	w->top = 1000;
	w->size = 64;
	w->flags = SATP_WINDOW_VALID;
	w->bits[satp_window_word(1000)] |= satp_window_mask(1000);
	err |= satp_xdp_bind_window(x, MUX, 1, SLOT);
	return err;
}

static int cmd_testrun(unsigned int repeat)
{
	struct satp_frame_spec tcp = base(MUX, 9, 1, 72), udp = base(MUX, 9, 1, 72);
	struct bench_case cases[] = {
	    /* a budget no repeat loop exhausts: the cost of passing one */
	    {"valid SATP, no window, to AF_XDP", base(MUX, 9, 1, 72), 0, SATP_XDP_HS_PPS_MAX, true,
	     XDP_REDIRECT, SATP_XDP_REDIRECTED},
	    {"valid SATP, no window, no socket", base(MUX, 9, 1, 72), 0, SATP_XDP_HS_PPS_MAX, false,
	     XDP_DROP, SATP_XDP_DROP_NO_SOCKET},
	    /* after the burst every run is over the connection's budget */
	    {"forged sender id, over budget", base(MUX, 9, 1, 72), 0, 0, true, XDP_DROP,
	     SATP_XDP_DROP_UNVERIFIED},
	    {"valid SATP, window read, to AF_XDP", base(MUX, 1, 1001, 72), 0, 0, true, XDP_REDIRECT,
	     SATP_XDP_REDIRECTED},
	    {"valid SATP, window read, no socket", base(MUX, 1, 1001, 72), 0, 0, false, XDP_DROP,
	     SATP_XDP_DROP_NO_SOCKET},
	    {"invalid SATP: unknown mux", base(MUX + 1, 1, 1, 72), 0, 0, true, XDP_DROP,
	     SATP_XDP_DROP_UNKNOWN_MUX},
	    {"invalid SATP: too short", base(MUX, 1, 1, 12), 0, 0, true, XDP_DROP,
	     SATP_XDP_DROP_TOO_SHORT},
	    {"invalid SATP: replayed seq", base(MUX, 1, 1000, 72), 0, 0, true, XDP_DROP,
	     SATP_XDP_DROP_REPLAY},
	    /* one source: after its burst and the ceiling's shared half every run is over */
	    {"handshake, over budget (mux 0xFFFF)", base(SATP_HS_MUX, 0, 0, 152), 0, 0, true,
	     XDP_DROP, SATP_XDP_DROP_HS_RATELIMIT},
	    {"handshake, within budget", base(SATP_HS_MUX, 0, 0, 152), SATP_XDP_HS_PPS_MAX, 0, true,
	     XDP_PASS, SATP_XDP_PASS_HANDSHAKE},
	    {"non-SATP: UDP to another port", udp, 0, 0, true, XDP_PASS, SATP_XDP_PASS_NOT_SATP},
	    {"non-SATP: TCP", tcp, 0, 0, true, XDP_PASS, SATP_XDP_PASS_NOT_UDP},
	};
	struct satp_xdp_opts o = {.no_pin = true};
	struct xdp_drop_bpf *drop = NULL;
	struct bench_xsk xsk = {0};
	struct satp_xdp *x = NULL;
	uint8_t frame[SATP_FRAME_MAX];
	size_t i, len;
	int err;

	cases[10].spec.dport = 53;
	cases[11].spec.proto = 6;
	err = satp_xdp_open(&o, &x);
	if (err)
		goto out;
	err = seed(x);
	drop = xdp_drop_bpf__open_and_load();
	if (err || !drop) {
		err = err ? err : -errno;
		goto out;
	}
	err = xsk_bind(&xsk);
	if (err) {
		fprintf(stderr, "bench_xdp: an AF_XDP socket on %s: %s\n", XSK_DEV, strerror(-err));
		goto out;
	}
	printf("BPF_PROG_TEST_RUN, repeat %u, best of %d rounds, ns per packet. to AF_XDP: an\n"
	       "AF_XDP socket in the xsks map, the verdict only (a test run does not redirect);\n"
	       "live: BPF_F_TEST_XDP_LIVE_FRAMES, redirected and copied into the socket's UMEM,\n"
	       "best of %d runs of %u frames, every one received:\n",
	       repeat, ROUNDS, LIVE_ROUNDS, LIVE_FRAMES);
	printf("  %-38s %-18s %10s %10s\n", "frame", "verdict (counter)", "satp_rx", "xdp_drop");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bench_case *c = &cases[i];
		uint64_t n0 = 0, n1 = 0, all0 = 0, all1 = 0;
		double ns, floor_ns;

		len = satp_frame_build(&c->spec, frame, sizeof(frame));
		/* A raised budget gets a burst as large: bpf_ktime_get_coarse_ns() stands
		 * still for a tick, so the rate alone refills nothing within a run. */
		err = satp_xdp_set_hs_ratelimit(x, c->hs_pps, c->hs_pps);
		err = err ? err : satp_xdp_set_hs_ceiling(x, c->hs_pps, c->hs_pps);
		err = err ? err : satp_xdp_set_unverified_budget(x, c->unv_pps, c->unv_pps);
		err = err      ? err
		      : c->xsk ? satp_xdp_register_xsk(x, XSK_QUEUE, xsk_socket__fd(xsk.sock))
			       : satp_xdp_unregister_xsk(x, XSK_QUEUE);
		if (err)
			goto out;
		err = reason_count(x, c->reason, &n0, &all0);
		ns = err ? err : run_best(satp_xdp_prog_fd(x), frame, len, repeat, c->verdict);
		err = err ? err : reason_count(x, c->reason, &n1, &all1);
		if (!err && ns >= 0 && !reason_share_ok(n1 - n0, all1 - all0, repeat))
			ns = -EPROTO;
		if (ns == -EPROTO) {
			fprintf(stderr, "bench_xdp: %llu of %llu packets counted as %s\n",
				(unsigned long long)(n1 - n0), (unsigned long long)(all1 - all0),
				satp_xdp_reason_names[c->reason]);
			print_reasons(x);
		}
		floor_ns = run_best(bpf_program__fd(drop->progs.xdp_drop_all), frame, len, repeat,
				    XDP_DROP);
		if (ns < 0 || floor_ns < 0) {
			err = ns < 0 ? (int)ns : (int)floor_ns;
			fprintf(stderr, "bench_xdp: row '%s' (%s expected)\n", c->name,
				verdict_name(c->verdict));
			goto out;
		}
		printf("  %-38s %-18s %10.1f %10.1f\n", c->name, satp_xdp_reason_names[c->reason],
		       ns, floor_ns);
	}
	err = live_row(x, &xsk, &cases[0], drop, frame, sizeof(frame));
out:
	if (err)
		fprintf(stderr, "bench_xdp: %s\n", strerror(-err));
	xdp_drop_bpf__destroy(drop);
	satp_xdp_close(x);
	xsk_unbind(&xsk);
	return err ? 1 : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct flood_opts {
	const char *ifname;
	const char *pin_root;
	const char *prog;
	const char *ready;
	enum satp_xdp_attach_mode mode;
	unsigned int seconds;
};

static uint64_t sum_drop_count(struct xdp_drop_bpf *d)
{
	int ncpus = libbpf_num_possible_cpus(), i;
	uint64_t v[512] = {0}, sum = 0;
	__u32 key = 0;

	if (ncpus <= 0 || ncpus > 512 ||
	    bpf_map_lookup_elem(bpf_map__fd(d->maps.drop_count), &key, v))
		return 0;
	for (i = 0; i < ncpus; i++)
		sum += v[i];
	return sum;
}

static uint64_t satp_seen(struct satp_xdp *x, uint64_t *dropped)
{
	struct satp_xdp_counter c[SATP_XDP_REASON_MAX];
	uint64_t all = 0;
	int i;

	if (satp_xdp_read_counters(x, c))
		return 0;
	for (i = 0; i < SATP_XDP_REASON_MAX; i++)
		all += c[i].packets;
	/* what the floods send: unknown mux, or handshakes from one source */
	*dropped = c[SATP_XDP_DROP_UNKNOWN_MUX].packets + c[SATP_XDP_DROP_HS_RATELIMIT].packets +
		   c[SATP_XDP_DROP_HS_CEILING].packets;
	return all;
}

static void mark_ready(const char *path)
{
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "w");
	if (f)
		fclose(f);
}

/* NAPI threads of an interface are kthreads named "napi/<ifname>-<id>". */
static int napi_threaded(const char *ifname)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/class/net/%s/threaded", ifname);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	ok = fputs("1", f) >= 0;
	return (fclose(f) || !ok) ? -EIO : 0;
}

/* Sum of run time (ns, schedstat) of the interface's NAPI threads; 0 if none. */
static uint64_t napi_cpu_ns(const char *ifname)
{
	char path[300], comm[64], prefix[64];
	unsigned long long run;
	struct dirent *de;
	uint64_t sum = 0;
	DIR *d = opendir("/proc");
	FILE *f;

	if (!d)
		return 0;
	snprintf(prefix, sizeof(prefix), "napi/%s-", ifname);
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		/* comm is cut at 15 characters: compare what is left of the prefix */
		if (strncmp(comm, prefix,
			    strnlen(comm, 15) < strlen(prefix) ? strnlen(comm, 15)
							       : strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/schedstat", de->d_name);
		f = fopen(path, "r");
		if (f && fscanf(f, "%llu", &run) == 1)
			sum += run;
		if (f)
			fclose(f);
	}
	closedir(d);
	return sum;
}

struct window_cut {
	double t;
	uint64_t napi_ns;
};

static struct window_cut cut_now(const char *ifname)
{
	struct window_cut c = {.t = now(), .napi_ns = napi_cpu_ns(ifname)};

	return c;
}

static void report(const char *what, uint64_t packets, struct window_cut a, struct window_cut b,
		   const char *extra)
{
	double secs = b.t - a.t, cpu = (double)(b.napi_ns - a.napi_ns) / 1e9;

	printf("flood %s: %llu packets in %.2f s: %.0f pps dropped; NAPI thread %.2f CPU-s: "
	       "%.0f pps per core, %.1f ns per packet%s\n",
	       what, (unsigned long long)packets, secs, (double)packets / secs, cpu,
	       cpu > 0 ? (double)packets / cpu : 0, packets ? cpu * 1e9 / (double)packets : 0,
	       extra);
}

static int flood_drop(const struct flood_opts *o)
{
	__u32 flags = XDP_FLAGS_UPDATE_IF_NOEXIST |
		      (o->mode == SATP_XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	int ifindex = (int)if_nametoindex(o->ifname), err;
	struct xdp_drop_bpf *d = xdp_drop_bpf__open_and_load();
	struct window_cut c0, c1;
	uint64_t n0, n1;

	if (!d || !ifindex) {
		err = -errno;
		goto out;
	}
	err = bpf_xdp_attach(ifindex, bpf_program__fd(d->progs.xdp_drop_all), flags, NULL);
	if (err)
		goto out;
	if (napi_threaded(o->ifname))
		fprintf(stderr, "bench_xdp: no threaded NAPI on %s: CPU figures are 0\n",
			o->ifname);
	mark_ready(o->ready);
	usleep(SETTLE_US);
	n0 = sum_drop_count(d);
	c0 = cut_now(o->ifname);
	sleep(o->seconds);
	n1 = sum_drop_count(d);
	c1 = cut_now(o->ifname);
	report("xdp_drop", n1 - n0, c0, c1, "");
	err = bpf_xdp_detach(ifindex, flags & ~XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
out:
	if (err)
		fprintf(stderr, "bench_xdp: xdp_drop on '%s': %s\n", o->ifname, strerror(-err));
	xdp_drop_bpf__destroy(d);
	return err ? 1 : 0;
}

static int flood_satp(const struct flood_opts *o)
{
	struct satp_xdp_opts xo = {.ifname = o->ifname, .pin_root = o->pin_root, .mode = o->mode};
	uint64_t a0, a1, d0 = 0, d1 = 0;
	struct window_cut c0, c1;
	struct satp_xdp *x = NULL;
	char extra[96];
	int err;

	err = satp_xdp_open(&xo, &x);
	if (!err)
		err = seed(x);
	if (!err) /* the flood's destination is the veth's own address, not seed()'s */
		err = satp_xdp_set_flags(x, SATP_XDP_ANY_ADDR4);
	if (!err)
		err = satp_xdp_attach(x);
	if (err)
		goto out;
	if (napi_threaded(o->ifname))
		fprintf(stderr, "bench_xdp: no threaded NAPI on %s: CPU figures are 0\n",
			o->ifname);
	mark_ready(o->ready);
	usleep(SETTLE_US);
	a0 = satp_seen(x, &d0);
	c0 = cut_now(o->ifname);
	sleep(o->seconds);
	a1 = satp_seen(x, &d1);
	c1 = cut_now(o->ifname);
	snprintf(extra, sizeof(extra),
		 " (drop-unknown-mux or drop-hs-ratelimit/-ceiling; %llu other verdicts)",
		 (unsigned long long)((a1 - a0) - (d1 - d0)));
	report("satp_rx", d1 - d0, c0, c1, extra);
	err = satp_xdp_detach(x);
out:
	if (err)
		fprintf(stderr, "bench_xdp: satp_rx on '%s': %s\n", o->ifname, strerror(-err));
	satp_xdp_close(x);
	return err ? 1 : 0;
}

static int cmd_flood(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"ifname", required_argument, NULL, 'i'},
	    {"pin-root", required_argument, NULL, 'P'},
	    {"prog", required_argument, NULL, 'p'},
	    {"seconds", required_argument, NULL, 's'},
	    {"ready", required_argument, NULL, 'r'},
	    {"mode", required_argument, NULL, 'M'},
	    {NULL, 0, NULL, 0},
	};
	struct flood_opts o = {.seconds = 5};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			o.ifname = optarg;
			break;
		case 'P':
			o.pin_root = optarg;
			break;
		case 'p':
			o.prog = optarg;
			break;
		case 's':
			o.seconds = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !o.seconds || o.seconds > 600) {
				fprintf(stderr, "bench_xdp: invalid --seconds '%s'\n", optarg);
				return 2;
			}
			break;
		case 'r':
			o.ready = optarg;
			break;
		case 'M':
			if (strcmp(optarg, "native") && strcmp(optarg, "skb")) {
				fprintf(stderr, "bench_xdp: invalid --mode '%s'\n", optarg);
				return 2;
			}
			o.mode = strcmp(optarg, "skb") ? SATP_XDP_MODE_NATIVE : SATP_XDP_MODE_SKB;
			break;
		default:
			return 2;
		}
	}
	if (!o.ifname || !o.prog || (strcmp(o.prog, "satp") && strcmp(o.prog, "drop"))) {
		fprintf(stderr, "bench_xdp flood: --ifname and --prog satp|drop are required\n");
		return 2;
	}
	return strcmp(o.prog, "satp") ? flood_drop(&o) : flood_satp(&o);
}

int main(int argc, char **argv)
{
	unsigned long repeat = REPEAT_DEFAULT;
	char *end;

	satp_xdp_set_log(NULL, SATP_XDP_LOG_WARN);
	if (argc >= 2 && !strcmp(argv[1], "flood"))
		return cmd_flood(argc - 1, argv + 1);
	if (argc == 4 && !strcmp(argv[1], "testrun") && !strcmp(argv[2], "--repeat")) {
		repeat = strtoul(argv[3], &end, 10);
		if (*end || repeat < REPEAT_MIN || repeat > 100000000) {
			fprintf(stderr, "bench_xdp: invalid --repeat '%s'\n", argv[3]);
			return 2;
		}
	} else if (argc != 1 && !(argc == 2 && !strcmp(argv[1], "testrun"))) {
		fprintf(stderr, "usage: bench_xdp [testrun [--repeat N (>= 100000)]]\n"
				"       bench_xdp flood --ifname IF --prog satp|drop --seconds S "
				"[--pin-root DIR] [--ready FILE] [--mode native|skb]\n");
		return 2;
	}
	return cmd_testrun((unsigned int)repeat);
}
