/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The XDP fast path from userspace: load bpf/satp_xdp.bpf.c through its
 * skeleton, pin and reuse its maps, attach it through libxdp, configure it,
 * read its counters. Map layout and counter names: include/satp_xdp.h.
 *
 * Lifecycle the daemon follows:
 *
 *   satp_xdp_open()       load the program, create or adopt the maps pinned
 *                         under <pin_root>/satpd/<ifname>/ (windows survive)
 *   satp_xdp_set_*()      ports, addresses, connections: before attaching, so
 *                         no valid SATP is dropped as unknown while configuring
 *   satp_xdp_attach()     through libxdp: the dispatcher when the kernel allows
 *                         it, else a plain attach; satp_xdp_mode() tells which
 *   satp_xdp_register_xsk() per receive queue, once its AF_XDP socket exists
 *   satp_xdp_windows()    the mmapped window array: initialise a slot there,
 *                         then satp_xdp_bind_window() makes XDP read it
 *   satp_xdp_close()      leaves the program attached and the maps pinned: with
 *                         no socket registered SATP is dropped (fail closed),
 *                         everything else passes. satp_xdp_detach() first to
 *                         remove it.
 *
 * Every function returns 0 or a negative errno and logs why through the
 * satp_xdp_set_log() callback (default: warnings to stderr). Calling it also
 * routes libbpf's and libxdp's messages through the callback; without the call
 * their printers are left as the application set them. Not thread-safe: one
 * owner.
 */
#ifndef SATP_XDP_LOADER_H
#define SATP_XDP_LOADER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "satp_hs_wire.h"
#include "satp_xdp.h"
#include "xdp_query.h"

enum satp_xdp_log_level {
	SATP_XDP_LOG_WARN = 0,
	SATP_XDP_LOG_INFO = 1,
	SATP_XDP_LOG_DEBUG = 2,
};

typedef void (*satp_xdp_log_fn)(enum satp_xdp_log_level level, const char *fmt, va_list ap);

/* Process-wide, as libbpf's and libxdp's printers are, which it takes over.
 * fn NULL: our messages and theirs to stderr, up to max_level. */
void satp_xdp_set_log(satp_xdp_log_fn fn, enum satp_xdp_log_level max_level);

struct satp_xdp_opts {
	const char *ifname;   /* underlay interface; required unless no_pin */
	const char *pin_root; /* NULL: SATP_XDP_PIN_ROOT_DEFAULT; bpffs mounted there if missing */
	bool no_pin;	      /* private maps, nothing pinned (BPF_PROG_TEST_RUN tests, benches) */
	enum satp_xdp_attach_mode mode; /* NONE or NATIVE: native; SKB: generic */
	bool replace; /* attach: remove a satp_rx already on the interface first */
};

struct satp_xdp;

int satp_xdp_open(const struct satp_xdp_opts *opts, struct satp_xdp **out);
int satp_xdp_attach(struct satp_xdp *x);
int satp_xdp_detach(struct satp_xdp *x);
void satp_xdp_close(struct satp_xdp *x);

/*
 * RAIL's other links: satp_rail_rx, the same judgement over the same maps but
 * passing what it does not drop to the kernel (the UDP socket: AF_XDP serves
 * satp_rx's interface only), attached plainly (no dispatcher) in the mode
 * satp_rx got. A satp_rail_rx an earlier run left is replaced, another
 * program is not (-EBUSY). satp_xdp_detach() detaches the links too.
 */
#define SATP_XDP_MAX_LINKS 8
int satp_xdp_attach_link(struct satp_xdp *x, const char *ifname);
int satp_xdp_detach_link(struct satp_xdp *x, const char *ifname);
unsigned int satp_xdp_links(const struct satp_xdp *x);
int satp_xdp_link_prog_fd(const struct satp_xdp *x); /* test runs */

/*
 * Detach a satp_rx an earlier run left on ifname (--keep-xdp, a crash): with
 * no AF_XDP socket behind it, it drops all SATP, so a run on the UDP sockets
 * must not leave it there. 1 removed, 0 none there, or -errno.
 */
int satp_xdp_remove_stale(const char *ifname);

/* Remove <pin_root>/satpd/<ifname>/ (forget windows and counters). */
int satp_xdp_unpin(const char *pin_root, const char *ifname);

/* What was obtained. */
int satp_xdp_prog_fd(const struct satp_xdp *x);	     /* the XDP-typed program: test runs */
uint32_t satp_xdp_prog_id(const struct satp_xdp *x); /* the attached program */
enum satp_xdp_attach_mode satp_xdp_mode(const struct satp_xdp *x);
bool satp_xdp_dispatcher(const struct satp_xdp *x);
/* The last attach replaced a satp_rx an earlier run left on the interface (--keep-xdp, a crash). */
bool satp_xdp_took_over(const struct satp_xdp *x);
const char *satp_xdp_pin_dir(const struct satp_xdp *x); /* "" with no_pin */

/* Configuration. Addresses are in network order: 4 bytes (AF_INET) or 16. */
/* Forget the ports, addresses, flags and connections a previous run left in
 * the pinned maps (windows and counters stay): before configuring anew. */
int satp_xdp_reset_config(struct satp_xdp *x);
int satp_xdp_set_port(struct satp_xdp *x, uint16_t port, bool on);
int satp_xdp_set_port_range(struct satp_xdp *x, uint16_t first, uint16_t last, bool on);
int satp_xdp_set_addr(struct satp_xdp *x, int family, const void *addr, bool on);
int satp_xdp_set_flags(struct satp_xdp *x, uint32_t flags); /* SATP_XDP_ANY_ADDR*, _RAIL, ... */
/* Adds or changes a connection; a changed one keeps its flags. Mux SATP_HS_MUX: -EINVAL. */
int satp_xdp_set_conn(struct satp_xdp *x, uint16_t mux, unsigned int tag_len, uint32_t window_size);
int satp_xdp_del_conn(struct satp_xdp *x, uint16_t mux);
/*
 * SATP_XDP_CONN_* of a connection set before (-ENOENT if not). A connection
 * keyed by handshakes sets SATP_XDP_CONN_NO_PREFILTER right after
 * satp_xdp_set_conn and before it binds any window: from then on XDP never
 * judges its seqs, whose numbering restarts with every session.
 */
int satp_xdp_set_conn_flags(struct satp_xdp *x, uint16_t mux, uint32_t flags);
/*
 * Handshake datagrams (mux SATP_HS_MUX) XDP passes to the UDP socket per
 * source address: pps a second, bursts of burst. 0 for either: its default,
 * SATP_HS_RATELIMIT_PPS or _BURST (satp_hs_wire.h); satp_xdp_reset_config
 * restores both. pps above SATP_XDP_HS_PPS_MAX: -EINVAL.
 */
#define SATP_XDP_HS_PPS_MAX 1000000000u
int satp_xdp_set_hs_ratelimit(struct satp_xdp *x, uint32_t pps, uint32_t burst);
/*
 * The handshake budget of all sources together (satp_hs_ceiling), which
 * starts full again; half its burst is kept for sources within their own
 * budget. 0 for either: SATP_HS_CEILING_PPS or _BURST. pps above
 * SATP_XDP_HS_PPS_MAX: -EINVAL.
 */
int satp_xdp_set_hs_ceiling(struct satp_xdp *x, uint32_t pps, uint32_t burst);
/* Per connection, datagrams of senders with no window yet (satp_unv_budget);
 * 0 for either: SATP_XDP_UNVERIFIED_PPS or _BURST. */
int satp_xdp_set_unverified_budget(struct satp_xdp *x, uint32_t pps, uint32_t burst);
/* The routing table in satp_routes4/6 (satp_xdp.h): addr 4 or 16 bytes, host bits ignored. */
int satp_xdp_set_route(struct satp_xdp *x, int family, const void *addr, unsigned int len,
		       uint16_t mux);
int satp_xdp_del_route(struct satp_xdp *x, int family, const void *addr, unsigned int len);
/* The trie's longest match for a full address (the kernel's lookup): -ENOENT when none. */
int satp_xdp_lookup_route(struct satp_xdp *x, int family, const void *addr, uint16_t *mux);

/* RAIL: the remote tuple key names path (< SATP_XDP_RAIL_PATHS); on false: no longer. */
int satp_xdp_set_rail_path(struct satp_xdp *x, const struct satp_xdp_path_key *key, uint32_t path,
			   bool on);

/* Replay windows: SATP_XDP_WINDOW_SLOTS slots shared with XDP through mmap. */
struct satp_window *satp_xdp_windows(struct satp_xdp *x);
int satp_xdp_bind_window(struct satp_xdp *x, uint16_t mux, uint16_t sender_id, uint32_t slot);
int satp_xdp_unbind_window(struct satp_xdp *x, uint16_t mux, uint16_t sender_id);
int satp_xdp_find_window(struct satp_xdp *x, uint16_t mux, uint16_t sender_id, uint32_t *slot);
/* Every bound (mux, sender id) -> slot, e.g. left pinned by a previous run; a
 * non-zero return of fn stops the walk and is returned. */
typedef int (*satp_xdp_window_fn)(void *ctx, uint16_t mux, uint16_t sender_id, uint32_t slot);
int satp_xdp_for_each_window(struct satp_xdp *x, satp_xdp_window_fn fn, void *ctx);

/* AF_XDP: queue -> socket fd (xsk_socket__fd()). */
int satp_xdp_register_xsk(struct satp_xdp *x, uint32_t queue, int xsk_fd);
int satp_xdp_unregister_xsk(struct satp_xdp *x, uint32_t queue);

/* Counters summed over CPUs. */
int satp_xdp_read_counters(struct satp_xdp *x, struct satp_xdp_counter out[SATP_XDP_REASON_MAX]);
int satp_xdp_read_sender_stats(struct satp_xdp *x, uint32_t slot,
			       struct satp_xdp_sender_stats *out);
int satp_xdp_read_rail_stats(struct satp_xdp *x, uint32_t path, struct satp_xdp_path_stats *out);
/* Zero a slot's counters on every CPU: a freed slot's next sender starts from nothing. */
int satp_xdp_clear_sender_stats(struct satp_xdp *x, uint32_t slot);

#endif /* SATP_XDP_LOADER_H */
