// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the replay decision costs a worker per packet (satpd_windows_commit_sized,
 * as datapath.c calls it, one sender, seq + 1 each time): on the socket path's
 * store (the state file's mapping), on the XDP path's store (the window map)
 * alone, and on the XDP store with its record, where every new seq is committed
 * into the state file's mapping as well (docs/windows.md: a SIGKILL then a
 * wiped bpffs loses nothing). Single thread, no contention: the busy flags are
 * uncontended atomics. Each figure is the best of BENCH_REPEATS runs over about
 * BENCH_ROW_SECONDS of this thread's CPU time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_measure.h"
#include "window_store.h"

#define CALIBRATE_N 100000
#define BITS_XDP    10 /* SATP_XDP_WINDOW_SLOTS */

struct bench {
	struct satpd_windows *w;
	uint16_t mux; /* a row's own: the state file keeps the earlier rows' windows */
	uint32_t seq;
	unsigned long failures;
};

static void commit_next(struct bench *b)
{
	if (satpd_windows_commit_sized(b->w, b->mux, 1, 4096, ++b->seq) != SATP_OK)
		b->failures++;
}

static double row(const char *what, struct satpd_windows *w)
{
	static uint16_t rows;
	struct bench b = {.w = w};
	double ns;

	b.mux = ++rows;
	ns = bench_measure(&b, commit_next, CALIBRATE_N);

	printf("%-52s %7.1f ns/commit%s\n", what, ns, b.failures ? "  (FAILURES)" : "");
	return b.failures ? -1 : ns;
}

int main(void)
{
	static struct satp_window map[1u << BITS_XDP];
	char dir[] = "/tmp/satp-benchwin.XXXXXX", path[64];
	struct satpd_windows file, xdp, *rec = malloc(sizeof(*rec));
	double base, with;
	int ret = 1;

	if (!rec || !mkdtemp(dir))
		return 1;
	if (satpd_windows_open_file(&file, SATPD_WINDOWS_SOCKET_BITS, 4096, dir))
		goto out;
	if (row("socket path: the state file's store", &file) < 0)
		goto out;
	satpd_windows_free(&file);
	if (satpd_windows_init(&xdp, BITS_XDP, 4096, map, NULL, NULL))
		goto out;
	base = row("XDP path: the window map alone (before)", &xdp);
	satpd_windows_free(&xdp);
	memset(map, 0, sizeof(map));
	if (satpd_windows_open_file(rec, SATPD_WINDOWS_SOCKET_BITS, 4096, dir) ||
	    satpd_windows_init(&xdp, BITS_XDP, 4096, map, NULL, NULL))
		goto out;
	satpd_windows_keep_record(&xdp, rec); /* xdp frees rec */
	rec = NULL;
	with = row("XDP path: the map, then the state file's record", &xdp);
	satpd_windows_free(&xdp);
	if (base < 0 || with < 0)
		goto out;
	printf("%-52s %+7.1f ns/commit\n", "the record's cost per new seq", with - base);
	ret = 0;
out:
	free(rec);
	snprintf(path, sizeof(path), "%s/%s", dir, SATPD_WINDOWS_FILE);
	unlink(path);
	rmdir(dir);
	return ret;
}
