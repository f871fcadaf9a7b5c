// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "conns.h"
#include "datapath.h"
#include "dev.h"
#include "endpoint.h"
#include "log.h"

int satpd_worker_init(struct satpd_worker *w, struct satpd *d, unsigned int id, int dev_fd)
{
	int ret;

	memset(w, 0, sizeof(*w));
	w->d = d;
	w->id = id;
	w->dev_fd = dev_fd;
	w->remote.sock = -1;
	w->rx = calloc(SATPD_BATCH, sizeof(*w->rx));
	w->tx = calloc(SATPD_BATCH, sizeof(*w->tx));
	w->flood = calloc(1, sizeof(*w->flood));
	w->vnet = satpd_dev_fd_vnet(dev_fd);
	if (w->vnet) {
		w->gso_buf = malloc(SATP_GSO_MAX_LEN);
		w->gro.buf = malloc(SATP_GSO_MAX_LEN);
	}
	w->gso.done = true;
	if (!w->rx || !w->tx || !w->flood || (w->vnet && (!w->gso_buf || !w->gro.buf))) {
		ret = -ENOMEM;
		goto err;
	}
	return 0;
err:
	free(w->rx);
	free(w->tx);
	free(w->flood);
	free(w->gso_buf);
	free(w->gro.buf);
	w->rx = w->tx = w->flood = NULL;
	w->gso_buf = w->gro.buf = NULL;
	return ret;
}

void satpd_worker_free(struct satpd_worker *w)
{
	if (!w->rx)
		return;
	free(w->rx);
	free(w->tx);
	free(w->flood);
	free(w->gso_buf);
	free(w->gro.buf);
	w->rx = w->tx = w->flood = NULL;
	w->gso_buf = w->gro.buf = NULL;
}

/*
 * Send m prepared datagrams on socket sock, counting them; a datagram the
 * kernel refuses is counted as a send error and skipped, never sent again.
 * Returns how many went out.
 */
static unsigned int sendmmsg_all(struct satpd_worker *w, int sock, struct mmsghdr *msgs,
				 const struct iovec *iov, unsigned int m)
{
	unsigned int done = 0, sent = 0, i;
	int ret;

	while (done < m) {
		ret = sendmmsg(w->d->udp.fds[sock], msgs + done, m - done, 0);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			w->ctr.tx_send_error++;
			LOG_RATELIMITED(SATPD_LOG_WARNING, "sendmmsg: %s", strerror(errno));
			done++;
			continue;
		}
		for (i = done; i < done + (unsigned int)ret; i++)
			w->ctr.tx_bytes += iov[i].iov_len;
		w->ctr.tx_packets += (unsigned int)ret;
		sent += (unsigned int)ret;
		done += (unsigned int)ret;
	}
	return sent;
}

/* w->remote is a copy of conn's remote (read now unless it is the one cached). */
static void read_remote_cached(struct satpd_worker *w, struct satpd_conn *conn)
{
	if (w->remote_conn == conn && satpd_seqlock_gen(&conn->remote.seq) == w->remote.gen)
		return;
	satpd_conn_read_remote(conn, &w->remote);
	w->remote_conn = conn;
}

/* As anytun and uanytun: the source of every accepted packet becomes the remote. */
void satpd_learn_remote(struct satpd_worker *w, struct satpd_conn *conn,
			const struct sockaddr_storage *src, socklen_t srclen, int sock)
{
	struct satpd_peer_addr a;
	char s[64];

	/* The common case costs one atomic load and a compare: nothing moved. */
	if (w->remote_conn == conn && w->remote.known && w->remote.sock == sock &&
	    satpd_seqlock_gen(&conn->remote.seq) == w->remote.gen &&
	    satpd_same_addr(&w->remote.addr.sa, src))
		return;
	satpd_conn_read_remote(conn, &w->remote);
	w->remote_conn = conn;
	if (w->remote.known && w->remote.sock == sock && satpd_same_addr(&w->remote.addr.sa, src))
		return;
	memset(&a, 0, sizeof(a));
	memcpy(&a.sa, src, srclen);
	a.len = srclen;
	satpd_conn_set_remote(w->d, conn, &a, sock);
	satpd_conn_read_remote(conn, &w->remote);
	w->ctr.remote_changes++;
	LOG_RATELIMITED(SATPD_LOG_NOTICE, "mux %u: remote endpoint is now %s", conn->mux,
			satpd_addr_str(src, s, sizeof(s)));
}

static bool ptype_fits(enum satpd_dev_type type, uint16_t ptype)
{
	if (type == SATPD_DEV_TAP)
		return ptype == SATP_PTYPE_ETHER;
	return ptype == SATP_PTYPE_IPV4 || ptype == SATP_PTYPE_IPV6;
}

/* The connection of mux; without -r on the socket path, the one that adopts any mux. */
static struct satpd_conn *rx_conn(struct satpd *d, uint16_t mux)
{
	struct satpd_conn *c = satpd_conns_get(d, mux);

	if (c)
		return c;
	/* Not adopted yet: any mux may authenticate; it is adopted only after that. */
	return atomic_load_explicit(&d->conns->adopt, memory_order_acquire);
}

/* Set a flag workers share only when it is not set yet: one load per packet otherwise. */
static inline void flag_set(_Atomic bool *f)
{
	if (!atomic_load_explicit(f, memory_order_relaxed))
		atomic_store_explicit(f, true, memory_order_relaxed);
}

/*
 * The keys the datagram authenticates with: the current ones, those being
 * installed (then the peer switched: sending may follow), the replaced ones
 * in their grace period. NULL: none.
 */
static struct satpd_keyset *rx_verify_once(struct satpd_worker *w, struct satpd_conn *conn,
					   const uint8_t *buf, size_t len)
{
	struct satpd_keyset *k = atomic_load_explicit(&conn->keys, memory_order_acquire);

	/* Handshake mode: no keys before the first session. */
	if (k && satp_verify(&k->crypto[w->id], buf, len) == SATP_OK)
		return k;
	k = atomic_load_explicit(&conn->pending, memory_order_acquire);
	if (k && satp_verify(&k->crypto[w->id], buf, len) == SATP_OK) {
		flag_set(&conn->pending_seen);
		if (conn->keys_managed)
			flag_set(&k->used);
		return k;
	}
	k = atomic_load_explicit(&conn->old, memory_order_acquire);
	if (k && satp_verify(&k->crypto[w->id], buf, len) == SATP_OK) {
		w->ctr.rx_old_keys++;
		return k;
	}
	return NULL;
}

/* Tries of a datagram that no key set verified while the main thread moved them. */
#define RX_VERIFY_TRIES 4

/*
 * rx_verify_once against one consistent view of the three key sets: a switch
 * (pending to keys, keys to old) that lands between its loads would otherwise
 * fail a datagram that is good before and after it (keys_seq is a seqlock).
 */
static struct satpd_keyset *rx_verify(struct satpd_worker *w, struct satpd_conn *conn,
				      const uint8_t *buf, size_t len)
{
	struct satpd_keyset *k;
	uint32_t gen;
	unsigned int i;

	for (i = 0; i < RX_VERIFY_TRIES; i++) {
		gen = satpd_seqlock_read_begin_nowait(&conn->keys_seq);
		k = rx_verify_once(w, conn, buf, len);
		if (k)
			return k;
		if (!satpd_seqlock_read_retry(&conn->keys_seq, gen))
			break;
	}
	return NULL;
}

/* A connection's window slots when --max-senders is not given: at least this many. */
#define SATPD_SENDERS_MIN 16

/*
 * Window slots one connection may hold in the shared pool (M7): --max-senders,
 * else the pool over the connections plus one, so that one key holder cannot
 * take every slot and the next connection finds a share free.
 */
static unsigned int sender_quota(const struct satpd *d, const struct satpd_windows *win)
{
	unsigned int n = atomic_load_explicit(&d->conns->n_pub, memory_order_relaxed), q;

	if (d->cfg->max_senders)
		return d->cfg->max_senders;
	q = (1u << win->bits) / (n + 1);
	return q > SATPD_SENDERS_MIN ? q : SATPD_SENDERS_MIN;
}

/*
 * The replay decision, after the tag verified: the only place a window moves.
 * A kx session's seqs start at 0 under its keys: it has windows of its own.
 */
static bool rx_commit(struct satpd_worker *w, struct satpd_conn *conn, const struct satpd_keyset *k,
		      const struct satp_header *h)
{
	struct satpd_windows *win = k->session ? k->rx_win : &w->d->windows;
	int v;

	if (!conn->cfg.window || !win)
		return true; /* -w 0: protection off, as anytun */
	if (k->session)
		v = satpd_windows_commit_sized(win, h->mux, h->sender_id, conn->cfg.window, h->seq);
	else
		v = satpd_windows_commit_quota(win, h->mux, h->sender_id, conn->cfg.window,
					       sender_quota(w->d, win), h->seq);
	if (v == SATP_OK)
		return true;
	if (v == -EDQUOT) {
		w->ctr.rx_senders_quota++;
		LOG_RATELIMITED(SATPD_LOG_WARNING,
				"mux %u: sender %u refused: the connection holds its %u replay "
				"window slots (--max-senders)",
				h->mux, h->sender_id, sender_quota(w->d, win));
		return false;
	}
	if (v < 0) {
		w->ctr.rx_senders_full++;
		LOG_RATELIMITED(SATPD_LOG_WARNING,
				"no replay window slot left for sender %u (%u in use)",
				h->sender_id, atomic_load(&w->d->windows.n));
		return false;
	}
	if (v == SATP_REPLAY)
		w->ctr.rx_replay++;
	else
		w->ctr.rx_too_old++;
	if (w->d->rx_observer.copies_expected)
		return false; /* as uanytun: RAIL's later copies are expected, not attacks */
	LOG_RATELIMITED(SATPD_LOG_NOTICE,
			"replay attack detected: seq %" PRIu32 " sender id %u: %s", h->seq,
			h->sender_id, satp_verdict_name((enum satp_verdict)v));
	return false;
}

/*
 * With IFF_VNET_HDR every write starts with a virtio_net_hdr: all zero (one
 * plain packet, GSO_NONE), written over the SATP header and payload type
 * that precede the decrypted packet in the buffer, so no copy is needed.
 */
_Static_assert(SATP_VNET_HDR_LEN <= SATP_HDR_LEN + SATP_PTYPE_LEN, "vnet header room");

void satpd_dev_flush(struct satpd_worker *w)
{
	size_t len = w->vnet ? satp_gro_finish(&w->gro) : 0;

	if (len && write(w->dev_fd, w->gro.buf, len) < 0) {
		w->ctr.rx_dev_error++;
		LOG_RATELIMITED(SATPD_LOG_WARNING, "cannot write to the device: %s",
				strerror(errno));
	}
}

static ssize_t dev_write(struct satpd_worker *w, const struct satp_plain *plain)
{
	uint8_t *start = (uint8_t *)plain->inner;

	if (!w->vnet)
		return write(w->dev_fd, start, plain->inner_len);
	/* Merged for the batch's flush; what cannot be goes out now, after what was merged. */
	if (satp_gro_add(&w->gro, start, plain->inner_len))
		return (ssize_t)plain->inner_len;
	if (w->gro.len) {
		satpd_dev_flush(w);
		if (satp_gro_add(&w->gro, start, plain->inner_len))
			return (ssize_t)plain->inner_len;
	}
	start -= SATP_VNET_HDR_LEN;
	memset(start, 0, SATP_VNET_HDR_LEN);
	return write(w->dev_fd, start, plain->inner_len + SATP_VNET_HDR_LEN);
}

/*
 * Whether the inner packet may come from conn: what the outgoing choice
 * would not send back through conn is dropped (WireGuard's allowed IPs on
 * receive), so one connection cannot speak for another's addresses or MACs.
 * Tun: the inner source's route; tap with several connections: the source
 * MAC is learned here, and refused while another connection holds it.
 */
static bool inner_fits(struct satpd_worker *w, const struct satpd_conn *conn,
		       const struct satp_plain *plain)
{
	if (w->d->dev_type == SATPD_DEV_TAP) {
		if (atomic_load_explicit(&w->d->conns->n_pub, memory_order_relaxed) <= 1 ||
		    satpd_conns_learn_mac(w->d, plain->inner, plain->inner_len, conn->mux))
			return true;
		w->ctr.rx_foreign_mac++;
		return false;
	}
	if (satpd_conns_src_fits(w->d, conn, plain->inner, plain->inner_len))
		return true;
	w->ctr.rx_foreign_src++;
	return false;
}

/*
 * The reserved mux's datagram (mux_handler), dropped on a worker when the
 * handler is the main thread's (XDP's pass to the UDP socket brings it there).
 * true: consumed.
 */
static bool rx_reserved(struct satpd_worker *w, const uint8_t *buf, size_t len,
			const struct sockaddr_storage *src, socklen_t srclen, int sock)
{
	const struct satpd_mux_handler *mh = &w->d->mux_handler;

	if (mh->main_only && w->id != SATPD_MAIN_WORKER) {
		w->ctr.rx_handshake_off_main++;
		return true;
	}
	return mh->rx(mh->ctx, w, buf, len, src, srclen, sock);
}

/* The observer's view of the replay verdict; a NULL check when nothing observes. */
static inline void rx_observe(struct satpd_worker *w, int sock, const struct sockaddr_storage *src,
			      socklen_t srclen, bool first)
{
	const struct satpd_rx_observer *o = &w->d->rx_observer;

	if (o->committed)
		o->committed(o->ctx, sock, src, srclen, first);
}

void satpd_rx_datagram(struct satpd_worker *w, uint8_t *buf, size_t len,
		       const struct sockaddr_storage *src, socklen_t srclen, int sock)
{
	struct satpd_conn *conn;
	struct satpd_keyset *k;
	struct satp_crypto *cr;
	struct satp_header h;
	struct satp_plain plain;

	if (satp_header_parse(buf, len, 0, &h) != SATP_OK) {
		w->ctr.rx_too_short++;
		return;
	}
	if (w->d->mux_handler.rx && h.mux == w->d->mux_handler.mux &&
	    rx_reserved(w, buf, len, src, srclen, sock))
		return;
	conn = rx_conn(w->d, h.mux);
	if (!conn) {
		w->ctr.rx_wrong_mux++;
		return;
	}
	if (satp_header_parse(buf, len, conn->cfg.keys.algos.tag_len, &h) != SATP_OK) {
		w->ctr.rx_too_short++;
		return;
	}
	k = rx_verify(w, conn, buf, len);
	if (!k) {
		w->ctr.rx_bad_tag++;
		LOG_RATELIMITED(SATPD_LOG_WARNING,
				"mux %u: wrong authentication tag, discarding packet", h.mux);
		return;
	}
	if (!rx_commit(w, conn, k, &h)) {
		rx_observe(w, sock, src, srclen, false);
		return;
	}
	cr = &k->crypto[w->id];
	rx_observe(w, sock, src, srclen, true);
	if (conn->keys_managed)
		flag_set(&conn->rx_seen);
	/* Only the main thread adopts: XDP passes every mux to its socket until then. */
	if (!conn->mux_fixed && w->id == SATPD_MAIN_WORKER)
		satpd_conns_adopt(w->d, conn, h.mux);
	satpd_learn_remote(w, conn, src, srclen, sock);
	if (satp_decrypt(cr, buf, len, &plain) != SATP_OK) {
		if (conn->keys_managed &&
		    len == SATP_HDR_LEN + SATP_PTYPE_LEN + conn->cfg.keys.algos.tag_len)
			w->ctr.rx_keepalive++; /* the handshake's empty packets */
		else
			w->ctr.rx_no_payload++;
		return;
	}
	if (!ptype_fits(w->d->dev_type, plain.ptype)) {
		w->ctr.rx_bad_ptype++;
		return;
	}
	if (!inner_fits(w, conn, &plain))
		return;
	if (dev_write(w, &plain) < 0) {
		w->ctr.rx_dev_error++;
		LOG_RATELIMITED(SATPD_LOG_WARNING, "cannot write to the device: %s",
				strerror(errno));
		return;
	}
	w->ctr.rx_delivered++;
	atomic_fetch_add_explicit(&conn->rx_packets, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&conn->rx_bytes, len, memory_order_relaxed);
	atomic_store_explicit(&conn->last_rx, (int64_t)time(NULL), memory_order_relaxed);
}

/* IP_RECVFRAGSIZE / IPV6_RECVFRAGSIZE (udp.c) come only with a reassembled datagram. */
static bool reassembled(struct msghdr *m)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
		if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVFRAGSIZE) ||
		    (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVFRAGSIZE))
			return true;
	return false;
}

void satpd_udp_receive(struct satpd_worker *w, unsigned int sock)
{
	struct satpd *d = w->d;
	struct mmsghdr msgs[SATPD_BATCH];
	struct iovec iov[SATPD_BATCH];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl[SATPD_BATCH];
	uint64_t delivered = w->ctr.rx_delivered;
	unsigned int i;
	int n;

	do {
		memset(msgs, 0, sizeof(msgs));
		memset(ctl, 0, sizeof(ctl));
		for (i = 0; i < SATPD_BATCH; i++) {
			iov[i].iov_base = w->rx[i].buf;
			iov[i].iov_len = sizeof(w->rx[i].buf);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &w->rx[i].addr;
			msgs[i].msg_hdr.msg_namelen = sizeof(w->rx[i].addr);
			msgs[i].msg_hdr.msg_control = ctl[i].buf;
			msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
		}
		n = recvmmsg(d->udp.fds[sock], msgs, SATPD_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				LOG_RATELIMITED(SATPD_LOG_WARNING, "recvmmsg: %s", strerror(errno));
			break;
		}
		for (i = 0; i < (unsigned int)n; i++) {
			struct satpd_pkt *p = &w->rx[i];

			w->ctr.rx_datagrams++;
			w->ctr.rx_bytes += msgs[i].msg_len;
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				w->ctr.rx_truncated++;
				continue;
			}
			w->rx_reassembled = reassembled(&msgs[i].msg_hdr);
			w->ctr.rx_reassembled += w->rx_reassembled;
			satpd_rx_datagram(w, p->buf, msgs[i].msg_len, &p->addr,
					  msgs[i].msg_hdr.msg_namelen, (int)sock);
			w->rx_reassembled = false;
		}
		satpd_dev_flush(w);
	} while (n == SATPD_BATCH);
	if (w->ctr.rx_delivered != delivered)
		atomic_store_explicit(&d->last_rx, (int64_t)time(NULL), memory_order_relaxed);
}

static int inner_ptype(enum satpd_dev_type type, const uint8_t *inner, size_t len, uint16_t *ptype)
{
	if (type == SATPD_DEV_TAP) {
		*ptype = SATP_PTYPE_ETHER;
		return len ? 0 : -EINVAL;
	}
	if (!len)
		return -EINVAL;
	switch (inner[0] >> 4) {
	case 4:
		*ptype = SATP_PTYPE_IPV4;
		return 0;
	case 6:
		*ptype = SATP_PTYPE_IPV6;
		return 0;
	}
	return -EINVAL;
}

/* The next seq under k: the connection's (kept across restarts) or a session's own. */
static int take_seq(struct satpd_worker *w, struct satpd_conn *conn, struct satpd_keyset *k,
		    uint32_t *seq)
{
	uint64_t s;

	if (!k || k->none) {
		w->ctr.tx_no_keys++;
		if (conn->keys_managed)
			flag_set(&conn->keys_wanted); /* the main thread starts a handshake */
		return -ENOKEY;
	}
	if (!k->session && atomic_load_explicit(&w->d->tx_halted_sender, memory_order_relaxed) ==
			       (uint32_t)conn->cfg.sender_id + 1) {
		/* a twin edge: its seqs overlap ours under these keys */
		satpd_count(w, w->d->tx_halted_set, w->d->tx_halted_ctr);
		return -EPERM;
	}
	if (k->session) {
		s = atomic_fetch_add_explicit(&k->tx_seq, 1, memory_order_relaxed);
		if (s <= k->seq_last) {
			*seq = (uint32_t)s;
			if (conn->keys_managed)
				flag_set(&conn->tx_seen);
			return 0;
		}
	} else if (!satpd_seq_take(conn->seq, seq)) {
		return 0;
	}
	w->ctr.tx_seq_exhausted++;
	LOG_RATELIMITED(SATPD_LOG_ERROR,
			"mux %u: no sequence number left for this key; not sending", conn->mux);
	return -ENOSPC;
}

/* Seal p (inner at buf + SATPD_HEADROOM) in place for conn; false: dropped and counted. */
static bool seal_for(struct satpd_worker *w, struct satpd_conn *conn, struct satpd_pkt *p,
		     uint16_t ptype)
{
	struct satpd_keyset *k;
	uint32_t seq;
	int len;

	read_remote_cached(w, conn);
	if (!w->remote.known) {
		w->ctr.tx_no_remote++;
		return false;
	}
	k = atomic_load_explicit(&conn->keys, memory_order_acquire);
	if (take_seq(w, conn, k, &seq))
		return false;
	len = satp_seal(&k->crypto[w->id], p->buf, sizeof(p->buf), p->len, seq, conn->cfg.sender_id,
			conn->mux, ptype);
	if (len < 0) {
		w->ctr.tx_send_error++;
		return false;
	}
	p->len = (size_t)len;
	p->sock = w->remote.sock;
	p->addr = w->remote.addr.sa;
	p->addrlen = w->remote.addr.len;
	p->conn = conn;
	p->remote_gen = w->remote.gen;
	atomic_fetch_add_explicit(&conn->tx_packets, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&conn->tx_bytes, p->len, memory_order_relaxed);
	return true;
}

/* Tap: a copy of p to every connection, by the socket (broadcasts and unknown MACs). */
static void flood(struct satpd_worker *w, const struct satpd_pkt *p, uint16_t ptype)
{
	struct satpd_muxlist *l = satpd_conns_muxes(w->d);
	struct satpd_pkt *f = w->flood;
	struct satpd_conn *conn;
	unsigned int i;

	for (i = 0; l && i < l->n; i++) {
		conn = satpd_conns_get(w->d, l->mux[i]);
		if (!conn)
			continue;
		memcpy(f->buf + SATPD_HEADROOM, p->buf + SATPD_HEADROOM, p->len);
		f->len = p->len;
		if (!seal_for(w, conn, f, ptype))
			continue;
		w->ctr.tx_flooded++;
		satpd_udp_send_batch(w, f, 1);
	}
}

unsigned int satpd_tx_seal_batch(struct satpd_worker *w, struct satpd_pkt *pkts, unsigned int n)
{
	unsigned int i, out = 0;
	struct satpd_conn *conn;
	bool fl;

	for (i = 0; i < n; i++) {
		struct satpd_pkt *p = &pkts[i];
		const uint8_t *inner = p->buf + SATPD_HEADROOM;
		uint16_t ptype;

		if (inner_ptype(w->d->dev_type, inner, p->len, &ptype)) {
			w->ctr.tx_bad_inner++;
			p->len = 0;
			continue;
		}
		conn = satpd_conns_pick(w->d, inner, p->len, &fl);
		if (!conn) {
			if (fl)
				flood(w, p, ptype);
			else
				w->ctr.tx_no_route++;
			p->len = 0;
			continue;
		}
		if (!seal_for(w, conn, p, ptype)) {
			p->len = 0;
			continue;
		}
		out++;
	}
	return out;
}

/* sendmmsg of the packets that leave by socket sock. */
static void send_on(struct satpd_worker *w, struct satpd_pkt *pkts, unsigned int n, int sock)
{
	struct mmsghdr msgs[SATPD_BATCH];
	struct iovec iov[SATPD_BATCH];
	unsigned int i, m = 0;

	for (i = 0; i < n; i++) {
		if (!pkts[i].len || pkts[i].sock != sock)
			continue;
		satpd_mmsg_to(&msgs[m], &iov[m], pkts[i].buf, pkts[i].len, &pkts[i].addr,
			      pkts[i].addrlen);
		m++;
	}
	sendmmsg_all(w, sock, msgs, iov, m);
}

_Static_assert(SATPD_BATCH <= 64, "a batch's skip mask is one word");

unsigned int satpd_udp_send_to(struct satpd_worker *w, const struct satpd_tx_dest *dst,
			       struct satpd_pkt *pkts, unsigned int n, uint64_t skip)
{
	struct sockaddr_storage to = dst->addr.sa;
	struct mmsghdr msgs[SATPD_BATCH];
	struct iovec iov[SATPD_BATCH];
	unsigned int i, m = 0;

	if (dst->sock < 0 || dst->sock >= (int)w->d->udp.n)
		return 0;
	for (i = 0; i < n; i++) {
		if (!pkts[i].len || (skip >> i & 1))
			continue;
		satpd_mmsg_to(&msgs[m], &iov[m], pkts[i].buf, pkts[i].len, &to, dst->addr.len);
		m++;
	}
	return m ? sendmmsg_all(w, dst->sock, msgs, iov, m) : 0;
}

static unsigned int udp_send_to(void *ctx, struct satpd_worker *w, const struct satpd_tx_dest *dst,
				struct satpd_pkt *pkts, unsigned int n)
{
	return satpd_udp_send_to(w, dst, pkts, n, 0);
}

const struct satpd_transport satpd_udp_transport = {.send_to = udp_send_to};

void satpd_udp_send_batch(struct satpd_worker *w, struct satpd_pkt *pkts, unsigned int n)
{
	unsigned int i;
	int s;

	if (w->d->tx_hook.send_batch) {
		w->d->tx_hook.send_batch(w->d->tx_hook.ctx, w, &satpd_udp_transport, pkts, n);
		return;
	}
	for (i = 0; i < n; i++)
		if (pkts[i].len && (pkts[i].sock < 0 || pkts[i].sock >= (int)w->d->udp.n)) {
			w->ctr.tx_send_error++;
			pkts[i].len = 0;
		}
	for (s = 0; s < (int)w->d->udp.n; s++)
		send_on(w, pkts, n, s);
}

/* Leave room for the header in front and the tag behind. */
#define SATPD_DEV_ROOM (SATPD_BUF_SIZE - SATPD_HEADROOM - SATP_TAG_MAX)

/*
 * Segments of the super-packet in w->gso into w->tx from slot n on, until
 * the batch is full or the packet is used up; returns the next free slot.
 */
static unsigned int gso_fill(struct satpd_worker *w, unsigned int n)
{
	int len;

	while (n < SATPD_BATCH && !w->gso.done) {
		len = satp_gso_next(&w->gso, w->tx[n].buf + SATPD_HEADROOM, SATPD_DEV_ROOM);
		if (len <= 0) {
			w->ctr.tx_bad_inner += len < 0;
			w->gso.done = true;
			break;
		}
		w->tx[n++].len = (size_t)len;
	}
	return n;
}

/* vnet: read super-packets and cut them into the batch; what is left waits for the next. */
static unsigned int dev_read_gso(struct satpd_worker *w, int fd)
{
	unsigned int n = gso_fill(w, 0);
	ssize_t len;

	while (n < SATPD_BATCH) {
		len = read(fd, w->gso_buf, SATP_GSO_MAX_LEN);
		if (len < 0) {
			if (errno != EAGAIN && errno != EINTR)
				LOG_RATELIMITED(SATPD_LOG_WARNING, "device read: %s",
						strerror(errno));
			break;
		}
		if (satp_gso_start(&w->gso, w->gso_buf, (size_t)len)) {
			w->ctr.tx_bad_inner++;
			w->gso.done = true;
			continue;
		}
		n = gso_fill(w, n);
	}
	return n;
}

unsigned int satpd_dev_read_batch(struct satpd_worker *w, int fd)
{
	const size_t room = SATPD_DEV_ROOM;
	unsigned int n;
	ssize_t len;

	if (w->vnet)
		return dev_read_gso(w, fd);
	for (n = 0; n < SATPD_BATCH; n++) {
		len = read(fd, w->tx[n].buf + SATPD_HEADROOM, room);
		if (len < 0) {
			if (errno != EAGAIN && errno != EINTR)
				LOG_RATELIMITED(SATPD_LOG_WARNING, "device read: %s",
						strerror(errno));
			break;
		}
		w->tx[n].len = (size_t)len;
	}
	return n;
}

void satpd_dev_receive(struct satpd_worker *w, int fd)
{
	unsigned int n;

	do {
		n = satpd_dev_read_batch(w, fd);
		if (satpd_tx_seal_batch(w, w->tx, n))
			satpd_udp_send_batch(w, w->tx, n);
	} while (n == SATPD_BATCH);
}

int satpd_add_poll_hook(struct satpd *d, int fd, short events, satpd_poll_fn fn, void *ctx)
{
	if (d->n_hooks == SATPD_HOOKS_MAX)
		return -ENOSPC;
	d->hooks[d->n_hooks++] = (struct satpd_poll_hook){fd, events, fn, ctx};
	return 0;
}

void satpd_set_mux_handler(struct satpd *d, uint16_t mux, bool main_only, satpd_mux_rx_fn rx,
			   void *ctx)
{
	d->mux_handler =
	    (struct satpd_mux_handler){.rx = rx, .ctx = ctx, .mux = mux, .main_only = main_only};
}

void satpd_set_rx_observer(struct satpd *d, const struct satpd_rx_observer *o)
{
	d->rx_observer = *o;
}

void satpd_set_tx_hook(struct satpd *d, const struct satpd_tx_hook *h)
{
	d->tx_hook = *h;
}

int satpd_add_dump_hook(struct satpd *d, satpd_dump_fn fn, const void *ctx)
{
	if (d->n_dump_hooks == SATPD_DUMP_HOOKS_MAX)
		return -ENOSPC;
	d->dump_hooks[d->n_dump_hooks++] = (struct satpd_dump_hook){fn, ctx};
	return 0;
}

int satpd_add_counters(struct satpd *d, const struct satpd_counter_set *s)
{
	return satpd_counter_registry_add(&d->counter_sets, s);
}

void satpd_set_tx_halt_counter(struct satpd *d, const struct satpd_counter_set *s, unsigned int i)
{
	d->tx_halted_set = s;
	d->tx_halted_ctr = i;
}

static void counters_add(struct satpd_counters *sum, const struct satpd_counters *c)
{
	unsigned int k;

#define X(name) sum->name += c->name;
	SATPD_COUNTERS(X)
#undef X
	for (k = 0; k < SATPD_EXT_COUNTERS_MAX; k++)
		sum->ext[k] += c->ext[k];
}

void satpd_counters_sum(const struct satpd *d, struct satpd_counters *out)
{
	unsigned int i;

	memset(out, 0, sizeof(*out));
	counters_add(out, &d->sock_worker.ctr);
	for (i = 0; i < d->n_workers; i++)
		counters_add(out, &d->workers[i].ctr);
}

void satpd_counters_dump(const struct satpd *d)
{
	struct satpd_counters c;
	unsigned int n = atomic_load(&d->windows.n), i;

	satpd_counters_sum(d, &c);
	log_notice("counters (%u connection%s, %u sender%s with a window):", d->conns->n,
		   d->conns->n == 1 ? "" : "s", n, n == 1 ? "" : "s");
#define X(name) log_notice("  %-18s %" PRIu64, #name, c.name);
	SATPD_COUNTERS(X)
#undef X
	for (i = 0; i < d->counter_sets.n; i++)
		log_notice("  %-18s %" PRIu64, d->counter_sets.name[i], c.ext[i]);
	for (i = 0; i < d->n_dump_hooks; i++)
		d->dump_hooks[i].fn(d->dump_hooks[i].ctx);
	/* A reader of the log (the tests' satpd_dump) knows the dump is whole at this line. */
	log_notice("counters end");
}
