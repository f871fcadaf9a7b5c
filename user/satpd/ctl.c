// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket server (ctl.h). One request per connection, answered
 * inline: control traffic is rare and tiny, and the data path does not run
 * on this thread once AF_XDP workers exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ctl.h"

/* SO_PEERGROUPS answers with at most this many supplementary groups looked at. */
#define PEER_GROUPS_MAX 64
/* Clients answered per satpd_ctl_handle(): a burst must not starve the data path. */
#define ACCEPT_BATCH 8

struct satpd_ctl {
	int fd;
	gid_t gid; /* --ctl-group: every op */
	bool have_gid;
	gid_t read_gid; /* --ctl-read-group: op=show only */
	bool have_read_gid;
	mode_t mode;
	struct satpd_ctl_ops ops;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct satp_ctl_snapshot *snap; /* its connections are freed after each reply */
	char *reply; /* grown to the largest reply sent, SATP_CTL_REPLY_MAX at most */
	size_t reply_cap;
};

int satpd_ctl_default_path(const char *name, char *buf, size_t len)
{
	if (snprintf(buf, len, "%s/%s.sock", SATPD_CTL_DIR, name) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static void say(char *err, size_t errlen, const char *fmt, const char *a, int e)
{
	snprintf(err, errlen, fmt, a, strerror(e));
}

static int ensure_parent_dir(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) && errno != EEXIST) {
		say(err, errlen, "cannot create control socket directory '%s': %s", dir, errno);
		return -errno;
	}
	return 0;
}

/* A socket file nobody listens on is left over from a crash: take its place. */
static int clear_stale(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	if (!connect(fd, (const struct sockaddr *)sa, sizeof(*sa))) {
		say(err, errlen, "control socket '%s' is in use (another satpd?): %s", sa->sun_path,
		    EADDRINUSE);
		ret = -EADDRINUSE;
	} else if (errno == ECONNREFUSED) {
		unlink(sa->sun_path);
	}
	close(fd);
	return ret;
}

static int resolve_group(const char *group, gid_t *gid, bool *have, char *err, size_t errlen)
{
	struct group *g;

	if (!group || !group[0])
		return 0;
	errno = 0;
	g = getgrnam(group);
	if (!g) {
		snprintf(err, errlen, "control socket group '%s': no such group", group);
		return errno ? -errno : -ENOENT;
	}
	*gid = g->gr_gid;
	*have = true;
	return 0;
}

/*
 * The socket file's group: the read group's members must be able to connect
 * (a --ctl-group member then needs to be in it too, or root); SO_PEERCRED
 * decides what each may do.
 */
static int chown_socket(const struct satpd_ctl *c, const char *path)
{
	if (c->have_read_gid)
		return chown(path, (uid_t)-1, c->read_gid);
	if (c->have_gid)
		return chown(path, (uid_t)-1, c->gid);
	return 0;
}

static int bind_listen(struct satpd_ctl *c, const struct satpd_ctl_opts *o, char *err,
		       size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t mode = o->mode ? o->mode : 0660;
	int ret;

	c->mode = mode;
	if (!o->path || !o->path[0] || strlen(o->path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path '%s': empty or longer than %zu bytes",
			 o->path ? o->path : "", sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, o->path, strlen(o->path) + 1);
	ret = ensure_parent_dir(o->path, err, errlen);
	if (!ret)
		ret = clear_stale(&sa, err, errlen);
	if (ret)
		return ret;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		say(err, errlen, "cannot bind control socket '%s': %s", o->path, errno);
		return -errno;
	}
	snprintf(c->path, sizeof(c->path), "%s", o->path);
	/* the file's mode and group are the first gate; SO_PEERCRED the second */
	if (chmod(o->path, mode) || chown_socket(c, o->path)) {
		say(err, errlen, "cannot set mode/group of control socket '%s': %s", o->path,
		    errno);
		return -errno;
	}
	if (listen(c->fd, 16)) {
		say(err, errlen, "cannot listen on control socket '%s': %s", o->path, errno);
		return -errno;
	}
	return 0;
}

int satpd_ctl_open(const struct satpd_ctl_opts *opts, const struct satpd_ctl_ops *ops,
		   struct satpd_ctl **out, char *err, size_t errlen)
{
	struct satpd_ctl *c = calloc(1, sizeof(*c));
	int ret = -ENOMEM;

	if (!c)
		return -ENOMEM;
	c->fd = -1;
	c->ops = *ops;
	c->snap = calloc(1, sizeof(*c->snap));
	if (!c->snap) {
		snprintf(err, errlen, "control socket: out of memory");
		goto fail;
	}
	ret = resolve_group(opts->group, &c->gid, &c->have_gid, err, errlen);
	if (!ret)
		ret = resolve_group(opts->read_group, &c->read_gid, &c->have_read_gid, err, errlen);
	if (!ret)
		ret = bind_listen(c, opts, err, errlen);
	if (ret)
		goto fail;
	*out = c;
	return 0;
fail:
	satpd_ctl_close(c);
	return ret;
}

int satpd_ctl_fd(const struct satpd_ctl *c)
{
	return c->fd;
}

void satpd_ctl_close(struct satpd_ctl *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	if (c->path[0])
		unlink(c->path);
	if (c->snap)
		satp_ctl_snapshot_reset(c->snap);
	free(c->snap);
	free(c->reply);
	free(c);
}

const char *satpd_ctl_path(const struct satpd_ctl *c)
{
	return c->path;
}

int satpd_ctl_chmod_like(const struct satpd_ctl *c, const char *path)
{
	/* the kx socket changes keys: the control group's, never the read group's */
	if (chmod(path, c->mode) || (c->have_gid && chown(path, (uid_t)-1, c->gid)))
		return -errno;
	return 0;
}

/* Is gid the peer's primary group or one of its supplementary groups? */
static bool peer_in_group(int fd, const struct ucred *cr, gid_t gid)
{
	gid_t groups[PEER_GROUPS_MAX];
	socklen_t len = sizeof(groups);
	size_t i, n;

	if (cr->gid == gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
		return false;
	n = len / sizeof(groups[0]);
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

enum satpd_ctl_access satpd_ctl_peer_access(const struct satpd_ctl *c, int fd, struct ucred *cr)
{
	socklen_t len = sizeof(*cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &len))
		return SATPD_CTL_NONE;
	if (cr->uid == 0 || cr->uid == geteuid())
		return SATPD_CTL_FULL;
	if (c->have_gid && peer_in_group(fd, cr, c->gid))
		return SATPD_CTL_FULL;
	if (c->have_read_gid && peer_in_group(fd, cr, c->read_gid))
		return SATPD_CTL_READ;
	return SATPD_CTL_NONE;
}

bool satpd_ctl_peer_permitted(const struct satpd_ctl *c, int fd, struct ucred *cr)
{
	return satpd_ctl_peer_access(c, fd, cr) == SATPD_CTL_FULL;
}

/* Read until the empty line ending a request, EOF, or the deadline. */
static ssize_t read_request(int fd, char *buf, size_t cap)
{
	int64_t start_ms = satpd_mono_ms();
	size_t got = 0;
	ssize_t n;

	while (got < cap) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = SATPD_CTL_IO_TIMEOUT_MS - satpd_mono_ms_since(start_ms);

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -ETIMEDOUT;
		n = recv(fd, buf + got, cap - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
		if ((got == 1 && buf[0] == '\n') ||
		    (got >= 2 && buf[got - 1] == '\n' && buf[got - 2] == '\n'))
			break;
	}
	return (ssize_t)got;
}

static void write_all(int fd, const char *buf, size_t len)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			if (poll(&p, 1, SATPD_CTL_IO_TIMEOUT_MS) <= 0)
				return;
			continue;
		}
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static int dispatch(struct satpd_ctl *c, const struct satp_ctl_msg *m, char *err, size_t errlen)
{
	const struct satpd_ctl_ops *o = &c->ops;

	switch (m->op) {
	case SATP_CTL_OP_SHOW:
		if (!o->snapshot)
			break;
		satp_ctl_snapshot_reset(c->snap);
		return o->snapshot(o->ctx, c->snap);
	case SATP_CTL_OP_ADD_CONN:
		if (o->add_conn)
			return o->add_conn(o->ctx, m, err, errlen);
		break;
	case SATP_CTL_OP_CHANGE_CONN:
		if (o->change_conn)
			return o->change_conn(o->ctx, m, err, errlen);
		break;
	case SATP_CTL_OP_DEL_CONN:
		if (o->del_conn)
			return o->del_conn(o->ctx, m->mux, err, errlen);
		break;
	case SATP_CTL_OP_SET_KEYS:
		if (o->set_keys)
			return o->set_keys(o->ctx, m, err, errlen);
		break;
	case SATP_CTL_OP_RESET_WINDOW:
		if (o->reset_window)
			return o->reset_window(o->ctx, m->mux, m->sender, err, errlen);
		break;
	case SATP_CTL_OP_SET_SESSION:
		if (o->set_session)
			return o->set_session(o->ctx, m, err, errlen);
		break;
	case SATP_CTL_OP_DEL_SESSION:
		if (o->del_session)
			return o->del_session(o->ctx, m->mux, err, errlen);
		break;
	case SATP_CTL_OP_ADD_ROUTE:
		if (o->add_route)
			return o->add_route(o->ctx, m, err, errlen);
		break;
	case SATP_CTL_OP_DEL_ROUTE:
		if (o->del_route)
			return o->del_route(o->ctx, m, err, errlen);
		break;
	default:
		break;
	}
	snprintf(err, errlen, "op=%s is not supported by this satpd", satp_ctl_op_name(m->op));
	return -EOPNOTSUPP;
}

static void note(struct satpd_ctl *c, const struct ucred *cr, const char *what, const char *why)
{
	char line[SATP_CTL_LINE_MAX + 128];

	if (!c->ops.log)
		return;
	snprintf(line, sizeof(line), "control: %s from pid %d uid %u: %s", what, (int)cr->pid,
		 (unsigned int)cr->uid, why);
	c->ops.log(c->ops.ctx, line);
}

static void serve(struct satpd_ctl *c, int fd)
{
	static char req[SATP_CTL_REQ_MAX + 1];
	struct satp_ctl_msg m;
	struct ucred cr = {0};
	enum satpd_ctl_access access;
	char err[512] = "";
	bool show;
	ssize_t n;
	int ret, len;

	/* read the request even when refusing, so the client sees the reply, not EPIPE */
	n = read_request(fd, req, SATP_CTL_REQ_MAX + 1);
	access = satpd_ctl_peer_access(c, fd, &cr);
	if (access == SATPD_CTL_NONE) {
		if (n > 0)
			explicit_bzero(req, (size_t)n);
		ret = -EPERM;
		snprintf(err, sizeof(err),
			 "uid %u is not permitted (root or the control groups only)",
			 (unsigned int)cr.uid);
		note(c, &cr, "refused", err);
		goto reply;
	}
	if (n < 0) {
		note(c, &cr, "dropped", strerror((int)-n));
		return;
	}
	ret = satp_ctl_parse(req, (size_t)n, &m, err, sizeof(err));
	explicit_bzero(req, (size_t)n);
	if (ret) {
		note(c, &cr, "bad request", err);
		goto reply;
	}
	if (access == SATPD_CTL_READ && m.op != SATP_CTL_OP_SHOW) {
		ret = -EPERM;
		snprintf(err, sizeof(err),
			 "uid %u may only read (op=show, the read group): op=%s needs root or the "
			 "control group",
			 (unsigned int)cr.uid, satp_ctl_op_name(m.op));
		note(c, &cr, "refused", err);
		satp_ctl_msg_wipe(&m);
		goto reply;
	}
	ret = dispatch(c, &m, err, sizeof(err));
	if (ret && !err[0])
		snprintf(err, sizeof(err), "%s", strerror(-ret));
	if (ret || m.op != SATP_CTL_OP_SHOW)
		note(c, &cr, satp_ctl_op_name(m.op), ret ? err : "done");
	show = m.op == SATP_CTL_OP_SHOW;
	satp_ctl_msg_wipe(&m);
	if (!ret && show) {
		len = satp_ctl_format_reply_alloc(0, NULL, c->snap, &c->reply, &c->reply_cap);
		satp_ctl_snapshot_reset(c->snap);
		if (len > 0)
			goto send;
		ret = len;
		snprintf(err, sizeof(err), "the snapshot does not fit a reply: %s", strerror(-len));
	}
reply:
	len = satp_ctl_format_reply_alloc(ret, err, NULL, &c->reply, &c->reply_cap);
send:
	if (len > 0)
		write_all(fd, c->reply, (size_t)len);
}

void satpd_ctl_handle(struct satpd_ctl *c)
{
	int i, fd;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN: none left; anything else: the next poll retries */
		serve(c, fd);
		close(fd);
	}
}
