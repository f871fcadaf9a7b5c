// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>

#include "dev.h"
#include "log.h"
#include "nl.h"

/*
 * Checksum and TCP segmentation left to us: the kernel then hands satpd 64 KB
 * super-packets, one read instead of ~45. Without them the device still
 * works, packet by packet.
 */
static void enable_offloads(struct satpd_dev *d)
{
	if (ioctl(d->fds[0], TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0)
		log_warn("%s: no TSO offload (%s): one packet per read", d->name, strerror(errno));
}

bool satpd_dev_fd_vnet(int fd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	return !ioctl(fd, TUNGETIFF, &ifr) && (ifr.ifr_flags & IFF_VNET_HDR);
}

int satpd_dev_open(struct satpd_dev *d, const char *name, enum satpd_dev_type type,
		   unsigned int queues)
{
	struct ifreq ifr;
	unsigned int i;
	int fd, ret;

	memset(d, 0, sizeof(*d));
	d->type = type;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (type == SATPD_DEV_TAP ? IFF_TAP : IFF_TUN) | IFF_NO_PI;
	/* One fd per queue lets one worker per queue read without sharing a lock. */
	if (queues > 1)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	/* A tun hands over TCP super-packets with this header: gso.h segments them. */
	if (type == SATPD_DEV_TUN)
		ifr.ifr_flags |= IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	for (i = 0; i < queues; i++) {
		fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			log_err("cannot open /dev/net/tun: %s", strerror(errno));
			goto err;
		}
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			ret = -errno;
			log_err("cannot create %s device '%s': %s", satpd_dev_type_name(type), name,
				strerror(errno));
			close(fd);
			goto err;
		}
		d->fds[d->n_fds++] = fd;
	}
	memcpy(d->name, ifr.ifr_name, IFNAMSIZ);
	d->name[IFNAMSIZ - 1] = '\0';
	if (type == SATPD_DEV_TUN)
		enable_offloads(d);
	d->ifindex = (int)if_nametoindex(d->name);
	if (!d->ifindex) {
		ret = -errno;
		goto err;
	}
	return 0;
err:
	satpd_dev_close(d);
	return ret;
}

void satpd_dev_close(struct satpd_dev *d)
{
	unsigned int i;

	/* The device is not persistent: closing the last fd removes it. */
	for (i = 0; i < d->n_fds; i++)
		close(d->fds[i]);
	d->n_fds = 0;
}

static int set_link(struct mnl_socket *nl, int ifindex, unsigned int mtu, bool up)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = satpd_nl_request(buf, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifi;

	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return satpd_nl_talk(nl, nlh, NULL, NULL);
}

static int add_addr(struct mnl_socket *nl, int ifindex, const struct satpd_prefix *p)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh =
	    satpd_nl_request(buf, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
	size_t alen = p->family == AF_INET ? sizeof(p->addr.v4) : sizeof(p->addr.v6);
	struct ifaddrmsg *ifa;

	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)p->family;
	ifa->ifa_prefixlen = (unsigned char)p->len;
	ifa->ifa_index = (unsigned int)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, alen, &p->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, &p->addr);
	return satpd_nl_talk(nl, nlh, NULL, NULL);
}

int satpd_dev_configure(const struct satpd_dev *d, const struct satpd_prefix *prefix)
{
	struct mnl_socket *nl;
	int ret = satpd_nl_open(&nl);

	if (ret)
		return ret;
	if (prefix->family) {
		ret = set_link(nl, d->ifindex, SATPD_IFCONFIG_MTU, false);
		if (ret) {
			log_err("%s: cannot set MTU %d: %s", d->name, SATPD_IFCONFIG_MTU,
				strerror(-ret));
			goto out;
		}
		ret = add_addr(nl, d->ifindex, prefix);
		if (ret) {
			log_err("%s: cannot add address: %s", d->name, strerror(-ret));
			goto out;
		}
	}
	ret = set_link(nl, d->ifindex, 0, true);
	if (ret)
		log_err("%s: cannot set link up: %s", d->name, strerror(-ret));
out:
	mnl_socket_close(nl);
	return ret;
}

int satpd_dev_run_script(const char *script, const char *devname)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Through sh, as uanytun does, so a script need not be executable. */
		execl("/bin/sh", "/bin/sh", script, devname, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
