// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>

#include "endpoint.h"
#include "hostport.h"

const char *satpd_addr_str(const struct sockaddr_storage *sa, char *buf, size_t len)
{
	if (sa->ss_family == AF_INET)
		satp_hostport_format(AF_INET, &satpd_sin(sa)->sin_addr, satpd_addr_port(sa), buf,
				     len);
	else if (sa->ss_family == AF_INET6)
		satp_hostport_format(AF_INET6, &satpd_sin6(sa)->sin6_addr, satpd_addr_port(sa), buf,
				     len);
	else
		snprintf(buf, len, "(none)");
	return buf;
}

void satpd_prefix_str(int family, const void *addr, unsigned int len, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	snprintf(buf, n, "%s/%u", inet_ntop(family, addr, a, sizeof(a)) ? a : "?", len);
}
