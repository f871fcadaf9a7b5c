// SPDX-License-Identifier: GPL-2.0-only
/* Typed parsers shared by satpd's options and the control protocol (parse.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "textbuf.h"

int satpd_parse_uint(const char *s, unsigned long max, unsigned long *out, const char *what,
		     char *err, size_t errlen)
{
	unsigned long v;
	char *end;

	/* strtoul would accept " 12", "+12" and "-1" (as ULONG_MAX): refuse them. */
	if (!isdigit((unsigned char)s[0]))
		return satp_errf(err, errlen, "invalid %s '%s' (expected a number 0..%lu)", what, s,
				 max);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return satp_errf(err, errlen, "invalid %s '%s' (expected a number 0..%lu)", what, s,
				 max);
	*out = v;
	return 0;
}

int satpd_parse_prefix(const char *s, struct satpd_prefix *p, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	unsigned long len, max;
	size_t n;

	if (!slash || slash == s || (size_t)(slash - s) >= sizeof(addr))
		return satp_errf(err, errlen, "invalid prefix '%s' (expected ADDRESS/LENGTH)", s);
	n = (size_t)(slash - s);
	memcpy(addr, s, n);
	addr[n] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, addr, &p->addr.v4) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &p->addr.v6) == 1)
		p->family = AF_INET6;
	else
		return satp_errf(err, errlen, "invalid address '%s' in '%s'", addr, s);
	max = p->family == AF_INET ? 32 : 128;
	if (satpd_parse_uint(slash + 1, max, &len, "prefix length", NULL, 0)) {
		p->family = 0;
		return satp_errf(err, errlen,
				 "invalid prefix length '%s' in '%s' (expected 0..%lu)", slash + 1,
				 s, max);
	}
	p->len = (unsigned int)len;
	return 0;
}
