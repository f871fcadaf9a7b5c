/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The subcommands of the satp control tool, one source file each. Each gets
 * argv starting at its own name and returns the process exit status:
 *   0  success
 *   1  the command ran and found a problem (a datagram failed to verify,
 *      a capture could not be read, satpd is not reachable, ...)
 *   2  usage: an unknown subcommand or option, a bad option value
 */
#ifndef SATP_CMD_H
#define SATP_CMD_H

#define SATP_EXIT_OK	0
#define SATP_EXIT_FAIL	1
#define SATP_EXIT_USAGE 2

int cmd_show(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_conn(int argc, char **argv);
int cmd_route(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_reset_window(int argc, char **argv);
int cmd_session(int argc, char **argv);
int cmd_genkey(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);

#endif /* SATP_CMD_H */
