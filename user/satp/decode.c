// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp decode: verify and decrypt the SATP datagrams of a capture with
 * anytun's key options, one line per datagram. The operator's debugging
 * tool, and the proof that the core speaks what anytun and uanytun speak.
 */
#include <getopt.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostport.h"
#include "inner.h"
#include "outer.h"
#include "parse.h"
#include "portset.h"
#include "satp.h"
#include "satp_cmd.h"

/* A capture can hold any UDP datagram, not only the 1600 bytes daemons read. */
#define UDP_PAYLOAD_MAX 65535u
#define N_ROLES		2
#define ROLE_NONE	-1 /* no labels involved: cipher null and no tag */
#define ROLE_BAD_TAG	-2 /* no label set verified the tag */
#define ERR_LEN		256
#define HELP_SHOWN	-1

struct decode_opts {
	struct satp_algos algos;
	unsigned int tag_len_given; /* -b before clamping, for the warning */
	uint8_t key[SATP_KEY_MAX];
	size_t key_len;
	bool have_key;
	uint8_t salt[SATP_SALT_LEN];
	bool have_salt;
	char *passphrase; /* a copy: the one in argv is overwritten */
	bool role_forced;
	enum satp_role role;
	uint32_t window;
	bool hex;
	struct satp_portset ports;
	const char *ports_text;
	const char *file;
};

/* A receiver keeps one window per sender; a capture holds both directions. */
struct sender_window {
	uint16_t mux;
	uint16_t sid;
	int role;
	struct satp_window w;
};

struct endpoint {
	int family;
	uint8_t addr[16];
	uint16_t port;
};

/* Which sender roles authenticated the datagrams from src to dst. */
struct flow {
	struct endpoint src;
	struct endpoint dst;
	unsigned int roles; /* bit per enum satp_role */
};

struct decoder {
	const struct decode_opts *o;
	struct satp_crypto by_sender[N_ROLES]; /* index: the role of the datagram's sender */
	bool ready[N_ROLES];
	struct sender_window *windows;
	size_t n_windows;
	struct flow *flows;
	size_t n_flows;
	unsigned long packets;
	unsigned long ok;
	unsigned long failed;
	unsigned long unparsed;
	uint8_t buf[UDP_PAYLOAD_MAX];
	uint8_t trial[UDP_PAYLOAD_MAX];
};

static const struct option long_opts[] = {
    {"key", required_argument, NULL, 'K'},
    {"salt", required_argument, NULL, 'A'},
    {"passphrase", required_argument, NULL, 'E'},
    {"kd-prf", required_argument, NULL, 'k'},
    {"cipher", required_argument, NULL, 'c'},
    {"auth-algo", required_argument, NULL, 'a'},
    {"auth-tag-length", required_argument, NULL, 'b'},
    {"role", required_argument, NULL, 'e'},
    {"window-size", required_argument, NULL, 'w'},
    {"ports", required_argument, NULL, 'p'},
    {"hex", no_argument, NULL, 'x'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: satp decode FILE [options]      (FILE - reads standard input)\n"
		"\n"
		"Verify and decrypt every SATP datagram of a capture: UDP whose source or\n"
		"destination port is a SATP port, over IPv4 or IPv6, in a pcap or pcapng file\n"
		"of Ethernet (VLAN tags too), Linux cooked v1/v2 or raw IP. One line each:\n"
		"  #FRAME SRC -> DST seq=N sid=N mux=N role=ROLE VERDICT PTYPE SUMMARY\n"
		"VERDICT is ok, bad-tag, too-short, replay, too-old or no-payload; truncated\n"
		"(cut by the snaplen) and fragment (outer IP fragments are not reassembled)\n"
		"fail too. The last line counts datagrams, ok and failed.\n"
		"\n"
		"Key options, with anytun's names and defaults:\n"
		"  -K, --key HEX              master key, as long as the kd-prf wants\n"
		"  -A, --salt HEX             master salt, 14 bytes\n"
		"  -E, --passphrase TEXT      derive key and salt from TEXT; -K, -A win\n"
		"  -k, --kd-prf ALGO          null, aes-ctr, aes-ctr-128/192/256 [aes-ctr]\n"
		"  -c, --cipher ALGO          null, aes-ctr, aes-ctr-128/192/256 [aes-ctr]\n"
		"  -a, --auth-algo ALGO       null, sha1 [sha1]\n"
		"  -b, --auth-tag-length N    tag bytes, 0..20 [10]\n"
		"  -e, --role ROLE            open every datagram as sent by ROLE (below)\n"
		"  -w, --window-size N        replay window, 0..%u; 0 is off [0]\n"
		"The values of -K, -A and -E are overwritten with '#' in the arguments.\n"
		"\n"
		"Other options:\n"
		"      --ports LIST           4444, 4444,4446 or 4444:4447 [4444]\n"
		"      --hex                  append hex=INNER, the inner packet in hex\n"
		"  -h, --help                 this text\n"
		"\n"
		"Roles. A datagram's keys come from the labels of its sender's role, and the\n"
		"two ends of a tunnel have opposite roles. A capture holds both directions,\n"
		"and a pcap says neither which host wrote it nor which way a datagram went,\n"
		"so by default each datagram is tried with both label sets and role= names\n"
		"the one that verified: the sender's role. If both directions between two\n"
		"endpoints verify with the same role, both daemons run with that -e and\n"
		"drop each other's datagrams: that is reported and fails the run.\n"
		"With -e ROLE every datagram is opened as sent by a daemon with -e ROLE (so\n"
		"as received by one with the opposite role); datagrams sealed with the other\n"
		"labels fail with bad-tag. Use it on one direction, e.g. 'tcpdump -Q out'\n"
		"beside a daemon running with -e ROLE, to check it seals what you expect.\n"
		"Without a tag (-a null or -b 0) nothing proves a role: it is guessed from\n"
		"the decrypted payload type (role=left?); with cipher null too, labels play\n"
		"no part (role=-). With kd-prf null every derived key is zero whatever the\n"
		"role, so a capture cannot show roles either (role=-).\n"
		"\n"
		"Replay. With -w N > 0 each (mux, sender id, sender role) has a window with\n"
		"anytun's rules, committed after the tag verified; repeats are replay or\n"
		"too-old, and are still shown decrypted.\n"
		"\n"
		"Exit status: 0 when the capture holds SATP datagrams and all verified; 1 when\n"
		"one failed, none was found, roles clash or the file cannot be read to its\n"
		"end; 2 for a usage error or a bad option value.\n",
		SATP_WINDOW_BITS);
}

static void wipe_arg(char *arg)
{
	memset(arg, '#', strlen(arg));
}

static int opt_error(const char *what, const char *text, const char *want)
{
	fprintf(stderr, "satp decode: invalid %s '%s'%s%s\n", what, text, want ? ": want " : "",
		want ? want : "");
	return SATP_EXIT_USAGE;
}

#define ALGO_NAMES "null, aes-ctr, aes-ctr-128, aes-ctr-192 or aes-ctr-256"

static int parse_one(struct decode_opts *o, int opt, char *arg)
{
	char err[ERR_LEN];
	unsigned long v;
	int ret;

	switch (opt) {
	case 'K':
		ret = satp_hex_parse(arg, o->key, sizeof(o->key), 0, &o->key_len, err, sizeof(err));
		wipe_arg(arg);
		if (ret) {
			fprintf(stderr, "satp decode: -K: %s\n", err);
			return SATP_EXIT_USAGE;
		}
		o->have_key = true;
		return 0;
	case 'A':
		ret = satp_hex_parse(arg, o->salt, sizeof(o->salt), SATP_SALT_LEN, NULL, err,
				     sizeof(err));
		wipe_arg(arg);
		if (ret) {
			fprintf(stderr, "satp decode: -A: %s\n", err);
			return SATP_EXIT_USAGE;
		}
		o->have_salt = true;
		return 0;
	case 'E':
		free(o->passphrase);
		o->passphrase = strdup(arg);
		wipe_arg(arg);
		return o->passphrase ? 0 : SATP_EXIT_FAIL;
	case 'k':
		return satp_parse_kd_prf(arg, &o->algos.kd_bits)
			   ? opt_error("kd-prf", arg, ALGO_NAMES)
			   : 0;
	case 'c':
		return satp_parse_cipher(arg, &o->algos.cipher_bits)
			   ? opt_error("cipher", arg, ALGO_NAMES)
			   : 0;
	case 'a':
		return satp_parse_auth(arg, &o->algos.auth)
			   ? opt_error("auth-algo", arg, "null or sha1")
			   : 0;
	case 'b':
		if (satpd_parse_uint(arg, USHRT_MAX, &v, "auth-tag-length", NULL, 0))
			return opt_error("auth-tag-length", arg, "a number of bytes, 0..20");
		o->algos.tag_len = o->tag_len_given = (unsigned int)v;
		return 0;
	case 'e':
		if (satp_parse_role(arg, &o->role))
			return opt_error("role", arg,
					 "left (alice, server) or right (bob, client)");
		o->role_forced = true;
		return 0;
	case 'w':
		if (satpd_parse_uint(arg, SATP_WINDOW_BITS, &v, "window-size", NULL, 0)) {
			fprintf(stderr, "satp decode: invalid window-size '%s': want 0..%u\n", arg,
				SATP_WINDOW_BITS);
			return SATP_EXIT_USAGE;
		}
		o->window = (uint32_t)v;
		return 0;
	case 'p':
		if (satp_portset_parse(&o->ports, arg, err, sizeof(err))) {
			fprintf(stderr, "satp decode: --ports: %s\n", err);
			return SATP_EXIT_USAGE;
		}
		o->ports_text = arg;
		return 0;
	case 'x':
		o->hex = true;
		return 0;
	case 'h':
		usage(stdout);
		return HELP_SHOWN;
	default:
		return SATP_EXIT_USAGE;
	}
}

static int parse_opts(int argc, char **argv, struct decode_opts *o)
{
	static const char short_opts[] = ":K:A:E:k:c:a:b:e:w:h";
	int opt, ret;

	satp_algos_default(&o->algos);
	o->tag_len_given = o->algos.tag_len;
	satp_portset_clear(&o->ports);
	satp_portset_add(&o->ports, SATP_DEFAULT_PORT);
	o->ports_text = "4444";
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			const char *text = argv[optind - 1];

			if (opt == '?' && optopt)
				fprintf(stderr, "satp decode: unknown option '-%c'\n", optopt);
			else if (opt == '?')
				fprintf(stderr, "satp decode: unknown option '%s'\n", text);
			else
				fprintf(stderr, "satp decode: option '%s' needs a value\n", text);
			fprintf(stderr, "Try 'satp decode --help'.\n");
			return SATP_EXIT_USAGE;
		}
		ret = parse_one(o, opt, optarg);
		if (ret)
			return ret;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "satp decode: %s\nUsage: satp decode FILE [options]\n",
			optind >= argc ? "no capture file given"
				       : "more than one capture file given");
		return SATP_EXIT_USAGE;
	}
	o->file = argv[optind];
	return 0;
}

static void warn_fixups(const struct decode_opts *o, unsigned int fixups)
{
	if (fixups & SATP_FIXUP_KD_NULL)
		fprintf(stderr, "satp decode: warning: cipher and auth-algo are both null, "
				"kd-prf forced to null\n");
	if (fixups & SATP_FIXUP_TAG_ZERO)
		fprintf(stderr,
			"satp decode: warning: auth-algo null, auth-tag-length forced to 0\n");
	if (fixups & SATP_FIXUP_TAG_CLAMP)
		fprintf(stderr,
			"satp decode: warning: auth-tag-length %u is more than %d, "
			"clamped to %d\n",
			o->tag_len_given, SATP_TAG_MAX, SATP_TAG_MAX);
}

/* Master key and salt from -K/-A/-E, as the daemons pick them. */
static int setup_keys(struct decode_opts *o, struct satp_keys *k)
{
	size_t want;

	warn_fixups(o, satp_algos_fixup(&o->algos));
	want = o->algos.kd_bits / 8;
	memset(k, 0, sizeof(*k));
	k->algos = o->algos;
	if (!want) {
		if (o->algos.cipher_bits || o->algos.auth != SATP_AUTH_NULL)
			fprintf(stderr, "satp decode: warning: kd-prf null: every derived key and "
					"salt is all zero bytes\n");
		return 0;
	}
	if (o->have_key) {
		if (o->passphrase)
			fprintf(stderr, "satp decode: warning: -K overrides the key of -E\n");
		if (o->key_len != want) {
			fprintf(stderr,
				"satp decode: the master key is %zu bytes, kd-prf %s wants "
				"%zu\n",
				o->key_len, satp_algo_name(o->algos.kd_bits), want);
			return SATP_EXIT_USAGE;
		}
		memcpy(k->master_key, o->key, want);
	} else if (o->passphrase) {
		if (satp_passphrase_key(o->passphrase, k->master_key, want))
			return SATP_EXIT_FAIL;
	} else {
		fprintf(stderr, "satp decode: kd-prf %s needs a master key: -K HEX or -E TEXT\n",
			satp_algo_name(o->algos.kd_bits));
		return SATP_EXIT_USAGE;
	}
	k->master_key_len = want;
	if (o->have_salt) {
		if (o->passphrase)
			fprintf(stderr, "satp decode: warning: -A overrides the salt of -E\n");
		memcpy(k->master_salt, o->salt, SATP_SALT_LEN);
	} else if (o->passphrase) {
		if (satp_passphrase_salt(o->passphrase, k->master_salt))
			return SATP_EXIT_FAIL;
	} else {
		fprintf(stderr, "satp decode: kd-prf %s needs a master salt: -A HEX or -E TEXT\n",
			satp_algo_name(o->algos.kd_bits));
		return SATP_EXIT_USAGE;
	}
	return 0;
}

static enum satp_role other_role(enum satp_role r)
{
	return r == SATP_ROLE_LEFT ? SATP_ROLE_RIGHT : SATP_ROLE_LEFT;
}

/* by_sender[r] opens what a sender with role r sealed: a receiver of the opposite role. */
static int decoder_init(struct decoder *d, struct satp_keys *k)
{
	int r, err;

	for (r = 0; r < N_ROLES; r++) {
		k->role = other_role((enum satp_role)r);
		err = satp_crypto_init(&d->by_sender[r], k);
		if (err) {
			fprintf(stderr, "satp decode: cannot set up the ciphers: %s\n",
				strerror(-err));
			return SATP_EXIT_FAIL;
		}
		d->ready[r] = true;
	}
	return 0;
}

static void decoder_free(struct decoder *d)
{
	int r;

	for (r = 0; r < N_ROLES; r++)
		if (d->ready[r])
			satp_crypto_free(&d->by_sender[r]);
	free(d->windows);
	free(d->flows);
	free(d);
}

static const char *role_str(int role)
{
	return role == ROLE_NONE ? "-" : satp_role_name((enum satp_role)role);
}

/* Without a tag, the decryption that looks like its payload type names the role. */
static bool plausible(const struct satp_plain *p)
{
	switch (p->ptype) {
	case SATP_PTYPE_IPV4:
		return p->inner_len && p->inner[0] >> 4 == 4;
	case SATP_PTYPE_IPV6:
		return p->inner_len && p->inner[0] >> 4 == 6;
	case SATP_PTYPE_ETHER:
		return p->inner_len >= 14;
	default:
		return false;
	}
}

static int first_role(const struct decoder *d)
{
	return d->o->role_forced ? (int)d->o->role : SATP_ROLE_LEFT;
}

static int n_roles(const struct decoder *d)
{
	return d->o->role_forced ? 1 : N_ROLES;
}

static int role_at(const struct decoder *d, int i)
{
	return d->o->role_forced ? (int)d->o->role : i;
}

/* The sender role whose labels open this datagram, ROLE_NONE or ROLE_BAD_TAG. */
static int find_role(struct decoder *d, size_t len, bool *guessed)
{
	struct satp_plain p;
	int i, r;

	*guessed = false;
	/* kd-prf null derives every key as zero whatever the labels: nothing shows a role. */
	if (!d->o->algos.kd_bits && !d->o->role_forced) {
		if (d->o->algos.tag_len &&
		    satp_verify(&d->by_sender[SATP_ROLE_LEFT], d->buf, len) != SATP_OK)
			return ROLE_BAD_TAG;
		return ROLE_NONE;
	}
	if (d->o->algos.tag_len) {
		for (i = 0; i < n_roles(d); i++) {
			r = role_at(d, i);
			if (satp_verify(&d->by_sender[r], d->buf, len) == SATP_OK)
				return r;
		}
		return ROLE_BAD_TAG;
	}
	if (!d->o->algos.cipher_bits)
		return d->o->role_forced ? (int)d->o->role : ROLE_NONE;
	for (i = 0; i < n_roles(d); i++) {
		r = role_at(d, i);
		memcpy(d->trial, d->buf, len);
		if (satp_decrypt(&d->by_sender[r], d->trial, len, &p) == SATP_OK && plausible(&p))
			return r;
	}
	*guessed = true;
	return first_role(d);
}

static struct satp_window *window_for(struct decoder *d, const struct satp_header *h, int role)
{
	struct sender_window *sw;
	size_t i;

	for (i = 0; i < d->n_windows; i++) {
		sw = &d->windows[i];
		if (sw->mux == h->mux && sw->sid == h->sender_id && sw->role == role)
			return &sw->w;
	}
	sw = realloc(d->windows, (d->n_windows + 1) * sizeof(*sw));
	if (!sw)
		return NULL;
	d->windows = sw;
	sw = &d->windows[d->n_windows++];
	sw->mux = h->mux;
	sw->sid = h->sender_id;
	sw->role = role;
	satp_window_init(&sw->w, d->o->window);
	return &sw->w;
}

static void endpoint_set(struct endpoint *e, int family, const uint8_t *addr, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->family = family;
	memcpy(e->addr, addr, family == AF_INET6 ? 16 : 4);
	e->port = port;
}

static bool endpoint_eq(const struct endpoint *a, const struct endpoint *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static void flow_note(struct decoder *d, const struct outer_udp *u, int role)
{
	struct endpoint s, t;
	struct flow *f;
	size_t i;

	endpoint_set(&s, u->family, u->src, u->sport);
	endpoint_set(&t, u->family, u->dst, u->dport);
	for (i = 0; i < d->n_flows; i++) {
		f = &d->flows[i];
		if (endpoint_eq(&f->src, &s) && endpoint_eq(&f->dst, &t)) {
			f->roles |= 1u << role;
			return;
		}
	}
	f = realloc(d->flows, (d->n_flows + 1) * sizeof(*f));
	if (!f)
		return; /* only a diagnostic is lost */
	d->flows = f;
	f = &d->flows[d->n_flows++];
	f->src = s;
	f->dst = t;
	f->roles = 1u << role;
}

/* Both directions between two endpoints sealed with one role: both daemons drop everything. */
static unsigned int report_role_clashes(const struct decoder *d)
{
	char a[SATP_HOSTPORT_STRLEN], b[SATP_HOSTPORT_STRLEN];
	unsigned int clashes = 0, common;
	size_t i, j;
	int r;

	for (i = 0; i < d->n_flows; i++) {
		for (j = i + 1; j < d->n_flows; j++) {
			const struct flow *f = &d->flows[i], *g = &d->flows[j];

			if (!endpoint_eq(&f->src, &g->dst) || !endpoint_eq(&f->dst, &g->src))
				continue;
			common = f->roles & g->roles;
			for (r = 0; r < N_ROLES; r++) {
				if (!(common & (1u << r)))
					continue;
				satp_hostport_format(f->src.family, f->src.addr, f->src.port, a,
						     sizeof(a));
				satp_hostport_format(f->dst.family, f->dst.addr, f->dst.port, b,
						     sizeof(b));
				fprintf(stderr,
					"satp decode: %s and %s both send with role %s "
					"labels: each daemon drops the other's datagrams; "
					"one side needs -e %s\n",
					a, b, role_str(r), role_str(other_role((enum satp_role)r)));
				clashes++;
			}
		}
	}
	return clashes;
}

static void print_hex(const uint8_t *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char chunk[256];
	size_t i, n = 0;

	fputs(" hex=", stdout);
	for (i = 0; i < len; i++) {
		chunk[n++] = digits[p[i] >> 4];
		chunk[n++] = digits[p[i] & 0xf];
		if (n == sizeof(chunk)) {
			fwrite(chunk, 1, n, stdout);
			n = 0;
		}
	}
	if (n)
		fwrite(chunk, 1, n, stdout);
}

/* Replay commit after the tag, then decrypt: a receiver's order (design.md). */
static enum satp_verdict open_datagram(struct decoder *d, size_t len, const struct satp_header *h,
				       int role, struct satp_plain *p)
{
	struct satp_crypto *c = &d->by_sender[role == ROLE_NONE ? SATP_ROLE_LEFT : role];
	struct satp_window *w;
	enum satp_verdict v, dv;

	v = SATP_OK;
	if (d->o->window) {
		w = window_for(d, h, role);
		v = w ? satp_window_commit(w, h->seq) : SATP_OK;
	}
	/* Show what a replay carried too: it authenticated, only its seq is stale. */
	dv = satp_decrypt(c, d->buf, len, p);
	return v != SATP_OK ? v : dv;
}

static void decode_datagram(struct decoder *d, unsigned long frame, const struct outer_udp *u,
			    enum outer_result res)
{
	char src[SATP_HOSTPORT_STRLEN], dst[SATP_HOSTPORT_STRLEN];
	char summary[INNER_SUMMARY_LEN];
	size_t len = u->payload_len;
	struct satp_header h;
	struct satp_plain p = {0};
	enum satp_verdict v;
	bool guessed;
	int role;

	d->packets++;
	satp_hostport_format(u->family, u->src, u->sport, src, sizeof(src));
	satp_hostport_format(u->family, u->dst, u->dport, dst, sizeof(dst));
	printf("#%lu %s -> %s", frame, src, dst);
	if (res == OUTER_FRAGMENT) {
		printf(" fragment (outer IP fragments are not reassembled)\n");
		d->failed++;
		return;
	}
	if (len < u->wire_len) {
		printf(" len=%zu captured=%zu truncated\n", u->wire_len, len);
		d->failed++;
		return;
	}
	memcpy(d->buf, u->payload, len);
	v = satp_header_parse(d->buf, len, d->o->algos.tag_len, &h);
	if (v != SATP_OK) {
		printf(" len=%zu %s\n", len, satp_verdict_name(v));
		d->failed++;
		return;
	}
	printf(" seq=%u sid=%u mux=%u", h.seq, h.sender_id, h.mux);
	role = find_role(d, len, &guessed);
	if (role == ROLE_BAD_TAG) {
		printf(" len=%zu %s\n", len, satp_verdict_name(SATP_BAD_TAG));
		d->failed++;
		return;
	}
	if (d->o->algos.tag_len && !d->o->role_forced && role != ROLE_NONE)
		flow_note(d, u, role);
	v = open_datagram(d, len, &h, role, &p);
	printf(" role=%s%s %s", role_str(role), guessed ? "?" : "", satp_verdict_name(v));
	if (v == SATP_OK)
		d->ok++;
	else
		d->failed++;
	if (v == SATP_OK || v == SATP_REPLAY || v == SATP_TOO_OLD) {
		inner_summary(p.ptype, p.inner, p.inner_len, summary, sizeof(summary));
		printf(" 0x%04x %s", p.ptype, summary);
		if (d->o->hex)
			print_hex(p.inner, p.inner_len);
	}
	putchar('\n');
}

static bool is_satp(const struct decode_opts *o, const struct outer_udp *u)
{
	return satp_portset_has(&o->ports, u->sport) || satp_portset_has(&o->ports, u->dport);
}

/* Returns 0 at the end of the capture, SATP_EXIT_FAIL if it could not be read to its end. */
static int decode_capture(struct decoder *d, pcap_t *pc)
{
	struct pcap_pkthdr *ph;
	const u_char *data;
	struct outer_udp u;
	enum outer_result res;
	unsigned long frame = 0;
	int dlt = pcap_datalink(pc);
	int rc;

	while ((rc = pcap_next_ex(pc, &ph, &data)) == 1) {
		frame++;
		res = outer_parse(dlt, data, ph->caplen, &u);
		if (res == OUTER_LINKTYPE) {
			fprintf(stderr,
				"satp decode: %s: link type %s (%d) is not supported: want "
				"EN10MB, LINUX_SLL, LINUX_SLL2 or RAW\n",
				d->o->file, pcap_datalink_val_to_name(dlt) ?: "?", dlt);
			return SATP_EXIT_FAIL;
		}
		if (res == OUTER_MALFORMED)
			d->unparsed++;
		if ((res == OUTER_UDP || res == OUTER_FRAGMENT) && is_satp(d->o, &u))
			decode_datagram(d, frame, &u, res);
	}
	if (rc != PCAP_ERROR_BREAK && rc != -2) {
		fflush(stdout);
		fprintf(stderr, "satp decode: %s: unreadable after frame %lu: %s\n", d->o->file,
			frame, pcap_geterr(pc));
		return SATP_EXIT_FAIL;
	}
	return 0;
}

static int report(struct decoder *d, int read_status)
{
	unsigned int clashes = report_role_clashes(d);

	printf("%lu SATP packets, %lu ok, %lu failed\n", d->packets, d->ok, d->failed);
	if (d->unparsed)
		fprintf(stderr,
			"satp decode: %lu frames were cut or malformed below UDP and "
			"skipped\n",
			d->unparsed);
	if (!d->packets && !read_status) {
		fprintf(stderr, "satp decode: no SATP datagrams (UDP port %s) in %s\n",
			d->o->ports_text, d->o->file);
		return SATP_EXIT_FAIL;
	}
	if (read_status || d->failed || clashes)
		return SATP_EXIT_FAIL;
	return SATP_EXIT_OK;
}

int cmd_decode(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct decode_opts o = {0};
	struct decoder *d = NULL;
	struct satp_keys keys;
	pcap_t *pc = NULL;
	int ret;

	ret = parse_opts(argc, argv, &o);
	if (ret == HELP_SHOWN) {
		ret = SATP_EXIT_OK;
		goto out;
	}
	if (ret)
		goto out;
	ret = setup_keys(&o, &keys);
	if (ret)
		goto out;
	d = calloc(1, sizeof(*d));
	if (!d) {
		ret = SATP_EXIT_FAIL;
		goto out;
	}
	d->o = &o;
	ret = decoder_init(d, &keys);
	if (ret)
		goto out;
	pc = pcap_open_offline(o.file, errbuf);
	if (!pc) {
		fprintf(stderr, "satp decode: cannot read '%s': %s\n", o.file, errbuf);
		ret = SATP_EXIT_FAIL;
		goto out;
	}
	ret = report(d, decode_capture(d, pc));
out:
	if (pc)
		pcap_close(pc);
	if (d)
		decoder_free(d);
	explicit_bzero(&keys, sizeof(keys));
	if (o.passphrase) {
		explicit_bzero(o.passphrase, strlen(o.passphrase));
		free(o.passphrase);
	}
	explicit_bzero(o.key, sizeof(o.key));
	explicit_bzero(o.salt, sizeof(o.salt));
	fflush(stdout);
	return ret;
}
