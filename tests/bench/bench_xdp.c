// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_xdp: what satp_rx costs per packet.
 *
 *   bench_xdp testrun [--repeat N]
 *       ns per packet under BPF_PROG_TEST_RUN (repeat N, best of 5 rounds) for
 *       valid SATP (with and without a replay window to read), invalid SATP
 *       (unknown mux, too short, replayed), handshakes (mux 0xFFFF) from one
 *       source over and within its budget, and non-SATP UDP and TCP, beside
 *       xdp_drop_all on the same frame, the floor of any XDP program.
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

#include "satp_xdp_loader.h"
#include "xdp_drop.skel.h"
#include "../tools/satp_frame.h"

#define ROUNDS	       5 /* best of: the machine is shared, single runs swing */
#define REPEAT_DEFAULT 2000000
#define PORT	       4444
#define MUX	       7
#define SLOT	       1
#define SETTLE_US      1000000 /* let the flood and NAPI reach a steady state */

static const uint8_t local4[4] = {10, 99, 0, 2};

struct bench_case {
	const char *name;
	struct satp_frame_spec spec;
	uint32_t hs_pps; /* handshake budget (per source and ceiling) during the case; 0: default */
	uint32_t unv_pps; /* unverified-sender budget during the case; 0: the default */
};

static struct satp_frame_spec base(uint16_t mux, uint16_t sid, uint32_t seq, size_t len)
{
	return satp_frame_v4(local4, PORT, mux, sid, seq, len);
}

static double run_best(int prog_fd, const uint8_t *frame, size_t len, unsigned int repeat)
{
	uint8_t out[SATP_FRAME_MAX + 256];
	double best = 0;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame, .data_size_in = (__u32)len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

		if (bpf_prog_test_run_opts(prog_fd, &t))
			return -1;
		if (!i || t.duration < best)
			best = t.duration;
	}
	return best;
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
	    {"valid SATP, sender without window", base(MUX, 9, 1, 72), 0, SATP_XDP_HS_PPS_MAX},
	    /* after the burst every run is over the connection's budget */
	    {"forged sender id, over budget", base(MUX, 9, 1, 72), 0, 0},
	    {"valid SATP, window read (seq ahead)", base(MUX, 1, 1001, 72), 0, 0},
	    {"invalid SATP: unknown mux", base(MUX + 1, 1, 1, 72), 0, 0},
	    {"invalid SATP: too short", base(MUX, 1, 1, 12), 0, 0},
	    {"invalid SATP: replayed seq", base(MUX, 1, 1000, 72), 0, 0},
	    /* one source: after its burst and the ceiling's shared half every run is over */
	    {"handshake, over budget (mux 0xFFFF)", base(SATP_HS_MUX, 0, 0, 152), 0, 0},
	    {"handshake, within budget", base(SATP_HS_MUX, 0, 0, 152), SATP_XDP_HS_PPS_MAX, 0},
	    {"non-SATP: UDP to another port", udp, 0, 0},
	    {"non-SATP: TCP", tcp, 0, 0},
	};
	struct satp_xdp_opts o = {.no_pin = true};
	struct xdp_drop_bpf *drop = NULL;
	struct satp_xdp *x = NULL;
	uint8_t frame[SATP_FRAME_MAX];
	size_t i, len;
	int err;

	cases[8].spec.dport = 53;
	cases[9].spec.proto = 6;
	err = satp_xdp_open(&o, &x);
	if (err)
		goto out;
	err = seed(x);
	drop = xdp_drop_bpf__open_and_load();
	if (err || !drop) {
		err = err ? err : -errno;
		goto out;
	}
	printf("BPF_PROG_TEST_RUN, repeat %u, best of %d rounds, ns per packet:\n", repeat, ROUNDS);
	printf("  %-40s %10s %10s\n", "frame", "satp_rx", "xdp_drop");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double ns, floor_ns;

		len = satp_frame_build(&cases[i].spec, frame, sizeof(frame));
		if (satp_xdp_set_hs_ratelimit(x, cases[i].hs_pps, 0) ||
		    satp_xdp_set_hs_ceiling(x, cases[i].hs_pps, 0) ||
		    satp_xdp_set_unverified_budget(x, cases[i].unv_pps, 0)) {
			err = -EINVAL;
			goto out;
		}
		ns = run_best(satp_xdp_prog_fd(x), frame, len, repeat);
		floor_ns = run_best(bpf_program__fd(drop->progs.xdp_drop_all), frame, len, repeat);
		if (ns < 0 || floor_ns < 0) {
			err = -errno;
			goto out;
		}
		printf("  %-40s %10.1f %10.1f\n", cases[i].name, ns, floor_ns);
	}
out:
	if (err)
		fprintf(stderr, "bench_xdp: %s\n", strerror(-err));
	xdp_drop_bpf__destroy(drop);
	satp_xdp_close(x);
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
		if (*end || !repeat || repeat > 100000000) {
			fprintf(stderr, "bench_xdp: invalid --repeat '%s'\n", argv[3]);
			return 2;
		}
	} else if (argc != 1 && !(argc == 2 && !strcmp(argv[1], "testrun"))) {
		fprintf(stderr, "usage: bench_xdp [testrun [--repeat N]]\n"
				"       bench_xdp flood --ifname IF --prog satp|drop --seconds S "
				"[--pin-root DIR] [--ready FILE] [--mode native|skb]\n");
		return 2;
	}
	return cmd_testrun((unsigned int)repeat);
}
