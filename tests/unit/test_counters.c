// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's counter names, as the SIGUSR1 dump and the snapshot (satp show,
 * --json, /metrics) print them, against the names they had at a81f4d6, when
 * every counter the daemon printed was a field of the core's SATPD_COUNTERS or
 * of the edge exchange's SATPD_EDGE_COUNTERS. Since then the features' counters
 * are their own (counters.h), registered at compose time: they print after
 * the core's (printed_order), their names and values are those of a81f4d6,
 * and none may be lost.
 *
 * The daemon is composed as main.c composes it (satpd_compose_counters and
 * satpd_compose_paths) with the edge exchange on, so that its counters are
 * printed too; it has no socket, device, XDP, handshake or RAIL.
 */
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "satp_test_util.h"
#include "compose.h"
#include "conns.h"
#include "ctl_proto.h"
#include "datapath.h"
#include "edge.h"
#include "kx.h"
#include "log.h"
#include "rail.h"
#include "satpd_options.h"

/*
 * Every name the daemon scope of a snapshot had at a81f4d6, sorted. Regenerate:
 * for f in user/satpd/datapath.h user/satpd/edge.h; do git show a81f4d6:$f; done | sed -n 's/^\s*X(\([a-z0-9_]*\)).*$/\t"\1",/p' | sort
 * and "connections" (SATP_CTL_S_CONNECTIONS, the one name that is no X-macro's).
 */
static const char *const names_a81f4d6[] = {
    "connections",
    "edge_drop_bad_magic",
    "edge_drop_bad_tag",
    "edge_drop_malformed",
    "edge_drop_peers_full",
    "edge_drop_replayed",
    "edge_drop_self",
    "edge_drop_short",
    "edge_drop_stale",
    "edge_drop_unknown_peer",
    "edge_rx_merged",
    "edge_rx_msgs",
    "edge_rx_records",
    "edge_rx_skipped",
    "edge_twin_id",
    "edge_tx_errors",
    "edge_tx_msgs",
    "edge_tx_records",
    "kx_rx_dropped",
    "kx_rx_no_client",
    "kx_rx_relayed",
    "kx_rx_too_long",
    "kx_session_reused",
    "kx_tx_refused",
    "kx_tx_sent",
    "remote_changes",
    "rx_bad_ptype",
    "rx_bad_tag",
    "rx_bytes",
    "rx_datagrams",
    "rx_delivered",
    "rx_dev_error",
    "rx_foreign_mac",
    "rx_foreign_src",
    "rx_handshake",
    "rx_handshake_off_main",
    "rx_hs_ceiling",
    "rx_hs_over_budget",
    "rx_hs_shared",
    "rx_keepalive",
    "rx_no_payload",
    "rx_no_xdp_meta", /* new since a81f4d6: frames without satp_rx's metadata (frame.c) */
    "rx_old_keys",
    "rx_reassembled",
    "rx_replay",
    "rx_senders_full",
    "rx_senders_quota",
    "rx_too_old",
    "rx_too_short",
    "rx_truncated",
    "rx_wrong_mux",
    "sync_refused",
    "tx_bad_inner",
    "tx_bytes",
    "tx_edge_twin",
    "tx_flooded",
    "tx_no_keys",
    "tx_no_remote",
    "tx_no_route",
    "tx_packets",
    "tx_send_error",
    "tx_seq_exhausted",
    "tx_udp_fallback",
    "tx_xsk_packets",
};

/*
 * The order in which the dump and the snapshot print the core's and the
 * features' counters, before "connections" and the edge exchange's. At a81f4d6
 * one X-macro held them all, in this order but for what the comments mark: the
 * features' now print after the core's, in their a81f4d6 order as far as whole
 * sets allow (kx_session_reused, of the kx set, came after rx_handshake then).
 * docs/architecture.md, "Counter output", says what users see differently.
 */
static const char *const printed_order[] = {
    "rx_datagrams",
    "rx_bytes",
    "rx_truncated",
    "rx_too_short",
    "rx_wrong_mux",
    "rx_bad_tag",
    "rx_replay",
    "rx_too_old",
    "rx_senders_full",
    "rx_no_payload",
    "rx_bad_ptype",
    "rx_foreign_src",
    "rx_foreign_mac",
    "rx_dev_error",
    "rx_delivered",
    "remote_changes",
    "tx_packets",
    "tx_bytes",
    "tx_no_remote",
    "tx_bad_inner",
    "tx_seq_exhausted",
    "tx_send_error",
    "tx_xsk_packets",
    "tx_udp_fallback",
    "tx_no_route",
    "tx_flooded",
    "rx_old_keys",
    "tx_no_keys",
    /* the core's, which at a81f4d6 came among the features' */
    "rx_handshake_off_main",
    "rx_keepalive",
    "rx_senders_quota",
    "rx_reassembled",
    "rx_no_xdp_meta", /* new since a81f4d6 */
    /* the features': kx, the handshake, sync, the edge's send stop, the handshake budget */
    "kx_rx_relayed",
    "kx_rx_no_client",
    "kx_rx_dropped",
    "kx_rx_too_long",
    "kx_tx_sent",
    "kx_tx_refused",
    "kx_session_reused",
    "rx_handshake",
    "sync_refused",
    "tx_edge_twin",
    "rx_hs_shared",
    "rx_hs_over_budget",
    "rx_hs_ceiling",
};

#define NAMES_MAX SATP_CTL_COUNTERS_MAX

struct names {
	char name[NAMES_MAX][SATP_CTL_NAME_MAX];
	unsigned int n;
};

static struct {
	char dir[32];
	struct satpd_config cfg;
	struct satpd_rail rail;
	struct satpd_edge edge;
	struct satpd_worker workers[2];
	struct satpd d;
	struct satpd_features f; /* over d */
} fx;

static void rm_tree(const char *dir)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	struct satpd *d = &fx.d;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/satp-ctr.XXXXXX");
	assert_non_null(mkdtemp(fx.dir));
	satpd_config_default(&fx.cfg);
	d->cfg = &fx.cfg;
	d->sock_worker.d = d;
	fx.workers[0].d = fx.workers[1].d = d;
	d->workers = fx.workers;
	d->n_workers = 2;
	fx.f.d = d;
	fx.f.rail = &fx.rail;
	fx.rail.d = d;
	fx.f.edge = &fx.edge;
	assert_int_equal(satpd_windows_init(&d->windows, 6, 100, NULL, NULL, NULL), 0);
	assert_int_equal(satpd_conns_init(d, fx.dir), 0);
	assert_int_equal(satpd_compose_counters(d), 0);
	assert_int_equal(satpd_compose_conns(&fx.f), 0);
	assert_int_equal(satpd_compose_paths(&fx.f), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	satpd_conns_free(&fx.d);
	satpd_windows_free(&fx.d.windows);
	rm_tree(fx.dir);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void add_name(struct names *s, const char *name)
{
	assert_true(s->n < NAMES_MAX);
	snprintf(s->name[s->n++], SATP_CTL_NAME_MAX, "%s", name);
}

/* s, sorted, equals names_a81f4d6 but the names leave_out picks. */
static void assert_names(struct names *s, bool (*leave_out)(const char *))
{
	unsigned int i, j = 0;

	qsort(s->name, s->n, sizeof(s->name[0]), by_name);
	for (i = 0; i < ARRAY_SIZE(names_a81f4d6); i++) {
		if (leave_out && leave_out(names_a81f4d6[i]))
			continue;
		if (j == s->n || strcmp(s->name[j], names_a81f4d6[i]))
			fail_msg("missing: %s (or printed instead: %s)", names_a81f4d6[i],
				 j < s->n ? s->name[j] : "nothing");
		j++;
	}
	if (j < s->n)
		fail_msg("printed, not at a81f4d6: %s", s->name[j]);
}

/* The first names of s, as printed (unsorted), are printed_order. */
static void assert_order(const struct names *s)
{
	unsigned int i;

	assert_true(s->n >= ARRAY_SIZE(printed_order));
	for (i = 0; i < ARRAY_SIZE(printed_order); i++)
		if (strcmp(s->name[i], printed_order[i]))
			fail_msg("printed #%u: %s, expected %s", i, s->name[i], printed_order[i]);
}

static struct satp_ctl_snapshot *snapshot(void)
{
	struct satp_ctl_snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	assert_int_equal(satpd_snapshot(&fx.f, s), 0);
	return s;
}

static uint64_t value_of(const struct satp_ctl_snapshot *s, const char *name)
{
	uint32_t i;

	for (i = 0; i < s->n_counters; i++)
		if (!strcmp(s->counters[i].name, name))
			return s->counters[i].value;
	fail_msg("no counter %s", name);
	return 0;
}

static void test_snapshot_names(void **state)
{
	struct satp_ctl_snapshot *s = snapshot();
	struct names *n = calloc(1, sizeof(*n));
	uint32_t i;

	(void)state;
	assert_non_null(n);
	for (i = 0; i < s->n_counters; i++)
		add_name(n, s->counters[i].name);
	assert_order(n);
	assert_string_equal(n->name[ARRAY_SIZE(printed_order)], SATP_CTL_S_CONNECTIONS);
	assert_names(n, NULL);
	free(n);
	free(s);
}

/* The snapshot's names but "connections", which only the snapshot has. */
static bool not_in_dump(const char *name)
{
	return !strcmp(name, SATP_CTL_S_CONNECTIONS);
}

/* A counter line of the dump ends in "  NAME VALUE" (log.c puts the stamp and level first). */
static bool counter_line(char *line, char **name)
{
	char *value = strrchr(line, ' '), *end;

	if (!value || value == line)
		return false;
	strtoull(value + 1, &end, 10);
	if (end == value + 1 || (*end && *end != '\n'))
		return false;
	while (value > line && value[-1] == ' ') /* %-18s pads the name */
		value--;
	*value = '\0';
	*name = strrchr(line, ' ');
	return *name && *++*name;
}

static void test_dump_names(void **state)
{
	struct satpd_log_target t = {.kind = SATPD_LOG_FILE, .level = SATPD_LOG_NOTICE};
	struct names *n = calloc(1, sizeof(*n));
	char line[256], *name;
	bool in = false;
	FILE *f;

	(void)state;
	assert_non_null(n);
	snprintf(t.param, sizeof(t.param), "%s/log", fx.dir);
	assert_int_equal(satpd_log_open(&t, 1), 0);
	satpd_counters_dump(&fx.d);
	satpd_log_close();
	f = fopen(t.param, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, ": counters ("))
			in = true;
		else if (strstr(line, ": counters end"))
			in = false;
		else if (in && counter_line(line, &name))
			add_name(n, name);
	}
	fclose(f);
	assert_order(n);
	assert_names(n, not_in_dump);
	free(n);
}

/* A feature's counter sums over the workers as a core counter does, under its own name. */
static void test_values(void **state)
{
	struct satpd *d = &fx.d;
	struct satp_ctl_snapshot *s;

	(void)state;
	satpd_count(&d->sock_worker, &satpd_kx_counters, SATPD_CTR_kx_rx_relayed);
	satpd_count(&fx.workers[0], &satpd_kx_counters, SATPD_CTR_kx_rx_relayed);
	satpd_count(&fx.workers[1], &satpd_kx_counters, SATPD_CTR_kx_session_reused);
	satpd_count(&fx.workers[1], d->tx_halted_set, d->tx_halted_ctr);
	fx.workers[0].ctr.rx_keepalive = 5;
	s = snapshot();
	assert_int_equal(value_of(s, "kx_rx_relayed"), 2);
	assert_int_equal(value_of(s, "kx_session_reused"), 1);
	assert_int_equal(value_of(s, "tx_edge_twin"), 1);
	assert_int_equal(value_of(s, "rx_keepalive"), 5);
	assert_int_equal(value_of(s, "kx_rx_no_client"), 0);
	free(s);
}

/* A set that was never registered counts nothing; a set registers once. */
static void test_unregistered(void **state)
{
	static const char *const one[] = {"test_only"};
	static const struct satpd_counter_set set = {one, 1};
	struct satpd *d = &fx.d;
	struct satpd_counters before = d->sock_worker.ctr;

	(void)state;
	satpd_count(&d->sock_worker, &set, 0);
	assert_memory_equal(&before, &d->sock_worker.ctr, sizeof(before));
	assert_int_equal(satpd_add_counters(d, &satpd_kx_counters), -EEXIST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_snapshot_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dump_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unregistered, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
