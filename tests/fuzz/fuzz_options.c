// SPDX-License-Identifier: GPL-2.0-only
/*
 * satpd's option and config-file parser (user/satpd/satpd_options.c), then
 * satpd_config_finish() on whatever parsed. Input: byte 0 even = the rest is
 * a command line, arguments separated by NUL bytes; odd = the rest is a
 * config file, one option per line. Every error must come back as -errno with
 * a message; nothing may read or write out of bounds.
 *
 * `--config FILE` is skipped: it would let the fuzzer open files of the host.
 * satpd_options_parse_file() reads through the same satpd_options_parse_line().
 */
#include <errno.h>
#include <string.h>

#include "fuzz_common.h"
#include "satpd_options.h"

#define ARGS_MAX  64
#define ERR_LEN	  256
#define INPUT_MAX 8192

/* Static: the model holds paths and log targets of several KiB. */
static struct satpd_config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void check_result(int ret, const char *err)
{
	/* An error always says why, quoting the offending text where there is one. */
	if (ret < 0)
		FUZZ_ASSERT(err[0] != '\0');
	FUZZ_ASSERT(strnlen(err, ERR_LEN) < ERR_LEN);
}

static void finish(void)
{
	char err[ERR_LEN] = "";
	int ret = satpd_config_finish(&cfg, err, sizeof(err));

	check_result(ret, err);
	if (ret)
		return;
	/* No connection is valid only when a sync source (-X/-M) will send them. */
	FUZZ_ASSERT(cfg.n_conns <= SATPD_CONNS_MAX);
	FUZZ_ASSERT(cfg.n_conns >= 1 || cfg.n_sync_hosts);
}

/* text is NUL-terminated and writable. */
static void fuzz_argv(char *text, size_t len)
{
	char *argv[ARGS_MAX + 1];
	char prog[] = "satpd", err[ERR_LEN] = "";
	size_t off = 0;
	int argc = 1, ret;

	argv[0] = prog;
	while (off <= len && argc < ARGS_MAX) {
		argv[argc] = text + off;
		if (!strcmp(argv[argc], "--config"))
			return;
		argc++;
		off += strlen(text + off) + 1;
	}
	argv[argc] = NULL;
	ret = satpd_options_parse(&cfg, argc, argv, err, sizeof(err));
	check_result(ret, err);
	if (ret == 0)
		finish();
	satpd_config_wipe(&cfg);
}

static void fuzz_file(char *text, size_t len)
{
	char err[ERR_LEN] = "", where[32];
	char *line = text, *nl;
	unsigned int lineno = 0;
	int ret = 0;

	satpd_config_default(&cfg);
	while (!ret && line <= text + len) {
		nl = memchr(line, '\n', (size_t)(text + len - line));
		if (nl)
			*nl = '\0';
		snprintf(where, sizeof(where), "fuzz:%u", ++lineno);
		ret = satpd_options_parse_line(&cfg, line, where, err, sizeof(err));
		check_result(ret, err);
		if (!nl)
			break;
		line = nl + 1;
	}
	if (!ret)
		finish();
	satpd_config_wipe(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	size_t len;

	if (size < 1 || size > INPUT_MAX)
		return 0;
	len = size - 1;
	/* exact size plus the terminator: ASan catches a read past either */
	text = malloc(len + 1);
	FUZZ_ASSERT(text);
	memcpy(text, data + 1, len);
	text[len] = '\0';
	if (data[0] & 1)
		fuzz_file(text, len);
	else
		fuzz_argv(text, len);
	free(text);
	return 0;
}
