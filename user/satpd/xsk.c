// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include "clock.h"
#include "conns.h"
#include "datapath.h"
#include "endpoint.h"
#include "frame.h"
#include "log.h"
#include "nexthop.h"
#include "satp_xdp_loader.h"
#include "underlay.h"
#include "xdp_view.h"
#include "xsk.h"

/*
 * UMEM per socket: the first half of the frames belongs to the fill/rx rings,
 * the second half to tx. 2048-byte frames hold a 1500-byte MTU frame after
 * the kernel's 256-byte XDP headroom, and any datagram we build (SATPD_BUF_SIZE).
 */
#define XSK_FRAME_SIZE 2048u
#define XSK_RX_FRAMES  2048u /* = fill ring size: a refill never finds it full */
#define XSK_TX_FRAMES  2048u /* = tx and completion ring size */
#define XSK_FRAMES     (XSK_RX_FRAMES + XSK_TX_FRAMES)
/* Descriptors taken from the rx ring per peek. */
#define XSK_RX_BATCH 64u

/*
 * How often the windows in the map are copied into the state file. A reboot or
 * a wiped bpffs loses what the file had not got: this, plus the kernel's own
 * writeback delay for the mapped file (docs/windows.md). A copy of the 1024
 * slots is ~0.5 MiB of memory reads and writes only the slots that moved.
 */
#define XDP_WRITE_BACK_MS 1000

/* The window map has SATP_XDP_WINDOW_SLOTS slots; the store indexes them with this many bits. */
#define XDP_WINDOW_BITS 10
_Static_assert((1u << XDP_WINDOW_BITS) == SATP_XDP_WINDOW_SLOTS, "window slots");
/* XDP counts as many RAIL paths as the daemon can configure (satp_rail_idx, satp_rail_stats). */
_Static_assert(SATP_XDP_RAIL_PATHS == SATPD_RAIL_PATHS_MAX, "RAIL paths: XDP and the daemon");
/* satp_rx knows the tx hook's destinations as paths (satp_rail_idx): one for each. */
_Static_assert(SATPD_TX_DESTS_MAX <= SATP_XDP_RAIL_PATHS, "a path in satp_rx per destination");

struct satpd_xdp_path;

struct satpd_xsk {
	struct satpd_xdp_path *path; /* the one it belongs to */
	struct xsk_umem *umem;
	struct xsk_socket *sock;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	void *area;
	uint32_t queue;
	int fd;
	bool registered;
	uint32_t n_free; /* tx frames not in flight */
	uint64_t free_tx[XSK_TX_FRAMES];
};

/* What the XDP path keeps per destination of the tx hook (satpd_xdp_set_dests). Main thread. */
struct xdp_dest {
	/*
	 * AF_XDP TX: the next-hop headers for its remote, published for the
	 * workers (invalid when the route leaves by another interface than satp_rx's).
	 */
	struct satpd_l2 l2;
	uint32_t l2_gen; /* the remote gen l2 was resolved for; odd: none */
	int l2_last_ret;
	/* What satp_rx knows the destination by (satp_rail_idx): the remote of gen xdp_gen. */
	uint32_t xdp_gen; /* odd: none written yet */
	bool xdp_bound;
	struct satp_xdp_path_key xdp_key;
};

struct satpd_xdp_path {
	struct satpd *d;
	struct satp_xdp *x;
	char ifname[IFNAMSIZ];
	int ifindex;
	unsigned int n_queues;
	struct satpd_xsk *socks;
	/* The sockets differ by local port (RAIL's -p range): a frame's port picks its socket. */
	bool by_port;
	struct satpd_transport tx;   /* the workers' transport for the tx hook's copies */
	struct satpd_tx_dests dests; /* the tx hook's destinations; n 0: none */
	struct xdp_dest dest[SATPD_TX_DESTS_MAX];
	int64_t last_resolve_ms;
	int64_t last_write_back_ms; /* of the windows into the state file */
	unsigned int resolve_next;  /* mux the periodic refresh continues at */
	bool keep;
	bool gone;	      /* the underlay was deleted: nothing to detach */
	bool write_back_full; /* the last write-back found no slot for some: said once */
	uint32_t cfg_flags;   /* satp_cfg flags as configure() wrote them */
};

/* ---------------------------------------------------------------- queues */

static unsigned int sysfs_rx_queues(const char *ifname)
{
	char path[128];
	struct dirent *de;
	unsigned int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((de = readdir(dir)))
		n += !strncmp(de->d_name, "rx-", 3);
	closedir(dir);
	return n;
}

/* One ETHTOOL_* command on ifname; cmd is its struct, command set by the caller. */
static int ethtool_ioctl(const char *ifname, void *cmd)
{
	struct ifreq ifr;
	int fd, ret = 0;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = cmd;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Queues that receive: rx-only channels and combined ones both do. */
static unsigned int channels_rx(const struct ethtool_channels *ch)
{
	return ch->rx_count + ch->combined_count;
}

/* What the device had before --queues changed it, put back at exit. */
static struct {
	char ifname[IFNAMSIZ];
	struct ethtool_channels ch;
} channels_saved;

/*
 * --queues n below the device's count: fewer channels, so that every queue
 * that receives has an AF_XDP socket (one without would drop SATP). Combined
 * channels where the driver has them (NICs), else rx channels (veth).
 */
static int set_rx_channels(const char *ifname, const struct ethtool_channels *cur, unsigned int n)
{
	struct ethtool_channels set = *cur, now = {.cmd = ETHTOOL_GCHANNELS};
	int ret;

	set.cmd = ETHTOOL_SCHANNELS;
	if (cur->max_combined) {
		set.combined_count = n;
		set.rx_count = 0;
	} else {
		set.rx_count = n;
	}
	ret = ethtool_ioctl(ifname, &set);
	if (!ret)
		ret = ethtool_ioctl(ifname, &now);
	if (!ret && channels_rx(&now) != n)
		ret = -EOPNOTSUPP;
	if (ret)
		return ret;
	snprintf(channels_saved.ifname, sizeof(channels_saved.ifname), "%s", ifname);
	channels_saved.ch = *cur;
	log_notice("%s: rx channels set from %u to %u (--queues %u); restored at exit", ifname,
		   channels_rx(cur), n, n);
	return 0;
}

void satpd_xdp_restore_queues(void)
{
	struct ethtool_channels set = channels_saved.ch;
	int ret;

	if (!channels_saved.ifname[0])
		return;
	set.cmd = ETHTOOL_SCHANNELS;
	ret = ethtool_ioctl(channels_saved.ifname, &set);
	if (ret && ret != -ENODEV)
		log_warn("%s: cannot restore %u rx channels: %s", channels_saved.ifname,
			 channels_rx(&set), strerror(-ret));
	channels_saved.ifname[0] = '\0';
}

/* veth's native XDP wants at least as many rx queues as its peer transmits on. */
static bool is_veth(const char *ifname)
{
	struct ethtool_drvinfo info = {.cmd = ETHTOOL_GDRVINFO};

	return !ethtool_ioctl(ifname, &info) && !strcmp(info.driver, "veth");
}

int satpd_xdp_queues(const char *ifname, unsigned int want, bool native)
{
	struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
	unsigned int n = 0, max = SATP_XDP_MAX_QUEUES < SATPD_QUEUES_MAX ? SATP_XDP_MAX_QUEUES
									 : SATPD_QUEUES_MAX;
	bool ethtool = !ethtool_ioctl(ifname, &ch);
	int ret;

	if (ethtool)
		n = channels_rx(&ch);
	if (!n)
		n = sysfs_rx_queues(ifname);
	if (!n)
		n = 1;
	if (want == SATPD_QUEUES_UNSET) {
		if (n > max) {
			log_warn("%s has %u rx queues; XDP serves %u (set fewer channels with "
				 "--queues)",
				 ifname, n, max);
			n = max;
		}
		return (int)n;
	}
	if (want > n) {
		log_err("--queues %u: %s has only %u rx queue%s", want, ifname, n,
			n == 1 ? "" : "s");
		return -EINVAL;
	}
	if (want == n)
		return (int)n;
	if (native && is_veth(ifname)) {
		log_err("--queues %u: %s is a veth with %u rx queues; native XDP on veth needs as "
			"many rx queues as the peer has tx queues, so they cannot be reduced here: "
			"give --queues %u, leave it out, or use --xdp-mode skb",
			want, ifname, n, n);
		return -EOPNOTSUPP;
	}
	ret = ethtool ? set_rx_channels(ifname, &ch, want) : -EOPNOTSUPP;
	if (ret) {
		log_err("--queues %u: %s has %u rx queues and its channel count cannot be set to "
			"%u (%s); a queue without an AF_XDP socket would drop SATP: give --queues "
			"%u or leave it out",
			want, ifname, n, want, strerror(-ret), n);
		return ret;
	}
	return (int)want;
}

/* ---------------------------------------------------------------- sockets */

static int xsk_open(struct satpd_xsk *s, const char *ifname, uint32_t queue, bool skb)
{
	struct xsk_umem_config ucfg = {
	    .fill_size = XSK_RX_FRAMES,
	    .comp_size = XSK_TX_FRAMES,
	    .frame_size = XSK_FRAME_SIZE,
	};
	struct xsk_socket_config cfg = {
	    .rx_size = XSK_RX_FRAMES,
	    .tx_size = XSK_TX_FRAMES,
	    .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
	    /* veth and skb mode have no zero-copy: ask for copy, which works everywhere. */
	    .bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	size_t size = (size_t)XSK_FRAMES * XSK_FRAME_SIZE;
	uint32_t idx, i;
	int ret;

	(void)skb;
	s->queue = queue;
	s->fd = -1;
	s->area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->area == MAP_FAILED) {
		s->area = NULL;
		return -errno;
	}
	ret = xsk_umem__create(&s->umem, s->area, size, &s->fq, &s->cq, &ucfg);
	if (ret)
		return ret;
	ret = xsk_socket__create(&s->sock, ifname, queue, s->umem, &s->rx, &s->tx, &cfg);
	if (ret)
		return ret;
	s->fd = xsk_socket__fd(s->sock);
	if (xsk_ring_prod__reserve(&s->fq, XSK_RX_FRAMES, &idx) != XSK_RX_FRAMES)
		return -ENOMEM;
	for (i = 0; i < XSK_RX_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&s->fq, idx + i) = (uint64_t)i * XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&s->fq, XSK_RX_FRAMES);
	for (i = 0; i < XSK_TX_FRAMES; i++)
		s->free_tx[i] = (uint64_t)(XSK_RX_FRAMES + i) * XSK_FRAME_SIZE;
	s->n_free = XSK_TX_FRAMES;
	return 0;
}

static void xsk_close(struct satpd_xsk *s)
{
	if (s->sock)
		xsk_socket__delete(s->sock);
	if (s->umem)
		xsk_umem__delete(s->umem);
	if (s->area)
		munmap(s->area, (size_t)XSK_FRAMES * XSK_FRAME_SIZE);
	memset(s, 0, sizeof(*s));
}

/* ---------------------------------------------------------------- rx */

/* A redirected frame's datagram: where satp_rx's metadata says, else where the parser finds it. */
static bool rx_frame_of(struct satpd_worker *w, uint8_t *pkt, const struct xdp_desc *desc,
			struct satpd_rx_frame *f)
{
	struct satp_xdp_meta m;

	if (!satpd_frame_meta(pkt, desc->addr % XSK_FRAME_SIZE, desc->len, &m)) {
		w->ctr.rx_no_xdp_meta++;
		if (!satpd_frame_parse(pkt, desc->len, &m))
			return false;
	}
	return satpd_frame_datagram(pkt, desc->len, &m, f);
}

/*
 * The socket that answers a frame: the one of its family, and where the
 * sockets differ by port (RAIL), the one bound to its destination port.
 */
static int rx_sock(const struct satpd_xsk *s, const struct satpd_rx_frame *f)
{
	const struct satpd_udp *u = &s->path->d->udp;
	int i = -1;

	if (s->path->by_port)
		i = satpd_udp_sock_for_port(u, f->src.ss_family, f->dport);
	return i >= 0 ? i : satpd_udp_sock_for(u, &f->src);
}

/* One peek of the rx ring: returns how many frames it held. */
static unsigned int xsk_rx_batch(struct satpd_worker *w)
{
	struct satpd_xsk *s = w->xsk;
	struct satpd_rx_frame f;
	uint32_t idx_rx = 0, idx_fq = 0, n, i;
	uint64_t delivered = w->ctr.rx_delivered;

	n = xsk_ring_cons__peek(&s->rx, XSK_RX_BATCH, &idx_rx);
	if (!n) {
		if (xsk_ring_prod__needs_wakeup(&s->fq))
			recvfrom(s->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		return 0;
	}
	for (i = 0; i < n; i++) {
		const struct xdp_desc *desc = xsk_ring_cons__rx_desc(&s->rx, idx_rx + i);
		uint8_t *pkt = xsk_umem__get_data(s->area, desc->addr);

		w->ctr.rx_datagrams++;
		if (!rx_frame_of(w, pkt, desc, &f)) {
			w->ctr.rx_too_short++;
			continue;
		}
		w->ctr.rx_bytes += f.dglen;
		satpd_rx_datagram(w, f.dg, f.dglen, &f.src, f.srclen, rx_sock(s, &f));
	}
	satpd_dev_flush(w);
	/* Every rx frame is either in the fill ring or in our hands: this cannot fail. */
	while (xsk_ring_prod__reserve(&s->fq, n, &idx_fq) != n)
		;
	for (i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&s->fq, idx_fq + i) =
		    xsk_umem__extract_addr(xsk_ring_cons__rx_desc(&s->rx, idx_rx + i)->addr);
	xsk_ring_prod__submit(&s->fq, n);
	xsk_ring_cons__release(&s->rx, n);
	if (w->ctr.rx_delivered != delivered)
		atomic_store_explicit(&w->d->last_rx, (int64_t)time(NULL), memory_order_relaxed);
	return n;
}

/* ---------------------------------------------------------------- tx */

static void xsk_complete(struct satpd_xsk *s)
{
	uint32_t idx = 0, n, i;

	n = xsk_ring_cons__peek(&s->cq, XSK_TX_FRAMES, &idx);
	for (i = 0; i < n; i++)
		s->free_tx[s->n_free++] = *xsk_ring_cons__comp_addr(&s->cq, idx + i);
	if (n)
		xsk_ring_cons__release(&s->cq, n);
}

/*
 * Copy mode sends from the tx ring only inside sendto(), at most 32
 * descriptors a call (the kernel's TX_BATCH_SIZE), answering EAGAIN while
 * more are left: kick until the ring is empty or the kernel is busy.
 */
static void xsk_kick_tx(struct satpd_xsk *s)
{
	unsigned int i;

	if (!xsk_ring_prod__needs_wakeup(&s->tx))
		return;
	for (i = 0; i < XSK_TX_FRAMES / 32; i++)
		if (sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0 || errno != EAGAIN)
			break;
}

_Static_assert(SATPD_BATCH <= 64, "a batch's AF_XDP mask is one word");

/* The datagram fits the next hop's MTU with the headers of t. */
static bool tmpl_fits(const struct satpd_l2_tmpl *t, const struct satpd_pkt *p)
{
	return p->len + t->hdr_len - SATPD_ETH_HLEN <= t->mtu;
}

/*
 * The one AF_XDP framing loop: the packets of pkts in mask (bit i: pkts[i]),
 * each framed with its next-hop headers tt[ti[i]], onto the TX ring, as many as
 * there are free frames. Returns the mask of those put there (submitted, not
 * kicked); the rest are the caller's to send by socket.
 */
static uint64_t xsk_tx_frame(struct satpd_worker *w, const struct satpd_pkt *pkts, uint64_t mask,
			     const struct satpd_l2_tmpl *tt, const uint8_t *ti)
{
	struct satpd_xsk *s = w->xsk;
	unsigned int want = (unsigned int)__builtin_popcountll(mask), got = 0, i;
	uint64_t sent = 0;
	uint32_t idx = 0;

	if (want > s->n_free)
		want = s->n_free;
	if (!want || xsk_ring_prod__reserve(&s->tx, want, &idx) != want)
		return 0;
	for (; mask && got < want; mask &= mask - 1) {
		const struct satpd_l2_tmpl *t;
		const struct satpd_pkt *p;
		struct xdp_desc *desc;
		uint8_t *frame;
		uint64_t addr;

		i = (unsigned int)__builtin_ctzll(mask);
		p = &pkts[i];
		t = &tt[ti[i]];
		addr = s->free_tx[--s->n_free];
		frame = xsk_umem__get_data(s->area, addr);
		memcpy(frame + t->hdr_len, p->buf, p->len);
		satpd_l2_frame(t, frame, p->len);
		desc = xsk_ring_prod__tx_desc(&s->tx, idx + got++);
		desc->addr = addr;
		desc->len = (uint32_t)(p->len + t->hdr_len);
		w->ctr.tx_packets++;
		w->ctr.tx_xsk_packets++;
		w->ctr.tx_bytes += p->len;
		sent |= 1ull << i;
	}
	xsk_ring_prod__submit(&s->tx, got);
	return sent;
}

/*
 * The transport of a tx hook's copies on an AF_XDP worker: to one of its
 * destinations by AF_XDP TX, framed with the destination's headers where they
 * fit, and the rest by its socket. Returns how many left either way.
 */
static unsigned int xsk_send_to(void *ctx, struct satpd_worker *w, const struct satpd_tx_dest *dst,
				struct satpd_pkt *pkts, unsigned int n)
{
	static const uint8_t dest_tmpl[SATPD_BATCH]; /* every copy takes the destination's, t */
	struct satpd_xdp_path *p = ctx;
	struct satpd_l2_tmpl t;
	uint64_t fits = 0, sent = 0;
	unsigned int i;

	satpd_l2_read(&p->dest[dst->index].l2, &t);
	if (t.valid && t.remote_gen == dst->gen && t.family == dst->addr.sa.ss_family) {
		for (i = 0; i < n; i++)
			if (pkts[i].len && tmpl_fits(&t, &pkts[i]))
				fits |= 1ull << i;
		sent = xsk_tx_frame(w, pkts, fits, &t, dest_tmpl);
	}
	return (unsigned int)__builtin_popcountll(sent) + satpd_udp_send_to(w, dst, pkts, n, sent);
}

/* A tx hook sends the batch (RAIL: every path's copies), through xsk_send_to. */
static void xsk_send_hooked(struct satpd_worker *w, unsigned int n)
{
	struct satpd_xsk *s = w->xsk;
	uint32_t n_free = s->n_free;

	w->d->tx_hook.send_batch(w->d->tx_hook.ctx, w, &s->path->tx, w->tx, n);
	if (s->n_free != n_free)
		xsk_kick_tx(s);
}

/* The sealed packets by AF_XDP TX where their next hop is known and they fit, the rest by socket. */
static void xsk_send(struct satpd_worker *w, unsigned int n)
{
	/* One template read per connection of the batch. */
	struct satpd_l2_tmpl tt[SATPD_BATCH];
	/* Per packet, its template in tt; zeroed, as gcc cannot see that only masked ones are read. */
	uint8_t ti[SATPD_BATCH] = {0};
	const struct satpd_conn *tc = NULL; /* the connection tt[nt - 1] was read for */
	const struct satpd_l2_tmpl *t;
	uint64_t by_xsk = 0, sent;
	unsigned int i, nt = 0;

	xsk_complete(w->xsk);
	if (w->d->tx_hook.send_batch) {
		xsk_send_hooked(w, n);
		return;
	}
	/* Packets whose connection has valid next-hop headers for the remote they were sealed for. */
	for (i = 0; i < n; i++) {
		struct satpd_pkt *p = &w->tx[i];

		if (!p->len)
			continue;
		if (p->conn != tc) {
			satpd_l2_read(&p->conn->l2, &tt[nt++]);
			tc = p->conn;
		}
		ti[i] = (uint8_t)(nt - 1);
		t = &tt[nt - 1];
		if (p->sock >= 0 && t->valid && t->remote_gen == p->remote_gen &&
		    t->family == p->addr.ss_family && tmpl_fits(t, p))
			by_xsk |= 1ull << i;
	}
	sent = xsk_tx_frame(w, w->tx, by_xsk, tt, ti);
	if (sent)
		xsk_kick_tx(w->xsk);
	for (i = 0; i < n; i++) {
		if (sent >> i & 1)
			w->tx[i].len = 0; /* sent: the socket skips it */
		w->ctr.tx_udp_fallback += w->tx[i].len != 0;
	}
	satpd_udp_send_batch(w, w->tx, n);
}

static void dev_to_xsk(struct satpd_worker *w)
{
	unsigned int n;

	do {
		n = satpd_dev_read_batch(w, w->dev_fd);
		if (n && satpd_tx_seal_batch(w, w->tx, n))
			xsk_send(w, n);
	} while (n == SATPD_BATCH);
}

/* ---------------------------------------------------------------- workers */

static void *worker_main(void *arg)
{
	struct satpd_worker *w = arg;
	struct satpd *d = w->d;
	struct pollfd pfd[2] = {
	    {.fd = w->xsk->fd, .events = POLLIN},
	    {.fd = w->dev_fd, .events = POLLIN},
	};
	unsigned int got;

	while (!atomic_load_explicit(&d->stop, memory_order_relaxed)) {
		if (poll(pfd, 2, SATPD_WORKER_POLL_MS) < 0 && errno != EINTR) {
			log_err("worker %u: poll: %s", w->id, strerror(errno));
			break;
		}
		satpd_worker_enter(w);
		/* Drain what is there, a bounded number of batches, then give tx its turn. */
		for (got = 0; got < XSK_RX_FRAMES && xsk_rx_batch(w);)
			got += XSK_RX_BATCH;
		if (pfd[1].revents & POLLIN)
			dev_to_xsk(w);
		xsk_complete(w->xsk);
		if (w->xsk->n_free < XSK_TX_FRAMES)
			xsk_kick_tx(w->xsk); /* left over from a busy kernel: try again */
		satpd_worker_leave(w);
	}
	return NULL;
}

int satpd_xdp_start(struct satpd_xdp_path *p, const int *dev_fds, unsigned int n_fds)
{
	struct satpd *d = p->d;
	sigset_t all, old;
	unsigned int i;
	int ret;

	if (n_fds < p->n_queues)
		return -EINVAL;
	d->workers = calloc(p->n_queues, sizeof(*d->workers));
	if (!d->workers)
		return -ENOMEM;
	/* Workers inherit everything blocked: signals go to the main loop's signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < p->n_queues; i++) {
		struct satpd_worker *w = &d->workers[i];

		ret = satpd_worker_init(w, d, i, dev_fds[i]);
		if (ret)
			break;
		d->n_workers++;
		w->xsk = &p->socks[i];
		ret = pthread_create(&w->thread, NULL, worker_main, w);
		if (ret) {
			ret = -ret;
			log_err("cannot start worker %u: %s", i, strerror(-ret));
			break;
		}
		w->running = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (i < p->n_queues)
		return ret;
	log_notice("%u AF_XDP worker%s on %s (one per rx queue, each on its own tun queue)",
		   p->n_queues, p->n_queues == 1 ? "" : "s", p->ifname);
	return 0;
}

/* ---------------------------------------------------------------- setup */

static int bind_window(void *ctx, uint16_t mux, uint16_t sender_id, uint32_t slot)
{
	return satp_xdp_bind_window(ctx, mux, sender_id, slot);
}

/* The slot is free again (window_store.h): XDP forgets the sender, the next one counts from 0. */
static void unbind_window(void *ctx, uint16_t mux, uint16_t sender_id, uint32_t slot)
{
	int ret = satp_xdp_unbind_window(ctx, mux, sender_id);

	if (ret && ret != -ENOENT)
		log_warn("mux %u sender %u: cannot unbind window slot %u: %s", mux, sender_id, slot,
			 strerror(-ret));
	satp_xdp_clear_sender_stats(ctx, slot);
}

static int adopt_window(void *ctx, uint16_t mux, uint16_t sender_id, uint32_t slot)
{
	struct satpd_windows *w = ctx;
	int ret = satpd_windows_adopt(w, mux, sender_id, slot);

	if (ret) {
		log_warn("pinned window of mux %u sender %u in slot %u: %s; ignored", mux,
			 sender_id, slot, strerror(-ret));
		return 0;
	}
	/* Its size stays the last run's until its connection commits (window_store.c resize). */
	log_info("mux %u sender %u: replay window kept from the last run (top %" PRIu32 ")", mux,
		 sender_id, w->slots[slot].top);
	return 0;
}

/*
 * Replay windows over the mmapped window map, with what an earlier run
 * committed: the pinned windows, merged with the state file's (a reboot took
 * the pins, or the last run used the sockets). The file's store becomes the
 * record the map is written back to (window_store.h).
 */
static int windows_over_map(struct satpd *d, struct satpd_xdp_path *p)
{
	struct satpd_windows *w = &d->windows, *rec;
	struct satp_xdp *x = p->x;
	uint32_t size = w->size;
	unsigned int pinned;
	int ret;

	rec = malloc(sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	satpd_windows_move(rec, w);
	ret = satpd_windows_init(w, XDP_WINDOW_BITS, size, satp_xdp_windows(x), bind_window, x);
	if (ret) {
		satpd_windows_move(w, rec);
		free(rec);
		return ret;
	}
	w->unbind = unbind_window;
	ret = satp_xdp_for_each_window(x, adopt_window, w);
	pinned = atomic_load(&w->n);
	satpd_windows_keep_record(w, rec);
	d->windows_pinned = ret ? 0 : pinned;
	d->windows_adopted = ret ? 0 : atomic_load(&w->n);
	if (!ret && atomic_load(&w->n))
		log_notice("%u replay window%s adopted (%u pinned in %s, the rest from the state "
			   "file)",
			   atomic_load(&w->n), atomic_load(&w->n) == 1 ? "" : "s", pinned,
			   satp_xdp_pin_dir(x));
	p->last_write_back_ms = satpd_mono_ms();
	return ret;
}

/* One pinned window (mux, sender id) -> slot, read through the view's map fds. */
static int merge_pinned_one(struct satpd_windows *w, const struct satp_xdp_view_maps *m,
			    const struct satp_xdp_sender_key *key)
{
	uint64_t bits[SATP_WINDOW_WORDS];
	struct satp_window win;
	uint32_t slot, top, nbits;

	if (bpf_map_lookup_elem(m->win_idx, key, &slot) ||
	    bpf_map_lookup_elem(m->windows, &slot, &win))
		return 0; /* deleted meanwhile, or a slot out of range */
	if (satp_window_export(&win, &top, bits, &nbits))
		return 0; /* nothing committed, or -w 0 */
	return satpd_windows_merge_record(w, key->mux, key->sender_id, win.size, top, bits, nbits) <
		       0
		   ? -ENOSPC
		   : 1;
}

/* Maps another satpd build pinned may hold other structs: a lookup would overrun ours. */
static bool pinned_layout_ok(const struct satp_xdp_view_maps *m)
{
	struct bpf_map_info idx = {0}, win = {0};
	__u32 len = sizeof(idx);

	if (bpf_obj_get_info_by_fd(m->win_idx, &idx, &len))
		return false;
	len = sizeof(win);
	if (bpf_obj_get_info_by_fd(m->windows, &win, &len))
		return false;
	return idx.key_size == sizeof(struct satp_xdp_sender_key) &&
	       idx.value_size == sizeof(__u32) && win.key_size == sizeof(__u32) &&
	       win.value_size == sizeof(struct satp_window);
}

unsigned int satpd_xdp_merge_pinned(struct satpd *d, const char *ifname)
{
	struct satp_xdp_sender_key key, next;
	struct satp_xdp_view_maps m;
	unsigned int n = 0, lost = 0;
	void *prev = NULL;
	int ret;

	if (satp_xdp_view_open(d->cfg->pin_root[0] ? d->cfg->pin_root : NULL, ifname, &m))
		return 0; /* nothing pinned: no XDP run on ifname since the last boot */
	if (!pinned_layout_ok(&m)) {
		log_warn("windows pinned in %s have another layout: not merged", m.pin_dir);
		satp_xdp_view_close(&m);
		return 0;
	}
	while (!bpf_map_get_next_key(m.win_idx, prev, &next)) {
		key = next;
		prev = &key;
		ret = merge_pinned_one(&d->windows, &m, &key);
		n += ret > 0;
		lost += ret < 0;
	}
	if (n || lost)
		log_notice("%u replay window%s merged from %s%s", n, n == 1 ? "" : "s", m.pin_dir,
			   lost ? " (some found no free slot)" : "");
	satp_xdp_view_close(&m);
	return n;
}

/* Back to the socket path's windows: the state file, with all the map had written back. */
static void windows_off_map(struct satpd *d)
{
	struct satpd_windows *rec = satpd_windows_take_record(&d->windows);

	if (!rec)
		return;
	satpd_windows_free(&d->windows);
	satpd_windows_move(&d->windows, rec);
	free(rec);
}

static int set_conn(struct satp_xdp *x, const struct satpd_conn *c)
{
	uint32_t win = c->cfg.window;
	int ret = satp_xdp_set_conn(x, c->mux, c->cfg.keys.algos.tag_len,
				    win < SATP_WINDOW_BITS ? win : SATP_WINDOW_BITS);

	/* kx sessions restart seqs under windows of their own: XDP's shared one cannot judge */
	if (!ret && c->per_session_windows)
		ret = satp_xdp_set_conn_flags(x, c->mux, SATP_XDP_CONN_NO_PREFILTER);
	return ret;
}

int satpd_xdp_conn_set(struct satpd_xdp_path *p, const struct satpd_conn *c)
{
	int ret;

	if (!p)
		return 0;
	ret = set_conn(p->x, c);
	if (ret)
		log_err("mux %u: cannot add it to the XDP connection map: %s", c->mux,
			strerror(-ret));
	return ret;
}

void satpd_xdp_conn_del(struct satpd_xdp_path *p, uint16_t mux)
{
	int ret;

	if (!p)
		return;
	ret = satp_xdp_del_conn(p->x, mux);
	if (ret)
		log_warn("mux %u: cannot remove it from the XDP connection map: %s", mux,
			 strerror(-ret));
}

int satpd_xdp_route_set(struct satpd_xdp_path *p, int family, const uint8_t *addr, unsigned int len,
			uint16_t mux)
{
	char pfx[INET6_ADDRSTRLEN + 4];
	int ret;

	if (!p)
		return 0;
	ret = satp_xdp_set_route(p->x, family, addr, len, mux);
	if (ret) {
		satpd_prefix_str(family, addr, len, pfx, sizeof(pfx));
		log_err("route %s of mux %u: cannot add it to the pinned route trie: %s", pfx, mux,
			strerror(-ret));
	}
	return ret;
}

void satpd_xdp_route_del(struct satpd_xdp_path *p, int family, const uint8_t *addr,
			 unsigned int len)
{
	char pfx[INET6_ADDRSTRLEN + 4];
	int ret;

	if (!p)
		return;
	ret = satp_xdp_del_route(p->x, family, addr, len);
	if (ret && ret != -ENOENT) {
		satpd_prefix_str(family, addr, len, pfx, sizeof(pfx));
		log_warn("route %s: cannot remove it from the pinned route trie: %s", pfx,
			 strerror(-ret));
	}
}

static int write_route(void *ctx, int family, const uint8_t *addr, unsigned int len, uint16_t mux)
{
	return satp_xdp_set_route(ctx, family, addr, len, mux);
}

/*
 * Ports, local addresses (as the UDP sockets are bound) and the connections.
 * A connection adopting its mux (no -r) stays out of satp_conns and satp_rx
 * passes SATP of any unknown mux to the UDP socket: only the main thread
 * adopts (satpd_xdp_adopted() then installs the mux), and a known mux is
 * ours to judge, not the kernel's.
 */
static int configure(struct satpd *d, struct satpd_xdp_path *p)
{
	struct satpd_conn *adopt = atomic_load(&d->conns->adopt);
	struct satp_xdp *x = p->x;
	const struct satpd_conn *c;
	struct sockaddr_storage ss;
	socklen_t len;
	uint32_t flags = 0;
	unsigned int i;
	int ret;

	/*
	 * Pinned maps keep what the last run configured: start from nothing. The
	 * connection goes in before the ports, so that a satp_rx still attached
	 * (--keep-xdp) passes SATP to our UDP socket meanwhile rather than drop it.
	 */
	ret = satp_xdp_reset_config(x);
	for (i = 0; !ret && (c = satpd_conns_next(d, &i));)
		ret = c == adopt ? 0 : set_conn(x, c);
	if (!ret)
		ret = satpd_lpm_walk(atomic_load(&d->conns->routes), write_route, x);
	if (ret)
		return ret;
	if (adopt) {
		flags |= SATP_XDP_PASS_UNKNOWN_MUX;
		log_notice("no -r: XDP passes SATP of any mux to the UDP socket (pass-adopt) until "
			   "the first authenticated packet's mux is adopted");
	}
	for (i = 0; i < d->udp.n; i++) {
		len = sizeof(ss);
		if (getsockname(d->udp.fds[i], (struct sockaddr *)&ss, &len) < 0)
			return -errno;
		ret = satp_xdp_set_port(x, satpd_addr_port(&ss), true);
		if (!ret && satpd_addr_is_any(&ss))
			flags |= ss.ss_family == AF_INET ? SATP_XDP_ANY_ADDR4 : SATP_XDP_ANY_ADDR6;
		else if (!ret)
			ret = satp_xdp_set_addr(x, ss.ss_family, satpd_addr_bytes(&ss), true);
		if (ret)
			return ret;
	}
	p->cfg_flags = flags; /* SATP_XDP_RAIL follows with the tx hook's destinations */
	return satp_xdp_set_flags(x, flags);
}

void satpd_xdp_adopted(struct satpd_xdp_path *p, const struct satpd_conn *c)
{
	int ret;

	if (!p || !(p->cfg_flags & SATP_XDP_PASS_UNKNOWN_MUX))
		return;
	/* The mux first, then the flag: its datagrams reach us throughout. */
	ret = satpd_xdp_conn_set(p, c);
	if (!ret) {
		p->cfg_flags &= ~SATP_XDP_PASS_UNKNOWN_MUX;
		ret = satp_xdp_set_flags(p->x, p->cfg_flags);
	}
	if (ret)
		log_warn("mux %u: XDP keeps passing it to the UDP socket (%s)", c->mux,
			 strerror(-ret));
	else
		log_notice("mux %u: adopted into XDP; other muxes are dropped again", c->mux);
}

static void loader_log(enum satp_xdp_log_level level, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	satpd_log(level == SATP_XDP_LOG_WARN   ? SATPD_LOG_WARNING
		  : level == SATP_XDP_LOG_INFO ? SATPD_LOG_INFO
					       : SATPD_LOG_DEBUG,
		  "%s", buf);
}

static void path_free(struct satpd_xdp_path *p)
{
	unsigned int i;

	for (i = 0; p->socks && i < p->n_queues; i++) {
		if (p->socks[i].registered)
			satp_xdp_unregister_xsk(p->x, p->socks[i].queue);
		xsk_close(&p->socks[i]);
	}
	free(p->socks);
	if (p->x && satp_xdp_mode(p->x) != SATP_XDP_MODE_NONE && !p->keep && !p->gone)
		satp_xdp_detach(p->x);
	satp_xdp_close(p->x);
	free(p);
}

/*
 * RAIL over several links: satp_rail_rx on every other underlay the route to
 * a destination's remote leaves by, so that copies committed already die in
 * XDP there too. Not fatal: without it they reach the UDP socket and lose at
 * the commit.
 */
static void attach_dest_links(struct satpd_xdp_path *p)
{
	struct satpd_peer_addr a;
	char dev[IFNAMSIZ];
	unsigned int i, n;
	int sock, ret;

	for (i = 0; i < p->dests.n; i++) {
		p->dests.remote(p->dests.ctx, i, &a, &sock);
		if (sock < 0 || satpd_underlay_route_dev(&a, dev) || !strcmp(dev, p->ifname))
			continue;
		n = satp_xdp_links(p->x);
		ret = satp_xdp_attach_link(p->x, dev);
		if (ret)
			log_warn("RAIL path %u: no satp_rail_rx on %s (%s): its copies all reach "
				 "the UDP socket",
				 i, dev, strerror(-ret));
		else if (satp_xdp_links(p->x) > n)
			log_notice("XDP: satp_rail_rx on %s (RAIL link): copies committed already "
				   "are dropped there, the rest go to the UDP socket",
				   dev);
	}
}

int satpd_xdp_set_dests(struct satpd_xdp_path *p, const struct satpd_tx_dests *dests)
{
	unsigned int i;
	int ret;

	if (dests->n > SATPD_TX_DESTS_MAX)
		return -E2BIG;
	p->dests = *dests;
	for (i = 0; i < dests->n; i++) {
		p->dest[i].l2_gen = 1;
		p->dest[i].xdp_gen = 1;
	}
	if (!dests->n)
		return 0;
	/*
	 * satp_rx counts copies per path by the tuples sync_dest() writes. Only
	 * the counting depends on the flag, not what is dropped: not fatal.
	 */
	p->cfg_flags |= SATP_XDP_RAIL;
	ret = satp_xdp_set_flags(p->x, p->cfg_flags);
	if (ret)
		log_warn("XDP: RAIL paths not counted by satp_rx (its flags: %s)", strerror(-ret));
	attach_dest_links(p);
	return 0;
}

/* Which sockets answer a frame: by port where they differ by it. */
static bool socks_by_port(const struct satpd_udp *u)
{
	unsigned int i;

	for (i = 1; i < u->n; i++)
		if (u->port[i] != u->port[0])
			return true;
	return false;
}

int satpd_xdp_setup(struct satpd *d, const char *ifname, unsigned int n_queues,
		    struct satpd_xdp_path **out)
{
	const struct satpd_config *c = d->cfg;
	struct satp_xdp_opts o = {
	    .ifname = ifname,
	    .pin_root = c->pin_root,
	    .mode = c->xdp_mode == SATPD_XDP_SKB ? SATP_XDP_MODE_SKB : SATP_XDP_MODE_NATIVE,
	    /* A satp_rx left attached (--keep-xdp, or a crash) is ours to take over. */
	    .replace = true,
	};
	struct satpd_xdp_path *p;
	unsigned int i;
	int ret;

	satp_xdp_set_log(loader_log, SATP_XDP_LOG_INFO);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->d = d;
	p->tx = (struct satpd_transport){.send_to = xsk_send_to, .ctx = p};
	p->by_port = socks_by_port(&d->udp);
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	p->ifindex = (int)if_nametoindex(ifname);
	p->n_queues = n_queues;
	p->keep = c->keep_xdp;
	p->socks = calloc(n_queues, sizeof(*p->socks));
	if (!p->socks || !p->ifindex) {
		ret = p->socks ? -ENODEV : -ENOMEM;
		goto err;
	}
	ret = satp_xdp_open(&o, &p->x);
	if (ret)
		goto err;
	ret = configure(d, p);
	if (ret)
		goto err;
	ret = windows_over_map(d, p);
	if (ret)
		goto err;
	/* Sockets first: satp_rx drops SATP on a queue without one (fail closed). */
	for (i = 0; i < n_queues; i++) {
		p->socks[i].path = p;
		ret = xsk_open(&p->socks[i], ifname, i, c->xdp_mode == SATPD_XDP_SKB);
		if (ret) {
			log_err("%s queue %u: cannot open an AF_XDP socket: %s", ifname, i,
				strerror(-ret));
			goto err;
		}
		ret = satp_xdp_register_xsk(p->x, i, p->socks[i].fd);
		if (ret)
			goto err;
		p->socks[i].registered = true;
	}
	ret = satp_xdp_attach(p->x);
	if (ret)
		goto err;
	log_notice("XDP: satp_rx on %s in %s mode, %s (prog id %u), maps pinned under %s%s", ifname,
		   satp_xdp_mode_name(satp_xdp_mode(p->x)),
		   satp_xdp_dispatcher(p->x) ? "through the libxdp dispatcher"
					     : "as a single program (no dispatcher)",
		   satp_xdp_prog_id(p->x), satp_xdp_pin_dir(p->x),
		   p->keep ? "; left attached at exit (--keep-xdp)" : "");
	d->rx_prefiltered = true;
	*out = p;
	return 0;
err:
	/* The socket path carries on from the merged windows, the map's included. */
	windows_off_map(d);
	d->windows_adopted = atomic_load(&d->windows.n);
	p->keep = false;
	path_free(p);
	return ret;
}

void satpd_xdp_join(struct satpd *d)
{
	unsigned int i;

	atomic_store(&d->stop, true);
	for (i = 0; i < d->n_workers; i++) {
		if (d->workers[i].running)
			pthread_join(d->workers[i].thread, NULL);
		d->workers[i].running = false;
	}
}

void satpd_xdp_stop(struct satpd *d, struct satpd_xdp_path *p)
{
	unsigned int i;

	satpd_xdp_join(d);
	windows_off_map(d); /* nothing commits now: the last write-back is complete */
	if (p) {
		path_free(p);
		d->rx_prefiltered = false;
	}
	for (i = 0; i < d->n_workers; i++)
		satpd_worker_free(&d->workers[i]);
}

/* ---------------------------------------------------------------- next hop */

/*
 * An AF_XDP socket whose device is deleted is unbound without a poll event,
 * so ask: the underlay still there under its index and name?
 */
static bool underlay_gone(struct satpd_xdp_path *p)
{
	char name[IF_NAMESIZE];

	if (if_indextoname((unsigned int)p->ifindex, name) && !strcmp(name, p->ifname))
		return false;
	log_err("the underlay %s went away (%s): shutting down", p->ifname,
		errno ? strerror(errno) : "renamed");
	p->gone = true;
	return true;
}

/*
 * The headers from socket sock to remote a by satp_rx's interface: 0 or
 * -errno as satpd_nexthop_resolve.
 */
static int resolve_for(const struct satpd_xdp_path *p, const struct satpd_peer_addr *a, int sock,
		       struct satpd_l2_tmpl *t)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	uint16_t port;
	bool wildcard;

	memset(&local, 0, sizeof(local));
	if (sock < 0 || getsockname(p->d->udp.fds[sock], (struct sockaddr *)&local, &len) < 0)
		return -EADDRNOTAVAIL;
	port = satpd_addr_port(&local);
	wildcard = satpd_addr_is_any(&local);
	return satpd_nexthop_resolve(&a->sa, wildcard ? NULL : &local, port, p->ifindex, t);
}

static const char *way_back(int ret)
{
	return !ret		     ? "AF_XDP TX (next hop resolved)"
	       : ret == -EAGAIN	     ? "UDP socket until the kernel resolves the next hop"
	       : ret == -ENETUNREACH ? "UDP socket (the route leaves by another interface)"
				     : "UDP socket (no next hop headers)";
}

/*
 * Publishes the headers to remote a (of generation gen) for the workers in l2;
 * invalid ones when they cannot be had, so that the workers send by socket.
 */
static int publish_for(const struct satpd_xdp_path *p, const struct satpd_peer_addr *a, int sock,
		       uint32_t gen, struct satpd_l2 *l2)
{
	struct satpd_l2_tmpl t;
	int ret = resolve_for(p, a, sock, &t);

	if (ret)
		memset(&t, 0, sizeof(t));
	t.remote_gen = gen;
	satpd_l2_publish(l2, &t);
	return ret;
}

/* Next-hop headers for one connection's remote, published for its workers. */
static void resolve_conn(const struct satpd_xdp_path *p, struct satpd_conn *c)
{
	struct satpd_remote_view v;
	char a[64];
	int ret;

	/*
	 * With destinations (RAIL's paths) the tx hook sends by their headers; the
	 * connection's remote follows the winning copy.
	 */
	if (p->dests.n)
		return;
	satpd_conn_read_remote(c, &v);
	if (!v.known)
		return;
	ret = publish_for(p, &v.addr, v.sock, v.gen, &c->l2);
	if (ret != c->l2_last_ret)
		log_info("mux %u: way back to %s: %s", c->mux,
			 satpd_addr_str(&v.addr.sa, a, sizeof(a)), way_back(ret));
	c->l2_last_ret = ret;
}

/*
 * The tx hook's destinations (RAIL's paths): each its own headers, for AF_XDP
 * TX of its copies. Only those whose route leaves by satp_rx's interface get
 * valid ones (the AF_XDP socket is bound there); the others keep sending by
 * their UDP socket.
 */
static void resolve_dests(struct satpd_xdp_path *p, bool refresh)
{
	struct satpd_peer_addr a;
	unsigned int i;
	uint32_t gen;
	char s[64];
	int sock, ret;

	for (i = 0; i < p->dests.n; i++) {
		struct xdp_dest *x = &p->dest[i];

		gen = p->dests.remote(p->dests.ctx, i, &a, &sock);
		if ((gen == x->l2_gen && !refresh) || sock < 0)
			continue;
		ret = publish_for(p, &a, sock, gen, &x->l2);
		if (ret != x->l2_last_ret || gen != x->l2_gen)
			log_info("RAIL path %u: way back to %s: %s", i,
				 satpd_addr_str(&a.sa, s, sizeof(s)), way_back(ret));
		x->l2_gen = gen;
		x->l2_last_ret = ret;
	}
}

/* satp_rx's name for a copy from a on the socket of local port lport. */
static void path_key(const struct satpd_peer_addr *a, uint16_t lport, struct satp_xdp_path_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = a->sa.ss_family;
	k->lport = lport;
	k->rport = satpd_addr_port(&a->sa);
	memcpy(k->raddr, satpd_addr_bytes(&a->sa), satpd_addr_len(&a->sa));
}

/* satp_rx counts destination i's copies (satp_rail_idx) by its remote tuple: moved with it. */
static void sync_dest(struct satpd_xdp_path *p, unsigned int i)
{
	const struct satpd *d = p->d;
	struct xdp_dest *x = &p->dest[i];
	struct satp_xdp_path_key k;
	struct satpd_peer_addr a;
	uint32_t gen;
	int sock, ret;

	gen = p->dests.remote(p->dests.ctx, i, &a, &sock);
	if (gen == x->xdp_gen)
		return;
	x->xdp_gen = gen;
	if (sock < 0 || sock >= (int)d->udp.n)
		return;
	path_key(&a, d->udp.port[sock], &k);
	if (x->xdp_bound && !memcmp(&k, &x->xdp_key, sizeof(k)))
		return;
	if (x->xdp_bound)
		satp_xdp_set_rail_path(p->x, &x->xdp_key, i, false);
	ret = satp_xdp_set_rail_path(p->x, &k, i, true);
	x->xdp_bound = !ret;
	x->xdp_key = k;
	if (ret)
		LOG_RATELIMITED(SATPD_LOG_WARNING,
				"RAIL path %u: XDP cannot count its copies (%s): it shows what "
				"reached the daemon only",
				i, strerror(-ret));
}

/* The map's windows into the state file, every XDP_WRITE_BACK_MS. */
static void write_back_windows(struct satpd *d, struct satpd_xdp_path *p)
{
	unsigned int lost;

	if (satpd_mono_ms_since(p->last_write_back_ms) < XDP_WRITE_BACK_MS)
		return;
	p->last_write_back_ms = satpd_mono_ms();
	lost = satpd_windows_write_back(&d->windows);
	if (lost && !p->write_back_full)
		log_warn("the replay window file has no slot for %u window%s: %s not kept across "
			 "a reboot",
			 lost, lost == 1 ? "" : "s", lost == 1 ? "it is" : "they are");
	p->write_back_full = lost;
}

/*
 * Remotes that moved now; the others every SATPD_NEXTHOP_REFRESH_MS, at most
 * SATPD_RESOLVE_PER_TICK of them a tick so that a thousand connections do not
 * stall the main loop (two netlink round trips each).
 */
int satpd_xdp_tick(struct satpd_xdp_path *p)
{
	struct satpd *d;
	struct satpd_conn *c;
	unsigned int m, n;
	bool moved, refresh;

	if (!p)
		return 0;
	d = p->d;
	for (m = 0; m < p->dests.n; m++)
		sync_dest(p, m);
	moved = atomic_exchange(&d->remote_moved, false);
	refresh = satpd_mono_ms_since(p->last_resolve_ms) >= SATPD_NEXTHOP_REFRESH_MS;
	resolve_dests(p, refresh);
	if (moved)
		for (m = 0; (c = satpd_conns_next(d, &m));)
			if (atomic_exchange(&c->remote.moved, false))
				resolve_conn(p, c);
	write_back_windows(d, p);
	if (!refresh)
		return 0;
	errno = 0;
	if (underlay_gone(p))
		return -ENODEV;
	m = p->resolve_next;
	for (n = 0; n < SATPD_RESOLVE_PER_TICK && (c = satpd_conns_next(d, &m)); n++)
		resolve_conn(p, c);
	if (!c) {
		/* A full round: the next one starts in a refresh period. */
		p->resolve_next = 0;
		p->last_resolve_ms = satpd_mono_ms();
	} else {
		p->resolve_next = m;
	}
	return 0;
}

/* ---------------------------------------------------------------- reporting */

void satpd_xdp_counters_dump(struct satpd_xdp_path *p)
{
	struct satp_xdp_counter c[SATP_XDP_REASON_MAX];
	char name[48];
	unsigned int r, i;

	if (satp_xdp_read_counters(p->x, c))
		return;
	log_notice("XDP counters on %s (since the maps were created):", p->ifname);
	for (r = 0; r < SATP_XDP_REASON_MAX; r++) {
		snprintf(name, sizeof(name), "xdp_%s", satp_xdp_reason_names[r]);
		for (i = 0; name[i]; i++)
			if (name[i] == '-')
				name[i] = '_';
		log_notice("  %-18s %" PRIu64, name, (uint64_t)c[r].packets);
	}
}

void satpd_xdp_remove_stale(const char *ifname)
{
	int ret;

	satp_xdp_set_log(loader_log, SATP_XDP_LOG_INFO);
	ret = satp_xdp_remove_stale(ifname);
	if (ret == 1)
		log_notice("%s: removed the satp_rx an earlier run left attached: on the UDP "
			   "sockets it would drop every SATP datagram",
			   ifname);
	else if (ret < 0)
		log_warn("%s: cannot remove the satp_rx an earlier run left attached (%s): SATP "
			 "may not reach the UDP sockets",
			 ifname, strerror(-ret));
}

bool satpd_xdp_took_over(const struct satpd_xdp_path *p)
{
	return satp_xdp_took_over(p->x);
}

const char *satpd_xdp_ifname(const struct satpd_xdp_path *p)
{
	return p->ifname;
}

const char *satpd_xdp_mode_obtained(const struct satpd_xdp_path *p)
{
	return satp_xdp_mode_name(satp_xdp_mode(p->x));
}

int satpd_xdp_rail_stats(const struct satpd_xdp_path *p, uint32_t path,
			 struct satp_xdp_path_stats *out)
{
	return satp_xdp_read_rail_stats(p->x, path, out);
}

uint64_t satpd_xdp_queue_mask(const struct satpd_xdp_path *p)
{
	uint64_t mask = 0;
	unsigned int i;

	for (i = 0; i < p->n_queues && i < 64; i++)
		if (p->socks[i].registered)
			mask |= 1ull << p->socks[i].queue;
	return mask;
}
