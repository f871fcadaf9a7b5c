// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kx socket (kx.h): relay of external key-exchange datagrams between
 * satpd's UDP port and one subscribed client.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "datapath.h"
#include "endpoint.h"
#include "kx.h"
#include "log.h"
#include "satp_hs_wire.h"
#include "satp_kx.h"

/* Header bytes a refusal quotes: the whole handshake header. */
#define QUOTE_BYTES SATP_HS_HDR_LEN
/* The epoll events one wakeup takes: the listening socket and the client. */
#define KX_EVENTS 4

struct satpd_kx {
	struct satpd *d;
	const struct satpd_ctl *ctl; /* whose permission rules the kx socket shares */
	int listen_fd, client_fd, epfd;
	pid_t client_pid;
	uint32_t dropped; /* RX records lost since the last one that reached the client */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	/* one client record, one byte more to see one that is too long */
	uint8_t rec[SATP_KX_REC_LEN + SATP_KX_PAYLOAD_MAX + 1];
};

_Static_assert(sizeof(struct satp_kx_rec) == SATP_KX_REC_LEN, "kx record layout");
_Static_assert(sizeof(struct satp_hs_hdr) == SATP_HS_HDR_LEN, "handshake header layout");

static const char *const kx_counter_names[] = {SATPD_KX_COUNTERS(SATPD_COUNTER_NAME)};
const struct satpd_counter_set satpd_kx_counters = {
    kx_counter_names, sizeof(kx_counter_names) / sizeof(kx_counter_names[0])};

int satpd_kx_path(const char *ctl_path, char *buf, size_t len)
{
	size_t n = strlen(ctl_path);
	int ret;

	if (n > 5 && !strcmp(ctl_path + n - 5, ".sock"))
		ret = snprintf(buf, len, "%.*s" SATP_KX_SOCK_SUFFIX, (int)(n - 5), ctl_path);
	else
		ret = snprintf(buf, len, "%s.kx", ctl_path);
	return ret < 0 || (size_t)ret >= len ? -ENAMETOOLONG : 0;
}

static bool is_external(const uint8_t *buf, size_t len)
{
	const struct satp_hs_hdr *h = (const void *)buf;

	return len >= SATP_HS_HDR_LEN && h->mux == htons(SATP_HS_MUX) &&
	       h->type >= SATP_HS_EXTERNAL_MIN;
}

static void addr_to_rec(const struct sockaddr_storage *sa, struct satp_kx_rec *r)
{
	if (sa->ss_family != AF_INET && sa->ss_family != AF_INET6)
		return;
	satpd_addr_v6mapped(sa, r->addr);
	r->port = htons(satpd_addr_port(sa));
}

bool satpd_kx_rx(struct satpd_kx *k, struct satpd_worker *w, const uint8_t *buf, size_t len,
		 const struct sockaddr_storage *src)
{
	struct satp_kx_rec r = {.kind = SATP_KX_RX, .version = SATP_KX_VERSION};
	struct iovec iov[2];
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};

	if (!is_external(buf, len))
		return false;
	if (!k || k->client_fd < 0) {
		satpd_count(w, &satpd_kx_counters, SATPD_CTR_kx_rx_no_client);
		return true;
	}
	if (len > SATP_KX_PAYLOAD_MAX) {
		satpd_count(w, &satpd_kx_counters, SATPD_CTR_kx_rx_too_long);
		return true;
	}
	addr_to_rec(src, &r);
	r.value = htonl(k->dropped);
	iov[0] = (struct iovec){&r, sizeof(r)};
	iov[1] = (struct iovec){(void *)buf, len};
	if (sendmsg(k->client_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* full (EAGAIN) or going away (the hook notices the hangup): lost either way */
		satpd_count(w, &satpd_kx_counters, SATPD_CTR_kx_rx_dropped);
		k->dropped++;
		return true;
	}
	k->dropped = 0;
	satpd_count(w, &satpd_kx_counters, SATPD_CTR_kx_rx_relayed);
	return true;
}

/* A record for the client; a client that cannot take it now misses it. */
static void reply(int fd, enum satp_kx_kind kind, uint32_t value, const char *text)
{
	struct satp_kx_rec r = {.kind = (uint8_t)kind, .version = SATP_KX_VERSION};
	struct iovec iov[2] = {{&r, sizeof(r)}, {(void *)text, text ? strlen(text) : 0}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};

	r.value = htonl(value);
	if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		LOG_RATELIMITED(SATPD_LOG_INFO, "kx: cannot answer the client: %s",
				strerror(errno));
}

static void drop_client(struct satpd_kx *k, const char *why)
{
	if (k->client_fd < 0)
		return;
	epoll_ctl(k->epfd, EPOLL_CTL_DEL, k->client_fd, NULL);
	close(k->client_fd);
	k->client_fd = -1;
	log_notice("kx: client pid %d gone (%s): external key-exchange datagrams are dropped "
		   "until another subscribes",
		   (int)k->client_pid, why);
}

static void accept_client(struct satpd_kx *k)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct ucred cr = {0};
	int sndbuf = SATPD_KX_QUEUE_BYTES;
	char msg[128];
	int fd;

	while ((fd = accept4(k->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		if (!satpd_ctl_peer_permitted(k->ctl, fd, &cr)) {
			snprintf(msg, sizeof(msg),
				 "uid %u is not permitted (root or the control "
				 "group only)",
				 (unsigned int)cr.uid);
			reply(fd, SATP_KX_ERROR, EPERM, msg);
			log_notice("kx: refused pid %d: %s", (int)cr.pid, msg);
			close(fd);
			continue;
		}
		if (k->client_fd >= 0) {
			snprintf(msg, sizeof(msg), "pid %d is the kx client already: one at a time",
				 (int)k->client_pid);
			reply(fd, SATP_KX_ERROR, EBUSY, msg);
			log_notice("kx: refused pid %d: %s", (int)cr.pid, msg);
			close(fd);
			continue;
		}
		ev.data.fd = fd;
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) ||
		    epoll_ctl(k->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			log_warn("kx: cannot serve pid %d: %s", (int)cr.pid, strerror(errno));
			close(fd);
			continue;
		}
		k->client_fd = fd;
		k->client_pid = cr.pid;
		k->dropped = 0;
		reply(fd, SATP_KX_HELLO, SATP_KX_VERSION, NULL);
		log_notice("kx: pid %d uid %u subscribed to external key-exchange datagrams",
			   (int)cr.pid, (unsigned int)cr.uid);
	}
}

/* The destination of a TX record, as a socket address satpd has a socket for. */
static int tx_dest(const struct satpd *d, const struct satp_kx_rec *r, struct sockaddr_storage *sa,
		   socklen_t *len)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	struct sockaddr_in *in = (void *)sa;
	struct sockaddr_in6 *in6 = (void *)sa;
	int sock;

	memset(sa, 0, sizeof(*sa));
	if (!memcmp(r->addr, v4mapped, sizeof(v4mapped))) {
		in->sin_family = AF_INET;
		in->sin_port = r->port;
		memcpy(&in->sin_addr, r->addr + 12, 4);
		*len = sizeof(*in);
		sock = satpd_udp_sock_for(&d->udp, sa);
		if (sock >= 0)
			return sock;
		/* a dual-stack IPv6 socket reaches IPv4 peers by the mapped address */
	}
	memset(sa, 0, sizeof(*sa));
	in6->sin6_family = AF_INET6;
	in6->sin6_port = r->port;
	memcpy(&in6->sin6_addr, r->addr, 16);
	*len = sizeof(*in6);
	return satpd_udp_sock_for(&d->udp, sa);
}

/* Why a TX record is refused, into msg; 0 when it may go out. */
static int tx_check(const uint8_t *rec, size_t n, bool trunc, char *msg, size_t len)
{
	const struct satp_kx_rec *r = (const void *)rec;
	const uint8_t *p = rec + SATP_KX_REC_LEN;
	const struct satp_hs_hdr *h = (const void *)p;
	size_t plen;

	if (n < SATP_KX_REC_LEN) {
		snprintf(msg, len, "record of %zu bytes: shorter than its %d-byte header", n,
			 SATP_KX_REC_LEN);
		return -EINVAL;
	}
	plen = n - SATP_KX_REC_LEN;
	if (r->kind != SATP_KX_TX || r->version != SATP_KX_VERSION) {
		snprintf(
		    msg, len, "record kind %u version %u: a client sends kind %u (TX) version %u",
		    r->kind, r->version, (unsigned int)SATP_KX_TX, (unsigned int)SATP_KX_VERSION);
		return -EINVAL;
	}
	if (trunc) {
		snprintf(msg, len, "datagram longer than %d bytes", SATP_KX_PAYLOAD_MAX);
		return -EMSGSIZE;
	}
	if (plen < SATP_HS_HDR_LEN) {
		snprintf(msg, len,
			 "datagram of %zu bytes: shorter than the %d-byte handshake header", plen,
			 SATP_HS_HDR_LEN);
		return -EINVAL;
	}
	if (!is_external(p, plen)) {
		snprintf(msg, len,
			 "datagram header %02x %02x %02x %02x %02x %02x %02x %02x: type 0x%02x mux "
			 "0x%04x; satpd sends only mux 0x%04x with a type 0x%02x..0xff",
			 p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], h->type, ntohs(h->mux),
			 SATP_HS_MUX, SATP_HS_EXTERNAL_MIN);
		return -EPERM;
	}
	if (!r->port) {
		snprintf(msg, len, "destination port 0");
		return -EINVAL;
	}
	return 0;
}

static void tx_one(struct satpd_kx *k, size_t n, bool trunc)
{
	struct satpd_worker *w = &k->d->sock_worker;
	const struct satp_kx_rec *r = (const void *)k->rec;
	struct sockaddr_storage sa;
	socklen_t salen = 0;
	char msg[256], a[64];
	int sock, ret = tx_check(k->rec, n, trunc, msg, sizeof(msg));

	if (!ret) {
		sock = tx_dest(k->d, r, &sa, &salen);
		if (sock < 0) {
			snprintf(msg, sizeof(msg), "no socket of satpd reaches %s",
				 satpd_addr_str(&sa, a, sizeof(a)));
			ret = -EAFNOSUPPORT;
		} else if (sendto(k->d->udp.fds[sock], k->rec + SATP_KX_REC_LEN,
				  n - SATP_KX_REC_LEN, MSG_DONTWAIT, (struct sockaddr *)&sa,
				  salen) < 0) {
			ret = -errno;
			snprintf(msg, sizeof(msg), "sending to %s: %s",
				 satpd_addr_str(&sa, a, sizeof(a)), strerror(errno));
		}
	}
	if (!ret) {
		satpd_count(w, &satpd_kx_counters, SATPD_CTR_kx_tx_sent);
		return;
	}
	satpd_count(w, &satpd_kx_counters, SATPD_CTR_kx_tx_refused);
	LOG_RATELIMITED(SATPD_LOG_NOTICE, "kx: refused from pid %d: %s", (int)k->client_pid, msg);
	reply(k->client_fd, SATP_KX_ERROR, (uint32_t)-ret, msg);
}

static void serve_client(struct satpd_kx *k, uint32_t events)
{
	unsigned int i;
	ssize_t n;

	for (i = 0; i < SATPD_KX_TX_BATCH; i++) {
		n = recv(k->client_fd, k->rec, sizeof(k->rec), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			drop_client(k, n ? strerror(errno) : "closed");
			return;
		}
		tx_one(k, (size_t)n, (size_t)n == sizeof(k->rec));
	}
	explicit_bzero(k->rec, sizeof(k->rec));
	if (i < SATPD_KX_TX_BATCH && (events & (EPOLLHUP | EPOLLERR)))
		drop_client(k, "hung up");
}

static void serve(void *ctx, int fd, short revents)
{
	struct satpd_kx *k = ctx;
	struct epoll_event ev[KX_EVENTS];
	int i, n = epoll_wait(k->epfd, ev, KX_EVENTS, 0);

	for (i = 0; i < n; i++) {
		if (ev[i].data.fd == k->listen_fd)
			accept_client(k);
		else if (ev[i].data.fd == k->client_fd)
			serve_client(k, ev[i].events);
	}
}

static int listen_at(struct satpd_kx *k, const struct satpd_ctl *ctl)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int ret;

	ret = satpd_kx_path(satpd_ctl_path(ctl), sa.sun_path, sizeof(sa.sun_path));
	if (ret) {
		log_warn("kx: socket path for '%s' too long: no kx socket", satpd_ctl_path(ctl));
		return ret;
	}
	k->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (k->listen_fd < 0)
		return -errno;
	/* the control socket beside it is ours (it bound), so a file here is a stale kx socket */
	unlink(sa.sun_path);
	if (bind(k->listen_fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		log_warn("kx: cannot bind '%s': %s", sa.sun_path, strerror(errno));
		return ret;
	}
	memcpy(k->path, sa.sun_path, sizeof(k->path));
	ret = satpd_ctl_chmod_like(ctl, k->path);
	if (ret) {
		log_warn("kx: cannot set mode/group of '%s': %s", k->path, strerror(-ret));
		return ret;
	}
	if (listen(k->listen_fd, 4))
		return -errno;
	return 0;
}

int satpd_kx_open(struct satpd *d, const struct satpd_ctl *ctl, struct satpd_kx **out)
{
	struct satpd_kx *k = calloc(1, sizeof(*k));
	struct epoll_event ev = {.events = EPOLLIN};
	int ret;

	if (!k)
		return -ENOMEM;
	k->d = d;
	k->ctl = ctl;
	k->client_fd = -1;
	k->epfd = epoll_create1(EPOLL_CLOEXEC);
	k->listen_fd = -1;
	ret = k->epfd < 0 ? -errno : listen_at(k, ctl);
	ev.data.fd = k->listen_fd;
	if (!ret && epoll_ctl(k->epfd, EPOLL_CTL_ADD, k->listen_fd, &ev))
		ret = -errno;
	if (!ret)
		ret = satpd_add_poll_hook(d, k->epfd, POLLIN, serve, k);
	if (ret) {
		log_warn("no kx socket (external key exchange unavailable): %s", strerror(-ret));
		satpd_kx_close(k);
		return ret;
	}
	*out = k;
	log_notice("kx socket %s", k->path);
	return 0;
}

void satpd_kx_close(struct satpd_kx *k)
{
	if (!k)
		return;
	if (k->client_fd >= 0)
		close(k->client_fd);
	if (k->listen_fd >= 0)
		close(k->listen_fd);
	if (k->epfd >= 0)
		close(k->epfd);
	if (k->path[0])
		unlink(k->path);
	free(k);
}
