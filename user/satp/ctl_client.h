/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * satp's side of the control socket (user/lib/ctl_proto.h): find the daemons
 * under the run directory, send one request, read the reply. Shared by the
 * subcommands that talk to satpd.
 */
#ifndef SATP_CTL_CLIENT_H
#define SATP_CTL_CLIENT_H

#include <stddef.h>
#include <stdio.h>

#include "ctl_proto.h"

/* satpd's default (user/satpd/ctl.h); SATP_RUN_DIR in the environment overrides it. */
#define SATP_RUN_DIR_DEFAULT "/run/satpd"
/* How long satp waits for satpd before saying it does not answer. */
#define SATP_CTL_CLIENT_TIMEOUT_MS 3000
#define SATP_CTL_MAX_DAEMONS	   64

const char *satp_run_dir(const char *opt);

/* Sockets (*.sock) under dir, sorted; returns how many or a negative errno. */
int satp_ctl_list(const char *dir, char paths[][256], unsigned int max);

/*
 * Send m to the socket at path and parse the reply. Returns 0 when the daemon
 * answered (its errno in *remote_err, its message in msg, the snapshot in snap
 * for show), or a negative errno when it could not be reached (message in msg).
 */
int satp_ctl_call(const char *path, const struct satp_ctl_msg *m, int *remote_err, char *msg,
		  size_t msglen, struct satp_ctl_snapshot *snap);

/*
 * The socket to send a change to: --socket PATH, else <run-dir>/<dev>.sock for
 * --dev, else the only socket in the run directory. Returns 0 or -errno with
 * the reason in err.
 */
int satp_ctl_pick(const char *socket_opt, const char *dev_opt, const char *run_dir, char *out,
		  size_t outlen, char *err, size_t errlen);

/* Run one change request and report like the other subcommands: exit status. */
int satp_ctl_run_change(const char *prog, const char *socket_opt, const char *dev_opt,
			const char *run_dir, struct satp_ctl_msg *m);

/*
 * The command line of a change subcommand, wg-style: positional values named
 * by pos_keys (e.g. {"mux", NULL}), then `word value` pairs whose words are
 * the protocol's keys (satp.8), plus `key-file PATH` ("-": stdin) so a key
 * need not appear in ps, plus --dev NAME, --socket PATH, --run-dir DIR.
 * Built into the protocol's text and checked by satp_ctl_parse, so a bad
 * value gets the daemon's own error message before anything is sent.
 */
int satp_ctl_cli(const char *prog, const char *op, const char *const *pos_keys, int argc,
		 char **argv, void (*usage)(FILE *f));

/* An action word of a subcommand (`satp conn add`) and the request it sends. */
struct satp_ctl_verb {
	const char *word, *op;
};

/*
 * `satp CMD ACTION ...`: argv[1] picks one of the n verbs (choices names them
 * in the error), the rest is satp_ctl_cli's; no action or --help: usage.
 */
int satp_ctl_cli_verbs(const char *prog, const struct satp_ctl_verb *verbs, size_t n,
		       const char *choices, const char *const *pos_keys, int argc, char **argv,
		       void (*usage)(FILE *f));

#endif /* SATP_CTL_CLIENT_H */
