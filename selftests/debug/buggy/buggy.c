// SPDX-License-Identifier: GPL-2.0
/*
 * buggy.ko: a deliberately broken, TEST-ONLY module.  selftests/debug/planted.sh
 * loads it in the debug kernel's guest with one planted bug at a time and
 * checks that the harness fails the run and names the right checker.
 *
 *   insmod buggy.ko bugs=LIST [netdev=NAME]     (LIST: any of the names below)
 *
 *   uaf       kmalloc, kfree, then read          KASAN: use-after-free
 *   oob       read one byte past kmalloc(64)     KASAN: slab-out-of-bounds
 *   kfence    read past a KFENCE-sampled object  KFENCE: out-of-bounds read
 *   leak      4 x kmalloc(128), never freed      kmemleak: unreferenced object
 *   abba      mutex A then B, later B then A     lockdep: circular locking dependency
 *   atomic    might_sleep() under a spinlock     sleeping function called from invalid context
 *   ubsan     1 << 40 on a 32-bit value          UBSAN: shift-out-of-bounds
 *   odebug    kfree() an armed timer             ODEBUG: free active ... timer_list
 *   netref    a tracked netdev reference held until rmmod: deleting NAME
 *             waits for it and dumps the holder   unregister_netdevice: waiting ... ref_tracker
 *   refcount  refcount_inc() on zero             refcount_t: addition on 0; use-after-free
 *   warn      WARN()                             WARNING: CPU: ...
 */
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kfence.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/refcount.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timer.h>
#include <net/net_namespace.h>

static char *bugs = "";
module_param(bugs, charp, 0444);
MODULE_PARM_DESC(bugs, "comma-separated planted bugs to commit at load time");
static char *netdev = "dummy0";
module_param(netdev, charp, 0444);
MODULE_PARM_DESC(netdev, "device the netref bug holds a tracked reference on");

static bool want(const char *b)
{
	const char *p = bugs;
	size_t n = strlen(b);

	while ((p = strstr(p, b))) {
		if ((p == bugs || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return true;
		p += n;
	}
	return false;
}

static noinline void bug_uaf(void)
{
	char *p = kmalloc(64, GFP_KERNEL);

	if (!p)
		return;
	memset(p, 'x', 64);
	kfree(p);
	OPTIMIZER_HIDE_VAR(p);
	pr_info("buggy: uaf read -> %d\n", READ_ONCE(p[8]));
}

static noinline void bug_oob(void)
{
	char *p = kmalloc(64, GFP_KERNEL);
	size_t i = 64;

	if (!p)
		return;
	OPTIMIZER_HIDE_VAR(i);
	pr_info("buggy: oob read -> %d\n", READ_ONCE(p[i]));
	kfree(p);
}

/*
 * KFENCE hands out one guarded object per sample interval (100 ms): allocate
 * until an allocation is a KFENCE one, then read the byte just outside it, on
 * its guard page (objects sit at the start or at the end of their page).
 */
static noinline void bug_kfence(void)
{
	unsigned long end = jiffies + 30 * HZ;
	char *p;

	while (time_before(jiffies, end)) {
		p = kmalloc(32, GFP_KERNEL);
		if (!p)
			return;
		if (is_kfence_address(p)) {
			long i = offset_in_page(p) ? 32 : -1;

			OPTIMIZER_HIDE_VAR(i);
			pr_info("buggy: kfence read -> %d\n", READ_ONCE(p[i]));
			kfree(p);
			return;
		}
		kfree(p);
		usleep_range(500, 1000);
	}
	pr_info("buggy: kfence: no sampled allocation within 30 s\n");
}

static noinline void bug_leak(void)
{
	int i;

	for (i = 0; i < 4; i++) {
		char *p = kmalloc(128, GFP_KERNEL);

		OPTIMIZER_HIDE_VAR(p);
		if (p)
			memset(p, 0xab, 128);	/* no pointers inside */
	}
	pr_info("buggy: leaked 4 x 128 bytes\n");
}

static DEFINE_MUTEX(lock_a);
static DEFINE_MUTEX(lock_b);
static noinline void bug_abba(void)
{
	mutex_lock(&lock_a);
	mutex_lock(&lock_b);
	mutex_unlock(&lock_b);
	mutex_unlock(&lock_a);

	mutex_lock(&lock_b);
	mutex_lock(&lock_a);	/* B -> A after A -> B */
	mutex_unlock(&lock_a);
	mutex_unlock(&lock_b);
	pr_info("buggy: abba done\n");
}

static DEFINE_SPINLOCK(slock);
static noinline void bug_atomic(void)
{
	spin_lock(&slock);
	might_sleep();
	spin_unlock(&slock);
	pr_info("buggy: atomic done\n");
}

static noinline void bug_ubsan(void)
{
	volatile int sh = 40;
	volatile u32 one = 1;

	pr_info("buggy: ubsan shift -> %u\n", one << sh);
}

struct tobj {
	struct timer_list t;
};

static void tfn(struct timer_list *t)
{
}

static noinline void bug_odebug(void)
{
	struct tobj *o = kzalloc(sizeof(*o), GFP_KERNEL);

	if (!o)
		return;
	timer_setup(&o->t, tfn, 0);
	mod_timer(&o->t, jiffies + 1000 * HZ);
	kfree(o);		/* freeing an active timer */
	pr_info("buggy: odebug done\n");
}

static struct net_device *held;
static netdevice_tracker held_tracker;
static noinline void bug_netref(void)
{
	rtnl_lock();
	held = __dev_get_by_name(&init_net, netdev);
	if (held)
		netdev_hold(held, &held_tracker, GFP_KERNEL);
	rtnl_unlock();
	pr_info("buggy: holding a tracked reference on %s: %s\n", netdev,
		held ? "yes" : "no such device");
}

static noinline void bug_refcount(void)
{
	refcount_t r = REFCOUNT_INIT(0);

	refcount_inc(&r);
	pr_info("buggy: refcount done\n");
}

static noinline void bug_warn(void)
{
	WARN(1, "buggy: planted warning\n");
}

static int __init buggy_init(void)
{
	pr_info("buggy: loaded, bugs='%s'\n", bugs);
	/*
	 * A KASAN report (any TAINT_BAD_PAGE) turns lockdep off: the lockdep
	 * bug goes first, the memory-safety bugs last.
	 */
	if (want("abba"))
		bug_abba();
	if (want("atomic"))
		bug_atomic();
	if (want("odebug"))
		bug_odebug();
	if (want("ubsan"))
		bug_ubsan();
	if (want("refcount"))
		bug_refcount();
	if (want("warn"))
		bug_warn();
	if (want("netref"))
		bug_netref();
	if (want("leak"))
		bug_leak();
	if (want("kfence"))
		bug_kfence();
	if (want("uaf"))
		bug_uaf();
	if (want("oob"))
		bug_oob();
	return 0;
}

static void __exit buggy_exit(void)
{
	if (held)
		netdev_put(held, &held_tracker);
	pr_info("buggy: unloaded\n");
}

module_init(buggy_init);
module_exit(buggy_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("deliberately buggy module: checks that the debug kernel's checkers fire");
