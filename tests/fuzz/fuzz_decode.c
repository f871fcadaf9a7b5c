// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp decode's capture parsing (user/satp/outer.c, inner.c, decode.c).
 * Input: byte 0 even = one captured record: byte 1 picks the link type, the
 * rest is the record, run through outer_parse(), then the UDP payload through
 * satp_open() with the vectors' key and the plaintext through inner_summary();
 * the raw bytes also go through inner_summary() as every payload type.
 * Odd = the rest is a whole pcap file, decoded by `satp decode` itself
 * (cmd_decode) with the key options byte 1 selects.
 */
#include <pcap/pcap.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "inner.h"
#include "outer.h"
#include "satp.h"
#include "satp_cmd.h"

static const int DLTS[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
			   101,	       DLT_IPV4,      DLT_IPV6,	      DLT_NULL};
#define N_DLTS (sizeof(DLTS) / sizeof(DLTS[0]))
static const uint16_t PTYPES[] = {SATP_PTYPE_IPV4, SATP_PTYPE_IPV6, SATP_PTYPE_ETHER, 0};
#define N_PTYPES (sizeof(PTYPES) / sizeof(PTYPES[0]))

/* Option sets for cmd_decode: the vectors' key, a window, the hex dump, null algorithms. */
#define K128 "000102030405060708090a0b0c0d0e0f"
#define K256 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define SALT "a0a1a2a3a4a5a6a7a8a9aaabacad"
/* Indexed as tests/fuzz/make_corpus.py picks them for the vectors. */
static const char *const ARGSETS[][10] = {
    {"decode", "-K", K128, "-A", SALT, NULL},
    {"decode", "-K", K128, "-A", SALT, "-w", "64", "--hex", NULL},
    {"decode", "-k", "null", "-c", "null", "-a", "null", NULL},
    {"decode", "-E", "satp test passphrase", NULL},
    {"decode", "-K", K256, "-A", SALT, "-c", "aes-ctr-256", "-k", "aes-ctr-256", NULL},
    {"decode", "-K", K128, "-A", SALT, "-b", "20", "-p", "4444:4446", NULL},
};
#define N_ARGSETS (sizeof(ARGSETS) / sizeof(ARGSETS[0]))
#define ARGV_MAX  12

static struct satp_crypto rx;
static int memfd = -1;
static char memfd_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct satp_keys k = {.role = SATP_ROLE_RIGHT};

	satp_algos_default(&k.algos);
	k.master_key_len = sizeof(fuzz_key128);
	memcpy(k.master_key, fuzz_key128, sizeof(fuzz_key128));
	memcpy(k.master_salt, fuzz_salt, sizeof(fuzz_salt));
	if (satp_crypto_init(&rx, &k))
		abort();
	memfd = memfd_create("fuzz-decode.pcap", 0);
	if (memfd < 0)
		abort();
	snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	/* satp decode prints a line per datagram: not what the fuzzer is after */
	if (!freopen("/dev/null", "w", stdout))
		abort();
	return 0;
}

static void fuzz_record(int dlt, const uint8_t *d, size_t len)
{
	char summary[INNER_SUMMARY_LEN];
	uint8_t *rec = malloc(len ? len : 1), *payload;
	struct satp_header h;
	struct satp_plain p;
	struct outer_udp u;
	size_t i;

	FUZZ_ASSERT(rec);
	memcpy(rec, d, len);
	if (outer_parse(dlt, rec, len, &u) == OUTER_UDP) {
		FUZZ_ASSERT(u.payload >= rec && u.payload + u.payload_len <= rec + len);
		payload = malloc(u.payload_len ? u.payload_len : 1);
		FUZZ_ASSERT(payload);
		memcpy(payload, u.payload, u.payload_len);
		if (satp_open(&rx, payload, u.payload_len, &h, &p) == SATP_OK)
			inner_summary(p.ptype, p.inner, p.inner_len, summary, sizeof(summary));
		free(payload);
	}
	for (i = 0; i < N_PTYPES; i++) {
		inner_summary(PTYPES[i], rec, len, summary, sizeof(summary));
		FUZZ_ASSERT(strnlen(summary, sizeof(summary)) < sizeof(summary));
	}
	free(rec);
}

static void fuzz_capture(size_t set, const uint8_t *d, size_t len)
{
	char *argv[ARGV_MAX + 1], copies[ARGV_MAX][80];
	int argc = 0;

	if (ftruncate(memfd, 0) || pwrite(memfd, d, len, 0) != (ssize_t)len)
		abort();
	/* decode wipes secrets in argv: hand it writable copies */
	while (ARGSETS[set][argc] && argc < ARGV_MAX - 1) {
		snprintf(copies[argc], sizeof(copies[argc]), "%s", ARGSETS[set][argc]);
		argv[argc] = copies[argc];
		argc++;
	}
	argv[argc++] = memfd_path;
	argv[argc] = NULL;
	cmd_decode(argc, argv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	if (data[0] & 1)
		fuzz_capture(data[1] % N_ARGSETS, data + 2, size - 2);
	else
		fuzz_record(DLTS[data[1] % N_DLTS], data + 2, size - 2);
	return 0;
}
