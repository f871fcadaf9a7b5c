// SPDX-License-Identifier: GPL-2.0-only
/*
 * anytun sync / control messages (sync_proto.h has the layout): a strict
 * reader of the Boost text archive bodies anytun-controld and anytun -S send.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "hostport.h"
#include "sync_proto.h"

#define ARCHIVE_SIGNATURE "serialization::archive"
#define CMD_CONNECTION	  "connection"
#define CMD_ROUTE	  "route"
/* Longest number accepted: 4294967295 (window and seq are uint32). */
#define NUM_DIGITS_MAX 10
/* Longest string token that is not a host: the signature and commands. */
#define WORD_MAX 32
/* Bytes of a token quoted in an error message. */
#define QUOTE_MAX 40

enum addr_type {
	ADDR_IPV4 = 0,
	ADDR_IPV6 = 1,
	ADDR_ETHERNET = 2,
};

struct cursor {
	const char *p, *end, *start;
	bool first; /* no separator before the first token */
	char *err;
	size_t errlen;
};

static void quote(char *dst, size_t dlen, const char *s, size_t n)
{
	size_t o = 0, i;

	for (i = 0; i < n && i < QUOTE_MAX && o + 5 < dlen; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '\'')
			dst[o++] = (char)ch;
		else
			o += (size_t)snprintf(dst + o, dlen - o, "\\x%02x", ch);
	}
	if (i < n && o + 4 < dlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = 0;
}

__attribute__((format(printf, 3, 4))) static int fail(struct cursor *c, int ret, const char *fmt,
						      ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return ret;
	n = snprintf(c->err, c->errlen, "at byte %zu: ", (size_t)(c->p - c->start));
	if (n < 0 || (size_t)n >= c->errlen)
		return ret;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return ret;
}

/* The next space-separated token; what names it in errors. */
static int next_token(struct cursor *c, const char *what, const char **tok, size_t *n)
{
	const char *s;

	if (!c->first) {
		if (c->p >= c->end)
			return fail(c, -EBADMSG, "body ends before %s", what);
		if (*c->p != ' ')
			return fail(c, -EBADMSG, "expected one space before %s, got '%c'", what,
				    *c->p >= 0x20 && *c->p < 0x7f ? *c->p : '?');
		c->p++;
	}
	c->first = false;
	if (c->p >= c->end)
		return fail(c, -EBADMSG, "body ends before %s", what);
	s = c->p;
	while (c->p < c->end && *c->p != ' ')
		c->p++;
	if (c->p == s)
		return fail(c, -EBADMSG, "%s is empty (two spaces)", what);
	*tok = s;
	*n = (size_t)(c->p - s);
	return 0;
}

static int read_num(struct cursor *c, const char *what, uint64_t max, uint64_t *v)
{
	char q[4 * QUOTE_MAX + 8];
	const char *tok = NULL;
	size_t n = 0, i;
	int ret;

	ret = next_token(c, what, &tok, &n);
	if (ret)
		return ret;
	*v = 0;
	for (i = 0; i < n; i++) {
		if (tok[i] < '0' || tok[i] > '9' || n > NUM_DIGITS_MAX) {
			quote(q, sizeof(q), tok, n);
			return fail(c, -EBADMSG, "%s '%s' is not a decimal number", what, q);
		}
		*v = *v * 10 + (uint64_t)(tok[i] - '0');
	}
	if (*v > max) {
		quote(q, sizeof(q), tok, n);
		return fail(c, -EBADMSG, "%s '%s' is out of range (0..%llu)", what, q,
			    (unsigned long long)max);
	}
	return 0;
}

static int read_u16(struct cursor *c, const char *what, uint16_t *v)
{
	uint64_t x;
	int ret = read_num(c, what, UINT16_MAX, &x);

	*v = (uint16_t)x;
	return ret;
}

static int read_u32(struct cursor *c, const char *what, uint32_t *v)
{
	uint64_t x;
	int ret = read_num(c, what, UINT32_MAX, &x);

	*v = (uint32_t)x;
	return ret;
}

/*
 * Class info of an untracked, unversioned class: "0 0". Anything else would
 * change what follows (an object id, a newer layout), so it is refused.
 */
static int read_class_info(struct cursor *c, const char *what)
{
	char name[64];
	uint64_t v;
	int ret;

	snprintf(name, sizeof(name), "tracking level of %s", what);
	ret = read_num(c, name, 0, &v);
	if (ret)
		return ret;
	snprintf(name, sizeof(name), "class version of %s", what);
	return read_num(c, name, 0, &v);
}

/* A string: its length (at most cap - 1), one space, that many bytes; NUL-terminated copy. */
static int read_string(struct cursor *c, const char *what, char *out, size_t cap)
{
	char name[64];
	uint64_t n;
	int ret;

	snprintf(name, sizeof(name), "length of %s", what);
	ret = read_num(c, name, cap - 1, &n);
	if (ret)
		return ret;
	if (c->p >= c->end || *c->p != ' ')
		return fail(c, -EBADMSG, "expected one space before %s", what);
	c->p++;
	if ((size_t)(c->end - c->p) < n)
		return fail(c, -EBADMSG, "%s is truncated: %llu bytes announced, %zu left", what,
			    (unsigned long long)n, (size_t)(c->end - c->p));
	memcpy(out, c->p, n);
	out[n] = 0;
	c->p += n;
	if (memchr(out, 0, n))
		return fail(c, -EBADMSG, "%s holds a NUL byte", what);
	return 0;
}

static int read_bytes(struct cursor *c, const char *what, uint8_t *out, size_t want)
{
	char name[64];
	uint64_t n, b;
	size_t i;
	int ret;

	snprintf(name, sizeof(name), "length of %s", what);
	ret = read_num(c, name, UINT32_MAX, &n);
	if (ret)
		return ret;
	if (n != want)
		return fail(c, -EBADMSG, "%s is %llu bytes, the key length needs %zu", what,
			    (unsigned long long)n, want);
	snprintf(name, sizeof(name), "a byte of %s", what);
	for (i = 0; i < want; i++) {
		ret = read_num(c, name, UINT8_MAX, &b);
		if (ret)
			return ret;
		out[i] = (uint8_t)b;
	}
	return 0;
}

static int read_end(struct cursor *c)
{
	char q[4 * QUOTE_MAX + 8];

	if (c->p == c->end)
		return 0;
	quote(q, sizeof(q), c->p, (size_t)(c->end - c->p));
	return fail(c, -EBADMSG, "%zu bytes after the last field: '%s'", (size_t)(c->end - c->p),
		    q);
}

/* The remote as anytun sends it (address().to_string()); "[::]" tolerated. */
static int parse_remote(struct cursor *c, struct satp_sync_conn *conn)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				 .ai_socktype = SOCK_DGRAM};
	char host[SATP_SYNC_HOST_MAX], q[4 * QUOTE_MAX + 8], port[8];
	struct addrinfo *ai = NULL;
	size_t n = strlen(conn->remote_host);
	int ret;

	memcpy(host, conn->remote_host, n + 1);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = 0;
	}
	snprintf(port, sizeof(port), "%u", conn->remote_port);
	ret = getaddrinfo(host, port, &hints, &ai);
	if (ret || !ai || ai->ai_addrlen > sizeof(conn->remote)) {
		if (ai)
			freeaddrinfo(ai);
		quote(q, sizeof(q), conn->remote_host, n);
		return fail(c, -EBADMSG, "remote host '%s' is not a numeric IPv4 or IPv6 address",
			    q);
	}
	memcpy(&conn->remote, ai->ai_addr, ai->ai_addrlen);
	conn->remote_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (conn->remote.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&conn->remote;

		conn->has_remote = s4->sin_addr.s_addr != htonl(INADDR_ANY);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&conn->remote;

		conn->has_remote = !IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
	}
	return 0;
}

static int parse_key_length(struct cursor *c, unsigned int *bits)
{
	uint64_t v;
	int ret = read_num(c, "key length", UINT16_MAX, &v);

	if (ret)
		return ret;
	if (v != 0 && v != 128 && v != 192 && v != 256)
		return fail(c, -EBADMSG, "key length '%llu' is not 0, 128, 192 or 256",
			    (unsigned long long)v);
	*bits = (unsigned int)v;
	return 0;
}

static int parse_connection(struct cursor *c, struct satp_sync_conn *conn)
{
	uint64_t role;
	int ret;

	ret = read_class_info(c, "the connection command");
	ret = ret ?: read_u16(c, "mux", &conn->mux);
	ret = ret ?: read_class_info(c, "the connection parameters");
	ret = ret ?: read_class_info(c, "the key derivation");
	ret = ret ?: read_num(c, "role", SATP_ROLE_RIGHT, &role);
	if (ret)
		return ret;
	conn->role = (enum satp_role)role;
	ret = parse_key_length(c, &conn->kd_bits);
	ret = ret ?: read_class_info(c, "the key buffer");
	if (ret)
		return ret;
	conn->master_salt_len = conn->kd_bits ? SATP_SALT_LEN : 0;
	conn->master_key_len = conn->kd_bits / 8;
	ret = read_bytes(c, "the master salt", conn->master_salt, conn->master_salt_len);
	ret = ret ?: read_bytes(c, "the master key", conn->master_key, conn->master_key_len);
	ret = ret ?: read_class_info(c, "the sequence window");
	ret = ret ?: read_u32(c, "window size", &conn->window);
	ret = ret ?: read_u32(c, "sequence number", &conn->seq);
	ret = ret ?: read_string(c, "remote host", conn->remote_host, sizeof(conn->remote_host));
	ret = ret ?: read_u16(c, "remote port", &conn->remote_port);
	ret = ret ?: read_end(c);
	return ret ?: parse_remote(c, conn);
}

static int parse_route(struct cursor *c, struct satp_sync_route *r)
{
	char addr[SATP_SYNC_HOST_MAX], q[4 * QUOTE_MAX + 8];
	uint64_t len, type;
	int ret;

	ret = read_class_info(c, "the route command");
	ret = ret ?: read_class_info(c, "the network prefix");
	ret = ret ?: read_num(c, "prefix length", 128, &len);
	ret = ret ?: read_class_info(c, "the network address");
	ret = ret ?: read_num(c, "address type", ADDR_ETHERNET, &type);
	if (ret)
		return ret;
	if (type == ADDR_ETHERNET)
		return fail(c, -EOPNOTSUPP,
			    "Ethernet route: not supported (tap mode learns MAC addresses)");
	ret = read_string(c, "route address", addr, sizeof(addr));
	ret = ret ?: read_u16(c, "route mux", &r->mux);
	ret = ret ?: read_end(c);
	if (ret)
		return ret;
	r->family = type == ADDR_IPV4 ? AF_INET : AF_INET6;
	if (inet_pton(r->family, addr, r->prefix) != 1) {
		quote(q, sizeof(q), addr, strlen(addr));
		return fail(c, -EBADMSG, "route address '%s' is not an IPv%c address", q,
			    type == ADDR_IPV4 ? '4' : '6');
	}
	if (len > (r->family == AF_INET ? 32u : 128u))
		return fail(c, -EBADMSG, "prefix length '%llu' is longer than an IPv%c address",
			    (unsigned long long)len, type == ADDR_IPV4 ? '4' : '6');
	r->prefix_len = (unsigned int)len;
	return 0;
}

int satp_sync_parse_body(const char *body, size_t len, struct satp_sync_record *rec, char *err,
			 size_t errlen)
{
	struct cursor c = {.p = body,
			   .end = body + len,
			   .start = body,
			   .first = true,
			   .err = err,
			   .errlen = errlen};
	char word[WORD_MAX], q[4 * QUOTE_MAX + 8];
	uint64_t version;
	int ret;

	memset(rec, 0, sizeof(*rec));
	if (err && errlen)
		err[0] = 0;
	if (!len)
		return fail(&c, -EBADMSG, "empty body");
	ret = read_string(&c, "archive signature", word, sizeof(word));
	if (ret)
		return ret;
	if (strcmp(word, ARCHIVE_SIGNATURE)) {
		quote(q, sizeof(q), word, strlen(word));
		return fail(&c, -EBADMSG, "archive signature '%s' is not '%s'", q,
			    ARCHIVE_SIGNATURE);
	}
	ret = read_num(&c, "archive version", UINT16_MAX, &version);
	if (ret)
		return ret;
	if (version < SATP_SYNC_ARCHIVE_MIN || version > SATP_SYNC_ARCHIVE_MAX)
		return fail(&c, -EPROTONOSUPPORT,
			    "Boost archive version '%llu' is not supported (accepted: %u..%u)",
			    (unsigned long long)version, SATP_SYNC_ARCHIVE_MIN,
			    SATP_SYNC_ARCHIVE_MAX);
	rec->archive_version = (unsigned int)version;
	ret = read_class_info(&c, "the sync command");
	ret = ret ?: read_string(&c, "command", word, sizeof(word));
	if (ret)
		return ret;
	if (!strcmp(word, CMD_CONNECTION)) {
		rec->type = SATP_SYNC_CONNECTION;
		return parse_connection(&c, &rec->conn);
	}
	if (!strcmp(word, CMD_ROUTE)) {
		rec->type = SATP_SYNC_ROUTE;
		return parse_route(&c, &rec->route);
	}
	quote(q, sizeof(q), word, strlen(word));
	return fail(&c, -EBADMSG, "command '%s' is neither '%s' nor '%s'", q, CMD_CONNECTION,
		    CMD_ROUTE);
}

int satp_sync_parse_frame(const char *buf, size_t len, struct satp_sync_record *rec, size_t *used,
			  char *err, size_t errlen)
{
	char q[4 * QUOTE_MAX + 8];
	size_t i, body = 0;

	if (err && errlen)
		err[0] = 0;
	/* Check what has arrived so far: garbage fails now, not after 6 bytes. */
	for (i = 0; i < len && i < SATP_SYNC_HDR_LEN; i++) {
		bool ok =
		    i == SATP_SYNC_HDR_LEN - 1 ? buf[i] == ' ' : buf[i] >= '0' && buf[i] <= '9';

		if (!ok) {
			quote(q, sizeof(q), buf, i + 1);
			if (err && errlen)
				snprintf(err, errlen,
					 "frame header '%s': not 5 decimal digits and a space", q);
			return -EPROTO;
		}
		if (i < SATP_SYNC_HDR_LEN - 1)
			body = body * 10 + (size_t)(buf[i] - '0');
	}
	if (len < SATP_SYNC_HDR_LEN)
		return -EAGAIN;
	if (body > SATP_SYNC_BODY_MAX) {
		if (err && errlen)
			snprintf(err, errlen, "frame length '%.5s' is above %d", buf,
				 SATP_SYNC_BODY_MAX);
		return -EPROTO;
	}
	if (len - SATP_SYNC_HDR_LEN < body)
		return -EAGAIN;
	*used = SATP_SYNC_HDR_LEN + body;
	return satp_sync_parse_body(buf + SATP_SYNC_HDR_LEN, body, rec, err, errlen);
}

void satp_sync_record_wipe(struct satp_sync_record *rec)
{
	OPENSSL_cleanse(rec, sizeof(*rec));
}

int satp_sync_conn_keys(const struct satp_sync_conn *c, const struct satp_algos *base,
			struct satp_keys *k)
{
	memset(k, 0, sizeof(*k));
	k->algos = *base;
	k->algos.kd_bits = c->kd_bits;
	if (!c->kd_bits && base->cipher_bits)
		return -EINVAL;
	k->role = c->role;
	memcpy(k->master_key, c->master_key, c->master_key_len);
	k->master_key_len = c->master_key_len;
	memcpy(k->master_salt, c->master_salt, c->master_salt_len);
	return 0;
}

int satp_sync_format(const struct satp_sync_record *rec, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (rec->type == SATP_SYNC_CONNECTION) {
		const struct satp_sync_conn *c = &rec->conn;
		bool v6 = strchr(c->remote_host, ':') && c->remote_host[0] != '[';

		if (!c->has_remote) /* what anytun-showtables says for 0.0.0.0 / :: */
			return snprintf(buf, len, "Client %u: not registered", c->mux);
		return snprintf(buf, len, "Client %u: %s%s%s:%u", c->mux, v6 ? "[" : "",
				c->remote_host, v6 ? "]" : "", c->remote_port);
	}
	if (!inet_ntop(rec->route.family, rec->route.prefix, a, sizeof(a)))
		a[0] = 0;
	return snprintf(buf, len, "Route: %s/%u -> %u", a, rec->route.prefix_len, rec->route.mux);
}

int satp_sync_split_hostport(const char *s, bool allow_no_host, char *host, size_t hostlen,
			     char *port, size_t portlen, char *err, size_t errlen)
{
	unsigned int flags = SATP_HOSTPORT_PORT_OPTIONAL;
	uint16_t v = 0; /* 0: none given (the parser refuses port 0 here) */

	if (allow_no_host)
		flags |= SATP_HOSTPORT_HOST_OPTIONAL;
	if (satp_hostport_parse(s, flags, host, hostlen, &v, NULL, 0)) {
		if (err && errlen)
			snprintf(err, errlen, "'%s': not host[:port] or [IPv6-address][:port]%s", s,
				 allow_no_host ? " or :port" : "");
		return -EINVAL;
	}
	if (v)
		snprintf(port, portlen, "%u", v);
	else
		snprintf(port, portlen, "%s", SATP_SYNC_DEFAULT_PORT);
	return 0;
}
