// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp_forge: seal an arbitrary inner packet with a tunnel's own keys and
 * send it over UDP, as a key holder (a compromised or buggy peer) could. The
 * adversarial test uses it for hostile inner packets and sequence numbers
 * around 2^32 that authenticate. Algorithms: the reference daemons' defaults
 * (aes-ctr-128, sha1, tag 10).
 *
 *   satp_forge --to ADDR --port P --key HEX --salt HEX --role left|right
 *              [--seq N] [--sid S] [--mux M] [--ptype T] [--count N] [INNER-HEX]
 *
 * --count N sends N datagrams with seq, seq+1, ... (the same inner packet).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "satp.h"

#define DGRAM_MAX 4096
#define INNER_MAX (DGRAM_MAX - SATP_HDR_LEN - SATP_PTYPE_LEN - SATP_TAG_MAX)
#define ERR_LEN	  256

struct forge_opts {
	const char *to, *port, *key, *salt, *role, *inner;
	unsigned long seq, sid, mux, ptype, count;
};

static int parse_ul(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	if (errno || end == s || *end || *out > max || *s == '-') {
		fprintf(stderr, "satp_forge: bad number '%s'\n", s);
		return -EINVAL;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct forge_opts *o)
{
	/* clang-format off */
	static const struct option lo[] = {
	    {"to", required_argument, NULL, 't'},    {"port", required_argument, NULL, 'p'},
	    {"key", required_argument, NULL, 'K'},   {"salt", required_argument, NULL, 'A'},
	    {"role", required_argument, NULL, 'e'},  {"seq", required_argument, NULL, 'q'},
	    {"sid", required_argument, NULL, 's'},   {"mux", required_argument, NULL, 'm'},
	    {"ptype", required_argument, NULL, 'y'}, {"count", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	/* clang-format on */
	int opt, ret = 0;

	o->ptype = SATP_PTYPE_IPV4;
	o->count = 1;
	while (!ret && (opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 't':
			o->to = optarg;
			break;
		case 'p':
			o->port = optarg;
			break;
		case 'K':
			o->key = optarg;
			break;
		case 'A':
			o->salt = optarg;
			break;
		case 'e':
			o->role = optarg;
			break;
		case 'q':
			ret = parse_ul(optarg, UINT32_MAX, &o->seq);
			break;
		case 's':
			ret = parse_ul(optarg, UINT16_MAX, &o->sid);
			break;
		case 'm':
			ret = parse_ul(optarg, UINT16_MAX, &o->mux);
			break;
		case 'y':
			ret = parse_ul(optarg, UINT16_MAX, &o->ptype);
			break;
		case 'c':
			ret = parse_ul(optarg, 1000000, &o->count);
			break;
		default:
			ret = -EINVAL;
		}
	}
	if (ret || !o->to || !o->port || !o->key || !o->salt || !o->role || optind < argc - 1) {
		fprintf(stderr, "usage: satp_forge --to ADDR --port P --key HEX --salt HEX "
				"--role left|right [--seq N] [--sid S] [--mux M] [--ptype T] "
				"[--count N] [INNER-HEX]\n");
		return -EINVAL;
	}
	o->inner = optind < argc ? argv[optind] : "";
	return 0;
}

static int open_socket(const struct forge_opts *o, struct addrinfo **ai)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST};
	int fd, err;

	err = getaddrinfo(o->to, o->port, &hints, ai);
	if (err) {
		fprintf(stderr, "satp_forge: '%s' port '%s': %s\n", o->to, o->port,
			gai_strerror(err));
		return -EINVAL;
	}
	fd = socket((*ai)->ai_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		freeaddrinfo(*ai);
		return -errno;
	}
	return fd;
}

static int setup_keys(const struct forge_opts *o, struct satp_crypto *c)
{
	struct satp_keys k = {0};
	char err[ERR_LEN];
	size_t len;
	int ret;

	satp_algos_default(&k.algos);
	ret = satp_parse_role(o->role, &k.role);
	if (!ret)
		ret = satp_hex_parse(o->key, k.master_key, sizeof(k.master_key),
				     k.algos.kd_bits / 8, &k.master_key_len, err, sizeof(err));
	if (!ret)
		ret = satp_hex_parse(o->salt, k.master_salt, sizeof(k.master_salt), SATP_SALT_LEN,
				     &len, err, sizeof(err));
	if (!ret)
		ret = satp_crypto_init(c, &k);
	if (ret)
		fprintf(stderr, "satp_forge: bad role, key or salt\n");
	explicit_bzero(&k, sizeof(k));
	return ret;
}

int main(int argc, char **argv)
{
	static uint8_t buf[DGRAM_MAX];
	uint8_t *inner = buf + SATP_HDR_LEN + SATP_PTYPE_LEN;
	struct forge_opts o = {0};
	struct satp_crypto c;
	struct addrinfo *ai = NULL;
	char err[ERR_LEN];
	size_t inner_len = 0;
	unsigned long i;
	int fd, n, ret = 1;

	if (parse_opts(argc, argv, &o) || setup_keys(&o, &c))
		return 2;
	if (*o.inner &&
	    satp_hex_parse(o.inner, inner, INNER_MAX, 0, &inner_len, err, sizeof(err))) {
		fprintf(stderr, "satp_forge: %s\n", err);
		goto out_crypto;
	}
	fd = open_socket(&o, &ai);
	if (fd < 0)
		goto out_crypto;
	for (i = 0; i < o.count; i++) {
		/* seal encrypts in place: put the plaintext back each time */
		if (i && *o.inner)
			satp_hex_parse(o.inner, inner, INNER_MAX, 0, &inner_len, err, sizeof(err));
		n = satp_seal(&c, buf, sizeof(buf), inner_len, (uint32_t)(o.seq + i),
			      (uint16_t)o.sid, (uint16_t)o.mux, (uint16_t)o.ptype);
		if (n < 0 || sendto(fd, buf, (size_t)n, 0, ai->ai_addr, ai->ai_addrlen) != n) {
			fprintf(stderr, "satp_forge: seal or send failed: %s\n",
				n < 0 ? strerror(-n) : strerror(errno));
			goto out_sock;
		}
	}
	ret = 0;
out_sock:
	close(fd);
	freeaddrinfo(ai);
out_crypto:
	satp_crypto_free(&c);
	return ret;
}
