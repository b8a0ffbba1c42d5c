// SPDX-License-Identifier: GPL-2.0
/*
 * vtap sessions: named mirror destinations, one table per network namespace.
 * See "DOC: Locking" in vtap.h.
 */

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

static void vtap_session_free_rcu(struct rcu_head *head)
{
	struct vtap_session *s = container_of(head, struct vtap_session, rcu);

	/* Nobody can see the session any more: its parameters go with it. */
	vtap_params_free(rcu_dereference_protected(s->params, true));
	free_percpu(s->stats);
	kfree(s);
}

/**
 * vtap_session_find_name - look a session up by name
 * @vn: the namespace's vtap state, lock held
 * @name: NUL-terminated name
 *
 * Return: the session or NULL.
 */
struct vtap_session *vtap_session_find_name(struct vtap_net *vn,
					    const char *name)
{
	struct vtap_session *s;
	unsigned long id;

	lockdep_assert_held(&vn->lock);
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
 * @extack: where to report why it failed
 *
 * Return: the session, or an ERR_PTR.
 */
struct vtap_session *vtap_session_create(struct vtap_net *vn, const char *name,
					 u32 id, struct vtap_params *p,
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

	if (id) {
		err = xa_insert(&vn->sessions, id, s, GFP_KERNEL);
		if (err == -EBUSY) {
			NL_SET_ERR_MSG_MOD(extack, "a session with this id exists");
			err = -EEXIST;
		}
	} else {
		err = xa_alloc(&vn->sessions, &id, s,
			       XA_LIMIT(1, VTAP_SESSION_ID_MAX), GFP_KERNEL);
		if (err == -EBUSY) {
			NL_SET_ERR_MSG_MOD(extack, "all session ids are in use");
			err = -ENOSPC;
		}
	}
	if (err)
		goto err_stats;
	/*
	 * xa_insert()/xa_alloc() published the pointer before s->id was set;
	 * readers never look at s->id, only the control path (under the lock)
	 * does, so setting it here is safe.
	 */
	s->id = id;
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
