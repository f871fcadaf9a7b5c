// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loader of the XDP fast path (satp_xdp_loader.h).
 *
 * Two instances of the skeleton: `skel` is loaded as a plain XDP program and
 * owns the maps (created or adopted from pins), so the daemon can configure
 * them before anything is attached and tests can BPF_PROG_TEST_RUN it.
 * `att` shares those maps by fd and is handed to libxdp, which loads it as an
 * freplace extension when its dispatcher works and as plain XDP when not.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <dirent.h>

#include <linux/if_link.h>
#include <linux/magic.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "satp_hs_wire.h"
#include "satp_wire.h"
#include "satp_xdp.skel.h"
#include "satp_xdp_loader.h"
#include "xdp_query.h"

#define SATP_XDP_PROG_NAME  "satp_rx"
#define SATP_XDP_LINK_NAME  "satp_rail_rx"
#define SATP_XDP_PIN_SUBDIR "satpd"

struct satp_xdp {
	struct satp_xdp_bpf *skel; /* XDP-typed, owns the maps */
	struct satp_xdp_bpf *att;  /* what libxdp loaded and attached */
	struct xdp_program *xprog; /* libxdp's handle on att */
	char ifname[IF_NAMESIZE];
	char pin_root[PATH_MAX];
	char pin_dir[PATH_MAX];
	int ifindex;
	bool pinned;
	bool replace;
	enum satp_xdp_attach_mode want_mode; /* NONE: native, falling back to skb */
	enum satp_xdp_attach_mode mode;	     /* obtained; NONE while detached */
	bool dispatcher;
	bool plain;	/* attached by bpf_xdp_attach() after libxdp failed */
	bool took_over; /* replaced a satp_rx an earlier run left attached */
	uint32_t prog_id;
	/* RAIL links: satp_rail_rx plainly attached to these interfaces */
	int links[SATP_XDP_MAX_LINKS];
	unsigned int n_links;
	struct satp_window *windows;
	size_t windows_len;
	int ncpus;
	void *percpu; /* scratch for one per-CPU value */
};

/* ---------------------------------------------------------------- logging */

static satp_xdp_log_fn log_fn;
static enum satp_xdp_log_level log_max = SATP_XDP_LOG_WARN;

static void vlogmsg(enum satp_xdp_log_level level, const char *fmt, va_list ap)
{
	if (level > log_max)
		return;
	if (log_fn)
		log_fn(level, fmt, ap);
	else
		vfprintf(stderr, fmt, ap);
}

__attribute__((format(printf, 2, 3))) static void logmsg(enum satp_xdp_log_level level,
							 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlogmsg(level, fmt, ap);
	va_end(ap);
}

#define warn(...)  logmsg(SATP_XDP_LOG_WARN, "satp-xdp: " __VA_ARGS__)
#define info(...)  logmsg(SATP_XDP_LOG_INFO, "satp-xdp: " __VA_ARGS__)
#define debug(...) logmsg(SATP_XDP_LOG_DEBUG, "satp-xdp: " __VA_ARGS__)

/* libbpf's and libxdp's levels are warn=0, info=1, debug=2 like ours. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	vlogmsg((enum satp_xdp_log_level)level, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	vlogmsg((enum satp_xdp_log_level)level, fmt, ap);
	return 0;
}

void satp_xdp_set_log(satp_xdp_log_fn fn, enum satp_xdp_log_level max_level)
{
	log_fn = fn;
	log_max = max_level;
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

/* ---------------------------------------------------------------- names */

static enum xdp_attach_mode to_libxdp_mode(enum satp_xdp_attach_mode mode)
{
	return mode == SATP_XDP_MODE_SKB ? XDP_MODE_SKB : XDP_MODE_NATIVE;
}

static enum satp_xdp_attach_mode from_libxdp_mode(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE:
		return SATP_XDP_MODE_NATIVE;
	case XDP_MODE_SKB:
		return SATP_XDP_MODE_SKB;
	default:
		return SATP_XDP_MODE_NONE;
	}
}

/* ---------------------------------------------------------------- pinning */

static int ensure_dir(const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST) {
		int err = -errno;

		warn("cannot create '%s': %s\n", path, strerror(-err));
		return err;
	}
	return 0;
}

/* The pin root must be a bpffs; mount one there when it is not (fresh boot, new netns). */
static int ensure_bpffs(const char *root)
{
	struct statfs st;
	int err;

	if (statfs(root, &st) && errno == ENOENT) {
		err = ensure_dir(root);
		if (err)
			return err;
	}
	if (statfs(root, &st)) {
		err = -errno;
		warn("pin root '%s': %s\n", root, strerror(-err));
		return err;
	}
	if ((unsigned long)st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", root, "bpf", 0, "mode=0700")) {
		err = -errno;
		warn("pin root '%s' is not a bpffs and mounting one failed: %s\n", root,
		     strerror(-err));
		return err;
	}
	info("mounted bpffs at %s\n", root);
	return 0;
}

/*
 * Appending a verdict reason grows satp_counters, and libbpf fails the whole
 * load over a pinned map of another size. Counters are statistics and
 * satp_cfg is configuration every start writes anew: unpin them so that this
 * build creates its own. Any other map of another layout holds state (replay
 * windows) and stays refused with a clear error.
 */
static int drop_stale_pin(const struct bpf_map *map, const char *path)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path), err;

	if (fd < 0)
		return 0; /* nothing pinned, or libbpf says why when it tries */
	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (err || (info.type == bpf_map__type(map) && info.key_size == bpf_map__key_size(map) &&
		    info.value_size == bpf_map__value_size(map) &&
		    info.max_entries == bpf_map__max_entries(map) &&
		    info.map_flags == bpf_map__map_flags(map)))
		return 0;
	warn("pinned map %s has another layout (an older or newer build): replaced, it starts "
	     "over\n",
	     path);
	return unlink(path) ? -errno : 0;
}

static int set_pin_paths(struct satp_xdp *x)
{
	struct bpf_map *map;
	char path[PATH_MAX];
	int err;

	bpf_object__for_each_map(map, x->skel->obj)
	{
		if (bpf_map__is_internal(map))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", x->pin_dir, bpf_map__name(map)) >=
		    (int)sizeof(path))
			return -ENAMETOOLONG;
		err = map == x->skel->maps.satp_counters || map == x->skel->maps.satp_cfg
			  ? drop_stale_pin(map, path)
			  : 0;
		if (!err)
			err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return 0;
}

static int prepare_pins(struct satp_xdp *x, const struct satp_xdp_opts *o)
{
	const char *root = o->pin_root ? o->pin_root : SATP_XDP_PIN_ROOT_DEFAULT;
	char dir[PATH_MAX];
	int err;

	if (snprintf(x->pin_root, sizeof(x->pin_root), "%s", root) >= (int)sizeof(x->pin_root) ||
	    snprintf(dir, sizeof(dir), "%s/%s", root, SATP_XDP_PIN_SUBDIR) >= (int)sizeof(dir) ||
	    snprintf(x->pin_dir, sizeof(x->pin_dir), "%s/%s", dir, x->ifname) >=
		(int)sizeof(x->pin_dir)) {
		warn("pin root '%s' is too long\n", root);
		return -ENAMETOOLONG;
	}
	err = ensure_bpffs(root);
	if (err)
		return err;
	/* libxdp keeps its dispatcher state in a bpffs too: the same one. */
	setenv(XDP_BPFFS_ENVVAR, root, 0);
	err = ensure_dir(dir);
	if (!err)
		err = ensure_dir(x->pin_dir);
	if (!err)
		err = set_pin_paths(x);
	x->pinned = !err;
	return err;
}

int satp_xdp_unpin(const char *pin_root, const char *ifname)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *de;
	DIR *d;
	int err = 0;

	if (!pin_root)
		pin_root = SATP_XDP_PIN_ROOT_DEFAULT;
	if (!ifname || !*ifname || strchr(ifname, '/'))
		return -EINVAL;
	if (snprintf(dir, sizeof(dir), "%s/%s/%s", pin_root, SATP_XDP_PIN_SUBDIR, ifname) >=
	    (int)sizeof(dir))
		return -ENAMETOOLONG;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) && !err)
			err = -errno;
	}
	closedir(d);
	if (rmdir(dir) && !err)
		err = -errno;
	if (err)
		warn("cannot remove pins under '%s': %s\n", dir, strerror(-err));
	return err;
}

/* ---------------------------------------------------------------- open/close */

static int map_windows(struct satp_xdp *x)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = (size_t)SATP_XDP_WINDOW_SLOTS * sizeof(struct satp_window);
	void *p;

	len = (len + page - 1) / page * page;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(x->skel->maps.satp_windows), 0);
	if (p == MAP_FAILED) {
		int err = -errno;

		warn("cannot mmap the window array: %s\n", strerror(-err));
		return err;
	}
	x->windows = p;
	x->windows_len = len;
	return 0;
}

static int check_opts(const struct satp_xdp_opts *o)
{
	if (!o)
		return -EINVAL;
	if (o->mode != SATP_XDP_MODE_NONE && o->mode != SATP_XDP_MODE_NATIVE &&
	    o->mode != SATP_XDP_MODE_SKB) {
		warn("unknown attach mode %d\n", (int)o->mode);
		return -EINVAL;
	}
	if (o->no_pin && !o->ifname)
		return 0;
	if (!o->ifname || !*o->ifname || strlen(o->ifname) >= IF_NAMESIZE ||
	    strchr(o->ifname, '/')) {
		warn("invalid interface name '%s'\n", o->ifname ? o->ifname : "");
		return -EINVAL;
	}
	return 0;
}

static int load_skel(struct satp_xdp *x)
{
	int err = satp_xdp_bpf__load(x->skel);

	if (err && x->pinned)
		warn("cannot load satp_rx with the maps pinned under %s (%s); if they were "
		     "left by another satpd version, remove them (satp_xdp_unpin)\n",
		     x->pin_dir, strerror(-err));
	else if (err)
		warn("cannot load satp_rx: %s\n", strerror(-err));
	return err;
}

int satp_xdp_open(const struct satp_xdp_opts *o, struct satp_xdp **out)
{
	struct satp_xdp *x;
	int err;

	err = check_opts(o);
	if (err)
		return err;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	if (o->ifname)
		snprintf(x->ifname, sizeof(x->ifname), "%s", o->ifname);
	x->want_mode = o->mode;
	x->replace = o->replace;

	x->ncpus = libbpf_num_possible_cpus();
	if (x->ncpus <= 0) {
		err = x->ncpus ? x->ncpus : -EINVAL;
		goto fail;
	}
	x->percpu = calloc((size_t)x->ncpus,
			   sizeof(struct satp_xdp_sender_stats) + sizeof(struct satp_xdp_counter));
	x->skel = satp_xdp_bpf__open();
	if (!x->percpu || !x->skel) {
		err = x->skel ? -ENOMEM : -errno;
		goto fail;
	}
	if (!o->no_pin) {
		err = prepare_pins(x, o);
		if (err)
			goto fail;
	}
	err = load_skel(x);
	if (err)
		goto fail;
	err = map_windows(x);
	if (err)
		goto fail;
	debug("loaded satp_rx (fd %d)%s%s\n", bpf_program__fd(x->skel->progs.satp_rx),
	      x->pinned ? ", maps pinned under " : "", x->pinned ? x->pin_dir : "");
	*out = x;
	return 0;
fail:
	satp_xdp_close(x);
	return err;
}

void satp_xdp_close(struct satp_xdp *x)
{
	if (!x)
		return;
	if (x->windows)
		munmap(x->windows, x->windows_len);
	xdp_program__close(x->xprog);
	satp_xdp_bpf__destroy(x->att);
	satp_xdp_bpf__destroy(x->skel);
	free(x->percpu);
	free(x);
}

/* ---------------------------------------------------------------- attach */

static int write_attach_info(struct satp_xdp *x)
{
	struct satp_xdp_config cfg;
	__u32 key = 0;
	int fd = bpf_map__fd(x->skel->maps.satp_cfg);

	if (bpf_map_lookup_elem(fd, &key, &cfg))
		return -errno;
	cfg.attach_mode = x->mode;
	cfg.attach_flags = x->dispatcher ? SATP_XDP_ATTACH_DISPATCHER : 0;
	cfg.prog_id = x->prog_id;
	return bpf_map_update_elem(fd, &key, &cfg, BPF_ANY) ? -errno : 0;
}

/*
 * A satp_rx left by a previous daemon, alone or in a dispatcher: 1 when found
 * (and removed, when asked), 0 when not, or a negative errno.
 */
static int stale_satp_rx(int ifindex, bool remove)
{
	struct xdp_program *p = NULL;
	struct xdp_multiprog *mp;
	int err = 0, found = 0;

	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (!mp || libxdp_get_error(mp))
		return 0;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		found = p && !strcmp(xdp_program__name(p), SATP_XDP_PROG_NAME);
		if (found && remove) {
			info("removing satp_rx id %u found on the interface\n", xdp_program__id(p));
			err = xdp_multiprog__detach(mp);
		}
	} else {
		while (!found && (p = xdp_multiprog__next_prog(p, mp)))
			found = !strcmp(xdp_program__name(p), SATP_XDP_PROG_NAME);
		if (found && remove) {
			info("removing satp_rx id %u from the dispatcher\n", xdp_program__id(p));
			err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
		}
	}
	xdp_multiprog__close(mp);
	return err ? err : found;
}

int satp_xdp_remove_stale(const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);

	return ifindex ? stale_satp_rx(ifindex, true) : -ENODEV;
}

/* A fresh instance sharing skel's maps, for libxdp to load its own way. */
static int open_att(struct satp_xdp *x)
{
	struct bpf_map *map, *owner;
	int err;

	x->att = satp_xdp_bpf__open();
	if (!x->att)
		return -errno;
	/* libxdp attaches satp_rx; RAIL links take skel's satp_rail_rx. */
	bpf_program__set_autoload(x->att->progs.satp_rail_rx, false);
	bpf_object__for_each_map(map, x->att->obj)
	{
		if (bpf_map__is_internal(map))
			continue;
		owner = bpf_object__find_map_by_name(x->skel->obj, bpf_map__name(map));
		if (!owner)
			return -ENOENT;
		err = bpf_map__reuse_fd(map, bpf_map__fd(owner));
		if (err)
			return err;
	}
	return 0;
}

static void drop_att(struct satp_xdp *x)
{
	xdp_program__close(x->xprog);
	x->xprog = NULL;
	satp_xdp_bpf__destroy(x->att);
	x->att = NULL;
}

static int attach_libxdp(struct satp_xdp *x, enum satp_xdp_attach_mode mode)
{
	struct xdp_program_opts opts = {.sz = sizeof(opts), .prog_name = SATP_XDP_PROG_NAME};
	struct xdp_multiprog *mp;
	int err;

	err = open_att(x);
	if (err)
		goto fail;
	opts.obj = x->att->obj;
	x->xprog = xdp_program__create(&opts);
	if (!x->xprog) {
		err = -errno;
		goto fail;
	}
	err = xdp_program__attach(x->xprog, x->ifindex, to_libxdp_mode(mode), 0);
	if (err)
		goto fail;

	x->mode = mode;
	x->prog_id = xdp_program__id(x->xprog);
	mp = xdp_multiprog__get_from_ifindex(x->ifindex);
	if (mp && !libxdp_get_error(mp)) {
		x->dispatcher = !xdp_multiprog__is_legacy(mp);
		x->mode = from_libxdp_mode(xdp_multiprog__attach_mode(mp));
		xdp_multiprog__close(mp);
	}
	return 0;
fail:
	drop_att(x);
	return err;
}

/* When libxdp cannot attach at all: the XDP-typed program, through netlink. */
static int attach_plain(struct satp_xdp *x, enum satp_xdp_attach_mode mode)
{
	__u32 flags = XDP_FLAGS_UPDATE_IF_NOEXIST |
		      (mode == SATP_XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	int fd = bpf_program__fd(x->skel->progs.satp_rx);
	struct bpf_prog_info pi = {};
	__u32 len = sizeof(pi);
	int err;

	err = bpf_xdp_attach(x->ifindex, fd, flags, NULL);
	if (err)
		return err;
	x->plain = true;
	x->dispatcher = false;
	x->mode = mode;
	if (!bpf_obj_get_info_by_fd(fd, &pi, &len))
		x->prog_id = pi.id;
	return 0;
}

static int attach_mode(struct satp_xdp *x, enum satp_xdp_attach_mode mode)
{
	int err = attach_libxdp(x, mode);

	if (!err || err == -EEXIST || err == -EBUSY || err == -EOPNOTSUPP)
		return err;
	warn("libxdp could not attach satp_rx to %s in %s mode (%s); trying a plain attach\n",
	     x->ifname, satp_xdp_mode_name(mode), strerror(-err));
	return attach_plain(x, mode);
}

/* Say what holds the interface, so the operator knows whether replace is right. */
static void report_busy(const struct satp_xdp *x)
{
	struct xdp_multiprog *mp;
	struct xdp_program *main_prog = NULL;

	if (stale_satp_rx(x->ifindex, false) == 1) {
		warn("%s already has satp_rx from an earlier run; attach with replace to take it "
		     "over\n",
		     x->ifname);
		return;
	}
	mp = xdp_multiprog__get_from_ifindex(x->ifindex);
	if (mp && !libxdp_get_error(mp))
		main_prog = xdp_multiprog__main_prog(mp);
	warn("%s already has an XDP program (%s id %u) that cannot share the interface; "
	     "remove it first\n",
	     x->ifname, main_prog ? xdp_program__name(main_prog) : "unknown",
	     main_prog ? xdp_program__id(main_prog) : 0);
	if (mp && !libxdp_get_error(mp))
		xdp_multiprog__close(mp);
}

int satp_xdp_attach(struct satp_xdp *x)
{
	enum satp_xdp_attach_mode mode;
	int err;

	if (!x || !x->ifname[0])
		return -EINVAL;
	if (x->mode != SATP_XDP_MODE_NONE)
		return -EALREADY;
	x->ifindex = (int)if_nametoindex(x->ifname);
	if (!x->ifindex) {
		err = -errno;
		warn("no interface '%s': %s\n", x->ifname, strerror(-err));
		return err;
	}
	/* Never a second satp_rx beside the first in a dispatcher. */
	err = stale_satp_rx(x->ifindex, x->replace);
	if (err < 0)
		warn("cannot remove the old satp_rx from %s: %s\n", x->ifname, strerror(-err));
	if (err == 1 && !x->replace) {
		report_busy(x);
		return -EEXIST;
	}
	x->took_over = err == 1;

	mode = x->want_mode == SATP_XDP_MODE_SKB ? SATP_XDP_MODE_SKB : SATP_XDP_MODE_NATIVE;
	err = attach_mode(x, mode);
	if (err == -EOPNOTSUPP && x->want_mode == SATP_XDP_MODE_NONE) {
		warn("%s has no native XDP; falling back to skb mode\n", x->ifname);
		err = attach_mode(x, SATP_XDP_MODE_SKB);
	}
	if (err) {
		if (err == -EEXIST || err == -EBUSY)
			report_busy(x);
		else
			warn("cannot attach satp_rx to %s: %s\n", x->ifname, strerror(-err));
		x->mode = SATP_XDP_MODE_NONE;
		return err;
	}
	info("satp_rx attached to %s in %s mode %s (prog id %u)\n", x->ifname,
	     satp_xdp_mode_name(x->mode),
	     x->dispatcher ? "through the libxdp dispatcher"
			   : (x->plain ? "by a plain netlink attach (libxdp failed)"
				       : "as a single program (libxdp's dispatcher unavailable)"),
	     x->prog_id);
	return write_attach_info(x);
}

/* ---------------------------------------------------------------- RAIL links */

static __u32 link_flags(const struct satp_xdp *x)
{
	enum satp_xdp_attach_mode m = x->mode != SATP_XDP_MODE_NONE ? x->mode : x->want_mode;

	return m == SATP_XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

/* The fd of a satp_rail_rx an earlier run left on ifindex (to replace it), else -ENOENT. */
static int stale_link(int ifindex, __u32 flags)
{
	struct bpf_prog_info pi = {};
	__u32 id = 0, len = sizeof(pi);
	int fd;

	if (bpf_xdp_query_id(ifindex, flags, &id) || !id)
		return -ENOENT;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	if (!bpf_obj_get_info_by_fd(fd, &pi, &len) && !strcmp(pi.name, SATP_XDP_LINK_NAME))
		return fd;
	close(fd);
	return -EBUSY;
}

int satp_xdp_attach_link(struct satp_xdp *x, const char *ifname)
{
	struct bpf_xdp_attach_opts opts = {.sz = sizeof(opts)};
	int fd = bpf_program__fd(x->skel->progs.satp_rail_rx);
	int ifindex = (int)if_nametoindex(ifname), err;
	__u32 flags = link_flags(x);
	unsigned int i;

	if (!ifindex)
		return -ENODEV;
	for (i = 0; i < x->n_links; i++)
		if (x->links[i] == ifindex)
			return 0;
	if (x->n_links >= SATP_XDP_MAX_LINKS || ifindex == x->ifindex) {
		warn("RAIL link %s: the interface of satp_rx, or more than %u links\n", ifname,
		     SATP_XDP_MAX_LINKS);
		return -EINVAL;
	}
	err = bpf_xdp_attach(ifindex, fd, flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err == -EBUSY) {
		opts.old_prog_fd = stale_link(ifindex, flags);
		if (opts.old_prog_fd >= 0) {
			info("replacing the satp_rail_rx found on %s\n", ifname);
			err = bpf_xdp_attach(ifindex, fd, flags | XDP_FLAGS_REPLACE, &opts);
			close(opts.old_prog_fd);
		}
	}
	if (err) {
		warn("cannot attach satp_rail_rx to %s: %s\n", ifname, strerror(-err));
		return err;
	}
	x->links[x->n_links++] = ifindex;
	info("satp_rail_rx attached to %s (RAIL link)\n", ifname);
	return 0;
}

static int detach_link(struct satp_xdp *x, int ifindex)
{
	struct bpf_xdp_attach_opts opts = {.sz = sizeof(opts)};
	unsigned int i;
	int err;

	for (i = 0; i < x->n_links && x->links[i] != ifindex; i++)
		;
	if (i == x->n_links)
		return -ENOENT;
	opts.old_prog_fd = bpf_program__fd(x->skel->progs.satp_rail_rx);
	err = bpf_xdp_detach(ifindex, link_flags(x) | XDP_FLAGS_REPLACE, &opts);
	x->links[i] = x->links[--x->n_links];
	/* gone with its interface: nothing left to detach */
	return err == -ENODEV ? 0 : err;
}

int satp_xdp_detach_link(struct satp_xdp *x, const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);

	return ifindex ? detach_link(x, ifindex) : -ENODEV;
}

unsigned int satp_xdp_links(const struct satp_xdp *x)
{
	return x->n_links;
}

int satp_xdp_link_prog_fd(const struct satp_xdp *x)
{
	return bpf_program__fd(x->skel->progs.satp_rail_rx);
}

int satp_xdp_detach(struct satp_xdp *x)
{
	struct bpf_xdp_attach_opts opts = {.sz = sizeof(opts)};
	__u32 flags;
	int err;

	if (!x || x->mode == SATP_XDP_MODE_NONE)
		return -EINVAL;
	/*
	 * Alone on the interface (no dispatcher): detach through netlink, replacing our own fd,
	 * which takes CAP_NET_ADMIN only; libxdp would look the program up by id (CAP_SYS_ADMIN),
	 * which a daemon that dropped its capabilities no longer has.
	 */
	if (x->plain || !x->dispatcher) {
		flags = x->mode == SATP_XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
		opts.old_prog_fd =
		    x->plain ? bpf_program__fd(x->skel->progs.satp_rx) : xdp_program__fd(x->xprog);
		err = bpf_xdp_detach(x->ifindex, flags | XDP_FLAGS_REPLACE, &opts);
	} else {
		err = xdp_program__detach(x->xprog, x->ifindex, to_libxdp_mode(x->mode), 0);
	}
	if (err) {
		warn("cannot detach satp_rx from %s: %s\n", x->ifname, strerror(-err));
		return err;
	}
	info("satp_rx detached from %s\n", x->ifname);
	while (x->n_links)
		detach_link(x, x->links[x->n_links - 1]);
	drop_att(x);
	x->mode = SATP_XDP_MODE_NONE;
	x->dispatcher = false;
	x->plain = false;
	x->prog_id = 0;
	return write_attach_info(x);
}

/* ---------------------------------------------------------------- accessors */

int satp_xdp_prog_fd(const struct satp_xdp *x)
{
	return bpf_program__fd(x->skel->progs.satp_rx);
}

uint32_t satp_xdp_prog_id(const struct satp_xdp *x)
{
	return x->prog_id;
}

enum satp_xdp_attach_mode satp_xdp_mode(const struct satp_xdp *x)
{
	return x->mode;
}

bool satp_xdp_took_over(const struct satp_xdp *x)
{
	return x->took_over;
}

bool satp_xdp_dispatcher(const struct satp_xdp *x)
{
	return x->dispatcher;
}

const char *satp_xdp_pin_dir(const struct satp_xdp *x)
{
	return x->pinned ? x->pin_dir : "";
}

struct satp_window *satp_xdp_windows(struct satp_xdp *x)
{
	return x->windows;
}

/* ---------------------------------------------------------------- configuration */

static int update(struct bpf_map *map, const void *key, const void *val, const char *what)
{
	if (bpf_map_update_elem(bpf_map__fd(map), key, val, BPF_ANY)) {
		int err = -errno;

		warn("cannot update %s: %s\n", what, strerror(-err));
		return err;
	}
	return 0;
}

static int delete (struct bpf_map *map, const void *key)
{
	return bpf_map_delete_elem(bpf_map__fd(map), key) ? -errno : 0;
}

int satp_xdp_set_port_range(struct satp_xdp *x, uint16_t first, uint16_t last, bool on)
{
	int fd = bpf_map__fd(x->skel->maps.satp_ports);
	__u32 port, key;
	__u64 word;
	int err;

	if (first > last) {
		warn("empty port range %u:%u\n", first, last);
		return -EINVAL;
	}
	for (port = first; port <= last; port++) {
		key = port / 64;
		if (bpf_map_lookup_elem(fd, &key, &word))
			return -errno;
		if (on)
			word |= 1ull << (port % 64);
		else
			word &= ~(1ull << (port % 64));
		err = update(x->skel->maps.satp_ports, &key, &word, "the port set");
		if (err)
			return err;
	}
	return 0;
}

int satp_xdp_set_port(struct satp_xdp *x, uint16_t port, bool on)
{
	return satp_xdp_set_port_range(x, port, port, on);
}

static int read_cfg(struct satp_xdp *x, struct satp_xdp_config *cfg)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(bpf_map__fd(x->skel->maps.satp_cfg), &key, cfg) ? -errno : 0;
}

static int write_cfg(struct satp_xdp *x, const struct satp_xdp_config *cfg)
{
	__u32 key = 0;

	return update(x->skel->maps.satp_cfg, &key, cfg, "the config");
}

_Static_assert(sizeof(struct satp_xdp_path_stats) <=
		   sizeof(struct satp_xdp_sender_stats) + sizeof(struct satp_xdp_counter),
	       "x->percpu holds one per-CPU path counter");

/* RAIL paths are numbered by this run's configuration: another run's tuples and counts go. */
static int reset_rail(struct satp_xdp *x)
{
	int idx = bpf_map__fd(x->skel->maps.satp_rail_idx);
	int stats = bpf_map__fd(x->skel->maps.satp_rail_stats);
	struct satp_xdp_path_key key;
	__u32 i;

	while (!bpf_map_get_next_key(idx, NULL, &key))
		if (bpf_map_delete_elem(idx, &key))
			return -errno;
	memset(x->percpu, 0, (size_t)x->ncpus * sizeof(struct satp_xdp_path_stats));
	for (i = 0; i < SATP_XDP_RAIL_PATHS; i++)
		if (bpf_map_update_elem(stats, &i, x->percpu, BPF_ANY))
			return -errno;
	return 0;
}

/* Deleting while walking: always ask for the first key again. */
static int clear_map(struct bpf_map *map)
{
	int fd = bpf_map__fd(map);
	struct satp_xdp_route6_key key; /* the largest key we clear */

	while (!bpf_map_get_next_key(fd, NULL, &key))
		if (bpf_map_delete_elem(fd, &key))
			return -errno;
	return 0;
}

int satp_xdp_reset_config(struct satp_xdp *x)
{
	int ports = bpf_map__fd(x->skel->maps.satp_ports);
	int conns = bpf_map__fd(x->skel->maps.satp_conns);
	struct satp_xdp_conn_key key;
	struct satp_xdp_config cfg;
	__u64 zero = 0;
	__u32 i;
	int err;

	for (i = 0; i < SATP_XDP_PORT_WORDS; i++)
		if (bpf_map_update_elem(ports, &i, &zero, BPF_ANY))
			return -errno;
	/* Deleting while walking: always ask for the first key again. */
	while (!bpf_map_get_next_key(conns, NULL, &key))
		if (bpf_map_delete_elem(conns, &key))
			return -errno;
	err = reset_rail(x);
	if (!err)
		err = clear_map(x->skel->maps.satp_routes4);
	if (!err)
		err = clear_map(x->skel->maps.satp_routes6);
	if (!err)
		err = read_cfg(x, &cfg);
	if (err)
		return err;
	cfg.flags = 0;
	cfg.hs_pps = cfg.hs_burst = 0;
	cfg.hs_ceiling_pps = cfg.hs_ceiling_burst = 0;
	cfg.unv_pps = cfg.unv_burst = 0;
	cfg.n_addr4 = cfg.n_addr6 = 0;
	memset(cfg.addr4, 0, sizeof(cfg.addr4));
	memset(cfg.addr6, 0, sizeof(cfg.addr6));
	return write_cfg(x, &cfg);
}

/* Add or remove one entry of an inline address list (n entries of len bytes). */
static int edit_list(uint8_t *list, __u32 *n, size_t len, const void *addr, bool on)
{
	__u32 i;

	for (i = 0; i < *n; i++)
		if (!memcmp(list + i * len, addr, len))
			break;
	if (on) {
		if (i < *n)
			return 0;
		if (*n == SATP_XDP_MAX_ADDRS)
			return -ENOSPC;
		memcpy(list + (*n)++ * len, addr, len);
		return 0;
	}
	if (i == *n)
		return -ENOENT;
	memmove(list + i * len, list + (i + 1) * len, (*n - i - 1) * len);
	memset(list + --(*n) * len, 0, len);
	return 0;
}

int satp_xdp_set_addr(struct satp_xdp *x, int family, const void *addr, bool on)
{
	struct satp_xdp_config cfg;
	int err;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	err = read_cfg(x, &cfg);
	if (err)
		return err;
	if (family == AF_INET)
		err = edit_list((uint8_t *)cfg.addr4, &cfg.n_addr4, 4, addr, on);
	else
		err = edit_list(&cfg.addr6[0][0], &cfg.n_addr6, 16, addr, on);
	if (err == -ENOSPC)
		warn("more than %u local %s addresses\n", SATP_XDP_MAX_ADDRS,
		     family == AF_INET ? "IPv4" : "IPv6");
	return err ? err : write_cfg(x, &cfg);
}

int satp_xdp_set_flags(struct satp_xdp *x, uint32_t flags)
{
	struct satp_xdp_config cfg;
	int err;

	if (flags &
	    ~(SATP_XDP_ANY_ADDR4 | SATP_XDP_ANY_ADDR6 | SATP_XDP_PASS_UNKNOWN_MUX | SATP_XDP_RAIL))
		return -EINVAL;
	err = read_cfg(x, &cfg);
	if (err)
		return err;
	cfg.flags = flags;
	return write_cfg(x, &cfg);
}

/*
 * A token bucket's rate and burst in satp_cfg (fields at pps_at and burst_at,
 * both __u32). Above 1e9/s the refill interval would round to 0 ns: no limit.
 */
static int set_bucket(struct satp_xdp *x, const char *what, size_t pps_at, size_t burst_at,
		      uint32_t pps, uint32_t burst)
{
	struct satp_xdp_config cfg;
	int err;

	if (pps > SATP_XDP_HS_PPS_MAX) {
		warn("%s %u/s above %u/s\n", what, pps, SATP_XDP_HS_PPS_MAX);
		return -EINVAL;
	}
	err = read_cfg(x, &cfg);
	if (err)
		return err;
	memcpy((char *)&cfg + pps_at, &pps, sizeof(pps));
	memcpy((char *)&cfg + burst_at, &burst, sizeof(burst));
	return write_cfg(x, &cfg);
}

int satp_xdp_set_hs_ratelimit(struct satp_xdp *x, uint32_t pps, uint32_t burst)
{
	return set_bucket(x, "handshake budget", offsetof(struct satp_xdp_config, hs_pps),
			  offsetof(struct satp_xdp_config, hs_burst), pps, burst);
}

int satp_xdp_set_hs_ceiling(struct satp_xdp *x, uint32_t pps, uint32_t burst)
{
	struct satp_xdp_hs_budget full = {0};
	__u32 zero = 0;
	int err;

	err = set_bucket(x, "handshake ceiling", offsetof(struct satp_xdp_config, hs_ceiling_pps),
			 offsetof(struct satp_xdp_config, hs_ceiling_burst), pps, burst);
	/* a debt run up at the old rate would count at the new one: start full */
	return err ? err
		   : update(x->skel->maps.satp_hs_ceiling, &zero, &full, "the handshake ceiling");
}

int satp_xdp_set_unverified_budget(struct satp_xdp *x, uint32_t pps, uint32_t burst)
{
	return set_bucket(x, "unverified-sender budget", offsetof(struct satp_xdp_config, unv_pps),
			  offsetof(struct satp_xdp_config, unv_burst), pps, burst);
}

int satp_xdp_set_conn(struct satp_xdp *x, uint16_t mux, unsigned int tag_len, uint32_t window_size)
{
	struct satp_xdp_conn_key key = {.mux = mux};
	struct satp_xdp_conn val = {.window_size = window_size, .tag_len = (__u8)tag_len};
	struct satp_xdp_conn old;

	if (mux == SATP_HS_MUX) {
		warn("mux %u is reserved for handshake messages\n", mux);
		return -EINVAL;
	}
	if (tag_len > SATP_TAG_MAX || window_size > SATP_WINDOW_BITS) {
		warn("mux %u: tag length %u or window %u out of range (max %u, %u)\n", mux, tag_len,
		     window_size, SATP_TAG_MAX, SATP_WINDOW_BITS);
		return -EINVAL;
	}
	/* Flags are the connection's kind, set apart (satp_xdp_set_conn_flags): a new -b or -w
	 * does not change it. */
	if (!bpf_map_lookup_elem(bpf_map__fd(x->skel->maps.satp_conns), &key, &old))
		val.flags = old.flags;
	return update(x->skel->maps.satp_conns, &key, &val, "the connection map");
}

int satp_xdp_set_conn_flags(struct satp_xdp *x, uint16_t mux, uint32_t flags)
{
	struct satp_xdp_conn_key key = {.mux = mux};
	struct satp_xdp_conn val;

	if (flags & ~SATP_XDP_CONN_FLAGS) {
		warn("mux %u: unknown connection flags %#x\n", mux, flags & ~SATP_XDP_CONN_FLAGS);
		return -EINVAL;
	}
	if (bpf_map_lookup_elem(bpf_map__fd(x->skel->maps.satp_conns), &key, &val))
		return -errno;
	val.flags = flags;
	return update(x->skel->maps.satp_conns, &key, &val, "the connection map");
}

int satp_xdp_del_conn(struct satp_xdp *x, uint16_t mux)
{
	struct satp_xdp_conn_key key = {.mux = mux};

	return delete (x->skel->maps.satp_conns, &key);
}

/* The trie and key of a prefix, host bits cleared: one entry per prefix however it was written. */
static int route_key(struct satp_xdp *x, int family, const void *addr, unsigned int len,
		     struct satp_xdp_route6_key *key, struct bpf_map **map)
{
	unsigned int bytes = family == AF_INET ? 4 : 16, i;

	if ((family != AF_INET && family != AF_INET6) || len > bytes * 8) {
		warn("route: bad family %d or prefix length %u\n", family, len);
		return -EINVAL;
	}
	memset(key, 0, sizeof(*key));
	key->prefixlen = len;
	memcpy(key->addr, addr, bytes);
	for (i = 0; i < bytes; i++)
		if (len <= i * 8)
			key->addr[i] = 0;
		else if (len < (i + 1) * 8)
			key->addr[i] &= (uint8_t)(0xff00 >> (len - i * 8));
	*map = family == AF_INET ? x->skel->maps.satp_routes4 : x->skel->maps.satp_routes6;
	return 0;
}

_Static_assert(offsetof(struct satp_xdp_route4_key, addr) ==
		   offsetof(struct satp_xdp_route6_key, addr),
	       "an IPv4 key is the start of an IPv6 one");

int satp_xdp_set_route(struct satp_xdp *x, int family, const void *addr, unsigned int len,
		       uint16_t mux)
{
	struct satp_xdp_route val = {.mux = mux};
	struct satp_xdp_route6_key key;
	struct bpf_map *map;
	int err = route_key(x, family, addr, len, &key, &map);

	return err ? err : update(map, &key, &val, "the route trie");
}

int satp_xdp_del_route(struct satp_xdp *x, int family, const void *addr, unsigned int len)
{
	struct satp_xdp_route6_key key;
	struct bpf_map *map;
	int err = route_key(x, family, addr, len, &key, &map);

	return err ? err : delete (map, &key);
}

int satp_xdp_lookup_route(struct satp_xdp *x, int family, const void *addr, uint16_t *mux)
{
	struct satp_xdp_route6_key key;
	struct satp_xdp_route val;
	struct bpf_map *map;
	int err = route_key(x, family, addr, family == AF_INET ? 32 : 128, &key, &map);

	if (err)
		return err;
	if (bpf_map_lookup_elem(bpf_map__fd(map), &key, &val))
		return -errno;
	*mux = val.mux;
	return 0;
}

int satp_xdp_bind_window(struct satp_xdp *x, uint16_t mux, uint16_t sender_id, uint32_t slot)
{
	struct satp_xdp_sender_key key = {.mux = mux, .sender_id = sender_id};

	if (slot >= SATP_XDP_WINDOW_SLOTS)
		return -EINVAL;
	return update(x->skel->maps.satp_win_idx, &key, &slot, "the window index");
}

int satp_xdp_unbind_window(struct satp_xdp *x, uint16_t mux, uint16_t sender_id)
{
	struct satp_xdp_sender_key key = {.mux = mux, .sender_id = sender_id};

	return delete (x->skel->maps.satp_win_idx, &key);
}

int satp_xdp_find_window(struct satp_xdp *x, uint16_t mux, uint16_t sender_id, uint32_t *slot)
{
	struct satp_xdp_sender_key key = {.mux = mux, .sender_id = sender_id};

	return bpf_map_lookup_elem(bpf_map__fd(x->skel->maps.satp_win_idx), &key, slot) ? -errno
											: 0;
}

int satp_xdp_for_each_window(struct satp_xdp *x, satp_xdp_window_fn fn, void *ctx)
{
	int fd = bpf_map__fd(x->skel->maps.satp_win_idx);
	struct satp_xdp_sender_key key, next;
	void *prev = NULL;
	__u32 slot;
	int err;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &slot))
			continue; /* deleted meanwhile */
		err = fn(ctx, key.mux, key.sender_id, slot);
		if (err)
			return err;
	}
	return errno == ENOENT ? 0 : -errno;
}

int satp_xdp_register_xsk(struct satp_xdp *x, uint32_t queue, int xsk_fd)
{
	if (queue >= SATP_XDP_MAX_QUEUES || xsk_fd < 0)
		return -EINVAL;
	return update(x->skel->maps.satp_xsks, &queue, &xsk_fd, "the XSKMAP");
}

int satp_xdp_unregister_xsk(struct satp_xdp *x, uint32_t queue)
{
	return delete (x->skel->maps.satp_xsks, &queue);
}

int satp_xdp_set_rail_path(struct satp_xdp *x, const struct satp_xdp_path_key *key, uint32_t path,
			   bool on)
{
	if (path >= SATP_XDP_RAIL_PATHS || (key->family != AF_INET && key->family != AF_INET6)) {
		warn("RAIL path %u of family %u: no such path\n", path, key->family);
		return -EINVAL;
	}
	if (!on)
		return delete (x->skel->maps.satp_rail_idx, key);
	return update(x->skel->maps.satp_rail_idx, key, &path, "the RAIL paths");
}

/* ---------------------------------------------------------------- counters */

int satp_xdp_read_counters(struct satp_xdp *x, struct satp_xdp_counter out[SATP_XDP_REASON_MAX])
{
	int fd = bpf_map__fd(x->skel->maps.satp_counters);
	struct satp_xdp_counter *v = x->percpu;
	__u32 r;
	int cpu;

	for (r = 0; r < SATP_XDP_REASON_MAX; r++) {
		if (bpf_map_lookup_elem(fd, &r, v))
			return -errno;
		out[r].packets = out[r].bytes = 0;
		for (cpu = 0; cpu < x->ncpus; cpu++) {
			out[r].packets += v[cpu].packets;
			out[r].bytes += v[cpu].bytes;
		}
	}
	return 0;
}

int satp_xdp_clear_sender_stats(struct satp_xdp *x, uint32_t slot)
{
	memset(x->percpu, 0, (size_t)x->ncpus * sizeof(struct satp_xdp_sender_stats));
	return update(x->skel->maps.satp_snd_stats, &slot, x->percpu, "the sender counters");
}

int satp_xdp_read_sender_stats(struct satp_xdp *x, uint32_t slot, struct satp_xdp_sender_stats *out)
{
	struct satp_xdp_sender_stats *v = x->percpu;
	int cpu;

	if (bpf_map_lookup_elem(bpf_map__fd(x->skel->maps.satp_snd_stats), &slot, v))
		return -errno;
	memset(out, 0, sizeof(*out));
	for (cpu = 0; cpu < x->ncpus; cpu++) {
		out->rx_packets += v[cpu].rx_packets;
		out->rx_bytes += v[cpu].rx_bytes;
		out->rx_dropped += v[cpu].rx_dropped;
	}
	return 0;
}

/* Its own buffer, not x->percpu: the daemon's control thread reads these beside the main one. */
int satp_xdp_read_rail_stats(struct satp_xdp *x, uint32_t path, struct satp_xdp_path_stats *out)
{
	struct satp_xdp_path_stats *v = calloc((size_t)x->ncpus, sizeof(*v));
	int cpu, err = 0;

	if (!v)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(bpf_map__fd(x->skel->maps.satp_rail_stats), &path, v))
		err = -errno;
	for (cpu = 0; !err && cpu < x->ncpus; cpu++) {
		out->seen += v[cpu].seen;
		out->dropped += v[cpu].dropped;
		if (v[cpu].last_ns > out->last_ns)
			out->last_ns = v[cpu].last_ns;
	}
	free(v);
	return err;
}
