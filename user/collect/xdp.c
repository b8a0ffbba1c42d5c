// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl collect ... dev IFACE xdp: load bpf/collect.bpf.c (embedded as a
 * skeleton), fill its maps (listened addresses, sessions, the devmap of to
 * DEV) and attach it to IFACE with a BPF link: native mode, else generic.
 * The link is released when the process ends, however it ends; nothing is
 * pinned.  See collect.bpf.c for what the program consumes and passes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "collect.skel.h"
#include "xdp.h"

struct cx_xdp {
	struct collect *skel;
	int link_fd;
	bool native;
	int ncpu;
};

/* libbpf's last warning, for the reason of a failed load. */
static char libbpf_last[256];

static int cx_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (getenv("VTAPCTL_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_WARN) {
		size_t n;

		vsnprintf(libbpf_last, sizeof(libbpf_last), fmt, ap);
		n = strlen(libbpf_last);
		while (n && libbpf_last[n - 1] == '\n')
			libbpf_last[--n] = 0;
	}
	return 0;
}

static int iface_mac(const char *ifname, uint8_t *mac)
{
	struct ifreq ifr;
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		err = -EPFNOSUPPORT;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

static int add_addr(int fd, const struct vtap_addr *a)
{
	struct vtap_cx_addr k;
	uint8_t one = 1;

	memset(&k, 0, sizeof(k));
	if (a->family == AF_INET) {
		k.a[10] = 0xff;
		k.a[11] = 0xff;
		memcpy(&k.a[12], &a->v4, 4);
	} else {
		memcpy(k.a, &a->v6, 16);
	}
	return bpf_map_update_elem(fd, &k, &one, BPF_ANY) ? -errno : 0;
}

/* The namespace's addresses now: one added later is passed to the sockets. */
static int add_local_addrs(int fd, char *why, size_t len)
{
	struct ifaddrs *ifa, *i;
	int err = 0, n = 0;

	if (getifaddrs(&ifa)) {
		err = -errno;
		snprintf(why, len, "the local addresses: %s", strerror(-err));
		return err;
	}
	for (i = ifa; i && !err; i = i->ifa_next) {
		struct vtap_addr a = { 0 };

		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			a.family = AF_INET;
			a.v4 = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a.family = AF_INET6;
			a.v6 = ((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		} else {
			continue;
		}
		err = add_addr(fd, &a);
		if (err == -E2BIG) {	/* full: the rest go to the sockets */
			err = 0;
			break;
		}
		n++;
	}
	freeifaddrs(ifa);
	if (err)
		snprintf(why, len, "the address map: %s", strerror(-err));
	else if (!n)
		snprintf(why, len, "no local address");
	return err ? err : n ? 0 : -EADDRNOTAVAIL;
}

static int attach(struct cx_xdp *x, int ifindex, uint32_t flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = flags);
	int fd;

	fd = bpf_link_create(bpf_program__fd(x->skel->progs.vtap_collect_xdp), ifindex,
			     BPF_XDP, &lo);
	if (fd < 0)
		return -errno;
	x->link_fd = fd;
	x->native = flags == XDP_FLAGS_DRV_MODE;
	return 0;
}

static const char *attach_error(int err, char *buf, size_t len)
{
	switch (-err) {
	case EBUSY:
	case EEXIST:
		return "another XDP program is attached";
	case EOPNOTSUPP:
		return "not supported by the driver";
	default:
		snprintf(buf, len, "%s", strerror(-err));
		return buf;
	}
}

int cx_xdp_start(const struct cx_xdp_opts *o, struct cx_xdp **out, char *why, size_t len)
{
	char e1[64], e2[64];
	struct cx_xdp *x;
	uint8_t one = 1, mac[6];
	uint32_t zero = 0;
	int ifindex, err, i;

	*out = NULL;
	ifindex = (int)if_nametoindex(o->ifname);
	if (!ifindex) {
		snprintf(why, len, "dev %s: no such device", o->ifname);
		return -ENODEV;
	}
	err = iface_mac(o->ifname, mac);
	if (err) {
		snprintf(why, len, "%s: %s", o->ifname, err == -EPFNOSUPPORT ?
			 "not an Ethernet device" : strerror(-err));
		return err;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	x->link_fd = -1;
	x->ncpu = libbpf_num_possible_cpus();
	libbpf_set_print(cx_libbpf_print);
	libbpf_last[0] = 0;
	x->skel = collect__open();
	if (!x->skel) {
		err = -errno;
		snprintf(why, len, "cannot open the BPF object: %s", strerror(-err));
		goto fail;
	}
	x->skel->rodata->enable = (uint8_t)o->enable;
	x->skel->rodata->vxlan_port = o->vxlan_port;
	x->skel->rodata->filter_on = o->nids > 0;
	x->skel->rodata->redirect = o->tx_ifindex > 0;
	x->skel->rodata->budget = o->budget;
	memcpy((void *)x->skel->rodata->mac, mac, 6);
	err = collect__load(x->skel);
	if (err) {
		snprintf(why, len, "cannot load the BPF program: %s%s%s", strerror(-err),
			 libbpf_last[0] ? ": " : "", libbpf_last);
		goto fail;
	}
	if (o->listen)
		err = add_addr(bpf_map__fd(x->skel->maps.addrs), o->listen);
	else
		err = add_local_addrs(bpf_map__fd(x->skel->maps.addrs), why, len);
	if (err) {
		if (o->listen)
			snprintf(why, len, "the address map: %s", strerror(-err));
		goto fail;
	}
	for (i = 0; i < o->nids; i++)
		if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.sessions), &o->ids[i], &one,
					BPF_ANY)) {
			err = -errno;
			snprintf(why, len, "the session map: %s", strerror(-err));
			goto fail;
		}
	if (o->tx_ifindex &&
	    bpf_map_update_elem(bpf_map__fd(x->skel->maps.tx), &zero, &o->tx_ifindex, BPF_ANY)) {
		err = -errno;
		snprintf(why, len, "the device map (to DEV): %s", strerror(-err));
		goto fail;
	}
	if (o->mode != CX_XDP_GENERIC) {
		err = attach(x, ifindex, XDP_FLAGS_DRV_MODE);
		if (!err || o->mode == CX_XDP_NATIVE) {
			if (err)
				snprintf(why, len, "native mode on %s: %s", o->ifname,
					 attach_error(err, e1, sizeof(e1)));
			goto done;
		}
	}
	i = err;	/* native's error, if tried */
	err = attach(x, ifindex, XDP_FLAGS_SKB_MODE);
	if (err && o->mode == CX_XDP_GENERIC)
		snprintf(why, len, "generic mode on %s: %s", o->ifname,
			 attach_error(err, e2, sizeof(e2)));
	else if (err)
		snprintf(why, len, "%s: native: %s; generic: %s", o->ifname,
			 attach_error(i, e1, sizeof(e1)), attach_error(err, e2, sizeof(e2)));
done:
	if (err)
		goto fail;
	*out = x;
	return 0;
fail:
	cx_xdp_free(x);
	return err;
}

const char *cx_xdp_mode_name(const struct cx_xdp *x)
{
	return x->native ? "native" : "generic";
}

void cx_xdp_detach(struct cx_xdp *x)
{
	if (x && x->link_fd >= 0) {
		close(x->link_fd);
		x->link_fd = -1;
	}
}

int cx_xdp_for_each(struct cx_xdp *x,
		    void (*fn)(void *arg, const struct vtap_cx_key *k,
			       const struct vtap_cx_stats *s),
		    void *arg)
{
	int fd = bpf_map__fd(x->skel->maps.stats), i;
	struct vtap_cx_key key, next, *prev = NULL;
	struct vtap_cx_stats *v;

	v = calloc((size_t)x->ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct vtap_cx_stats sum = { 0 };

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, v))
			continue;
		for (i = 0; i < x->ncpu; i++) {
			sum.packets += v[i].packets;
			sum.bytes += v[i].bytes;
			sum.passed += v[i].passed;
			sum.undelivered += v[i].undelivered;
		}
		fn(arg, &key, &sum);
	}
	free(v);
	return 0;
}

static void add_packets(void *arg, const struct vtap_cx_key *k, const struct vtap_cx_stats *s)
{
	(void)k;
	*(uint64_t *)arg += s->packets;
}

uint64_t cx_xdp_packets(struct cx_xdp *x)
{
	uint64_t n = 0;

	cx_xdp_for_each(x, add_packets, &n);
	return n;
}

void cx_xdp_free(struct cx_xdp *x)
{
	if (!x)
		return;
	cx_xdp_detach(x);
	collect__destroy(x->skel);
	free(x);
}
