/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A read-only view of one interface's XDP state, from the maps pinned under
 * <pin_root>/satpd/<ifname>/ and from the kernel (bpf_xdp_query, AF_XDP
 * sock_diag): what `satp show`, `satp stats` and the metrics endpoint print.
 * Needs no loader and no running daemon; never writes a map.
 */
#ifndef SATP_XDP_VIEW_H
#define SATP_XDP_VIEW_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "satp_xdp.h"

struct satp_xdp_view_conn {
	uint16_t mux;
	uint32_t tag_len;
	uint32_t window_size;
	uint32_t flags; /* SATP_XDP_CONN_* */
};

struct satp_xdp_view_sender {
	uint16_t mux;
	uint16_t sender_id;
	uint32_t slot;
	bool valid; /* a packet was committed: top means something */
	uint32_t top;
	uint32_t size;
	struct satp_xdp_sender_stats stats; /* summed over CPUs */
};

struct satp_xdp_view_xsk {
	uint32_t queue;
	uint32_t inode; /* the socket, as in /proc/<pid>/fd and ss */
	uint64_t rx_dropped, rx_invalid, rx_full, fill_empty;
	bool have_stats;
};

struct satp_xdp_view {
	char ifname[IFNAMSIZ];
	char pin_dir[4096];
	struct satp_xdp_config cfg;
	/* the kernel's own answer, to cross-check satp_cfg against */
	bool if_exists;
	enum satp_xdp_attach_mode kernel_mode;
	uint32_t kernel_prog_id;
	unsigned int rx_queues; /* /sys/class/net/<if>/queues/rx-* */
	/* AF_XDP sockets bound to this interface (sock_diag); -1: not known */
	int n_xsks;
	struct satp_xdp_view_xsk xsks[SATP_XDP_MAX_QUEUES];
	unsigned int n_conns;
	struct satp_xdp_view_conn conns[SATP_XDP_MAX_CONNS];
	unsigned int n_senders;
	struct satp_xdp_view_sender senders[SATP_XDP_WINDOW_SLOTS];
	struct satp_xdp_counter counters[SATP_XDP_REASON_MAX];
};

/* Fill v (large: allocate it) for ifname. -ENOENT: nothing pinned for it. */
int satp_xdp_view_read(const char *pin_root, const char *ifname, struct satp_xdp_view *v);

/*
 * The same from map fds opened once: a daemon opens them before it drops
 * privileges (the pins are root's, mode 0600) and reads through them after;
 * map operations on an fd need no capability (Linux >= 6.5).
 */
struct satp_xdp_view_maps {
	char ifname[IFNAMSIZ];
	char pin_dir[4096];
	int cfg, conns, win_idx, windows, snd_stats, counters; /* -1: not open */
};

int satp_xdp_view_open(const char *pin_root, const char *ifname, struct satp_xdp_view_maps *m);
int satp_xdp_view_read_maps(const struct satp_xdp_view_maps *m, struct satp_xdp_view *v);
void satp_xdp_view_close(struct satp_xdp_view_maps *m);

/*
 * The routing table pinned under pin_dir (satp_routes4/6), read entry by entry:
 * fn gets each prefix (addr 4 or 16 bytes) and its mux; a non-zero return
 * stops the walk and is returned. -ENOENT: no route tries pinned (an older
 * satpd).
 */
typedef int (*satp_xdp_view_route_fn)(void *ctx, int family, const uint8_t *addr, unsigned int len,
				      uint16_t mux);
int satp_xdp_view_routes(const char *pin_dir, satp_xdp_view_route_fn fn, void *ctx);

/* The interface names with a directory under <pin_root>/satpd/, sorted; returns
 * how many (at most max) or a negative errno. */
int satp_xdp_view_list(const char *pin_root, char names[][IFNAMSIZ], unsigned int max);

/* Does the kernel run satp_cfg's program on the interface (directly or under the
 * dispatcher)? */
bool satp_xdp_view_attached(const struct satp_xdp_view *v);

#endif /* SATP_XDP_VIEW_H */
