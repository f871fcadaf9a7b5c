/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One rtnetlink round trip with libmnl: the next-hop resolve (nexthop.c), the
 * choice of the XDP interface (underlay.c) and the device setup (dev.c) ask
 * the kernel one question at a time, off the packet path.
 */
#ifndef SATPD_NL_H
#define SATPD_NL_H

#include <stdint.h>

#include <libmnl/libmnl.h>

/* A request of type with flags (and NLM_F_REQUEST) at buf, of MNL_SOCKET_BUFFER_SIZE bytes. */
struct nlmsghdr *satpd_nl_request(char *buf, uint16_t type, uint16_t flags);

/* Send nlh on nl, run cb (NULL: an ack) over the answer: 0, or -errno (-EIO if errno is 0). */
int satpd_nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);
/* The same on a fresh socket: for a question asked once a second at most. */
int satpd_nl_ask(struct nlmsghdr *nlh, mnl_cb_t cb, void *data);
/* A NETLINK_ROUTE socket bound to an automatic port id, for several requests in a row. */
int satpd_nl_open(struct mnl_socket **out);

#endif /* SATPD_NL_H */
