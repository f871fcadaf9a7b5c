// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp_rx under BPF_PROG_TEST_RUN with mutated frames: valid SATP frames
 * (IPv4/IPv6, VLAN tags, IPv4 options, IPv6 extension headers, fragments,
 * other ports and protocols, known and unknown muxes, seqs around the
 * window) built by tests/tools/satp_frame.h, then cut, extended, bit-flipped,
 * byte-overwritten or given other ports/EtherTypes. For every input:
 *
 *   - the action is never XDP_ABORTED, only PASS or DROP (no socket here);
 *   - a passed frame comes out byte-identical;
 *   - exactly one counter moves, by one packet and the frame's bytes, and
 *     its reason maps to the action returned;
 *
 * and over the run the counters add up to the number of inputs.
 *
 *   SATP_XDP_FUZZ_INPUTS (default 20000; make fuzz: 200000)
 *   SATP_XDP_FUZZ_SEED   (default: fixed, so a failure reproduces)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "satp.h"
#include "satp_xdp_loader.h"
#include "../tools/satp_frame.h"

#define PORT	       4444
#define MUX	       7
#define MUX_TAG20      9
#define SID_WINDOW     1
#define SLOT	       3
#define TOP	       1000u
#define WIN	       64u
#define DEFAULT_INPUTS 20000ul
#define DEFAULT_SEED   0x5a7d5eedu
#define ETH_MIN	       14 /* BPF_PROG_TEST_RUN refuses shorter frames */
#define REPORT_MAX     20 /* failures printed before only counting */

static const uint8_t local4[4] = {10, 99, 0, 2};
static const uint8_t local6[16] = {0xfd, 0, 0, 0x99, [15] = 2};

#define ACTION_(e, name, action) [e] = action,
static const int reason_action[SATP_XDP_REASON_MAX] = {SATP_XDP_REASONS(ACTION_)};
#undef ACTION_

static struct satp_xdp *xdp;
static unsigned long failures;
static uint64_t rng;

/* xorshift64*: deterministic from the seed, so a failing input can be rebuilt. */
static uint32_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static uint32_t below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

static void fail(unsigned long i, const char *what, const uint8_t *f, size_t len)
{
	size_t j;

	if (++failures > REPORT_MAX)
		return;
	printf("FAIL input %lu (%zu bytes): %s\n  ", i, len, what);
	for (j = 0; j < len && j < 96; j++)
		printf("%02x", f[j]);
	printf("\n");
}

/* Seqs that land on every window position of the bound slot. */
static uint32_t pick_seq(void)
{
	static const uint32_t seqs[] = {0,	     1,		 TOP,		TOP - 1,
					TOP + 1,     TOP - WIN,	 TOP - WIN + 1, 0x7fffffffu,
					0xfffffffeu, 0xffffffffu};

	return below(4) ? seqs[below(sizeof(seqs) / sizeof(seqs[0]))] : rnd();
}

static void base_spec(struct satp_frame_spec *s)
{
	static const uint16_t ports[] = {PORT, PORT, PORT, 4445, 53, 0};
	static const uint8_t protos[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 1, 58};
	static const uint16_t muxes[] = {MUX, MUX, MUX_TAG20, 0, 77, 0xffff};

	memset(s, 0, sizeof(*s));
	s->family = below(2) ? AF_INET : AF_INET6;
	if (!below(20)) {
		s->family = 0;
		s->ethertype = below(2) ? 0x0806 : (uint16_t)rnd();
	}
	memcpy(s->dst_mac, "\x02\0\0\0\0\x02", 6);
	memcpy(s->src_mac, "\x02\0\0\0\0\x01", 6);
	if (s->family == AF_INET6) {
		memcpy(s->dst, local6, 16);
		s->src[0] = 0xfd;
		s->src[15] = 1;
		if (!below(4))
			s->ip6_exts = (int)below(7);
	} else {
		memcpy(s->dst, local4, 4);
		memcpy(s->src, "\x0a\x63\0\x01", 4);
		if (!below(4))
			s->ip4_opt_len = (int)below(11) * 4;
	}
	if (!below(10))
		s->dst[s->family == AF_INET6 ? 15 : 3] ^= 1; /* not ours */
	/* Many sources, so that handshakes (mux 0xffff) are both within and over budget. */
	if (below(2))
		s->src[s->family == AF_INET6 ? 15 : 3] = (uint8_t)below(64);
	if (!below(4))
		s->vlans = (int)below(4);
	if (!below(10))
		s->frag = 1 + (int)below(2);
	s->proto = protos[below(sizeof(protos))];
	s->sport = (uint16_t)rnd();
	s->dport = ports[below(sizeof(ports) / sizeof(ports[0]))];
	if (!s->dport)
		s->dport = (uint16_t)rnd();
	s->mux = muxes[below(sizeof(muxes) / sizeof(muxes[0]))];
	s->sender_id = below(2) ? SID_WINDOW : (uint16_t)below(8);
	s->seq = pick_seq();
	s->satp_len = below(3) ? below(128) : below(1401);
	if (!below(10))
		s->udp_len_adj = (int)below(41) - 20;
	if (!below(20))
		s->ihl_override = (int)below(16);
	if (!below(10))
		s->pad_to = below(200);
}

/* Byte-level damage on a built frame; returns the new length. */
static size_t mutate(uint8_t *f, size_t len, size_t cap)
{
	unsigned int n = below(3), k;
	size_t at, add;

	for (k = 0; k < n; k++) {
		switch (below(5)) {
		case 0: /* truncate */
			len = ETH_MIN + below((uint32_t)(len - ETH_MIN + 1));
			break;
		case 1: /* extend with junk */
			add = below(64);
			if (len + add > cap)
				add = cap - len;
			for (at = 0; at < add; at++)
				f[len + at] = (uint8_t)rnd();
			len += add;
			break;
		case 2: /* flip one bit, mostly in the headers */
			at = below(4) ? below((uint32_t)(len < 90 ? len : 90))
				      : below((uint32_t)len);
			f[at] ^= (uint8_t)(1u << below(8));
			break;
		case 3: /* overwrite a byte */
			f[below((uint32_t)len)] = (uint8_t)rnd();
			break;
		default: /* an EtherType (or the VLAN TPID) where the frame had another */
			at = below(2) ? 12 : 16;
			if (at + 2 <= len)
				satp_frame_put16(f + at, below(2) ? 0x8100 : 0x86dd);
			break;
		}
	}
	return len;
}

static int seed_maps(void)
{
	struct satp_window *w = &satp_xdp_windows(xdp)[SLOT];
	uint32_t seq;
	int err = 0;

	err |= satp_xdp_set_port(xdp, PORT, true);
	err |= satp_xdp_set_addr(xdp, AF_INET, local4, true);
	err |= satp_xdp_set_addr(xdp, AF_INET6, local6, true);
	err |= satp_xdp_set_conn(xdp, MUX, SATP_TAG_DEFAULT, WIN);
	err |= satp_xdp_set_conn(xdp, MUX_TAG20, SATP_TAG_MAX, WIN);
	satp_window_init(w, WIN);
	for (seq = TOP - 10; seq <= TOP; seq += 2)
		satp_window_commit(w, seq);
	err |= satp_xdp_bind_window(xdp, MUX, SID_WINDOW, SLOT);
	err |= satp_xdp_bind_window(xdp, MUX_TAG20, SID_WINDOW, SLOT);
	return err;
}

static void run_one(unsigned long i, uint64_t *sent_bytes)
{
	struct satp_xdp_counter before[SATP_XDP_REASON_MAX], after[SATP_XDP_REASON_MAX];
	uint8_t in[SATP_FRAME_MAX + 64], out[SATP_FRAME_MAX + 320];
	LIBBPF_OPTS(bpf_test_run_opts, t);
	struct satp_frame_spec s;
	size_t len = 0;
	int r, moved = -1, n_moved = 0;
	char msg[160];

	while (!len) {
		base_spec(&s);
		len = satp_frame_build(&s, in, sizeof(in));
	}
	len = mutate(in, len, sizeof(in));
	t.data_in = in;
	t.data_size_in = (__u32)len;
	t.data_out = out;
	t.data_size_out = sizeof(out);
	t.repeat = 1;

	satp_xdp_read_counters(xdp, before);
	if (bpf_prog_test_run_opts(satp_xdp_prog_fd(xdp), &t)) {
		snprintf(msg, sizeof(msg), "test run failed: %s", strerror(errno));
		return fail(i, msg, in, len);
	}
	satp_xdp_read_counters(xdp, after);
	*sent_bytes += len;

	for (r = 0; r < SATP_XDP_REASON_MAX; r++) {
		uint64_t dp = after[r].packets - before[r].packets;
		uint64_t db = after[r].bytes - before[r].bytes;

		if (!dp && !db)
			continue;
		n_moved++;
		moved = r;
		if (dp != 1 || db != len) {
			snprintf(msg, sizeof(msg), "%s moved by %llu packets %llu bytes",
				 satp_xdp_reason_names[r], (unsigned long long)dp,
				 (unsigned long long)db);
			fail(i, msg, in, len);
		}
	}
	if (t.retval != XDP_PASS && t.retval != XDP_DROP) {
		snprintf(msg, sizeof(msg), "action %u (XDP_ABORTED is 0)", t.retval);
		fail(i, msg, in, len);
	}
	if (n_moved != 1) {
		snprintf(msg, sizeof(msg), "%d counters moved, want exactly one", n_moved);
		fail(i, msg, in, len);
	} else if (reason_action[moved] != (int)t.retval &&
		   !(moved == SATP_XDP_DROP_NO_SOCKET && t.retval == XDP_DROP)) {
		snprintf(msg, sizeof(msg), "action %u but counted as %s", t.retval,
			 satp_xdp_reason_names[moved]);
		fail(i, msg, in, len);
	}
	if (t.retval == XDP_PASS && (t.data_size_out != len || memcmp(in, out, len)))
		fail(i, "passed frame changed", in, len);
}

static int run(unsigned long inputs)
{
	struct satp_xdp_counter start[SATP_XDP_REASON_MAX], end[SATP_XDP_REASON_MAX];
	uint64_t bytes = 0, packets = 0, counted_bytes = 0;
	unsigned long i;
	int r;

	satp_xdp_read_counters(xdp, start);
	for (i = 0; i < inputs; i++)
		run_one(i, &bytes);
	satp_xdp_read_counters(xdp, end);
	for (r = 0; r < SATP_XDP_REASON_MAX; r++) {
		uint64_t dp = end[r].packets - start[r].packets;

		packets += dp;
		counted_bytes += end[r].bytes - start[r].bytes;
		if (dp)
			printf("  %-18s %8llu\n", satp_xdp_reason_names[r], (unsigned long long)dp);
	}
	if (packets != inputs || counted_bytes != bytes) {
		printf("FAIL counters add up to %llu packets %llu bytes, sent %lu, %llu\n",
		       (unsigned long long)packets, (unsigned long long)counted_bytes, inputs,
		       (unsigned long long)bytes);
		failures++;
	}
	return 0;
}

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return def;
	v = strtoul(s, &end, 0);
	return *end ? def : v;
}

int main(void)
{
	struct satp_xdp_opts o = {.no_pin = true};
	unsigned long inputs = env_ul("SATP_XDP_FUZZ_INPUTS", DEFAULT_INPUTS);
	unsigned long seed = env_ul("SATP_XDP_FUZZ_SEED", DEFAULT_SEED);
	int err;

	rng = seed | 1;
	satp_xdp_set_log(NULL, SATP_XDP_LOG_WARN);
	err = satp_xdp_open(&o, &xdp);
	if (err) {
		fprintf(stderr, "cannot load satp_rx: %s\n", strerror(-err));
		return err == -EPERM ? 77 : 1;
	}
	if (seed_maps()) {
		fprintf(stderr, "cannot seed the maps\n");
		satp_xdp_close(xdp);
		return 1;
	}
	run(inputs);
	satp_xdp_close(xdp);
	printf("%s: %lu mutated frames (seed %#lx), %lu failures\n", failures ? "FAIL" : "PASS",
	       inputs, seed, failures);
	return failures ? 1 : 0;
}
