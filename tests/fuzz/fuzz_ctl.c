// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control protocol (user/lib/ctl_proto.c): what satpd parses from
 * whoever can open its socket, and what `satp` parses back. Input: byte 0
 * even = the rest is a request for satp_ctl_parse(); odd = a reply for
 * satp_ctl_parse_reply(). Both get an exact-size heap copy that is not
 * NUL-terminated, as a read() leaves it. Round trips checked: a request that
 * parses formats to text that parses to the same message; a reply that
 * parses formats (satp_ctl_format_reply) to text that parses again.
 */
#include <errno.h>
#include <string.h>

#include "ctl_proto.h"
#include "fuzz_common.h"

#define ERR_LEN 256

static struct satp_ctl_msg msg, again;
static struct satp_ctl_snapshot snap, snap2;
static char text[SATP_CTL_REPLY_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void fuzz_request(const char *buf, size_t len)
{
	char err[ERR_LEN] = "";
	int ret = satp_ctl_parse(buf, len, &msg, err, sizeof(err)), n;

	FUZZ_ASSERT(strnlen(err, sizeof(err)) < sizeof(err));
	if (ret) {
		FUZZ_ASSERT(ret == -EINVAL && err[0]);
		return;
	}
	n = satp_ctl_format(&msg, text, SATP_CTL_REQ_MAX);
	FUZZ_ASSERT(n > 0 && (size_t)n < SATP_CTL_REQ_MAX);
	ret = satp_ctl_parse(text, (size_t)n, &again, err, sizeof(err));
	if (ret)
		fprintf(stderr, "formatted request does not parse: %s\n", err);
	FUZZ_ASSERT(ret == 0);
	FUZZ_ASSERT(!memcmp(&msg, &again, sizeof(msg)));
	satp_ctl_msg_wipe(&msg);
	satp_ctl_msg_wipe(&again);
}

static void fuzz_reply(const char *buf, size_t len)
{
	char err[ERR_LEN] = "";
	int remote_err = 0, ret, n;

	ret = satp_ctl_parse_reply(buf, len, &remote_err, err, sizeof(err), &snap);
	FUZZ_ASSERT(strnlen(err, sizeof(err)) < sizeof(err));
	if (ret || remote_err)
		return;
	n = satp_ctl_format_reply(0, NULL, &snap, text, sizeof(text));
	FUZZ_ASSERT(n > 0 && (size_t)n <= sizeof(text));
	ret = satp_ctl_parse_reply(text, (size_t)n, &remote_err, err, sizeof(err), &snap2);
	if (ret)
		fprintf(stderr, "formatted reply does not parse: %s\n", err);
	FUZZ_ASSERT(ret == 0 && remote_err == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	if (size < 1 || size > SATP_CTL_REQ_MAX * 2)
		return 0;
	buf = malloc(size - 1 ? size - 1 : 1);
	FUZZ_ASSERT(buf);
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 1)
		fuzz_reply(buf, size - 1);
	else
		fuzz_request(buf, size - 1);
	free(buf);
	return 0;
}
