/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Definitions shared by vtap's BPF programs (bpf/), the module's kfunc
 * (kmod/kfunc.c) and vtapctl (user/).  Fixed-width types only.
 */
#ifndef _VTAP_BPF_H
#define _VTAP_BPF_H

#include <linux/types.h>

/*
 * int bpf_vtap_mirror(struct __sk_buff *skb, __u32 session_id,
 *		       __u64 cookie, __u32 port_id, __u32 flags);
 *
 * Called by a TC program for each session that wants a copy of @skb.  The
 * packet itself is never changed.  @cookie is the session's
 * VTAP_A_SESSION_COOKIE as the flow recorded it: a session with this id but
 * another cookie (the flow's session was deleted and the id reused, or the
 * device moved to another namespace) gets nothing.  Returns 0 when the copy
 * (one per GSO segment) was handed to the underlay, 1 when the session
 * passed the frame over by design (sampling, an unparsed frame and
 * VTAP_SESSION_F_UNPARSED_SKIP, or an in copy whose out copy the session
 * sent: VTAP_A_SESSION_DEDUP), or a negative errno when it was not; the
 * reason is counted in the session's VTAP_A_STATS_DROP_* counters:
 * -ENOENT no such session in the device's namespace, -ESTALE the session
 * is not the flow's, -EINVAL bad flags or no usable Ethernet header,
 * -EPERM called where it cannot run (BHs enabled), -ELOOP the frame is
 * vtap's own output, -ENOMEM no memory for the copy, -ENOBUFS over the
 * rate budget, no route or the underlay refused.
 */
#define VTAP_MIRROR_F_DIR_IN	(1U << 0)	/* delivered to the VM (device egress) */
/* The session's rules could not be decided for this frame (its shape). */
#define VTAP_MIRROR_F_UNPARSED	(1U << 1)
#define VTAP_MIRROR_F_ALL	(VTAP_MIRROR_F_DIR_IN | VTAP_MIRROR_F_UNPARSED)

/* VM-centric directions, as vtapctl and the flow table name them. */
enum vtap_dir {
	VTAP_DIR_OUT,	/* sent by the VM: ingress of its tap/veth */
	VTAP_DIR_IN,	/* delivered to the VM: egress of its tap/veth */
	VTAP_NDIRS,
};

/*
 * Ports: map "ports" (hash), key = ifindex of the VM's tap/veth in the
 * namespace the programs were loaded for, value = struct vtap_port.  The
 * flows of a port (TaaS "tap-flow": port + direction -> session) live in the
 * value, so a monitored packet costs one lookup.
 */
#define VTAP_MAX_PORTS		1024	/* per namespace; also port_stats size */
#define VTAP_PORT_MAX_SESSIONS	8	/* sessions per port and direction */
#define VTAP_PORT_ID_MAX	0xfffff	/* ERSPAN index: 20 bits */

#define VTAP_PORT_F_OWN_CLSACT	(1U << 0)	/* vtapctl created the clsact qdisc */
/* Flow records (IPFIX) of what the VM sends / receives: see "flows4". */
#define VTAP_PORT_F_REC_OUT	(1U << 1)	/* == 1 << (1 + VTAP_DIR_OUT) */
#define VTAP_PORT_F_REC_IN	(1U << 2)	/* == 1 << (1 + VTAP_DIR_IN) */
#define VTAP_PORT_F_REC(dir)	(1U << (1 + (dir)))
/*
 * vtap's XDP program is attached to the port: it mirrors what the VM sends
 * up to VTAP_XDP_MAX_FRAME bytes (the Ethernet header and up to two VLAN
 * tags included) that it can copy exactly, the TC program the rest (see
 * vtap_xdp_takes() in bpf/vtap.bpf.c).  Set once the program is attached,
 * cleared before it is detached: TC mirrors everything meanwhile.
 */
#define VTAP_PORT_F_XDP		(1U << 3)
#define VTAP_XDP_MAX_FRAME	1522

struct vtap_port {
	__u32 port_id;				/* ERSPAN index */
	__u32 slot;				/* index into port_stats */
	__u32 flags;				/* VTAP_PORT_F_* */
	__u8 vm_uuid[16];			/* VM identity, zero if unknown */
	__u16 nsess[VTAP_NDIRS];		/* sessions per direction */
	__u16 sess[VTAP_NDIRS][VTAP_PORT_MAX_SESSIONS];
	/* The cookie of each flow's session (VTAP_A_SESSION_COOKIE). */
	__u64 cookie[VTAP_NDIRS][VTAP_PORT_MAX_SESSIONS];
};

/* Per-CPU array "port_stats", indexed by vtap_port.slot. */
struct vtap_port_stats {
	__u64 packets[VTAP_NDIRS];	/* packets seen on a port with flows */
	__u64 bytes[VTAP_NDIRS];
	__u64 mirrored[VTAP_NDIRS];	/* copies the module sent */
	__u64 dropped[VTAP_NDIRS];	/* copies the module could not send */
};

/*
 * Rules (per session and direction, first match by rule number wins; no
 * rules: mirror everything), classified with bit vectors: rule i of a
 * ruleset (in rule-number order) is bit i.  For each field a rule can
 * constrain, a lookup with the packet's value yields the set of rules whose
 * constraint on that field the packet meets; the sets are ANDed and the
 * lowest set bit decides (accept or reject).  The cost depends on the fields
 * in use and the size of their tables, not on the number of rules.
 *
 * vtapctl compiles the rules (map "rules", the source of truth) into one
 * table per field (per field and family for addresses).  A table that is
 * small (the norm: a few protocols, VLANs, ICMP types, port spans and
 * prefixes) lives inline in the session-direction's ruleset value, which
 * the classifier has looked up anyway, and costs a short bounded scan; a
 * larger one lives in the maps below (one hash or trie lookup).  The
 * ruleset's "inl" bit (1 << VTAP_RT_*) says which.
 *
 * Every out-of-line entry is keyed by sd2 = (sd << 1 | gen), with
 * sd = VTAP_SD(session, dir); the ruleset entry (a hash element, replaced
 * atomically) names the live generation, so an update is: clear the spare
 * generation, write it, flip the ruleset.  The old generation stays until
 * the next update, so a packet in flight never sees half a ruleset.  The
 * inline tables are part of the ruleset element and need no generation.
 */
#define VTAP_RULES_MAX		256	/* per session and direction */
#define VTAP_RULE_WORDS		(VTAP_RULES_MAX / 64)
#define VTAP_RULE_NUM_MAX	32766
#define VTAP_NSD		2048	/* (VTAP_SESSION_ID_MAX + 1) * 2 */
#define VTAP_SD(session, dir)	((session) << 1 | (dir))
#define VTAP_SD2(sd, gen)	((sd) << 1 | (gen))
#define VTAP_PORT_SPANS		1024	/* >= 2 * VTAP_RULES_MAX + 1, power of 2 */
#define VTAP_IPV6_EXT_MAX	8	/* extension headers walked */

enum vtap_rule_field {
	VTAP_RF_VLAN,
	VTAP_RF_PROTO,
	VTAP_RF_SRC,
	VTAP_RF_DST,
	VTAP_RF_SPORT,
	VTAP_RF_DPORT,
	VTAP_RF_ICMP,
	VTAP_NRF,
};

/* The compiled tables: bits of vtap_ruleset.inl. */
enum vtap_rule_table {
	VTAP_RT_VLAN,
	VTAP_RT_PROTO,
	VTAP_RT_ICMP,
	VTAP_RT_SPORT,
	VTAP_RT_DPORT,
	VTAP_RT_SRC4,			/* SRC4 + t: src4, dst4, src6, dst6 */
	VTAP_RT_DST4,
	VTAP_RT_SRC6,
	VTAP_RT_DST6,
	VTAP_NRT,
};

/* Inline table sizes (entries); each entry carries a struct vtap_bits. */
#define VTAP_INL_VALS		8	/* VLAN ids, protocols, ICMP types */
#define VTAP_INL_SPANS		64	/* port spans per field, power of 2 */
#define VTAP_INL_PREFIXES	16	/* prefixes per field and family, power of 2 */

struct vtap_bits {
	__u64 w[VTAP_RULE_WORDS];
};

/* An inline prefix: address & mask == net, as the address bytes. */
struct vtap_inl_pfx4 {
	__u32 net;
	__u32 mask;
};

struct vtap_inl_pfx6 {
	__u64 net[2];
	__u64 mask[2];
};

/*
 * Map "rules_on" (array, one element): bit sd is set while session-direction
 * sd has a ruleset, so that a packet only looks a ruleset up (a hash lookup)
 * for those; the array lookup is inlined by the verifier.  vtapctl, its only
 * writer (under the namespace's lock), sets the bit after writing the ruleset
 * and clears it before deleting the ruleset: in between, packets are
 * mirrored as if the change had not happened yet (or had already).
 */
struct vtap_rules_on {
	__u64 w[VTAP_NSD / 64];
};

/*
 * Map "rulesets" (hash, no prealloc), key: __u32 sd.  The inline tables:
 * n[VTAP_RT_*] entries in use; VLAN ids, protocols and ICMP types
 * ((proto << 8) | type) are scanned for an equal value; port spans as in
 * struct vtap_port_spans (binary search); prefixes are sorted longest first,
 * so the first that holds the address is the longest match.
 */
struct vtap_ruleset {
	__u32 nrules;			/* 0: no rules, mirror everything */
	__u32 used;			/* 1 << VTAP_RF_*: fields some rule constrains */
	__u32 gen;			/* live generation of the compiled maps */
	__u32 inl;			/* 1 << VTAP_RT_*: table inline, not in its map */
	__u64 cookie;			/* the session's: another session ignores it */
	struct vtap_bits accept;	/* rules whose action is accept */
	struct vtap_bits any[VTAP_NRF];	/* rules that do not constrain the field */
	__u8 n[VTAP_NRT];
	__u8 pad[16 - VTAP_NRT];
	__u16 vid[VTAP_INL_VALS];
	__u8 proto[VTAP_INL_VALS];
	__u16 icmp[VTAP_INL_VALS];
	struct vtap_bits vid_bits[VTAP_INL_VALS];
	struct vtap_bits proto_bits[VTAP_INL_VALS];
	struct vtap_bits icmp_bits[VTAP_INL_VALS];
	__u16 port_lo[2][VTAP_INL_SPANS];		/* sport, dport */
	struct vtap_bits port_bits[2][VTAP_INL_SPANS];
	struct vtap_inl_pfx4 pfx4[2][VTAP_INL_PREFIXES];	/* src, dst */
	struct vtap_inl_pfx6 pfx6[2][VTAP_INL_PREFIXES];
	struct vtap_bits pfx_bits[4][VTAP_INL_PREFIXES];	/* src4, dst4, src6, dst6 */
};

/* Maps "rule_vlan", "rule_proto", "rule_icmp" (hash) -> struct vtap_bits. */
struct vtap_rkey_vlan {
	__u16 sd2;
	__u16 vid;
};

struct vtap_rkey_proto {
	__u16 sd2;
	__u8 proto;
	__u8 pad;
};

struct vtap_rkey_icmp {
	__u16 sd2;
	__u8 proto;			/* IPPROTO_ICMP or IPPROTO_ICMPV6 */
	__u8 type;
};

/* Maps "rule_src4"/"rule_dst4"/"rule_src6"/"rule_dst6" (LPM tries). */
struct vtap_rkey_lpm4 {
	__u32 prefixlen;		/* 16 + CIDR length */
	__u8 sd2[2];			/* big endian */
	__u8 addr[4];
};

struct vtap_rkey_lpm6 {
	__u32 prefixlen;
	__u8 sd2[2];
	__u8 addr[16];
};

/* Map "rule_ports" (hash): key {sd2, VTAP_RF_SPORT or _DPORT}. */
struct vtap_rkey_ports {
	__u16 sd2;
	__u16 field;
};

/* Spans [lo[i], lo[i+1]) of port numbers; lo[0] = 0; n spans in use. */
struct vtap_port_spans {
	__u32 n;
	__u16 lo[VTAP_PORT_SPANS];
	struct vtap_bits bits[VTAP_PORT_SPANS];
};

/* Map "rules" (hash), the rules as given: key {sd, num}. */
struct vtap_rule_key {
	__u32 sd;
	__u32 num;
};

#define VTAP_RULE_F_ACCEPT	(1U << 0)
#define VTAP_RULE_F_PROTO	(1U << 1)
#define VTAP_RULE_F_SRC		(1U << 2)
#define VTAP_RULE_F_DST		(1U << 3)
#define VTAP_RULE_F_SPORT	(1U << 4)
#define VTAP_RULE_F_DPORT	(1U << 5)
#define VTAP_RULE_F_VLAN	(1U << 6)
#define VTAP_RULE_F_ICMP	(1U << 7)

struct vtap_rule {
	__u32 flags;			/* VTAP_RULE_F_* */
	__u8 proto;
	__u8 family;			/* 4 or 6 when SRC or DST is set */
	__u8 src_len;
	__u8 dst_len;
	__u8 src[16];
	__u8 dst[16];
	__u16 sport_lo, sport_hi;
	__u16 dport_lo, dport_hi;
	__u16 vlan;
	__u8 icmp_type;
	__u8 pad;
	__u32 pad2;
	__u64 cookie;			/* the session's (VTAP_A_SESSION_COOKIE) */
};

/*
 * Flow records (vtapctl flows): on a port with VTAP_PORT_F_REC(dir), every
 * IP packet of that direction is counted in hash map "flows4" or "flows6"
 * (no prealloc, VTAP_FLOWS_MAX entries at most) under its 5-tuple, port and
 * direction; vtapctl flows export reads them, exports IPFIX and deletes the
 * idle ones.  The number of entries both maps hold together is bounded by
 * the namespace's limit (array map "flow_cfg", mmapable: vtapctl flows set
 * limit N; 0 = VTAP_FLOWS_DEFAULT_LIMIT) and kept in its "used" counter,
 * which the program increments before an insert and the exporter decrements
 * after a delete.  A packet that finds no room is counted in the per-CPU
 * array "flow_lost" instead, as is every non-IP frame of a recording port.
 */
#define VTAP_FLOWS_MAX			65536	/* per map and namespace */
#define VTAP_FLOWS_DEFAULT_LIMIT	16384	/* entries, both maps together */
/*
 * Each CPU also keeps its last flow in array map "flow_cache" (one entry
 * per CPU, VTAP_FLOW_CACHE_CPUS at most: a CPU beyond counts every packet in
 * the table): the packets after the first of a train of one flow are
 * counted there and added to the flow's entry by a timer, at most
 * VTAP_FLOW_FLUSH_NS later (or at the CPU's next packet of another flow).
 * So the table can lag the traffic by that much; if the exporter deleted
 * the entry meanwhile, the flush makes a new one (or counts flow_lost).
 */
#define VTAP_FLOW_CACHE_CPUS		1024
#define VTAP_FLOW_FLUSH_NS		2000000	/* 2 ms */

/*
 * An entry of "flow_cache", indexed by CPU.  @timer is a struct bpf_timer
 * (the BPF program defines VTAP_FLOW_TIMER so); @lock, 0 or 1, is taken with
 * cmpxchg and never waited for: the timer's callback may run on another
 * CPU.  Only the entry's CPU changes @key.
 */
#ifndef VTAP_FLOW_TIMER
#define VTAP_FLOW_TIMER	struct { __u64 opaque[2]; }
#endif
struct vtap_flow_cache {
	VTAP_FLOW_TIMER timer;
	__u64 lock;
	__u64 key[6];			/* vtap_flow4_key or vtap_flow6_key, zero-padded */
	__u32 l3;			/* 0 (none), 4 or 6 */
	__u32 armed;			/* the timer will flush */
	__u64 packets;			/* counted here since the last flush */
	__u64 octets;
	__u64 first_ns;
	__u64 last_ns;
	__u32 tcp_flags;
	__u32 pad;
};

/*
 * vlan: 0 without a tag, else 0x1000 | VLAN id (the outer tag); cvlan: the
 * same for the inner (customer) tag of a double-tagged frame.  The keys
 * are 24 and 48 bytes, whole 8-byte words (the per-CPU cache compares them
 * a word at a time); pad is 0.
 */
struct vtap_flow4_key {
	__u32 ifindex;
	__u8 dir;			/* enum vtap_dir */
	__u8 proto;
	__u16 vlan;
	__u32 src;			/* as on the wire */
	__u32 dst;
	__u16 sport;			/* host order; ICMP: 0 */
	__u16 dport;			/* ICMP: type << 8 | code */
	__u16 cvlan;
	__u16 pad;
};

struct vtap_flow6_key {
	__u32 ifindex;
	__u8 dir;
	__u8 proto;
	__u16 vlan;
	__u8 src[16];
	__u8 dst[16];
	__u16 sport;
	__u16 dport;
	__u16 cvlan;
	__u16 pad;
};

/* octets: IP-layer octets (IP header and payload, no L2 header or padding). */
struct vtap_flow_val {
	__u64 packets;
	__u64 octets;
	__u64 first_ns;			/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 last_ns;
	__u32 tcp_flags;		/* OR of the TCP flags seen (low 8 bits) */
	__u32 pad;
};

struct vtap_flow_cfg {
	__u64 limit;			/* 0: VTAP_FLOWS_DEFAULT_LIMIT */
	__u64 used;			/* entries in flows4 + flows6 */
};

/* Per-CPU array "flow_lost", one element. */
struct vtap_flow_lost {
	__u64 packets;			/* IP packets not recorded: table full */
	__u64 octets;
	__u64 nonip_packets;		/* frames that are not IP (not recorded) */
	__u64 nonip_octets;		/* their length from the MAC header */
};

/*
 * Record variant (bpf/vtap-rec.bpf.o, built with -DVTAP_RECORD): instead of
 * calling the kfunc, the program records each decision in the array map
 * "decisions" (index 0 holds the count, then one entry per call), so that
 * the classifier can be tested and timed with BPF_PROG_TEST_RUN on a kernel
 * without vtap.ko.
 */
#define VTAP_REC_MAX	16
#define VTAP_REC_F_XDP	(1U << 31)	/* in vtap_decision.flags: from XDP */
struct vtap_decision {
	__u32 session_id;
	__u32 port_id;
	__u32 flags;
	__u32 len;
	__u64 cookie;
};

#endif /* _VTAP_BPF_H */
