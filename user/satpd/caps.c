// SPDX-License-Identifier: GPL-2.0-only
/*
 * Capabilities through the raw capset(2) and prctl(2) interfaces: no libcap.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "log.h"

/* caps.h spells the numbers out; the kernel's names must agree (equal by design). */
// NOLINTNEXTLINE(misc-redundant-expression)
_Static_assert(SATPD_CAPS_KEPT == ((1ull << CAP_NET_ADMIN) | (1ull << CAP_NET_RAW)),
	       "SATPD_CAPS_KEPT names CAP_NET_ADMIN and CAP_NET_RAW");

/* Capabilities numbered past 63 do not exist yet; the kernel says where they end (EINVAL). */
#define CAPS_MAX 64

static bool kept(unsigned int cap)
{
	return SATPD_CAPS_KEPT & (1ull << cap);
}

int satpd_caps_bound(void)
{
	unsigned int cap;

	for (cap = 0; cap < CAPS_MAX; cap++) {
		int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (in < 0)
			break; /* EINVAL: past the kernel's last capability */
		if (kept(cap) || !in)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			/* No CAP_SETPCAP (a unit bounded it away): the bound stays the caller's. */
			log_warn("cannot drop capability %u from the bounding set: %s", cap,
				 strerror(errno));
			break;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		log_err("cannot clear the ambient capabilities: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int satpd_caps_restrict(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	unsigned int i;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0) {
		log_err("cannot read the capabilities: %s", strerror(errno));
		return -errno;
	}
	/* Of the kept ones, those we have: a unit may have granted fewer. */
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		data[i].permitted &= (uint32_t)(SATPD_CAPS_KEPT >> (32 * i));
		data[i].effective = data[i].permitted;
		data[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &hdr, data) < 0) {
		log_err("cannot reduce the capabilities to CAP_NET_ADMIN, CAP_NET_RAW: %s",
			strerror(errno));
		return -errno;
	}
	/* Nothing satpd runs may gain what it dropped (setuid binaries, file capabilities). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_err("cannot set no_new_privs: %s", strerror(errno));
		return -errno;
	}
	return 0;
}
