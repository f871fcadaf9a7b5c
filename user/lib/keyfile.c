// SPDX-License-Identifier: GPL-2.0-only
/* X25519 key files in wg's base64 format (keyfile.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "keyfile.h"

/* Bits a private key file may not have: any access by group or others. */
#define KEYFILE_FORBIDDEN_MODE (S_IRWXG | S_IRWXO)

void keyfile_encode(char out[KEYFILE_B64_LEN + 1], const uint8_t key[KEYFILE_KEY_LEN])
{
	EVP_EncodeBlock((unsigned char *)out, key, KEYFILE_KEY_LEN);
	out[KEYFILE_B64_LEN] = 0;
}

int keyfile_decode(uint8_t key[KEYFILE_KEY_LEN], const char *text, size_t len)
{
	uint8_t raw[KEYFILE_KEY_LEN + 1];
	char again[KEYFILE_B64_LEN + 1];
	int err = -EINVAL;

	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	/* 32 bytes encode to 43 characters and one '='; DecodeBlock counts the pad as a byte. */
	if (len != KEYFILE_B64_LEN || text[KEYFILE_B64_LEN - 1] != '=' ||
	    text[KEYFILE_B64_LEN - 2] == '=')
		return -EINVAL;
	if (EVP_DecodeBlock(raw, (const unsigned char *)text, KEYFILE_B64_LEN) !=
	    KEYFILE_KEY_LEN + 1)
		goto out;
	/* Refuse the non-canonical spellings (stray low bits in the last character). */
	keyfile_encode(again, raw);
	if (memcmp(again, text, KEYFILE_B64_LEN))
		goto out;
	memcpy(key, raw, KEYFILE_KEY_LEN);
	err = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(again, sizeof(again));
	return err;
}

int keyfile_read_fd(int fd, const char *what, uint8_t key[KEYFILE_KEY_LEN], char *err,
		    size_t errlen)
{
	char buf[KEYFILE_MAX_LEN + 1];
	size_t len = 0;
	ssize_t n;
	int ret;

	for (;;) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot read %s: %s", what, strerror(errno));
			goto out;
		}
		if (!n)
			break;
		len += (size_t)n;
		if (len == sizeof(buf)) {
			ret = -EINVAL;
			snprintf(err, errlen, "%s: longer than a key (%d bytes at most)", what,
				 KEYFILE_MAX_LEN);
			goto out;
		}
	}
	ret = keyfile_decode(key, buf, len);
	if (ret)
		snprintf(err, errlen, "%s: not a base64 X25519 key (%d characters, like wg's)",
			 what, KEYFILE_B64_LEN);
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return ret;
}

static int read_path(const char *path, bool private, uint8_t key[KEYFILE_KEY_LEN], char *err,
		     size_t errlen)
{
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open key file '%s': %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "cannot stat key file '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		snprintf(err, errlen, "key file '%s' is not a regular file", path);
		goto out;
	}
	if (private && (st.st_mode & KEYFILE_FORBIDDEN_MODE)) {
		ret = -EPERM;
		snprintf(err, errlen,
			 "private key file '%s' is accessible by group or others (mode %04o); "
			 "chmod 600 it",
			 path, (unsigned int)(st.st_mode & 07777));
		goto out;
	}
	ret = keyfile_read_fd(fd, path, key, err, errlen);
out:
	close(fd);
	return ret;
}

int keyfile_read_private(const char *path, uint8_t key[KEYFILE_KEY_LEN], char *err, size_t errlen)
{
	return read_path(path, true, key, err, errlen);
}

int keyfile_read_public(const char *path, uint8_t key[KEYFILE_KEY_LEN], char *err, size_t errlen)
{
	return read_path(path, false, key, err, errlen);
}

int keyfile_write_private(const char *path, const uint8_t key[KEYFILE_KEY_LEN], char *err,
			  size_t errlen)
{
	char line[KEYFILE_B64_LEN + 2];
	size_t off = 0;
	ssize_t n;
	int fd, ret = 0;

	/* O_EXCL: never rewrite an existing key, nor follow a planted symlink. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot create key file '%s': %s", path, strerror(errno));
		return ret;
	}
	keyfile_encode(line, key);
	line[KEYFILE_B64_LEN] = '\n';
	while (off < KEYFILE_B64_LEN + 1) {
		n = write(fd, line + off, KEYFILE_B64_LEN + 1 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot write key file '%s': %s", path,
				 strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) && !ret) {
		ret = -errno;
		snprintf(err, errlen, "cannot write key file '%s': %s", path, strerror(errno));
	}
	if (ret)
		unlink(path);
	OPENSSL_cleanse(line, sizeof(line));
	return ret;
}
