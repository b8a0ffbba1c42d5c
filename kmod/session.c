// SPDX-License-Identifier: GPL-2.0
/*
 * vtap sessions: named mirror destinations, one table per network namespace.
 * See "DOC: Locking" in vtap.h.
 */

#include <linux/random.h>
#include <net/addrconf.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "vtap.h"

/**
 * vtap_params_alloc - zeroed session parameters with an empty route cache
 *
 * Return: the parameters or NULL.
 */
struct vtap_params *vtap_params_alloc(void)
{
	struct vtap_params *p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);

	if (p && dst_cache_init(&p->dst_cache, GFP_KERNEL_ACCOUNT)) {
		kfree(p);
		return NULL;
	}
	return p;
}

/**
 * vtap_params_free - free parameters nobody can see any more
 * @p: the parameters, or NULL
 *
 * Safe in any context (RCU callbacks included).
 */
void vtap_params_free(struct vtap_params *p)
{
	if (!p)
		return;
	dst_cache_destroy(&p->dst_cache);
	kfree(p);
}

/**
 * vtap_dedup_alloc - an empty dedup table
 *
 * Return: the table or NULL.
 */
struct vtap_dedup *vtap_dedup_alloc(void)
{
	return kvzalloc(sizeof(struct vtap_dedup), GFP_KERNEL_ACCOUNT);
}

static void vtap_session_free_rcu(struct rcu_head *head)
{
	struct vtap_session *s = container_of(head, struct vtap_session, rcu);

	/* Nobody can see the session any more: its parameters go with it. */
	vtap_params_free(rcu_dereference_protected(s->params, true));
	/* vfree() defers itself when called here, in softirq context. */
	kvfree(rcu_dereference_protected(s->dedup, true));
	free_percpu(s->stats);
	kfree(s);
}

/**
 * vtap_session_find_name - look a session up by name
 * @vn: the namespace's vtap state, lock held or under RCU (names never
 *	change)
 * @name: NUL-terminated name
 *
 * Return: the session or NULL.
 */
struct vtap_session *vtap_session_find_name(struct vtap_net *vn,
					    const char *name)
{
	struct vtap_session *s;
	unsigned long id;

	xa_for_each(&vn->sessions, id, s)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

/**
 * vtap_session_create - create and publish a session
 * @vn: the namespace's vtap state, lock held
 * @name: unique name
 * @id: session id, or 0 to allocate the lowest free one
 * @p: parameters; ownership passes to the session on success only
 * @d: dedup table (if @p has a dedup window) or NULL; as @p
 * @extack: where to report why it failed
 *
 * Return: the session, or an ERR_PTR.
 */
struct vtap_session *vtap_session_create(struct vtap_net *vn, const char *name,
					 u32 id, struct vtap_params *p,
					 struct vtap_dedup *d,
					 struct netlink_ext_ack *extack)
{
	struct vtap_session *s;
	int err;

	lockdep_assert_held(&vn->lock);

	if (vtap_session_find_name(vn, name)) {
		NL_SET_ERR_MSG_MOD(extack, "a session with this name exists");
		return ERR_PTR(-EEXIST);
	}

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->stats = __netdev_alloc_pcpu_stats(struct vtap_pcpu_stats, GFP_KERNEL_ACCOUNT);
	if (!s->stats) {
		err = -ENOMEM;
		goto err_free;
	}
	strscpy(s->name, name, sizeof(s->name));
	refcount_set(&s->refs, 1);
	RCU_INIT_POINTER(s->params, p);
	RCU_INIT_POINTER(s->dedup, d);
	do {
		s->cookie = get_random_u64();
	} while (!s->cookie);
	s->dedup_seed = get_random_u64();

	/* Reserve the id (readers see nothing there yet)... */
	if (id) {
		err = xa_insert(&vn->sessions, id, NULL, GFP_KERNEL);
		if (err == -EBUSY) {
			NL_SET_ERR_MSG_MOD(extack, "a session with this id exists");
			err = -EEXIST;
		}
	} else {
		err = xa_alloc(&vn->sessions, &id, NULL,
			       XA_LIMIT(1, VTAP_SESSION_ID_MAX), GFP_KERNEL);
		if (err == -EBUSY) {
			NL_SET_ERR_MSG_MOD(extack, "all session ids are in use");
			err = -ENOSPC;
		}
	}
	if (err)
		goto err_stats;
	/* ...then publish the complete session (a store into a reserved slot cannot fail). */
	s->id = id;
	xa_store(&vn->sessions, id, s, GFP_KERNEL);
	vn->nsessions++;
	vn->genid++;
	return s;

err_stats:
	free_percpu(s->stats);
err_free:
	kfree(s);
	return ERR_PTR(err);
}

/**
 * vtap_session_put - drop a reference; the last one frees after a grace period
 * @s: the session
 */
void vtap_session_put(struct vtap_session *s)
{
	if (refcount_dec_and_test(&s->refs))
		call_rcu(&s->rcu, vtap_session_free_rcu);
}

/**
 * vtap_session_destroy - unlink a session and drop the table's reference
 * @vn: the namespace's vtap state, lock held
 * @s: the session
 */
void vtap_session_destroy(struct vtap_net *vn, struct vtap_session *s)
{
	lockdep_assert_held(&vn->lock);

	xa_erase(&vn->sessions, s->id);
	vn->nsessions--;
	vn->genid++;
	vtap_session_put(s);
}

static void vtap_params_free_rcu(struct rcu_head *head)
{
	vtap_params_free(container_of(head, struct vtap_params, rcu));
}

/**
 * vtap_session_replace_params - publish new parameters for a session
 * @s: the session, its namespace's lock held
 * @p: the new parameters, owned by the session from now on
 */
void vtap_session_replace_params(struct vtap_session *s, struct vtap_params *p)
{
	struct vtap_params *old = rcu_replace_pointer(s->params, p, true);

	call_rcu(&old->rcu, vtap_params_free_rcu);
}

/**
 * vtap_sessions_flush - destroy every session of a namespace
 * @vn: the namespace's vtap state, lock held
 */
void vtap_sessions_flush(struct vtap_net *vn)
{
	struct vtap_session *s;
	unsigned long id;

	lockdep_assert_held(&vn->lock);
	xa_for_each(&vn->sessions, id, s)
		vtap_session_destroy(vn, s);
}

/**
 * vtap_session_stats_read - sum a session's per-CPU counters
 * @s: the session
 * @out: VTAP_NSTATS counters, indexed by VTAP_STAT()
 */
void vtap_session_stats_read(const struct vtap_session *s, u64 out[VTAP_NSTATS])
{
	int cpu, i;

	memset(out, 0, sizeof(u64) * VTAP_NSTATS);
	for_each_possible_cpu(cpu) {
		const struct vtap_pcpu_stats *st = per_cpu_ptr(s->stats, cpu);
		u64 v[VTAP_NSTATS];
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&st->syncp);
			for (i = 0; i < VTAP_NSTATS; i++)
				v[i] = u64_stats_read(&st->cnt[i]);
		} while (u64_stats_fetch_retry(&st->syncp, start));
		for (i = 0; i < VTAP_NSTATS; i++)
			out[i] += v[i];
	}
}

/*
 * A local address removed from the host: the sessions that send from it
 * route again (and find it gone) instead of using a cached route.  IPv4
 * needs no help: removing an address flushes its routes, and the route
 * lookup refuses a source the host lacks.  Called under RCU.
 */
static int vtap_addr6_event(struct notifier_block *nb, unsigned long event,
			    void *ptr)
{
	const struct inet6_ifaddr *ifa = ptr;
	struct vtap_session *s;
	struct vtap_net *vn;
	unsigned long id;

	if (event != NETDEV_DOWN)
		return NOTIFY_DONE;
	vn = vtap_net(dev_net(ifa->idev->dev));
	xa_for_each(&vn->sessions, id, s) {
		struct vtap_params *p = rcu_dereference(s->params);

		if (p->family == AF_INET6 && p->has_local &&
		    ipv6_addr_equal(&p->local6, &ifa->addr))
			dst_cache_reset(&p->dst_cache);
	}
	return NOTIFY_DONE;
}

static struct notifier_block vtap_addr6_nb = {
	.notifier_call = vtap_addr6_event,
};

int __init vtap_session_init(void)
{
	return register_inet6addr_notifier(&vtap_addr6_nb);
}

void vtap_session_exit(void)
{
	unregister_inet6addr_notifier(&vtap_addr6_nb);
}
