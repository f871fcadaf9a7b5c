/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A one-line summary of a decrypted inner packet, chosen by its SATP payload
 * type: IPv4/IPv6 addresses and protocol (ICMP type/code, TCP/UDP ports),
 * or Ethernet addresses and EtherType for tap. Reads only within len bytes.
 */
#ifndef SATP_TOOL_INNER_H
#define SATP_TOOL_INNER_H

#include <stddef.h>
#include <stdint.h>

/* Long enough for two IPv6 addresses, protocol and ports behind an Ethernet header. */
#define INNER_SUMMARY_LEN 200

void inner_summary(uint16_t ptype, const uint8_t *pkt, size_t len, char *out, size_t outlen);

#endif /* SATP_TOOL_INNER_H */
