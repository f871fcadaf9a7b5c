// SPDX-License-Identifier: GPL-2.0-only
/*
 * anytun sync messages (user/satpd/sync_proto.h) and the sync client
 * (user/satpd/sync_client.h).
 *
 * Good frames are verbatim output of Debian's anytun-config 0.3.8 (Boost
 * 1.74, archive version 18); the command that made each is in its row.
 * Bad frames are either real anytun-config output that anytun itself
 * refuses later ("key lengths don't match", /129) or a real frame with one
 * thing changed. Every error must name the problem and quote the token.
 * Every good frame, cut at every length, is incomplete (-EAGAIN) as a
 * frame; its body cut short never parses, except inside the last number
 * (the format has no terminator: "4444" cut to "444" is a valid port).
 *
 * The client is run against a TCP listener in this process: frames
 * dribbled one byte at a time, a skipped bad body, a broken header that
 * forces a reconnect, and the full resend after the reconnect.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "satp_test_util.h"
#include "sync_client.h"

#define ERR_LEN SATP_SYNC_ERR_LEN
#define HDR	"22 serialization::archive 18 0 0 "

/* anytun-config -r 10.200.0.2 -o 4444 -m 5 -w 100 -e right -K KEY128 -A SALT (satp.md §9) */
#define CONN_RIGHT                                                                                 \
	"00199 " HDR "10 connection 0 0 5 0 0 0 0 1 128 0 0 14 160 161 162 163 164 165 166 167 "   \
	"168 169 170 171 172 173 16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0 0 100 0 10 "           \
	"10.200.0.2 4444"
/* ... -R 10.1.0.0/16 */
#define ROUTE_V4 "00070 " HDR "5 route 0 0 0 0 16 0 0 0 8 10.1.0.0 5"
/* ... -R fd00::/8 */
#define ROUTE_V6 "00067 " HDR "5 route 0 0 0 0 8 0 0 1 6 fd00:: 5"

#define CONN  SATP_SYNC_CONNECTION
#define ROUTE SATP_SYNC_ROUTE

struct good_case {
	const char *name;
	const char *frame;
	enum satp_sync_type type;
	uint16_t mux;
	/* connection */
	enum satp_role role;
	unsigned int kd_bits;
	const char *key, *salt; /* hex; "" for none */
	uint32_t window;
	const char *host;
	uint16_t port;
	bool has_remote;
	/* route */
	const char *prefix;
	unsigned int prefix_len;
};

static const struct good_case good_cases[] = {
    {"satp.md example: right, window 100", CONN_RIGHT, CONN, 5, SATP_ROLE_RIGHT, 128, KEY128, SALT,
     100, "10.200.0.2", 4444, true, NULL, 0},
    /* anytun-config -r 10.200.0.2 -m 7 -E "satp test passphrase" (key and salt from satp.md §4) */
    {"passphrase",
     "00208 " HDR "10 connection 0 0 7 0 0 0 0 0 128 0 0 14 149 131 135 136 167 202 52 133 80 61 "
     "238 21 104 165 16 253 107 75 239 43 91 48 47 66 222 6 21 202 29 151 14 0 0 0 0 10 "
     "10.200.0.2 4444",
     CONN, 7, SATP_ROLE_LEFT, 128, "fd6b4bef2b5b302f42de0615ca1d970e",
     "95838788a7ca3485503dee1568a5", 0, "10.200.0.2", 4444, true, NULL, 0},
    /* anytun-config -r 10.200.0.2 -m 7 -k aes-ctr-256 -K KEY256 -A SALT */
    {"aes-ctr-256",
     "00245 " HDR "10 connection 0 0 7 0 0 0 0 0 256 0 0 14 160 161 162 163 164 165 166 167 168 "
     "169 170 171 172 173 32 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 "
     "25 26 27 28 29 30 31 0 0 0 0 10 10.200.0.2 4444",
     CONN, 7, SATP_ROLE_LEFT, 256, KEY256, SALT, 0, "10.200.0.2", 4444, true, NULL, 0},
    /* anytun-config -r 2001:db8:0:0:0:0:0:1 -m 9 -k aes-ctr-192 -E x */
    {"aes-ctr-192, IPv6 remote",
     "00236 " HDR "10 connection 0 0 9 0 0 0 0 0 192 0 0 14 41 132 171 170 253 124 59 81 101 3 "
     "120 92 32 114 24 1 98 124 169 251 172 50 245 200 83 15 177 144 60 196 219 2 37 135 23 146 "
     "26 72 129 0 0 0 0 11 2001:db8::1 4444",
     CONN, 9, SATP_ROLE_LEFT, 192, "01627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
     "2984abaafd7c3b516503785c2072", 0, "2001:db8::1", 4444, true, NULL, 0},
    /* anytun-config -r fd00::2 -o 1 -m 65535 -w 0 -K KEY128 -A SALT */
    {"mux 65535, port 1",
     "00194 " HDR "10 connection 0 0 65535 0 0 0 0 0 128 0 0 14 160 161 162 163 164 165 166 167 "
     "168 169 170 171 172 173 16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0 0 0 0 7 fd00::2 1",
     CONN, 65535, SATP_ROLE_LEFT, 128, KEY128, SALT, 0, "fd00::2", 1, true, NULL, 0},
    /* anytun-config -m 1 -w 4294967295 -K KEY128 -A SALT (anytun-config clamps to 65535) */
    {"window 65535, no remote",
     "00197 " HDR "10 connection 0 0 1 0 0 0 0 0 128 0 0 14 160 161 162 163 164 165 166 167 168 "
     "169 170 171 172 173 16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0 0 65535 0 7 0.0.0.0 4444",
     CONN, 1, SATP_ROLE_LEFT, 128, KEY128, SALT, 65535, "0.0.0.0", 4444, false, NULL, 0},
    /* anytun-config -m 3 -k null */
    {"kd null", "00095 " HDR "10 connection 0 0 3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 7 0.0.0.0 4444", CONN,
     3, SATP_ROLE_LEFT, 0, "", "", 0, "0.0.0.0", 4444, false, NULL, 0},
    /* anytun-config -r ::ffff:10.0.0.1 -m 1 -K KEY128 -A SALT */
    {"v4-mapped remote",
     "00202 " HDR "10 connection 0 0 1 0 0 0 0 0 128 0 0 14 160 161 162 163 164 165 166 167 168 "
     "169 170 171 172 173 16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0 0 0 0 15 ::ffff:10.0.0.1 "
     "4444",
     CONN, 1, SATP_ROLE_LEFT, 128, KEY128, SALT, 0, "::ffff:10.0.0.1", 4444, true, NULL, 0},
    {"route IPv4", ROUTE_V4, ROUTE, 5, .prefix = "10.1.0.0", .prefix_len = 16},
    {"route IPv6", ROUTE_V6, ROUTE, 5, .prefix = "fd00::", .prefix_len = 8},
    /* anytun-config -m 3 -R 0.0.0.0/0 -R ::/0 -R 10.0.0.1/32 -R 2001:db8::1/128 ... */
    {"route 0.0.0.0/0", "00068 " HDR "5 route 0 0 0 0 0 0 0 0 7 0.0.0.0 3", ROUTE, 3,
     .prefix = "0.0.0.0", .prefix_len = 0},
    {"route ::/0", "00063 " HDR "5 route 0 0 0 0 0 0 0 1 2 :: 3", ROUTE, 3,
     .prefix = "::", .prefix_len = 0},
    {"route /32", "00070 " HDR "5 route 0 0 0 0 32 0 0 0 8 10.0.0.1 3", ROUTE, 3,
     .prefix = "10.0.0.1", .prefix_len = 32},
    {"route /128", "00075 " HDR "5 route 0 0 0 0 128 0 0 1 11 2001:db8::1 3", ROUTE, 3,
     .prefix = "2001:db8::1", .prefix_len = 128},
    {"route 255.255.255.255", "00078 " HDR "5 route 0 0 0 0 32 0 0 0 15 255.255.255.255 3", ROUTE,
     3, .prefix = "255.255.255.255", .prefix_len = 32},
    /* newer Boost archive versions: same layout */
    {"archive version 20",
     "00070 22 serialization::archive 20 0 0 5 route 0 0 0 0 16 0 0 0 8 "
     "10.1.0.0 5",
     ROUTE, 5, .prefix = "10.1.0.0", .prefix_len = 16},
};

static void check_good(const struct good_case *t, const struct satp_sync_record *r)
{
	uint8_t want[SATP_KEY_MAX], prefix[16];
	size_t n;

	assert_int_equal(r->type, t->type);
	if (t->type == ROUTE) {
		assert_int_equal(r->route.mux, t->mux);
		assert_int_equal(r->route.family, strchr(t->prefix, ':') ? AF_INET6 : AF_INET);
		assert_int_equal(inet_pton(r->route.family, t->prefix, prefix), 1);
		assert_memory_equal(r->route.prefix, prefix, r->route.family == AF_INET ? 4 : 16);
		assert_int_equal(r->route.prefix_len, t->prefix_len);
		return;
	}
	assert_int_equal(r->conn.mux, t->mux);
	assert_int_equal(r->conn.role, t->role);
	assert_int_equal(r->conn.kd_bits, t->kd_bits);
	n = test_unhex(t->key, want, sizeof(want));
	assert_int_equal(r->conn.master_key_len, n);
	assert_memory_equal(r->conn.master_key, want, n);
	n = test_unhex(t->salt, want, sizeof(want));
	assert_int_equal(r->conn.master_salt_len, n);
	assert_memory_equal(r->conn.master_salt, want, n);
	assert_int_equal(r->conn.window, t->window);
	assert_int_equal(r->conn.seq, 0);
	assert_string_equal(r->conn.remote_host, t->host);
	assert_int_equal(r->conn.remote_port, t->port);
	assert_int_equal(r->conn.has_remote, t->has_remote);
	assert_int_equal(r->conn.remote.ss_family, strchr(t->host, ':') ? AF_INET6 : AF_INET);
}

static void test_good(void **state)
{
	struct satp_sync_record r;
	char err[ERR_LEN];
	size_t i, used;
	int ret;

	for (i = 0; i < ARRAY_SIZE(good_cases); i++) {
		const struct good_case *t = &good_cases[i];

		ret =
		    satp_sync_parse_frame(t->frame, strlen(t->frame), &r, &used, err, sizeof(err));
		if (ret)
			fail_msg("%s: %d %s", t->name, ret, err);
		assert_int_equal(used, strlen(t->frame));
		check_good(t, &r);
	}
}

/* The passphrase rows agree with the core's own -E derivation (satp.md §4). */
static void test_passphrase_keys(void **state)
{
	struct satp_sync_record r;
	uint8_t key[24], salt[SATP_SALT_LEN];
	char err[ERR_LEN];
	size_t used;

	assert_int_equal(satp_sync_parse_frame(good_cases[1].frame, strlen(good_cases[1].frame), &r,
					       &used, err, sizeof(err)),
			 0);
	assert_int_equal(satp_passphrase_key("satp test passphrase", key, 16), 0);
	assert_int_equal(satp_passphrase_salt("satp test passphrase", salt), 0);
	assert_memory_equal(r.conn.master_key, key, 16);
	assert_memory_equal(r.conn.master_salt, salt, sizeof(salt));
	assert_int_equal(satp_sync_parse_frame(good_cases[3].frame, strlen(good_cases[3].frame), &r,
					       &used, err, sizeof(err)),
			 0);
	assert_int_equal(satp_passphrase_key("x", key, 24), 0);
	assert_memory_equal(r.conn.master_key, key, 24);
}

struct bad_case {
	const char *name;
	const char *frame;
	int ret;
	const char *err; /* substring of the message */
	size_t len;	 /* 0: strlen(frame) */
};

#define BODY(s)	 "00000 " s /* the length is patched in by test_bad */
#define HOST_NUL BODY(HDR "10 connection 0 0 3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 7 0.0\0.00 1")

static const struct bad_case bad_cases[] = {
    /* framing */
    {"letter in length", "0019a " HDR, -EPROTO, "frame header '0019a'", 0},
    {"no space after length", "00199x", -EPROTO, "frame header '00199x'", 0},
    {"leading space", " 0199 ", -EPROTO, "frame header ' '", 0},
    {"anytun-config's newline first", "\n00070 ", -EPROTO, "frame header '\\x0a'", 0},
    {"length above max", "99999 ", -EPROTO, "frame length '99999' is above 1024", 0},
    {"empty body", "00000 ", -EBADMSG, "empty body", 0},
    /* real anytun-config output that anytun refuses too */
    {"-k aes-ctr-256 with a 16-byte -K",
     "00193 " HDR "10 connection 0 0 3 0 0 0 0 0 256 0 0 14 160 161 162 163 164 165 166 167 168 "
     "169 170 171 172 173 16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0 0 0 0 7 0.0.0.0 4444",
     -EBADMSG, "the master key is 16 bytes, the key length needs 32", 0},
    {"no -A",
     "00136 " HDR "10 connection 0 0 3 0 0 0 0 0 128 0 0 0 16 0 1 2 3 4 5 6 7 8 9 10 "
     "11 12 13 14 15 0 0 0 0 7 0.0.0.0 4444",
     -EBADMSG, "the master salt is 0 bytes, the key length needs 14", 0},
    {"no -K -A", "00097 " HDR "10 connection 0 0 1 0 0 0 0 0 128 0 0 0 0 0 0 0 0 7 0.0.0.0 4444",
     -EBADMSG, "the master salt is 0 bytes", 0},
    {"-R 10.0.0.0/33", "00070 " HDR "5 route 0 0 0 0 33 0 0 0 8 10.0.0.0 1", -EBADMSG,
     "prefix length '33' is longer than an IPv4 address", 0},
    {"-R ::/129", "00065 " HDR "5 route 0 0 0 0 129 0 0 1 2 :: 3", -EBADMSG,
     "prefix length '129' is out of range (0..128)", 0},
    /* archive header */
    {"wrong archive tag", BODY("22 serialization::archivX 18 0 0 5 route"), -EBADMSG,
     "archive signature 'serialization::archivX' is not 'serialization::archive'", 0},
    {"signature length off", BODY("21 serialization::archive 18"), -EBADMSG,
     "archive signature 'serialization::archiv' is not 'serialization::archive'", 0},
    {"text, not an archive", BODY("hello world"), -EBADMSG,
     "length of archive signature 'hello' is not a decimal number", 0},
    {"version 17", BODY("22 serialization::archive 17 0 0 5 route"), -EPROTONOSUPPORT,
     "Boost archive version '17' is not supported (accepted: 18..20)", 0},
    {"version 21", BODY("22 serialization::archive 21 0 0 5 route"), -EPROTONOSUPPORT,
     "version '21'", 0},
    {"tracked command", BODY("22 serialization::archive 18 1 0 5 route"), -EBADMSG,
     "tracking level of the sync command '1' is out of range (0..0)", 0},
    {"versioned class", BODY(HDR "5 route 0 0 0 1 16"), -EBADMSG,
     "class version of the network prefix '1' is out of range (0..0)", 0},
    {"unknown command", BODY(HDR "4 ping 0 0"), -EBADMSG,
     "command 'ping' is neither 'connection' nor 'route'", 0},
    {"command too long", BODY(HDR "40 connectionconnectionconnectionconnection"), -EBADMSG,
     "length of command '40' is out of range (0..31)", 0},
    /* numbers */
    {"mux 65536", BODY(HDR "10 connection 0 0 65536 0 0"), -EBADMSG,
     "mux '65536' is out of range (0..65535)", 0},
    {"mux -1", BODY(HDR "10 connection 0 0 -1 0 0"), -EBADMSG, "mux '-1' is not a decimal number",
     0},
    {"mux +5", BODY(HDR "10 connection 0 0 +5 0 0"), -EBADMSG, "mux '+5' is not a decimal", 0},
    {"mux 11 digits", BODY(HDR "10 connection 0 0 00000000005 0 0"), -EBADMSG,
     "mux '00000000005' is not a decimal number", 0},
    {"role 2", BODY(HDR "10 connection 0 0 5 0 0 0 0 2 128"), -EBADMSG,
     "role '2' is out of range (0..1)", 0},
    {"key length 127", BODY(HDR "10 connection 0 0 5 0 0 0 0 1 127 0 0"), -EBADMSG,
     "key length '127' is not 0, 128, 192 or 256", 0},
    {"salt byte 256", BODY(HDR "10 connection 0 0 5 0 0 0 0 1 128 0 0 14 256"), -EBADMSG,
     "a byte of the master salt '256' is out of range (0..255)", 0},
    {"window 2^32",
     BODY(HDR "10 connection 0 0 5 0 0 0 0 0 0 0 0 0 0 0 0 4294967296 0 7 0.0.0.0 4444"), -EBADMSG,
     "window size '4294967296' is out of range (0..4294967295)", 0},
    {"seq 2^32", BODY(HDR "10 connection 0 0 5 0 0 0 0 0 0 0 0 0 0 0 0 1 4294967296 7"), -EBADMSG,
     "sequence number '4294967296' is out of range", 0},
    {"port 65536", BODY(HDR "10 connection 0 0 5 0 0 0 0 0 0 0 0 0 0 0 0 1 0 7 0.0.0.0 65536"),
     -EBADMSG, "remote port '65536' is out of range (0..65535)", 0},
    {"host name", BODY(HDR "10 connection 0 0 5 0 0 0 0 0 0 0 0 0 0 0 0 1 0 4 host 1"), -EBADMSG,
     "remote host 'host' is not a numeric IPv4 or IPv6 address", 0},
    {"host too long", BODY(HDR "10 connection 0 0 5 0 0 0 0 0 0 0 0 0 0 0 0 1 0 64 "), -EBADMSG,
     "length of remote host '64' is out of range (0..63)", 0},
    {"host truncated", BODY(HDR "10 connection 0 0 5 0 0 0 0 0 0 0 0 0 0 0 0 1 0 9 10.0.0.1"),
     -EBADMSG, "remote host is truncated: 9 bytes announced, 8 left", 0},
    {"host with NUL", HOST_NUL, -EBADMSG, "remote host holds a NUL byte", sizeof(HOST_NUL) - 1},
    {"address type 3", BODY(HDR "5 route 0 0 0 0 16 0 0 3 8 10.1.0.0 5"), -EBADMSG,
     "address type '3' is out of range (0..2)", 0},
    {"Ethernet route", BODY(HDR "5 route 0 0 0 0 48 0 0 2 17 aa:bb:cc:dd:ee:ff 5"), -EOPNOTSUPP,
     "Ethernet route: not supported", 0},
    {"IPv6 address as IPv4", BODY(HDR "5 route 0 0 0 0 8 0 0 0 6 fd00:: 5"), -EBADMSG,
     "route address 'fd00::' is not an IPv4 address", 0},
    /* token counts and separators */
    {"extra token", BODY(HDR "5 route 0 0 0 0 16 0 0 0 8 10.1.0.0 5 7"), -EBADMSG,
     "2 bytes after the last field: ' 7'", 0},
    {"trailing space", BODY(HDR "5 route 0 0 0 0 16 0 0 0 8 10.1.0.0 5 "), -EBADMSG,
     "1 bytes after the last field: ' '", 0},
    {"newline in body", BODY(HDR "5 route 0 0 0 0 16 0 0 0 8 10.1.0.0 5\n"), -EBADMSG,
     "route mux '5\\x0a' is not a decimal number", 0},
    {"two spaces", BODY(HDR "5 route 0 0  0 0 16"), -EBADMSG,
     "tracking level of the network prefix is empty (two spaces)", 0},
    {"missing mux", BODY(HDR "5 route 0 0 0 0 16 0 0 0 8 10.1.0.0"), -EBADMSG,
     "body ends before route mux", 0},
    {"tab separator", BODY(HDR "5 route\t0 0"), -EBADMSG, "expected one space before", 0},
};

static void test_bad(void **state)
{
	struct satp_sync_record r;
	char frame[SATP_SYNC_FRAME_MAX], err[ERR_LEN];
	size_t i, len, used;
	int ret;

	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *t = &bad_cases[i];

		len = t->len ? t->len : strlen(t->frame);
		memcpy(frame, t->frame, len);
		if (!strncmp(t->frame, "00000 ", 6) && len > 6) {
			char hdr[24];

			snprintf(hdr, sizeof(hdr), "%05zu ", len - 6);
			memcpy(frame, hdr, 6);
		}
		err[0] = 0;
		ret = satp_sync_parse_frame(frame, len, &r, &used, err, sizeof(err));
		if (ret != t->ret || !strstr(err, t->err))
			fail_msg("%s: got %d '%s', want %d '%s'", t->name, ret, err, t->ret,
				 t->err);
		if (ret != -EPROTO)
			assert_int_equal(used, len);
		satp_sync_record_wipe(&r);
	}
}

/* Every good frame cut short: incomplete; its body cut short: refused, bar the last number. */
static void test_truncated(void **state)
{
	struct satp_sync_record r, full;
	char err[ERR_LEN];
	size_t i, l, used, n, body_len, last_space;
	const char *body;
	int ret;

	for (i = 0; i < ARRAY_SIZE(good_cases); i++) {
		const char *f = good_cases[i].frame;

		n = strlen(f);
		assert_int_equal(satp_sync_parse_frame(f, n, &full, &used, err, sizeof(err)), 0);
		for (l = 0; l < n; l++)
			assert_int_equal(satp_sync_parse_frame(f, l, &r, &used, err, sizeof(err)),
					 -EAGAIN);
		body = f + SATP_SYNC_HDR_LEN;
		body_len = n - SATP_SYNC_HDR_LEN;
		last_space = (size_t)(strrchr(body, ' ') - body);
		for (l = 0; l < body_len; l++) {
			err[0] = 0;
			ret = satp_sync_parse_body(body, l, &r, err, sizeof(err));
			if (ret == 0) {
				/* Only a shorter last number can parse, to another value. */
				assert_true(l > last_space + 1);
				assert_memory_not_equal(&r, &full, sizeof(r));
				continue;
			}
			/* "18" cut to "1" is an unknown version rather than malformed */
			if ((ret != -EBADMSG && ret != -EPROTONOSUPPORT) || !err[0])
				fail_msg("%s cut at %zu: %d '%s'", good_cases[i].name, l, ret, err);
		}
	}
}

/* Several frames back to back, as anytun-controld sends them (no newline between). */
static void test_stream(void **state)
{
	const char stream[] = CONN_RIGHT ROUTE_V4 ROUTE_V6;
	struct satp_sync_record r;
	char err[ERR_LEN];
	size_t off = 0, used;
	int types[3], k = 0;

	while (off < sizeof(stream) - 1) {
		assert_int_equal(satp_sync_parse_frame(stream + off, sizeof(stream) - 1 - off, &r,
						       &used, err, sizeof(err)),
				 0);
		assert_true(k < 3);
		types[k++] = r.type;
		off += used;
	}
	assert_int_equal(k, 3);
	assert_int_equal(types[0], CONN);
	assert_int_equal(types[1], ROUTE);
	assert_int_equal(types[2], ROUTE);
}

static void test_format(void **state)
{
	static const struct {
		const char *frame, *line;
	} cases[] = {
	    {CONN_RIGHT, "Client 5: 10.200.0.2:4444"},
	    {ROUTE_V4, "Route: 10.1.0.0/16 -> 5"},
	    {ROUTE_V6, "Route: fd00::/8 -> 5"},
	};
	struct satp_sync_record r;
	char err[ERR_LEN], line[128];
	size_t i, used;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(satp_sync_parse_frame(cases[i].frame, strlen(cases[i].frame), &r,
						       &used, err, sizeof(err)),
				 0);
		satp_sync_format(&r, line, sizeof(line));
		assert_string_equal(line, cases[i].line);
	}
	assert_int_equal(satp_sync_parse_frame(good_cases[4].frame, strlen(good_cases[4].frame), &r,
					       &used, err, sizeof(err)),
			 0);
	satp_sync_format(&r, line, sizeof(line));
	assert_string_equal(line, "Client 65535: [fd00::2]:1");
	assert_int_equal(satp_sync_parse_frame(good_cases[6].frame, strlen(good_cases[6].frame), &r,
					       &used, err, sizeof(err)),
			 0);
	satp_sync_format(&r, line, sizeof(line));
	assert_string_equal(line, "Client 3: not registered");
}

/* The record's keys work with the core: same as keys made from the hex options. */
static void test_conn_keys(void **state)
{
	struct satp_keys k, want;
	struct satp_sync_record r;
	struct satp_algos a;
	struct satp_crypto c;
	char err[ERR_LEN];
	size_t used;

	satp_algos_default(&a);
	assert_int_equal(
	    satp_sync_parse_frame(CONN_RIGHT, strlen(CONN_RIGHT), &r, &used, err, sizeof(err)), 0);
	assert_int_equal(satp_sync_conn_keys(&r.conn, &a, &k), 0);
	test_keys(&want, &a, SATP_ROLE_RIGHT, KEY128, SALT);
	assert_int_equal(k.role, want.role);
	assert_int_equal(k.algos.kd_bits, 128);
	assert_int_equal(k.master_key_len, want.master_key_len);
	assert_memory_equal(k.master_key, want.master_key, want.master_key_len);
	assert_memory_equal(k.master_salt, want.master_salt, SATP_SALT_LEN);
	assert_int_equal(satp_crypto_init(&c, &k), 0);
	satp_crypto_free(&c);
	/* kd null with a cipher: refused */
	assert_int_equal(satp_sync_parse_frame(good_cases[6].frame, strlen(good_cases[6].frame), &r,
					       &used, err, sizeof(err)),
			 0);
	assert_int_equal(satp_sync_conn_keys(&r.conn, &a, &k), -EINVAL);
}

static void test_hostport(void **state)
{
	static const struct {
		const char *in;
		bool no_host;
		int ret;
		const char *host, *port;
	} cases[] = {
	    {"127.0.0.1", false, 0, "127.0.0.1", "2323"},
	    {"127.0.0.1:2399", false, 0, "127.0.0.1", "2399"},
	    {"127.0.0.1:02399", false, 0, "127.0.0.1", "2399"},
	    {"ctl.example", false, 0, "ctl.example", "2323"},
	    {"[fd00::1]:7", false, 0, "fd00::1", "7"},
	    {"[fd00::1]", false, 0, "fd00::1", "2323"},
	    {":2399", true, 0, "", "2399"},
	    {":2399", false, -EINVAL, NULL, NULL},
	    {"fd00::1", false, -EINVAL, NULL, NULL},
	    {"h:0", false, -EINVAL, NULL, NULL},
	    {"h:65536", false, -EINVAL, NULL, NULL},
	    {"h:", false, -EINVAL, NULL, NULL},
	    {"h:12x", false, -EINVAL, NULL, NULL},
	    {"h:-1", false, -EINVAL, NULL, NULL},
	    {"[fd00::1", false, -EINVAL, NULL, NULL},
	    {"[fd00::1]x", false, -EINVAL, NULL, NULL},
	    {"", false, -EINVAL, NULL, NULL},
	};
	char host[64], port[8], err[ERR_LEN];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		err[0] = 0;
		int ret =
		    satp_sync_split_hostport(cases[i].in, cases[i].no_host, host, sizeof(host),
					     port, sizeof(port), err, sizeof(err));

		if (ret != cases[i].ret)
			fail_msg("'%s': %d", cases[i].in, ret);
		if (ret) {
			assert_non_null(strstr(err, cases[i].in));
			continue;
		}
		assert_string_equal(host, cases[i].host);
		assert_string_equal(port, cases[i].port);
	}
}

/* ---- the client against a listener in this process ---- */

struct seen {
	int n;
	char lines[16][64];
};

static void on_record(void *arg, const struct satp_sync_record *rec)
{
	struct seen *s = arg;

	if (s->n < 16)
		satp_sync_format(rec, s->lines[s->n], sizeof(s->lines[0]));
	s->n++;
}

static int listen_any(uint16_t *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Run the client until cond() holds, at most ~5 s. */
static void pump(struct satp_sync_client *c, bool (*cond)(struct satp_sync_client *, void *),
		 void *arg)
{
	struct pollfd p = {.fd = satp_sync_client_fd(c), .events = POLLIN};
	int i;

	for (i = 0; i < 500 && !cond(c, arg); i++) {
		poll(&p, 1, 10);
		assert_int_equal(satp_sync_client_dispatch(c), 0);
	}
	assert_true(cond(c, arg));
}

static bool is_connected(struct satp_sync_client *c, void *arg)
{
	return satp_sync_client_connected(c);
}

static bool is_disconnected(struct satp_sync_client *c, void *arg)
{
	return !satp_sync_client_connected(c);
}

static bool has_records(struct satp_sync_client *c, void *arg)
{
	struct satp_sync_client_stats st;

	satp_sync_client_stats(c, &st);
	return st.records + st.skipped >= *(uint64_t *)arg;
}

static void test_client(void **state)
{
	static const char bad_body[] = "00010 0123456789";
	static const char all[] = CONN_RIGHT ROUTE_V4;
	struct seen seen = {0};
	struct satp_sync_client_ops ops = {.record = on_record, .arg = &seen, .reconnect_ms = 50};
	struct satp_sync_client_stats st;
	struct satp_sync_client *c = NULL;
	char portstr[8], err[ERR_LEN];
	uint64_t want;
	uint16_t port;
	int lfd, s;
	size_t i;

	lfd = listen_any(&port);
	snprintf(portstr, sizeof(portstr), "%u", port);
	assert_int_equal(satp_sync_client_new(&c, "127.0.0.1", portstr, &ops, err, sizeof(err)), 0);
	pump(c, is_connected, NULL);
	s = accept(lfd, NULL, NULL);
	assert_true(s >= 0);

	/* One byte at a time, a bad body in between: skipped, the stream goes on. */
	for (i = 0; i < strlen(CONN_RIGHT); i++) {
		assert_int_equal(write(s, CONN_RIGHT + i, 1), 1);
		assert_int_equal(satp_sync_client_dispatch(c), 0);
		usleep(100);
	}
	assert_int_equal(write(s, bad_body, strlen(bad_body)), (ssize_t)strlen(bad_body));
	assert_int_equal(write(s, ROUTE_V4, strlen(ROUTE_V4)), (ssize_t)strlen(ROUTE_V4));
	want = 3;
	pump(c, has_records, &want);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.lines[0], "Client 5: 10.200.0.2:4444");
	assert_string_equal(seen.lines[1], "Route: 10.1.0.0/16 -> 5");

	/* A broken header: the client hangs up and comes back; the server resends all. */
	assert_int_equal(write(s, "x", 1), 1);
	pump(c, is_disconnected, NULL);
	close(s);
	pump(c, is_connected, NULL);
	s = accept(lfd, NULL, NULL);
	assert_true(s >= 0);
	assert_int_equal(write(s, all, sizeof(all) - 1), (ssize_t)sizeof(all) - 1);
	want = 5;
	pump(c, has_records, &want);
	assert_int_equal(seen.n, 4);
	assert_string_equal(seen.lines[3], "Route: 10.1.0.0/16 -> 5");

	/* The server goes away: reconnect attempts fail until it listens again. */
	close(s);
	pump(c, is_disconnected, NULL);
	satp_sync_client_stats(c, &st);
	assert_int_equal(st.connects, 2);
	assert_int_equal(st.disconnects, 2);
	assert_int_equal(st.records, 4);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.stream_errors, 1);
	close(lfd);
	satp_sync_client_free(c);
}

static void test_client_unresolvable(void **state)
{
	struct satp_sync_client_ops ops = {.record = on_record};
	struct satp_sync_client *c = NULL;
	char err[ERR_LEN];

	assert_int_equal(
	    satp_sync_client_new(&c, "no such host.invalid", "2323", &ops, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "sync server 'no such host.invalid:2323'"));
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),      cmocka_unit_test(test_passphrase_keys),
	    cmocka_unit_test(test_bad),	      cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_stream),    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_conn_keys), cmocka_unit_test(test_hostport),
	    cmocka_unit_test(test_client),    cmocka_unit_test(test_client_unresolvable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
