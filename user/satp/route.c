// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp route add|del PREFIX [mux N]: the routes of a running satpd, which
 * pick the connection an inner packet from the tun device goes to.
 */
#include <stdio.h>
#include <string.h>

#include "ctl_client.h"
#include "satp_cmd.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: satp route add PREFIX mux N\n"
	    "       satp route del PREFIX [mux N]\n"
	    "  PREFIX: ADDRESS/LENGTH, IPv4 or IPv6 (as satpd's -R). del with mux N\n"
	    "  deletes only if the prefix goes to mux N. A connection's routes go with\n"
	    "  it when it is deleted; satp show lists them.\n"
	    "  Which daemon: --dev NAME, --socket PATH, --run-dir DIR (default: the only one).\n");
}

int cmd_route(int argc, char **argv)
{
	static const char *const prefix[] = {"route", NULL};
	static const struct satp_ctl_verb verbs[] = {{"add", "add-route"}, {"del", "del-route"}};

	return satp_ctl_cli_verbs("satp route", verbs, sizeof(verbs) / sizeof(verbs[0]),
				  "add or del", prefix, argc, argv, usage);
}
