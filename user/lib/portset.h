/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A set of UDP ports, parsed from the option syntax the tools share:
 * a comma-separated list of ports and "a:b" ranges (uanytun's RAIL syntax for
 * -p/-o), e.g. "4444", "4444,4446", "4444:4447,5000". Ports are 1..65535;
 * port 0 is not a port anyone can send from or to.
 *
 * A bitmap, so membership is one load whatever the list looks like; 8 KiB,
 * set up once from the command line, never per packet.
 */
#ifndef SATP_PORTSET_H
#define SATP_PORTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SATP_PORTS 65536u

struct satp_portset {
	uint64_t bits[SATP_PORTS / 64]; /* bit p set: port p is in the set */
};

/*
 * Parse text into ps (cleared first). Returns 0, or -EINVAL with a message
 * quoting the text and the offending item in err; never prints.
 */
int satp_portset_parse(struct satp_portset *ps, const char *text, char *err, size_t errlen);

void satp_portset_clear(struct satp_portset *ps);
void satp_portset_add(struct satp_portset *ps, uint16_t port);

static inline bool satp_portset_has(const struct satp_portset *ps, uint16_t port)
{
	return ps->bits[port / 64] & (1ull << (port % 64));
}

/* Number of ports in the set. */
unsigned int satp_portset_count(const struct satp_portset *ps);

/* The smallest port >= from in the set, or -1: iterates in ascending order. */
int satp_portset_next(const struct satp_portset *ps, unsigned int from);

#endif /* SATP_PORTSET_H */
