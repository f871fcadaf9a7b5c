/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Typed parsers that both binaries need: satpd's option table (-n, -R, every
 * number) and the control protocol's route field, which satp also parses.
 * 0 or -EINVAL with a message that quotes the offending text in err (err may
 * be NULL).
 */
#ifndef SATP_PARSE_H
#define SATP_PARSE_H

#include <netinet/in.h>
#include <stddef.h>

/* An address family together with its bytes: -n, -R, a control route. */
struct satpd_prefix {
	int family; /* AF_INET or AF_INET6; 0 = not set */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	unsigned int len;
};

/* A decimal 0..max with nothing around it; what names it in the message. */
int satpd_parse_uint(const char *s, unsigned long max, unsigned long *out, const char *what,
		     char *err, size_t errlen);
/* ADDRESS/LENGTH, IPv4 or IPv6; host bits are kept as given. */
int satpd_parse_prefix(const char *s, struct satpd_prefix *p, char *err, size_t errlen);

#endif /* SATP_PARSE_H */
