/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small streaming JSON writer for `satp show --json`: it tracks commas and
 * nesting so that callers only say what to write, and escapes strings.
 */
#ifndef SATP_JSON_H
#define SATP_JSON_H

#include <stdint.h>
#include <stdio.h>

/* Nesting deeper than this is a bug in the caller. */
#define JSON_DEPTH_MAX 16

struct json {
	FILE *f;
	int depth;
	int count[JSON_DEPTH_MAX]; /* members written at each level */
};

void json_init(struct json *j, FILE *f);
/* key NULL inside arrays and at the top level */
void json_open(struct json *j, const char *key, char bracket);
void json_close(struct json *j, char bracket);
void json_str(struct json *j, const char *key, const char *v);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_bool(struct json *j, const char *key, int v);
void json_null(struct json *j, const char *key);

#endif /* SATP_JSON_H */
