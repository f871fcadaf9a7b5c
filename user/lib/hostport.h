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
 */
#ifndef SATP_HOSTPORT_H
#define SATP_HOSTPORT_H

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

#endif /* SATP_HOSTPORT_H */
