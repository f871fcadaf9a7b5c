// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pinned maps read back for satp show, stats and metrics (xdp_view.h).
 * Maps are opened by path with bpf_obj_get: a reader needs no skeleton, no
 * loader state and no daemon, only the permissions on the bpffs.
 */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>
#include <linux/if_xdp.h>
#include <linux/sock_diag.h>
#include <linux/xdp_diag.h>

#include "xdp_query.h"
#include "xdp_view.h"

static int map_open(const char *dir, const char *name)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

static int read_cfg(int fd, struct satp_xdp_view *v)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(fd, &key, &v->cfg) ? -errno : 0;
}

static void read_conns(int fd, struct satp_xdp_view *v)
{
	struct satp_xdp_conn_key k, next, *prev = NULL;
	struct satp_xdp_conn c;

	while (v->n_conns < SATP_XDP_MAX_CONNS && !bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &c))
			continue; /* deleted meanwhile */
		v->conns[v->n_conns++] = (struct satp_xdp_view_conn){.mux = k.mux,
								     .tag_len = c.tag_len,
								     .window_size = c.window_size,
								     .flags = c.flags};
	}
}

static int sum_sender_stats(int fd, uint32_t slot, int ncpus, struct satp_xdp_sender_stats *out)
{
	struct satp_xdp_sender_stats *per = calloc((size_t)ncpus, sizeof(*per));
	int i, ret = 0;

	if (!per)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(fd, &slot, per)) {
		ret = -errno;
		goto out;
	}
	for (i = 0; i < ncpus; i++) {
		out->rx_packets += per[i].rx_packets;
		out->rx_bytes += per[i].rx_bytes;
		out->rx_dropped += per[i].rx_dropped;
	}
out:
	free(per);
	return ret;
}

static int cmp_sender(const void *a, const void *b)
{
	const struct satp_xdp_view_sender *x = a, *y = b;

	if (x->mux != y->mux)
		return x->mux < y->mux ? -1 : 1;
	return x->sender_id < y->sender_id ? -1 : x->sender_id > y->sender_id;
}

static int cmp_conn(const void *a, const void *b)
{
	const struct satp_xdp_view_conn *x = a, *y = b;

	return x->mux < y->mux ? -1 : x->mux > y->mux;
}

/* A window's top and size are read under its seqlock: retry while the daemon writes. */
static void read_window(int wfd, struct satp_xdp_view_sender *s)
{
	struct satp_window w;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		if (bpf_map_lookup_elem(wfd, &s->slot, &w))
			return;
		if (!(w.gen & 1))
			break;
	}
	s->valid = w.flags & SATP_WINDOW_VALID;
	s->top = w.top;
	s->size = w.size;
}

static int read_senders(const struct satp_xdp_view_maps *m, struct satp_xdp_view *v)
{
	struct satp_xdp_sender_key k, next, *prev = NULL;
	int ncpus = libbpf_num_possible_cpus();
	__u32 slot;

	if (ncpus < 0)
		return ncpus;
	while (v->n_senders < SATP_XDP_WINDOW_SLOTS &&
	       !bpf_map_get_next_key(m->win_idx, prev, &next)) {
		struct satp_xdp_view_sender *s = &v->senders[v->n_senders];

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(m->win_idx, &k, &slot) || slot >= SATP_XDP_WINDOW_SLOTS)
			continue;
		memset(s, 0, sizeof(*s));
		s->mux = k.mux;
		s->sender_id = k.sender_id;
		s->slot = slot;
		read_window(m->windows, s);
		sum_sender_stats(m->snd_stats, slot, ncpus, &s->stats);
		v->n_senders++;
	}
	qsort(v->senders, v->n_senders, sizeof(v->senders[0]), cmp_sender);
	return 0;
}

static int read_counters(int fd, struct satp_xdp_view *v)
{
	struct satp_xdp_counter *per;
	int ncpus = libbpf_num_possible_cpus(), i, ret = 0;
	__u32 r;

	if (ncpus < 0)
		return ncpus;
	per = calloc((size_t)ncpus, sizeof(*per));
	if (!per)
		return -ENOMEM;
	for (r = 0; r < SATP_XDP_REASON_MAX; r++) {
		if (bpf_map_lookup_elem(fd, &r, per)) {
			ret = -errno;
			break;
		}
		for (i = 0; i < ncpus; i++) {
			v->counters[r].packets += per[i].packets;
			v->counters[r].bytes += per[i].bytes;
		}
	}
	free(per);
	return ret;
}

static unsigned int count_rx_queues(const char *ifname)
{
	char pat[128];
	glob_t g;
	unsigned int n = 0;

	snprintf(pat, sizeof(pat), "/sys/class/net/%s/queues/rx-*", ifname);
	if (!glob(pat, 0, NULL, &g))
		n = (unsigned int)g.gl_pathc;
	globfree(&g);
	return n;
}

/* ---------------------------------------------------------------- AF_XDP sock_diag */

struct xsk_walk {
	struct satp_xdp_view *v;
	unsigned int ifindex;
};

static int xsk_attr(const struct nlattr *a, void *data)
{
	struct satp_xdp_view_xsk *x = data;

	if (mnl_attr_get_type(a) == XDP_DIAG_INFO &&
	    mnl_attr_get_payload_len(a) >= sizeof(struct xdp_diag_info)) {
		const struct xdp_diag_info *i = mnl_attr_get_payload(a);

		x->queue = i->queue_id;
		x->inode = i->ifindex; /* parked here until the caller checks the interface */
	} else if (mnl_attr_get_type(a) == XDP_DIAG_STATS &&
		   mnl_attr_get_payload_len(a) >= sizeof(struct xdp_diag_stats)) {
		const struct xdp_diag_stats *s = mnl_attr_get_payload(a);

		x->rx_dropped = s->n_rx_dropped;
		x->rx_invalid = s->n_rx_invalid;
		x->rx_full = s->n_rx_full;
		x->fill_empty = s->n_fill_ring_empty;
		x->have_stats = true;
	}
	return MNL_CB_OK;
}

static int xsk_msg(const struct nlmsghdr *nlh, void *data)
{
	struct xsk_walk *w = data;
	const struct xdp_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct satp_xdp_view_xsk x = {0};

	if (w->v->n_xsks >= (int)SATP_XDP_MAX_QUEUES)
		return MNL_CB_OK;
	x.inode = UINT32_MAX;
	mnl_attr_parse(nlh, sizeof(*m), xsk_attr, &x);
	if (x.inode != w->ifindex)
		return MNL_CB_OK; /* another interface's socket, or not bound */
	x.inode = m->xdiag_ino;
	w->v->xsks[w->v->n_xsks++] = x;
	return MNL_CB_OK;
}

/* AF_XDP sockets bound to the interface, from the kernel (xsk_diag): which queues
 * have a receiver right now, whatever satp_xsks says. -1 when the kernel cannot tell. */
static void read_xsks(struct satp_xdp_view *v)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct xdp_diag_req *req;
	struct xsk_walk w = {v, if_nametoindex(v->ifname)};
	unsigned int seq = (unsigned int)time(NULL), portid;
	ssize_t n = 0;
	int ret = 0;

	v->n_xsks = -1;
	if (!w.ifindex)
		return;
	nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!nl)
		return;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = AF_XDP;
	req->xdiag_show = XDP_SHOW_INFO | XDP_SHOW_STATS;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	v->n_xsks = 0;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, xsk_msg, &w);
		if (ret <= MNL_CB_STOP)
			break;
	}
	if (n < 0 || ret < 0)
		v->n_xsks = -1; /* no xsk_diag in this kernel */
out:
	mnl_socket_close(nl);
}

/* ---------------------------------------------------------------- entry points */

int satp_xdp_view_open(const char *pin_root, const char *ifname, struct satp_xdp_view_maps *m)
{
	struct {
		int *fd;
		const char *name;
	} maps[] = {{&m->cfg, "satp_cfg"},
		    {&m->conns, "satp_conns"},
		    {&m->win_idx, "satp_win_idx"},
		    {&m->windows, "satp_windows"},
		    {&m->snd_stats, "satp_snd_stats"},
		    {&m->counters, "satp_counters"}};
	size_t i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		*maps[i].fd = -1;
	snprintf(m->ifname, sizeof(m->ifname), "%s", ifname);
	if (snprintf(m->pin_dir, sizeof(m->pin_dir), "%s/satpd/%s",
		     pin_root ? pin_root : SATP_XDP_PIN_ROOT_DEFAULT,
		     ifname) >= (int)sizeof(m->pin_dir))
		return -ENAMETOOLONG;
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		*maps[i].fd = map_open(m->pin_dir, maps[i].name);
		if (*maps[i].fd < 0) {
			int ret = *maps[i].fd;

			*maps[i].fd = -1;
			satp_xdp_view_close(m);
			return ret;
		}
	}
	return 0;
}

void satp_xdp_view_close(struct satp_xdp_view_maps *m)
{
	int *fds[] = {&m->cfg, &m->conns, &m->win_idx, &m->windows, &m->snd_stats, &m->counters};
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int satp_xdp_view_read_maps(const struct satp_xdp_view_maps *m, struct satp_xdp_view *v)
{
	int ret;

	memset(v, 0, sizeof(*v));
	memcpy(v->ifname, m->ifname, sizeof(v->ifname));
	memcpy(v->pin_dir, m->pin_dir, sizeof(v->pin_dir));
	ret = read_cfg(m->cfg, v);
	if (!ret) {
		read_conns(m->conns, v);
		ret = read_senders(m, v);
	}
	if (!ret)
		ret = read_counters(m->counters, v);
	if (ret)
		return ret;
	qsort(v->conns, v->n_conns, sizeof(v->conns[0]), cmp_conn);
	v->if_exists = !satp_xdp_query(v->ifname, &v->kernel_mode, &v->kernel_prog_id);
	v->rx_queues = count_rx_queues(v->ifname);
	read_xsks(v);
	return 0;
}

int satp_xdp_view_read(const char *pin_root, const char *ifname, struct satp_xdp_view *v)
{
	struct satp_xdp_view_maps m;
	int ret = satp_xdp_view_open(pin_root, ifname, &m);

	if (ret) {
		memset(v, 0, sizeof(*v));
		snprintf(v->ifname, sizeof(v->ifname), "%s", ifname);
		return ret;
	}
	ret = satp_xdp_view_read_maps(&m, v);
	satp_xdp_view_close(&m);
	return ret;
}

bool satp_xdp_view_attached(const struct satp_xdp_view *v)
{
	if (!v->if_exists || !v->kernel_prog_id || !v->cfg.prog_id)
		return false;
	/* under the dispatcher the interface runs the dispatcher, which calls satp_rx */
	return v->kernel_prog_id == v->cfg.prog_id ||
	       (v->cfg.attach_flags & SATP_XDP_ATTACH_DISPATCHER);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

int satp_xdp_view_list(const char *pin_root, char names[][IFNAMSIZ], unsigned int max)
{
	char path[4096];
	struct dirent *de;
	unsigned int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/satpd", pin_root ? pin_root : SATP_XDP_PIN_ROOT_DEFAULT);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) && n < max) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= IFNAMSIZ)
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		snprintf(names[n++], IFNAMSIZ, "%s", de->d_name);
	}
	closedir(d);
	qsort(names, n, IFNAMSIZ, cmp_name);
	return (int)n;
}

static int walk_routes(int fd, int family, satp_xdp_view_route_fn fn, void *ctx)
{
	struct satp_xdp_route6_key k, next; /* an IPv4 key is its start */
	struct satp_xdp_route val;
	const void *prev = NULL;
	int ret;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &val))
			continue; /* deleted meanwhile */
		ret = fn(ctx, family, k.addr, k.prefixlen, val.mux);
		if (ret)
			return ret;
	}
	return 0;
}

int satp_xdp_view_routes(const char *pin_dir, satp_xdp_view_route_fn fn, void *ctx)
{
	static const char *const names[2] = {"satp_routes4", "satp_routes6"};
	int f, fd[2] = {-1, -1}, ret = 0;

	/* Both open before either is walked: a missing one is an error, not half a list. */
	for (f = 0; !ret && f < 2; f++) {
		fd[f] = map_open(pin_dir, names[f]);
		if (fd[f] < 0)
			ret = fd[f];
	}
	for (f = 0; !ret && f < 2; f++)
		ret = walk_routes(fd[f], f ? AF_INET6 : AF_INET, fn, ctx);
	for (f = 0; f < 2; f++)
		if (fd[f] >= 0)
			close(fd[f]);
	return ret;
}
