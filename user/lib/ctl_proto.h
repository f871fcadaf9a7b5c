/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * satpd's control protocol: what `satp` sends over the daemon's unix socket
 * (/run/satpd/<dev>.sock) and what comes back. Text, so that it reads in
 * strace and is easy to fuzz; strict, so that a typo is an error quoting the
 * offending text rather than a silently ignored key.
 *
 * Framing: a message is lines of `key=value`, each ended by '\n', and ends at
 * the first empty line. One request per connection; the daemon answers and
 * closes. No '\r', no NUL, no line longer than SATP_CTL_LINE_MAX.
 *
 * Request: the first line is `op=<name>`, then the op's fields in any order,
 * each at most once:
 *
 *   op=show                                            state snapshot (reply below)
 *   op=add-conn mux= (key=|passphrase=) [sender= window= role= remote= salt=
 *               cipher= auth= kd-prf= tag-len= route=...]
 *   op=change-conn mux= and at least one of the add-conn fields
 *   op=del-conn mux=
 *   op=set-keys mux= (key=|passphrase=) [salt= grace=]  old keys stay valid for
 *               receiving `grace` seconds (SATP carries no key id)
 *   op=reset-window mux= sender=                       a peer restarted its seqs
 *   op=set-session mux= tx-key= tx-salt= rx-key= rx-salt= [session= grace=]
 *               a session of an external key exchange (docs/kx.md): separate
 *               master key and salt per direction, seqs from 0 and replay
 *               windows of its own; the previous keys stay valid for
 *               receiving `grace` seconds, as with set-keys
 *   op=del-session mux=                                stop sending and accepting
 *   op=add-route mux= route=...                        inner prefixes to the connection
 *   op=del-route route=... [mux=]                      mux=: only if they go there
 *
 * route= may be given up to SATP_CTL_ROUTES_MAX times (every other key once):
 * ADDRESS/LENGTH as -R, IPv4 or IPv6, host bits ignored.
 *
 * Field values: mux, sender 0..65535; window 0..SATP_WINDOW_BITS; grace
 * 0..SATP_CTL_GRACE_MAX seconds; session 0..2^64-1 (the kx daemon's
 * number); role as -e (left alice server right bob client); remote HOST:PORT
 * or [V6]:PORT; key/salt hex as -K/-A; passphrase as -E; tx-key/rx-key as
 * key, tx-salt/rx-salt as salt; cipher/kd-prf/auth as -c/-k/-a; tag-len
 * 0..SATP_TAG_MAX.
 *
 * Reply: `errno=N` first (0: done; else a positive errno), then on error
 * `error=<text>`, on show the snapshot:
 *
 *   errno=0
 *   pid= version= dev= xdp-ifname= rx-path= started=     daemon-wide
 *   workers= xsk-queues=<hex mask>
 *   xdp-program= windows-adopted= state-dir=             what this start took over
 *   pin-root=                                            where the XDP maps are pinned, as
 *                                                        the daemon sees it ("": socket path)
 *   xdp-mode-requested= xdp-mode-explicit=0|1 xdp-mode-obtained= xdp-fallback=
 *                                                        the data path asked for and got
 *   counter.<name>=N ...                                 daemon-wide counters
 *   rail-path=<local port> <rx> <first> <dups> <tx> <last seen> <remote|->
 *                                                        per RAIL path, in path order
 *   rail-path-xdp=<seen> <dropped>                       of the rail-path before it: satp_rx's
 *   conn=<mux>                                           opens a connection section
 *   sender-id= role= cipher= auth= kd-prf= tag-len= window= remote= remote-learned=
 *   seq-out= rx-packets= rx-bytes= tx-packets= tx-bytes= last-rx=
 *   seq-resumed= seq-state=                              where seq-out started, from which file
 *   counter.<name>=N ...
 *   window-top.<sender id>=N ...                         per sender of the connection
 *   (empty line)
 *
 * Times are Unix seconds, 0 = never. Keys appear in this order; a reader
 * ignores keys it does not know (newer daemon), a request parser does not.
 */
#ifndef SATP_CTL_PROTO_H
#define SATP_CTL_PROTO_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "satp.h"

/* Longest line: a 64-digit key or a passphrase of SATPD_PASSPHRASE_MAX plus the key name. */
#define SATP_CTL_LINE_MAX 1100
/*
 * A request: a dozen single fields and up to SATP_CTL_ROUTES_MAX route= lines
 * of ~50 bytes; 16 KiB holds them and bounds the read.
 */
#define SATP_CTL_REQ_MAX 16384
/*
 * A show reply: ~20 lines, ~500 bytes, per connection. Buffers start at
 * SATP_CTL_REPLY_INIT and double as needed (satp_ctl_format_reply_alloc, the
 * client's read) up to SATP_CTL_REPLY_MAX: every mux of an edge fits.
 */
#define SATP_CTL_REPLY_INIT (1u << 20)
#define SATP_CTL_REPLY_MAX  (64u << 20)
/* Connections one snapshot carries: every mux (the array grows with them). */
#define SATP_CTL_MAX_CONNS 65536u
/*
 * Named counters per scope (daemon, connection): satpd has 46 (the core's 33,
 * the features' 13), "connections" and the edge exchange's 17 (snapshot.c
 * asserts that they fit; one past this is refused, not cut).
 */
#define SATP_CTL_COUNTERS_MAX 96
#define SATP_CTL_NAME_MAX     32
/* Senders per connection a snapshot lists: an anycast cluster of a few dozen nodes. */
#define SATP_CTL_SENDERS_MAX 64
/*
 * RAIL paths a snapshot lists: at least satpd_options' SATPD_RAIL_PATHS_MAX, so
 * that every path of the daemon shows (asserted in user/satpd/snapshot.c).
 */
#define SATP_CTL_PATHS_MAX 16
/* HOST:PORT with a bracketed IPv6 address or a DNS name. */
#define SATP_CTL_ADDR_MAX 300
/* A state directory a snapshot names; a longer one is cut (it is for people to read). */
#define SATP_CTL_PATH_MAX 512
/* Why XDP could not be had (satpd's SATPD_XDP_REASON_MAX fits). */
#define SATP_CTL_REASON_MAX 256
/* -E limit of satpd_options. */
#define SATP_CTL_PASSPHRASE_MAX 1024
/* route= lines one request carries: a connection's prefixes, not a routing table. */
#define SATP_CTL_ROUTES_MAX 64
/* A grace period longer than a day is a forgotten old key, not a key change. */
#define SATP_CTL_GRACE_MAX 86400u
/* What `satp keys` asks for when no --grace is given: a few RTTs with room for scripts. */
#define SATP_CTL_GRACE_DEFAULT 10u

enum satp_ctl_op {
	SATP_CTL_OP_NONE = 0,
	SATP_CTL_OP_SHOW,
	SATP_CTL_OP_ADD_CONN,
	SATP_CTL_OP_CHANGE_CONN,
	SATP_CTL_OP_DEL_CONN,
	SATP_CTL_OP_SET_KEYS,
	SATP_CTL_OP_RESET_WINDOW,
	SATP_CTL_OP_SET_SESSION,
	SATP_CTL_OP_DEL_SESSION,
	SATP_CTL_OP_ADD_ROUTE,
	SATP_CTL_OP_DEL_ROUTE,
	SATP_CTL_OP_LAST = SATP_CTL_OP_DEL_ROUTE,
};

/* satp_ctl_msg.present: which fields the request carried. */
enum satp_ctl_field {
	SATP_CTL_F_MUX = 1u << 0,
	SATP_CTL_F_SENDER = 1u << 1,
	SATP_CTL_F_WINDOW = 1u << 2,
	SATP_CTL_F_ROLE = 1u << 3,
	SATP_CTL_F_REMOTE = 1u << 4,
	SATP_CTL_F_KEY = 1u << 5,
	SATP_CTL_F_SALT = 1u << 6,
	SATP_CTL_F_PASSPHRASE = 1u << 7,
	SATP_CTL_F_CIPHER = 1u << 8,
	SATP_CTL_F_AUTH = 1u << 9,
	SATP_CTL_F_KD_PRF = 1u << 10,
	SATP_CTL_F_TAG_LEN = 1u << 11,
	SATP_CTL_F_GRACE = 1u << 12,
	SATP_CTL_F_TX_KEY = 1u << 13,  /* set-session: in key/key_len */
	SATP_CTL_F_TX_SALT = 1u << 14, /* set-session: in salt */
	SATP_CTL_F_RX_KEY = 1u << 15,
	SATP_CTL_F_RX_SALT = 1u << 16,
	SATP_CTL_F_SESSION = 1u << 17,
	SATP_CTL_F_ROUTE = 1u << 18, /* repeatable: n_routes */
};

/* An inner prefix (route=). */
struct satp_ctl_route {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; 4 bytes for IPv4 */
	unsigned int len;
};

/* One parsed request. Holds key material: satp_ctl_msg_wipe() when done. */
struct satp_ctl_msg {
	enum satp_ctl_op op;
	uint32_t present; /* SATP_CTL_F_* */
	uint16_t mux;
	uint16_t sender; /* add/change: our sender id; reset-window: the peer's */
	uint32_t window;
	enum satp_role role;
	char remote[SATP_CTL_ADDR_MAX];
	uint8_t key[SATP_KEY_MAX];
	size_t key_len;
	uint8_t salt[SATP_SALT_LEN];
	char passphrase[SATP_CTL_PASSPHRASE_MAX + 1];
	unsigned int cipher_bits;
	enum satp_auth auth;
	unsigned int kd_bits;
	unsigned int tag_len;
	uint32_t grace;		      /* seconds */
	uint8_t rx_key[SATP_KEY_MAX]; /* set-session; its tx key is key */
	size_t rx_key_len;
	uint8_t rx_salt[SATP_SALT_LEN];
	uint64_t session;
	unsigned int n_routes;
	struct satp_ctl_route routes[SATP_CTL_ROUTES_MAX];
};

/*
 * Parse one request of len bytes (need not be NUL-terminated; the empty line
 * ending it is optional, bytes after it are an error). Returns 0 or -EINVAL
 * with a message quoting the offending text in err (never the value of a
 * key, salt or passphrase). msg is zeroed first; it is the fuzzing entry point.
 */
int satp_ctl_parse(const char *buf, size_t len, struct satp_ctl_msg *msg, char *err, size_t errlen);
/* Serialize a request, empty line included. Returns the length or -ENOSPC/-EINVAL. */
int satp_ctl_format(const struct satp_ctl_msg *msg, char *buf, size_t len);
void satp_ctl_msg_wipe(struct satp_ctl_msg *msg);

const char *satp_ctl_op_name(enum satp_ctl_op op);

/* ---------------------------------------------------------------- show */

/*
 * Named values a snapshot carries beside its counters that are a state, not a
 * count: the daemon adds them with satp_ctl_add_counter, /metrics exports them
 * as gauges (no _total). Named here once for both.
 */
#define SATP_CTL_S_CONNECTIONS	       "connections" /* daemon scope: the connection count */
#define SATP_CTL_S_KEYS_PENDING	       "keys_pending"
#define SATP_CTL_S_OLD_KEYS_ACCEPTED   "old_keys_accepted"
#define SATP_CTL_S_SESSION	       "session"
#define SATP_CTL_S_SESSION_REMOVED     "session_removed"
#define SATP_CTL_S_HS_SESSION	       "hs_session"
#define SATP_CTL_S_HS_SESSION_AGE_S    "hs_session_age_s"
#define SATP_CTL_S_HS_CONFIRMED	       "hs_confirmed"
#define SATP_CTL_S_HS_NEXT_UNCONFIRMED "hs_next_unconfirmed"
/* The connection scope's states, as an initializer list. */
#define SATP_CTL_CONN_STATES                                                                       \
	SATP_CTL_S_KEYS_PENDING, SATP_CTL_S_OLD_KEYS_ACCEPTED, SATP_CTL_S_SESSION,                 \
	    SATP_CTL_S_SESSION_REMOVED, SATP_CTL_S_HS_SESSION, SATP_CTL_S_HS_SESSION_AGE_S,        \
	    SATP_CTL_S_HS_CONFIRMED, SATP_CTL_S_HS_NEXT_UNCONFIRMED

struct satp_ctl_counter {
	char name[SATP_CTL_NAME_MAX]; /* [a-z0-9_]: a Prometheus label value as is */
	uint64_t value;
};

/*
 * The snapshot's scalar fields, each written once: the structs below declare
 * them, satp_ctl_format_reply writes them and satp_ctl_parse_reply reads them
 * from these lists (ctl_proto.c), in this order, one `key=value` line each.
 * X(kind, field, "key", size), size only for STR. A kind is how a field is
 * stored, written and read back:
 *   STR   char[size], as is; a longer value read is cut to size - 1
 *   I32   int32_t, decimal (read as an int64_t and cast)
 *   I64   int64_t, decimal
 *   U64   uint64_t, decimal without sign
 *   U32   uint32_t, decimal, 0..UINT32_MAX
 *   U16W, U32W  uint16_t, uint32_t, decimal without sign, read as a uint64_t and cut
 *   X64   uint64_t, hexadecimal without 0x
 *   BOOL  bool, 0 or 1
 * A field added here appears in show replies, and a reader that does not know
 * its key ignores it (newer daemon, older satp).
 */
#define SATP_CTL_CONN_FIELDS(X)                                                                    \
	X(U16W, sender_id, "sender-id", 0)                                                         \
	X(STR, role, "role", 16)     /* satp_role_name() */                                        \
	X(STR, cipher, "cipher", 16) /* satp_algo_name() */                                        \
	X(STR, auth, "auth", 16)     /* satp_auth_name() */                                        \
	X(STR, kd_prf, "kd-prf", 16)                                                               \
	X(U32W, tag_len, "tag-len", 0)                                                             \
	X(U32W, window, "window", 0)                                                               \
	X(STR, remote, "remote", SATP_CTL_ADDR_MAX) /* "" while unknown */                         \
	X(I64, remote_learned, "remote-learned", 0) /* Unix seconds; 0: configured or unknown */   \
	X(U64, seq_out, "seq-out", 0)		    /* next sequence number to send */             \
	X(U64, rx_packets, "rx-packets", 0)                                                        \
	X(U64, rx_bytes, "rx-bytes", 0)                                                            \
	X(U64, tx_packets, "tx-packets", 0)                                                        \
	X(U64, tx_bytes, "tx-bytes", 0)                                                            \
	/* Unix seconds of the last authenticated datagram; 0: none */                             \
	X(I64, last_rx, "last-rx", 0)                                                              \
	/* The first outgoing seq of this run: read from the state file; 0: a fresh start */       \
	X(U64, seq_resumed, "seq-resumed", 0)                                                      \
	/* the state file's name in the snapshot's state_dir */                                    \
	X(STR, seq_state, "seq-state", 64)

/* A field of the lists above as a struct member. */
#define SATP_CTL_MEMBER(kind, field, key, size) SATP_CTL_MEMBER_##kind(field, size)
#define SATP_CTL_MEMBER_STR(f, size)		char f[size];
#define SATP_CTL_MEMBER_I32(f, size)		int32_t f;
#define SATP_CTL_MEMBER_I64(f, size)		int64_t f;
#define SATP_CTL_MEMBER_U64(f, size)		uint64_t f;
#define SATP_CTL_MEMBER_U32(f, size)		uint32_t f;
#define SATP_CTL_MEMBER_U16W(f, size)		uint16_t f;
#define SATP_CTL_MEMBER_U32W(f, size)		uint32_t f;
#define SATP_CTL_MEMBER_X64(f, size)		uint64_t f;
#define SATP_CTL_MEMBER_BOOL(f, size)		bool f;

struct satp_ctl_conn {
	uint16_t mux; /* conn=: opens the connection's section */
	SATP_CTL_CONN_FIELDS(SATP_CTL_MEMBER)
	uint32_t n_counters;
	struct satp_ctl_counter counters[SATP_CTL_COUNTERS_MAX];
	/* per sender id of this mux: the top of its replay window (committed seqs) */
	uint32_t n_senders;
	struct satp_ctl_sender {
		uint16_t id;
		uint32_t window_top;
	} senders[SATP_CTL_SENDERS_MAX];
};

/*
 * A RAIL path as the daemon sees it. rx counts the copies that came by it:
 * authenticated ones that reached the daemon plus those satp_rx dropped in XDP
 * as already committed (xdp_dropped); first those that won the replay commit
 * (delivered); dups those that lost it, in the daemon or in XDP. A bad link
 * shows as rx and first falling behind the other paths, and an old last_seen.
 */
struct satp_ctl_path {
	uint16_t local_port;
	char remote[SATP_CTL_ADDR_MAX]; /* "" while unknown */
	uint64_t rx, first, dups, tx;
	int64_t last_seen; /* Unix seconds of the last authenticated copy; 0: never */
	/* Pre-auth: satp_rx counts a copy by its source tuple, before any tag check. */
	uint64_t xdp_seen;     /* satp_rx judged (0 without XDP) */
	uint64_t xdp_dropped;  /* of those, dropped as committed already: in rx and dups */
	int64_t xdp_last_seen; /* Unix seconds of the last one satp_rx judged; 0: never */
};

/* The daemon-wide scalar fields of a snapshot, as SATP_CTL_CONN_FIELDS. */
#define SATP_CTL_SNAPSHOT_FIELDS(X)                                                                \
	X(I32, pid, "pid", 0)                                                                      \
	X(STR, version, "version", 32)                                                             \
	X(STR, dev, "dev", IFNAMSIZ) /* tun/tap device */                                          \
	/* underlay with satp_rx; "" on the socket path */                                         \
	X(STR, xdp_ifname, "xdp-ifname", IFNAMSIZ)                                                 \
	X(STR, rx_path, "rx-path", 8) /* "xdp" or "udp" */                                         \
	X(I64, started, "started", 0) /* Unix seconds */                                           \
	X(U32, workers, "workers", 0) /* data path threads (--queues) */                           \
	/* bit q: an AF_XDP socket is registered on rx queue q (the kernel cannot be asked */      \
	/* without xsk_diag, the XSKMAP cannot be read) */                                         \
	X(X64, xsk_queues, "xsk-queues", 0)                                                        \
	/* What this start picked up from the last run (restart without a gap): */                 \
	/* "taken-over" (a satp_rx left attached), "fresh"; "": socket path */                     \
	X(STR, xdp_program, "xdp-program", 16)                                                     \
	X(U32, windows_adopted, "windows-adopted", 0) /* replay windows kept from the last run */  \
	/* where the outgoing seqs are reserved */                                                 \
	X(STR, state_dir, "state-dir", SATP_CTL_PATH_MAX)                                          \
	/* --pin-root on the XDP path, "" on the socket path or when too long to send whole. */    \
	/* A path in the daemon's mount namespace: under `ip netns exec` its bpffs at */           \
	/* /sys/fs/bpf is its own, which a client reaches through /proc/<pid>/root. */             \
	X(STR, pin_root, "pin-root", SATP_CTL_PATH_MAX)                                            \
	/* The data path asked for against the one obtained: a fallback is never silent. */        \
	X(STR, xdp_mode_requested, "xdp-mode-requested", 8) /* "native" "skb" "off" */             \
	/* given with --xdp-mode (else the default) */                                             \
	X(BOOL, xdp_mode_explicit, "xdp-mode-explicit", 0)                                         \
	X(STR, xdp_mode_obtained, "xdp-mode-obtained", 8) /* "native" "skb", "off": socket path */ \
	/* why the default fell back; "": it did not */                                            \
	X(STR, xdp_fallback, "xdp-fallback", SATP_CTL_REASON_MAX)

/* What the daemon reports about itself: filled by satpd_snapshot(). */
struct satp_ctl_snapshot {
	SATP_CTL_SNAPSHOT_FIELDS(SATP_CTL_MEMBER)
	uint32_t n_counters;
	struct satp_ctl_counter counters[SATP_CTL_COUNTERS_MAX];
	uint32_t n_paths; /* RAIL; 0: off */
	struct satp_ctl_path paths[SATP_CTL_PATHS_MAX];
	uint32_t n_conns;
	uint32_t cap_conns;	     /* entries allocated at conns */
	struct satp_ctl_conn *conns; /* satp_ctl_snapshot_add_conn(); _reset() frees */
};

/*
 * A snapshot starts zeroed (static, calloc or = {0}). add_conn appends a zeroed
 * connection, growing the array: NULL when out of memory or at
 * SATP_CTL_MAX_CONNS. reset frees the connections and zeroes the rest, ready
 * for the next fill (parse_reply and the daemon's snapshot reset it first).
 */
struct satp_ctl_conn *satp_ctl_snapshot_add_conn(struct satp_ctl_snapshot *s);
void satp_ctl_snapshot_reset(struct satp_ctl_snapshot *s);

/* Append a sender's window top to a connection; -ENOSPC when full. */
int satp_ctl_add_sender(struct satp_ctl_conn *c, uint16_t id, uint32_t window_top);
/* Append a counter (name truncated to SATP_CTL_NAME_MAX - 1); -ENOSPC when full. */
int satp_ctl_add_counter(struct satp_ctl_counter *arr, uint32_t *n, const char *name,
			 uint64_t value);

/* ---------------------------------------------------------------- replies */

/* Write `errno=N` (+ `error=`) and for show with err 0 the snapshot; empty line
 * included. Returns the length or -ENOSPC. */
int satp_ctl_format_reply(int err, const char *errmsg, const struct satp_ctl_snapshot *snap,
			  char *buf, size_t len);
/* The same into *buf (malloc'ed, *cap bytes; NULL/0 to start), doubled until the
 * reply fits or SATP_CTL_REPLY_MAX is reached. Returns the length, -ENOSPC or -ENOMEM. */
int satp_ctl_format_reply_alloc(int err, const char *errmsg, const struct satp_ctl_snapshot *snap,
				char **buf, size_t *cap);
/*
 * Parse a reply. Returns 0 and sets *remote_err to the daemon's errno (0 on
 * success) with its message in errmsg, and fills snap when given and the reply
 * carries one (snap: zeroed or used before; its old connections are freed);
 * -EINVAL on a malformed reply (message in errmsg).
 */
int satp_ctl_parse_reply(const char *buf, size_t len, int *remote_err, char *errmsg, size_t errlen,
			 struct satp_ctl_snapshot *snap);

#endif /* SATP_CTL_PROTO_H */
