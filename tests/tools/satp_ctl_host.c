// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp_ctl_host: the daemon's control socket (user/satpd/ctl.c) and metrics
 * endpoint (user/satpd/metrics.c) hosted with fake callbacks, so that the
 * real `satp` client, curl and the permission checks can be tested before
 * satpd wires them in. The callbacks keep a small connection table and print
 * each call they get ("call OP mux=M ...") so a test can see what arrived.
 *
 *   satp_ctl_host --socket PATH [--group G] [--read-group G] [--mode OCTAL]
 *                 [--metrics ADDR:PORT]
 *                 [--pin-root DIR] [--xdp-ifname IF] [--dev NAME] [--ready FILE]
 *                 [--seconds S] [--drop-to USER]
 *
 * --drop-to: after opening both, become USER with no capabilities, as satpd
 * does after setup: the metrics must still read the pinned maps (their fds).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../user/satpd/ctl.h"
#include "../../user/satpd/metrics.h"

#define MAX_FAKE_CONNS 16

struct fake_conn {
	bool used;
	uint16_t mux, sender;
	uint32_t window;
	char role[16];
	char remote[SATP_CTL_ADDR_MAX];
	uint64_t key_changes;
	uint32_t last_grace;
};

struct fake {
	const char *dev, *xdp_ifname;
	time_t started;
	uint64_t requests;
	struct fake_conn conns[MAX_FAKE_CONNS];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static struct fake_conn *find(struct fake *f, uint16_t mux)
{
	int i;

	for (i = 0; i < MAX_FAKE_CONNS; i++)
		if (f->conns[i].used && f->conns[i].mux == mux)
			return &f->conns[i];
	return NULL;
}

static int fake_snapshot(void *ctx, struct satp_ctl_snapshot *s)
{
	struct fake *f = ctx;
	int i;

	f->requests++;
	s->pid = getpid();
	snprintf(s->version, sizeof(s->version), "fake");
	snprintf(s->dev, sizeof(s->dev), "%s", f->dev);
	snprintf(s->xdp_ifname, sizeof(s->xdp_ifname), "%s", f->xdp_ifname);
	snprintf(s->rx_path, sizeof(s->rx_path), "%s", f->xdp_ifname[0] ? "xdp" : "udp");
	s->started = f->started;
	s->workers = 1;
	s->xsk_queues = f->xdp_ifname[0] ? 1 : 0;
	satp_ctl_add_counter(s->counters, &s->n_counters, "rx_bad_tag", 7);
	satp_ctl_add_counter(s->counters, &s->n_counters, "ctl_requests", f->requests);
	for (i = 0; i < MAX_FAKE_CONNS; i++) {
		struct fake_conn *c = &f->conns[i];
		struct satp_ctl_conn *o;

		if (!c->used)
			continue;
		o = satp_ctl_snapshot_add_conn(s);
		if (!o)
			return -ENOMEM;
		o->mux = c->mux;
		o->sender_id = c->sender;
		o->window = c->window;
		snprintf(o->role, sizeof(o->role), "%s", c->role);
		snprintf(o->cipher, sizeof(o->cipher), "aes-ctr-128");
		snprintf(o->auth, sizeof(o->auth), "sha1");
		snprintf(o->kd_prf, sizeof(o->kd_prf), "aes-ctr-128");
		o->tag_len = 10;
		memcpy(o->remote, c->remote, sizeof(o->remote));
		o->rx_packets = 100 + c->mux;
		o->tx_packets = 200 + c->mux;
		satp_ctl_add_counter(o->counters, &o->n_counters, "key_changes", c->key_changes);
		satp_ctl_add_sender(o, 7, 1000u + c->mux);
	}
	return 0;
}

static void apply(struct fake_conn *c, const struct satp_ctl_msg *m)
{
	if (m->present & SATP_CTL_F_SENDER)
		c->sender = m->sender;
	if (m->present & SATP_CTL_F_WINDOW)
		c->window = m->window;
	if (m->present & SATP_CTL_F_ROLE)
		snprintf(c->role, sizeof(c->role), "%s", satp_role_name(m->role));
	if (m->present & SATP_CTL_F_REMOTE)
		memcpy(c->remote, m->remote, sizeof(c->remote));
}

/* "call add-route mux=5 route=10.1.0.0/16 route=fd00::/64": what arrived, in order. */
static void print_routes(const char *op, const struct satp_ctl_msg *m)
{
	char a[INET6_ADDRSTRLEN];
	unsigned int i;

	printf("call %s mux=", op);
	if (m->present & SATP_CTL_F_MUX)
		printf("%u", m->mux);
	else
		printf("any");
	for (i = 0; i < m->n_routes; i++)
		printf(" route=%s/%u",
		       inet_ntop(m->routes[i].family, m->routes[i].addr, a, sizeof(a)),
		       m->routes[i].len);
	printf("\n");
}

static int fake_add(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen)
{
	struct fake *f = ctx;
	int i;

	printf("call add-conn mux=%u window=%u key_len=%zu\n", m->mux, m->window, m->key_len);
	if (m->n_routes)
		print_routes("add-conn-routes", m);
	if (find(f, m->mux)) {
		snprintf(err, errlen, "mux %u exists already", m->mux);
		return -EEXIST;
	}
	for (i = 0; i < MAX_FAKE_CONNS; i++) {
		if (f->conns[i].used)
			continue;
		memset(&f->conns[i], 0, sizeof(f->conns[i]));
		f->conns[i].used = true;
		f->conns[i].mux = m->mux;
		snprintf(f->conns[i].role, sizeof(f->conns[i].role), "left");
		apply(&f->conns[i], m);
		return 0;
	}
	snprintf(err, errlen, "no room for another connection");
	return -ENOSPC;
}

static int fake_change(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen)
{
	struct fake_conn *c = find(ctx, m->mux);

	printf("call change-conn mux=%u\n", m->mux);
	if (!c) {
		snprintf(err, errlen, "no connection with mux %u", m->mux);
		return -ENOENT;
	}
	apply(c, m);
	return 0;
}

static int fake_del(void *ctx, uint16_t mux, char *err, size_t errlen)
{
	struct fake_conn *c = find(ctx, mux);

	printf("call del-conn mux=%u\n", mux);
	if (!c) {
		snprintf(err, errlen, "no connection with mux %u", mux);
		return -ENOENT;
	}
	c->used = false;
	return 0;
}

static int fake_keys(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen)
{
	struct fake_conn *c = find(ctx, m->mux);

	printf("call set-keys mux=%u grace=%u key_len=%zu\n", m->mux, m->grace, m->key_len);
	if (!c) {
		snprintf(err, errlen, "no connection with mux %u", m->mux);
		return -ENOENT;
	}
	c->key_changes++;
	c->last_grace = m->grace;
	return 0;
}

static int fake_reset(void *ctx, uint16_t mux, uint16_t sender, char *err, size_t errlen)
{
	printf("call reset-window mux=%u sender=%u\n", mux, sender);
	if (!find(ctx, mux)) {
		snprintf(err, errlen, "no connection with mux %u", mux);
		return -ENOENT;
	}
	return 0;
}

static int fake_set_session(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen)
{
	printf("call set-session mux=%u session=%" PRIu64 " grace=%u tx_len=%zu rx_len=%zu\n",
	       m->mux, m->session, m->grace, m->key_len, m->rx_key_len);
	if (!find(ctx, m->mux)) {
		snprintf(err, errlen, "no connection with mux %u", m->mux);
		return -ENOENT;
	}
	return 0;
}

static int fake_add_route(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen)
{
	print_routes("add-route", m);
	if (!find(ctx, m->mux)) {
		snprintf(err, errlen, "no connection with mux %u", m->mux);
		return -ENOENT;
	}
	return 0;
}

static int fake_del_session(void *ctx, uint16_t mux, char *err, size_t errlen)
{
	printf("call del-session mux=%u\n", mux);
	if (!find(ctx, mux)) {
		snprintf(err, errlen, "no connection with mux %u", mux);
		return -ENOENT;
	}
	return 0;
}

static int fake_del_route(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen)
{
	(void)ctx;
	print_routes("del-route", m);
	return 0;
}

static void fake_log(void *ctx, const char *msg)
{
	printf("log %s\n", msg);
}

struct host_opts {
	struct satpd_ctl_opts ctl;
	struct satpd_metrics_opts metrics;
	const char *ready;
	const char *drop_to;
	unsigned int seconds;
};

static int parse(int argc, char **argv, struct host_opts *o, struct fake *f)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"group", required_argument, NULL, 'g'},
	    {"read-group", required_argument, NULL, 'G'},
	    {"mode", required_argument, NULL, 'm'},
	    {"metrics", required_argument, NULL, 'M'},
	    {"pin-root", required_argument, NULL, 'p'},
	    {"xdp-ifname", required_argument, NULL, 'x'},
	    {"dev", required_argument, NULL, 'd'},
	    {"ready", required_argument, NULL, 'r'},
	    {"seconds", required_argument, NULL, 'S'},
	    {"drop-to", required_argument, NULL, 'u'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->ctl.path = optarg;
			break;
		case 'g':
			o->ctl.group = optarg;
			break;
		case 'G':
			o->ctl.read_group = optarg;
			break;
		case 'm':
			o->ctl.mode = (mode_t)strtoul(optarg, NULL, 8);
			break;
		case 'M':
			o->metrics.listen = optarg;
			break;
		case 'p':
			o->metrics.pin_root = optarg;
			break;
		case 'x':
			f->xdp_ifname = optarg;
			break;
		case 'd':
			f->dev = optarg;
			break;
		case 'r':
			o->ready = optarg;
			break;
		case 'u':
			o->drop_to = optarg;
			break;
		case 'S':
			o->seconds = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		default:
			return -EINVAL;
		}
	}
	return o->ctl.path ? 0 : -EINVAL;
}

static int drop_to(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (!pw || setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid)) {
		fprintf(stderr, "satp_ctl_host: cannot become '%s': %s\n", user,
			pw ? strerror(errno) : "no such user");
		return -1;
	}
	return 0;
}

static void serve(struct satpd_ctl *ctl, struct satpd_metrics *met, unsigned int seconds)
{
	struct pollfd p[2] = {{.fd = satpd_ctl_fd(ctl), .events = POLLIN},
			      {.fd = met ? satpd_metrics_fd(met) : -1, .events = POLLIN}};
	time_t end = time(NULL) + seconds;

	while (!stop && time(NULL) < end) {
		if (poll(p, 2, 200) <= 0)
			continue;
		if (p[0].revents & POLLIN)
			satpd_ctl_handle(ctl);
		if (met && (p[1].revents & POLLIN))
			satpd_metrics_handle(met);
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	static struct fake f = {.dev = "tunfake", .xdp_ifname = ""};
	struct host_opts o = {.seconds = 60};
	struct satpd_ctl_ops ops = {
	    .ctx = &f,
	    .snapshot = fake_snapshot,
	    .add_conn = fake_add,
	    .change_conn = fake_change,
	    .del_conn = fake_del,
	    .set_keys = fake_keys,
	    .reset_window = fake_reset,
	    .set_session = fake_set_session,
	    .del_session = fake_del_session,
	    .log = fake_log,
	    .add_route = fake_add_route,
	    .del_route = fake_del_route,
	};
	struct satpd_ctl *ctl = NULL;
	struct satpd_metrics *met = NULL;
	char err[512];
	FILE *r;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse(argc, argv, &o, &f)) {
		fprintf(stderr, "usage: satp_ctl_host --socket PATH [--group G] [--read-group G] "
				"[--mode OCTAL] "
				"[--metrics ADDR:PORT] [--pin-root DIR] [--xdp-ifname IF] "
				"[--dev NAME] [--ready FILE] [--seconds S] [--drop-to USER]\n");
		return 2;
	}
	f.started = time(NULL);
	o.metrics.xdp_ifname = f.xdp_ifname;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ret = satpd_ctl_open(&o.ctl, &ops, &ctl, err, sizeof(err));
	if (!ret && o.metrics.listen)
		ret = satpd_metrics_open(&o.metrics, &ops, &met, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "satp_ctl_host: %s\n", err);
		satpd_ctl_close(ctl);
		return 1;
	}
	if ((o.drop_to && drop_to(o.drop_to)) || (met && satpd_metrics_start(met))) {
		satpd_metrics_close(met);
		satpd_ctl_close(ctl);
		return 1;
	}
	if (o.ready && (r = fopen(o.ready, "w")))
		fclose(r);
	serve(ctl, met, o.seconds);
	satpd_metrics_close(met);
	satpd_ctl_close(ctl);
	return 0;
}
