// SPDX-License-Identifier: GPL-2.0-only
/*
 * Non-blocking anytun sync client (sync_client.h). One epoll fd holds the
 * socket and the reconnect timer, so the caller polls a single fd that never
 * changes across reconnects.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "sync_client.h"

/* epoll tags of the two fds. */
#define TAG_TIMER  1u
#define TAG_SOCKET 2u
/*
 * TCP keepalive: the server only speaks on changes, so a server that vanished
 * (rebooted, cable cut) would otherwise leave a half-open connection that is
 * never retried. Idle 30 s, then 3 probes 10 s apart: found within a minute.
 */
#define KEEPALIVE_IDLE_S  30
#define KEEPALIVE_INTVL_S 10
#define KEEPALIVE_CNT	  3
/* Reads per dispatch: a flooding server cannot starve the caller's other fds. */
#define READS_PER_DISPATCH 16
#define NAME_MAX_LEN	   (NI_MAXHOST + 8)

struct satp_sync_client {
	int epfd, tfd, sock;
	bool connecting, connected;
	struct addrinfo *addrs, *next; /* resolved once; tried in turn */
	struct satp_sync_client_ops ops;
	struct satp_sync_client_stats stats;
	char name[NAME_MAX_LEN];
	size_t len;
	char buf[SATP_SYNC_FRAME_MAX];
};

__attribute__((format(printf, 3, 4))) static void logf_(struct satp_sync_client *c, int level,
							const char *fmt, ...)
{
	char msg[NAME_MAX_LEN + SATP_SYNC_ERR_LEN + 64];
	va_list ap;
	int n;

	if (!c->ops.log)
		return;
	n = snprintf(msg, sizeof(msg), "sync %s: ", c->name);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	c->ops.log(c->ops.arg, level, msg);
}

static void close_socket(struct satp_sync_client *c)
{
	if (c->sock >= 0) {
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->sock, NULL);
		close(c->sock);
	}
	c->sock = -1;
	if (c->connected)
		c->stats.disconnects++;
	c->connecting = c->connected = false;
	OPENSSL_cleanse(c->buf, c->len);
	c->len = 0;
}

static int schedule_reconnect(struct satp_sync_client *c)
{
	unsigned int ms = c->ops.reconnect_ms ? c->ops.reconnect_ms : SATP_SYNC_RECONNECT_MS;
	struct itimerspec its = {
	    .it_value = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L}};

	close_socket(c);
	if (timerfd_settime(c->tfd, 0, &its, NULL))
		return -errno;
	return 0;
}

static int fail_and_retry(struct satp_sync_client *c, int level, const char *what, int err)
{
	unsigned int ms = c->ops.reconnect_ms ? c->ops.reconnect_ms : SATP_SYNC_RECONNECT_MS;

	logf_(c, level, "%s%s%s; reconnecting in %u.%03u s", what, err ? ": " : "",
	      err ? strerror(err) : "", ms / 1000, ms % 1000);
	return schedule_reconnect(c);
}

/* Best effort: without keepalive the client still works, it only notices a dead server later. */
static void set_keepalive(int fd)
{
	int on = 1, idle = KEEPALIVE_IDLE_S, intvl = KEEPALIVE_INTVL_S, cnt = KEEPALIVE_CNT;

	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

static int start_connect(struct satp_sync_client *c)
{
	struct addrinfo *ai = c->next ? c->next : c->addrs;
	struct epoll_event ev = {.data.u32 = TAG_SOCKET};

	c->next = ai->ai_next;
	c->sock =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (c->sock < 0)
		return fail_and_retry(c, LOG_ERR, "socket", errno);
	set_keepalive(c->sock);
	if (connect(c->sock, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)
		return fail_and_retry(c, LOG_WARNING, "connect", errno);
	c->connecting = true;
	/* Writable once the connect finished, either way; then only reads. */
	ev.events = EPOLLOUT;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->sock, &ev))
		return -errno;
	return 0;
}

static int finish_connect(struct satp_sync_client *c)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = TAG_SOCKET};
	socklen_t sl = sizeof(int);
	int err = 0;

	if (getsockopt(c->sock, SOL_SOCKET, SO_ERROR, &err, &sl))
		err = errno;
	if (err)
		return fail_and_retry(c, LOG_WARNING, "connect", err);
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->sock, &ev))
		return -errno;
	c->connecting = false;
	c->connected = true;
	c->stats.connects++;
	logf_(c, LOG_INFO, "connected");
	return 0;
}

/* Hand every complete frame in buf to the callback; 1 when the stream broke. */
static int parse_buffer(struct satp_sync_client *c)
{
	struct satp_sync_record rec;
	char err[SATP_SYNC_ERR_LEN];
	size_t off = 0, used = 0;
	int ret;

	for (;;) {
		ret = satp_sync_parse_frame(c->buf + off, c->len - off, &rec, &used, err,
					    sizeof(err));
		if (ret == -EAGAIN)
			break;
		if (ret == -EPROTO) {
			c->stats.stream_errors++;
			logf_(c, LOG_ERR, "%s", err);
			return 1;
		}
		if (ret) {
			c->stats.skipped++;
			logf_(c, LOG_WARNING, "frame skipped: %s", err);
		} else {
			c->stats.records++;
			c->ops.record(c->ops.arg, &rec);
		}
		satp_sync_record_wipe(&rec);
		off += used;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	OPENSSL_cleanse(c->buf + c->len - off, off);
	c->len -= off;
	return 0;
}

static int read_socket(struct satp_sync_client *c)
{
	ssize_t n;
	int i;

	for (i = 0; i < READS_PER_DISPATCH; i++) {
		n = read(c->sock, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n < 0)
			return fail_and_retry(c, LOG_WARNING, "read", errno);
		if (n == 0)
			return fail_and_retry(c, LOG_NOTICE, "server closed the connection", 0);
		c->len += (size_t)n;
		if (parse_buffer(c))
			return fail_and_retry(c, LOG_ERR, "stream is out of step", 0);
	}
	return 0;
}

static int on_socket(struct satp_sync_client *c, uint32_t events)
{
	if (c->connecting)
		return finish_connect(c);
	if (c->connected)
		return read_socket(c);
	return 0;
}

static int on_timer(struct satp_sync_client *c)
{
	uint64_t expirations;

	if (read(c->tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return -errno;
	if (c->sock >= 0)
		return 0;
	return start_connect(c);
}

int satp_sync_client_dispatch(struct satp_sync_client *c)
{
	struct epoll_event evs[2];
	int n, i, ret = 0;

	n = epoll_wait(c->epfd, evs, 2, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n && !ret; i++)
		ret = evs[i].data.u32 == TAG_TIMER ? on_timer(c) : on_socket(c, evs[i].events);
	return ret;
}

int satp_sync_client_new(struct satp_sync_client **out, const char *host, const char *port,
			 const struct satp_sync_client_ops *ops, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = TAG_TIMER};
	struct satp_sync_client *c;
	int ret;

	if (!ops->record)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->epfd = c->tfd = c->sock = -1;
	c->ops = *ops;
	snprintf(c->name, sizeof(c->name), strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
	ret = getaddrinfo(host, port, &hints, &c->addrs);
	if (ret) {
		snprintf(err, errlen, "sync server '%s': %s", c->name, gai_strerror(ret));
		c->addrs = NULL;
		ret = -EINVAL;
		goto fail;
	}
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->epfd < 0 || c->tfd < 0 || epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->tfd, &ev)) {
		ret = -errno;
		snprintf(err, errlen, "sync server '%s': %s", c->name, strerror(errno));
		goto fail;
	}
	ret = start_connect(c);
	if (ret) {
		snprintf(err, errlen, "sync server '%s': %s", c->name, strerror(-ret));
		goto fail;
	}
	*out = c;
	return 0;
fail:
	satp_sync_client_free(c);
	return ret;
}

int satp_sync_client_fd(const struct satp_sync_client *c)
{
	return c->epfd;
}

bool satp_sync_client_connected(const struct satp_sync_client *c)
{
	return c->connected;
}

void satp_sync_client_stats(const struct satp_sync_client *c, struct satp_sync_client_stats *s)
{
	*s = c->stats;
}

const char *satp_sync_client_name(const struct satp_sync_client *c)
{
	return c->name;
}

void satp_sync_client_free(struct satp_sync_client *c)
{
	if (!c)
		return;
	close_socket(c);
	if (c->tfd >= 0)
		close(c->tfd);
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->addrs)
		freeaddrinfo(c->addrs);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}
