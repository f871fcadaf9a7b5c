/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The underlay UDP sockets: one per local address the -i/-p/-4/-6 options
 * resolve to (0.0.0.0 and :: without -i, as uanytun does), non-blocking.
 */
#ifndef SATPD_UDP_H
#define SATPD_UDP_H

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "endpoint.h"
#include "satpd_options.h"

/*
 * IPv4 and IPv6 wildcard, or one -i address (two is all getaddrinfo gives
 * us), per local port: RAIL's -p range opens one per port.
 */
#define SATPD_SOCKS_MAX (4 * SATPD_RAIL_PATHS_MAX)

struct satpd_udp {
	unsigned int n;
	int fds[SATPD_SOCKS_MAX];
	int family[SATPD_SOCKS_MAX];
	uint16_t port[SATPD_SOCKS_MAX]; /* local, host order */
};

int satpd_udp_open(struct satpd_udp *u, const struct satpd_config *c);
void satpd_udp_close(struct satpd_udp *u);
/* Resolve -r/-o to an address a socket of u can reach. */
int satpd_udp_resolve_remote(const struct satpd_udp *u, const struct satpd_config *c,
			     const struct satpd_endpoint *remote, struct satpd_peer_addr *out);
/* The socket index to send to addr from; -1 if no socket has its family. */
int satpd_udp_sock_for(const struct satpd_udp *u, const struct sockaddr_storage *sa);
/* The socket of family bound to local port; -1 if none. */
int satpd_udp_sock_for_port(const struct satpd_udp *u, int family, uint16_t port);

/* One entry of a sendmmsg batch: len bytes at buf to name, through iov (kept until the send). */
static inline void satpd_mmsg_to(struct mmsghdr *msg, struct iovec *iov, void *buf, size_t len,
				 struct sockaddr_storage *name, socklen_t namelen)
{
	memset(msg, 0, sizeof(*msg));
	iov->iov_base = buf;
	iov->iov_len = len;
	msg->msg_hdr.msg_iov = iov;
	msg->msg_hdr.msg_iovlen = 1;
	msg->msg_hdr.msg_name = name;
	msg->msg_hdr.msg_namelen = namelen;
}

#endif /* SATPD_UDP_H */
