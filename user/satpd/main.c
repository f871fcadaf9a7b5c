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
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "conns.h"
#include "control.h"
#include "datapath.h"
#include "dev.h"
#include "handshake.h"
#include "hsbudget.h"
#include "edge.h"
#include "log.h"
#include "satpd_options.h"
#include "sync.h"
#include "underlay.h"
#include "xsk.h"

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
}

/* Tun queues of the socket path: --queues, else one. */
static unsigned int socket_queues(const struct satpd_config *c)
{
	return c->queues == SATPD_QUEUES_UNSET ? 1 : c->queues;
}

/*
 * The one place that picks the data path: with --xdp-mode native or skb,
 * attach satp_rx to the underlay (--xdp-dev, else the interface holding -i,
 * else the one routing to the remote) and open one AF_XDP socket per receive
 * queue; on any failure log why and fall back to the UDP sockets. Returns the
 * number of tun/tap queues the path wants (one per AF_XDP worker; --queues
 * on the socket path), or -errno when --queues cannot be met on the device.
 */
static int select_data_path(struct satpd *d, const struct satpd_peer_addr *remote, bool *xdp,
			    char dev[IFNAMSIZ])
{
	const struct satpd_config *c = d->cfg;
	int n;

	*xdp = false;
	if (c->xdp_mode == SATPD_XDP_OFF) {
		log_notice("data path: UDP sockets (--xdp-mode off)");
		return (int)socket_queues(c);
	}
	if (satpd_underlay_dev(c, remote, dev)) {
		log_warn("--xdp-mode %s: no underlay interface (neither -i on a local interface "
			 "nor a route to -r; give --xdp-dev): falling back to the UDP sockets",
			 satpd_xdp_mode_name(c->xdp_mode));
		return (int)socket_queues(c);
	}
	/* An explicit --queues the device cannot meet is the user's to fix: no fallback. */
	n = satpd_xdp_queues(dev, c->queues, c->xdp_mode == SATPD_XDP_NATIVE);
	if (n > 0)
		*xdp = true;
	return n;
}

static void attach_xdp(struct satpd *d, const char *dev, unsigned int queues)
{
	const struct satpd_config *c = d->cfg;
	int ret;

	ret = satpd_xdp_setup(d, dev, queues);
	if (ret) {
		log_warn("--xdp-mode %s on %s failed (%s): falling back to the UDP sockets",
			 satpd_xdp_mode_name(c->xdp_mode), dev, strerror(-ret));
		return;
	}
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
	/* Before the change of user: dropping from the bounding set takes CAP_SETPCAP. */
	if (satpd_caps_bound())
		return -EPERM;
	/* Keep the permitted set across setuid; satpd_caps_restrict() trims it right after. */
	if (pw && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
		log_err("cannot keep capabilities across the change of user: %s", strerror(errno));
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
	/* As root too (satpd.8): what runs after setup needs no more than the kept set. */
	if (satpd_caps_restrict())
		return -EPERM;
	if (pw)
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
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
	struct pollfd pfd[1 + SATPD_SOCKS_MAX + SATPD_QUEUES_MAX + SATPD_HOOKS_MAX];
	unsigned int i, n = 0, first_sock, first_dev, first_hook;
	/* Ticks: next hops (XDP), key switches and grace periods, freeing retired connections. */
	int timeout = SATPD_TICK_MS;

	pfd[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
	first_sock = n;
	for (i = 0; i < d->udp.n; i++)
		pfd[n++] = (struct pollfd){.fd = d->udp.fds[i], .events = POLLIN};
	first_dev = n;
	/* With AF_XDP workers the device queues are theirs. */
	for (i = 0; !d->xdp && i < dev->n_fds; i++)
		pfd[n++] = (struct pollfd){.fd = dev->fds[i], .events = POLLIN};
	/* The control socket's seam: fds other modules registered with satpd_add_poll_hook(). */
	first_hook = n;
	for (i = 0; i < d->n_hooks; i++)
		pfd[n++] = (struct pollfd){.fd = d->hooks[i].fd, .events = d->hooks[i].events};

	for (;;) {
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			return -errno;
		}
		for (i = first_sock; i < first_dev; i++)
			if (pfd[i].revents & POLLIN)
				satpd_udp_receive(&d->sock_worker, i - first_sock);
		for (i = first_dev; i < first_hook; i++)
			if (pfd[i].revents & POLLIN)
				satpd_dev_receive(&d->sock_worker, pfd[i].fd);
		for (i = first_hook; i < n; i++)
			if (pfd[i].revents)
				d->hooks[i - first_hook].fn(d, pfd[i].fd, pfd[i].revents,
							    d->hooks[i - first_hook].ctx);
		if (satpd_xdp_tick(d) == -ENODEV)
			return 0; /* reported; a clean exit, as when told to stop */
		satpd_conns_tick(d);
		/* Last: a counter dump asked for now includes what this round read. */
		if ((pfd[0].revents & POLLIN) && handle_signals(d, sfd))
			return 0;
	}
}

/* -r/-o: resolve before anything else, so that the underlay device can follow the route. */
static int resolve_remote(struct satpd *d, const struct satpd_conn_config *cc,
			  struct satpd_peer_addr *out)
{
	if (!cc->remote.host[0]) {
		log_notice(
		    "no remote host (-r): waiting for the peer's first authenticated packet");
		return 0;
	}
	return satpd_udp_resolve_remote(&d->udp, d->cfg, &cc->remote, out);
}

/* Connections of the configuration, their routes, the replay windows they share. */
static int setup_conns(struct satpd *d, const char *state_dir)
{
	const struct satpd_config *c = d->cfg;
	const struct satpd_conn_config *cc = &c->conns[0];
	char err[512];
	unsigned int i;
	int ret;

	/* In the state directory, so that a restart accepts no replay (XDP swaps in its map). */
	ret = satpd_windows_open_file(&d->windows, SATPD_WINDOWS_SOCKET_BITS, cc->window,
				      state_dir);
	if (ret)
		return ret;
	d->windows_adopted = atomic_load(&d->windows.n);
	ret = satpd_hs_open(d); /* before the connections: those with --peer-key need it */
	if (ret)
		return ret;
	ret = satpd_conns_init(d, state_dir);
	if (ret)
		return ret;
	for (i = 0; i < c->n_conns; i++) {
		err[0] = '\0';
		ret = satpd_conns_add(d, &c->conns[i], err, sizeof(err));
		if (ret) {
			log_err("connection %u: %s", i, err);
			return ret;
		}
	}
	ret = satpd_conns_add_routes(d, c);
	if (ret)
		return ret;
	if (c->n_conns == 1)
		log_notice("role %s, cipher %s, auth %s (tag %u), kd-prf %s, mux %u, sender id %u, "
			   "window %u",
			   satp_role_name(cc->keys.role), satp_algo_name(cc->keys.algos.cipher_bits),
			   cc->keys.algos.auth == SATP_AUTH_SHA1 ? "sha1" : "null",
			   cc->keys.algos.tag_len, satp_algo_name(cc->keys.algos.kd_bits), cc->mux,
			   cc->sender_id, cc->window);
	else
		log_notice("%u connections", c->n_conns);
	return 0;
}

static int run(const struct satpd_config *c)
{
	const struct satpd_conn_config *cc = &c->conns[0];
	struct satpd d = {.cfg = c};
	struct satpd_peer_addr remote = {0};
	struct satpd_dev dev;
	struct satpd_control ctl = {0};
	struct satpd_sync sync = {0};
	struct satpd_edge edge = {.fd = -1, .tfd = -1};
	char state_dir[SATPD_PATH_MAX], xdp_dev[IFNAMSIZ];
	bool xdp;
	int sfd = -1, ret, queues;

	d.dev_type = c->dev_type;
	/* First: a signal that arrives while setting up waits for the loop instead of killing. */
	sfd = open_signals();
	if (sfd < 0) {
		log_err("cannot set up signals: %s", strerror(-sfd));
		return sfd;
	}
	ret = satpd_udp_open(&d.udp, c);
	if (ret)
		goto out_sig;
	d.hs_budget = satpd_hs_budget_new();
	if (!d.hs_budget) {
		ret = -ENOMEM;
		goto out_udp;
	}
	ret = resolve_remote(&d, cc, &remote);
	if (ret)
		goto out_udp;
	ret = satpd_rail_init(&d);
	if (ret)
		goto out_udp;
	queues = select_data_path(&d, cc->remote.host[0] ? &remote : NULL, &xdp, xdp_dev);
	if (queues < 0) {
		ret = queues;
		goto out_udp;
	}
	ret = satpd_dev_open(&dev, c->dev_name, c->dev_type, (unsigned int)queues);
	if (ret)
		goto out_udp;
	d.dev_type = dev.type;
	snprintf(d.dev_name, sizeof(d.dev_name), "%s", dev.name);
	d.started = time(NULL);
	log_notice("dev of type '%s' opened, actual name is '%s'%s", satpd_dev_type_name(dev.type),
		   dev.name, dev.n_fds > 1 ? " (multi-queue)" : "");
	ret = satpd_dev_configure(&dev, &c->ifconfig);
	if (ret)
		goto out_dev;
	if (c->post_up_script[0]) {
		ret = satpd_dev_run_script(c->post_up_script, dev.name);
		log_notice("post-up script returned %d", ret);
	}
	if (c->state_dir[0])
		snprintf(state_dir, sizeof(state_dir), "%s", c->state_dir);
	else
		snprintf(state_dir, sizeof(state_dir), "%s/%s", SATPD_STATE_ROOT, dev.name);
	d.xdp_queues = xdp ? dev.n_fds : 0;
	ret = setup_conns(&d, state_dir);
	if (ret)
		goto out_conn;
	ret = satpd_worker_init(&d.sock_worker, &d, SATPD_MAIN_WORKER, dev.fds[0]);
	if (ret)
		goto out_conn;
	/* Before anything is mmapped or a thread runs: fork keeps neither intact. */
	if (c->daemonize && daemon(0, 0) < 0) {
		ret = -errno;
		log_err("cannot daemonize: %s", strerror(errno));
		goto out_worker;
	}
	if (c->pid_file[0] && (ret = write_pid_file(c->pid_file)))
		goto out_worker;
	if (xdp)
		attach_xdp(&d, xdp_dev, dev.n_fds);
	/* Before dropping privileges: /run/satpd and the pinned maps are root's. */
	ret = satpd_control_open(&d,
				 &(struct satpd_control_opts){
				     .socket = c->ctl_socket,
				     .group = c->ctl_group,
				     .metrics = c->metrics,
				     .pin_root = c->pin_root,
				     .xdp_ifname = d.xdp ? satpd_xdp_ifname(d.xdp) : NULL,
				 },
				 &ctl);
	if (ret)
		goto out_xdp;
	/* After XDP is set up: connections the sync server sends go into its maps. */
	ret = satpd_sync_open(&d, &sync);
	if (ret)
		goto out_xdp;
	/* After XDP too: the windows it exchanges are then the ones satp_rx reads. */
	ret = satpd_edge_open(&d, &edge);
	if (ret)
		goto out_xdp;
	/* Before any thread starts: capabilities are per thread, a new one inherits its creator's. */
	ret = drop_privileges(c);
	if (ret)
		goto out_xdp;
	ret = satpd_control_start(&ctl);
	if (ret)
		goto out_xdp;
	if (d.xdp) {
		ret = satpd_xdp_start(&d, dev.fds, dev.n_fds);
		if (ret) {
			log_err("cannot start the AF_XDP workers: %s", strerror(-ret));
			goto out_xdp;
		}
		satpd_xdp_tick(&d);
	}
	log_notice("satpd %s running", SATPD_VERSION);
	ret = event_loop(&d, &dev, sfd);
	/* Nothing commits once the workers are gone: the final round carries every window. */
	satpd_xdp_join(&d);
	satpd_edge_final(&edge);
	satpd_counters_dump(&d);
out_xdp:
	satpd_edge_close(&edge);
	satpd_sync_close(&sync);
	satpd_control_close(&ctl);
	satpd_xdp_stop(&d);
	free(d.workers);
out_worker:
	satpd_worker_free(&d.sock_worker);
out_conn:
	satpd_conns_free(&d);
	satpd_hs_close(&d);
	satpd_windows_free(&d.windows);
out_dev:
	satpd_dev_close(&dev);
out_udp:
	satpd_xdp_restore_queues();
	satpd_rail_free(&d.rail);
	satpd_udp_close(&d.udp);
	satpd_hs_budget_free(d.hs_budget);
out_sig:
	close(sfd);
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
