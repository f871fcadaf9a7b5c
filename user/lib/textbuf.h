/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Text into a caller's fixed buffer, printf-style, with overflow remembered
 * rather than checked at every call: the control protocol's serializer and
 * the Prometheus renderer write many short pieces and ask once at the end.
 */
#ifndef SATP_TEXTBUF_H
#define SATP_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

struct satp_text {
	char *buf;
	size_t len; /* size of buf */
	size_t pos; /* bytes written, without the terminating NUL */
	bool full;  /* a piece did not fit: everything after it was dropped */
};

#define SATP_TEXT(b, l) ((struct satp_text){.buf = (b), .len = (l)})

void satp_text_put(struct satp_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The length written, or -ENOSPC when something did not fit. */
int satp_text_end(const struct satp_text *t);

/*
 * A parser's error message into err (nothing when err is NULL or errlen 0);
 * returns -EINVAL, so that a parser can `return satp_errf(...)`.
 */
int satp_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* SATP_TEXTBUF_H */
