// SPDX-License-Identifier: GPL-2.0-only
/*
 * The client end of the control socket (ctl_client.h).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_client.h"
#include "satp_cmd.h"
#include "satp_kx.h"

const char *satp_run_dir(const char *opt)
{
	const char *env = getenv("SATP_RUN_DIR");

	if (opt && opt[0])
		return opt;
	return env && env[0] ? env : SATP_RUN_DIR_DEFAULT;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool ends_with(const char *name, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len > n && !strcmp(name + len - n, suffix);
}

int satp_ctl_list(const char *dir, char paths[][256], unsigned int max)
{
	struct dirent *de;
	unsigned int n = 0;
	size_t len;
	DIR *d = opendir(dir);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) && n < max) {
		len = strlen(de->d_name);
		/* a daemon's kx socket lies beside its control socket and is no second daemon */
		if (!ends_with(de->d_name, len, ".sock") ||
		    ends_with(de->d_name, len, SATP_KX_SOCK_SUFFIX))
			continue;
		if (snprintf(paths[n], 256, "%s/%s", dir, de->d_name) >= 256)
			continue;
		n++;
	}
	closedir(d);
	qsort(paths, n, 256, cmp_path);
	return (int)n;
}

static int connect_to(const char *path, char *msg, size_t msglen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(msg, msglen, "control socket path '%s' too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		snprintf(msg, msglen, "cannot connect to %s: %s%s", path, strerror(e),
			 e == EACCES ? " (root or satpd's control group only)" : "");
		close(fd);
		return -e;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read to EOF (the daemon closes after its reply) within the timeout, into
 * *buf grown by doubling up to SATP_CTL_REPLY_MAX (a show of thousands of
 * connections is megabytes). A reply that reaches the limit is cut there and
 * fails to parse.
 */
static ssize_t read_reply(int fd, char **buf, size_t *cap)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t got = 0;
	ssize_t n;
	char *b;

	for (;;) {
		int r;

		if (got == *cap) {
			if (*cap >= SATP_CTL_REPLY_MAX)
				break;
			b = realloc(*buf, *cap ? 2 * *cap : SATP_CTL_REPLY_INIT);
			if (!b)
				return -ENOMEM;
			*buf = b;
			*cap = *cap ? 2 * *cap : SATP_CTL_REPLY_INIT;
		}
		r = poll(&p, 1, SATP_CTL_CLIENT_TIMEOUT_MS);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		n = recv(fd, *buf + got, *cap - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int satp_ctl_call(const char *path, const struct satp_ctl_msg *m, int *remote_err, char *msg,
		  size_t msglen, struct satp_ctl_snapshot *snap)
{
	char req[SATP_CTL_REQ_MAX];
	char *reply = NULL;
	size_t cap = 0;
	ssize_t n;
	int fd = -1, len, ret;

	len = satp_ctl_format(m, req, sizeof(req));
	if (len < 0) {
		snprintf(msg, msglen, "cannot encode the request: %s", strerror(-len));
		ret = len;
		goto out;
	}
	fd = connect_to(path, msg, msglen);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	ret = send_all(fd, req, (size_t)len);
	explicit_bzero(req, sizeof(req));
	/* a daemon that refuses may answer and close before reading it all: read anyway */
	n = read_reply(fd, &reply, &cap);
	if (n <= 0) {
		if (ret)
			snprintf(msg, msglen, "cannot send to %s: %s", path, strerror(-ret));
		else
			snprintf(msg, msglen, "no reply from %s: %s", path,
				 n < 0 ? strerror((int)-n) : "connection closed");
		ret = ret ? ret : n < 0 ? (int)n : -ECONNRESET;
		goto out;
	}
	ret = satp_ctl_parse_reply(reply, (size_t)n, remote_err, msg, msglen, snap);
out:
	if (fd >= 0)
		close(fd);
	free(reply);
	return ret;
}

int satp_ctl_pick(const char *socket_opt, const char *dev_opt, const char *run_dir, char *out,
		  size_t outlen, char *err, size_t errlen)
{
	static char paths[SATP_CTL_MAX_DAEMONS][256];
	int n;

	if (socket_opt) {
		snprintf(out, outlen, "%s", socket_opt);
		return 0;
	}
	if (dev_opt) {
		if (snprintf(out, outlen, "%s/%s.sock", run_dir, dev_opt) >= (int)outlen)
			return -ENAMETOOLONG;
		return 0;
	}
	n = satp_ctl_list(run_dir, paths, SATP_CTL_MAX_DAEMONS);
	if (n == 1) {
		snprintf(out, outlen, "%s", paths[0]);
		return 0;
	}
	if (n < 0)
		snprintf(err, errlen, "cannot read %s: %s", run_dir, strerror(-n));
	else if (n == 0)
		snprintf(err, errlen, "satpd is not running (no control socket under %s)", run_dir);
	else
		snprintf(err, errlen,
			 "%d daemons run (sockets under %s): say which with --dev or "
			 "--socket",
			 n, run_dir);
	return n < 0 ? n : n == 0 ? -ENOENT : -EINVAL;
}

int satp_ctl_run_change(const char *prog, const char *socket_opt, const char *dev_opt,
			const char *run_dir, struct satp_ctl_msg *m)
{
	char path[256], msg[512];
	int rerr = 0, ret;

	ret = satp_ctl_pick(socket_opt, dev_opt, run_dir, path, sizeof(path), msg, sizeof(msg));
	if (!ret)
		ret = satp_ctl_call(path, m, &rerr, msg, sizeof(msg), NULL);
	satp_ctl_msg_wipe(m);
	if (ret) {
		fprintf(stderr, "%s: %s\n", prog, msg);
		return SATP_EXIT_FAIL;
	}
	if (rerr) {
		fprintf(stderr, "%s: satpd refused: %s\n", prog, msg[0] ? msg : strerror(rerr));
		return SATP_EXIT_FAIL;
	}
	return SATP_EXIT_OK;
}

/* key-file: the first line of PATH or stdin, without its newline. */
static int read_key_file(const char *path, char *out, size_t len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	size_t n;

	if (!f)
		return -errno;
	if (!fgets(out, (int)len, f))
		out[0] = '\0';
	if (f != stdin)
		fclose(f);
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	return n ? 0 : -EINVAL;
}

struct cli_target {
	const char *socket, *dev, *run_dir;
};

static int append(char *buf, size_t len, size_t *pos, const char *k, const char *v)
{
	int n;

	if (strchr(v, '\n')) {
		fprintf(stderr, "%s value contains a newline\n", k);
		return -EINVAL;
	}
	n = snprintf(buf + *pos, len - *pos, "%s=%s\n", k, v);
	if (n < 0 || (size_t)n >= len - *pos)
		return -ENOSPC;
	*pos += (size_t)n;
	return 0;
}

/* One `word value` pair or a --option; returns how many arguments it used, or -1. */
static int cli_word(const char *prog, char **argv, int left, struct cli_target *t, char *text,
		    size_t len, size_t *pos)
{
	static char key[SATP_CTL_LINE_MAX];
	const char *w = argv[0];
	int ret;

	if (left < 2) {
		fprintf(stderr, "%s: '%s' needs a value\n", prog, w);
		return -1;
	}
	if (!strcmp(w, "--dev"))
		t->dev = argv[1];
	else if (!strcmp(w, "--socket"))
		t->socket = argv[1];
	else if (!strcmp(w, "--run-dir"))
		t->run_dir = argv[1];
	else if (!strcmp(w, "key-file")) {
		ret = read_key_file(argv[1], key, sizeof(key));
		if (ret) {
			fprintf(stderr, "%s: cannot read a key from '%s': %s\n", prog, argv[1],
				ret == -EINVAL ? "empty" : strerror(-ret));
			return -1;
		}
		ret = append(text, len, pos, "key", key);
		explicit_bzero(key, sizeof(key));
		if (ret)
			return -1;
	} else if (w[0] == '-' || append(text, len, pos, w, argv[1])) {
		fprintf(stderr, "%s: unknown option '%s'\n", prog, w);
		return -1;
	}
	return 2;
}

int satp_ctl_cli(const char *prog, const char *op, const char *const *pos_keys, int argc,
		 char **argv, void (*usage)(FILE *f))
{
	static char text[SATP_CTL_REQ_MAX];
	struct satp_ctl_msg m;
	struct cli_target t = {0};
	char err[512];
	size_t pos = 0;
	int i = 1, k, used, ret = SATP_EXIT_USAGE;

	for (k = 1; k < argc; k++)
		if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
			usage(stdout);
			return SATP_EXIT_OK;
		}
	append(text, sizeof(text), &pos, "op", op);
	for (k = 0; pos_keys[k]; k++, i++) {
		if (i >= argc || argv[i][0] == '-') {
			fprintf(stderr, "%s: missing %s\n", prog, pos_keys[k]);
			usage(stderr);
			goto out;
		}
		if (append(text, sizeof(text), &pos, pos_keys[k], argv[i]))
			goto out;
	}
	while (i < argc) {
		used = cli_word(prog, argv + i, argc - i, &t, text, sizeof(text), &pos);
		if (used < 0)
			goto out;
		i += used;
	}
	if (satp_ctl_parse(text, pos, &m, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", prog, err);
		goto out;
	}
	if ((m.op == SATP_CTL_OP_SET_KEYS || m.op == SATP_CTL_OP_SET_SESSION) &&
	    !(m.present & SATP_CTL_F_GRACE)) {
		m.grace = SATP_CTL_GRACE_DEFAULT;
		m.present |= SATP_CTL_F_GRACE;
	}
	ret = satp_ctl_run_change(prog, t.socket, t.dev, satp_run_dir(t.run_dir), &m);
out:
	explicit_bzero(text, sizeof(text));
	return ret;
}

int satp_ctl_cli_verbs(const char *prog, const struct satp_ctl_verb *verbs, size_t n,
		       const char *choices, const char *const *pos_keys, int argc, char **argv,
		       void (*usage)(FILE *f))
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? SATP_EXIT_USAGE : SATP_EXIT_OK;
	}
	for (i = 0; i < n; i++)
		if (!strcmp(argv[1], verbs[i].word))
			return satp_ctl_cli(prog, verbs[i].op, pos_keys, argc - 1, argv + 1, usage);
	fprintf(stderr, "%s: unknown action '%s' (%s)\n", prog, argv[1], choices);
	usage(stderr);
	return SATP_EXIT_USAGE;
}
