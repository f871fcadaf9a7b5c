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
	/* The socket path owns its slots; the XDP path will pass satp_xdp_windows() here. */
	ret = satpd_windows_init(&conn->windows, SATPD_WINDOWS_DEFAULT_BITS, cfg->window, NULL,
				 NULL, NULL);
	if (ret)
		return ret;
	ret = satp_crypto_init(&conn->crypto, &cfg->keys);
	if (ret) {
		log_err("mux %u: cannot set up the ciphers: %s", cfg->mux, strerror(-ret));
		goto err_windows;
	}
	ret = satpd_seq_open(&conn->seq, state_dir, cfg->mux);
	if (ret)
		goto err_crypto;
	return 0;
err_crypto:
	satp_crypto_free(&conn->crypto);
err_windows:
	satpd_windows_free(&conn->windows);
	return ret;
}

void satpd_conn_free(struct satpd_conn *conn)
{
	satpd_seq_close(&conn->seq);
	satp_crypto_free(&conn->crypto);
	satpd_windows_free(&conn->windows);
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

/* As anytun and uanytun: the source of every accepted packet becomes the remote. */
static void learn_remote(struct satpd *d, struct satpd_conn *conn, const struct satpd_pkt *p)
{
	char a[64];

	if (conn->remote_known && conn->remote_sock == p->sock &&
	    same_addr(&conn->remote.sa, &p->addr))
		return;
	conn->remote.sa = p->addr;
	conn->remote.len = p->addrlen;
	conn->remote_sock = p->sock;
	conn->remote_known = true;
	d->ctr.remote_changes++;
	LOG_RATELIMITED(SATPD_LOG_NOTICE, "mux %u: remote endpoint is now %s", conn->mux,
			satpd_addr_str(&p->addr, a, sizeof(a)));
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
static bool rx_commit(struct satpd *d, struct satpd_conn *conn, const struct satp_header *h)
{
	struct satp_window *win;
	enum satp_verdict v;

	if (!conn->cfg->window)
		return true; /* -w 0: protection off, as anytun */
	win = satpd_windows_get(&conn->windows, h->mux, h->sender_id);
	if (!win) {
		d->ctr.rx_senders_full++;
		LOG_RATELIMITED(SATPD_LOG_WARNING,
				"no replay window slot left for sender %u (%u in use)",
				h->sender_id, conn->windows.n);
		return false;
	}
	v = satp_window_commit(win, h->seq);
	if (v == SATP_OK)
		return true;
	if (v == SATP_REPLAY)
		d->ctr.rx_replay++;
	else
		d->ctr.rx_too_old++;
	LOG_RATELIMITED(SATPD_LOG_NOTICE,
			"replay attack detected: seq %" PRIu32 " sender id %u: %s", h->seq,
			h->sender_id, satp_verdict_name(v));
	return false;
}

static void rx_one(struct satpd *d, struct satpd_pkt *p)
{
	struct satpd_conn *conn = &d->conn;
	struct satp_header h;
	struct satp_plain plain;

	if (satp_header_parse(p->buf, p->len, conn->crypto.algos.tag_len, &h) != SATP_OK) {
		d->ctr.rx_too_short++;
		return;
	}
	if (!rx_mux_ok(conn, h.mux)) {
		d->ctr.rx_wrong_mux++;
		return;
	}
	if (satp_verify(&conn->crypto, p->buf, p->len) != SATP_OK) {
		d->ctr.rx_bad_tag++;
		LOG_RATELIMITED(SATPD_LOG_WARNING, "wrong authentication tag, discarding packet");
		return;
	}
	if (!rx_commit(d, conn, &h))
		return;
	if (!conn->mux_fixed) {
		conn->mux = h.mux;
		conn->mux_fixed = true;
		log_notice("adopted mux %u from the first authenticated packet", h.mux);
	}
	learn_remote(d, conn, p);
	if (satp_decrypt(&conn->crypto, p->buf, p->len, &plain) != SATP_OK) {
		d->ctr.rx_no_payload++;
		return;
	}
	if (!ptype_fits(d->dev_type, plain.ptype)) {
		d->ctr.rx_bad_ptype++;
		return;
	}
	if (write(d->dev_fd, plain.inner, plain.inner_len) < 0) {
		d->ctr.rx_dev_error++;
		LOG_RATELIMITED(SATPD_LOG_WARNING, "cannot write to the device: %s",
				strerror(errno));
		return;
	}
	d->ctr.rx_delivered++;
}

void satpd_rx_batch(struct satpd *d, struct satpd_pkt *pkts, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		rx_one(d, &pkts[i]);
}

void satpd_udp_receive(struct satpd *d, unsigned int sock)
{
	struct mmsghdr msgs[SATPD_BATCH];
	struct iovec iov[SATPD_BATCH];
	unsigned int i;
	int n;

	do {
		memset(msgs, 0, sizeof(msgs));
		for (i = 0; i < SATPD_BATCH; i++) {
			iov[i].iov_base = d->rx[i].buf;
			iov[i].iov_len = sizeof(d->rx[i].buf);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &d->rx[i].addr;
			msgs[i].msg_hdr.msg_namelen = sizeof(d->rx[i].addr);
		}
		n = recvmmsg(d->udp.fds[sock], msgs, SATPD_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				LOG_RATELIMITED(SATPD_LOG_WARNING, "recvmmsg: %s", strerror(errno));
			return;
		}
		for (i = 0; i < (unsigned int)n; i++) {
			struct satpd_pkt *p = &d->rx[i];

			d->ctr.rx_datagrams++;
			d->ctr.rx_bytes += msgs[i].msg_len;
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				d->ctr.rx_truncated++;
				continue;
			}
			p->len = msgs[i].msg_len;
			p->addrlen = msgs[i].msg_hdr.msg_namelen;
			p->sock = (int)sock;
			rx_one(d, p);
		}
	} while (n == SATPD_BATCH);
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

unsigned int satpd_tx_seal_batch(struct satpd *d, struct satpd_pkt *pkts, unsigned int n)
{
	struct satpd_conn *conn = &d->conn;
	unsigned int i, out = 0;

	if (!conn->remote_known) {
		d->ctr.tx_no_remote += n;
		return 0;
	}
	for (i = 0; i < n; i++) {
		struct satpd_pkt *p = &pkts[i];
		uint16_t ptype;
		uint32_t seq;
		int len;

		if (inner_ptype(d->dev_type, p->buf + SATPD_HEADROOM, p->len, &ptype)) {
			d->ctr.tx_bad_inner++;
			p->len = 0;
			continue;
		}
		if (satpd_seq_take(&conn->seq, &seq)) {
			d->ctr.tx_seq_exhausted++;
			LOG_RATELIMITED(SATPD_LOG_ERROR,
					"mux %u: no sequence number left for this key; not sending",
					conn->mux);
			p->len = 0;
			continue;
		}
		len = satp_seal(&conn->crypto, p->buf, sizeof(p->buf), p->len, seq,
				conn->cfg->sender_id, conn->mux, ptype);
		if (len < 0) {
			d->ctr.tx_send_error++;
			p->len = 0;
			continue;
		}
		p->len = (size_t)len;
		p->sock = conn->remote_sock;
		out++;
	}
	return out;
}

static void send_batch(struct satpd *d, struct satpd_pkt *pkts, unsigned int n)
{
	struct satpd_conn *conn = &d->conn;
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
		msgs[m].msg_hdr.msg_name = &conn->remote.sa;
		msgs[m].msg_hdr.msg_namelen = conn->remote.len;
		m++;
	}
	n = m;
	while (done < n) {
		ret = sendmmsg(d->udp.fds[conn->remote_sock], msgs + done, n - done, 0);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			/* The datagram at the head failed: count it, try the rest. */
			d->ctr.tx_send_error++;
			LOG_RATELIMITED(SATPD_LOG_WARNING, "sendmmsg: %s", strerror(errno));
			done++;
			continue;
		}
		for (i = done; i < done + (unsigned int)ret; i++)
			d->ctr.tx_bytes += iov[i].iov_len;
		d->ctr.tx_packets += (unsigned int)ret;
		done += (unsigned int)ret;
	}
}

void satpd_dev_receive(struct satpd *d, int fd)
{
	/* Leave room for the header in front and the tag behind. */
	const size_t room = SATPD_BUF_SIZE - SATPD_HEADROOM - SATP_TAG_MAX;
	unsigned int n, ready;
	ssize_t len;

	do {
		for (n = 0; n < SATPD_BATCH; n++) {
			len = read(fd, d->tx[n].buf + SATPD_HEADROOM, room);
			if (len < 0) {
				if (errno != EAGAIN && errno != EINTR)
					LOG_RATELIMITED(SATPD_LOG_WARNING, "device read: %s",
							strerror(errno));
				break;
			}
			d->tx[n].len = (size_t)len;
		}
		ready = satpd_tx_seal_batch(d, d->tx, n);
		if (ready)
			send_batch(d, d->tx, n);
	} while (n == SATPD_BATCH);
}

void satpd_counters_dump(const struct satpd *d)
{
	log_notice("counters (mux %u, %u sender%s with a window):", d->conn.mux, d->conn.windows.n,
		   d->conn.windows.n == 1 ? "" : "s");
#define X(name) log_notice("  %-18s %" PRIu64, #name, d->ctr.name);
	SATPD_COUNTERS(X)
#undef X
}
