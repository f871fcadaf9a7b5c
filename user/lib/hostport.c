// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hostport.h"

#define PORT_MAX 65535u

static const char *expected(unsigned int flags)
{
	if (flags & SATP_HOSTPORT_HOST_OPTIONAL)
		return flags & SATP_HOSTPORT_PORT_OPTIONAL ? "HOST[:PORT], [IPV6][:PORT] or :PORT"
							   : "HOST:PORT, [IPV6]:PORT or :PORT";
	return flags & SATP_HOSTPORT_PORT_OPTIONAL ? "HOST[:PORT] or [IPV6][:PORT]"
						   : "HOST:PORT or [IPV6]:PORT";
}

/* The port text p: NULL, or why it is not one. */
static const char *parse_port(const char *p, unsigned int flags, uint16_t *out)
{
	unsigned long v = 0;

	if (!*p)
		return "no port after ':'";
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return "the port is not a number";
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > PORT_MAX)
			return "the port is above 65535";
	}
	if (!v && !(flags & SATP_HOSTPORT_PORT_ZERO))
		return "port 0";
	*out = (uint16_t)v;
	return NULL;
}

/* The host's span and the port text (NULL: none) of s; NULL, or why s has neither shape. */
static const char *split(const char *s, const char **h, size_t *hn, const char **p)
{
	const char *end;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end)
			return "no ']' after '['";
		if (end[1] && end[1] != ':')
			return "text after ']'";
		*h = s + 1;
		*hn = (size_t)(end - *h);
		*p = end[1] ? end + 2 : NULL;
		return NULL;
	}
	end = strchr(s, ':');
	if (end && strchr(end + 1, ':'))
		return "an IPv6 address goes in brackets";
	*h = s;
	*hn = end ? (size_t)(end - s) : strlen(s);
	*p = end ? end + 1 : NULL;
	return NULL;
}

int satp_hostport_parse(const char *s, unsigned int flags, char *host, size_t hostlen,
			uint16_t *port, char *err, size_t errlen)
{
	const char *h, *p, *why;
	uint16_t v = 0;
	size_t hn;

	why = split(s, &h, &hn, &p);
	if (why)
		goto bad;
	why = "no host";
	if (!hn && !(flags & SATP_HOSTPORT_HOST_OPTIONAL))
		goto bad;
	why = "the host is too long";
	if (hn >= hostlen)
		goto bad;
	why = p ? parse_port(p, flags, &v) : flags & SATP_HOSTPORT_PORT_OPTIONAL ? NULL : "no port";
	if (why)
		goto bad;
	memcpy(host, h, hn);
	host[hn] = '\0';
	if (p)
		*port = v;
	return 0;
bad:
	if (err && errlen)
		snprintf(err, errlen, "'%s': %s (expected %s)", s, why, expected(flags));
	return -EINVAL;
}

void satp_hostport_format(int family, const void *addr, uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}
