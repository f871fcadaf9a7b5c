// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp session set|del MUX ...: the keys of an external key exchange
 * (docs/kx.md). A session has its own master key and salt per direction and
 * sequence numbers from 0; set keeps the previous keys valid for receiving
 * for the grace period (as satp keys does), del stops the connection.
 */
#include <stdio.h>
#include <string.h>

#include "ctl_client.h"
#include "satp_cmd.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: satp session set MUX tx-key HEX tx-salt HEX rx-key HEX rx-salt HEX\n"
	    "                        [session N] [grace SECONDS]\n"
	    "       satp session del MUX\n"
	    "  Keys are hex as -K (the connection's kd-prf length), salts as -A (28 digits).\n"
	    "  set: sends with the session once the peer does or after half the grace\n"
	    "  period; the previous keys are accepted for grace seconds (0..86400, default\n"
	    "  10). del: nothing is sent or accepted until the next set.\n"
	    "  Key exchange daemons should speak the control protocol (ctl_proto.h) rather\n"
	    "  than put keys on a command line, which other local users can read.\n"
	    "  Which daemon: --dev NAME, --socket PATH, --run-dir DIR (default: the only one).\n");
}

int cmd_session(int argc, char **argv)
{
	static const char *const mux[] = {"mux", NULL};
	static const struct satp_ctl_verb verbs[] = {{"set", "set-session"},
						     {"del", "del-session"}};

	return satp_ctl_cli_verbs("satp session", verbs, sizeof(verbs) / sizeof(verbs[0]),
				  "set or del", mux, argc, argv, usage);
}
