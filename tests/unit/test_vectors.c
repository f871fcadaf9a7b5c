// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every SATP datagram of every capture in ../shared/vectors/ (real anytun and
 * uanytun tunnels) verifies and decrypts with the vector's keys, matches the
 * manifest's decoded summary, and re-seals to the captured bytes exactly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <pcap/pcap.h>

#include "satp_test_util.h"

#define VECTOR_PORT 4444
#define MAX_SOURCES 4
#define MAX_PACKETS 64

/* The decoder arguments of each vector's manifest (its "decoder_args"). */
struct vector {
	const char *name;
	unsigned int kd_bits;
	unsigned int cipher_bits;
	enum satp_auth auth;
	unsigned int tag_len;
	const char *key; /* hex, or NULL */
	const char *salt;
	const char *passphrase;
};

static const struct vector vectors[] = {
    {"v01_uanytun_default_keysalt", 128, 128, SATP_AUTH_SHA1, 10, KEY128, SALT, NULL},
    {"v02_uanytun_passphrase", 128, 128, SATP_AUTH_SHA1, 10, NULL, NULL, "satp test passphrase"},
    {"v03_uanytun_tap", 128, 128, SATP_AUTH_SHA1, 10, KEY128, SALT, NULL},
    {"v04_uanytun_aes256", 256, 256, SATP_AUTH_SHA1, 10, KEY256, SALT, NULL},
    {"v05_uanytun_tag20", 128, 128, SATP_AUTH_SHA1, 20, KEY128, SALT, NULL},
    {"v06_uanytun_null_null", 128, 0, SATP_AUTH_NULL, 10, NULL, NULL, NULL},
    {"v07_uanytun_ipv6_underlay", 128, 128, SATP_AUTH_SHA1, 10, KEY128, SALT, NULL},
    {"v08_anytun_default", 128, 128, SATP_AUTH_SHA1, 10, KEY128, SALT, NULL},
    {"v09_anytun_uanytun_cross", 128, 128, SATP_AUTH_SHA1, 10, KEY128, SALT, NULL},
};

/* What the manifest says; read from the JSON, not copied. */
struct manifest {
	unsigned int satp_packets;
	unsigned int nsummaries;
	char *summary[MAX_PACKETS];
	unsigned int nsources;
	char *src[MAX_SOURCES];
	char *inner_hex[MAX_SOURCES];
};

static const char *shared_dir(void)
{
	const char *dir = getenv("SATP_SHARED");

	return dir && *dir ? dir : "../shared";
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		fail_msg("cannot open %s (set SATP_SHARED to the shared/ folder)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* The JSON string starting at the quote *p; returns a copy, advances *p past it. */
static char *json_string(const char **p)
{
	const char *s = *p;
	size_t n = 0;
	char *out;

	assert_int_equal(*s, '"');
	out = calloc(1, strlen(s) + 1);
	assert_non_null(out);
	for (s++; *s && *s != '"'; s++) {
		if (*s == '\\') {
			s++;
			assert_true(*s == '"' || *s == '\\' || *s == '/');
		}
		out[n++] = *s;
	}
	assert_int_equal(*s, '"');
	*p = s + 1;
	return out;
}

/* The value after "key": within [from, to); NULL if absent. */
static const char *json_value(const char *from, const char *to, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(from, pat);
	if (!p || (to && p >= to))
		return NULL;
	p += strlen(pat);
	while (*p == ' ' || *p == '\n')
		p++;
	return p;
}

static void read_manifest(const char *name, struct manifest *m)
{
	char path[512];
	const char *p, *obj, *end;
	char *json;

	snprintf(path, sizeof(path), "%s/vectors/%s.json", shared_dir(), name);
	json = read_file(path);
	memset(m, 0, sizeof(*m));

	p = json_value(json, NULL, "satp_packets");
	assert_non_null(p);
	m->satp_packets = (unsigned int)strtoul(p, NULL, 10);

	p = json_value(json, NULL, "decoded_packets_summary");
	assert_non_null(p);
	assert_int_equal(*p, '[');
	for (p++;;) {
		while (*p == ' ' || *p == '\n' || *p == ',')
			p++;
		if (*p == ']')
			break;
		assert_true(m->nsummaries < MAX_PACKETS);
		m->summary[m->nsummaries++] = json_string(&p);
	}

	/* Each source's object holds its "inner_hex" and then its "src". */
	obj = json_value(json, NULL, "first_packet_per_source");
	end = json_value(json, NULL, "decoded_packets_summary");
	assert_non_null(obj);
	while ((p = json_value(obj, end, "inner_hex"))) {
		assert_true(m->nsources < MAX_SOURCES);
		m->inner_hex[m->nsources] = json_string(&p);
		p = json_value(p, end, "src");
		assert_non_null(p);
		m->src[m->nsources++] = json_string(&p);
		obj = p;
	}
	free(json);
}

static void free_manifest(struct manifest *m)
{
	unsigned int i;

	for (i = 0; i < m->nsummaries; i++)
		free(m->summary[i]);
	for (i = 0; i < m->nsources; i++) {
		free(m->src[i]);
		free(m->inner_hex[i]);
	}
}

struct udp {
	char src[INET6_ADDRSTRLEN + 8];
	char dst[INET6_ADDRSTRLEN + 8];
	const uint8_t *payload;
	size_t len;
};

static void endpoint(char *out, size_t cap, int af, const uint8_t *addr, const uint8_t *port)
{
	char ip[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(af, addr, ip, sizeof(ip)));
	snprintf(out, cap, "%s:%u", ip, (unsigned int)(port[0] << 8 | port[1]));
}

/* Outer Ethernet / Linux SLL / SLL2 / raw IP, then IPv4 or IPv6, then UDP. */
static bool parse_udp(int linktype, const uint8_t *f, size_t len, struct udp *u)
{
	const uint8_t *l3, *l4;
	size_t off, l3len, l4len;
	unsigned int etype;
	int af;

	switch (linktype) {
	case DLT_EN10MB:
		if (len < 14)
			return false;
		etype = (unsigned int)(f[12] << 8 | f[13]);
		off = 14;
		while (etype == 0x8100 && len >= off + 4) {
			etype = (unsigned int)(f[off + 2] << 8 | f[off + 3]);
			off += 4;
		}
		break;
	case DLT_LINUX_SLL:
		if (len < 16)
			return false;
		etype = (unsigned int)(f[14] << 8 | f[15]);
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (len < 20)
			return false;
		etype = (unsigned int)(f[0] << 8 | f[1]);
		off = 20;
		break;
	case DLT_RAW:
		if (len < 1)
			return false;
		etype = (f[0] >> 4) == 4 ? 0x0800 : 0x86dd;
		off = 0;
		break;
	default:
		return false;
	}
	l3 = f + off;
	l3len = len - off;
	if (etype == 0x0800) {
		if (l3len < 20 || l3[9] != 17 || l3len < (size_t)(l3[0] & 0xf) * 4)
			return false;
		af = AF_INET;
		l4 = l3 + (l3[0] & 0xf) * 4;
		l4len = (size_t)(l3[2] << 8 | l3[3]) - (size_t)(l3[0] & 0xf) * 4;
		endpoint(u->src, sizeof(u->src), af, l3 + 12, l4);
		endpoint(u->dst, sizeof(u->dst), af, l3 + 16, l4 + 2);
	} else if (etype == 0x86dd) {
		if (l3len < 48 || l3[6] != 17)
			return false;
		af = AF_INET6;
		l4 = l3 + 40;
		l4len = (size_t)(l3[4] << 8 | l3[5]);
		endpoint(u->src, sizeof(u->src), af, l3 + 8, l4);
		endpoint(u->dst, sizeof(u->dst), af, l3 + 24, l4 + 2);
	} else {
		return false;
	}
	if (l4len < 8 || (size_t)(l4 - f) + l4len > len)
		return false;
	if ((l4[0] << 8 | l4[1]) != VECTOR_PORT && (l4[2] << 8 | l4[3]) != VECTOR_PORT)
		return false;
	u->payload = l4 + 8;
	u->len = (size_t)(l4[4] << 8 | l4[5]) - 8;
	return u->len <= l4len - 8;
}

/* Python's repr() of bytes, as the reference decoder prints UDP data. */
static void bytes_repr(char *out, size_t cap, const uint8_t *p, size_t len)
{
	size_t i, o = 0;

	o += (size_t)snprintf(out + o, cap - o, "b'");
	for (i = 0; i < len && o < cap; i++) {
		if (p[i] == '\'' || p[i] == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\%c", p[i]);
		else if (p[i] == '\t')
			o += (size_t)snprintf(out + o, cap - o, "\\t");
		else if (p[i] == '\n')
			o += (size_t)snprintf(out + o, cap - o, "\\n");
		else if (p[i] == '\r')
			o += (size_t)snprintf(out + o, cap - o, "\\r");
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "%c", p[i]);
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", p[i]);
	}
	if (o < cap)
		snprintf(out + o, cap - o, "'");
}

/* The reference decoder's one-line description of an inner packet. */
static void describe_inner(char *out, size_t cap, uint16_t ptype, const uint8_t *in, size_t len)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], extra[256] = "", name[8];
	size_t ihl;

	snprintf(out, cap, "?");
	if (ptype == SATP_PTYPE_IPV4 && len >= 20) {
		ihl = (size_t)(in[0] & 0xf) * 4;
		inet_ntop(AF_INET, in + 12, a, sizeof(a));
		inet_ntop(AF_INET, in + 16, b, sizeof(b));
		switch (in[9]) {
		case 1:
			snprintf(name, sizeof(name), "ICMP");
			if (len < ihl + 2)
				return;
			snprintf(extra, sizeof(extra), " icmp type %u code %u", in[ihl],
				 in[ihl + 1]);
			break;
		case 6:
			snprintf(name, sizeof(name), "TCP");
			break;
		case 17:
			snprintf(name, sizeof(name), "UDP");
			if (len < ihl + 8)
				return;
			snprintf(extra, sizeof(extra), " %u->%u data=",
				 (unsigned int)(in[ihl] << 8 | in[ihl + 1]),
				 (unsigned int)(in[ihl + 2] << 8 | in[ihl + 3]));
			bytes_repr(extra + strlen(extra), sizeof(extra) - strlen(extra),
				   in + ihl + 8, len - ihl - 8);
			break;
		default:
			snprintf(name, sizeof(name), "%u", in[9]);
		}
		snprintf(out, cap, "IPv4 %s -> %s %s%s", a, b, name, extra);
	} else if (ptype == SATP_PTYPE_IPV6 && len >= 40) {
		inet_ntop(AF_INET6, in + 8, a, sizeof(a));
		inet_ntop(AF_INET6, in + 24, b, sizeof(b));
		snprintf(out, cap, "IPv6 %s -> %s nh %u", a, b, in[6]);
	} else if (ptype == SATP_PTYPE_ETHER && len >= 14) {
		snprintf(out, cap,
			 "Ethernet %02x:%02x:%02x:%02x:%02x:%02x -> %02x:%02x:%02x:%02x:%02x:%02x "
			 "ethertype 0x%04x",
			 in[6], in[7], in[8], in[9], in[10], in[11], in[0], in[1], in[2], in[3],
			 in[4], in[5], in[12] << 8 | in[13]);
	}
}

static void vector_algos(const struct vector *v, struct satp_algos *a)
{
	a->kd_bits = v->kd_bits;
	a->cipher_bits = v->cipher_bits;
	a->auth = v->auth;
	a->tag_len = v->tag_len;
	satp_algos_fixup(a);
}

/* crypto[r] has local role r: it seals as r and opens what the other role sent. */
static void vector_crypto(const struct vector *v, struct satp_crypto crypto[2])
{
	struct satp_algos a;
	struct satp_keys k;
	int r;

	vector_algos(v, &a);
	for (r = SATP_ROLE_LEFT; r <= SATP_ROLE_RIGHT; r++) {
		test_keys(&k, &a, (enum satp_role)r, v->key, v->salt);
		if (v->passphrase) {
			k.master_key_len = a.kd_bits / 8;
			assert_int_equal(satp_passphrase_key(v->passphrase, k.master_key,
							     k.master_key_len),
					 0);
			assert_int_equal(satp_passphrase_salt(v->passphrase, k.master_salt), 0);
		}
		if (!a.kd_bits)
			k.master_key_len = 0;
		assert_int_equal(satp_crypto_init(&crypto[r], &k), 0);
	}
}

static void hex_of(char *out, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * len] = 0;
}

struct run {
	const struct vector *v;
	struct manifest m;
	struct satp_crypto crypto[2];
	unsigned int n;
	bool source_seen[MAX_SOURCES];
};

static void check_packet(struct run *r, const struct udp *u)
{
	uint8_t buf[SATP_PACKET_MAX], again[SATP_PACKET_MAX];
	char desc[512], line[1024], inner_hex[2 * SATP_PACKET_MAX + 1];
	enum satp_role sender;
	struct satp_header h;
	struct satp_plain p;
	const char *want;
	unsigned int i;
	int len;

	assert_true(r->n < r->m.nsummaries);
	want = r->m.summary[r->n];
	sender = strstr(want, " role=right ") ? SATP_ROLE_RIGHT : SATP_ROLE_LEFT;
	assert_true(u->len <= sizeof(buf));
	memcpy(buf, u->payload, u->len);

	/* Opened by the other role: its inbound labels are the sender's. */
	assert_int_equal(satp_open(&r->crypto[!sender], buf, u->len, &h, &p), SATP_OK);
	describe_inner(desc, sizeof(desc), p.ptype, p.inner, p.inner_len);
	snprintf(line, sizeof(line), "%s->%s seq=%u sid=%u mux=%u role=%s auth=%s ptype=0x%04x %s",
		 u->src, u->dst, h.seq, h.sender_id, h.mux, satp_role_name(sender),
		 r->crypto[0].algos.auth == SATP_AUTH_NULL ? "None" : "True", p.ptype, desc);
	assert_string_equal(line, want);

	for (i = 0; i < r->m.nsources; i++) {
		if (strcmp(r->m.src[i], u->src) || r->source_seen[i])
			continue;
		r->source_seen[i] = true;
		hex_of(inner_hex, p.inner, p.inner_len);
		assert_string_equal(inner_hex, r->m.inner_hex[i]);
	}

	/* Re-sealing the plaintext as the sender reproduces the datagram. */
	memset(again, 0xee, sizeof(again));
	memcpy(again + SATP_HDR_LEN + SATP_PTYPE_LEN, p.inner, p.inner_len);
	len = satp_seal(&r->crypto[sender], again, sizeof(again), p.inner_len, h.seq, h.sender_id,
			h.mux, p.ptype);
	assert_int_equal(len, (int)u->len);
	assert_memory_equal(again, u->payload, u->len);
	r->n++;
}

static void run_vector(const struct vector *v)
{
	char path[512], errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *frame;
	struct run r = { .v = v };
	struct udp u;
	unsigned int i;
	pcap_t *pc;
	int rc;

	read_manifest(v->name, &r.m);
	vector_crypto(v, r.crypto);
	snprintf(path, sizeof(path), "%s/vectors/%s.pcap", shared_dir(), v->name);
	pc = pcap_open_offline(path, errbuf);
	if (!pc)
		fail_msg("%s: %s", path, errbuf);
	while ((rc = pcap_next_ex(pc, &ph, &frame)) == 1) {
		if (parse_udp(pcap_datalink(pc), frame, ph->caplen, &u))
			check_packet(&r, &u);
	}
	assert_int_equal(rc, PCAP_ERROR_BREAK);
	pcap_close(pc);

	assert_int_equal(r.n, r.m.satp_packets);
	assert_int_equal(r.n, r.m.nsummaries);
	assert_true(r.m.nsources > 0);
	for (i = 0; i < r.m.nsources; i++)
		assert_true(r.source_seen[i]);
	satp_crypto_free(&r.crypto[0]);
	satp_crypto_free(&r.crypto[1]);
	free_manifest(&r.m);
}

static void test_vector(void **state)
{
	run_vector(*state);
}

/* No capture is left out: every pcap in vectors/ has a row above. */
static void test_all_captures_listed(void **state)
{
	char pattern[512], *base;
	glob_t g;
	size_t i, j;
	bool found;

	snprintf(pattern, sizeof(pattern), "%s/vectors/*.pcap", shared_dir());
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= ARRAY_SIZE(vectors));
	for (i = 0; i < g.gl_pathc; i++) {
		base = strrchr(g.gl_pathv[i], '/') + 1;
		found = false;
		for (j = 0; j < ARRAY_SIZE(vectors); j++)
			found |= !strncmp(base, vectors[j].name, strlen(vectors[j].name)) &&
				 !strcmp(base + strlen(vectors[j].name), ".pcap");
		if (!found)
			fail_msg("capture %s has no row in the vector table", base);
	}
	globfree(&g);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(vectors) + 1];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vectors); i++) {
		tests[i] = (struct CMUnitTest){ .name = vectors[i].name,
						.test_func = test_vector,
						.initial_state = (void *)&vectors[i] };
	}
	tests[i] = (struct CMUnitTest){ .name = "all_captures_listed",
					.test_func = test_all_captures_listed };
	return _cmocka_run_group_tests("vectors", tests, ARRAY_SIZE(tests), NULL, NULL);
}
