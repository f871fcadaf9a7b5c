/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A struct satpd as setup leaves it before sockets, devices and XDP exist,
 * for the unit tables of the daemon core (header-only: each test is one
 * binary). The setup code of main.c fills the same fields; a test adds what
 * its module needs (a worker with a device fd, RAIL's sockets).
 */
#ifndef SATPD_TEST_DAEMON_H
#define SATPD_TEST_DAEMON_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "satp_test_util.h"
#include "conns.h"
#include "satpd_options.h"

struct fixture {
	char dir[32];
	struct satpd_config *cfg;
	struct satpd *d;
};

static struct fixture fx;

static inline void rm_tree(const char *dir)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* A daemon as setup leaves it before sockets, devices and XDP: n_workers AF_XDP workers. */
static inline struct satpd *daemon_new(enum satpd_dev_type type, unsigned int n_workers)
{
	struct satpd *d = calloc(1, sizeof(*d));
	unsigned int i;

	assert_non_null(d);
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/satp-conns.XXXXXX");
	assert_non_null(mkdtemp(fx.dir));
	fx.cfg = calloc(1, sizeof(*fx.cfg));
	assert_non_null(fx.cfg);
	satpd_config_default(fx.cfg);
	fx.cfg->dev_type = type;
	d->cfg = fx.cfg;
	d->dev_type = type;
	d->sock_worker.d = d;
	assert_int_equal(satpd_windows_init(&d->windows, 6, 100, NULL, NULL, NULL), 0);
	assert_int_equal(satpd_conns_init(d, fx.dir), 0);
	if (n_workers) {
		d->workers = calloc(n_workers, sizeof(*d->workers));
		assert_non_null(d->workers);
		for (i = 0; i < n_workers; i++)
			d->workers[i].d = d;
		d->n_workers = n_workers;
	}
	fx.d = d;
	return d;
}

static inline void daemon_free(struct satpd *d)
{
	satpd_conns_free(d);
	satpd_windows_free(&d->windows);
	free(d->workers);
	free(d);
	free(fx.cfg);
	rm_tree(fx.dir);
}

/* Static keys as anytun's defaults make them: a key per mux, so each is its own. */
static inline void keys_of(struct satp_keys *k, uint8_t seed)
{
	memset(k, 0, sizeof(*k));
	satp_algos_default(&k->algos);
	k->role = SATP_ROLE_LEFT;
	k->master_key_len = k->algos.kd_bits / 8;
	memset(k->master_key, seed, k->master_key_len);
	memset(k->master_salt, seed ^ 0x5a, sizeof(k->master_salt));
}

/* Connection mux, sender id 1, window 100, keys of seed mux. */
static inline void conn_config_of(struct satpd_conn_config *c, uint16_t mux)
{
	memset(c, 0, sizeof(*c));
	c->mux = mux;
	c->sender_id = 1;
	c->window = 100;
	keys_of(&c->keys, (uint8_t)mux);
}

static inline void add_conn(struct satpd *d, uint16_t mux)
{
	struct satpd_conn_config c;
	char err[256] = "";

	conn_config_of(&c, mux);
	if (satpd_conns_add(d, &c, err, sizeof(err)))
		fail_msg("add mux %u: %s", mux, err);
}

/* A non-blocking UDP socket on 127.0.0.1, a port the kernel picks; a: its address. */
static inline int udp_on_loopback(struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(s >= 0);
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)a, sizeof(*a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)a, &len), 0);
	return s;
}

#endif /* SATPD_TEST_DAEMON_H */
