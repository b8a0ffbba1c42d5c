// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl flows: flow records of the ports that have "records" (port add
 * ... records DIR), kept by the TC programs in the namespace's maps flows4
 * and flows6 (include/vtap_bpf.h, "Flow records"), and their export as
 * IPFIX (ipfix.c).
 *
 *   vtapctl flows show [dev DEV]
 *   vtapctl flows set limit N
 *   vtapctl flows export to DEST [to DEST...] [active SEC] [idle SEC]
 *                        [domain N] [template-refresh SEC] [interval MS]
 *
 * The exporter polls the maps every interval.  A flow silent for idle
 * seconds (or for 1 s, or idle if shorter, after a TCP FIN or RST) is
 * exported and its entry deleted (atomically read and deleted: nothing the
 * program adds is lost); a flow that lasts is exported every active
 * seconds with the counts since its previous record (the entry stays, and
 * a shadow table here remembers what was exported).  On SIGINT/SIGTERM
 * every open flow is exported (flowEndReason: forced end) and deleted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bpfmaps.h"
#include "ipfix.h"
#include "util.h"
#include "vtapctl.h"

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define NS_PER_SEC	1000000000ULL
#define TCP_FIN		0x01
#define TCP_RST		0x04

/* A flow key of either map. */
struct fkey {
	int v6;
	union {
		struct vtap_flow4_key k4;
		struct vtap_flow6_key k6;
	};
};

static size_t key_size(int v6)
{
	return v6 ? sizeof(struct vtap_flow6_key) : sizeof(struct vtap_flow4_key);
}

static const char *proto_name(__u8 p, char *buf, size_t len)
{
	switch (p) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "ipv6-icmp";
	case 132: return "sctp";
	}
	snprintf(buf, len, "%u", p);
	return buf;
}

static void tcp_flags_text(__u32 f, char *buf)
{
	static const char names[] = "FSRPAUEC";
	int i, n = 0;

	for (i = 0; i < 8; i++)
		if (f & (1U << i))
			buf[n++] = names[i];
	if (!n)
		buf[n++] = '-';
	buf[n] = 0;
}

/* Fields of a key, whatever its family. */
static void key_fields(const struct fkey *k, __u32 *ifindex, __u8 *dir, __u8 *proto,
		       __u16 *vlan, __u16 *cvlan, const __u8 **src, const __u8 **dst,
		       __u16 *sport, __u16 *dport)
{
	if (k->v6) {
		*ifindex = k->k6.ifindex; *dir = k->k6.dir; *proto = k->k6.proto;
		*vlan = k->k6.vlan; *cvlan = k->k6.cvlan; *src = k->k6.src; *dst = k->k6.dst;
		*sport = k->k6.sport; *dport = k->k6.dport;
	} else {
		*ifindex = k->k4.ifindex; *dir = k->k4.dir; *proto = k->k4.proto;
		*vlan = k->k4.vlan; *cvlan = k->k4.cvlan; *src = (const __u8 *)&k->k4.src;
		*dst = (const __u8 *)&k->k4.dst; *sport = k->k4.sport; *dport = k->k4.dport;
	}
}

static int is_icmp(__u8 proto)
{
	return proto == 1 || proto == 58;
}

/* ---- flows show ----------------------------------------------------------- */

static void print_flow(const struct fkey *k, const struct vtap_flow_val *v, __u64 now)
{
	char dev[IF_NAMESIZE], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], pb[8], fl[10];
	const __u8 *src, *dst;
	__u32 ifindex;
	__u8 dir, proto;
	__u16 vlan, cvlan, sport, dport;

	key_fields(k, &ifindex, &dir, &proto, &vlan, &cvlan, &src, &dst, &sport, &dport);
	if (!if_indextoname(ifindex, dev))
		snprintf(dev, sizeof(dev), "-");
	inet_ntop(k->v6 ? AF_INET6 : AF_INET, src, a, sizeof(a));
	inet_ntop(k->v6 ? AF_INET6 : AF_INET, dst, b, sizeof(b));
	tcp_flags_text(v->tcp_flags, fl);
	out_open_obj();
	out_str("dev", "%s", dev);
	out_u64("ifindex", NULL, ifindex);
	out_str("dir", " %s", dir == VTAP_DIR_IN ? "in" : "out");
	out_str("proto", " %s", proto_name(proto, pb, sizeof(pb)));
	out_str("src", " %s", a);
	out_str("dst", " > %s", b);
	if (is_icmp(proto)) {
		out_u64("icmp_type", " type %llu", dport >> 8);
		out_u64("icmp_code", " code %llu", dport & 0xff);
	} else {
		out_u64("sport", " sport %llu", sport);
		out_u64("dport", " dport %llu", dport);
	}
	if (vlan)
		out_u64("vlan", " vlan %llu", vlan & 0xfff);
	if (cvlan)
		out_u64("cvlan", " cvlan %llu", cvlan & 0xfff);
	out_u64("packets", " packets %llu", v->packets);
	out_u64("octets", " octets %llu", v->octets);
	if (proto == 6)
		out_str("tcp_flags", " flags %s", fl);
	out_u64("age_ms", " age %llums", now > v->first_ns ? (now - v->first_ns) / 1000000 : 0);
	out_u64("idle_ms", " idle %llums", now > v->last_ns ? (now - v->last_ns) / 1000000 : 0);
	out_close_obj();
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * NS_PER_SEC + (__u64)ts.tv_nsec;
}

static int flows_show(int argc, char **argv)
{
	struct vtap_flow_maps m;
	struct vtap_flow_lost lost;
	struct vtap_ns ns;
	unsigned int only = 0;
	__u64 now, limit, used;
	int err, v6;

	if (argc != 1 && !(argc == 3 && !strcmp(argv[1], "dev"))) {
		errorf("usage: vtapctl flows show [dev DEV]");
		return VTAP_EXIT_USAGE;
	}
	if (argc == 3) {
		if (check_dev_name(argv[2]))
			return VTAP_EXIT_USAGE;
		only = dev_ifindex(argv[2]);
		if (!only)
			return VTAP_EXIT_NOENT;
	}
	err = vtap_ns_open(&ns, VTAP_NS_READ);
	if (err)
		return vtap_exit_code(err);
	err = vtap_flow_maps_open(&ns, &m, false);
	vtap_ns_close(&ns);
	if (err)
		return vtap_exit_code(err);
	err = vtap_flow_lost_read(&m, &lost);
	if (err) {
		errorf("flows show: cannot read flow_lost: %s", strerror(-err));
		goto out;
	}
	limit = __atomic_load_n(&m.cfg->limit, __ATOMIC_RELAXED);
	used = __atomic_load_n(&m.cfg->used, __ATOMIC_RELAXED);
	now = mono_ns();
	/* One object: the table's state, then its flows. */
	out_open_array();
	out_open_obj();
	out_u64("limit", "limit %llu", limit ? limit : VTAP_FLOWS_DEFAULT_LIMIT);
	out_u64("used", " used %llu", used);
	out_open_nested("lost");
	out_u64("packets", " lost packets %llu", lost.packets);
	out_u64("octets", " octets %llu", lost.octets);
	out_u64("nonip_packets", " non-ip packets %llu", lost.nonip_packets);
	out_u64("nonip_octets", " octets %llu", lost.nonip_octets);
	out_close_nested();
	out_open_array_key("flows");
	out_text("\n");
	for (v6 = 0; v6 <= 1; v6++) {
		struct fkey k = { .v6 = v6 }, next = { .v6 = v6 };
		struct vtap_flow_val v;
		void *kp = NULL;

		while (!vtap_map_next_key(m.flows[v6], kp, &next.k4)) {
			k = next;
			kp = &k.k4;
			if (only && (v6 ? k.k6.ifindex : k.k4.ifindex) != only)
				continue;
			if (bpf_map_lookup_elem(m.flows[v6], &k.k4, &v))
				continue;	/* deleted meanwhile */
			print_flow(&k, &v, now);
		}
	}
	out_close_array();
	if (json_output)
		out_close_obj();
	out_close_array();
out:
	vtap_flow_maps_close(&m);
	return vtap_exit_code(err);
}

/* ---- flows set ------------------------------------------------------------ */

static int flows_set(int argc, char **argv)
{
	struct vtap_flow_maps m;
	struct vtap_ns ns;
	__u32 limit;
	int err;

	if (argc != 3 || strcmp(argv[1], "limit")) {
		errorf("usage: vtapctl flows set limit N");
		return VTAP_EXIT_USAGE;
	}
	if (parse_u32(argv[2], 1, 2 * VTAP_FLOWS_MAX, &limit)) {
		badnum("limit", argv[2], 1, 2 * VTAP_FLOWS_MAX);
		return VTAP_EXIT_USAGE;
	}
	err = vtap_ns_open(&ns, VTAP_NS_WRITE);
	if (err)
		return vtap_exit_code(err);
	err = vtap_flow_maps_open(&ns, &m, true);
	if (!err) {
		__atomic_store_n(&m.cfg->limit, limit, __ATOMIC_RELAXED);
		vtap_flow_maps_close(&m);
	}
	vtap_ns_close(&ns);
	return vtap_exit_code(err);
}

/* ---- flows export --------------------------------------------------------- */

#define EXPORT_MAX_DEST		8
#define SHADOW_BUCKETS		65536

/* What was exported of a flow that stays in its map (active timeout). */
struct shadow {
	struct shadow *next;
	struct fkey k;
	__u64 packets, octets;		/* exported so far */
	__u64 win_ns;			/* the current record's start */
	int exported;			/* a record was sent */
	unsigned int gen;		/* the last poll that saw it */
};

struct dest {
	int fd;
	int is_file;
	struct sockaddr_storage sa;
	socklen_t salen;
	char name[128];
	int errors;
};

struct exporter {
	struct vtap_flow_maps m;
	struct dest dest[EXPORT_MAX_DEST];
	int ndest;
	__u64 active_ns, idle_ns, fin_ns, refresh_ns, interval_ms;
	__u32 domain;
	__u32 seq;			/* data records sent (the header's) */
	__u64 exported;			/* flow records sent */
	__u64 last_templates;		/* mono ns, 0: never */
	__u64 last_lost_packets;
	int stats_due;
	struct ipfix_msg msg;
	int msg_open;
	__s64 wall_off_ns;		/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	struct shadow **bucket;
	unsigned int gen;
	struct fkey *keys;		/* a poll's keys */
};

static volatile sig_atomic_t export_stop;

static void export_signal(int sig)
{
	export_stop = sig;
}

static int parse_dest(const char *s, struct dest *d)
{
	char host[INET6_ADDRSTRLEN + 2], *port = NULL;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&d->sa;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&d->sa;
	__u32 p = 4739;
	const char *colon;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	snprintf(d->name, sizeof(d->name), "%s", s);
	if (!strncmp(s, "file:", 5)) {
		if (!s[5]) {
			errorf("to: '%s' names no file", s);
			return -EINVAL;
		}
		d->is_file = 1;
		return 0;
	}
	if (strlen(s) >= sizeof(host)) {
		errorf("to: '%s' is not ADDR[:PORT], [ADDR6]:PORT or file:PATH", s);
		return -EINVAL;
	}
	snprintf(host, sizeof(host), "%s", s[0] == '[' ? s + 1 : s);
	if (s[0] == '[') {
		char *end = strchr(host, ']');

		if (!end || (end[1] && end[1] != ':')) {
			errorf("to: '%s' is not [ADDR6]:PORT", s);
			return -EINVAL;
		}
		if (end[1])
			port = end + 2;
		*end = 0;
	} else {
		colon = strchr(host, ':');
		if (colon && colon == strrchr(host, ':')) {	/* IPv4:PORT */
			port = host + (colon - host) + 1;
			host[colon - host] = 0;
		}
	}
	if (port && parse_u32(port, 1, 65535, &p)) {
		errorf("to: '%s': '%s' is not a port from 1 to 65535", s, port);
		return -EINVAL;
	}
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((__u16)p);
		d->salen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((__u16)p);
		d->salen = sizeof(*s6);
	} else {
		errorf("to: '%s' is not an IPv4 or IPv6 address (ADDR[:PORT], "
		       "[ADDR6]:PORT or file:PATH)", host);
		return -EINVAL;
	}
	return 0;
}

static int parse_secs(const char *kw, const char *val, __u32 min, __u32 max, __u32 *out)
{
	if (parse_u32(val, min, max, out)) {
		errorf("%s: '%s' is not a number from %u to %u", kw, val, min, max);
		return -EINVAL;
	}
	return 0;
}

/* The export command line; 0 or -EINVAL after saying why. */
static int flows_export_parse(int argc, char **argv, struct exporter *e)
{
	__u32 active = 60, idle = 15, domain = 1, refresh = 60, interval = 1000, v;
	unsigned int seen = 0;
	int i;

	e->ndest = 0;
	for (i = 1; i < argc; i += 2) {
		static const char *const kws[] = { "to", "active", "idle", "domain",
						   "template-refresh", "interval" };
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		int k;

		for (k = 0; k < NELEM(kws) && strcmp(kw, kws[k]); k++)
			;
		if (k == NELEM(kws))
			return unkarg("flows", kw);
		if (!val)
			return missarg(kw);
		if (k && (seen & (1U << k)))	/* "to" may be given several times */
			return duparg(kw);
		seen |= 1U << k;
		switch (k) {
		case 0:
			if (e->ndest == EXPORT_MAX_DEST) {
				errorf("to: at most %d destinations", EXPORT_MAX_DEST);
				return -EINVAL;
			}
			if (parse_dest(val, &e->dest[e->ndest]))
				return -EINVAL;
			e->ndest++;
			break;
		case 1:
			if (parse_secs(kw, val, 1, 86400, &active))
				return -EINVAL;
			break;
		case 2:
			if (parse_secs(kw, val, 1, 86400, &idle))
				return -EINVAL;
			break;
		case 3:
			if (parse_u32(val, 0, UINT32_MAX, &v)) {
				errorf("domain: '%s' is not a number from 0 to %u", val, UINT32_MAX);
				return -EINVAL;
			}
			domain = v;
			break;
		case 4:
			if (parse_secs(kw, val, 1, 86400, &refresh))
				return -EINVAL;
			break;
		case 5:
			if (parse_secs(kw, val, 10, 60000, &interval))
				return -EINVAL;
			break;
		}
	}
	if (!e->ndest) {
		errorf("flows export: where to? (to ADDR[:PORT], to file:PATH)");
		return -EINVAL;
	}
	e->active_ns = active * NS_PER_SEC;
	e->idle_ns = idle * NS_PER_SEC;
	e->fin_ns = idle < 1 ? e->idle_ns : NS_PER_SEC;
	e->refresh_ns = refresh * NS_PER_SEC;
	e->interval_ms = interval;
	e->domain = domain;
	e->stats_due = 1;	/* templates and the options record at once */
	return 0;
}

static int dest_open(struct dest *d)
{
	if (d->is_file) {
		d->fd = open(d->name + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (d->fd < 0) {
			errorf("flows export: %s: %s", d->name + 5, strerror(errno));
			return -errno;
		}
		return 0;
	}
	d->fd = socket(d->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d->fd < 0) {
		errorf("flows export: socket: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static void msg_send(struct exporter *e)
{
	size_t len;
	int i;

	if (!e->msg_open)
		return;
	e->msg_open = 0;
	if (e->msg.len == IPFIX_HDR_LEN)
		return;
	len = ipfix_end(&e->msg);
	for (i = 0; i < e->ndest; i++) {
		struct dest *d = &e->dest[i];
		ssize_t n;

		if (d->is_file)
			n = write(d->fd, e->msg.buf, len);
		else
			n = sendto(d->fd, e->msg.buf, len, 0, (struct sockaddr *)&d->sa, d->salen);
		if (n != (ssize_t)len && !d->errors++)
			errorf("flows export: %s: %s (further errors not shown)", d->name,
			       n < 0 ? strerror(errno) : "short write");
	}
	e->seq += e->msg.records;
}

static void msg_begin(struct exporter *e, __u64 now)
{
	ipfix_begin(&e->msg, 0, (__u32)time(NULL), e->seq, e->domain);
	e->msg_open = 1;
	if (!e->last_templates || now - e->last_templates >= e->refresh_ns) {
		ipfix_add_templates(&e->msg);	/* fits an empty message */
		e->last_templates = now;
		e->stats_due = 1;
	}
}

static void add_flow(struct exporter *e, const struct ipfix_flow *f, __u64 now)
{
	if (!e->msg_open)
		msg_begin(e, now);
	if (ipfix_add_flow(&e->msg, f)) {
		msg_send(e);
		msg_begin(e, now);
		ipfix_add_flow(&e->msg, f);
	}
	e->exported++;
}

static void add_stats(struct exporter *e, __u64 now)
{
	struct vtap_flow_lost lost;
	struct ipfix_stats s;

	if (vtap_flow_lost_read(&e->m, &lost))
		return;
	if (!e->stats_due && lost.packets == e->last_lost_packets)
		return;
	e->stats_due = 0;
	e->last_lost_packets = lost.packets;
	s.domain = e->domain;
	s.ignored_packets = lost.packets;
	s.ignored_octets = lost.octets;
	s.exported_records = e->exported;
	if (!e->msg_open)
		msg_begin(e, now);
	if (ipfix_add_stats(&e->msg, &s)) {
		msg_send(e);
		msg_begin(e, now);
		ipfix_add_stats(&e->msg, &s);
	}
}

static unsigned int key_hash(const struct fkey *k)
{
	const __u8 *p = (const __u8 *)&k->k4;
	size_t i, n = key_size(k->v6);
	__u32 h = 2166136261u ^ (__u32)k->v6;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % SHADOW_BUCKETS;
}

static struct shadow *shadow_get(struct exporter *e, const struct fkey *k, int create)
{
	unsigned int h = key_hash(k);
	struct shadow *s;

	for (s = e->bucket[h]; s; s = s->next)
		if (s->k.v6 == k->v6 && !memcmp(&s->k.k4, &k->k4, key_size(k->v6)))
			return s;
	if (!create)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->k = *k;
	s->next = e->bucket[h];
	e->bucket[h] = s;
	return s;
}

/* Free the shadows of flows no longer in the maps (or all, @all). */
static void shadow_sweep(struct exporter *e, int all)
{
	unsigned int h;

	for (h = 0; h < SHADOW_BUCKETS; h++) {
		struct shadow **pp = &e->bucket[h], *s;

		while ((s = *pp)) {
			if (all || s->gen != e->gen) {
				*pp = s->next;
				free(s);
			} else {
				pp = &s->next;
			}
		}
	}
}

static __u64 wall_ms(const struct exporter *e, __u64 mono)
{
	__s64 t = (__s64)mono + e->wall_off_ns;

	return t > 0 ? (__u64)t / 1000000 : 0;
}

static void make_record(struct exporter *e, const struct fkey *k,
			const struct vtap_flow_val *v, const struct shadow *s,
			__u64 start_ns, __u8 reason, struct ipfix_flow *f)
{
	struct vtap_port port;
	const __u8 *src, *dst;
	__u32 ifindex;
	__u8 dir, proto;
	__u16 vlan, cvlan, sport, dport;

	key_fields(k, &ifindex, &dir, &proto, &vlan, &cvlan, &src, &dst, &sport, &dport);
	memset(f, 0, sizeof(*f));
	f->v6 = k->v6;
	memcpy(f->src, src, k->v6 ? 16 : 4);
	memcpy(f->dst, dst, k->v6 ? 16 : 4);
	f->proto = proto;
	if (is_icmp(proto)) {
		f->icmp = dport;
	} else {
		f->sport = sport;
		f->dport = dport;
	}
	f->vlan = vlan & 0xfff;
	f->cvlan = cvlan & 0xfff;
	f->packets = v->packets - (s ? s->packets : 0);
	f->octets = v->octets - (s ? s->octets : 0);
	f->start_ms = wall_ms(e, start_ns);
	f->end_ms = wall_ms(e, v->last_ns);
	f->tcp_flags = (__u8)v->tcp_flags;
	/* flowDirection from the switch port's view: the VM sends into it. */
	f->direction = dir == VTAP_DIR_OUT ? 0 : 1;
	if (!bpf_map_lookup_elem(e->m.ports, &ifindex, &port)) {
		f->port_id = port.port_id;
		memcpy(f->uuid, port.vm_uuid, 16);
	}
	f->end_reason = reason;
}

/* One pass over a map: export what is due (everything if @stop). */
static void poll_map(struct exporter *e, int v6, __u64 now, int stop)
{
	int fd = e->m.flows[v6], n = 0, i;
	struct fkey next = { .v6 = v6 };
	void *kp = NULL;

	while (n < VTAP_FLOWS_MAX && !vtap_map_next_key(fd, kp, &next.k4)) {
		e->keys[n] = next;
		kp = &e->keys[n].k4;
		n++;
	}
	for (i = 0; i < n; i++) {
		const struct fkey *k = &e->keys[i];
		struct vtap_flow_val v;
		struct ipfix_flow f;
		struct shadow *s;
		__u8 reason = 0;
		__u64 start;

		if (bpf_map_lookup_elem(fd, &k->k4, &v))
			continue;
		s = shadow_get(e, k, 0);
		if (stop)
			reason = IPFIX_END_FORCED;
		else if (now > v.last_ns && now - v.last_ns >= e->idle_ns)
			reason = IPFIX_END_IDLE;
		else if ((v.tcp_flags & (TCP_FIN | TCP_RST)) && now > v.last_ns &&
			 now - v.last_ns >= e->fin_ns)
			reason = IPFIX_END_OF_FLOW;
		else if (now - (s ? s->win_ns : v.first_ns) >= e->active_ns)
			reason = IPFIX_END_ACTIVE;
		if (s)
			s->gen = e->gen;
		if (!reason)
			continue;
		if (reason != IPFIX_END_ACTIVE) {
			/* Read and delete at once: no increment lost in between. */
			if (bpf_map_lookup_and_delete_elem(fd, &k->k4, &v))
				continue;
			__atomic_fetch_sub(&e->m.cfg->used, 1, __ATOMIC_RELAXED);
		}
		start = s && s->exported ? s->win_ns : v.first_ns;
		make_record(e, k, &v, s, start, reason, &f);
		if (f.packets)
			add_flow(e, &f, now);
		if (reason != IPFIX_END_ACTIVE) {
			if (s)
				s->gen = e->gen - 1;	/* swept below */
			continue;
		}
		if (!s)
			s = shadow_get(e, k, 1);
		if (!s)
			continue;	/* no memory: the next record repeats counts */
		s->gen = e->gen;
		s->packets = v.packets;
		s->octets = v.octets;
		s->win_ns = v.last_ns;
		s->exported = 1;
	}
}

static void export_poll(struct exporter *e, int stop)
{
	struct timespec rt;
	__u64 now = mono_ns();
	int v6;

	clock_gettime(CLOCK_REALTIME, &rt);
	e->wall_off_ns = (__s64)rt.tv_sec * (__s64)NS_PER_SEC + rt.tv_nsec - (__s64)mono_ns();
	e->gen++;
	for (v6 = 0; v6 <= 1; v6++)
		poll_map(e, v6, now, stop);
	shadow_sweep(e, 0);
	add_stats(e, now);
	msg_send(e);
}

static int flows_export(int argc, char **argv)
{
	struct exporter *e;
	struct sigaction sa;
	struct vtap_ns ns;
	int err, i;

	e = calloc(1, sizeof(*e));
	if (!e)
		return VTAP_EXIT_FAIL;
	for (i = 0; i < EXPORT_MAX_DEST; i++)
		e->dest[i].fd = -1;
	e->m.flows[0] = e->m.flows[1] = e->m.lost = e->m.ports = e->m.cfg_fd = -1;
	if (flows_export_parse(argc, argv, e)) {
		free(e);
		return VTAP_EXIT_USAGE;
	}
	e->bucket = calloc(SHADOW_BUCKETS, sizeof(*e->bucket));
	e->keys = calloc(VTAP_FLOWS_MAX, sizeof(*e->keys));
	if (!e->bucket || !e->keys) {
		err = -ENOMEM;
		goto out;
	}
	err = vtap_ns_open(&ns, VTAP_NS_READ);
	if (err)
		goto out;
	err = vtap_flow_maps_open(&ns, &e->m, true);
	vtap_ns_close(&ns);
	if (err)
		goto out;
	for (i = 0; i < e->ndest && !err; i++)
		err = dest_open(&e->dest[i]);
	if (err)
		goto out;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = export_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!export_stop) {
		struct timespec ts = {
			.tv_sec = (time_t)(e->interval_ms / 1000),
			.tv_nsec = (long)(e->interval_ms % 1000) * 1000000,
		};

		export_poll(e, 0);
		nanosleep(&ts, NULL);	/* a signal ends it early */
	}
	export_poll(e, 1);
	/* What was sent: flow records, and data records with options ones. */
	out_open_array();
	out_open_obj();
	out_u64("exported", "exported %llu flow records", e->exported);
	out_u64("data_records", ", %llu data records\n", e->seq);
	if (json_output)
		out_close_obj();
	out_close_array();
out:
	for (i = 0; i < EXPORT_MAX_DEST; i++)
		if (e->dest[i].fd >= 0)
			close(e->dest[i].fd);
	vtap_flow_maps_close(&e->m);
	if (e->bucket)
		shadow_sweep(e, 1);
	free(e->bucket);
	free(e->keys);
	free(e);
	return vtap_exit_code(err);
}

static const struct vtap_subcmd flows_cmds[] = {
	{ "show", flows_show, "[dev DEV]" },
	{ "set", flows_set, "limit N" },
	{ "export", flows_export, "to {ADDR[:PORT] | [ADDR6]:PORT | file:PATH} [to ...] "
				  "[active SEC] [idle SEC] [domain N] [template-refresh SEC] "
				  "[interval MS]" },
};

int do_flows(int argc, char **argv)
{
	return run_subcmd("flows", flows_cmds, NELEM(flows_cmds), argc, argv);
}
