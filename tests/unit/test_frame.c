// SPDX-License-Identifier: GPL-2.0-only
/*
 * A redirected AF_XDP frame as the daemon reads it (user/satpd/frame.c): the
 * metadata satp_rx hands over, the parser for a frame that came without it,
 * and the datagram both locate. tests/bpf/test_xdp.c checks that both agree
 * with satp_rx on every frame it redirects; this table gives each a frame that
 * lies about itself or ends early, and wants a refusal, never a read past len.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "frame.h"
#include "satp_test_util.h"
#include "../tools/satp_frame.h"

#define DGRAM 40 /* SATP bytes of every frame the table builds */

static const uint8_t DST4[4] = {10, 99, 0, 2};

enum cut {
	WHOLE,	   /* the frame as built */
	CUT_L3,	   /* ends inside the IP header */
	CUT_L4,	   /* ends inside the UDP header */
	CUT_DGRAM, /* ends inside the datagram (the UDP length says more) */
};

struct parse_case {
	const char *name;
	int family, vlans, ip4_opt, ip6_exts;
	uint8_t proto; /* 0: UDP */
	int udp_len_adj;
	enum cut cut;
	bool parses;   /* satpd_frame_parse finds IP and UDP */
	bool datagram; /* satpd_frame_datagram takes it */
};

/* clang-format off */
static const struct parse_case parse_cases[] = {
	/* name                         family    vlan opt ext proto udp+ cut        parses datagram */
	{ "ipv4",                       AF_INET,  0,   0,  0,  0,    0,   WHOLE,     true,  true },
	{ "ipv4, 40 bytes of options",  AF_INET,  0,   40, 0,  0,    0,   WHOLE,     true,  true },
	{ "ipv4, two VLAN tags",        AF_INET,  2,   0,  0,  0,    0,   WHOLE,     true,  true },
	{ "ipv6",                       AF_INET6, 0,   0,  0,  0,    0,   WHOLE,     true,  true },
	{ "ipv6, four extension hdrs",  AF_INET6, 1,   0,  4,  0,    0,   WHOLE,     true,  true },
	{ "three VLAN tags",            AF_INET,  3,   0,  0,  0,    0,   WHOLE,     false, false },
	{ "ipv4, not UDP",              AF_INET,  0,   0,  0,  6,    0,   WHOLE,     false, false },
	{ "ipv6, not UDP",              AF_INET6, 0,   0,  0,  6,    0,   WHOLE,     false, false },
	{ "ipv4, ends in the IP hdr",   AF_INET,  0,   0,  0,  0,    0,   CUT_L3,    false, false },
	{ "ipv6, ends in the IP hdr",   AF_INET6, 0,   0,  0,  0,    0,   CUT_L3,    false, false },
	{ "ipv4, ends in the UDP hdr",  AF_INET,  0,   0,  0,  0,    0,   CUT_L4,    true,  false },
	{ "ipv6, ends in the UDP hdr",  AF_INET6, 0,   0,  2,  0,    0,   CUT_L4,    true,  false },
	{ "ipv4, ends in the datagram", AF_INET,  0,   0,  0,  0,    0,   CUT_DGRAM, true,  false },
	{ "UDP length past the frame",  AF_INET,  0,   0,  0,  0,    1,   WHOLE,     true,  false },
	{ "UDP length under 8",         AF_INET,  0,   0,  0,  0,    -DGRAM - 1, WHOLE, true, false },
};
/* clang-format on */

static size_t build(const struct parse_case *c, uint8_t *buf, size_t cap)
{
	struct satp_frame_spec s = satp_frame_v4(DST4, 4444, 1, 1, 1, DGRAM);

	s.family = c->family;
	if (c->family == AF_INET6) {
		memset(s.src, 0, sizeof(s.src));
		memset(s.dst, 0, sizeof(s.dst));
		s.src[0] = s.dst[0] = 0xfd;
		s.src[15] = 1;
		s.dst[15] = 2;
	}
	s.vlans = c->vlans;
	s.ip4_opt_len = c->ip4_opt;
	s.ip6_exts = c->ip6_exts;
	s.proto = c->proto;
	s.udp_len_adj = c->udp_len_adj;
	return satp_frame_build(&s, buf, cap);
}

/* Where the frame ends for a row: the cut falls one byte into the layer it names. */
static uint32_t cut_at(const struct parse_case *c, size_t len, const struct satp_xdp_meta *m)
{
	switch (c->cut) {
	case CUT_L3:
		return (uint32_t)m->l3_off + 1;
	case CUT_L4:
		return (uint32_t)m->l4_off + 1;
	case CUT_DGRAM:
		return (uint32_t)len - 1;
	default:
		return (uint32_t)len;
	}
}

static void test_parse_table(void **state)
{
	unsigned int bad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		uint8_t buf[SATP_FRAME_MAX];
		struct satp_xdp_meta whole = {0}, m = {0};
		struct satpd_rx_frame f;
		size_t len = build(c, buf, sizeof(buf));
		uint32_t n;
		bool parses, dg = false;

		assert_true(len > 0);
		/* The offsets of the uncut frame, where the cut is measured from. */
		satpd_frame_parse(buf, (uint32_t)len, &whole);
		if (c->cut != WHOLE && !whole.l4_off) {
			print_error("%s: the uncut frame does not parse\n", c->name);
			bad++;
			continue;
		}
		n = cut_at(c, len, &whole);
		parses = satpd_frame_parse(buf, n, &m);
		if (parses)
			dg = satpd_frame_datagram(buf, n, &m, &f);
		if (parses != c->parses || dg != c->datagram) {
			print_error("%s: parses %d datagram %d, want %d %d\n", c->name, parses, dg,
				    c->parses, c->datagram);
			bad++;
			continue;
		}
		if (dg && (f.dglen != DGRAM || f.dg != buf + m.l4_off + 8 || f.dport != 4444 ||
			   f.src.ss_family != c->family)) {
			print_error("%s: datagram of %zu bytes, port %u, family %u\n", c->name,
				    f.dglen, f.dport, f.src.ss_family);
			bad++;
		}
	}
	if (bad)
		fail_msg("%u rows wrong", bad);
}

enum meta_lie {
	M_GOOD,
	M_NO_ROOM,
	M_MAGIC,
	M_FAMILY,
	M_L3_IN_ETH,
	M_L4_IN_IP,
	M_L4_PAST
};

struct meta_case {
	const char *name;
	enum meta_lie lie;
	bool taken;
};

/* clang-format off */
static const struct meta_case meta_cases[] = {
	{ "as satp_rx writes it",             M_GOOD,      true },
	{ "no headroom for it",               M_NO_ROOM,   false },
	{ "another magic (stale or layout 2)", M_MAGIC,    false },
	{ "a family satp_rx never redirects", M_FAMILY,    false },
	{ "IP header inside Ethernet",        M_L3_IN_ETH, false },
	{ "UDP header inside the IP header",  M_L4_IN_IP,  false },
	{ "UDP header past the frame",        M_L4_PAST,   false },
};
/* clang-format on */

static void test_meta_table(void **state)
{
	static const struct parse_case v4 = {"ipv4", AF_INET, 0, 0, 0, 0, 0, WHOLE, true, true};
	unsigned int bad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(meta_cases); i++) {
		const struct meta_case *c = &meta_cases[i];
		struct satp_xdp_meta good = {0}, lie, got;
		uint8_t area[sizeof(lie) + SATP_FRAME_MAX];
		uint8_t *pkt = area + sizeof(lie);
		size_t len = build(&v4, pkt, SATP_FRAME_MAX), room = sizeof(lie);
		bool taken;

		assert_true(satpd_frame_parse(pkt, (uint32_t)len, &good));
		good.magic = SATP_XDP_META_MAGIC;
		lie = good;
		switch (c->lie) {
		case M_NO_ROOM:
			room = sizeof(lie) - 1;
			break;
		case M_MAGIC:
			lie.magic = SATP_XDP_META_MAGIC + 1;
			break;
		case M_FAMILY:
			lie.family = AF_UNIX;
			break;
		case M_L3_IN_ETH:
			lie.l3_off = 13;
			break;
		case M_L4_IN_IP:
			lie.l4_off = (uint16_t)(lie.l3_off + 19);
			break;
		case M_L4_PAST:
			lie.l4_off = (uint16_t)(len + 1);
			break;
		default:
			break;
		}
		memcpy(area, &lie, sizeof(lie));
		taken = satpd_frame_meta(pkt, room, (uint32_t)len, &got);
		if (taken != c->taken) {
			print_error("%s: taken %d, want %d\n", c->name, taken, c->taken);
			bad++;
		} else if (taken && (got.l3_off != good.l3_off || got.l4_off != good.l4_off)) {
			print_error("%s: l3 %u l4 %u, want %u %u\n", c->name, got.l3_off,
				    got.l4_off, good.l3_off, good.l4_off);
			bad++;
		} else if (taken && satpd_frame_meta(pkt, room, (uint32_t)len, &got)) {
			print_error("%s: read twice: the magic was not wiped\n", c->name);
			bad++;
		}
	}
	if (bad)
		fail_msg("%u rows wrong", bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),
	    cmocka_unit_test(test_meta_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
