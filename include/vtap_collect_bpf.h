/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vtapctl collect's XDP program (bpf/collect.bpf.c) and vtapctl
 * (user/collect/xdp.c): the maps they share.
 *
 *   addrs     (hash)        the outer destinations the collector listens on:
 *                           the listen address, or the namespace's own
 *                           addresses when none is given (IPv4 as
 *                           ::ffff:a.b.c.d); anything else is passed
 *   sessions  (hash)        the session ids listened to (collect session ID);
 *                           used only when the program's filter_on is set
 *   stats     (per-CPU hash) per session (id, encapsulation): what the
 *                           program consumed, passed and could not deliver
 *   tx        (devmap)      slot 0: the device of "to DEV"
 */
#ifndef VTAP_COLLECT_BPF_H
#define VTAP_COLLECT_BPF_H

#include <linux/types.h>

#define VTAP_CX_MAX_ADDRS	256
#define VTAP_CX_MAX_SESSIONS	64	/* collect.c's MAX_FILTER */
#define VTAP_CX_MAX_STATS	4096	/* collect.c's MAX_STREAMS */

/* Which sockets the collector has: the program consumes only what they take. */
#define VTAP_CX_GRE4		0x1
#define VTAP_CX_GRE6		0x2
#define VTAP_CX_VXLAN4		0x4
#define VTAP_CX_VXLAN6		0x8

struct vtap_cx_addr {
	__u8 a[16];
};

/* encap: enum vtap_pkt_encap (user/collect/decode.h): 1 GRE, 2 ERSPAN II, 3 III, 4 VXLAN. */
struct vtap_cx_key {
	__u32 id;		/* session id, GRE key or VNI; 0 without (has_id 0) */
	__u8 encap;
	__u8 has_id;
	__u16 pad;
};

struct vtap_cx_stats {
	__u64 packets;		/* consumed: redirected to DEV (or, without DEV, seen) */
	__u64 bytes;		/* their inner frames' bytes */
	__u64 passed;		/* left to the socket path (see collect.bpf.c) */
	__u64 undelivered;	/* DEV missing from the devmap: passed instead */
};

#endif
