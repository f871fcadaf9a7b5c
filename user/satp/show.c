// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp show: a stub until the daemon's control socket and pinned maps exist;
 * replace this file whole.
 */
#include <stdio.h>

#include "satp_cmd.h"

int cmd_show(int argc, char **argv)
{
	fprintf(stderr, "satp show: not implemented yet\n");
	return SATP_EXIT_FAIL;
}
