// SPDX-License-Identifier: GPL-2.0-only
/*
 * satpd's option table and typed parsers. One table serves the command line
 * (short and long forms) and config files (long names without dashes). The
 * parsers the control protocol shares (a number, a prefix) are in parse.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "hostport.h"
#include "keyfile.h"
#include "portset.h"
#include "satp_hs_wire.h"
#include "satpd_options.h"
#include "textbuf.h"

/* A config line longer than this is not a config line. */
#define CONFIG_LINE_MAX 8192

static int copy_str(char *dst, size_t cap, const char *s, const char *what, char *err,
		    size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0)
		return satp_errf(err, errlen, "empty %s", what);
	if (n >= cap)
		return satp_errf(err, errlen, "%s '%.64s...' is too long (max %zu)", what, s,
				 cap - 1);
	memcpy(dst, s, n + 1);
	return 0;
}

int satpd_parse_port_range(const char *s, uint16_t *lo, uint16_t *hi, char *err, size_t errlen)
{
	/* Static: 8 KiB, and parsing runs once, single-threaded, at start. */
	static struct satp_portset ps;
	char msg[256];
	int first, last, p;

	if (satp_portset_parse(&ps, s, msg, sizeof(msg)))
		return satp_errf(err, errlen, "%s", msg);
	/* uanytun's syntax is one port or one a:b range: the set must be contiguous. */
	first = satp_portset_next(&ps, 0);
	for (last = first; (p = satp_portset_next(&ps, (unsigned int)last + 1)) >= 0; last = p)
		if (p != last + 1)
			return satp_errf(err, errlen,
					 "invalid port '%s' (expected PORT or LOW:HIGH)", s);
	if (first < 0)
		return satp_errf(err, errlen, "invalid port '%s' (expected PORT or LOW:HIGH)", s);
	*lo = (uint16_t)first;
	*hi = (uint16_t)last;
	return 0;
}

int satpd_parse_ifname(const char *s, char out[IFNAMSIZ], char *err, size_t errlen)
{
	size_t n = strlen(s);
	size_t i;

	/* The kernel's dev_valid_name(): 1..15 bytes, not . or .., no '/', ':' or space. */
	if (n == 0 || n >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return satp_errf(err, errlen, "invalid interface name '%s' (1..%d characters)", s,
				 IFNAMSIZ - 1);
	for (i = 0; i < n; i++) {
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]))
			return satp_errf(err, errlen,
					 "invalid interface name '%s' ('%c' not allowed)", s, s[i]);
	}
	memcpy(out, s, n + 1);
	return 0;
}

static const struct {
	const char *name;
	int facility;
} facilities[] = {
    {"daemon", LOG_DAEMON}, {"user", LOG_USER},	    {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
    {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
    {"local7", LOG_LOCAL7}, {"auth", LOG_AUTH},	    {"authpriv", LOG_AUTHPRIV},
    {"syslog", LOG_SYSLOG},
};

static int parse_log_params(struct satpd_log_target *t, const char *s, char *params, char *err,
			    size_t errlen)
{
	char *p2 = params ? strchr(params, ',') : NULL;
	size_t i;

	if (p2)
		*p2++ = '\0';
	switch (t->kind) {
	case SATPD_LOG_FILE:
		if (!params || !*params)
			return satp_errf(err, errlen,
					 "log target '%s': file needs a path (file:LEVEL,PATH)", s);
		if (p2)
			return satp_errf(err, errlen, "log target '%s': file takes one parameter",
					 s);
		return copy_str(t->param, sizeof(t->param), params, "log file path", err, errlen);
	case SATPD_LOG_SYSLOG:
		snprintf(t->param, sizeof(t->param), "%s", params && *params ? params : "satpd");
		if (!p2 || !*p2)
			return 0;
		for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++) {
			if (!strcmp(p2, facilities[i].name)) {
				t->facility = facilities[i].facility;
				return 0;
			}
		}
		return satp_errf(err, errlen, "log target '%s': unknown syslog facility '%s'", s,
				 p2);
	default:
		if (params)
			return satp_errf(err, errlen, "log target '%s': %s takes no parameters", s,
					 t->kind == SATPD_LOG_STDOUT ? "stdout" : "stderr");
		return 0;
	}
}

int satpd_parse_log_target(const char *s, struct satpd_log_target *t, char *err, size_t errlen)
{
	static const char *const kinds[] = {
	    [SATPD_LOG_SYSLOG] = "syslog",
	    [SATPD_LOG_STDOUT] = "stdout",
	    [SATPD_LOG_STDERR] = "stderr",
	    [SATPD_LOG_FILE] = "file",
	};
	char buf[SATPD_PATH_MAX + 64];
	char *level, *params;
	unsigned long lv;
	size_t k;

	if (strlen(s) >= sizeof(buf))
		return satp_errf(err, errlen, "log target '%.64s...' is too long", s);
	strcpy(buf, s);
	level = strchr(buf, ':');
	if (!level)
		return satp_errf(err, errlen,
				 "invalid log target '%s' (expected TARGET:LEVEL[,PARAM...])", s);
	*level++ = '\0';
	params = strchr(level, ',');
	if (params)
		*params++ = '\0';
	memset(t, 0, sizeof(*t));
	t->facility = LOG_DAEMON;
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (!strcmp(buf, kinds[k]))
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0]))
		return satp_errf(
		    err, errlen,
		    "invalid log target '%s' (expected syslog, stdout, stderr or file)", s);
	t->kind = (enum satpd_log_kind)k;
	if (satpd_parse_uint(level, SATPD_LOG_DEBUG, &lv, "log level", NULL, 0))
		return satp_errf(err, errlen, "invalid log level '%s' in '%s' (expected 0..5)",
				 level, s);
	t->level = (int)lv;
	return parse_log_params(t, s, params, err, errlen);
}

/* ---------------------------------------------------------------- setters */

/* The connection per-connection options apply to: 0 (the command line) or an open block's. */
static struct satpd_conn_config *conn0(struct satpd_config *c)
{
	return &c->conns[c->cur_conn];
}

static void conn_default(struct satpd_conn_config *cc)
{
	memset(cc, 0, sizeof(*cc));
	cc->remote.port_lo = cc->remote.port_hi = SATP_DEFAULT_PORT;
	satp_algos_default(&cc->keys.algos);
	cc->keys.role = SATP_ROLE_LEFT;
}

typedef int (*opt_setter)(struct satpd_config *c, const char *arg, char *err, size_t errlen);

static int set_rail(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	c->rail = true;
	return 0;
}

static int set_nodaemonize(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	c->daemonize = false;
	return 0;
}

static int set_username(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return copy_str(c->username, sizeof(c->username), arg, "user name", err, errlen);
}

static int set_groupname(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return copy_str(c->groupname, sizeof(c->groupname), arg, "group name", err, errlen);
}

static int set_chroot(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return copy_str(c->chroot_dir, sizeof(c->chroot_dir), arg, "chroot directory", err, errlen);
}

static int set_pid_file(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return copy_str(c->pid_file, sizeof(c->pid_file), arg, "pid file", err, errlen);
}

static int set_log(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	if (c->n_log >= SATPD_LOG_TARGETS)
		return satp_errf(err, errlen, "too many log targets at '%s' (max %d)", arg,
				 SATPD_LOG_TARGETS);
	if (satpd_parse_log_target(arg, &c->log[c->n_log], err, errlen))
		return -EINVAL;
	c->n_log++;
	return 0;
}

static int set_debug(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	c->daemonize = false;
	return set_log(c, "stdout:5", err, errlen);
}

static int set_host(char *dst, const char *arg, const char *what, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; arg[i]; i++)
		if (isspace((unsigned char)arg[i]) || !isprint((unsigned char)arg[i]))
			return satp_errf(err, errlen, "invalid %s '%s'", what, arg);
	return copy_str(dst, SATPD_HOST_MAX, arg, what, err, errlen);
}

static int set_interface(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return set_host(c->local.host, arg, "local address", err, errlen);
}

static int set_port(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return satpd_parse_port_range(arg, &c->local.port_lo, &c->local.port_hi, err, errlen);
}

/* The command line's connection keeps every -r for RAIL; the last one is its remote meanwhile. */
static int set_remote_host(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	unsigned int i;
	int ret;

	if (!c->cur_conn) {
		for (i = 0; i < c->n_rail_hosts; i++)
			if (!strcmp(c->rail_hosts[i], arg))
				return set_host(conn0(c)->remote.host, arg, "remote host", err,
						errlen);
		if (c->n_rail_hosts >= SATPD_RAIL_HOSTS_MAX)
			return satp_errf(err, errlen,
					 "too many remote hosts at '%s' (RAIL: at most %d)", arg,
					 SATPD_RAIL_HOSTS_MAX);
	}
	ret = set_host(conn0(c)->remote.host, arg, "remote host", err, errlen);
	if (ret || c->cur_conn)
		return ret;
	snprintf(c->rail_hosts[c->n_rail_hosts++], SATPD_HOST_MAX, "%s", arg);
	return 0;
}

static int set_remote_port(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	struct satpd_endpoint *r = &conn0(c)->remote;

	return satpd_parse_port_range(arg, &r->port_lo, &r->port_hi, err, errlen);
}

static int set_ipv4(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	if (c->family == AF_INET6)
		return satp_errf(err, errlen, "-4 and -6 exclude each other");
	c->family = AF_INET;
	return 0;
}

static int set_ipv6(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	if (c->family == AF_INET)
		return satp_errf(err, errlen, "-4 and -6 exclude each other");
	c->family = AF_INET6;
	return 0;
}

static int set_sync(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return satp_errf(err, errlen,
			 "serving anytun sync (-I -S) is not supported by satpd yet ('%s'); "
			 "-X and -M (receiving) are",
			 arg);
}

/* -X and -M: entries are checked by the daemon (sync_proto's split); kept as given. */
static int add_sync_host(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	const char *p = arg;
	size_t n;

	while (*p) {
		n = strcspn(p, ",");
		if (!n || n >= SATPD_HOST_MAX + 8)
			return satp_errf(err, errlen, "invalid sync host list '%s'", arg);
		if (c->n_sync_hosts >= SATPD_SYNC_HOSTS_MAX)
			return satp_errf(err, errlen, "too many sync hosts at '%s' (max %d)", arg,
					 SATPD_SYNC_HOSTS_MAX);
		memcpy(c->sync_hosts[c->n_sync_hosts], p, n);
		c->sync_hosts[c->n_sync_hosts++][n] = '\0';
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int set_control_host(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	if (strchr(arg, ','))
		return satp_errf(err, errlen, "-X takes one host[:port], not a list ('%s')", arg);
	return add_sync_host(c, arg, err, errlen);
}

static int set_dev(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return satpd_parse_ifname(arg, c->dev_name, err, errlen);
}

static int set_type(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	if (!strcmp(arg, "tun"))
		c->dev_type = SATPD_DEV_TUN;
	else if (!strcmp(arg, "tap"))
		c->dev_type = SATPD_DEV_TAP;
	else
		return satp_errf(err, errlen, "invalid device type '%s' (expected tun or tap)",
				 arg);
	c->dev_type_set = true;
	return 0;
}

static int set_ifconfig(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return satpd_parse_prefix(arg, &c->ifconfig, err, errlen);
}

static int set_post_up(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return copy_str(c->post_up_script, sizeof(c->post_up_script), arg, "post-up script", err,
			errlen);
}

static int set_route(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	char buf[128];
	const char *p = arg;

	/* anytun takes a comma-separated list and the option several times. */
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 0 || n >= sizeof(buf))
			return satp_errf(err, errlen, "invalid route list '%s'", arg);
		if (c->n_routes >= SATPD_ROUTES_MAX)
			return satp_errf(err, errlen, "too many routes at '%s' (max %d)", arg,
					 SATPD_ROUTES_MAX);
		memcpy(buf, p, n);
		buf[n] = '\0';
		if (satpd_parse_prefix(buf, &c->routes[c->n_routes], err, errlen))
			return -EINVAL;
		c->route_conn[c->n_routes] = (uint16_t)c->cur_conn;
		c->n_routes++;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int set_u16(uint16_t *dst, const char *arg, const char *what, char *err, size_t errlen)
{
	unsigned long v;

	if (satpd_parse_uint(arg, UINT16_MAX, &v, what, err, errlen))
		return -EINVAL;
	*dst = (uint16_t)v;
	return 0;
}

static int set_mux(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	uint16_t m;

	if (set_u16(&m, arg, "mux", err, errlen))
		return -EINVAL;
	if (m == SATP_HS_MUX)
		return satp_errf(err, errlen,
				 "mux '%s' is reserved for handshake messages (expected 0..%u)",
				 arg, SATP_HS_MUX - 1);
	conn0(c)->mux = m;
	return 0;
}

static int set_sender_id(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return set_u16(&conn0(c)->sender_id, arg, "sender id", err, errlen);
}

static int set_window(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	unsigned long v;

	if (satpd_parse_uint(arg, UINT32_MAX, &v, "window size", err, errlen))
		return -EINVAL;
	if (v > SATP_WINDOW_BITS)
		return satp_errf(err, errlen,
				 "window size '%s' is larger than satpd supports (max %u)", arg,
				 SATP_WINDOW_BITS);
	conn0(c)->window = (uint32_t)v;
	return 0;
}

static int set_kd_prf(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	if (satp_parse_kd_prf(arg, &conn0(c)->keys.algos.kd_bits))
		return satp_errf(
		    err, errlen,
		    "invalid kd-prf '%s' (expected null, aes-ctr, aes-ctr-128, aes-ctr-192 "
		    "or aes-ctr-256)",
		    arg);
	return 0;
}

static int set_cipher(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	if (satp_parse_cipher(arg, &conn0(c)->keys.algos.cipher_bits))
		return satp_errf(
		    err, errlen,
		    "invalid cipher '%s' (expected null, aes-ctr, aes-ctr-128, aes-ctr-192 "
		    "or aes-ctr-256)",
		    arg);
	return 0;
}

static int set_auth(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	if (satp_parse_auth(arg, &conn0(c)->keys.algos.auth))
		return satp_errf(err, errlen, "invalid auth algorithm '%s' (expected null or sha1)",
				 arg);
	return 0;
}

static int set_tag_len(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	unsigned long v;

	/* Longer than 20 is clamped with a warning, as both reference daemons do. */
	if (satpd_parse_uint(arg, UINT32_MAX, &v, "auth tag length", err, errlen))
		return -EINVAL;
	conn0(c)->keys.algos.tag_len = (unsigned int)v;
	conn0(c)->tag_len_given = true;
	return 0;
}

static int set_role(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	if (satp_parse_role(arg, &conn0(c)->keys.role))
		return satp_errf(
		    err, errlen,
		    "invalid role '%s' (expected left, alice, server, right, bob or client)", arg);
	return 0;
}

static int set_passphrase(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	if (copy_str(c->passphrase, sizeof(c->passphrase), arg, "passphrase", NULL, 0))
		return satp_errf(err, errlen, "invalid passphrase (empty or longer than %d bytes)",
				 SATPD_PASSPHRASE_MAX - 1);
	c->have_passphrase = true;
	return 0;
}

static int set_key(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	struct satp_keys *k = &conn0(c)->keys;
	char msg[256];

	/* The message would quote the key: report only where it went wrong. */
	if (satp_hex_parse(arg, k->master_key, sizeof(k->master_key), 0, &k->master_key_len, msg,
			   sizeof(msg)))
		return satp_errf(
		    err, errlen,
		    "invalid master key (-K): expected 32, 48 or 64 hex digits, got %zu characters",
		    strlen(arg));
	c->have_key = true;
	return 0;
}

static int set_salt(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	struct satp_keys *k = &conn0(c)->keys;
	char msg[256];
	size_t len;

	if (satp_hex_parse(arg, k->master_salt, sizeof(k->master_salt), SATP_SALT_LEN, &len, msg,
			   sizeof(msg)))
		return satp_errf(
		    err, errlen,
		    "invalid master salt (-A): expected %d hex digits, got %zu characters",
		    2 * SATP_SALT_LEN, strlen(arg));
	c->have_salt = true;
	return 0;
}

static int set_private_key(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	/* keyfile's message names the file and its mode, never the key. */
	if (keyfile_read_private(arg, c->private_key, err, errlen))
		return -EINVAL;
	c->have_private_key = true;
	return 0;
}

static int set_peer_key(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	struct satpd_conn_config *cc = conn0(c);

	if (keyfile_read_public(arg, cc->peer_key, err, errlen))
		return -EINVAL;
	cc->handshake = true;
	return 0;
}

/* Longer than the default would cross the reject time (hs.h) before a new session exists. */
#define REKEY_AFTER_MAX_S 120

static int set_rekey_after(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	unsigned long v;

	if (satpd_parse_uint(arg, REKEY_AFTER_MAX_S, &v, "rekey time", NULL, 0) || v == 0)
		return satp_errf(err, errlen, "invalid rekey time '%s' (expected 1..%u seconds)",
				 arg, REKEY_AFTER_MAX_S);
	c->rekey_after_s = (uint32_t)v;
	return 0;
}

static int set_xdp_dev(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return satpd_parse_ifname(arg, c->xdp_dev, err, errlen);
}

static int set_xdp_mode(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	if (!strcmp(arg, "native"))
		c->xdp_mode = SATPD_XDP_NATIVE;
	else if (!strcmp(arg, "skb"))
		c->xdp_mode = SATPD_XDP_SKB;
	else if (!strcmp(arg, "off"))
		c->xdp_mode = SATPD_XDP_OFF;
	else
		return satp_errf(err, errlen, "invalid xdp mode '%s' (expected native, skb or off)",
				 arg);
	c->xdp_mode_set = true;
	return 0;
}

static int set_keep_xdp(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	c->keep_xdp = true;
	return 0;
}

static int set_queues(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	unsigned long v;

	if (satpd_parse_uint(arg, SATPD_QUEUES_MAX, &v, "queue count", NULL, 0) || v == 0)
		return satp_errf(err, errlen, "invalid queue count '%s' (expected 1..%d)", arg,
				 SATPD_QUEUES_MAX);
	c->queues = (unsigned int)v;
	return 0;
}

static int set_dir(char *dst, const char *arg, const char *what, char *err, size_t errlen)
{
	if (arg[0] != '/')
		return satp_errf(err, errlen, "%s '%s' must be an absolute path", what, arg);
	return copy_str(dst, SATPD_PATH_MAX, arg, what, err, errlen);
}

static int set_pin_root(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return set_dir(c->pin_root, arg, "pin root", err, errlen);
}

static int set_state_dir(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return set_dir(c->state_dir, arg, "state directory", err, errlen);
}

static int set_ctl_socket(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return set_dir(c->ctl_socket, arg, "control socket", err, errlen);
}

static int set_ctl_group(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return copy_str(c->ctl_group, sizeof(c->ctl_group), arg, "control group", err, errlen);
}

static int set_ctl_read_group(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return copy_str(c->ctl_read_group, sizeof(c->ctl_read_group), arg, "control read group",
			err, errlen);
}

static int set_metrics(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	if (!strchr(arg, ':'))
		return satp_errf(err, errlen, "invalid --metrics '%s': expected ADDR:PORT", arg);
	return copy_str(c->metrics, sizeof(c->metrics), arg, "--metrics", err, errlen);
}

/* ADDR:PORT or [V6]:PORT with the port given: an edge's exchange socket has no default port. */
static int check_hostport(const char *arg, const char *what, char *err, size_t errlen)
{
	char host[SATPD_HOST_MAX];
	uint16_t port;

	if (satp_hostport_parse(arg, 0, host, sizeof(host), &port, NULL, 0))
		return satp_errf(err, errlen, "invalid %s '%s' (expected ADDR:PORT or [V6]:PORT)",
				 what, arg);
	return 0;
}

static int set_edge_listen(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	if (check_hostport(arg, "edge listen address", err, errlen))
		return -EINVAL;
	return copy_str(c->edge_listen, sizeof(c->edge_listen), arg, "edge listen address", err,
			errlen);
}

static int add_peer_edge(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	if (c->n_edge_peers >= SATPD_EDGE_PEERS_MAX)
		return satp_errf(err, errlen, "too many peer edges at '%s' (max %d)", arg,
				 SATPD_EDGE_PEERS_MAX);
	if (check_hostport(arg, "peer edge", err, errlen))
		return -EINVAL;
	if (copy_str(c->edge_peers[c->n_edge_peers], sizeof(c->edge_peers[0]), arg, "peer edge",
		     err, errlen))
		return -EINVAL;
	c->n_edge_peers++;
	return 0;
}

static int set_edge_key(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	return copy_str(c->edge_key_file, sizeof(c->edge_key_file), arg, "edge key file", err,
			errlen);
}

static int set_edge_interval(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	unsigned long v;

	if (satpd_parse_uint(arg, SATPD_EDGE_INTERVAL_MAX_MS, &v, "edge interval", NULL, 0) ||
	    v < SATPD_EDGE_INTERVAL_MIN_MS)
		return satp_errf(err, errlen, "invalid edge interval '%s' (expected %d..%d ms)",
				 arg, SATPD_EDGE_INTERVAL_MIN_MS, SATPD_EDGE_INTERVAL_MAX_MS);
	c->edge_interval_ms = (unsigned int)v;
	return 0;
}

static int set_max_senders(struct satpd_config *c, const char *arg, char *err, size_t errlen)
{
	unsigned long v;

	if (satpd_parse_uint(arg, UINT16_MAX, &v, "max senders", NULL, 0) || !v)
		return satp_errf(err, errlen, "invalid max senders '%s' (expected 1..%u)", arg,
				 UINT16_MAX);
	c->max_senders = (unsigned int)v;
	return 0;
}

/* ---------------------------------------------------------------- the table */

#define OPT_ARG	   1u /* takes a value */
#define OPT_SECRET 2u /* the value is wiped from argv and config lines */
#define OPT_CONN   4u /* per connection: allowed inside a config file's `connection` block */

struct opt_def {
	const char *name; /* long name; the config-file key */
	char short_name;  /* 0: long form only */
	unsigned int flags;
	opt_setter set;
	const char *arg;
	const char *help;
};

static const struct opt_def opts[] = {
    {"nodaemonize", 'D', 0, set_nodaemonize, NULL, "don't run in background"},
    {"rail-mode", 'Y', 0, set_rail, NULL,
     "RAIL: send every datagram on every path (implied by a port range)"},
    {"username", 'u', OPT_ARG, set_username, "<username>", "change to this user"},
    {"groupname", 'g', OPT_ARG, set_groupname, "<groupname>", "change to this group"},
    {"chroot", 'C', OPT_ARG, set_chroot, "<path>", "chroot to this directory"},
    {"write-pid", 'P', OPT_ARG, set_pid_file, "<path>", "write pid to this file"},
    {"log", 'L', OPT_ARG, set_log, "<target>:<level>[,<param>...]",
     "add a log target (syslog, stdout, stderr, file), level 0..5; may repeat"},
    {"debug", 'U', 0, set_debug, NULL, "don't daemonize and log to stdout at level 5"},
    {"interface", 'i', OPT_ARG, set_interface, "<hostname|ip>", "local address to bind to"},
    {"port", 'p', OPT_ARG, set_port, "<port>[:<port>]", "local port (range: RAIL, later)"},
    {"sender-id", 's', OPT_ARG | OPT_CONN, set_sender_id, "<sender id>", "the sender id to use"},
    {"remote-host", 'r', OPT_ARG | OPT_CONN, set_remote_host, "<hostname|ip>",
     "remote host (RAIL: repeat it, a path per host)"},
    {"remote-port", 'o', OPT_ARG | OPT_CONN, set_remote_port, "<port>[:<port>]", "remote port"},
    {"ipv4-only", '4', 0, set_ipv4, NULL, "always resolve IPv4 addresses"},
    {"ipv6-only", '6', 0, set_ipv6, NULL, "always resolve IPv6 addresses"},
    {"sync-interface", 'I', OPT_ARG, set_sync, "<ip>", "anytun sync: not supported"},
    {"sync-port", 'S', OPT_ARG, set_sync, "<port>", "anytun sync: not supported"},
    {"sync-hosts", 'M', OPT_ARG, add_sync_host, "<host>[:<port>][,...]",
     "receive connections and routes from these anytun sync servers"},
    {"control-host", 'X', OPT_ARG, set_control_host, "<host>[:<port>]",
     "receive connections and routes from this anytun-controld"},
    {"dev", 'd', OPT_ARG, set_dev, "<name>", "device name"},
    {"type", 't', OPT_ARG, set_type, "<tun|tap>", "device type"},
    {"ifconfig", 'n', OPT_ARG, set_ifconfig, "<local>/<prefix>",
     "address and prefix length of the device (sets MTU 1400)"},
    {"post-up-script", 'x', OPT_ARG, set_post_up, "<script>",
     "run after the device exists, with its name as argument"},
    {"route", 'R', OPT_ARG | OPT_CONN, set_route, "<net>/<prefix>",
     "add a route to the connection"},
    {"mux", 'm', OPT_ARG | OPT_CONN, set_mux, "<mux-id>", "the multiplex id to use"},
    {"window-size", 'w', OPT_ARG | OPT_CONN, set_window, "<window size>",
     "sequence number window size; 0 disables replay protection"},
    {"kd-prf", 'k', OPT_ARG | OPT_CONN, set_kd_prf, "<kd-prf type>", "key derivation function"},
    {"role", 'e', OPT_ARG | OPT_CONN, set_role, "<role>", "left (alice) or right (bob)"},
    {"passphrase", 'E', OPT_ARG | OPT_CONN | OPT_SECRET, set_passphrase, "<pass phrase>",
     "derive master key and salt from this"},
    {"key", 'K', OPT_ARG | OPT_CONN | OPT_SECRET, set_key, "<master key>", "master key (hex)"},
    {"salt", 'A', OPT_ARG | OPT_CONN | OPT_SECRET, set_salt, "<master salt>", "master salt (hex)"},
    {"cipher", 'c', OPT_ARG | OPT_CONN, set_cipher, "<cipher type>",
     "payload encryption algorithm"},
    {"auth-algo", 'a', OPT_ARG | OPT_CONN, set_auth, "<algo type>",
     "message authentication algorithm"},
    {"auth-tag-length", 'b', OPT_ARG | OPT_CONN, set_tag_len, "<length>", "length of the auth tag"},
    {"private-key", 0, OPT_ARG, set_private_key, "<file>",
     "this daemon's X25519 private key (handshake mode; mode 0600)"},
    {"peer-key", 0, OPT_ARG | OPT_CONN, set_peer_key, "<file>",
     "the peer's X25519 public key: handshake mode instead of -K/-A/-E"},
    {"rekey-after", 0, OPT_ARG, set_rekey_after, "<seconds>",
     "handshake: replace sessions this often (default 120; shorter for tests)"},
    {"xdp-dev", 0, OPT_ARG, set_xdp_dev, "<ifname>",
     "underlay interface for XDP (default: the one holding -i, else the route to -r)"},
    {"xdp-mode", 0, OPT_ARG, set_xdp_mode, "<native|skb|off>", "XDP attach mode (default native)"},
    {"keep-xdp", 0, 0, set_keep_xdp, NULL,
     "leave satp_rx attached at exit: SATP is dropped (fail closed) until satpd returns"},
    {"queues", 0, OPT_ARG, set_queues, "<n>",
     "workers: XDP, the device's rx queues (default all); sockets, tun queues (default 1)"},
    {"pin-root", 0, OPT_ARG, set_pin_root, "<dir>",
     "bpffs root for pinned state (default /sys/fs/bpf)"},
    {"state-dir", 0, OPT_ARG, set_state_dir, "<dir>",
     "where outgoing sequence numbers are reserved (default /var/lib/satpd/<dev>)"},
    {"ctl-socket", 0, OPT_ARG, set_ctl_socket, "<path>",
     "control socket for satp (default /run/satpd/<dev>.sock)"},
    {"ctl-group", 0, OPT_ARG, set_ctl_group, "<group>",
     "group allowed every control socket op besides root"},
    {"ctl-read-group", 0, OPT_ARG, set_ctl_read_group, "<group>",
     "group allowed op=show only (satp show); the socket file gets this group"},
    {"metrics", 0, OPT_ARG, set_metrics, "<addr:port>",
     "Prometheus endpoint (GET /metrics; default off)"},
    {"edge-listen", 0, OPT_ARG, set_edge_listen, "<addr:port>",
     "anycast cluster: receive the other edges' replay windows here"},
    {"peer-edge", 0, OPT_ARG, add_peer_edge, "<addr:port>",
     "anycast cluster: send this edge's replay windows there; may repeat"},
    {"edge-key", 0, OPT_ARG, set_edge_key, "<file>",
     "the cluster's window exchange key (satp genkey); default: from the connection's key"},
    {"edge-interval", 0, OPT_ARG, set_edge_interval, "<ms>",
     "window exchange interval (default 100; a replay is refused everywhere after it)"},
    {"max-senders", 0, OPT_ARG, set_max_senders, "<n>",
     "replay-window slots (sender ids) per connection (default: a fair share of the pool)"},
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static const struct opt_def *find_long(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++)
		if (strlen(opts[i].name) == n && !strncmp(opts[i].name, name, n))
			return &opts[i];
	return NULL;
}

static const struct opt_def *find_short(char ch)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++)
		if (opts[i].short_name && opts[i].short_name == ch)
			return &opts[i];
	return NULL;
}

static void wipe_str(char *s)
{
	for (; *s; s++)
		*s = '#';
}

static int apply(struct satpd_config *c, const struct opt_def *o, const char *arg, char *err,
		 size_t errlen)
{
	char msg[SATPD_PATH_MAX / 4];
	int ret;

	ret = o->set(c, arg, msg, sizeof(msg));
	if (ret) {
		if (o->short_name)
			snprintf(err, errlen, "option -%c/--%s: %s", o->short_name, o->name, msg);
		else
			snprintf(err, errlen, "option --%s: %s", o->name, msg);
	}
	return ret;
}

void satpd_config_default(struct satpd_config *c)
{
	struct satpd_conn_config *cc;

	memset(c, 0, sizeof(*c));
	c->daemonize = true;
	c->family = AF_UNSPEC;
	c->local.port_lo = c->local.port_hi = SATP_DEFAULT_PORT;
	c->dev_type = SATPD_DEV_TUN;
	c->xdp_mode = SATPD_XDP_NATIVE;
	c->queues = SATPD_QUEUES_UNSET;
	snprintf(c->pin_root, sizeof(c->pin_root), "%s", SATPD_PIN_ROOT);
	c->edge_interval_ms = SATPD_EDGE_INTERVAL_DEFAULT_MS;
	c->n_conns = 1;
	cc = conn0(c);
	conn_default(cc);
}

int satpd_options_parse(struct satpd_config *c, int argc, char **argv, char *err, size_t errlen)
{
	int i, ret;

	satpd_config_default(c);
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		const struct opt_def *o = NULL;
		char *val = NULL;

		if (!strcmp(s, "-h") || !strcmp(s, "--help"))
			return SATPD_OPT_HELP;
		if (!strcmp(s, "-v") || !strcmp(s, "--version"))
			return SATPD_OPT_VERSION;
		if (!strcmp(s, "--config")) {
			if (i + 1 >= argc)
				return satp_errf(err, errlen, "option --config: missing FILE");
			ret = satpd_options_parse_file(c, argv[++i], err, errlen);
			if (ret)
				return ret;
			continue;
		}
		if (s[0] == '-' && s[1] == '-' && s[2]) {
			const char *eq = strchr(s + 2, '=');

			o = find_long(s + 2, eq ? (size_t)(eq - s - 2) : strlen(s + 2));
			if (o && eq)
				val = argv[i] + (eq - s) + 1;
		} else if (s[0] == '-' && s[1] && !s[2]) {
			o = find_short(s[1]);
		}
		if (!o)
			return satp_errf(err, errlen, "unknown option '%s' (try --help)", s);
		if (!(o->flags & OPT_ARG)) {
			if (val)
				return satp_errf(err, errlen, "option '%s' takes no value", s);
		} else if (!val) {
			/* Like anytun: a value starting with '-' is a forgotten value. */
			if (i + 1 >= argc || argv[i + 1][0] == '-')
				return satp_errf(err, errlen, "option '%s' needs a value %s", s,
						 o->arg);
			val = argv[++i];
		}
		ret = apply(c, o, val ? val : "", err, errlen);
		if (o->flags & OPT_SECRET)
			wipe_str(val);
		if (ret)
			return ret;
	}
	return 0;
}

static int finish_conn(struct satpd_config *c, struct satpd_conn_config *cc, char *err,
		       size_t errlen);

static void wipe_key_state(struct satpd_config *c)
{
	explicit_bzero(c->passphrase, sizeof(c->passphrase));
	c->have_key = c->have_salt = c->have_passphrase = false;
}

static void restore_conn0_keys(struct satpd_config *c)
{
	struct satpd_conn_keys_parse *k = &c->saved0;

	memcpy(c->passphrase, k->passphrase, sizeof(c->passphrase));
	c->have_key = k->have_key;
	c->have_salt = k->have_salt;
	c->have_passphrase = k->have_passphrase;
	explicit_bzero(k, sizeof(*k));
}

/* The open block ends: its keys are derived now, with its own -K/-A/-E. */
static int close_block(struct satpd_config *c, const char *where, char *err, size_t errlen)
{
	char msg[512];
	int ret;

	ret = finish_conn(c, conn0(c), msg, sizeof(msg));
	wipe_key_state(c);
	if (ret)
		return satp_errf(err, errlen, "%s: connection block: %s", where, msg);
	return 0;
}

static int open_block(struct satpd_config *c, const char *where, char *err, size_t errlen)
{
	struct satpd_conn_keys_parse *k = &c->saved0;
	int ret;

	if (c->block_line) {
		ret = close_block(c, where, err, errlen);
		if (ret)
			return ret;
	} else {
		memcpy(k->passphrase, c->passphrase, sizeof(k->passphrase));
		k->have_key = c->have_key;
		k->have_salt = c->have_salt;
		k->have_passphrase = c->have_passphrase;
		wipe_key_state(c);
	}
	if (c->n_conns >= SATPD_CONNS_MAX)
		return satp_errf(err, errlen, "%s: too many connections (max %d)", where,
				 SATPD_CONNS_MAX);
	c->cur_conn = c->n_conns++;
	conn_default(conn0(c));
	c->block_line =
	    (unsigned int)strtoul(strrchr(where, ':') ? strrchr(where, ':') + 1 : "1", NULL, 10);
	if (!c->block_line)
		c->block_line = 1;
	return 0;
}

int satpd_options_parse_line(struct satpd_config *c, char *line, const char *where, char *err,
			     size_t errlen)
{
	const struct opt_def *o;
	char *key, *val, *end;
	char msg[SATPD_PATH_MAX / 4];
	size_t n;
	int ret;

	line[strcspn(line, "#\r\n")] = '\0';
	key = line + strspn(line, " \t");
	n = strcspn(key, " \t");
	val = key + n + strspn(key + n, " \t");
	if (n == 0)
		return 0;
	end = val + strlen(val);
	while (end > val && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (n == strlen("connection") && !strncmp(key, "connection", n)) {
		if (*val)
			return satp_errf(err, errlen, "%s: 'connection' takes no value (got '%s')",
					 where, val);
		return open_block(c, where, err, errlen);
	}
	o = find_long(key, n);
	if (!o) {
		key[n] = '\0';
		return satp_errf(err, errlen, "%s: unknown option '%s'", where, key);
	}
	if (c->block_line && !(o->flags & OPT_CONN))
		return satp_errf(
		    err, errlen,
		    "%s: '%s' is not a per-connection option (inside the connection block "
		    "of line %u; put global options before the first 'connection')",
		    where, o->name, c->block_line);
	if (!(o->flags & OPT_ARG) && *val)
		return satp_errf(err, errlen, "%s: option '%s' takes no value (got '%s')", where,
				 o->name, val);
	if ((o->flags & OPT_ARG) && !*val)
		return satp_errf(err, errlen, "%s: option '%s' needs a value %s", where, o->name,
				 o->arg);
	ret = apply(c, o, val, msg, sizeof(msg));
	if (o->flags & OPT_SECRET)
		wipe_str(val);
	if (ret)
		return satp_errf(err, errlen, "%s: %s", where, msg);
	return 0;
}

int satpd_options_parse_file(struct satpd_config *c, const char *path, char *err, size_t errlen)
{
	char line[CONFIG_LINE_MAX], where[SATPD_PATH_MAX + 32];
	unsigned int lineno = 0;
	FILE *f;
	int ret = 0;

	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "config file '%s': %s", path, strerror(-ret));
		return ret;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		if (!strchr(line, '\n') && !feof(f)) {
			ret = satp_errf(err, errlen, "%s: line too long", where);
			break;
		}
		ret = satpd_options_parse_line(c, line, where, err, errlen);
		if (ret)
			break;
	}
	if (!ret && c->block_line) {
		snprintf(where, sizeof(where), "%s:%u", path, c->block_line);
		ret = close_block(c, where, err, errlen);
		/* Later command-line options describe connection 0 again. */
		c->cur_conn = 0;
		c->block_line = 0;
		restore_conn0_keys(c);
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return ret;
}

static int finish_keys(struct satpd_config *c, struct satpd_conn_config *cc, char *err,
		       size_t errlen)
{
	struct satp_keys *k = &cc->keys;
	size_t want = k->algos.kd_bits / 8;

	if (c->have_passphrase) {
		if (c->have_key)
			c->warnings |= SATPD_WARN_KEY_OVER_PASS;
		else if (want && satp_passphrase_key(c->passphrase, k->master_key, want))
			return satp_errf(err, errlen, "cannot derive a key from the passphrase");
		else
			k->master_key_len = want;
		if (c->have_salt)
			c->warnings |= SATPD_WARN_SALT_OVER_PASS;
		else if (satp_passphrase_salt(c->passphrase, k->master_salt))
			return satp_errf(err, errlen, "cannot derive a salt from the passphrase");
	} else if (want) {
		if (!c->have_key)
			return satp_errf(err, errlen,
					 "no master key: give -K/--key or -E/--passphrase");
		if (!c->have_salt)
			return satp_errf(err, errlen,
					 "no master salt: give -A/--salt or -E/--passphrase");
	}
	if (!want) {
		k->master_key_len = 0;
		return 0;
	}
	/* anytun's kd-prf needs exactly its key length; anything else never works. */
	if (k->master_key_len != want)
		return satp_errf(
		    err, errlen,
		    "master key is %zu bytes but kd-prf %s needs %zu (-k aes-ctr-%zu for this key)",
		    k->master_key_len, satp_algo_name(k->algos.kd_bits), want,
		    k->master_key_len * 8);
	return 0;
}

/*
 * Handshake mode: sessions bring the keys, so -K/-A/-E are a contradiction;
 * receivers tell sessions apart by their tags and derive per-session keys
 * with the kd-prf, so both must exist; replay protection is never off.
 */
static int finish_handshake(struct satpd_config *c, struct satpd_conn_config *cc, char *err,
			    size_t errlen)
{
	const struct satp_algos *a = &cc->keys.algos;

	if (c->have_key || c->have_salt || c->have_passphrase)
		return satp_errf(
		    err, errlen,
		    "--peer-key (handshake mode) and -K/-A/-E (static keys) exclude each "
		    "other: a connection uses one or the other");
	if (a->auth == SATP_AUTH_NULL || !a->tag_len)
		return satp_errf(
		    err, errlen,
		    "handshake mode (--peer-key) needs authentication: '-a %s' with tag "
		    "length %u is refused (sessions are told apart by their tags)",
		    satp_auth_name(a->auth), a->tag_len);
	if (!a->kd_bits)
		return satp_errf(err, errlen,
				 "handshake mode (--peer-key) needs a kd-prf: '-k null' is refused "
				 "(session keys are derived with it)");
	if (!cc->tag_len_given)
		cc->keys.algos.tag_len = SATPD_HS_TAG_MIN;
	if (a->tag_len < SATPD_HS_TAG_MIN)
		return satp_errf(
		    err, errlen,
		    "handshake mode (--peer-key) needs auth tags of at least %u bytes: "
		    "'-b %u' is refused (a forged datagram that verifies would confirm a "
		    "session and move its window)",
		    SATPD_HS_TAG_MIN, a->tag_len);
	cc->keys.master_key_len = 0; /* no static key: each session brings its own */
	if (!cc->window)
		cc->window = SATPD_HS_WINDOW_DEFAULT;
	return 0;
}

/* Algorithm fix-ups, warnings and keys of one connection, with the current -K/-A/-E state. */
static int finish_conn(struct satpd_config *c, struct satpd_conn_config *cc, char *err,
		       size_t errlen)
{
	unsigned int fix;

	fix = satp_algos_fixup(&cc->keys.algos);
	if (fix & SATP_FIXUP_KD_NULL)
		c->warnings |= SATPD_WARN_KD_NULL;
	if (fix & SATP_FIXUP_TAG_CLAMP)
		c->warnings |= SATPD_WARN_TAG_CLAMP;
	if (cc->keys.algos.kd_bits == 0 &&
	    (cc->keys.algos.cipher_bits || cc->keys.algos.auth != SATP_AUTH_NULL))
		c->warnings |= SATPD_WARN_NULL_KD;
	if (cc->handshake)
		return finish_handshake(c, cc, err, errlen);
	if (cc->window == 0)
		c->warnings |= SATPD_WARN_NO_REPLAY;
	if (cc->keys.algos.tag_len == 0)
		c->warnings |= SATPD_WARN_NO_AUTH;
	else if (cc->keys.algos.tag_len < SATPD_TAG_WARN_BELOW)
		c->warnings |= SATPD_WARN_SHORT_TAG;
	return finish_keys(c, cc, err, errlen);
}

/*
 * With `connection` blocks, connection 0 (command line, lines before the first
 * block) is one only when it was given a key; else it is dropped.
 */
static int drop_unkeyed_conn0(struct satpd_config *c, char *err, size_t errlen)
{
	unsigned int i;

	if ((c->n_conns < 2 && !c->n_sync_hosts) || c->have_key || c->have_passphrase ||
	    c->conns[0].handshake)
		return 0;
	for (i = 0; i < c->n_routes; i++) {
		if (c->route_conn[i] == 0)
			return satp_errf(err, errlen,
					 "routes given with -R outside a connection block, but the "
					 "command line describes no connection (no -K/-E)");
		c->route_conn[i]--;
	}
	explicit_bzero(&c->conns[0].keys, sizeof(c->conns[0].keys));
	memmove(&c->conns[0], &c->conns[1], (c->n_conns - 1) * sizeof(c->conns[0]));
	c->n_conns--;
	explicit_bzero(&c->conns[c->n_conns], sizeof(c->conns[0]));
	return 1;
}

static int check_muxes(const struct satpd_config *c, char *err, size_t errlen)
{
	static uint8_t seen[(UINT16_MAX + 1) / 8];
	unsigned int i;
	uint16_t m;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < c->n_conns; i++) {
		m = c->conns[i].mux;
		if (seen[m / 8] & (1u << (m % 8)))
			return satp_errf(err, errlen, "mux %u is given to two connections", m);
		seen[m / 8] |= (uint8_t)(1u << (m % 8));
	}
	return 0;
}

static unsigned int range_len(const struct satpd_endpoint *e)
{
	return (unsigned int)e->port_hi - e->port_lo + 1u;
}

/*
 * RAIL over several links: every -r is a remote host, each with every port
 * pair (the product), the first one the connection's remote. Without RAIL,
 * the last -r won already (anytun: a later option overrides).
 */
static int check_rail_hosts(struct satpd_config *c, char *err, size_t errlen)
{
	struct satpd_conn_config *cc = &c->conns[0];
	unsigned int pairs = range_len(&c->local) > range_len(&cc->remote) ? range_len(&c->local)
									   : range_len(&cc->remote);

	if (c->n_rail_hosts < 2)
		return 0;
	if (pairs * c->n_rail_hosts > SATPD_RAIL_PATHS_MAX)
		return satp_errf(err, errlen,
				 "RAIL: %u remote hosts times %u port pairs are more than %u paths",
				 c->n_rail_hosts, pairs, SATPD_RAIL_PATHS_MAX);
	snprintf(cc->remote.host, sizeof(cc->remote.host), "%s", c->rail_hosts[0]);
	return 0;
}

/*
 * RAIL (uanytun master): a port range for -p or -o turns it on. Its copies
 * are told apart by the replay window only, so -w 0 would deliver them all.
 */
static int check_rail(struct satpd_config *c, char *err, size_t errlen)
{
	const struct satpd_conn_config *cc = &c->conns[0];

	if (range_len(&c->local) > 1 || range_len(&cc->remote) > 1)
		c->rail = true;
	if (!c->rail)
		return 0;
	if (cc->handshake)
		return satp_errf(err, errlen,
				 "RAIL (-Y or a port range) works with static keys only, "
				 "not with --peer-key");
	if (c->n_conns != 1 || c->n_sync_hosts)
		return satp_errf(err, errlen,
				 "RAIL (-Y or a port range) supports exactly one "
				 "connection, not connection blocks or -X/-M");
	if (!cc->window)
		return satp_errf(err, errlen,
				 "RAIL (-Y or a port range) needs a replay window: give -w > 0 "
				 "(with -w 0 every copy of every datagram would be delivered)");
	if (range_len(&c->local) > SATPD_RAIL_PATHS_MAX ||
	    range_len(&cc->remote) > SATPD_RAIL_PATHS_MAX)
		return satp_errf(err, errlen,
				 "RAIL: port range %u:%u / %u:%u is longer than %u ports",
				 c->local.port_lo, c->local.port_hi, cc->remote.port_lo,
				 cc->remote.port_hi, SATPD_RAIL_PATHS_MAX);
	return check_rail_hosts(c, err, errlen);
}

/*
 * The window exchange needs both ends of its socket, and a key: a file, or
 * derived from the one connection's master key (with several, whose? and a
 * client of one connection would hold the key to the others' windows).
 */
static int check_edge(const struct satpd_config *c, char *err, size_t errlen)
{
	if (!c->n_edge_peers && !c->edge_listen[0]) {
		if (c->edge_key_file[0])
			return satp_errf(err, errlen, "--edge-key '%s' given without --peer-edge",
					 c->edge_key_file);
		return 0;
	}
	if (!c->n_edge_peers)
		return satp_errf(err, errlen, "--edge-listen '%s' given without --peer-edge",
				 c->edge_listen);
	if (!c->edge_listen[0])
		return satp_errf(err, errlen, "--peer-edge '%s' needs --edge-listen ADDR:PORT",
				 c->edge_peers[0]);
	if (c->edge_key_file[0])
		return 0;
	if (c->n_conns != 1 || c->n_sync_hosts || !c->conns[0].keys.master_key_len)
		return satp_errf(
		    err, errlen,
		    "--peer-edge '%s' needs --edge-key FILE: the exchange key is derived "
		    "from the connection's master key only with exactly one keyed "
		    "connection",
		    c->edge_peers[0]);
	return 0;
}

/* A connection in handshake mode needs this daemon's identity. */
static int check_handshake_identity(const struct satpd_config *c, char *err, size_t errlen)
{
	unsigned int i;

	for (i = 0; i < c->n_conns; i++)
		if (c->conns[i].handshake && !c->have_private_key)
			return satp_errf(
			    err, errlen,
			    "connection %u (mux %u) has --peer-key but no --private-key "
			    "names this daemon's own key",
			    i, c->conns[i].mux);
	return 0;
}

int satpd_config_finish(struct satpd_config *c, char *err, size_t errlen)
{
	int ret, dropped;

	if (c->n_log == 0 && set_log(c, SATPD_LOG_DEFAULT, err, errlen))
		return -EINVAL;
	/* As both reference daemons: a name without a type says it ("tap0"). */
	if (!c->dev_type_set && !strncmp(c->dev_name, "tap", 3))
		c->dev_type = SATPD_DEV_TAP;
	/* What sync records do not carry (cipher, auth, tag, sender id) comes from here. */
	c->sync_base = c->conns[0];
	explicit_bzero(c->sync_base.keys.master_key, sizeof(c->sync_base.keys.master_key));
	explicit_bzero(c->sync_base.keys.master_salt, sizeof(c->sync_base.keys.master_salt));
	satp_algos_fixup(&c->sync_base.keys.algos);
	c->sync_base.handshake = false; /* sync brings static keys */
	dropped = drop_unkeyed_conn0(c, err, errlen);
	if (dropped < 0)
		return dropped;
	ret = check_muxes(c, err, errlen);
	if (ret)
		return ret;
	c->cur_conn = 0;
	/* Connections of blocks were finished when their block closed. */
	if (!dropped) {
		ret = finish_conn(c, &c->conns[0], err, errlen);
		explicit_bzero(c->passphrase, sizeof(c->passphrase));
		if (ret)
			return ret;
	}
	if (c->family != AF_UNSPEC && c->local.host[0]) {
		struct in6_addr a6;
		struct in_addr a4;

		if (c->family == AF_INET && inet_pton(AF_INET6, c->local.host, &a6) == 1)
			return satp_errf(err, errlen, "-4 given but -i '%s' is an IPv6 address",
					 c->local.host);
		if (c->family == AF_INET6 && inet_pton(AF_INET, c->local.host, &a4) == 1)
			return satp_errf(err, errlen, "-6 given but -i '%s' is an IPv4 address",
					 c->local.host);
	}
	explicit_bzero(c->passphrase, sizeof(c->passphrase));
	ret = check_handshake_identity(c, err, errlen);
	if (!ret)
		ret = check_rail(c, err, errlen);
	return ret ? ret : check_edge(c, err, errlen);
}

void satpd_config_wipe(struct satpd_config *c)
{
	unsigned int i;

	explicit_bzero(c->passphrase, sizeof(c->passphrase));
	explicit_bzero(c->private_key, sizeof(c->private_key));
	for (i = 0; i < SATPD_CONNS_MAX; i++)
		explicit_bzero(&c->conns[i].keys, sizeof(c->conns[i].keys));
}

void satpd_options_usage(FILE *f, const char *prog)
{
	char lhs[64];
	size_t i;

	fprintf(f, "USAGE:\n%s [options]\n", prog);
	fprintf(f, "   %-42s %s\n", "[-h|--help]", "prints this");
	fprintf(f, "   %-42s %s\n", "[-v|--version]", "print version info and exit");
	fprintf(f, "   %-42s %s\n", "[--config] <file>", "read options from a file, one a line");
	for (i = 0; i < N_OPTS; i++) {
		const struct opt_def *o = &opts[i];

		if (o->short_name)
			snprintf(lhs, sizeof(lhs), "[-%c|--%s]%s%s", o->short_name, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(lhs, sizeof(lhs), "[--%s]%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		fprintf(f, "   %-42s %s\n", lhs, o->help);
	}
}

const char *satpd_xdp_mode_name(enum satpd_xdp_mode m)
{
	switch (m) {
	case SATPD_XDP_NATIVE:
		return "native";
	case SATPD_XDP_SKB:
		return "skb";
	case SATPD_XDP_OFF:
		return "off";
	}
	return "?";
}

const char *satpd_dev_type_name(enum satpd_dev_type t)
{
	return t == SATPD_DEV_TAP ? "tap" : "tun";
}
