/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control socket's read-only picture of the daemon (user/lib/ctl_proto.h),
 * filled from the main thread between polls: the remote under its seqlock,
 * the next outgoing seq, counters summed over the workers (each exact, not
 * one instant together), and per sender its window top
 * (satp_ctl_add_sender). Every connection, by mux (-ENOMEM if they do not fit).
 * Meant as satpd_ctl_ops.snapshot; f (compose.h) is the core and the features
 * it reports.
 */
#ifndef SATPD_SNAPSHOT_H
#define SATPD_SNAPSHOT_H

struct satpd_features;
struct satp_ctl_snapshot;

int satpd_snapshot(const struct satpd_features *f, struct satp_ctl_snapshot *out);

#endif /* SATPD_SNAPSHOT_H */
