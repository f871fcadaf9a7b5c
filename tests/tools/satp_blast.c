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
 *              [--pps N] [--seconds S] [--count N] [--ready FILE] [--ring-file PATH]
 *              [--xsk IFNAME --dst-mac MAC --src ADDR [--src-port P]]
 *
 * Modes: valid datagrams with sequence numbers that never repeat within a run
 * (a slot is sealed again with a fresh seq each time the ring wraps); badtag
 * (the last tag byte flipped); badmux (a mux the receiver does not serve);
 * replay (the ring is sealed once: the first pass is accepted and committed,
 * every later one is a replay); mix (badtag, badmux, replay in turn).
 * --spoof sends through a raw IPv4 socket with a random source address and
 * port inside CIDR for every slot. Prints the packets per second it sent.
 * --xsk sends through an AF_XDP socket (libxdp xsk, TX only, copy mode) on
 * queue 0 of IFNAME instead, whole Ethernet frames (the header from
 * satp_frame.h): the ring itself is the UMEM, so nothing is copied per packet.
 * A ring as large as a whole run (--ring, up to 1 GiB) keeps sealing out of
 * the measured part; --ready FILE is created once the ring is sealed.
 * --ring-file keeps a sealed ring on disk and reuses it when every option it
 * depends on matches (a benchmark's receivers restart with fresh windows, so
 * the same seqs are fresh to each).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "satp.h"
#include "satp_frame.h"

#define BATCH		   64	 /* datagrams per sendmmsg */
#define RING_DEFAULT	   65536 /* slots: enough that a wrap is rare next to a batch */
#define RING_BYTES_MAX	   (1ul << 30)
#define SLOT_ALIGN	   16
#define IP4_HLEN	   20
#define UDP_HLEN	   8
#define INNER_MIN	   (IP4_HLEN + UDP_HLEN)
#define INNER_MAX	   1400
#define SATP_DEFAULT_SPORT 4444
#define INNER_DPORT	   9 /* discard: the receiver's stack drops what it delivers */
#define INNER_SPORT	   9999
#define PTYPE_IPV4	   0x0800
#define MUX_FOREIGN	   0x5a5a /* xored into the mux: one no receiver serves */
#define SPIN_NS		   20000  /* token bucket: sleep granularity */
#define ETH_HLEN_	   14
#define XSK_TX_DESCS	   2048 /* TX and completion ring */
#define XSK_CHUNK	   2048 /* the smallest UMEM chunk the kernel takes */
#define XSK_KICK_MAX	   32	/* frames one sendto moves in copy mode (the kernel's batch) */

enum blast_mode {
	MODE_VALID,
	MODE_BADTAG,
	MODE_BADMUX,
	MODE_REPLAY,
	MODE_MIX
};

static const char *const mode_names[] = {"valid", "badtag", "badmux", "replay", "mix"};

struct blast_opts {
	const char *dst;
	const char *ready;
	const char *ring_file;
	const char *xsk_if;
	uint8_t dst_mac[6];
	bool have_mac;
	struct in_addr src;
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
	uint8_t *buf; /* ring slots, slot bytes each (mmap: the UMEM with --xsk) */
	size_t bytes; /* of buf */
	uint8_t eth[ETH_HLEN_ + IP4_HLEN + UDP_HLEN]; /* --xsk: the frame header template */
	size_t slot;				      /* bytes a slot; the datagram starts at off */
	size_t off;  /* header room: [Ethernet with --xsk] IPv4 + UDP with --spoof/--xsk */
	size_t *len; /* bytes to send per slot (headers included) */
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
		"                  [--pps N] [--seconds S] [--count N] [--ready FILE]\n"
		"                  [--ring-file PATH]\n"
		"                  [--xsk IFNAME --dst-mac MAC --src ADDR [--src-port P]]\n");
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

static int parse_mac(const char *s, struct blast_opts *o)
{
	unsigned int m[6];
	char end;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &end) != 6) {
		fprintf(stderr, "satp_blast: invalid --dst-mac '%s'\n", s);
		return -EINVAL;
	}
	for (i = 0; i < 6; i++) {
		if (m[i] > 0xff) {
			fprintf(stderr, "satp_blast: invalid --dst-mac '%s'\n", s);
			return -EINVAL;
		}
		o->dst_mac[i] = (uint8_t)m[i];
	}
	o->have_mac = true;
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
	case 'X':
		o->xsk_if = arg;
		return 0;
	case 'F':
		o->ring_file = arg;
		return 0;
	case 'a':
		return parse_mac(arg, o);
	case 'i':
		return parse_addr(arg, &o->src, "--src");
	}
	usage();
	return -EINVAL;
}

static int parse_opts(int argc, char **argv, struct blast_opts *o)
{
	static const struct option lo[] = {
	    {"dst", required_argument, NULL, 'd'},
	    {"port", required_argument, NULL, 'p'},
	    {"src-port", required_argument, NULL, 'P'},
	    {"sid", required_argument, NULL, 's'},
	    {"mux", required_argument, NULL, 'm'},
	    {"key", required_argument, NULL, 'K'},
	    {"salt", required_argument, NULL, 'A'},
	    {"role", required_argument, NULL, 'e'},
	    {"inner-src", required_argument, NULL, 'S'},
	    {"inner-dst", required_argument, NULL, 'D'},
	    {"inner-len", required_argument, NULL, 'l'},
	    {"ring", required_argument, NULL, 'r'},
	    {"seq", required_argument, NULL, 'q'},
	    {"mode", required_argument, NULL, 'M'},
	    {"spoof", required_argument, NULL, 'x'},
	    {"pps", required_argument, NULL, 'R'},
	    {"seconds", required_argument, NULL, 't'},
	    {"count", required_argument, NULL, 'c'},
	    {"ready", required_argument, NULL, 'y'},
	    {"xsk", required_argument, NULL, 'X'},
	    {"ring-file", required_argument, NULL, 'F'},
	    {"dst-mac", required_argument, NULL, 'a'},
	    {"src", required_argument, NULL, 'i'},
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
	if (optind != argc || !o->dst || !o->port || !o->keys.master_key_len ||
	    (o->xsk_if && (!o->have_mac || !o->src.s_addr))) {
		usage();
		return -EINVAL;
	}
	if (o->xsk_if && !o->src_port)
		o->src_port = SATP_DEFAULT_SPORT;
	/* A slot is sealed again only after a wrap: it must have left the TX ring by then. */
	if (o->xsk_if && o->ring < 2 * XSK_TX_DESCS) {
		fprintf(stderr, "satp_blast: --xsk needs a --ring of at least %d slots\n",
			2 * XSK_TX_DESCS);
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
static void put_outer(const struct blast_opts *o, uint8_t *p, size_t satp_len, struct in_addr dst)
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
	if (o->xsk_if)
		memcpy(r->buf + i * r->slot, r->eth, sizeof(r->eth));
	if (o->spoof) {
		struct in_addr dst;

		inet_pton(AF_INET, o->dst, &dst);
		put_outer(o, r->buf + i * r->slot + (o->xsk_if ? ETH_HLEN_ : 0), (size_t)n, dst);
	}
	r->len[i] = r->off + (size_t)n;
	return 0;
}

/* The Ethernet/IPv4/UDP header of every frame, from the shared frame builder. */
static int xsk_header(const struct blast_opts *o, struct blast_ring *r)
{
	static uint8_t frame[SATP_FRAME_MAX];
	struct satp_frame_spec spec = {
	    .family = AF_INET,
	    .sport = o->src_port,
	    .dport = o->port,
	    .satp_len = SATP_HDR_LEN + SATP_PTYPE_LEN + o->inner_len + o->keys.algos.tag_len,
	};
	uint8_t *ip = frame + ETH_HLEN_;
	struct in_addr dst;

	if (parse_addr(o->dst, &dst, "--dst"))
		return -EINVAL;
	memcpy(spec.dst_mac, o->dst_mac, 6);
	memcpy(spec.src, &o->src, 4);
	memcpy(spec.dst, &dst, 4);
	if (!satp_frame_build(&spec, frame, sizeof(frame)))
		return -EINVAL;
	ip[6] = 0; /* no DF: as the kernel sends UDP */
	ip[7] = 0;
	ip[10] = 0;
	ip[11] = 0;
	satp_frame_put16(ip + 10, satp_frame_csum(ip, IP4_HLEN));
	memcpy(r->eth, frame, sizeof(r->eth));
	return 0;
}

/*
 * What a sealed ring depends on: a ring file made with other options is not
 * used (it is sealed again and replaced).
 */
struct ring_id {
	char magic[8];
	uint32_t mode, inner_len, ring, slot, off, seq, sid, mux, port, spoof, role;
	struct satp_algos algos;
	uint8_t key[SATP_KEY_MAX], salt[SATP_SALT_LEN];
	struct in_addr dst, inner_src, inner_dst, spoof_net;
	uint8_t eth[ETH_HLEN_ + IP4_HLEN + UDP_HLEN];
};

static void ring_id_fill(const struct blast_opts *o, const struct blast_ring *r, struct ring_id *id)
{
	memset(id, 0, sizeof(*id));
	memcpy(id->magic, "SATPRNG1", sizeof(id->magic));
	id->mode = o->mode;
	id->inner_len = (uint32_t)o->inner_len;
	id->ring = (uint32_t)o->ring;
	id->slot = (uint32_t)r->slot;
	id->off = (uint32_t)r->off;
	id->seq = o->seq;
	id->sid = o->sid;
	id->mux = o->mux;
	id->port = o->port;
	id->spoof = o->spoof ? o->spoof_mask : 0;
	id->spoof_net.s_addr = o->spoof_net;
	id->role = o->keys.role;
	id->algos = o->keys.algos;
	memcpy(id->key, o->keys.master_key, sizeof(id->key));
	memcpy(id->salt, o->keys.master_salt, sizeof(id->salt));
	inet_pton(AF_INET, o->dst, &id->dst);
	id->inner_src = o->inner_src;
	id->inner_dst = o->inner_dst;
	memcpy(id->eth, r->eth, sizeof(id->eth));
}

/* 0 when --ring-file held this very ring (slots, lengths and next seq restored). */
static int ring_load(const struct blast_opts *o, struct blast_ring *r)
{
	struct ring_id want, have;
	size_t satp_len = SATP_HDR_LEN + SATP_PTYPE_LEN + o->inner_len + o->keys.algos.tag_len;
	size_t i;
	FILE *f = fopen(o->ring_file, "rb");
	int ret = -ENOENT;

	if (!f)
		return ret;
	ring_id_fill(o, r, &want);
	if (fread(&have, sizeof(have), 1, f) == 1 && !memcmp(&want, &have, sizeof(want)) &&
	    fread(r->buf, 1, r->bytes, f) == r->bytes) {
		for (i = 0; i < o->ring; i++)
			r->len[i] = r->off + satp_len;
		r->next_seq = o->seq + (uint32_t)o->ring;
		ret = 0;
	}
	fclose(f);
	return ret;
}

/* Best effort: a ring that cannot be saved is sealed again next time. */
static void ring_save(const struct blast_opts *o, const struct blast_ring *r)
{
	char tmp[4096];
	struct ring_id id;
	FILE *f;
	bool ok;

	if (snprintf(tmp, sizeof(tmp), "%s.%d", o->ring_file, (int)getpid()) >= (int)sizeof(tmp))
		return;
	f = fopen(tmp, "wb");
	if (!f)
		return;
	ring_id_fill(o, r, &id);
	ok = fwrite(&id, sizeof(id), 1, f) == 1 && fwrite(r->buf, 1, r->bytes, f) == r->bytes;
	ok = !fclose(f) && ok;
	if (!ok || rename(tmp, o->ring_file))
		unlink(tmp);
}

static int ring_init(struct satp_crypto *c, const struct blast_opts *o, struct blast_ring *r)
{
	size_t i;
	int ret;

	memset(r, 0, sizeof(*r));
	r->buf = MAP_FAILED;
	r->off = (o->xsk_if ? ETH_HLEN_ : 0) + (o->spoof || o->xsk_if ? IP4_HLEN + UDP_HLEN : 0);
	r->slot = (r->off + SATP_HDR_LEN + SATP_PTYPE_LEN + o->inner_len + SATP_TAG_MAX +
		   SLOT_ALIGN - 1) &
		  ~(size_t)(SLOT_ALIGN - 1);
	if (o->xsk_if) {
		/* A power of two never straddles a page: what unaligned UMEM chunks need. */
		while (r->slot & (r->slot - 1))
			r->slot += r->slot & -r->slot;
		ret = xsk_header(o, r);
		if (ret)
			return ret;
	}
	if (r->slot * o->ring > RING_BYTES_MAX) {
		fprintf(stderr, "satp_blast: a ring of %zu slots of %zu bytes is too large\n",
			o->ring, r->slot);
		return -EINVAL;
	}
	r->bytes = r->slot * o->ring;
	r->buf = mmap(NULL, r->bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r->len = calloc(o->ring, sizeof(*r->len));
	r->kind = calloc(o->ring, sizeof(*r->kind));
	if (r->buf == MAP_FAILED || !r->len || !r->kind)
		return -ENOMEM;
	for (i = 0; i < o->ring; i++)
		r->kind[i] = o->mode == MODE_MIX ? (enum blast_mode)(MODE_BADTAG + i % 3) : o->mode;
	r->next_seq = o->seq;
	if (o->ring_file && !ring_load(o, r))
		return 0;
	for (i = 0; i < o->ring; i++) {
		ret = seal_slot(c, o, r, i);
		if (ret)
			return ret;
	}
	if (o->ring_file)
		ring_save(o, r);
	return 0;
}

static void ring_free(struct blast_ring *r)
{
	if (r->buf != MAP_FAILED && r->buf)
		munmap(r->buf, r->bytes);
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

struct blast_xsk {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq;
	unsigned int outstanding; /* submitted, not yet completed */
};

static int xsk_open(const struct blast_opts *o, struct blast_ring *r, struct blast_xsk *x)
{
	struct xsk_umem_config ucfg = {
	    .fill_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
	    .comp_size = XSK_TX_DESCS,
	    .frame_size = XSK_CHUNK,
	    .flags = XDP_UMEM_UNALIGNED_CHUNK_FLAG,
	};
	struct xsk_socket_config scfg = {
	    .tx_size = XSK_TX_DESCS,
	    .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD, /* TX only: no program */
	    .bind_flags = XDP_COPY,
	};
	struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
	int err;

	memset(x, 0, sizeof(*x));
	setrlimit(RLIMIT_MEMLOCK, &unlimited); /* the UMEM is pinned */
	err = xsk_umem__create(&x->umem, r->buf, r->bytes, &x->fq, &x->cq, &ucfg);
	if (err) {
		fprintf(stderr, "satp_blast: UMEM of %zu bytes: %s\n", r->bytes, strerror(-err));
		return err;
	}
	err = xsk_socket__create(&x->xsk, o->xsk_if, 0, x->umem, NULL, &x->tx, &scfg);
	if (err) {
		fprintf(stderr, "satp_blast: AF_XDP socket on %s: %s\n", o->xsk_if, strerror(-err));
		xsk_umem__delete(x->umem);
		return err;
	}
	return 0;
}

static void xsk_close(struct blast_xsk *x)
{
	xsk_socket__delete(x->xsk);
	xsk_umem__delete(x->umem);
}

/* Take back what the kernel has sent: the slots stay in the ring, only the count matters. */
static void xsk_complete(struct blast_xsk *x)
{
	__u32 idx;
	unsigned int n = xsk_ring_cons__peek(&x->cq, XSK_TX_DESCS, &idx);

	if (n) {
		xsk_ring_cons__release(&x->cq, n);
		x->outstanding -= n;
	}
}

/* Queue n slots from pos and kick the kernel; returns how many were queued. */
static int xsk_send(struct blast_xsk *x, const struct blast_ring *r, size_t pos, unsigned int n)
{
	unsigned int i, q;
	__u32 idx;

	xsk_complete(x);
	q = xsk_ring_prod__reserve(&x->tx, n, &idx);
	for (i = 0; i < q; i++) {
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->tx, idx + i);

		d->addr = (pos + i) * r->slot;
		d->len = (__u32)r->len[pos + i];
		d->options = 0;
	}
	xsk_ring_prod__submit(&x->tx, q);
	x->outstanding += q;
	/* Copy mode moves XSK_KICK_MAX frames a call: kick until the ring is drained. */
	for (i = 0; i < (x->outstanding + XSK_KICK_MAX - 1) / XSK_KICK_MAX; i++) {
		if (sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
			return -errno;
	}
	return (int)q;
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
		 struct blast_xsk *x, struct blast_stats *st)
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
		k = x ? xsk_send(x, r, pos, n) : sendmmsg(fd, msgs, n, 0);
		if (k < 0 && x) {
			fprintf(stderr, "satp_blast: AF_XDP send: %s\n", strerror(-k));
			return k;
		}
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
	if (x) { /* what is still queued was not sent */
		xsk_complete(x);
		st->sent -= x->outstanding < st->sent ? x->outstanding : st->sent;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct satp_crypto crypto;
	struct blast_opts o;
	struct blast_ring ring;
	struct blast_stats st;
	struct blast_xsk xsk;
	int fd = -1, ret;

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
	if (o.xsk_if) {
		ret = xsk_open(&o, &ring, &xsk);
		if (ret)
			goto out;
	} else {
		fd = open_socket(&o);
		if (fd < 0) {
			ret = fd;
			goto out;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (o.ready) {
		FILE *f = fopen(o.ready, "w");

		if (f)
			fclose(f);
	}
	ret = blast(&crypto, &o, &ring, fd, o.xsk_if ? &xsk : NULL, &st);
	if (o.xsk_if)
		xsk_close(&xsk);
	else
		close(fd);
	if (!ret)
		printf("satp_blast: mode %s%s%s: sent %lu packets in %.2f s: %.0f pps "
		       "(%lu resealed, %lu send errors, inner %zu bytes)\n",
		       mode_names[o.mode], o.spoof ? " spoofed" : "", o.xsk_if ? " af_xdp" : "",
		       st.sent, st.seconds, st.seconds > 0 ? (double)st.sent / st.seconds : 0.0,
		       st.resealed, st.enobufs, o.inner_len);
out:
	ring_free(&ring);
	satp_crypto_free(&crypto);
	return ret ? 1 : 0;
}
