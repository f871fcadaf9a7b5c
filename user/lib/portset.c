// SPDX-License-Identifier: GPL-2.0-only
/* Port lists and ranges for -p/-o/--ports (portset.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "portset.h"

#define PORT_MIN 1u
#define PORT_MAX 65535u

void satp_portset_clear(struct satp_portset *ps)
{
	memset(ps, 0, sizeof(*ps));
}

void satp_portset_add(struct satp_portset *ps, uint16_t port)
{
	ps->bits[port / 64] |= 1ull << (port % 64);
}

unsigned int satp_portset_count(const struct satp_portset *ps)
{
	unsigned int i, n = 0;

	for (i = 0; i < SATP_PORTS / 64; i++)
		n += (unsigned int)__builtin_popcountll(ps->bits[i]);
	return n;
}

int satp_portset_next(const struct satp_portset *ps, unsigned int from)
{
	unsigned int p;

	for (p = from; p < SATP_PORTS; p++)
		if (satp_portset_has(ps, (uint16_t)p))
			return (int)p;
	return -1;
}

/*
 * One decimal port at *s, advancing *s past it. Digits only: no sign, no
 * spaces, no hex, so "0x10" or " 1" are errors rather than surprises.
 */
static const char *parse_port(const char **s, unsigned int *port)
{
	const char *p = *s;
	unsigned long v = 0;
	bool big = false;

	if (*p < '0' || *p > '9')
		return "not a number";
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > PORT_MAX) {
			big = true; /* keep scanning so "70000x" says "not a number" */
			v = PORT_MAX + 1;
		}
	}
	if (*p != ',' && *p != ':' && *p != '\0')
		return "not a number";
	if (big || v < PORT_MIN)
		return "port out of range 1..65535";
	*port = (unsigned int)v;
	*s = p;
	return NULL;
}

/* One item, "a" or "a:b", ending at ',' or the end of the text. */
static const char *parse_item(struct satp_portset *ps, const char **s)
{
	unsigned int lo, hi, p;
	const char *why;

	if (**s == ',' || **s == '\0')
		return "empty item";
	why = parse_port(s, &lo);
	if (why)
		return why;
	hi = lo;
	if (**s == ':') {
		(*s)++;
		why = parse_port(s, &hi);
		if (why)
			return why;
		if (hi < lo)
			return "range ends below its start";
	}
	if (**s != ',' && **s != '\0')
		return "unexpected character";
	for (p = lo; p <= hi; p++)
		satp_portset_add(ps, (uint16_t)p);
	return NULL;
}

int satp_portset_parse(struct satp_portset *ps, const char *text, char *err, size_t errlen)
{
	const char *s = text, *item;
	const char *why = NULL;

	satp_portset_clear(ps);
	for (;;) {
		item = s;
		why = parse_item(ps, &s);
		if (why)
			break;
		if (*s == '\0')
			return 0;
		s++; /* the ',' */
		if (*s == '\0') {
			item = s;
			why = "empty item";
			break;
		}
	}
	if (err && errlen) {
		size_t ilen = strcspn(item, ",");

		snprintf(err, errlen,
			 "invalid port list '%s' at '%.*s': %s "
			 "(want PORT or FIRST:LAST, comma-separated, ports 1..65535)",
			 text, (int)ilen, item, why);
	}
	satp_portset_clear(ps);
	return -EINVAL;
}
