/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The XDP path of satpd: satp_rx attached to the underlay through the loader
 * (user/lib/satp_xdp_loader.h), one AF_XDP socket per receive queue (libxdp
 * xsk API; copy mode, needs_wakeup), one worker thread per socket that
 * verifies, commits, decrypts and delivers to its tun/tap queue, and on the
 * way back seals and transmits through AF_XDP TX with headers from nexthop.h,
 * or through the UDP socket while the next hop is unknown.
 *
 * Lifecycle (main.c):
 *   satpd_xdp_queues()   how many rx queues the underlay has (before the tun opens)
 *   satpd_xdp_setup()    load, configure, adopt pinned windows, attach, sockets
 *   satpd_xdp_start()    one worker per queue, each on its own tun queue fd
 *   satpd_xdp_tick()     main loop, off the packet path: next-hop headers
 *   satpd_xdp_stop()     join the workers, detach (unless --keep-xdp), close
 */
#ifndef SATPD_XSK_H
#define SATPD_XSK_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "satpd_options.h"

struct satpd;
struct satpd_xdp_path;
struct satp_xdp_path_stats;

/* Workers poll with this timeout so that they notice the stop flag. */
#define SATPD_WORKER_POLL_MS 200
/* Next hops refreshed per tick: a thousand connections take ten ticks. */
#define SATPD_RESOLVE_PER_TICK 128

/*
 * Receive queues the workers serve on ifname: with want SATPD_QUEUES_UNSET,
 * all of them (ethtool channels, else sysfs, else 1; capped at what XDP
 * serves); with fewer than the device has, its channel count is set to want
 * (restored by satpd_xdp_restore_queues()); -errno, logged, when that cannot
 * be done or want is more than the device has (or fewer on a veth in native
 * mode: its XDP needs rx queues >= the peer's tx queues).
 */
int satpd_xdp_queues(const char *ifname, unsigned int want, bool native);
/* Put back the channel count satpd_xdp_queues() changed, if it did. */
void satpd_xdp_restore_queues(void);
/*
 * Attach and open sockets on ifname for n queues in the mode asked for: *out,
 * for every call below. On failure everything is undone and -errno returned:
 * the caller falls back to the socket path.
 */
int satpd_xdp_setup(struct satpd *d, const char *ifname, unsigned int n_queues,
		    struct satpd_xdp_path **out);
/*
 * The socket path after an XDP run: merge the windows pinned for ifname (a
 * run killed before its last write-back) into the state file's. How many
 * windows were pinned; 0 when nothing is pinned there.
 */
unsigned int satpd_xdp_merge_pinned(struct satpd *d, const char *ifname);
/* Start one worker per queue; dev_fds[i] is queue i of the tun/tap. */
int satpd_xdp_start(struct satpd_xdp_path *p, const int *dev_fds, unsigned int n_fds);
/* -ENODEV when the underlay was deleted: the daemon should shut down. 0 with p NULL. */
int satpd_xdp_tick(struct satpd_xdp_path *p);
/* Stop and join the workers only (nothing commits afterwards); satpd_xdp_stop() does it too. */
void satpd_xdp_join(struct satpd *d);
/* p NULL (the socket path): nothing but the join. p is freed. */
void satpd_xdp_stop(struct satpd *d, struct satpd_xdp_path *p);

void satpd_xdp_counters_dump(struct satpd_xdp_path *p);
/*
 * The tx hook's destinations (RAIL's paths; compose.c), main thread, before
 * the workers start: the XDP path resolves next-hop headers for each, so that
 * their copies leave by AF_XDP TX (satpd_xdp_tick), tells satp_rx their remote
 * tuples so that it counts their copies (satp_rail_idx), and attaches
 * satp_rail_rx on every other underlay their routes leave by. 0 or -errno.
 */
struct satpd_tx_dests;
int satpd_xdp_set_dests(struct satpd_xdp_path *p, const struct satpd_tx_dests *dests);
/* RAIL: what satp_rx counted for path (seen, dropped as a copy already committed). */
int satpd_xdp_rail_stats(const struct satpd_xdp_path *p, uint32_t path,
			 struct satp_xdp_path_stats *out);
/* The XDP connection map follows the daemon's connections (no-op with p NULL: the socket path). */
struct satpd_conn;
int satpd_xdp_conn_set(struct satpd_xdp_path *p, const struct satpd_conn *c);
void satpd_xdp_conn_del(struct satpd_xdp_path *p, uint16_t mux);
/* The pinned route tries follow the daemon's routes (conns.h; no-op with p NULL). */
int satpd_xdp_route_set(struct satpd_xdp_path *p, int family, const uint8_t *addr, unsigned int len,
			uint16_t mux);
void satpd_xdp_route_del(struct satpd_xdp_path *p, int family, const uint8_t *addr,
			 unsigned int len);
/* The adopting connection took its mux (main thread): into satp_conns, unknown muxes dropped again. */
void satpd_xdp_adopted(struct satpd_xdp_path *p, const struct satpd_conn *c);
/* The socket path: no satp_rx of an earlier run may stay on ifname, dropping SATP. */
void satpd_xdp_remove_stale(const char *ifname);
/* For the snapshot: the underlay, and bit q set when rx queue q has a registered socket. */
const char *satpd_xdp_ifname(const struct satpd_xdp_path *p);
/* A satp_rx left attached (--keep-xdp, a crash) was replaced at setup. */
bool satpd_xdp_took_over(const struct satpd_xdp_path *p);
/* The mode the kernel gave satp_rx: "native" or "skb". */
const char *satpd_xdp_mode_obtained(const struct satpd_xdp_path *p);
uint64_t satpd_xdp_queue_mask(const struct satpd_xdp_path *p);

#endif /* SATPD_XSK_H */
