/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * satpd's log: anytun's targets (syslog, stdout, stderr, file) and levels
 * (1 error .. 5 debug). Never called per packet except through
 * LOG_RATELIMITED, which lets one message a second through per call site.
 */
#ifndef SATPD_LOG_H
#define SATPD_LOG_H

#include <stdint.h>
#include <time.h>

#include "satpd_options.h"

int satpd_log_open(const struct satpd_log_target *t, unsigned int n);
/* SIGHUP: reopen file targets so that logrotate works. */
void satpd_log_reopen(void);
void satpd_log_close(void);
/* Route libbpf's and libxdp's messages through our targets. */
void satpd_log_route_libbpf(void);

void satpd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * At most one message a second per call site; the next says how many were
 * held back. Several AF_XDP workers share a call site's state: relaxed
 * atomics, no lock (only the count and the second matter, nothing they guard).
 */
struct satpd_ratelimit {
	_Atomic int64_t last_s; /* CLOCK_MONOTONIC_COARSE seconds of the last pass; 0: none */
	_Atomic uint64_t suppressed;
};
int satpd_ratelimit_pass(struct satpd_ratelimit *rl, uint64_t *suppressed);

#define LOG_RATELIMITED(level, fmt, ...)                                                           \
	do {                                                                                       \
		static struct satpd_ratelimit rl__;                                                \
		uint64_t held__;                                                                   \
		if (satpd_ratelimit_pass(&rl__, &held__))                                          \
			satpd_log(level, fmt " (%llu similar suppressed)", ##__VA_ARGS__,          \
				  (unsigned long long)held__);                                     \
	} while (0)

#define log_err(...)	satpd_log(SATPD_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	satpd_log(SATPD_LOG_WARNING, __VA_ARGS__)
#define log_notice(...) satpd_log(SATPD_LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	satpd_log(SATPD_LOG_INFO, __VA_ARGS__)
#define log_debug(...)	satpd_log(SATPD_LOG_DEBUG, __VA_ARGS__)

#endif /* SATPD_LOG_H */
