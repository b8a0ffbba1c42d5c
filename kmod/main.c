// SPDX-License-Identifier: GPL-2.0
/*
 * vtap: a virtual TAP for Linux hypervisors.
 *
 * Module init/exit and per-namespace state.
 */

#include <linux/module.h>

#include "vtap.h"

unsigned int vtap_net_id __read_mostly;

static int __net_init vtap_net_init(struct net *net)
{
	struct vtap_net *vn = vtap_net(net);

	mutex_init(&vn->lock);
	xa_init_flags(&vn->sessions, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	return 0;
}

static void __net_exit vtap_net_exit(struct net *net)
{
	struct vtap_net *vn = vtap_net(net);

	mutex_lock(&vn->lock);
	vtap_sessions_flush(vn);
	mutex_unlock(&vn->lock);
	xa_destroy(&vn->sessions);
	mutex_destroy(&vn->lock);
}

static struct pernet_operations vtap_net_ops = {
	.init	= vtap_net_init,
	.exit	= vtap_net_exit,
	.id	= &vtap_net_id,
	.size	= sizeof(struct vtap_net),
};

static int __init vtap_init(void)
{
	int err;

	err = register_pernet_subsys(&vtap_net_ops);
	if (err)
		goto err_pernet;
	err = vtap_encap_init();
	if (err)
		goto err_encap;
	err = vtap_kfunc_init();
	if (err)
		goto err_kfunc;
	err = vtap_genl_init();
	if (err)
		goto err_genl;

	pr_info("vtap " VTAP_VERSION " loaded\n");
	return 0;

err_genl:
err_kfunc:
	/* A registered kfunc set is released with the module's BTF. */
	vtap_encap_exit();
err_encap:
	unregister_pernet_subsys(&vtap_net_ops);
err_pernet:
	return err;
}

static void __exit vtap_exit(void)
{
	vtap_genl_exit();
	/* No program can call the kfunc any more: drain the queues. */
	vtap_encap_exit();
	unregister_pernet_subsys(&vtap_net_ops);
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
