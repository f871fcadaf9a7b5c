/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's control socket: a unix stream socket (default
 * /run/satpd/<dev>.sock, mode 0660, group configurable) that answers one
 * request per connection in the format of user/lib/ctl_proto.h. It parses,
 * checks the peer (SO_PEERCRED: root, the daemon's own uid, or the control
 * group for every op; the read group for op=show only), and dispatches to
 * the daemon through satpd_ctl_ops; the daemon's answer (0 or -errno with a
 * message) goes back to the client verbatim.
 *
 * Wiring: satpd_ctl_open() after the devices are up, poll satpd_ctl_fd() for
 * POLLIN in the event loop and call satpd_ctl_handle(), satpd_ctl_close() at
 * exit (removes the socket file). Handling a request blocks for at most
 * SATPD_CTL_IO_TIMEOUT_MS on a slow client; it never blocks otherwise.
 */
#ifndef SATPD_CTL_H
#define SATPD_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "ctl_proto.h"

/* Where sockets live unless --ctl-socket says otherwise; satp looks here. */
#define SATPD_CTL_DIR "/run/satpd"
/* A client that takes longer than this to send its request or read the reply is cut off. */
#define SATPD_CTL_IO_TIMEOUT_MS 500

/*
 * What the daemon provides. Every callback returns 0 or a negative errno and
 * may write a reason to err; a NULL callback answers -EOPNOTSUPP. Called from
 * satpd_ctl_handle(), i.e. from the daemon's event loop thread.
 */
struct satpd_ctl_ops {
	void *ctx;
	int (*snapshot)(void *ctx, struct satp_ctl_snapshot *snap);
	int (*add_conn)(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen);
	int (*change_conn)(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen);
	int (*del_conn)(void *ctx, uint16_t mux, char *err, size_t errlen);
	/* new keys for sending now; the old ones stay valid for receiving m->grace seconds */
	int (*set_keys)(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen);
	int (*reset_window)(void *ctx, uint16_t mux, uint16_t sender, char *err, size_t errlen);
	/* kx sessions (docs/kx.md): tx/rx keys with a grace period; removal */
	int (*set_session)(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen);
	int (*del_session)(void *ctx, uint16_t mux, char *err, size_t errlen);
	/* optional: one line per refused or failed request (never per packet) */
	void (*log)(void *ctx, const char *msg);
	/* m->routes to/from m->mux (del: any mux without SATP_CTL_F_MUX); all or none */
	int (*add_route)(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen);
	int (*del_route)(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen);
};

struct satpd_ctl_opts {
	const char *path;  /* socket path; its directory is created 0755 if missing */
	const char *group; /* group name allowed every op besides root; NULL or "": root only */
	/*
	 * Group name allowed op=show only (monitoring); NULL or "": none. When
	 * given, the socket file gets this group, so that its members can connect.
	 */
	const char *read_group;
	mode_t mode; /* 0: 0660 */
};

/* What a peer may do: nothing, op=show, every op. */
enum satpd_ctl_access {
	SATPD_CTL_NONE,
	SATPD_CTL_READ,
	SATPD_CTL_FULL,
};

struct satpd_ctl;

/* Returns 0 or -errno with the reason in err. A stale socket file (no listener)
 * is replaced; a live one is -EADDRINUSE (another satpd owns the name). */
int satpd_ctl_open(const struct satpd_ctl_opts *opts, const struct satpd_ctl_ops *ops,
		   struct satpd_ctl **out, char *err, size_t errlen);
int satpd_ctl_fd(const struct satpd_ctl *c);
/* Accept and answer the clients waiting now. */
void satpd_ctl_handle(struct satpd_ctl *c);
void satpd_ctl_close(struct satpd_ctl *c);
/* The socket's path, and what a client on fd may do (credentials in *cr). */
const char *satpd_ctl_path(const struct satpd_ctl *c);
enum satpd_ctl_access satpd_ctl_peer_access(const struct satpd_ctl *c, int fd, struct ucred *cr);
/* Every op: root, our uid, the control group (not the read group). */
bool satpd_ctl_peer_permitted(const struct satpd_ctl *c, int fd, struct ucred *cr);
/* Give path the control socket's mode and group (the kx socket beside it). */
int satpd_ctl_chmod_like(const struct satpd_ctl *c, const char *path);

/* The default path for a daemon named name (its device): SATPD_CTL_DIR/<name>.sock. */
int satpd_ctl_default_path(const char *name, char *buf, size_t len);

#endif /* SATPD_CTL_H */
