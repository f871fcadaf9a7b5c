// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp pubkey: the public key of the private key on stdin, like `wg pubkey`.
 * Reading stdin keeps the private key off the command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "satp_cmd.h"
#include "keyfile.h"
#include "noise.h"

#define ERR_LEN 256

static void usage(FILE *f)
{
	fprintf(f, "Usage: satp pubkey < private.key\n\n"
		   "Read an X25519 private key (base64, from 'satp genkey' or 'wg genkey') on\n"
		   "stdin and print its public key, the one peers configure, on stdout.\n\n"
		   "Exit status: 0 success; 1 stdin held no private key; 2 usage error.\n");
}

int cmd_pubkey(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	uint8_t priv[KEYFILE_KEY_LEN], pub[KEYFILE_KEY_LEN];
	char b64[KEYFILE_B64_LEN + 1], err[ERR_LEN];
	int c, ret = SATP_EXIT_FAIL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return SATP_EXIT_OK;
		}
		fprintf(stderr, "Try 'satp pubkey --help'.\n");
		return SATP_EXIT_USAGE;
	}
	if (optind < argc) {
		/* Most likely a key pasted as an argument: say why that is refused. */
		fprintf(stderr, "satp pubkey: takes no arguments (the private key comes on stdin, "
				"never on the command line)\n");
		return SATP_EXIT_USAGE;
	}
	if (keyfile_read_fd(STDIN_FILENO, "stdin", priv, err, sizeof(err))) {
		fprintf(stderr, "satp pubkey: %s\n", err);
		goto out;
	}
	if (noise_pubkey(pub, priv)) {
		fprintf(stderr, "satp pubkey: libcrypto could not derive the public key\n");
		goto out;
	}
	keyfile_encode(b64, pub);
	if (printf("%s\n", b64) < 0 || fflush(stdout)) {
		perror("satp pubkey: stdout");
		goto out;
	}
	ret = SATP_EXIT_OK;
out:
	OPENSSL_cleanse(priv, sizeof(priv));
	return ret;
}
