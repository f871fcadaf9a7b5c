/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which underlay interface the XDP program belongs on when --xdp-dev is not
 * given: the interface holding the -i address, else the one the route to the
 * remote leaves by (an rtnetlink route lookup, as `ip route get` does).
 */
#ifndef SATPD_UNDERLAY_H
#define SATPD_UNDERLAY_H

#include <net/if.h>

#include "satpd_options.h"
#include "udp.h"

/* 0 and the name, or -ENOENT when neither -i nor a remote tells. */
int satpd_underlay_dev(const struct satpd_config *c, const struct satpd_peer_addr *remote,
		       char name[IFNAMSIZ]);

/* The interface the route to remote leaves by, whatever -i and --xdp-dev say: a RAIL link's. */
int satpd_underlay_route_dev(const struct satpd_peer_addr *remote, char name[IFNAMSIZ]);

#endif /* SATPD_UNDERLAY_H */
