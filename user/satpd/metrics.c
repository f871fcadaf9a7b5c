// SPDX-License-Identifier: GPL-2.0-only
/*
 * The metrics endpoint (metrics.h). A scrape is rare (every 15 s or so) and
 * small, so it is answered inline like a control request.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "metrics_text.h"

/* Enough for the request line and a few headers; the rest is not read. */
#define REQ_MAX 2048
/* The exposition of 64 connections and 1024 senders stays well below this. */
#define BODY_MAX     (1u << 20)
#define ACCEPT_BATCH 4

struct satpd_metrics {
	int fd;
	struct satpd_ctl_ops ops;
	char pin_root[4096];
	struct satp_ctl_snapshot *snap;
	struct satp_xdp_view *view;
	struct satp_xdp_view_maps maps; /* open when maps_open */
	bool maps_open;
	char *body;
};

int satpd_metrics_parse_listen(const char *s, char *host, size_t hostlen, char *port,
			       size_t portlen)
{
	const char *colon;
	size_t hl;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		hl = (size_t)(end - s - 1);
		s++;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (hl >= hostlen || !colon[1] || strlen(colon + 1) >= portlen ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);
	return 0;
}

static int listen_on(struct satpd_metrics *m, const char *spec, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
	struct addrinfo *ai = NULL;
	char host[128], port[8];
	int one = 1, ret;

	if (satpd_metrics_parse_listen(spec, host, sizeof(host), port, sizeof(port))) {
		snprintf(err, errlen,
			 "invalid --metrics '%s': expected ADDR:PORT, [V6]:PORT or :PORT", spec);
		return -EINVAL;
	}
	ret = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (ret) {
		snprintf(err, errlen, "invalid --metrics '%s': %s", spec, gai_strerror(ret));
		return -EINVAL;
	}
	m->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0) {
		ret = -errno;
		goto out;
	}
	setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(m->fd, ai->ai_addr, ai->ai_addrlen) || listen(m->fd, 16)) {
		ret = -errno;
		snprintf(err, errlen, "cannot listen on --metrics '%s': %s", spec, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	freeaddrinfo(ai);
	return ret;
}

int satpd_metrics_open(const struct satpd_metrics_opts *opts, const struct satpd_ctl_ops *ops,
		       struct satpd_metrics **out, char *err, size_t errlen)
{
	struct satpd_metrics *m = calloc(1, sizeof(*m));
	int ret = -ENOMEM;

	if (!m)
		return -ENOMEM;
	m->fd = -1;
	m->ops = *ops;
	snprintf(m->pin_root, sizeof(m->pin_root), "%s",
		 opts->pin_root ? opts->pin_root : "/sys/fs/bpf");
	m->snap = malloc(sizeof(*m->snap));
	m->view = malloc(sizeof(*m->view));
	m->body = malloc(BODY_MAX);
	if (!m->snap || !m->view || !m->body) {
		snprintf(err, errlen, "metrics: out of memory");
		goto fail;
	}
	ret = listen_on(m, opts->listen ? opts->listen : "", err, errlen);
	if (ret)
		goto fail;
	/* not fatal: the scrape falls back to the path and says satpd_xdp_* nothing */
	if (opts->xdp_ifname && opts->xdp_ifname[0])
		m->maps_open = !satp_xdp_view_open(m->pin_root, opts->xdp_ifname, &m->maps);
	*out = m;
	return 0;
fail:
	satpd_metrics_close(m);
	return ret;
}

int satpd_metrics_fd(const struct satpd_metrics *m)
{
	return m->fd;
}

void satpd_metrics_close(struct satpd_metrics *m)
{
	if (!m)
		return;
	if (m->fd >= 0)
		close(m->fd);
	if (m->maps_open)
		satp_xdp_view_close(&m->maps);
	free(m->snap);
	free(m->view);
	free(m->body);
	free(m);
}

/* Read until the end of the headers, the buffer is full, or the deadline. */
static ssize_t read_head(int fd, char *buf, size_t cap)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t got = 0;
	ssize_t n;

	while (got + 1 < cap) {
		if (poll(&p, 1, SATPD_METRICS_IO_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
		n = recv(fd, buf + got, cap - 1 - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			break;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

static void send_all(int fd, const char *buf, size_t len)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			if (poll(&p, 1, SATPD_METRICS_IO_TIMEOUT_MS) <= 0)
				return;
			continue;
		}
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void respond(int fd, const char *status, const char *ctype, const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, ctype, len);

	send_all(fd, head, (size_t)n);
	send_all(fd, body, len);
}

/* The body: the daemon's snapshot when it gives one, the XDP view of its underlay. */
static int render(struct satpd_metrics *m)
{
	const struct satp_ctl_snapshot *snap = NULL;
	const struct satp_xdp_view *view = NULL;

	memset(m->snap, 0, sizeof(*m->snap));
	if (m->ops.snapshot && !m->ops.snapshot(m->ops.ctx, m->snap))
		snap = m->snap;
	if (m->maps_open) {
		if (!satp_xdp_view_read_maps(&m->maps, m->view))
			view = m->view;
	} else if (snap && snap->xdp_ifname[0] &&
		   !satp_xdp_view_read(m->pin_root, snap->xdp_ifname, m->view)) {
		view = m->view;
	}
	return satp_metrics_render(snap, view, m->body, BODY_MAX);
}

static void serve(struct satpd_metrics *m, int fd)
{
	static const char text[] = "text/plain; charset=utf-8";
	char req[REQ_MAX], *sp;
	ssize_t n = read_head(fd, req, sizeof(req));
	int len;

	if (n <= 0)
		return;
	sp = strchr(req, ' ');
	if (!sp || strncmp(req, "GET ", 4)) {
		respond(fd, "405 Method Not Allowed", text, "GET only\n", 9);
		return;
	}
	if (strncmp(sp + 1, "/metrics", 8) ||
	    (sp[9] != ' ' && sp[9] != '?' && sp[9] != '\r' && sp[9] != '\n')) {
		respond(fd, "404 Not Found", text, "try /metrics\n", 13);
		return;
	}
	len = render(m);
	if (len < 0) {
		respond(fd, "500 Internal Server Error", text, "exposition too large\n", 21);
		return;
	}
	respond(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", m->body, (size_t)len);
}

void satpd_metrics_handle(struct satpd_metrics *m)
{
	int i, fd;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		fd = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return;
		serve(m, fd);
		close(fd);
	}
}
