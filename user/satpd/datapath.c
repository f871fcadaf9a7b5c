// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "datapath.h"
#include "log.h"
#include "xsk.h"

int satpd_conn_init(struct satpd_conn *conn, const struct satpd_conn_config *cfg,
		    const char *state_dir)
{
	int ret;

	memset(conn, 0, sizeof(*conn));
	conn->cfg = cfg;
	conn->mux = cfg->mux;
	/* With -r the mux is ours; without, anytun adopts the first peer's (see rx_mux_ok). */
	conn->mux_fixed = cfg->remote.host[0] != '\0';
	conn->remote_sock = -1;
	pthread_mutex_init(&conn->remote_lock, NULL);
	/* The socket path owns its slots; the XDP path re-initialises them over its window map. */
	ret = satpd_windows_init(&conn->windows, SATPD_WINDOWS_DEFAULT_BITS, cfg->window, NULL,
				 NULL, NULL);
	if (ret)
		goto err_lock;
	ret = satpd_seq_open(&conn->seq, state_dir, cfg->mux);
	if (ret)
		goto err_windows;
	return 0;
err_windows:
	satpd_windows_free(&conn->windows);
err_lock:
	pthread_mutex_destroy(&conn->remote_lock);
	return ret;
}

void satpd_conn_free(struct satpd_conn *conn)
{
	satpd_seq_close(&conn->seq);
	satpd_windows_free(&conn->windows);
	pthread_mutex_destroy(&conn->remote_lock);
}

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
	if (!w->rx || !w->tx) {
		ret = -ENOMEM;
		goto err;
	}
	ret = satp_crypto_init(&w->crypto, &d->conn.cfg->keys);
	if (ret) {
		log_err("mux %u: cannot set up the ciphers: %s", d->conn.mux, strerror(-ret));
		goto err;
	}
	return 0;
err:
	free(w->rx);
	free(w->tx);
	w->rx = w->tx = NULL;
	return ret;
}

void satpd_worker_free(struct satpd_worker *w)
{
	if (!w->rx)
		return;
	satp_crypto_free(&w->crypto);
	free(w->rx);
	free(w->tx);
	w->rx = w->tx = NULL;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

void satpd_conn_read_remote(struct satpd_conn *conn, struct satpd_remote_view *v)
{
	uint32_t gen;

	for (;;) {
		gen = atomic_load_explicit(&conn->remote_gen, memory_order_acquire);
		if (gen & 1)
			continue; /* a writer is between its two increments: a few stores */
		v->addr = conn->remote;
		v->sock = conn->remote_sock;
		v->known = conn->remote_known;
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&conn->remote_gen, memory_order_relaxed) == gen)
			break;
	}
	v->gen = gen;
}

void satpd_conn_set_remote(struct satpd *d, const struct satpd_peer_addr *a, int sock)
{
	struct satpd_conn *conn = &d->conn;

	pthread_mutex_lock(&conn->remote_lock);
	atomic_fetch_add_explicit(&conn->remote_gen, 1, memory_order_acq_rel);
	atomic_thread_fence(memory_order_release);
	conn->remote = *a;
	conn->remote_sock = sock;
	conn->remote_known = true;
	conn->remote_learned = time(NULL);
	atomic_fetch_add_explicit(&conn->remote_gen, 1, memory_order_release);
	pthread_mutex_unlock(&conn->remote_lock);
	atomic_store(&d->remote_moved, true);
}

/* As anytun and uanytun: the source of every accepted packet becomes the remote. */
static void learn_remote(struct satpd_worker *w, const struct sockaddr_storage *src,
			 socklen_t srclen, int sock)
{
	struct satpd_conn *conn = &w->d->conn;
	struct satpd_peer_addr a;
	char s[64];

	/* The common case costs one atomic load and a compare: nothing moved. */
	if (w->remote.known && w->remote.sock == sock &&
	    atomic_load_explicit(&conn->remote_gen, memory_order_relaxed) == w->remote.gen &&
	    same_addr(&w->remote.addr.sa, src))
		return;
	satpd_conn_read_remote(conn, &w->remote);
	if (w->remote.known && w->remote.sock == sock && same_addr(&w->remote.addr.sa, src))
		return;
	memset(&a, 0, sizeof(a));
	memcpy(&a.sa, src, srclen);
	a.len = srclen;
	satpd_conn_set_remote(w->d, &a, sock);
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

static bool rx_mux_ok(struct satpd_conn *conn, uint16_t mux)
{
	/* Not adopted yet: any mux may authenticate; it is adopted only after that. */
	return !conn->mux_fixed || mux == conn->mux;
}

/* The replay decision, after the tag verified: the only place a window moves. */
static bool rx_commit(struct satpd_worker *w, struct satpd_conn *conn, const struct satp_header *h)
{
	int v;

	if (!conn->cfg->window)
		return true; /* -w 0: protection off, as anytun */
	v = satpd_windows_commit(&conn->windows, h->mux, h->sender_id, h->seq);
	if (v == SATP_OK)
		return true;
	if (v < 0) {
		w->ctr.rx_senders_full++;
		LOG_RATELIMITED(SATPD_LOG_WARNING,
				"no replay window slot left for sender %u (%u in use)",
				h->sender_id, atomic_load(&conn->windows.n));
		return false;
	}
	if (v == SATP_REPLAY)
		w->ctr.rx_replay++;
	else
		w->ctr.rx_too_old++;
	LOG_RATELIMITED(SATPD_LOG_NOTICE,
			"replay attack detected: seq %" PRIu32 " sender id %u: %s", h->seq,
			h->sender_id, satp_verdict_name((enum satp_verdict)v));
	return false;
}

void satpd_rx_datagram(struct satpd_worker *w, uint8_t *buf, size_t len,
		       const struct sockaddr_storage *src, socklen_t srclen, int sock)
{
	struct satpd_conn *conn = &w->d->conn;
	struct satp_header h;
	struct satp_plain plain;

	if (satp_header_parse(buf, len, w->crypto.algos.tag_len, &h) != SATP_OK) {
		w->ctr.rx_too_short++;
		return;
	}
	if (!rx_mux_ok(conn, h.mux)) {
		w->ctr.rx_wrong_mux++;
		return;
	}
	if (satp_verify(&w->crypto, buf, len) != SATP_OK) {
		w->ctr.rx_bad_tag++;
		LOG_RATELIMITED(SATPD_LOG_WARNING, "wrong authentication tag, discarding packet");
		return;
	}
	if (!rx_commit(w, conn, &h))
		return;
	if (!conn->mux_fixed) {
		conn->mux = h.mux;
		conn->mux_fixed = true;
		log_notice("adopted mux %u from the first authenticated packet", h.mux);
	}
	learn_remote(w, src, srclen, sock);
	if (satp_decrypt(&w->crypto, buf, len, &plain) != SATP_OK) {
		w->ctr.rx_no_payload++;
		return;
	}
	if (!ptype_fits(w->d->dev_type, plain.ptype)) {
		w->ctr.rx_bad_ptype++;
		return;
	}
	if (write(w->dev_fd, plain.inner, plain.inner_len) < 0) {
		w->ctr.rx_dev_error++;
		LOG_RATELIMITED(SATPD_LOG_WARNING, "cannot write to the device: %s",
				strerror(errno));
		return;
	}
	w->ctr.rx_delivered++;
}

void satpd_udp_receive(struct satpd_worker *w, unsigned int sock)
{
	struct satpd *d = w->d;
	struct mmsghdr msgs[SATPD_BATCH];
	struct iovec iov[SATPD_BATCH];
	uint64_t delivered = w->ctr.rx_delivered;
	unsigned int i;
	int n;

	do {
		memset(msgs, 0, sizeof(msgs));
		for (i = 0; i < SATPD_BATCH; i++) {
			iov[i].iov_base = w->rx[i].buf;
			iov[i].iov_len = sizeof(w->rx[i].buf);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &w->rx[i].addr;
			msgs[i].msg_hdr.msg_namelen = sizeof(w->rx[i].addr);
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
			satpd_rx_datagram(w, p->buf, msgs[i].msg_len, &p->addr,
					  msgs[i].msg_hdr.msg_namelen, (int)sock);
		}
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

unsigned int satpd_tx_seal_batch(struct satpd_worker *w, struct satpd_pkt *pkts, unsigned int n)
{
	struct satpd_conn *conn = &w->d->conn;
	unsigned int i, out = 0;

	satpd_conn_read_remote(conn, &w->remote);
	if (!w->remote.known) {
		w->ctr.tx_no_remote += n;
		for (i = 0; i < n; i++)
			pkts[i].len = 0;
		return 0;
	}
	for (i = 0; i < n; i++) {
		struct satpd_pkt *p = &pkts[i];
		uint16_t ptype;
		uint32_t seq;
		int len;

		if (inner_ptype(w->d->dev_type, p->buf + SATPD_HEADROOM, p->len, &ptype)) {
			w->ctr.tx_bad_inner++;
			p->len = 0;
			continue;
		}
		if (satpd_seq_take(&conn->seq, &seq)) {
			w->ctr.tx_seq_exhausted++;
			LOG_RATELIMITED(SATPD_LOG_ERROR,
					"mux %u: no sequence number left for this key; not sending",
					conn->mux);
			p->len = 0;
			continue;
		}
		len = satp_seal(&w->crypto, p->buf, sizeof(p->buf), p->len, seq,
				conn->cfg->sender_id, conn->mux, ptype);
		if (len < 0) {
			w->ctr.tx_send_error++;
			p->len = 0;
			continue;
		}
		p->len = (size_t)len;
		p->sock = w->remote.sock;
		out++;
	}
	return out;
}

void satpd_udp_send_batch(struct satpd_worker *w, struct satpd_pkt *pkts, unsigned int n)
{
	struct mmsghdr msgs[SATPD_BATCH];
	struct iovec iov[SATPD_BATCH];
	unsigned int i, m = 0, done = 0;
	int ret;

	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < n; i++) {
		if (!pkts[i].len)
			continue;
		iov[m].iov_base = pkts[i].buf;
		iov[m].iov_len = pkts[i].len;
		msgs[m].msg_hdr.msg_iov = &iov[m];
		msgs[m].msg_hdr.msg_iovlen = 1;
		msgs[m].msg_hdr.msg_name = &w->remote.addr.sa;
		msgs[m].msg_hdr.msg_namelen = w->remote.addr.len;
		m++;
	}
	if (m && w->remote.sock < 0) {
		w->ctr.tx_send_error += m;
		return;
	}
	while (done < m) {
		ret = sendmmsg(w->d->udp.fds[w->remote.sock], msgs + done, m - done, 0);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			/* The datagram at the head failed: count it, try the rest. */
			w->ctr.tx_send_error++;
			LOG_RATELIMITED(SATPD_LOG_WARNING, "sendmmsg: %s", strerror(errno));
			done++;
			continue;
		}
		for (i = done; i < done + (unsigned int)ret; i++)
			w->ctr.tx_bytes += iov[i].iov_len;
		w->ctr.tx_packets += (unsigned int)ret;
		done += (unsigned int)ret;
	}
}

unsigned int satpd_dev_read_batch(struct satpd_worker *w, int fd)
{
	/* Leave room for the header in front and the tag behind. */
	const size_t room = SATPD_BUF_SIZE - SATPD_HEADROOM - SATP_TAG_MAX;
	unsigned int n;
	ssize_t len;

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

static void counters_add(struct satpd_counters *sum, const struct satpd_counters *c)
{
#define X(name) sum->name += c->name;
	SATPD_COUNTERS(X)
#undef X
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
	unsigned int n = atomic_load(&d->conn.windows.n);

	satpd_counters_sum(d, &c);
	log_notice("counters (mux %u, %u sender%s with a window):", d->conn.mux, n,
		   n == 1 ? "" : "s");
#define X(name) log_notice("  %-18s %" PRIu64, #name, c.name);
	SATPD_COUNTERS(X)
#undef X
	if (d->xdp)
		satpd_xdp_counters_dump(d->xdp);
}
