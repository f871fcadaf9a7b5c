// SPDX-License-Identifier: GPL-2.0-only
/*
 * satpd's option parser: a table of command lines, each with the result it
 * must give: the model's fields for good ones, an error quoting the
 * offending text for bad ones. Nothing here touches the system.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfile.h"
#include "satp_test_util.h"
#include "satpd_options.h"

#define K128	 "-K", KEY128
#define SALTOPT	 "-A", SALT
#define ARGS_MAX 64

struct opt_case {
	const char *name;
	const char *argv[ARGS_MAX]; /* without argv[0]; NULL-terminated */
	int ret;		    /* parse + finish */
	const char *err;	    /* substring the message must hold */
	void (*check)(const struct satpd_config *c);
};

static void check_defaults(const struct satpd_config *c)
{
	const struct satpd_conn_config *cc = &c->conns[0];

	assert_true(c->daemonize);
	assert_int_equal(c->local.port_lo, 4444);
	assert_int_equal(cc->remote.port_lo, 4444);
	assert_string_equal(c->local.host, "");
	assert_int_equal(c->family, AF_UNSPEC);
	assert_int_equal(c->dev_type, SATPD_DEV_TUN);
	assert_int_equal(cc->mux, 0);
	assert_int_equal(cc->sender_id, 0);
	assert_int_equal(cc->window, 0);
	assert_int_equal(cc->keys.role, SATP_ROLE_LEFT);
	assert_int_equal(cc->keys.algos.cipher_bits, 128);
	assert_int_equal(cc->keys.algos.kd_bits, 128);
	assert_int_equal(cc->keys.algos.auth, SATP_AUTH_SHA1);
	assert_int_equal(cc->keys.algos.tag_len, 10);
	assert_int_equal(cc->keys.master_key_len, 16);
	assert_int_equal(c->xdp_mode, SATPD_XDP_NATIVE);
	assert_false(c->xdp_mode_set); /* the default may fall back; an explicit mode may not */
	assert_int_equal(c->queues, SATPD_QUEUES_UNSET);
	assert_string_equal(c->pin_root, "/sys/fs/bpf");
	/* anytun's default log target, and the -w 0 warning. */
	assert_int_equal(c->n_log, 1);
	assert_int_equal(c->log[0].kind, SATPD_LOG_SYSLOG);
	assert_int_equal(c->log[0].level, 3);
	assert_true(c->warnings & SATPD_WARN_NO_REPLAY);
}

static void check_full_line(const struct satpd_config *c)
{
	const struct satpd_conn_config *cc = &c->conns[0];

	assert_false(c->daemonize);
	assert_string_equal(c->local.host, "10.0.0.1");
	assert_int_equal(c->local.port_lo, 5000);
	assert_string_equal(cc->remote.host, "peer.example");
	assert_int_equal(cc->remote.port_lo, 5001);
	assert_int_equal(c->family, AF_INET);
	assert_string_equal(c->dev_name, "satp0");
	assert_int_equal(c->dev_type, SATPD_DEV_TAP);
	assert_int_equal(c->ifconfig.family, AF_INET);
	assert_int_equal(c->ifconfig.len, 24);
	assert_string_equal(c->post_up_script, "/etc/satpd/up.sh");
	assert_int_equal(cc->mux, 7);
	assert_int_equal(cc->sender_id, 65535);
	assert_int_equal(cc->window, 100);
	assert_int_equal(cc->keys.role, SATP_ROLE_RIGHT);
	assert_int_equal(cc->keys.algos.tag_len, 20);
	assert_int_equal(c->n_log, 2);
	assert_int_equal(c->log[0].kind, SATPD_LOG_FILE);
	assert_string_equal(c->log[0].param, "/tmp/x.log");
	assert_int_equal(c->log[1].kind, SATPD_LOG_STDERR);
	assert_string_equal(c->pid_file, "/run/satpd.pid");
	assert_string_equal(c->username, "nobody");
	assert_string_equal(c->groupname, "nogroup");
	assert_string_equal(c->chroot_dir, "/var/empty");
	assert_int_equal(c->n_routes, 2);
	assert_int_equal(c->routes[1].family, AF_INET6);
	assert_false(c->warnings & SATPD_WARN_NO_REPLAY);
}

static void check_debug(const struct satpd_config *c)
{
	assert_false(c->daemonize);
	assert_int_equal(c->n_log, 1);
	assert_int_equal(c->log[0].kind, SATPD_LOG_STDOUT);
	assert_int_equal(c->log[0].level, 5);
}

static void check_aes256(const struct satpd_config *c)
{
	const struct satp_keys *k = &c->conns[0].keys;

	assert_int_equal(k->algos.cipher_bits, 256);
	assert_int_equal(k->algos.kd_bits, 256);
	assert_int_equal(k->master_key_len, 32);
	assert_int_equal(k->master_key[31], 0x1f);
}

/* satp.md §4: "satp test passphrase" -> key fd6b4bef..., salt 95838788... */
static void check_passphrase(const struct satpd_config *c)
{
	const struct satp_keys *k = &c->conns[0].keys;

	assert_int_equal(k->master_key_len, 16);
	test_assert_hex(k->master_key, 16, "fd6b4bef2b5b302f42de0615ca1d970e");
	test_assert_hex(k->master_salt, 14, "95838788a7ca3485503dee1568a5");
	assert_string_equal(c->passphrase, ""); /* wiped once used */
}

static void check_key_over_pass(const struct satpd_config *c)
{
	const struct satp_keys *k = &c->conns[0].keys;

	test_assert_hex(k->master_key, 16, KEY128);
	test_assert_hex(k->master_salt, 14, "95838788a7ca3485503dee1568a5");
	assert_true(c->warnings & SATPD_WARN_KEY_OVER_PASS);
}

static void check_null_null(const struct satpd_config *c)
{
	const struct satp_algos *a = &c->conns[0].keys.algos;

	assert_int_equal(a->kd_bits, 0);
	assert_int_equal(a->tag_len, 0);
	assert_true(c->warnings & SATPD_WARN_KD_NULL);
	assert_int_equal(c->conns[0].keys.master_key_len, 0);
}

static void check_tag_clamp(const struct satpd_config *c)
{
	assert_int_equal(c->conns[0].keys.algos.tag_len, 20);
	assert_true(c->warnings & SATPD_WARN_TAG_CLAMP);
}

/* L4: weak authentication is accepted (anytun does, a peer may need it) but never silently. */
static void check_no_auth(const struct satpd_config *c)
{
	assert_int_equal(c->conns[0].keys.algos.tag_len, 0);
	assert_true(c->warnings & SATPD_WARN_NO_AUTH);
	assert_false(c->warnings & SATPD_WARN_SHORT_TAG);
}

static void check_short_tag(const struct satpd_config *c)
{
	assert_true(c->conns[0].keys.algos.tag_len < SATPD_TAG_WARN_BELOW);
	assert_true(c->warnings & SATPD_WARN_SHORT_TAG);
	assert_false(c->warnings & SATPD_WARN_NO_AUTH);
}

static void check_tag_ok(const struct satpd_config *c)
{
	assert_int_equal(c->conns[0].keys.algos.tag_len, SATPD_TAG_WARN_BELOW);
	assert_false(c->warnings & (SATPD_WARN_SHORT_TAG | SATPD_WARN_NO_AUTH));
}

static void check_port_range(const struct satpd_config *c)
{
	assert_int_equal(c->local.port_lo, 4444);
	assert_int_equal(c->local.port_hi, 4447);
	assert_int_equal(c->conns[0].remote.port_lo, 5000);
	assert_int_equal(c->conns[0].remote.port_hi, 5001);
	assert_true(c->rail);
}

/* RAIL over two links: every -r kept, the first one the connection's remote. */
static void check_rail_hosts(const struct satpd_config *c)
{
	assert_true(c->rail);
	assert_int_equal(c->n_rail_hosts, 2);
	assert_string_equal(c->rail_hosts[0], "10.1.0.2");
	assert_string_equal(c->rail_hosts[1], "10.2.0.2");
	assert_string_equal(c->conns[0].remote.host, "10.1.0.2");
}

/* Without RAIL a later -r overrides an earlier one, as with anytun. */
static void check_last_remote(const struct satpd_config *c)
{
	assert_false(c->rail);
	assert_string_equal(c->conns[0].remote.host, "10.2.0.2");
}

/* An explicit 1 is not "not given": on the XDP path it asks for one channel. */
static void check_queues_one(const struct satpd_config *c)
{
	assert_int_equal(c->queues, 1);
}

static void check_satpd_own(const struct satpd_config *c)
{
	assert_string_equal(c->xdp_dev, "eth1");
	assert_int_equal(c->xdp_mode, SATPD_XDP_SKB);
	assert_true(c->xdp_mode_set);
	assert_int_equal(c->queues, 4);
	assert_string_equal(c->pin_root, "/sys/fs/bpf/x");
	assert_string_equal(c->state_dir, "/tmp/state");
}

static void check_tap_name(const struct satpd_config *c)
{
	assert_int_equal(c->dev_type, SATPD_DEV_TAP);
}

/* Native given is not native by default: it must not fall back. */
static void check_native_explicit(const struct satpd_config *c)
{
	assert_int_equal(c->xdp_mode, SATPD_XDP_NATIVE);
	assert_true(c->xdp_mode_set);
}

static void check_long_eq(const struct satpd_config *c)
{
	assert_int_equal(c->conns[0].mux, 3);
	assert_int_equal(c->xdp_mode, SATPD_XDP_OFF);
}

static void check_v6(const struct satpd_config *c)
{
	assert_int_equal(c->family, AF_INET6);
	assert_int_equal(c->ifconfig.family, AF_INET6);
	assert_int_equal(c->ifconfig.len, 64);
}

static void check_edge(const struct satpd_config *c)
{
	assert_string_equal(c->edge_listen, "10.0.0.1:4445");
	assert_int_equal(c->n_edge_peers, 2);
	assert_string_equal(c->edge_peers[0], "10.0.0.2:4445");
	assert_string_equal(c->edge_peers[1], "[fd00::3]:4445");
	assert_string_equal(c->edge_key_file, "");
	assert_int_equal(c->edge_interval_ms, 250);
}

static void check_edge_default(const struct satpd_config *c)
{
	assert_int_equal(c->n_edge_peers, 0);
	assert_int_equal(c->edge_interval_ms, SATPD_EDGE_INTERVAL_DEFAULT_MS);
}

#define EDGE "--edge-listen", "10.0.0.1:4445", "--peer-edge", "10.0.0.2:4445"

static void check_max_senders(const struct satpd_config *c)
{
	assert_int_equal(c->max_senders, 32);
}

static void check_max_senders_default(const struct satpd_config *c)
{
	assert_int_equal(c->max_senders, 0); /* the fair share (datapath.c) */
}

/* clang-format off */
static const struct opt_case cases[] = {
    {"defaults", {K128, SALTOPT}, 0, NULL, check_defaults},
    {"anytun full line, short forms",
     {"-D",	      "-i",
      "10.0.0.1",     "-p",
      "5000",	      "-r",
      "peer.example", "-o",
      "5001",	      "-4",
      "-d",	      "satp0",
      "-t",	      "tap",
      "-n",	      "192.168.7.1/24",
      "-x",	      "/etc/satpd/up.sh",
      "-m",	      "7",
      "-s",	      "65535",
      "-w",	      "100",
      "-e",	      "bob",
      "-b",	      "20",
      "-L",	      "file:4,/tmp/x.log",
      "-L",	      "stderr:2",
      "-P",	      "/run/satpd.pid",
      "-u",	      "nobody",
      "-g",	      "nogroup",
      "-C",	      "/var/empty",
      "-R",	      "10.0.0.0/8,fd00::/8",
      K128,	      SALTOPT},
     0,
     NULL,
     NULL},
    {"anytun full line, long forms",
     {"--nodaemonize",
      "--interface",
      "10.0.0.1",
      "--port",
      "5000",
      "--remote-host",
      "peer.example",
      "--remote-port",
      "5001",
      "--ipv4-only",
      "--dev",
      "satp0",
      "--type",
      "tap",
      "--ifconfig",
      "192.168.7.1/24",
      "--post-up-script",
      "/etc/satpd/up.sh",
      "--mux",
      "7",
      "--sender-id",
      "65535",
      "--window-size",
      "100",
      "--role",
      "client",
      "--auth-tag-length",
      "20",
      "--log",
      "file:4,/tmp/x.log",
      "--log",
      "stderr:2",
      "--key",
      KEY128,
      "--salt",
      SALT,
      "--write-pid",
      "/run/satpd.pid",
      "--username",
      "nobody",
      "--groupname",
      "nogroup",
      "--chroot",
      "/var/empty",
      "--route",
      "10.0.0.0/8",
      "--route",
      "fd00::/8"},
     0,
     NULL,
     NULL},
    {"-U", {"-U", K128, SALTOPT}, 0, NULL, check_debug},
    {"aes-ctr-256",
     {"-c", "aes-ctr-256", "-k", "aes-ctr-256", "-K", KEY256, SALTOPT},
     0,
     NULL,
     check_aes256},
    {"passphrase", {"-E", "satp test passphrase"}, 0, NULL, check_passphrase},
    {"-K wins over -E", {"-E", "satp test passphrase", K128}, 0, NULL, check_key_over_pass},
    {"null/null needs no key", {"-c", "null", "-a", "null"}, 0, NULL, check_null_null},
    {"tag clamped to 20", {"-b", "64", K128, SALTOPT}, 0, NULL, check_tag_clamp},
    {"sha1 with tag 0: no authentication, warned", {"-a", "sha1", "-b", "0", K128, SALTOPT}, 0,
     NULL, check_no_auth},
    {"auth null: no authentication, warned", {"-a", "null", K128, SALTOPT}, 0, NULL,
     check_no_auth},
    {"tag of 1 byte warned", {"-b", "1", K128, SALTOPT}, 0, NULL, check_short_tag},
    {"tag of 9 bytes warned", {"-b", "9", K128, SALTOPT}, 0, NULL, check_short_tag},
    {"tag of 10 bytes (the default) not warned", {"-b", "10", K128, SALTOPT}, 0, NULL,
     check_tag_ok},
    {"port ranges",
     {"-p", "4444:4447", "-o", "5000:5001", "-w", "64", K128, SALTOPT},
     0,
     NULL,
     check_port_range},
    {"satpd's own options",
     {"--xdp-dev", "eth1", "--xdp-mode", "skb", "--queues", "4", "--pin-root", "/sys/fs/bpf/x",
      "--state-dir", "/tmp/state", K128, SALTOPT},
     0,
     NULL,
     check_satpd_own},
    {"RAIL: two -r, two links",
     {"-Y", "-w", "64", "-r", "10.1.0.2", "-r", "10.2.0.2", "-r", "10.1.0.2", K128, SALTOPT},
     0,
     NULL,
     check_rail_hosts},
    {"no RAIL: the last -r wins",
     {"-r", "10.1.0.2", "-r", "10.2.0.2", K128, SALTOPT},
     0,
     NULL,
     check_last_remote},
    {"--queues 1 is explicit", {"--queues", "1", K128, SALTOPT}, 0, NULL, check_queues_one},
    {"device name says tap", {"-d", "tap7", K128, SALTOPT}, 0, NULL, check_tap_name},
    {"--xdp-mode native is explicit",
     {"--xdp-mode", "native", K128, SALTOPT},
     0,
     NULL,
     check_native_explicit},
    {"--opt=value", {"--mux=3", "--xdp-mode=off", K128, SALTOPT}, 0, NULL, check_long_eq},
    {"IPv6 -n and -6", {"-6", "-n", "fd00:99::1/64", K128, SALTOPT}, 0, NULL, check_v6},

    {"unknown option", {"-Z", K128, SALTOPT}, -EINVAL, "'-Z'", NULL},
    {"unknown long option", {"--frobnicate", K128}, -EINVAL, "'--frobnicate'", NULL},
    {"missing value", {K128, SALTOPT, "-r"}, -EINVAL, "'-r'", NULL},
    {"value looks like an option", {"-r", "-p", "1"}, -EINVAL, "'-r'", NULL},
    {"port not a number", {"-p", "44x4", K128, SALTOPT}, -EINVAL, "'44x4'", NULL},
    {"port out of range", {"-o", "70000", K128, SALTOPT}, -EINVAL, "70000", NULL},
    {"RAIL needs a window", {"-p", "4444:4445", K128, SALTOPT}, -EINVAL, "-w > 0", NULL},
    {"-Y needs a window", {"-Y", K128, SALTOPT}, -EINVAL, "-w > 0", NULL},
    {"RAIL range too long", {"-o", "1:17", "-w", "8", K128, SALTOPT}, -EINVAL, "1:17", NULL},
    {"RAIL: hosts x port pairs > 16",
     {"-p", "1:9", "-w", "8", "-r", "a", "-r", "b", K128, SALTOPT},
     -EINVAL,
     "2 remote hosts times 9 port pairs",
     NULL},
    {"RAIL: ninth remote host",
     {"-r", "a", "-r", "b", "-r", "c", "-r", "d",  "-r", "e",
      "-r", "f", "-r", "g", "-r", "h", "-r", "i9", K128, SALTOPT},
     -EINVAL,
     "'i9'",
     NULL},
    {"port list is not RAIL syntax", {"-p", "1,3"}, -EINVAL, "'1,3'", NULL},
    {"negative mux", {"-m", "-1"}, -EINVAL, "'-m'", NULL},
    {"mux too big", {"-m", "65536", K128, SALTOPT}, -EINVAL, "'65536'", NULL},
    {"mux of the handshake", {"-m", "65535", K128, SALTOPT}, -EINVAL, "'65535' is reserved", NULL},
    {"sender id with sign", {"-s", "+1", K128, SALTOPT}, -EINVAL, "'+1'", NULL},
    {"window too big", {"-w", "100000", K128, SALTOPT}, -EINVAL, "'100000'", NULL},
    {"bad role", {"-e", "middle", K128, SALTOPT}, -EINVAL, "'middle'", NULL},
    {"bad cipher", {"-c", "aes-ctr-512", K128, SALTOPT}, -EINVAL, "'aes-ctr-512'", NULL},
    {"bad kd-prf", {"-k", "hmac", K128, SALTOPT}, -EINVAL, "'hmac'", NULL},
    {"bad auth", {"-a", "md5", K128, SALTOPT}, -EINVAL, "'md5'", NULL},
    {"bad type", {"-t", "tunnel", K128, SALTOPT}, -EINVAL, "'tunnel'", NULL},
    {"bad ifconfig", {"-n", "10.0.0.1", K128, SALTOPT}, -EINVAL, "'10.0.0.1'", NULL},
    {"bad prefix length", {"-n", "10.0.0.1/40", K128, SALTOPT}, -EINVAL, "'40'", NULL},
    {"bad device name", {"-d", "a/b", K128, SALTOPT}, -EINVAL, "'a/b'", NULL},
    {"device name too long",
     {"-d", "abcdefghijklmnop", K128, SALTOPT},
     -EINVAL,
     "'abcdefghijklmnop'",
     NULL},
    {"bad log target", {"-L", "console:3", K128, SALTOPT}, -EINVAL, "'console:3'", NULL},
    {"bad log level", {"-L", "stdout:9", K128, SALTOPT}, -EINVAL, "'9'", NULL},
    {"file log without path", {"-L", "file:3", K128, SALTOPT}, -EINVAL, "'file:3'", NULL},
    {"bad syslog facility",
     {"-L", "syslog:3,satpd,kernel", K128, SALTOPT},
     -EINVAL,
     "'kernel'",
     NULL},
    {"bad xdp mode", {"--xdp-mode", "turbo", K128, SALTOPT}, -EINVAL, "'turbo'", NULL},
    {"bad queue count", {"--queues", "0", K128, SALTOPT}, -EINVAL, "'0'", NULL},
    {"relative pin root", {"--pin-root", "bpf", K128, SALTOPT}, -EINVAL, "'bpf'", NULL},
    {"-4 and -6", {"-4", "-6", K128, SALTOPT}, -EINVAL, "-4 and -6", NULL},
    {"-6 with an IPv4 -i", {"-6", "-i", "10.0.0.1", K128, SALTOPT}, -EINVAL, "'10.0.0.1'", NULL},
    {"sync server not supported", {"-S", "2323", K128, SALTOPT}, -EINVAL, "'2323'", NULL},
    {"odd hex key", {"-K", "abc", SALTOPT}, -EINVAL, "master key", NULL},
    {"salt of wrong length", {K128, "-A", "a0a1"}, -EINVAL, "master salt", NULL},
    {"key length does not fit kd-prf", {"-K", KEY256, SALTOPT}, -EINVAL, "kd-prf", NULL},
    {"no key", {SALTOPT}, -EINVAL, "no master key", NULL},
    {"no salt", {K128}, -EINVAL, "no master salt", NULL},
    {"flag with a value", {"--nodaemonize=1", K128, SALTOPT}, -EINVAL, "'--nodaemonize=1'", NULL},
    {"edge exchange, key from the connection",
     {EDGE, "--peer-edge", "[fd00::3]:4445", "--edge-interval", "250", K128, SALTOPT},
     0,
     NULL,
     check_edge},
    {"edge exchange off by default", {K128, SALTOPT}, 0, NULL, check_edge_default},
    {"max senders", {"--max-senders", "32", K128, SALTOPT}, 0, NULL, check_max_senders},
    {"max senders by default", {K128, SALTOPT}, 0, NULL, check_max_senders_default},
    {"max senders 0", {"--max-senders", "0", K128, SALTOPT}, -EINVAL, "'0'", NULL},
    {"max senders too many", {"--max-senders", "65536", K128, SALTOPT}, -EINVAL, "'65536'", NULL},
    {"edge exchange, key file, sync-driven", {EDGE, "--edge-key", "/k", "-X", "ctl"}, 0, NULL, NULL},
    {"peer edge without port", {"--peer-edge", "10.0.0.2", K128, SALTOPT}, -EINVAL, "'10.0.0.2'",
     NULL},
    {"peer edge bare IPv6", {"--peer-edge", "fd00::3:4445", K128, SALTOPT}, -EINVAL,
     "'fd00::3:4445'", NULL},
    {"edge listen bad port", {"--edge-listen", "10.0.0.1:0", K128, SALTOPT}, -EINVAL,
     "'10.0.0.1:0'", NULL},
    {"edge interval too short", {EDGE, "--edge-interval", "5", K128, SALTOPT}, -EINVAL, "'5'",
     NULL},
    {"edge interval not a number", {EDGE, "--edge-interval", "1s", K128, SALTOPT}, -EINVAL,
     "'1s'", NULL},
    {"peer edge without listen", {"--peer-edge", "10.0.0.2:4445", K128, SALTOPT}, -EINVAL,
     "'10.0.0.2:4445'", NULL},
    {"edge listen without peers", {"--edge-listen", "10.0.0.1:4445", K128, SALTOPT}, -EINVAL,
     "'10.0.0.1:4445'", NULL},
    {"edge key without peers", {"--edge-key", "/k", K128, SALTOPT}, -EINVAL, "'/k'", NULL},
    {"edge key to derive, but -X", {EDGE, "-X", "ctl"}, -EINVAL, "--edge-key", NULL},
    {"edge key to derive, but no key", {EDGE, "-c", "null", "-a", "null"}, -EINVAL, "--edge-key",
     NULL},
    {"help", {"-h"}, SATPD_OPT_HELP, NULL, NULL},
    {"version", {"--version"}, SATPD_OPT_VERSION, NULL, NULL},
};
/* clang-format on */

/* Copies the row into writable argv (the parser wipes secrets in place). */
static int parse_case(const struct opt_case *t, struct satpd_config *c, char **argv, int *argc,
		      char *err, size_t errlen)
{
	int ret, n = 0;

	argv[n++] = strdup("satpd");
	while (n <= ARGS_MAX && t->argv[n - 1]) {
		argv[n] = strdup(t->argv[n - 1]);
		n++;
	}
	argv[n] = NULL;
	*argc = n;
	err[0] = '\0';
	ret = satpd_options_parse(c, n, argv, err, errlen);
	if (ret == 0)
		ret = satpd_config_finish(c, err, errlen);
	return ret;
}

static void free_argv(char **argv, int argc)
{
	int i;

	for (i = 0; i < argc; i++)
		free(argv[i]);
}

static void test_table(void **state)
{
	static struct satpd_config c;
	char *argv[ARGS_MAX + 2];
	char err[1024];
	size_t i;
	int argc, ret;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct opt_case *t = &cases[i];

		ret = parse_case(t, &c, argv, &argc, err, sizeof(err));
		if (ret != t->ret || (t->err && !strstr(err, t->err)))
			fail_msg("case '%s': got %d '%s', want %d with '%s'", t->name, ret, err,
				 t->ret, t->err ? t->err : "");
		if (t->ret == -EINVAL)
			assert_true(strlen(err) > 0);
		if (t->check)
			t->check(&c);
		free_argv(argv, argc);
	}
}

/* The same anytun line, short and long, gives the same model. */
static void test_short_long_same(void **state)
{
	static struct satpd_config a, b;
	char *argv_a[ARGS_MAX + 2], *argv_b[ARGS_MAX + 2];
	char err[1024];
	int na, nb;

	assert_int_equal(parse_case(&cases[1], &a, argv_a, &na, err, sizeof(err)), 0);
	assert_int_equal(parse_case(&cases[2], &b, argv_b, &nb, err, sizeof(err)), 0);
	check_full_line(&a);
	check_full_line(&b);
	assert_memory_equal(&a, &b, sizeof(a));
	free_argv(argv_a, na);
	free_argv(argv_b, nb);
}

/* Secrets are overwritten in argv (ps must not show them), other options are not. */
static void test_argv_wiped(void **state)
{
	static struct satpd_config c;
	char *argv[] = {strdup("satpd"), strdup("-K"), strdup(KEY128), strdup("--salt"),
			strdup(SALT),	 strdup("-E"), strdup("pw"),   strdup("-r"),
			strdup("host"),	 NULL};
	char err[256];
	int i;

	assert_int_equal(satpd_options_parse(&c, 9, argv, err, sizeof(err)), 0);
	assert_string_equal(argv[2], "################################");
	assert_string_equal(argv[4], "############################");
	assert_string_equal(argv[6], "##");
	assert_string_equal(argv[8], "host");
	for (i = 0; argv[i]; i++)
		free(argv[i]);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* ---------------------------------------------------------------- handshake mode */

/*
 * Key files of the handshake rows, relative: the test runs in a directory of
 * its own (hs_setup) holding them.
 */
#define PRIV "--private-key", "priv.key"
#define PEER "--peer-key", "peer.pub"

static void check_handshake(const struct satpd_config *c)
{
	assert_true(c->have_private_key);
	assert_true(c->conns[0].handshake);
	assert_int_equal(c->conns[0].peer_key[0], 0x42);
	assert_int_equal(c->conns[0].window, SATPD_HS_WINDOW_DEFAULT); /* never off */
	assert_int_equal(c->conns[0].keys.master_key_len, 0);
	assert_int_equal(c->rekey_after_s, 0);
	assert_int_equal(c->conns[0].keys.algos.tag_len, SATPD_HS_TAG_MIN); /* not anytun's 10 */
}

static void check_handshake_tag(const struct satpd_config *c)
{
	assert_int_equal(c->conns[0].keys.algos.tag_len, 20);
}

static void check_handshake_window(const struct satpd_config *c)
{
	assert_int_equal(c->conns[0].window, 64);
	assert_int_equal(c->rekey_after_s, 3);
}

/* clang-format off */
static const struct opt_case hs_cases[] = {
    {"handshake mode", {PRIV, PEER}, 0, NULL, check_handshake},
    {"handshake mode, -w and --rekey-after",
     {PRIV, PEER, "-w", "64", "--rekey-after", "3"},
     0,
     NULL,
     check_handshake_window},
    {"--peer-key without --private-key", {PEER}, -EINVAL, "no --private-key", NULL},
    {"--peer-key with -K", {PRIV, PEER, K128, SALTOPT}, -EINVAL, "exclude each other", NULL},
    {"--peer-key with -E", {PRIV, PEER, "-E", "pass"}, -EINVAL, "exclude each other", NULL},
    {"--peer-key with -a null", {PRIV, PEER, "-a", "null"}, -EINVAL, "'-a null'", NULL},
    {"--peer-key with -b 0", {PRIV, PEER, "-b", "0"}, -EINVAL, "tag length 0", NULL},
    {"--peer-key with -b 1", {PRIV, PEER, "-b", "1"}, -EINVAL, "'-b 1' is refused", NULL},
    {"--peer-key with -b 10", {PRIV, PEER, "-b", "10"}, -EINVAL, "'-b 10' is refused", NULL},
    {"--peer-key with -b 15", {PRIV, PEER, "-b", "15"}, -EINVAL, "at least 16 bytes", NULL},
    {"--peer-key with -b 20", {PRIV, PEER, "-b", "20"}, 0, NULL, check_handshake_tag},
    {"--peer-key with -k null", {PRIV, PEER, "-k", "null"}, -EINVAL, "'-k null'", NULL},
    {"--peer-key with RAIL", {PRIV, PEER, "-Y", "-w", "8"}, -EINVAL, "--peer-key", NULL},
    {"private key readable by others", {"--private-key", "loose.key", PEER}, -EINVAL,
     "loose.key", NULL},
    {"missing peer key file", {PRIV, "--peer-key", "nosuch.pub"}, -EINVAL, "nosuch.pub", NULL},
    {"peer key file not a key", {PRIV, "--peer-key", "junk.pub"}, -EINVAL, "junk.pub", NULL},
    {"rekey time 0", {PRIV, PEER, "--rekey-after", "0"}, -EINVAL, "'0'", NULL},
    {"rekey time too long", {PRIV, PEER, "--rekey-after", "500"}, -EINVAL, "'500'", NULL},
};
/* clang-format on */

static char hs_dir[] = "/tmp/satpd-test-options.XXXXXX";
static char hs_cwd[4096];

static void write_key(const char *path, uint8_t fill, mode_t mode)
{
	uint8_t key[KEYFILE_KEY_LEN];
	char text[KEYFILE_B64_LEN + 2];

	memset(key, fill, sizeof(key));
	keyfile_encode(text, key);
	strcat(text, "\n");
	write_file(path, text);
	assert_int_equal(chmod(path, mode), 0);
}

static int hs_setup(void **state)
{
	if (!getcwd(hs_cwd, sizeof(hs_cwd)) || !mkdtemp(hs_dir) || chdir(hs_dir))
		return -1;
	write_key("priv.key", 0x11, 0600);
	write_key("loose.key", 0x11, 0644);
	write_key("peer.pub", 0x42, 0644);
	write_file("junk.pub", "not a key\n");
	return 0;
}

static int hs_teardown(void **state)
{
	static const char *const files[] = {"priv.key", "loose.key", "peer.pub", "junk.pub",
					    "hs.conf"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(files); i++)
		unlink(files[i]);
	if (chdir(hs_cwd))
		return -1;
	return rmdir(hs_dir);
}

static void test_handshake_table(void **state)
{
	static struct satpd_config c;
	char *argv[ARGS_MAX + 2];
	char err[1024];
	size_t i;
	int argc, ret;

	for (i = 0; i < ARRAY_SIZE(hs_cases); i++) {
		const struct opt_case *t = &hs_cases[i];

		ret = parse_case(t, &c, argv, &argc, err, sizeof(err));
		if (ret != t->ret || (t->err && !strstr(err, t->err)))
			fail_msg("case '%s': got %d '%s', want %d with '%s'", t->name, ret, err,
				 t->ret, t->err ? t->err : "");
		if (t->check)
			t->check(&c);
		free_argv(argv, argc);
	}
}

/* A `connection` block in handshake mode next to one with static keys. */
static void test_handshake_blocks(void **state)
{
	static struct satpd_config c;
	char *argv[] = {"satpd", "--private-key", "priv.key", "--config", "hs.conf", NULL};
	char err[1024] = "";

	write_file("hs.conf", "connection\nmux 1\npeer-key peer.pub\nrole right\n"
			      "connection\nmux 2\nkey " KEY128 "\nsalt " SALT "\n");
	assert_int_equal(satpd_options_parse(&c, 5, argv, err, sizeof(err)), 0);
	assert_int_equal(satpd_config_finish(&c, err, sizeof(err)), 0);
	assert_int_equal(c.n_conns, 2);
	assert_true(c.conns[0].handshake);
	assert_int_equal(c.conns[0].mux, 1);
	assert_false(c.conns[1].handshake);
	assert_int_equal(c.conns[1].keys.master_key_len, 16);

	write_file("hs.conf", "connection\nmux 1\npeer-key peer.pub\nkey " KEY128 "\n");
	assert_int_equal(satpd_options_parse(&c, 5, argv, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "exclude each other"));
	assert_non_null(strstr(err, "hs.conf"));
}

/* uanytun's config format: long names without dashes, '#' comments, blank lines. */
static void test_config_file(void **state)
{
	static struct satpd_config c;
	char path[] = "/tmp/satpd-test-config.XXXXXX";
	char *argv[] = {strdup("satpd"), strdup("--config"), path, strdup("-m"), strdup("9"), NULL};
	char err[1024];
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "# a tunnel\n"
			 "nodaemonize\n"
			 "  remote-host   10.1.2.3   # trailing comment\n"
			 "mux 4\n"
			 "\n"
			 "role right\n"
			 "passphrase satp test passphrase\n"
			 "window-size 50\n"
			 "xdp-mode off\n");
	assert_int_equal(satpd_options_parse(&c, 5, argv, err, sizeof(err)), 0);
	assert_int_equal(satpd_config_finish(&c, err, sizeof(err)), 0);
	assert_false(c.daemonize);
	assert_string_equal(c.conns[0].remote.host, "10.1.2.3");
	assert_int_equal(c.conns[0].mux, 9); /* the command line after --config wins */
	assert_int_equal(c.conns[0].keys.role, SATP_ROLE_RIGHT);
	assert_int_equal(c.conns[0].window, 50);
	assert_int_equal(c.xdp_mode, SATPD_XDP_OFF);
	assert_true(c.xdp_mode_set);
	check_passphrase(&c);

	/* A bad line names file and line and quotes the text. */
	write_file(path, "mux 1\nwindow-size lots\n");
	assert_int_equal(satpd_options_parse(&c, 3, argv, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, "'lots'"));
	write_file(path, "remote host\n");
	assert_int_equal(satpd_options_parse(&c, 3, argv, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'remote'"));
	write_file(path, "nodaemonize yes\n");
	assert_int_equal(satpd_options_parse(&c, 3, argv, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'yes'"));
	write_file(path, "remote-host\n");
	assert_int_equal(satpd_options_parse(&c, 3, argv, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "remote-host"));
	unlink(path);
	assert_int_equal(satpd_options_parse(&c, 3, argv, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	free(argv[0]);
	free(argv[1]);
	free(argv[3]);
	free(argv[4]);
}

/* `connection` blocks: per-connection options each, global options refused inside. */
static void test_config_blocks(void **state)
{
	static struct satpd_config c;
	char path[] = "/tmp/satpd-test-blocks.XXXXXX";
	char *argv[] = {strdup("satpd"), strdup("--config"), path, NULL};
	char err[1024];
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "port 4444\n"
			 "connection\n"
			 "mux 1\n"
			 "key 000102030405060708090a0b0c0d0e0f\n"
			 "salt a0a1a2a3a4a5a6a7a8a9aaabacad\n"
			 "route 10.1.0.0/16\n"
			 "connection\n"
			 "mux 2\n"
			 "role right\n"
			 "window-size 64\n"
			 "passphrase block two\n"
			 "route 10.2.0.0/16,fd00:2::/48\n");
	assert_int_equal(satpd_options_parse(&c, 3, argv, err, sizeof(err)), 0);
	assert_int_equal(satpd_config_finish(&c, err, sizeof(err)), 0);
	/* connection 0 had no key: dropped */
	assert_int_equal(c.n_conns, 2);
	assert_int_equal(c.conns[0].mux, 1);
	assert_int_equal(c.conns[0].keys.master_key_len, 16);
	assert_int_equal(c.conns[1].mux, 2);
	assert_int_equal(c.conns[1].keys.role, SATP_ROLE_RIGHT);
	assert_int_equal(c.conns[1].window, 64);
	assert_int_equal(c.conns[1].keys.master_key_len, 16); /* derived from the passphrase */
	assert_int_equal(c.n_routes, 3);
	assert_int_equal(c.route_conn[0], 0);
	assert_int_equal(c.route_conn[1], 1);
	assert_int_equal(c.route_conn[2], 1);

	write_file(path, "connection\nmux 1\nport 5\n");
	assert_int_equal(satpd_options_parse(&c, 3, argv, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'port' is not a per-connection option"));
	assert_non_null(strstr(err, ":3:"));
	write_file(path, "connection\nmux 1\nconnection\nmux 2\n");
	assert_int_equal(satpd_options_parse(&c, 3, argv, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no master key"));
	write_file(path, "connection\nmux 3\npassphrase x\nconnection\nmux 3\npassphrase y\n");
	assert_int_equal(satpd_options_parse(&c, 3, argv, err, sizeof(err)), 0);
	assert_int_equal(satpd_config_finish(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "mux 3 is given to two connections"));
	write_file(path, "connection now\n");
	assert_int_equal(satpd_options_parse(&c, 3, argv, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'now'"));
	unlink(path);
	satpd_config_wipe(&c);
	free(argv[0]);
	free(argv[1]);
}

static void test_typed_parsers(void **state)
{
	struct satpd_log_target t;
	struct satpd_prefix p;
	unsigned long v;
	uint16_t lo, hi;
	char name[IFNAMSIZ], err[256];

	assert_int_equal(satpd_parse_uint("4294967295", UINT32_MAX, &v, "x", err, sizeof(err)), 0);
	assert_int_equal(v, 4294967295ul);
	assert_int_equal(satpd_parse_uint("4294967296", UINT32_MAX, &v, "x", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(satpd_parse_uint("", 10, &v, "x", err, sizeof(err)), -EINVAL);
	assert_int_equal(satpd_parse_uint(" 1", 10, &v, "x", err, sizeof(err)), -EINVAL);
	assert_int_equal(satpd_parse_uint("1 ", 10, &v, "x", err, sizeof(err)), -EINVAL);
	assert_int_equal(satpd_parse_port_range("65535", &lo, &hi, err, sizeof(err)), 0);
	assert_int_equal(lo, 65535);
	assert_int_equal(hi, 65535);
	assert_int_equal(satpd_parse_port_range("0", &lo, &hi, err, sizeof(err)), -EINVAL);
	assert_int_equal(satpd_parse_port_range("10:9", &lo, &hi, err, sizeof(err)), -EINVAL);
	assert_int_equal(satpd_parse_prefix("fd00::1/128", &p, err, sizeof(err)), 0);
	assert_int_equal(satpd_parse_prefix("fd00::1/129", &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(satpd_parse_prefix("/24", &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(satpd_parse_prefix("10.0.0.1/", &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(satpd_parse_ifname("eth0", name, err, sizeof(err)), 0);
	assert_int_equal(satpd_parse_ifname("..", name, err, sizeof(err)), -EINVAL);
	assert_int_equal(satpd_parse_ifname("a b", name, err, sizeof(err)), -EINVAL);
	assert_int_equal(satpd_parse_log_target("syslog:3,myvpn,local3", &t, err, sizeof(err)), 0);
	assert_string_equal(t.param, "myvpn");
	assert_int_equal(satpd_parse_log_target("stdout:3,x", &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(satpd_parse_log_target("stdout", &t, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),	  cmocka_unit_test(test_short_long_same),
	    cmocka_unit_test(test_argv_wiped),	  cmocka_unit_test(test_config_file),
	    cmocka_unit_test(test_config_blocks),
	    cmocka_unit_test(test_typed_parsers),
	    cmocka_unit_test_setup_teardown(test_handshake_table, hs_setup, NULL),
	    cmocka_unit_test_setup_teardown(test_handshake_blocks, NULL, hs_teardown),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
