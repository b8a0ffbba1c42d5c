// SPDX-License-Identifier: GPL-2.0
/*
 * vtap TC classifier, attached to clsact ingress and egress of each monitored
 * VM device (tap or veth).  For each session that wants the packet (its flow
 * on this port and direction, then its rules) it calls the module's kfunc
 * bpf_vtap_mirror(), which makes and sends the copy.
 *
 * Direction is the VM's: tap/veth ingress carries what the VM sent ("out"),
 * egress what is delivered to it ("in").  The programs never change the
 * packet and always return TC_ACT_UNSPEC: in direct-action mode that hands
 * the packet on to the device's next filter (TC_ACT_OK would end the chain
 * and bypass them), and with none left it goes on as if vtap were not
 * there.  See include/vtap_bpf.h for the maps.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define VTAP_FLOW_TIMER	struct bpf_timer
#include "vtap_bpf.h"

#ifndef CLOCK_MONOTONIC
#define CLOCK_MONOTONIC	1
#endif
#ifndef EBUSY
#define EBUSY		16
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VTAP_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct vtap_port);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VTAP_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct vtap_port_stats);
} port_stats SEC(".maps");

/* Rules as given (the source of truth for vtapctl) and their compiled form. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vtap_rule_key);
	__type(value, struct vtap_rule);
} rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vtap_rules_on);
} rules_on SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VTAP_NSD);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct vtap_ruleset);
} rulesets SEC(".maps");

/*
 * Values past a ruleset's inline tables (more than 8 distinct VLAN ids,
 * protocols or ICMP types in one session-direction): rare, so these maps
 * are smaller than "rules".  A hash map's bucket array is allocated whole
 * at creation (16 bytes per entry), whatever it holds: at 65536 entries
 * these three cost 3 MB per namespace up front.
 */
#define VTAP_RULE_MAP_ENTRIES	16384

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VTAP_RULE_MAP_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vtap_rkey_vlan);
	__type(value, struct vtap_bits);
} rule_vlan SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VTAP_RULE_MAP_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vtap_rkey_proto);
	__type(value, struct vtap_bits);
} rule_proto SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VTAP_RULE_MAP_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vtap_rkey_icmp);
	__type(value, struct vtap_bits);
} rule_icmp SEC(".maps");

#define VTAP_LPM_MAP(name, keytype)				\
struct {							\
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);			\
	__uint(max_entries, 65536);				\
	__uint(map_flags, BPF_F_NO_PREALLOC);			\
	__type(key, struct keytype);				\
	__type(value, struct vtap_bits);			\
} name SEC(".maps")

VTAP_LPM_MAP(rule_src4, vtap_rkey_lpm4);
VTAP_LPM_MAP(rule_dst4, vtap_rkey_lpm4);
VTAP_LPM_MAP(rule_src6, vtap_rkey_lpm6);
VTAP_LPM_MAP(rule_dst6, vtap_rkey_lpm6);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * 2 * VTAP_NSD);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vtap_rkey_ports);
	__type(value, struct vtap_port_spans);
} rule_ports SEC(".maps");

/* Flow records (include/vtap_bpf.h, "Flow records"). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VTAP_FLOWS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vtap_flow4_key);
	__type(value, struct vtap_flow_val);
} flows4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VTAP_FLOWS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vtap_flow6_key);
	__type(value, struct vtap_flow_val);
} flows6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct vtap_flow_cfg);
} flow_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vtap_flow_lost);
} flow_lost SEC(".maps");

/* Each CPU's last flow and its counts not yet in flows4/flows6. */
_Static_assert(sizeof(struct bpf_timer) == 16, "vtap_flow_cache's timer (include/)");
_Static_assert(sizeof(struct vtap_flow4_key) == 24 && sizeof(struct vtap_flow6_key) == 48,
	       "flow keys: whole words, as vtap_flow_record() compares them");
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VTAP_FLOW_CACHE_CPUS);
	__type(key, __u32);
	__type(value, struct vtap_flow_cache);
} flow_cache SEC(".maps");

#ifdef VTAP_RECORD
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VTAP_REC_MAX + 1);
	__type(key, __u32);
	__type(value, struct vtap_decision);
} decisions SEC(".maps");

/* The record variant's kfuncs: each call is a decision in "decisions". */
static __always_inline int vtap_record(__u32 session_id, __u64 cookie, __u32 port_id,
				       __u32 flags, __u32 len)
{
	struct vtap_decision *cnt, *d;
	__u32 zero = 0, idx;

	cnt = bpf_map_lookup_elem(&decisions, &zero);
	if (!cnt)
		return -1;
	idx = ++cnt->session_id;
	d = bpf_map_lookup_elem(&decisions, &idx);
	if (d) {
		d->session_id = session_id;
		d->port_id = port_id;
		d->flags = flags;
		d->len = len;
		d->cookie = cookie;
	}
	return 0;
}

static __always_inline int vtap_mirror(struct __sk_buff *skb, __u32 session_id,
				       __u64 cookie, __u32 port_id, __u32 flags)
{
	return vtap_record(session_id, cookie, port_id, flags, skb->len);
}

static __always_inline int vtap_mirror_xdp(struct xdp_md *ctx, __u32 session_id,
					   __u64 cookie, __u32 port_id, __u32 flags)
{
	return vtap_record(session_id, cookie, port_id, flags | VTAP_REC_F_XDP,
			   ctx->data_end - ctx->data);
}
#else
extern int bpf_vtap_mirror(struct __sk_buff *skb, __u32 session_id,
			   __u64 cookie, __u32 port_id, __u32 flags) __ksym;
extern int bpf_vtap_mirror_xdp(struct xdp_md *ctx, __u32 session_id,
			       __u64 cookie, __u32 port_id, __u32 flags) __ksym;
#define vtap_mirror bpf_vtap_mirror
#define vtap_mirror_xdp bpf_vtap_mirror_xdp
#endif

/* What the rules look at, parsed once per packet. */
struct vtap_pkt {
	union {				/* as on the wire */
		__u8 src[16];
		__u32 src4;
		__u64 src6[2];
	};
	union {
		__u8 dst[16];
		__u32 dst4;
		__u64 dst6[2];
	};
	__u8 parsed;
	__u8 unknown;			/* 1 << VTAP_RF_*: fields its shape hid */
	__u8 has_vlan;
	__u8 l3;			/* 0 (not IP), 4 or 6 */
	__u8 has_l4;			/* protocol known (not a later fragment) */
	__u8 has_ports;
	__u8 has_icmp;
	__u8 proto;
	__u8 icmp_type;
	__u16 vid;
	__u16 sport;
	__u16 dport;
	/* For flow records: */
	__u8 icmp_code;
	__u8 tcp_flags;
	__u16 l4hlen;			/* IP + TCP/UDP header length, 0 if unknown */
	__u16 l3off;			/* offset of the IP header */
	__u32 iplen;			/* IP total length from the header, 0 if none */
	__u16 cvlan;			/* 0x1000 | the inner tag's VLAN id, else 0 */
	__u8 ext;			/* IPv6 extension headers before L4 */
};

/* Fields below each layer, for k->unknown. */
#define VTAP_RF_L4	(1 << VTAP_RF_SPORT | 1 << VTAP_RF_DPORT | 1 << VTAP_RF_ICMP)
#define VTAP_RF_L3	(1 << VTAP_RF_SRC | 1 << VTAP_RF_DST | 1 << VTAP_RF_PROTO | VTAP_RF_L4)

/* How far into the frame the parser looks (VLAN tags, IPv6 extensions). */
#define VTAP_PARSE_MAX	512

/*
 * The parser and the classifier serve two program types: TC, whose context
 * @ctx is the skb (struct __sk_buff), and XDP (struct xdp_md), whose frame
 * has no skb yet.  @xdp is a constant at every call site: each inlined
 * copy reads only its own context's fields and calls only its own helpers.
 */
#define VTAP_SKB(ctx)	((struct __sk_buff *)(ctx))
#define VTAP_XDP(ctx)	((struct xdp_md *)(ctx))

/*
 * @len bytes at @off of the frame, like the kernel's skb_header_pointer():
 * in place when the linear area holds them (direct packet access, no helper
 * call: the common case), else copied to @buf.  NULL when the frame is
 * shorter.  The packet is only read, never pulled or changed.
 */
static __always_inline const __u8 *vtap_hdr(void *ctx, const int xdp, __u32 off,
					    __u32 len, void *buf)
{
	void *data, *end;
	const __u8 *h;

	if (xdp) {
		data = (void *)(long)VTAP_XDP(ctx)->data;
		end = (void *)(long)VTAP_XDP(ctx)->data_end;
	} else {
		data = (void *)(long)VTAP_SKB(ctx)->data;
		end = (void *)(long)VTAP_SKB(ctx)->data_end;
	}
	if (off > VTAP_PARSE_MAX)
		return 0;
	h = data + off;
	if ((void *)(h + len) <= end)
		return h;
	if (xdp ? bpf_xdp_load_bytes(VTAP_XDP(ctx), off, buf, len) :
		  bpf_skb_load_bytes(VTAP_SKB(ctx), off, buf, len))
		return 0;
	return buf;
}

static __always_inline void vtap_parse_l4(void *ctx, const int xdp,
					  struct vtap_pkt *k, __u32 off)
{
	const __u8 *h;
	__u8 buf[14];

	k->has_l4 = 1;
	switch (k->proto) {
	case IPPROTO_TCP:
		/*
		 * The ports, then the data offset and flags (bytes 12, 13),
		 * for flow records; a header cut short after the ports
		 * still has its ports, as for UDP.
		 */
		h = vtap_hdr(ctx, xdp, off, 14, buf);
		if (h) {
			k->sport = (__u16)h[0] << 8 | h[1];
			k->dport = (__u16)h[2] << 8 | h[3];
			k->has_ports = 1;
			k->tcp_flags = h[13];
			k->l4hlen = (h[12] >> 4) * 4;
			break;
		}
		/* fall through */
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		h = vtap_hdr(ctx, xdp, off, 4, buf);
		if (!h) {
			k->unknown |= VTAP_RF_L4;
			return;
		}
		k->sport = (__u16)h[0] << 8 | h[1];
		k->dport = (__u16)h[2] << 8 | h[3];
		k->has_ports = 1;
		k->l4hlen = k->proto == IPPROTO_UDP ? 8 : 0;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		h = vtap_hdr(ctx, xdp, off, 2, buf);
		if (!h) {
			k->unknown |= VTAP_RF_L4;
			return;
		}
		k->icmp_type = h[0];
		k->icmp_code = h[1];
		k->has_icmp = 1;
		break;
	}
}

/*
 * Parse the headers the rules can look at.  A frame whose shape hides a
 * field -- more than two VLAN tags, more than VTAP_IPV6_EXT_MAX IPv6
 * extension headers, headers past VTAP_PARSE_MAX or cut short, a bad IP
 * header, the ports of a non-first fragment -- has that field's bit in
 * k->unknown: the rules that need it cannot decide (see
 * vtap_rules_accept()); a field the frame does not have (the ports of an
 * ICMP packet) is simply unset.  The packet itself is untouched.  Headers are read in place
 * (direct packet access) when they are in the linear area, else copied.
 * Called through vtap_parse_skb() or vtap_parse_xdp().
 */
static __always_inline int vtap_parse(void *ctx, const int xdp, struct vtap_pkt *k)
{
	__u32 off = ETH_HLEN;
	const __u8 *h;
	__u8 buf[40];
	__u16 proto;
	int i;

	k->parsed = 1;
	k->unknown = 0xff;
	h = vtap_hdr(ctx, xdp, 12, 2, buf);
	if (!h)
		return 0;
	k->unknown = VTAP_RF_L3;
	proto = (__u16)h[0] << 8 | h[1];
	/* XDP sees a tag in the frame, TC may see it taken out. */
	if (!xdp && VTAP_SKB(ctx)->vlan_present) {
		k->has_vlan = 1;
		k->vid = VTAP_SKB(ctx)->vlan_tci & 0x0fff;
	}
	/* Up to two tags in the frame (802.1ad outer, 802.1Q inner). */
	for (i = 0; i < 2; i++) {
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		h = vtap_hdr(ctx, xdp, off, 4, buf);
		if (!h) {
			k->unknown |= k->has_vlan ? 0 : 1 << VTAP_RF_VLAN;
			return 0;
		}
		if (!k->has_vlan) {
			k->has_vlan = 1;
			k->vid = ((__u16)h[0] << 8 | h[1]) & 0x0fff;
		} else if (!k->cvlan) {
			/* The customer's tag of a double-tagged frame. */
			k->cvlan = 0x1000 | (((__u16)h[0] << 8 | h[1]) & 0x0fff);
		}
		proto = (__u16)h[2] << 8 | h[3];
		off += 4;
	}

	if (proto == ETH_P_IP) {
		__u32 ihl;

		h = vtap_hdr(ctx, xdp, off, 20, buf);
		if (!h)
			return 0;
		ihl = (h[0] & 0x0f) * 4;
		if ((h[0] >> 4) != 4 || ihl < 20)
			return 0;
		k->l3 = 4;
		k->l3off = off;
		k->iplen = (__u32)h[2] << 8 | h[3];
		k->proto = h[9];
		__builtin_memcpy(k->src, h + 12, 4);
		__builtin_memcpy(k->dst, h + 16, 4);
		k->unknown = VTAP_RF_L4;
		/* A later fragment has no L4 header: its ports are unknown. */
		if ((((__u16)h[6] << 8) | h[7]) & 0x1fff)
			return 0;
		k->unknown = 0;
		vtap_parse_l4(ctx, xdp, k, off + ihl);
		if (k->l4hlen)
			k->l4hlen += ihl;
	} else if (proto == ETH_P_IPV6) {
		__u8 nexthdr;

		h = vtap_hdr(ctx, xdp, off, 40, buf);
		if (!h)
			return 0;
		if ((h[0] >> 4) != 6)
			return 0;
		k->l3 = 6;
		k->l3off = off;
		k->iplen = ((__u32)h[4] << 8 | h[5]) + 40;
		/* Addresses known; the protocol once the chain ends. */
		k->unknown = 1 << VTAP_RF_PROTO | VTAP_RF_L4;
		__builtin_memcpy(k->src, h + 8, 16);
		__builtin_memcpy(k->dst, h + 24, 16);
		nexthdr = h[6];
		off += 40;
		/* Extension headers, up to a bound; past it, L4 is unknown. */
		for (i = 0; i < VTAP_IPV6_EXT_MAX; i++) {
			switch (nexthdr) {
			case IPPROTO_HOPOPTS:
			case IPPROTO_ROUTING:
			case IPPROTO_DSTOPTS:
				h = vtap_hdr(ctx, xdp, off, 2, buf);
				if (!h)
					return 0;
				nexthdr = h[0];
				off += (h[1] + 1) * 8;
				k->ext = 1;
				continue;
			case IPPROTO_AH:
				h = vtap_hdr(ctx, xdp, off, 2, buf);
				if (!h)
					return 0;
				nexthdr = h[0];
				off += (h[1] + 2) * 4;
				k->ext = 1;
				continue;
			case IPPROTO_FRAGMENT:
				h = vtap_hdr(ctx, xdp, off, 8, buf);
				if (!h)
					return 0;
				nexthdr = h[0];
				off += 8;
				k->ext = 1;
				if ((((__u16)h[2] << 8) | h[3]) & 0xfff8) {
					k->proto = nexthdr;
					k->unknown = VTAP_RF_L4;
					return 0;	/* a later fragment */
				}
				continue;
			}
			k->proto = nexthdr;
			k->unknown = 0;
			vtap_parse_l4(ctx, xdp, k, off);
			if (k->l4hlen)
				k->l4hlen += off - k->l3off;
			return 0;
		}
		/* Too many headers: the protocol (and L4) stay unknown. */
	} else if (proto != ETH_P_8021Q && proto != ETH_P_8021AD) {
		k->unknown = 0;		/* not IP: no L3 fields to know */
	}
	return 0;
}

/*
 * The parser, once per program type: global functions, so that the
 * verifier checks each once, not at every call site (inlined in the
 * classifier's session loop, it took the verifier 300 000 instructions
 * and seconds per program load).
 */
__noinline int vtap_parse_skb(struct __sk_buff *skb, struct vtap_pkt *k)
{
	if (!skb || !k)
		return 0;
	return vtap_parse(skb, 0, k);
}

__noinline int vtap_parse_xdp(struct xdp_md *ctx, struct vtap_pkt *k)
{
	if (!ctx || !k)
		return 0;
	return vtap_parse(ctx, 1, k);
}

static __always_inline void vtap_parse_once(void *ctx, const int xdp,
					    struct vtap_pkt *k)
{
	if (k->parsed)
		return;
	if (xdp)
		vtap_parse_xdp(VTAP_XDP(ctx), k);
	else
		vtap_parse_skb(VTAP_SKB(ctx), k);
}

/*
 * Two sets at once: @r, the rules the packet surely meets (a field its
 * shape hid meets only the rules that do not constrain it), and @ro, the
 * rules it may meet (a hidden field could meet any).  Without hidden fields
 * they are the same set.
 */
static __always_inline void vtap_and(struct vtap_bits *r, struct vtap_bits *ro,
				     const struct vtap_bits *b, int hidden)
{
	int w;

	for (w = 0; w < VTAP_RULE_WORDS; w++) {
		r->w[w] &= b->w[w];
		if (!hidden)
			ro->w[w] &= b->w[w];
	}
}

/* The set of rules whose constraint on a field the packet meets. */
static __always_inline const struct vtap_bits *
vtap_field_bits(const struct vtap_ruleset *rs, const struct vtap_bits *hit,
		int field)
{
	return hit ?: &rs->any[field];
}

/* Longest-prefix match in the inline table @t (VTAP_RT_SRC4 + 0..3). */
static __always_inline const struct vtap_bits *
vtap_pfx_inline(const struct vtap_pkt *k, const struct vtap_ruleset *rs,
		int src, int v6)
{
	int t = (src ? 0 : 1) + (v6 ? 2 : 0), f = src ? 0 : 1;
	__u32 n = rs->n[VTAP_RT_SRC4 + t];
	int i;

	if (!v6) {
		__u32 a = src ? k->src4 : k->dst4;

		for (i = 0; i < VTAP_INL_PREFIXES; i++) {
			const struct vtap_inl_pfx4 *e = &rs->pfx4[f][i];

			if (i >= n)
				break;
			if ((a & e->mask) == e->net)
				return &rs->pfx_bits[t][i];
		}
		return 0;
	}
	for (i = 0; i < VTAP_INL_PREFIXES; i++) {
		const struct vtap_inl_pfx6 *e = &rs->pfx6[f][i];
		const __u64 *a = src ? k->src6 : k->dst6;

		if (i >= n)
			break;
		if ((a[0] & e->mask[0]) == e->net[0] &&
		    (a[1] & e->mask[1]) == e->net[1])
			return &rs->pfx_bits[t][i];
	}
	return 0;
}

static __always_inline const struct vtap_bits *
vtap_lpm(const struct vtap_pkt *k, const struct vtap_ruleset *rs, __u32 sd2,
	 int field)
{
	int src = field == VTAP_RF_SRC;

	if (k->l3 == 4) {
		struct vtap_rkey_lpm4 key = { .prefixlen = 16 + 32 };

		if (rs->inl & (1 << (src ? VTAP_RT_SRC4 : VTAP_RT_DST4)))
			return vtap_pfx_inline(k, rs, src, 0);
		key.sd2[0] = sd2 >> 8;
		key.sd2[1] = sd2;
		__builtin_memcpy(key.addr, src ? k->src : k->dst, 4);
		return bpf_map_lookup_elem(src ? (void *)&rule_src4 : (void *)&rule_dst4,
					   &key);
	}
	if (k->l3 == 6) {
		struct vtap_rkey_lpm6 key = { .prefixlen = 16 + 128 };

		if (rs->inl & (1 << (src ? VTAP_RT_SRC6 : VTAP_RT_DST6)))
			return vtap_pfx_inline(k, rs, src, 1);
		key.sd2[0] = sd2 >> 8;
		key.sd2[1] = sd2;
		__builtin_memcpy(key.addr, src ? k->src : k->dst, 16);
		return bpf_map_lookup_elem(src ? (void *)&rule_src6 : (void *)&rule_dst6,
					   &key);
	}
	return 0;
}

/* Binary search of the span holding @port: inline, else in rule_ports. */
static __always_inline const struct vtap_bits *
vtap_port_lookup(const struct vtap_ruleset *rs, __u32 sd2, int field, __u16 port)
{
	struct vtap_rkey_ports key = { .sd2 = sd2, .field = field };
	int f = field == VTAP_RF_SPORT ? 0 : 1;
	const struct vtap_port_spans *ps;
	__u32 lo = 0, hi, mid;
	int i;

	if (rs->inl & (1 << (VTAP_RT_SPORT + f))) {
		hi = rs->n[VTAP_RT_SPORT + f];
		if (hi < 1 || hi > VTAP_INL_SPANS)
			return 0;
		for (i = 0; i < 6; i++) {	/* log2(VTAP_INL_SPANS) */
			if (hi - lo <= 1)
				break;
			mid = (lo + hi) / 2;
			if (port >= rs->port_lo[f][mid & (VTAP_INL_SPANS - 1)])
				lo = mid;
			else
				hi = mid;
		}
		return &rs->port_bits[f][lo & (VTAP_INL_SPANS - 1)];
	}
	ps = bpf_map_lookup_elem(&rule_ports, &key);
	if (!ps)
		return 0;
	hi = ps->n;
	if (hi < 1 || hi > VTAP_PORT_SPANS)
		return 0;
	/* Invariant: lo[lo] <= port; the answer is in [lo, hi). */
	for (i = 0; i < 11; i++) {
		if (hi - lo <= 1)
			break;
		mid = (lo + hi) / 2;
		if (port >= ps->lo[mid & (VTAP_PORT_SPANS - 1)])
			lo = mid;
		else
			hi = mid;
	}
	return &ps->bits[lo & (VTAP_PORT_SPANS - 1)];
}

/*
 * Does session-direction @sd, whose ruleset @rs (the caller's lookup) has
 * rules, want the packet?  The first matching rule (lowest bit) decides.
 * @k is parsed on the first call for a packet.  A global function: the
 * verifier checks it once, not at every call site.
 *
 * Return: 1 accept, 0 reject (or no rule matched), 2 undecidable: a field
 * the packet's shape hid (k->unknown) could make either verdict the first
 * match's -- the rules that may match up to the first that surely does do
 * not all say the same.
 */
__noinline int vtap_rules_accept(struct vtap_pkt *k, const struct vtap_ruleset *rs,
				 __u32 sd)
{
	struct vtap_bits r, ro;
	int w, i, acc = 0, rej = 0, sure = 0;
	__u32 sd2, hid;

	if (!k || !rs || !k->parsed)
		return 0;
	sd2 = VTAP_SD2(sd, rs->gen & 1);
	hid = k->unknown & rs->used;

	for (w = 0; w < VTAP_RULE_WORDS; w++) {
		r.w[w] = ~0ULL;
		ro.w[w] = ~0ULL;
	}

	if (rs->used & (1 << VTAP_RF_VLAN)) {
		const struct vtap_bits *b = 0;

		if (k->has_vlan && (rs->inl & (1 << VTAP_RT_VLAN))) {
			for (i = 0; i < VTAP_INL_VALS; i++) {
				if (i >= rs->n[VTAP_RT_VLAN])
					break;
				if (rs->vid[i] == k->vid) {
					b = &rs->vid_bits[i];
					break;
				}
			}
		} else if (k->has_vlan) {
			struct vtap_rkey_vlan key = { .sd2 = sd2, .vid = k->vid };

			b = bpf_map_lookup_elem(&rule_vlan, &key);
		}
		vtap_and(&r, &ro, vtap_field_bits(rs, b, VTAP_RF_VLAN),
			 hid & (1 << VTAP_RF_VLAN));
	}
	if (rs->used & (1 << VTAP_RF_PROTO)) {
		const struct vtap_bits *b = 0;

		if (k->l3 && (rs->inl & (1 << VTAP_RT_PROTO))) {
			for (i = 0; i < VTAP_INL_VALS; i++) {
				if (i >= rs->n[VTAP_RT_PROTO])
					break;
				if (rs->proto[i] == k->proto) {
					b = &rs->proto_bits[i];
					break;
				}
			}
		} else if (k->l3) {
			struct vtap_rkey_proto key = { .sd2 = sd2, .proto = k->proto };

			b = bpf_map_lookup_elem(&rule_proto, &key);
		}
		vtap_and(&r, &ro, vtap_field_bits(rs, b, VTAP_RF_PROTO),
			 hid & (1 << VTAP_RF_PROTO));
	}
	if (rs->used & (1 << VTAP_RF_SRC))
		vtap_and(&r, &ro, vtap_field_bits(rs, vtap_lpm(k, rs, sd2, VTAP_RF_SRC),
						  VTAP_RF_SRC), hid & (1 << VTAP_RF_SRC));
	if (rs->used & (1 << VTAP_RF_DST))
		vtap_and(&r, &ro, vtap_field_bits(rs, vtap_lpm(k, rs, sd2, VTAP_RF_DST),
						  VTAP_RF_DST), hid & (1 << VTAP_RF_DST));
	if (rs->used & (1 << VTAP_RF_SPORT))
		vtap_and(&r, &ro, vtap_field_bits(rs, k->has_ports ?
			 vtap_port_lookup(rs, sd2, VTAP_RF_SPORT, k->sport) : 0,
			 VTAP_RF_SPORT), hid & (1 << VTAP_RF_SPORT));
	if (rs->used & (1 << VTAP_RF_DPORT))
		vtap_and(&r, &ro, vtap_field_bits(rs, k->has_ports ?
			 vtap_port_lookup(rs, sd2, VTAP_RF_DPORT, k->dport) : 0,
			 VTAP_RF_DPORT), hid & (1 << VTAP_RF_DPORT));
	if (rs->used & (1 << VTAP_RF_ICMP)) {
		const struct vtap_bits *b = 0;
		__u16 v = (__u16)k->proto << 8 | k->icmp_type;

		if (k->has_icmp && (rs->inl & (1 << VTAP_RT_ICMP))) {
			for (i = 0; i < VTAP_INL_VALS; i++) {
				if (i >= rs->n[VTAP_RT_ICMP])
					break;
				if (rs->icmp[i] == v) {
					b = &rs->icmp_bits[i];
					break;
				}
			}
		} else if (k->has_icmp) {
			struct vtap_rkey_icmp key = {
				.sd2 = sd2, .proto = k->proto, .type = k->icmp_type,
			};

			b = bpf_map_lookup_elem(&rule_icmp, &key);
		}
		vtap_and(&r, &ro, vtap_field_bits(rs, b, VTAP_RF_ICMP),
			 hid & (1 << VTAP_RF_ICMP));
	}

	if (!hid) {
		for (w = 0; w < VTAP_RULE_WORDS; w++) {
			__u64 v = r.w[w], first;

			if (!v)
				continue;
			first = v & -v;
			return !!(rs->accept.w[w] & first);
		}
		return 0;	/* rules exist and none matched */
	}
	/*
	 * The candidates: rules that may match, up to and including the
	 * first that surely does (all of them if none surely does, and then
	 * "no match", a reject, is possible too).
	 */
	for (w = 0; w < VTAP_RULE_WORDS; w++) {
		__u32 lim = rs->nrules > w * 64 ? rs->nrules - w * 64 : 0;
		__u64 live = lim >= 64 ? ~0ULL : (1ULL << lim) - 1;
		__u64 c = ro.w[w] & live, first = r.w[w] & live;

		first &= -first;
		if (first)
			c &= first | (first - 1);
		acc |= !!(c & rs->accept.w[w]);
		rej |= !!(c & ~rs->accept.w[w]);
		if (first) {
			sure = 1;
			break;
		}
	}
	if (!sure)
		rej = 1;
	return acc && rej ? 2 : acc;
}

/*
 * Count the packet in its flow entry: found, or inserted if the
 * namespace's limit leaves room (the "used" counter is raised first, so
 * that concurrent inserts cannot overshoot it by more than the CPUs racing
 * at the limit, and lowered again when the insert does not happen).
 * Returns 0, or -1 when there was no room.
 */
static __always_inline int vtap_flow_add(void *map, const void *key, __u64 pkts,
					 __u64 octets, __u8 tcp_flags, __u64 first,
					 __u64 now)
{
	struct vtap_flow_val *v, nv = {};
	struct vtap_flow_cfg *cfg;
	__u64 limit;
	__u32 zero = 0;
	long err;

	v = bpf_map_lookup_elem(map, key);
	if (!v) {
		cfg = bpf_map_lookup_elem(&flow_cfg, &zero);
		if (!cfg)
			return -1;
		limit = cfg->limit ?: VTAP_FLOWS_DEFAULT_LIMIT;
		__sync_fetch_and_add(&cfg->used, 1);
		if (cfg->used > limit) {
			__sync_fetch_and_add(&cfg->used, -1);
			return -1;
		}
		nv.packets = pkts;
		nv.octets = octets;
		nv.first_ns = first;
		nv.last_ns = now;
		nv.tcp_flags = tcp_flags;
		err = bpf_map_update_elem(map, key, &nv, BPF_NOEXIST);
		if (!err)
			return 0;
		__sync_fetch_and_add(&cfg->used, -1);
		/* -EEXIST: another CPU inserted it first; else no memory. */
		v = bpf_map_lookup_elem(map, key);
		if (!v)
			return -1;
	}
	__sync_fetch_and_add(&v->packets, pkts);
	__sync_fetch_and_add(&v->octets, octets);
	/*
	 * A plain store: BPF's atomic OR needs -mcpu=v3.  Two CPUs adding
	 * different flags to one flow at the same instant may lose one.
	 */
	if ((v->tcp_flags & tcp_flags) != tcp_flags)
		v->tcp_flags |= tcp_flags;
	if (v->last_ns < now)
		v->last_ns = now;
	return 0;
}

/* Add @pkts, @octets to flow_lost: no room for their flow. */
static __always_inline void vtap_flow_lost_add(__u64 pkts, __u64 octets)
{
	struct vtap_flow_lost *lost;
	__u32 zero = 0;

	lost = bpf_map_lookup_elem(&flow_lost, &zero);
	if (lost) {
		lost->packets += pkts;
		lost->octets += octets;
	}
}

/* A flow cache's pending counts, taken out under its lock. */
struct vtap_flow_pending {
	__u64 key[6];
	__u64 packets;
	__u64 octets;
	__u64 first_ns;
	__u64 last_ns;
	__u32 l3;
	__u32 tcp_flags;
};

/* Under @c's lock: move its pending counts to @p, leave @c's empty. */
static __always_inline void vtap_flow_take(struct vtap_flow_cache *c,
					   struct vtap_flow_pending *p)
{
	int i;

	p->packets = c->packets;
	if (!p->packets)
		return;
	for (i = 0; i < 6; i++)
		p->key[i] = c->key[i];
	p->l3 = c->l3;
	p->octets = c->octets;
	p->first_ns = c->first_ns;
	p->last_ns = c->last_ns;
	p->tcp_flags = c->tcp_flags;
	c->packets = 0;
	c->octets = 0;
	c->tcp_flags = 0;
}

/*
 * Count what vtap_flow_take() took in the flow table: its entry, or a new
 * one if the exporter deleted it meanwhile (never a stale entry: the cache
 * holds the key, not the entry), or flow_lost if there is no room.
 */
static __always_inline void vtap_flow_flush(struct vtap_flow_pending *p)
{
	int rc;

	if (!p->packets)
		return;
	if (p->l3 == 4)
		rc = vtap_flow_add(&flows4, p->key, p->packets, p->octets,
				   (__u8)p->tcp_flags, p->first_ns, p->last_ns);
	else
		rc = vtap_flow_add(&flows6, p->key, p->packets, p->octets,
				   (__u8)p->tcp_flags, p->first_ns, p->last_ns);
	if (rc)
		vtap_flow_lost_add(p->packets, p->octets);
}

static __always_inline int vtap_flow_trylock(struct vtap_flow_cache *c)
{
	return __sync_val_compare_and_swap(&c->lock, 0, 1) == 0;
}

static __always_inline void vtap_flow_unlock(struct vtap_flow_cache *c)
{
	__sync_lock_test_and_set(&c->lock, 0);	/* xchg: a full barrier */
}

/* The timer: flush the CPU's cache (or try again if it is in use). */
static int vtap_flow_timer_cb(void *map, __u32 *key, struct vtap_flow_cache *c)
{
	struct vtap_flow_pending p;

	if (!vtap_flow_trylock(c)) {
		bpf_timer_start(&c->timer, VTAP_FLOW_FLUSH_NS, 0);
		return 0;
	}
	vtap_flow_take(c, &p);
	c->armed = 0;
	vtap_flow_unlock(c);
	vtap_flow_flush(&p);
	return 0;
}

/* Start @c's timer; nonzero if it cannot run (then flush now). */
static __always_inline int vtap_flow_arm(struct vtap_flow_cache *c)
{
	long err;

	err = bpf_timer_init(&c->timer, &flow_cache, CLOCK_MONOTONIC);
	if (err && err != -EBUSY)
		return 1;
	if (bpf_timer_set_callback(&c->timer, vtap_flow_timer_cb))
		return 1;
	return bpf_timer_start(&c->timer, VTAP_FLOW_FLUSH_NS, 0) != 0;
}

/*
 * Flow records of a port and direction that has them: parse (if the
 * rules have not yet), count in flows4/flows6, or in flow_lost.  A GSO
 * packet counts as the segments it stands for, with their headers.
 *
 * The packets after the first of a train of one flow on a CPU are counted
 * in the CPU's flow_cache entry instead (no hash lookup, no atomic add per
 * packet); its timer adds them to the table at most VTAP_FLOW_FLUSH_NS
 * later, as does the CPU's next packet of another flow.
 */
static __always_inline int vtap_flow_record(struct __sk_buff *skb, struct vtap_pkt *k,
				__u32 dir)
{
	struct vtap_flow_lost *lost;
	struct vtap_flow_cache *c;
	struct vtap_flow_pending p;
	__u64 pkts = 1, octets, now;
	__u32 zero = 0, segs, cpu;
	__u16 vlan, sport = 0, dport = 0;
	union {
		struct vtap_flow4_key k4;
		struct vtap_flow6_key k6;
		__u64 w[6];
	} key = {};
	int rc, i, same;

	if (!k)
		return 0;
	vtap_parse_once(skb, 0, k);
	if (!k->l3 || skb->len < k->l3off) {
		lost = bpf_map_lookup_elem(&flow_lost, &zero);
		if (lost) {
			lost->nonip_packets++;
			lost->nonip_octets += skb->len;
		}
		return 0;
	}
	octets = skb->len - k->l3off;
	segs = skb->gso_segs;
	if (segs > 1) {
		pkts = segs;
		octets += (__u64)(segs - 1) * k->l4hlen;
	} else if (k->iplen && k->iplen < octets) {
		octets = k->iplen;	/* without the Ethernet padding */
	}
	vlan = k->has_vlan ? 0x1000 | k->vid : 0;
	if (k->has_ports) {
		sport = k->sport;
		dport = k->dport;
	} else if (k->has_icmp) {
		dport = (__u16)k->icmp_type << 8 | k->icmp_code;
	}
	/* The fields in the same place in both keys. */
	key.k4.ifindex = skb->ifindex;
	key.k4.dir = dir;
	key.k4.proto = k->proto;
	key.k4.vlan = vlan;
	if (k->l3 == 4) {
		key.k4.src = k->src4;
		key.k4.dst = k->dst4;
		key.k4.sport = sport;
		key.k4.dport = dport;
		key.k4.cvlan = k->cvlan;
	} else {
		__builtin_memcpy(key.k6.src, k->src, 16);
		__builtin_memcpy(key.k6.dst, k->dst, 16);
		key.k6.sport = sport;
		key.k6.dport = dport;
		key.k6.cvlan = k->cvlan;
	}
	now = bpf_ktime_get_coarse_ns();

	cpu = bpf_get_smp_processor_id();
	c = bpf_map_lookup_elem(&flow_cache, &cpu);
	p.packets = 0;
	if (c && vtap_flow_trylock(c)) {
		/* Only this CPU changes the key: the lock guards the counts. */
		same = c->l3 == k->l3;
		for (i = 0; i < 6; i++)
			same &= c->key[i] == key.w[i];
		if (same) {
			if (!c->packets)
				c->first_ns = now;
			c->packets += pkts;
			c->octets += octets;
			c->last_ns = now;
			if ((c->tcp_flags & k->tcp_flags) != k->tcp_flags)
				c->tcp_flags |= k->tcp_flags;
			if (c->armed) {
				vtap_flow_unlock(c);
				return 0;
			}
			c->armed = 1;
			vtap_flow_unlock(c);
			if (!vtap_flow_arm(c))
				return 0;
			/*
			 * No timer: count it all now, and let the next
			 * packet try again (a plain store: the callback,
			 * the only other writer, stores 0 too).
			 */
			c->armed = 0;
			if (vtap_flow_trylock(c)) {
				vtap_flow_take(c, &p);
				vtap_flow_unlock(c);
				vtap_flow_flush(&p);
			}
			return 0;
		}
		/* Another flow: the old one's counts go to the table. */
		vtap_flow_take(c, &p);
		for (i = 0; i < 6; i++)
			c->key[i] = key.w[i];
		c->l3 = k->l3;
		vtap_flow_unlock(c);
		vtap_flow_flush(&p);
	}
	if (k->l3 == 4)
		rc = vtap_flow_add(&flows4, &key, pkts, octets, k->tcp_flags, now, now);
	else
		rc = vtap_flow_add(&flows6, &key, pkts, octets, k->tcp_flags, now, now);
	if (rc)
		vtap_flow_lost_add(pkts, octets);
	return 0;
}

/*
 * Which program mirrors what the VM sends on a port with XDP
 * (VTAP_PORT_F_XDP): XDP takes the frames it can copy exactly as the wire
 * carries them, TC the rest, so that each frame is mirrored once.  Both
 * decide from what both see alike: the frame's length with its VLAN tags
 * (TC may see a tag taken out of the frame) and its headers.  To TC go
 * frames longer than VTAP_XDP_MAX_FRAME (GSO super-packets, which XDP
 * cannot cut into segments; tun hands them to generic XDP), SCTP (its
 * CRC32c may be left to the device, which XDP cannot tell) and IPv6 with
 * extension headers (the module recognises a checksum left to the device
 * only right after the IPv6 header).  See vtap_mirror_xdp().
 */
static __always_inline int vtap_xdp_takes(void *ctx, const int xdp,
					   struct vtap_pkt *k)
{
	__u32 len;

	if (xdp)
		len = VTAP_XDP(ctx)->data_end - VTAP_XDP(ctx)->data;
	else
		len = VTAP_SKB(ctx)->len + (VTAP_SKB(ctx)->vlan_present ? 4 : 0);
	if (len > VTAP_XDP_MAX_FRAME)
		return 0;
	vtap_parse_once(ctx, xdp, k);
	if (k->l3 && !(k->unknown & (1 << VTAP_RF_PROTO)) &&
	    k->proto == IPPROTO_SCTP)
		return 0;
	return !k->ext;
}

static __always_inline void vtap_classify(void *ctx, const int xdp, __u32 dir)
{
	struct vtap_pkt k = {};
	const struct vtap_rules_on *on;
	struct vtap_port_stats *st;
	struct vtap_port *p;
	__u32 ifindex, len;
	__u32 flags = dir == VTAP_DIR_IN ? VTAP_MIRROR_F_DIR_IN : 0;
	__u32 i, n, zero = 0;

	if (xdp) {
		ifindex = VTAP_XDP(ctx)->ingress_ifindex;
		len = VTAP_XDP(ctx)->data_end - VTAP_XDP(ctx)->data;
	} else {
		ifindex = VTAP_SKB(ctx)->ifindex;
		len = VTAP_SKB(ctx)->len;
	}
	p = bpf_map_lookup_elem(&ports, &ifindex);
	if (!p)
		return;
	n = p->nsess[dir];
	/* Flow records are TC's: it sees every frame, GSO ones whole. */
	if (!xdp && (p->flags & VTAP_PORT_F_REC(dir)))
		vtap_flow_record(VTAP_SKB(ctx), &k, dir);
	if (!n)
		return;
	if (dir == VTAP_DIR_OUT && (p->flags & VTAP_PORT_F_XDP)) {
		if (vtap_xdp_takes(ctx, xdp, &k) != xdp)
			return;
	} else if (xdp) {
		return;		/* not (or not yet, or no longer) XDP's port */
	}
	st = bpf_map_lookup_elem(&port_stats, &p->slot);
	if (st) {
		st->packets[dir]++;
		st->bytes[dir] += len;
	}
	on = bpf_map_lookup_elem(&rules_on, &zero);
	for (i = 0; i < VTAP_PORT_MAX_SESSIONS; i++) {
		__u32 session, sd;
		struct vtap_ruleset *rs;
		__u64 cookie;
		int rc;

		if (i >= n)
			break;
		__u32 f = flags;

		session = p->sess[dir][i];
		cookie = p->cookie[dir][i];
		sd = VTAP_SD(session, dir);
		/*
		 * Sessions without rules (no bit) mirror everything; so does a
		 * session whose id has a ruleset made for another session
		 * (another cookie: deleted, the id reused) until vtapctl
		 * removes it.
		 */
		if (on && on->w[(sd / 64) & (VTAP_NSD / 64 - 1)] & (1ULL << (sd & 63))) {
			rs = bpf_map_lookup_elem(&rulesets, &sd);
			if (rs && rs->nrules && rs->cookie == cookie) {
				vtap_parse_once(ctx, xdp, &k);
				rc = vtap_rules_accept(&k, rs, sd);
				if (!rc)
					continue;
				if (rc == 2)	/* the session decides */
					f |= VTAP_MIRROR_F_UNPARSED;
			}
		}
		if (xdp)
			rc = vtap_mirror_xdp(VTAP_XDP(ctx), session, cookie,
					     p->port_id, f);
		else
			rc = vtap_mirror(VTAP_SKB(ctx), session, cookie,
					 p->port_id, f);
		if (!st)
			continue;
		if (rc == 0)
			st->mirrored[dir]++;
		else if (rc < 0)
			st->dropped[dir]++;	/* > 0: passed over by design (sampling, dedup) */
	}
}

SEC("tc")
int vtap_tc_ingress(struct __sk_buff *skb)
{
	vtap_classify(skb, 0, VTAP_DIR_OUT);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int vtap_tc_egress(struct __sk_buff *skb)
{
	vtap_classify(skb, 0, VTAP_DIR_IN);
	return TC_ACT_UNSPEC;
}

/*
 * What the VM sends, on its tap (native XDP; tun runs generic XDP for
 * what its native path does not take) or veth (native): always XDP_PASS,
 * the frame untouched.
 */
SEC("xdp")
int vtap_xdp(struct xdp_md *ctx)
{
	vtap_classify(ctx, 1, VTAP_DIR_OUT);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
