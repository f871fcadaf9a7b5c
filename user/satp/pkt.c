// SPDX-License-Identifier: GPL-2.0-only
/* Bounds-checked packet helpers shared by the outer and inner parsers. */
#include "pkt.h"

#define NH_HOPOPTS	      0
#define NH_ROUTING	      43
#define NH_FRAGMENT	      44
#define NH_DSTOPTS	      60
#define IPV6_FRAG_OFFSET_MASK 0xfff8

bool ipv6_walk(struct cursor *c, uint8_t nh, struct ipv6_l4 *l4)
{
	const uint8_t *h;
	unsigned int i;

	l4->fragment = false;
	l4->first_frag = false;
	for (i = 0; i < IPV6_MAX_EXT; i++) {
		switch (nh) {
		case NH_HOPOPTS:
		case NH_ROUTING:
		case NH_DSTOPTS:
			h = c->p;
			/* length in 8-octet units, not counting the first 8 */
			if (cur_left(c) < 2 || !cur_pull(c, ((size_t)h[1] + 1) * 8))
				return false;
			nh = h[0];
			break;
		case NH_FRAGMENT:
			h = cur_pull(c, IPV6_FRAG_HLEN);
			if (!h)
				return false;
			l4->fragment = true;
			l4->first_frag = (get_be16(h + 2) & IPV6_FRAG_OFFSET_MASK) == 0;
			nh = h[0];
			break;
		default:
			l4->proto = nh;
			return true;
		}
	}
	return false;
}
