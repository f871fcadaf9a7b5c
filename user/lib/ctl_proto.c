// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control protocol's parser and serializer (format: ctl_proto.h). The
 * parser walks the buffer by length, never past it, and copies each line into
 * a bounded buffer before looking at it: a fuzzer may hand it anything.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"
#include "hostport.h"
#include "parse.h"
#include "textbuf.h"

/* Quote at most this much of an offending line: enough to recognise it. */
#define QUOTE_MAX 64

static const char *const op_names[] = {
    [SATP_CTL_OP_NONE] = "none",
    [SATP_CTL_OP_SHOW] = "show",
    [SATP_CTL_OP_ADD_CONN] = "add-conn",
    [SATP_CTL_OP_CHANGE_CONN] = "change-conn",
    [SATP_CTL_OP_DEL_CONN] = "del-conn",
    [SATP_CTL_OP_SET_KEYS] = "set-keys",
    [SATP_CTL_OP_RESET_WINDOW] = "reset-window",
    [SATP_CTL_OP_SET_SESSION] = "set-session",
    [SATP_CTL_OP_DEL_SESSION] = "del-session",
    [SATP_CTL_OP_ADD_ROUTE] = "add-route",
    [SATP_CTL_OP_DEL_ROUTE] = "del-route",
};

#define CONN_FIELDS                                                                                \
	(SATP_CTL_F_SENDER | SATP_CTL_F_WINDOW | SATP_CTL_F_ROLE | SATP_CTL_F_REMOTE |             \
	 SATP_CTL_F_KEY | SATP_CTL_F_SALT | SATP_CTL_F_PASSPHRASE | SATP_CTL_F_CIPHER |            \
	 SATP_CTL_F_AUTH | SATP_CTL_F_KD_PRF | SATP_CTL_F_TAG_LEN)
#define KEY_FIELDS (SATP_CTL_F_KEY | SATP_CTL_F_PASSPHRASE)
#define SESSION_KEYS                                                                               \
	(SATP_CTL_F_TX_KEY | SATP_CTL_F_TX_SALT | SATP_CTL_F_RX_KEY | SATP_CTL_F_RX_SALT)

/* Per op: fields it requires (all of), fields it allows, and whether it needs a key. */
static const struct {
	uint32_t required;
	uint32_t allowed;
	bool needs_key;
	bool needs_change;
} op_rules[] = {
    [SATP_CTL_OP_SHOW] = {0, 0, false, false},
    [SATP_CTL_OP_ADD_CONN] = {SATP_CTL_F_MUX, SATP_CTL_F_MUX | CONN_FIELDS | SATP_CTL_F_ROUTE, true,
			      false},
    [SATP_CTL_OP_CHANGE_CONN] = {SATP_CTL_F_MUX, SATP_CTL_F_MUX | CONN_FIELDS, false, true},
    [SATP_CTL_OP_DEL_CONN] = {SATP_CTL_F_MUX, SATP_CTL_F_MUX, false, false},
    [SATP_CTL_OP_SET_KEYS] = {SATP_CTL_F_MUX,
			      SATP_CTL_F_MUX | KEY_FIELDS | SATP_CTL_F_SALT | SATP_CTL_F_GRACE,
			      true, false},
    [SATP_CTL_OP_RESET_WINDOW] = {SATP_CTL_F_MUX | SATP_CTL_F_SENDER,
				  SATP_CTL_F_MUX | SATP_CTL_F_SENDER, false, false},
    [SATP_CTL_OP_SET_SESSION] = {SATP_CTL_F_MUX | SESSION_KEYS,
				 SATP_CTL_F_MUX | SESSION_KEYS | SATP_CTL_F_SESSION |
				     SATP_CTL_F_GRACE,
				 false, false},
    [SATP_CTL_OP_DEL_SESSION] = {SATP_CTL_F_MUX, SATP_CTL_F_MUX, false, false},
    [SATP_CTL_OP_ADD_ROUTE] = {SATP_CTL_F_MUX | SATP_CTL_F_ROUTE, SATP_CTL_F_MUX | SATP_CTL_F_ROUTE,
			       false, false},
    [SATP_CTL_OP_DEL_ROUTE] = {SATP_CTL_F_ROUTE, SATP_CTL_F_MUX | SATP_CTL_F_ROUTE, false, false},
};

struct field {
	const char *name;
	uint32_t flag;
	bool secret; /* never quote the value */
	bool repeat; /* may be given more than once (route=) */
	int (*parse)(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen);
};

/* Bounded copy that truncates on purpose (names, addresses from a reply). */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

const char *satp_ctl_op_name(enum satp_ctl_op op)
{
	if ((unsigned int)op >= sizeof(op_names) / sizeof(op_names[0]))
		return "?";
	return op_names[op];
}

/* Decimal, no sign, no leading '+', no spaces, no leading zeros beyond "0". */
static int parse_num(const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long n; /* 64 bits on every target: session numbers are */

	if (!*v || *v < '0' || *v > '9' || (v[0] == '0' && v[1]))
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

static int num_field(const char *name, const char *v, uint64_t max, uint64_t *out, char *err,
		     size_t errlen)
{
	if (parse_num(v, max, out)) {
		satp_errf(err, errlen, "invalid %s '%.*s': expected a number 0..%" PRIu64, name,
			  QUOTE_MAX, v, max);
		return -EINVAL;
	}
	return 0;
}

static int f_mux(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	uint64_t n = 0;
	int ret = num_field("mux", v, 0xffff, &n, err, errlen);

	if (!ret)
		m->mux = (uint16_t)n;
	return ret;
}

static int f_sender(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	uint64_t n = 0;
	int ret = num_field("sender", v, 0xffff, &n, err, errlen);

	if (!ret)
		m->sender = (uint16_t)n;
	return ret;
}

static int f_window(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	uint64_t n = 0;
	int ret = num_field("window", v, SATP_WINDOW_BITS, &n, err, errlen);

	if (!ret)
		m->window = (uint32_t)n;
	return ret;
}

static int f_tag_len(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	uint64_t n = 0;
	int ret = num_field("tag-len", v, SATP_TAG_MAX, &n, err, errlen);

	if (!ret)
		m->tag_len = (unsigned int)n;
	return ret;
}

static int f_grace(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	uint64_t n = 0;
	int ret = num_field("grace", v, SATP_CTL_GRACE_MAX, &n, err, errlen);

	if (!ret)
		m->grace = (uint32_t)n;
	return ret;
}

static int f_role(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	if (satp_parse_role(v, &m->role)) {
		satp_errf(err, errlen,
			  "invalid role '%.*s': expected left, right, alice, bob, server or client",
			  QUOTE_MAX, v);
		return -EINVAL;
	}
	return 0;
}

static int f_cipher(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	if (satp_parse_cipher(v, &m->cipher_bits)) {
		satp_errf(err, errlen, "invalid cipher '%.*s'", QUOTE_MAX, v);
		return -EINVAL;
	}
	return 0;
}

static int f_kd_prf(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	if (satp_parse_kd_prf(v, &m->kd_bits)) {
		satp_errf(err, errlen, "invalid kd-prf '%.*s'", QUOTE_MAX, v);
		return -EINVAL;
	}
	return 0;
}

static int f_auth(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	if (satp_parse_auth(v, &m->auth)) {
		satp_errf(err, errlen, "invalid auth '%.*s': expected null or sha1", QUOTE_MAX, v);
		return -EINVAL;
	}
	return 0;
}

/* HOST:PORT or [V6]:PORT; the daemon resolves HOST, here only the shape is checked. */
static int f_remote(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	char host[sizeof(m->remote)];
	const char *colon;
	uint16_t port;
	size_t i, hlen;

	if (strlen(v) >= sizeof(m->remote) ||
	    satp_hostport_parse(v, 0, host, sizeof(host), &port, NULL, 0))
		goto bad;
	colon = strrchr(v, ':'); /* the port's: a port is digits */
	if (colon[1] == '0')
		goto bad; /* numbers on the wire are canonical (parse_num): no leading zero */
	hlen = (size_t)(colon - v);
	for (i = 0; i < hlen; i++)
		if (v[i] <= ' ' || v[i] == '/' || v[i] > '~')
			goto bad;
	memcpy(m->remote, v, strlen(v) + 1);
	return 0;
bad:
	satp_errf(err, errlen, "invalid remote '%.*s': expected HOST:PORT or [IPV6]:PORT",
		  QUOTE_MAX, v);
	return -EINVAL;
}

/* A secret is never quoted: its name and length say what is wrong. */
static int hex_key(const char *name, const char *v, uint8_t *out, size_t *len, char *err,
		   size_t errlen)
{
	char msg[128];

	if (satp_hex_parse(v, out, SATP_KEY_MAX, 0, len, msg, sizeof(msg)) ||
	    (*len != 16 && *len != 24 && *len != 32)) {
		satp_errf(err, errlen,
			  "invalid %s: expected 32, 48 or 64 hex digits, got %zu characters", name,
			  strlen(v));
		return -EINVAL;
	}
	return 0;
}

static int hex_salt(const char *name, const char *v, uint8_t *out, char *err, size_t errlen)
{
	char msg[128];
	size_t len;

	if (satp_hex_parse(v, out, SATP_SALT_LEN, SATP_SALT_LEN, &len, msg, sizeof(msg))) {
		satp_errf(err, errlen, "invalid %s: expected %d hex digits, got %zu characters",
			  name, 2 * SATP_SALT_LEN, strlen(v));
		return -EINVAL;
	}
	return 0;
}

static int f_key(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	return hex_key("key", v, m->key, &m->key_len, err, errlen);
}

static int f_salt(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	return hex_salt("salt", v, m->salt, err, errlen);
}

static int f_tx_key(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	return hex_key("tx-key", v, m->key, &m->key_len, err, errlen);
}

static int f_tx_salt(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	return hex_salt("tx-salt", v, m->salt, err, errlen);
}

static int f_rx_key(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	return hex_key("rx-key", v, m->rx_key, &m->rx_key_len, err, errlen);
}

static int f_rx_salt(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	return hex_salt("rx-salt", v, m->rx_salt, err, errlen);
}

static int f_session(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	uint64_t n = 0;
	int ret = num_field("session", v, UINT64_MAX, &n, err, errlen);

	if (!ret)
		m->session = n;
	return ret;
}

static int f_passphrase(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	size_t len = strlen(v);

	if (!len || len > SATP_CTL_PASSPHRASE_MAX) {
		satp_errf(err, errlen, "invalid passphrase: 1..%d characters, got %zu",
			  SATP_CTL_PASSPHRASE_MAX, len);
		return -EINVAL;
	}
	memcpy(m->passphrase, v, len + 1);
	return 0;
}

/* ADDRESS/LENGTH as -R (satpd_parse_prefix); a missing length is a mistake, not a host route. */
static int f_route(const char *v, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	struct satp_ctl_route *r;
	struct satpd_prefix p;
	char msg[160];

	if (m->n_routes >= SATP_CTL_ROUTES_MAX) {
		satp_errf(err, errlen, "route '%.*s': more than %d routes in one request",
			  QUOTE_MAX, v, SATP_CTL_ROUTES_MAX);
		return -EINVAL;
	}
	if (strlen(v) > QUOTE_MAX) {
		satp_errf(err, errlen, "route '%.*s...': longer than %d characters", QUOTE_MAX, v,
			  QUOTE_MAX);
		return -EINVAL;
	}
	if (satpd_parse_prefix(v, &p, msg, sizeof(msg))) {
		/* with the parser's own reason: which part is wrong */
		satp_errf(err, errlen, "invalid route '%.*s': expected ADDRESS/LENGTH (%s)",
			  QUOTE_MAX, v, msg);
		return -EINVAL;
	}
	r = &m->routes[m->n_routes++];
	memset(r, 0, sizeof(*r));
	r->family = p.family;
	r->len = p.len;
	memcpy(r->addr, &p.addr, p.family == AF_INET ? 4 : 16);
	return 0;
}

static const struct field fields[] = {
    {"mux", SATP_CTL_F_MUX, false, false, f_mux},
    {"sender", SATP_CTL_F_SENDER, false, false, f_sender},
    {"window", SATP_CTL_F_WINDOW, false, false, f_window},
    {"role", SATP_CTL_F_ROLE, false, false, f_role},
    {"remote", SATP_CTL_F_REMOTE, false, false, f_remote},
    {"key", SATP_CTL_F_KEY, true, false, f_key},
    {"salt", SATP_CTL_F_SALT, true, false, f_salt},
    {"passphrase", SATP_CTL_F_PASSPHRASE, true, false, f_passphrase},
    {"cipher", SATP_CTL_F_CIPHER, false, false, f_cipher},
    {"auth", SATP_CTL_F_AUTH, false, false, f_auth},
    {"kd-prf", SATP_CTL_F_KD_PRF, false, false, f_kd_prf},
    {"tag-len", SATP_CTL_F_TAG_LEN, false, false, f_tag_len},
    {"grace", SATP_CTL_F_GRACE, false, false, f_grace},
    {"tx-key", SATP_CTL_F_TX_KEY, true, false, f_tx_key},
    {"tx-salt", SATP_CTL_F_TX_SALT, true, false, f_tx_salt},
    {"rx-key", SATP_CTL_F_RX_KEY, true, false, f_rx_key},
    {"rx-salt", SATP_CTL_F_RX_SALT, true, false, f_rx_salt},
    {"session", SATP_CTL_F_SESSION, false, false, f_session},
    {"route", SATP_CTL_F_ROUTE, false, true, f_route},
};

#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static const struct field *find_field(const char *name)
{
	size_t i;

	for (i = 0; i < N_FIELDS; i++)
		if (!strcmp(fields[i].name, name))
			return &fields[i];
	return NULL;
}

/*
 * Cut the next line of [*pos, end) into line (NUL-terminated, without '\n').
 * Returns 1 for a line, 0 at the end of the buffer, -EINVAL when it is bad.
 */
static int next_line(const char *buf, size_t len, size_t *pos, char *line, size_t cap,
		     unsigned int lineno, char *err, size_t errlen)
{
	const char *start = buf + *pos, *nl;
	size_t n;

	if (*pos >= len)
		return 0;
	nl = memchr(start, '\n', len - *pos);
	n = nl ? (size_t)(nl - start) : len - *pos;
	if (n >= cap) {
		satp_errf(err, errlen, "line %u: longer than %zu bytes", lineno, cap - 1);
		return -EINVAL;
	}
	if (memchr(start, '\0', n) || memchr(start, '\r', n)) {
		satp_errf(err, errlen, "line %u: contains a NUL or CR byte", lineno);
		return -EINVAL;
	}
	memcpy(line, start, n);
	line[n] = '\0';
	if (!nl) {
		satp_errf(err, errlen, "line %u '%.*s': not ended by a newline", lineno, QUOTE_MAX,
			  line);
		return -EINVAL;
	}
	*pos += n + 1;
	return 1;
}

static int parse_op(const char *line, struct satp_ctl_msg *m, char *err, size_t errlen)
{
	size_t i;

	if (strncmp(line, "op=", 3)) {
		satp_errf(err, errlen, "line 1 '%.*s': a request starts with op=<operation>",
			  QUOTE_MAX, line);
		return -EINVAL;
	}
	for (i = SATP_CTL_OP_SHOW; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
		if (!strcmp(line + 3, op_names[i])) {
			m->op = (enum satp_ctl_op)i;
			return 0;
		}
	}
	satp_errf(err, errlen,
		  "unknown op '%.*s': expected show, add-conn, change-conn, del-conn, set-keys, "
		  "reset-window, set-session, del-session, add-route or del-route",
		  QUOTE_MAX, line + 3);
	return -EINVAL;
}

static int parse_field(char *line, unsigned int lineno, struct satp_ctl_msg *m, char *err,
		       size_t errlen)
{
	char *eq = strchr(line, '=');
	const struct field *f;

	if (!eq) {
		satp_errf(err, errlen, "line %u '%.*s': expected key=value", lineno, QUOTE_MAX,
			  line);
		return -EINVAL;
	}
	*eq = '\0';
	f = find_field(line);
	if (!f) {
		satp_errf(err, errlen, "line %u: unknown key '%.*s'", lineno, QUOTE_MAX, line);
		return -EINVAL;
	}
	if (!(op_rules[m->op].allowed & f->flag)) {
		satp_errf(err, errlen, "line %u: key '%s' does not belong to op=%s", lineno,
			  f->name, op_names[m->op]);
		return -EINVAL;
	}
	if ((m->present & f->flag) && !f->repeat) {
		satp_errf(err, errlen, "line %u: key '%s' given twice", lineno, f->name);
		return -EINVAL;
	}
	m->present |= f->flag;
	if (f->parse(eq + 1, m, err, errlen))
		return -EINVAL;
	return 0;
}

static int check_complete(const struct satp_ctl_msg *m, char *err, size_t errlen)
{
	uint32_t missing = op_rules[m->op].required & ~m->present;
	size_t i;

	for (i = 0; i < N_FIELDS; i++) {
		if (missing & fields[i].flag) {
			satp_errf(err, errlen, "op=%s needs %s=", op_names[m->op], fields[i].name);
			return -EINVAL;
		}
	}
	if (op_rules[m->op].needs_key && !(m->present & KEY_FIELDS)) {
		satp_errf(err, errlen, "op=%s needs key= or passphrase=", op_names[m->op]);
		return -EINVAL;
	}
	if ((m->present & KEY_FIELDS) == KEY_FIELDS) {
		satp_errf(err, errlen, "key= and passphrase= exclude each other");
		return -EINVAL;
	}
	if ((m->present & SATP_CTL_F_SALT) && (m->present & SATP_CTL_F_PASSPHRASE)) {
		satp_errf(err, errlen,
			  "salt= and passphrase= exclude each other (the passphrase "
			  "derives the salt)");
		return -EINVAL;
	}
	if (op_rules[m->op].needs_change && !(m->present & ~SATP_CTL_F_MUX)) {
		satp_errf(
		    err, errlen,
		    "op=%s changes nothing: give at least one field besides mux=", op_names[m->op]);
		return -EINVAL;
	}
	return 0;
}

int satp_ctl_parse(const char *buf, size_t len, struct satp_ctl_msg *msg, char *err, size_t errlen)
{
	char line[SATP_CTL_LINE_MAX + 1] = ""; /* len 0 reads no line into it */
	unsigned int lineno = 0;
	size_t pos = 0;
	int r, ret = -EINVAL;

	memset(msg, 0, sizeof(*msg));
	if (err && errlen)
		err[0] = '\0';
	if (!buf || len > SATP_CTL_REQ_MAX) {
		satp_errf(err, errlen, "request larger than %d bytes", SATP_CTL_REQ_MAX);
		goto out;
	}
	for (;;) {
		r = next_line(buf, len, &pos, line, sizeof(line), ++lineno, err, errlen);
		if (r < 0)
			goto out;
		if (r == 0 || !line[0])
			break;
		if (lineno == 1)
			r = parse_op(line, msg, err, errlen);
		else
			r = parse_field(line, lineno, msg, err, errlen);
		if (r)
			goto out;
	}
	if (lineno == 1 && !line[0]) {
		satp_errf(err, errlen, "empty request");
		goto out;
	}
	if (r == 1 && pos < len) {
		satp_errf(err, errlen, "%zu bytes after the empty line ending the request",
			  len - pos);
		goto out;
	}
	if (msg->op == SATP_CTL_OP_NONE) {
		satp_errf(err, errlen, "empty request");
		goto out;
	}
	ret = check_complete(msg, err, errlen);
out:
	explicit_bzero(line, sizeof(line));
	if (ret)
		satp_ctl_msg_wipe(msg);
	return ret;
}

void satp_ctl_msg_wipe(struct satp_ctl_msg *msg)
{
	explicit_bzero(msg, sizeof(*msg));
}

/* ---------------------------------------------------------------- serializing */

static void put_hex(struct satp_text *o, const char *name, const uint8_t *b, size_t n)
{
	size_t i;

	satp_text_put(o, "%s=", name);
	for (i = 0; i < n; i++)
		satp_text_put(o, "%02x", b[i]);
	satp_text_put(o, "\n");
}

/* Strings we write must not break the framing: one line, no '='-less surprises. */
static bool line_safe(const char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			return false;
	return true;
}

int satp_ctl_format(const struct satp_ctl_msg *m, char *buf, size_t len)
{
	struct satp_text o = SATP_TEXT(buf, len);
	uint32_t p = m->present;
	char a[INET6_ADDRSTRLEN];
	unsigned int i;

	if (m->op <= SATP_CTL_OP_NONE || m->op > SATP_CTL_OP_LAST || !len ||
	    m->n_routes > SATP_CTL_ROUTES_MAX)
		return -EINVAL;
	if (!line_safe(m->remote) || !line_safe(m->passphrase))
		return -EINVAL;
	buf[0] = '\0';
	satp_text_put(&o, "op=%s\n", op_names[m->op]);
	if (p & SATP_CTL_F_MUX)
		satp_text_put(&o, "mux=%u\n", m->mux);
	if (p & SATP_CTL_F_SENDER)
		satp_text_put(&o, "sender=%u\n", m->sender);
	if (p & SATP_CTL_F_WINDOW)
		satp_text_put(&o, "window=%u\n", m->window);
	if (p & SATP_CTL_F_ROLE)
		satp_text_put(&o, "role=%s\n", satp_role_name(m->role));
	if (p & SATP_CTL_F_REMOTE)
		satp_text_put(&o, "remote=%s\n", m->remote);
	if (p & SATP_CTL_F_KEY)
		put_hex(&o, "key", m->key, m->key_len);
	if (p & SATP_CTL_F_SALT)
		put_hex(&o, "salt", m->salt, SATP_SALT_LEN);
	if (p & SATP_CTL_F_PASSPHRASE)
		satp_text_put(&o, "passphrase=%s\n", m->passphrase);
	if (p & SATP_CTL_F_CIPHER)
		satp_text_put(&o, "cipher=%s\n", satp_algo_name(m->cipher_bits));
	if (p & SATP_CTL_F_AUTH)
		satp_text_put(&o, "auth=%s\n", satp_auth_name(m->auth));
	if (p & SATP_CTL_F_KD_PRF)
		satp_text_put(&o, "kd-prf=%s\n", satp_algo_name(m->kd_bits));
	if (p & SATP_CTL_F_TAG_LEN)
		satp_text_put(&o, "tag-len=%u\n", m->tag_len);
	if (p & SATP_CTL_F_GRACE)
		satp_text_put(&o, "grace=%u\n", m->grace);
	if (p & SATP_CTL_F_TX_KEY)
		put_hex(&o, "tx-key", m->key, m->key_len);
	if (p & SATP_CTL_F_TX_SALT)
		put_hex(&o, "tx-salt", m->salt, SATP_SALT_LEN);
	if (p & SATP_CTL_F_RX_KEY)
		put_hex(&o, "rx-key", m->rx_key, m->rx_key_len);
	if (p & SATP_CTL_F_RX_SALT)
		put_hex(&o, "rx-salt", m->rx_salt, SATP_SALT_LEN);
	if (p & SATP_CTL_F_SESSION)
		satp_text_put(&o, "session=%" PRIu64 "\n", m->session);
	for (i = 0; (p & SATP_CTL_F_ROUTE) && i < m->n_routes; i++) {
		const struct satp_ctl_route *r = &m->routes[i];

		if (!inet_ntop(r->family, r->addr, a, sizeof(a)) ||
		    r->len > (r->family == AF_INET ? 32u : 128u))
			return -EINVAL;
		satp_text_put(&o, "route=%s/%u\n", a, r->len);
	}
	satp_text_put(&o, "\n");
	return satp_text_end(&o);
}

int satp_ctl_add_sender(struct satp_ctl_conn *c, uint16_t id, uint32_t window_top)
{
	if (c->n_senders >= SATP_CTL_SENDERS_MAX)
		return -ENOSPC;
	c->senders[c->n_senders++] = (struct satp_ctl_sender){id, window_top};
	return 0;
}

int satp_ctl_add_counter(struct satp_ctl_counter *arr, uint32_t *n, const char *name,
			 uint64_t value)
{
	if (*n >= SATP_CTL_COUNTERS_MAX)
		return -ENOSPC;
	copy_str(arr[*n].name, sizeof(arr[*n].name), name);
	arr[*n].value = value;
	(*n)++;
	return 0;
}

struct satp_ctl_conn *satp_ctl_snapshot_add_conn(struct satp_ctl_snapshot *s)
{
	struct satp_ctl_conn *c;
	uint32_t cap;

	if (s->n_conns >= SATP_CTL_MAX_CONNS)
		return NULL;
	if (s->n_conns == s->cap_conns) {
		cap = s->cap_conns ? 2 * s->cap_conns : 16;
		if (cap > SATP_CTL_MAX_CONNS)
			cap = SATP_CTL_MAX_CONNS;
		c = realloc(s->conns, cap * sizeof(*c));
		if (!c)
			return NULL;
		s->conns = c;
		s->cap_conns = cap;
	}
	c = &s->conns[s->n_conns++];
	memset(c, 0, sizeof(*c));
	return c;
}

void satp_ctl_snapshot_reset(struct satp_ctl_snapshot *s)
{
	free(s->conns);
	memset(s, 0, sizeof(*s));
}

static void put_counters(struct satp_text *o, const struct satp_ctl_counter *c, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n && i < SATP_CTL_COUNTERS_MAX; i++)
		satp_text_put(o, "counter.%s=%" PRIu64 "\n", c[i].name, c[i].value);
}

/*
 * A scalar field of SATP_CTL_SNAPSHOT_FIELDS or SATP_CTL_CONN_FIELDS: where it
 * is in its struct and how it is written and read (the kinds of ctl_proto.h).
 */
enum field_kind {
	K_STR,
	K_I32,
	K_I64,
	K_U64,
	K_U32,
	K_U16W,
	K_U32W,
	K_X64,
	K_BOOL
};

struct snap_field {
	const char *key;
	enum field_kind kind;
	size_t off, size;
};

#define SNAP_ROW(kind, field, key, size_)                                                          \
	{key, K_##kind, offsetof(struct satp_ctl_snapshot, field),                                 \
	 sizeof(((struct satp_ctl_snapshot *)0)->field)},
#define CONN_ROW(kind, field, key, size_)                                                          \
	{key, K_##kind, offsetof(struct satp_ctl_conn, field),                                     \
	 sizeof(((struct satp_ctl_conn *)0)->field)},

static const struct snap_field snap_fields[] = {SATP_CTL_SNAPSHOT_FIELDS(SNAP_ROW)};
static const struct snap_field conn_fields[] = {SATP_CTL_CONN_FIELDS(CONN_ROW)};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* One field's line (p points at a member of the kind's type). */
static void put_field(struct satp_text *o, const struct snap_field *f, const void *obj)
{
	const char *p = (const char *)obj + f->off;

	switch (f->kind) {
	case K_STR:
		satp_text_put(o, "%s=%s\n", f->key, p);
		break;
	case K_I32:
		satp_text_put(o, "%s=%d\n", f->key, *(const int32_t *)(const void *)p);
		break;
	case K_I64:
		satp_text_put(o, "%s=%" PRId64 "\n", f->key, *(const int64_t *)(const void *)p);
		break;
	case K_U64:
		satp_text_put(o, "%s=%" PRIu64 "\n", f->key, *(const uint64_t *)(const void *)p);
		break;
	case K_U32:
	case K_U32W:
		satp_text_put(o, "%s=%u\n", f->key, *(const uint32_t *)(const void *)p);
		break;
	case K_U16W:
		satp_text_put(o, "%s=%u\n", f->key, *(const uint16_t *)(const void *)p);
		break;
	case K_X64:
		satp_text_put(o, "%s=%" PRIx64 "\n", f->key, *(const uint64_t *)(const void *)p);
		break;
	case K_BOOL:
		satp_text_put(o, "%s=%d\n", f->key, *(const bool *)(const void *)p ? 1 : 0);
		break;
	}
}

static void put_fields(struct satp_text *o, const struct snap_field *f, size_t n, const void *obj)
{
	size_t i;

	for (i = 0; i < n; i++)
		put_field(o, &f[i], obj);
}

static void put_conn(struct satp_text *o, const struct satp_ctl_conn *c)
{
	uint32_t i;

	satp_text_put(o, "conn=%u\n", c->mux);
	put_fields(o, conn_fields, N_OF(conn_fields), c);
	put_counters(o, c->counters, c->n_counters);
	for (i = 0; i < c->n_senders && i < SATP_CTL_SENDERS_MAX; i++)
		satp_text_put(o, "window-top.%u=%u\n", c->senders[i].id, c->senders[i].window_top);
}

static void put_path(struct satp_text *o, const struct satp_ctl_path *p)
{
	satp_text_put(
	    o, "rail-path=%u %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %s\n",
	    p->local_port, p->rx, p->first, p->dups, p->tx, p->last_seen,
	    p->remote[0] ? p->remote : "-");
	satp_text_put(o, "rail-path-xdp=%" PRIu64 " %" PRIu64 " %" PRId64 "\n", p->xdp_seen,
		      p->xdp_dropped, p->xdp_last_seen);
}

int satp_ctl_format_reply(int err, const char *errmsg, const struct satp_ctl_snapshot *s, char *buf,
			  size_t len)
{
	struct satp_text o = SATP_TEXT(buf, len);
	uint32_t i;

	if (!len)
		return -ENOSPC;
	buf[0] = '\0';
	satp_text_put(&o, "errno=%d\n", err < 0 ? -err : err);
	if (err && errmsg) {
		char line[SATP_CTL_LINE_MAX - 8];
		size_t j;

		copy_str(line, sizeof(line), errmsg);
		for (j = 0; line[j]; j++)
			if (line[j] == '\n' || line[j] == '\r')
				line[j] = ' ';
		satp_text_put(&o, "error=%s\n", line);
	}
	if (!err && s) {
		put_fields(&o, snap_fields, N_OF(snap_fields), s);
		put_counters(&o, s->counters, s->n_counters);
		for (i = 0; i < s->n_paths && i < SATP_CTL_PATHS_MAX; i++)
			put_path(&o, &s->paths[i]);
		for (i = 0; i < s->n_conns; i++)
			put_conn(&o, &s->conns[i]);
	}
	satp_text_put(&o, "\n");
	return satp_text_end(&o);
}

int satp_ctl_format_reply_alloc(int err, const char *errmsg, const struct satp_ctl_snapshot *s,
				char **buf, size_t *cap)
{
	size_t want;
	char *b;
	int n;

	for (;;) {
		if (*buf) {
			n = satp_ctl_format_reply(err, errmsg, s, *buf, *cap);
			if (n != -ENOSPC || *cap >= SATP_CTL_REPLY_MAX)
				return n;
		}
		want = *cap ? 2 * *cap : SATP_CTL_REPLY_INIT;
		if (want > SATP_CTL_REPLY_MAX)
			want = SATP_CTL_REPLY_MAX;
		b = realloc(*buf, want);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = want;
	}
}

/* ---------------------------------------------------------------- reading replies */

static int rd_u64(const char *v, uint64_t *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static int rd_i64(const char *v, int64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoll(v, &end, 10);
	return errno || end == v || *end ? -EINVAL : 0;
}

#define STR(dst, v) copy_str((dst), sizeof(dst), (v))

/*
 * One field's value into its struct (p points at a member of the kind's type);
 * 0 for a key that is no field: a newer daemon's, ignored.
 */
static int read_field(const struct snap_field *f, size_t n, void *obj, const char *k, const char *v)
{
	char *p, *end;
	uint64_t u;
	int64_t i;

	for (; n && strcmp(f->key, k); f++, n--)
		;
	if (!n)
		return 0;
	p = (char *)obj + f->off;
	switch (f->kind) {
	case K_STR:
		copy_str(p, f->size, v);
		return 0;
	case K_I32:
		if (rd_i64(v, &i))
			return -EINVAL;
		*(int32_t *)(void *)p = (int32_t)i;
		return 0;
	case K_I64:
		return rd_i64(v, (int64_t *)(void *)p);
	case K_U64:
		return rd_u64(v, (uint64_t *)(void *)p);
	case K_U32:
		if (rd_i64(v, &i) || i < 0 || i > UINT32_MAX)
			return -EINVAL;
		*(uint32_t *)(void *)p = (uint32_t)i;
		return 0;
	case K_U16W:
	case K_U32W:
		if (rd_u64(v, &u))
			return -EINVAL;
		if (f->kind == K_U16W)
			*(uint16_t *)(void *)p = (uint16_t)u;
		else
			*(uint32_t *)(void *)p = (uint32_t)u;
		return 0;
	case K_X64:
		errno = 0;
		*(uint64_t *)(void *)p = strtoull(v, &end, 16);
		return errno || end == v || *end ? -EINVAL : 0;
	case K_BOOL:
		if (strcmp(v, "0") && strcmp(v, "1"))
			return -EINVAL;
		*(bool *)(void *)p = *v == '1';
		return 0;
	}
	return 0;
}

static int reply_counter(const char *k, const char *v, struct satp_ctl_counter *arr, uint32_t *n)
{
	uint64_t val;

	if (rd_u64(v, &val))
		return -EINVAL;
	satp_ctl_add_counter(arr, n, k + strlen("counter."), val); /* beyond the cap: ignored */
	return 0;
}

static int reply_conn_key(struct satp_ctl_conn *c, const char *k, const char *v)
{
	uint64_t u = 0;

	if (!strncmp(k, "counter.", 8))
		return reply_counter(k, v, c->counters, &c->n_counters);
	if (!strncmp(k, "window-top.", 11)) {
		uint64_t id;

		if (rd_u64(k + 11, &id) || id > 0xffff || rd_u64(v, &u) || u > UINT32_MAX)
			return -EINVAL;
		satp_ctl_add_sender(c, (uint16_t)id, (uint32_t)u); /* beyond the cap: ignored */
		return 0;
	}
	return read_field(conn_fields, N_OF(conn_fields), c, k, v);
}

_Static_assert(SATP_CTL_ADDR_MAX == 300, "reply_path's %299s");

/* The next space-terminated decimal of *v, no sign, at most max; *v moves past the space. */
static int next_field(const char **v, uint64_t max, uint64_t *out)
{
	unsigned long long n;
	char *end;

	if (**v < '0' || **v > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(*v, &end, 10);
	if (errno || *end != ' ' || n > max)
		return -EINVAL;
	*out = n;
	*v = end + 1;
	return 0;
}

/* "port rx first dups tx last-seen remote": beyond SATP_CTL_PATHS_MAX ignored. */
static int reply_path(struct satp_ctl_snapshot *s, const char *v)
{
	struct satp_ctl_path p = {0};
	uint64_t port, last_seen;

	if (next_field(&v, 0xffff, &port) || next_field(&v, UINT64_MAX, &p.rx) ||
	    next_field(&v, UINT64_MAX, &p.first) || next_field(&v, UINT64_MAX, &p.dups) ||
	    next_field(&v, UINT64_MAX, &p.tx) || next_field(&v, INT64_MAX, &last_seen))
		return -EINVAL;
	/* The remote is the rest: one token, "-" while unknown. */
	if (!*v || strchr(v, ' ') || strlen(v) >= sizeof(p.remote))
		return -EINVAL;
	p.local_port = (uint16_t)port;
	p.last_seen = (int64_t)last_seen;
	if (strcmp(v, "-"))
		STR(p.remote, v);
	if (s->n_paths < SATP_CTL_PATHS_MAX)
		s->paths[s->n_paths++] = p;
	return 0;
}

/* "seen dropped [last-seen]", of the rail-path line before it (an older satpd: no last-seen). */
static int reply_path_xdp(struct satp_ctl_snapshot *s, const char *v)
{
	struct satp_ctl_path *p;
	uint64_t seen, dropped, last = 0;
	char *end;

	if (!s->n_paths || next_field(&v, UINT64_MAX, &seen) || *v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	dropped = strtoull(v, &end, 10);
	if (errno || (*end && *end != ' '))
		return -EINVAL;
	if (*end) {
		v = end + 1;
		if (*v < '0' || *v > '9')
			return -EINVAL;
		last = strtoull(v, &end, 10);
		if (errno || *end || last > INT64_MAX)
			return -EINVAL;
	}
	p = &s->paths[s->n_paths - 1];
	p->xdp_seen = seen;
	p->xdp_dropped = dropped;
	p->xdp_last_seen = (int64_t)last;
	return 0;
}

static int reply_top_key(struct satp_ctl_snapshot *s, const char *k, const char *v)
{
	if (!strncmp(k, "counter.", 8))
		return reply_counter(k, v, s->counters, &s->n_counters);
	if (!strcmp(k, "rail-path"))
		return reply_path(s, v);
	if (!strcmp(k, "rail-path-xdp"))
		return reply_path_xdp(s, v);
	return read_field(snap_fields, N_OF(snap_fields), s, k, v);
}

static int reply_line(char *line, int *remote_err, char *errmsg, size_t errlen,
		      struct satp_ctl_snapshot *s, struct satp_ctl_conn **conn, bool *skipping)
{
	char *eq = strchr(line, '=');
	const char *k = line, *v;
	uint64_t u;

	if (!eq)
		return -EINVAL;
	*eq = '\0';
	v = eq + 1;
	if (!strcmp(k, "errno"))
		return rd_u64(v, &u) || u > 4095 ? -EINVAL : (*remote_err = (int)u, 0);
	if (!strcmp(k, "error")) {
		satp_errf(errmsg, errlen, "%s", v);
		return 0;
	}
	if (!s)
		return 0;
	if (!strcmp(k, "conn")) {
		if (rd_u64(v, &u) || u > 0xffff)
			return -EINVAL;
		*conn = satp_ctl_snapshot_add_conn(s);
		if (!*conn && s->n_conns < SATP_CTL_MAX_CONNS)
			return -ENOMEM; /* not a full snapshot: an error, not a shorter list */
		*skipping = !*conn;	/* more than we can hold: skipped */
		if (*conn)
			(*conn)->mux = (uint16_t)u;
		return 0;
	}
	if (*conn)
		return reply_conn_key(*conn, k, v);
	if (*skipping)
		return 0; /* a section we skipped */
	return reply_top_key(s, k, v);
}

int satp_ctl_parse_reply(const char *buf, size_t len, int *remote_err, char *errmsg, size_t errlen,
			 struct satp_ctl_snapshot *snap)
{
	char line[SATP_CTL_LINE_MAX + 1];
	struct satp_ctl_conn *conn = NULL;
	unsigned int lineno = 0;
	bool have_errno = false, skipping = false;
	size_t pos = 0;
	int r;

	*remote_err = 0;
	if (errmsg && errlen)
		errmsg[0] = '\0';
	if (snap)
		satp_ctl_snapshot_reset(snap);
	for (;;) {
		char bad[QUOTE_MAX + 1];

		r = next_line(buf, len, &pos, line, sizeof(line), ++lineno, errmsg, errlen);
		if (r < 0)
			return -EINVAL;
		if (r == 0 || !line[0])
			break;
		copy_str(bad, sizeof(bad), line);
		if ((lineno == 1) != !strncmp(line, "errno=", 6) ||
		    reply_line(line, remote_err, errmsg, errlen, snap, &conn, &skipping)) {
			satp_errf(errmsg, errlen, "malformed reply, line %u '%s'", lineno, bad);
			return -EINVAL;
		}
		have_errno = true;
	}
	if (!have_errno) {
		satp_errf(errmsg, errlen, "empty reply");
		return -EINVAL;
	}
	return 0;
}
