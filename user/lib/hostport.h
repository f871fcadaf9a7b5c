/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HOST:PORT, the one syntax of every address an option, a config line or a
 * control request gives with its port (--metrics, --edge-listen, --peer-edge,
 * -X/-M, remote=, the control socket's add-conn):
 *
 *   TEXT = "[" HOST "]" [":" PORT]  |  HOST [":" PORT]
 *
 * - Brackets may enclose any host, and must enclose an IPv6 address: without
 *   them the first ':' ends the host, and a second ':' is an error (in
 *   "fd00::1:80" nothing says where the port starts).
 * - PORT is decimal digits only (no sign, no space; leading zeros allowed),
 *   1..65535.
 * - HOST is copied without its brackets. It is not resolved or checked here:
 *   the caller's getaddrinfo (or protocol) says what a host may be.
 * The flags allow what a caller may leave out. An error quotes the text.
 * satp_hostport_format writes an address and port in the same syntax.
 */
#ifndef SATP_HOSTPORT_H
#define SATP_HOSTPORT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

enum satp_hostport_flags {
	/* "HOST", "[IPV6]": *port keeps the value the caller put there (its default). */
	SATP_HOSTPORT_PORT_OPTIONAL = 1 << 0,
	/* ":PORT", "[]:PORT" (and "" with an optional port): host "", any address. */
	SATP_HOSTPORT_HOST_OPTIONAL = 1 << 1,
	/* PORT 0: a listener that takes any free port. */
	SATP_HOSTPORT_PORT_ZERO = 1 << 2,
};

/*
 * Split s into host (hostlen bytes with the NUL) and *port (host order).
 * 0, or -EINVAL and a message quoting s in err (when err is not NULL); host
 * and *port are written only on success.
 */
int satp_hostport_parse(const char *s, unsigned int flags, char *host, size_t hostlen,
			uint16_t *port, char *err, size_t errlen);

/* An IPv6 address (INET6_ADDRSTRLEN counts the NUL) in brackets, ':' and 5 digits. */
#define SATP_HOSTPORT_STRLEN (INET6_ADDRSTRLEN + sizeof("[]:65535") - 1)
/*
 * ADDR (network order, 4 or 16 bytes for FAMILY AF_INET or AF_INET6) and
 * PORT (host order) as "10.0.0.1:4444" or "[fd00::1]:4444", which
 * satp_hostport_parse reads back; "?" stands for an address inet_ntop cannot
 * write. Cut to LEN like snprintf.
 */
void satp_hostport_format(int family, const void *addr, uint16_t port, char *buf, size_t len);

#endif /* SATP_HOSTPORT_H */
