/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The XDP fast path's ABI: every map key and value, the counter enum and its
 * names, the map capacities. Included by bpf/satp_xdp.bpf.c and by the
 * userspace loader (user/satpd/xdp_loader.c), never copied.
 *
 * Maps (pinned under <pinroot>/satpd/<ifname>/, all BTF-typed):
 *
 *   satp_cfg       array[1]            struct satp_xdp_config    local addresses, attach info
 *   satp_ports     array[1024]         __u64 (64 ports a word)   the SATP destination port set
 *   satp_conns     hash conn_key       struct satp_xdp_conn      connections by mux
 *   satp_win_idx   hash sender_key     __u32 slot                filled by the daemon after auth
 *   satp_windows   array[slots] mmap   struct satp_window        replay windows (satp_window.h)
 *   satp_snd_stats percpu array[slots] struct satp_xdp_sender_stats, indexed like satp_windows
 *   satp_counters  percpu array[MAX]   struct satp_xdp_counter   one entry per verdict reason
 *   satp_xsks      xskmap[queues]      AF_XDP socket fd by rx queue
 *   satp_hs_budget lru hash hs_key     struct satp_xdp_hs_budget handshake budget by source
 *   satp_hs_ceiling array[1]           struct satp_xdp_hs_budget handshake budget of all sources
 *   satp_unv_budget array[muxes]       struct satp_xdp_hs_budget unverified senders, by mux
 *   satp_rail_idx  hash path_key       __u32 path                RAIL: a path's remote tuple
 *   satp_rail_stats percpu array[paths] struct satp_xdp_path_stats, indexed by path
 *   satp_routes4   lpm trie route4_key struct satp_xdp_route     inner IPv4 prefix -> mux
 *   satp_routes6   lpm trie route6_key struct satp_xdp_route     inner IPv6 prefix -> mux
 *
 * The route tries are the daemon's routing table (-R, `route` in the config,
 * `satp route`, anytun sync) as an operator reads it (`bpftool map dump`,
 * `satp show`); satp_rx does not read them. Inner packets come from the tun
 * device in userspace, where a bpf() syscall per packet would cost more than
 * the rest of the send path, and an LPM trie cannot be mmapped: the daemon
 * looks up a lock-free copy (user/satpd/lpm.h) kept equal to the tries, which
 * it writes first on every change.
 *
 * Byte order: keys and values are in host order unless a field says "network
 * order". The program converts wire fields (mux, sender id, seq) to host order
 * before using them as keys, so userspace never swaps.
 */
#ifndef SATP_XDP_H
#define SATP_XDP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "satp_window.h"

/* Map capacities. */

/* One window slot per verified (mux, sender id); anycast clusters have a few
 * dozen nodes, RAIL a handful of links per sender: 1024 slots are 528 KiB. */
#define SATP_XDP_WINDOW_SLOTS 1024u
_Static_assert(SATP_XDP_WINDOW_SLOTS * sizeof(struct satp_window) == 528 * 1024,
	       "the size above: SATP_WINDOW_BITS (satp_window.h) sets a slot's");
/* anytun keeps one connection per mux; the mux is 16 bits, the table need not be. */
#define SATP_XDP_MAX_CONNS 4096u
/* Routes per family: an edge of a few thousand connections with a few prefixes
 * each; the tries allocate per entry (BPF_F_NO_PREALLOC), so this is a bound. */
#define SATP_XDP_MAX_ROUTES 65536u
/* Local underlay addresses per family, kept inline in satp_cfg: the daemon binds
 * one -i (uanytun: one per resolved address), and a short compare beside the
 * config it reads anyway costs ~20 ns less per packet than a hash lookup. */
#define SATP_XDP_MAX_ADDRS 8u
/* The port set as a bitmap: 65536 bits, 64 to a word, one array lookup a packet. */
#define SATP_XDP_PORT_WORDS 1024u
/* XSKMAP entries: one AF_XDP socket per receive queue; queues beyond are fail-closed. */
#define SATP_XDP_MAX_QUEUES 64u
/* IPv6 extension headers skipped before giving up (hop-by-hop, routing, dest opts). */
#define SATP_XDP_MAX_EXTHDRS 4
/* 802.1ad outer + 802.1Q inner. */
#define SATP_XDP_MAX_VLANS 2
/* Source addresses with a handshake budget (satp_hs_budget, LRU): real peers
 * number in the hundreds; a flood of spoofed sources evicts the oldest, which
 * then start with a full burst again (the daemon's cookies bound that case,
 * docs/handshake.md §6). About 1.3 MiB. */
#define SATP_XDP_HS_SOURCES 16384u
/* satp_unv_budget: one budget per mux, indexed by it (no insertion, no LRU to
 * flood): 65536 words, 512 KiB. */
#define SATP_XDP_MUXES 65536u
/*
 * Datagrams a second, and a burst, that a connection's senders with no window
 * yet (no satp_win_idx entry: not verified, or new) get from XDP: each costs
 * the daemon a PRF and an HMAC (up to RX_VERIFY_TRIES of them while keys
 * change), so a flood of forged datagrams with random sender ids costs at most
 * this many a second per connection. A real new sender needs one verified
 * datagram to get its window; the burst covers what is in flight meanwhile.
 * satp_cfg can override both.
 */
#define SATP_XDP_UNVERIFIED_PPS	  1000
#define SATP_XDP_UNVERIFIED_BURST 256
/* RAIL paths counted in XDP: satpd_options' SATPD_RAIL_PATHS_MAX (asserted in user/satpd/xsk.c). */
#define SATP_XDP_RAIL_PATHS 16u
/* Remote tuples naming a path: the daemon keeps one per path (the remote it
 * learned last); room for every path's old and new tuple while one moves. */
#define SATP_XDP_RAIL_TUPLES (4 * SATP_XDP_RAIL_PATHS)

/*
 * Verdict reasons: X(ENUM, "name", action). Every packet the program sees
 * ends in exactly one of these and bumps its per-CPU counter once. The
 * action column is the XDP action the reason maps to (XDP_REDIRECT means
 * bpf_redirect_map succeeded; the fallback is the no-socket reason).
 * Append only: the index is the pinned counter map's key.
 */
/* clang-format off */
#define SATP_XDP_REASONS(X)                                                                    \
	X(SATP_XDP_PASS_NOT_IP, "pass-not-ip", XDP_PASS)         /* ARP, LLDP, other EtherType */ \
	X(SATP_XDP_PASS_MALFORMED, "pass-malformed", XDP_PASS)   /* L2-L4 headers cut or bad */    \
	X(SATP_XDP_PASS_FRAGMENT, "pass-fragment", XDP_PASS)     /* IPv4/IPv6 fragment: kernel */  \
	X(SATP_XDP_PASS_NOT_UDP, "pass-not-udp", XDP_PASS)       /* TCP, ICMP, ...  */             \
	X(SATP_XDP_PASS_NOT_SATP, "pass-not-satp", XDP_PASS)     /* UDP, port not in the set */    \
	X(SATP_XDP_PASS_NOT_LOCAL, "pass-not-local", XDP_PASS)   /* SATP port, not our address */  \
	X(SATP_XDP_DROP_TRUNCATED, "drop-truncated", XDP_DROP)   /* UDP/IP length > frame */       \
	X(SATP_XDP_DROP_TOO_SHORT, "drop-too-short", XDP_DROP)   /* < header + ptype + tag */      \
	X(SATP_XDP_DROP_UNKNOWN_MUX, "drop-unknown-mux", XDP_DROP) /* no such connection */        \
	X(SATP_XDP_DROP_REPLAY, "drop-replay", XDP_DROP)         /* seq == top or its bit set */   \
	X(SATP_XDP_DROP_TOO_OLD, "drop-too-old", XDP_DROP)       /* seq <= top - size */           \
	X(SATP_XDP_DROP_NO_SOCKET, "drop-no-socket", XDP_DROP)   /* no AF_XDP socket on queue */   \
	X(SATP_XDP_REDIRECTED, "redirected", XDP_REDIRECT)       /* handed to the AF_XDP socket */ \
	X(SATP_XDP_PASS_ADOPT, "pass-adopt", XDP_PASS)    /* unknown mux, daemon adopting one */ \
	X(SATP_XDP_PASS_HANDSHAKE, "pass-handshake", XDP_PASS) /* mux 0xFFFF within budget */   \
	X(SATP_XDP_DROP_HS_TOO_SHORT, "drop-hs-too-short", XDP_DROP) /* mux 0xFFFF, < 56 bytes */ \
	X(SATP_XDP_DROP_HS_RATELIMIT, "drop-hs-ratelimit", XDP_DROP) /* source over its budget */ \
	X(SATP_XDP_PASS_RAIL_LINK, "pass-rail-link", XDP_PASS) /* RAIL link: to the UDP socket */ \
	X(SATP_XDP_PASS_HS_SHARED, "pass-hs-shared", XDP_PASS) /* source over, shared part left */ \
	X(SATP_XDP_DROP_HS_CEILING, "drop-hs-ceiling", XDP_DROP) /* all sources' budget empty */  \
	X(SATP_XDP_DROP_UNVERIFIED, "drop-unverified", XDP_DROP) /* no window, mux over budget */
/* clang-format on */

#define SATP_XDP_ENUM_(e, name, action) e,
enum satp_xdp_reason {
	SATP_XDP_REASONS(SATP_XDP_ENUM_) SATP_XDP_REASON_MAX
};
#undef SATP_XDP_ENUM_

#ifndef __bpf__
/* Userspace: reason -> name, for satp show, tests and benchmarks. */
#define SATP_XDP_NAME_(e, name, action) [e] = name,
static const char *const satp_xdp_reason_names[SATP_XDP_REASON_MAX] = {
    SATP_XDP_REASONS(SATP_XDP_NAME_)};
#undef SATP_XDP_NAME_
#endif

/* satp_counters value: per CPU; userspace sums over possible CPUs. */
struct satp_xdp_counter {
	__u64 packets;
	__u64 bytes; /* whole frames as XDP saw them (L2 included) */
};

/* satp_xdp_config.flags */
#define SATP_XDP_ANY_ADDR4 1u /* bound to 0.0.0.0: any IPv4 destination is local */
#define SATP_XDP_ANY_ADDR6 2u /* bound to ::: any IPv6 destination is local */
/* anytun without -r adopts the mux of the first authenticated packet: until the
 * daemon has, SATP of a mux not in satp_conns goes to its UDP socket (pass-adopt)
 * instead of being dropped, since only the daemon can authenticate it. */
#define SATP_XDP_PASS_UNKNOWN_MUX 4u
/* RAIL: count SATP per path (satp_rail_idx, satp_rail_stats). Off, satp_rx
 * does not pay the path lookup. */
#define SATP_XDP_RAIL 8u

/* satp_xdp_config.attach_mode: what the loader obtained, for `satp show`. */
enum satp_xdp_attach_mode {
	SATP_XDP_MODE_NONE = 0,
	SATP_XDP_MODE_NATIVE = 1,
	SATP_XDP_MODE_SKB = 2,
};

/* satp_xdp_config.attach_flags */
#define SATP_XDP_ATTACH_DISPATCHER 1u /* through libxdp's multiprog dispatcher */

/* satp_cfg[0]: runtime configuration the daemon writes, the program reads.
 * Written whole (bpf_map_update_elem): a packet racing an edit of the address
 * list may be judged against the old or new list, never a crash. Its layout
 * is configuration, not state: a pin of another layout is replaced at load. */
struct satp_xdp_config {
	__u32 flags;	    /* SATP_XDP_ANY_ADDR*, SATP_XDP_PASS_UNKNOWN_MUX */
	__u32 attach_mode;  /* enum satp_xdp_attach_mode; written by the loader, not read by XDP */
	__u32 attach_flags; /* SATP_XDP_ATTACH_*; written by the loader */
	__u32 prog_id;	    /* kernel id of the attached satp_rx; written by the loader */
	__u32 n_addr4;	    /* entries of addr4 in use, <= SATP_XDP_MAX_ADDRS */
	__u32 n_addr6;	    /* entries of addr6 in use, <= SATP_XDP_MAX_ADDRS */
	__be32 addr4[SATP_XDP_MAX_ADDRS];   /* local IPv4 addresses, network order */
	__u8 addr6[SATP_XDP_MAX_ADDRS][16]; /* local IPv6 addresses, network order */
	/* Handshake budget per source address (mux SATP_HS_MUX); 0: the defaults,
	 * SATP_HS_RATELIMIT_PPS and SATP_HS_RATELIMIT_BURST (satp_hs_wire.h). */
	__u32 hs_pps;	/* datagrams a second, refilled continuously; <= 1e9 */
	__u32 hs_burst; /* datagrams let through at once from a full budget */
	/* Handshake budget of all sources together (satp_hs_ceiling); 0: the
	 * defaults, SATP_HS_CEILING_PPS and SATP_HS_CEILING_BURST. */
	__u32 hs_ceiling_pps;	/* <= 1e9 */
	__u32 hs_ceiling_burst; /* >= 2: half of it is kept for sources within their budget */
	/* Per mux, senders without a window (satp_unv_budget); 0: the defaults,
	 * SATP_XDP_UNVERIFIED_PPS and SATP_XDP_UNVERIFIED_BURST. */
	__u32 unv_pps;	 /* <= 1e9 */
	__u32 unv_burst; /* datagrams */
};

/* satp_conns key: the connection's mux. */
struct satp_xdp_conn_key {
	__u16 mux; /* host order (wire: big-endian header bytes 6..7) */
	__u16 pad; /* zero */
};

/*
 * satp_xdp_conn.flags. NO_PREFILTER: the connection's keys come from a
 * handshake, whose every session starts its sequence numbers at 0 again, so
 * one window per (mux, sender) says nothing about the session a packet is
 * under: XDP never reads satp_windows for this mux (length checks and the
 * redirect stay); the daemon keeps a window per session.
 */
#define SATP_XDP_CONN_NO_PREFILTER 1u
#define SATP_XDP_CONN_FLAGS	   SATP_XDP_CONN_NO_PREFILTER /* every flag defined */

/* satp_conns value: what XDP needs to judge a datagram of this connection. */
struct satp_xdp_conn {
	__u32 window_size; /* -w; 0: replay protection off, the window map is not read */
	__u8 tag_len;	   /* -b after fix-ups, 0..SATP_TAG_MAX */
	__u8 pad[3];	   /* zero */
	__u32 flags;	   /* SATP_XDP_CONN_*, others zero */
};

/* satp_win_idx key: one replay window per sender of a connection. */
struct satp_xdp_sender_key {
	__u16 mux;	 /* host order */
	__u16 sender_id; /* host order (wire: header bytes 4..5) */
};

/* satp_snd_stats value (per CPU, indexed by window slot): what XDP saw for a
 * (mux, sender id) that has a window, i.e. verified once. PRE-AUTH: XDP
 * counts before any tag is checked, so a forger who knows a verified (mux,
 * sender id) moves these with datagrams the daemon then rejects; `satp show`
 * and the metrics label them so. The daemon's own counters are post-auth. */
struct satp_xdp_sender_stats {
	__u64 rx_packets; /* redirected to the daemon, not yet authenticated */
	__u64 rx_bytes;	  /* SATP datagram bytes (UDP payload) of those */
	__u64 rx_dropped; /* dropped by the replay pre-filter */
};

/* satp_hs_budget key: the source address of a handshake datagram. */
struct satp_xdp_hs_key {
	__u8 addr[16]; /* IPv6, or IPv4 as ::ffff:a.b.c.d; network order */
};

/*
 * satp_hs_budget, satp_hs_ceiling and satp_unv_budget value: a token bucket
 * kept as the time it is next empty (GCRA, the "theoretical arrival time"):
 * with T = 1 s / pps, a datagram at now passes when max(tat, now) + T <= now +
 * burst * T, and then moves tat there. One 64-bit word, so CPUs update it with
 * compare-and-swap; the tokens left at now are (now + burst * T - tat) / T.
 * 0: a full bucket.
 */
struct satp_xdp_hs_budget {
	__u64 tat_ns; /* bpf_ktime_get_coarse_ns() clock (jiffies: a budget counts ms) */
};

/*
 * satp_rail_idx key: what identifies a RAIL path on the wire, from the
 * receiver's side: the local (destination) port and the remote's address and
 * port, i.e. the socket a copy is for and the peer it came from. The local
 * address is left out: the daemon may be bound to the wildcard and then does
 * not know it, and a path's remote alone already tells the links apart (each
 * link's far end has its own address, or its own port). The daemon writes one
 * key per path, the remote it learned from an authenticated datagram (or was
 * given with -r), so a copy from anyone else is not counted for any path.
 */
struct satp_xdp_path_key {
	__u16 family;	/* AF_INET or AF_INET6 */
	__u16 lport;	/* host order: the UDP destination port */
	__u16 rport;	/* host order: the UDP source port */
	__u16 pad;	/* zero */
	__u8 raddr[16]; /* network order; IPv4 in the first 4 bytes, the rest zero */
};

/*
 * satp_rail_stats value (per CPU, indexed by the path number satp_rail_idx
 * gives). PRE-AUTH: counted on the source tuple alone, before any tag is
 * checked, so anyone who can spoof the path's remote moves them; `satp show`
 * and the metrics label them so, and last_ns never makes a path look alive.
 */
struct satp_xdp_path_stats {
	__u64 seen;    /* datagrams of a known connection XDP judged on this path */
	__u64 dropped; /* of those, copies the replay pre-filter dropped (replay, too old) */
	__u64 last_ns; /* CLOCK_MONOTONIC(_COARSE) of the last one seen; 0: never */
};

/*
 * What satp_rx parsed, handed to the AF_XDP socket with every frame it
 * redirects (bpf_xdp_adjust_meta), so that the daemon does not parse the
 * frame again. It sits in the sizeof(struct satp_xdp_meta) bytes just before
 * the frame's first byte in the umem frame; the kernel copies it there in copy
 * mode, native and skb alike (checked on veth, kernel 6.18). A driver without
 * XDP metadata support refuses the adjust: the frame goes without it, and the
 * daemon parses that frame itself (user/satpd/frame.c). Host byte order.
 */
struct satp_xdp_meta {
	__u32 magic;  /* SATP_XDP_META_MAGIC: there, and this layout */
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 l3_off; /* frame start -> IP header (after the VLAN tags) */
	__u16 l4_off; /* frame start -> UDP header (after IPv4 options, IPv6 extension headers) */
	__u16 pad;    /* zero */
};

/* A new layout takes a new magic: a daemon never reads a layout it does not know. */
#define SATP_XDP_META_MAGIC 0x53415401u /* "SAT" and layout 1 */
/* The kernel's bounds on bpf_xdp_adjust_meta (xdp_metalen_invalid). */
#define SATP_XDP_META_ALIGN 4u
#define SATP_XDP_META_MAX   32u
_Static_assert(sizeof(struct satp_xdp_meta) % SATP_XDP_META_ALIGN == 0 &&
		   sizeof(struct satp_xdp_meta) <= SATP_XDP_META_MAX,
	       "XDP metadata: a multiple of 4 bytes, at most 32");

/* satp_routes4/6 keys: the LPM trie's layout (prefix length, then the address). */
struct satp_xdp_route4_key {
	__u32 prefixlen; /* 0..32 */
	__u8 addr[4];	 /* network order, bits past prefixlen zero */
};

struct satp_xdp_route6_key {
	__u32 prefixlen; /* 0..128 */
	__u8 addr[16];	 /* network order, bits past prefixlen zero */
};

/* satp_routes4/6 value: the connection an inner destination in the prefix goes to. */
struct satp_xdp_route {
	__u16 mux; /* host order */
	__u16 pad; /* zero */
};

#endif /* SATP_XDP_H */
