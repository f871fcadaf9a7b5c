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
	static const struct satp_ctl_verb verbs[] = {
	    {"add", "add-conn"}, {"change", "change-conn"}, {"del", "del-conn"}};

	return satp_ctl_cli_verbs("satp conn", verbs, sizeof(verbs) / sizeof(verbs[0]),
				  "add, change or del", mux, argc, argv, usage);
}
