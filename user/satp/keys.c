// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp keys MUX key HEX [salt HEX] [grace SECONDS]: new keys for a connection.
 * satpd sends with them at once and keeps accepting the old ones for the grace
 * period: SATP carries no key id, so each end switches when it likes and
 * nothing is lost in between.
 */
#include <stdio.h>

#include "ctl_client.h"
#include "satp_cmd.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: satp keys MUX (key HEX | key-file PATH | passphrase P) [salt HEX]\n"
		   "                 [grace SECONDS] [--dev NAME | --socket PATH] [--run-dir DIR]\n"
		   "Old keys stay valid for receiving for grace seconds (0..86400).\n");
}

int cmd_keys(int argc, char **argv)
{
	static const char *const mux[] = {"mux", NULL};

	return satp_ctl_cli("satp keys", "set-keys", mux, argc, argv, usage);
}
