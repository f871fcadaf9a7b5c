// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <time.h>

#include <linux/netlink.h>

#include "nl.h"

struct nlmsghdr *satpd_nl_request(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = (unsigned int)time(NULL);
	return nlh;
}

int satpd_nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	/* An error the kernel sent sets errno; a callback's refusal may not: no stale errno then. */
	errno = 0;
	if (mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, mnl_socket_get_portid(nl), cb, data) < 0)
		return errno ? -errno : -EIO;
	return 0;
}

int satpd_nl_open(struct mnl_socket **out)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	int ret;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		mnl_socket_close(nl);
		return ret;
	}
	*out = nl;
	return 0;
}

int satpd_nl_ask(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	struct mnl_socket *nl;
	int ret = satpd_nl_open(&nl);

	if (ret)
		return ret;
	ret = satpd_nl_talk(nl, nlh, cb, data);
	mnl_socket_close(nl);
	return ret;
}
