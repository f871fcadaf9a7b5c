// SPDX-License-Identifier: GPL-2.0-only
/*
 * anytun sync messages (user/satpd/sync_proto.c): what satpd parses from an
 * anytun-controld or sync server over TCP. Input byte 0 even = the rest is a
 * stream, read as the sync client does (frame after frame, skipping bad
 * bodies, stopping at a broken header or an incomplete frame); odd = the
 * rest is a -X / -M host[:port] entry. The stream gets an exact-size heap
 * copy, as a read() leaves it.
 *
 * Invariants: every error has a message, every record is in range (the
 * limits sync_proto.h documents), and every record written back out in the
 * documented layout by this harness's own encoder parses to the same record.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz_common.h"
#include "sync_proto.h"

static char body[SATP_SYNC_FRAME_MAX * 2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static size_t put(size_t o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t put(size_t o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(body + o, sizeof(body) - o, fmt, ap);
	va_end(ap);
	FUZZ_ASSERT(n >= 0 && o + (size_t)n < sizeof(body));
	return o + (size_t)n;
}

/* The layout of sync_proto.h, written independently of the parser. */
static size_t encode(const struct satp_sync_record *r)
{
	size_t o = SATP_SYNC_HDR_LEN, i;
	char addr[INET6_ADDRSTRLEN], hdr[SATP_SYNC_HDR_LEN + 1];

	o = put(o, "22 serialization::archive %u 0 0 ", r->archive_version);
	if (r->type == SATP_SYNC_ROUTE) {
		FUZZ_ASSERT(inet_ntop(r->route.family, r->route.prefix, addr, sizeof(addr)));
		o = put(o, "5 route 0 0 0 0 %u 0 0 %d %zu %s %u", r->route.prefix_len,
			r->route.family == AF_INET6, strlen(addr), addr, r->route.mux);
	} else {
		const struct satp_sync_conn *c = &r->conn;

		o = put(o, "10 connection 0 0 %u 0 0 0 0 %d %u 0 0 %zu", c->mux, (int)c->role,
			c->kd_bits, c->master_salt_len);
		for (i = 0; i < c->master_salt_len; i++)
			o = put(o, " %u", c->master_salt[i]);
		o = put(o, " %zu", c->master_key_len);
		for (i = 0; i < c->master_key_len; i++)
			o = put(o, " %u", c->master_key[i]);
		o = put(o, " 0 0 %u %u %zu %s %u", c->window, c->seq, strlen(c->remote_host),
			c->remote_host, c->remote_port);
	}
	FUZZ_ASSERT(o - SATP_SYNC_HDR_LEN <= 99999);
	snprintf(hdr, sizeof(hdr), "%05zu ", o - SATP_SYNC_HDR_LEN);
	memcpy(body, hdr, SATP_SYNC_HDR_LEN);
	return o;
}

static void check_record(const struct satp_sync_record *r)
{
	FUZZ_ASSERT(r->archive_version >= SATP_SYNC_ARCHIVE_MIN &&
		    r->archive_version <= SATP_SYNC_ARCHIVE_MAX);
	if (r->type == SATP_SYNC_ROUTE) {
		FUZZ_ASSERT(r->route.family == AF_INET || r->route.family == AF_INET6);
		FUZZ_ASSERT(r->route.prefix_len <= (r->route.family == AF_INET ? 32u : 128u));
		return;
	}
	FUZZ_ASSERT(r->type == SATP_SYNC_CONNECTION);
	FUZZ_ASSERT(r->conn.role == SATP_ROLE_LEFT || r->conn.role == SATP_ROLE_RIGHT);
	FUZZ_ASSERT(r->conn.kd_bits == 0 || r->conn.kd_bits == 128 || r->conn.kd_bits == 192 ||
		    r->conn.kd_bits == 256);
	FUZZ_ASSERT(r->conn.master_key_len == r->conn.kd_bits / 8);
	FUZZ_ASSERT(r->conn.master_salt_len == (r->conn.kd_bits ? SATP_SALT_LEN : 0u));
	FUZZ_ASSERT(strnlen(r->conn.remote_host, SATP_SYNC_HOST_MAX) < SATP_SYNC_HOST_MAX);
	FUZZ_ASSERT(r->conn.remote.ss_family == AF_INET || r->conn.remote.ss_family == AF_INET6);
}

static bool same(const struct satp_sync_record *a, const struct satp_sync_record *b)
{
	if (a->type != b->type || a->archive_version != b->archive_version)
		return false;
	if (a->type == SATP_SYNC_ROUTE)
		return a->route.family == b->route.family && a->route.mux == b->route.mux &&
		       a->route.prefix_len == b->route.prefix_len &&
		       !memcmp(a->route.prefix, b->route.prefix, 16);
	return a->conn.mux == b->conn.mux && a->conn.role == b->conn.role &&
	       a->conn.kd_bits == b->conn.kd_bits && a->conn.window == b->conn.window &&
	       a->conn.seq == b->conn.seq && a->conn.remote_port == b->conn.remote_port &&
	       a->conn.has_remote == b->conn.has_remote &&
	       !strcmp(a->conn.remote_host, b->conn.remote_host) &&
	       !memcmp(a->conn.master_key, b->conn.master_key, sizeof(a->conn.master_key)) &&
	       !memcmp(a->conn.master_salt, b->conn.master_salt, sizeof(a->conn.master_salt));
}

static void round_trip(const struct satp_sync_record *r)
{
	struct satp_sync_record again;
	char err[SATP_SYNC_ERR_LEN] = "";
	size_t n = encode(r), used = 0;
	int ret = satp_sync_parse_frame(body, n, &again, &used, err, sizeof(err));

	if (ret)
		fprintf(stderr, "re-encoded record does not parse: %s\n%.*s\n", err, (int)n, body);
	FUZZ_ASSERT(ret == 0 && used == n);
	FUZZ_ASSERT(same(r, &again));
}

static void fuzz_stream(const char *buf, size_t len)
{
	struct satp_sync_record rec;
	char err[SATP_SYNC_ERR_LEN];
	size_t off = 0, used;
	int ret;

	while (off < len) {
		memset(err, 'x', sizeof(err));
		used = 0;
		ret = satp_sync_parse_frame(buf + off, len - off, &rec, &used, err, sizeof(err));
		FUZZ_ASSERT(strnlen(err, sizeof(err)) < sizeof(err));
		if (ret == -EAGAIN) {
			FUZZ_ASSERT(!err[0]);
			return;
		}
		FUZZ_ASSERT(ret == 0 || err[0]);
		if (ret == -EPROTO)
			return;
		FUZZ_ASSERT(ret == 0 || ret == -EBADMSG || ret == -EPROTONOSUPPORT ||
			    ret == -EOPNOTSUPP);
		FUZZ_ASSERT(used >= SATP_SYNC_HDR_LEN && used <= len - off &&
			    used <= SATP_SYNC_FRAME_MAX);
		if (!ret) {
			check_record(&rec);
			round_trip(&rec);
			satp_sync_format(&rec, err, sizeof(err));
		}
		off += used;
	}
}

static void fuzz_hostport(const char *s)
{
	char host[256], port[8], err[SATP_SYNC_ERR_LEN] = "";
	int ret = satp_sync_split_hostport(s, s[0] == ':', host, sizeof(host), port, sizeof(port),
					   err, sizeof(err));

	FUZZ_ASSERT(ret == 0 || (ret == -EINVAL && err[0]));
	FUZZ_ASSERT(strnlen(err, sizeof(err)) < sizeof(err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	if (size < 1)
		return 0;
	buf = malloc(size);
	FUZZ_ASSERT(buf);
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 1) {
		buf[size - 1] = 0;
		fuzz_hostport(buf);
	} else {
		fuzz_stream(buf, size - 1);
	}
	free(buf);
	return 0;
}
