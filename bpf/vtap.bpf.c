// SPDX-License-Identifier: GPL-2.0
/*
 * vtap TC classifier, attached to clsact ingress and egress of each monitored
 * VM device (tap or veth).  For each session that wants the packet it calls
 * the module's kfunc bpf_vtap_mirror(), which makes and sends the copy.
 *
 * Direction is the VM's: tap/veth ingress carries what the VM sent ("out"),
 * egress what is delivered to it ("in").  The programs never change the
 * packet and always return TC_ACT_OK.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "vtap_bpf.h"

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

#ifdef VTAP_RECORD
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VTAP_REC_MAX + 1);
	__type(key, __u32);
	__type(value, struct vtap_decision);
} decisions SEC(".maps");

static __always_inline int vtap_mirror(struct __sk_buff *skb, __u32 session_id,
				       __u32 port_id, __u32 flags)
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
		d->len = skb->len;
	}
	return 0;
}
#else
extern int bpf_vtap_mirror(struct __sk_buff *skb, __u32 session_id,
			   __u32 port_id, __u32 flags) __ksym;
#define vtap_mirror bpf_vtap_mirror
#endif

static __always_inline int vtap_classify(struct __sk_buff *skb, __u32 dir)
{
	struct vtap_port_stats *st;
	struct vtap_port *p;
	__u32 ifindex = skb->ifindex;
	__u32 flags = dir == VTAP_DIR_IN ? VTAP_MIRROR_F_DIR_IN : 0;
	__u32 i, n;

	p = bpf_map_lookup_elem(&ports, &ifindex);
	if (!p)
		return TC_ACT_OK;
	n = p->nsess[dir];
	if (!n)
		return TC_ACT_OK;
	st = bpf_map_lookup_elem(&port_stats, &p->slot);
	if (st) {
		st->packets[dir]++;
		st->bytes[dir] += skb->len;
	}
	for (i = 0; i < VTAP_PORT_MAX_SESSIONS; i++) {
		if (i >= n)
			break;
		int rc = vtap_mirror(skb, p->sess[dir][i], p->port_id, flags);

		if (!st)
			continue;
		if (rc == 0)
			st->mirrored[dir]++;
		else if (rc < 0)
			st->dropped[dir]++;	/* > 0: sampled out, by design */
	}
	return TC_ACT_OK;
}

SEC("tc")
int vtap_tc_ingress(struct __sk_buff *skb)
{
	return vtap_classify(skb, VTAP_DIR_OUT);
}

SEC("tc")
int vtap_tc_egress(struct __sk_buff *skb)
{
	return vtap_classify(skb, VTAP_DIR_IN);
}

char LICENSE[] SEC("license") = "GPL";
