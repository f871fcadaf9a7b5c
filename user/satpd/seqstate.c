// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "seqstate.h"

int satpd_mkdir_p(const char *path)
{
	char buf[SATPD_PATH_MAX];
	char *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int satpd_state_lock(const char *dir, bool *created)
{
	char path[SATPD_PATH_MAX + sizeof(SATPD_STATE_LOCK) + 1];
	struct stat st;
	int fd, ret;

	*created = stat(dir, &st) && errno == ENOENT;
	ret = satpd_mkdir_p(dir);
	if (ret) {
		log_err("state directory '%s': %s", dir, strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, SATPD_STATE_LOCK);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		log_err("state directory lock '%s': %s", path, strerror(errno));
		return ret;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		log_err(
		    "state directory '%s' is in use by another satpd (it holds %s): two daemons "
		    "on one state directory would send with the same sequence numbers; give "
		    "each its own --state-dir",
		    dir, path);
		close(fd);
		return ret;
	}
	return fd;
}

/* Could uid with only group gid create files in a directory of this owner and mode? */
static bool writable_by(const struct stat *st, uid_t uid, gid_t gid)
{
	if (st->st_uid == uid)
		return (st->st_mode & S_IRWXU) == S_IRWXU;
	if (st->st_gid == gid)
		return (st->st_mode & S_IRWXG) == S_IRWXG;
	return (st->st_mode & S_IRWXO) == S_IRWXO;
}

/* satpd's own files in the state directory: reservations, windows, their keys, the lock. */
static bool state_file(const char *name)
{
	return !strncmp(name, "tx-seq.mux", 10) || !strcmp(name, SATPD_WINDOWS_FILE) ||
	       !strcmp(name, SATPD_KEYMEM_FILE) || !strcmp(name, SATPD_STATE_LOCK);
}

static int chown_state_files(int dirfd, uid_t uid, gid_t gid)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *e;
	DIR *dir;
	int ret = 0;

	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(dir)))
		if (state_file(e->d_name) &&
		    fchownat(dirfd, e->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && !ret)
			ret = -errno;
	closedir(dir);
	return ret;
}

int satpd_state_dir_give(const char *dir, bool created, uid_t uid, gid_t gid)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), ret = 0;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		log_err("state directory '%s': %s", dir, strerror(errno));
		goto out;
	}
	if (created && (fchown(fd, uid, gid) < 0 || fchmod(fd, 0700) < 0)) {
		ret = -errno;
		log_err("cannot give the state directory '%s' to uid %u: %s", dir,
			(unsigned int)uid, strerror(errno));
		goto out;
	}
	if (!created && !writable_by(&st, uid, gid)) {
		ret = -EACCES;
		log_err("state directory '%s' (owner uid %u, gid %u, mode %04o) is not writable by "
			"uid %u gid %u (-u/-g): sequence reservations could not be renewed after "
			"the privileges drop; chown it to that user, or remove it and satpd "
			"creates it so",
			dir, (unsigned int)st.st_uid, (unsigned int)st.st_gid,
			(unsigned int)(st.st_mode & 07777), (unsigned int)uid, (unsigned int)gid);
		goto out;
	}
	ret = chown_state_files(fd, uid, gid);
	if (ret)
		log_err("cannot give the files in '%s' to uid %u: %s", dir, (unsigned int)uid,
			strerror(-ret));
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static int read_state(struct satpd_seq *s, uint64_t *val)
{
	char buf[32], *end;
	ssize_t n;
	int fd;

	fd = openat(s->dirfd, s->name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EINVAL;
	buf[n] = '\0';
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

/* Write, fsync, rename: the file holds the old or the new reservation, never half. */
static int write_state(struct satpd_seq *s, uint64_t val)
{
	char tmp[80], buf[32];
	int fd, len, ret = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", s->name);
	len = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", val);
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)len) != len || fsync(fd) < 0)
		ret = errno ? -errno : -EIO;
	close(fd);
	if (!ret && renameat(s->dirfd, tmp, s->dirfd, s->name) < 0)
		ret = -errno;
	if (!ret && fsync(s->dirfd) < 0)
		ret = -errno;
	return ret;
}

/*
 * The file never goes down: another object on the same file (a connection
 * that adopted another mux keeps its file, and a new one may open it) can
 * have reserved beyond us. Read and write are one step under a flock of the
 * directory; a file already at or past upto covers our numbers as it is.
 */
static int reserve(struct satpd_seq *s, uint64_t from)
{
	uint64_t upto = from + SATPD_SEQ_RESERVE, on_disk = 0;
	int ret;

	if (upto > (uint64_t)SATPD_SEQ_LAST + 1)
		upto = (uint64_t)SATPD_SEQ_LAST + 1;
	if (upto <= atomic_load(&s->reserved))
		return 0; /* never shrink what is on disk */
	if (flock(s->dirfd, LOCK_EX) < 0)
		return -errno;
	ret = read_state(s, &on_disk);
	if (!ret && on_disk < upto)
		ret = write_state(s, upto);
	flock(s->dirfd, LOCK_UN);
	if (ret)
		return ret;
	atomic_store(&s->reserved, upto);
	return 0;
}

int satpd_seq_open_at(struct satpd_seq *s, int dirfd, const char *dir, uint16_t mux)
{
	uint64_t start = 0;
	int ret;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->refill, NULL);
	snprintf(s->name, sizeof(s->name), "tx-seq.mux%u", mux);
	/* an open file description of its own: reserve()'s flock excludes the other objects */
	s->dirfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		ret = -errno;
		log_err("state directory '%s': %s", dir, strerror(errno));
		return ret;
	}
	ret = read_state(s, &start);
	if (ret) {
		log_err("state file '%s/%s' is unreadable or corrupt (%s); refusing to guess a "
			"sequence number",
			dir, s->name, strerror(-ret));
		goto err;
	}
	if (start > SATPD_SEQ_LAST) {
		log_err("%s/%s: every sequence number of this key is used; change the key and "
			"remove the file",
			dir, s->name);
		ret = -ENOSPC;
		goto err;
	}
	ret = reserve(s, start);
	if (ret) {
		log_err("cannot write state file '%s/%s': %s", dir, s->name, strerror(-ret));
		goto err;
	}
	atomic_store(&s->next, start);
	s->start = start;
	log_info("mux %u: outgoing sequence numbers start at %" PRIu64 " (reserved up to %" PRIu64
		 " in %s/%s)",
		 mux, start, (uint64_t)atomic_load(&s->reserved), dir, s->name);
	return 0;
err:
	close(s->dirfd);
	s->dirfd = -1;
	return ret;
}

int satpd_seq_open(struct satpd_seq *s, const char *dir, uint16_t mux)
{
	int fd, ret;

	s->dirfd = -1;
	ret = satpd_mkdir_p(dir);
	if (ret) {
		log_err("state directory '%s': %s", dir, strerror(-ret));
		return ret;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		log_err("state directory '%s': %s", dir, strerror(errno));
		return ret;
	}
	ret = satpd_seq_open_at(s, fd, dir, mux);
	close(fd);
	return ret;
}

int satpd_seq_take(struct satpd_seq *s, uint32_t *seq)
{
	uint64_t n = atomic_fetch_add(&s->next, 1);
	uint64_t reserved = atomic_load(&s->reserved);
	int ret = 0;

	if (n > SATPD_SEQ_LAST)
		return -ENOSPC;
	if (n + SATPD_SEQ_REFILL >= reserved && reserved <= SATPD_SEQ_LAST) {
		/* Workers below the mark go on; the one past it writes, the rest wait for it. */
		if (n < reserved && pthread_mutex_trylock(&s->refill))
			goto out;
		if (n >= reserved)
			pthread_mutex_lock(&s->refill);
		reserved = atomic_load(&s->reserved);
		if (n + SATPD_SEQ_REFILL >= reserved && reserved <= SATPD_SEQ_LAST)
			ret = reserve(s, n + 1);
		pthread_mutex_unlock(&s->refill);
		reserved = atomic_load(&s->reserved);
		if (ret && n >= reserved)
			return ret;
	}
out:
	if (n >= reserved)
		return -ENOSPC;
	*seq = (uint32_t)n;
	return 0;
}

void satpd_seq_close(struct satpd_seq *s)
{
	if (s->dirfd >= 0) {
		close(s->dirfd);
		pthread_mutex_destroy(&s->refill);
	}
	s->dirfd = -1;
}
