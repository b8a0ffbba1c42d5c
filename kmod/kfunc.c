// SPDX-License-Identifier: GPL-2.0
/*
 * The kfuncs that vtap's programs call for each mirror copy: from TC, with
 * the frame's skb, and from XDP, with the frame before it has one.
 */

#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/skbuff.h>
#include <net/xdp.h>

#include "vtap.h"
#include "vtap_bpf.h"

/**
 * bpf_vtap_mirror - send a copy of a packet to a vtap session
 * @skb_ctx: the TC program's context
 * @session_id: the session, in the namespace of the packet's device
 * @cookie: the session's cookie, as the flow recorded it
 * @port_id: the monitored port's id (ERSPAN index)
 * @flags: VTAP_MIRROR_F_*
 *
 * Never changes the packet.  Runs under RCU with BHs disabled, as TC
 * programs do (softirq, or egress under rcu_read_lock_bh()); it refuses
 * any other context (BPF_PROG_TEST_RUN runs programs with BHs enabled):
 * the route cache, the deferred queues and the nesting counter are per-CPU
 * state that only BHs-off code may use.
 *
 * Return: 0 if a copy was sent, 1 if the session passed the frame over by
 * design, else a negative errno (see vtap_bpf.h).
 */
__used noinline int bpf_vtap_mirror(struct __sk_buff *skb_ctx, u32 session_id,
				    u64 cookie, u32 port_id, u32 flags)
{
	struct sk_buff *skb = (struct sk_buff *)skb_ctx;
	struct vtap_session *s;
	int ret;

	if (unlikely(flags & ~VTAP_MIRROR_F_ALL))
		return -EINVAL;
	if (unlikely(!in_softirq() || in_hardirq() || in_nmi()))
		return -EPERM;
	if (unlikely(!skb->dev))
		return -ENODEV;
	/*
	 * Device egress holds only rcu_read_lock_bh() (__dev_queue_xmit(): a
	 * neighbour's queue, AF_PACKET); the route and neighbour lookups below
	 * want rcu_read_lock(), as ip_finish_output2() takes it.
	 */
	rcu_read_lock();
	s = xa_load(&vtap_net(dev_net(skb->dev))->sessions, session_id);
	if (!s)
		ret = -ENOENT;
	/*
	 * Another session than the flow's: its session was deleted and the id
	 * given to a new one, or the device moved to another namespace with
	 * its programs (a session of that namespace has the same id).
	 */
	else if (unlikely(s->cookie != cookie))
		ret = -ESTALE;
	else
		ret = vtap_mirror(skb, s, port_id, flags);
	rcu_read_unlock();
	return ret;
}

/**
 * bpf_vtap_mirror_xdp - send a copy of a frame an XDP program sees
 * @xdp_ctx: the XDP program's context
 * @session_id: the session, in the namespace of the receiving device
 * @cookie: the session's cookie, as the port's flow recorded it
 * @port_id: the monitored port's id (ERSPAN index)
 * @flags: VTAP_MIRROR_F_* (not DIR_IN: XDP sees only what the VM sends)
 *
 * As bpf_vtap_mirror(), for XDP on the VM's tap or veth (native, or
 * generic for what tun hands to generic XDP): the frame is read, never
 * changed, and the program passes it on.  XDP runs with BHs disabled
 * (tun's writers, veth's NAPI); BPF_PROG_TEST_RUN does not, and is
 * refused as for TC.
 *
 * Return: as bpf_vtap_mirror().
 */
__used noinline int bpf_vtap_mirror_xdp(struct xdp_md *xdp_ctx, u32 session_id,
					u64 cookie, u32 port_id, u32 flags)
{
	struct xdp_buff *xdp = (struct xdp_buff *)xdp_ctx;
	struct vtap_session *s;
	int ret;

	if (unlikely(flags & ~VTAP_MIRROR_F_UNPARSED))
		return -EINVAL;
	if (unlikely(!in_softirq() || in_hardirq() || in_nmi()))
		return -EPERM;
	if (unlikely(!xdp->rxq || !xdp->rxq->dev))
		return -ENODEV;
	rcu_read_lock();
	s = xa_load(&vtap_net(dev_net(xdp->rxq->dev))->sessions, session_id);
	if (!s)
		ret = -ENOENT;
	else if (unlikely(s->cookie != cookie))
		ret = -ESTALE;
	else
		ret = vtap_mirror_xdp(xdp, s, port_id, flags);
	rcu_read_unlock();
	return ret;
}

BTF_SET8_START(vtap_kfunc_ids)
BTF_ID_FLAGS(func, bpf_vtap_mirror)
BTF_SET8_END(vtap_kfunc_ids)

static const struct btf_kfunc_id_set vtap_kfunc_set = {
	.owner	= THIS_MODULE,
	.set	= &vtap_kfunc_ids,
};

BTF_SET8_START(vtap_xdp_kfunc_ids)
BTF_ID_FLAGS(func, bpf_vtap_mirror_xdp)
BTF_SET8_END(vtap_xdp_kfunc_ids)

static const struct btf_kfunc_id_set vtap_xdp_kfunc_set = {
	.owner	= THIS_MODULE,
	.set	= &vtap_xdp_kfunc_ids,
};

/*
 * The set is tied to the module's BTF: it goes away with the module, and the
 * module cannot unload while a loaded program calls the kfunc.
 *
 * In 6.1, register_btf_kfunc_id_set() returns 0 for a module without BTF
 * (built without a vmlinux to base it on, or refused at load under
 * CONFIG_MODULE_ALLOW_BTF_MISMATCH) and registers nothing.
 * register_btf_id_dtor_kfuncs() with no destructor registers nothing
 * either, but returns -ENOENT then: the one exported way to learn that the
 * kfunc cannot exist, so that INFO_GET does not claim it.
 */
int __init vtap_kfunc_init(void)
{
	static const struct btf_id_dtor_kfunc no_dtors[1];
	int err;

	err = register_btf_id_dtor_kfuncs(no_dtors, 0, THIS_MODULE);
	if (err)
		return err;
	err = register_btf_kfunc_id_set(BPF_PROG_TYPE_SCHED_CLS,
					&vtap_kfunc_set);
	if (err)
		return err;
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_XDP,
					 &vtap_xdp_kfunc_set);
}
