// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Prometheus renderer (user/satpd/metrics_text.h): a snapshot and an XDP
 * view in, a table of lines that must be in the text out; every family has
 * HELP and TYPE once, before its samples, and the samples of a family are
 * contiguous (the exposition format's rule); label values are escaped.
 */
#include <errno.h>

#include "metrics_text.h"
#include "satp_test_util.h"

static struct satp_ctl_snapshot snap;
static struct satp_xdp_view view;
static char out[1 << 20];

static void fill(void)
{
	struct satp_ctl_conn *c;

	satp_ctl_snapshot_reset(&snap);
	memset(&view, 0, sizeof(view));
	strcpy(snap.version, "0.1\"x");
	strcpy(snap.dev, "tun0");
	strcpy(snap.rx_path, "xdp");
	strcpy(snap.xdp_ifname, "eth1");
	snap.started = 1700000000;
	strcpy(snap.xdp_mode_requested, "native");
	strcpy(snap.xdp_mode_obtained, "off");
	strcpy(snap.xdp_fallback, "satp_rx on \"eth1\": Operation not supported");
	satp_ctl_add_counter(snap.counters, &snap.n_counters, "rx_bad_tag", 4);
	satp_ctl_add_counter(snap.counters, &snap.n_counters, "rx-Replay", 2);
	satp_ctl_add_counter(snap.counters, &snap.n_counters, "connections", 2);
	c = satp_ctl_snapshot_add_conn(&snap);
	assert_non_null(c);
	c->mux = 5;
	c->rx_packets = 10;
	c->tx_bytes = 300;
	c->last_rx = 1700000005;
	satp_ctl_add_counter(c->counters, &c->n_counters, "bad_tag", 1);
	satp_ctl_add_counter(c->counters, &c->n_counters, "hs_sessions", 3);
	satp_ctl_add_counter(c->counters, &c->n_counters, "hs_session_age_s", 17);
	satp_ctl_add_sender(c, 1, 98);
	c = satp_ctl_snapshot_add_conn(&snap);
	assert_non_null(c);
	c->mux = 6;
	snap.n_paths = 2;
	snap.paths[0] = (struct satp_ctl_path){.local_port = 4444,
					       .remote = "10.0.0.2:4444",
					       .rx = 100,
					       .first = 60,
					       .dups = 40,
					       .tx = 90,
					       .last_seen = 1700000007,
					       .xdp_seen = 70,
					       .xdp_dropped = 30,
					       .xdp_last_seen = 1700000009};
	snap.paths[1] = (struct satp_ctl_path){.local_port = 4445, .rx = 40, .first = 40};
	satp_ctl_add_counter(c->counters, &c->n_counters, "bad_tag", 7);

	strcpy(view.ifname, "eth1");
	view.cfg.attach_mode = SATP_XDP_MODE_NATIVE;
	view.cfg.prog_id = 42;
	view.if_exists = true;
	view.kernel_prog_id = 42;
	view.n_xsks = 1;
	view.counters[SATP_XDP_DROP_REPLAY].packets = 3;
	view.counters[SATP_XDP_REDIRECTED].packets = 200;
	view.counters[SATP_XDP_REDIRECTED].bytes = 20000;
	view.n_senders = 2;
	view.senders[0] = (struct satp_xdp_view_sender){
	    .mux = 5, .sender_id = 1, .valid = true, .top = 99, .stats = {150, 15000, 3}};
	view.senders[1] = (struct satp_xdp_view_sender){
	    .mux = 5, .sender_id = 2, .valid = false, .stats = {50, 5000, 0}};
}

static const char *const want_lines[] = {
    "satpd_up 1",
    "satpd_info{version=\"0.1\\\"x\",dev=\"tun0\",rx_path=\"xdp\",xdp_ifname=\"eth1\"} 1",
    "satpd_xdp_fallback{requested=\"native\",explicit=\"no\",obtained=\"off\",reason=\"satp_rx "
    "on \\\"eth1\\\": Operation not supported\"} 1",
    "# TYPE satpd_xdp_fallback gauge",
    "satpd_start_time_seconds 1700000000",
    "satpd_daemon_rx_bad_tag_total 4",
    "satpd_daemon_rx_replay_total 2",
    "satpd_daemon_connections 2", /* falls when connections go: a gauge */
    "# TYPE satpd_daemon_connections gauge",
    "satpd_conn_rx_packets_total{mux=\"5\"} 10",
    "satpd_conn_rx_packets_total{mux=\"6\"} 0",
    "satpd_conn_tx_bytes_total{mux=\"5\"} 300",
    "satpd_conn_last_rx_timestamp_seconds{mux=\"5\"} 1700000005",
    "satpd_conn_bad_tag_total{mux=\"5\"} 1",
    "satpd_conn_window_top{mux=\"5\",sender=\"1\"} 98",
    "satpd_conn_bad_tag_total{mux=\"6\"} 7",
    "satpd_conn_hs_sessions_total{mux=\"5\"} 3",
    "# TYPE satpd_conn_hs_sessions_total counter",
    "satpd_conn_hs_session_age_s{mux=\"5\"} 17", /* a state: a gauge, no _total */
    "# TYPE satpd_conn_hs_session_age_s gauge",
    "satpd_rail_path_rx_total{path=\"0\",local_port=\"4444\",remote=\"10.0.0.2:4444\"} 100",
    "satpd_rail_path_first_total{path=\"1\",local_port=\"4445\",remote=\"\"} 40",
    "satpd_rail_path_duplicates_total{path=\"0\",local_port=\"4444\",remote=\"10.0.0.2:4444\"} 40",
    "satpd_rail_path_xdp_dropped_total{path=\"0\",local_port=\"4444\",remote=\"10.0.0.2:4444\"} "
    "30",
    "satpd_rail_path_tx_total{path=\"0\",local_port=\"4444\",remote=\"10.0.0.2:4444\"} 90",
    "satpd_rail_path_last_seen_timestamp_seconds{path=\"0\",local_port=\"4444\",remote=\"10.0.0."
    "2:4444\"} 1700000007",
    /* pre-auth figures say so (review L6) */
    "satpd_rail_path_xdp_last_seen_timestamp_seconds{path=\"0\",local_port=\"4444\",remote=\"10."
    "0.0.2:4444\"} 1700000009",
    "# HELP satpd_rail_path_xdp_last_seen_timestamp_seconds Pre-auth: Unix time of the last copy "
    "satp_rx judged on a RAIL path (0: none).",
    "# HELP satpd_rail_path_last_seen_timestamp_seconds Unix time of a RAIL path's last "
    "authenticated copy (0: none).",
    "# HELP satpd_rx_packets_total Pre-auth: datagrams XDP handed to satpd for a (mux, sender) "
    "verified once, before their tag is checked.",
    "satpd_xdp_attached{ifname=\"eth1\",mode=\"native\",dispatcher=\"no\"} 1",
    "satpd_xdp_sockets{ifname=\"eth1\"} 1",
    "satpd_xdp_packets_total{ifname=\"eth1\",reason=\"redirected\"} 200",
    "satpd_xdp_bytes_total{ifname=\"eth1\",reason=\"redirected\"} 20000",
    "satpd_xdp_drops_total{ifname=\"eth1\",reason=\"replay\"} 3",
    "satpd_xdp_drops_total{ifname=\"eth1\",reason=\"unknown-mux\"} 0",
    "satpd_rx_packets_total{ifname=\"eth1\",mux=\"5\",sender=\"1\"} 150",
    "satpd_rx_bytes_total{ifname=\"eth1\",mux=\"5\",sender=\"2\"} 5000",
    "satpd_rx_replay_drops_total{ifname=\"eth1\",mux=\"5\",sender=\"1\"} 3",
    "satpd_window_top{ifname=\"eth1\",mux=\"5\",sender=\"1\"} 99",
    "# TYPE satpd_rx_packets_total counter",
    "# TYPE satpd_window_top gauge",
};

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
		p++;
	}
	return false;
}

static void test_lines(void **state)
{
	size_t i;
	int n;

	fill();
	n = satp_metrics_render(&snap, &view, out, sizeof(out));
	assert_true(n > 0);
	for (i = 0; i < ARRAY_SIZE(want_lines); i++)
		if (!has_line(out, want_lines[i]))
			fail_msg("missing line '%s' in:\n%s", want_lines[i], out);
	/* an invalid window has no top yet: no sample rather than a 0 that looks real */
	assert_false(has_line(out, "satpd_window_top{ifname=\"eth1\",mux=\"5\",sender=\"2\"} 0"));
}

/* Each family: one HELP, one TYPE, then only its samples until the next family. */
static void test_families_contiguous(void **state)
{
	char *copy, *line, *save = NULL, current[128] = "", seen[8192] = " ";
	int n;

	fill();
	n = satp_metrics_render(&snap, &view, out, sizeof(out));
	assert_true(n > 0);
	copy = strdup(out);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], key[140];

		if (!strncmp(line, "# HELP ", 7)) {
			sscanf(line + 7, "%127s", name);
			snprintf(key, sizeof(key), " %s ", name);
			if (strstr(seen, key))
				fail_msg("family %s appears twice", name);
			strncat(seen, key + 1, sizeof(seen) - strlen(seen) - 1);
			snprintf(current, sizeof(current), "%s", name);
			continue;
		}
		if (line[0] == '#')
			continue;
		sscanf(line, "%127[^{ ]", name);
		if (strcmp(name, current))
			fail_msg("sample '%s' outside its family (in %s)", line, current);
	}
	free(copy);
}

static void test_partial_and_small(void **state)
{
	char small[64];

	fill();
	assert_true(satp_metrics_render(NULL, NULL, out, sizeof(out)) > 0);
	assert_true(has_line(out, "satpd_up 0"));
	assert_null(strstr(out, "satpd_xdp"));
	assert_true(satp_metrics_render(NULL, &view, out, sizeof(out)) > 0);
	assert_true(has_line(out, "satpd_xdp_sockets{ifname=\"eth1\"} 1"));
	assert_int_equal(satp_metrics_render(&snap, &view, small, sizeof(small)), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_families_contiguous),
	    cmocka_unit_test(test_partial_and_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
