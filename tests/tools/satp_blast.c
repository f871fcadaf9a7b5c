// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp_blast: the SATP traffic generator of the benchmarks. It seals a ring of
 * real SATP datagrams (libsatp, the keys of one end of a tunnel) around small
 * inner IPv4/UDP packets, then sends them at the highest rate it can, or at a
 * token-bucket rate, with sendmmsg on a connected UDP socket:
 *
 *   satp_blast --dst ADDR --port P --key HEX --salt HEX --role ROLE [--sid S] [--mux M]
 *              [--inner-src A] [--inner-dst A] [--inner-len N] [--ring N] [--seq N]
 *              [--mode valid|badtag|badmux|replay|mix] [--spoof CIDR]
 *              [--pps N] [--seconds S] [--count N] [--ready FILE]
 *
 * Modes: valid datagrams with sequence numbers that never repeat within a run
 * (a slot is sealed again with a fresh seq each time the ring wraps); badtag
 * (the last tag byte flipped); badmux (a mux the receiver does not serve);
 * replay (the ring is sealed once: the first pass is accepted and committed,
 * every later one is a replay); mix (badtag, badmux, replay in turn).
 * --spoof sends through a raw IPv4 socket with a random source address and
 * port inside CIDR for every slot. Prints the packets per second it sent.
 * A ring as large as a whole run (--ring, up to 1 GiB) keeps sealing out of
 * the measured part; --ready FILE is created once the ring is sealed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "satp.h"
#include "satp_frame.h"

#define BATCH	       64    /* datagrams per sendmmsg */
#define RING_DEFAULT   65536 /* slots: enough that a wrap is rare next to a batch */
#define RING_BYTES_MAX (1ul << 30)
#define SLOT_ALIGN     16
#define IP4_HLEN       20
#define UDP_HLEN       8
#define INNER_MIN      (IP4_HLEN + UDP_HLEN)
#define INNER_MAX      1400
#define INNER_DPORT    9 /* discard: the receiver's stack drops what it delivers */
#define INNER_SPORT    9999
#define PTYPE_IPV4     0x0800
#define MUX_FOREIGN    0x5a5a /* xored into the mux: one no receiver serves */
#define SPIN_NS	       20000  /* token bucket: sleep granularity */

enum blast_mode { MODE_VALID, MODE_BADTAG, MODE_BADMUX, MODE_REPLAY, MODE_MIX };

static const char *const mode_names[] = {"valid", "badtag", "badmux", "replay", "mix"};

struct blast_opts {
	const char *dst;
	const char *ready;
	uint16_t port, src_port, sid, mux;
	struct satp_keys keys;
	struct in_addr inner_src, inner_dst;
	size_t inner_len;
	size_t ring;
	uint32_t seq;
	enum blast_mode mode;
	bool spoof;
	uint32_t spoof_net, spoof_mask;
	unsigned long pps, count;
	double seconds;
};

struct blast_ring {
	uint8_t *buf;	   /* ring slots, slot bytes each */
	size_t slot;	   /* bytes a slot; the datagram starts at off */
	size_t off;	   /* IPv4 + UDP header room with --spoof, else 0 */
	size_t *len;	   /* bytes to send per slot (headers included) */
	enum blast_mode *kind;
	uint32_t next_seq; /* the next fresh seq */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: satp_blast --dst ADDR --port P --key HEX --salt HEX --role ROLE [--sid S]\n"
		"                  [--mux M] [--src-port P] [--inner-src A] [--inner-dst A]\n"
		"                  [--inner-len N] [--ring N] [--seq N]\n"
		"                  [--mode valid|badtag|badmux|replay|mix] [--spoof CIDR]\n"
		"                  [--pps N] [--seconds S] [--count N] [--ready FILE]\n");
}

static int parse_num(const char *s, unsigned long max, unsigned long *out, const char *what)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	if (errno || end == s || *end || *out > max || *s == '-') {
		fprintf(stderr, "satp_blast: invalid %s '%s'\n", what, s);
		return -EINVAL;
	}
	return 0;
}

static int parse_u16(const char *s, uint16_t *out, const char *what)
{
	unsigned long v;

	if (parse_num(s, 0xffff, &v, what))
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

static int parse_addr(const char *s, struct in_addr *a, const char *what)
{
	if (inet_pton(AF_INET, s, a) != 1) {
		fprintf(stderr, "satp_blast: invalid %s '%s' (an IPv4 address)\n", what, s);
		return -EINVAL;
	}
	return 0;
}

static int parse_cidr(const char *s, struct blast_opts *o)
{
	char host[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	unsigned long bits;
	struct in_addr a;

	if (!slash || (size_t)(slash - s) >= sizeof(host))
		goto bad;
	memcpy(host, s, (size_t)(slash - s));
	host[slash - s] = '\0';
	if (inet_pton(AF_INET, host, &a) != 1 || parse_num(slash + 1, 30, &bits, "prefix"))
		goto bad;
	if (bits < 8)
		goto bad;
	o->spoof_mask = bits ? ~0u << (32 - bits) : 0;
	o->spoof_net = ntohl(a.s_addr) & o->spoof_mask;
	return 0;
bad:
	fprintf(stderr, "satp_blast: invalid --spoof '%s' (IPv4 CIDR, prefix 8..30)\n", s);
	return -EINVAL;
}

static int parse_mode(const char *s, enum blast_mode *m)
{
	size_t i;

	for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (!strcmp(s, mode_names[i])) {
			*m = (enum blast_mode)i;
			return 0;
		}
	}
	fprintf(stderr, "satp_blast: invalid --mode '%s'\n", s);
	return -EINVAL;
}

static int parse_hex(const char *s, uint8_t *out, size_t cap, size_t want, size_t *len,
		     const char *what)
{
	char err[128];

	if (satp_hex_parse(s, out, cap, want, len, err, sizeof(err))) {
		fprintf(stderr, "satp_blast: %s: %s\n", what, err);
		return -EINVAL;
	}
	return 0;
}

static int parse_double(const char *s, double *out, const char *what)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || *out <= 0 || *out > 3600) {
		fprintf(stderr, "satp_blast: invalid %s '%s'\n", what, s);
		return -EINVAL;
	}
	return 0;
}

static int parse_opt(int c, const char *arg, struct blast_opts *o)
{
	unsigned long v;
	size_t len;

	switch (c) {
	case 'd':
		o->dst = arg;
		return 0;
	case 'p':
		return parse_u16(arg, &o->port, "port");
	case 'P':
		return parse_u16(arg, &o->src_port, "src-port");
	case 's':
		return parse_u16(arg, &o->sid, "sid");
	case 'm':
		return parse_u16(arg, &o->mux, "mux");
	case 'K':
		return parse_hex(arg, o->keys.master_key, sizeof(o->keys.master_key),
				 o->keys.algos.kd_bits / 8, &o->keys.master_key_len, "--key");
	case 'A':
		return parse_hex(arg, o->keys.master_salt, SATP_SALT_LEN, SATP_SALT_LEN, &len,
				 "--salt");
	case 'e':
		if (satp_parse_role(arg, &o->keys.role)) {
			fprintf(stderr, "satp_blast: invalid --role '%s'\n", arg);
			return -EINVAL;
		}
		return 0;
	case 'S':
		return parse_addr(arg, &o->inner_src, "--inner-src");
	case 'D':
		return parse_addr(arg, &o->inner_dst, "--inner-dst");
	case 'l':
		if (parse_num(arg, INNER_MAX, &v, "inner-len"))
			return -EINVAL;
		if (v < INNER_MIN) {
			fprintf(stderr, "satp_blast: --inner-len '%s' is below %d\n", arg,
				INNER_MIN);
			return -EINVAL;
		}
		o->inner_len = v;
		return 0;
	case 'r':
		if (parse_num(arg, 1ul << 26, &v, "ring") || !v)
			return -EINVAL;
		o->ring = v;
		return 0;
	case 'q':
		if (parse_num(arg, 0xffffffffu, &v, "seq"))
			return -EINVAL;
		o->seq = (uint32_t)v;
		return 0;
	case 'M':
		return parse_mode(arg, &o->mode);
	case 'x':
		o->spoof = true;
		return parse_cidr(arg, o);
	case 'R':
		return parse_num(arg, 100000000ul, &o->pps, "pps");
	case 't':
		return parse_double(arg, &o->seconds, "seconds");
	case 'c':
		return parse_num(arg, 1ul << 40, &o->count, "count");
	case 'y':
		o->ready = arg;
		return 0;
	}
	usage();
	return -EINVAL;
}

static int parse_opts(int argc, char **argv, struct blast_opts *o)
{
	static const struct option lo[] = {
	    {"dst", required_argument, NULL, 'd'},	 {"port", required_argument, NULL, 'p'},
	    {"src-port", required_argument, NULL, 'P'},	 {"sid", required_argument, NULL, 's'},
	    {"mux", required_argument, NULL, 'm'},	 {"key", required_argument, NULL, 'K'},
	    {"salt", required_argument, NULL, 'A'},	 {"role", required_argument, NULL, 'e'},
	    {"inner-src", required_argument, NULL, 'S'}, {"inner-dst", required_argument, NULL, 'D'},
	    {"inner-len", required_argument, NULL, 'l'}, {"ring", required_argument, NULL, 'r'},
	    {"seq", required_argument, NULL, 'q'},	 {"mode", required_argument, NULL, 'M'},
	    {"spoof", required_argument, NULL, 'x'},	 {"pps", required_argument, NULL, 'R'},
	    {"seconds", required_argument, NULL, 't'},	 {"count", required_argument, NULL, 'c'},
	    {"ready", required_argument, NULL, 'y'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	satp_algos_default(&o->keys.algos);
	o->keys.role = SATP_ROLE_RIGHT;
	o->inner_len = 64;
	o->ring = RING_DEFAULT;
	o->seq = 1;
	o->inner_src.s_addr = htonl(0x0a630001); /* 10.99.0.1, the benches' left tun */
	o->inner_dst.s_addr = htonl(0x0a630002);
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (parse_opt(c, optarg, o))
			return -EINVAL;
	}
	if (optind != argc || !o->dst || !o->port || !o->keys.master_key_len) {
		usage();
		return -EINVAL;
	}
	if (!o->count && !o->seconds)
		o->seconds = 5;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The inner packet: IPv4/UDP to the discard port, the seq in the payload. */
static void put_inner(const struct blast_opts *o, uint8_t *p, uint32_t seq)
{
	size_t k;

	memset(p, 0, INNER_MIN);
	p[0] = 0x45;
	satp_frame_put16(p + 2, (uint16_t)o->inner_len);
	satp_frame_put16(p + 6, 0x4000); /* DF */
	p[8] = 64;
	p[9] = IPPROTO_UDP;
	memcpy(p + 12, &o->inner_src, 4);
	memcpy(p + 16, &o->inner_dst, 4);
	satp_frame_put16(p + 10, satp_frame_csum(p, IP4_HLEN));
	satp_frame_put16(p + 20, INNER_SPORT);
	satp_frame_put16(p + 22, INNER_DPORT);
	satp_frame_put16(p + 24, (uint16_t)(o->inner_len - IP4_HLEN));
	for (k = INNER_MIN; k < o->inner_len; k++)
		p[k] = (uint8_t)(seq >> (8 * (k % 4)));
}

/* Outer IPv4/UDP for the raw socket: a random source inside the spoof prefix. */
static void put_outer(const struct blast_opts *o, uint8_t *p, size_t satp_len,
		      struct in_addr dst)
{
	uint32_t host = ((uint32_t)random() & ~o->spoof_mask) | 1u;
	uint32_t src = htonl(o->spoof_net | (host == ~o->spoof_mask ? host - 1 : host));

	memset(p, 0, IP4_HLEN + UDP_HLEN);
	p[0] = 0x45;
	satp_frame_put16(p + 2, (uint16_t)(IP4_HLEN + UDP_HLEN + satp_len));
	p[8] = 64;
	p[9] = IPPROTO_UDP;
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	satp_frame_put16(p + 10, satp_frame_csum(p, IP4_HLEN));
	satp_frame_put16(p + 20, (uint16_t)(1024 + random() % 60000));
	satp_frame_put16(p + 22, o->port);
	satp_frame_put16(p + 24, (uint16_t)(UDP_HLEN + satp_len)); /* checksum 0: none */
}

/* Seal slot i as its kind asks; a fresh seq for every seal. */
static int seal_slot(struct satp_crypto *c, const struct blast_opts *o, struct blast_ring *r,
		     size_t i)
{
	uint8_t *d = r->buf + i * r->slot + r->off;
	uint32_t seq = r->next_seq++;
	uint16_t mux = r->kind[i] == MODE_BADMUX ? o->mux ^ MUX_FOREIGN : o->mux;
	int n;

	put_inner(o, d + SATP_HDR_LEN + SATP_PTYPE_LEN, seq);
	n = satp_seal(c, d, r->slot - r->off, o->inner_len, seq, o->sid, mux, PTYPE_IPV4);
	if (n < 0)
		return n;
	if (r->kind[i] == MODE_BADTAG)
		d[n - 1] ^= 0x01;
	if (o->spoof) {
		struct in_addr dst;

		inet_pton(AF_INET, o->dst, &dst);
		put_outer(o, r->buf + i * r->slot, (size_t)n, dst);
	}
	r->len[i] = r->off + (size_t)n;
	return 0;
}

static int ring_init(struct satp_crypto *c, const struct blast_opts *o, struct blast_ring *r)
{
	size_t i;
	int ret;

	memset(r, 0, sizeof(*r));
	r->off = o->spoof ? IP4_HLEN + UDP_HLEN : 0;
	r->slot = (r->off + SATP_HDR_LEN + SATP_PTYPE_LEN + o->inner_len + SATP_TAG_MAX +
		   SLOT_ALIGN - 1) & ~(size_t)(SLOT_ALIGN - 1);
	if (r->slot * o->ring > RING_BYTES_MAX) {
		fprintf(stderr, "satp_blast: a ring of %zu slots of %zu bytes is too large\n",
			o->ring, r->slot);
		return -EINVAL;
	}
	r->buf = calloc(o->ring, r->slot);
	r->len = calloc(o->ring, sizeof(*r->len));
	r->kind = calloc(o->ring, sizeof(*r->kind));
	if (!r->buf || !r->len || !r->kind)
		return -ENOMEM;
	r->next_seq = o->seq;
	for (i = 0; i < o->ring; i++) {
		r->kind[i] = o->mode == MODE_MIX ? (enum blast_mode)(MODE_BADTAG + i % 3) : o->mode;
		ret = seal_slot(c, o, r, i);
		if (ret)
			return ret;
	}
	return 0;
}

static void ring_free(struct blast_ring *r)
{
	free(r->buf);
	free(r->len);
	free(r->kind);
}

static int open_socket(const struct blast_opts *o)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(o->port)};
	int fd, sndbuf = 4 << 20;

	if (parse_addr(o->dst, &sa.sin_addr, "--dst"))
		return -EINVAL;
	fd = o->spoof ? socket(AF_INET, SOCK_RAW, IPPROTO_RAW) : socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		fprintf(stderr, "satp_blast: socket: %s\n", strerror(errno));
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (!o->spoof && o->src_port) {
		struct sockaddr_in la = {.sin_family = AF_INET, .sin_port = htons(o->src_port)};

		if (bind(fd, (struct sockaddr *)&la, sizeof(la))) {
			fprintf(stderr, "satp_blast: bind port %u: %s\n", o->src_port,
				strerror(errno));
			goto err;
		}
	}
	if (o->spoof)
		sa.sin_port = 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "satp_blast: connect %s: %s\n", o->dst, strerror(errno));
		goto err;
	}
	return fd;
err:
	close(fd);
	return -EIO;
}

/* Token bucket: how many may go now (at most want); sleeps while the bucket is empty. */
static unsigned int bucket_take(const struct blast_opts *o, double start, unsigned long sent,
				unsigned int want)
{
	struct timespec ts = {.tv_nsec = SPIN_NS};
	double allowed;

	if (!o->pps)
		return want;
	for (;;) {
		allowed = (now() - start) * (double)o->pps - (double)sent;
		if (allowed >= 1 || stop)
			break;
		nanosleep(&ts, NULL);
	}
	return allowed >= want ? want : (unsigned int)allowed;
}

struct blast_stats {
	unsigned long sent, resealed, enobufs;
	double seconds;
};

static int blast(struct satp_crypto *c, const struct blast_opts *o, struct blast_ring *r, int fd,
		 struct blast_stats *st)
{
	static struct mmsghdr msgs[BATCH];
	static struct iovec iov[BATCH];
	bool fresh = o->mode == MODE_VALID; /* invalid ones may repeat: nothing commits them */
	double start = now(), end = start + o->seconds;
	size_t pos = 0, wraps = 0;
	unsigned int n, i;
	int k, ret;

	memset(st, 0, sizeof(*st));
	while (!stop && (!o->count || st->sent < o->count) && (!o->seconds || now() < end)) {
		n = bucket_take(o, start, st->sent, BATCH);
		if (o->count && st->sent + n > o->count)
			n = (unsigned int)(o->count - st->sent);
		if (pos + n > o->ring)
			n = (unsigned int)(o->ring - pos);
		for (i = 0; i < n; i++) {
			/* A slot sent before goes again only under a fresh seq (never a repeat). */
			if (wraps && fresh) {
				ret = seal_slot(c, o, r, pos + i);
				if (ret)
					return ret;
				st->resealed++;
			}
			iov[i].iov_base = r->buf + (pos + i) * r->slot;
			iov[i].iov_len = r->len[pos + i];
			msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
		}
		k = sendmmsg(fd, msgs, n, 0);
		if (k < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED ||
			    errno == EINTR) {
				st->enobufs++;
				k = 0;
			} else {
				fprintf(stderr, "satp_blast: sendmmsg: %s\n", strerror(errno));
				return -errno;
			}
		}
		st->sent += (unsigned long)k;
		/* Unsent slots of a fresh ring are resent as they are: still unused seqs. */
		pos += (size_t)k;
		if (pos == o->ring) {
			pos = 0;
			wraps++;
		}
	}
	st->seconds = now() - start;
	return 0;
}

int main(int argc, char **argv)
{
	struct satp_crypto crypto;
	struct blast_opts o;
	struct blast_ring ring;
	struct blast_stats st;
	int fd, ret;

	if (parse_opts(argc, argv, &o))
		return 2;
	satp_algos_fixup(&o.keys.algos);
	ret = satp_crypto_init(&crypto, &o.keys);
	if (ret) {
		fprintf(stderr, "satp_blast: crypto init: %s\n", strerror(-ret));
		return 1;
	}
	srandom((unsigned int)getpid());
	ret = ring_init(&crypto, &o, &ring);
	if (ret) {
		fprintf(stderr, "satp_blast: sealing the ring: %s\n", strerror(-ret));
		goto out;
	}
	fd = open_socket(&o);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (o.ready) {
		FILE *f = fopen(o.ready, "w");

		if (f)
			fclose(f);
	}
	ret = blast(&crypto, &o, &ring, fd, &st);
	close(fd);
	if (!ret)
		printf("satp_blast: mode %s%s: sent %lu packets in %.2f s: %.0f pps "
		       "(%lu resealed, %lu send errors, inner %zu bytes)\n",
		       mode_names[o.mode], o.spoof ? " spoofed" : "", st.sent, st.seconds,
		       st.seconds > 0 ? (double)st.sent / st.seconds : 0.0, st.resealed,
		       st.enobufs, o.inner_len);
out:
	ring_free(&ring);
	satp_crypto_free(&crypto);
	return ret ? 1 : 0;
}
