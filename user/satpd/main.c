// SPDX-License-Identifier: GPL-2.0-only
/*
 * satpd: an SATP endpoint that speaks anytun's options and wire format.
 * main() parses the options into the model, then run() applies it: device,
 * sockets, connection, privileges, and the poll loop.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "datapath.h"
#include "dev.h"
#include "log.h"
#include "satpd_options.h"
#include "underlay.h"

#define SATPD_VERSION "0.1"

/* Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad options (nothing touched). */
#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

static void log_config_warnings(const struct satpd_config *c)
{
	const struct satpd_conn_config *cc = &c->conns[0];

	if (c->warnings & SATPD_WARN_KD_NULL)
		log_notice("cipher and auth are null: kd-prf forced to null");
	if (c->warnings & SATPD_WARN_NULL_KD)
		log_warn(
		    "using NULL key derivation with encryption and or authentication enabled!");
	if (c->warnings & SATPD_WARN_TAG_CLAMP)
		log_warn("sha1 cannot make tags longer than %d bytes: using %u", SATP_TAG_MAX,
			 cc->keys.algos.tag_len);
	if (c->warnings & SATPD_WARN_KEY_OVER_PASS)
		log_warn("master key given with -K and -E: using -K");
	if (c->warnings & SATPD_WARN_SALT_OVER_PASS)
		log_warn("master salt given with -A and -E: using -A");
	if (c->warnings & SATPD_WARN_NO_REPLAY)
		log_warn("window size 0 (-w 0, the anytun default): replay protection is DISABLED; "
			 "every authenticated datagram is delivered, duplicates too");
	if (c->warnings & SATPD_WARN_PORT_RANGE)
		log_warn("port ranges (RAIL) are not implemented yet: using local port %u and "
			 "remote port %u only",
			 c->local.port_lo, cc->remote.port_lo);
	if (c->n_routes)
		log_info(
		    "%u route(s) given with -R: anytun uses them only with sync (-M/-X); ignored",
		    c->n_routes);
}

/*
 * The one place that picks the receive path. The XDP/AF_XDP path plugs in
 * here: attach the program to `dev` in the mode asked for, log the mode
 * obtained, register one AF_XDP socket per queue in the poll set (its
 * handler feeds satpd_rx_batch() and sends through the same seal path) and
 * return the mode; on any failure log why and fall back to off.
 */
static enum satpd_xdp_mode select_rx_path(const struct satpd_config *c, const struct satpd *d)
{
	char dev[IFNAMSIZ];
	bool have_dev;

	if (c->xdp_mode == SATPD_XDP_OFF) {
		log_notice("data path: UDP sockets (--xdp-mode off)");
		return SATPD_XDP_OFF;
	}
	have_dev = !satpd_underlay_dev(c, d->conn.remote_known ? &d->conn.remote : NULL, dev);
	log_notice("--xdp-mode %s on %s: the XDP path is not available in this build yet; "
		   "falling back to --xdp-mode off (UDP sockets; pin root %s unused)",
		   satpd_xdp_mode_name(c->xdp_mode), have_dev ? dev : "(unknown: give --xdp-dev)",
		   c->pin_root);
	return SATPD_XDP_OFF;
}

static int drop_privileges(const struct satpd_config *c)
{
	struct passwd *pw = NULL;
	struct group *gr = NULL;

	/* Look names up before chroot: /etc is not there afterwards. */
	if (c->username[0] && !(pw = getpwnam(c->username))) {
		log_err("unknown user '%s'", c->username);
		return -EINVAL;
	}
	if (c->groupname[0] && !(gr = getgrnam(c->groupname))) {
		log_err("unknown group '%s'", c->groupname);
		return -EINVAL;
	}
	if (c->chroot_dir[0] && (chroot(c->chroot_dir) < 0 || chdir("/") < 0)) {
		log_err("cannot chroot to '%s': %s", c->chroot_dir, strerror(errno));
		return -errno;
	}
	if (gr || pw) {
		gid_t gid = gr ? gr->gr_gid : pw->pw_gid;

		if (setgroups(1, &gid) < 0 || setgid(gid) < 0) {
			log_err("cannot change group to %u: %s", gid, strerror(errno));
			return -errno;
		}
	}
	if (pw && setuid(pw->pw_uid) < 0) {
		log_err("cannot change user to '%s': %s", c->username, strerror(errno));
		return -errno;
	}
	return 0;
}

static int write_pid_file(const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f) {
		log_err("cannot write pid file '%s': %s", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "%d\n", getpid());
	fclose(f);
	return 0;
}

static int open_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* Returns true when the loop should stop. */
static bool handle_signals(struct satpd *d, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGINT:
		case SIGTERM:
			log_notice("signal %u: shutting down", si.ssi_signo);
			return true;
		case SIGHUP:
			satpd_log_reopen();
			log_notice("SIGHUP: log files reopened");
			break;
		case SIGUSR1:
			satpd_counters_dump(d);
			break;
		}
	}
	return false;
}

static int event_loop(struct satpd *d, const struct satpd_dev *dev, int sfd)
{
	struct pollfd pfd[1 + SATPD_SOCKS_MAX + SATPD_QUEUES_MAX];
	unsigned int i, n = 0, first_sock, first_dev;

	pfd[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
	first_sock = n;
	for (i = 0; i < d->udp.n; i++)
		pfd[n++] = (struct pollfd){.fd = d->udp.fds[i], .events = POLLIN};
	first_dev = n;
	for (i = 0; i < dev->n_fds; i++)
		pfd[n++] = (struct pollfd){.fd = dev->fds[i], .events = POLLIN};

	for (;;) {
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			return -errno;
		}
		if ((pfd[0].revents & POLLIN) && handle_signals(d, sfd))
			return 0;
		for (i = first_sock; i < first_dev; i++)
			if (pfd[i].revents & POLLIN)
				satpd_udp_receive(d, i - first_sock);
		for (i = first_dev; i < n; i++)
			if (pfd[i].revents & POLLIN)
				satpd_dev_receive(d, pfd[i].fd);
	}
}

static int setup_remote(struct satpd *d, const struct satpd_conn_config *cc)
{
	struct satpd_conn *conn = &d->conn;
	char a[64];
	int ret;

	if (!cc->remote.host[0]) {
		log_notice(
		    "no remote host (-r): waiting for the peer's first authenticated packet");
		return 0;
	}
	ret = satpd_udp_resolve_remote(&d->udp, d->cfg, &cc->remote, &conn->remote);
	if (ret)
		return ret;
	conn->remote_sock = satpd_udp_sock_for(&d->udp, &conn->remote.sa);
	conn->remote_known = true;
	log_notice("remote %s, mux %u, sender id %u, window %u",
		   satpd_addr_str(&conn->remote.sa, a, sizeof(a)), cc->mux, cc->sender_id,
		   cc->window);
	return 0;
}

static int run(const struct satpd_config *c)
{
	const struct satpd_conn_config *cc = &c->conns[0];
	struct satpd d = {.cfg = c};
	struct satpd_dev dev;
	char state_dir[SATPD_PATH_MAX];
	int sfd = -1, ret;

	d.rx = calloc(SATPD_BATCH, sizeof(*d.rx));
	d.tx = calloc(SATPD_BATCH, sizeof(*d.tx));
	if (!d.rx || !d.tx) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = satpd_dev_open(&dev, c->dev_name, c->dev_type, c->queues);
	if (ret)
		goto out_free;
	d.dev_fd = dev.fds[0];
	d.dev_type = dev.type;
	log_notice("dev of type '%s' opened, actual name is '%s'", satpd_dev_type_name(dev.type),
		   dev.name);
	ret = satpd_dev_configure(&dev, &c->ifconfig);
	if (ret)
		goto out_dev;
	if (c->post_up_script[0]) {
		ret = satpd_dev_run_script(c->post_up_script, dev.name);
		log_notice("post-up script returned %d", ret);
	}
	ret = satpd_udp_open(&d.udp, c);
	if (ret)
		goto out_dev;
	if (c->state_dir[0])
		snprintf(state_dir, sizeof(state_dir), "%s", c->state_dir);
	else
		snprintf(state_dir, sizeof(state_dir), "%s/%s", SATPD_STATE_ROOT, dev.name);
	ret = satpd_conn_init(&d.conn, cc, state_dir);
	if (ret)
		goto out_udp;
	log_notice("role %s, cipher %s, auth %s (tag %u), kd-prf %s", satp_role_name(cc->keys.role),
		   satp_algo_name(cc->keys.algos.cipher_bits),
		   cc->keys.algos.auth == SATP_AUTH_SHA1 ? "sha1" : "null", cc->keys.algos.tag_len,
		   satp_algo_name(cc->keys.algos.kd_bits));
	ret = setup_remote(&d, cc);
	if (ret)
		goto out_conn;
	select_rx_path(c, &d);
	ret = drop_privileges(c);
	if (ret)
		goto out_conn;
	if (c->daemonize && daemon(0, 0) < 0) {
		ret = -errno;
		log_err("cannot daemonize: %s", strerror(errno));
		goto out_conn;
	}
	if (c->pid_file[0] && (ret = write_pid_file(c->pid_file)))
		goto out_conn;
	sfd = open_signals();
	if (sfd < 0) {
		ret = sfd;
		log_err("cannot set up signals: %s", strerror(-ret));
		goto out_conn;
	}
	log_notice("satpd %s running", SATPD_VERSION);
	ret = event_loop(&d, &dev, sfd);
	satpd_counters_dump(&d);
	close(sfd);
out_conn:
	satpd_conn_free(&d.conn);
out_udp:
	satpd_udp_close(&d.udp);
out_dev:
	satpd_dev_close(&dev);
out_free:
	free(d.rx);
	free(d.tx);
	return ret;
}

int main(int argc, char **argv)
{
	static struct satpd_config cfg;
	char err[1024];
	int ret;

	ret = satpd_options_parse(&cfg, argc, argv, err, sizeof(err));
	if (ret == SATPD_OPT_HELP) {
		satpd_options_usage(stdout, "satpd");
		return 0;
	}
	if (ret == SATPD_OPT_VERSION) {
		printf("satpd %s (SATP as anytun 0.3.8 / uanytun 0.3.7)\n", SATPD_VERSION);
		return 0;
	}
	if (!ret)
		ret = satpd_config_finish(&cfg, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "satpd: %s\n", err);
		satpd_config_wipe(&cfg);
		return EXIT_USAGE;
	}
	if (satpd_log_open(cfg.log, cfg.n_log)) {
		satpd_config_wipe(&cfg);
		return EXIT_RUNTIME;
	}
	satpd_log_route_libbpf();
	log_config_warnings(&cfg);
	ret = run(&cfg);
	satpd_config_wipe(&cfg);
	log_notice("satpd exits (%s)", ret ? strerror(-ret) : "clean");
	satpd_log_close();
	return ret ? EXIT_RUNTIME : 0;
}
