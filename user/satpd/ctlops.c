// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket's changes (ctl.h callbacks, conns.h): add, change and
 * delete a connection, new keys with a grace period, reset a sender's window,
 * add and delete routes.
 * They run on the main thread between polls; workers see them through the
 * connection table's pointer swaps (conns.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compose.h"
#include "conns.h"
#include "ctl_proto.h"
#include "hostport.h"
#include "kx.h"
#include "log.h"

/* HOST:PORT or [V6]:PORT (hostport.h; remote= checked that much), or HOST (the default port). */
static int split_remote(const char *s, struct satpd_endpoint *e, char *err, size_t errlen)
{
	uint16_t port = SATP_DEFAULT_PORT;

	if (satp_hostport_parse(s, SATP_HOSTPORT_PORT_OPTIONAL, e->host, sizeof(e->host), &port,
				NULL, 0)) {
		snprintf(err, errlen, "invalid remote '%s' (expected HOST:PORT or [V6]:PORT)", s);
		return -EINVAL;
	}
	e->port_lo = e->port_hi = port;
	return 0;
}

/* Key, salt or passphrase of m into k (its algos set); 0 or -EINVAL with a message. */
static int apply_keys(const struct satp_ctl_msg *m, struct satp_keys *k, bool need, char *err,
		      size_t errlen)
{
	size_t want = k->algos.kd_bits / 8;

	if (m->present & SATP_CTL_F_PASSPHRASE) {
		if (want && satp_passphrase_key(m->passphrase, k->master_key, want))
			goto derive;
		k->master_key_len = want;
		if (!(m->present & SATP_CTL_F_SALT) &&
		    satp_passphrase_salt(m->passphrase, k->master_salt))
			goto derive;
	}
	if (m->present & SATP_CTL_F_KEY) {
		memcpy(k->master_key, m->key, m->key_len);
		k->master_key_len = m->key_len;
		if (need && want && !(m->present & SATP_CTL_F_SALT)) {
			snprintf(err, errlen, "key= needs salt= (or give passphrase=)");
			return -EINVAL;
		}
	}
	if (m->present & SATP_CTL_F_SALT)
		memcpy(k->master_salt, m->salt, sizeof(k->master_salt));
	if (need && want && !(m->present & (SATP_CTL_F_KEY | SATP_CTL_F_PASSPHRASE))) {
		snprintf(err, errlen, "no key: give key= and salt=, or passphrase=");
		return -EINVAL;
	}
	if (!want) {
		k->master_key_len = 0;
		return 0;
	}
	if (k->master_key_len != want) {
		snprintf(err, errlen, "key is %zu bytes but kd-prf %s needs %zu", k->master_key_len,
			 satp_algo_name(k->algos.kd_bits), want);
		return -EINVAL;
	}
	return 0;
derive:
	snprintf(err, errlen, "cannot derive keys from the passphrase");
	return -EINVAL;
}

/* The add-conn/change-conn fields of m over cc. */
static int apply_fields(const struct satp_ctl_msg *m, struct satpd_conn_config *cc, bool add,
			char *err, size_t errlen)
{
	int ret;

	if (m->present & SATP_CTL_F_SENDER)
		cc->sender_id = m->sender;
	if (m->present & SATP_CTL_F_WINDOW)
		cc->window = m->window;
	if (m->present & SATP_CTL_F_ROLE)
		cc->keys.role = m->role;
	if (m->present & SATP_CTL_F_CIPHER)
		cc->keys.algos.cipher_bits = m->cipher_bits;
	if (m->present & SATP_CTL_F_AUTH)
		cc->keys.algos.auth = m->auth;
	if (m->present & SATP_CTL_F_KD_PRF)
		cc->keys.algos.kd_bits = m->kd_bits;
	if (m->present & SATP_CTL_F_TAG_LEN)
		cc->keys.algos.tag_len = m->tag_len;
	if (m->present & SATP_CTL_F_REMOTE) {
		ret = split_remote(m->remote, &cc->remote, err, errlen);
		if (ret)
			return ret;
	}
	satp_algos_fixup(&cc->keys.algos);
	return apply_keys(m, &cc->keys, add, err, errlen);
}

/* The control ops' ctx (control.c): the composition, over the core. */
static struct satpd *daemon_of(void *ctx)
{
	return ((struct satpd_features *)ctx)->d;
}

/* m's routes to m->mux; the ones added before a refusal are taken back. */
static int add_routes(struct satpd *d, const struct satp_ctl_msg *m, char *err, size_t errlen)
{
	bool added[SATP_CTL_ROUTES_MAX] = {false};
	char ignored[128];
	unsigned int i, k;
	int ret = 0;

	for (i = 0; !ret && i < m->n_routes && i < SATP_CTL_ROUTES_MAX; i++) {
		const struct satp_ctl_route *r = &m->routes[i];

		/* One already there for this mux was not ours to add: leave it when undoing. */
		if (satpd_conns_route_of(d, r->family, r->addr, r->len) == m->mux)
			continue;
		ret = satpd_conns_add_route(d, r->family, r->addr, r->len, m->mux, err, errlen);
		added[i] = !ret;
	}
	for (k = 0; ret && k < i; k++)
		if (added[k])
			satpd_conns_del_route(d, m->routes[k].family, m->routes[k].addr,
					      m->routes[k].len, m->mux, ignored, sizeof(ignored));
	return ret;
}

int satpd_ctl_add_route(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen)
{
	return add_routes(daemon_of(ctx), m, err, errlen);
}

/* Every route is checked before any is deleted: a request is done whole or not at all. */
int satpd_ctl_del_route(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen)
{
	struct satpd *d = daemon_of(ctx);
	int mux = m->present & SATP_CTL_F_MUX ? m->mux : -1, ret = 0, have;
	char a[SATPD_PREFIX_STRLEN];
	unsigned int i;

	for (i = 0; i < m->n_routes; i++) {
		const struct satp_ctl_route *r = &m->routes[i];

		have = satpd_conns_route_of(d, r->family, r->addr, r->len);
		if (have >= 0 && (mux < 0 || have == mux))
			continue;
		satpd_prefix_str(r->family, r->addr, r->len, a, sizeof(a));
		if (have < 0)
			snprintf(err, errlen, "no route %s", a);
		else
			snprintf(err, errlen, "route %s goes to mux %d, not mux %d", a, have, mux);
		return -ENOENT;
	}
	for (i = 0; !ret && i < m->n_routes; i++)
		ret = satpd_conns_del_route(d, m->routes[i].family, m->routes[i].addr,
					    m->routes[i].len, mux, err, errlen);
	return ret;
}

int satpd_ctl_add_conn(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen)
{
	struct satpd *d = daemon_of(ctx);
	struct satpd_conn_config cc;
	int ret;

	memset(&cc, 0, sizeof(cc));
	cc.mux = m->mux;
	cc.remote.port_lo = cc.remote.port_hi = SATP_DEFAULT_PORT;
	satp_algos_default(&cc.keys.algos);
	cc.keys.role = SATP_ROLE_LEFT;
	ret = apply_fields(m, &cc, true, err, errlen);
	if (!ret)
		ret = satpd_conns_add(d, &cc, err, errlen);
	explicit_bzero(&cc.keys, sizeof(cc.keys));
	if (!ret && m->n_routes) {
		ret = add_routes(d, m, err, errlen);
		if (ret)
			satpd_conns_del(d, m->mux); /* all or nothing: with its routes */
	}
	if (!ret)
		log_notice("control: mux %u added", m->mux);
	return ret;
}

/*
 * The handshake keys a --peer-key connection (keys_managed: the only feature
 * that manages keys): keys, sessions and changes are its own.
 */
static int refuse_handshake(const struct satpd_conn *c, char *err, size_t errlen)
{
	if (!c->keys_managed)
		return 0;
	snprintf(
	    err, errlen,
	    "mux %u is keyed by handshakes (--peer-key): its sessions bring the keys; change it "
	    "in the configuration",
	    c->mux);
	return -EOPNOTSUPP;
}

/* A new object for a changed connection: same seq state, same remote unless given. */
int satpd_ctl_change_conn(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen)
{
	struct satpd *d = daemon_of(ctx);
	struct satpd_conn *old = satpd_conns_get(d, m->mux);
	struct satpd_conn_config cc;
	int ret;

	if (!old) {
		snprintf(err, errlen, "no connection with mux %u", m->mux);
		return -ENOENT;
	}
	/* First: a handshake's connection has sessions too, but del-conn and add-conn cannot make one */
	ret = refuse_handshake(old, err, errlen);
	if (ret)
		return ret;
	if (old->per_session_windows) {
		/* a new connection object would start over from its static keys */
		snprintf(err, errlen,
			 "mux %u runs kx sessions: change-conn would drop them (del-conn and "
			 "add-conn it instead)",
			 m->mux);
		return -EBUSY;
	}
	cc = old->cfg;
	cc.keys = atomic_load(&old->keys)->keys;
	ret = apply_fields(m, &cc, false, err, errlen);
	if (!ret)
		ret = satpd_conns_replace(d, old, &cc, !(m->present & SATP_CTL_F_REMOTE), err,
					  errlen);
	explicit_bzero(&cc.keys, sizeof(cc.keys));
	if (!ret)
		log_notice("control: mux %u changed", m->mux);
	return ret;
}

int satpd_ctl_del_conn(void *ctx, uint16_t mux, char *err, size_t errlen)
{
	int ret = satpd_conns_del(daemon_of(ctx), mux);

	if (ret)
		snprintf(err, errlen, "no connection with mux %u", mux);
	else
		log_notice("control: mux %u deleted", mux);
	return ret;
}

int satpd_ctl_set_keys(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen)
{
	struct satpd *d = daemon_of(ctx);
	struct satpd_conn *c = satpd_conns_get(d, m->mux);
	struct satp_keys k;
	int ret;

	if (!c) {
		snprintf(err, errlen, "no connection with mux %u", m->mux);
		return -ENOENT;
	}
	ret = refuse_handshake(c, err, errlen);
	if (ret)
		return ret;
	k = atomic_load(&c->keys)->keys;
	ret = apply_keys(m, &k, true, err, errlen);
	if (!ret)
		ret = satpd_conns_set_keys(
		    d, c, &k, m->present & SATP_CTL_F_GRACE ? m->grace : SATP_CTL_GRACE_DEFAULT,
		    err, errlen);
	explicit_bzero(&k, sizeof(k));
	if (ret && !err[0])
		snprintf(err, errlen, "cannot install the keys: %s", strerror(-ret));
	return ret;
}

/* A session's two directions over the connection's algos and role; -EINVAL with a reason. */
static int session_keys(const struct satpd_conn *c, const struct satp_ctl_msg *m,
			struct satp_keys *tx, struct satp_keys *rx, char *err, size_t errlen)
{
	const struct satp_keys *cur = &c->cfg.keys;
	size_t want = cur->algos.kd_bits / 8;

	if (!want) {
		snprintf(err, errlen,
			 "mux %u has kd-prf null: no master key a session could replace", c->mux);
		return -EINVAL;
	}
	if (m->key_len != want || m->rx_key_len != want) {
		snprintf(err, errlen,
			 "tx-key is %zu bytes and rx-key %zu, but kd-prf %s of mux %u needs %zu",
			 m->key_len, m->rx_key_len, satp_algo_name(cur->algos.kd_bits), c->mux,
			 want);
		return -EINVAL;
	}
	memset(tx, 0, sizeof(*tx));
	tx->algos = cur->algos;
	tx->role = cur->role;
	*rx = *tx;
	tx->master_key_len = rx->master_key_len = want;
	memcpy(tx->master_key, m->key, want);
	memcpy(tx->master_salt, m->salt, SATP_SALT_LEN);
	memcpy(rx->master_key, m->rx_key, want);
	memcpy(rx->master_salt, m->rx_salt, SATP_SALT_LEN);
	return 0;
}

int satpd_ctl_set_session(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen)
{
	struct satpd *d = daemon_of(ctx);
	struct satpd_conn *c = satpd_conns_get(d, m->mux);
	struct satp_keys tx, rx;
	int ret;

	if (!c) {
		snprintf(err, errlen, "no connection with mux %u", m->mux);
		return -ENOENT;
	}
	ret = refuse_handshake(c, err, errlen);
	if (!ret)
		ret = session_keys(c, m, &tx, &rx, err, errlen);
	if (!ret) {
		ret = satpd_conns_set_session(
		    d, c, &tx, &rx, m->session,
		    m->present & SATP_CTL_F_GRACE ? m->grace : SATP_CTL_GRACE_DEFAULT, err, errlen);
		if (ret == -EKEYREJECTED) /* a reused key: the main thread's own counters */
			satpd_count(&d->sock_worker, &satpd_kx_counters,
				    SATPD_CTR_kx_session_reused);
	}
	explicit_bzero(&tx, sizeof(tx));
	explicit_bzero(&rx, sizeof(rx));
	if (ret && !err[0])
		snprintf(err, errlen, "cannot install the session: %s", strerror(-ret));
	return ret;
}

int satpd_ctl_del_session(void *ctx, uint16_t mux, char *err, size_t errlen)
{
	struct satpd *d = daemon_of(ctx);
	struct satpd_conn *c = satpd_conns_get(d, mux);
	int ret;

	if (!c) {
		snprintf(err, errlen, "no connection with mux %u", mux);
		return -ENOENT;
	}
	ret = refuse_handshake(c, err, errlen);
	if (ret)
		return ret;
	ret = satpd_conns_del_session(d, c);
	if (ret)
		snprintf(err, errlen, "cannot remove the session of mux %u: %s", mux,
			 strerror(-ret));
	return ret;
}

int satpd_ctl_reset_window(void *ctx, uint16_t mux, uint16_t sender, char *err, size_t errlen)
{
	struct satpd *d = daemon_of(ctx);
	struct satpd_conn *c = satpd_conns_get(d, mux);
	int ret;

	if (!c) {
		snprintf(err, errlen, "no connection with mux %u", mux);
		return -ENOENT;
	}
	ret = satpd_windows_reset(&d->windows, mux, sender, c->cfg.window);
	if (ret) {
		snprintf(err, errlen, "mux %u has no window for sender %u", mux, sender);
		return ret;
	}
	log_notice("control: mux %u sender %u: replay window reset", mux, sender);
	return 0;
}
