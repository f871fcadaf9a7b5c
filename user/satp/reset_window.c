// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp reset-window MUX SENDER: forget the replay window of one sender, for a
 * peer that restarted its sequence numbers without new keys (otherwise every
 * packet it sends is "too old" until its seq passes the old top).
 */
#include <stdio.h>

#include "ctl_client.h"
#include "satp_cmd.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: satp reset-window MUX SENDER [--dev NAME | --socket PATH] [--run-dir DIR]\n");
}

int cmd_reset_window(int argc, char **argv)
{
	static const char *const pos[] = {"mux", "sender", NULL};

	return satp_ctl_cli("satp reset-window", "reset-window", pos, argc, argv, usage);
}
