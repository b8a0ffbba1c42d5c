// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl collect: the collector side.  Receives GRE-TEB and ERSPAN II/III
 * on raw IPPROTO_GRE sockets (no GRE device needed) and VXLAN on UDP sockets
 * (port 4789 by default; no vxlan device needed), accounts each sender's
 * session (GRE sequence: lost, reordered, duplicates; VXLAN has none), and
 * writes the inner frames to pcapng files and/or re-injects them into a
 * local interface.
 *
 *   vtapctl collect [listen ADDR] [encap gre|vxlan|all] [dstport PORT]
 *                   [session ID ...] write FILE
 *                   [rotate-size MB] [rotate-time SEC] [to DEV]
 *                   [names FILE] [count N] [duration SEC]
 *                   [dev IFACE xdp [mode native|generic]]
 *
 * pcapng layout: one Interface Description Block per monitored VM port,
 * written in a file before its first packet.  Where the encapsulation
 * carries the port's index (ERSPAN II; ERSPAN III with the Platf ID 3 or 7
 * sub-header) the interface is the VM's wherever it runs: keyed by
 * (ERSPAN, session id, port index), whatever the sender, and named
 * "vtap-s<ID>-i<INDEX>"; a VM that moves to another hypervisor keeps its
 * interface, and the sender changes are counted ("moves").  Otherwise it is
 * keyed by (sender, session) and named "vtap-s<ID>" (ERSPAN III without
 * sub-header), "vtap-k<KEY>" or "vtap-gre" (GRE-TEB), "vtap-v<VNI>" (VXLAN).
 * Sequence accounting is per sender and session (struct stream), whatever
 * the interfaces: a GRE sequence number is the sending host's.  The
 * direction is in each packet's epb_flags, as tcpdump on the VM's tap/vnet
 * device would see it: inbound = sent by the VM (ERSPAN ingress, vtap's
 * "out"), outbound = delivered to the VM (egress, vtap's "in"); VXLAN and
 * GRE-TEB carry none.  Timestamps in ns (if_tsresol 9), from ERSPAN III when
 * it has them, else the arrival time.  See README.md.
 *
 * Everything the decoder accepts is in decode.c (a pure function, fuzzed);
 * this file is the I/O around it.  With "dev IFACE xdp", an XDP program on
 * IFACE (xdp.c, bpf/collect.bpf.c) counts the listened copies and, for "to
 * DEV" without "write FILE", sends their inner frames to DEV itself; what it
 * leaves (passes) comes to the sockets as before.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "decode.h"
#include "pcapng.h"
#include "util.h"
#include "vtap_version.h"
#include "vtapctl.h"
#include "xdp.h"

#define MAX_STREAMS	4096		/* (sender, encap, session) */
#define MAX_PORTS	16384		/* pcapng interfaces */
#define MAX_FILTER	64
#define STREAM_HASH	256
#define PORT_HASH	1024
#define RX_BUF		(65536 + 64)
#define RX_BATCH	256		/* packets per socket per wakeup */
#define FLUSH_BYTES	65536
#define NSEC		1000000000ULL
#define IDB_ROOM	640		/* an IDB with our options, at most */
#define ISB_ROOM	448		/* an ISB with our options, at most */
#define NSOCK		4		/* GRE IPv4, GRE IPv6, VXLAN IPv4, VXLAN IPv6 */
#define SOCK_VXLAN	2		/* fd[] index of the first UDP socket */

#ifndef UDP_NO_CHECK6_RX
#define UDP_NO_CHECK6_RX	102
#endif

enum { DIR_OUT, DIR_IN, DIR_UNKNOWN, NDIR };	/* VM-centric, as vtap's flows */

struct port;
struct feed;

/* One sender's session: what a GRE sequence number counts. */
struct stream {
	struct stream *hnext;		/* hash chain */
	struct stream *next;		/* all, in order of appearance */
	uint8_t family;
	uint8_t src[16];
	uint8_t encap;			/* enum vtap_pkt_encap */
	bool has_id;
	uint32_t id;			/* ERSPAN session id, GRE key or VNI */
	struct vtap_seq seq;
	uint64_t packets, bytes, truncated, noseq;
	struct feed *feeds, **feeds_tail;	/* the ports it fed */
};

/* What one stream sent to one port, for the stream's summary. */
struct feed {
	struct feed *next;		/* the stream's, in order of appearance */
	struct port *pt;
	uint64_t pkts[NDIR];
	uint64_t bytes;
};

#define PORT_SENDERS	4		/* senders a port remembers by name */

/* One monitored VM port: a pcapng interface. */
struct port {
	struct port *hnext;
	struct port *next;		/* all, in order of appearance */
	struct stream *st;		/* the stream of its last packet */
	struct feed *feed;		/* that stream's feed of this port */
	bool vm;			/* keyed by (ERSPAN, session, index) */
	bool has_index;
	uint32_t index;
	uint32_t session;		/* vm: the ERSPAN session id */
	uint64_t pkts[NDIR];
	uint64_t bytes;
	uint64_t moves;			/* times its sender changed */
	struct stream *senders[PORT_SENDERS];	/* the first ones, in order */
	unsigned int nsenders;		/* distinct senders (streams) */
	char name[40];
	char label[64];			/* display name (collect_port_label()) */
	/* In the current file. */
	uint32_t file_gen;		/* 0: never written */
	uint32_t ifid;
	uint64_t file_pkts, first_ts, last_ts;
};

struct collector {
	/* Options */
	int family;			/* listen: AF_INET, AF_INET6 or 0 (both) */
	struct vtap_addr listen;
	bool has_listen;
	bool gre, vxlan;		/* encap: which sockets to open */
	bool has_encap, has_dstport;
	uint16_t dstport;		/* VXLAN UDP port */
	uint32_t filter[MAX_FILTER];
	int nfilter;
	const char *path;		/* write FILE ("-": stdout) */
	uint64_t rotate_bytes;
	uint32_t rotate_secs;
	const char *dev;		/* to DEV */
	const char *names;		/* names FILE: VM names by port id */
	uint64_t count;
	uint32_t duration;
	const char *xdp_dev;		/* dev IFACE: where the copies arrive */
	bool xdp;			/* xdp: the XDP program on it */
	enum cx_xdp_mode xdp_mode;	/* mode native|generic */

	/* XDP */
	struct cx_xdp *xdpx;		/* NULL: raw sockets only */
	char xdp_why[256];		/* why not */
	bool xdp_redirect;		/* it sends to DEV (else it counts) */
	uint64_t xdp_packets;		/* sent to DEV so far (count N) */

	/* Sockets */
	int fd[NSOCK];			/* raw IPv4, IPv6; UDP IPv4, IPv6; -1: unused */
	uint32_t ovfl[NSOCK];		/* SO_RXQ_OVFL: drops so far */
	int pkt_fd;
	struct sockaddr_ll sll;
	uint8_t *rx;

	/* Files */
	bool writing;
	struct pcapng_file file;
	bool file_open;
	uint32_t file_gen, file_no, nifs;
	struct port **fports;		/* interfaces in the current file */
	size_t nfports, fports_cap;
	uint64_t file_deadline;		/* CLOCK_MONOTONIC ns, rotate-time */
	uint64_t last_flush;
	char *fname;
	size_t fname_len;

	/* Sessions and ports */
	struct stream *shash[STREAM_HASH];
	struct stream *streams, **streams_tail;
	struct port *phash[PORT_HASH];
	struct port *ports, **ports_tail;
	struct port_label *labels;	/* collect_port_label() */
	uint32_t nstreams, nports;

	/* Counters */
	uint64_t received, received_bytes, accepted, filtered, rejected;
	uint64_t reason[VTAP_DEC_NERR], oversize, table_full;
	uint64_t written, files, write_errors;
	uint64_t injected, inject_errors;
	int inject_errno;
	int write_err;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

static const char *encap_name(int encap)
{
	switch (encap) {
	case VTAP_PKT_GRE:
		return "gre";
	case VTAP_PKT_ERSPAN2:
		return "erspan2";
	case VTAP_PKT_ERSPAN3:
		return "erspan3";
	case VTAP_PKT_VXLAN:
		return "vxlan";
	default:
		return "?";
	}
}

static const char *stream_src(const struct stream *st, char *buf, size_t len)
{
	struct vtap_addr a = { .family = st->family };

	memcpy(st->family == AF_INET ? (void *)&a.v4 : (void *)&a.v6, st->src,
	       st->family == AF_INET ? 4 : 16);
	return format_addr(&a, buf, len);
}

/* ---- usage and arguments ------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vtapctl collect [listen ADDR] [encap gre|vxlan|all] [dstport PORT]\n"
		"                       [session ID ...] write FILE\n"
		"                       [rotate-size MB] [rotate-time SEC] [to DEV]\n"
		"                       [names FILE] [count N] [duration SEC]\n"
		"                       [dev IFACE xdp [mode native|generic]]\n"
		"       vtapctl collect [listen ADDR] [encap gre|vxlan|all] [dstport PORT]\n"
		"                       [session ID ...] to DEV [count N] [duration SEC]\n"
		"                       [dev IFACE xdp [mode native|generic]]\n"
		"       vtapctl collect help\n"
		"Receive GRE-TEB, ERSPAN II/III (raw sockets, no GRE device) and VXLAN (UDP, no\n"
		"vxlan device) mirror traffic and write the inner frames to pcapng, or send them\n"
		"out of DEV, or both.\n"
		"  listen ADDR      receive only packets to ADDR (default: any IPv4 and IPv6 address)\n"
		"  encap gre        only GRE-TEB and ERSPAN (IP protocol 47);  encap vxlan  only\n"
		"                   VXLAN;  encap all  both (the default; VXLAN is skipped with a\n"
		"                   warning when its port is taken, as by a local vxlan device)\n"
		"  dstport PORT     the VXLAN UDP port (default 4789)\n"
		"  session ID ...   only these ERSPAN session ids / GRE keys / VXLAN VNIs (repeatable)\n"
		"  write FILE       pcapng, one interface per VM port (\"-\": standard output); a\n"
		"                   port named by ERSPAN (II index, III sub-header) keeps it from any sender\n"
		"  rotate-size MB   start a new file before this size (\"Nk\": kilobytes);\n"
		"  rotate-time SEC  or after this many seconds: FILE-0001.pcapng, FILE-0002.pcapng, ...\n"
		"  to DEV           send the inner frames out of DEV (tap, veth, dummy)\n"
		"  names FILE       label each VM port's interface with its name in FILE (vtap.conf(5))\n"
		"  count N          stop after N packets;  duration SEC  stop after SEC seconds\n"
		"  dev IFACE xdp    an XDP program on IFACE, where the copies arrive: with to DEV\n"
		"                   (and no write) it sends the listened copies' inner frames to\n"
		"                   DEV itself, no copy to userspace; otherwise it counts them; the\n"
		"                   rest goes to the sockets.  Native mode, else generic; raw\n"
		"                   sockets alone if it cannot attach (said on stderr)\n"
		"  mode native|generic  only this XDP mode\n"
		"Stops on SIGINT/SIGTERM and prints per-session packets, bytes, lost, reordered\n"
		"and duplicate copies and resets (from the GRE sequence numbers, per sender;\n"
		"VXLAN has none: \"no sequence\", loss not counted), and per interface its\n"
		"packets, senders and moves (sender changes); -j for JSON.\n");
}

static int bad_arg(const char *kw, const char *val, const char *what)
{
	if (leading_zero(val))
		errorf("collect: %s: '%s' has a leading zero, which once meant octal here: "
		       "write it in decimal without the zero", kw, val);
	else
		errorf("collect: %s: '%s' is not %s", kw, val ? val : "", what);
	return VTAP_EXIT_USAGE;
}

/* "N" megabytes or "Nk" kilobytes (decimal, as tcpdump -C). */
static int parse_size(const char *s, uint64_t *bytes)
{
	char num[32];
	size_t n = s ? strlen(s) : 0;
	uint64_t unit = 1000000;
	uint32_t v;

	if (!n || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n + 1);
	if (num[n - 1] == 'k' || num[n - 1] == 'K') {
		num[n - 1] = 0;
		unit = 1000;
	}
	if (parse_u32(num, 1, 1000000, &v))
		return -EINVAL;
	*bytes = v * unit;
	return 0;
}

static int parse_args(struct collector *c, int argc, char **argv)
{
	static const char *const kws[] = {
		"listen", "encap", "dstport", "session", "write", "rotate-size",
		"rotate-time", "names", "to", "count", "duration", "dev", "xdp",
		"mode", NULL,
	};
	unsigned int seen = 0;
	int i, k;

	for (i = 1; i < argc; i++) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		uint32_t v;

		for (k = 0; kws[k] && strcmp(kw, kws[k]); k++)
			;
		if (!kws[k]) {
			unkarg("collect", kw);
			return VTAP_EXIT_USAGE;
		}
		if ((seen & (1U << k)) && strcmp(kw, "session")) {	/* session: a list */
			duparg(kw);
			return VTAP_EXIT_USAGE;
		}
		seen |= 1U << k;
		if (!strcmp(kw, "xdp")) {	/* a flag: no value */
			c->xdp = true;
			continue;
		}
		if (!val) {
			missarg(kw);
			return VTAP_EXIT_USAGE;
		}
		if (!strcmp(kw, "listen")) {
			if (c->has_listen || parse_addr(val, &c->listen))
				return bad_arg(kw, val, "one IPv4 or IPv6 address");
			c->has_listen = true;
			c->family = c->listen.family;
			i++;
		} else if (!strcmp(kw, "encap")) {
			if (c->has_encap)
				return bad_arg(kw, val, "gre, vxlan or all (given once)");
			if (!strcmp(val, "gre")) {
				c->vxlan = false;
			} else if (!strcmp(val, "vxlan")) {
				c->gre = false;
			} else if (strcmp(val, "all")) {
				return bad_arg(kw, val, "gre, vxlan or all");
			}
			c->has_encap = true;
			i++;
		} else if (!strcmp(kw, "dstport")) {
			if (c->has_dstport || parse_u32(val, 1, 65535, &v))
				return bad_arg(kw, val, "a UDP port (1 to 65535, given once)");
			c->dstport = (uint16_t)v;
			c->has_dstport = true;
			i++;
		} else if (!strcmp(kw, "session")) {
			/* One or more ids: every number that follows. */
			do {
				if (parse_u32(argv[i + 1], 0, UINT32_MAX, &v))
					return bad_arg(kw, argv[i + 1],
						       "a session id, GRE key or VNI (0 to 4294967295)");
				if (c->nfilter == MAX_FILTER) {
					errorf("collect: at most %d session ids", MAX_FILTER);
					return VTAP_EXIT_USAGE;
				}
				c->filter[c->nfilter++] = v;
				i++;
			} while (i + 1 < argc && !parse_u32(argv[i + 1], 0, UINT32_MAX, &v));
		} else if (!strcmp(kw, "write")) {
			if (c->path || !*val)
				return bad_arg(kw, val, "a file name (given once)");
			c->path = val;
			i++;
		} else if (!strcmp(kw, "rotate-size")) {
			if (c->rotate_bytes || parse_size(val, &c->rotate_bytes))
				return bad_arg(kw, val, "a size from 1 to 1000000 MB (or Nk)");
			i++;
		} else if (!strcmp(kw, "rotate-time")) {
			if (c->rotate_secs || parse_u32(val, 1, 31 * 86400, &c->rotate_secs))
				return bad_arg(kw, val, "a number of seconds (1 to 2678400)");
			i++;
		} else if (!strcmp(kw, "names")) {
			if (c->names || !*val)
				return bad_arg(kw, val, "a vtap.conf(5) file (given once)");
			c->names = val;
			i++;
		} else if (!strcmp(kw, "to")) {
			if (c->dev || !*val || strlen(val) >= IFNAMSIZ)
				return bad_arg(kw, val, "a device name (given once)");
			c->dev = val;
			i++;
		} else if (!strcmp(kw, "count")) {
			if (c->count || parse_u32(val, 1, UINT32_MAX, &v))
				return bad_arg(kw, val, "a number of packets (1 to 4294967295)");
			c->count = v;
			i++;
		} else if (!strcmp(kw, "duration")) {
			if (c->duration || parse_u32(val, 1, 31 * 86400, &c->duration))
				return bad_arg(kw, val, "a number of seconds (1 to 2678400)");
			i++;
		} else if (!strcmp(kw, "dev")) {
			if (!*val || strlen(val) >= IFNAMSIZ)
				return bad_arg(kw, val, "a device name");
			c->xdp_dev = val;
			i++;
		} else if (!strcmp(kw, "mode")) {
			if (!strcmp(val, "native"))
				c->xdp_mode = CX_XDP_NATIVE;
			else if (!strcmp(val, "generic"))
				c->xdp_mode = CX_XDP_GENERIC;
			else
				return bad_arg(kw, val, "native or generic");
			i++;
		}
	}
	if (c->xdp && !c->xdp_dev) {
		errorf("collect: xdp needs dev IFACE, the interface the copies arrive on");
		return VTAP_EXIT_USAGE;
	}
	if (c->xdp_dev && !c->xdp) {
		errorf("collect: dev IFACE is where xdp attaches: give xdp too");
		return VTAP_EXIT_USAGE;
	}
	if (c->xdp_mode != CX_XDP_ANY && !c->xdp) {
		errorf("collect: mode is XDP's: give dev IFACE xdp too");
		return VTAP_EXIT_USAGE;
	}
	if (!c->path && !c->dev) {
		errorf("collect: say where the frames go: write FILE, to DEV, or both");
		return VTAP_EXIT_USAGE;
	}
	if ((c->rotate_bytes || c->rotate_secs) && (!c->path || !strcmp(c->path, "-"))) {
		errorf("collect: rotate-size and rotate-time need write FILE (not '-')");
		return VTAP_EXIT_USAGE;
	}
	if (c->has_dstport && !c->vxlan) {
		errorf("collect: dstport is VXLAN's port: not with encap gre");
		return VTAP_EXIT_USAGE;
	}
	return VTAP_EXIT_OK;
}

/* ---- sessions and ports ------------------------------------------------- */

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

static struct stream *get_stream(struct collector *c, const struct vtap_pkt *p)
{
	uint32_t h = 2166136261u, id = p->has_session ? p->session : 0;
	uint8_t enc = (uint8_t)p->encap, has = p->has_session;
	struct stream *st;

	h = fnv(h, &p->family, 1);
	h = fnv(h, p->src, 16);
	h = fnv(h, &enc, 1);
	h = fnv(h, &has, 1);
	h = fnv(h, &id, 4) % STREAM_HASH;
	for (st = c->shash[h]; st; st = st->hnext)
		if (st->family == p->family && !memcmp(st->src, p->src, 16) &&
		    st->encap == enc && st->has_id == has && st->id == id)
			return st;
	if (c->nstreams == MAX_STREAMS)
		return NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->family = p->family;
	memcpy(st->src, p->src, 16);
	st->encap = enc;
	st->has_id = has;
	st->id = id;
	vtap_seq_init(&st->seq);
	st->feeds_tail = &st->feeds;
	st->hnext = c->shash[h];
	c->shash[h] = st;
	*c->streams_tail = st;
	c->streams_tail = &st->next;
	c->nstreams++;
	return st;
}

/* A display name for a VM port, set before or after its first copy. */
struct port_label {
	struct port_label *next;
	uint32_t session, index;
	char label[64];
};

static void port_name(struct port *pt)
{
	const struct stream *st = pt->st;
	int n;

	if (pt->vm)
		n = snprintf(pt->name, sizeof(pt->name), "vtap-s%u", pt->session);
	else if (st->encap == VTAP_PKT_GRE)
		n = st->has_id ? snprintf(pt->name, sizeof(pt->name), "vtap-k%u", st->id)
			       : snprintf(pt->name, sizeof(pt->name), "vtap-gre");
	else if (st->encap == VTAP_PKT_VXLAN)
		n = snprintf(pt->name, sizeof(pt->name), "vtap-v%u", st->id);
	else
		n = snprintf(pt->name, sizeof(pt->name), "vtap-s%u", st->id);
	if (pt->has_index && n > 0 && (size_t)n < sizeof(pt->name))
		snprintf(pt->name + n, sizeof(pt->name) - (size_t)n, "-i%u", pt->index);
}

/*
 * Is @p's interface the VM port's wherever it runs: an ERSPAN copy that
 * names its port (Type II's index, Type III's Platf ID 3 or 7 sub-header)?
 */
static bool pkt_names_port(const struct vtap_pkt *p)
{
	return p->has_index && p->has_session &&
	       (p->encap == VTAP_PKT_ERSPAN2 || p->encap == VTAP_PKT_ERSPAN3);
}

static uint32_t port_hash(bool vm, const struct stream *st, uint32_t session,
			  bool has, uint32_t idx)
{
	uint32_t h = 2166136261u;
	uint8_t k = (uint8_t)(vm << 1 | has);

	h = fnv(h, &k, 1);
	if (vm)
		h = fnv(h, &session, 4);
	else
		h = fnv(h, &st, sizeof(st));
	return fnv(h, &idx, 4) % PORT_HASH;
}

/*
 * The feed of @pt by @st (what this sender sent it), made on its first
 * packet (the port then has one more sender); NULL without memory.
 */
static struct feed *get_feed(struct stream *st, struct port *pt)
{
	struct feed *f;

	if (pt->feed && pt->st == st)
		return pt->feed;
	for (f = st->feeds; f; f = f->next)
		if (f->pt == pt)
			return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->pt = pt;
	*st->feeds_tail = f;
	st->feeds_tail = &f->next;
	if (pt->nsenders < PORT_SENDERS)
		pt->senders[pt->nsenders] = st;
	pt->nsenders++;
	return f;
}

static bool same_sender(const struct stream *a, const struct stream *b)
{
	return a->family == b->family && !memcmp(a->src, b->src, 16);
}

/*
 * The port (pcapng interface) of @p, which came in @st: made on its first
 * packet.  A VM port's copies may come from another sender than its last
 * one: the VM moved (counted, *@moved), its interface stays.  NULL when the
 * table is full or memory is short.
 */
static struct port *get_port(struct collector *c, struct stream *st,
			     const struct vtap_pkt *p, bool *moved)
{
	bool vm = pkt_names_port(p), has = p->has_index;
	uint32_t idx = has ? p->index : 0, sid = vm ? p->session : 0;
	uint32_t h = port_hash(vm, st, sid, has, idx);
	const struct port_label *l;
	struct feed *f;
	struct port *pt;

	for (pt = c->phash[h]; pt; pt = pt->hnext)
		if (pt->vm == vm && pt->has_index == has && pt->index == idx &&
		    (vm ? pt->session == sid : pt->st == st))
			break;
	if (!pt) {
		if (c->nports == MAX_PORTS)
			return NULL;
		pt = calloc(1, sizeof(*pt));
		if (!pt)
			return NULL;
		pt->st = st;
		pt->vm = vm;
		pt->has_index = has;
		pt->index = idx;
		pt->session = sid;
		port_name(pt);
		for (l = c->labels; vm && l; l = l->next)
			if (l->session == sid && l->index == idx)
				snprintf(pt->label, sizeof(pt->label), "%s", l->label);
		pt->hnext = c->phash[h];
		c->phash[h] = pt;
		*c->ports_tail = pt;
		c->ports_tail = &pt->next;
		c->nports++;
	}
	f = get_feed(st, pt);
	if (!f)
		return NULL;
	*moved = pt->st != st && !same_sender(pt->st, st);
	pt->moves += *moved;
	pt->st = st;
	pt->feed = f;
	return pt;
}

/**
 * collect_port_label - give a VM port a display name
 * @c: the collector
 * @session: the ERSPAN session id its copies carry
 * @index: its port index (ERSPAN II index, ERSPAN III sub-header index)
 * @label: the name (a VM's, from a configuration file), up to 63 bytes
 *
 * The interface keeps its name (vtap-s<ID>-i<INDEX>); the label is in its
 * description (if_description of the IDBs written from now on) and in the
 * summary.  Returns 0 or -ENOMEM.
 */
int collect_port_label(struct collector *c, uint32_t session, uint32_t index,
		       const char *label)
{
	struct port_label *l;
	struct port *pt;

	for (l = c->labels; l; l = l->next)
		if (l->session == session && l->index == index)
			break;
	if (!l) {
		l = calloc(1, sizeof(*l));
		if (!l)
			return -ENOMEM;
		l->session = session;
		l->index = index;
		l->next = c->labels;
		c->labels = l;
	}
	snprintf(l->label, sizeof(l->label), "%s", label);
	for (pt = c->ports; pt; pt = pt->next)
		if (pt->vm && pt->session == session && pt->index == index)
			snprintf(pt->label, sizeof(pt->label), "%s", label);
	return 0;
}

static void free_tables(struct collector *c)
{
	struct port_label *l, *lnext;
	struct stream *st, *snext;
	struct port *pt, *pnext;
	struct feed *f, *fnext;

	for (st = c->streams; st; st = snext) {
		snext = st->next;
		for (f = st->feeds; f; f = fnext) {
			fnext = f->next;
			free(f);
		}
		free(st);
	}
	c->streams = NULL;
	for (pt = c->ports; pt; pt = pnext) {
		pnext = pt->next;
		free(pt);
	}
	c->ports = NULL;
	for (l = c->labels; l; l = lnext) {
		lnext = l->next;
		free(l);
	}
	c->labels = NULL;
}

/* ---- pcapng files ------------------------------------------------------- */

/* FILE.pcapng -> FILE-0001.pcapng; FILE -> FILE-0001 (rotation only). */
static const char *file_name(struct collector *c)
{
	const char *ext = ".pcapng";
	size_t n = strlen(c->path), e = strlen(ext);

	if (!c->rotate_bytes && !c->rotate_secs)
		return c->path;
	if (n > e && !strcmp(c->path + n - e, ext))
		n -= e;
	else
		ext = "";
	snprintf(c->fname, c->fname_len, "%.*s-%04u%s", (int)n, c->path,
		 c->file_no, ext);
	return c->fname;
}

static int file_open(struct collector *c)
{
	struct pcapng_shb_info shb = {
		.userappl = "vtapctl collect " VTAP_VERSION,
		.os = "Linux",
	};
	const char *name;
	int err;

	c->file_no++;
	c->file_gen++;
	c->nifs = 0;
	c->nfports = 0;
	if (!strcmp(c->path, "-")) {
		name = "standard output";
		err = pcapng_open(&c->file, NULL, STDOUT_FILENO);
	} else {
		name = file_name(c);
		err = pcapng_open(&c->file, name, -1);
	}
	if (!err)
		err = pcapng_put_shb(&c->file.buf, &shb);
	if (!err)
		err = pcapng_flush(&c->file);
	if (err) {
		errorf("collect: %s: %s", name, strerror(-err));
		pcapng_close(&c->file);
		c->write_err = err;
		return err;
	}
	c->file_open = true;
	c->files++;
	if (c->rotate_secs)
		c->file_deadline = now_ns(CLOCK_MONOTONIC) + c->rotate_secs * NSEC;
	return 0;
}

static void note_write_error(struct collector *c, int err)
{
	if (!c->write_err) {
		errorf("collect: writing %s: %s", !strcmp(c->path, "-") ?
		       "standard output" : file_name(c), strerror(-err));
		c->write_err = err;
	}
	c->write_errors++;
}

/*
 * A VM port's ISB comment: the sequence accounting of the sessions of its
 * senders (each counted per sender), its moves and its senders.
 */
static void port_comment(const struct port *pt, char *buf, size_t len)
{
	uint64_t lost = 0, reo = 0, dup = 0, resets = 0;
	char src[INET6_ADDRSTRLEN];
	unsigned int i, n = pt->nsenders < PORT_SENDERS ? pt->nsenders : PORT_SENDERS;
	size_t k;

	for (i = 0; i < n; i++) {
		lost += pt->senders[i]->seq.lost;
		reo += pt->senders[i]->seq.reordered;
		dup += pt->senders[i]->seq.duplicates;
		resets += pt->senders[i]->seq.resets;
	}
	k = (size_t)snprintf(buf, len,
			     "session since the start, per sender: %llu lost, %llu reordered, "
			     "%llu duplicates, %llu resets; %llu moves; senders",
			     (unsigned long long)lost, (unsigned long long)reo,
			     (unsigned long long)dup, (unsigned long long)resets,
			     (unsigned long long)pt->moves);
	for (i = 0; i < n && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : " ",
				      stream_src(pt->senders[i], src, sizeof(src)));
	if (pt->nsenders > n && k < len)
		snprintf(buf + k, len - k, " and %u more", pt->nsenders - n);
}

/* Interface statistics, then close.  @keep_empty: keep a file with no packets. */
static void file_close(struct collector *c, bool keep_empty)
{
	uint64_t now = now_ns(CLOCK_REALTIME);
	uint64_t pkts = 0;
	size_t i;
	int err;

	if (!c->file_open)
		return;
	for (i = 0; i < c->nfports; i++) {
		struct port *pt = c->fports[i];
		const struct stream *st = pt->st;
		struct pcapng_isb_info isb = {
			.ifid = pt->ifid, .ts = now,
			.has_times = true, .starttime = pt->first_ts,
			.endtime = pt->last_ts,
			.has_ifrecv = true, .ifrecv = pt->file_pkts,
		};
		char comment[384];

		if (st->encap == VTAP_PKT_VXLAN) {
			isb.comment = "VXLAN has no sequence number: lost, reordered "
				      "and duplicate copies are not counted";
		} else if (pt->vm) {
			port_comment(pt, comment, sizeof(comment));
			isb.comment = comment;
		} else if (st->encap != VTAP_PKT_GRE || st->seq.started) {
			snprintf(comment, sizeof(comment),
				 "session since the start: %llu lost, %llu reordered, %llu duplicates",
				 (unsigned long long)st->seq.lost,
				 (unsigned long long)st->seq.reordered,
				 (unsigned long long)st->seq.duplicates);
			isb.comment = comment;
		}
		pkts += pt->file_pkts;
		if (pcapng_put_isb(&c->file.buf, &isb))
			break;
	}
	err = pcapng_close(&c->file);
	if (err)
		note_write_error(c, err);
	c->file_open = false;
	if (!pkts && !keep_empty && strcmp(c->path, "-")) {
		/* A rotated file that never got a packet: not worth keeping. */
		unlink(file_name(c));
		c->files--;
	}
}

static int file_rotate(struct collector *c)
{
	file_close(c, false);
	return file_open(c);
}

/* The interface of @pt in the current file: an IDB the first time. */
static int file_ifid(struct collector *c, struct port *pt)
{
	const struct stream *st = pt->st;
	char desc[384], src[INET6_ADDRSTRLEN], idx[32] = "", vm[112] = "";
	struct pcapng_idb_info idb = {
		.linktype = PCAPNG_LINKTYPE_ETHERNET,
		.snaplen = 0,
		.name = pt->name,
		.description = desc,
		.tsresol = 9,
	};
	int err;

	if (pt->file_gen == c->file_gen)
		return 0;
	if (c->nfports == c->fports_cap) {
		size_t cap = c->fports_cap ? c->fports_cap * 2 : 64;
		struct port **v = realloc(c->fports, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->fports = v;
		c->fports_cap = cap;
	}
	if (pt->has_index)
		snprintf(idx, sizeof(idx), ", port index %u", pt->index);
	if (pt->vm)
		snprintf(vm, sizeof(vm), "%s%s%s; the VM's copies from any sender",
			 pt->label[0] ? " (" : "", pt->label, pt->label[0] ? ")" : "");
	snprintf(desc, sizeof(desc),
		 "vtap %s %s %u from %s%s%s; direction in epb_flags: inbound = sent by the VM, outbound = delivered to it",
		 st->encap == VTAP_PKT_GRE ? "GRE-TEB" :
		 st->encap == VTAP_PKT_ERSPAN2 ? "ERSPAN II" : "ERSPAN III",
		 st->encap == VTAP_PKT_GRE ? "key" : "session", st->id,
		 stream_src(st, src, sizeof(src)), idx, vm);
	if (st->encap == VTAP_PKT_GRE && !st->has_id)
		snprintf(desc, sizeof(desc), "vtap GRE-TEB without key from %s",
			 stream_src(st, src, sizeof(src)));
	if (st->encap == VTAP_PKT_VXLAN)
		snprintf(desc, sizeof(desc),
			 "vtap VXLAN VNI %u from %s; no direction (VXLAN does not carry it)",
			 st->id, stream_src(st, src, sizeof(src)));
	err = pcapng_put_idb(&c->file.buf, &idb);
	if (err)
		return err;
	pt->file_gen = c->file_gen;
	pt->ifid = c->nifs++;
	pt->file_pkts = 0;
	c->fports[c->nfports++] = pt;
	return 0;
}

/* Packet notes beyond the sequence verdict, for the EPB comment. */
#define NOTE_RESET	1U		/* the sender started over: a reset */
#define NOTE_MOVED	2U		/* a VM port's copy from another sender */

static void epb_comment(char *buf, size_t len, const struct vtap_pkt *p,
			int verdict, uint32_t missing, unsigned int notes,
			const struct stream *st)
{
	char src[INET6_ADDRSTRLEN];
	size_t n = 0;

	buf[0] = 0;
	if (notes & NOTE_MOVED) {
		n = (size_t)snprintf(buf, len, "vtap: from another sender, %s (the VM moved)",
				     stream_src(st, src, sizeof(src)));
		if (n >= len)
			return;
	}
	if (notes & NOTE_RESET) {
		n += (size_t)snprintf(buf + n, len - n,
				      "%sthe sender started over (GRE sequence %u): a reset, not a loss",
				      n ? "; " : "vtap: ", p->seq);
		if (n >= len)
			return;
	}
	switch (verdict) {
	case VTAP_SEQ_GAP:
		n += (size_t)snprintf(buf + n, len - n, "%s%u lost before this copy (GRE sequence %u)",
				      n ? "; " : "vtap: ", missing, p->seq);
		break;
	case VTAP_SEQ_REORDERED:
		n += (size_t)snprintf(buf + n, len - n, "%sreordered (GRE sequence %u)",
				      n ? "; " : "vtap: ", p->seq);
		break;
	case VTAP_SEQ_DUPLICATE:
		n += (size_t)snprintf(buf + n, len - n, "%sduplicate (GRE sequence %u)",
				      n ? "; " : "vtap: ", p->seq);
		break;
	case VTAP_SEQ_LATE:
		n += (size_t)snprintf(buf + n, len - n, "%slate (GRE sequence %u)",
				      n ? "; " : "vtap: ", p->seq);
		break;
	default:
		break;
	}
	if (n >= len)
		return;
	if (p->orig_len > p->frame_len)
		snprintf(buf + n, len - n, "%struncated by the sender, original length %s",
			 n ? "; " : "vtap: ",
			 p->orig_len_exact ? "from the inner IP header" :
			 "unknown (recorded as captured + 1)");
}

static int write_packet(struct collector *c, struct port *pt,
			const struct vtap_pkt *p, uint64_t ts, int verdict,
			uint32_t missing, unsigned int notes)
{
	char comment[256];
	struct pcapng_epb_info epb = {
		.ts = ts,
		.data = p->frame,
		.caplen = p->frame_len,
		.origlen = p->orig_len,
		.comment = comment,
	};
	int err;

	if (c->rotate_bytes && c->file_open && c->nfports) {
		/*
		 * An upper bound of what this packet adds (and its IDB), and
		 * of the statistics written when the file is closed.
		 */
		bool new_if = pt->file_gen != c->file_gen;
		uint64_t more = 48 + ((p->frame_len + 3) & ~3u) + sizeof(comment) +
				(new_if ? IDB_ROOM : 0) +
				(c->nfports + new_if) * ISB_ROOM;

		if (pcapng_size(&c->file) + more > c->rotate_bytes) {
			err = file_rotate(c);
			if (err)
				return err;
		}
	}
	if (!c->file_open) {
		err = file_open(c);
		if (err)
			return err;
	}
	err = file_ifid(c, pt);
	if (err)
		return err;
	epb.ifid = pt->ifid;
	if (p->has_dir)
		epb.flags = p->dir ? PCAPNG_EPB_OUTBOUND : PCAPNG_EPB_INBOUND;
	epb_comment(comment, sizeof(comment), p, verdict, missing, notes, pt->st);
	err = pcapng_put_epb(&c->file.buf, &epb);
	if (err)
		return err;
	if (!pt->file_pkts)
		pt->first_ts = ts;
	pt->last_ts = ts;
	pt->file_pkts++;
	c->written++;
	if (c->file.buf.len >= FLUSH_BYTES)
		return pcapng_flush(&c->file);
	return 0;
}

/* ---- receiving ---------------------------------------------------------- */

static bool wanted(const struct collector *c, const struct vtap_pkt *p)
{
	int i;

	if (!c->nfilter)
		return true;
	if (!p->has_session)
		return false;
	for (i = 0; i < c->nfilter; i++)
		if (c->filter[i] == p->session)
			return true;
	return false;
}

static void inject(struct collector *c, const struct vtap_pkt *p)
{
	ssize_t n;

	n = sendto(c->pkt_fd, p->frame, p->frame_len, MSG_DONTWAIT,
		   (const struct sockaddr *)&c->sll, sizeof(c->sll));
	if (n == (ssize_t)p->frame_len) {
		c->injected++;
		return;
	}
	if (!c->inject_errno) {
		c->inject_errno = n < 0 ? errno : EIO;
		errorf("collect: sending to %s: %s (counted, not repeated)", c->dev,
		       strerror(c->inject_errno));
	}
	c->inject_errors++;
}

/*
 * One received packet from socket @which: raw IPv4 from the IP header on,
 * raw IPv6 from the GRE header on, UDP (VXLAN) from the VXLAN header on; the
 * sender in @from except for raw IPv4 (the IP header has it).
 */
static int handle(struct collector *c, int which, const uint8_t *buf,
		  size_t len, const struct sockaddr_storage *from, uint64_t arrival)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)from;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)from;
	struct vtap_pkt p;
	struct stream *st;
	struct port *pt;
	uint32_t missing = 0;
	unsigned int notes = 0;
	int verdict = -1, err;
	bool moved = false;
	uint64_t ts;

	c->received++;
	c->received_bytes += len;
	if (which == 0) {
		err = vtap_decode_ip(buf, len, &p);
	} else {
		err = which == 1 ? vtap_decode_gre(buf, len, &p) :
				   vtap_decode_vxlan(buf, len, &p);
		if (!err && from->ss_family == AF_INET6) {
			p.family = AF_INET6;
			memcpy(p.src, &s6->sin6_addr, 16);
		} else if (!err) {
			p.family = AF_INET;
			memcpy(p.src, &s4->sin_addr, 4);
		}
	}
	if (err) {
		c->rejected++;
		c->reason[err]++;
		return 0;
	}
	if (!wanted(c, &p)) {
		c->filtered++;
		return 0;
	}
	st = get_stream(c, &p);
	pt = st ? get_port(c, st, &p, &moved) : NULL;
	if (!pt) {
		c->table_full++;
		return 0;
	}
	c->accepted++;
	st->packets++;
	pt->feed->pkts[p.has_dir ? (p.dir ? DIR_IN : DIR_OUT) : DIR_UNKNOWN]++;
	pt->feed->bytes += p.frame_len;
	st->bytes += p.frame_len;
	if (p.has_seq) {
		uint64_t resets = st->seq.resets;

		verdict = vtap_seq_update(&st->seq, p.seq, &missing);
		if (st->seq.resets != resets)
			notes |= NOTE_RESET;
	} else {
		st->noseq++;
	}
	if (moved)
		notes |= NOTE_MOVED;
	if (p.orig_len > p.frame_len)
		st->truncated++;
	pt->pkts[p.has_dir ? (p.dir ? DIR_IN : DIR_OUT) : DIR_UNKNOWN]++;
	pt->bytes += p.frame_len;
	if (!vtap_pkt_time(&p, arrival, &ts))
		ts = arrival;
	if (c->writing && !c->write_err) {
		err = write_packet(c, pt, &p, ts, verdict, missing, notes);
		if (err) {
			note_write_error(c, err);
			return err;
		}
	}
	if (c->pkt_fd >= 0)
		inject(c, &p);
	return 0;
}

static int receive(struct collector *c, int which)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct timespec)) +
			 CMSG_SPACE(sizeof(uint32_t)) + 64];
	} ctl;
	struct sockaddr_storage from;
	struct iovec iov = { .iov_base = c->rx, .iov_len = RX_BUF };
	int i, err;

	for (i = 0; i < RX_BATCH && !stop_signal; i++) {
		struct msghdr msg = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};
		struct cmsghdr *cm;
		uint64_t arrival = 0;
		ssize_t n;

		n = recvmsg(c->fd[which], &msg, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			if (errno == ENOBUFS || errno == ENOMEM)
				continue;
			errorf("collect: receiving: %s", strerror(errno));
			return -errno;
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_level != SOL_SOCKET)
				continue;
			if (cm->cmsg_type == SCM_TIMESTAMPNS &&
			    cm->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				arrival = (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
			} else if (cm->cmsg_type == SO_RXQ_OVFL &&
				   cm->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
				memcpy(&c->ovfl[which], CMSG_DATA(cm), sizeof(uint32_t));
			}
		}
		if (!arrival)
			arrival = now_ns(CLOCK_REALTIME);
		if ((size_t)n > RX_BUF || (msg.msg_flags & MSG_TRUNC)) {
			c->received++;
			c->rejected++;
			c->oversize++;
			continue;
		}
		err = handle(c, which, c->rx, (size_t)n, &from, arrival);
		if (err)
			return err;
		if (c->count && c->accepted >= c->count)
			return 0;
	}
	return 0;
}

/*
 * A raw IPPROTO_GRE socket, or (@udp) a UDP socket on the VXLAN port; bound
 * to the listen address if there is one.  @quiet: the caller reports errors.
 */
static int open_sock(struct collector *c, int family, bool udp, bool quiet)
{
	int fd, one = 1, size = 8 << 20;
	const char *fam = family == AF_INET ? "IPv4" : "IPv6";

	fd = udp ? socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_UDP) :
		   socket(family, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_GRE);
	if (fd < 0) {
		int err = errno;

		if (quiet)
			return -err;
		if (!udp && (err == EPERM || err == EACCES))
			errorf("collect: raw sockets need CAP_NET_RAW (run as root)");
		else if (c->family || err != EAFNOSUPPORT)
			errorf("collect: %s %s socket: %s", fam, udp ? "UDP" : "raw",
			       strerror(err));
		return -err;
	}
	if (udp && family == AF_INET6) {
		/* Its own IPv4 socket gets IPv4 (no v4-mapped senders). */
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) {
			int err = errno;

			if (!quiet)
				errorf("collect: IPv6 UDP socket: IPV6_V6ONLY: %s", strerror(err));
			close(fd);
			return -err;
		}
		/* vtap computes the checksum on IPv6; others may not (RFC 6935). */
		(void)setsockopt(fd, IPPROTO_UDP, UDP_NO_CHECK6_RX, &one, sizeof(one));
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one))) {
		errorf("collect: %s socket options: %s", fam, strerror(errno));
		close(fd);
		return -EINVAL;
	}
	if (c->has_listen || udp) {
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
		struct sockaddr_in s4 = { .sin_family = AF_INET };
		char buf[INET6_ADDRSTRLEN];
		int rc;

		/* Raw sockets: port 0 (the field holds no port for them). */
		if (family == AF_INET) {
			if (c->has_listen)
				s4.sin_addr = c->listen.v4;
			s4.sin_port = htons(udp ? c->dstport : 0);
			rc = bind(fd, (struct sockaddr *)&s4, sizeof(s4));
		} else {
			if (c->has_listen)
				s6.sin6_addr = c->listen.v6;
			s6.sin6_port = htons(udp ? c->dstport : 0);
			rc = bind(fd, (struct sockaddr *)&s6, sizeof(s6));
		}
		if (rc) {
			int err = errno;

			if (!quiet && udp)
				errorf("collect: VXLAN: %s UDP port %u%s%s: %s", fam, c->dstport,
				       c->has_listen ? " on " : "",
				       c->has_listen ? format_addr(&c->listen, buf, sizeof(buf)) : "",
				       strerror(err));
			else if (!quiet)
				errorf("collect: listen %s: %s",
				       format_addr(&c->listen, buf, sizeof(buf)), strerror(err));
			close(fd);
			return -err;
		}
	}
	return fd;
}

static int open_dev(struct collector *c)
{
	struct ifreq ifr;
	int fd, ifindex;

	ifindex = (int)if_nametoindex(c->dev);
	if (!ifindex) {
		errorf("collect: to %s: no such device", c->dev);
		return -ENODEV;
	}
	/* Protocol 0: this socket sends only, it receives nothing. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int err = errno;

		errorf("collect: packet socket: %s", strerror(err));
		return -err;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", c->dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) ||
	    ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		errorf("collect: to %s: not an Ethernet device (tap, veth, dummy...)", c->dev);
		close(fd);
		return -EINVAL;
	}
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) || !(ifr.ifr_flags & IFF_UP)) {
		errorf("collect: to %s: the device is down", c->dev);
		close(fd);
		return -ENETDOWN;
	}
	memset(&c->sll, 0, sizeof(c->sll));
	c->sll.sll_family = AF_PACKET;
	c->sll.sll_ifindex = ifindex;
	c->sll.sll_halen = 6;
	c->pkt_fd = fd;
	return 0;
}

/* ---- XDP ---------------------------------------------------------------- */

/*
 * dev IFACE xdp: the program on IFACE, for the sockets opened (it consumes
 * only what they would receive).  0, or an exit status: IFACE missing.  Any
 * other failure falls back to the sockets alone, with the reason.
 */
static int start_xdp(struct collector *c)
{
	struct cx_xdp_opts o = {
		.ifname = c->xdp_dev,
		.mode = c->xdp_mode,
		.vxlan_port = c->dstport,
		.ids = c->filter,
		.nids = c->nfilter,
		.listen = c->has_listen ? &c->listen : NULL,
		.budget = c->count,
	};
	int err;

	o.enable = (c->fd[0] >= 0 ? VTAP_CX_GRE4 : 0) | (c->fd[1] >= 0 ? VTAP_CX_GRE6 : 0) |
		   (c->fd[2] >= 0 ? VTAP_CX_VXLAN4 : 0) | (c->fd[3] >= 0 ? VTAP_CX_VXLAN6 : 0);
	/* With write FILE every copy must reach the file: count only. */
	if (c->dev && !c->path)
		o.tx_ifindex = c->sll.sll_ifindex;
	c->xdp_redirect = o.tx_ifindex > 0;
	err = cx_xdp_start(&o, &c->xdpx, c->xdp_why, sizeof(c->xdp_why));
	if (err == -ENODEV) {
		errorf("collect: %s", c->xdp_why);
		return VTAP_EXIT_NOENT;
	}
	if (err)
		fprintf(stderr, "collect: raw sockets (XDP: %s)\n", c->xdp_why);
	else
		fprintf(stderr, "collect: XDP %s on %s%s\n", cx_xdp_mode_name(c->xdpx),
			c->xdp_dev, o.tx_ifindex ? "" : " (counting; the sockets write the file)");
	return 0;
}

struct xdp_sum {
	struct vtap_cx_stats total;
	bool print;
};

static void xdp_session(void *arg, const struct vtap_cx_key *k, const struct vtap_cx_stats *s)
{
	struct xdp_sum *sum = arg;

	if (!sum->print) {
		sum->total.packets += s->packets;
		sum->total.bytes += s->bytes;
		sum->total.passed += s->passed;
		sum->total.undelivered += s->undelivered;
		return;
	}
	out_open_obj();
	out_text("\n  xdp session");
	if (k->has_id)
		out_u64("id", " %llu", k->id);
	out_str("encap", " %s:", encap_name(k->encap));
	out_u64("packets", " packets %llu", s->packets);
	out_u64("bytes", " bytes %llu", s->bytes);
	out_u64("passed", " passed %llu", s->passed);
	out_u64("undelivered", " undelivered %llu", s->undelivered);
	if (json_output)
		out_close_obj();
}

/*
 * "xdp": the path taken and, with the program, what it did: packets and
 * bytes it redirected to DEV (or, counting only, saw), what it left to the
 * sockets, what it could not deliver; per session.
 */
static void print_xdp(struct collector *c)
{
	struct xdp_sum sum = { 0 };

	if (!c->xdp)
		return;
	out_open_nested("xdp");
	out_str("device", "\nxdp on %s:", c->xdp_dev);
	if (!c->xdpx) {
		out_str("mode", " %s", "off");
		out_str("reason", " (%s)", c->xdp_why);
		out_close_nested();
		return;
	}
	out_str("mode", " %s,", cx_xdp_mode_name(c->xdpx));
	out_bool("redirect", NULL, c->xdp_redirect);
	cx_xdp_for_each(c->xdpx, xdp_session, &sum);
	out_u64("packets", c->xdp_redirect ? " sent to DEV %llu packets" :
		" counted %llu packets", sum.total.packets);
	out_u64("bytes", " (%llu bytes)", sum.total.bytes);
	out_u64("passed", ", passed to the sockets %llu", sum.total.passed);
	out_u64("undelivered", ", undelivered %llu", sum.total.undelivered);
	sum.print = true;
	out_open_array_key("sessions");
	cx_xdp_for_each(c->xdpx, xdp_session, &sum);
	out_close_array();
	out_close_nested();
}

/* ---- summary ------------------------------------------------------------ */

static void print_summary(struct collector *c)
{
	static const char *const dir_names[NDIR] = { "out", "in", "unknown" };
	uint64_t drops = (uint64_t)c->ovfl[0] + c->ovfl[1] + c->ovfl[2] + c->ovfl[3];
	const struct stream *st;
	const struct feed *f;
	const struct port *pt;
	char buf[INET6_ADDRSTRLEN];
	unsigned int k;
	int i;

	out_open_obj();
	out_u64("received", "received %llu packets", c->received);
	out_u64("received_bytes", " (%llu bytes):", c->received_bytes);
	out_u64("accepted", " accepted %llu", c->accepted);
	out_u64("filtered", ", filtered %llu", c->filtered);
	out_u64("rejected", ", rejected %llu", c->rejected);
	out_u64("socket_drops", ", dropped by the socket %llu", drops);
	out_u64("table_full", ", over the session/port limit %llu", c->table_full);
	out_open_nested("rejected_by_reason");
	if (c->rejected)
		out_text("\n  rejected:");
	for (i = 1; i < VTAP_DEC_NERR; i++) {
		char fmt[48];

		if (!c->reason[i])
			continue;
		snprintf(fmt, sizeof(fmt), " %s %%llu", vtap_decode_strerror(i));
		out_u64(vtap_decode_strerror(i), fmt, c->reason[i]);
	}
	if (c->oversize)
		out_u64("oversize", " oversize %llu", c->oversize);
	out_close_nested();
	if (c->writing) {
		out_u64("written", "\nwritten %llu packets", c->written);
		out_u64("files", " to %llu file(s)", c->files);
		out_u64("write_errors", ", write errors %llu", c->write_errors);
	}
	if (c->dev) {
		out_str("device", "\nsent to %s:", c->dev);
		out_u64("injected", " %llu packets", c->injected);
		out_u64("inject_errors", ", failed %llu", c->inject_errors);
	}
	print_xdp(c);
	out_open_array_key("sessions");
	for (st = c->streams; st; st = st->next) {
		out_open_obj();
		out_text("\nsession");
		if (st->has_id)
			out_u64("id", " %llu", st->id);
		out_str("encap", " %s", encap_name(st->encap));
		out_str("source", " from %s:", stream_src(st, buf, sizeof(buf)));
		out_u64("packets", " packets %llu", st->packets);
		out_u64("bytes", " bytes %llu", st->bytes);
		if (st->encap == VTAP_PKT_VXLAN) {
			/* Nothing to count loss with: no numbers, not zeros. */
			out_text(" no sequence (loss not counted)");
			out_bool("sequence", NULL, false);
		} else {
			out_u64("lost", " lost %llu", st->seq.lost);
			out_u64("gaps", " gaps %llu", st->seq.gaps);
			out_u64("reordered", " reordered %llu", st->seq.reordered);
			out_u64("duplicates", " duplicates %llu", st->seq.duplicates);
			out_u64("late", " late %llu", st->seq.late);
			out_u64("resets", " resets %llu", st->seq.resets);
		}
		out_u64("truncated", " truncated %llu", st->truncated);
		if (st->encap == VTAP_PKT_VXLAN)
			out_u64("no_sequence", NULL, st->noseq);
		else
			out_u64("no_sequence", " no_sequence %llu", st->noseq);
		/* The ports this sender's session fed, what it sent each. */
		out_open_array_key("ports");
		for (f = st->feeds; f; f = f->next) {
			int d;

			pt = f->pt;
			out_open_obj();
			out_str("name", "\n  port %s", pt->name);
			if (pt->has_index)
				out_u64("index", " index %llu", pt->index);
			for (d = 0; d < NDIR; d++) {
				char fmt[24];

				snprintf(fmt, sizeof(fmt), " %s %%llu", dir_names[d]);
				out_u64(dir_names[d], fmt, f->pkts[d]);
			}
			out_u64("bytes", " bytes %llu", f->bytes);
			if (json_output)
				out_close_obj();
		}
		out_close_array();
		if (json_output)
			out_close_obj();
	}
	out_close_array();
	/* The pcapng interfaces: a VM port's gathers its copies from every sender. */
	out_open_array_key("interfaces");
	for (pt = c->ports; pt; pt = pt->next) {
		uint64_t n = pt->pkts[0] + pt->pkts[1] + pt->pkts[2];

		out_open_obj();
		out_str("name", "\ninterface %s", pt->name);
		if (pt->label[0])
			out_str("label", " (%s)", pt->label);
		if (pt->vm)
			out_u64("session", " session %llu", pt->session);
		if (pt->has_index)
			out_u64("index", " index %llu", pt->index);
		out_u64("packets", ": packets %llu", n);
		out_u64("bytes", " bytes %llu", pt->bytes);
		out_u64("moves", " moves %llu", pt->moves);
		out_u64("senders", " senders %llu", pt->nsenders);
		out_open_array_key("sources");
		out_text(" (");
		for (k = 0; k < pt->nsenders && k < PORT_SENDERS; k++) {
			if (json_output)
				out_str(NULL, NULL, stream_src(pt->senders[k], buf, sizeof(buf)));
			else
				out_text("%s%s", k ? ", " : "",
					 stream_src(pt->senders[k], buf, sizeof(buf)));
		}
		if (pt->nsenders > PORT_SENDERS)
			out_text(", ...");
		out_text(")");
		out_close_array();
		if (json_output)
			out_close_obj();
	}
	out_close_array();
	out_close_obj();
	if (json_output)
		putchar('\n');
	fflush(stdout);
}

/* ---- main loop ---------------------------------------------------------- */

static int run(struct collector *c)
{
	uint64_t start = now_ns(CLOCK_MONOTONIC), end = 0;
	struct pollfd pfd[NSOCK];
	sigset_t block, old;
	struct sigaction sa;
	int i, n = 0, idx[NSOCK], rc = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	for (i = 0; i < NSOCK; i++) {
		if (c->fd[i] < 0)
			continue;
		pfd[n].fd = c->fd[i];
		pfd[n].events = POLLIN;
		idx[n++] = i;
	}
	if (c->duration)
		end = start + c->duration * NSEC;
	c->last_flush = start;
	while (!stop_signal && !rc && !c->write_err) {
		uint64_t now = now_ns(CLOCK_MONOTONIC), wait = NSEC / 2;
		struct timespec ts;
		int k;

		if (end && now >= end)
			break;
		if (c->xdpx && c->xdp_redirect && c->count)
			wait = NSEC / 20;	/* the program's packets count too */
		if (end && end - now < wait)
			wait = end - now;
		ts.tv_sec = (time_t)(wait / NSEC);
		ts.tv_nsec = (long)(wait % NSEC);
		k = ppoll(pfd, (nfds_t)n, &ts, &old);
		if (k < 0 && errno != EINTR) {
			errorf("collect: poll: %s", strerror(errno));
			rc = -errno;
			break;
		}
		for (i = 0; k > 0 && i < n && !rc; i++)
			if (pfd[i].revents)
				rc = receive(c, idx[i]);
		if (c->xdpx && c->xdp_redirect && c->count)
			c->xdp_packets = cx_xdp_packets(c->xdpx);
		if (c->count && c->accepted + c->xdp_packets >= c->count)
			break;
		now = now_ns(CLOCK_MONOTONIC);
		if (c->file_open && c->rotate_secs && now >= c->file_deadline) {
			if (c->nfports)
				rc = file_rotate(c);
			else
				c->file_deadline = now + c->rotate_secs * NSEC;
		}
		if (c->file_open && now - c->last_flush >= NSEC) {
			int err = pcapng_flush(&c->file);

			if (err)
				note_write_error(c, err);
			c->last_flush = now;
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/*
 * names FILE: each VM of a vtap.conf(5) file labels its port's interface,
 * for every session of its flows whose line gives the session id (the id
 * is what the copies carry; a session without one is allocated its id on
 * each host, so its copies cannot be told by name).
 */
static int load_names(struct collector *c)
{
	struct vtap_conf conf;
	int i, k, j, n = 0, err;

	err = conf_load(c->names, &conf);
	if (err)
		return err == -EINVAL ? VTAP_EXIT_USAGE : VTAP_EXIT_NOENT;
	for (i = 0; i < conf.nvms; i++) {
		const struct conf_vm *vm = &conf.vms[i];

		for (k = 0; k < vm->nflows; k++) {
			const struct conf_session *cs = conf_session(&conf, vm->flows[k].session);
			uint32_t sid = 0;

			for (j = 0; cs && j + 1 < cs->argc; j++)
				if (!strcmp(cs->argv[j], "id") &&
				    !parse_u32(cs->argv[j + 1], 1, VTAP_SESSION_ID_MAX, &sid))
					break;
			if (!sid) {
				fprintf(stderr, "collect: names: session %s has no id in %s: its "
					"copies are not named\n", vm->flows[k].session, c->names);
				continue;
			}
			if (collect_port_label(c, sid, vm->id, vm->name)) {
				conf_free(&conf);
				errorf("collect: out of memory");
				return VTAP_EXIT_LIMIT;
			}
			n++;
		}
	}
	conf_free(&conf);
	fprintf(stderr, "collect: names: %d VM port%s named from %s\n", n, n == 1 ? "" : "s",
		c->names);
	return 0;
}

int do_collect(int argc, char **argv)
{
	struct collector c;
	int rc, i, err;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < NSOCK; i++)
		c.fd[i] = -1;
	c.gre = true;
	c.vxlan = true;
	c.dstport = VTAP_VXLAN_PORT;
	c.pkt_fd = -1;
	c.streams_tail = &c.streams;
	c.ports_tail = &c.ports;
	if (argc < 2) {
		usage(stderr);
		return VTAP_EXIT_USAGE;
	}
	if (argc == 2 && (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") ||
			  !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return VTAP_EXIT_OK;
	}
	rc = parse_args(&c, argc, argv);
	if (rc)
		return rc;
	if (c.names) {
		rc = load_names(&c);
		if (rc)
			goto out;
	}

	stop_signal = 0;
	c.rx = malloc(RX_BUF);
	if (c.path) {
		c.fname_len = strlen(c.path) + 32;
		c.fname = malloc(c.fname_len);
	}
	if (!c.rx || (c.path && !c.fname)) {
		errorf("collect: out of memory");
		rc = VTAP_EXIT_LIMIT;
		goto out;
	}
	for (i = 0; i < NSOCK; i++) {
		int family = i & 1 ? AF_INET6 : AF_INET;
		bool udp = i >= SOCK_VXLAN;
		/* VXLAN asked for by name must work; by default, it may not. */
		bool optional = udp && !c.has_dstport && !c.has_encap;

		if ((c.family && c.family != family) || (udp ? !c.vxlan : !c.gre))
			continue;
		err = open_sock(&c, family, udp, optional);
		if (err >= 0) {
			c.fd[i] = err;
			continue;
		}
		/* Without a listen address, one family missing is fine. */
		if (!c.family && err == -EAFNOSUPPORT)
			continue;
		if (optional) {
			errorf("collect: warning: not receiving VXLAN over %s: UDP port %u: %s "
			       "(a local vxlan device? see dstport, encap)",
			       family == AF_INET ? "IPv4" : "IPv6", c.dstport, strerror(-err));
			continue;
		}
		rc = exit_code_for_errno(err);
		goto out;
	}
	if (c.fd[0] < 0 && c.fd[1] < 0 && c.fd[2] < 0 && c.fd[3] < 0) {
		errorf("collect: neither IPv4 nor IPv6 sockets are available");
		rc = VTAP_EXIT_FAIL;
		goto out;
	}
	if (c.dev) {
		err = open_dev(&c);
		if (err) {
			rc = err == -ENODEV ? VTAP_EXIT_NOENT : VTAP_EXIT_FAIL;
			goto out;
		}
	}
	if (c.xdp) {
		rc = start_xdp(&c);
		if (rc)
			goto out;
	}
	if (c.path) {
		c.writing = true;
		err = file_open(&c);
		if (err) {
			/* Not 4 (CAP_NET_RAW) or 7 (memory, table space): the file. */
			rc = VTAP_EXIT_OUTPUT;
			goto out;
		}
	}
	{
		char buf[INET6_ADDRSTRLEN];
		bool v4 = c.fd[0] >= 0 || c.fd[2] >= 0, v6 = c.fd[1] >= 0 || c.fd[3] >= 0;
		bool gre = c.fd[0] >= 0 || c.fd[1] >= 0, vx = c.fd[2] >= 0 || c.fd[3] >= 0;

		fprintf(stderr, "collect: listening on %s%s%s",
			c.has_listen ? format_addr(&c.listen, buf, sizeof(buf)) :
			v4 ? "any IPv4" : "",
			!c.has_listen && v4 && v6 ? " and " : "",
			!c.has_listen && v6 ? "any IPv6" : "");
		fprintf(stderr, " for %s%s", gre ? "GRE-TEB and ERSPAN" : "",
			gre && vx ? ", " : "");
		if (vx)
			fprintf(stderr, "VXLAN on UDP port %u", c.dstport);
		if (c.path)
			fprintf(stderr, ", writing %s", !strcmp(c.path, "-") ?
				"to standard output" : file_name(&c));
		if (c.dev)
			fprintf(stderr, ", sending to %s", c.dev);
		fputc('\n', stderr);
	}

	err = run(&c);
	cx_xdp_detach(c.xdpx);
	if (c.file_open)
		file_close(&c, c.file_no == 1);
	if (c.path && !strcmp(c.path, "-")) {
		/* The summary must not go into the capture. */
		if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			err = err ? err : -errno;
	}
	print_summary(&c);
	rc = c.write_err ? VTAP_EXIT_OUTPUT : err ? VTAP_EXIT_FAIL : VTAP_EXIT_OK;
out:
	for (i = 0; i < NSOCK; i++)
		if (c.fd[i] >= 0)
			close(c.fd[i]);
	if (c.pkt_fd >= 0)
		close(c.pkt_fd);
	if (c.file_open)
		pcapng_close(&c.file);
	cx_xdp_free(c.xdpx);
	free_tables(&c);
	free(c.fports);
	free(c.fname);
	free(c.rx);
	return rc;
}
