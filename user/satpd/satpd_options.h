/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * satpd's configuration model and its parser. The command line (anytun's
 * option set plus satpd's own) and config files (one option per line, no
 * dashes) become one struct satpd_config; nothing here touches the system:
 * no sockets, no devices, no name resolution. The daemon applies the model.
 */
#ifndef SATPD_OPTIONS_H
#define SATPD_OPTIONS_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "parse.h"
#include "satp.h"

/* Room for a host name (RFC 1035 limit) or a numeric address. */
#define SATPD_HOST_MAX 256
/* Paths of scripts, pid files, state and pin directories. */
#define SATPD_PATH_MAX 4096
/* -L may be given several times; anytun has no limit, four covers every sane use. */
#define SATPD_LOG_TARGETS 4
/* -R and per-connection `route` lines kept per daemon: a route or a few per connection. */
#define SATPD_ROUTES_MAX 4096
/*
 * Connections configured at start: the command line describes one, config-file
 * `connection` blocks add more, the control socket more at run time. An anycast
 * edge with a thousand clients (issue 8) fits.
 */
#define SATPD_CONNS_MAX 1024
/* -X and -M entries: anytun-controld and a few sync servers. */
#define SATPD_SYNC_HOSTS_MAX 8
/* --peer-edge: the other edges of an anycast cluster (docs/anycast.md: a site's handful). */
#define SATPD_EDGE_PEERS_MAX 16
/* --edge-interval: Δ of the window exchange; the default bounds a replay to a tenth of a second. */
#define SATPD_EDGE_INTERVAL_DEFAULT_MS 100
#define SATPD_EDGE_INTERVAL_MIN_MS     10
#define SATPD_EDGE_INTERVAL_MAX_MS     10000
/* --queues: more than the tun multi-queue limit of common kernels makes no sense. */
#define SATPD_QUEUES_MAX 64
/* --queues not given: the XDP path takes every rx queue of the device, the socket path one. */
#define SATPD_QUEUES_UNSET 0
/* A passphrase longer than this is a mistake, not a secret. */
#define SATPD_PASSPHRASE_MAX 1024
/* Log levels, anytun's and uanytun's numbers: a target shows levels <= its own. */
#define SATPD_LOG_NONE	  0
#define SATPD_LOG_ERROR	  1
#define SATPD_LOG_WARNING 2
#define SATPD_LOG_NOTICE  3
#define SATPD_LOG_INFO	  4
#define SATPD_LOG_DEBUG	  5
/* Both reference daemons log to syslog at notice unless told otherwise. */
#define SATPD_LOG_DEFAULT "syslog:3,satpd,daemon"
#define SATPD_PIN_ROOT	  "/sys/fs/bpf"
#define SATPD_STATE_ROOT  "/var/lib/satpd"

enum satpd_log_kind {
	SATPD_LOG_SYSLOG,
	SATPD_LOG_STDOUT,
	SATPD_LOG_STDERR,
	SATPD_LOG_FILE,
};

struct satpd_log_target {
	enum satpd_log_kind kind;
	int level;		    /* SATPD_LOG_* */
	char param[SATPD_PATH_MAX]; /* file: path; syslog: ident */
	int facility;		    /* syslog: LOG_DAEMON, LOG_USER, ... */
};

enum satpd_dev_type {
	SATPD_DEV_TUN = 0, /* IP packets, payload types 0x0800 / 0x86DD */
	SATPD_DEV_TAP = 1, /* Ethernet frames, payload type 0x6558 */
};

enum satpd_xdp_mode {
	SATPD_XDP_NATIVE = 0,
	SATPD_XDP_SKB,
	SATPD_XDP_OFF,
};

/* A host and a port range; lo == hi for a plain port. */
struct satpd_endpoint {
	char host[SATPD_HOST_MAX]; /* "" = any (local) / unknown (remote) */
	uint16_t port_lo;
	uint16_t port_hi;
};

/* One SATP connection: what anytun keeps per mux. */
struct satpd_conn_config {
	uint16_t mux;
	uint16_t sender_id;
	uint32_t window; /* -w; 0 disables replay protection */
	struct satpd_endpoint remote;
	struct satp_keys keys;
	/*
	 * Handshake mode (--peer-key): the peer's static X25519 public key; the
	 * daemon derives keys per session (docs/handshake.md) and keys is only
	 * the algorithm choice and role. Excludes -K/-A/-E.
	 */
	bool handshake;
	uint8_t peer_key[32];
	bool
	    tag_len_given; /* -b: handshake mode keeps it (or refuses it) rather than its default */
};

/*
 * Static keys: a tag shorter than anytun's default (10 bytes, HMAC-SHA1-80)
 * is warned about, not refused (anytun accepts it, and a peer may need it);
 * a forgery succeeds once in 2^(8 * length) tries.
 */
#define SATPD_TAG_WARN_BELOW 10
/*
 * Handshake mode: tags of at least this many bytes, and this many unless -b
 * says more: a forged datagram that verifies would confirm a responder's
 * session and move its window (both ends are satpd: no interop to keep).
 */
#define SATPD_HS_TAG_MIN 16

/* Handshake mode: the replay window of each session when -w is 0 (it is never off). */
#define SATPD_HS_WINDOW_DEFAULT 1024

/* RAIL paths: ports of a -p or -o range (one UDP socket per local port and family) times
 * remote hosts. */
#define SATPD_RAIL_PATHS_MAX 16
/* RAIL remote hosts (-r given more than once): one per link, links are few. */
#define SATPD_RAIL_HOSTS_MAX 8

struct satpd_config {
	/* process */
	bool daemonize;
	char username[64];
	char groupname[64];
	char chroot_dir[SATPD_PATH_MAX];
	char pid_file[SATPD_PATH_MAX];
	struct satpd_log_target log[SATPD_LOG_TARGETS];
	unsigned int n_log;

	/* underlay */
	struct satpd_endpoint local;
	int family; /* -4 / -6: AF_INET, AF_INET6, or AF_UNSPEC */

	/* device */
	char dev_name[IFNAMSIZ];
	enum satpd_dev_type dev_type;
	bool dev_type_set;
	struct satpd_prefix ifconfig; /* -n */
	char post_up_script[SATPD_PATH_MAX];
	struct satpd_prefix routes[SATPD_ROUTES_MAX];
	uint16_t route_conn[SATPD_ROUTES_MAX]; /* index into conns of each route */
	unsigned int n_routes;

	/* satpd's own */
	char xdp_dev[IFNAMSIZ]; /* "" = derive from -i / the route to -r */
	enum satpd_xdp_mode xdp_mode;
	/* --xdp-mode given: a mode that cannot be had is an error; the default falls back */
	bool xdp_mode_set;
	bool keep_xdp;	     /* --keep-xdp: leave satp_rx attached at exit (default: detach) */
	unsigned int queues; /* --queues, SATPD_QUEUES_UNSET when not given */
	bool rail;	     /* -Y or a port range: every datagram on every path */
	/* Every -r of connection 0, in order: with RAIL each is a remote host of its own
	 * paths (a link each); without, the last one wins as with anytun. */
	char rail_hosts[SATPD_RAIL_HOSTS_MAX][SATPD_HOST_MAX];
	unsigned int n_rail_hosts;
	char pin_root[SATPD_PATH_MAX];
	char state_dir[SATPD_PATH_MAX];	 /* "" = SATPD_STATE_ROOT/<dev> */
	char ctl_socket[SATPD_PATH_MAX]; /* "" = /run/satpd/<dev>.sock */
	char ctl_group[64];		 /* may use the control socket besides root */
	char ctl_read_group[64];	 /* may use op=show only (satp show) */
	char metrics[SATPD_HOST_MAX];	 /* --metrics ADDR:PORT; "" = off */
	/* --private-key: this daemon's static X25519 key, for connections with --peer-key */
	uint8_t private_key[32];
	bool have_private_key;
	/* --rekey-after: seconds before an initiator replaces a session; 0 = the default (hs.h) */
	uint32_t rekey_after_s;

	struct satpd_conn_config conns[SATPD_CONNS_MAX];
	unsigned int n_conns; /* 0 when -X/-M bring every connection */

	/* -X host[:port] and -M host[:port],...: anytun sync servers to receive from */
	char sync_hosts[SATPD_SYNC_HOSTS_MAX][SATPD_HOST_MAX + 8];
	unsigned int n_sync_hosts;
	struct satpd_conn_config sync_base; /* the command line's connection, without keys */

	/* The window exchange between anycast edges (docs/anycast.md §8); off without peers. */
	char edge_listen[SATPD_HOST_MAX + 8];			   /* --edge-listen ADDR:PORT */
	char edge_peers[SATPD_EDGE_PEERS_MAX][SATPD_HOST_MAX + 8]; /* --peer-edge ADDR:PORT */
	unsigned int n_edge_peers;
	char edge_key_file[SATPD_PATH_MAX]; /* --edge-key; "": derived from the connection's key */
	unsigned int edge_interval_ms;	    /* --edge-interval */
	/* --max-senders: replay-window slots per connection; 0 = a fair share (datapath.c) */
	unsigned int max_senders;

	/* parse state, consumed by satpd_config_finish() */
	char passphrase[SATPD_PASSPHRASE_MAX];
	bool have_key, have_salt, have_passphrase;
	unsigned int cur_conn;	 /* the connection per-connection options apply to */
	unsigned int block_line; /* line of the open `connection` block; 0: none */
	struct satpd_conn_keys_parse {
		char passphrase[SATPD_PASSPHRASE_MAX];
		bool have_key, have_salt, have_passphrase;
	} saved0;	       /* connection 0's key state while a block is open */
	unsigned int warnings; /* SATPD_WARN_* found while finishing */
};

/* Results of satpd_options_parse() besides 0 and -errno. */
#define SATPD_OPT_HELP	  1
#define SATPD_OPT_VERSION 2

/* Things finish() changed or noticed that the daemon should log once logging is up. */
#define SATPD_WARN_KD_NULL	  (1u << 0) /* kd-prf forced null: cipher and auth null */
#define SATPD_WARN_NULL_KD	  (1u << 1) /* null kd-prf with cipher or auth on: zero keys */
#define SATPD_WARN_TAG_CLAMP	  (1u << 2) /* -b > 20 clamped */
#define SATPD_WARN_KEY_OVER_PASS  (1u << 3) /* -K given with -E: -K wins */
#define SATPD_WARN_SALT_OVER_PASS (1u << 4) /* -A given with -E: -A wins */
#define SATPD_WARN_NO_REPLAY	  (1u << 5) /* -w 0: replay protection off */
#define SATPD_WARN_NO_AUTH	  (1u << 6) /* -a null or -b 0: nothing authenticated */
#define SATPD_WARN_SHORT_TAG	  (1u << 7) /* -b 1..SATPD_TAG_WARN_BELOW-1 */

void satpd_config_default(struct satpd_config *c);

/*
 * Parse argv into c (starting from the defaults). Secrets (-K -A -E) are
 * overwritten with '#' in argv. `--config FILE` reads FILE at that point.
 * Returns 0, SATPD_OPT_HELP, SATPD_OPT_VERSION, or -EINVAL/-errno with a
 * message quoting the offending text in err. Call satpd_config_finish() next.
 */
int satpd_options_parse(struct satpd_config *c, int argc, char **argv, char *err, size_t errlen);

/*
 * One config-file line ("remote-host 10.0.0.1", "nodaemonize", "# comment").
 * A line `connection` starts a block: the per-connection options that follow
 * (mux, sender-id, window-size, remote-host, remote-port, role, key, salt,
 * passphrase, cipher, auth-algo, auth-tag-length, kd-prf, route) describe a
 * new connection, until the next `connection` line or the end of the file;
 * other options inside a block are an error. The command line and the lines
 * before the first block describe connection 0, which is dropped when blocks
 * exist and it was given no key (-K/-E).
 * where names the file and line for messages. The line is wiped if it holds a secret.
 */
int satpd_options_parse_line(struct satpd_config *c, char *line, const char *where, char *err,
			     size_t errlen);

/* Read a config file line by line; a block still open at its end is closed there. */
int satpd_options_parse_file(struct satpd_config *c, const char *path, char *err, size_t errlen);

/*
 * Resolve what depends on several options: derive keys from the passphrase,
 * check key lengths against the kd-prf, apply the reference daemons' fix-ups,
 * fill c->warnings. Wipes the passphrase. 0 or -EINVAL with a message.
 */
int satpd_config_finish(struct satpd_config *c, char *err, size_t errlen);

/* Wipe key material. */
void satpd_config_wipe(struct satpd_config *c);

/* The usage text. */
void satpd_options_usage(FILE *f, const char *prog);

const char *satpd_xdp_mode_name(enum satpd_xdp_mode m);
const char *satpd_dev_type_name(enum satpd_dev_type t);

/* Typed parsers, exported for the unit tests (satpd_parse_uint, satpd_parse_prefix: parse.h).
 * 0 or -EINVAL with a message. */
int satpd_parse_port_range(const char *s, uint16_t *lo, uint16_t *hi, char *err, size_t errlen);
int satpd_parse_ifname(const char *s, char out[IFNAMSIZ], char *err, size_t errlen);
int satpd_parse_log_target(const char *s, struct satpd_log_target *t, char *err, size_t errlen);

#endif /* SATPD_OPTIONS_H */
