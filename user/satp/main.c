// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp: the control tool. One binary, one source file per subcommand; with
 * no arguments it runs `show`, like wg.
 */
#include <stdio.h>
#include <string.h>

#include "satp_cmd.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct subcommand subcommands[] = {
    {"show", cmd_show, "Show the tunnels satpd runs (the default)"},
    {"stats", cmd_stats, "Rates of the counters show prints (--watch to refresh)"},
    {"conn", cmd_conn, "Add, change or remove a connection of a running satpd"},
    {"route", cmd_route, "Add or remove a route to a connection of a running satpd"},
    {"keys", cmd_keys, "Install new keys, keeping the old ones for a grace period"},
    {"reset-window", cmd_reset_window, "Forget a sender's replay window"},
    {"session", cmd_session, "Install or remove an external key exchange's session keys"},
    {"decode", cmd_decode, "Verify and decrypt the SATP datagrams of a capture"},
    {"genkey", cmd_genkey, "Print a new private key (base64) for the key exchange"},
    {"pubkey", cmd_pubkey, "Read a private key on stdin, print its public key"},
};

#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: satp [<subcommand> [<args>]]\n\n"
		   "Available subcommands:\n");
	for (i = 0; i < N_SUBCOMMANDS; i++)
		fprintf(f, "  %-13s %s\n", subcommands[i].name, subcommands[i].help);
	fprintf(f, "  %-13s %s\n", "help",
		"Show this help, or a subcommand's: satp help <subcommand>");
	fprintf(f, "\nWith no subcommand, satp runs 'show'. Every subcommand takes --help.\n"
		   "Exit status: 0 success; 1 the subcommand ran and found a problem;\n"
		   "2 usage error (unknown subcommand or option, bad option value).\n");
}

static const struct subcommand *find(const char *name)
{
	size_t i;

	for (i = 0; i < N_SUBCOMMANDS; i++)
		if (!strcmp(subcommands[i].name, name))
			return &subcommands[i];
	return NULL;
}

static int help(int argc, char **argv)
{
	const struct subcommand *cmd;
	char help_opt[] = "--help";
	char *args[] = {NULL, help_opt, NULL};

	if (argc < 2) {
		usage(stdout);
		return SATP_EXIT_OK;
	}
	cmd = find(argv[1]);
	if (!cmd) {
		fprintf(stderr, "satp: unknown subcommand '%s'\n", argv[1]);
		usage(stderr);
		return SATP_EXIT_USAGE;
	}
	args[0] = argv[1];
	return cmd->run(2, args);
}

int main(int argc, char **argv)
{
	const struct subcommand *cmd;
	char show[] = "show";
	char *show_argv[] = {show, NULL};

	if (argc < 2)
		return cmd_show(1, show_argv);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return help(argc - 1, argv + 1);
	cmd = find(argv[1]);
	if (!cmd) {
		fprintf(stderr, "satp: unknown subcommand '%s'\n", argv[1]);
		usage(stderr);
		return SATP_EXIT_USAGE;
	}
	return cmd->run(argc - 1, argv + 1);
}
