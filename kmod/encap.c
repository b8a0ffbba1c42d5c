// SPDX-License-Identifier: GPL-2.0
/*
 * The encapsulator: copy a VM's frame, wrap it in GRE-TEB or ERSPAN II/III,
 * route it to the session's collector over IPv4 or IPv6 and send it.
 *
 * Runs in the TC path of the VM's device (softirq, or with BHs disabled),
 * under RCU, for each session that wants the frame.  The finished copy is
 * sent inline or, with the module parameter deferred, from a bounded
 * queue drained by a tasklet: this CPU's (deferred=1) or the next online
 * CPU's (deferred=2), so that the copy's trip through the underlay's stack
 * leaves the VM's CPU.  It never changes the
 * original skb: all work is on a clone whose header is made private before
 * anything is written.  Whatever goes wrong costs the copy, never the frame.
 */

#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/ip.h>
#include <linux/llist.h>
#include <linux/smp.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <net/dst_cache.h>
#include <net/gre.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>

#include "vtap.h"
#include "vtap_bpf.h"

#define ERSPAN2_HLEN	8
#define ERSPAN3_HLEN	12

/* Nesting guard: set while this CPU transmits a copy. */
static DEFINE_PER_CPU(u8, vtap_xmit_depth);

static int vtap_gre_hlen(const struct vtap_params *p)
{
	/* GRE base header + sequence number, + key for GRE-TEB with a key. */
	return 8 + (p->encap == VTAP_ENCAP_GRE && p->has_key ? 4 : 0);
}

static int vtap_encap_hlen(const struct vtap_params *p)
{
	int len = vtap_gre_hlen(p);

	if (p->encap == VTAP_ENCAP_ERSPAN2)
		len += ERSPAN2_HLEN;
	else if (p->encap == VTAP_ENCAP_ERSPAN3)
		len += ERSPAN3_HLEN;
	return len;
}

static bool vtap_is_our_gre(__be16 proto)
{
	return proto == htons(ETH_P_TEB) || proto == htons(ETH_P_ERSPAN) ||
	       proto == htons(ETH_P_ERSPAN2);
}

/*
 * Loop guard: is this frame a copy that vtap (any session of this
 * namespace) sent?  Only GRE frames pay for the check.  The frame starts at
 * @l3 (after the Ethernet header) in @skb's data.
 */
static bool vtap_is_own_output(struct vtap_net *vn, const struct sk_buff *skb,
			       int l3, __be16 eth_proto)
{
	struct gre_base_hdr _gre, *gre;
	struct vtap_session *s;
	struct in6_addr d6;
	unsigned long id;
	__be32 d4 = 0;
	int off;

	if (eth_proto == htons(ETH_P_IP)) {
		struct iphdr _iph, *iph;

		iph = skb_header_pointer(skb, l3, sizeof(_iph), &_iph);
		if (!iph || iph->protocol != IPPROTO_GRE || iph->ihl < 5)
			return false;
		d4 = iph->daddr;
		off = l3 + iph->ihl * 4;
	} else if (eth_proto == htons(ETH_P_IPV6)) {
		struct ipv6hdr _ip6, *ip6;

		ip6 = skb_header_pointer(skb, l3, sizeof(_ip6), &_ip6);
		if (!ip6 || ip6->nexthdr != IPPROTO_GRE)
			return false;
		d6 = ip6->daddr;
		off = l3 + sizeof(*ip6);
	} else {
		return false;
	}
	gre = skb_header_pointer(skb, off, sizeof(_gre), &_gre);
	if (!gre || !vtap_is_our_gre(gre->protocol))
		return false;

	xa_for_each(&vn->sessions, id, s) {
		const struct vtap_params *p = rcu_dereference(s->params);

		if (d4 ? p->family == AF_INET && p->remote4 == d4
		       : p->family == AF_INET6 && ipv6_addr_equal(&p->remote6, &d6))
			return true;
	}
	return false;
}

/* 802.1Q fields of the inner frame, for the ERSPAN header. */
static void vtap_inner_vlan(const struct sk_buff *skb, u16 *vlan, u8 *cos,
			    u8 *en)
{
	const struct vlan_ethhdr *veth = (const struct vlan_ethhdr *)skb->data;

	*vlan = 0;
	*cos = 0;
	*en = 0;		/* untagged */
	if (skb_headlen(skb) >= VLAN_ETH_HLEN &&
	    eth_type_vlan(veth->h_vlan_proto)) {
		u16 tci = ntohs(veth->h_vlan_TCI);

		*vlan = tci & VLAN_VID_MASK;
		*cos = tci >> VLAN_PRIO_SHIFT;
		*en = 3;	/* the tag is kept in the frame */
	}
}

static u32 vtap_erspan_timestamp(u8 gra)
{
	u64 ns = ktime_get_real_ns();

	return (u32)(gra == VTAP_GRA_100NS ? div_u64(ns, 100)
					   : div_u64(ns, 100 * NSEC_PER_USEC));
}

/* Push the ERSPAN header (if any) and the GRE header in front of the frame. */
static void vtap_push_encap(struct sk_buff *skb, struct vtap_session *s,
			    const struct vtap_params *p, u32 port_id, u32 flags,
			    bool truncated)
{
	__be16 gre_flags = TUNNEL_SEQ;
	__be16 proto = htons(ETH_P_TEB);
	u16 vlan;
	u8 cos, en;
	__be32 *h;

	if (p->encap != VTAP_ENCAP_GRE) {
		vtap_inner_vlan(skb, &vlan, &cos, &en);
		if (p->encap == VTAP_ENCAP_ERSPAN2) {
			h = skb_push(skb, ERSPAN2_HLEN);
			h[0] = htonl(1U << 28 | (u32)vlan << 16 | (u32)cos << 13 |
				     (u32)en << 11 | (u32)truncated << 10 | s->id);
			h[1] = htonl(port_id & VTAP_PORT_ID_MAX);
			proto = htons(ETH_P_ERSPAN);
		} else {
			u32 dir = !!(flags & VTAP_MIRROR_F_DIR_IN);

			h = skb_push(skb, ERSPAN3_HLEN);
			/* BSO 00: the frame is good; it travels in the BSO field. */
			h[0] = htonl(2U << 28 | (u32)vlan << 16 | (u32)cos << 13 |
				     (u32)truncated << 10 | s->id);
			h[1] = htonl(vtap_erspan_timestamp(p->gra));
			/* SGT 0, P 1 and FT 0 (an Ethernet frame), HwID, D, Gra, O 0 */
			h[2] = htonl(1U << 15 | (u32)p->hwid << 4 | dir << 3 |
				     (u32)p->gra << 1);
			proto = htons(ETH_P_ERSPAN2);
		}
	} else if (p->has_key) {
		gre_flags |= TUNNEL_KEY;
	}
	gre_build_header(skb, vtap_gre_hlen(p), gre_flags, proto,
			 htonl(p->key), htonl(atomic_fetch_inc(&s->seq)));
}

/* Route to the collector; returns a held dst and fills the source address. */
static struct dst_entry *vtap_route4(struct net *net, struct vtap_params *p,
				     __be32 *saddr)
{
	struct flowi4 fl4;
	struct rtable *rt;

	rt = dst_cache_get_ip4(&p->dst_cache, saddr);
	if (rt)
		return &rt->dst;
	memset(&fl4, 0, sizeof(fl4));
	fl4.daddr = p->remote4;
	fl4.saddr = p->has_local ? p->local4 : 0;
	fl4.flowi4_proto = IPPROTO_GRE;
	fl4.flowi4_tos = RT_TOS(p->tos);
	rt = ip_route_output_key(net, &fl4);
	if (IS_ERR(rt))
		return NULL;
	*saddr = fl4.saddr;
	dst_cache_set_ip4(&p->dst_cache, &rt->dst, fl4.saddr);
	return &rt->dst;
}

static struct dst_entry *vtap_route6(struct net *net, struct vtap_params *p,
				     struct in6_addr *saddr)
{
	struct dst_entry *dst;
	struct flowi6 fl6;

	dst = dst_cache_get_ip6(&p->dst_cache, saddr);
	if (dst)
		return dst;
	memset(&fl6, 0, sizeof(fl6));
	fl6.daddr = p->remote6;
	if (p->has_local)
		fl6.saddr = p->local6;
	fl6.flowi6_proto = IPPROTO_GRE;
	if (ip6_dst_lookup(net, NULL, &dst, &fl6))
		return NULL;
	*saddr = fl6.saddr;
	dst_cache_set_ip6(&p->dst_cache, dst, &fl6.saddr);
	return dst;
}

/*
 * Transmit: inline, in the VM's TC path, or deferred to a bounded queue
 * drained by a tasklet, on this CPU (deferred=1) or on the next online CPU
 * (deferred=2).  Each CPU has one inbox, a lock-free llist that any CPU
 * adds to; only the owning CPU's tasklet takes from it.  A producer that
 * finds the inbox empty kicks the owner: tasklet_schedule() on its own CPU,
 * else an asynchronous IPI (its own call_single_data: one producer per
 * csd, and it is only reused once the owner has taken the callback, which
 * happens before the owner's tasklet can empty the inbox again) whose
 * callback schedules the tasklet there.
 */
static unsigned int deferred;
module_param(deferred, uint, 0644);
MODULE_PARM_DESC(deferred, "0: send copies inline (default); 1: from this CPU's queue; 2: from the next online CPU's queue");

static unsigned int queue_len = 1024;
module_param(queue_len, uint, 0644);
MODULE_PARM_DESC(queue_len, "copies each CPU's deferred queue holds before it drops (default 1024)");

#define VTAP_DRAIN_BUDGET 64

struct vtap_queue {
	struct llist_head inbox;	/* added to by any CPU */
	atomic_t len;			/* copies in inbox + pending */
	struct llist_node *pending;	/* taken from inbox, owner only */
	call_single_data_t kick;	/* this CPU's IPI to another's inbox */
	struct tasklet_struct tasklet;	/* runs on the owner CPU */
};

static DEFINE_PER_CPU(struct vtap_queue, vtap_queues);

/* A queued copy remembers its session (a counted reference) in skb->cb. */
struct vtap_skb_cb {
	struct vtap_session *s;
};

#define VTAP_SKB_CB(skb) ((struct vtap_skb_cb *)(skb)->cb)

/* Hand an encapsulated copy (dst attached) to the IP layer.  Consumes it. */
static int vtap_send(struct net *net, struct sk_buff *skb,
		     struct vtap_session *s)
{
	unsigned int len = skb->len;
	int err;

	if (skb->protocol == htons(ETH_P_IP)) {
		memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
		err = ip_local_out(net, NULL, skb);
	} else {
		memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
		err = ip6_local_out(net, NULL, skb);
	}
	if (unlikely(net_xmit_eval(err))) {
		vtap_stats_inc(s, VTAP_A_STATS_DROP_XMIT);
		return -ENOBUFS;
	}
	vtap_stats_add2(s, VTAP_A_STATS_SENT, 1, VTAP_A_STATS_BYTES, len);
	return 0;
}

/* Called with BHs disabled. */
static int vtap_enqueue(struct sk_buff *skb, struct vtap_session *s,
			unsigned int mode)
{
	int cpu = smp_processor_id(), target = cpu;
	struct vtap_queue *vq;

	if (mode >= 2) {
		target = cpumask_next(cpu, cpu_online_mask);
		if (target >= nr_cpu_ids)
			target = cpumask_first(cpu_online_mask);
	}
	vq = per_cpu_ptr(&vtap_queues, target);
	if (atomic_inc_return(&vq->len) > READ_ONCE(queue_len) ||
	    !refcount_inc_not_zero(&s->refs)) {
		atomic_dec(&vq->len);
		vtap_stats_inc(s, VTAP_A_STATS_DROP_QUEUE);
		kfree_skb(skb);
		return -ENOBUFS;
	}
	VTAP_SKB_CB(skb)->s = s;
	if (llist_add(&skb->ll_node, &vq->inbox)) {
		if (target == cpu)
			tasklet_schedule(&vq->tasklet);
		else	/* -EBUSY: the kick in flight will do */
			smp_call_function_single_async(target,
						       &this_cpu_ptr(&vtap_queues)->kick);
	}
	return 0;
}

/* IPI callback on the owner CPU: run its tasklet there. */
static void vtap_queue_kick(void *unused)
{
	tasklet_schedule(this_cpu_ptr(&vtap_queues.tasklet));
}

static void vtap_queue_drain(struct tasklet_struct *t)
{
	struct vtap_queue *vq = from_tasklet(vq, t, tasklet);
	int budget = VTAP_DRAIN_BUDGET;

	this_cpu_inc(vtap_xmit_depth);
	while (budget--) {
		struct vtap_session *s;
		struct sk_buff *skb;

		if (!vq->pending)
			vq->pending = llist_reverse_order(llist_del_all(&vq->inbox));
		if (!vq->pending)
			break;
		skb = llist_entry(vq->pending, struct sk_buff, ll_node);
		vq->pending = vq->pending->next;
		skb->next = NULL;
		atomic_dec(&vq->len);
		s = VTAP_SKB_CB(skb)->s;
		vtap_send(dev_net(skb_dst(skb)->dev), skb, s);
		vtap_session_put(s);
	}
	this_cpu_dec(vtap_xmit_depth);
	if (vq->pending || !llist_empty(&vq->inbox))
		tasklet_schedule(&vq->tasklet);
}

static void vtap_queue_free(struct llist_node *n)
{
	while (n) {
		struct sk_buff *skb = llist_entry(n, struct sk_buff, ll_node);
		struct vtap_session *s = VTAP_SKB_CB(skb)->s;

		n = n->next;
		skb->next = NULL;
		kfree_skb(skb);
		vtap_session_put(s);
	}
}

int __init vtap_encap_init(void)
{
	int cpu;

	BUILD_BUG_ON(sizeof(struct vtap_skb_cb) > sizeof_field(struct sk_buff, cb));
	for_each_possible_cpu(cpu) {
		struct vtap_queue *vq = per_cpu_ptr(&vtap_queues, cpu);

		init_llist_head(&vq->inbox);
		atomic_set(&vq->len, 0);
		vq->pending = NULL;
		INIT_CSD(&vq->kick, vtap_queue_kick, NULL);
		tasklet_setup(&vq->tasklet, vtap_queue_drain);
	}
	return 0;
}

/* Called once no program can call the kfunc any more. */
void vtap_encap_exit(void)
{
	int cpu;

	/* Kicks in flight: the flag clears before the callback runs. */
	for_each_possible_cpu(cpu)
		while (READ_ONCE(per_cpu_ptr(&vtap_queues, cpu)->kick.node.u_flags) &
		       CSD_FLAG_LOCK)
			cpu_relax();
	synchronize_rcu();	/* callbacks run with IRQs off */
	for_each_possible_cpu(cpu) {
		struct vtap_queue *vq = per_cpu_ptr(&vtap_queues, cpu);

		tasklet_kill(&vq->tasklet);
		vtap_queue_free(vq->pending);
		vq->pending = NULL;
		vtap_queue_free(llist_del_all(&vq->inbox));
	}
}

/* Cut a copy to the session's snaplen and to @max_inner bytes. */
static int vtap_cut(struct sk_buff *skb, struct vtap_session *s,
		    const struct vtap_params *p, int max_inner, bool *truncated)
{
	unsigned int len = skb->len;

	if (p->snaplen && len > p->snaplen) {
		len = p->snaplen;
		vtap_stats_inc(s, VTAP_A_STATS_SLICED);
	}
	if (len > max_inner) {
		len = max_inner;
		vtap_stats_inc(s, VTAP_A_STATS_TRUNCATED);
	}
	if (len == skb->len)
		return 0;
	*truncated = true;
	return pskb_trim(skb, len);
}

/* Overwrite the session's mask range of a copy (private after this). */
static int vtap_mask(struct sk_buff *skb, const struct vtap_params *p)
{
	unsigned int n;

	if (!p->mask_len || p->mask_offset >= skb->len)
		return 0;
	n = min_t(unsigned int, p->mask_len, skb->len - p->mask_offset);
	if (skb_ensure_writable(skb, p->mask_offset + n))
		return -ENOMEM;
	memset(skb->data + p->mask_offset, p->mask_byte, n);
	return 0;
}

/*
 * Complete, encapsulate and send one frame (skb->data at its Ethernet
 * header).  Consumes @skb.
 */
static int vtap_xmit_one(struct net *net, struct sk_buff *skb,
			 struct vtap_session *s, struct vtap_params *p,
			 u32 port_id, u32 flags, struct net_device *mon_dev)
{
	int ehlen = vtap_encap_hlen(p), iphlen, room, max_inner;
	bool truncated = false;
	unsigned int mode;
	struct dst_entry *dst;
	struct in6_addr s6;
	__be32 s4;

	iphlen = p->family == AF_INET ? sizeof(struct iphdr)
				      : sizeof(struct ipv6hdr);
	dst = p->family == AF_INET ? vtap_route4(net, p, &s4)
				   : vtap_route6(net, p, &s6);
	if (!dst) {
		vtap_stats_inc(s, VTAP_A_STATS_DROP_NOROUTE);
		goto drop;
	}
	if (dst->dev == mon_dev) {
		/* The collector is reached through the monitored device. */
		vtap_stats_inc(s, VTAP_A_STATS_DROP_LOOP);
		goto drop_dst;
	}

	/* Never fragment a copy: cut it to the path MTU instead. */
	max_inner = (int)dst_mtu(dst) - iphlen - ehlen;
	if (max_inner < ETH_HLEN) {
		vtap_stats_inc(s, VTAP_A_STATS_DROP_XMIT);
		goto drop_dst;
	}

	/*
	 * The checksums the wire would carry (segments have theirs).  A GSO
	 * super-packet sent whole (VTAP_SESSION_F_GSO_SLICE) is cut first: it
	 * is never complete anyway, and it must stop being GSO.
	 */
	if (skb_is_gso(skb)) {
		if (vtap_cut(skb, s, p, max_inner, &truncated))
			goto drop_nomem;
		skb_gso_reset(skb);
	}
	if (skb->ip_summed == CHECKSUM_PARTIAL && skb_checksum_help(skb))
		goto drop_nomem;
	if (vtap_cut(skb, s, p, max_inner, &truncated) || vtap_mask(skb, p))
		goto drop_nomem;

	room = LL_RESERVED_SPACE(dst->dev) + iphlen + ehlen;
	if (skb_cow_head(skb, room)) {
		vtap_stats_inc(s, VTAP_A_STATS_DROP_NOMEM);
		goto drop_dst;
	}

	skb_scrub_packet(skb, true);
	skb->ip_summed = CHECKSUM_NONE;
	skb->encapsulation = 0;
	skb_reset_inner_headers(skb);
	vtap_push_encap(skb, s, p, port_id, flags, truncated);

	skb_push(skb, iphlen);
	skb_reset_network_header(skb);
	skb_dst_set(skb, dst);
	if (p->family == AF_INET) {
		struct iphdr *iph = ip_hdr(skb);

		iph->version = 4;
		iph->ihl = sizeof(*iph) >> 2;
		iph->tos = p->tos;
		iph->frag_off = htons(IP_DF);
		iph->ttl = p->ttl;
		iph->protocol = IPPROTO_GRE;
		iph->saddr = s4;
		iph->daddr = p->remote4;
		iph->tot_len = htons(skb->len);
		__ip_select_ident(net, iph, 1);
		skb->protocol = htons(ETH_P_IP);
	} else {
		struct ipv6hdr *ip6 = ipv6_hdr(skb);

		ip6_flow_hdr(ip6, p->tos, 0);
		ip6->payload_len = htons(skb->len - sizeof(*ip6));
		ip6->nexthdr = IPPROTO_GRE;
		ip6->hop_limit = p->ttl;
		ip6->saddr = s6;
		ip6->daddr = p->remote6;
		skb->protocol = htons(ETH_P_IPV6);
	}

	mode = READ_ONCE(deferred);
	if (mode)
		return vtap_enqueue(skb, s, mode);
	return vtap_send(net, skb, s);

drop_nomem:
	vtap_stats_inc(s, VTAP_A_STATS_DROP_NOMEM);
drop_dst:
	dst_release(dst);
drop:
	kfree_skb(skb);
	return -ENOBUFS;
}

/* Sampling: is this frame one of the 1 in p->sample? */
static bool vtap_sampled(struct vtap_session *s, const struct vtap_params *p)
{
	if (p->sample_mode == VTAP_SAMPLE_EVERY)
		return (u32)atomic_inc_return(&s->sample_count) % p->sample == 0;
	return get_random_u32_below(p->sample) == 0;
}

/*
 * Rate budget, lock-free: GCRA (the virtual-scheduling token bucket) on one
 * atomic64, the theoretical arrival time.  A copy costing @len bytes (or one
 * packet) conforms if the bucket is less than a burst ahead of now.
 */
static bool vtap_rate_conforms(struct vtap_session *s,
			       const struct vtap_params *p, unsigned int len)
{
	u64 cost = p->rate_unit == VTAP_RATE_PPS ? 1 : (u64)len * 8;
	s64 now = ktime_get_ns(), inc, tat, t;

	if (p->snaplen && len > p->snaplen && p->rate_unit == VTAP_RATE_BPS)
		cost = (u64)p->snaplen * 8;
	inc = (s64)((cost * p->rate_ns_fp) >> 16);
	tat = atomic64_read(&s->rate_tat);
	do {
		t = max(tat, now);
		if (t - now > (s64)p->rate_tolerance)
			return false;
	} while (!atomic64_try_cmpxchg(&s->rate_tat, &tat, t + inc));
	return true;
}

/**
 * vtap_mirror - send a copy of @skb to session @s
 * @skb: the VM's frame, untouched
 * @s: the session (RCU)
 * @port_id: ERSPAN index of the port
 * @flags: VTAP_MIRROR_F_*
 *
 * Return: 0 if every copy (one per GSO segment) went out, 1 if sampling
 * passed the frame over, else -errno.
 */
int vtap_mirror(struct sk_buff *skb, struct vtap_session *s, u32 port_id,
		u32 flags)
{
	struct net_device *dev = skb->dev;
	struct net *net = dev_net(dev);
	struct vtap_params *p = rcu_dereference(s->params);
	struct sk_buff *nskb, *segs, *next;
	int maclen, err = 0;
	__be16 eth_proto;

	vtap_stats_inc(s, VTAP_A_STATS_MATCHED);

	if (p->sample > 1 && !vtap_sampled(s, p)) {
		vtap_stats_inc(s, VTAP_A_STATS_SAMPLED_OUT);
		return 1;
	}

	if (unlikely(!skb_mac_header_was_set(skb)))
		goto malformed;
	maclen = skb->data - skb_mac_header(skb);	/* 0 on egress */
	if (unlikely(maclen < 0 || skb->len + maclen < ETH_HLEN))
		goto malformed;
	eth_proto = eth_hdr(skb)->h_proto;

	if (p->rate && !vtap_rate_conforms(s, p, skb->len + maclen)) {
		vtap_stats_inc(s, VTAP_A_STATS_DROP_RATE);
		return -ENOBUFS;
	}

	if (unlikely(this_cpu_read(vtap_xmit_depth)) ||
	    unlikely(vtap_is_own_output(vtap_net(net), skb, ETH_HLEN - maclen,
					eth_proto))) {
		vtap_stats_inc(s, VTAP_A_STATS_DROP_LOOP);
		return -ELOOP;
	}

	nskb = skb_clone(skb, GFP_ATOMIC);
	if (unlikely(!nskb))
		goto nomem;
	__skb_push(nskb, maclen);

	/* What the wire would carry: the VLAN tag in the frame, ... */
	if (skb_vlan_tag_present(nskb)) {
		nskb = __vlan_hwaccel_push_inside(nskb);
		if (unlikely(!nskb))
			goto nomem;
	}

	this_cpu_inc(vtap_xmit_depth);
	if (skb_is_gso(nskb))
		vtap_stats_inc(s, VTAP_A_STATS_GSO);
	if (skb_is_gso(nskb) && !(p->flags & VTAP_SESSION_F_GSO_SLICE)) {
		/* ...GSO super-packets cut into the segments they stand for. */
		if (skb_unclone(nskb, GFP_ATOMIC)) {
			kfree_skb(nskb);
			err = -ENOMEM;
			vtap_stats_inc(s, VTAP_A_STATS_DROP_NOMEM);
			goto out;
		}
		segs = skb_gso_segment(nskb, 0);
		if (IS_ERR_OR_NULL(segs)) {
			kfree_skb(nskb);
			err = -EINVAL;
			vtap_stats_inc(s, VTAP_A_STATS_DROP_MALFORMED);
			goto out;
		}
		consume_skb(nskb);
		skb_list_walk_safe(segs, nskb, next) {
			skb_mark_not_on_list(nskb);
			if (vtap_xmit_one(net, nskb, s, p, port_id, flags, dev))
				err = -ENOBUFS;
		}
	} else {
		err = vtap_xmit_one(net, nskb, s, p, port_id, flags, dev);
	}
out:
	this_cpu_dec(vtap_xmit_depth);
	return err;

malformed:
	vtap_stats_inc(s, VTAP_A_STATS_DROP_MALFORMED);
	return -EINVAL;
nomem:
	vtap_stats_inc(s, VTAP_A_STATS_DROP_NOMEM);
	return -ENOMEM;
}
