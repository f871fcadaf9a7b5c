// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "clock.h"
#include "conns.h"
#include "log.h"
#include "satp_hs_wire.h" /* the mux the wire reserves for handshakes */

/*
 * A deleted connection's window slots are freed with it, and no sooner than
 * this after the delete: XDP runs that found the mux in satp_conns before it
 * was removed may still read the slots (one program run, microseconds).
 */
#define SATPD_WINDOW_RELEASE_MS 1000

/* What the main thread unpublished and frees once no worker can hold it. */
struct satpd_retired {
	struct satpd_retired *next;
	uint64_t epoch;
	int64_t when_ms;	 /* retired at, CLOCK_MONOTONIC */
	struct satpd_conn *conn; /* one of the two */
	struct satpd_keyset *keys;
	void *mem;		  /* anything else malloc'ed (flood lists) */
	struct satpd_lpm *routes; /* a replaced route table */
};

/*
 * A retired connection whose mux is gone (deleted, not replaced or re-added)
 * and whose windows nobody keeps (parked for its keys: satpd_conns_del):
 * its senders' window slots go back to the store (window_store.h), XDP's binding
 * and counters with them. Only when nothing can use them: see the callers.
 */
static void release_windows(struct satpd *d, const struct satpd_conn *c)
{
	unsigned int n;

	if (!c || satpd_conns_get(d, c->mux) || satpd_windows_parked(d->conns->keymem, c->mux))
		return;
	n = satpd_windows_release_mux(&d->windows, c->mux);
	if (n)
		log_info("mux %u: %u replay window slot%s freed", c->mux, n, n == 1 ? "" : "s");
}

/* ---------------------------------------------------------------- epochs */

void satpd_worker_enter(struct satpd_worker *w)
{
	atomic_store(&w->epoch, atomic_load(&w->d->conns->epoch));
	/* Our epoch is visible before any connection pointer is loaded. */
	atomic_thread_fence(memory_order_seq_cst);
}

void satpd_worker_leave(struct satpd_worker *w)
{
	/* A pointer cached by address could name a new object at the same address later. */
	w->remote_conn = NULL;
	atomic_store_explicit(&w->epoch, 0, memory_order_release);
}

static void keyset_free(struct satpd_keyset *k)
{
	unsigned int i;

	if (!k)
		return;
	for (i = 0; i < SATPD_CRYPTO_SLOTS; i++)
		satp_crypto_free(&k->crypto[i]);
	if (k->rx_win) {
		satpd_windows_free(k->rx_win);
		free(k->rx_win);
	}
	explicit_bzero(&k->keys, sizeof(k->keys));
	free(k);
}

/* ---------------------------------------------------------------- observers */

int satpd_conns_add_hooks(struct satpd *d, const struct satpd_conn_hooks *h)
{
	struct satpd_conns *t = d->conns;

	if (t->n_hooks == SATPD_CONN_HOOKS_MAX)
		return -ENOSPC;
	t->hooks[t->n_hooks++] = *h;
	return 0;
}

/* Calls member m of every table that has it; the int form returns the first error. */
#define HOOKS_EACH(t, m, ...)                                                                      \
	do {                                                                                       \
		unsigned int hi_;                                                                  \
		for (hi_ = 0; hi_ < (t)->n_hooks; hi_++)                                           \
			if ((t)->hooks[hi_].m)                                                     \
				(t)->hooks[hi_].m((t)->hooks[hi_].ctx, __VA_ARGS__);               \
	} while (0)
#define HOOKS_FIRST_ERR(ret, t, m, ...)                                                            \
	do {                                                                                       \
		unsigned int hi_;                                                                  \
		(ret) = 0;                                                                         \
		for (hi_ = 0; !(ret) && hi_ < (t)->n_hooks; hi_++)                                 \
			if ((t)->hooks[hi_].m)                                                     \
				(ret) = (t)->hooks[hi_].m((t)->hooks[hi_].ctx, __VA_ARGS__);       \
	} while (0)

static int conn_set_hooks(struct satpd *d, const struct satpd_conn *c)
{
	int ret;

	HOOKS_FIRST_ERR(ret, d->conns, on_conn_set, c);
	return ret;
}

static int route_set_hooks(struct satpd *d, int family, const uint8_t *addr, unsigned int len,
			   uint16_t mux)
{
	int ret;

	HOOKS_FIRST_ERR(ret, d->conns, on_route_set, family, addr, len, mux);
	return ret;
}

static void conn_free(struct satpd *d, struct satpd_conn *c)
{
	if (!c)
		return;
	if (c->owns_seq && c->seq) {
		satpd_seq_close(c->seq);
		free(c->seq);
	}
	keyset_free(atomic_load(&c->keys));
	keyset_free(atomic_load(&c->pending));
	keyset_free(atomic_load(&c->old));
	/* keys_managed: the three above were the feature's; its state goes now. */
	HOOKS_EACH(d->conns, on_conn_free, c);
	pthread_mutex_destroy(&c->remote.lock);
	free(c);
}

/* Unpublished before this call; freed when every worker passed a quiescent point. */
static void lpm_free(struct satpd_lpm *l)
{
	if (!l)
		return;
	satpd_lpm_free(l);
	free(l);
}

static void retire_routes(struct satpd *d, struct satpd_lpm *l);

static void retire(struct satpd *d, struct satpd_conn *c, struct satpd_keyset *k, void *mem)
{
	struct satpd_conns *t = d->conns;
	struct satpd_retired *r;

	if (!c && !k && !mem)
		return;
	d->sock_worker.remote_conn = NULL; /* it caches by address */
	if (!d->n_workers) {
		/* Socket path: the main thread is the only reader, and it is here; no XDP. */
		release_windows(d, c);
		conn_free(d, c);
		keyset_free(k);
		free(mem);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		/* Leaking is safe, freeing early is not. */
		log_err("out of memory retiring a connection: leaked");
		return;
	}
	r->conn = c;
	r->keys = k;
	r->mem = mem;
	r->when_ms = satpd_mono_ms();
	r->epoch = atomic_fetch_add(&t->epoch, 1);
	r->next = t->retired;
	t->retired = r;
}

static uint64_t oldest_active_epoch(struct satpd *d)
{
	uint64_t min = UINT64_MAX, e;
	unsigned int i;

	atomic_thread_fence(memory_order_seq_cst);
	for (i = 0; i < d->n_workers; i++) {
		e = atomic_load(&d->workers[i].epoch);
		if (e && e < min)
			min = e;
	}
	return min;
}

static void reclaim(struct satpd *d, bool all)
{
	struct satpd_retired **pp = &d->conns->retired, *r;
	uint64_t min = all ? UINT64_MAX : oldest_active_epoch(d);
	int64_t now_ms = satpd_mono_ms();

	while ((r = *pp)) {
		/* A worker that entered at epoch <= r->epoch may still hold it. */
		if (r->epoch >= min ||
		    (!all && r->conn && now_ms - r->when_ms < SATPD_WINDOW_RELEASE_MS)) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		/* At exit XDP is gone already, and the windows are kept for the next run. */
		if (!all)
			release_windows(d, r->conn);
		conn_free(d, r->conn);
		keyset_free(r->keys);
		free(r->mem);
		lpm_free(r->routes);
		free(r);
	}
}

static void conn_tick(struct satpd *d, struct satpd_conn *c, int64_t now);

/* ---------------------------------------------------------------- table */

static void retire_routes(struct satpd *d, struct satpd_lpm *l)
{
	struct satpd_retired *r;

	if (!d->n_workers) {
		lpm_free(l);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return; /* leaked rather than freed early */
	r->routes = l;
	r->epoch = atomic_fetch_add(&d->conns->epoch, 1);
	r->next = d->conns->retired;
	d->conns->retired = r;
}

int satpd_conns_init(struct satpd *d, const char *state_dir)
{
	struct satpd_conns *t = calloc(1, sizeof(*t));
	struct satpd_lpm *l = calloc(1, sizeof(*l));
	struct satpd_keymem *m = malloc(sizeof(*m));
	int ret = -ENOMEM;

	if (!t || !l || !m)
		goto err;
	t->state_dirfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->state_dirfd < 0) {
		ret = -errno;
		log_err("state directory '%s': %s", state_dir, strerror(errno));
		goto err;
	}
	ret = satpd_keymem_open(m, state_dir);
	if (ret)
		goto err_dir;
	t->keymem = m;
	atomic_store(&t->routes, l);
	atomic_store(&t->epoch, 1);
	snprintf(t->state_dir, sizeof(t->state_dir), "%s", state_dir);
	d->conns = t;
	return 0;

err_dir:
	close(t->state_dirfd);
err:
	free(t);
	free(l);
	free(m);
	return ret;
}

void satpd_conns_free(struct satpd *d)
{
	struct satpd_conns *t = d->conns;
	unsigned int m;

	if (!t)
		return;
	reclaim(d, true);
	for (m = 0; m <= UINT16_MAX; m++)
		conn_free(d, atomic_load(&t->by_mux[m]));
	free(atomic_load(&t->muxes));
	lpm_free(atomic_load(&t->routes));
	satpd_keymem_close(t->keymem);
	explicit_bzero(t->keymem, sizeof(*t->keymem));
	free(t->keymem);
	close(t->state_dirfd);
	free(t);
	d->conns = NULL;
}

struct satpd_conn *satpd_conns_get(struct satpd *d, uint16_t mux)
{
	return atomic_load_explicit(&d->conns->by_mux[mux], memory_order_acquire);
}

struct satpd_conn *satpd_conns_next(struct satpd *d, unsigned int *mux)
{
	struct satpd_conn *c;

	for (; *mux <= UINT16_MAX; (*mux)++) {
		c = atomic_load(&d->conns->by_mux[*mux]);
		if (c) {
			(*mux)++;
			return c;
		}
	}
	return NULL;
}

/* After every change of the set: the flood list, the only connection, the adopter. */
static void update_views(struct satpd *d)
{
	struct satpd_conns *t = d->conns;
	struct satpd_muxlist *l, *prev;
	struct satpd_conn *c, *only = NULL;
	unsigned int m = 0;

	l = malloc(sizeof(*l) + t->n * sizeof(l->mux[0]));
	if (l) {
		l->n = 0;
		while ((c = satpd_conns_next(d, &m)) && l->n < t->n)
			l->mux[l->n++] = c->mux;
	}
	atomic_store_explicit(&t->n_pub, t->n, memory_order_relaxed);
	if (t->n == 1) {
		m = 0;
		only = satpd_conns_next(d, &m);
	}
	/* Routes decide, except for an only connection that has every route. */
	atomic_store(&t->sole, atomic_load(&t->routes)->n_routes && !t->auto_default &&
				       d->dev_type != SATPD_DEV_TAP
				   ? NULL
				   : only);
	atomic_store(&t->adopt, only && !only->mux_fixed ? only : NULL);
	if (l) {
		prev = atomic_exchange(&t->muxes, l);
		retire(d, NULL, NULL, prev);
	}
}

static struct satpd_keyset *keyset_new(struct satpd *d, const struct satp_keys *keys, uint16_t mux)
{
	struct satpd_keyset *k = calloc(1, sizeof(*k));
	unsigned int i;
	int ret = 0;

	if (!k)
		return NULL;
	k->keys = *keys;
	satpd_key_fp(d->conns->keymem, keys, &k->fp);
	for (i = 0; !ret && i < d->n_crypto_workers; i++)
		ret = satp_crypto_init(&k->crypto[i], keys);
	if (!ret)
		ret = satp_crypto_init(&k->crypto[SATPD_MAIN_WORKER], keys);
	if (ret) {
		log_err("mux %u: cannot set up the ciphers: %s", mux, strerror(-ret));
		keyset_free(k);
		return NULL;
	}
	return k;
}

/*
 * A session (docs/kx.md): tx and rx keys of their own, seqs from 0, its own
 * replay windows of window size (none with 0). rx NULL: the removed state,
 * with random keys nothing verifies under and a flag that stops sending.
 */
static struct satpd_keyset *keyset_new_session(struct satpd *d, const struct satp_keys *tx,
					       const struct satp_keys *rx, uint64_t id,
					       uint32_t window, uint16_t mux)
{
	struct satpd_keyset *k = calloc(1, sizeof(*k));
	struct satp_keys none;
	unsigned int i;
	int ret = 0;

	if (!k)
		return NULL;
	k->session = true;
	k->session_id = id;
	k->seq_last = SATPD_SEQ_LAST;
	if (!rx) {
		none = *tx;
		if (RAND_bytes(none.master_key, sizeof(none.master_key)) != 1 ||
		    RAND_bytes(none.master_salt, sizeof(none.master_salt)) != 1)
			ret = -EIO;
		tx = rx = &none;
		k->none = true;
	}
	k->keys = *tx;
	satpd_key_fp(d->conns->keymem, tx, &k->fp);
	satpd_key_fp(d->conns->keymem, rx, &k->fp_rx);
	for (i = 0; !ret && i < d->n_crypto_workers; i++)
		ret = satp_crypto_init_split(&k->crypto[i], tx, rx);
	if (!ret)
		ret = satp_crypto_init_split(&k->crypto[SATPD_MAIN_WORKER], tx, rx);
	if (!ret && window && !k->none) {
		k->rx_win = calloc(1, sizeof(*k->rx_win));
		ret = k->rx_win ? satpd_windows_init(k->rx_win, SATPD_SESSION_WINDOW_BITS, window,
						     NULL, NULL, NULL)
				: -ENOMEM;
		if (ret) {
			free(k->rx_win);
			k->rx_win = NULL;
		}
	}
	explicit_bzero(&none, sizeof(none));
	if (ret) {
		log_err("mux %u: cannot set up the session's ciphers: %s", mux, strerror(-ret));
		keyset_free(k);
		return NULL;
	}
	return k;
}

struct satpd_keyset *satpd_keyset_new_session(struct satpd *d, const struct satp_keys *tx,
					      const struct satp_keys *rx, uint64_t id,
					      uint32_t window, uint16_t mux)
{
	return keyset_new_session(d, tx, rx, id, window, mux);
}

void satpd_conns_retire_keyset(struct satpd *d, struct satpd_keyset *k)
{
	retire(d, NULL, k, NULL);
}

static struct satpd_conn *conn_new(struct satpd *d, const struct satpd_conn_config *cfg,
				   struct satpd_seq *seq, char *err, size_t errlen)
{
	struct satpd_conn *c = calloc(1, sizeof(*c));
	struct satpd_keyset *k;
	int ret;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->cfg = *cfg;
	explicit_bzero(&c->cfg.keys.master_key, sizeof(c->cfg.keys.master_key));
	explicit_bzero(&c->cfg.keys.master_salt, sizeof(c->cfg.keys.master_salt));
	c->mux = cfg->mux;
	/* With -r the mux is ours; without, anytun adopts the first peer's (XDP: pass-adopt). */
	c->mux_fixed = cfg->remote.host[0] != '\0';
	c->remote.sock = -1;
	c->l2_last_ret = 1;
	pthread_mutex_init(&c->remote.lock, NULL);
	if (cfg->handshake) {
		/* No keys until a handshake brings a session; sessions restart seqs (no XDP pre-filter). */
		c->per_session_windows = true;
		HOOKS_FIRST_ERR(ret, d->conns, on_conn_new, c, err, errlen);
		if (ret)
			goto err;
	} else {
		k = keyset_new(d, &cfg->keys, cfg->mux);
		if (!k) {
			snprintf(err, errlen, "mux %u: cannot set up the ciphers", cfg->mux);
			goto err;
		}
		atomic_store(&c->keys, k);
	}
	if (seq) {
		c->seq = seq;
		return c;
	}
	c->seq = calloc(1, sizeof(*c->seq));
	if (!c->seq) {
		snprintf(err, errlen, "out of memory");
		goto err;
	}
	ret = satpd_seq_open_at(c->seq, d->conns->state_dirfd, d->conns->state_dir, cfg->mux);
	if (ret) {
		free(c->seq);
		c->seq = NULL;
		snprintf(err, errlen, "mux %u: sequence state in %s: %s", cfg->mux,
			 d->conns->state_dir, strerror(-ret));
		goto err;
	}
	c->owns_seq = true;
	return c;
err:
	conn_free(d, c);
	return NULL;
}

void satpd_conn_read_remote(struct satpd_conn *conn, struct satpd_remote_view *v)
{
	uint32_t gen;

	do {
		gen = satpd_seqlock_read_begin(&conn->remote.seq);
		v->addr = conn->remote.addr;
		v->sock = conn->remote.sock;
		v->known = conn->remote.known;
	} while (satpd_seqlock_read_retry(&conn->remote.seq, gen));
	v->gen = gen;
}

void satpd_conn_set_remote(struct satpd *d, struct satpd_conn *conn,
			   const struct satpd_peer_addr *a, int sock)
{
	pthread_mutex_lock(&conn->remote.lock);
	satpd_seqlock_write_begin(&conn->remote.seq);
	conn->remote.addr = *a;
	conn->remote.sock = sock;
	conn->remote.known = true;
	conn->remote.learned = time(NULL);
	satpd_seqlock_write_end(&conn->remote.seq);
	pthread_mutex_unlock(&conn->remote.lock);
	atomic_store(&conn->remote.moved, true);
	atomic_store(&d->remote_moved, true);
}

/* Resolve and set a configured remote; a name that does not resolve is an error. */
static int conn_set_config_remote(struct satpd *d, struct satpd_conn *c, char *err, size_t errlen)
{
	struct satpd_peer_addr a;
	int ret;

	if (!c->cfg.remote.host[0])
		return 0;
	memset(&a, 0, sizeof(a));
	ret = satpd_udp_resolve_remote(&d->udp, d->cfg, &c->cfg.remote, &a);
	if (ret) {
		snprintf(err, errlen, "mux %u: cannot resolve remote '%s': %s", c->mux,
			 c->cfg.remote.host, strerror(-ret));
		return ret;
	}
	satpd_conn_set_remote(d, c, &a, satpd_udp_sock_for(&d->udp, &a.sa));
	c->remote.learned = 0; /* configured, not learned */
	return 0;
}

/* A deleted connection of mux that a worker or XDP may still use (reclaim() frees it). */
static bool retiring(struct satpd *d, uint16_t mux)
{
	struct satpd_retired *r;

	for (r = d->conns->retired; r; r = r->next)
		if (r->conn && r->conn->mux == mux)
			return true;
	return false;
}

/*
 * Static keys on mux (window_store.h, key fingerprints): refused when their windows
 * there are gone; a deleted connection's mux keeps its windows for the same
 * keys and starts empty for others. *was_parked: for a caller that fails later.
 */
static int admit_keys(struct satpd *d, uint16_t mux, const struct satp_keys *keys,
		      struct satpd_key_fp *fp, bool *was_parked, char *err, size_t errlen)
{
	struct satpd_keymem *m = d->conns->keymem;

	satpd_key_fp(m, keys, fp);
	*was_parked = satpd_windows_parked(m, mux);
	return satpd_windows_admit_keys(&d->windows, m, mux, fp, !retiring(d, mux), err, errlen);
}

/* A deleted connection's static keys: its windows stay for a re-add with them. */
static void park_windows(struct satpd *d, struct satpd_conn *c)
{
	struct satpd_keyset *sets[] = {atomic_load(&c->keys), atomic_load(&c->pending),
				       atomic_load(&c->old)};
	struct satpd_key_fp fp[3];
	unsigned int i, n = 0;

	if (c->keys_managed)
		return; /* handshake sessions never commit to the shared windows */
	for (i = 0; i < 3; i++)
		if (sets[i] && !sets[i]->session)
			fp[n++] = sets[i]->fp;
	satpd_windows_park(&d->windows, d->conns->keymem, c->mux, fp, n);
}

static int publish(struct satpd *d, struct satpd_conn *c, struct satpd_conn *replaces)
{
	int ret = conn_set_hooks(d, c);

	if (ret)
		return ret;
	atomic_store_explicit(&d->conns->by_mux[c->mux], c, memory_order_release);
	if (!replaces)
		d->conns->n++;
	update_views(d);
	atomic_store(&d->remote_moved, true);
	atomic_store(&c->remote.moved, true);
	return 0;
}

int satpd_conns_add(struct satpd *d, const struct satpd_conn_config *cfg, char *err, size_t errlen)
{
	struct satpd_key_fp fp;
	bool was_parked = false;
	struct satpd_conn *c;
	char a[64];
	int ret;

	if (cfg->mux == SATP_HS_MUX) {
		snprintf(err, errlen, "mux %u is reserved for handshake messages", cfg->mux);
		return -EINVAL;
	}
	if (satpd_conns_get(d, cfg->mux)) {
		snprintf(err, errlen, "mux %u is in use", cfg->mux);
		return -EEXIST;
	}
	c = conn_new(d, cfg, NULL, err, errlen);
	if (!c)
		return -EINVAL;
	ret =
	    cfg->handshake ? 0 : admit_keys(d, cfg->mux, &cfg->keys, &fp, &was_parked, err, errlen);
	if (ret) {
		conn_free(d, c);
		return ret;
	}
	ret = conn_set_config_remote(d, c, err, errlen);
	if (!ret)
		ret = publish(d, c, NULL);
	if (ret) {
		if (!err[0])
			snprintf(err, errlen, "mux %u: %s", cfg->mux, strerror(-ret));
		if (was_parked)
			satpd_windows_park(&d->windows, d->conns->keymem, cfg->mux, &fp, 1);
		conn_free(d, c);
		return ret;
	}
	log_info("mux %u: sender id %u, role %s, %s/%s (tag %u), window %u, remote %s", c->mux,
		 cfg->sender_id, satp_role_name(cfg->keys.role),
		 satp_algo_name(cfg->keys.algos.cipher_bits), satp_auth_name(cfg->keys.algos.auth),
		 cfg->keys.algos.tag_len, cfg->window,
		 c->remote.known ? satpd_addr_str(&c->remote.addr.sa, a, sizeof(a)) : "(learned)");
	return 0;
}

int satpd_conns_replace(struct satpd *d, struct satpd_conn *old,
			const struct satpd_conn_config *cfg, bool keep_remote, char *err,
			size_t errlen)
{
	struct satpd_remote_view v;
	struct satpd_key_fp fp;
	struct satpd_conn *c;
	bool was_parked;
	int ret = 0;

	if (!cfg->handshake) {
		ret = admit_keys(d, cfg->mux, &cfg->keys, &fp, &was_parked, err, errlen);
		if (ret)
			return ret;
	}
	c = conn_new(d, cfg, old->seq, err, errlen);
	if (!c)
		return -EINVAL;
	c->mux_fixed = old->mux_fixed;
	satpd_conn_read_remote(old, &v);
	if (keep_remote && v.known) {
		satpd_conn_set_remote(d, c, &v.addr, v.sock);
		c->remote.learned = old->remote.learned;
	} else if (!keep_remote) {
		ret = conn_set_config_remote(d, c, err, errlen);
	}
	if (!ret)
		ret = publish(d, c, old);
	if (ret) {
		c->seq = NULL; /* old's */
		conn_free(d, c);
		return ret;
	}
	/* The seq state moves with the mux: never two writers of one file. */
	c->owns_seq = old->owns_seq;
	old->owns_seq = false;
	atomic_store(&c->rx_packets, atomic_load(&old->rx_packets));
	atomic_store(&c->rx_bytes, atomic_load(&old->rx_bytes));
	atomic_store(&c->tx_packets, atomic_load(&old->tx_packets));
	atomic_store(&c->tx_bytes, atomic_load(&old->tx_bytes));
	atomic_store(&c->last_rx, atomic_load(&old->last_rx));
	retire(d, old, NULL, NULL);
	return 0;
}

/*
 * k becomes the pending key set: received with at once, sent with once the
 * peer uses it or after half the grace period; the current keys stay valid
 * for receiving until the end of it.
 */
static void stage_pending(struct satpd *d, struct satpd_conn *c, struct satpd_keyset *k,
			  int64_t now, uint32_t grace)
{
	struct satpd_keyset *prev;

	k->until = now + grace / 2;
	k->end = now + grace;
	atomic_store(&c->pending_seen, false);
	satpd_conn_keys_write_begin(c);
	prev = atomic_exchange(&c->pending, k);
	satpd_conn_keys_write_end(c);
	retire(d, NULL, prev, NULL); /* keys staged earlier and never used: replaced */
}

int satpd_conns_set_keys(struct satpd *d, struct satpd_conn *c, const struct satp_keys *keys,
			 uint32_t grace, char *err, size_t errlen)
{
	struct satpd_key_fp fp;
	int64_t now = satpd_mono_s();
	struct satpd_keyset *k;
	bool was_parked;
	int ret = admit_keys(d, c->mux, keys, &fp, &was_parked, err, errlen);

	if (ret)
		return ret;
	k = keyset_new(d, keys, c->mux);
	if (!k)
		return -ENOMEM;
	stage_pending(d, c, k, now, grace);
	log_notice("mux %u: new keys installed; sending with them once the peer does or in %u s, "
		   "old keys accepted for %u s",
		   c->mux, grace / 2, grace);
	if (!grace)
		conn_tick(d, c, now);
	return 0;
}

/* The first session turns the XDP window pre-filter off for good (docs/kx.md). */
static int sessions_begin(struct satpd *d, struct satpd_conn *c)
{
	int ret;

	if (c->per_session_windows)
		return 0;
	c->per_session_windows = true;
	ret = conn_set_hooks(d, c);
	if (ret) {
		c->per_session_windows = false;
		return ret;
	}
	if (d->rx_prefiltered)
		log_notice("mux %u: sessions: XDP no longer pre-filters replays of this mux "
			   "(each session has its own windows, in satpd)",
			   c->mux);
	return 0;
}

/* Whether fp is a key of the connection's current, pending or old session. */
static bool session_key_live(struct satpd_conn *c, const struct satpd_key_fp *fp)
{
	struct satpd_keyset *sets[] = {atomic_load(&c->keys), atomic_load(&c->pending),
				       atomic_load(&c->old)};
	unsigned int i;

	for (i = 0; i < 3; i++)
		if (sets[i] && sets[i]->session && !sets[i]->none &&
		    (!memcmp(&sets[i]->fp, fp, sizeof(*fp)) ||
		     !memcmp(&sets[i]->fp_rx, fp, sizeof(*fp))))
			return true;
	return false;
}

/*
 * A session's seqs restart at 0: its keys installed again would send the same
 * keystream and accept the first installation's datagrams again (L3).
 */
static int refuse_reused_session(struct satpd *d, struct satpd_conn *c, const struct satp_keys *tx,
				 const struct satp_keys *rx, uint64_t id, char *err, size_t errlen)
{
	struct satpd_keymem *m = d->conns->keymem;
	const struct satp_keys *keys[] = {tx, rx};
	static const char *const dir[] = {"tx", "rx"};
	struct satpd_key_fp fp;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		satpd_key_fp(m, keys[i], &fp);
		if (!session_key_live(c, &fp) && !satpd_keymem_session_seen(m, &fp))
			continue;
		snprintf(err, errlen,
			 "mux %u session %" PRIu64 ": the %s key and salt were installed before; "
			 "a session's sequence numbers restart at 0, so its keys must be new",
			 c->mux, id, dir[i]);
		return -EKEYREJECTED;
	}
	return 0;
}

int satpd_conns_set_session(struct satpd *d, struct satpd_conn *c, const struct satp_keys *tx,
			    const struct satp_keys *rx, uint64_t id, uint32_t grace, char *err,
			    size_t errlen)
{
	struct satpd_keyset *k;
	int64_t now = satpd_mono_s();
	int ret = refuse_reused_session(d, c, tx, rx, id, err, errlen);

	if (!ret)
		ret = sessions_begin(d, c);
	if (ret)
		return ret;
	k = keyset_new_session(d, tx, rx, id, c->cfg.window, c->mux);
	if (!k)
		return -ENOMEM;
	satpd_keymem_session_add(d->conns->keymem, &k->fp);
	satpd_keymem_session_add(d->conns->keymem, &k->fp_rx);
	stage_pending(d, c, k, now, grace);
	log_notice("mux %u: session %" PRIu64 " installed; sending with it once the peer does or "
		   "in %u s, the previous keys accepted for %u s",
		   c->mux, id, grace / 2, grace);
	conn_tick(d, c, now);
	return 0;
}

int satpd_conns_del_session(struct satpd *d, struct satpd_conn *c)
{
	struct satpd_keyset *k, *cur, *p, *o;
	int ret = sessions_begin(d, c);

	if (ret)
		return ret;
	cur = atomic_load(&c->keys);
	k = keyset_new_session(d, &cur->keys, NULL, 0, 0, c->mux);
	if (!k)
		return -ENOMEM;
	satpd_conn_keys_write_begin(c);
	atomic_store(&c->keys, k);
	p = atomic_exchange(&c->pending, NULL);
	o = atomic_exchange(&c->old, NULL);
	satpd_conn_keys_write_end(c);
	retire(d, NULL, p, NULL);
	retire(d, NULL, o, NULL);
	retire(d, NULL, cur, NULL);
	atomic_store(&c->pending_seen, false);
	log_notice("mux %u: session removed: nothing is sent or accepted until the next one",
		   c->mux);
	return 0;
}

int satpd_conns_add_routes(struct satpd *d, const struct satpd_config *c)
{
	struct satpd_conns *t = d->conns;
	struct satpd_lpm *l = atomic_load(&t->routes); /* no worker runs yet */
	unsigned int i;
	char a[INET6_ADDRSTRLEN];
	int ret;

	for (i = 0; i < c->n_routes; i++) {
		const struct satpd_prefix *p = &c->routes[i];
		uint16_t mux = c->conns[c->route_conn[i]].mux;

		ret = satpd_lpm_add(l, p->family, (const uint8_t *)&p->addr, p->len, mux, false);
		if (ret) {
			inet_ntop(p->family, &p->addr, a, sizeof(a));
			log_err("route %s/%u of mux %u: %s", a, p->len, mux,
				ret == -EEXIST ? "given to another connection too"
					       : strerror(-ret));
			return ret;
		}
	}
	if (!c->n_routes && c->n_conns == 1) {
		/*
		 * As anytun: one connection and no -R carries everything. Its default
		 * routes outlive connections added later, which need routes of their own.
		 */
		static const uint8_t any[16];
		uint16_t mux = c->conns[0].mux;

		ret = satpd_lpm_add(l, AF_INET, any, 0, mux, false);
		if (!ret)
			ret = satpd_lpm_add(l, AF_INET6, any, 0, mux, false);
		if (ret)
			return ret;
		t->auto_default = true;
	} else if (c->n_routes) {
		log_notice("%u route%s over %u connection%s", c->n_routes,
			   c->n_routes == 1 ? "" : "s", t->n, t->n == 1 ? "" : "s");
	}
	update_views(d);
	return 0;
}

/* l replaces the published routes; the old table is freed once no worker can read it. */
static void publish_routes(struct satpd *d, struct satpd_lpm *l)
{
	struct satpd_conns *t = d->conns;
	struct satpd_lpm *cur = atomic_load(&t->routes);

	atomic_store_explicit(&t->routes, l, memory_order_release);
	retire_routes(d, cur);
	update_views(d);
}

/* The pinned trie first: a route the operator cannot see is not installed. */
static int route_set(struct satpd *d, int family, const uint8_t *addr, unsigned int len,
		     uint16_t mux)
{
	struct satpd_lpm *l = calloc(1, sizeof(*l));
	int ret;

	if (!l)
		return -ENOMEM;
	ret = satpd_lpm_clone(atomic_load(&d->conns->routes), l);
	if (!ret)
		ret = satpd_lpm_add(l, family, addr, len, mux, true);
	if (!ret)
		ret = route_set_hooks(d, family, addr, len, mux);
	if (ret) {
		lpm_free(l);
		return ret;
	}
	/* Routes given now are what the operator wants: the automatic default steps aside. */
	d->conns->auto_default = false;
	publish_routes(d, l);
	return 0;
}

int satpd_conns_set_route(struct satpd *d, int family, const uint8_t *addr, unsigned int len,
			  uint16_t mux)
{
	return route_set(d, family, addr, len, mux);
}

int satpd_conns_add_route(struct satpd *d, int family, const uint8_t *addr, unsigned int len,
			  uint16_t mux, char *err, size_t errlen)
{
	int have = satpd_lpm_get(atomic_load(&d->conns->routes), family, addr, len), ret;
	char p[INET6_ADDRSTRLEN + 4];

	satpd_prefix_str(family, addr, len, p, sizeof(p));
	if (!satpd_conns_get(d, mux)) {
		snprintf(err, errlen, "route %s: no connection with mux %u", p, mux);
		return -ENOENT;
	}
	if (have == mux)
		return 0;
	if (have >= 0) {
		snprintf(err, errlen, "route %s goes to mux %d: delete it first", p, have);
		return -EEXIST;
	}
	ret = route_set(d, family, addr, len, mux);
	if (ret)
		snprintf(err, errlen, "route %s of mux %u: %s", p, mux, strerror(-ret));
	else
		log_notice("route %s -> mux %u", p, mux);
	return ret;
}

static bool same_prefix(const uint8_t *a, const uint8_t *b, unsigned int len)
{
	unsigned int full = len / 8, rest = len % 8;

	return !memcmp(a, b, full) && (!rest || !((a[full] ^ b[full]) & (uint8_t)(0xff00 >> rest)));
}

int satpd_conns_route_of(struct satpd *d, int family, const uint8_t *addr, unsigned int len)
{
	return satpd_lpm_get(atomic_load(&d->conns->routes), family, addr, len);
}

struct route_drop {
	struct satpd *d;
	int family; /* 0: every route of mux */
	const uint8_t *addr;
	unsigned int len;
	int mux;
};

/* satpd_lpm_filter's callback: the routes r names. No side effects: the filter may fail halfway. */
static int drop_route(void *ctx, int family, const uint8_t *addr, unsigned int len, uint16_t mux)
{
	const struct route_drop *r = ctx;

	return r->family ? family == r->family && len == r->len && same_prefix(r->addr, addr, len)
			 : mux == r->mux;
}

/* satpd_lpm_walk's callback, once the new table is made: the pinned copy follows. */
static int unpin_route(void *ctx, int family, const uint8_t *addr, unsigned int len, uint16_t mux)
{
	const struct route_drop *r = ctx;

	if (drop_route(ctx, family, addr, len, mux))
		HOOKS_EACH(r->d->conns, on_route_del, family, addr, len);
	return 0;
}

static int routes_without(struct satpd *d, const struct route_drop *r)
{
	struct satpd_lpm *l = calloc(1, sizeof(*l)), *cur = atomic_load(&d->conns->routes);
	int ret;

	if (!l)
		return -ENOMEM;
	ret = satpd_lpm_filter(cur, l, drop_route, (void *)r);
	if (ret) {
		free(l);
		return ret;
	}
	satpd_lpm_walk(cur, unpin_route, (void *)r);
	publish_routes(d, l);
	return 0;
}

int satpd_conns_del_route(struct satpd *d, int family, const uint8_t *addr, unsigned int len,
			  int mux, char *err, size_t errlen)
{
	int have = satpd_lpm_get(atomic_load(&d->conns->routes), family, addr, len), ret;
	struct route_drop r = {d, family, addr, len, -1};
	char p[INET6_ADDRSTRLEN + 4];

	satpd_prefix_str(family, addr, len, p, sizeof(p));
	if (have < 0) {
		snprintf(err, errlen, "no route %s", p);
		return -ENOENT;
	}
	if (mux >= 0 && have != mux) {
		snprintf(err, errlen, "route %s goes to mux %d, not mux %d", p, have, mux);
		return -ENOENT;
	}
	ret = routes_without(d, &r);
	if (ret)
		snprintf(err, errlen, "route %s: %s", p, strerror(-ret));
	else
		log_notice("route %s (mux %d) deleted", p, have);
	return ret;
}

int satpd_conns_del(struct satpd *d, uint16_t mux)
{
	struct satpd_conn *c = satpd_conns_get(d, mux);
	int ret;

	if (!c)
		return -ENOENT;
	HOOKS_EACH(d->conns, on_conn_del, mux);
	park_windows(d, c);
	atomic_store_explicit(&d->conns->by_mux[mux], NULL, memory_order_release);
	d->conns->n--;
	/* Its routes go with it: they would drop what matches them, and show a dead mux. */
	ret = routes_without(d, &(struct route_drop){.d = d, .mux = mux});
	if (ret) {
		log_warn("mux %u: its routes stay (they drop what they match): %s", mux,
			 strerror(-ret));
		update_views(d);
	}
	retire(d, c, NULL, NULL);
	return 0;
}

void satpd_conns_adopt(struct satpd *d, struct satpd_conn *conn, uint16_t mux)
{
	struct satpd_conns *t = d->conns;
	struct satpd_conn *has = atomic_load(&t->by_mux[mux]);

	/* Its own mux too: the first packet fixes it, and XDP learns it. */
	if (has && has != conn)
		return; /* another connection has it */
	atomic_store(&t->by_mux[conn->mux], NULL);
	conn->mux = mux;
	conn->cfg.mux = mux;
	conn->mux_fixed = true;
	atomic_store(&t->by_mux[mux], conn);
	update_views(d);
	log_notice("adopted mux %u from the first authenticated packet", mux);
	HOOKS_EACH(t, on_adopt, conn);
}

/* ---------------------------------------------------------------- keys over time */

static void conn_tick(struct satpd *d, struct satpd_conn *c, int64_t now)
{
	struct satpd_keyset *p = atomic_load(&c->pending), *o = atomic_load(&c->old);
	struct satpd_keyset *k = atomic_load(&c->keys);
	bool none = k->none; /* after del-session nothing is lost by switching at once */

	if (p && (atomic_load(&c->pending_seen) || now >= p->until || none)) {
		k->until = p->end;
		satpd_conn_keys_write_begin(c);
		atomic_store(&c->old, none ? NULL : k);
		atomic_store(&c->keys, p);
		atomic_store(&c->pending, NULL);
		satpd_conn_keys_write_end(c);
		atomic_store(&c->pending_seen, false);
		retire(d, NULL, o, NULL);
		if (none)
			retire(d, NULL, k, NULL);
		log_notice("mux %u: sending with the new keys (%s); old keys accepted %" PRId64
			   " s more",
			   c->mux,
			   none		     ? "no keys before"
			   : now >= p->until ? "half the grace period passed"
					     : "peer uses them",
			   p->end > now ? p->end - now : 0);
		return;
	}
	if (o && now >= o->until) {
		satpd_conn_keys_write_begin(c);
		atomic_store(&c->old, NULL);
		satpd_conn_keys_write_end(c);
		retire(d, NULL, o, NULL);
		log_notice("mux %u: grace period over: old keys no longer accepted", c->mux);
	}
}

/*
 * The main loop calls this after every wakeup; under a datagram flood that is
 * thousands of times a second, and a pass over the 65536 slots costs tens of
 * microseconds. Timers here are seconds (key switches, grace periods) or
 * longer (handshake retries), so one pass per half tick is plenty.
 */
#define CONNS_TICK_MIN_NS (SATPD_TICK_MS * 1000000ull / 2)

void satpd_conns_tick(struct satpd *d)
{
	int64_t now = satpd_mono_s();
	uint64_t ns = satpd_mono_ns();
	struct satpd_conn *c;
	unsigned int m = 0;

	if (ns - d->conns->last_tick_ns < CONNS_TICK_MIN_NS)
		return;
	d->conns->last_tick_ns = ns;
	while ((c = satpd_conns_next(d, &m)))
		if (c->keys_managed)
			HOOKS_EACH(d->conns, on_tick, c);
		else if (atomic_load_explicit(&c->pending, memory_order_relaxed) ||
			 atomic_load_explicit(&c->old, memory_order_relaxed))
			conn_tick(d, c, now);
	reclaim(d, false);
	/* The pool ran full: a deleted connection's kept windows make room (window_store.h). */
	if (atomic_exchange_explicit(&d->windows.full, false, memory_order_relaxed))
		satpd_windows_reclaim_parked(&d->windows, d->conns->keymem);
	satpd_keymem_sync(d->conns->keymem);
}

/* ---------------------------------------------------------------- outgoing choice */

static uint64_t mac48(const uint8_t *m)
{
	return (uint64_t)m[0] << 40 | (uint64_t)m[1] << 32 | (uint64_t)m[2] << 24 |
	       (uint64_t)m[3] << 16 | (uint64_t)m[4] << 8 | m[5];
}

static uint32_t mac_home(uint64_t mac)
{
	return (uint32_t)((mac * 0x9E3779B97F4A7C15ull) >> (64 - SATPD_MAC_BITS));
}

/* Whether the binding in slot may go to another connection: held down no longer, or orphaned. */
static bool mac_movable(struct satpd *d, uint32_t slot, uint64_t e, uint32_t now)
{
	uint32_t seen = atomic_load_explicit(&d->conns->mac_seen[slot], memory_order_relaxed);

	return now - seen >= SATPD_MAC_HOLD_S || !satpd_conns_get(d, (uint16_t)(e & 0xffff));
}

static void mac_bind(struct satpd *d, uint32_t slot, uint64_t want, uint32_t now)
{
	atomic_store_explicit(&d->conns->mac[slot], want, memory_order_relaxed);
	atomic_store_explicit(&d->conns->mac_seen[slot], now, memory_order_relaxed);
}

bool satpd_conns_learn_mac(struct satpd *d, const uint8_t *frame, size_t len, uint16_t mux)
{
	_Atomic uint64_t *tab = d->conns->mac;
	uint32_t mask = (1u << SATPD_MAC_BITS) - 1, h, i, slot, free_slot = UINT32_MAX;
	uint32_t now = (uint32_t)satpd_coarse_s(); /* MAC hold-downs: one read per frame */
	uint64_t mac, want, e;

	if (len < 12 || (frame[6] & 1))
		return true; /* a multicast source is not an address to learn */
	mac = mac48(frame + 6);
	want = mac << 16 | mux;
	h = mac_home(mac);
	for (i = 0; i < SATPD_MAC_PROBES; i++) {
		slot = (h + i) & mask;
		e = atomic_load_explicit(&tab[slot], memory_order_relaxed);
		if (e == want) {
			/* the common case: known, same connection; one store a second at most */
			if (atomic_load_explicit(&d->conns->mac_seen[slot], memory_order_relaxed) !=
			    now)
				atomic_store_explicit(&d->conns->mac_seen[slot], now,
						      memory_order_relaxed);
			return true;
		}
		if (e >> 16 == mac) {
			/* Another connection's MAC: taking it would take its traffic too. */
			if (!mac_movable(d, slot, e, now))
				return false;
			mac_bind(d, slot, want, now);
			return true;
		}
		if (!e) {
			free_slot = slot;
			break;
		}
		if (free_slot == UINT32_MAX && mac_movable(d, slot, e, now))
			free_slot = slot; /* the first a full neighbourhood can give up */
	}
	/* Full of MACs still held: this one is not learned (frames to it flood). */
	if (free_slot != UINT32_MAX)
		mac_bind(d, free_slot, want, now);
	return true;
}

static int mac_lookup(struct satpd *d, const uint8_t *dst)
{
	uint32_t mask = (1u << SATPD_MAC_BITS) - 1, h, i;
	uint64_t mac = mac48(dst), e;

	h = mac_home(mac);
	for (i = 0; i < SATPD_MAC_PROBES; i++) {
		e = atomic_load_explicit(&d->conns->mac[(h + i) & mask], memory_order_relaxed);
		if (!e)
			return -1;
		if (e >> 16 == mac)
			return (int)(e & 0xffff);
	}
	return -1;
}

/*
 * The mux the routes give an inner IP packet's destination (the way out) or
 * source (whose connection may deliver it); -1 when none matches or it is no
 * IP packet.
 */
static int inner_route(struct satpd_conns *t, const uint8_t *inner, size_t len, bool src)
{
	const struct satpd_lpm *l = atomic_load_explicit(&t->routes, memory_order_acquire);

	if (len >= 20 && inner[0] >> 4 == 4)
		return satpd_lpm_lookup(l, AF_INET, inner + (src ? 12 : 16));
	if (len >= 40 && inner[0] >> 4 == 6)
		return satpd_lpm_lookup(l, AF_INET6, inner + (src ? 8 : 24));
	return -1;
}

struct satpd_conn *satpd_conns_pick(struct satpd *d, const uint8_t *inner, size_t len, bool *flood)
{
	struct satpd_conns *t = d->conns;
	struct satpd_conn *c = atomic_load_explicit(&t->sole, memory_order_acquire);
	int mux = -1;

	*flood = false;
	if (c)
		return c;
	if (d->dev_type == SATPD_DEV_TAP) {
		if (len >= 6 && !(inner[0] & 1))
			mux = mac_lookup(d, inner);
		c = mux >= 0 ? satpd_conns_get(d, (uint16_t)mux) : NULL;
		*flood = !c;
		return c;
	}
	mux = inner_route(t, inner, len, false);
	return mux >= 0 ? satpd_conns_get(d, (uint16_t)mux) : NULL;
}

bool satpd_conns_src_fits(struct satpd *d, const struct satpd_conn *conn, const uint8_t *inner,
			  size_t len)
{
	struct satpd_conns *t = d->conns;

	if (atomic_load_explicit(&t->sole, memory_order_acquire))
		return true;
	return inner_route(t, inner, len, true) == conn->mux;
}

struct satpd_muxlist *satpd_conns_muxes(struct satpd *d)
{
	return atomic_load_explicit(&d->conns->muxes, memory_order_acquire);
}
