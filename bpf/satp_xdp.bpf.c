// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp_rx: the XDP fast path of the underlay interface. Passes everything that
 * is not SATP byte-identical, drops SATP that can never be valid, hands the
 * rest to the AF_XDP socket of its receive queue (senders with no window yet
 * within their connection's budget); handshake messages (mux 0xFFFF) go to the
 * daemon's UDP socket within a budget per source and one of all sources. It never
 * writes a replay window: windows move only in the daemon, after the tag
 * verified (../shared/docs/design.md). Map layout: include/satp_xdp.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>

#include "satp_wire.h"
#include "satp_hs_wire.h"
#include "satp_window.h"
#include "satp_budget.h"
#include "satp_xdp.h"
#include "satp_parse.h"

/* Run first in a libxdp dispatcher, and let programs after us see what we pass. */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(satp_rx);

/* Local addresses, wildcard flags, and the attach mode the loader obtained. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct satp_xdp_config);
} satp_cfg SEC(".maps");

/* The SATP destination port set: bit (port % 64) of word (port / 64). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SATP_XDP_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} satp_ports SEC(".maps");

/* Connections by mux: tag length and window size. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SATP_XDP_MAX_CONNS);
	__type(key, struct satp_xdp_conn_key);
	__type(value, struct satp_xdp_conn);
} satp_conns SEC(".maps");

/* (mux, sender id) -> window slot; written only by the daemon, after auth. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SATP_XDP_WINDOW_SLOTS);
	__type(key, struct satp_xdp_sender_key);
	__type(value, __u32);
} satp_win_idx SEC(".maps");

/* Replay windows; the daemon maps this array and commits with atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SATP_XDP_WINDOW_SLOTS);
	__type(key, __u32);
	__type(value, struct satp_window);
} satp_windows SEC(".maps");

/* Per verified sender, indexed like satp_windows. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SATP_XDP_WINDOW_SLOTS);
	__type(key, __u32);
	__type(value, struct satp_xdp_sender_stats);
} satp_snd_stats SEC(".maps");

/*
 * The daemon's routing table, inner prefix -> mux (satp_xdp.h says why satp_rx
 * does not read it): here so that it is created and pinned with BTF beside
 * the maps it belongs with.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SATP_XDP_MAX_ROUTES);
	__type(key, struct satp_xdp_route4_key);
	__type(value, struct satp_xdp_route);
} satp_routes4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SATP_XDP_MAX_ROUTES);
	__type(key, struct satp_xdp_route6_key);
	__type(value, struct satp_xdp_route);
} satp_routes6 SEC(".maps");

/* One counter per enum satp_xdp_reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SATP_XDP_REASON_MAX);
	__type(key, __u32);
	__type(value, struct satp_xdp_counter);
} satp_counters SEC(".maps");

/* AF_XDP sockets by receive queue. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, SATP_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} satp_xsks SEC(".maps");

/* Handshake budget by source address (mux SATP_HS_MUX only). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SATP_XDP_HS_SOURCES);
	__type(key, struct satp_xdp_hs_key);
	__type(value, struct satp_xdp_hs_budget);
} satp_hs_budget SEC(".maps");

/* The handshake budget of all sources together (satp_hs_budget is per source). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct satp_xdp_hs_budget);
} satp_hs_ceiling SEC(".maps");

/* Per mux: datagrams of senders with no window yet (unverified) it lets through. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SATP_XDP_MUXES);
	__type(key, __u32);
	__type(value, struct satp_xdp_hs_budget);
} satp_unv_budget SEC(".maps");

/* Compare-and-swap rounds on one budget; losing them all means other CPUs
 * took tokens from it meanwhile, so the datagram is over budget. */
#define HS_BUDGET_TRIES 4

/* RAIL: a path's remote tuple -> its number; written by the daemon after auth. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SATP_XDP_RAIL_TUPLES);
	__type(key, struct satp_xdp_path_key);
	__type(value, __u32);
} satp_rail_idx SEC(".maps");

/* RAIL: per path, what XDP judged and dropped (the daemon counts the rest). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SATP_XDP_RAIL_PATHS);
	__type(key, __u32);
	__type(value, struct satp_xdp_path_stats);
} satp_rail_stats SEC(".maps");

#define READ_ONCE(x) (*(const volatile typeof(x) *)&(x))

/*
 * The read side of the window seqlock. A view that is not certainly stable
 * lets the packet through: the daemon repeats the check under its lock. Loads
 * stay in program order through volatile accesses, and x86 does not reorder
 * loads with loads; a weakly ordered arch would need load-acquire here.
 */
static __always_inline int window_check(const struct satp_window *w, __u32 seq)
{
	__u32 gen, top, size, flags;
	enum satp_window_pos pos;
	__u64 word = 0;

	gen = READ_ONCE(w->gen);
	if (gen & 1)
		return SATP_PARSE_GO_ON;
	top = READ_ONCE(w->top);
	size = READ_ONCE(w->size);
	flags = READ_ONCE(w->flags);
	if (!(flags & SATP_WINDOW_VALID) || size == 0 || size > SATP_WINDOW_BITS)
		return SATP_PARSE_GO_ON;
	pos = satp_window_classify(top, size, seq);
	if (pos == SATP_WINDOW_INSIDE)
		word = READ_ONCE(w->bits[satp_window_word(seq)]);
	if (READ_ONCE(w->gen) != gen)
		return SATP_PARSE_GO_ON;

	switch (pos) {
	case SATP_WINDOW_TOP:
		return SATP_XDP_DROP_REPLAY;
	case SATP_WINDOW_TOO_OLD:
		return SATP_XDP_DROP_TOO_OLD;
	case SATP_WINDOW_INSIDE:
		return (word & satp_window_mask(seq)) ? SATP_XDP_DROP_REPLAY : SATP_PARSE_GO_ON;
	default:
		return SATP_PARSE_GO_ON;
	}
}

static __always_inline bool port_is_satp(__u16 port)
{
	__u32 key = port / 64;
	__u64 *word = bpf_map_lookup_elem(&satp_ports, &key);

	return word && (*word & (1ull << (port % 64)));
}

/* Bound to the wildcard, or one of the few addresses kept inline in the config. */
static __always_inline bool addr_is_local(const struct satp_l3 *l3)
{
	const struct satp_xdp_config *cfg;
	__u32 key = 0, i;
	const __u64 *a;

	cfg = bpf_map_lookup_elem(&satp_cfg, &key);
	if (!cfg)
		return false;
	if (l3->family == AF_INET) {
		if (cfg->flags & SATP_XDP_ANY_ADDR4)
			return true;
#pragma unroll
		for (i = 0; i < SATP_XDP_MAX_ADDRS; i++) {
			if (i >= cfg->n_addr4)
				break;
			if (cfg->addr4[i] == l3->dst4)
				return true;
		}
		return false;
	}
	if (cfg->flags & SATP_XDP_ANY_ADDR6)
		return true;
#pragma unroll
	for (i = 0; i < SATP_XDP_MAX_ADDRS; i++) {
		if (i >= cfg->n_addr6)
			break;
		a = (const __u64 *)cfg->addr6[i];
		if (a[0] == l3->dst6[0] && a[1] == l3->dst6[1])
			return true;
	}
	return false;
}

/* A mux with no connection: dropped, unless the daemon is adopting one (no -r). */
static __always_inline int judge_unknown_mux(void)
{
	const struct satp_xdp_config *cfg;
	__u32 key = 0;

	cfg = bpf_map_lookup_elem(&satp_cfg, &key);
	if (cfg && (cfg->flags & SATP_XDP_PASS_UNKNOWN_MUX))
		return SATP_XDP_PASS_ADOPT;
	return SATP_XDP_DROP_UNKNOWN_MUX;
}

/*
 * RAIL: the counters of the path the datagram came by, NULL when RAIL is off
 * or its remote is no path's (not yet learned, or not the peer at all).
 */
static __always_inline struct satp_xdp_path_stats *rail_path(const struct satp_l3 *l3,
							     const struct udphdr *udp)
{
	const struct satp_xdp_config *cfg;
	struct satp_xdp_path_key key = {};
	__u32 zero = 0, *path;

	cfg = bpf_map_lookup_elem(&satp_cfg, &zero);
	if (!cfg || !(cfg->flags & SATP_XDP_RAIL))
		return NULL;
	key.family = (__u16)l3->family;
	key.lport = bpf_ntohs(udp->dest);
	key.rport = bpf_ntohs(udp->source);
	if (l3->family == AF_INET)
		__builtin_memcpy(key.raddr, &l3->src4, 4);
	else
		__builtin_memcpy(key.raddr, l3->src6, 16);
	path = bpf_map_lookup_elem(&satp_rail_idx, &key);
	return path ? bpf_map_lookup_elem(&satp_rail_stats, path) : NULL;
}

/*
 * Take one token from a budget (satp_budget.h) if that leaves it no more than
 * limit_ns in debt. The compare-and-swap keeps it exact when CPUs judge
 * datagrams against one budget at once: no CPU passes one on a token another
 * took.
 */
static __always_inline bool budget_take(__u64 *tat, __u64 now, __u64 t, __u64 limit_ns)
{
	__u64 old, next;
	int i;

	for (i = 0; i < HS_BUDGET_TRIES; i++) {
		old = READ_ONCE(*tat);
		if (!satp_budget_step(old, now, t, limit_ns, &next))
			return false;
		if (__sync_val_compare_and_swap(tat, old, next) == old)
			return true;
	}
	return false;
}

/*
 * A datagram of a sender with no window: only the daemon can verify it, at an
 * HMAC's cost, so the connection's budget bounds what forged sender ids cost.
 * Connections without shared windows (-w 0, keys from sessions) never bind a
 * sender, so every datagram of theirs would count here: they are left out.
 */
static __always_inline bool unverified_take(__u16 mux)
{
	const struct satp_xdp_config *cfg;
	struct satp_xdp_hs_budget *b;
	__u32 zero = 0, key = mux;
	__u64 t, burst;

	cfg = bpf_map_lookup_elem(&satp_cfg, &zero);
	b = bpf_map_lookup_elem(&satp_unv_budget, &key);
	if (!cfg || !b)
		return false;
	t = satp_budget_interval(cfg->unv_pps, SATP_XDP_UNVERIFIED_PPS);
	burst = cfg->unv_burst ? cfg->unv_burst : SATP_XDP_UNVERIFIED_BURST;
	return budget_take(&b->tat_ns, bpf_ktime_get_coarse_ns(), t, burst * t);
}

/*
 * What the parse found, put before the frame for the AF_XDP socket (struct
 * satp_xdp_meta), so that the daemon does not parse it again. A driver without
 * metadata support refuses the adjust: the frame goes without, and the daemon
 * parses it itself. Packet pointers are void after the adjust: call it last.
 */
static __always_inline void put_meta(struct xdp_md *ctx, const struct satp_l3 *l3)
{
	struct satp_xdp_meta *m;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > (void *)(long)ctx->data)
		return;
	m->magic = SATP_XDP_META_MAGIC;
	m->family = (__u16)l3->family;
	m->l3_off = (__u16)l3->l3_off;
	m->l4_off = (__u16)l3->l4_off;
	m->pad = 0;
}

/*
 * The SATP datagram (UDP payload) at c->pos, satp_len bytes long, after l3 and
 * udp; to_xsk false on a RAIL link (satp_rail_rx): what is not dropped goes to
 * the UDP socket, AF_XDP serves one interface.
 */
static __always_inline int judge_satp(struct xdp_md *ctx, struct cursor *c, __u32 satp_len,
				      const struct satp_l3 *l3, const struct udphdr *udp,
				      bool to_xsk)
{
	struct satp_hdr *h = c->pos;
	struct satp_xdp_path_stats *ps;
	struct satp_xdp_sender_stats *st = NULL;
	struct satp_xdp_sender_key skey = {};
	struct satp_xdp_conn_key ckey = {};
	struct satp_xdp_conn *conn;
	struct satp_window *w;
	__u32 *slot = NULL;
	long act;
	int r;

	if (satp_len < SATP_HDR_LEN)
		return SATP_XDP_DROP_TOO_SHORT;
	if ((void *)(h + 1) > c->end)
		return SATP_XDP_DROP_TRUNCATED;

	ckey.mux = bpf_ntohs(h->mux);
	conn = bpf_map_lookup_elem(&satp_conns, &ckey);
	if (!conn)
		return judge_unknown_mux();
	if (satp_len < SATP_HDR_LEN + SATP_PTYPE_LEN + conn->tag_len)
		return SATP_XDP_DROP_TOO_SHORT;
	/* RAIL's per-path lookup only for what could be the peer's datagram. */
	ps = rail_path(l3, udp);
	if (ps) {
		ps->seen++;
		/* coarse: plenty for "last seen", at a fraction of the cost */
		ps->last_ns = bpf_ktime_get_coarse_ns();
	}

	skey.mux = ckey.mux;
	skey.sender_id = bpf_ntohs(h->sender_id);
	slot = bpf_map_lookup_elem(&satp_win_idx, &skey);
	if (!slot && conn->window_size && !(conn->flags & SATP_XDP_CONN_NO_PREFILTER)) {
		if (!unverified_take(ckey.mux))
			return SATP_XDP_DROP_UNVERIFIED;
	} else if (slot) {
		st = bpf_map_lookup_elem(&satp_snd_stats, slot);
		w = bpf_map_lookup_elem(&satp_windows, slot);
		if (w && conn->window_size && !(conn->flags & SATP_XDP_CONN_NO_PREFILTER)) {
			r = window_check(w, bpf_ntohl(h->seq));
			if (r != SATP_PARSE_GO_ON) {
				if (st)
					st->rx_dropped++;
				if (ps)
					ps->dropped++;
				return r;
			}
		}
	}

	if (!to_xsk)
		return SATP_XDP_PASS_RAIL_LINK;
	put_meta(ctx, l3);
	act = bpf_redirect_map(&satp_xsks, ctx->rx_queue_index, XDP_DROP);
	if (act != XDP_REDIRECT)
		return SATP_XDP_DROP_NO_SOCKET;
	if (st) {
		st->rx_packets++;
		st->rx_bytes += satp_len;
	}
	return SATP_XDP_REDIRECTED;
}

static __always_inline void hs_source(const struct satp_l3 *l3, struct satp_xdp_hs_key *key)
{
	if (l3->family == AF_INET6) {
		__builtin_memcpy(key->addr, l3->src6, 16);
		return;
	}
	key->addr[10] = 0xff; /* ::ffff:a.b.c.d */
	key->addr[11] = 0xff;
	__builtin_memcpy(&key->addr[12], &l3->src4, 4);
}

/* One token of the source's own budget: false when it has none left. */
static __always_inline bool hs_source_take(const struct satp_xdp_config *cfg,
					   const struct satp_l3 *l3, __u64 now)
{
	__u64 t = satp_budget_interval(cfg->hs_pps, SATP_HS_RATELIMIT_PPS);
	__u64 burst = cfg->hs_burst ? cfg->hs_burst : SATP_HS_RATELIMIT_BURST;
	struct satp_xdp_hs_key key = {};
	struct satp_xdp_hs_budget fresh, *b;

	hs_source(l3, &key);
	b = bpf_map_lookup_elem(&satp_hs_budget, &key);
	if (!b) {
		/* A new source starts full: this datagram leaves burst - 1. */
		fresh.tat_ns = now + t;
		if (!bpf_map_update_elem(&satp_hs_budget, &key, &fresh, BPF_NOEXIST))
			return true;
		b = bpf_map_lookup_elem(&satp_hs_budget, &key); /* another CPU made it */
		if (!b)
			return false;
	}
	return budget_take(&b->tat_ns, now, t, burst * t);
}

/*
 * One token of the budget of all sources. A source within its own budget may
 * take any; one over it (a flood, or a spoofer charging a real peer's address)
 * only those above the reserve kept for the others, half the burst.
 */
static __always_inline bool hs_ceiling_take(const struct satp_xdp_config *cfg, bool own, __u64 now)
{
	__u64 t = satp_budget_interval(cfg->hs_ceiling_pps, SATP_HS_CEILING_PPS);
	__u64 burst = cfg->hs_ceiling_burst ? cfg->hs_ceiling_burst : SATP_HS_CEILING_BURST;
	struct satp_xdp_hs_budget *b;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&satp_hs_ceiling, &zero);
	if (!b)
		return false;
	return budget_take(&b->tat_ns, now, t, (own ? burst : burst - burst / 2) * t);
}

/*
 * Mux SATP_HS_MUX is never SATP data (docs/handshake.md §3.1): a handshake
 * message for the daemon's UDP socket on this port, within the budgets.
 * SATP_PARSE_GO_ON for everything else, and for datagrams too short to have
 * a mux, which judge_satp names. An empty per-source budget alone never
 * drops: the source address is spoofable, and the daemon's mac1 and cookies
 * can tell the real peer from a spoofer where XDP cannot.
 */
static __always_inline int judge_handshake(const struct cursor *c, const struct satp_l3 *l3,
					   __u32 len)
{
	const struct satp_hdr *h = c->pos;
	const struct satp_xdp_config *cfg;
	__u32 zero = 0;
	__u64 now;
	bool own;

	if (len < SATP_HDR_LEN || (void *)(h + 1) > c->end)
		return SATP_PARSE_GO_ON;
	if (h->mux != bpf_htons(SATP_HS_MUX))
		return SATP_PARSE_GO_ON;
	if (len < SATP_HS_MIN_LEN)
		return SATP_XDP_DROP_HS_TOO_SHORT;
	cfg = bpf_map_lookup_elem(&satp_cfg, &zero);
	if (!cfg)
		return SATP_XDP_DROP_HS_CEILING;
	/* A budget counts in milliseconds: the jiffies clock does, ~25 ns cheaper than ktime. */
	now = bpf_ktime_get_coarse_ns();
	own = hs_source_take(cfg, l3, now);
	if (hs_ceiling_take(cfg, own, now))
		return own ? SATP_XDP_PASS_HANDSHAKE : SATP_XDP_PASS_HS_SHARED;
	return own ? SATP_XDP_DROP_HS_CEILING : SATP_XDP_DROP_HS_RATELIMIT;
}

static __always_inline int parse_udp(struct xdp_md *ctx, struct cursor *c, struct satp_l3 *l3,
				     bool to_xsk)
{
	struct udphdr *udp = c->pos;
	__u32 udp_len;
	int r;

	if ((void *)(udp + 1) > c->end)
		return SATP_XDP_PASS_MALFORMED;
	if (!port_is_satp(bpf_ntohs(udp->dest)))
		return SATP_XDP_PASS_NOT_SATP;
	if (!addr_is_local(l3))
		return SATP_XDP_PASS_NOT_LOCAL;
	l3->l4_off = (__u32)((void *)udp - (void *)(long)ctx->data);

	/* From here it is ours: a length that lies can never be valid SATP. */
	udp_len = bpf_ntohs(udp->len);
	if (udp_len < sizeof(*udp) || udp_len > l3->l4_len)
		return SATP_XDP_DROP_TRUNCATED;
	if (c->pos + udp_len > c->end)
		return SATP_XDP_DROP_TRUNCATED;
	c->pos = udp + 1;
	r = judge_handshake(c, l3, udp_len - sizeof(*udp));
	if (r != SATP_PARSE_GO_ON)
		return r;
	return judge_satp(ctx, c, udp_len - sizeof(*udp), l3, udp, to_xsk);
}

static __always_inline int classify(struct xdp_md *ctx, bool to_xsk)
{
	struct cursor c = {
	    .pos = (void *)(long)ctx->data,
	    .end = (void *)(long)ctx->data_end,
	};
	struct satp_l3 l3 = {};
	__be16 proto;
	int r;

	r = parse_eth(&c, &proto);
	if (r != SATP_PARSE_GO_ON)
		return r;
	l3.l3_off = (__u32)(c.pos - (void *)(long)ctx->data);
	if (proto == bpf_htons(ETH_P_IP))
		r = parse_ipv4(&c, &l3);
	else if (proto == bpf_htons(ETH_P_IPV6))
		r = parse_ipv6(&c, &l3);
	else
		return SATP_XDP_PASS_NOT_IP;
	if (r != SATP_PARSE_GO_ON)
		return r;
	return parse_udp(ctx, &c, &l3, to_xsk);
}

#define SATP_XDP_ACTION_(e, name, action)                                                          \
	case e:                                                                                    \
		return action;

/* The one exit: count the reason, return its action. */
static __always_inline int finish(struct xdp_md *ctx, __u32 reason)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct satp_xdp_counter *cnt;

	cnt = bpf_map_lookup_elem(&satp_counters, &reason);
	if (cnt) {
		cnt->packets++;
		cnt->bytes += data_end - data;
	}
	switch (reason) {
		SATP_XDP_REASONS(SATP_XDP_ACTION_)
	default:
		return XDP_ABORTED;
	}
}

SEC("xdp")
int satp_rx(struct xdp_md *ctx)
{
	return finish(ctx, classify(ctx, true));
}

/*
 * RAIL's other links (the underlays that carry paths to other remote hosts):
 * the same judgement over the same maps, so copies committed already die here
 * too, but the rest goes to the UDP socket (pass-rail-link): the AF_XDP
 * sockets are bound to satp_rx's interface.
 */
SEC("xdp")
int satp_rail_rx(struct xdp_md *ctx)
{
	return finish(ctx, classify(ctx, false));
}

char LICENSE[] SEC("license") = "GPL";
