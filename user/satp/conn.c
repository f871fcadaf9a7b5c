// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp conn add|change|del MUX ...: add, change or remove a connection of a
 * running satpd without restarting it or disturbing the others.
 */
#include <stdio.h>
#include <string.h>

#include "ctl_client.h"
#include "satp_cmd.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: satp conn add MUX (key HEX | key-file PATH | passphrase P) [FIELD VALUE]...\n"
	    "       satp conn change MUX FIELD VALUE...\n"
	    "       satp conn del MUX\n"
	    "  FIELD: sender ID, window N, role left|right, remote HOST:PORT, salt HEX,\n"
	    "         cipher C, auth null|sha1, kd-prf K, tag-len N (as satpd's -s -w -e -r\n"
	    "         -A -c -a -k -b); key-file - reads the key from stdin.\n"
	    "  add also takes route PREFIX (repeatable): its routes, as -R (satp route).\n"
	    "  Which daemon: --dev NAME, --socket PATH, --run-dir DIR (default: the only one).\n");
}

int cmd_conn(int argc, char **argv)
{
	static const char *const mux[] = {"mux", NULL};
	static const struct {
		const char *word, *op;
	} verbs[] = {{"add", "add-conn"}, {"change", "change-conn"}, {"del", "del-conn"}};
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? SATP_EXIT_USAGE : SATP_EXIT_OK;
	}
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].word))
			return satp_ctl_cli("satp conn", verbs[i].op, mux, argc - 1, argv + 1,
					    usage);
	fprintf(stderr, "satp conn: unknown action '%s' (add, change or del)\n", argv[1]);
	usage(stderr);
	return SATP_EXIT_USAGE;
}
