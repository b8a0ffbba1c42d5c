// SPDX-License-Identifier: GPL-2.0
/*
 * vtap: a virtual TAP for Linux hypervisors.
 *
 * Module init/exit and per-namespace state.
 */

#include <linux/module.h>

#include "vtap.h"

unsigned int vtap_net_id __read_mostly;
bool vtap_kfunc_registered __read_mostly;

static int __net_init vtap_net_init(struct net *net)
{
	struct vtap_net *vn = vtap_net(net);

	mutex_init(&vn->lock);
	xa_init_flags(&vn->sessions, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	atomic_set(&vn->queued, 0);
	return vtap_net_sock_init(net, vn);
}

/* Before the grace period: no new copy can be made for these sessions... */
static void __net_exit vtap_net_pre_exit(struct net *net)
{
	struct vtap_net *vn = vtap_net(net);

	mutex_lock(&vn->lock);
	vtap_sessions_flush(vn);
	mutex_unlock(&vn->lock);
}

/* ...so after it, the copies still queued only ever go. */
static void __net_exit vtap_net_exit(struct net *net)
{
	struct vtap_net *vn = vtap_net(net);

	wait_var_event(&vn->queued, !atomic_read(&vn->queued));
	vtap_net_sock_exit(vn);
	xa_destroy(&vn->sessions);
	mutex_destroy(&vn->lock);
}

static struct pernet_operations vtap_net_ops = {
	.init		= vtap_net_init,
	.pre_exit	= vtap_net_pre_exit,
	.exit		= vtap_net_exit,
	.id		= &vtap_net_id,
	.size		= sizeof(struct vtap_net),
};

static int __init vtap_init(void)
{
	int err;

	err = vtap_encap_init();
	if (err)
		goto err_encap;
	err = register_pernet_subsys(&vtap_net_ops);
	if (err)
		goto err_pernet;
	/*
	 * Without its BTF (a build without a vmlinux to base it on) the module
	 * still manages sessions, but no program can call it: say so, in the
	 * log and in INFO_GET's features.
	 */
	err = vtap_kfunc_init();
	if (err)
		pr_warn("no kfunc (error %d): vtap.ko has no usable BTF, its TC programs cannot load\n",
			err);
	vtap_kfunc_registered = !err;
	err = vtap_session_init();
	if (err)
		goto err_session;
	err = vtap_genl_init();
	if (err)
		goto err_genl;

	pr_info("vtap " VTAP_VERSION " loaded\n");
	return 0;

err_genl:
	vtap_session_exit();
err_session:
	/* A registered kfunc set is released with the module's BTF. */
	unregister_pernet_subsys(&vtap_net_ops);
err_pernet:
	vtap_encap_exit();
err_encap:
	return err;
}

static void __exit vtap_exit(void)
{
	vtap_genl_exit();
	vtap_session_exit();
	/*
	 * No program can call the kfunc any more: the namespaces' sessions go
	 * (pre_exit), then their exit waits for the copies still queued, which
	 * the tasklets send meanwhile; then the queues and the CPU hotplug
	 * callback go.
	 */
	unregister_pernet_subsys(&vtap_net_ops);
	vtap_encap_exit();
	/* Sessions and parameters are freed by RCU callbacks: wait for them. */
	rcu_barrier();
	pr_info("vtap unloaded\n");
}

module_init(vtap_init);
module_exit(vtap_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vtap: mirror VM traffic to GRE/ERSPAN collectors");
MODULE_VERSION(VTAP_VERSION);
MODULE_ALIAS_GENL_FAMILY(VTAP_GENL_NAME);
