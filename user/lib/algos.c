// SPDX-License-Identifier: GPL-2.0-only
/* Algorithm and role names, the reference daemons' defaults and fix-ups. */
#include <errno.h>
#include <string.h>

#include "satp.h"

struct name_bits {
	const char *name;
	unsigned int bits;
};

/* -k and -c take the same names; "aes-ctr" is AES-128 in both daemons. */
/* clang-format off */
static const struct name_bits aes_names[] = {
	{ "null", 0 },
	{ "aes-ctr", 128 },
	{ "aes-ctr-128", 128 },
	{ "aes-ctr-192", 192 },
	{ "aes-ctr-256", 256 },
};
/* clang-format on */

static const struct {
	const char *name;
	enum satp_role role;
	/* clang-format off */
} role_names[] = {
	{ "left", SATP_ROLE_LEFT },   { "alice", SATP_ROLE_LEFT }, { "server", SATP_ROLE_LEFT },
	{ "right", SATP_ROLE_RIGHT }, { "bob", SATP_ROLE_RIGHT },  { "client", SATP_ROLE_RIGHT },
};
/* clang-format on */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void satp_algos_default(struct satp_algos *a)
{
	a->kd_bits = 128;
	a->cipher_bits = 128;
	a->auth = SATP_AUTH_SHA1;
	a->tag_len = SATP_TAG_DEFAULT;
}

static int parse_aes(const char *s, unsigned int *bits)
{
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(aes_names); i++) {
		if (!strcmp(s, aes_names[i].name)) {
			*bits = aes_names[i].bits;
			return 0;
		}
	}
	return -EINVAL;
}

int satp_parse_kd_prf(const char *s, unsigned int *bits)
{
	return parse_aes(s, bits);
}

int satp_parse_cipher(const char *s, unsigned int *bits)
{
	return parse_aes(s, bits);
}

int satp_parse_auth(const char *s, enum satp_auth *auth)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "null"))
		*auth = SATP_AUTH_NULL;
	else if (!strcmp(s, "sha1"))
		*auth = SATP_AUTH_SHA1;
	else
		return -EINVAL;
	return 0;
}

int satp_parse_role(const char *s, enum satp_role *role)
{
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(role_names); i++) {
		if (!strcmp(s, role_names[i].name)) {
			*role = role_names[i].role;
			return 0;
		}
	}
	return -EINVAL;
}

const char *satp_role_name(enum satp_role role)
{
	switch (role) {
	case SATP_ROLE_LEFT:
		return "left";
	case SATP_ROLE_RIGHT:
		return "right";
	}
	return "?";
}

const char *satp_algo_name(unsigned int bits)
{
	switch (bits) {
	case 0:
		return "null";
	case 128:
		return "aes-ctr-128";
	case 192:
		return "aes-ctr-192";
	case 256:
		return "aes-ctr-256";
	}
	return "?";
}

const char *satp_auth_name(enum satp_auth auth)
{
	switch (auth) {
	case SATP_AUTH_NULL:
		return "null";
	case SATP_AUTH_SHA1:
		return "sha1";
	}
	return "?";
}

unsigned int satp_algos_fixup(struct satp_algos *a)
{
	unsigned int changed = 0;

	if (a->cipher_bits == 0 && a->auth == SATP_AUTH_NULL && a->kd_bits != 0) {
		a->kd_bits = 0;
		changed |= SATP_FIXUP_KD_NULL;
	}
	if (a->auth == SATP_AUTH_NULL && a->tag_len != 0) {
		a->tag_len = 0;
		changed |= SATP_FIXUP_TAG_ZERO;
	}
	if (a->tag_len > SATP_TAG_MAX) {
		a->tag_len = SATP_TAG_MAX;
		changed |= SATP_FIXUP_TAG_CLAMP;
	}
	return changed;
}
