// SPDX-License-Identifier: GPL-2.0-only
/* HOST:PORT: the one parser of every address given with its port, and its writer (hostport.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "hostport.h"

#define PORT_OPT SATP_HOSTPORT_PORT_OPTIONAL
#define HOST_OPT SATP_HOSTPORT_HOST_OPTIONAL
#define PORT_0	 SATP_HOSTPORT_PORT_ZERO
#define DEFAULT	 4444 /* what *port holds before: kept when the text has no port */
#define HOST_LEN 16   /* host buffer of the table: 15 characters and the NUL */

struct good_case {
	const char *text;
	unsigned int flags;
	const char *host;
	uint16_t port;
};

static const struct good_case good[] = {
    {"10.0.0.1:80", 0, "10.0.0.1", 80},
    {"edge.example:4445", 0, "edge.example", 4445},
    {"[fd00::1]:7", 0, "fd00::1", 7},
    {"[edge.example]:7", 0, "edge.example", 7}, /* brackets may enclose any host */
    {"h:65535", 0, "h", 65535},
    {"h:1", 0, "h", 1},
    {"h:0080", 0, "h", 80}, /* leading zeros: --metrics and -X took them */
    {"h:0000000000000001", 0, "h", 1},
    {"a]:80", 0, "a]", 80}, /* unbracketed, the host is what precedes the ':' */
    {"123456789012345:1", 0, "123456789012345", 1}, /* the longest host that fits */
    {"10.0.0.1", PORT_OPT, "10.0.0.1", DEFAULT},
    {"[fd00::1]", PORT_OPT, "fd00::1", DEFAULT},
    {"h:2399", PORT_OPT, "h", 2399},
    {":9100", HOST_OPT, "", 9100},
    {"[]:9100", HOST_OPT, "", 9100},
    {"", HOST_OPT | PORT_OPT, "", DEFAULT},
    {"127.0.0.1:0", PORT_0, "127.0.0.1", 0},
};

struct bad_case {
	const char *text;
	unsigned int flags;
	const char *why; /* a part of the message after the quoted text */
};

static const struct bad_case bad[] = {
    {"10.0.0.1", 0, "no port"},
    {"[fd00::1]", 0, "no port"},
    {"fd00::1", PORT_OPT, "brackets"},
    {"fd00::3:4445", 0, "brackets"},
    {"h:80:90", 0, "brackets"},
    {"[fd00::1", 0, "no ']'"},
    {"[fd00::1]x", 0, "text after ']'"},
    {"[fd00::1]x:80", 0, "text after ']'"},
    {"h:", 0, "no port after ':'"},
    {"[fd00::1]:", 0, "no port after ':'"},
    {"h:0", 0, "port 0"},
    {"h:65536", 0, "above 65535"},
    {"h:99999", HOST_OPT | PORT_0, "above 65535"},
    {"h:12x", 0, "not a number"},
    {"h:-1", 0, "not a number"},
    {"h:+1", 0, "not a number"},
    {"h: 1", 0, "not a number"},
    {"h:1 ", 0, "not a number"},
    {":80", 0, "no host"},
    {"[]:80", 0, "no host"},
    {"", PORT_OPT, "no host"},
    {"", HOST_OPT, "no port"},
    {"1234567890123456:1", 0, "too long"},
};

static void test_good(void **state)
{
	char host[HOST_LEN], err[128];
	uint16_t port;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		port = DEFAULT;
		err[0] = '\0';
		if (satp_hostport_parse(good[i].text, good[i].flags, host, sizeof(host), &port, err,
					sizeof(err)))
			fail_msg("'%s' refused: %s", good[i].text, err);
		assert_string_equal(host, good[i].host);
		assert_int_equal(port, good[i].port);
	}
}

static void test_bad(void **state)
{
	char host[HOST_LEN] = "untouched", err[128], quoted[64];
	uint16_t port;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		port = DEFAULT;
		err[0] = '\0';
		if (satp_hostport_parse(bad[i].text, bad[i].flags, host, sizeof(host), &port, err,
					sizeof(err)) != -EINVAL)
			fail_msg("'%s' accepted", bad[i].text);
		snprintf(quoted, sizeof(quoted), "'%s'", bad[i].text);
		if (strncmp(err, quoted, strlen(quoted)) || !strstr(err, bad[i].why))
			fail_msg("'%s': message '%s' lacks the text or '%s'", bad[i].text, err,
				 bad[i].why);
		assert_string_equal(host, "untouched");
		assert_int_equal(port, DEFAULT);
	}
}

struct format_case {
	int family;
	const char *addr; /* inet_pton's text */
	uint16_t port;
	const char *text;
};

static const struct format_case formats[] = {
    {AF_INET, "10.0.0.1", 4444, "10.0.0.1:4444"},
    {AF_INET, "255.255.255.255", 65535, "255.255.255.255:65535"},
    {AF_INET6, "fd00::1", 4444, "[fd00::1]:4444"},
    {AF_INET6, "::ffff:10.0.0.1", 0, "[::ffff:10.0.0.1]:0"},
    /* the longest text inet_ntop writes, in the longest form */
    {AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
     "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"},
};

/* What the formatter writes, the parser reads back: address and port. */
static void test_format(void **state)
{
	char text[SATP_HOSTPORT_STRLEN], host[INET6_ADDRSTRLEN];
	uint8_t addr[16], back[16];
	uint16_t port;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		assert_int_equal(inet_pton(formats[i].family, formats[i].addr, addr), 1);
		satp_hostport_format(formats[i].family, addr, formats[i].port, text, sizeof(text));
		assert_string_equal(text, formats[i].text);
		assert_int_equal(satp_hostport_parse(text, SATP_HOSTPORT_PORT_ZERO, host,
						     sizeof(host), &port, NULL, 0),
				 0);
		assert_int_equal(inet_pton(formats[i].family, host, back), 1);
		assert_memory_equal(back, addr, formats[i].family == AF_INET6 ? 16 : 4);
		assert_int_equal(port, formats[i].port);
	}
}

/* An address inet_ntop cannot write still gives a line, and a short buffer is cut, not overrun. */
static void test_format_edges(void **state)
{
	char text[SATP_HOSTPORT_STRLEN], small[8];
	const uint8_t addr[16] = {10, 0, 0, 1};

	(void)state;
	satp_hostport_format(AF_UNIX, addr, 7, text, sizeof(text));
	assert_string_equal(text, "?:7");
	memset(small, 'x', sizeof(small));
	satp_hostport_format(AF_INET, addr, 4444, small, sizeof(small));
	assert_string_equal(small, "10.0.0.");
}

/* A caller that words its own error passes no buffer. */
static void test_quiet(void **state)
{
	char host[HOST_LEN];
	uint16_t port = DEFAULT;

	(void)state;
	assert_int_equal(satp_hostport_parse("h", 0, host, sizeof(host), &port, NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),	 cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_quiet),	 cmocka_unit_test(test_format),
	    cmocka_unit_test(test_format_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
