/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A non-blocking client of one anytun sync server or anytun-controld (satpd
 * -X host[:port], and one per -M entry): connect, read, reframe, parse, hand
 * each record to a callback, and after any error close and reconnect every
 * SATP_SYNC_RECONNECT_MS, as anytun does. On every (re)connect the server
 * sends its whole state again (all connections, then all routes).
 *
 * SECURITY: keys arrive in cleartext and unauthenticated (sync_proto.h).
 *
 * Event loop integration: satp_sync_client_fd() is ONE fd that never changes
 * for the client's life (an epoll fd holding the socket and a reconnect
 * timer). Poll it for POLLIN / EPOLLIN, and call satp_sync_client_dispatch()
 * when it is readable; dispatch never blocks. The host is resolved once, in
 * satp_sync_client_new(), so the loop never waits for DNS.
 *
 * What records mean (anytun's semantics): a connection record for a mux
 * replaces whatever was known for that mux (keys, role, window size, seq,
 * remote); a route record adds or replaces the prefix's mux. Nothing is ever
 * withdrawn by the protocol, and after every reconnect everything arrives
 * again, so applying records as idempotent upserts is enough. A connection
 * whose has_remote is false keeps its current remote (anytun ignores 0.0.0.0
 * and ::). A dead server is noticed by TCP keepalive within about a minute.
 *
 * Frame errors: a malformed body (-EBADMSG), an unsupported archive version
 * or an Ethernet route is logged and skipped, the stream goes on; a broken
 * frame header (-EPROTO), EOF or a socket error closes the connection and
 * schedules a reconnect.
 */
#ifndef SATP_SYNC_CLIENT_H
#define SATP_SYNC_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "sync_proto.h"

/* anytun's sync client retries every 10 s after an error. */
#define SATP_SYNC_RECONNECT_MS 10000

/* syslog levels (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO) are passed to log. */
struct satp_sync_client_ops {
	/* A record parsed; it is wiped after the call returns (copy what you keep). */
	void (*record)(void *arg, const struct satp_sync_record *rec);
	/* Connects, disconnects and skipped frames, as one line without newline. NULL: quiet. */
	void (*log)(void *arg, int level, const char *msg);
	void *arg;
	unsigned int reconnect_ms; /* 0: SATP_SYNC_RECONNECT_MS */
};

struct satp_sync_client_stats {
	uint64_t connects;	/* connections established */
	uint64_t disconnects;	/* connections lost or closed after an error */
	uint64_t records;	/* records handed to ops->record */
	uint64_t skipped;	/* frames skipped: malformed body, version, Ethernet route */
	uint64_t stream_errors; /* broken frame headers (the connection was dropped) */
};

struct satp_sync_client;

/*
 * host and port as satp_sync_split_hostport() gives them. Resolves host now
 * (blocking) and starts the first connect. ops->record is required; ops is
 * copied. Returns 0, -ENOMEM, -EINVAL (err says why: host does not resolve)
 * or another -errno from epoll/timerfd.
 */
int satp_sync_client_new(struct satp_sync_client **out, const char *host, const char *port,
			 const struct satp_sync_client_ops *ops, char *err, size_t errlen);

/* The fd to poll for POLLIN; constant for the client's life. */
int satp_sync_client_fd(const struct satp_sync_client *c);

/*
 * Do whatever is ready (finish a connect, read and parse, reconnect when the
 * timer fired); never blocks. Returns 0, or -ENOMEM / an epoll error that
 * the client cannot recover from.
 */
int satp_sync_client_dispatch(struct satp_sync_client *c);

bool satp_sync_client_connected(const struct satp_sync_client *c);
void satp_sync_client_stats(const struct satp_sync_client *c, struct satp_sync_client_stats *s);
/* "host:port" as given, for logs. */
const char *satp_sync_client_name(const struct satp_sync_client *c);

/* Closes everything; NULL is fine. */
void satp_sync_client_free(struct satp_sync_client *c);

#endif /* SATP_SYNC_CLIENT_H */
