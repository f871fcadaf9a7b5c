// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "conns.h"
#include "datapath.h"
#include "log.h"
#include "sync.h"
#include "sync_client.h"

_Static_assert(sizeof(((struct satpd_sync *)0)->clients) / sizeof(struct satp_sync_client *) >=
		   SATPD_SYNC_HOSTS_MAX,
	       "a client per -X/-M entry");

static const char *const sync_counter_names[] = {SATPD_SYNC_COUNTERS(SATPD_COUNTER_NAME)};
const struct satpd_counter_set satpd_sync_counters = {
    sync_counter_names, sizeof(sync_counter_names) / sizeof(sync_counter_names[0])};

/*
 * A record brings static keys and a remote from an unauthenticated stream: it
 * never replaces a connection whose keys come from elsewhere (handshakes, kx
 * sessions), as the control socket refuses change-conn for those. NULL: free.
 */
static const char *keyed_otherwise(const struct satpd_conn *old)
{
	if (!old)
		return NULL;
	if (old->keys_managed) /* the handshake's: the only feature that manages keys */
		return "it is keyed by handshakes (--peer-key): a sync record would replace its "
		       "sessions with static keys";
	if (old->per_session_windows)
		return "it runs kx sessions: a sync record would replace them with static keys";
	return NULL;
}

/* Static keys of record r into cc, or why it is refused. */
static int sync_keys(const struct satpd_config *c, const struct satpd_conn *old,
		     const struct satp_sync_conn *r, struct satpd_conn_config *cc, char *err,
		     size_t errlen)
{
	const char *why = keyed_otherwise(old);

	if (why) {
		snprintf(err, errlen, "%s", why);
		return -EPERM;
	}
	if (satp_sync_conn_keys(r, &c->sync_base.keys.algos, &cc->keys)) {
		snprintf(err, errlen, "its kd-prf is null but -c/-a need keys");
		return -EINVAL;
	}
	return 0;
}

static void apply_conn(struct satpd *d, const struct satp_sync_conn *r)
{
	const struct satpd_config *c = d->cfg;
	struct satpd_conn_config cc = c->sync_base;
	struct satpd_conn *old = satpd_conns_get(d, r->mux);
	char err[256] = "";
	int ret;

	cc.mux = r->mux;
	cc.window = r->window < SATP_WINDOW_BITS ? r->window : SATP_WINDOW_BITS;
	cc.remote.host[0] = '\0';
	if (r->has_remote) {
		snprintf(cc.remote.host, sizeof(cc.remote.host), "%s", r->remote_host);
		cc.remote.port_lo = cc.remote.port_hi = r->remote_port;
	}
	ret = sync_keys(c, old, r, &cc, err, sizeof(err));
	if (!ret && old) {
		if (!r->has_remote)
			cc.remote = old->cfg.remote;
		ret = satpd_conns_replace(d, old, &cc, !r->has_remote, err, sizeof(err));
	} else if (!ret) {
		ret = satpd_conns_add(d, &cc, err, sizeof(err));
	}
	explicit_bzero(&cc.keys, sizeof(cc.keys));
	if (ret) {
		/* the main thread's own counters */
		satpd_count(&d->sock_worker, &satpd_sync_counters, SATPD_CTR_sync_refused);
		log_warn("sync: connection mux %u refused: %s", r->mux, err);
	} else {
		log_notice("sync: connection mux %u %s", r->mux, old ? "updated" : "added");
	}
}

static void on_record(void *arg, const struct satp_sync_record *rec)
{
	struct satpd *d = arg;
	char line[160];
	int ret;

	if (rec->type == SATP_SYNC_CONNECTION) {
		apply_conn(d, &rec->conn);
		return;
	}
	satp_sync_format(rec, line, sizeof(line));
	ret = satpd_conns_set_route(d, rec->route.family, rec->route.prefix, rec->route.prefix_len,
				    rec->route.mux);
	if (ret)
		log_warn("sync: %s refused: %s", line, strerror(-ret));
	else
		log_info("sync: %s", line);
}

static void on_log(void *arg, int level, const char *msg)
{
	satpd_log(level <= LOG_ERR	 ? SATPD_LOG_ERROR
		  : level == LOG_WARNING ? SATPD_LOG_WARNING
		  : level == LOG_NOTICE	 ? SATPD_LOG_NOTICE
					 : SATPD_LOG_INFO,
		  "sync: %s", msg);
}

static void serve(void *ctx, int fd, short revents)
{
	int ret = satp_sync_client_dispatch(ctx);

	if (ret)
		LOG_RATELIMITED(SATPD_LOG_ERROR, "sync %s: %s", satp_sync_client_name(ctx),
				strerror(-ret));
}

int satpd_sync_open(struct satpd *d, struct satpd_sync *s)
{
	const struct satpd_config *c = d->cfg;
	struct satp_sync_client_ops ops = {.record = on_record, .log = on_log, .arg = d};
	char host[SATPD_HOST_MAX], port[16], err[256];
	unsigned int i;
	int ret;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < c->n_sync_hosts; i++) {
		ret = satp_sync_split_hostport(c->sync_hosts[i], false, host, sizeof(host), port,
					       sizeof(port), err, sizeof(err));
		if (!ret)
			ret = satp_sync_client_new(&s->clients[s->n], host, port, &ops, err,
						   sizeof(err));
		if (ret) {
			log_err("sync host '%s': %s", c->sync_hosts[i], err);
			return ret;
		}
		ret = satpd_add_poll_hook(d, satp_sync_client_fd(s->clients[s->n]), POLLIN, serve,
					  s->clients[s->n]);
		s->n++;
		if (ret) {
			log_err("no room for sync host '%s' in the main loop", c->sync_hosts[i]);
			return ret;
		}
		log_notice("sync: receiving connections and routes from %s (unauthenticated, "
			   "keys in cleartext: a trusted network only)",
			   c->sync_hosts[i]);
	}
	return 0;
}

void satpd_sync_close(struct satpd_sync *s)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		satp_sync_client_free(s->clients[i]);
	s->n = 0;
}
