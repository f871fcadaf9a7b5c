// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp_sync_dump: print the records an anytun sync server or anytun-controld
 * sends, as anytun-showtables does (or every field with -l), through
 * the daemon's sync client and parser (libsatpd.a). For tests/integration/test_sync.sh.
 *
 *   satp_sync_dump [-l] [-n COUNT] [-t SECONDS] [-r RECONNECT-MS] -X host[:port]
 *   satp_sync_dump [-l] -f FILE|-          a captured stream, or anytun-config's
 *                                          output (a newline after each frame)
 *
 * -X exits 0 once COUNT records were printed, 1 when -t runs out first.
 * -f exits 0 at the end of the file if every frame parsed, else 1.
 * Errors and connection events go to stderr.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sync_client.h"

#define DEFAULT_TIMEOUT_S 20
#define FILE_MAX	  (1 << 20)

static bool long_format;
static unsigned long printed;

static void print_hex(const char *name, const uint8_t *b, size_t n)
{
	size_t i;

	printf(" %s=", name);
	for (i = 0; i < n; i++)
		printf("%02x", b[i]);
	if (!n)
		printf("-");
}

static void print_record(void *arg, const struct satp_sync_record *rec)
{
	char line[256];

	printed++;
	if (!long_format || rec->type == SATP_SYNC_ROUTE) {
		satp_sync_format(rec, line, sizeof(line));
		printf("%s\n", line);
		fflush(stdout);
		return;
	}
	printf("connection mux=%u role=%s kd=%u", rec->conn.mux, satp_role_name(rec->conn.role),
	       rec->conn.kd_bits);
	print_hex("key", rec->conn.master_key, rec->conn.master_key_len);
	print_hex("salt", rec->conn.master_salt, rec->conn.master_salt_len);
	printf(" window=%u seq=%u remote=%s port=%u%s archive=%u\n", rec->conn.window,
	       rec->conn.seq, rec->conn.remote_host, rec->conn.remote_port,
	       rec->conn.has_remote ? "" : " (none)", rec->archive_version);
	fflush(stdout);
}

static void print_log(void *arg, int level, const char *msg)
{
	fprintf(stderr, "%s\n", msg);
}

static int dump_file(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	struct satp_sync_record rec;
	char err[SATP_SYNC_ERR_LEN];
	size_t len, off = 0, used;
	int ret, bad = 0;
	char *buf;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	buf = malloc(FILE_MAX);
	len = buf ? fread(buf, 1, FILE_MAX, f) : 0;
	if (len == FILE_MAX) {
		fprintf(stderr, "%s: larger than %d bytes\n", path, FILE_MAX);
		bad = 1;
	}
	if (f != stdin)
		fclose(f);
	if (!buf)
		return 1;
	while (off < len) {
		if (buf[off] == '\n') { /* anytun-config's separator */
			off++;
			continue;
		}
		ret = satp_sync_parse_frame(buf + off, len - off, &rec, &used, err, sizeof(err));
		if (ret == -EAGAIN) {
			fprintf(stderr, "byte %zu: truncated frame at the end\n", off);
			bad = 1;
			break;
		}
		if (ret == -EPROTO) {
			fprintf(stderr, "byte %zu: %s\n", off, err);
			bad = 1;
			break;
		}
		if (ret) {
			fprintf(stderr, "byte %zu: frame skipped: %s\n", off, err);
			bad = 1;
		} else {
			print_record(NULL, &rec);
		}
		satp_sync_record_wipe(&rec);
		off += used;
	}
	free(buf);
	return bad;
}

static int dump_server(const char *spec, unsigned long count, unsigned int timeout_s,
		       unsigned int reconnect_ms)
{
	struct satp_sync_client_ops ops = {
	    .record = print_record, .log = print_log, .reconnect_ms = reconnect_ms};
	char host[NI_MAXHOST], port[16], err[SATP_SYNC_ERR_LEN];
	struct satp_sync_client *c = NULL;
	struct timespec t0, now;
	struct pollfd pfd;
	int ret;

	if (satp_sync_split_hostport(spec, false, host, sizeof(host), port, sizeof(port), err,
				     sizeof(err)) ||
	    satp_sync_client_new(&c, host, port, &ops, err, sizeof(err))) {
		fprintf(stderr, "-X %s\n", err);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pfd.fd = satp_sync_client_fd(c);
	pfd.events = POLLIN;
	ret = 1;
	while (printed < count) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= (time_t)timeout_s) {
			fprintf(stderr, "timeout: %lu of %lu records after %u s\n", printed, count,
				timeout_s);
			goto out;
		}
		if (poll(&pfd, 1, 200) < 0 && errno != EINTR)
			goto out;
		if (satp_sync_client_dispatch(c) < 0)
			goto out;
	}
	ret = 0;
out:
	satp_sync_client_free(c);
	return ret;
}

static void usage(void)
{
	fprintf(stderr, "usage: satp_sync_dump [-l] [-n COUNT] [-t SECONDS] [-r RECONNECT-MS] "
			"-X host[:port]\n       satp_sync_dump [-l] -f FILE|-\n");
	exit(2);
}

static unsigned long num_arg(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > max) {
		fprintf(stderr, "'%s': not a number up to %lu\n", s, max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	unsigned long count = ~0ul;
	unsigned int timeout_s = DEFAULT_TIMEOUT_S, reconnect_ms = 0;
	const char *server = NULL, *file = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "ln:t:r:X:f:h")) != -1) {
		switch (opt) {
		case 'l':
			long_format = true;
			break;
		case 'n':
			count = num_arg(optarg, 1000000);
			break;
		case 't':
			timeout_s = (unsigned int)num_arg(optarg, 3600);
			break;
		case 'r':
			reconnect_ms = (unsigned int)num_arg(optarg, 600000);
			break;
		case 'X':
			server = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !server == !file)
		usage();
	return file ? dump_file(file) : dump_server(server, count, timeout_s, reconnect_ms);
}
