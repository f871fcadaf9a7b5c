/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The capabilities satpd keeps once set up (satp.8, CAPABILITIES): what the
 * data path and a clean exit still need, nothing else.
 */
#ifndef SATPD_CAPS_H
#define SATPD_CAPS_H

#include <stdint.h>

/*
 * CAP_NET_ADMIN: detach satp_rx at exit, re-attach it, neighbour nudges
 * (RTM_NEWNEIGH NTF_USE), routes of connections added at run time.
 * CAP_NET_RAW: open an AF_XDP socket again when a worker restarts.
 * Map fds need no capability on Linux 6.5 and later (CAP_BPF before).
 */
#define SATPD_CAPS_KEPT ((1ull << 12 /* CAP_NET_ADMIN */) | (1ull << 13 /* CAP_NET_RAW */))

/*
 * Drop every capability outside SATPD_CAPS_KEPT from the bounding set (needs
 * CAP_SETPCAP: call it before changing user), then the ambient set. Per thread,
 * as capabilities are: call it in the thread that later starts the others.
 */
int satpd_caps_bound(void);
/*
 * Reduce permitted and effective to SATPD_CAPS_KEPT, inheritable to nothing,
 * and set no_new_privs. After a change of user with PR_SET_KEEPCAPS this
 * raises the kept ones into the effective set again. Per thread.
 */
int satpd_caps_restrict(void);

#endif /* SATPD_CAPS_H */
