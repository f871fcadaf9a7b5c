// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every SATP datagram of every capture in tests/vectors/ (real anytun and
 * uanytun tunnels, made by tests/vectors/regen.sh) verifies and decrypts with
 * the keys and algorithms its manifest names, carries the inner packet the
 * kernel gave the sending daemon (the manifest's copy of that daemon's own
 * tun/tap capture) with the sender's id and mux and consecutive seqs, does not
 * verify with the other role's labels, and re-seals to the captured bytes.
 * Then each peer's datagrams go through the daemon's rx pipeline
 * (satpd_rx_datagram) of a daemon with the other peer's keys and role, and
 * its device gets the manifest's inner packet of each, byte for byte.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sys/socket.h>
#include <unistd.h>

#include "datapath.h"
#include "satpd_test_daemon.h"

#define MAX_PACKETS 64

/* The captures regen.sh makes: one missing is a failure, not a skip. */
static const char *const vectors[] = {
    "v01_uanytun_default_keysalt", "v02_uanytun_passphrase", "v03_uanytun_tap",
    "v04_uanytun_aes256",	   "v05_uanytun_tag20",	     "v06_uanytun_null_null",
    "v07_uanytun_ipv6_underlay",   "v08_anytun_default",     "v09_anytun_uanytun_cross",
};

/* What the manifest (NAME.json) says; read from it, nothing copied here. */
struct manifest {
	char *cipher, *kd_prf, *auth, *key, *salt, *passphrase, *device;
	unsigned int tag_len, port, satp_packets;
	char *endpoint[2]; /* peer_a, peer_b: "ADDR:PORT", "[ADDR6]:PORT" */
	enum satp_role role[2];
	unsigned int ndatagrams;
	char *datagram[MAX_PACKETS]; /* "SRC DST SID MUX 0xPTYPE INNERHEX", capture order */
};

static const char *vectors_dir(void)
{
	const char *dir = getenv("SATP_VECTORS");

	return dir && *dir ? dir : "tests/vectors";
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f) {
		fail_msg("cannot open %s: %s (run from the repository root, or set SATP_VECTORS)",
			 path, strerror(errno));
		return NULL; /* not reached: fail_msg does not return */
	}
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

/* The value after "key": within [from, to); fails when absent. */
static const char *json_value(const char *from, const char *to, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(from, pat);
	if (!p || (to && p >= to))
		fail_msg("the manifest has no \"%s\"", key);
	p += strlen(pat);
	while (*p == ' ' || *p == '\n')
		p++;
	return p;
}

static char *json_str(const char *from, const char *to, const char *key)
{
	const char *p = json_value(from, to, key);

	return json_string(&p);
}

static unsigned int json_uint(const char *json, const char *key)
{
	return (unsigned int)strtoul(json_value(json, NULL, key), NULL, 10);
}

static void read_peer(const char *from, const char *to, struct manifest *m, int i)
{
	char *role = json_str(from, to, "role");

	m->endpoint[i] = json_str(from, to, "endpoint");
	assert_int_equal(satp_parse_role(role, &m->role[i]), 0);
	free(role);
}

static void read_manifest(const char *name, struct manifest *m)
{
	const char *p, *a, *b, *end;
	char path[512], *json;

	snprintf(path, sizeof(path), "%s/%s.json", vectors_dir(), name);
	json = read_file(path);
	memset(m, 0, sizeof(*m));
	m->cipher = json_str(json, NULL, "cipher");
	m->kd_prf = json_str(json, NULL, "kd_prf");
	m->auth = json_str(json, NULL, "auth");
	m->key = json_str(json, NULL, "key");
	m->salt = json_str(json, NULL, "salt");
	m->passphrase = json_str(json, NULL, "passphrase");
	m->device = json_str(json, NULL, "device");
	m->tag_len = json_uint(json, "tag_len");
	m->port = json_uint(json, "port");
	m->satp_packets = json_uint(json, "satp_packets");

	a = json_value(json, NULL, "peer_a");
	b = json_value(a, NULL, "peer_b");
	end = json_value(b, NULL, "traffic");
	read_peer(a, b, m, 0);
	read_peer(b, end, m, 1);
	assert_int_not_equal(m->role[0], m->role[1]);

	p = json_value(json, NULL, "datagrams");
	assert_int_equal(*p, '[');
	for (p++;;) {
		while (*p == ' ' || *p == '\n' || *p == ',')
			p++;
		if (*p == ']')
			break;
		assert_true(m->ndatagrams < MAX_PACKETS);
		m->datagram[m->ndatagrams++] = json_string(&p);
	}
	free(json);
}

static void free_manifest(struct manifest *m)
{
	unsigned int i;

	for (i = 0; i < m->ndatagrams; i++)
		free(m->datagram[i]);
	free(m->endpoint[0]);
	free(m->endpoint[1]);
	free(m->cipher);
	free(m->kd_prf);
	free(m->auth);
	free(m->key);
	free(m->salt);
	free(m->passphrase);
	free(m->device);
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
	snprintf(out, cap, af == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
		 (unsigned int)(port[0] << 8 | port[1]));
}

/* Outer Ethernet / Linux SLL / SLL2 / raw IP, then IPv4 or IPv6, then UDP. */
static bool parse_udp(int linktype, const uint8_t *f, size_t len, unsigned int port, struct udp *u)
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
		if (l3len < 20 || l3[9] != 17 || l3len < (size_t)(l3[0] & 0xf) * 4 + 8)
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
	if ((unsigned int)(l4[0] << 8 | l4[1]) != port &&
	    (unsigned int)(l4[2] << 8 | l4[3]) != port)
		return false;
	u->payload = l4 + 8;
	u->len = (size_t)(l4[4] << 8 | l4[5]) - 8;
	return u->len <= l4len - 8;
}

/* The algorithms and keys the manifest names, for local role r. */
static void vector_keys(const struct manifest *m, enum satp_role r, struct satp_keys *k)
{
	struct satp_algos a;

	assert_int_equal(satp_parse_cipher(m->cipher, &a.cipher_bits), 0);
	assert_int_equal(satp_parse_kd_prf(m->kd_prf, &a.kd_bits), 0);
	assert_int_equal(satp_parse_auth(m->auth, &a.auth), 0);
	a.tag_len = m->tag_len;
	satp_algos_fixup(&a);
	test_keys(k, &a, r, *m->key ? m->key : NULL, *m->salt ? m->salt : NULL);
	if (*m->passphrase) {
		k->master_key_len = a.kd_bits / 8;
		assert_int_equal(
		    satp_passphrase_key(m->passphrase, k->master_key, k->master_key_len), 0);
		assert_int_equal(satp_passphrase_salt(m->passphrase, k->master_salt), 0);
	}
	assert_int_equal(k->master_key_len, a.kd_bits / 8);
}

/* crypto[r] has local role r. */
static void vector_crypto(const struct manifest *m, struct satp_crypto crypto[2])
{
	struct satp_keys k;
	int r;

	for (r = SATP_ROLE_LEFT; r <= SATP_ROLE_RIGHT; r++) {
		vector_keys(m, (enum satp_role)r, &k);
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
	struct manifest m;
	struct satp_crypto crypto[2];
	unsigned int n;
	bool seen[2];
	uint32_t next_seq[2];
};

/* The k-th datagram of the capture against the manifest's k-th line. */
static void check_packet(struct run *r, const struct udp *u)
{
	uint8_t buf[SATP_PACKET_MAX], again[SATP_PACKET_MAX];
	char src[128], dst[128], hex[2 * SATP_PACKET_MAX + 1];
	unsigned int sid, mux, ptype;
	const char *want_hex;
	int off = -1;
	enum satp_role sender;
	struct satp_header h;
	struct satp_plain p;
	int len, from;

	assert_true(r->n < r->m.ndatagrams);
	assert_int_equal(sscanf(r->m.datagram[r->n], "%127s %127s %u %u %x %n", src, dst, &sid,
				&mux, &ptype, &off),
			 5);
	assert_true(off > 0);
	want_hex = r->m.datagram[r->n] + off;
	assert_string_equal(u->src, src);
	assert_string_equal(u->dst, dst);
	from = !strcmp(src, r->m.endpoint[1]);
	if (!from)
		assert_string_equal(src, r->m.endpoint[0]);
	sender = r->m.role[from];
	assert_true(u->len <= sizeof(buf));

	/* With a tag, the sender's own role's crypto opens nothing: labels differ by role. */
	if (r->crypto[0].algos.tag_len) {
		memcpy(buf, u->payload, u->len);
		assert_int_equal(satp_open(&r->crypto[sender], buf, u->len, &h, &p), SATP_BAD_TAG);
	}
	/* Opened by the other role: its inbound labels are the sender's. */
	memcpy(buf, u->payload, u->len);
	assert_int_equal(satp_open(&r->crypto[!sender], buf, u->len, &h, &p), SATP_OK);
	assert_int_equal(h.sender_id, sid);
	assert_int_equal(h.mux, mux);
	assert_int_equal(p.ptype, ptype);
	hex_of(hex, p.inner, p.inner_len);
	assert_string_equal(hex, want_hex);
	/* A real peer counts from wherever it starts, one per datagram. */
	if (r->seen[from])
		assert_int_equal(h.seq, r->next_seq[from]);
	r->seen[from] = true;
	r->next_seq[from] = h.seq + 1;

	/* Re-sealing the plaintext as the sender reproduces the datagram. */
	memset(again, 0xee, sizeof(again));
	memcpy(again + SATP_HDR_LEN + SATP_PTYPE_LEN, p.inner, p.inner_len);
	len = satp_seal(&r->crypto[sender], again, sizeof(again), p.inner_len, h.seq, h.sender_id,
			h.mux, p.ptype);
	assert_int_equal(len, (int)u->len);
	assert_memory_equal(again, u->payload, u->len);
	r->n++;
}

static void run_vector(const char *name)
{
	char path[512], errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *frame;
	struct run r = {0};
	struct udp u;
	pcap_t *pc;
	int rc;

	read_manifest(name, &r.m);
	vector_crypto(&r.m, r.crypto);
	snprintf(path, sizeof(path), "%s/%s.pcap", vectors_dir(), name);
	pc = pcap_open_offline(path, errbuf);
	if (!pc)
		fail_msg("%s: %s", path, errbuf);
	while ((rc = pcap_next_ex(pc, &ph, &frame)) == 1) {
		if (parse_udp(pcap_datalink(pc), frame, ph->caplen, r.m.port, &u))
			check_packet(&r, &u);
	}
	assert_int_equal(rc, PCAP_ERROR_BREAK);
	pcap_close(pc);

	/* Every line of the manifest was a datagram of the capture, and both peers sent. */
	assert_int_equal(r.n, r.m.ndatagrams);
	assert_int_equal(r.n, r.m.satp_packets);
	assert_true(r.seen[0] && r.seen[1]);
	satp_crypto_free(&r.crypto[0]);
	satp_crypto_free(&r.crypto[1]);
	free_manifest(&r.m);
}

static void test_vector(void **state)
{
	run_vector(*state);
}

/* A daemon as peer side of the capture: one connection of the manifest's keys and mux. */
static struct satpd *side_daemon(const struct manifest *m, int side, unsigned int mux)
{
	struct satpd *d = daemon_new(strcmp(m->device, "tap") ? SATPD_DEV_TUN : SATPD_DEV_TAP, 0);
	struct satpd_conn_config c;
	char err[256] = "";

	conn_config_of(&c, (uint16_t)mux);
	vector_keys(m, m->role[side], &c.keys);
	if (satpd_conns_add(d, &c, err, sizeof(err)))
		fail_msg("mux %u: %s", mux, err);
	fx.cfg->n_conns = 1;
	fx.cfg->conns[0].mux = (uint16_t)mux;
	assert_int_equal(satpd_conns_add_routes(d, fx.cfg), 0); /* anytun's: every route */
	return d;
}

/* The datagrams of the capture that the other peer sent, through side's rx pipeline. */
static void deliver_vector(const char *name, int side)
{
	char path[512], errbuf[PCAP_ERRBUF_SIZE], src[128], hex[2 * SATPD_BUF_SIZE + 1];
	struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons(4444)};
	uint8_t buf[SATPD_BUF_SIZE], got[SATPD_BUF_SIZE];
	unsigned int k = 0, sent = 0, mux = 0;
	struct satpd *d = NULL;
	struct pcap_pkthdr *ph;
	const u_char *frame;
	struct manifest m;
	struct udp u;
	int dev[2], off, rc;
	ssize_t n;
	pcap_t *pc;

	read_manifest(name, &m);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, dev), 0);
	assert_int_equal(fcntl(dev[1], F_SETFL, O_NONBLOCK), 0);
	snprintf(path, sizeof(path), "%s/%s.pcap", vectors_dir(), name);
	pc = pcap_open_offline(path, errbuf);
	if (!pc)
		fail_msg("%s: %s", path, errbuf);
	while ((rc = pcap_next_ex(pc, &ph, &frame)) == 1) {
		if (!parse_udp(pcap_datalink(pc), frame, ph->caplen, m.port, &u))
			continue;
		off = -1;
		assert_int_equal(
		    sscanf(m.datagram[k++], "%127s %*s %*u %u %*x %n", src, &mux, &off), 2);
		if (strcmp(src, m.endpoint[!side]))
			continue;
		if (!d) {
			d = side_daemon(&m, side, mux);
			assert_int_equal(
			    satpd_worker_init(&d->sock_worker, d, SATPD_MAIN_WORKER, dev[0]), 0);
		}
		memcpy(buf, u.payload, u.len);
		satpd_rx_datagram(&d->sock_worker, buf, u.len, (struct sockaddr_storage *)&from,
				  sizeof(from), -1);
		n = read(dev[1], got, sizeof(got));
		if (n < 0)
			fail_msg("%s: datagram %u from %s not delivered", name, k, src);
		hex_of(hex, got, (size_t)n);
		assert_string_equal(hex, m.datagram[k - 1] + off);
		sent++;
	}
	assert_int_equal(rc, PCAP_ERROR_BREAK);
	pcap_close(pc);
	assert_non_null(d);
	assert_int_equal(d->sock_worker.ctr.rx_delivered, sent);
	satpd_worker_free(&d->sock_worker);
	daemon_free(d);
	close(dev[0]);
	close(dev[1]);
	free_manifest(&m);
}

static void test_vector_daemon(void **state)
{
	deliver_vector(*state, 0);
	deliver_vector(*state, 1);
}

/* No capture is left out: every pcap in tests/vectors/ has a row above. */
static void test_all_captures_listed(void **state)
{
	char pattern[512], *base;
	glob_t g;
	size_t i, j;
	bool found;

	snprintf(pattern, sizeof(pattern), "%s/*.pcap", vectors_dir());
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= ARRAY_SIZE(vectors));
	for (i = 0; i < g.gl_pathc; i++) {
		base = strrchr(g.gl_pathv[i], '/') + 1;
		found = false;
		for (j = 0; j < ARRAY_SIZE(vectors); j++)
			found |= !strncmp(base, vectors[j], strlen(vectors[j])) &&
				 !strcmp(base + strlen(vectors[j]), ".pcap");
		if (!found)
			fail_msg("capture %s has no row in the vector table", base);
	}
	globfree(&g);
}

int main(void)
{
	struct CMUnitTest tests[2 * ARRAY_SIZE(vectors) + 1];
	static char names[ARRAY_SIZE(vectors)][64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vectors); i++) {
		tests[2 * i] = (struct CMUnitTest){.name = vectors[i],
						   .test_func = test_vector,
						   .initial_state = (void *)vectors[i]};
		snprintf(names[i], sizeof(names[i]), "%s through satpd_rx_datagram", vectors[i]);
		tests[2 * i + 1] = (struct CMUnitTest){.name = names[i],
						       .test_func = test_vector_daemon,
						       .initial_state = (void *)vectors[i]};
	}
	i = 2 * ARRAY_SIZE(vectors);
	tests[i] = (struct CMUnitTest){.name = "all_captures_listed",
				       .test_func = test_all_captures_listed};
	return _cmocka_run_group_tests("vectors", tests, ARRAY_SIZE(tests), NULL, NULL);
}
