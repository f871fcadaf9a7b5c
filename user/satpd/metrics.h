/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * --metrics ADDR:PORT: a Prometheus scrape endpoint. A tiny HTTP/1.0
 * responder: GET /metrics renders the daemon's snapshot and the XDP view of
 * its underlay (user/satpd/metrics_text.h); anything else is 404 or 405. One
 * response per connection, then close. HTTP runs on a thread of the module's
 * own (a client gets SATPD_METRICS_IO_TIMEOUT_MS to send its request and as
 * long for each send of the reply); the daemon's loop polls satpd_metrics_fd()
 * and, in satpd_metrics_handle(), only renders: the snapshot callback runs in
 * the loop's thread, never in the module's.
 */
#ifndef SATPD_METRICS_H
#define SATPD_METRICS_H

#include <stddef.h>

#include "ctl.h"

#define SATPD_METRICS_IO_TIMEOUT_MS 2000

struct satpd_metrics_opts {
	const char *listen;   /* "ADDR:PORT", "[V6]:PORT" or ":PORT" (all addresses) */
	const char *pin_root; /* NULL: /sys/fs/bpf */
	/*
	 * The underlay with satp_rx, when known at open: its pinned maps are
	 * opened then, before satpd drops privileges (the pins are root's, 0600),
	 * and read through those fds at every scrape. NULL or "": each scrape
	 * opens the pins of the snapshot's xdp-ifname by path.
	 */
	const char *xdp_ifname;
};

struct satpd_metrics;

/* ops: only snapshot is used. */
int satpd_metrics_open(const struct satpd_metrics_opts *opts, const struct satpd_ctl_ops *ops,
		       struct satpd_metrics **out, char *err, size_t errlen);
/* Start serving: after satpd dropped privileges, so that its thread has no more than the rest. */
int satpd_metrics_start(struct satpd_metrics *m);
/* Poll for POLLIN in the daemon's loop; then call satpd_metrics_handle() there. */
int satpd_metrics_fd(const struct satpd_metrics *m);
void satpd_metrics_handle(struct satpd_metrics *m);
void satpd_metrics_close(struct satpd_metrics *m);

/* Split "ADDR:PORT" for getaddrinfo; exposed for the option parser's checks. */
int satpd_metrics_parse_listen(const char *s, char *host, size_t hostlen, char *port,
			       size_t portlen);

#endif /* SATPD_METRICS_H */
