/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The tun/tap device: open it through /dev/net/tun (one fd per queue), then
 * configure it over rtnetlink (libmnl): MTU, address, link up.
 */
#ifndef SATPD_DEV_H
#define SATPD_DEV_H

#include <net/if.h>
#include <stdbool.h>

#include "satpd_options.h"

/*
 * When -n is given both reference daemons set the MTU to 1400: 1500 minus
 * the outer IPv6 (40) and UDP (8) headers, SATP header (8), payload type (2)
 * and the longest tag (20) is 1422; 1400 is their rounder number, kept so
 * that both ends of a mixed tunnel agree.
 */
#define SATPD_IFCONFIG_MTU 1400

struct satpd_dev {
	char name[IFNAMSIZ]; /* the name the kernel gave */
	int ifindex;
	enum satpd_dev_type type;
	unsigned int n_fds;
	int fds[SATPD_QUEUES_MAX]; /* one per queue; IFF_MULTI_QUEUE when > 1 */
};

/* Open the device (non-blocking fds). name "" lets the kernel pick tunN/tapN. */
int satpd_dev_open(struct satpd_dev *d, const char *name, enum satpd_dev_type type,
		   unsigned int queues);
/* Address, MTU and link up over rtnetlink. prefix may have family 0: only up. */
int satpd_dev_configure(const struct satpd_dev *d, const struct satpd_prefix *prefix);
/* Run the post-up script with the device name as argument; returns its exit status. */
int satpd_dev_run_script(const char *script, const char *devname);
void satpd_dev_close(struct satpd_dev *d);
/*
 * Whether a device fd carries a struct virtio_net_hdr before every packet
 * (IFF_VNET_HDR: satpd opens a tun so, with TSO offloads, not a tap).
 */
bool satpd_dev_fd_vnet(int fd);

#endif /* SATPD_DEV_H */
