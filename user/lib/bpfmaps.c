// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl: the BPF side of ports and flows (libbpf): the per-namespace
 * directory in bpffs with its lock, loading the TC programs and pinning the
 * maps from the embedded skeleton, port map access, and TC attachment.
 * See bpfmaps.h for the layout.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpfmaps.h"
#include "rules.h"
#include "util.h"
#include "vtapctl.h"
#include "vtap.skel.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/*
 * libbpf's messages: its warnings while loading (the verifier's complaint
 * is the useful part of a failure); silence otherwise, e.g. for the
 * expected EEXIST of an existing clsact.  VTAPCTL_DEBUG=1 shows all.
 */
static bool libbpf_loud;

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	static int debug = -1;

	if (debug < 0)
		debug = getenv("VTAPCTL_DEBUG") != NULL;
	if (debug || (libbpf_loud && level == LIBBPF_WARN))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static void libbpf_setup(void)
{
	static bool done;

	if (!done) {
		libbpf_set_print(libbpf_print);
		done = true;
	}
}

int vtap_exit_code(int err)
{
	/* Failed BPF and TC calls are no usage errors: only the rest maps alike. */
	switch (err < 0 ? -err : err) {
	case EINVAL:
	case ERANGE:
	case EOPNOTSUPP:
	case EBUSY:
	case ENODEV:
	case ENOBUFS:
		return VTAP_EXIT_FAIL;
	}
	return exit_code_for_errno(err);
}

static int pin_path(const struct vtap_ns *ns, const char *name, char *buf,
		    size_t len)
{
	int n = snprintf(buf, len, "%s/%s", ns->dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int pin_get(const struct vtap_ns *ns, const char *name)
{
	char path[128];
	int fd;

	if (pin_path(ns, name, path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

static bool pin_exists(const struct vtap_ns *ns, const char *name)
{
	char path[128];

	return !pin_path(ns, name, path, sizeof(path)) && !access(path, F_OK);
}

/*
 * bpf_map_get_next_key() with the whole attr initialised (libbpf leaves the
 * tail of it, which valgrind checks), starting from an all-zero key instead
 * of NULL: a key that is not in the map yields the first key (bpf(2)), and
 * the maps walked here never hold a zero key (ifindex 0, rule number 0).
 * Returns 0, or -ENOENT after the last key.
 */
static int map_next_key(int fd, const void *key, void *next)
{
	static const __u64 zero[8];
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (__u32)fd;
	attr.key = (__u64)(unsigned long)(key ? key : zero);
	attr.next_key = (__u64)(unsigned long)next;
	return syscall(__NR_bpf, BPF_MAP_GET_NEXT_KEY, &attr, sizeof(attr)) ? -errno : 0;
}

/* Whether the pinned map @name has entries: 1, 0 (or not pinned), -errno. */
static int pin_has_entries(const struct vtap_ns *ns, const char *name)
{
	__u64 key[8];
	int fd, err;

	fd = pin_get(ns, name);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	err = map_next_key(fd, NULL, key);
	close(fd);
	return err == -ENOENT ? 0 : err ? err : 1;
}

/* Remove every pin of the directory: it holds nothing else. */
static int unpin_all(const struct vtap_ns *ns)
{
	struct dirent *de;
	int err = 0;
	DIR *d;

	d = opendir(ns->dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) && errno != ENOENT && !err) {
			err = -errno;
			errorf("cannot remove %s/%s: %s", ns->dir, de->d_name,
			       strerror(errno));
		}
	}
	closedir(d);
	return err;
}

static int is_bpffs(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf))
		return -errno;
	return sf.f_type == BPF_FS_MAGIC;
}

/* Like tc: mount a bpffs on /sys/fs/bpf if there is none. */
static int ensure_bpffs(void)
{
	int r = is_bpffs(VTAP_BPFFS);

	if (r < 0) {
		errorf("%s: %s", VTAP_BPFFS, strerror(-r));
		return r;
	}
	if (r)
		return 0;
	if (mount("bpf", VTAP_BPFFS, "bpf", 0, "mode=0700")) {
		r = -errno;
		errorf("cannot mount a bpf filesystem on %s: %s", VTAP_BPFFS,
		       strerror(errno));
		return r;
	}
	return 0;
}

static int netns_inode(unsigned long long *ino)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st)) {
		int err = -errno;

		errorf("/proc/self/ns/net: %s", strerror(-err));
		return err;
	}
	*ino = (unsigned long long)st.st_ino;
	return 0;
}

/* The namespace's cookie, or 0 if the kernel has none (before 5.14). */
static __u64 netns_cookie(void)
{
	socklen_t len = sizeof(__u64);
	__u64 cookie = 0;
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len))
		cookie = 0;
	close(fd);
	return cookie;
}

/*
 * Open and lock the directory.  It may be removed (last port deleted)
 * between open() and flock(): then the lock is on a dead directory, and
 * we start over.
 */
static int lock_dir(struct vtap_ns *ns, bool create, bool shared)
{
	struct stat a, b;
	int tries, fd, err;

	for (tries = 0; tries < 100; tries++) {
		if (create) {
			if (mkdir(VTAP_PIN_ROOT, 0700) && errno != EEXIST)
				goto fail;
			if (mkdir(ns->dir, 0700) && errno != EEXIST) {
				if (errno == ENOENT)	/* root removed meanwhile */
					continue;
				goto fail;
			}
		}
		fd = open(ns->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT && create)
				continue;
			if (errno == ENOENT)
				return -ENOENT;
			goto fail;
		}
		if (flock(fd, shared ? LOCK_SH : LOCK_EX)) {
			err = -errno;
			close(fd);
			errno = -err;
			goto fail;
		}
		if (!fstat(fd, &a) && !stat(ns->dir, &b) && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			ns->dir_fd = fd;
			return 0;
		}
		close(fd);
	}
	errorf("%s: keeps changing, giving up", ns->dir);
	return -EAGAIN;
fail:
	err = -errno;
	errorf("%s: %s", ns->dir, strerror(errno));
	return err;
}

/*
 * The directory belongs to this namespace unless it records another
 * namespace's cookie (a deleted namespace whose inode number was reused).
 */
static bool dir_is_foreign(const struct vtap_ns *ns, __u64 cookie)
{
	__u64 stored = 0;
	__u32 key = 0;
	int fd;

	if (!cookie)
		return false;
	fd = pin_get(ns, "netns");
	if (fd < 0)
		return false;
	if (bpf_map_lookup_elem(fd, &key, &stored))
		stored = 0;
	close(fd);
	return stored && stored != cookie;
}

static int record_cookie(const struct vtap_ns *ns, __u64 cookie)
{
	char path[128];
	__u32 key = 0;
	int fd, err;

	if (!cookie || pin_exists(ns, "netns"))
		return 0;
	if (pin_path(ns, "netns", path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "vtap_netns", sizeof(__u32),
			    sizeof(__u64), 1, NULL);
	if (fd < 0) {
		err = -errno;
		errorf("cannot create the netns map: %s", strerror(errno));
		return err;
	}
	err = bpf_map_update_elem(fd, &key, &cookie, BPF_ANY) ? -errno : 0;
	if (!err && bpf_obj_pin(fd, path))
		err = -errno;
	close(fd);
	if (err)
		errorf("%s: %s", path, strerror(-err));
	return err;
}

/*
 * Load the programs and maps from the embedded object, each map pinned under
 * its own name: libbpf reuses maps already pinned at the pin paths (checking
 * that they are compatible) and pins the ones it creates.  The programs are
 * not pinned: @ns keeps their fds until vtap_ns_close(), and afterwards
 * only their TC attachments hold them.  A pinned program would keep vtap.ko
 * busy (it calls the module's kfunc) after its namespace is deleted.
 */
static int ns_load(struct vtap_ns *ns, bool xdp)
{
	char path[128];
	struct bpf_map *map;
	struct vtap *skel;
	int err, d;

	skel = vtap__open();
	if (!skel) {
		err = -errno;
		errorf("cannot open vtap's BPF object: %s", strerror(errno));
		return err;
	}
	/*
	 * The XDP program only when a port wants it: it calls a kfunc that a
	 * module older than VTAP_FEATURE_XDP does not have.
	 */
	bpf_program__set_autoload(skel->progs.vtap_xdp, xdp);
	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		err = pin_path(ns, bpf_map__name(map), path, sizeof(path));
		if (!err)
			err = bpf_map__set_pin_path(map, path);
		if (err) {
			errorf("cannot set the pin path of map %s: %s",
			       bpf_map__name(map), strerror(-err));
			goto out;
		}
	}
	libbpf_loud = true;
	err = vtap__load(skel);
	libbpf_loud = false;
	if (err) {
		errorf("cannot load vtap's BPF programs: %s%s", strerror(-err),
		       err == -EINVAL ? " (maps pinned by another vtapctl version? "
					"set VTAPCTL_DEBUG=1 for details)" : "");
		goto out;
	}
	for (d = 0; d < VTAP_NDIRS; d++) {
		struct bpf_program *prog = d == VTAP_DIR_OUT ?
			skel->progs.vtap_tc_ingress : skel->progs.vtap_tc_egress;

		if (ns->prog_fd[d] >= 0)
			close(ns->prog_fd[d]);
		ns->prog_fd[d] = fcntl(bpf_program__fd(prog), F_DUPFD_CLOEXEC, 3);
		if (ns->prog_fd[d] < 0) {
			err = -errno;
			errorf("cannot keep vtap's BPF program: %s", strerror(errno));
			goto out;
		}
	}
	if (xdp) {
		if (ns->xdp_fd >= 0)
			close(ns->xdp_fd);
		ns->xdp_fd = fcntl(bpf_program__fd(skel->progs.vtap_xdp),
				   F_DUPFD_CLOEXEC, 3);
		if (ns->xdp_fd < 0) {
			err = -errno;
			errorf("cannot keep vtap's XDP program: %s", strerror(errno));
		}
	}
out:
	vtap__destroy(skel);
	return err;
}

/* Program pins left by vtapctl before 0.3: they would keep vtap.ko busy. */
static void unpin_old_programs(const struct vtap_ns *ns)
{
	static const char *const old[] = { "tc_ingress", "tc_egress" };
	char path[128];
	unsigned int i;

	for (i = 0; i < sizeof(old) / sizeof(old[0]); i++)
		if (!pin_path(ns, old[i], path, sizeof(path)))
			unlink(path);
}

static void ns_init(struct vtap_ns *ns)
{
	memset(ns, 0, sizeof(*ns));
	ns->dir_fd = -1;
	ns->ports_fd = -1;
	ns->stats_fd = -1;
	ns->prog_fd[0] = -1;
	ns->prog_fd[1] = -1;
	ns->xdp_fd = -1;
}

/*
 * CAP_NET_ADMIN over this network namespace, as the kernel checks it for
 * vtap's genetlink commands (ns_capable(net->user_ns, CAP_NET_ADMIN)): the
 * caller's user namespace owns the network namespace or is an ancestor of
 * its owner, and CAP_NET_ADMIN is effective.  bpffs pins are plain files:
 * without this, root in a child user namespace could rewrite the maps.
 * Returns 0, or -EPERM after saying why.
 */
static int check_admin(void)
{
	unsigned long long capeff = 0;
	struct stat self, st;
	bool owner = false;
	char line[128];
	int fd, nsfd;
	FILE *f;

	if (stat("/proc/self/ns/user", &self))
		return 0;	/* cannot tell: the kernel still checks the rest */
	nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return 0;
	fd = ioctl(nsfd, NS_GET_USERNS);
	close(nsfd);
	while (fd >= 0) {
		int parent;

		if (!fstat(fd, &st) && st.st_ino == self.st_ino && st.st_dev == self.st_dev) {
			owner = true;
			break;
		}
		parent = ioctl(fd, NS_GET_PARENT);	/* EPERM past our own */
		close(fd);
		fd = parent;
	}
	if (fd >= 0)
		close(fd);
	f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &capeff) == 1)
			break;
	if (f)
		fclose(f);
	if (owner && (capeff & (1ULL << 12)))	/* CAP_NET_ADMIN */
		return 0;
	errorf("not permitted: CAP_NET_ADMIN over this network namespace is needed");
	return -EPERM;
}

int vtap_ns_open(struct vtap_ns *ns, enum vtap_ns_mode mode)
{
	bool create = mode == VTAP_NS_CREATE;
	unsigned long long ino = 0;
	__u64 cookie;
	int err;

	ns_init(ns);
	ns->mode = mode;
	if (mode != VTAP_NS_READ) {
		err = check_admin();
		if (err)
			return err;
	}
	libbpf_setup();
	err = netns_inode(&ino);
	if (err)
		return err;
	snprintf(ns->dir, sizeof(ns->dir), "%s/net%llu", VTAP_PIN_ROOT, ino);
	if (create) {
		err = ensure_bpffs();
		if (err)
			return err;
	} else {
		err = is_bpffs(VTAP_BPFFS);
		if (err < 0 && err != -ENOENT) {
			errorf("%s: %s", VTAP_BPFFS, strerror(-err));
			return err;
		}
		if (err <= 0)		/* no bpffs: no state */
			return 0;
	}
	err = lock_dir(ns, create, mode == VTAP_NS_READ);
	if (err)
		return err == -ENOENT ? 0 : err;

	cookie = netns_cookie();
	if (dir_is_foreign(ns, cookie)) {
		if (mode == VTAP_NS_READ)
			return 0;
		/* Left behind by a deleted namespace: clear it. */
		err = unpin_all(ns);
		if (err)
			goto fail;
		if (!create) {
			rmdir(ns->dir);
			return 0;
		}
	}
	if (create) {
		unpin_old_programs(ns);
		err = 0;
		if (!pin_exists(ns, "ports"))	/* first use: create the maps */
			err = ns_load(ns, false);
		if (!err)
			err = record_cookie(ns, cookie);
		if (err)
			goto fail;
	}

	ns->ports_fd = pin_get(ns, "ports");
	ns->stats_fd = pin_get(ns, "port_stats");
	if (ns->ports_fd < 0 || ns->stats_fd < 0) {
		err = ns->ports_fd < 0 ? ns->ports_fd : ns->stats_fd;
		if (err == -ENOENT && !create && !pin_exists(ns, "ports")) {
			vtap_ns_close(ns);
			ns_init(ns);
			return 0;
		}
		errorf("%s: cannot open the %s map: %s%s", ns->dir,
		       ns->ports_fd < 0 ? "ports" : "port_stats", strerror(-err),
		       err == -ENOENT ? " (inconsistent state: remove the directory)" : "");
		goto fail;
	}
	ns->ncpus = libbpf_num_possible_cpus();
	if (ns->ncpus <= 0) {
		err = ns->ncpus ? ns->ncpus : -EINVAL;
		errorf("cannot count the possible CPUs: %s", strerror(-err));
		goto fail;
	}
	ns->exists = true;
	return 0;
fail:
	vtap_ns_close(ns);	/* removes what a failed create left */
	ns_init(ns);
	return err;
}

void vtap_ns_close(struct vtap_ns *ns)
{
	int d;

	/* A writer leaves no empty state behind (whatever it did). */
	if (ns->dir_fd >= 0 && ns->mode != VTAP_NS_READ)
		vtap_ns_gc(ns);
	if (ns->ports_fd >= 0)
		close(ns->ports_fd);
	if (ns->stats_fd >= 0)
		close(ns->stats_fd);
	for (d = 0; d < VTAP_NDIRS; d++) {
		if (ns->prog_fd[d] >= 0)
			close(ns->prog_fd[d]);
		ns->prog_fd[d] = -1;
	}
	if (ns->xdp_fd >= 0)
		close(ns->xdp_fd);
	ns->xdp_fd = -1;
	if (ns->dir_fd >= 0)
		close(ns->dir_fd);	/* releases the lock */
	ns->ports_fd = -1;
	ns->stats_fd = -1;
	ns->dir_fd = -1;
	ns->exists = false;
}

/*
 * No port left, so no program counts flows: let the flow_cache timers add
 * what they hold to the table (VTAP_FLOW_FLUSH_NS), then reset the entries,
 * which cancels and frees their timers.  A timer holds a reference to the
 * program that armed it, and the program one to vtap.ko (its kfunc): with
 * the maps kept pinned (rules left), it would keep the module busy.
 */
static void flow_cache_release(const struct vtap_ns *ns)
{
	struct vtap_flow_cache c, zero;
	int fd, n, cpu, busy;

	fd = pin_get(ns, "flow_cache");
	if (fd < 0)
		return;
	memset(&zero, 0, sizeof(zero));
	for (n = 0; n < 100; n++) {
		busy = 0;
		for (cpu = 0; cpu < ns->ncpus && cpu < VTAP_FLOW_CACHE_CPUS; cpu++) {
			__u32 k = (__u32)cpu;

			if (!bpf_map_lookup_elem(fd, &k, &c) && (c.packets || c.armed))
				busy = 1;
		}
		if (!busy)
			break;
		usleep(1000);
	}
	for (cpu = 0; cpu < ns->ncpus && cpu < VTAP_FLOW_CACHE_CPUS; cpu++) {
		__u32 k = (__u32)cpu;

		bpf_map_update_elem(fd, &k, &zero, BPF_ANY);
	}
	close(fd);
}

int vtap_ns_gc(struct vtap_ns *ns)
{
	int err;

	if (ns->dir_fd < 0)
		return 0;
	/* Ports or rules (configuration of sessions) left: keep everything. */
	err = pin_has_entries(ns, "ports");
	if (!err) {
		flow_cache_release(ns);
		err = pin_has_entries(ns, "rules");
	}
	if (err)
		return err < 0 ? err : 0;
	err = unpin_all(ns);
	if (err)
		return err;
	if (rmdir(ns->dir) && errno != ENOENT) {
		err = -errno;
		errorf("cannot remove %s: %s", ns->dir, strerror(errno));
		return err;
	}
	/* The root goes too when this was the last namespace. */
	rmdir(VTAP_PIN_ROOT);
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct vtap_port_ent *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

int vtap_ports_read(struct vtap_ns *ns, struct vtap_port_ent **ents, int *n)
{
	struct vtap_port_ent *v = NULL, *nv;
	__u32 key, next, *prev = NULL;
	int cnt = 0, cap = 0, err;

	*ents = NULL;
	*n = 0;
	if (!ns->exists)
		return 0;
	while (!(err = map_next_key(ns->ports_fd, prev, &next))) {
		key = next;
		prev = &key;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, (size_t)cap * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		if (bpf_map_lookup_elem(ns->ports_fd, &key, &v[cnt].p)) {
			if (errno == ENOENT)
				continue;
			err = -errno;
			free(v);
			return err;
		}
		v[cnt++].ifindex = key;
	}
	if (err != -ENOENT) {
		free(v);
		return err;
	}
	if (cnt)
		qsort(v, (size_t)cnt, sizeof(*v), ent_cmp);
	*ents = v;
	*n = cnt;
	return 0;
}

int vtap_port_get(struct vtap_ns *ns, __u32 ifindex, struct vtap_port *p)
{
	if (!ns->exists)
		return -ENOENT;
	return bpf_map_lookup_elem(ns->ports_fd, &ifindex, p) ? -errno : 0;
}

int vtap_port_put(struct vtap_ns *ns, __u32 ifindex, const struct vtap_port *p,
		  bool create)
{
	return bpf_map_update_elem(ns->ports_fd, &ifindex, p,
				   create ? BPF_NOEXIST : BPF_EXIST) ? -errno : 0;
}

int vtap_port_delete(struct vtap_ns *ns, __u32 ifindex)
{
	return bpf_map_delete_elem(ns->ports_fd, &ifindex) ? -errno : 0;
}

/* Per-CPU values are laid out at 8-byte strides. */
#define STATS_STRIDE ((sizeof(struct vtap_port_stats) + 7) & ~(size_t)7)

int vtap_port_stats(struct vtap_ns *ns, __u32 slot, struct vtap_port_stats *sum)
{
	char *buf;
	int cpu, d, err = 0;

	memset(sum, 0, sizeof(*sum));
	buf = calloc((size_t)ns->ncpus, STATS_STRIDE);
	if (!buf)
		return -ENOMEM;
	if (bpf_map_lookup_elem(ns->stats_fd, &slot, buf)) {
		err = -errno;
		goto out;
	}
	for (cpu = 0; cpu < ns->ncpus; cpu++) {
		struct vtap_port_stats s;

		memcpy(&s, buf + (size_t)cpu * STATS_STRIDE, sizeof(s));
		for (d = 0; d < VTAP_NDIRS; d++) {
			sum->packets[d] += s.packets[d];
			sum->bytes[d] += s.bytes[d];
			sum->mirrored[d] += s.mirrored[d];
			sum->dropped[d] += s.dropped[d];
		}
	}
out:
	free(buf);
	return err;
}

int vtap_port_stats_zero(struct vtap_ns *ns, __u32 slot)
{
	char *buf;
	int err = 0;

	buf = calloc((size_t)ns->ncpus, STATS_STRIDE);
	if (!buf)
		return -ENOMEM;
	if (bpf_map_update_elem(ns->stats_fd, &slot, buf, BPF_ANY))
		err = -errno;
	free(buf);
	return err;
}

bool vtap_port_has_session(const struct vtap_port *p, int dir, __u32 sid)
{
	int i;

	for (i = 0; i < p->nsess[dir] && i < VTAP_PORT_MAX_SESSIONS; i++)
		if (p->sess[dir][i] == sid)
			return true;
	return false;
}

bool vtap_port_remove_session(struct vtap_port *p, int dir, __u32 sid)
{
	int i, j, n = p->nsess[dir];
	bool found = false;

	if (n > VTAP_PORT_MAX_SESSIONS)
		n = VTAP_PORT_MAX_SESSIONS;
	for (i = j = 0; i < n; i++) {
		if (p->sess[dir][i] == sid) {
			found = true;
			continue;
		}
		p->cookie[dir][j] = p->cookie[dir][i];
		p->sess[dir][j++] = p->sess[dir][i];
	}
	for (i = j; i < VTAP_PORT_MAX_SESSIONS; i++) {
		p->sess[dir][i] = 0;
		p->cookie[dir][i] = 0;
	}
	p->nsess[dir] = (__u16)j;
	return found;
}

int vtap_port_forget_stale(struct vtap_port *p, const struct session_info *sv,
			   int nsv)
{
	int d, i, j, n = 0;

	for (d = 0; d < VTAP_NDIRS; d++) {
		for (i = j = 0; i < p->nsess[d] && i < VTAP_PORT_MAX_SESSIONS; i++) {
			if (!session_name_cookie(sv, nsv, p->sess[d][i], p->cookie[d][i])) {
				n++;
				continue;
			}
			p->sess[d][j] = p->sess[d][i];
			p->cookie[d][j++] = p->cookie[d][i];
		}
		for (i = j; i < VTAP_PORT_MAX_SESSIONS; i++) {
			p->sess[d][i] = 0;
			p->cookie[d][i] = 0;
		}
		p->nsess[d] = (__u16)j;
	}
	return n;
}

int vtap_rule_maps_open(struct vtap_ns *ns, struct vtap_rule_maps *m)
{
	static const char *const lpm[4] = {
		"rule_src4", "rule_dst4", "rule_src6", "rule_dst6",
	};
	int i, err = 0;

	m->rules = pin_get(ns, "rules");
	m->rulesets = pin_get(ns, "rulesets");
	m->vlan = pin_get(ns, "rule_vlan");
	m->proto = pin_get(ns, "rule_proto");
	m->icmp = pin_get(ns, "rule_icmp");
	m->ports = pin_get(ns, "rule_ports");
	m->on = pin_get(ns, "rules_on");
	for (i = 0; i < 4; i++)
		m->lpm[i] = pin_get(ns, lpm[i]);
	if (m->rules < 0 || m->rulesets < 0 || m->vlan < 0 || m->proto < 0 ||
	    m->icmp < 0 || m->ports < 0 || m->on < 0)
		err = -ENOENT;
	for (i = 0; i < 4; i++)
		if (m->lpm[i] < 0)
			err = -ENOENT;
	if (err)
		vtap_rule_maps_close(m);
	return err;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vtap_rule_maps_close(struct vtap_rule_maps *m)
{
	int i;

	close_fd(&m->rules);
	close_fd(&m->rulesets);
	close_fd(&m->vlan);
	close_fd(&m->proto);
	close_fd(&m->icmp);
	close_fd(&m->ports);
	close_fd(&m->on);
	for (i = 0; i < 4; i++)
		close_fd(&m->lpm[i]);
}

/* Whether session-direction @sd has rules (as given, or a live ruleset). */
static int sd_has_rules(const struct vtap_rule_maps *m, __u32 sd)
{
	struct vtap_rule_key key, next;
	struct vtap_ruleset rs;
	const void *prev = NULL;
	int err;

	if (!bpf_map_lookup_elem(m->rulesets, &sd, &rs))
		return 1;
	if (errno != ENOENT)
		return -errno;
	while (!(err = map_next_key(m->rules, prev, &next))) {
		if (next.sd == sd)
			return 1;
		key = next;
		prev = &key;
	}
	return err == -ENOENT ? 0 : err;
}

int vtap_ports_forget_session(struct vtap_ns *ns, __u32 sid)
{
	struct vtap_rule_maps rm;
	struct vtap_port_ent *v;
	int i, d, n, err;

	err = vtap_ports_read(ns, &v, &n);
	if (err)
		return err;
	for (i = 0; i < n && !err; i++) {
		bool changed = false;

		for (d = 0; d < VTAP_NDIRS; d++)
			changed |= vtap_port_remove_session(&v[i].p, d, sid);
		if (changed)
			err = vtap_port_put(ns, v[i].ifindex, &v[i].p, false);
	}
	free(v);
	/* Its rules too, or a new session with the same id would inherit them. */
	if (!err && !vtap_rule_maps_open(ns, &rm)) {
		for (d = 0; d < VTAP_NDIRS && !err; d++) {
			err = sd_has_rules(&rm, VTAP_SD(sid, d));
			if (err > 0)
				err = vtap_rules_purge(&rm, VTAP_SD(sid, d));
		}
		vtap_rule_maps_close(&rm);
	}
	return err;
}

/* ---- TC ---------------------------------------------------------------- */

static const enum bpf_tc_attach_point tc_points[VTAP_NDIRS] = {
	[VTAP_DIR_OUT]	= BPF_TC_INGRESS,	/* sent by the VM */
	[VTAP_DIR_IN]	= BPF_TC_EGRESS,	/* delivered to the VM */
};

/* The programs' names, as the kernel keeps them (BPF_OBJ_NAME_LEN - 1). */
static const char *const prog_names[VTAP_NDIRS] = {
	[VTAP_DIR_OUT]	= "vtap_tc_ingress",
	[VTAP_DIR_IN]	= "vtap_tc_egress",
};

/* An fd of program @id if it is one of vtap's (@name, or any if NULL), else -1. */
static int prog_fd_if_ours(__u32 id, const char *name)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	bool ours = false;
	int fd;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		ours = name ? !strcmp(info.name, name) :
			      (!strncmp(info.name, "vtap_tc_", 8) ||
			       !strcmp(info.name, "vtap_xdp"));
	if (ours)
		return fd;
	close(fd);
	return -1;
}

/* Is program @id one of vtap's (whichever load it came from)? */
static bool prog_is_ours(__u32 id)
{
	int fd = prog_fd_if_ours(id, NULL);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* 1 if our filter is at (handle, prio) of @point, 0 if none, -EEXIST if a foreign one. */
static int tc_ours(int ifindex, enum bpf_tc_attach_point point)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = point);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VTAP_TC_HANDLE,
			    .priority = VTAP_TC_PRIO);

	if (bpf_tc_query(&hook, &opts))
		return 0;
	return prog_is_ours(opts.prog_id) ? 1 : -EEXIST;
}

int vtap_tc_attached(int ifindex)
{
	int d;

	for (d = 0; d < VTAP_NDIRS; d++)
		if (tc_ours(ifindex, tc_points[d]) != 1)
			return 0;
	return 1;
}

static int tc_detach_one(int ifindex, enum bpf_tc_attach_point point)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = point);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VTAP_TC_HANDLE,
			    .priority = VTAP_TC_PRIO);
	int err;

	if (tc_ours(ifindex, point) != 1)
		return 0;	/* only ours */
	err = bpf_tc_detach(&hook, &opts);
	return err == -ENOENT ? 0 : err;
}

/*
 * Filters on clsact ingress and egress of @ifindex other than ours, by an
 * RTM_GETTFILTER dump (a dump lists each priority's classifier with handle
 * 0, then its filters).  Returns the count or a negative errno.
 */
static int tc_foreign_filters(int ifindex)
{
	struct {
		struct nlmsghdr n;
		struct tcmsg t;
	} req;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	static const __u32 parents[] = { TC_H_MIN_INGRESS, TC_H_MIN_EGRESS };
	int fd, i, count = 0, err = 0;
	char *buf;

	buf = malloc(32768);
	if (!buf)
		return -ENOMEM;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	for (i = 0; i < 2 && !err; i++) {
		bool done = false;

		memset(&req, 0, sizeof(req));
		req.n.nlmsg_len = NLMSG_LENGTH(sizeof(req.t));
		req.n.nlmsg_type = RTM_GETTFILTER;
		req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		req.n.nlmsg_seq = (__u32)i + 1;
		req.t.tcm_family = AF_UNSPEC;
		req.t.tcm_ifindex = ifindex;
		req.t.tcm_parent = TC_H_MAKE(TC_H_CLSACT, parents[i]);
		if (sendto(fd, &req, req.n.nlmsg_len, 0, (struct sockaddr *)&sa,
			   sizeof(sa)) < 0) {
			err = -errno;
			break;
		}
		while (!done && !err) {
			ssize_t len = recv(fd, buf, 32768, 0);
			struct nlmsghdr *h = (struct nlmsghdr *)buf;

			if (len < 0) {
				err = errno == EINTR ? 0 : -errno;
				continue;
			}
			for (; NLMSG_OK(h, (__u32)len); h = NLMSG_NEXT(h, len)) {
				struct tcmsg *t = NLMSG_DATA(h);
				__u32 prio;

				if (h->nlmsg_seq != req.n.nlmsg_seq)
					continue;
				if (h->nlmsg_type == NLMSG_DONE) {
					done = true;
					break;
				}
				if (h->nlmsg_type == NLMSG_ERROR) {
					struct nlmsgerr *e = NLMSG_DATA(h);

					err = e->error;
					break;
				}
				if (h->nlmsg_type != RTM_NEWTFILTER)
					continue;
				prio = TC_H_MAJ(t->tcm_info) >> 16;
				if (prio != VTAP_TC_PRIO ||
				    (t->tcm_handle && t->tcm_handle != VTAP_TC_HANDLE))
					count++;
			}
		}
	}
	close(fd);
	free(buf);
	return err ? err : count;
}

static void tc_destroy_clsact(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

	bpf_tc_hook_destroy(&hook);
}

int vtap_tc_detach(int ifindex, bool own_clsact)
{
	int d, err = 0, r;

	for (d = 0; d < VTAP_NDIRS; d++) {
		r = tc_detach_one(ifindex, tc_points[d]);
		if (r && !err)
			err = r;
	}
	if (err)
		return err;
	/* Never take other people's filters away with the qdisc. */
	if (own_clsact && tc_foreign_filters(ifindex) == 0)
		tc_destroy_clsact(ifindex);
	return 0;
}

/*
 * The program for direction @d: the one this run loaded, else the one
 * attached to another port of the namespace (the same program, with the
 * same maps: every port shares it), else a new load (which reuses the
 * pinned maps).  Owned by @ns.
 */
static int ns_prog_fd(struct vtap_ns *ns, int d, int ifindex)
{
	__u32 key, next, *prev = NULL;
	int err;

	while (ns->prog_fd[d] < 0 &&
	       !bpf_map_get_next_key(ns->ports_fd, prev, &next)) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)next,
				    .attach_point = tc_points[d]);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VTAP_TC_HANDLE,
				    .priority = VTAP_TC_PRIO);

		key = next;
		prev = &key;
		if ((int)next == ifindex || bpf_tc_query(&hook, &opts))
			continue;
		ns->prog_fd[d] = prog_fd_if_ours(opts.prog_id, prog_names[d]);
	}
	if (ns->prog_fd[d] >= 0)
		return ns->prog_fd[d];
	err = ns_load(ns, false);
	return err ? err : ns->prog_fd[d];
}

int vtap_tc_attach(struct vtap_ns *ns, int ifindex, bool *own)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int d, err, fd;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		errorf("cannot create the clsact qdisc: %s", strerror(-err));
		return err;
	}
	*own = !err;
	for (d = 0; d < VTAP_NDIRS; d++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, h, .ifindex = ifindex,
				    .attach_point = tc_points[d]);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VTAP_TC_HANDLE,
				    .priority = VTAP_TC_PRIO);
		const char *where = d == VTAP_DIR_OUT ? "ingress" : "egress";

		err = tc_ours(ifindex, tc_points[d]);
		if (err < 0) {
			errorf("clsact %s already has another filter at handle 0x%x priority %d",
			       where, VTAP_TC_HANDLE, VTAP_TC_PRIO);
			goto undo;
		}
		/* Ours, left behind by an interrupted vtapctl: replace it. */
		if (err == 1)
			opts.flags = BPF_TC_F_REPLACE;
		fd = ns_prog_fd(ns, d, ifindex);
		if (fd < 0) {
			err = fd;
			goto undo;
		}
		opts.prog_fd = fd;
		err = bpf_tc_attach(&h, &opts);
		if (err) {
			errorf("cannot attach to clsact %s of ifindex %d: %s", where, ifindex,
			       strerror(-err));
			goto undo;
		}
	}
	return 0;
undo:
	vtap_tc_detach(ifindex, *own);
	return err;
}

/* ---- XDP ----------------------------------------------------------------- */

/*
 * vtap's XDP program on a port, beside its TC programs (see VTAP_PORT_F_XDP):
 * native XDP only.  Generic XDP would run on the skb in the receive path,
 * after the frame's skb is built, and copy or linearise every cloned or
 * nonlinear one: more work for the VM's frames than TC does, not less.
 */
#define VTAP_XDP_FLAGS	XDP_FLAGS_DRV_MODE

/* 1 if our XDP program is on @ifindex, 0 if none, -EEXIST if another one. */
int vtap_xdp_attached(int ifindex)
{
	__u32 id = 0;
	int fd;

	if (bpf_xdp_query_id(ifindex, VTAP_XDP_FLAGS, &id) || !id)
		return 0;
	fd = prog_fd_if_ours(id, "vtap_xdp");
	if (fd < 0)
		return -EEXIST;
	close(fd);
	return 1;
}

/* The XDP program: this run's, another port's (the same maps), or a new load. */
static int ns_xdp_fd(struct vtap_ns *ns, int ifindex)
{
	__u32 key, next, *prev = NULL, id;
	int err;

	while (ns->xdp_fd < 0 && !bpf_map_get_next_key(ns->ports_fd, prev, &next)) {
		key = next;
		prev = &key;
		id = 0;
		if ((int)next == ifindex ||
		    bpf_xdp_query_id((int)next, VTAP_XDP_FLAGS, &id) || !id)
			continue;
		ns->xdp_fd = prog_fd_if_ours(id, "vtap_xdp");
	}
	if (ns->xdp_fd >= 0)
		return ns->xdp_fd;
	err = ns_load(ns, true);
	return err ? err : ns->xdp_fd;
}

int vtap_xdp_attach(struct vtap_ns *ns, int ifindex)
{
	int fd, err;

	err = vtap_xdp_attached(ifindex);
	if (err == 1)
		return 0;
	if (err) {
		errorf("ifindex %d has another XDP program (vtap does not replace it)",
		       ifindex);
		return err;
	}
	fd = ns_xdp_fd(ns, ifindex);
	if (fd < 0)
		return fd;
	err = bpf_xdp_attach(ifindex, fd, VTAP_XDP_FLAGS | XDP_FLAGS_UPDATE_IF_NOEXIST,
			     NULL);
	if (err)
		errorf("cannot attach XDP (native) to ifindex %d: %s%s", ifindex,
		       strerror(-err), err == -EOPNOTSUPP ?
		       " (the driver has no native XDP: tap and veth have)" : "");
	return err;
}

/* Detach our XDP program from @ifindex; another one is left alone. */
int vtap_xdp_detach(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	__u32 id = 0;
	int fd, err;

	if (bpf_xdp_query_id(ifindex, VTAP_XDP_FLAGS, &id) || !id)
		return 0;
	fd = prog_fd_if_ours(id, "vtap_xdp");
	if (fd < 0)
		return 0;
	/* Only if it is still that program: never someone else's. */
	opts.old_prog_fd = fd;
	err = bpf_xdp_detach(ifindex, VTAP_XDP_FLAGS | XDP_FLAGS_REPLACE, &opts);
	close(fd);
	return err == -EEXIST || err == -ENODEV ? 0 : err;
}

/* ---- flow records -------------------------------------------------------- */

int vtap_map_next_key(int fd, const void *key, void *next)
{
	return map_next_key(fd, key, next);
}

void vtap_flow_maps_close(struct vtap_flow_maps *m)
{
	int i;

	if (m->cfg)
		munmap(m->cfg, (size_t)sysconf(_SC_PAGESIZE));
	m->cfg = NULL;
	for (i = 0; i < 2; i++)
		if (m->flows[i] >= 0)
			close(m->flows[i]);
	if (m->lost >= 0)
		close(m->lost);
	if (m->ports >= 0)
		close(m->ports);
	if (m->cfg_fd >= 0)
		close(m->cfg_fd);
	m->flows[0] = m->flows[1] = m->lost = m->ports = m->cfg_fd = -1;
}

int vtap_flow_maps_open(struct vtap_ns *ns, struct vtap_flow_maps *m, bool writable)
{
	static const char *const names[] = { "flows4", "flows6", "flow_lost", "ports", "flow_cfg" };
	int *fds[] = { &m->flows[0], &m->flows[1], &m->lost, &m->ports, &m->cfg_fd };
	void *p;
	int i, err = 0;

	m->flows[0] = m->flows[1] = m->lost = m->ports = m->cfg_fd = -1;
	m->cfg = NULL;
	m->ncpus = ns->ncpus;
	if (!ns->exists) {
		errorf("no vtap port in this network namespace (no flow table)");
		return -ENOENT;
	}
	for (i = 0; i < 5; i++) {
		*fds[i] = i == 3 ? fcntl(ns->ports_fd, F_DUPFD_CLOEXEC, 3) : pin_get(ns, names[i]);
		if (*fds[i] < 0) {
			err = i == 3 ? -errno : *fds[i];
			*fds[i] = -1;
			errorf("%s: cannot open the %s map: %s%s", ns->dir, names[i],
			       strerror(-err), err == -ENOENT ?
			       " (made by an older vtapctl: remove and add the ports)" : "");
			goto fail;
		}
	}
	p = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE),
		 writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, m->cfg_fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		errorf("cannot map flow_cfg: %s", strerror(errno));
		goto fail;
	}
	m->cfg = p;
	return 0;
fail:
	vtap_flow_maps_close(m);
	return err;
}

#define LOST_STRIDE	((sizeof(struct vtap_flow_lost) + 7) & ~(size_t)7)

int vtap_flow_lost_read(const struct vtap_flow_maps *m, struct vtap_flow_lost *sum)
{
	__u32 zero = 0;
	char *buf;
	int cpu, err = 0;

	memset(sum, 0, sizeof(*sum));
	buf = calloc((size_t)m->ncpus, LOST_STRIDE);
	if (!buf)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->lost, &zero, buf)) {
		err = -errno;
		goto out;
	}
	for (cpu = 0; cpu < m->ncpus; cpu++) {
		struct vtap_flow_lost l;

		memcpy(&l, buf + (size_t)cpu * LOST_STRIDE, sizeof(l));
		sum->packets += l.packets;
		sum->octets += l.octets;
		sum->nonip_packets += l.nonip_packets;
		sum->nonip_octets += l.nonip_octets;
	}
out:
	free(buf);
	return err;
}
