// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "udp.h"

/*
 * Socket buffers big enough to absorb a burst of one poll round of both
 * directions at 1 Gbit/s; the kernel caps them at net.core.[rw]mem_max.
 */
#define SATPD_SOCK_BUF (4 << 20)

static int open_one(struct satpd_udp *u, const struct addrinfo *ai, bool v6only, uint16_t port)
{
	int one = 1, bufsz = SATPD_SOCK_BUF;
	char name[INET6_ADDRSTRLEN + 8];
	int fd, ret;

	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ai->ai_family == AF_INET6 && v6only)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	/* Say which datagrams came in fragments (datapath.c): satp_rx could not judge those.
	 * Best effort: a kernel before 4.10 has neither, and then counts none. */
	setsockopt(fd, SOL_IP, IP_RECVFRAGSIZE, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, SOL_IPV6, IPV6_RECVFRAGSIZE, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		ret = -errno;
		log_err("cannot bind UDP socket to %s: %s",
			satpd_addr_str((const struct sockaddr_storage *)ai->ai_addr, name,
				       sizeof(name)),
			strerror(errno));
		close(fd);
		return ret;
	}
	log_notice("listening on %s", satpd_addr_str((const struct sockaddr_storage *)ai->ai_addr,
						     name, sizeof(name)));
	u->fds[u->n] = fd;
	u->family[u->n] = ai->ai_family;
	u->port[u->n] = port;
	u->n++;
	return 0;
}

/* The sockets of one local port: every address -i (or the wildcard) resolves to. */
static int open_port(struct satpd_udp *u, const struct satpd_config *c, uint16_t lport)
{
	struct addrinfo hints = {0}, *res, *ai;
	bool v4 = false, v6 = false;
	char port[8];
	int ret = 0;

	hints.ai_family = c->family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(port, sizeof(port), "%u", lport);
	ret = getaddrinfo(c->local.host[0] ? c->local.host : NULL, port, &hints, &res);
	if (ret) {
		log_err("cannot resolve local address '%s': %s", c->local.host, gai_strerror(ret));
		return -EADDRNOTAVAIL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		v4 |= ai->ai_family == AF_INET;
		v6 |= ai->ai_family == AF_INET6;
	}
	for (ai = res; ai && u->n < SATPD_SOCKS_MAX; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		ret = open_one(u, ai, v4 && v6, lport);
		if (ret)
			break;
	}
	freeaddrinfo(res);
	return ret;
}

int satpd_udp_open(struct satpd_udp *u, const struct satpd_config *c)
{
	unsigned int p;
	int ret = 0;

	memset(u, 0, sizeof(*u));
	/* RAIL: one socket (per family) for every port of the -p range. */
	for (p = c->local.port_lo; !ret && p <= c->local.port_hi; p++)
		ret = open_port(u, c, (uint16_t)p);
	if (!ret && !u->n)
		ret = -EADDRNOTAVAIL;
	if (ret)
		satpd_udp_close(u);
	return ret;
}

void satpd_udp_close(struct satpd_udp *u)
{
	unsigned int i;

	for (i = 0; i < u->n; i++)
		close(u->fds[i]);
	u->n = 0;
}

int satpd_udp_sock_for(const struct satpd_udp *u, const struct sockaddr_storage *sa)
{
	unsigned int i;

	for (i = 0; i < u->n; i++)
		if (u->family[i] == sa->ss_family)
			return (int)i;
	return -1;
}

int satpd_udp_sock_for_port(const struct satpd_udp *u, int family, uint16_t port)
{
	unsigned int i;

	for (i = 0; i < u->n; i++)
		if (u->family[i] == family && u->port[i] == port)
			return (int)i;
	return -1;
}

int satpd_udp_resolve_remote(const struct satpd_udp *u, const struct satpd_config *c,
			     const struct satpd_endpoint *remote, struct satpd_peer_addr *out)
{
	struct addrinfo hints = {0}, *res, *ai;
	char port[8];
	int ret;

	hints.ai_family = c->family;
	hints.ai_socktype = SOCK_DGRAM;
	snprintf(port, sizeof(port), "%u", remote->port_lo);
	ret = getaddrinfo(remote->host, port, &hints, &res);
	if (ret) {
		log_err("cannot resolve remote host '%s': %s", remote->host, gai_strerror(ret));
		return -EHOSTUNREACH;
	}
	ret = -EAFNOSUPPORT;
	for (ai = res; ai; ai = ai->ai_next) {
		struct sockaddr_storage ss = {0};

		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		if (satpd_udp_sock_for(u, &ss) < 0)
			continue;
		out->sa = ss;
		out->len = ai->ai_addrlen;
		ret = 0;
		break;
	}
	freeaddrinfo(res);
	if (ret)
		log_err("remote host '%s' has no address of a family we listen on", remote->host);
	return ret;
}
