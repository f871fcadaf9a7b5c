/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Prometheus text exposition (format 0.0.4) of what `satp show --json` shows:
 * the daemon's snapshot and the XDP view of its underlay. Pure: data in, text
 * out, so the renderer is unit-tested without a socket. Metric families
 * (every counter ends in _total, times in _seconds):
 *
 *   satpd_up                                          1 when a snapshot was given
 *   satpd_info{version,dev,rx_path,xdp_ifname}        1
 *   satpd_xdp_fallback{requested,explicit,obtained,reason}   1 when the default mode fell back
 *   satpd_start_time_seconds
 *   satpd_daemon_<counter>_total                      the daemon's counters (rx_bad_tag, ...)
 *   satpd_conn_{rx,tx}_{packets,bytes}_total{mux}
 *   satpd_conn_seq_out{mux}  satpd_conn_last_rx_timestamp_seconds{mux}
 *   satpd_conn_window_top{mux,sender}                 the daemon's view (also without XDP)
 *   satpd_conn_<counter>_total{mux}                   per-connection daemon counters
 *   satpd_rail_path_{rx,first,duplicates,xdp_dropped,tx}_total{path,local_port,remote}
 *   satpd_rail_path_last_seen_timestamp_seconds{path,local_port,remote}   RAIL, per path
 *   satpd_xdp_attached{ifname,mode,dispatcher}        1 when the kernel runs satp_rx
 *   satpd_xdp_sockets{ifname}                         AF_XDP sockets bound (when known)
 *   satpd_xdp_packets_total{ifname,reason}            every verdict of satp_rx
 *   satpd_xdp_bytes_total{ifname,reason}
 *   satpd_xdp_drops_total{ifname,reason}              the drop-* verdicts, reason without "drop-"
 *   satpd_rx_packets_total{ifname,mux,sender}         per verified sender, from XDP
 *   satpd_rx_bytes_total{ifname,mux,sender}
 *   satpd_rx_replay_drops_total{ifname,mux,sender}
 *   satpd_window_top{ifname,mux,sender}
 */
#ifndef SATP_METRICS_TEXT_H
#define SATP_METRICS_TEXT_H

#include <stddef.h>

#include "ctl_proto.h"
#include "xdp_view.h"

/* Either may be NULL. Returns the length written (NUL-terminated) or -ENOSPC. */
int satp_metrics_render(const struct satp_ctl_snapshot *snap, const struct satp_xdp_view *view,
			char *buf, size_t len);

#endif /* SATP_METRICS_TEXT_H */
