/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An endpoint is an IPv4 or IPv6 address and a UDP port in a sockaddr_storage,
 * as recvmmsg gives and sendmmsg takes. The helpers compare, read and print
 * them. Every other family is no endpoint: it equals nothing and has port 0.
 * The comparisons are inline: the receive path calls them per datagram.
 */
#ifndef SATPD_ENDPOINT_H
#define SATPD_ENDPOINT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* An address to send to, with the length sendmsg wants. */
struct satpd_peer_addr {
	struct sockaddr_storage sa;
	socklen_t len;
};

static inline const struct sockaddr_in *satpd_sin(const struct sockaddr_storage *sa)
{
	return (const struct sockaddr_in *)(const void *)sa;
}

static inline const struct sockaddr_in6 *satpd_sin6(const struct sockaddr_storage *sa)
{
	return (const struct sockaddr_in6 *)(const void *)sa;
}

/* The same address, whatever the ports. */
static inline bool satpd_same_host(const struct sockaddr_storage *a,
				   const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return satpd_sin(a)->sin_addr.s_addr == satpd_sin(b)->sin_addr.s_addr;
	return a->ss_family == AF_INET6 &&
	       !memcmp(&satpd_sin6(a)->sin6_addr, &satpd_sin6(b)->sin6_addr,
		       sizeof(struct in6_addr));
}

/* The same address and port. */
static inline bool satpd_same_addr(const struct sockaddr_storage *a,
				   const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return satpd_sin(a)->sin_port == satpd_sin(b)->sin_port &&
		       satpd_sin(a)->sin_addr.s_addr == satpd_sin(b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return satpd_sin6(a)->sin6_port == satpd_sin6(b)->sin6_port &&
		       !memcmp(&satpd_sin6(a)->sin6_addr, &satpd_sin6(b)->sin6_addr,
			       sizeof(struct in6_addr));
	return false;
}

/* The port in host order; 0 for another family. */
static inline uint16_t satpd_addr_port(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return ntohs(satpd_sin(sa)->sin_port);
	if (sa->ss_family == AF_INET6)
		return ntohs(satpd_sin6(sa)->sin6_port);
	return 0;
}

/* Set the port (host order); another family is left alone. */
static inline void satpd_addr_set_port(struct sockaddr_storage *sa, uint16_t port)
{
	if (sa->ss_family == AF_INET)
		((struct sockaddr_in *)(void *)sa)->sin_port = htons(port);
	else if (sa->ss_family == AF_INET6)
		((struct sockaddr_in6 *)(void *)sa)->sin6_port = htons(port);
}

/* The address bytes (network order): the in_addr of AF_INET, else the in6_addr. */
static inline const void *satpd_addr_bytes(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return &satpd_sin(sa)->sin_addr;
	return &satpd_sin6(sa)->sin6_addr;
}

/* 4 for AF_INET, else 16: the length of satpd_addr_bytes. */
static inline size_t satpd_addr_len(const struct sockaddr_storage *sa)
{
	return sa->ss_family == AF_INET ? 4 : 16;
}

/* 0.0.0.0 or :: (a wildcard bind). */
static inline bool satpd_addr_is_any(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return satpd_sin(sa)->sin_addr.s_addr == htonl(INADDR_ANY);
	return sa->ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&satpd_sin6(sa)->sin6_addr);
}

/*
 * The address as 16 bytes, IPv4 mapped (::ffff:a.b.c.d), as satp_rx and the
 * kx socket key a source; all zero for another family.
 */
static inline void satpd_addr_v6mapped(const struct sockaddr_storage *sa, uint8_t out[16])
{
	memset(out, 0, 16);
	if (sa->ss_family == AF_INET6) {
		memcpy(out, &satpd_sin6(sa)->sin6_addr, 16);
	} else if (sa->ss_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &satpd_sin(sa)->sin_addr, 4);
	}
}

/* "1.2.3.4:4444" / "[fd00::1]:4444" / "(none)", for logs and the control socket. */
const char *satpd_addr_str(const struct sockaddr_storage *sa, char *buf, size_t len);
/* A route's prefix, "10.0.0.0/8" / "fd00::/8" ("?/len" for another family). */
#define SATPD_PREFIX_STRLEN (INET6_ADDRSTRLEN + 4)
void satpd_prefix_str(int family, const void *addr, unsigned int len, char *buf, size_t n);

#endif /* SATPD_ENDPOINT_H */
