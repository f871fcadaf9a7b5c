// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp_rx under BPF_PROG_TEST_RUN: one row per crafted frame, each stating the
 * XDP action, the one counter it must bump (packets and bytes) and, for
 * senders with a window slot, the per-sender drop delta. Passed frames must
 * come out byte-identical. No NIC needed; the maps are private (not pinned).
 *
 * In a test run bpf_redirect_map() finds no socket in the XSKMAP and returns
 * the fallback, XDP_DROP: every "would be redirected" row expects the
 * no-socket reason, and the metadata (struct satp_xdp_meta) satp_rx put
 * before the frame for the socket: IPv4 with options, IPv6 with extension
 * headers, VLAN tags. The veth test covers real redirects.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "satp.h"
#include "frame.h"
#include "satp_xdp_loader.h"
#include "../tools/satp_frame.h"

#define PORT	   4444
#define RAIL_FIRST 5000 /* a RAIL port range */
#define RAIL_LAST  5003
#define MUX_W64	   7  /* tag 10, window 64 */
#define MUX_W0	   8  /* tag 10, window 0 */
#define MUX_TAG20  9  /* tag 20, window 64 */
#define MUX_NONE   77 /* no such connection */
#define MUX_NOPF   10 /* tag 10, window 64, SATP_XDP_CONN_NO_PREFILTER (handshake keys) */
#define MUX_UNV	   11 /* tag 10, window 64: the unverified-sender budget rows */
#define TOP	   1000u
#define WIN	   64u
#define SLOT_SID1  3 /* (MUX_W64, 1): top 1000, bits 990 995 set */
#define SLOT_SID2  4 /* (MUX_W64, 2): valid, size 0 */
#define SLOT_W0	   5 /* (MUX_W0, 1): seeded, but the connection has window 0 */
#define SLOT_BUSY  6 /* (MUX_W64, 4): gen odd, the daemon is mid-commit */
#define SLOT_WRAP  7 /* (MUX_W64, 5): top 10, bit 0xfffffffa set */
#define MIN_OK	   (SATP_HDR_LEN + SATP_PTYPE_LEN + SATP_TAG_DEFAULT)
#define SLOT_NOPF  9	  /* (MUX_NOPF, 1): seeded as SLOT_SID1, never read */
#define SLOT_RACE  8	  /* (MUX_W64, 6): the daemon commits while XDP reads */
#define SLOT_UNV   10	  /* (MUX_UNV, 1): a verified sender, seeded as SLOT_SID1 */
#define RACE_RUNS  200000 /* test runs against a committing writer */
#define RACE_JUMP  5000	  /* every so often top jumps past the whole ring */
/* Far from both ends of the uint32 range: near them anytun's shift makes a
 * too-old seq "ahead" again once top grows past the window size. */
#define RACE_START (1u << 20)

/* A handshake header where SATP has seq and sender: type 1, version 1, reserved 0. */
#define HS_HDR_SEQ 0x01010000u
/* The budget rows: one datagram a second, so that nothing refills while they run. */
#define HS_SLOW_PPS   1
#define HS_FAST_PPS   1000 /* the refill test: 1 ms a token */
#define HS_FLOOD_RUNS 1000 /* one test run repeated: far more than a burst */
/* The ceiling of the rows: nothing refills; 8 of 16 kept for sources within budget. */
#define HS_CEIL_BURST 16
/* The ceiling of the refill test: nothing refills; room for the flood's own part. */
#define HS_FLOOD_CEIL_BURST 200
/* The unverified-sender rows: one a second, bursts of 3. */
#define UNV_BURST 3
/* XDP reads the jiffies clock: it may jump a tick (10 ms at HZ=100) at any time. */
#define HS_TICK_MS_MAX 10

static struct satp_xdp *xdp;
static int failures;
static uint64_t runs; /* test runs made: the counters must add up to this */

static const uint8_t local4[4] = {10, 99, 0, 2};
static const uint8_t other4[4] = {10, 99, 0, 3};
static const uint8_t second4[4] = {10, 99, 0, 9};
static const uint8_t local6[16] = {0xfd, 0, 0, 0x99, [15] = 2};
static const uint8_t other6[16] = {0xfd, 0, 0, 0x99, [15] = 3};

struct row {
	const char *name;
	struct satp_frame_spec spec;
	size_t cut;		  /* truncate the frame to this many bytes (0: whole) */
	int action;		  /* expected XDP action */
	enum satp_xdp_reason why; /* the one counter that moves */
	int slot;		  /* >= 0: expect rx_dropped += dropped here */
	int dropped;
	uint32_t flags; /* satp_cfg flags during this row */
};

static struct satp_frame_spec v4(uint16_t mux, uint16_t sid, uint32_t seq, size_t len)
{
	return satp_frame_v4(local4, PORT, mux, sid, seq, len);
}

static struct satp_frame_spec v6(uint16_t mux, uint16_t sid, uint32_t seq, size_t len)
{
	struct satp_frame_spec s = v4(mux, sid, seq, len);

	s.family = AF_INET6;
	memset(s.src, 0, 16);
	s.src[0] = 0xfd;
	s.src[3] = 0x99;
	s.src[15] = 1;
	memcpy(s.dst, local6, 16);
	return s;
}

static struct satp_frame_spec with(struct satp_frame_spec s, int vlans, int opts, int exts,
				   int frag)
{
	s.vlans = vlans;
	s.ip4_opt_len = opts;
	s.ip6_exts = exts;
	s.frag = frag;
	return s;
}

static struct satp_frame_spec port(struct satp_frame_spec s, uint16_t p)
{
	s.dport = p;
	return s;
}

static struct satp_frame_spec dst(struct satp_frame_spec s, const uint8_t *a, size_t n)
{
	memcpy(s.dst, a, n);
	return s;
}

static struct satp_frame_spec proto(struct satp_frame_spec s, uint8_t p)
{
	s.proto = p;
	return s;
}

static struct satp_frame_spec ether(uint16_t type, int vlans)
{
	struct satp_frame_spec s = v4(0, 0, 0, 0);

	s.family = 0;
	s.ethertype = type;
	s.vlans = vlans;
	return s;
}

static struct satp_frame_spec lie(struct satp_frame_spec s, int ihl, int udp_adj, size_t pad)
{
	s.ihl_override = ihl;
	s.udp_len_adj = udp_adj;
	s.pad_to = pad;
	return s;
}

/* A handshake datagram of len bytes from 10.99.1.<src> or fd00:99:1::<src>. */
static struct satp_frame_spec hs4(uint8_t src, size_t len)
{
	struct satp_frame_spec s = v4(SATP_HS_MUX, 0, HS_HDR_SEQ, len);

	s.src[2] = 1;
	s.src[3] = src;
	return s;
}

static struct satp_frame_spec hs6(uint8_t src, size_t len)
{
	struct satp_frame_spec s = v6(SATP_HS_MUX, 0, HS_HDR_SEQ, len);

	s.src[7] = 1;
	s.src[15] = src;
	return s;
}

#define V4(mux, sid, seq) v4(mux, sid, seq, 72)
#define V6(mux, sid, seq) v6(mux, sid, seq, 72)
#define PASS(r)		  XDP_PASS, SATP_XDP_##r, -1, 0
#define DROP(r)		  XDP_DROP, SATP_XDP_##r, -1, 0
#define NOSOCK		  XDP_DROP, SATP_XDP_DROP_NO_SOCKET, -1, 0
#define SLOT(r, slot, n)  XDP_DROP, SATP_XDP_##r, slot, n
#define HS_PASS		  PASS(PASS_HANDSHAKE)
#define NOSOCK_SLOT(slot) XDP_DROP, SATP_XDP_DROP_NO_SOCKET, slot, 0

static struct row mkrow(const char *name, struct satp_frame_spec spec, size_t cut, int action,
			enum satp_xdp_reason why, int slot, int dropped, uint32_t flags)
{
	struct row r = {
	    .name = name,
	    .spec = spec,
	    .cut = cut,
	    .action = action,
	    .why = why,
	    .slot = slot,
	    .dropped = dropped,
	    .flags = flags,
	};

	return r;
}

static const struct row *rows_fixed(size_t *n)
{
	static struct row rows[128];
	size_t i = 0;
	int j;

#define R(n, s, c, v)	  rows[i++] = mkrow(n, s, c, v, 0)
#define RF(n, s, c, v, f) rows[i++] = mkrow(n, s, c, v, f)
	R("ipv4 valid", V4(MUX_W64, 9, 1), 0, NOSOCK);
	R("ipv6 valid", V6(MUX_W64, 9, 1), 0, NOSOCK);
	R("ipv4 802.1Q", with(V4(MUX_W64, 9, 1), 1, 0, 0, 0), 0, NOSOCK);
	R("ipv6 802.1Q", with(V6(MUX_W64, 9, 1), 1, 0, 0, 0), 0, NOSOCK);
	R("ipv4 QinQ 802.1ad+802.1Q", with(V4(MUX_W64, 9, 1), 2, 0, 0, 0), 0, NOSOCK);
	R("ipv6 QinQ 802.1ad+802.1Q", with(V6(MUX_W64, 9, 1), 2, 0, 0, 0), 0, NOSOCK);
	R("three VLAN tags: not parsed, passed", with(V4(MUX_W64, 9, 1), 3, 0, 0, 0), 0,
	  PASS(PASS_NOT_IP));
	R("ipv4 options 4 bytes", with(V4(MUX_W64, 9, 1), 0, 4, 0, 0), 0, NOSOCK);
	R("ipv4 options 40 bytes", with(V4(MUX_W64, 9, 1), 0, 40, 0, 0), 0, NOSOCK);
	R("ipv6 hop-by-hop", with(V6(MUX_W64, 9, 1), 0, 0, 1, 0), 0, NOSOCK);
	R("ipv6 hop-by-hop+dstopts+routing", with(V6(MUX_W64, 9, 1), 0, 0, 3, 0), 0, NOSOCK);
	R("ipv6 4 extension headers", with(V6(MUX_W64, 9, 1), 0, 0, 4, 0), 0, NOSOCK);
	R("ipv6 5 extension headers: not followed", with(V6(MUX_W64, 9, 1), 0, 0, 5, 0), 0,
	  PASS(PASS_NOT_UDP));
	R("ipv4 first fragment (MF)", with(V4(MUX_W64, 9, 1), 0, 0, 0, 1), 0, PASS(PASS_FRAGMENT));
	R("ipv4 later fragment (offset)", with(V4(MUX_W64, 9, 1), 0, 0, 0, 2), 0,
	  PASS(PASS_FRAGMENT));
	R("ipv6 fragment header", with(V6(MUX_W64, 9, 1), 0, 0, 0, 1), 0, PASS(PASS_FRAGMENT));
	R("ipv6 hop-by-hop then fragment", with(V6(MUX_W64, 9, 1), 0, 0, 1, 2), 0,
	  PASS(PASS_FRAGMENT));
	R("ipv4 wrong port", port(V4(MUX_W64, 9, 1), 4445), 0, PASS(PASS_NOT_SATP));
	R("ipv6 wrong port", port(V6(MUX_W64, 9, 1), 53), 0, PASS(PASS_NOT_SATP));
	R("RAIL range first port", port(V4(MUX_W64, 9, 1), RAIL_FIRST), 0, NOSOCK);
	R("RAIL range last port", port(V6(MUX_W64, 9, 1), RAIL_LAST), 0, NOSOCK);
	R("RAIL range last+1", port(V4(MUX_W64, 9, 1), RAIL_LAST + 1), 0, PASS(PASS_NOT_SATP));
	R("ipv4 second local address", dst(V4(MUX_W64, 9, 1), second4, 4), 0, NOSOCK);
	R("ipv4 wrong address", dst(V4(MUX_W64, 9, 1), other4, 4), 0, PASS(PASS_NOT_LOCAL));
	R("ipv6 wrong address", dst(V6(MUX_W64, 9, 1), other6, 16), 0, PASS(PASS_NOT_LOCAL));
	RF("ipv4 any address when bound to 0.0.0.0", dst(V4(MUX_W64, 9, 1), other4, 4), 0, NOSOCK,
	   SATP_XDP_ANY_ADDR4);
	RF("ipv6 other address, only 0.0.0.0 bound", dst(V6(MUX_W64, 9, 1), other6, 16), 0,
	   PASS(PASS_NOT_LOCAL), SATP_XDP_ANY_ADDR4);
	RF("ipv6 any address when bound to ::", dst(V6(MUX_W64, 9, 1), other6, 16), 0, NOSOCK,
	   SATP_XDP_ANY_ADDR6);
	R("TCP to the SATP port", proto(V4(MUX_W64, 9, 1), 6), 0, PASS(PASS_NOT_UDP));
	R("ICMPv6", proto(V6(MUX_W64, 9, 1), 58), 0, PASS(PASS_NOT_UDP));
	R("ARP", ether(0x0806, 0), 0, PASS(PASS_NOT_IP));
	R("ARP on a VLAN", ether(0x0806, 1), 0, PASS(PASS_NOT_IP));
	R("LLDP (non-IP)", ether(0x88cc, 0), 0, PASS(PASS_NOT_IP));
	R("ipv4 IHL 4", lie(V4(MUX_W64, 9, 1), 4, 0, 0), 0, PASS(PASS_MALFORMED));
	R("ipv4 IHL 15 past the frame end", lie(v4(MUX_W64, 9, 1, 0), 15, 0, 0), 0,
	  PASS(PASS_MALFORMED));
	R("UDP length 7", lie(V4(MUX_W64, 9, 1), 0, -73, 0), 0, DROP(DROP_TRUNCATED));
	R("UDP length beyond the IP packet", lie(V4(MUX_W64, 9, 1), 0, 1, 0), 0,
	  DROP(DROP_TRUNCATED));
	R("UDP length shorter than IP: datagram is what UDP says",
	  lie(V4(MUX_W64, 9, 1), 0, -(72 - MIN_OK), 0), 0, NOSOCK);
	R("ethernet padding after a minimal datagram", lie(v4(MUX_W64, 9, 1, MIN_OK), 0, 0, 96), 0,
	  NOSOCK);
	R("empty datagram", v4(MUX_W64, 9, 1, 0), 0, DROP(DROP_TOO_SHORT));
	R("7 bytes: no room for the header", v4(MUX_W64, 9, 1, 7), 0, DROP(DROP_TOO_SHORT));
	R("header+ptype+tag-1", v4(MUX_W64, 9, 1, MIN_OK - 1), 0, DROP(DROP_TOO_SHORT));
	R("header+ptype+tag", v4(MUX_W64, 9, 1, MIN_OK), 0, NOSOCK);
	R("tag 20: header+ptype+19", v6(MUX_TAG20, 9, 1, 29), 0, DROP(DROP_TOO_SHORT));
	R("tag 20: header+ptype+20", v6(MUX_TAG20, 9, 1, 30), 0, NOSOCK);
	R("ipv4 unknown mux", V4(MUX_NONE, 9, 1), 0, DROP(DROP_UNKNOWN_MUX));
	R("ipv6 unknown mux", V6(MUX_NONE, 1, TOP), 0, DROP(DROP_UNKNOWN_MUX));
	R("unknown mux, 8 bytes", v4(MUX_NONE, 1, 1, 8), 0, DROP(DROP_UNKNOWN_MUX));
	RF("adopting: ipv4 unknown mux to the kernel", V4(MUX_NONE, 9, 1), 0, PASS(PASS_ADOPT),
	   SATP_XDP_PASS_UNKNOWN_MUX);
	RF("adopting: ipv6 unknown mux to the kernel", V6(MUX_NONE, 1, TOP), 0, PASS(PASS_ADOPT),
	   SATP_XDP_PASS_UNKNOWN_MUX);
	RF("adopting: a known mux still goes to its socket", V4(MUX_W64, 9, 1), 0, NOSOCK,
	   SATP_XDP_PASS_UNKNOWN_MUX);
	RF("adopting: a known mux's replay still dropped", V4(MUX_W64, 1, TOP), 0,
	   SLOT(DROP_REPLAY, SLOT_SID1, 1), SATP_XDP_PASS_UNKNOWN_MUX);
	RF("adopting: too short for any header still dropped", v4(MUX_NONE, 1, 1, 7), 0,
	   DROP(DROP_TOO_SHORT), SATP_XDP_PASS_UNKNOWN_MUX);
	R("replay: seq == top", V4(MUX_W64, 1, TOP), 0, SLOT(DROP_REPLAY, SLOT_SID1, 1));
	R("replay: bit set inside", V6(MUX_W64, 1, 990), 0, SLOT(DROP_REPLAY, SLOT_SID1, 1));
	R("replay: other bit set inside", V4(MUX_W64, 1, 995), 0, SLOT(DROP_REPLAY, SLOT_SID1, 1));
	R("inside, bit clear", V4(MUX_W64, 1, 991), 0, NOSOCK);
	R("oldest inside (top-size+1)", V4(MUX_W64, 1, TOP - WIN + 1), 0, NOSOCK);
	R("too old: top-size", V4(MUX_W64, 1, TOP - WIN), 0, SLOT(DROP_TOO_OLD, SLOT_SID1, 1));
	R("too old: 0", V4(MUX_W64, 1, 0), 0, SLOT(DROP_TOO_OLD, SLOT_SID1, 1));
	R("ahead: top+1", V4(MUX_W64, 1, TOP + 1), 0, NOSOCK);
	R("ahead: far", V4(MUX_W64, 1, 0x7fff0000), 0, NOSOCK);
	R("window size 0 in the slot: through", V4(MUX_W64, 2, TOP), 0, NOSOCK);
	R("connection window 0: through", V4(MUX_W0, 1, TOP), 0, NOSOCK);
	R("sender without a window yet: through", V4(MUX_W64, 3, TOP), 0, NOSOCK);
	R("daemon mid-commit (gen odd): through", V4(MUX_W64, 4, TOP), 0, NOSOCK);
	R("wrap: bit set across 2^32", V4(MUX_W64, 5, 0xfffffffau), 0,
	  SLOT(DROP_REPLAY, SLOT_WRAP, 1));
	R("wrap: clear bit across 2^32", V4(MUX_W64, 5, 0xfffffffbu), 0, NOSOCK);
	R("wrap: too old across 2^32", V4(MUX_W64, 5, 0xffffff00u), 0,
	  SLOT(DROP_TOO_OLD, SLOT_WRAP, 1));
	/* Mux 0xFFFF: never SATP. Each row from its own source, well within its budget. */
	R("handshake initiation (152) to the kernel", hs4(1, SATP_HS_INITIATION_LEN), 0, HS_PASS);
	R("handshake response (96), ipv6", hs6(2, SATP_HS_RESPONSE_LEN), 0, HS_PASS);
	R("handshake cookie reply (56): the shortest", hs4(3, SATP_HS_MIN_LEN), 0, HS_PASS);
	R("handshake 1400 bytes: lengths are the daemon's", hs6(4, 1400), 0, HS_PASS);
	R("handshake 55 bytes", hs4(5, SATP_HS_MIN_LEN - 1), 0, DROP(DROP_HS_TOO_SHORT));
	R("handshake 8 bytes: the header alone", hs6(6, SATP_HS_HDR_LEN), 0,
	  DROP(DROP_HS_TOO_SHORT));
	R("mux 0xFFFF cut to 7 bytes: no mux to read", hs4(7, 7), 0, DROP(DROP_TOO_SHORT));
	R("handshake over QinQ with ipv4 options", with(hs4(8, 152), 2, 8, 0, 0), 0, HS_PASS);
	R("handshake after ipv6 extension headers", with(hs6(9, 96), 0, 0, 2, 0), 0, HS_PASS);
	R("handshake to a RAIL port", port(hs6(10, 152), RAIL_LAST), 0, HS_PASS);
	R("handshake to another port", port(hs4(11, 152), 4445), 0, PASS(PASS_NOT_SATP));
	R("handshake to another address", dst(hs4(12, 152), other4, 4), 0, PASS(PASS_NOT_LOCAL));
	R("handshake ipv4 fragment", with(hs4(13, 152), 0, 0, 0, 1), 0, PASS(PASS_FRAGMENT));
	R("handshake UDP length beyond the IP packet", lie(hs4(14, 152), 0, 1, 0), 0,
	  DROP(DROP_TRUNCATED));
	RF("adopting: a handshake is still a handshake", hs4(15, 152), 0, HS_PASS,
	   SATP_XDP_PASS_UNKNOWN_MUX);
	/*
	 * A spoofer with a real peer's address (10.99.1.16) sends junk past that
	 * address's budget: the peer's initiation still reaches the daemon, whose
	 * mac1 check drops the junk (the defaults, review M2).
	 */
	for (j = 0; j < SATP_HS_RATELIMIT_BURST; j++)
		R("spoofed junk (56) in the peer's budget", hs4(16, SATP_HS_MIN_LEN), 0, HS_PASS);
	R("spoofed junk (56) past the peer's budget", hs4(16, SATP_HS_MIN_LEN), 0,
	  PASS(PASS_HS_SHARED));
	R("then the peer's initiation: still to the daemon", hs4(16, SATP_HS_INITIATION_LEN), 0,
	  PASS(PASS_HS_SHARED));
	/* Handshake keys: the window bound to (MUX_NOPF, 1) would drop these. */
	R("no prefilter: seq == top through", V4(MUX_NOPF, 1, TOP), 0, NOSOCK_SLOT(SLOT_NOPF));
	R("no prefilter: bit set inside through", V6(MUX_NOPF, 1, 990), 0, NOSOCK_SLOT(SLOT_NOPF));
	R("no prefilter: too old through", V4(MUX_NOPF, 1, 0), 0, NOSOCK_SLOT(SLOT_NOPF));
	R("no prefilter: header+ptype+tag-1 still dropped", v4(MUX_NOPF, 1, 1, MIN_OK - 1), 0,
	  DROP(DROP_TOO_SHORT));
#undef R
#undef RF
	*n = i;
	return rows;
}

static void seed_window(uint32_t slot, uint32_t gen, uint32_t top, uint32_t size,
			const uint32_t *set, size_t nset)
{
	struct satp_window *w = &satp_xdp_windows(xdp)[slot];
	size_t i;

	memset(w, 0, sizeof(*w));
	w->gen = gen;
	w->top = top;
	w->size = size;
	w->flags = SATP_WINDOW_VALID;
	for (i = 0; i < nset; i++)
		w->bits[satp_window_word(set[i])] |= satp_window_mask(set[i]);
}

static int seed(void)
{
	static const uint32_t sid1_bits[] = {TOP, 990, 995};
	static const uint32_t wrap_bits[] = {10, 0xfffffffau};
	int err = 0;

	err |= satp_xdp_set_port(xdp, PORT, true);
	err |= satp_xdp_set_port_range(xdp, RAIL_FIRST, RAIL_LAST, true);
	err |= satp_xdp_set_addr(xdp, AF_INET, local4, true);
	err |= satp_xdp_set_addr(xdp, AF_INET6, local6, true);
	err |= satp_xdp_set_addr(xdp, AF_INET, second4, true);
	err |= satp_xdp_set_addr(xdp, AF_INET, local4, true); /* twice: no second entry */
	err |= satp_xdp_set_conn(xdp, MUX_W64, SATP_TAG_DEFAULT, WIN);
	err |= satp_xdp_set_conn(xdp, MUX_W0, SATP_TAG_DEFAULT, 0);
	err |= satp_xdp_set_conn(xdp, MUX_TAG20, SATP_TAG_MAX, WIN);
	/* Set twice: changing -b or -w keeps the flag. */
	err |= satp_xdp_set_conn(xdp, MUX_NOPF, SATP_TAG_MAX, WIN);
	err |= satp_xdp_set_conn_flags(xdp, MUX_NOPF, SATP_XDP_CONN_NO_PREFILTER);
	err |= satp_xdp_set_conn(xdp, MUX_NOPF, SATP_TAG_DEFAULT, WIN);
	err |= satp_xdp_set_conn(xdp, MUX_UNV, SATP_TAG_DEFAULT, WIN);
	seed_window(SLOT_UNV, 0, TOP, WIN, sid1_bits, 3);
	err |= satp_xdp_bind_window(xdp, MUX_UNV, 1, SLOT_UNV);
	seed_window(SLOT_SID1, 0, TOP, WIN, sid1_bits, 3);
	seed_window(SLOT_NOPF, 0, TOP, WIN, sid1_bits, 3);
	seed_window(SLOT_SID2, 2, TOP, 0, NULL, 0);
	seed_window(SLOT_W0, 0, TOP, WIN, sid1_bits, 1);
	seed_window(SLOT_BUSY, 7, TOP, WIN, sid1_bits, 1);
	seed_window(SLOT_WRAP, 4, 10, WIN, wrap_bits, 2);
	err |= satp_xdp_bind_window(xdp, MUX_W64, 1, SLOT_SID1);
	err |= satp_xdp_bind_window(xdp, MUX_W64, 2, SLOT_SID2);
	err |= satp_xdp_bind_window(xdp, MUX_W0, 1, SLOT_W0);
	err |= satp_xdp_bind_window(xdp, MUX_W64, 4, SLOT_BUSY);
	err |= satp_xdp_bind_window(xdp, MUX_W64, 5, SLOT_WRAP);
	err |= satp_xdp_bind_window(xdp, MUX_NOPF, 1, SLOT_NOPF);
	return err;
}

static void fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failures++;
}

/* satp_frame_build's layout: the header sizes it writes. */
#define FRAME_ETH_HLEN	14
#define FRAME_VLAN_HLEN 4
#define FRAME_IPV4_HLEN 20
#define FRAME_IPV6_HLEN 40
#define FRAME_EXT_HLEN	8 /* its IPv6 extension headers alternate 8 and 16 bytes */

/* What satp_rx must hand the AF_XDP socket with the frame of s: where its headers are. */
static struct satp_xdp_meta want_meta(const struct satp_frame_spec *s)
{
	struct satp_xdp_meta m = {.magic = SATP_XDP_META_MAGIC, .family = (__u16)s->family};
	int l4, i;

	m.l3_off = (__u16)(FRAME_ETH_HLEN + FRAME_VLAN_HLEN * s->vlans);
	if (s->family == AF_INET) {
		l4 = m.l3_off + FRAME_IPV4_HLEN + s->ip4_opt_len;
	} else {
		l4 = m.l3_off + FRAME_IPV6_HLEN;
		for (i = 0; i < s->ip6_exts; i++)
			l4 += FRAME_EXT_HLEN * (1 + (i & 1));
	}
	m.l4_off = (__u16)l4;
	return m;
}

/*
 * A frame on its way to the AF_XDP socket (no socket in a test run: the
 * no-socket reason) carries struct satp_xdp_meta before it, and nothing else
 * does; the frame itself is unchanged either way.
 */
/*
 * The daemon reads what satp_rx handed over (satpd_frame_meta), and parses a
 * frame that came without it (satpd_frame_parse, user/satpd/frame.c): both
 * must find the headers where satp_rx found them, and the datagram the same.
 */
static void check_daemon_parse(const struct row *r, const uint8_t *in, size_t len,
			       const uint8_t *out, uint32_t out_len)
{
	struct satp_xdp_meta read = {0}, parsed = {0};
	struct satpd_rx_frame fm, fp;
	uint8_t copy[SATP_FRAME_MAX + 256], frame[SATP_FRAME_MAX];

	memcpy(copy, out, out_len);
	memcpy(frame, in, len);
	if (!satpd_frame_meta(copy + sizeof(read), sizeof(read), (uint32_t)len, &read)) {
		fail(r->name, "the daemon did not take satp_rx's metadata");
		return;
	}
	if (satpd_frame_meta(copy + sizeof(read), sizeof(read), (uint32_t)len, &parsed))
		fail(r->name, "the metadata's magic was not wiped once read");
	if (!satpd_frame_parse(frame, (uint32_t)len, &parsed)) {
		fail(r->name, "the daemon's parser did not find the datagram satp_rx redirected");
		return;
	}
	if (parsed.family != read.family || parsed.l3_off != read.l3_off ||
	    parsed.l4_off != read.l4_off) {
		fail(r->name, "parser: family %u l3 %u l4 %u, satp_rx: %u %u %u", parsed.family,
		     parsed.l3_off, parsed.l4_off, read.family, read.l3_off, read.l4_off);
		return;
	}
	if (!satpd_frame_datagram(copy + sizeof(read), (uint32_t)len, &read, &fm) ||
	    !satpd_frame_datagram(frame, (uint32_t)len, &parsed, &fp) || fm.dglen != fp.dglen ||
	    fm.dport != fp.dport || fm.srclen != fp.srclen || memcmp(&fm.src, &fp.src, fm.srclen))
		fail(r->name, "the datagram by metadata and by parsing differ");
}

static void check_meta(const struct row *r, const uint8_t *in, size_t len, const uint8_t *out,
		       uint32_t out_len)
{
	struct satp_xdp_meta m, want = want_meta(&r->spec);
	size_t meta_len = r->why == SATP_XDP_DROP_NO_SOCKET ? sizeof(m) : 0;

	if (out_len != len + meta_len) {
		fail(r->name, "%u bytes out of %zu, want %zu of metadata before the frame", out_len,
		     len, meta_len);
		return;
	}
	if (memcmp(out + meta_len, in, len))
		fail(r->name, "frame changed");
	if (!meta_len)
		return;
	memcpy(&m, out, sizeof(m));
	if (memcmp(&m, &want, sizeof(m)))
		fail(r->name,
		     "metadata magic %#x family %u l3 %u l4 %u pad %u, want %#x %u %u %u 0",
		     m.magic, m.family, m.l3_off, m.l4_off, m.pad, want.magic, want.family,
		     want.l3_off, want.l4_off);
	check_daemon_parse(r, in, len, out, out_len);
}

static void run_row(const struct row *r)
{
	struct satp_xdp_counter before[SATP_XDP_REASON_MAX], after[SATP_XDP_REASON_MAX];
	struct satp_xdp_sender_stats sb = {}, sa = {};
	uint8_t in[SATP_FRAME_MAX], out[SATP_FRAME_MAX + 256];
	LIBBPF_OPTS(bpf_test_run_opts, t);
	size_t len = satp_frame_build(&r->spec, in, sizeof(in));
	int bad = failures, err, i;

	if (!len) {
		fail(r->name, "frame does not build");
		return;
	}
	if (r->cut)
		len = r->cut;
	t.data_in = in;
	t.data_size_in = (__u32)len;
	t.data_out = out;
	t.data_size_out = sizeof(out);
	t.repeat = 1;

	if (satp_xdp_set_flags(xdp, r->flags) || satp_xdp_read_counters(xdp, before))
		return fail(r->name, "cannot read counters");
	if (r->slot >= 0)
		satp_xdp_read_sender_stats(xdp, (uint32_t)r->slot, &sb);
	err = bpf_prog_test_run_opts(satp_xdp_prog_fd(xdp), &t);
	runs += err ? 0 : 1;
	satp_xdp_read_counters(xdp, after);
	if (r->slot >= 0)
		satp_xdp_read_sender_stats(xdp, (uint32_t)r->slot, &sa);

	if (err) {
		fail(r->name, "test run failed: %s", strerror(errno));
		return;
	}
	if ((int)t.retval != r->action)
		fail(r->name, "action %u, want %d", t.retval, r->action);
	for (i = 0; i < SATP_XDP_REASON_MAX; i++) {
		uint64_t dp = after[i].packets - before[i].packets;
		uint64_t db = after[i].bytes - before[i].bytes;
		uint64_t wp = i == (int)r->why ? 1 : 0;

		if (dp != wp || db != wp * len)
			fail(r->name,
			     "counter %s moved by %llu packets %llu bytes, want %llu, %llu",
			     satp_xdp_reason_names[i], (unsigned long long)dp,
			     (unsigned long long)db, (unsigned long long)wp,
			     (unsigned long long)(wp * len));
	}
	if (r->slot >= 0 && sa.rx_dropped - sb.rx_dropped != (uint64_t)r->dropped)
		fail(r->name, "slot %d rx_dropped moved by %llu, want %d", r->slot,
		     (unsigned long long)(sa.rx_dropped - sb.rx_dropped), r->dropped);
	if (r->action == XDP_PASS && (t.data_size_out != len || memcmp(in, out, len)))
		fail(r->name, "passed frame changed (%u bytes out of %zu)", t.data_size_out, len);
	check_meta(r, in, len, out, t.data_size_out);
	if (failures == bad)
		printf("ok   %-58s %-4zu %s%s\n", r->name, len, satp_xdp_reason_names[r->why],
		       r->why == SATP_XDP_DROP_NO_SOCKET ? " +meta" : "");
}

static uint64_t sum_packets(const struct satp_xdp_counter *c)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < SATP_XDP_REASON_MAX; i++)
		n += c[i].packets;
	return n;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * Rows against the budgets in order (each row's source is in its spec): one
 * source's budget of HS_SLOW_PPS and SATP_HS_RATELIMIT_BURST, and a ceiling
 * of HS_CEIL_BURST of which half is kept for sources within their budget.
 * Nothing refills while they run. The comments count the ceiling's debt.
 */
static void run_hs_rows(void)
{
	static const char *const nth[] = {"1st", "2nd", "3rd", "4th", "5th"};
	struct satp_frame_spec mapped = hs6(0, 96);
	static char names[2][5][64];
	struct row rows[32];
	size_t n = 0, i;

#define H(name, spec, verdict) rows[n++] = mkrow(name, spec, 0, verdict, 0)
	for (i = 0; i < 5; i++) { /* 5 */
		snprintf(names[0][i], sizeof(names[0][i]), "budget: %s junk of a burst passes",
			 nth[i]);
		H(names[0][i], hs4(20, SATP_HS_MIN_LEN), HS_PASS);
	}
	H("budget: 6th junk from one source: shared part", hs4(20, 56), PASS(PASS_HS_SHARED));
	H("budget: the source's initiation: shared part", hs4(20, 152), PASS(PASS_HS_SHARED));
	H("budget: 8th from it: the last of the shared part", hs4(20, 152), PASS(PASS_HS_SHARED));
	H("budget: 9th from it: over, shared part used up", hs4(20, 152), DROP(DROP_HS_RATELIMIT));
	H("budget: another source: from the reserve", hs4(21, 152), HS_PASS); /* 9 */
	H("budget: the first source, any length, still over", hs4(20, SATP_HS_MIN_LEN),
	  DROP(DROP_HS_RATELIMIT));
	H("budget: too short is that, and costs no token", hs4(20, SATP_HS_MIN_LEN - 1),
	  DROP(DROP_HS_TOO_SHORT));
	/* ::ffff:10.99.1.20 is the IPv4 source: one budget, whichever family it uses. */
	memset(mapped.src, 0, 16);
	memcpy(mapped.src + 10, "\xff\xff\x0a\x63\x01\x14", 6);
	H("budget: ::ffff:10.99.1.20 is that source too", mapped, DROP(DROP_HS_RATELIMIT));
	H("budget: SATP data from it is judged as ever", V4(MUX_W64, 9, 1), NOSOCK);
	for (i = 0; i < 5; i++) { /* 14 */
		snprintf(names[1][i], sizeof(names[1][i]), "budget: ipv6 source, %s passes",
			 nth[i]);
		H(names[1][i], hs6(22, SATP_HS_RESPONSE_LEN), HS_PASS);
	}
	H("budget: ipv6 source, 6th: shared part used up", hs6(22, 96), DROP(DROP_HS_RATELIMIT));
	H("budget: new source, reserve", hs4(23, 152), HS_PASS);	    /* 15 */
	H("budget: new source, the ceiling's last", hs6(24, 152), HS_PASS); /* 16 */
	H("budget: new source, all sources' budget spent", hs4(25, 152), DROP(DROP_HS_CEILING));
#undef H
	if (satp_xdp_set_hs_ceiling(xdp, HS_SLOW_PPS, HS_CEIL_BURST))
		return fail("budget", "cannot set the ceiling");
	for (i = 0; i < n; i++)
		run_row(&rows[i]);
}

struct flood {
	uint64_t own;	 /* pass-handshake: within the source's budget */
	uint64_t shared; /* pass-hs-shared */
	uint64_t over;	 /* drop-hs-ratelimit */
};

/* hs4(src) repeated in one test run: what passed on which budget, what was over. */
static int hs_flood(uint8_t src, unsigned int repeat, struct flood *f)
{
	struct satp_xdp_counter before[SATP_XDP_REASON_MAX], after[SATP_XDP_REASON_MAX];
	struct satp_frame_spec spec = hs4(src, SATP_HS_INITIATION_LEN);
	uint8_t in[SATP_FRAME_MAX], out[SATP_FRAME_MAX + 256];
	uint64_t ceiling;
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = in, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = repeat);

	t.data_size_in = (__u32)satp_frame_build(&spec, in, sizeof(in));
	if (satp_xdp_read_counters(xdp, before) ||
	    bpf_prog_test_run_opts(satp_xdp_prog_fd(xdp), &t))
		return -1;
	runs += repeat;
	if (satp_xdp_read_counters(xdp, after))
		return -1;
#define D(r) (after[SATP_XDP_##r].packets - before[SATP_XDP_##r].packets)
	f->own = D(PASS_HANDSHAKE);
	f->shared = D(PASS_HS_SHARED);
	f->over = D(DROP_HS_RATELIMIT);
	ceiling = D(DROP_HS_CEILING);
#undef D
	if (ceiling) {
		/* the rows assume one source never reaches the ceiling of all sources */
		fprintf(stderr, "hs flood: %llu of %u dropped by the ceiling of all sources\n",
			(unsigned long long)ceiling, repeat);
		return -1;
	}
	if (f->own + f->shared + f->over != repeat ||
	    sum_packets(after) - sum_packets(before) != repeat)
		return -1;
	return 0;
}

/*
 * The budget's rows at one datagram a second (nothing refills while they
 * run), then refill at 1000/s: a flood from one source gets its burst and
 * about one datagram a millisecond (of the jiffies clock XDP reads) on its
 * own budget, the ceiling's shared half beyond that, and no more; after a
 * pause longer than a burst takes to refill, a whole burst again. Then the
 * defaults are restored.
 */
static void run_hs_budget(void)
{
	int burst = SATP_HS_RATELIMIT_BURST, bad = failures;
	struct flood f1, f2;
	/* a burst refills in (burst + 1) ms; two ticks of the jiffies clock more */
	struct timespec pause = {.tv_nsec = 30 * 1000 * 1000};
	double t0, ms;

	if (satp_xdp_set_hs_ratelimit(xdp, HS_SLOW_PPS, 0))
		return fail("budget", "cannot set %d/s", HS_SLOW_PPS);
	run_hs_rows();

	if (satp_xdp_set_hs_ratelimit(xdp, HS_FAST_PPS, 0) ||
	    satp_xdp_set_hs_ceiling(xdp, HS_SLOW_PPS, HS_FLOOD_CEIL_BURST))
		return fail("budget", "cannot set %d/s", HS_FAST_PPS);
	t0 = now_ms();
	if (hs_flood(30, HS_FLOOD_RUNS, &f1))
		return fail("refill", "test run failed or the counters do not add up");
	ms = now_ms() - t0;
	nanosleep(&pause, NULL);
	if (hs_flood(30, HS_FLOOD_RUNS, &f2))
		return fail("refill", "test run failed or the counters do not add up");
	if (f1.own < (uint64_t)burst || (double)f1.own > burst + ms + HS_TICK_MS_MAX + 1 ||
	    !f1.over)
		fail(
		    "refill",
		    "a flood of %d in %.2f ms: %llu passed on its own, %llu over, want %d + <= %.0f",
		    HS_FLOOD_RUNS, ms, (unsigned long long)f1.own, (unsigned long long)f1.over,
		    burst, ms + HS_TICK_MS_MAX + 1);
	/* the shared half, less what the source's own took while it lasted */
	if (!f1.shared || f1.shared + f1.own > HS_FLOOD_CEIL_BURST ||
	    f1.shared > HS_FLOOD_CEIL_BURST / 2)
		fail("refill", "%llu passed on the shared half of a ceiling of %d",
		     (unsigned long long)f1.shared, HS_FLOOD_CEIL_BURST);
	if (f2.own < (uint64_t)burst || !f2.over || f2.shared)
		fail("refill",
		     "after a pause: %llu passed on its own, %llu shared, %llu over, want a whole "
		     "burst (%d), none shared",
		     (unsigned long long)f2.own, (unsigned long long)f2.shared,
		     (unsigned long long)f2.over, burst);
	if (failures == bad)
		printf("ok   refill at %d/s: a flood of %d in %.2f ms: %llu passed on its own "
		       "budget, %llu shared, %llu over; after 30 ms: %llu on its own\n",
		       HS_FAST_PPS, HS_FLOOD_RUNS, ms, (unsigned long long)f1.own,
		       (unsigned long long)f1.shared, (unsigned long long)f1.over,
		       (unsigned long long)f2.own);
	if (satp_xdp_set_hs_ratelimit(xdp, 0, 0) || satp_xdp_set_hs_ceiling(xdp, 0, 0))
		fail("budget", "cannot restore the defaults");
}

/*
 * Senders with no window yet: UNV_BURST datagrams per connection, then
 * drop-unverified; a verified sender, another connection, and connections
 * without shared windows are not charged. Nothing refills at 1/s.
 */
static void run_unverified(void)
{
	struct row rows[24];
	size_t n = 0, i;

#define U(name, spec, verdict) rows[n++] = mkrow(name, spec, 0, verdict, 0)
	U("unverified: 1st new sender of a connection", V4(MUX_UNV, 9, 1), NOSOCK);
	U("unverified: 2nd, another sender id", V6(MUX_UNV, 10, 1), NOSOCK);
	U("unverified: 3rd, the burst's last", V4(MUX_UNV, 11, 1), NOSOCK);
	U("unverified: 4th forged sender id dropped", V4(MUX_UNV, 12, 1), DROP(DROP_UNVERIFIED));
	U("unverified: the first sender again, still unverified", V4(MUX_UNV, 9, 2),
	  DROP(DROP_UNVERIFIED));
	U("unverified: a verified sender is not charged", V4(MUX_UNV, 1, TOP + 1),
	  NOSOCK_SLOT(SLOT_UNV));
	U("unverified: ... nor its replay pre-filter", V4(MUX_UNV, 1, TOP),
	  SLOT(DROP_REPLAY, SLOT_UNV, 1));
	U("unverified: a too short one is that", v4(MUX_UNV, 13, 1, MIN_OK - 1),
	  DROP(DROP_TOO_SHORT));
	U("unverified: another connection has its own budget", V4(MUX_TAG20, 9, 1), NOSOCK);
	for (i = 0; i <= UNV_BURST; i++) {
		U("unverified: window 0 never charged", V4(MUX_W0, 9, 1), NOSOCK);
		U("unverified: session keys never charged", V4(MUX_NOPF, 9, 1), NOSOCK);
	}
#undef U
	if (satp_xdp_set_unverified_budget(xdp, HS_SLOW_PPS, UNV_BURST))
		return fail("unverified", "cannot set the budget");
	for (i = 0; i < n; i++)
		run_row(&rows[i]);
	if (satp_xdp_set_unverified_budget(xdp, 0, 0))
		fail("unverified", "cannot restore the defaults");
}

/* Every prefix of a valid frame: where the cut lands decides the reason. */
static void run_truncations(const char *what, struct satp_frame_spec spec, size_t l4_off)
{
	uint8_t buf[SATP_FRAME_MAX];
	size_t full = satp_frame_build(&spec, buf, sizeof(buf)), cut;
	char name[96];
	int bad = failures, n = 0;

	for (cut = 14; cut < full; cut++) {
		struct row r = {.name = name, .spec = spec, .cut = cut, .slot = -1};

		snprintf(name, sizeof(name), "%s cut to %zu of %zu", what, cut, full);
		if (cut < l4_off + 8) {
			r.action = XDP_PASS;
			r.why = SATP_XDP_PASS_MALFORMED;
		} else {
			r.action = XDP_DROP;
			r.why = SATP_XDP_DROP_TRUNCATED;
		}
		run_row(&r);
		n++;
	}
	printf("%s %s: %d truncations (14..%zu bytes)\n", failures == bad ? "ok  " : "FAIL", what,
	       n, full - 1);
}

/* Below an Ethernet header the kernel refuses the test run itself. */
static void run_runts(void)
{
	uint8_t in[14] = {0}, out[64];
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = in, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	size_t len;

	for (len = 0; len < sizeof(in); len++) {
		t.data_size_in = (__u32)len;
		if (!bpf_prog_test_run_opts(satp_xdp_prog_fd(xdp), &t) || errno != EINVAL) {
			fail("runt", "a %zu-byte frame was not refused with EINVAL", len);
			return;
		}
	}
	printf("ok   frames of 0..13 bytes are refused by BPF_PROG_TEST_RUN (EINVAL)\n");
}

struct race {
	struct satp_window *w;
	atomic_bool stop;
	unsigned long commits;
};

/*
 * The seqs the writer commits: even ones in even laps of the ring, odd ones in
 * odd laps. Every seq it skips shares its ring bit with a committed seq one
 * lap earlier, so a reader that took a new top with stale bits would call it a
 * replay: the seqlock is what prevents that.
 */
static bool committed_kind(uint32_t seq)
{
	return ((seq / SATP_WINDOW_BITS) & 1) == (seq & 1);
}

static void *race_writer(void *arg)
{
	struct race *r = arg;
	uint32_t seq = RACE_START, back;

	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		seq += (r->commits % 4096 == 4095) ? RACE_JUMP : 1;
		if (!committed_kind(seq))
			continue;
		satp_window_commit(r->w, seq);
		/* and an older one inside the window, out of order */
		back = seq - (uint32_t)(r->commits % (WIN - 1));
		if (committed_kind(back))
			satp_window_commit(r->w, back);
		r->commits++;
	}
	return NULL;
}

static uint64_t slot_dropped(uint32_t slot)
{
	struct satp_xdp_sender_stats st = {0};

	satp_xdp_read_sender_stats(xdp, slot, &st);
	return st.rx_dropped;
}

/*
 * XDP never calls a seq that was never committed a replay, whatever view of
 * the moving window it gets; it may call it too old, and since top only grows
 * it must still be too old after the run.
 */
static void run_race(void)
{
	struct satp_frame_spec spec = V4(MUX_W64, 6, 0);
	struct race r = {.w = &satp_xdp_windows(xdp)[SLOT_RACE]};
	struct satp_xdp_counter before[SATP_XDP_REASON_MAX], after[SATP_XDP_REASON_MAX];
	uint8_t in[SATP_FRAME_MAX], out[SATP_FRAME_MAX + 256];
	unsigned long i, old = 0, through = 0, bad = 0;
	uint64_t dropped = 0, now_dropped, replays;
	LIBBPF_OPTS(bpf_test_run_opts, t);
	pthread_t th;
	uint32_t top;

	satp_window_init(r.w, WIN);
	satp_window_commit(r.w, RACE_START);
	if (satp_xdp_bind_window(xdp, MUX_W64, 6, SLOT_RACE) ||
	    satp_xdp_read_counters(xdp, before) || pthread_create(&th, NULL, race_writer, &r))
		return fail("race", "cannot start the writer");
	dropped = slot_dropped(SLOT_RACE);
	for (i = 0; i < RACE_RUNS; i++) {
		top = __atomic_load_n(&r.w->top, __ATOMIC_RELAXED);
		spec.seq = top - 1 - (uint32_t)(i % (2 * WIN));
		while (committed_kind(spec.seq))
			spec.seq--;
		t.data_size_in = (__u32)satp_frame_build(&spec, in, sizeof(in));
		t.data_in = in;
		t.data_out = out;
		t.data_size_out = sizeof(out);
		t.repeat = 1;
		if (bpf_prog_test_run_opts(satp_xdp_prog_fd(xdp), &t))
			break;
		runs++;
		if (t.retval != XDP_DROP)
			break;
		now_dropped = slot_dropped(SLOT_RACE);
		if (now_dropped == dropped) {
			through++;
			continue;
		}
		dropped = now_dropped;
		top = __atomic_load_n(&r.w->top, __ATOMIC_RELAXED);
		if (satp_window_classify(top, WIN, spec.seq) == SATP_WINDOW_TOO_OLD)
			old++;
		else
			bad++;
	}
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	satp_xdp_read_counters(xdp, after);
	replays = after[SATP_XDP_DROP_REPLAY].packets - before[SATP_XDP_DROP_REPLAY].packets;
	if (i != RACE_RUNS || bad || replays)
		fail("race", "%lu of %d runs, %lu dropped while not too old, %llu as replays", i,
		     RACE_RUNS, bad, (unsigned long long)replays);
	else
		printf("ok   race: %d test runs against %lu commits: %lu through, %lu too old, "
		       "no uncommitted seq dropped as seen\n",
		       RACE_RUNS, r.commits, through, old);
}

/* Fill the IPv6 list to n entries (one is there), add one more, then take them out. */
static int add_v6_addrs(unsigned int n)
{
	uint8_t a[16] = {0xfd, 0, 0, 0x98};
	unsigned int i;
	int err = 0, last;

	for (i = 1; i < n && !err; i++) {
		a[15] = (uint8_t)i;
		err = satp_xdp_set_addr(xdp, AF_INET6, a, true);
	}
	a[15] = 0xff;
	last = err ? err : satp_xdp_set_addr(xdp, AF_INET6, a, true);
	for (i = 1; i < n; i++) {
		a[15] = (uint8_t)i;
		satp_xdp_set_addr(xdp, AF_INET6, a, false);
	}
	return last;
}

/* Bad input to the loader: a clear errno, nothing changed, nothing crashes. */
static void run_loader_errors(void)
{
	static const uint8_t addr[16] = {1};
	struct satp_xdp_opts bad_if = {.ifname = "a/b"}, long_if = {.ifname = "abcdefghijklmnopq"};
	struct satp_xdp_opts bad_mode = {.no_pin = true, .mode = (enum satp_xdp_attach_mode)9};
	struct satp_xdp_opts gone = {.ifname = "satp-none0", .no_pin = true};
	struct satp_xdp *other = NULL;
	struct {
		const char *what;
		int got, want;
	} c[] = {
	    {"tag length 21", satp_xdp_set_conn(xdp, 1, SATP_TAG_MAX + 1, 0), -EINVAL},
	    {"window 4097", satp_xdp_set_conn(xdp, 1, 10, SATP_WINDOW_BITS + 1), -EINVAL},
	    {"window slot 1024", satp_xdp_bind_window(xdp, 1, 1, SATP_XDP_WINDOW_SLOTS), -EINVAL},
	    {"port range 10:5", satp_xdp_set_port_range(xdp, 10, 5, true), -EINVAL},
	    {"address family 99", satp_xdp_set_addr(xdp, 99, addr, true), -EAFNOSUPPORT},
	    {"unknown flag", satp_xdp_set_flags(xdp, 0x80), -EINVAL},
	    {"XSKMAP queue 64", satp_xdp_register_xsk(xdp, SATP_XDP_MAX_QUEUES, 3), -EINVAL},
	    {"delete absent mux", satp_xdp_del_conn(xdp, 4321), -ENOENT},
	    {"mux 65535 (handshake)", satp_xdp_set_conn(xdp, SATP_HS_MUX, 10, 0), -EINVAL},
	    {"connection flag 0x2", satp_xdp_set_conn_flags(xdp, MUX_W64, 0x2), -EINVAL},
	    {"flags of an absent mux", satp_xdp_set_conn_flags(xdp, 4321, 0), -ENOENT},
	    {"handshake budget 1e9+1/s", satp_xdp_set_hs_ratelimit(xdp, SATP_XDP_HS_PPS_MAX + 1, 0),
	     -EINVAL},
	    {"handshake ceiling 1e9+1/s", satp_xdp_set_hs_ceiling(xdp, SATP_XDP_HS_PPS_MAX + 1, 0),
	     -EINVAL},
	    {"unverified budget 1e9+1/s",
	     satp_xdp_set_unverified_budget(xdp, SATP_XDP_HS_PPS_MAX + 1, 0), -EINVAL},
	    {"delete absent address", satp_xdp_set_addr(xdp, AF_INET, addr, false), -ENOENT},
	    {"ninth IPv6 address", add_v6_addrs(SATP_XDP_MAX_ADDRS), -ENOSPC},
	    {"interface 'a/b'", satp_xdp_open(&bad_if, &other), -EINVAL},
	    {"17-char interface", satp_xdp_open(&long_if, &other), -EINVAL},
	    {"attach mode 9", satp_xdp_open(&bad_mode, &other), -EINVAL},
	};
	size_t i;
	int bad = failures, err;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (c[i].got != c[i].want)
			fail("loader", "%s: %d, want %d", c[i].what, c[i].got, c[i].want);
	/* A missing interface is found at attach, not open (tests load without one). */
	err = satp_xdp_open(&gone, &other);
	if (!err) {
		err = satp_xdp_attach(other);
		satp_xdp_close(other);
	}
	if (err != -ENODEV)
		fail("loader", "attach to a missing interface: %d, want %d", err, -ENODEV);
	if (failures == bad)
		printf(
		    "ok   loader: %zu bad inputs refused with the right errno, missing interface "
		    "-ENODEV\n",
		    i);
}

/*
 * RAIL: per-path counters. Path 0 is (local port RAIL_FIRST, 10.99.0.1:4444),
 * path 1 (RAIL_FIRST + 1, [fd00:0:0:99::1]:4444), as the daemon writes them
 * once it learned each path's remote. Each row: the frame, the cfg flags, the
 * verdict, and what must move in which path's seen/dropped.
 */
struct rail_row {
	const char *name;
	struct satp_frame_spec spec;
	uint32_t flags;
	int action;
	enum satp_xdp_reason why;
	int path; /* -1: no path may move */
	uint64_t seen, dropped;
	bool link; /* run satp_rail_rx (a RAIL link) instead of satp_rx */
};

static struct satp_frame_spec sport(struct satp_frame_spec s, uint16_t p)
{
	s.sport = p;
	return s;
}

static struct satp_frame_spec src(struct satp_frame_spec s, const uint8_t *a, size_t n)
{
	memcpy(s.src, a, n);
	return s;
}

static struct satp_xdp_path_key rail_key(const struct satp_frame_spec *s)
{
	struct satp_xdp_path_key k = {
	    .family = (__u16)s->family, .lport = s->dport, .rport = s->sport};

	memcpy(k.raddr, s->src, s->family == AF_INET ? 4 : 16);
	return k;
}

static int read_paths(struct satp_xdp_path_stats st[2])
{
	return satp_xdp_read_rail_stats(xdp, 0, &st[0]) ?: satp_xdp_read_rail_stats(xdp, 1, &st[1]);
}

static void run_rail_row(const struct rail_row *r)
{
	struct satp_xdp_counter before[SATP_XDP_REASON_MAX], after[SATP_XDP_REASON_MAX];
	struct satp_xdp_path_stats pb[2], pa[2];
	uint8_t in[SATP_FRAME_MAX], out[SATP_FRAME_MAX + 256];
	LIBBPF_OPTS(bpf_test_run_opts, t);
	int bad = failures, i;

	t.data_in = in;
	t.data_size_in = (__u32)satp_frame_build(&r->spec, in, sizeof(in));
	t.data_out = out;
	t.data_size_out = sizeof(out);
	t.repeat = 1;
	if (satp_xdp_set_flags(xdp, r->flags) || satp_xdp_read_counters(xdp, before) ||
	    read_paths(pb))
		return fail(r->name, "cannot read counters");
	if (bpf_prog_test_run_opts(r->link ? satp_xdp_link_prog_fd(xdp) : satp_xdp_prog_fd(xdp),
				   &t))
		return fail(r->name, "test run failed: %s", strerror(errno));
	runs++;
	satp_xdp_read_counters(xdp, after);
	read_paths(pa);
	if ((int)t.retval != r->action)
		fail(r->name, "action %u, want %d", t.retval, r->action);
	if (after[r->why].packets - before[r->why].packets != 1)
		fail(r->name, "counter %s did not move", satp_xdp_reason_names[r->why]);
	for (i = 0; i < 2; i++) {
		uint64_t ws = i == r->path ? r->seen : 0, wd = i == r->path ? r->dropped : 0;

		if (pa[i].seen - pb[i].seen != ws || pa[i].dropped - pb[i].dropped != wd)
			fail(r->name, "path %d seen +%llu dropped +%llu, want +%llu +%llu", i,
			     (unsigned long long)(pa[i].seen - pb[i].seen),
			     (unsigned long long)(pa[i].dropped - pb[i].dropped),
			     (unsigned long long)ws, (unsigned long long)wd);
		if (ws && (!pa[i].last_ns || pa[i].last_ns < pb[i].last_ns))
			fail(r->name, "path %d last_ns did not move (%llu)", i,
			     (unsigned long long)pa[i].last_ns);
	}
	if (failures == bad)
		printf("ok   %-58s path %-2d %s\n", r->name, r->path,
		       satp_xdp_reason_names[r->why]);
}

static void run_rail(void)
{
	static const uint8_t peer4b[4] = {10, 99, 0, 7};
	const uint32_t R = SATP_XDP_RAIL;
	struct satp_frame_spec p0 = port(V4(MUX_W64, 1, TOP), RAIL_FIRST);
	struct satp_frame_spec p1 = port(V6(MUX_W64, 1, TOP), RAIL_FIRST + 1);
	struct satp_xdp_path_key k0 = rail_key(&p0), k1 = rail_key(&p1), bad = k0;
	const struct rail_row rows[] = {
	    {"rail: path 0, new seq: seen", port(V4(MUX_W64, 1, TOP + 1), RAIL_FIRST), R, XDP_DROP,
	     SATP_XDP_DROP_NO_SOCKET, 0, 1, 0, false},
	    {"rail: path 0, committed seq: seen, dropped", p0, R, XDP_DROP, SATP_XDP_DROP_REPLAY, 0,
	     1, 1, false},
	    {"rail: path 0, too old: seen, dropped", port(V4(MUX_W64, 1, 0), RAIL_FIRST), R,
	     XDP_DROP, SATP_XDP_DROP_TOO_OLD, 0, 1, 1, false},
	    {"rail: path 1 (ipv6), committed seq", p1, R, XDP_DROP, SATP_XDP_DROP_REPLAY, 1, 1, 1,
	     false},
	    {"rail: path 0, sender without a window: seen", port(V4(MUX_W64, 3, TOP), RAIL_FIRST),
	     R, XDP_DROP, SATP_XDP_DROP_NO_SOCKET, 0, 1, 0, false},
	    {"rail: path 0's tuple to path 1's port: no path", port(p0, RAIL_FIRST + 1), R,
	     XDP_DROP, SATP_XDP_DROP_REPLAY, -1, 0, 0, false},
	    {"rail: other source port: no path", sport(p0, 4445), R, XDP_DROP, SATP_XDP_DROP_REPLAY,
	     -1, 0, 0, false},
	    {"rail: other source address: no path", src(p0, peer4b, 4), R, XDP_DROP,
	     SATP_XDP_DROP_REPLAY, -1, 0, 0, false},
	    {"rail: unknown mux: not counted", port(V4(MUX_NONE, 1, TOP), RAIL_FIRST), R, XDP_DROP,
	     SATP_XDP_DROP_UNKNOWN_MUX, -1, 0, 0, false},
	    {"rail: too short: not counted", port(v4(MUX_W64, 1, TOP, MIN_OK - 1), RAIL_FIRST), R,
	     XDP_DROP, SATP_XDP_DROP_TOO_SHORT, -1, 0, 0, false},
	    {"rail: flag off: not counted", p0, 0, XDP_DROP, SATP_XDP_DROP_REPLAY, -1, 0, 0, false},
	    {"rail link: new seq to the UDP socket", port(V4(MUX_W64, 1, TOP + 2), RAIL_FIRST), R,
	     XDP_PASS, SATP_XDP_PASS_RAIL_LINK, 0, 1, 0, true},
	    {"rail link: committed seq dropped", p1, R, XDP_DROP, SATP_XDP_DROP_REPLAY, 1, 1, 1,
	     true},
	    {"rail link: unknown mux dropped", port(V4(MUX_NONE, 1, TOP), RAIL_FIRST), R, XDP_DROP,
	     SATP_XDP_DROP_UNKNOWN_MUX, -1, 0, 0, true},
	    {"rail link: not SATP passed", port(p0, 4445), R, XDP_PASS, SATP_XDP_PASS_NOT_SATP, -1,
	     0, 0, true},
	};
	size_t i;
	int bad_failures = failures;

	if (satp_xdp_set_rail_path(xdp, &k0, 0, true) || satp_xdp_set_rail_path(xdp, &k1, 1, true))
		return fail("rail", "cannot write the path tuples");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_rail_row(&rows[i]);
	/* A path whose remote moved: the old tuple counts no more. */
	if (satp_xdp_set_rail_path(xdp, &k0, 0, false))
		fail("rail", "cannot remove path 0's tuple");
	else
		run_rail_row(&(struct rail_row){"rail: path 0's old tuple removed: no path", p0, R,
						XDP_DROP, SATP_XDP_DROP_REPLAY, -1, 0, 0, false});
	bad.family = 99;
	if (satp_xdp_set_rail_path(xdp, &k1, SATP_XDP_RAIL_PATHS, true) != -EINVAL ||
	    satp_xdp_set_rail_path(xdp, &bad, 0, true) != -EINVAL ||
	    satp_xdp_set_rail_path(xdp, &k0, 0, false) != -ENOENT)
		fail("rail", "path %u, family 99 or an absent tuple accepted", SATP_XDP_RAIL_PATHS);
	satp_xdp_set_flags(xdp, 0);
	if (failures == bad_failures)
		printf("ok   rail: %zu rows, bad path numbers and families refused\n", i + 1);
}

/*
 * Bounds on satp_rx's size, so that growth shows here long before the verifier refuses
 * it. BPF_MAXINSNS (4096) is the kernel's cap on a program without CAP_BPF or
 * CAP_SYS_ADMIN and was the cap for everyone before 5.2: satp_rx stays under it (1213
 * xlated when this was written). The verifier's own limit is 1,000,000 processed
 * instructions (BPF_COMPLEXITY_LIMIT_INSNS); a tenth of it is ~9x today's 10831, room for
 * kernels that explore states differently, still far from a refusal.
 */
#define XLATED_INSNS_MAX   4096
#define VERIFIED_INSNS_MAX 100000

static void check_insns(void)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(satp_xdp_prog_fd(xdp), &info, &len)) {
		fail("verifier", "no program info: %s", strerror(errno));
		return;
	}
	printf("verifier: satp_rx accepted: %u instructions xlated (%u bytes), %u processed "
	       "by the verifier, %u bytes jited\n",
	       info.xlated_prog_len / 8, info.xlated_prog_len, info.verified_insns,
	       info.jited_prog_len);
	if (info.xlated_prog_len / 8 > XLATED_INSNS_MAX)
		fail("verifier", "%u instructions xlated, bound %u", info.xlated_prog_len / 8,
		     XLATED_INSNS_MAX);
	/* verified_insns is 0 on kernels before 5.16, which do not report it */
	if (info.verified_insns > VERIFIED_INSNS_MAX)
		fail("verifier", "%u instructions processed by the verifier, bound %u",
		     info.verified_insns, VERIFIED_INSNS_MAX);
}

int main(void)
{
	struct satp_xdp_counter start[SATP_XDP_REASON_MAX], end[SATP_XDP_REASON_MAX];
	struct satp_xdp_opts o = {.no_pin = true};
	const struct row *rows;
	size_t n, i;
	int err;

	satp_xdp_set_log(NULL, SATP_XDP_LOG_WARN);
	err = satp_xdp_open(&o, &xdp);
	if (err) {
		fprintf(stderr, "cannot load satp_rx: %s\n", strerror(-err));
		return 1;
	}
	check_insns();
	if (seed()) {
		fprintf(stderr, "cannot seed the maps\n");
		satp_xdp_close(xdp);
		return 1;
	}
	satp_xdp_read_counters(xdp, start);
	rows = rows_fixed(&n);
	for (i = 0; i < n; i++)
		run_row(&rows[i]);
	run_hs_budget();
	run_unverified();
	run_truncations("ipv4 valid", V4(MUX_W64, 9, 1), 14 + 20);
	run_truncations("ipv6 valid", V6(MUX_W64, 9, 1), 14 + 40);
	run_truncations("ipv4 QinQ+options", with(V4(MUX_W64, 9, 1), 2, 8, 0, 0), 14 + 8 + 28);
	run_truncations("ipv6 hop-by-hop+dstopts", with(V6(MUX_W64, 9, 1), 0, 0, 2, 0),
			14 + 40 + 8 + 16);
	run_runts();
	run_rail();
	run_race();
	run_loader_errors();
	satp_xdp_read_counters(xdp, end);
	if (sum_packets(end) - sum_packets(start) != runs)
		fail("counters", "add up to %llu, %llu test runs made",
		     (unsigned long long)(sum_packets(end) - sum_packets(start)),
		     (unsigned long long)runs);
	else
		printf("ok   counters add up: %llu test runs, %llu counted\n",
		       (unsigned long long)runs,
		       (unsigned long long)(sum_packets(end) - sum_packets(start)));
	satp_xdp_close(xdp);
	printf("%s: %zu table rows, %d failures\n", failures ? "FAIL" : "PASS", n, failures);
	return failures ? 1 : 0;
}
