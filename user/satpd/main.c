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
#include "clock.h"
#include "compose.h"
#include "conns.h"
#include "control.h"
#include "datapath.h"
#include "dev.h"
#include "handshake.h"
#include "hsbudget.h"
#include "edge.h"
#include "log.h"
#include "rail.h"
#include "satpd_options.h"
#include "sync.h"
#include "underlay.h"
#include "xsk.h"

/* Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad options (nothing touched). */
#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

/* Connections with a tag shorter than SATPD_TAG_WARN_BELOW, each named: its mux, its -b. */
static void log_weak_tags(const struct satpd_config *c)
{
	const struct satp_algos *a;
	unsigned int i;

	for (i = 0; i < c->n_conns; i++) {
		a = &c->conns[i].keys.algos;
		if (c->conns[i].handshake || a->tag_len >= SATPD_TAG_WARN_BELOW)
			continue;
		if (!a->tag_len)
			log_warn("mux %u: no authentication ('-a %s -b %u'): any datagram anyone "
				 "sends is decrypted, delivered and moves the replay window",
				 c->conns[i].mux, satp_auth_name(a->auth), a->tag_len);
		else
			log_warn("mux %u: auth tag of %u bytes (-b %u): a forged datagram passes "
				 "once in 2^%u tries (anytun's default is %u bytes)",
				 c->conns[i].mux, a->tag_len, a->tag_len, 8 * a->tag_len,
				 SATPD_TAG_WARN_BELOW);
	}
}

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
	if (c->warnings & (SATPD_WARN_NO_AUTH | SATPD_WARN_SHORT_TAG))
		log_weak_tags(c);
}

/* Tun queues of the socket path: --queues, else one. */
static unsigned int socket_queues(const struct satpd_config *c)
{
	return c->queues == SATPD_QUEUES_UNSET ? 1 : c->queues;
}

/*
 * XDP cannot be had. The default mode falls back to the UDP sockets and says
 * why: a warning, and the reason that satp show and /metrics report. A mode
 * given with --xdp-mode is one the operator relies on (a fallback changes the
 * data path and where the replay windows live): an error quoting the cause.
 * Returns 0 (fell back) or err.
 */
static int xdp_unavailable(struct satpd_features *f, int err, const char *why)
{
	const struct satpd_config *c = f->d->cfg;

	if (c->xdp_mode_set) {
		log_err("--xdp-mode %s: %s", satpd_xdp_mode_name(c->xdp_mode), why);
		return err;
	}
	snprintf(f->xdp_fallback, sizeof(f->xdp_fallback), "%s", why);
	log_warn("data path: UDP sockets, not XDP: --xdp-mode %s (the default) cannot be had: %s; "
		 "give --xdp-mode skb or off to choose",
		 satpd_xdp_mode_name(c->xdp_mode), why);
	return 0;
}

/*
 * The one place that picks the data path: with --xdp-mode native or skb,
 * attach satp_rx to the underlay (--xdp-dev, else the interface holding -i,
 * else the one routing to the remote) and open one AF_XDP socket per receive
 * queue; on a failure the default falls back to the UDP sockets, an explicit
 * mode is an error (xdp_unavailable). Returns the number of tun/tap queues the
 * path wants (one per AF_XDP worker; --queues on the socket path), or -errno
 * when --queues cannot be met on the device or an explicit mode has no device.
 */
static int select_data_path(struct satpd_features *f, const struct satpd_peer_addr *remote,
			    bool *xdp, char dev[IFNAMSIZ])
{
	const struct satpd_config *c = f->d->cfg;
	int n;

	*xdp = false;
	if (c->xdp_mode == SATPD_XDP_OFF) {
		log_notice("data path: UDP sockets (--xdp-mode off)");
		if (!satpd_underlay_dev(c, remote, dev))
			satpd_xdp_remove_stale(dev);
		return (int)socket_queues(c);
	}
	if (satpd_underlay_dev(c, remote, dev)) {
		n = xdp_unavailable(f, -ENODEV,
				    "no underlay interface (neither -i on a local interface nor a "
				    "route to -r; give --xdp-dev)");
		return n ? n : (int)socket_queues(c);
	}
	/* An explicit --queues the device cannot meet is the user's to fix: no fallback. */
	n = satpd_xdp_queues(dev, c->queues, c->xdp_mode == SATPD_XDP_NATIVE);
	if (n > 0)
		*xdp = true;
	return n;
}

static int attach_xdp(struct satpd_features *f, const char *dev, unsigned int queues)
{
	const struct satpd_config *c = f->d->cfg;
	char why[SATPD_XDP_REASON_MAX];
	int ret;

	ret = satpd_xdp_setup(f->d, dev, queues, &f->xdp);
	if (!ret)
		return 0;
	satpd_xdp_remove_stale(dev); /* unless the failed attach took it over already */
	snprintf(why, sizeof(why), "satp_rx on %s in %s mode: %s%s", dev,
		 satpd_xdp_mode_name(c->xdp_mode), strerror(-ret),
		 ret == -EOPNOTSUPP && c->xdp_mode == SATPD_XDP_NATIVE
		     ? " (its driver has no native XDP; skb is generic XDP)"
		     : "");
	return xdp_unavailable(f, ret, why);
}

/*
 * The socket path starts from the state file merged with what an XDP run left
 * pinned for the underlay (it may have been killed before its last
 * write-back). Then say when the file may lag what was committed: not closed
 * cleanly, and no pins to make up for it (docs/windows.md).
 */
static void settle_windows(struct satpd_features *f, const struct satpd_peer_addr *remote,
			   const char *xdp_dev)
{
	struct satpd *d = f->d;
	const struct satpd_windows *file = d->windows.record ? d->windows.record : &d->windows;
	char dev[IFNAMSIZ] = "";

	if (!f->xdp) {
		if (xdp_dev)
			snprintf(dev, sizeof(dev), "%s", xdp_dev);
		else if (satpd_underlay_dev(d->cfg, remote, dev))
			dev[0] = '\0';
		if (dev[0])
			d->windows_pinned += satpd_xdp_merge_pinned(d, dev);
		d->windows_adopted = atomic_load(&d->windows.n);
	}
	if (file->unclean && !d->windows_pinned)
		log_warn(
		    "the replay window file (%s) was not closed cleanly and nothing was "
		    "pinned: after a kill it is complete, after a power cut or a reboot it may "
		    "lack the last seconds of commits (docs/windows.md)",
		    SATPD_WINDOWS_FILE);
}

/* state_dir, created: satpd's state directory and whether this start made it. */
static int drop_privileges(const struct satpd_config *c, const char *state_dir, bool created)
{
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	int ret;

	/* Look names up before chroot: /etc is not there afterwards. */
	if (c->username[0] && !(pw = getpwnam(c->username))) {
		log_err("unknown user '%s'", c->username);
		return -EINVAL;
	}
	if (c->groupname[0] && !(gr = getgrnam(c->groupname))) {
		log_err("unknown group '%s'", c->groupname);
		return -EINVAL;
	}
	/* Reservations are renewed, and connections added, as the user from now on. */
	if (pw && pw->pw_uid) {
		ret = satpd_state_dir_give(state_dir, created, pw->pw_uid,
					   gr ? gr->gr_gid : pw->pw_gid);
		if (ret)
			return ret;
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

/* How often the state file's window pages are sent to disk (docs/windows.md, power cut). */
#define SATPD_WINDOWS_FLUSH_MS 1000

static void flush_windows(const struct satpd *d, int64_t *last_ms)
{
	int64_t now_ms = satpd_mono_ms();

	if (now_ms - *last_ms < SATPD_WINDOWS_FLUSH_MS)
		return;
	*last_ms = now_ms;
	satpd_windows_start_flush(&d->windows);
}

static int event_loop(struct satpd_features *f, const struct satpd_dev *dev, int sfd)
{
	struct satpd *d = f->d;
	struct pollfd pfd[1 + SATPD_SOCKS_MAX + SATPD_QUEUES_MAX + SATPD_HOOKS_MAX];
	unsigned int i, n = 0, first_sock, first_dev, first_hook;
	/* Ticks: next hops (XDP), key switches and grace periods, freeing retired connections. */
	int timeout = SATPD_TICK_MS;
	int64_t flushed_ms = satpd_mono_ms();

	pfd[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
	first_sock = n;
	for (i = 0; i < d->udp.n; i++)
		pfd[n++] = (struct pollfd){.fd = d->udp.fds[i], .events = POLLIN};
	first_dev = n;
	/* With AF_XDP workers the device queues are theirs. */
	for (i = 0; !f->xdp && i < dev->n_fds; i++)
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
				d->hooks[i - first_hook].fn(d->hooks[i - first_hook].ctx, pfd[i].fd,
							    pfd[i].revents);
		if (satpd_xdp_tick(f->xdp) == -ENODEV)
			return 0; /* reported; a clean exit, as when told to stop */
		satpd_conns_tick(d);
		flush_windows(d, &flushed_ms);
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
static int setup_conns(struct satpd_features *f, const char *state_dir)
{
	struct satpd *d = f->d;
	const struct satpd_config *c = d->cfg;
	const struct satpd_conn_config *cc = &c->conns[0];
	char err[512];
	unsigned int i;
	int ret;

	/* In the state directory, so that a restart accepts no replay (XDP swaps in its map). */
	ret =
	    satpd_windows_open_file(&d->windows, SATPD_WINDOWS_SOCKET_BITS, cc->window, state_dir);
	if (ret)
		return ret;
	d->windows_adopted = atomic_load(&d->windows.n);
	ret = satpd_hs_open(d, &f->hs); /* before the connections: those with --peer-key need it */
	if (ret)
		return ret;
	ret = satpd_conns_init(d, state_dir);
	if (ret)
		return ret;
	ret = satpd_compose_counters(d);
	if (ret)
		return ret;
	ret = satpd_compose_conns(f);
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
		log_notice(
		    "role %s, cipher %s, auth %s (tag %u), kd-prf %s, mux %u, sender id %u, "
		    "window %u",
		    satp_role_name(cc->keys.role), satp_algo_name(cc->keys.algos.cipher_bits),
		    cc->keys.algos.auth == SATP_AUTH_SHA1 ? "sha1" : "null", cc->keys.algos.tag_len,
		    satp_algo_name(cc->keys.algos.kd_bits), cc->mux, cc->sender_id, cc->window);
	else
		log_notice("%u connections", c->n_conns);
	return 0;
}

static int run(const struct satpd_config *c)
{
	const struct satpd_conn_config *cc = &c->conns[0];
	struct satpd d = {.cfg = c};
	struct satpd_features f = {.d = &d};
	struct satpd_peer_addr remote = {0};
	struct satpd_dev dev;
	struct satpd_control ctl = {0};
	struct satpd_sync sync = {0};
	struct satpd_edge edge = {.fd = -1, .tfd = -1};
	char state_dir[SATPD_PATH_MAX], xdp_dev[IFNAMSIZ];
	bool xdp;
	int sfd = -1, lock_fd, ret, queues;
	bool state_created;

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
	f.hs_budget = satpd_hs_budget_new();
	if (!f.hs_budget) {
		ret = -ENOMEM;
		goto out_udp;
	}
	ret = resolve_remote(&d, cc, &remote);
	if (ret)
		goto out_udp;
	ret = satpd_rail_init(&d, &f.rail);
	if (ret)
		goto out_udp;
	queues = select_data_path(&f, cc->remote.host[0] ? &remote : NULL, &xdp, xdp_dev);
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
	/* Before any state file is read: a second daemon here would reuse sequence numbers. */
	lock_fd = satpd_state_lock(state_dir, &state_created);
	if (lock_fd < 0) {
		ret = lock_fd;
		goto out_dev;
	}
	d.n_crypto_workers = xdp ? dev.n_fds : 0;
	ret = setup_conns(&f, state_dir);
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
	if (xdp && (ret = attach_xdp(&f, xdp_dev, dev.n_fds)))
		goto out_xdp;
	settle_windows(&f, cc->remote.host[0] ? &remote : NULL, xdp ? xdp_dev : NULL);
	/* Before dropping privileges: /run/satpd and the pinned maps are root's. */
	ret = satpd_control_open(&f,
				 &(struct satpd_control_opts){
				     .socket = c->ctl_socket,
				     .group = c->ctl_group,
				     .read_group = c->ctl_read_group,
				     .metrics = c->metrics,
				     .pin_root = c->pin_root,
				     .xdp_ifname = f.xdp ? satpd_xdp_ifname(f.xdp) : NULL,
				 },
				 &ctl);
	if (ret)
		goto out_xdp;
	f.kx = ctl.kx;
	/* After the kx socket opened: it decides whether the handshake space is the main thread's. */
	ret = satpd_compose_paths(&f);
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
	f.edge = edge.fd >= 0 ? &edge : NULL; /* -1: no --peer-edge (edge.h) */
	/* Before any thread starts: capabilities are per thread, a new one inherits its creator's. */
	ret = drop_privileges(c, state_dir, state_created);
	if (ret)
		goto out_xdp;
	ret = satpd_control_start(&ctl);
	if (ret)
		goto out_xdp;
	if (f.xdp) {
		ret = satpd_xdp_start(f.xdp, dev.fds, dev.n_fds);
		if (ret) {
			log_err("cannot start the AF_XDP workers: %s", strerror(-ret));
			goto out_xdp;
		}
		satpd_xdp_tick(f.xdp);
	}
	log_notice("satpd %s running", SATPD_VERSION);
	ret = event_loop(&f, &dev, sfd);
	/* Nothing commits once the workers are gone: the final round carries every window. */
	satpd_xdp_join(&d);
	satpd_edge_final(&edge);
	satpd_counters_dump(&d);
out_xdp:
	f.edge = NULL;
	satpd_edge_close(&edge);
	satpd_sync_close(&sync);
	f.kx = NULL;
	satpd_control_close(&ctl);
	satpd_xdp_stop(&d, f.xdp);
	f.xdp = NULL;
	free(d.workers);
out_worker:
	satpd_worker_free(&d.sock_worker);
out_conn:
	satpd_conns_free(&d);
	satpd_hs_close(f.hs);
	f.hs = NULL;
	/* Nothing commits any more, and satpd_xdp_stop wrote the map's windows back. */
	satpd_windows_close_clean(&d.windows);
	satpd_windows_free(&d.windows);
	close(lock_fd); /* after the last state write */
out_dev:
	satpd_dev_close(&dev);
out_udp:
	satpd_xdp_restore_queues();
	satpd_rail_free(f.rail);
	satpd_udp_close(&d.udp);
	satpd_hs_budget_free(f.hs_budget);
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
