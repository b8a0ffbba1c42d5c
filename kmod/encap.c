// SPDX-License-Identifier: GPL-2.0
/*
 * The encapsulator: copy a VM's frame, wrap it in GRE-TEB, ERSPAN II/III or
 * VXLAN, route it to the session's collector over IPv4 or IPv6 and send it.
 *
 * Runs in the TC path of the VM's device (softirq, or with BHs disabled),
 * under RCU, for each session that wants the frame.  The finished copy is
 * sent inline or, with the module parameter deferred, from a bounded
 * queue drained by a tasklet: this CPU's (deferred=1) or the next online
 * CPU's (deferred=2), so that the copy's trip through the underlay's stack
 * leaves the VM's CPU.
 *
 * It never writes to anything the VM's frame shares with its copies: a copy
 * is a clone whose header is made private before anything is written to it,
 * or, when it is cut (snaplen, path MTU) or was a GSO super-packet sent
 * whole, a new linear buffer holding just the bytes it sends; a clone's
 * skb_shared_info (the frame's GSO state) is never touched.  Whatever goes
 * wrong costs the copy, never the frame.
 */

#include <linux/crc32.h>
#include <linux/cpuhotplug.h>
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/ip.h>
#include <linux/llist.h>
#include <linux/net.h>
#include <linux/sctp.h>
#include <linux/smp.h>
#include <linux/ipv6.h>
#include <linux/jhash.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <linux/xxhash.h>
#include <net/addrconf.h>
#include <net/arp.h>
#include <net/dst_cache.h>
#include <net/gre.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/ndisc.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/route.h>
#include <net/sock.h>
#include <net/udp.h>
#include <net/ip6_checksum.h>
#include <net/vxlan.h>
#include <net/xdp.h>

#include "vtap.h"
#include "vtap_bpf.h"

#define ERSPAN2_HLEN	8
#define ERSPAN3_HLEN	12
#define ERSPAN3_SUBHDR_LEN	8	/* the platform-specific sub-header */

/* Nesting guard: set while this CPU transmits a copy. */
static DEFINE_PER_CPU(u8, vtap_xmit_depth);

/*
 * IPv4 identification of the copies: every copy has DF set, an atomic
 * datagram whose ID nothing reassembles by (RFC 6864 lets it take any
 * value); a per-CPU counter keeps it varying without the shared state of
 * __ip_select_ident().
 */
static DEFINE_PER_CPU(u16, vtap_ip_id);

static int vtap_gre_hlen(const struct vtap_params *p)
{
	/* GRE base header + sequence number, + key for GRE-TEB with a key. */
	return 8 + (p->encap == VTAP_ENCAP_GRE && p->has_key ? 4 : 0);
}

static int vtap_encap_hlen(const struct vtap_params *p)
{
	int len;

	if (p->encap == VTAP_ENCAP_VXLAN)
		return sizeof(struct udphdr) + sizeof(struct vxlanhdr);
	len = vtap_gre_hlen(p);

	if (p->encap == VTAP_ENCAP_ERSPAN2)
		len += ERSPAN2_HLEN;
	else if (p->encap == VTAP_ENCAP_ERSPAN3)
		len += ERSPAN3_HLEN + (p->subhdr ? ERSPAN3_SUBHDR_LEN : 0);
	return len;
}

/*
 * Copies in flight, per namespace, as the bytes their socket is charged:
 * past this, a new copy is dropped (drop_queue), as a full deferred queue
 * drops one.  A slow or stuck underlay cannot make vtap pin unbounded
 * memory.
 */
static unsigned int max_inflight_kb = 16384;
module_param(max_inflight_kb, uint, 0644);
MODULE_PARM_DESC(max_inflight_kb, "KiB of copies a namespace may have in flight before new copies are dropped (default 16384)");

/**
 * vtap_is_own_copy - is @skb one of the copies this namespace's vtap sent?
 * @vn: the namespace's vtap state
 * @skb: a frame seen on a monitored device
 *
 * A copy belongs to the namespace's vtap socket from the moment it is
 * made: a VM cannot forge that, whatever headers it sends, and it costs
 * one comparison.  It survives the host's own paths (routing, bridging,
 * qdiscs, a veth pair) up to a socket's receive path, which orphans it.
 *
 * Return: true if the frame is vtap's own output.
 */
bool vtap_is_own_copy(const struct vtap_net *vn, const struct sk_buff *skb)
{
	const struct sock *sk = skb->sk;

	return sk && (sk == vn->sk[0] || sk == vn->sk[1]);
}

static struct sock *vtap_sock_create(struct net *net, int family)
{
	struct socket *sock;
	struct sock *sk;

	/* Never bound: it receives nothing; it only owns copies. */
	if (sock_create_kern(net, family, SOCK_DGRAM, IPPROTO_UDP, &sock))
		return NULL;
	sk = sock->sk;
	sk->sk_allocation = GFP_ATOMIC;
	/* sock_wfree() then only returns the memory: no write_space. */
	sock_set_flag(sk, SOCK_USE_WRITE_QUEUE);
	return sk;
}

/**
 * vtap_net_sock_init - the sockets that own a namespace's copies
 * @net: the namespace
 * @vn: its vtap state
 *
 * Return: 0 or -ENOMEM.
 */
int vtap_net_sock_init(struct net *net, struct vtap_net *vn)
{
	vn->sk[0] = vtap_sock_create(net, AF_INET);
	vn->sk[1] = IS_ENABLED(CONFIG_IPV6) ? vtap_sock_create(net, AF_INET6) : NULL;
	if (!vn->sk[0] || (IS_ENABLED(CONFIG_IPV6) && !vn->sk[1])) {
		vtap_net_sock_exit(vn);
		return -ENOMEM;
	}
	return 0;
}

/**
 * vtap_net_sock_exit - release them (copies in flight keep their memory)
 * @vn: the namespace's vtap state; no copy of it is queued any more
 */
void vtap_net_sock_exit(struct vtap_net *vn)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(vn->sk); i++) {
		if (vn->sk[i])
			sock_release(vn->sk[i]->sk_socket);
		vn->sk[i] = NULL;
	}
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

/*
 * Real time in the session's ERSPAN III units: the base header carries the
 * low 32 bits, the platform-specific sub-header (Platf ID 3 or 7) the upper.
 */
static u64 vtap_erspan_timestamp(u8 gra)
{
	u64 ns = ktime_get_real_ns();

	return gra == VTAP_GRA_100NS ? div_u64(ns, 100)
				     : div_u64(ns, 100 * NSEC_PER_USEC);
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
			u64 ts = vtap_erspan_timestamp(p->gra);

			if (p->subhdr) {
				/*
				 * Platf ID 3: the port index in 14 bits (the
				 * port id's low bits); 7: the source index in
				 * 20, the whole port id.  Both: the upper 32
				 * bits of the timestamp.
				 */
				u32 idx = p->subhdr == 3 ? port_id & 0x3fff :
					  port_id & VTAP_PORT_ID_MAX;

				h = skb_push(skb, ERSPAN3_SUBHDR_LEN);
				h[0] = htonl((u32)p->subhdr << 26 | idx);
				h[1] = htonl(upper_32_bits(ts));
			}
			h = skb_push(skb, ERSPAN3_HLEN);
			/* BSO 00: the frame is good; it travels in the BSO field. */
			h[0] = htonl(2U << 28 | (u32)vlan << 16 | (u32)cos << 13 |
				     (u32)truncated << 10 | s->id);
			h[1] = htonl(lower_32_bits(ts));
			/* SGT 0, P 1 and FT 0 (an Ethernet frame), HwID, D, Gra, O */
			h[2] = htonl(1U << 15 | (u32)p->hwid << 4 | dir << 3 |
				     (u32)p->gra << 1 | (p->subhdr ? 1U : 0U));
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
	fl4.saddr = p->has_local ? p->local4 : 0;	/* must be the host's */
	if (p->encap == VTAP_ENCAP_VXLAN) {
		fl4.flowi4_proto = IPPROTO_UDP;
		fl4.fl4_dport = htons(p->dport);
	} else {
		fl4.flowi4_proto = IPPROTO_GRE;
	}
	fl4.flowi4_tos = RT_TOS(p->tos);
	/* With flowi4_proto set, this is also the IPsec (xfrm) lookup. */
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
	if (p->has_local) {
		/* As ip6 tunnels: never send from an address the host lacks. */
		if (!ipv6_chk_addr(net, &p->local6, NULL, 0))
			return NULL;
		fl6.saddr = p->local6;
	}
	if (p->encap == VTAP_ENCAP_VXLAN) {
		fl6.flowi6_proto = IPPROTO_UDP;
		fl6.fl6_dport = htons(p->dport);
	} else {
		fl6.flowi6_proto = IPPROTO_GRE;
	}
	/* The route, then the IPsec (xfrm) bundle that covers the copies. */
	dst = ip6_dst_lookup_flow(net, NULL, &fl6, NULL);
	if (IS_ERR(dst))
		return NULL;
	*saddr = fl6.saddr;
	dst_cache_set_ip6(&p->dst_cache, dst, &fl6.saddr);
	return dst;
}

/*
 * Is the next hop's link-layer address known?  A copy is never parked in
 * the neighbour's queue, where it would wait with the host's own packets,
 * be counted as sent and die if resolution fails: resolution is started,
 * the copy is dropped (drop_xmit), and copies flow again once the
 * neighbour is valid.  An IPsec bundle's next hop is resolved by its own
 * output, after encryption.
 */
static bool vtap_neigh_ready(struct dst_entry *dst, const struct vtap_params *p)
{
	struct net_device *dev = dst->dev;
	struct neighbour *n;

	if (dst_xfrm(dst))
		return true;
	if (p->family == AF_INET) {
		const struct rtable *rt = (const struct rtable *)dst;

		if (rt->rt_gw_family == AF_INET6)
			n = ip_neigh_gw6(dev, &rt->rt_gw6);
		else
			n = ip_neigh_gw4(dev, rt->rt_gw_family == AF_INET ?
					 rt->rt_gw4 : p->remote4);
	} else {
		n = ip_neigh_gw6(dev, rt6_nexthop((struct rt6_info *)dst,
						  &p->remote6));
	}
	if (IS_ERR_OR_NULL(n))
		return false;
	if (READ_ONCE(n->nud_state) & NUD_VALID)
		return true;
	neigh_event_send(n, NULL);
	return false;
}

/*
 * Transmit: inline, in the VM's TC path, or deferred to a bounded queue
 * drained by a tasklet, on this CPU (deferred=1) or on the next online CPU
 * (deferred=2).  Each CPU has one inbox, a lock-free llist that any CPU
 * adds to; only the owning CPU's tasklet takes from it (a tasklet never
 * runs twice at once, wherever it runs).  A producer that finds the inbox
 * empty kicks the owner: tasklet_schedule() on its own CPU, else an
 * asynchronous IPI (its own call_single_data: one producer per csd, and
 * it is only reused once the owner has taken the callback, which happens
 * before the owner's tasklet can empty the inbox again) whose callback
 * schedules the tasklet there.  If the IPI cannot be sent (the csd is still
 * in flight, or the target went offline), the producer schedules the
 * owner's tasklet on its own CPU: the copies go out from there, never
 * stranded.  A CPU that dies with copies in its inbox has them drained by
 * the CPU that takes it down (vtap_cpu_dead()).
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
static enum cpuhp_state vtap_cpuhp_state;

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

/* A copy left a deferred queue: the last one lets its namespace go. */
static void vtap_unqueued(struct net *net)
{
	struct vtap_net *vn = vtap_net(net);

	if (atomic_dec_and_test(&vn->queued))
		wake_up_var(&vn->queued);
}

/* Called with BHs disabled. */
static int vtap_enqueue(struct net *net, struct sk_buff *skb,
			struct vtap_session *s, unsigned int mode)
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
	atomic_inc(&vtap_net(net)->queued);
	VTAP_SKB_CB(skb)->s = s;
	if (llist_add(&skb->ll_node, &vq->inbox)) {
		if (target == cpu ||
		    smp_call_function_single_async(target,
						   &this_cpu_ptr(&vtap_queues)->kick))
			tasklet_schedule(&vq->tasklet);
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
		struct net *net;

		if (!vq->pending)
			vq->pending = llist_reverse_order(llist_del_all(&vq->inbox));
		if (!vq->pending)
			break;
		skb = llist_entry(vq->pending, struct sk_buff, ll_node);
		vq->pending = vq->pending->next;
		skb->next = NULL;
		atomic_dec(&vq->len);
		s = VTAP_SKB_CB(skb)->s;
		/* Alive: its pernet exit waits for this copy (vn->queued). */
		net = sock_net(skb->sk);
		vtap_send(net, skb, s);
		vtap_session_put(s);
		vtap_unqueued(net);
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
		struct net *net = sock_net(skb->sk);

		n = n->next;
		skb->next = NULL;
		kfree_skb(skb);
		vtap_session_put(s);
		vtap_unqueued(net);
	}
}

/*
 * A CPU went offline: if its inbox holds copies whose kick was lost, drain
 * them here (its tasklet, if scheduled, moves here by itself).
 */
static int vtap_cpu_dead(unsigned int cpu)
{
	struct vtap_queue *vq = per_cpu_ptr(&vtap_queues, cpu);

	if (READ_ONCE(vq->pending) || !llist_empty(&vq->inbox)) {
		local_bh_disable();
		tasklet_schedule(&vq->tasklet);
		local_bh_enable();
	}
	return 0;
}

int __init vtap_encap_init(void)
{
	int cpu, err;

	BUILD_BUG_ON(sizeof(struct vtap_skb_cb) > sizeof_field(struct sk_buff, cb));
	for_each_possible_cpu(cpu) {
		struct vtap_queue *vq = per_cpu_ptr(&vtap_queues, cpu);

		init_llist_head(&vq->inbox);
		atomic_set(&vq->len, 0);
		vq->pending = NULL;
		INIT_CSD(&vq->kick, vtap_queue_kick, NULL);
		tasklet_setup(&vq->tasklet, vtap_queue_drain);
	}
	err = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "net/vtap:dead",
					NULL, vtap_cpu_dead);
	if (err < 0)
		return err;
	vtap_cpuhp_state = err;
	return 0;
}

/* Called once no program can call the kfunc any more. */
void vtap_encap_exit(void)
{
	int cpu;

	cpuhp_remove_state_nocalls(vtap_cpuhp_state);
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

/* What one frame's copies for one session have in common. */
struct vtap_xmit {
	struct net *net;
	struct vtap_net *vn;
	struct vtap_session *s;
	struct vtap_params *p;
	struct dst_entry *dst;		/* held; each copy takes its own */
	union {
		__be32 s4;
		struct in6_addr s6;
	};
	u32 port_id;
	u32 flags;
	__be16 sport;			/* VXLAN: UDP source port of the copies */
	unsigned int max_inner;		/* bytes of a frame that fit the path */
	unsigned int headroom;		/* outer headers and the link layer */
	int iphlen;
};

/*
 * VXLAN (RFC 7348): the UDP and VXLAN headers in front of the copy.  The
 * UDP checksum is zero over IPv4 and computed over IPv6 (vtap_xmit_one()),
 * as the kernel's vxlan device does by default (RFC 6935 and 6936 allow a
 * zero checksum over IPv6 only where both ends agree).  VXLAN carries no
 * sequence number and no truncation bit.
 */
static void vtap_push_vxlan(struct sk_buff *skb, const struct vtap_xmit *x)
{
	const struct vtap_params *p = x->p;
	struct vxlanhdr *vxh;
	struct udphdr *uh;

	vxh = skb_push(skb, sizeof(*vxh));
	vxh->vx_flags = VXLAN_HF_VNI;
	vxh->vx_vni = vxlan_vni_field(cpu_to_be32(p->has_vni ? p->vni : x->s->id));
	uh = skb_push(skb, sizeof(*uh));
	skb_reset_transport_header(skb);
	uh->source = x->sport;
	uh->dest = htons(p->dport);
	uh->len = htons(skb->len);
	uh->check = 0;
}

/*
 * A symmetric hash of the frame's flow: the addresses and, for TCP, UDP,
 * SCTP and UDP-Lite, the ports, each pair in one order whichever way the
 * frame goes.  The common shapes (IPv4 that is not a later fragment, IPv6
 * whose next header is the transport) are read here, in a few dozen
 * instructions; anything else (an in-band VLAN tag, extension headers,
 * other protocols) goes through the flow dissector, as
 * __skb_get_hash_symmetric().  Either way nothing of the VM's skb is
 * written (skb_get_hash() would store its hash there).
 */
static u32 vtap_flow_hash_symmetric(const struct sk_buff *skb)
{
	static u32 seed __read_mostly;
	int off = skb_network_offset(skb);
	u32 a, b, ports = 0;
	__be16 p[2], *pp;
	u8 proto;

	net_get_random_once(&seed, sizeof(seed));
	if (skb->protocol == htons(ETH_P_IP)) {
		const struct iphdr *iph;
		struct iphdr _iph;

		iph = skb_header_pointer(skb, off, sizeof(_iph), &_iph);
		if (!iph || iph->ihl < 5)
			goto dissect;
		a = (__force u32)iph->saddr;
		b = (__force u32)iph->daddr;
		proto = iph->protocol;
		if (iph->frag_off & htons(IP_OFFSET))
			proto = 0;	/* no ports in a later fragment */
		off += iph->ihl * 4;
	} else if (skb->protocol == htons(ETH_P_IPV6)) {
		const struct ipv6hdr *ip6;
		struct ipv6hdr _ip6;

		ip6 = skb_header_pointer(skb, off, sizeof(_ip6), &_ip6);
		if (!ip6)
			goto dissect;
		proto = ip6->nexthdr;
		if (proto != IPPROTO_TCP && proto != IPPROTO_UDP &&
		    proto != IPPROTO_SCTP && proto != IPPROTO_UDPLITE &&
		    proto != IPPROTO_ICMPV6)
			goto dissect;
		a = __ipv6_addr_jhash(&ip6->saddr, seed);
		b = __ipv6_addr_jhash(&ip6->daddr, seed);
		off += sizeof(*ip6);
	} else {
		goto dissect;
	}
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	    proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE) {
		pp = skb_header_pointer(skb, off, sizeof(p), p);
		if (pp)
			ports = (__force u32)pp[0] << 16 | (__force u32)pp[1];
	}
	if (a > b || (a == b && (ports >> 16) > (ports & 0xffff))) {
		swap(a, b);
		ports = ports >> 16 | ports << 16;
	}
	return jhash_3words(a, b, ports ^ proto, seed);

dissect:
	return __skb_get_hash_symmetric(skb);
}

/*
 * VXLAN's UDP source port, once per frame: as the kernel's vxlan device
 * picks it (udp_flow_src_port()), a hash of the inner flow scaled into the
 * namespace's local port range, so that ECMP and the collector's RSS spread
 * the flows and keep each one in order.  The hash is symmetric: both
 * directions of a conversation travel as one UDP flow.
 */
static __be16 vtap_vxlan_sport(struct net *net, const struct sk_buff *skb)
{
	u32 hash = vtap_flow_hash_symmetric(skb);
	int min, max;

	inet_get_local_port_range(net, &min, &max);
	hash ^= hash << 16;
	return htons((((u64)hash * (max - min)) >> 32) + min);
}

/*
 * A private linear copy of the first @len bytes of @skb (data at its
 * Ethernet header), with @headroom to spare: what a cut copy, or a GSO
 * super-packet sent whole, is built from.  Reads @skb, writes nothing of it.
 */
static struct sk_buff *vtap_copy_head(const struct sk_buff *skb,
				      unsigned int len, unsigned int headroom)
{
	struct sk_buff *n = alloc_skb(headroom + len, GFP_ATOMIC);

	if (!n)
		return NULL;
	skb_reserve(n, headroom);
	if (skb_copy_bits(skb, 0, skb_put(n, len), len)) {
		kfree_skb(n);
		return NULL;
	}
	return n;
}

/*
 * A small frame is copied rather than cloned: a clone would need a private
 * head for the outer headers anyway (an allocation and a copy of the same
 * bytes), and cloning writes the frame's shared info (its data reference
 * count) twice.  The copy keeps what the rest of the path reads: headers'
 * offsets, the VLAN tag held outside the frame, the checksum left to the
 * device.  The kfunc runs with BHs off: the per-CPU caches of
 * napi_alloc_frag() and napi_build_skb() are this context's.
 *
 * A larger frame is copied too when it is linear, the copy fits in a page
 * and the session does not slice it: skb_cow_head() on its clone would copy
 * all of its bytes as well, into a second allocation (a tap's frames are
 * linear, as tun_build_skb() makes them, and so are most sends through a
 * veth).  A frame with page fragments is cloned (only its head is copied
 * then), and so is one that snaplen cuts (only what is sent is copied).
 */
#define VTAP_COPY_SMALL 256

static bool vtap_copy_whole(const struct sk_buff *skb, int maclen,
			    const struct vtap_params *p, unsigned int headroom)
{
	unsigned int len = skb->len + maclen;

	if (skb_is_gso(skb))
		return false;
	if (len <= VTAP_COPY_SMALL)
		return true;
	return !skb->data_len && (!p->snaplen || p->snaplen >= len) &&
	       SKB_DATA_ALIGN(headroom + VLAN_HLEN + len) +
	       SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) <= PAGE_SIZE;
}

/* Room for the outer headers in front of an XDP frame's copy. */
#define VTAP_XDP_HEADROOM	(NET_SKB_PAD + 128)

static struct sk_buff *vtap_copy_small(const struct sk_buff *skb, int maclen,
				       unsigned int headroom)
{
	unsigned int size = SKB_DATA_ALIGN(headroom + VLAN_HLEN + maclen + skb->len) +
			    SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	struct sk_buff *n;
	void *data;
	int off;

	/*
	 * From this CPU's page fragment cache (BHs are off), as drivers'
	 * receive buffers: no kmalloc, whose memory init_on_alloc would
	 * clear on every copy.
	 */
	data = napi_alloc_frag(size);
	if (!data)
		return NULL;
	n = napi_build_skb(data, size);
	if (!n) {
		skb_free_frag(data);
		return NULL;
	}
	skb_reserve(n, headroom + VLAN_HLEN);
	memcpy(skb_put(n, maclen), skb_mac_header(skb), maclen);
	if (skb_copy_bits(skb, 0, skb_put(n, skb->len), skb->len)) {
		kfree_skb(n);
		return NULL;
	}
	n->protocol = skb->protocol;
	skb_reset_mac_header(n);
	off = maclen + skb_network_offset(skb);
	skb_set_network_header(n, off >= 0 && off <= (int)n->len ? off : maclen);
	off = maclen + skb_transport_offset(skb);
	if (skb_transport_header_was_set(skb) && off >= 0 && off <= (int)n->len)
		skb_set_transport_header(n, off);
	__vlan_hwaccel_copy_tag(n, skb);
	if (skb->ip_summed == CHECKSUM_PARTIAL) {
		n->ip_summed = CHECKSUM_PARTIAL;
		n->csum_start = skb_headroom(n) + maclen +
				skb_checksum_start_offset(skb);
		n->csum_offset = skb->csum_offset;
		n->csum_not_inet = skb->csum_not_inet;
	}
	return n;
}

/*
 * The checksum the VM's stack left to the device (CHECKSUM_PARTIAL), as
 * the wire carries it: computed over @src from its checksum start to its
 * end, written into @dst (the frame itself, or its whole copy: their bytes
 * are at the same offsets) when the field is inside @dst.  An Internet
 * checksum, or SCTP's CRC32c (csum_not_inet).  Never a warning: a start or
 * field outside the frame is left as it is.
 */
static int vtap_csum_complete(struct sk_buff *dst, const struct sk_buff *src)
{
	int start = skb_checksum_start_offset(src);
	int size = src->csum_not_inet ? sizeof(__le32) : sizeof(__sum16);
	int field = start + src->csum_offset;

	if (start < 0 || start >= src->len || field + size > dst->len)
		return 0;
	if (skb_ensure_writable(dst, field + size))
		return -ENOMEM;
	if (src->csum_not_inet) {
		__wsum c = __skb_checksum(src, start, src->len - start,
					  (__force __wsum)~0U, crc32c_csum_stub);
		__le32 crc = cpu_to_le32(~(__force u32)c);

		memcpy(dst->data + field, &crc, sizeof(crc));
	} else {
		__wsum csum = skb_checksum(src, start, src->len - start, 0);

		*(__sum16 *)(dst->data + field) = csum_fold(csum) ?: CSUM_MANGLED_0;
	}
	return 0;
}

/*
 * Can a whole copy's checksum be left to the device (CHECKSUM_PARTIAL kept),
 * as it was for the VM's frame?  Not when the session masks bytes (the
 * checksum is the frame's, over what the VM sent), nor for SCTP's CRC32c,
 * nor when the field is outside the linear head, where the kernel's
 * skb_checksum_help() refuses it with a warning.
 */
static bool vtap_csum_offload(const struct sk_buff *skb,
			      const struct vtap_params *p)
{
	int field = skb_checksum_start_offset(skb) + skb->csum_offset;

	return !p->mask_len && !skb->csum_not_inet &&
	       skb_checksum_start_offset(skb) >= 0 &&
	       field + (int)sizeof(__sum16) <= (int)skb_headlen(skb);
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
 * Rate budget, lock-free: GCRA (the virtual-scheduling token bucket) on one
 * atomic64, the theoretical arrival time.  vtap_rate_room(): is there any
 * credit now (a frame whose copies would all be refused is not copied at
 * all); vtap_rate_conforms(): charge one copy of @len bytes (its bits, or
 * one packet), if it conforms.
 */
static bool vtap_rate_room(struct vtap_session *s, const struct vtap_params *p)
{
	return atomic64_read(&s->rate_tat) - (s64)ktime_get_ns() <=
	       (s64)p->rate_tolerance;
}

static bool vtap_rate_conforms(struct vtap_session *s,
			       const struct vtap_params *p, unsigned int len)
{
	u64 cost = p->rate_unit == VTAP_RATE_PPS ? 1 : (u64)len * 8;
	s64 now = ktime_get_ns(), inc, tat, t;

	inc = (s64)((cost * p->rate_ns_fp) >> 16);
	tat = atomic64_read(&s->rate_tat);
	do {
		t = max(tat, now);
		if (t - now > (s64)p->rate_tolerance)
			return false;
	} while (!atomic64_try_cmpxchg(&s->rate_tat, &tat, t + inc));
	return true;
}

/*
 * Cut, checksum, charge, mask, encapsulate and send one copy: @skb is a
 * clone of the VM's frame, or a GSO segment of it (private), data at the
 * Ethernet header.  Consumes @skb.
 */
static int vtap_xmit_one(struct vtap_xmit *x, struct sk_buff *skb)
{
	struct vtap_session *s = x->s;
	struct vtap_params *p = x->p;
	unsigned int len = skb->len, cut = len;
	bool truncated, offload = false;
	unsigned int mode;

	if (p->snaplen && cut > p->snaplen) {
		cut = p->snaplen;
		vtap_stats_inc(s, VTAP_A_STATS_SLICED);
	}
	if (cut > x->max_inner) {
		cut = x->max_inner;
		vtap_stats_inc(s, VTAP_A_STATS_TRUNCATED);
	}
	truncated = cut < len;

	/* What is sent is what is charged: this copy, as cut. */
	if (p->rate && !vtap_rate_conforms(s, p, cut)) {
		vtap_stats_inc(s, VTAP_A_STATS_DROP_RATE);
		goto drop;
	}

	/*
	 * A copy that is cut carries its L4 checksum as the VM's stack left
	 * it: nothing can verify it without the bytes cut away, and it is not
	 * computed (for a frame whose checksum was left to the NIC, the field
	 * holds the pseudo-header sum).
	 */
	if (truncated && !skb_cloned(skb) && !skb_is_gso(skb)) {
		/*
		 * vtap's own segment (or a frame whose head the VLAN push made
		 * private): its head and frag array are its own, the pages it
		 * shares are only read.  Trimmed where it is.
		 */
		if (pskb_trim(skb, cut))
			goto drop_nomem;
	} else if (truncated || skb_is_gso(skb)) {
		/*
		 * Just the bytes sent, in a buffer of their own: a cut clone
		 * would still share the VM's data and skb_shared_info, and a
		 * GSO super-packet sent whole must stop being GSO without its
		 * frame's state changing.
		 */
		struct sk_buff *n = vtap_copy_head(skb, cut, x->headroom);

		if (!n)
			goto drop_nomem;
		if (skb->ip_summed == CHECKSUM_PARTIAL && !truncated &&
		    vtap_csum_complete(n, skb)) {
			kfree_skb(n);
			goto drop_nomem;
		}
		consume_skb(skb);
		skb = n;
	} else if (skb->ip_summed == CHECKSUM_PARTIAL) {
		offload = vtap_csum_offload(skb, p);
		if (!offload && vtap_csum_complete(skb, skb))
			goto drop_nomem;
	}
	if (vtap_mask(skb, p) || skb_cow_head(skb, x->headroom))
		goto drop_nomem;

	skb_scrub_packet(skb, true);
	/* Sent by vtap, not received: no input device (nor a stale one). */
	skb->dev = NULL;
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
	/*
	 * Untracked, as if a "notrack" rule had matched: a copy belongs to no
	 * connection, and tracking it would make every copy of every session
	 * to a collector look up, and share, one GRE entry.  The netfilter
	 * hooks still see it: a firewall's rules on OUTPUT and POSTROUTING
	 * apply to copies as to anything the host sends.
	 */
	nf_ct_set(skb, NULL, IP_CT_UNTRACKED);
#endif
	skb_reset_inner_headers(skb);
	if (offload) {
		/*
		 * As the kernel's tunnels (iptunnel_handle_offloads()): the
		 * inner checksum is left to the underlay device if its
		 * hw_enc_features can do it, else validate_xmit_skb()
		 * completes it; csum_start is head-relative and follows the
		 * data through skb_cow_head() and the pushes below.  The
		 * inner protocol tells a NIC what the tunnel carries, as
		 * gretap and vxlan devices set it.
		 */
		skb->encapsulation = 1;
		skb_set_inner_protocol(skb, htons(ETH_P_TEB));
	} else {
		skb->ip_summed = CHECKSUM_NONE;
		skb->encapsulation = 0;
	}
	skb_set_owner_w(skb, x->vn->sk[p->family == AF_INET6]);
	if (p->encap == VTAP_ENCAP_VXLAN)
		vtap_push_vxlan(skb, x);
	else
		vtap_push_encap(skb, s, p, x->port_id, x->flags, truncated);

	skb_push(skb, x->iphlen);
	skb_reset_network_header(skb);
	mode = READ_ONCE(deferred);
	/*
	 * Sent inline, the copy uses the frame's reference to the route
	 * (held until vtap_mirror() returns, under RCU): anything that keeps
	 * it longer takes its own (skb_dst_force() at a qdisc, nf_queue).  A
	 * queued copy holds one.
	 */
	if (mode)
		skb_dst_set(skb, dst_clone(x->dst));
	else
		skb_dst_set_noref(skb, x->dst);
	if (p->family == AF_INET) {
		struct iphdr *iph = ip_hdr(skb);

		iph->version = 4;
		iph->ihl = sizeof(*iph) >> 2;
		iph->tos = p->tos;
		iph->frag_off = htons(IP_DF);
		iph->ttl = p->ttl;
		iph->protocol = p->encap == VTAP_ENCAP_VXLAN ? IPPROTO_UDP
							     : IPPROTO_GRE;
		iph->saddr = x->s4;
		iph->daddr = p->remote4;
		iph->tot_len = htons(skb->len);
		iph->id = htons(this_cpu_inc_return(vtap_ip_id));
		skb->protocol = htons(ETH_P_IP);
	} else {
		struct ipv6hdr *ip6 = ipv6_hdr(skb);

		ip6_flow_hdr(ip6, p->tos, 0);
		ip6->payload_len = htons(skb->len - sizeof(*ip6));
		ip6->nexthdr = p->encap == VTAP_ENCAP_VXLAN ? IPPROTO_UDP
							    : IPPROTO_GRE;
		ip6->hop_limit = p->ttl;
		ip6->saddr = x->s6;
		ip6->daddr = p->remote6;
		skb->protocol = htons(ETH_P_IPV6);
		/*
		 * As udp_tunnel6_xmit_skb(): with the inner checksum left to
		 * the device, the outer one is computed now (local checksum
		 * offload); else it is left to the device, or to
		 * validate_xmit_skb() for one that cannot.
		 */
		if (p->encap == VTAP_ENCAP_VXLAN)
			udp6_set_csum(false, skb, &ip6->saddr, &ip6->daddr,
				      skb->len - sizeof(*ip6));
	}

	if (mode)
		return vtap_enqueue(x->net, skb, s, mode);
	return vtap_send(x->net, skb, s);

drop_nomem:
	vtap_stats_inc(s, VTAP_A_STATS_DROP_NOMEM);
drop:
	kfree_skb(skb);
	return -ENOBUFS;
}

/*
 * vtap's own TCP segmentation, for the shape almost every TCP super-packet
 * has: Ethernet, up to two VLAN tags, IPv4 or IPv6 (no extension header),
 * TCP, the headers in the linear head, the payload in page fragments (and
 * maybe the head), no frag_list, no zero-copy pages, not encapsulated.
 * Each segment is built as skb_gso_segment() with SG and HW_CSUM would
 * build it, byte for byte (tcp_gso_segment(), inet_gso_segment(),
 * ipv6_gso_segment()): the same headers, IPv4 ids and checksum, TCP
 * sequence, flags and pseudo-header checksum, with CHECKSUM_PARTIAL.  What
 * differs is where it lives: a head from this CPU's page-fragment cache
 * holding the headers, with the outer headers' room in front, instead of
 * a kmalloc'ed head sized by the VM's headroom (which init_on_alloc
 * clears, and which was the larger part of segmenting); the payload is the
 * frame's pages, referenced, never written.  Each segment goes out at once
 * (vtap_xmit_one()), so one lives at a time.
 *
 * Return: -EOPNOTSUPP for any other shape (the caller falls back to
 * skb_gso_segment()), else 0 or -ENOBUFS as vtap_xmit_one().
 */
static int vtap_segment_tcp(struct vtap_xmit *x, const struct sk_buff *skb)
{
	const struct skb_shared_info *si = skb_shinfo(skb);
	unsigned int gso_type = si->gso_type, mss = si->gso_size;
	unsigned int headlen = skb_headlen(skb), nhoff = ETH_HLEN;
	unsigned int thoff, thlen, hlen, payload, lin, off, seglen, i;
	unsigned int fi = 0, foff = 0;
	__sum16 check0, newcheck;
	const struct tcphdr *th;
	u32 oldlen, seq0;
	bool v4, fixedid;
	__be16 proto;
	int err = 0;
	u16 id0 = 0;

	if (gso_type & ~(SKB_GSO_TCPV4 | SKB_GSO_TCPV6 | SKB_GSO_DODGY |
			 SKB_GSO_TCP_ECN | SKB_GSO_TCP_FIXEDID))
		return -EOPNOTSUPP;
	if (!mss || skb_has_frag_list(skb) || (si->flags & SKBFL_ZEROCOPY_ENABLE) ||
	    skb->encapsulation || headlen < ETH_HLEN)
		return -EOPNOTSUPP;
	proto = *(const __be16 *)(skb->data + 12);
	for (i = 0; i < 2 && eth_type_vlan(proto); i++) {
		if (headlen < nhoff + VLAN_HLEN)
			return -EOPNOTSUPP;
		proto = *(const __be16 *)(skb->data + nhoff + 2);
		nhoff += VLAN_HLEN;
	}
	v4 = proto == htons(ETH_P_IP);
	fixedid = gso_type & SKB_GSO_TCP_FIXEDID;
	if (v4 && (gso_type & SKB_GSO_TCPV4)) {
		const struct iphdr *iph = (const void *)(skb->data + nhoff);

		if (headlen < nhoff + sizeof(*iph) || iph->version != 4 ||
		    iph->ihl < 5 || iph->protocol != IPPROTO_TCP ||
		    (fixedid && !(iph->frag_off & htons(IP_DF))))
			return -EOPNOTSUPP;
		thoff = nhoff + iph->ihl * 4;
		id0 = ntohs(iph->id);
	} else if (proto == htons(ETH_P_IPV6) && (gso_type & SKB_GSO_TCPV6)) {
		const struct ipv6hdr *ip6 = (const void *)(skb->data + nhoff);

		if (headlen < nhoff + sizeof(*ip6) || ip6->version != 6 ||
		    ip6->nexthdr != IPPROTO_TCP)
			return -EOPNOTSUPP;
		thoff = nhoff + sizeof(*ip6);
	} else {
		return -EOPNOTSUPP;
	}
	if (headlen < thoff + sizeof(*th) ||
	    skb_checksum_start_offset(skb) != (int)thoff)
		return -EOPNOTSUPP;
	th = (const void *)(skb->data + thoff);
	thlen = th->doff * 4;
	hlen = thoff + thlen;
	if (thlen < sizeof(*th) || headlen < hlen || skb->len <= hlen + mss)
		return -EOPNOTSUPP;

	payload = skb->len - hlen;
	lin = headlen - hlen;		/* payload bytes in the head */
	oldlen = ~(skb->len - thoff);
	seq0 = ntohl(th->seq);
	check0 = th->check;
	newcheck = ~csum_fold(csum_add(csum_unfold(check0),
				       (__force __wsum)htonl(oldlen + thlen + mss)));

	for (i = 0, off = 0; off < payload; i++, off += seglen) {
		unsigned int copy, rem, size, nfr = 0;
		struct sk_buff *n;
		struct tcphdr *nth;
		void *data;

		seglen = min(mss, payload - off);
		copy = off < lin ? min(seglen, lin - off) : 0;
		size = SKB_DATA_ALIGN(x->headroom + hlen + copy) +
		       SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
		data = napi_alloc_frag(size);
		n = data ? napi_build_skb(data, size) : NULL;
		if (!n) {
			if (data)
				skb_free_frag(data);
			vtap_stats_inc(x->s, VTAP_A_STATS_DROP_NOMEM);
			err = -ENOBUFS;
			/* Skip this segment's pages. */
			for (rem = seglen - copy; rem; ) {
				unsigned int take = min(rem, skb_frag_size(&si->frags[fi]) - foff);

				rem -= take;
				foff += take;
				if (foff == skb_frag_size(&si->frags[fi])) {
					fi++;
					foff = 0;
				}
			}
			continue;
		}
		skb_reserve(n, x->headroom);
		memcpy(skb_put(n, hlen), skb->data, hlen);
		if (copy)
			memcpy(skb_put(n, copy), skb->data + hlen + off, copy);
		for (rem = seglen - copy; rem; nfr++) {
			const skb_frag_t *f = &si->frags[fi];
			unsigned int take = min(rem, skb_frag_size(f) - foff);

			__skb_fill_page_desc(n, nfr, skb_frag_page(f),
					     skb_frag_off(f) + foff, take);
			__skb_frag_ref(&skb_shinfo(n)->frags[nfr]);
			rem -= take;
			foff += take;
			if (foff == skb_frag_size(f)) {
				fi++;
				foff = 0;
			}
		}
		skb_shinfo(n)->nr_frags = nfr;
		skb_shinfo(n)->flags |= si->flags & SKBFL_SHARED_FRAG;
		n->data_len = seglen - copy;
		n->len += n->data_len;
		n->truesize += n->data_len;

		n->protocol = skb->protocol;
		skb_reset_mac_header(n);
		skb_set_network_header(n, nhoff);
		skb_set_transport_header(n, thoff);
		skb_reset_mac_len(n);
		if (v4) {
			struct iphdr *iph = ip_hdr(n);

			if (!fixedid)
				iph->id = htons(id0 + i);
			iph->tot_len = htons(n->len - nhoff);
			ip_send_check(iph);
		} else {
			ipv6_hdr(n)->payload_len =
				htons(n->len - nhoff - sizeof(struct ipv6hdr));
		}
		nth = tcp_hdr(n);
		nth->seq = htonl(seq0 + off);
		if (i)
			nth->cwr = 0;
		if (off + seglen < payload) {
			nth->fin = 0;
			nth->psh = 0;
			nth->check = newcheck;
		} else {
			nth->check = ~csum_fold(csum_add(csum_unfold(check0),
					(__force __wsum)htonl(oldlen + thlen + seglen)));
		}
		n->ip_summed = CHECKSUM_PARTIAL;
		n->csum_start = skb_headroom(n) + thoff;
		n->csum_offset = offsetof(struct tcphdr, check);
		if (vtap_xmit_one(x, n))
			err = -ENOBUFS;
	}
	return err;
}

/* Sampling: is this frame one of the 1 in p->sample? */
static bool vtap_sampled(struct vtap_session *s, const struct vtap_params *p)
{
	if (p->sample_mode == VTAP_SAMPLE_EVERY)
		return (u32)atomic_inc_return(&s->sample_count) % p->sample == 0;
	return get_random_u32_below(p->sample) == 0;
}

/*
 * Route, path MTU, neighbour and the namespace's budget of copies in
 * flight, once per frame: 0, or the counter that says why no copy can go.
 */
static int vtap_xmit_prepare(struct vtap_xmit *x, const struct net_device *dev)
{
	struct vtap_params *p = x->p;
	int ehlen = vtap_encap_hlen(p), mtu;

	x->iphlen = p->family == AF_INET ? sizeof(struct iphdr)
					 : sizeof(struct ipv6hdr);
	x->dst = p->family == AF_INET ? vtap_route4(x->net, p, &x->s4)
				      : vtap_route6(x->net, p, &x->s6);
	if (!x->dst)
		return VTAP_A_STATS_DROP_NOROUTE;
	/* The collector is reached through the monitored device itself. */
	if (x->dst->dev == dev)
		return VTAP_A_STATS_DROP_LOOP;
	/* Never fragment a copy: cut it to the path MTU instead. */
	mtu = (int)dst_mtu(x->dst) - x->iphlen - ehlen;
	if (mtu < ETH_HLEN || !vtap_neigh_ready(x->dst, p))
		return VTAP_A_STATS_DROP_XMIT;
	if ((unsigned int)refcount_read(&x->vn->sk[p->family == AF_INET6]->sk_wmem_alloc) >
	    READ_ONCE(max_inflight_kb) << 10)
		return VTAP_A_STATS_DROP_QUEUE;
	x->max_inner = mtu;
	x->headroom = LL_RESERVED_SPACE(x->dst->dev) + x->iphlen + ehlen;
	return 0;
}

/*
 * Dedup.  When both ends of a conversation are ports of one session, each
 * frame meets it twice: as an out copy at the sender's port (its ingress)
 * and as an in copy at the receiver's (its egress).  A session with a
 * dedup window records each out copy it sent (every copy of the frame
 * handed to the underlay, or queued for it) as a hash of the frame and
 * the time, and passes over an in copy whose hash it recorded within the
 * window (VTAP_A_STATS_DEDUP).  So the out copy is the one that survives,
 * and what was not sent is never what suppresses: an out copy dropped
 * (rate budget, no memory, no route) is not recorded, and its in copy
 * goes.  A retransmission with the same bytes passes its sender's port
 * first, where its own out copy is sent and recorded.
 *
 * The identity of a frame is xxh64, seeded per session, over the frame as
 * the wire carries it (the Ethernet addresses, a VLAN tag the device took
 * out of the frame, then the rest, linear part and fragments alike;
 * xxh64's digest mixes in the length), as the kfunc receives it: before
 * GSO segmentation, slicing or masking, the same bytes at both ports.  A
 * frame whose bytes change between the ports (a bridge that adds or
 * removes a VLAN tag) is not recognised, and both copies go.
 *
 * The table is a fixed array indexed by the hash's low bits; a newer
 * record replaces an older one (a duplicate may then be sent; a frame is
 * never passed over because of another's record, short of a 64-bit hash
 * collision).  No lock: the writer stores the hash, then the time, the
 * reader loads the time, then the hash (paired barriers), so it sees a
 * record's own time, an older one, or, with two writers at once, the time
 * of another copy sent at that moment: never a recent time with a hash
 * that was not being sent.
 */
static void vtap_hash_range(struct xxh64_state *st, struct sk_buff *skb,
			    unsigned int maclen, unsigned int from,
			    unsigned int to)
{
	struct skb_seq_state seq;
	unsigned int consumed = 0, len;
	const u8 *data;

	/* Bytes [from, to) of the frame: the MAC header, then skb->data on. */
	if (from < maclen) {
		xxh64_update(st, skb_mac_header(skb) + from, min(to, maclen) - from);
		from = maclen;
	}
	if (to <= from)
		return;
	skb_prepare_seq_read(skb, from - maclen, to - maclen, &seq);
	while ((len = skb_seq_read(consumed, &data, &seq)) != 0) {
		xxh64_update(st, data, len);
		consumed += len;
	}
}

static u64 vtap_frame_hash(const struct vtap_session *s, struct sk_buff *skb,
			   unsigned int maclen)
{
	unsigned int flen = maclen + skb->len;
	struct xxh64_state st;

	/*
	 * A linear frame without a tag held outside it is one run of bytes
	 * (the MAC header runs into skb->data): one call, the same value as
	 * the streaming form below gives for the same bytes.
	 */
	if (!skb_vlan_tag_present(skb) && !skb_is_nonlinear(skb))
		return xxh64(skb_mac_header(skb), flen, s->dedup_seed);
	xxh64_reset(&st, s->dedup_seed);
	if (skb_vlan_tag_present(skb)) {
		__be16 tag[2] = { skb->vlan_proto,
				  htons(skb_vlan_tag_get(skb)) };

		vtap_hash_range(&st, skb, maclen, 0, 2 * ETH_ALEN);
		xxh64_update(&st, tag, sizeof(tag));
		vtap_hash_range(&st, skb, maclen, 2 * ETH_ALEN, flen);
	} else {
		vtap_hash_range(&st, skb, maclen, 0, flen);
	}
	return xxh64_digest(&st);
}

/* Did the session send an out copy of this frame within the window? */
static bool vtap_dedup_seen(const struct vtap_dedup *d, u64 window, u64 hash)
{
	const struct vtap_dedup_slot *sl = &d->slot[hash & VTAP_DEDUP_MASK];
	u64 t = READ_ONCE(sl->time_ns);

	smp_rmb();	/* pairs with vtap_dedup_record() */
	return t && READ_ONCE(sl->hash) == hash && ktime_get_ns() - t <= window;
}

static void vtap_dedup_record(struct vtap_dedup *d, u64 hash)
{
	struct vtap_dedup_slot *sl = &d->slot[hash & VTAP_DEDUP_MASK];

	WRITE_ONCE(sl->hash, hash);
	smp_wmb();	/* pairs with vtap_dedup_seen() */
	WRITE_ONCE(sl->time_ns, ktime_get_ns());
}

static int __vtap_mirror(struct sk_buff *skb, struct vtap_session *s,
			 u32 port_id, u32 flags, struct sk_buff **owned);

/*
 * XDP.  An XDP program sees the frame the VM sent before the kernel has
 * built its skb; what it does not see is the virtio-net header (tun) or
 * the skb (veth) that say the VM's stack left the TCP or UDP checksum to
 * the device (CHECKSUM_PARTIAL): the field then holds the pseudo-header
 * sum, and the wire will carry the checksum the device completes.  The
 * copy is completed the same way when its field holds exactly that value
 * (the pseudo-header sum of the frame's own addresses, protocol and
 * length), the one sign the frame carries: a frame whose checksum is
 * complete (right or wrong) is left as it is, and only a frame whose wrong
 * checksum happens to equal its pseudo-header sum, 1 in 65536 of wrong
 * checksums, is sent with the right one.  Frames whose checksum XDP
 * cannot recognise this way (SCTP's CRC32c, extension headers, checksums
 * inside a VM's own tunnels) are left to TC by the program.
 */
static void vtap_xdp_csum(struct sk_buff *skb)
{
	unsigned int off = ETH_HLEN, l4len, hlen;
	u8 *data = skb->data, proto;
	__be16 type, *check;
	__sum16 pseudo;
	__wsum sum;
	int i;

	if (skb->len < ETH_HLEN)
		return;
	type = ((struct ethhdr *)data)->h_proto;
	for (i = 0; i < 2 && eth_type_vlan(type); i++) {
		if (skb->len < off + VLAN_HLEN)
			return;
		type = ((struct vlan_hdr *)(data + off))->h_vlan_encapsulated_proto;
		off += VLAN_HLEN;
	}
	if (type == htons(ETH_P_IP)) {
		const struct iphdr *iph = (const struct iphdr *)(data + off);

		if (skb->len < off + sizeof(*iph) || iph->version != 4 ||
		    iph->ihl < 5 || ip_is_fragment(iph))
			return;
		hlen = iph->ihl * 4;
		if (ntohs(iph->tot_len) < hlen ||
		    off + ntohs(iph->tot_len) > skb->len)
			return;
		proto = iph->protocol;
		l4len = ntohs(iph->tot_len) - hlen;
		pseudo = ~csum_tcpudp_magic(iph->saddr, iph->daddr, l4len,
					    proto, 0);
	} else if (type == htons(ETH_P_IPV6)) {
		const struct ipv6hdr *ip6 = (const struct ipv6hdr *)(data + off);

		if (skb->len < off + sizeof(*ip6) || ip6->version != 6)
			return;
		hlen = sizeof(*ip6);
		l4len = ntohs(ip6->payload_len);
		if (off + hlen + l4len > skb->len)
			return;
		proto = ip6->nexthdr;
		pseudo = ~csum_ipv6_magic(&ip6->saddr, &ip6->daddr, l4len,
					  proto, 0);
	} else {
		return;
	}
	off += hlen;
	if (proto == IPPROTO_TCP && l4len >= sizeof(struct tcphdr))
		check = (__be16 *)(data + off + offsetof(struct tcphdr, check));
	else if (proto == IPPROTO_UDP && l4len >= sizeof(struct udphdr))
		check = (__be16 *)(data + off + offsetof(struct udphdr, check));
	else
		return;
	if ((__force __sum16)*check != pseudo)
		return;
	sum = csum_partial(data + off, l4len, 0);
	*check = (__force __be16)csum_fold(sum);
	if (proto == IPPROTO_UDP && !*check)
		*check = (__force __be16)CSUM_MANGLED_0;
}

/**
 * vtap_mirror_xdp - send a copy of the frame an XDP program sees
 * @xdp: the frame, as tun or veth hands it to XDP; only read
 * @s: the session (RCU)
 * @port_id: ERSPAN index of the port
 * @flags: VTAP_MIRROR_F_* (never DIR_IN: XDP sees what the VM sends)
 *
 * The frame's bytes are copied once, into the buffer the copy is sent
 * from, with room in front for the outer headers; the rest is
 * vtap_mirror()'s.  A multi-buffer frame is refused: vtap's XDP program
 * does not declare that it handles them, so the kernel never gives it one.
 *
 * Return: as vtap_mirror().
 */
int vtap_mirror_xdp(struct xdp_buff *xdp, struct vtap_session *s,
		    u32 port_id, u32 flags)
{
	unsigned int len = xdp->data_end - xdp->data, size;
	struct net_device *dev = xdp->rxq->dev;
	struct sk_buff *skb;
	void *data;
	int ret;

	if (unlikely(xdp_buff_has_frags(xdp) || len < ETH_HLEN)) {
		vtap_stats_inc(s, VTAP_A_STATS_MATCHED);
		vtap_stats_inc(s, VTAP_A_STATS_DROP_MALFORMED);
		return -EINVAL;
	}
	size = SKB_DATA_ALIGN(VTAP_XDP_HEADROOM + len) +
	       SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	data = napi_alloc_frag(size);
	skb = data ? napi_build_skb(data, size) : NULL;
	if (unlikely(!skb)) {
		if (data)
			skb_free_frag(data);
		vtap_stats_inc(s, VTAP_A_STATS_MATCHED);
		vtap_stats_inc(s, VTAP_A_STATS_DROP_NOMEM);
		return -ENOMEM;
	}
	skb_reserve(skb, VTAP_XDP_HEADROOM);
	memcpy(skb_put(skb, len), xdp->data, len);
	/* As the device's receive path would see it: data past the MAC header. */
	skb->protocol = eth_type_trans(skb, dev);
	skb_reset_network_header(skb);
	ret = __vtap_mirror(skb, s, port_id, flags, &skb);
	if (skb)
		consume_skb(skb);
	return ret;
}

/**
 * vtap_mirror - send a copy of @skb to session @s
 * @skb: the VM's frame, untouched
 * @s: the session (RCU)
 * @port_id: ERSPAN index of the port
 * @flags: VTAP_MIRROR_F_*
 *
 * Return: 0 if every copy (one per GSO segment) went out, 1 if the session
 * passed the frame over by design (sampling, an unparsed frame it skips,
 * an in copy of an out copy it sent: dedup), else -errno.
 */
int vtap_mirror(struct sk_buff *skb, struct vtap_session *s, u32 port_id,
		u32 flags)
{
	return __vtap_mirror(skb, s, port_id, flags, NULL);
}

/*
 * @owned: NULL, or where @skb is kept: a private frame built for the copy
 * (vtap_mirror_xdp()) that becomes the copy itself, no clone or second
 * copy; set to NULL once the copy took it, else the caller frees it.
 */
static int __vtap_mirror(struct sk_buff *skb, struct vtap_session *s,
			 u32 port_id, u32 flags, struct sk_buff **owned)
{
	struct net_device *dev = skb->dev;
	struct vtap_xmit x = {
		.net = dev_net(dev),
		.s = s,
		.p = vtap_params_rcu(s),
		.port_id = port_id,
		.flags = flags,
	};
	struct vtap_params *p = x.p;
	struct sk_buff *nskb, *segs, *next;
	struct vtap_dedup *dedup = NULL;
	unsigned int copies = 1;
	u64 hash = 0;
	int maclen, why, err = 0;
	bool segment;

	x.vn = vtap_net(x.net);
	vtap_stats_inc(s, VTAP_A_STATS_MATCHED);

	if (unlikely(flags & VTAP_MIRROR_F_UNPARSED)) {
		vtap_stats_inc(s, VTAP_A_STATS_UNPARSED);
		if (p->flags & VTAP_SESSION_F_UNPARSED_SKIP)
			return 1;
	}
	if (p->sample > 1 && !vtap_sampled(s, p)) {
		vtap_stats_inc(s, VTAP_A_STATS_SAMPLED_OUT);
		return 1;
	}

	if (unlikely(!skb_mac_header_was_set(skb)))
		goto malformed;
	maclen = skb->data - skb_mac_header(skb);	/* 0 on egress */
	if (unlikely(maclen < 0 || skb->len + maclen < ETH_HLEN))
		goto malformed;

	/* vtap's own output, or a frame its own sending produced. */
	if (unlikely(this_cpu_read(vtap_xmit_depth)) ||
	    unlikely(vtap_is_own_copy(x.vn, skb))) {
		vtap_stats_inc(s, VTAP_A_STATS_DROP_LOOP);
		return -ELOOP;
	}

	/* The session sent this frame's out copy: not this in copy too. */
	if (unlikely(p->dedup_ns)) {
		dedup = rcu_dereference_check(s->dedup, rcu_read_lock_bh_held());
		if (dedup && (flags & VTAP_MIRROR_F_DIR_IN) &&
		    vtap_dedup_seen(dedup, p->dedup_ns,
				    vtap_frame_hash(s, skb, maclen))) {
			vtap_stats_inc(s, VTAP_A_STATS_DEDUP);
			return 1;
		}
	}

	/*
	 * Segmented as the wire would carry it, unless the session slices, or
	 * the frame's checksum is not left to the device (CHECKSUM_PARTIAL):
	 * GSO then has nothing to complete and would warn about it; such a
	 * frame is sent whole, as one copy.
	 */
	segment = skb_is_gso(skb) && !(p->flags & VTAP_SESSION_F_GSO_SLICE) &&
		  skb->ip_summed == CHECKSUM_PARTIAL;
	if (segment)
		copies = skb_shinfo(skb)->gso_segs ?: 1;
	if (p->rate && !vtap_rate_room(s, p)) {
		vtap_stats_add(s, VTAP_A_STATS_DROP_RATE, copies);
		return -ENOBUFS;
	}
	why = vtap_xmit_prepare(&x, dev);
	if (why) {
		vtap_stats_add(s, why, copies);
		err = why == VTAP_A_STATS_DROP_LOOP ? -ELOOP : -ENOBUFS;
		goto out_dst;
	}
	if (p->encap == VTAP_ENCAP_VXLAN)
		x.sport = vtap_vxlan_sport(x.net, skb);

	/* The out copy's identity, of the frame before anything is sent. */
	if (dedup && !(flags & VTAP_MIRROR_F_DIR_IN))
		hash = vtap_frame_hash(s, skb, maclen);

	if (owned) {
		nskb = skb;
		*owned = NULL;
		skb = NULL;
		__skb_push(nskb, maclen);
		vtap_xdp_csum(nskb);
	} else if (vtap_copy_whole(skb, maclen, p, x.headroom)) {
		nskb = vtap_copy_small(skb, maclen, x.headroom);
		if (unlikely(!nskb))
			goto nomem;
	} else {
		nskb = skb_clone(skb, GFP_ATOMIC);
		if (unlikely(!nskb))
			goto nomem;
		__skb_push(nskb, maclen);
	}

	/* What the wire would carry: the VLAN tag in the frame, ... */
	if (skb_vlan_tag_present(nskb)) {
		nskb = __vlan_hwaccel_push_inside(nskb);
		if (unlikely(!nskb))
			goto nomem;
	}

	this_cpu_inc(vtap_xmit_depth);
	if (skb_is_gso(nskb))
		vtap_stats_inc(s, VTAP_A_STATS_GSO);
	if (segment) {
		/* ...GSO super-packets cut into the segments they stand for. */
		err = vtap_segment_tcp(&x, nskb);
		if (err != -EOPNOTSUPP) {
			consume_skb(nskb);
			goto out;
		}
		err = 0;
		/*
		 * As validate_xmit_skb() segments a clone for a device that
		 * lacks TSO: with SG, the segments share the frame's pages
		 * (their headers are their own), and with HW_CSUM their
		 * checksums stay CHECKSUM_PARTIAL, completed once per copy
		 * that needs it, or by the underlay device.  Neither writes
		 * the frame (skb_segment() gives each segment its own head).
		 */
		segs = skb_gso_segment(nskb, NETIF_F_SG | NETIF_F_HW_CSUM);
		if (IS_ERR_OR_NULL(segs)) {
			/*
			 * One segment's worth (a NIC sends it as it is), or
			 * metadata GSO cannot follow: the frame, whole.
			 */
			err = vtap_xmit_one(&x, nskb);
			goto out;
		}
		consume_skb(nskb);
		skb_list_walk_safe(segs, nskb, next) {
			skb_mark_not_on_list(nskb);
			if (vtap_xmit_one(&x, nskb))
				err = -ENOBUFS;
		}
	} else {
		err = vtap_xmit_one(&x, nskb);
	}
out:
	this_cpu_dec(vtap_xmit_depth);
	/* Every copy of the frame went: its in copy need not. */
	if (dedup && !err && !(flags & VTAP_MIRROR_F_DIR_IN))
		vtap_dedup_record(dedup, hash);
out_dst:
	dst_release(x.dst);
	return err;

malformed:
	vtap_stats_inc(s, VTAP_A_STATS_DROP_MALFORMED);
	return -EINVAL;
nomem:
	vtap_stats_inc(s, VTAP_A_STATS_DROP_NOMEM);
	dst_release(x.dst);
	return -ENOMEM;
}
