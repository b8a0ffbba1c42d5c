/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vtap internal interfaces.
 */
#ifndef _VTAP_H
#define _VTAP_H

#include <linux/in6.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/u64_stats_sync.h>
#include <linux/xarray.h>
#include <net/dst_cache.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <uapi/linux/vtap.h>

#include "vtap_version.h"

/*
 * DOC: Locking
 *
 * Sessions belong to a network namespace (struct vtap_net).  All changes to
 * a namespace's sessions (create, change, delete, namespace teardown) happen
 * under that namespace's mutex, vtap_net.lock, which is only ever taken from
 * process context (genetlink handlers, pernet exit) and never nests inside
 * RTNL or any other vtap lock.
 *
 * The data path (bpf_vtap_mirror(), called from TC programs in softirq or
 * with BHs disabled; the kfunc refuses any other context) never takes a
 * lock: it finds a session with xa_load() under RCU and only reads it,
 * apart from the per-CPU counters, which are updated with this_cpu
 * operations inside u64_stats sections.  Egress runs under
 * rcu_read_lock_bh() only (__dev_queue_xmit()): the kfunc takes
 * rcu_read_lock() for the rest (the neighbour and route lookups ask for
 * it); vtap_params_rcu() accepts either flavour.  A session is
 * published (xa_store()) only once it is complete: its id and cookie are
 * set before readers can find it.
 *
 * A session's parameters are immutable: SESSION_SET builds a new struct
 * vtap_params and publishes it with rcu_assign_pointer(); the old one is
 * freed after a grace period.  A deleted session is unlinked from the xarray
 * under the mutex and its table reference dropped; copies waiting in the
 * deferred transmit queue hold references of their own (taken with
 * refcount_inc_not_zero() under RCU).  The last reference frees it with
 * call_rcu(), so a data path reader holding rcu_read_lock() can finish with
 * it.  Module exit drains the queues, then waits for all those callbacks
 * with rcu_barrier().
 *
 * The encapsulator (encap.c) reads the parameters under RCU and writes only
 * per-CPU state: the route cache (struct dst_cache, per CPU, used with BHs
 * disabled) and a per-CPU nesting counter; the GRE sequence number is an
 * atomic_t in the session, so that it rises by one across CPUs.  With
 * deferred=2 a finished copy goes to another CPU's inbox: an llist (lock-free
 * adds from any CPU, emptied only by the owner's tasklet) with an atomic
 * length bound, kicked by an asynchronous IPI.
 *
 * A copy is owned by its namespace's vtap socket (skb->sk, charged to its
 * send buffer like any socket's packet): that is how the loop guard knows
 * vtap's own output, in O(1), whatever the copy's headers say.  The
 * sockets live as long as the namespace's vtap state; a copy in flight
 * keeps its socket's memory (not the namespace) alive, and pernet exit
 * waits until no copy of the namespace is left in a deferred queue
 * (vtap_net.queued), so a queued copy never outlives its namespace.
 *
 * Genetlink reads (SESSION_GET do and dump, INFO_GET) take no lock: they
 * walk the xarray under RCU; vtap_net.genid changes on every modification
 * so that an interrupted dump is flagged NLM_F_DUMP_INTR.
 */

struct vtap_net {
	struct mutex lock;		/* serialises all changes, see above */
	struct xarray sessions;		/* id -> struct vtap_session, RCU readers */
	unsigned int nsessions;		/* under lock */
	unsigned int genid;		/* bumped on every change, for dumps */
	struct sock *sk[2];		/* owners of the copies: IPv4, IPv6 */
	atomic_t queued;		/* copies in deferred queues */
};

/* What a session does, replaced as a whole by SESSION_SET. */
struct vtap_params {
	u8 encap;			/* enum vtap_encap */
	u8 family;			/* AF_INET or AF_INET6 */
	u8 ttl;
	u8 tos;
	u8 hwid;
	u8 gra;				/* enum vtap_gra */
	u8 subhdr;			/* ERSPAN III Platf ID: 0 none, 3, 7 */
	bool has_key;
	bool has_local;
	bool has_vni;			/* else the VNI is the session id */
	u8 sample_mode;			/* enum vtap_sample_mode */
	u8 rate_unit;			/* enum vtap_rate_unit */
	u8 mask_byte;
	u16 mask_offset;
	u16 mask_len;			/* 0: no mask */
	u32 flags;			/* VTAP_SESSION_F_* */
	u32 key;
	u32 vni;			/* VXLAN network identifier */
	u16 dport;			/* VXLAN's UDP destination port */
	u32 snaplen;			/* 0: whole frames */
	u32 sample;			/* 1 in N; 1: all */
	u32 burst;			/* as given, 0 if defaulted */
	u64 rate;			/* 0: no budget */
	u64 rate_ns_fp;			/* ns per unit << 16 (GCRA interval) */
	u64 rate_tolerance;		/* ns of burst (GCRA tolerance) */
	u64 dedup_ns;			/* dedup window; 0: off */
	union {
		__be32 remote4;
		struct in6_addr remote6;
	};
	union {
		__be32 local4;
		struct in6_addr local6;
	};
	struct dst_cache dst_cache;	/* route to the remote, per CPU */
	struct rcu_head rcu;
};

/* Per-CPU session counters, indexed by VTAP_STAT(VTAP_A_STATS_*). */
#define VTAP_STAT(attr)	((attr) - VTAP_A_STATS_MATCHED)
#define VTAP_NSTATS	(VTAP_A_STATS_MAX - VTAP_A_STATS_PAD)

struct vtap_pcpu_stats {
	u64_stats_t cnt[VTAP_NSTATS];
	struct u64_stats_sync syncp;
};

/*
 * The out copies a session with dedup sent lately, as (hash of the frame,
 * time): slot = hash & VTAP_DEDUP_MASK, written and read without a lock
 * (WRITE_ONCE/READ_ONCE); a newer record overwrites an older one.  See
 * "Dedup" in encap.c.
 */
#define VTAP_DEDUP_SLOTS	4096
#define VTAP_DEDUP_MASK		(VTAP_DEDUP_SLOTS - 1)

struct vtap_dedup_slot {
	u64 hash;
	u64 time_ns;			/* ktime_get_ns() when sent; 0: empty */
};

struct vtap_dedup {
	struct vtap_dedup_slot slot[VTAP_DEDUP_SLOTS];
};

struct vtap_session {
	/* Read by every copy on every CPU, written only by the control path. */
	u32 id;
	u64 cookie;			/* random, never 0; see VTAP_A_SESSION_COOKIE */
	u64 dedup_seed;			/* random, the seed of the frames' hashes */
	struct vtap_params __rcu *params;
	/*
	 * Allocated when dedup is first turned on (SESSION_NEW or _SET, under
	 * the lock, before the parameters that use it are published); then
	 * kept, and freed with the session.
	 */
	struct vtap_dedup __rcu *dedup;
	struct vtap_pcpu_stats __percpu *stats;
	char name[VTAP_NAME_MAX];
	struct rcu_head rcu;

	/* Written by copies: a cache line of their own. */
	atomic_t seq ____cacheline_aligned_in_smp; /* GRE sequence of the next copy */
	atomic_t sample_count;		/* frames seen, for VTAP_SAMPLE_EVERY */
	atomic64_t rate_tat;		/* GCRA theoretical arrival time, ns */
	refcount_t refs;		/* the table's, plus one per queued copy */
};

/* main.c */
extern unsigned int vtap_net_id;
extern bool vtap_kfunc_registered;

static inline struct vtap_net *vtap_net(const struct net *net)
{
	return net_generic(net, vtap_net_id);
}

/*
 * A session's parameters on the data path: under rcu_read_lock(), or
 * rcu_read_lock_bh() alone (device egress, neighbour timers, AF_PACKET).
 */
static inline struct vtap_params *vtap_params_rcu(const struct vtap_session *s)
{
	return rcu_dereference_check(s->params, rcu_read_lock_bh_held());
}

/* session.c */
struct vtap_session *vtap_session_create(struct vtap_net *vn, const char *name,
					 u32 id, struct vtap_params *p,
					 struct vtap_dedup *d,
					 struct netlink_ext_ack *extack);
void vtap_session_destroy(struct vtap_net *vn, struct vtap_session *s);
void vtap_session_put(struct vtap_session *s);
void vtap_session_replace_params(struct vtap_session *s,
				 struct vtap_params *p);
struct vtap_session *vtap_session_find_name(struct vtap_net *vn,
					    const char *name);
void vtap_sessions_flush(struct vtap_net *vn);
void vtap_session_stats_read(const struct vtap_session *s,
			     u64 out[VTAP_NSTATS]);
struct vtap_params *vtap_params_alloc(void);
struct vtap_dedup *vtap_dedup_alloc(void);
void vtap_params_free(struct vtap_params *p);
int vtap_session_init(void);
void vtap_session_exit(void);

/* encap.c */
int vtap_mirror(struct sk_buff *skb, struct vtap_session *s, u32 port_id,
		u32 flags);
struct xdp_buff;
int vtap_mirror_xdp(struct xdp_buff *xdp, struct vtap_session *s,
		    u32 port_id, u32 flags);
int vtap_encap_init(void);
void vtap_encap_exit(void);
int vtap_net_sock_init(struct net *net, struct vtap_net *vn);
void vtap_net_sock_exit(struct vtap_net *vn);
bool vtap_is_own_copy(const struct vtap_net *vn, const struct sk_buff *skb);

static inline void vtap_stats_inc(struct vtap_session *s, int attr)
{
	struct vtap_pcpu_stats *st = this_cpu_ptr(s->stats);

	u64_stats_update_begin(&st->syncp);
	u64_stats_inc(&st->cnt[VTAP_STAT(attr)]);
	u64_stats_update_end(&st->syncp);
}

static inline void vtap_stats_add(struct vtap_session *s, int attr, u64 v)
{
	struct vtap_pcpu_stats *st = this_cpu_ptr(s->stats);

	u64_stats_update_begin(&st->syncp);
	u64_stats_add(&st->cnt[VTAP_STAT(attr)], v);
	u64_stats_update_end(&st->syncp);
}

static inline void vtap_stats_add2(struct vtap_session *s, int a1, u64 v1,
				   int a2, u64 v2)
{
	struct vtap_pcpu_stats *st = this_cpu_ptr(s->stats);

	u64_stats_update_begin(&st->syncp);
	u64_stats_add(&st->cnt[VTAP_STAT(a1)], v1);
	u64_stats_add(&st->cnt[VTAP_STAT(a2)], v2);
	u64_stats_update_end(&st->syncp);
}

/* netlink.c */
int vtap_genl_init(void);
void vtap_genl_exit(void);

/* kfunc.c */
struct __sk_buff;
int bpf_vtap_mirror(struct __sk_buff *skb_ctx, u32 session_id, u64 cookie,
		    u32 port_id, u32 flags);
struct xdp_md;
int bpf_vtap_mirror_xdp(struct xdp_md *xdp_ctx, u32 session_id, u64 cookie,
			u32 port_id, u32 flags);
int vtap_kfunc_init(void);

#endif /* _VTAP_H */
