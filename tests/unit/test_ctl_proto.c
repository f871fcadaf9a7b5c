// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control protocol (user/lib/ctl_proto.h): a table of requests, each with
 * the fields it must give or the error (quoting the offending text) it must
 * raise; every good request survives format -> parse unchanged; a snapshot
 * survives format_reply -> parse_reply; replies from a newer daemon (unknown
 * keys) are read, malformed ones refused.
 */
#include <errno.h>
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "satp_test_util.h"

struct req_case {
	const char *name;
	const char *text; /* sent as is: strlen(text) bytes */
	int ret;
	const char *err; /* substring of the message on error */
	enum satp_ctl_op op;
	uint32_t present;
};

/* A request the parser must refuse with a message holding err. */
#define BAD(name, text, err)                                                                       \
	{                                                                                          \
		name, text, -EINVAL, err, SATP_CTL_OP_NONE, 0                                      \
	}

#define ADD	     "op=add-conn\nmux=5\nkey=" KEY128 "\n"
#define SESSION_KEYS "tx-key=" KEY128 "\ntx-salt=" SALT "\nrx-key=" KEY256 "\nrx-salt=" SALT "\n"
#define F_SESSION_KEYS                                                                             \
	(SATP_CTL_F_TX_KEY | SATP_CTL_F_TX_SALT | SATP_CTL_F_RX_KEY | SATP_CTL_F_RX_SALT)

static const struct req_case req_cases[] = {
    /* good */
    {"show", "op=show\n\n", 0, NULL, SATP_CTL_OP_SHOW, 0},
    {"show, no empty line", "op=show\n", 0, NULL, SATP_CTL_OP_SHOW, 0},
    {"add minimal", ADD "\n", 0, NULL, SATP_CTL_OP_ADD_CONN, SATP_CTL_F_MUX | SATP_CTL_F_KEY},
    {"add full",
     "op=add-conn\nmux=65535\nsender=7\nwindow=4096\nrole=bob\nremote=[fd00::1]:4444\n"
     "key=" KEY256 "\nsalt=" SALT "\ncipher=aes-ctr-256\nauth=sha1\nkd-prf=aes-ctr-256\n"
     "tag-len=20\n\n",
     0, NULL, SATP_CTL_OP_ADD_CONN,
     SATP_CTL_F_MUX | SATP_CTL_F_SENDER | SATP_CTL_F_WINDOW | SATP_CTL_F_ROLE | SATP_CTL_F_REMOTE |
	 SATP_CTL_F_KEY | SATP_CTL_F_SALT | SATP_CTL_F_CIPHER | SATP_CTL_F_AUTH |
	 SATP_CTL_F_KD_PRF | SATP_CTL_F_TAG_LEN},
    {"add passphrase", "op=add-conn\nmux=0\npassphrase=a b=c\nremote=host.example:1\n\n", 0, NULL,
     SATP_CTL_OP_ADD_CONN, SATP_CTL_F_MUX | SATP_CTL_F_PASSPHRASE | SATP_CTL_F_REMOTE},
    {"change window", "op=change-conn\nmux=5\nwindow=0\n\n", 0, NULL, SATP_CTL_OP_CHANGE_CONN,
     SATP_CTL_F_MUX | SATP_CTL_F_WINDOW},
    {"del", "op=del-conn\nmux=5\n\n", 0, NULL, SATP_CTL_OP_DEL_CONN, SATP_CTL_F_MUX},
    {"set-keys grace", "op=set-keys\nmux=5\nkey=" KEY128 "\nsalt=" SALT "\ngrace=30\n\n", 0, NULL,
     SATP_CTL_OP_SET_KEYS, SATP_CTL_F_MUX | SATP_CTL_F_KEY | SATP_CTL_F_SALT | SATP_CTL_F_GRACE},
    {"reset-window", "op=reset-window\nsender=3\nmux=5\n\n", 0, NULL, SATP_CTL_OP_RESET_WINDOW,
     SATP_CTL_F_MUX | SATP_CTL_F_SENDER},
    {"set-session minimal", "op=set-session\nmux=5\n" SESSION_KEYS "\n", 0, NULL,
     SATP_CTL_OP_SET_SESSION, SATP_CTL_F_MUX | F_SESSION_KEYS},
    {"set-session full",
     "op=set-session\nmux=5\n" SESSION_KEYS "session=18446744073709551615\ngrace=0\n\n", 0, NULL,
     SATP_CTL_OP_SET_SESSION,
     SATP_CTL_F_MUX | F_SESSION_KEYS | SATP_CTL_F_SESSION | SATP_CTL_F_GRACE},
    {"del-session", "op=del-session\nmux=5\n\n", 0, NULL, SATP_CTL_OP_DEL_SESSION, SATP_CTL_F_MUX},
    {"add with routes", ADD "route=10.1.0.0/16\nroute=fd00::/64\nroute=0.0.0.0/0\n\n", 0, NULL,
     SATP_CTL_OP_ADD_CONN, SATP_CTL_F_MUX | SATP_CTL_F_KEY | SATP_CTL_F_ROUTE},
    {"add-route", "op=add-route\nroute=10.1.0.0/16\nmux=3\n\n", 0, NULL, SATP_CTL_OP_ADD_ROUTE,
     SATP_CTL_F_MUX | SATP_CTL_F_ROUTE},
    {"add-route host bits", "op=add-route\nmux=3\nroute=10.1.2.3/16\nroute=::/0\n\n", 0, NULL,
     SATP_CTL_OP_ADD_ROUTE, SATP_CTL_F_MUX | SATP_CTL_F_ROUTE},
    {"del-route any mux", "op=del-route\nroute=fd00::1/128\n\n", 0, NULL, SATP_CTL_OP_DEL_ROUTE,
     SATP_CTL_F_ROUTE},
    {"del-route of a mux", "op=del-route\nroute=10.0.0.0/8\nmux=9\n\n", 0, NULL,
     SATP_CTL_OP_DEL_ROUTE, SATP_CTL_F_ROUTE | SATP_CTL_F_MUX},

    /* framing */
    BAD("empty", "", "empty request"),
    BAD("only empty line", "\n", "empty request"),
    BAD("no newline", "op=show", "line 1 'op=show': not ended by a newline"),
    BAD("CR", "op=show\r\n\n", "NUL or CR"),
    BAD("bytes after end", "op=show\n\nop=show\n", "bytes after the empty line"),
    BAD("no op first", "mux=5\nop=del-conn\n\n", "line 1 'mux=5': a request starts with op="),
    BAD("unknown op", "op=reboot\n\n", "unknown op 'reboot'"),
    BAD("op twice", "op=show\nop=show\n\n", "unknown key 'op'"),

    /* fields */
    BAD("no equals", "op=del-conn\nmux\n\n", "line 2 'mux': expected key=value"),
    BAD("unknown key", "op=del-conn\nmux=5\nmuxx=5\n\n", "line 3: unknown key 'muxx'"),
    BAD("key of another op", "op=del-conn\nmux=5\ngrace=3\n\n",
	"key 'grace' does not belong to op=del-conn"),
    BAD("show takes nothing", "op=show\nmux=1\n\n", "does not belong to op=show"),
    BAD("twice", "op=del-conn\nmux=5\nmux=6\n\n", "line 3: key 'mux' given twice"),
    BAD("mux too big", "op=del-conn\nmux=65536\n\n", "invalid mux '65536'"),
    BAD("mux negative", "op=del-conn\nmux=-1\n\n", "invalid mux '-1'"),
    BAD("mux plus", "op=del-conn\nmux=+1\n\n", "invalid mux '+1'"),
    BAD("mux leading zero", "op=del-conn\nmux=05\n\n", "invalid mux '05'"),
    BAD("mux space", "op=del-conn\nmux= 5\n\n", "invalid mux ' 5'"),
    BAD("mux empty", "op=del-conn\nmux=\n\n", "invalid mux ''"),
    BAD("mux hex", "op=del-conn\nmux=0x5\n\n", "invalid mux '0x5'"),
    BAD("window too big", "op=change-conn\nmux=1\nwindow=4097\n\n", "invalid window '4097'"),
    BAD("grace too long", "op=set-keys\nmux=1\nkey=" KEY128 "\ngrace=86401\n\n",
	"invalid grace '86401'"),
    BAD("tag too long", "op=change-conn\nmux=1\ntag-len=21\n\n", "invalid tag-len '21'"),
    BAD("bad role", "op=change-conn\nmux=1\nrole=middle\n\n", "invalid role 'middle'"),
    BAD("bad cipher", "op=change-conn\nmux=1\ncipher=des\n\n", "invalid cipher 'des'"),
    BAD("bad auth", "op=change-conn\nmux=1\nauth=md5\n\n", "invalid auth 'md5'"),
    BAD("bad kd", "op=change-conn\nmux=1\nkd-prf=x\n\n", "invalid kd-prf 'x'"),
    BAD("remote no port", "op=change-conn\nmux=1\nremote=10.0.0.1\n\n",
	"invalid remote '10.0.0.1'"),
    BAD("remote port 0", "op=change-conn\nmux=1\nremote=10.0.0.1:0\n\n",
	"invalid remote '10.0.0.1:0'"),
    BAD("remote bare v6", "op=change-conn\nmux=1\nremote=fd00::1:4444\n\n",
	"invalid remote 'fd00::1:4444'"),
    BAD("remote space", "op=change-conn\nmux=1\nremote=a b:1\n\n", "invalid remote 'a b:1'"),
    BAD("remote port leading zero", "op=change-conn\nmux=1\nremote=h:080\n\n",
	"invalid remote 'h:080'"),
    BAD("short key (not quoted)", "op=add-conn\nmux=1\nkey=00112233\n\n",
	"invalid key: expected 32, 48 or 64 hex digits, got 8 characters"),
    BAD("bad salt", "op=set-keys\nmux=1\nkey=" KEY128 "\nsalt=zz\n\n",
	"invalid salt: expected 28 hex digits, got 2"),
    BAD("empty passphrase", "op=add-conn\nmux=1\npassphrase=\n\n", "invalid passphrase"),
    BAD("route no length", "op=add-route\nmux=1\nroute=10.0.0.0\n\n",
	"invalid route '10.0.0.0': expected ADDRESS/LENGTH"),
    BAD("route v4 too long", "op=add-route\nmux=1\nroute=10.0.0.0/33\n\n",
	"invalid route '10.0.0.0/33'"),
    BAD("route v6 too long", "op=add-route\nmux=1\nroute=fd00::/129\n\n",
	"invalid route 'fd00::/129'"),
    BAD("route not an address", "op=add-route\nmux=1\nroute=10.0.0.256/8\n\n",
	"invalid route '10.0.0.256/8'"),
    BAD("route length sign", "op=add-route\nmux=1\nroute=10.0.0.0/+8\n\n",
	"invalid route '10.0.0.0/+8'"),
    BAD("route empty", "op=del-route\nroute=\n\n", "invalid route ''"),
    BAD("route in change", "op=change-conn\nmux=1\nroute=10.0.0.0/8\n\n",
	"key 'route' does not belong to op=change-conn"),
    BAD("route in del-conn", "op=del-conn\nmux=1\nroute=10.0.0.0/8\n\n",
	"key 'route' does not belong to op=del-conn"),
    BAD("add-route without mux", "op=add-route\nroute=10.0.0.0/8\n\n", "op=add-route needs mux="),
    BAD("add-route without route", "op=add-route\nmux=1\n\n", "op=add-route needs route="),
    BAD("del-route without route", "op=del-route\nmux=1\n\n", "op=del-route needs route="),

    /* completeness */
    BAD("del without mux", "op=del-conn\n\n", "op=del-conn needs mux="),
    BAD("add without key", "op=add-conn\nmux=1\n\n", "needs key= or passphrase="),
    BAD("set-keys without key", "op=set-keys\nmux=1\ngrace=3\n\n", "needs key= or passphrase="),
    BAD("key and passphrase", ADD "passphrase=x\n\n", "exclude each other"),
    BAD("salt and passphrase", "op=add-conn\nmux=1\npassphrase=x\nsalt=" SALT "\n\n",
	"salt= and passphrase= exclude each other"),
    BAD("change nothing", "op=change-conn\nmux=1\n\n", "changes nothing"),
    BAD("reset without sender", "op=reset-window\nmux=1\n\n", "op=reset-window needs sender="),
    BAD("session without rx-salt",
	"op=set-session\nmux=1\ntx-key=" KEY128 "\ntx-salt=" SALT "\nrx-key=" KEY128 "\n\n",
	"op=set-session needs rx-salt="),
    BAD("session past 64 bits",
	"op=set-session\nmux=5\n" SESSION_KEYS "session=18446744073709551616\n\n",
	"invalid session '18446744073709551616': expected a number 0..18446744073709551615"),
    BAD("session without mux", "op=set-session\n" SESSION_KEYS "\n", "op=set-session needs mux="),
    BAD("session with key=", "op=set-session\nmux=1\nkey=" KEY128 "\n\n",
	"key 'key' does not belong to op=set-session"),
    BAD("session short tx-key (not quoted)", "op=set-session\nmux=1\ntx-key=0011\n\n",
	"invalid tx-key: expected 32, 48 or 64 hex digits, got 4 characters"),
    BAD("session bad rx-key (not quoted)", "op=set-session\nmux=1\nrx-key=" SALT "zz\n\n",
	"invalid rx-key: expected 32, 48 or 64 hex digits, got 30 characters"),
    BAD("session bad tx-salt", "op=set-session\nmux=1\ntx-salt=" KEY128 "\n\n",
	"invalid tx-salt: expected 28 hex digits, got 32 characters"),
    BAD("session number too big", "op=set-session\nmux=1\nsession=18446744073709551616\n\n",
	"invalid session '18446744073709551616'"),
    BAD("session number negative", "op=set-session\nmux=1\nsession=-1\n\n", "invalid session '-1'"),
    BAD("session twice", "op=set-session\nmux=1\nsession=1\nsession=2\n\n",
	"key 'session' given twice"),
    BAD("del-session takes no keys", "op=del-session\nmux=1\n" SESSION_KEYS "\n",
	"key 'tx-key' does not belong to op=del-session"),
};

static void test_requests(void **state)
{
	struct satp_ctl_msg m, again;
	char err[256], buf[SATP_CTL_REQ_MAX];
	size_t i;
	int n;

	for (i = 0; i < ARRAY_SIZE(req_cases); i++) {
		const struct req_case *c = &req_cases[i];
		int ret = satp_ctl_parse(c->text, strlen(c->text), &m, err, sizeof(err));

		if (ret != c->ret || (c->err && !strstr(err, c->err)))
			fail_msg("case '%s': ret %d (want %d), err '%s' (want '%s')", c->name, ret,
				 c->ret, err, c->err ? c->err : "");
		if (ret)
			continue;
		assert_int_equal(m.op, c->op);
		assert_int_equal(m.present, c->present);
		n = satp_ctl_format(&m, buf, sizeof(buf));
		assert_true(n > 0);
		if (satp_ctl_parse(buf, (size_t)n, &again, err, sizeof(err)))
			fail_msg("case '%s': own output refused: %s\n%s", c->name, err, buf);
		if (memcmp(&m, &again, sizeof(m)))
			fail_msg("case '%s': format -> parse changed the message", c->name);
	}
}

/* route= lines: parsed in order, as bytes; repeatable up to the limit and no further. */
static void test_routes(void **state)
{
	static const char req[] = "op=add-route\nmux=3\nroute=10.1.2.0/24\nroute=fd00:1::/32\n\n";
	static const uint8_t v4[4] = {10, 1, 2, 0}, v6[16] = {0xfd, 0, 0, 1};
	static char many[SATP_CTL_REQ_MAX];
	struct satp_ctl_msg m;
	char err[256];
	size_t pos;
	int i;

	assert_int_equal(satp_ctl_parse(req, strlen(req), &m, err, sizeof(err)), 0);
	assert_int_equal(m.n_routes, 2);
	assert_int_equal(m.routes[0].family, AF_INET);
	assert_int_equal(m.routes[0].len, 24);
	assert_memory_equal(m.routes[0].addr, v4, 4);
	assert_int_equal(m.routes[1].family, AF_INET6);
	assert_int_equal(m.routes[1].len, 32);
	assert_memory_equal(m.routes[1].addr, v6, 16);
	for (i = 0, pos = 0; i <= SATP_CTL_ROUTES_MAX; i++)
		pos += (size_t)snprintf(many + pos, sizeof(many) - pos, "%sroute=10.%d.0.0/16\n",
					i ? "" : "op=add-route\nmux=1\n", i);
	assert_int_equal(satp_ctl_parse(many, pos, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "route '10.64.0.0/16': more than 64 routes"));
	/* the limit itself is fine */
	pos = (size_t)(strstr(many, "route=10.64.") - many);
	assert_int_equal(satp_ctl_parse(many, pos, &m, err, sizeof(err)), 0);
	assert_int_equal(m.n_routes, SATP_CTL_ROUTES_MAX);
}

/* Secrets never appear in an error, however bad the line around them. */
static void test_no_secret_in_errors(void **state)
{
	static const char req[] = "op=add-conn\nmux=1\nkey=" KEY128 "\nkey=" KEY128 "\n\n";
	static const char pass[] = "op=add-conn\nmux=1\npassphrase=hunter2\nsalt=xx\n\n";
	static const char sess[] =
	    "op=set-session\nmux=1\nrx-salt=" SALT "\nrx-key=" KEY256 "\nrx-key=" KEY256 "\n\n";
	struct satp_ctl_msg m;
	char err[256];

	assert_int_equal(satp_ctl_parse(req, strlen(req), &m, err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, KEY128));
	assert_int_equal(satp_ctl_parse(pass, strlen(pass), &m, err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, "hunter2"));
	/* and a refused message leaves nothing behind */
	assert_int_equal(m.key_len, 0);
	assert_int_equal(m.passphrase[0], 0);
	assert_int_equal(satp_ctl_parse(sess, strlen(sess), &m, err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, KEY256));
	assert_null(strstr(err, SALT));
	assert_int_equal(m.rx_key_len, 0);
	assert_int_equal(m.rx_key[0], 0);
}

/* Lengths and bytes a fuzzer would try: a NUL inside, a line at the limit, a huge request. */
static void test_limits(void **state)
{
	static char big[SATP_CTL_REQ_MAX + 2];
	struct satp_ctl_msg m;
	char err[256], line[SATP_CTL_LINE_MAX + 32];
	static const char nul[] = "op=del-conn\nmux=5\0\n\n";

	assert_int_equal(satp_ctl_parse(nul, sizeof(nul) - 1, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 2: contains a NUL"));
	memset(big, 'a', sizeof(big));
	assert_int_equal(satp_ctl_parse(big, sizeof(big), &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "larger than"));
	snprintf(line, sizeof(line), "op=show%*s\n\n", SATP_CTL_LINE_MAX, "");
	assert_int_equal(satp_ctl_parse(line, strlen(line), &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than"));
	/* NULL err is allowed */
	assert_int_equal(satp_ctl_parse("x", 1, &m, NULL, 0), -EINVAL);
}

static void fill_snapshot(struct satp_ctl_snapshot *s)
{
	struct satp_ctl_conn *c;

	satp_ctl_snapshot_reset(s);
	s->pid = 1234;
	strcpy(s->version, "0.1");
	strcpy(s->dev, "tun7");
	strcpy(s->xdp_ifname, "eth0");
	strcpy(s->rx_path, "xdp");
	s->started = 1700000000;
	s->workers = 2;
	s->xsk_queues = 0x8000000000000003ull;
	strcpy(s->xdp_program, "taken-over");
	s->windows_adopted = 3;
	strcpy(s->state_dir, "/var/lib/satpd/tun7");
	strcpy(s->pin_root, "/run/netns-bpf/a");
	strcpy(s->xdp_mode_requested, "native");
	strcpy(s->xdp_mode_obtained, "off");
	strcpy(s->xdp_fallback, "satp_rx on eth0 in native mode: Operation not supported");
	satp_ctl_add_counter(s->counters, &s->n_counters, "rx_bad_tag", 3);
	satp_ctl_add_counter(s->counters, &s->n_counters, "rx_replay", UINT64_MAX);
	s->n_paths = 2;
	s->paths[0] = (struct satp_ctl_path){4444, "[fd00::2]:4444", 10, 7, 3,
					     12,   1700000300,	     9,	 2, 1700000301};
	s->paths[1] = (struct satp_ctl_path){4445, "", UINT64_MAX, 0, 0, 1, 0, 0, UINT64_MAX, 0};
	c = satp_ctl_snapshot_add_conn(s);
	assert_non_null(c);
	c->mux = 5;
	c->sender_id = 1;
	strcpy(c->role, "left");
	strcpy(c->cipher, "aes-ctr-128");
	strcpy(c->auth, "sha1");
	strcpy(c->kd_prf, "aes-ctr-128");
	c->tag_len = 10;
	c->window = 64;
	strcpy(c->remote, "[fd00::2]:4444");
	c->remote_learned = 1700000100;
	c->seq_out = 42;
	c->rx_packets = 10;
	c->rx_bytes = 1000;
	c->tx_packets = 11;
	c->tx_bytes = 1100;
	c->last_rx = 1700000200;
	c->seq_resumed = 1048576;
	strcpy(c->seq_state, "tx-seq.mux5");
	satp_ctl_add_counter(c->counters, &c->n_counters, "rx_bad_tag", 1);
	satp_ctl_add_sender(c, 2, 99);
	satp_ctl_add_sender(c, 65535, UINT32_MAX);
	c = satp_ctl_snapshot_add_conn(s);
	assert_non_null(c);
	c->mux = 6;
	strcpy(c->role, "right");
}

/* Equal field by field: the connections live behind a pointer. */
static void assert_snapshots_equal(const struct satp_ctl_snapshot *a,
				   const struct satp_ctl_snapshot *b)
{
	struct satp_ctl_snapshot x = *a, y = *b;

	assert_int_equal(a->n_conns, b->n_conns);
	assert_memory_equal(a->conns, b->conns, a->n_conns * sizeof(a->conns[0]));
	x.conns = y.conns = NULL;
	x.cap_conns = y.cap_conns = 0;
	assert_memory_equal(&x, &y, sizeof(x));
}

static void test_snapshot_round_trip(void **state)
{
	static struct satp_ctl_snapshot s, back;
	static char buf[SATP_CTL_REPLY_MAX];
	char msg[256];
	int n, rerr = -1;

	fill_snapshot(&s);
	n = satp_ctl_format_reply(0, NULL, &s, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(satp_ctl_parse_reply(buf, (size_t)n, &rerr, msg, sizeof(msg), &back), 0);
	assert_int_equal(rerr, 0);
	assert_snapshots_equal(&s, &back);
	/* too small a buffer is an error, not a cut reply */
	assert_int_equal(satp_ctl_format_reply(0, NULL, &s, buf, 64), -ENOSPC);
	satp_ctl_snapshot_reset(&s);
	satp_ctl_snapshot_reset(&back);
}

/*
 * The snapshot's wire text byte for byte: fill_snapshot's reply as the daemon
 * wrote it before the field list became one table (ctl_proto.h,
 * SATP_CTL_SNAPSHOT_FIELDS): a reordered, renamed or reformatted field shows here.
 */
static void test_snapshot_wire_text(void **state)
{
	static struct satp_ctl_snapshot s;
	static char buf[16384];
	static const char want[] =
	    "errno=0\n"
	    "pid=1234\n"
	    "version=0.1\n"
	    "dev=tun7\n"
	    "xdp-ifname=eth0\n"
	    "rx-path=xdp\n"
	    "started=1700000000\n"
	    "workers=2\n"
	    "xsk-queues=8000000000000003\n"
	    "xdp-program=taken-over\n"
	    "windows-adopted=3\n"
	    "state-dir=/var/lib/satpd/tun7\n"
	    "pin-root=/run/netns-bpf/a\n"
	    "xdp-mode-requested=native\n"
	    "xdp-mode-explicit=0\n"
	    "xdp-mode-obtained=off\n"
	    "xdp-fallback=satp_rx on eth0 in native mode: Operation not supported\n"
	    "counter.rx_bad_tag=3\n"
	    "counter.rx_replay=18446744073709551615\n"
	    "rail-path=4444 10 7 3 12 1700000300 [fd00::2]:4444\n"
	    "rail-path-xdp=9 2 1700000301\n"
	    "rail-path=4445 18446744073709551615 0 0 1 0 -\n"
	    "rail-path-xdp=0 18446744073709551615 0\n"
	    "conn=5\n"
	    "sender-id=1\n"
	    "role=left\n"
	    "cipher=aes-ctr-128\n"
	    "auth=sha1\n"
	    "kd-prf=aes-ctr-128\n"
	    "tag-len=10\n"
	    "window=64\n"
	    "remote=[fd00::2]:4444\n"
	    "remote-learned=1700000100\n"
	    "seq-out=42\n"
	    "rx-packets=10\n"
	    "rx-bytes=1000\n"
	    "tx-packets=11\n"
	    "tx-bytes=1100\n"
	    "last-rx=1700000200\n"
	    "seq-resumed=1048576\n"
	    "seq-state=tx-seq.mux5\n"
	    "counter.rx_bad_tag=1\n"
	    "window-top.2=99\n"
	    "window-top.65535=4294967295\n"
	    "conn=6\n"
	    "sender-id=0\n"
	    "role=right\n"
	    "cipher=\n"
	    "auth=\n"
	    "kd-prf=\n"
	    "tag-len=0\n"
	    "window=0\n"
	    "remote=\n"
	    "remote-learned=0\n"
	    "seq-out=0\n"
	    "rx-packets=0\n"
	    "rx-bytes=0\n"
	    "tx-packets=0\n"
	    "tx-bytes=0\n"
	    "last-rx=0\n"
	    "seq-resumed=0\n"
	    "seq-state=\n"
	    "\n";
	int n;

	fill_snapshot(&s);
	n = satp_ctl_format_reply(0, NULL, &s, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(buf, want);
	satp_ctl_snapshot_reset(&s);
}

/*
 * One row per scalar field of the snapshot, at a value at the edge of its type:
 * the line read into a snapshot and written out again comes back the same. The
 * last check fails when a field is added to the reply without a row here.
 */
static const struct field_row {
	const char *line;
	bool conn; /* in a conn= section */
} field_rows[] = {
    {"pid=2147483647", false},
    {"version=0123456789abcdef0123456789abcde", false}, /* 31: the field's size less one */
    {"dev=tun-0123456789a", false},
    {"xdp-ifname=ul-0123456789ab", false},
    {"rx-path=udp", false},
    {"started=-9223372036854775808", false},
    {"workers=4294967295", false},
    {"xsk-queues=ffffffffffffffff", false},
    {"xdp-program=taken-over", false},
    {"windows-adopted=4294967295", false},
    {"state-dir=/var/lib/satpd/tun-0123456789a", false},
    {"pin-root=/proc/4242/root/sys/fs/bpf", false},
    {"xdp-mode-requested=native", false},
    {"xdp-mode-explicit=1", false},
    {"xdp-mode-obtained=skb", false},
    {"xdp-fallback=satp_rx on ul0 in native mode: Operation not supported", false},
    {"sender-id=65535", true},
    {"role=right", true},
    {"cipher=aes-ctr-256", true},
    {"auth=sha1", true},
    {"kd-prf=aes-ctr-192", true},
    {"tag-len=4294967295", true},
    {"window=4096", true},
    {"remote=[fd00::1]:4444", true},
    {"remote-learned=-1", true},
    {"seq-out=18446744073709551615", true},
    {"rx-packets=18446744073709551614", true},
    {"rx-bytes=18446744073709551613", true},
    {"tx-packets=18446744073709551612", true},
    {"tx-bytes=18446744073709551611", true},
    {"last-rx=9223372036854775807", true},
    {"seq-resumed=1", true},
    {"seq-state=tx-seq.mux65535", true},
};

static bool row_for(const char *line, bool conn)
{
	size_t i, klen = strcspn(line, "=");

	for (i = 0; i < sizeof(field_rows) / sizeof(field_rows[0]); i++)
		if (field_rows[i].conn == conn && !strncmp(field_rows[i].line, line, klen + 1))
			return true;
	return false;
}

static void test_snapshot_field_rows(void **state)
{
	static struct satp_ctl_snapshot s;
	static char in[512], out[16384], want[512];
	char msg[256], *line, *save = NULL;
	bool conn = false;
	size_t i;
	int n, rerr;

	for (i = 0; i < sizeof(field_rows) / sizeof(field_rows[0]); i++) {
		const struct field_row *r = &field_rows[i];

		snprintf(in, sizeof(in), "errno=0\n%s%s\n\n", r->conn ? "conn=9\n" : "", r->line);
		assert_int_equal(satp_ctl_parse_reply(in, strlen(in), &rerr, msg, sizeof(msg), &s),
				 0);
		n = satp_ctl_format_reply(0, NULL, &s, out, sizeof(out));
		assert_true(n > 0);
		snprintf(want, sizeof(want), "\n%s\n", r->line);
		if (!strstr(out, want))
			fail_msg("%s: not written back the same:\n%s", r->line, out);
	}
	/* every line of a reply with one connection has its row */
	assert_int_equal(
	    satp_ctl_parse_reply("errno=0\nconn=9\n\n", 16, &rerr, msg, sizeof(msg), &s), 0);
	n = satp_ctl_format_reply(0, NULL, &s, out, sizeof(out));
	assert_true(n > 0);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "errno=", 6))
			continue;
		if (!strncmp(line, "conn=", 5)) {
			conn = true;
			continue;
		}
		if (!row_for(line, conn))
			fail_msg("no row in field_rows for '%s'", line);
	}
	satp_ctl_snapshot_reset(&s);
}

/*
 * pin-root= tells `satp show` where the daemon pinned its maps: one line of the
 * reply, a path as long as the field holds comes back whole, and a reply without
 * it (an older daemon, the socket path) leaves it empty so that show falls back.
 */
static void test_snapshot_pin_root(void **state)
{
	static struct satp_ctl_snapshot s, back;
	static char buf[SATP_CTL_REPLY_MAX];
	const char *old = "errno=0\npid=7\ndev=tun0\nxdp-ifname=ul0\nrx-path=xdp\n\n";
	char msg[256];
	int n, rerr = -1;

	satp_ctl_snapshot_reset(&s);
	strcpy(s.pin_root, "/sys/fs/bpf");
	n = satp_ctl_format_reply(0, NULL, &s, buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(strstr(buf, "\npin-root=/sys/fs/bpf\n"));

	memset(s.pin_root, 'p', sizeof(s.pin_root) - 1);
	s.pin_root[0] = '/';
	s.pin_root[sizeof(s.pin_root) - 1] = '\0';
	n = satp_ctl_format_reply(0, NULL, &s, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(satp_ctl_parse_reply(buf, (size_t)n, &rerr, msg, sizeof(msg), &back), 0);
	assert_int_equal(rerr, 0);
	assert_string_equal(back.pin_root, s.pin_root);

	assert_int_equal(satp_ctl_parse_reply(old, strlen(old), &rerr, msg, sizeof(msg), &back), 0);
	assert_string_equal(back.xdp_ifname, "ul0");
	assert_string_equal(back.pin_root, "");
	satp_ctl_snapshot_reset(&s);
	satp_ctl_snapshot_reset(&back);
}

/* An edge's worth of connections: more than the 64 a snapshot once held, a reply of
 * several megabytes through the growing buffer, every one read back in order. */
static void test_many_conns(void **state)
{
	static struct satp_ctl_snapshot s, back;
	const uint32_t n = 5000;
	struct satp_ctl_conn *c;
	char *buf = NULL, msg[256];
	size_t cap = 0;
	uint32_t i;
	int len, rerr = -1;

	for (i = 0; i < n; i++) {
		c = satp_ctl_snapshot_add_conn(&s);
		assert_non_null(c);
		c->mux = (uint16_t)(1000 + i);
		c->rx_packets = i;
		strcpy(c->role, "left");
		strcpy(c->seq_state, "tx-seq.mux");
		satp_ctl_add_counter(c->counters, &c->n_counters, "keys_pending", 0);
		satp_ctl_add_sender(c, 1, i);
	}
	len = satp_ctl_format_reply_alloc(0, NULL, &s, &buf, &cap);
	assert_true(len > (int)SATP_CTL_REPLY_INIT); /* it had to grow */
	assert_int_equal(satp_ctl_parse_reply(buf, (size_t)len, &rerr, msg, sizeof(msg), &back), 0);
	assert_int_equal(rerr, 0);
	assert_snapshots_equal(&s, &back);
	/* parse_reply reuses a snapshot: the old connections are freed, not leaked or kept */
	assert_int_equal(
	    satp_ctl_parse_reply("errno=0\nconn=7\n\n", 17, &rerr, msg, sizeof(msg), &back), 0);
	assert_int_equal(back.n_conns, 1);
	assert_int_equal(back.conns[0].mux, 7);
	free(buf);
	satp_ctl_snapshot_reset(&s);
	satp_ctl_snapshot_reset(&back);
	assert_null(s.conns);
	assert_int_equal(s.n_conns, 0);
}

static void test_replies(void **state)
{
	static struct satp_ctl_snapshot s;
	static const char newer[] =
	    "errno=0\npid=7\nshiny=1\nconn=3\nfuture-key=x\nrx-packets=9\n\n";
	static const char *const bad[] = {
	    "",
	    "pid=7\nerrno=0\n\n", /* errno first */
	    "errno=x\n\n",
	    "errno=0\nconn=70000\n\n",
	    "errno=0\nconn=1\nrx-packets=-1\n\n",
	    "errno=0\nnoequals\n\n",
	    "errno=0\nconn=1\nwindow-top.70000=1\n\n",
	    "errno=0\nconn=1\nwindow-top.1=x\n\n",
	    "errno=0\nrail-path=4444 1 1 0 1 0\n\n",	    /* no remote */
	    "errno=0\nrail-path=70000 1 1 0 1 0 -\n\n",	    /* port */
	    "errno=0\nrail-path=4444 1 1 0 1 0 - more\n\n", /* trailing */
	    "errno=0\nrail-path=4444 x 1 0 1 0 -\n\n",
	    "errno=0\nrail-path-xdp=1 2\n\n", /* no path before it */
	    "errno=0\nrail-path=4444 1 1 0 1 0 -\nrail-path-xdp=1\n\n",
	    "errno=0\nrail-path=4444 1 1 0 1 0 -\nrail-path-xdp=1 2 3 4\n\n",
	    "errno=0\nrail-path=4444 1 1 0 1 0 -\nrail-path-xdp=1 2 -3\n\n",
	    "errno=0\nrail-path=4444 1 1 0 1 0 -\nrail-path-xdp=1 2 \n\n",
	    "errno=0\nrail-path=4444 1 1 0 1 0 -\nrail-path-xdp=1 -2\n\n",
	    "errno=0\nwindows-adopted=-1\n\n",
	    "errno=0\nxdp-mode-explicit=yes\n\n",
	    "errno=0\nconn=1\nseq-resumed=x\n\n",
	};
	char buf[512], msg[256];
	int n, rerr;
	size_t i;

	n = satp_ctl_format_reply(-ENOENT, "no connection with mux 9\nsecond line", NULL, buf,
				  sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "errno=2\nerror=no connection with mux 9 second line\n\n");
	assert_int_equal(satp_ctl_parse_reply(buf, (size_t)n, &rerr, msg, sizeof(msg), NULL), 0);
	assert_int_equal(rerr, ENOENT);
	assert_string_equal(msg, "no connection with mux 9 second line");

	assert_int_equal(satp_ctl_parse_reply(newer, strlen(newer), &rerr, msg, sizeof(msg), &s),
			 0);
	assert_int_equal(s.pid, 7);
	assert_int_equal(s.n_conns, 1);
	assert_int_equal(s.conns[0].mux, 3);
	assert_int_equal(s.conns[0].rx_packets, 9);

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (satp_ctl_parse_reply(bad[i], strlen(bad[i]), &rerr, msg, sizeof(msg), &s) !=
		    -EINVAL)
			fail_msg("malformed reply %zu accepted", i);
}

/* What the daemon parses when a client connects and closes: nothing at all. */
static int parse_nothing(void)
{
	static const char none[1];
	struct satp_ctl_msg m;
	char err[256];

	if (satp_ctl_parse(none, 0, &m, err, sizeof(err)) != -EINVAL ||
	    strcmp(err, "empty request"))
		return 1;
	return 0;
}

/*
 * The answer to an empty request was right even while the parser read an
 * uninitialised byte for it: memcheck sees that read, so the same call runs
 * again in a child under valgrind when it is installed (not under ASan, which
 * valgrind cannot run).
 */
static void test_empty_request(void **state)
{
	char self[PATH_MAX];
	ssize_t n;
	pid_t pid;
	int st;

	assert_int_equal(parse_nothing(), 0);
#if defined(__SANITIZE_ADDRESS__)
	return;
#endif
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		execlp("valgrind", "valgrind", "-q", "--error-exitcode=99", self, "--parse-nothing",
		       (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 127) {
		print_message("valgrind not installed: the empty request is checked without it\n");
		return;
	}
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--parse-nothing"))
		return parse_nothing();

	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_requests),
	    cmocka_unit_test(test_no_secret_in_errors),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_routes),
	    cmocka_unit_test(test_snapshot_round_trip),
	    cmocka_unit_test(test_snapshot_wire_text),
	    cmocka_unit_test(test_snapshot_field_rows),
	    cmocka_unit_test(test_snapshot_pin_root),
	    cmocka_unit_test(test_many_conns),
	    cmocka_unit_test(test_replies),
	    cmocka_unit_test(test_empty_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
