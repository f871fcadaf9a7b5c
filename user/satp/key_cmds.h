/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `satp genkey` and `satp pubkey` (genkey.c, pubkey.c), with the signature of
 * every subcommand in satp_cmd.h. Declared here until satp_cmd.h, whose owner
 * is mid-edit, takes these two lines.
 */
#ifndef SATP_KEY_CMDS_H
#define SATP_KEY_CMDS_H

int cmd_genkey(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);

#endif /* SATP_KEY_CMDS_H */
