// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp_send: SATP-shaped datagrams for the XDP tests and the flood benchmark.
 * The datagrams carry a real SATP header (seq, sender id, mux) and filler in
 * place of ciphertext and tag: the XDP program judges only header and length.
 *
 *   satp_send --udp ADDR --port P [--mux M] [--sid S] [--seq N] [--len L] [--count N]
 *       through a UDP socket, the kernel's own stack (integration test);
 *   satp_send --ifname IF --dst-mac MAC --src A --dst A --port P [...] [--seconds S]
 *       pre-built frames through AF_PACKET with qdisc bypass, sendmmsg batches of
 *       64, until --count or --seconds (the flood); prints packets per second.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "satp_frame.h"

#define BATCH	   64 /* frames per sendmmsg */
#define SEQ_SPREAD BATCH
#define SATP_SPORT 4444

struct send_opts {
	const char *udp;
	const char *ifname;
	const char *dst_mac;
	const char *src;
	const char *dst;
	uint16_t port, mux, sid;
	uint32_t seq;
	size_t len;
	unsigned long count;
	unsigned int seconds;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: satp_send --udp ADDR --port P [--mux M] [--sid S] [--seq N] [--len L] "
		"[--count N]\n"
		"       satp_send --ifname IF --dst-mac MAC --src ADDR --dst ADDR --port P [...] "
		"[--seconds S]\n");
}

static int parse_num(const char *s, unsigned long max, unsigned long *out, const char *what)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	if (errno || end == s || *end || *out > max || *s == '-') {
		fprintf(stderr, "satp_send: invalid %s '%s'\n", what, s);
		return -EINVAL;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct send_opts *o)
{
	static const struct option lo[] = {
	    {"udp", required_argument, NULL, 'u'},
	    {"ifname", required_argument, NULL, 'i'},
	    {"dst-mac", required_argument, NULL, 'D'},
	    {"src", required_argument, NULL, 'S'},
	    {"dst", required_argument, NULL, 'd'},
	    {"port", required_argument, NULL, 'p'},
	    {"mux", required_argument, NULL, 'm'},
	    {"sid", required_argument, NULL, 's'},
	    {"seq", required_argument, NULL, 'q'},
	    {"len", required_argument, NULL, 'l'},
	    {"count", required_argument, NULL, 'c'},
	    {"seconds", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	unsigned long v;
	int c;

	o->len = 72;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'u':
			o->udp = optarg;
			break;
		case 'i':
			o->ifname = optarg;
			break;
		case 'D':
			o->dst_mac = optarg;
			break;
		case 'S':
			o->src = optarg;
			break;
		case 'd':
			o->dst = optarg;
			break;
		case 'p':
			if (parse_num(optarg, 0xffff, &v, "port"))
				return -EINVAL;
			o->port = (uint16_t)v;
			break;
		case 'm':
			if (parse_num(optarg, 0xffff, &v, "mux"))
				return -EINVAL;
			o->mux = (uint16_t)v;
			break;
		case 's':
			if (parse_num(optarg, 0xffff, &v, "sid"))
				return -EINVAL;
			o->sid = (uint16_t)v;
			break;
		case 'q':
			if (parse_num(optarg, 0xffffffffu, &v, "seq"))
				return -EINVAL;
			o->seq = (uint32_t)v;
			break;
		case 'l':
			if (parse_num(optarg, 1400, &v, "len"))
				return -EINVAL;
			o->len = v;
			break;
		case 'c':
			if (parse_num(optarg, 1ul << 40, &o->count, "count"))
				return -EINVAL;
			break;
		case 't':
			if (parse_num(optarg, 3600, &v, "seconds"))
				return -EINVAL;
			o->seconds = (unsigned int)v;
			break;
		default:
			usage();
			return -EINVAL;
		}
	}
	if (optind != argc || !o->port || (!o->udp == !o->ifname) ||
	    (o->ifname && (!o->dst_mac || !o->src || !o->dst))) {
		usage();
		return -EINVAL;
	}
	if (!o->count && !o->seconds)
		o->count = 1;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool done(const struct send_opts *o, unsigned long sent, double end)
{
	return stop || (o->count && sent >= o->count) || (o->seconds && now() >= end);
}

/* One SATP datagram (UDP payload) with this header. */
static void fill_satp(uint8_t *d, size_t len, uint32_t seq, uint16_t sid, uint16_t mux)
{
	size_t k;

	for (k = 0; k < len; k++)
		d[k] = (uint8_t)(0x30 + k % 64);
	if (len >= SATP_HDR_LEN) {
		d[0] = (uint8_t)(seq >> 24);
		d[1] = (uint8_t)(seq >> 16);
		d[2] = (uint8_t)(seq >> 8);
		d[3] = (uint8_t)seq;
		satp_frame_put16(d + 4, sid);
		satp_frame_put16(d + 6, mux);
	}
}

static int send_udp(const struct send_opts *o, unsigned long *sent)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	static uint8_t bufs[BATCH][1500];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	double end = now() + o->seconds;
	socklen_t sl;
	int fd, n, i, err = 0;

	if (inet_pton(AF_INET, o->udp, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(o->port);
		sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, o->udp, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(o->port);
		sl = sizeof(*s6);
	} else {
		fprintf(stderr, "satp_send: invalid address '%s'\n", o->udp);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl))
		return -errno;
	while (!done(o, *sent, end)) {
		n = BATCH;
		if (o->count && o->count - *sent < BATCH)
			n = (int)(o->count - *sent);
		for (i = 0; i < n; i++) {
			fill_satp(bufs[i], o->len, o->seq + (uint32_t)(*sent + (unsigned long)i),
				  o->sid, o->mux);
			iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = o->len};
			msgs[i] =
			    (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		n = sendmmsg(fd, msgs, (unsigned int)n, 0);
		if (n < 0) {
			err = -errno;
			break;
		}
		*sent += (unsigned long)n;
		usleep(1000); /* a test, not a flood: stay below the veth backlog */
	}
	close(fd);
	return err;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) {
		fprintf(stderr, "satp_send: invalid MAC '%s'\n", s);
		return -EINVAL;
	}
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int build_frames(const struct send_opts *o, int fd, uint8_t frames[][SATP_FRAME_MAX],
			size_t *flen)
{
	struct satp_frame_spec s = {0};
	struct ifreq ifr = {0};
	int i;

	if (parse_mac(o->dst_mac, s.dst_mac))
		return -EINVAL;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		return -errno;
	memcpy(s.src_mac, ifr.ifr_hwaddr.sa_data, 6);
	if (inet_pton(AF_INET, o->src, s.src) == 1 && inet_pton(AF_INET, o->dst, s.dst) == 1)
		s.family = AF_INET;
	else if (inet_pton(AF_INET6, o->src, s.src) == 1 && inet_pton(AF_INET6, o->dst, s.dst) == 1)
		s.family = AF_INET6;
	else {
		fprintf(stderr, "satp_send: invalid --src '%s' / --dst '%s'\n", o->src, o->dst);
		return -EINVAL;
	}
	s.sport = SATP_SPORT;
	s.dport = o->port;
	s.mux = o->mux;
	s.sender_id = o->sid;
	s.satp_len = o->len;
	for (i = 0; i < SEQ_SPREAD; i++) {
		s.seq = o->seq + (uint32_t)i;
		*flen = satp_frame_build(&s, frames[i], SATP_FRAME_MAX);
		if (!*flen)
			return -EINVAL;
	}
	return 0;
}

static int send_packet(const struct send_opts *o, unsigned long *sent)
{
	static uint8_t frames[SEQ_SPREAD][SATP_FRAME_MAX];
	struct sockaddr_ll sll = {.sll_family = AF_PACKET};
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	double end = now() + o->seconds;
	int fd, one = 1, n, i, err;
	size_t flen = 0;

	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		return -errno;
	err = build_frames(o, fd, frames, &flen);
	if (err)
		goto out;
	sll.sll_ifindex = (int)if_nametoindex(o->ifname);
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, frames[0], 6);
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		err = -errno;
		goto out;
	}
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	for (i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){.iov_base = frames[i % SEQ_SPREAD], .iov_len = flen};
		msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	while (!done(o, *sent, end)) {
		n = BATCH;
		if (o->count && o->count - *sent < BATCH)
			n = (int)(o->count - *sent);
		n = sendmmsg(fd, msgs, (unsigned int)n, 0);
		if (n < 0) {
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;
			err = -errno;
			break;
		}
		*sent += (unsigned long)n;
	}
out:
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	struct send_opts o = {0};
	unsigned long sent = 0;
	double t0, dt;
	int err;

	if (parse_opts(argc, argv, &o))
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = now();
	err = o.udp ? send_udp(&o, &sent) : send_packet(&o, &sent);
	dt = now() - t0;
	printf("sent %lu packets in %.2f s (%.0f pps)\n", sent, dt, dt > 0 ? (double)sent / dt : 0);
	if (err) {
		fprintf(stderr, "satp_send: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
