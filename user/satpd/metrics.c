// SPDX-License-Identifier: GPL-2.0-only
/*
 * The metrics endpoint (metrics.h). HTTP runs on a thread of its own, so that
 * a slow or hostile client (the port may face a network) never holds up the
 * daemon's main loop, which is also its socket data path. The main loop only
 * renders: the thread asks through an eventfd the loop polls, the loop takes
 * the snapshot (it alone may read the daemon's state) and answers through a
 * second eventfd. One render at a time; a loop that does not answer within
 * RENDER_WAIT_MS gets the client a 503.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hostport.h"
#include "metrics.h"
#include "metrics_text.h"

/* Enough for the request line and a few headers; the rest is not read. */
#define REQ_MAX 2048
/*
 * ~700 bytes a connection, ~300 a sender: every mux fits. Allocated once and
 * never moved (the thread sends it while the main loop may render the next);
 * the kernel backs only the pages a render touches.
 */
#define BODY_MAX SATP_CTL_REPLY_MAX
/* Scrapers connect one at a time; more waiting clients than this are turned away. */
#define MAX_CLIENTS 16
/* How long the main loop may take to render before the client gets a 503. */
#define RENDER_WAIT_MS 2000

struct client {
	int fd; /* -1: free */
	size_t len;
	int64_t deadline_ms;
	char req[REQ_MAX];
};

struct satpd_metrics {
	int fd;	     /* listening */
	int req_fd;  /* eventfd: the thread asks for a render (the main loop polls it) */
	int done_fd; /* eventfd: the render is in body / body_len */
	int stop_fd; /* eventfd: the thread leaves */
	bool thread_started;
	pthread_t thread;
	struct satpd_ctl_ops ops;
	char pin_root[4096];
	struct satp_ctl_snapshot *snap;
	struct satp_xdp_view *view;
	struct satp_xdp_view_maps maps; /* open when maps_open */
	bool maps_open;
	char *body;
	int body_len; /* written by the main loop before done_seq; < 0: render failed */
	/* a 503'd request may be rendered late: the thread waits for its own number */
	_Atomic uint64_t req_seq, done_seq;
	struct client clients[MAX_CLIENTS];
};

int satpd_metrics_parse_listen(const char *s, char *host, size_t hostlen, char *port,
			       size_t portlen)
{
	uint16_t v;

	if (satp_hostport_parse(s, SATP_HOSTPORT_HOST_OPTIONAL | SATP_HOSTPORT_PORT_ZERO, host,
				hostlen, &v, NULL, 0))
		return -EINVAL;
	snprintf(port, portlen, "%u", v);
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

/* The body: the daemon's snapshot when it gives one, the XDP view of its underlay. */
static int render(struct satpd_metrics *m)
{
	const struct satp_ctl_snapshot *snap = NULL;
	const struct satp_xdp_view *view = NULL;
	int n;

	satp_ctl_snapshot_reset(m->snap);
	if (m->ops.snapshot && !m->ops.snapshot(m->ops.ctx, m->snap))
		snap = m->snap;
	if (m->maps_open) {
		if (!satp_xdp_view_read_maps(&m->maps, m->view))
			view = m->view;
	} else if (snap && snap->xdp_ifname[0] &&
		   !satp_xdp_view_read(m->pin_root, snap->xdp_ifname, m->view)) {
		view = m->view;
	}
	n = satp_metrics_render(snap, view, m->body, BODY_MAX);
	satp_ctl_snapshot_reset(m->snap); /* an edge's thousands of connections: not kept idle */
	return n;
}

/* The client's socket blocks (with a timeout) once its request is in: only this
 * thread waits on it. */
static void send_all(int fd, const char *buf, size_t len)
{
	struct timeval tv = {.tv_sec = SATPD_METRICS_IO_TIMEOUT_MS / 1000,
			     .tv_usec = (SATPD_METRICS_IO_TIMEOUT_MS % 1000) * 1000};
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
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

void satpd_metrics_handle(struct satpd_metrics *m)
{
	uint64_t one = 1, v, seq;

	if (read(m->req_fd, &v, sizeof(v)) != sizeof(v))
		return;
	seq = atomic_load(&m->req_seq);
	m->body_len = render(m);
	atomic_store(&m->done_seq, seq);
	if (write(m->done_fd, &one, sizeof(one)) != sizeof(one))
		return; /* the thread times out: a 503 */
}

/* Ask the main loop for a render and wait for it (or for the stop). */
static int wait_render(struct satpd_metrics *m)
{
	struct pollfd p[2] = {{.fd = m->done_fd, .events = POLLIN},
			      {.fd = m->stop_fd, .events = POLLIN}};
	uint64_t one = 1, v, seq = atomic_fetch_add(&m->req_seq, 1) + 1;
	int64_t end = satpd_mono_ms() + RENDER_WAIT_MS;

	if (write(m->req_fd, &one, sizeof(one)) != sizeof(one))
		return -EIO;
	while (atomic_load(&m->done_seq) != seq) {
		int64_t left = end - satpd_mono_ms();

		if (left <= 0 || poll(p, 2, (int)left) <= 0 || (p[1].revents & POLLIN))
			return -ETIMEDOUT;
		if (read(m->done_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return -EIO;
	}
	return m->body_len;
}

static void answer(struct satpd_metrics *m, struct client *c)
{
	static const char text[] = "text/plain; charset=utf-8";
	char *sp = strchr(c->req, ' ');
	int len;

	if (!sp || strncmp(c->req, "GET ", 4)) {
		respond(c->fd, "405 Method Not Allowed", text, "GET only\n", 9);
		return;
	}
	if (strncmp(sp + 1, "/metrics", 8) ||
	    (sp[9] != ' ' && sp[9] != '?' && sp[9] != '\r' && sp[9] != '\n')) {
		respond(c->fd, "404 Not Found", text, "try /metrics\n", 13);
		return;
	}
	len = wait_render(m);
	if (len == -ETIMEDOUT)
		respond(c->fd, "503 Service Unavailable", text, "satpd busy\n", 11);
	else if (len < 0)
		respond(c->fd, "500 Internal Server Error", text, "exposition failed\n", 18);
	else
		respond(c->fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", m->body,
			(size_t)len);
}

static void drop_client(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void accept_clients(struct satpd_metrics *m)
{
	int fd, i;

	while ((fd = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		for (i = 0; i < MAX_CLIENTS && m->clients[i].fd >= 0; i++)
			;
		if (i == MAX_CLIENTS) {
			close(fd); /* busy: the scraper retries */
			continue;
		}
		m->clients[i].fd = fd;
		m->clients[i].len = 0;
		m->clients[i].deadline_ms = satpd_mono_ms() + SATPD_METRICS_IO_TIMEOUT_MS;
	}
}

/* Read what a client sent; answer once the headers are complete (or the buffer full). */
static void read_client(struct satpd_metrics *m, struct client *c)
{
	ssize_t n = recv(c->fd, c->req + c->len, sizeof(c->req) - 1 - c->len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop_client(c);
		return;
	}
	c->len += (size_t)n;
	c->req[c->len] = '\0';
	if (!strstr(c->req, "\r\n\r\n") && !strstr(c->req, "\n\n") && c->len + 1 < sizeof(c->req))
		return;
	answer(m, c);
	drop_client(c);
}

static void *serve_thread(void *arg)
{
	struct satpd_metrics *m = arg;
	struct pollfd p[2 + MAX_CLIENTS];
	int idx[MAX_CLIENTS], n, i, k;
	int64_t now, timeout;

	for (;;) {
		p[0] = (struct pollfd){.fd = m->stop_fd, .events = POLLIN};
		p[1] = (struct pollfd){.fd = m->fd, .events = POLLIN};
		n = 2;
		now = satpd_mono_ms();
		timeout = -1;
		for (i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &m->clients[i];

			if (c->fd < 0)
				continue;
			if (c->deadline_ms <= now) {
				drop_client(c); /* slow or silent: not our problem any longer */
				continue;
			}
			if (timeout < 0 || c->deadline_ms - now < timeout)
				timeout = c->deadline_ms - now;
			idx[n - 2] = i;
			p[n++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
		}
		if (poll(p, (nfds_t)n, (int)timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			break;
		for (k = 2; k < n; k++)
			if (p[k].revents)
				read_client(m, &m->clients[idx[k - 2]]);
		if (p[1].revents & POLLIN)
			accept_clients(m);
	}
	return NULL;
}

int satpd_metrics_open(const struct satpd_metrics_opts *opts, const struct satpd_ctl_ops *ops,
		       struct satpd_metrics **out, char *err, size_t errlen)
{
	struct satpd_metrics *m = calloc(1, sizeof(*m));
	int i, ret = -ENOMEM;

	if (!m)
		return -ENOMEM;
	m->fd = -1;
	for (i = 0; i < MAX_CLIENTS; i++)
		m->clients[i].fd = -1;
	m->ops = *ops;
	snprintf(m->pin_root, sizeof(m->pin_root), "%s",
		 opts->pin_root ? opts->pin_root : "/sys/fs/bpf");
	m->req_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	m->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	m->stop_fd = eventfd(0, EFD_CLOEXEC);
	m->snap = calloc(1, sizeof(*m->snap));
	m->view = malloc(sizeof(*m->view));
	m->body = malloc(BODY_MAX);
	if (!m->snap || !m->view || !m->body || m->req_fd < 0 || m->done_fd < 0 || m->stop_fd < 0) {
		snprintf(err, errlen, "metrics: out of memory or file descriptors");
		goto fail;
	}
	ret = listen_on(m, opts->listen ? opts->listen : "", err, errlen);
	if (ret)
		goto fail;
	/* not fatal: each scrape then opens the pins of the snapshot's xdp-ifname by path */
	if (opts->xdp_ifname && opts->xdp_ifname[0])
		m->maps_open = !satp_xdp_view_open(m->pin_root, opts->xdp_ifname, &m->maps);
	*out = m;
	return 0;
fail:
	satpd_metrics_close(m);
	return ret;
}

int satpd_metrics_start(struct satpd_metrics *m)
{
	int ret = -pthread_create(&m->thread, NULL, serve_thread, m);

	if (ret)
		return ret;
	m->thread_started = true;
	return 0;
}

int satpd_metrics_fd(const struct satpd_metrics *m)
{
	return m->req_fd;
}

void satpd_metrics_close(struct satpd_metrics *m)
{
	uint64_t one = 1;
	int i;

	if (!m)
		return;
	if (m->thread_started) {
		if (write(m->stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(m->thread, NULL);
		else
			pthread_cancel(m->thread);
	}
	for (i = 0; i < MAX_CLIENTS; i++)
		if (m->clients[i].fd >= 0)
			close(m->clients[i].fd);
	if (m->fd >= 0)
		close(m->fd);
	if (m->req_fd >= 0)
		close(m->req_fd);
	if (m->done_fd >= 0)
		close(m->done_fd);
	if (m->stop_fd >= 0)
		close(m->stop_fd);
	if (m->maps_open)
		satp_xdp_view_close(&m->maps);
	if (m->snap)
		satp_ctl_snapshot_reset(m->snap);
	free(m->snap);
	free(m->view);
	free(m->body);
	free(m);
}
