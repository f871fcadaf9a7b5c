// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "clock.h"
#include "log.h"

struct target {
	struct satpd_log_target cfg;
	FILE *f; /* stdout, stderr or the opened file */
};

static struct target targets[SATPD_LOG_TARGETS];
static unsigned int n_targets;

static const char *const level_names[] = {"", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"};
/* syslog priorities of our levels. */
static const int level_prio[] = {LOG_EMERG, LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};

static int open_target(struct target *t)
{
	switch (t->cfg.kind) {
	case SATPD_LOG_SYSLOG:
		openlog(t->cfg.param, LOG_PID | LOG_NDELAY, t->cfg.facility);
		return 0;
	case SATPD_LOG_STDOUT:
		t->f = stdout;
		return 0;
	case SATPD_LOG_STDERR:
		t->f = stderr;
		return 0;
	case SATPD_LOG_FILE:
		t->f = fopen(t->cfg.param, "ae");
		if (!t->f)
			return -errno;
		setvbuf(t->f, NULL, _IOLBF, 0);
		return 0;
	}
	return -EINVAL;
}

int satpd_log_open(const struct satpd_log_target *cfg, unsigned int n)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n && i < SATPD_LOG_TARGETS; i++) {
		targets[i].cfg = cfg[i];
		ret = open_target(&targets[i]);
		if (ret) {
			fprintf(stderr, "satpd: cannot open log file '%s': %s\n", cfg[i].param,
				strerror(-ret));
			n_targets = i;
			satpd_log_close();
			return ret;
		}
	}
	n_targets = i;
	setvbuf(stdout, NULL, _IOLBF, 0);
	return 0;
}

void satpd_log_reopen(void)
{
	unsigned int i;

	for (i = 0; i < n_targets; i++) {
		if (targets[i].cfg.kind != SATPD_LOG_FILE)
			continue;
		if (targets[i].f)
			fclose(targets[i].f);
		targets[i].f = NULL;
		if (open_target(&targets[i]))
			log_err("cannot reopen log file '%s': %s", targets[i].cfg.param,
				strerror(errno));
	}
}

void satpd_log_close(void)
{
	unsigned int i;

	for (i = 0; i < n_targets; i++) {
		if (targets[i].cfg.kind == SATPD_LOG_FILE && targets[i].f)
			fclose(targets[i].f);
		else if (targets[i].cfg.kind == SATPD_LOG_SYSLOG)
			closelog();
		targets[i].f = NULL;
	}
	n_targets = 0;
}

static void vlog(int level, const char *fmt, va_list ap)
{
	char msg[1024], stamp[32];
	unsigned int i;
	struct tm tm;
	time_t now;

	if (level < SATPD_LOG_ERROR || level > SATPD_LOG_DEBUG)
		level = SATPD_LOG_ERROR;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	now = time(NULL);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	for (i = 0; i < n_targets; i++) {
		struct target *t = &targets[i];

		if (level > t->cfg.level)
			continue;
		if (t->cfg.kind == SATPD_LOG_SYSLOG)
			syslog(level_prio[level], "%s", msg);
		else if (t->f)
			fprintf(t->f, "%s %s: %s\n", stamp, level_names[level], msg);
	}
}

void satpd_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

/*
 * One caller a second wins the exchange of last_s and logs; the others count
 * themselves held. last_s only moves forward: a caller that read the clock
 * before another's later second was stored loses (its second is over).
 */
int satpd_ratelimit_pass(struct satpd_ratelimit *rl, uint64_t *suppressed)
{
	int64_t now_s = satpd_coarse_s();
	int64_t last = atomic_load_explicit(&rl->last_s, memory_order_relaxed);

	if ((last && now_s <= last) ||
	    !atomic_compare_exchange_strong_explicit(&rl->last_s, &last, now_s,
						     memory_order_relaxed, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&rl->suppressed, 1, memory_order_relaxed);
		return 0;
	}
	*suppressed = atomic_exchange_explicit(&rl->suppressed, 0, memory_order_relaxed);
	return 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static const int map[] = {
	    [LIBBPF_WARN] = SATPD_LOG_WARNING,
	    [LIBBPF_INFO] = SATPD_LOG_INFO,
	    [LIBBPF_DEBUG] = SATPD_LOG_DEBUG,
	};
	char msg[1024];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (n && msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	satpd_log(map[level], "libbpf: %s", msg);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return libbpf_print((enum libbpf_print_level)level, fmt, ap);
}

void satpd_log_route_libbpf(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
