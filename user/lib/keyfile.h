/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * X25519 key files, in wg's format: the 32 raw bytes in base64 (44
 * characters with one '=' of padding), one line. Keys are read from files or
 * stdin, never taken from the command line, where every user can read them
 * in /proc. A private key file must not be accessible by group or others.
 *
 * Errors are negative errno values with a message in err naming the file
 * (never quoting a private key): -ENOENT etc. from open, -EPERM for a
 * private key file others can read, -EINVAL for content that is not a key.
 */
#ifndef SATP_KEYFILE_H
#define SATP_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#define KEYFILE_KEY_LEN 32
#define KEYFILE_B64_LEN 44 /* 4 * ceil(32 / 3) */
/* Longest file accepted: the key, a newline and some whitespace; anything longer is not a key. */
#define KEYFILE_MAX_LEN 128

/* out gets KEYFILE_B64_LEN characters and a NUL. */
void keyfile_encode(char out[KEYFILE_B64_LEN + 1], const uint8_t key[KEYFILE_KEY_LEN]);
/* Exactly one canonical base64 key; trailing whitespace (a newline) is allowed. */
int keyfile_decode(uint8_t key[KEYFILE_KEY_LEN], const char *text, size_t len);

/* A key from an open descriptor (stdin for `satp pubkey`); what names it in messages. */
int keyfile_read_fd(int fd, const char *what, uint8_t key[KEYFILE_KEY_LEN], char *err,
		    size_t errlen);
/* A private key file: a regular file with no group or other permission bits. */
int keyfile_read_private(const char *path, uint8_t key[KEYFILE_KEY_LEN], char *err, size_t errlen);
/* A public key file: no permission requirement. */
int keyfile_read_public(const char *path, uint8_t key[KEYFILE_KEY_LEN], char *err, size_t errlen);
/* Create path (it must not exist) with mode 0600 and write the key to it. */
int keyfile_write_private(const char *path, const uint8_t key[KEYFILE_KEY_LEN], char *err,
			  size_t errlen);

#endif /* SATP_KEYFILE_H */
