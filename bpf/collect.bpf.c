// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl collect's XDP program, on the interface the mirror copies arrive
 * on (collect ... dev IFACE xdp).  It recognises what the collector's
 * sockets would accept -- GRE-TEB (with or without key and sequence),
 * ERSPAN II (GRE 0x88be) and III (0x22eb), VXLAN on the configured UDP
 * port, over IPv4 and IPv6, addressed to an address the collector listens
 * on -- for the sessions listened to, and counts it per session.  With
 * "to DEV" (and no "write FILE") it strips the outer headers and redirects
 * the inner frame to DEV through the devmap: the same bytes that the socket
 * path would send with its packet socket (decode.c: the frame after the
 * encapsulation's headers, cut at the IP or UDP length, nothing added).
 *
 * Everything else is XDP_PASS and untouched, among it whatever the socket
 * path would treat differently or that this program does not verify: IPv4
 * options, fragments, a bad IPv4 header checksum, IPv6 extension headers, a
 * GRE checksum, a wrong VXLAN UDP checksum, an outer VLAN tag, a
 * frame not addressed to the interface's MAC address, anything malformed
 * (the socket path counts the rejection).  The packet is changed only after
 * bpf_redirect_map() has found DEV: a packet is modified only when it is
 * consumed.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "vtap_collect_bpf.h"

#define GRE_F_CSUM	0x8000
#define GRE_F_ROUTING	0x4000
#define GRE_F_KEY	0x2000
#define GRE_F_SEQ	0x1000
#define GRE_F_SSR	0x0800
#define GRE_F_RECUR5	0x0400
#define GRE_VERSION	0x0007

#define PROTO_TEB	0x6558
#define PROTO_ERSPAN2	0x88be
#define PROTO_ERSPAN3	0x22eb

/* enum vtap_pkt_encap (user/collect/decode.h) */
#define ENC_GRE		1
#define ENC_ERSPAN2	2
#define ENC_ERSPAN3	3
#define ENC_VXLAN	4

/* Set by vtapctl before loading. */
const volatile __u8 enable;		/* VTAP_CX_* */
const volatile __u16 vxlan_port = 4789;	/* host order */
const volatile __u8 filter_on;
const volatile __u8 redirect;		/* to DEV, without write FILE */
const volatile __u8 mac[ETH_ALEN];	/* the interface's */
const volatile __u64 budget;		/* count N: redirect at most N; 0: no limit */

__u64 used;				/* redirects taken from the budget */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VTAP_CX_MAX_ADDRS);
	__type(key, struct vtap_cx_addr);
	__type(value, __u8);
} addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VTAP_CX_MAX_SESSIONS);
	__type(key, __u32);
	__type(value, __u8);
} sessions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, VTAP_CX_MAX_STATS);
	__type(key, struct vtap_cx_key);
	__type(value, struct vtap_cx_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tx SEC(".maps");

/* What the headers say, once they have been checked. */
struct cx_pkt {
	struct vtap_cx_key key;
	__u32 start;		/* the inner frame: its offset */
	__u32 stop;		/* and where it ends (the IP or UDP length) */
	bool pass;		/* listened to, but the socket path must have it */
};

static __always_inline bool mac_ok(const struct ethhdr *eth)
{
	int i;

	for (i = 0; i < ETH_ALEN; i++)
		if (eth->h_dest[i] != mac[i])
			return false;
	return true;
}

/* The IPv4 header (20 bytes, no options) sums to 0xffff. */
static __always_inline bool ip4_csum_ok(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;
	int i;

	for (i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* GRE at @off; 0 and @p filled, or -1: not (for) the collector. */
static __always_inline int parse_gre(void *data, void *end, __u32 off, __u32 stop,
				     struct cx_pkt *p)
{
	__u8 *g = data + off;
	__u16 flags, proto;
	__u32 hl, w;
	__u8 *q;

	if ((void *)(g + 4) > end || off + 4 > stop)
		return -1;
	flags = bpf_ntohs(*(__be16 *)g);
	proto = bpf_ntohs(*(__be16 *)(g + 2));
	if (flags & (GRE_VERSION | GRE_F_ROUTING | GRE_F_SSR | GRE_F_RECUR5))
		return -1;
	hl = 4;
	if (flags & GRE_F_CSUM) {
		p->pass = true;		/* decode.c verifies it; not here */
		hl += 4;
	}
	if (flags & GRE_F_KEY) {
		q = g + hl;
		if ((void *)(q + 4) > end)
			return -1;
		p->key.id = bpf_ntohl(*(__be32 *)q);
		p->key.has_id = 1;
		hl += 4;
	}
	if (flags & GRE_F_SEQ)
		hl += 4;
	q = g + hl;
	switch (proto) {
	case PROTO_TEB:
		p->key.encap = ENC_GRE;
		if (!(flags & GRE_F_KEY))
			p->key.id = 0;
		break;
	case PROTO_ERSPAN2:
		if (!(flags & GRE_F_SEQ))	/* Type I */
			return -1;
		if ((void *)(q + 8) > end)
			return -1;
		w = bpf_ntohl(*(__be32 *)q);
		if (w >> 28 != 1)
			return -1;
		p->key.encap = ENC_ERSPAN2;
		p->key.id = w & 0x3ff;
		p->key.has_id = 1;
		hl += 8;
		break;
	case PROTO_ERSPAN3:
		if ((void *)(q + 12) > end)
			return -1;
		w = bpf_ntohl(*(__be32 *)q);
		if (w >> 28 != 2)
			return -1;
		p->key.encap = ENC_ERSPAN3;
		p->key.id = w & 0x3ff;
		p->key.has_id = 1;
		w = bpf_ntohs(*(__be16 *)(q + 10));
		if (w >> 10 & 0x1f)		/* frame type: not Ethernet */
			return -1;
		hl += w & 1 ? 20 : 12;		/* O: the platform sub-header */
		break;
	default:
		return -1;
	}
	p->start = off + hl;
	p->stop = stop;
	return 0;
}

#define CSUM_CHUNK	64
#define CSUM_MAX	9216	/* a jumbo frame's UDP datagram, at most */

static __always_inline __u32 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	return (sum & 0xffff) + (sum >> 16);
}

/*
 * Is the UDP checksum of the datagram at @uh, @ulen bytes, right?  @pseudo:
 * the pseudo-header's sum.  bpf_csum_diff() sums 64 bytes at a time, then
 * 4, then the last bytes one by one; false also for what it cannot sum
 * (longer than CSUM_MAX): the socket decides.
 */
static __always_inline bool udp_csum_ok(__u8 *uh, void *end, __u32 ulen, __u32 pseudo)
{
	__u32 rem = ulen, sum = pseudo;
	__u8 *q = uh;
	__s64 r;
	int i;

	if (ulen > CSUM_MAX)
		return false;
	for (i = 0; i < CSUM_MAX / CSUM_CHUNK && rem >= CSUM_CHUNK; i++) {
		if ((void *)(q + CSUM_CHUNK) > end)
			return false;
		r = bpf_csum_diff(NULL, 0, (__be32 *)q, CSUM_CHUNK, sum);
		if (r < 0)
			return false;
		sum = fold((__u32)r);
		q += CSUM_CHUNK;
		rem -= CSUM_CHUNK;
	}
	for (i = 0; i < CSUM_CHUNK / 4 && rem >= 4; i++) {
		if ((void *)(q + 4) > end)
			return false;
		r = bpf_csum_diff(NULL, 0, (__be32 *)q, 4, sum);
		if (r < 0)
			return false;
		sum = fold((__u32)r);
		q += 4;
		rem -= 4;
	}
	if (rem >= 2) {
		if ((void *)(q + 2) > end)
			return false;
		sum += *(__u16 *)q;
		q += 2;
		rem -= 2;
	}
	if (rem) {
		__u8 last[2] = {};

		if ((void *)(q + 1) > end)
			return false;
		last[0] = *q;
		sum += *(__u16 *)last;
	}
	return fold(sum) == 0xffff;
}

/* The pseudo-header's sum: the addresses at @a (@alen bytes each), UDP, the length. */
static __always_inline __s64 pseudo_sum(void *a, void *end, int alen, __be16 ulen)
{
	__u32 sum = bpf_htons(IPPROTO_UDP) + ulen;
	__s64 r;

	if (alen == 4) {
		if (a + 8 > end)
			return -1;
		r = bpf_csum_diff(NULL, 0, a, 8, sum);
	} else {
		if (a + 32 > end)
			return -1;
		r = bpf_csum_diff(NULL, 0, a, 32, sum);
	}
	return r < 0 ? -1 : fold((__u32)r);
}

/* VXLAN in UDP at @off; @ipaddrs: the outer IP addresses (@alen 4 or 16), for the checksum. */
static __always_inline int parse_vxlan(void *data, void *end, __u32 off, __u32 stop,
				       void *ipaddrs, int alen, struct cx_pkt *p)
{
	struct udphdr *uh = data + off;
	__u8 *v = (__u8 *)(uh + 1);
	__u32 ulen;

	if ((void *)(v + 8) > end || off + 16 > stop)
		return -1;
	if (uh->dest != bpf_htons(vxlan_port))
		return -1;
	ulen = bpf_ntohs(uh->len);
	/* The UDP length ends the datagram (the stack trims what follows). */
	if (ulen < 16 || off + ulen > stop)
		return -1;
	if (uh->check) {
		__s64 ps = pseudo_sum(ipaddrs, end, alen, uh->len);

		/* A wrong one (or one not summed here): the socket decides. */
		if (ps < 0 || !udp_csum_ok((__u8 *)uh, end, ulen, (__u32)ps))
			p->pass = true;
	}
	if (!(v[0] & 0x08))		/* I: no valid VNI */
		return -1;
	p->key.encap = ENC_VXLAN;
	p->key.id = bpf_ntohl(*(__be32 *)(v + 4)) >> 8;
	p->key.has_id = 1;
	p->start = off + 16;
	p->stop = off + ulen;
	return 0;
}

static __always_inline struct vtap_cx_stats *get_stats(const struct vtap_cx_key *key)
{
	struct vtap_cx_stats *s, zero = {};

	s = bpf_map_lookup_elem(&stats, key);
	if (s)
		return s;
	bpf_map_update_elem(&stats, key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&stats, key);
}

SEC("xdp")
int vtap_collect_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct vtap_cx_addr dst = {};
	struct cx_pkt p = {};
	struct vtap_cx_stats *s;
	__u32 len = end - data, stop, off;
	void *ipaddrs;		/* the outer source and destination */
	int alen;
	__u8 proto;
	int err;

	if ((void *)(eth + 1) > end || !mac_ok(eth))
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return XDP_PASS;
		if (ip->version != 4 || ip->ihl != 5 || ip->frag_off & bpf_htons(0x3fff))
			return XDP_PASS;
		stop = bpf_ntohs(ip->tot_len);
		if (stop < sizeof(*ip) || stop > len - ETH_HLEN || !ip4_csum_ok(ip))
			return XDP_PASS;
		stop += ETH_HLEN;
		proto = ip->protocol;
		if ((proto == IPPROTO_GRE && !(enable & VTAP_CX_GRE4)) ||
		    (proto == IPPROTO_UDP && !(enable & VTAP_CX_VXLAN4)))
			return XDP_PASS;
		dst.a[10] = 0xff;
		dst.a[11] = 0xff;
		__builtin_memcpy(&dst.a[12], &ip->daddr, 4);
		off = ETH_HLEN + sizeof(*ip);
		ipaddrs = &ip->saddr;
		alen = 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ip6->version != 6)
			return XDP_PASS;
		stop = bpf_ntohs(ip6->payload_len);
		if (!stop || stop > len - ETH_HLEN - sizeof(*ip6))
			return XDP_PASS;
		stop += ETH_HLEN + sizeof(*ip6);
		proto = ip6->nexthdr;	/* extension headers: passed */
		if ((proto == IPPROTO_GRE && !(enable & VTAP_CX_GRE6)) ||
		    (proto == IPPROTO_UDP && !(enable & VTAP_CX_VXLAN6)))
			return XDP_PASS;
		__builtin_memcpy(dst.a, &ip6->daddr, 16);
		off = ETH_HLEN + sizeof(*ip6);
		ipaddrs = &ip6->saddr;
		alen = 16;
	} else {
		return XDP_PASS;
	}
	if (proto == IPPROTO_GRE)
		err = parse_gre(data, end, off, stop, &p);
	else if (proto == IPPROTO_UDP)
		err = parse_vxlan(data, end, off, stop, ipaddrs, alen, &p);
	else
		return XDP_PASS;
	/* The inner frame: at least an Ethernet header (decode.c: inner_short). */
	if (err || p.start > p.stop || p.stop - p.start < ETH_HLEN || p.stop > len)
		return XDP_PASS;
	if (!bpf_map_lookup_elem(&addrs, &dst))
		return XDP_PASS;
	if (filter_on && (!p.key.has_id || !bpf_map_lookup_elem(&sessions, &p.key.id)))
		return XDP_PASS;

	s = get_stats(&p.key);
	if (!redirect || p.pass) {
		if (s) {
			if (redirect) {
				s->passed++;
			} else {
				s->packets++;
				s->bytes += p.stop - p.start;
			}
		}
		return XDP_PASS;
	}
	if (budget && __sync_fetch_and_add(&used, 1) >= budget) {
		if (s)
			s->passed++;
		return XDP_PASS;
	}
	if (bpf_redirect_map(&tx, 0, XDP_PASS) != XDP_REDIRECT) {
		if (s)
			s->undelivered++;
		return XDP_PASS;
	}
	/* Consumed from here on: the packet may be changed. */
	if (bpf_xdp_adjust_head(ctx, (int)p.start))
		return XDP_PASS;	/* not changed: it failed */
	if (len > p.stop && bpf_xdp_adjust_tail(ctx, -(int)(len - p.stop))) {
		if (s)
			s->undelivered++;
		return XDP_DROP;	/* half stripped: not for anyone else */
	}
	if (s) {
		s->packets++;
		s->bytes += p.stop - p.start;
	}
	return XDP_REDIRECT;
}

char LICENSE[] SEC("license") = "GPL";
