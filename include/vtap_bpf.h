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
 *		       __u32 port_id, __u32 flags);
 *
 * Called by a TC program for each session that wants a copy of @skb.  The
 * packet itself is never changed.  Returns 0 when the copy (one per GSO
 * segment) was handed to the underlay, 1 when the session's sampling passed
 * the frame over (no copy, by design), or a negative errno when it was not;
 * the reason is counted in the session's VTAP_A_STATS_DROP_* counters:
 * -ENOENT no such session in the device's namespace, -EINVAL bad flags or
 * no usable Ethernet header, -ELOOP the frame is vtap's own output,
 * -ENOMEM no memory for the copy, -ENOBUFS over the rate budget, no route
 * or the underlay refused.
 */
#define VTAP_MIRROR_F_DIR_IN	(1U << 0)	/* delivered to the VM (device egress) */
#define VTAP_MIRROR_F_ALL	VTAP_MIRROR_F_DIR_IN

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

struct vtap_port {
	__u32 port_id;				/* ERSPAN index */
	__u32 slot;				/* index into port_stats */
	__u32 flags;				/* VTAP_PORT_F_* (control plane only) */
	__u8 vm_uuid[16];			/* VM identity, zero if unknown */
	__u16 nsess[VTAP_NDIRS];		/* sessions per direction */
	__u16 sess[VTAP_NDIRS][VTAP_PORT_MAX_SESSIONS];
};

/* Per-CPU array "port_stats", indexed by vtap_port.slot. */
struct vtap_port_stats {
	__u64 packets[VTAP_NDIRS];	/* packets seen on a port with flows */
	__u64 bytes[VTAP_NDIRS];
	__u64 mirrored[VTAP_NDIRS];	/* copies the module sent */
	__u64 dropped[VTAP_NDIRS];	/* copies the module could not send */
};

/*
 * Record variant (bpf/vtap-rec.bpf.o, built with -DVTAP_RECORD): instead of
 * calling the kfunc, the program records each decision in the array map
 * "decisions" (index 0 holds the count, then one entry per call), so that
 * the classifier can be tested and timed with BPF_PROG_TEST_RUN on a kernel
 * without vtap.ko.
 */
#define VTAP_REC_MAX	16
struct vtap_decision {
	__u32 session_id;
	__u32 port_id;
	__u32 flags;
	__u32 len;
};

#endif /* _VTAP_BPF_H */
