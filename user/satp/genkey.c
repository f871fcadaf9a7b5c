// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp genkey: a new X25519 private key in base64 on stdout, like `wg genkey`.
 * The key goes to a file, never onto a command line:
 *   umask 077; satp genkey > private.key; satp pubkey < private.key > public.key
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "satp_cmd.h"
#include "keyfile.h"
#include "noise.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: satp genkey\n\n"
		   "Print a new X25519 private key (base64, as wg writes keys) on stdout, for\n"
		   "satpd's key exchange. Keep it in a file only its owner can read:\n\n"
		   "  umask 077; satp genkey > private.key\n"
		   "  satp pubkey < private.key > public.key\n\n"
		   "Exit status: 0 success; 1 no key could be made or written; 2 usage error.\n");
}

/* wg warns the same way: a private key in a file others can read is no longer private. */
static void warn_if_shared(void)
{
	struct stat st;

	if (!fstat(STDOUT_FILENO, &st) && S_ISREG(st.st_mode) && (st.st_mode & (S_IRWXG | S_IRWXO)))
		fprintf(stderr, "satp genkey: warning: writing to a file that group or others can "
				"access; run 'umask 077' first\n");
}

int cmd_genkey(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	uint8_t priv[KEYFILE_KEY_LEN];
	char b64[KEYFILE_B64_LEN + 1];
	int c, ret = SATP_EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return SATP_EXIT_OK;
		}
		fprintf(stderr, "Try 'satp genkey --help'.\n");
		return SATP_EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "satp genkey: unexpected argument '%s'\n", argv[optind]);
		return SATP_EXIT_USAGE;
	}
	if (noise_keygen(priv)) {
		fprintf(stderr, "satp genkey: the random number generator failed\n");
		return SATP_EXIT_FAIL;
	}
	warn_if_shared();
	keyfile_encode(b64, priv);
	if (printf("%s\n", b64) < 0 || fflush(stdout)) {
		perror("satp genkey: stdout");
		ret = SATP_EXIT_FAIL;
	}
	OPENSSL_cleanse(priv, sizeof(priv));
	OPENSSL_cleanse(b64, sizeof(b64));
	return ret;
}
