// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "endpoint.h"
#include "nl.h"
#include "nexthop.h"

#define ETH_ALEN	6
#define ETH_TYPE_IP	0x0800
#define ETH_TYPE_IPV6	0x86DD
#define IPPROTO_UDP_NUM 17
/* Neighbour states whose MAC may be used (the kernel's NUD_VALID). */
#define NUD_USABLE (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY)
/* What the kernel's UDP sockets use by default (net.ipv4.ip_default_ttl). */
#define SATPD_TTL 64
/* Don't fragment, as the kernel's UDP sends with path MTU discovery. */
#define IP_DF 0x4000

struct route_info {
	uint32_t oif;
	bool have_gw, have_src;
	uint8_t gw[16];
	uint8_t src[16];
};

struct neigh_info {
	bool found;
	uint16_t state;
	uint8_t mac[ETH_ALEN];
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	size_t alen = rtm->rtm_family == AF_INET ? 4 : 16;
	struct route_info *ri = data;
	struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(attr)) {
		case RTA_OIF:
			ri->oif = mnl_attr_get_u32(attr);
			break;
		case RTA_GATEWAY:
			if (mnl_attr_get_payload_len(attr) == alen) {
				memcpy(ri->gw, mnl_attr_get_payload(attr), alen);
				ri->have_gw = true;
			}
			break;
		case RTA_PREFSRC:
			if (mnl_attr_get_payload_len(attr) == alen) {
				memcpy(ri->src, mnl_attr_get_payload(attr), alen);
				ri->have_src = true;
			}
			break;
		}
	}
	return MNL_CB_OK;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct neigh_info *ni = data;
	struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(*ndm)) {
		if (mnl_attr_get_type(attr) == NDA_LLADDR &&
		    mnl_attr_get_payload_len(attr) == ETH_ALEN) {
			memcpy(ni->mac, mnl_attr_get_payload(attr), ETH_ALEN);
			ni->found = true;
			ni->state = ndm->ndm_state;
		}
	}
	return MNL_CB_OK;
}

/* The route a UDP datagram from local_port would take: rules by port (RAIL's paths) apply too. */
static int get_route(const struct sockaddr_storage *remote, const struct sockaddr_storage *src,
		     uint16_t local_port, struct route_info *ri)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = satpd_nl_request(buf, RTM_GETROUTE, 0);
	int family = remote->ss_family;
	size_t alen = family == AF_INET ? 4 : 16;
	struct rtmsg *rtm;

	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = (unsigned char)(alen * 8);
	mnl_attr_put(nlh, RTA_DST, alen, satpd_addr_bytes(remote));
	if (src && src->ss_family == family) {
		rtm->rtm_src_len = (unsigned char)(alen * 8);
		mnl_attr_put(nlh, RTA_SRC, alen, satpd_addr_bytes(src));
	}
	mnl_attr_put_u8(nlh, RTA_IP_PROTO, IPPROTO_UDP);
	mnl_attr_put_u16(nlh, RTA_SPORT, htons(local_port));
	mnl_attr_put_u16(nlh, RTA_DPORT, htons(satpd_addr_port(remote)));
	return satpd_nl_ask(nlh, route_cb, ri);
}

static int get_neigh(int family, uint32_t ifindex, const uint8_t *addr, struct neigh_info *ni)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = satpd_nl_request(buf, RTM_GETNEIGH, 0);
	struct ndmsg *ndm;

	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (unsigned char)family;
	ndm->ndm_ifindex = (int)ifindex;
	mnl_attr_put(nlh, NDA_DST, family == AF_INET ? 4 : 16, addr);
	return satpd_nl_ask(nlh, neigh_cb, ni);
}

/*
 * AF_XDP TX bypasses the neighbour subsystem, so nothing of ours confirms a
 * STALE entry and the kernel never probes it again: ask for the probe it
 * would make for a packet of its own (NTF_USE), so a next hop that went away
 * turns FAILED (and we fall back to the socket) instead of staying STALE.
 */
static void nudge_neigh(int family, uint32_t ifindex, const uint8_t *addr)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = satpd_nl_request(buf, RTM_NEWNEIGH, NLM_F_ACK);
	struct ndmsg *ndm;

	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (unsigned char)family;
	ndm->ndm_ifindex = (int)ifindex;
	ndm->ndm_flags = NTF_USE;
	mnl_attr_put(nlh, NDA_DST, family == AF_INET ? 4 : 16, addr);
	satpd_nl_ask(nlh, NULL, NULL); /* best effort: the next resolve sees the outcome */
}

static int link_info(int ifindex, uint8_t mac[ETH_ALEN], uint32_t *mtu)
{
	struct ifreq ifr;
	int fd, ret = 0;

	memset(&ifr, 0, sizeof(ifr));
	if (!if_indextoname((unsigned int)ifindex, ifr.ifr_name))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		ret = -errno;
		goto out;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0) {
		ret = -errno;
		goto out;
	}
	*mtu = (uint32_t)ifr.ifr_mtu;
out:
	close(fd);
	return ret;
}

/* Ones' complement sum of len bytes, in memory order (RFC 1071: byte order does not matter). */
static uint64_t csum_partial(const uint8_t *p, size_t len, uint64_t sum)
{
	uint32_t w32;
	uint16_t w16 = 0;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w32, p, 4);
		sum += w32;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		sum += w16;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = {*p, 0};

		memcpy(&w16, last, 2);
		sum += w16;
	}
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void build(struct satpd_l2_tmpl *t, const uint8_t dmac[ETH_ALEN],
		  const uint8_t smac[ETH_ALEN], const uint8_t *saddr,
		  const struct sockaddr_storage *remote, uint16_t sport_be)
{
	uint8_t *h = t->hdr, *ip = h + SATPD_ETH_HLEN, *udp;
	size_t alen = t->family == AF_INET ? 4 : 16;
	uint16_t type = htons(t->family == AF_INET ? ETH_TYPE_IP : ETH_TYPE_IPV6);
	uint16_t dport_be = htons(satpd_addr_port(remote));
	uint16_t proto_be = htons(IPPROTO_UDP_NUM);
	uint64_t sum = 0;

	memset(h, 0, sizeof(t->hdr));
	memcpy(h, dmac, ETH_ALEN);
	memcpy(h + ETH_ALEN, smac, ETH_ALEN);
	memcpy(h + 2 * ETH_ALEN, &type, 2);
	if (t->family == AF_INET) {
		uint16_t df = htons(IP_DF);

		ip[0] = 0x45;
		memcpy(ip + 6, &df, 2);
		ip[8] = SATPD_TTL;
		ip[9] = IPPROTO_UDP_NUM;
		memcpy(ip + 12, saddr, 4);
		memcpy(ip + 16, satpd_addr_bytes(remote), 4);
		udp = ip + 20;
	} else {
		ip[0] = 0x60;
		ip[6] = IPPROTO_UDP_NUM;
		ip[7] = SATPD_TTL;
		memcpy(ip + 8, saddr, 16);
		memcpy(ip + 24, satpd_addr_bytes(remote), 16);
		udp = ip + 40;
	}
	memcpy(udp, &sport_be, 2);
	memcpy(udp + 2, &dport_be, 2);
	t->hdr_len = (uint16_t)(udp + SATPD_UDP_HLEN - h);
	/* Pseudo header: both addresses and the protocol; the length is added per packet. */
	sum = csum_partial(saddr, alen, sum);
	sum = csum_partial(satpd_addr_bytes(remote), alen, sum);
	sum += proto_be;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	t->pseudo = (uint32_t)sum;
}

int satpd_nexthop_resolve(const struct sockaddr_storage *remote, const struct sockaddr_storage *src,
			  uint16_t local_port, int ifindex, struct satpd_l2_tmpl *out)
{
	struct route_info ri = {0};
	struct neigh_info ni = {0};
	uint8_t smac[ETH_ALEN];
	const uint8_t *nexthop, *saddr;
	int family = remote->ss_family, ret;

	memset(out, 0, sizeof(*out));
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	ret = get_route(remote, src, local_port, &ri);
	if (ret)
		return ret;
	if (!ri.oif || (int)ri.oif != ifindex)
		return -ENETUNREACH;
	if (src && src->ss_family == family)
		saddr = satpd_addr_bytes(src);
	else if (ri.have_src)
		saddr = ri.src;
	else
		return -EADDRNOTAVAIL;
	nexthop = ri.have_gw ? ri.gw : satpd_addr_bytes(remote);
	ret = get_neigh(family, ri.oif, nexthop, &ni);
	if (ret == -ENOENT || (!ret && (!ni.found || !(ni.state & NUD_USABLE))))
		return -EAGAIN;
	if (ret)
		return ret;
	if (ni.state & NUD_STALE)
		nudge_neigh(family, ri.oif, nexthop);
	ret = link_info(ifindex, smac, &out->mtu);
	if (ret)
		return ret;
	out->family = family;
	build(out, ni.mac, smac, saddr, remote, htons(local_port));
	out->valid = true;
	return 0;
}

void satpd_l2_publish(struct satpd_l2 *l2, const struct satpd_l2_tmpl *t)
{
	satpd_seqlock_write_begin(&l2->seq);
	l2->t = *t;
	satpd_seqlock_write_end(&l2->seq);
}

void satpd_l2_read(struct satpd_l2 *l2, struct satpd_l2_tmpl *t)
{
	uint32_t gen;

	do {
		gen = satpd_seqlock_read_begin(&l2->seq);
		*t = l2->t;
	} while (satpd_seqlock_read_retry(&l2->seq, gen));
}

/*
 * Over IPv4 the UDP checksum is left 0, "none" (RFC 768), as the kernel's
 * VXLAN does by default: the SATP tag already covers every byte that matters
 * and a damaged datagram fails it, while a checksum in software (no offload on
 * AF_XDP's transmit path) cost a pass over every byte sent. anytun, uanytun
 * and the kernel's UDP sockets accept it. IPv6 requires one (RFC 8200 8.1).
 */
void satpd_l2_frame(const struct satpd_l2_tmpl *t, uint8_t *frame, size_t len)
{
	uint8_t *ip = frame + SATPD_ETH_HLEN;
	uint8_t *udp = frame + t->hdr_len - SATPD_UDP_HLEN;
	uint16_t udp_len = htons((uint16_t)(len + SATPD_UDP_HLEN)), csum = 0;
	uint64_t sum;

	memcpy(frame, t->hdr, t->hdr_len);
	memcpy(udp + 4, &udp_len, 2);
	if (t->family == AF_INET) {
		uint16_t tot = htons((uint16_t)(len + SATPD_UDP_HLEN + 20));

		memcpy(ip + 2, &tot, 2);
		csum = csum_fold(csum_partial(ip, 20, 0));
		memcpy(ip + 10, &csum, 2);
		return; /* UDP checksum 0 from the template: none */
	}
	memcpy(ip + 4, &udp_len, 2);
	sum = csum_partial(udp, len + SATPD_UDP_HLEN, (uint64_t)t->pseudo + udp_len);
	csum = csum_fold(sum);
	if (!csum)
		csum = 0xffff; /* 0 means "no checksum" on the wire (RFC 768) */
	memcpy(udp + 6, &csum, 2);
}
