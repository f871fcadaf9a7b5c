// SPDX-License-Identifier: GPL-2.0-only
/*
 * Segmentation of tun super-packets (user/satpd/gso.h): a table of TCPv4/TCPv6
 * super-packets cut into segments, each checked against a reference
 * computation here (16-bit words, one at a time: an independent checksum)
 * and against the original stream (payload, seq, IDs, flags); packets left
 * with a partial checksum; and every malformed input refused.
 */
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>

#include "gso.h"
#include "satp_test_util.h"

#define BUF	(SATP_GSO_MAX_LEN + 64)
#define SEG_CAP 2048

/* RFC 1071 the slow way: the reference the module's sums are checked against. */
static uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* A valid packet's headers, checksum fields included, sum to 0xffff. */
static void assert_l4_csum_ok(const uint8_t *ip, size_t len, uint8_t proto)
{
	size_t l4 = ip[0] >> 4 == 4 ? (size_t)(ip[0] & 0xf) * 4 : 40;
	uint32_t sum = proto + (uint32_t)(len - l4);

	if (ip[0] >> 4 == 4) {
		assert_int_equal(ref_fold(ref_sum(0, ip, l4)), 0xffff);
		sum = ref_sum(sum, ip + 12, 8);
	} else {
		sum = ref_sum(sum, ip + 8, 32);
	}
	assert_int_equal(ref_fold(ref_sum(sum, ip + l4, len - l4)), 0xffff);
}

struct gso_case {
	const char *name;
	unsigned int version;
	size_t payload, mss;
	uint8_t flags; /* TCP flags of the super-packet */
	unsigned int want_segs;
};

/* clang-format off */
static const struct gso_case gso_cases[] = {
	{ "v4 one byte", 4, 1, 1348, 0x18, 1 },
	{ "v4 mss-1", 4, 1347, 1348, 0x18, 1 },
	{ "v4 exactly mss", 4, 1348, 1348, 0x10, 1 },
	{ "v4 mss+1", 4, 1349, 1348, 0x18, 2 },
	{ "v4 three full", 4, 3 * 1348, 1348, 0x19, 3 },
	{ "v4 64 KB odd tail", 4, 65535 - 20 - 32, 1348, 0x98, 49 },
	{ "v4 small mss", 4, 1001, 100, 0x18, 11 },
	{ "v6 mss+1", 6, 1329, 1328, 0x18, 2 },
	{ "v6 64 KB", 6, 65535 - 32, 1328, 0x99, 50 },
};
/* clang-format on */

/* buf = virtio header + IP + TCP (20 + 12 bytes of options) + payload; returns its length. */
static size_t build(uint8_t *buf, const struct gso_case *c, bool gso)
{
	struct virtio_net_hdr h = {0};
	uint8_t *ip = buf + SATP_VNET_HDR_LEN, *tcp;
	size_t l3 = c->version == 4 ? 20 : 40, tcp_len = 32, i;
	size_t total = l3 + tcp_len + c->payload;

	memset(ip, 0, l3 + tcp_len);
	if (c->version == 4) {
		ip[0] = 0x45;
		ip[2] = (uint8_t)(total >> 8);
		ip[3] = (uint8_t)total;
		ip[4] = 0xff; /* ID 0xfffe: wraps while segmenting */
		ip[5] = 0xfe;
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, "\x0a\x01\x02\x03\x0a\x04\x05\x06", 8);
	} else {
		ip[0] = 0x60;
		ip[4] = (uint8_t)((total - 40) >> 8);
		ip[5] = (uint8_t)(total - 40);
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		for (i = 0; i < 32; i++)
			ip[8 + i] = (uint8_t)(0xf0 + i);
	}
	tcp = ip + l3;
	tcp[0] = 0x9c; /* ports 40000 -> 5201 */
	tcp[1] = 0x40;
	tcp[2] = 0x14;
	tcp[3] = 0x51;
	memcpy(tcp + 4, "\xff\xff\xf0\x00", 4); /* seq near 2^32: wraps too */
	tcp[12] = (uint8_t)((tcp_len / 4) << 4);
	tcp[13] = c->flags;
	for (i = 0; i < c->payload; i++)
		tcp[tcp_len + i] = (uint8_t)(i * 7 + (i >> 8));
	if (gso) {
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.gso_type = c->version == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
		h.gso_size = htole16((uint16_t)c->mss);
		h.hdr_len = htole16((uint16_t)(l3 + tcp_len));
		h.csum_start = htole16((uint16_t)l3);
		h.csum_offset = htole16(16);
	}
	memcpy(buf, &h, sizeof(h));
	return SATP_VNET_HDR_LEN + total;
}

static void test_segments(void **state)
{
	static uint8_t buf[BUF], seg[SEG_CAP];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(gso_cases); i++) {
		const struct gso_case *c = &gso_cases[i];
		size_t len = build(buf, c, true), l3 = c->version == 4 ? 20 : 40, got = 0;
		const uint8_t *orig = buf + SATP_VNET_HDR_LEN;
		struct satp_gso g;
		unsigned int n = 0;
		int out;

		print_message("case %s\n", c->name);
		assert_int_equal(satp_gso_start(&g, buf, len), 0);
		while ((out = satp_gso_next(&g, seg, sizeof(seg))) > 0) {
			const uint8_t *tcp = seg + l3;
			size_t plen = (size_t)out - l3 - 32;
			bool last = got + plen == c->payload;
			uint32_t seq;

			assert_true(plen <= c->mss && plen > 0);
			assert_true(last || plen == c->mss);
			if (c->version == 4) {
				assert_int_equal(seg[2] << 8 | seg[3], out);
				assert_int_equal(seg[4] << 8 | seg[5], (0xfffe + n) & 0xffff);
			} else {
				assert_int_equal(seg[4] << 8 | seg[5], out - 40);
			}
			memcpy(&seq, tcp + 4, 4);
			assert_int_equal(be32toh(seq), (uint32_t)(0xfffff000u + got));
			assert_int_equal(tcp[13] & 0x09, last ? c->flags & 0x09 : 0);
			assert_int_equal(tcp[13] & 0x80, n == 0 ? c->flags & 0x80 : 0);
			assert_int_equal(tcp[13] & 0x10, c->flags & 0x10);
			assert_memory_equal(tcp + 32, orig + l3 + 32 + got, plen);
			assert_l4_csum_ok(seg, (size_t)out, IPPROTO_TCP);
			got += plen;
			n++;
		}
		assert_int_equal(out, 0);
		assert_int_equal(got, c->payload);
		assert_int_equal(n, c->want_segs);
		assert_int_equal(satp_gso_next(&g, seg, sizeof(seg)), 0);
	}
}

/* Not GSO: passed through, its partial checksum finished (TCP, UDP, and none to do). */
static void test_whole(void **state)
{
	static uint8_t buf[BUF], seg[SEG_CAP];
	static const struct gso_case c4 = {"v4", 4, 333, 0, 0x18, 1},
				     c6 = {"v6", 6, 334, 0, 0x18, 1};
	const struct gso_case *cs[] = {&c4, &c6};
	struct virtio_net_hdr h = {0};
	struct satp_gso g;
	size_t i, len, l3;
	uint32_t pseudo;
	uint8_t *ip = buf + SATP_VNET_HDR_LEN;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cs); i++) {
		len = build(buf, cs[i], false);
		l3 = cs[i]->version == 4 ? 20 : 40;
		if (cs[i]->version == 4) {
			ip[10] = 0;
			ip[11] = 0;
			{
				uint16_t c = (uint16_t)~ref_fold(ref_sum(0, ip, 20));

				ip[10] = (uint8_t)(c >> 8);
				ip[11] = (uint8_t)c;
			}
			pseudo = ref_sum(IPPROTO_TCP + (uint32_t)(len - 10 - l3), ip + 12, 8);
		} else {
			pseudo = ref_sum(IPPROTO_TCP + (uint32_t)(len - 10 - l3), ip + 8, 32);
		}
		/* As the kernel leaves it: the pseudo-header's folded sum, not inverted. */
		ip[l3 + 16] = (uint8_t)(ref_fold(pseudo) >> 8);
		ip[l3 + 17] = (uint8_t)ref_fold(pseudo);
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.csum_start = htole16((uint16_t)l3);
		h.csum_offset = htole16(16);
		memcpy(buf, &h, sizeof(h));
		assert_int_equal(satp_gso_start(&g, buf, len), 0);
		assert_int_equal(satp_gso_next(&g, seg, sizeof(seg)), (int)(len - 10));
		assert_l4_csum_ok(seg, len - 10, IPPROTO_TCP);
		assert_memory_equal(seg + l3 + 18, ip + l3 + 18, len - 10 - l3 - 18);
		assert_int_equal(satp_gso_next(&g, seg, sizeof(seg)), 0);

		/* No flags: the bytes as they are. */
		memset(buf, 0, sizeof(h));
		assert_int_equal(satp_gso_start(&g, buf, len), 0);
		assert_int_equal(satp_gso_next(&g, seg, sizeof(seg)), (int)(len - 10));
		assert_memory_equal(seg, ip, len - 10);
	}
}

/* A UDP checksum whose sum is zero goes out as 0xffff. */
static void test_udp_zero(void **state)
{
	/* IPv4 10.0.0.1 -> 10.0.0.2, UDP 1 -> 2 with 2 payload bytes chosen to sum to 0. */
	uint8_t buf[10 + 20 + 10] = {0}, seg[64];
	struct virtio_net_hdr h = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM};
	uint8_t *ip = buf + 10, *udp = ip + 20;
	struct satp_gso g;
	uint32_t sum;
	uint16_t fill;

	(void)state;
	ip[0] = 0x45;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	udp[1] = 1;
	udp[3] = 2;
	udp[5] = 10;
	/* The field holds the pseudo-header's sum, as the kernel leaves it. */
	sum = ref_fold(ref_sum(IPPROTO_UDP + 10, ip + 12, 8));
	udp[6] = (uint8_t)(sum >> 8);
	udp[7] = (uint8_t)sum;
	/* Payload that makes pseudo + header + payload = 0xffff, i.e. a checksum of 0. */
	sum = ref_sum(0, udp, 8);
	fill = (uint16_t)~ref_fold(sum);
	udp[8] = (uint8_t)(fill >> 8);
	udp[9] = (uint8_t)fill;
	h.csum_start = htole16(20);
	h.csum_offset = htole16(6);
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(satp_gso_start(&g, buf, sizeof(buf)), 0);
	assert_int_equal(satp_gso_next(&g, seg, sizeof(seg)), 30);
	assert_int_equal(seg[20 + 6] << 8 | seg[20 + 7], 0xffff);
}

/* The module's sum against the reference on random data of every length and start. */
static void test_csum_random(void **state)
{
	uint8_t data[1600];
	size_t i, len;

	(void)state;
	srandom(5);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)random();
	for (len = 0; len < sizeof(data); len += 1 + (len > 64) * 37)
		for (i = 0; i < 8; i += 2)
			assert_int_equal(satp_csum_fold(satp_csum_add(0, data + i, len)),
					 (uint16_t)~ref_fold(ref_sum(0, data + i, len)));
	memset(data, 0xff, sizeof(data));
	assert_int_equal(satp_csum_fold(satp_csum_add(0xffff, data, sizeof(data))),
			 (uint16_t)~ref_fold(ref_sum(0xffff, data, sizeof(data))));
}

enum mangle {
	M_SHORT,
	M_MSS0,
	M_NOT_TCP,
	M_V6_EXT,
	M_BAD_TYPE,
	M_UDP_GSO,
	M_WRONG_VER,
	M_HDR_ONLY,
	M_DOFF,
	M_CSUM_OUT,
	M_IHL
};

static const struct {
	const char *name;
	unsigned int version;
	enum mangle m;
	/* clang-format off */
} bad_cases[] = {
	{ "shorter than the virtio header", 4, M_SHORT },
	{ "gso_size 0", 4, M_MSS0 },
	{ "TCPV4 over UDP", 4, M_NOT_TCP },
	{ "TCPV6 with an extension header", 6, M_V6_EXT },
	{ "unknown gso_type", 4, M_BAD_TYPE },
	{ "UDP_L4 not offered", 4, M_UDP_GSO },
	{ "TCPV4 on an IPv6 packet", 6, M_WRONG_VER },
	{ "headers without payload", 4, M_HDR_ONLY },
	{ "TCP data offset < 5", 4, M_DOFF },
	{ "checksum field outside", 4, M_CSUM_OUT },
	{ "IPv4 IHL < 5", 4, M_IHL },
};
/* clang-format on */

static void test_bad(void **state)
{
	static uint8_t buf[BUF];
	struct virtio_net_hdr h;
	struct satp_gso g;
	size_t i, len;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct gso_case c = {"bad", bad_cases[i].version, 3000, 1000, 0x18, 0};
		uint8_t *ip = buf + 10, *tcp = ip + (c.version == 4 ? 20 : 40);

		print_message("case %s\n", bad_cases[i].name);
		len = build(buf, &c, true);
		memcpy(&h, buf, sizeof(h));
		switch (bad_cases[i].m) {
		case M_SHORT:
			len = 10;
			break;
		case M_MSS0:
			h.gso_size = 0;
			break;
		case M_NOT_TCP:
			ip[9] = IPPROTO_UDP;
			break;
		case M_V6_EXT:
			ip[6] = 0;
			break;
		case M_BAD_TYPE:
			h.gso_type = 0x7f;
			break;
		case M_UDP_GSO:
			h.gso_type = 5;
			break; /* VIRTIO_NET_HDR_GSO_UDP_L4, newer headers */
		case M_WRONG_VER:
			h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
			break;
		case M_HDR_ONLY:
			len = 10 + 20 + 32;
			break;
		case M_DOFF:
			tcp[12] = 0x40;
			break;
		case M_CSUM_OUT:
			h.gso_type = VIRTIO_NET_HDR_GSO_NONE;
			h.csum_start = htole16((uint16_t)(len - 10 - 17));
			break;
		case M_IHL:
			ip[0] = 0x44;
			break;
		}
		memcpy(buf, &h, sizeof(h));
		assert_int_equal(satp_gso_start(&g, buf, len), -EINVAL);
	}
}

/* A segment that does not fit the caller's buffer is refused, not cut. */
static void test_cap(void **state)
{
	static uint8_t buf[BUF], seg[SEG_CAP];
	const struct gso_case c = {"cap", 4, 3000, 1400, 0x18, 0};
	struct satp_gso g;
	size_t len = build(buf, &c, true);

	(void)state;
	assert_int_equal(satp_gso_start(&g, buf, len), 0);
	assert_int_equal(satp_gso_next(&g, seg, 1400), -EMSGSIZE);
	assert_int_equal(satp_gso_next(&g, seg, sizeof(seg)), 20 + 32 + 1400);
}

/* Segments of a super-packet, merged again: the super-packet, headers finished for a GSO write. */
static void test_gro_roundtrip(void **state)
{
	static uint8_t buf[BUF], segs[64][SEG_CAP], gbuf[SATP_GSO_MAX_LEN];
	struct satp_gro gro = {.buf = gbuf};
	size_t i, k;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(gso_cases); i++) {
		/* The table's shapes, with the flags a merge takes: FIN and CWR end or refuse it. */
		const struct gso_case cc = {gso_cases[i].name,
					    gso_cases[i].version,
					    gso_cases[i].payload,
					    gso_cases[i].mss,
					    (uint8_t)(gso_cases[i].flags & 0x18),
					    0};
		const struct gso_case *c = &cc;
		size_t len = build(buf, c, true), l3 = c->version == 4 ? 20 : 40, out_len;
		const uint8_t *orig = buf + SATP_VNET_HDR_LEN, *ip = gbuf + SATP_VNET_HDR_LEN;
		struct virtio_net_hdr h;
		struct satp_gso g;
		int seg_len[64], n = 0;
		uint32_t pseudo;

		print_message("case %s\n", c->name);
		assert_int_equal(satp_gso_start(&g, buf, len), 0);
		while ((seg_len[n] = satp_gso_next(&g, segs[n], SEG_CAP)) > 0)
			n++;
		for (k = 0; k < (size_t)n; k++)
			assert_true(satp_gro_add(&gro, segs[k], (size_t)seg_len[k]));
		out_len = satp_gro_finish(&gro);
		assert_int_equal(out_len, len);
		assert_int_equal(gro.len, 0);
		memcpy(&h, gbuf, sizeof(h));
		if (n == 1) {
			assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
			assert_int_equal(h.flags, 0);
			assert_memory_equal(ip, segs[0], (size_t)seg_len[0]);
			continue;
		}
		assert_int_equal(h.gso_type, c->version == 4 ? VIRTIO_NET_HDR_GSO_TCPV4
							     : VIRTIO_NET_HDR_GSO_TCPV6);
		assert_int_equal(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
		assert_int_equal(le16toh(h.gso_size), c->mss);
		assert_int_equal(le16toh(h.hdr_len), l3 + 32);
		assert_int_equal(le16toh(h.csum_start), l3);
		assert_int_equal(le16toh(h.csum_offset), 16);
		/* Everything as built but the checksum fields (PSH back on from the last segment). */
		if (c->version == 4) {
			assert_memory_equal(ip, orig, 10);
			assert_memory_equal(ip + 12, orig + 12, 8);
			assert_int_equal(ref_fold(ref_sum(0, ip, 20)), 0xffff);
			pseudo = ref_sum(IPPROTO_TCP + (uint32_t)(len - 10 - l3), ip + 12, 8);
		} else {
			assert_memory_equal(ip, orig, 40);
			pseudo = ref_sum(IPPROTO_TCP + (uint32_t)(len - 10 - l3), ip + 8, 32);
		}
		assert_memory_equal(ip + l3, orig + l3, 13);
		assert_int_equal(ip[l3 + 13], c->flags);
		assert_int_equal(ip[l3 + 16] << 8 | ip[l3 + 17], ref_fold(pseudo));
		assert_memory_equal(ip + l3 + 18, orig + l3 + 18, len - 10 - l3 - 18);
	}
}

/* What must not be merged: each row mangles the second segment of a pair. */
enum gro_mangle {
	G_OK,
	G_BAD_CSUM,
	G_GAP,
	G_OTHER_PORT,
	G_OTHER_ACK,
	G_OTHER_OPT,
	G_SYN,
	G_AFTER_SHORT,
	G_AFTER_PSH,
	G_OTHER_ID,
	G_LONGER
};

static const struct {
	const char *name;
	enum gro_mangle m;
	bool first_ok, second_ok;
	/* clang-format off */
} gro_cases[] = {
	{ "a full segment, then the next", G_OK, true, true },
	{ "bad checksum", G_BAD_CSUM, true, false },
	{ "seq gap", G_GAP, true, false },
	{ "other port", G_OTHER_PORT, true, false },
	{ "other ack", G_OTHER_ACK, true, false },
	{ "other options", G_OTHER_OPT, true, false },
	{ "SYN", G_SYN, true, false },
	{ "after a short segment", G_AFTER_SHORT, true, false },
	{ "after PSH", G_AFTER_PSH, true, false },
	{ "IP ID not the next", G_OTHER_ID, true, false },
	{ "longer than the first", G_LONGER, true, false },
};
/* clang-format on */

/* Recompute a segment's TCP (and IPv4 header) checksum after a mangle. */
static void refresh_csum(uint8_t *ip, size_t len)
{
	uint32_t sum = ref_sum(IPPROTO_TCP + (uint32_t)(len - 20), ip + 12, 8);
	uint16_t c;

	ip[10] = ip[11] = 0;
	c = (uint16_t)~ref_fold(ref_sum(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	ip[36] = ip[37] = 0;
	c = (uint16_t)~ref_fold(ref_sum(sum, ip + 20, len - 20));
	ip[36] = (uint8_t)(c >> 8);
	ip[37] = (uint8_t)c;
}

static void test_gro_refuse(void **state)
{
	static uint8_t buf[BUF], seg[2][SEG_CAP], gbuf[SATP_GSO_MAX_LEN];
	const struct gso_case c = {"pair", 4, 2000, 1000, 0x10, 0};
	struct satp_gro gro = {.buf = gbuf};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(gro_cases); i++) {
		size_t len = build(buf, &c, true);
		struct satp_gso g;
		int l0, l1;
		uint8_t *t1 = seg[1] + 20;

		print_message("case %s\n", gro_cases[i].name);
		assert_int_equal(satp_gso_start(&g, buf, len), 0);
		l0 = satp_gso_next(&g, seg[0], SEG_CAP);
		l1 = satp_gso_next(&g, seg[1], SEG_CAP);
		switch (gro_cases[i].m) {
		case G_OK:
			break;
		case G_BAD_CSUM:
			t1[40] ^= 1;
			break;
		case G_GAP:
			t1[7] += 1;
			break;
		case G_OTHER_PORT:
			t1[1] += 1;
			break;
		case G_OTHER_ACK:
			t1[11] += 1;
			break;
		case G_OTHER_OPT:
			t1[25] += 1;
			break;
		case G_SYN:
			t1[13] |= 0x02;
			break;
		case G_AFTER_SHORT:
			l0 -= 1;
			seg[0][3] -= 1;
			break;
		case G_AFTER_PSH:
			seg[0][20 + 13] |= 0x08;
			break;
		case G_OTHER_ID:
			seg[1][5] += 1;
			break;
		case G_LONGER:
			l0 -= 1;
			seg[0][3] -= 1;
			t1[7] -= 1;
			break;
		}
		refresh_csum(seg[0], (size_t)l0);
		if (gro_cases[i].m != G_BAD_CSUM)
			refresh_csum(seg[1], (size_t)l1);
		assert_int_equal(satp_gro_add(&gro, seg[0], (size_t)l0), gro_cases[i].first_ok);
		assert_int_equal(satp_gro_add(&gro, seg[1], (size_t)l1), gro_cases[i].second_ok);
		assert_true(satp_gro_finish(&gro) > 0);
	}
	/* Not TCP data at all: never taken, not even into an empty merge. */
	seg[0][9] = IPPROTO_UDP;
	assert_false(satp_gro_add(&gro, seg[0], 1020));
	assert_int_equal(satp_gro_finish(&gro), 0);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segments),   cmocka_unit_test(test_whole),
		cmocka_unit_test(test_udp_zero),   cmocka_unit_test(test_csum_random),
		cmocka_unit_test(test_bad),	   cmocka_unit_test(test_cap),
		cmocka_unit_test(test_gro_roundtrip), cmocka_unit_test(test_gro_refuse),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
