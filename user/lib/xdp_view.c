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

#include "satp_xdp_loader.h"
#include "xdp_view.h"

static int map_open(const struct satp_xdp_view *v, const char *name)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", v->pin_dir, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

static int read_cfg(struct satp_xdp_view *v)
{
	__u32 key = 0;
	int fd = map_open(v, "satp_cfg"), ret = 0;

	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &key, &v->cfg))
		ret = -errno;
	close(fd);
	return ret;
}

static int read_conns(struct satp_xdp_view *v)
{
	struct satp_xdp_conn_key k, next, *prev = NULL;
	struct satp_xdp_conn c;
	int fd = map_open(v, "satp_conns");

	if (fd < 0)
		return fd;
	while (v->n_conns < SATP_XDP_MAX_CONNS && !bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &c))
			continue; /* deleted meanwhile */
		v->conns[v->n_conns++] = (struct satp_xdp_view_conn){
		    .mux = k.mux, .tag_len = c.tag_len, .window_size = c.window_size};
	}
	close(fd);
	return 0;
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
	static struct satp_window w;
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

static int read_senders(struct satp_xdp_view *v)
{
	struct satp_xdp_sender_key k, next, *prev = NULL;
	int idx = map_open(v, "satp_win_idx"), wfd = -1, sfd = -1, ncpus, ret = 0;
	__u32 slot;

	ncpus = libbpf_num_possible_cpus();
	if (idx < 0)
		return idx;
	wfd = map_open(v, "satp_windows");
	sfd = map_open(v, "satp_snd_stats");
	if (wfd < 0 || sfd < 0 || ncpus < 0) {
		ret = wfd < 0 ? wfd : sfd < 0 ? sfd : ncpus;
		goto out;
	}
	while (v->n_senders < SATP_XDP_WINDOW_SLOTS && !bpf_map_get_next_key(idx, prev, &next)) {
		struct satp_xdp_view_sender *s = &v->senders[v->n_senders];

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(idx, &k, &slot) || slot >= SATP_XDP_WINDOW_SLOTS)
			continue;
		memset(s, 0, sizeof(*s));
		s->mux = k.mux;
		s->sender_id = k.sender_id;
		s->slot = slot;
		read_window(wfd, s);
		sum_sender_stats(sfd, slot, ncpus, &s->stats);
		v->n_senders++;
	}
	qsort(v->senders, v->n_senders, sizeof(v->senders[0]), cmp_sender);
out:
	if (sfd >= 0)
		close(sfd);
	if (wfd >= 0)
		close(wfd);
	close(idx);
	return ret;
}

static int read_counters(struct satp_xdp_view *v)
{
	struct satp_xdp_counter *per;
	int fd = map_open(v, "satp_counters"), ncpus = libbpf_num_possible_cpus(), i, ret = 0;
	__u32 r;

	if (fd < 0)
		return fd;
	if (ncpus < 0) {
		close(fd);
		return ncpus;
	}
	per = calloc((size_t)ncpus, sizeof(*per));
	if (!per) {
		close(fd);
		return -ENOMEM;
	}
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
	close(fd);
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

int satp_xdp_view_read(const char *pin_root, const char *ifname, struct satp_xdp_view *v)
{
	int ret;

	memset(v, 0, sizeof(*v));
	snprintf(v->ifname, sizeof(v->ifname), "%s", ifname);
	if (snprintf(v->pin_dir, sizeof(v->pin_dir), "%s/satpd/%s",
		     pin_root ? pin_root : SATP_XDP_PIN_ROOT_DEFAULT,
		     ifname) >= (int)sizeof(v->pin_dir))
		return -ENAMETOOLONG;
	ret = read_cfg(v);
	if (ret)
		return ret;
	ret = read_conns(v);
	if (!ret)
		ret = read_senders(v);
	if (!ret)
		ret = read_counters(v);
	if (ret)
		return ret;
	qsort(v->conns, v->n_conns, sizeof(v->conns[0]), cmp_conn);
	v->if_exists = !satp_xdp_query(ifname, &v->kernel_mode, &v->kernel_prog_id);
	v->rx_queues = count_rx_queues(ifname);
	read_xsks(v);
	return 0;
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
