// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "endpoint.h"
#include "nl.h"
#include "underlay.h"

static int dev_holding(const char *host, char name[IFNAMSIZ])
{
	struct sockaddr_storage want;
	struct ifaddrs *ifa, *i;
	int ret = -ENOENT;

	memset(&want, 0, sizeof(want));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&want)->sin_addr) == 1)
		want.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&want)->sin6_addr) == 1)
		want.ss_family = AF_INET6;
	else
		return -ENOENT; /* a name: the route to the remote decides */
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		/* satpd_same_host reads no further than the family's own sockaddr */
		if (i->ifa_addr &&
		    satpd_same_host((const struct sockaddr_storage *)(const void *)i->ifa_addr,
				    &want)) {
			snprintf(name, IFNAMSIZ, "%s", i->ifa_name);
			ret = 0;
			break;
		}
	}
	freeifaddrs(ifa);
	return ret;
}

static int route_oif_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct rtmsg)) {
		if (mnl_attr_get_type(attr) == RTA_OIF)
			*(uint32_t *)data = mnl_attr_get_u32(attr);
	}
	return MNL_CB_OK;
}

static int dev_routing_to(const struct satpd_peer_addr *remote, char name[IFNAMSIZ])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = satpd_nl_request(buf, RTM_GETROUTE, 0);
	struct rtmsg *rtm;
	uint32_t oif = 0;
	int ret;

	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)remote->sa.ss_family;
	rtm->rtm_dst_len = (unsigned char)(satpd_addr_len(&remote->sa) * 8);
	mnl_attr_put(nlh, RTA_DST, satpd_addr_len(&remote->sa), satpd_addr_bytes(&remote->sa));
	ret = satpd_nl_ask(nlh, route_oif_cb, &oif);
	if (ret)
		return ret;
	return oif && if_indextoname(oif, name) ? 0 : -ENOENT;
}

int satpd_underlay_dev(const struct satpd_config *c, const struct satpd_peer_addr *remote,
		       char name[IFNAMSIZ])
{
	if (c->xdp_dev[0]) {
		memcpy(name, c->xdp_dev, IFNAMSIZ);
		return 0;
	}
	if (c->local.host[0] && !dev_holding(c->local.host, name))
		return 0;
	if (remote)
		return dev_routing_to(remote, name);
	return -ENOENT;
}

int satpd_underlay_route_dev(const struct satpd_peer_addr *remote, char name[IFNAMSIZ])
{
	return dev_routing_to(remote, name);
}
