/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vtapctl: the BPF side of ports and flows, per network namespace.
 *
 * State of a namespace lives in bpffs, in VTAP_PIN_ROOT/net<INODE> where
 * INODE is the st_ino of /proc/self/ns/net:
 *
 *   ports        hash map, ifindex -> struct vtap_port (with BTF)
 *   port_stats   per-CPU array, struct vtap_port_stats per port slot
 *   rules, rulesets, rule_*   the rules and their compiled form (rules.h)
 *                (every map of the object is pinned under its own name)
 *   netns        array map, [0] = the namespace's cookie (SO_NETNS_COOKIE):
 *                namespace inode numbers are reused, cookies are not, so a
 *                directory left behind by a deleted namespace is recognised
 *                and cleared instead of being mistaken for the new one's.
 *
 * The TC programs (vtap_tc_ingress, vtap_tc_egress) are not pinned: their
 * attachments to the ports' clsact hold them, every port of the namespace
 * shares one pair, and a new port gets the pair attached to another port
 * (a new load when there is none).  So deleting a namespace with its ports
 * frees its programs, which call vtap.ko's kfunc and would otherwise keep
 * the module busy; only the maps stay behind, and the directory is cleared
 * when its inode number comes back (the netns cookie tells).
 *
 * Changes are serialized with flock(LOCK_EX) on the directory itself;
 * readers take LOCK_SH.  The directory is removed when the namespace has no
 * port and no rule left.
 */
#ifndef VTAPCTL_BPFMAPS_H
#define VTAPCTL_BPFMAPS_H

#include <stdbool.h>
#include <linux/types.h>

#include "vtap_bpf.h"

#define VTAP_BPFFS		"/sys/fs/bpf"
#define VTAP_PIN_ROOT		VTAP_BPFFS "/vtap"

/*
 * Where the filters sit on clsact ingress/egress.  The handle ("vt") makes
 * our filters ours: bpf_tc_attach() refuses to replace another filter at
 * the same handle and priority, and detach/query address exactly ours.
 * Priority 1 runs before any other filter of the device, so that vtap sees
 * the frame as the VM sent it (or as it is delivered), before anything
 * else modifies, redirects or drops it.
 */
#define VTAP_TC_HANDLE		0x7674
#define VTAP_TC_PRIO		1

enum vtap_ns_mode {
	VTAP_NS_READ,		/* shared lock; a missing state is empty */
	VTAP_NS_WRITE,		/* exclusive lock; a missing state is empty */
	VTAP_NS_CREATE,		/* exclusive lock; mount bpffs, load, pin */
};

struct vtap_ns {
	enum vtap_ns_mode mode;
	char dir[64];		/* VTAP_PIN_ROOT/net<INODE> */
	int dir_fd;		/* holds the lock, or -1 */
	bool exists;		/* the maps are there (fds below valid) */
	int ports_fd;
	int stats_fd;
	int prog_fd[VTAP_NDIRS];	/* loaded or found, or -1 */
	int xdp_fd;			/* the XDP program, loaded or found, or -1 */
	int ncpus;
};

/* A port entry, as read from the map. */
struct vtap_port_ent {
	__u32 ifindex;
	struct vtap_port p;
};

/*
 * Exit code for a failure with errno @err (negative): like
 * exit_code_for_errno(), but an EINVAL from the kernel is no usage error.
 */
int vtap_exit_code(int err);

/*
 * Open (and lock) the namespace's state.  Returns 0 (check ns->exists for
 * READ and WRITE) or a negative errno after printing why.
 */
int vtap_ns_open(struct vtap_ns *ns, enum vtap_ns_mode mode);
/*
 * Unlock.  After WRITE or CREATE, a namespace left without ports and rules
 * loses its state (vtap_ns_gc()).
 */
void vtap_ns_close(struct vtap_ns *ns);
/*
 * If no port and no rule is left, unpin everything and remove the
 * directory, so that nothing holds vtap.ko.
 */
int vtap_ns_gc(struct vtap_ns *ns);

/* All ports, sorted by ifindex; free(*ents) after use. */
int vtap_ports_read(struct vtap_ns *ns, struct vtap_port_ent **ents, int *n);
int vtap_port_get(struct vtap_ns *ns, __u32 ifindex, struct vtap_port *p);
/* Write a port entry: a new one (@create) or an existing one. */
int vtap_port_put(struct vtap_ns *ns, __u32 ifindex, const struct vtap_port *p,
		  bool create);
int vtap_port_delete(struct vtap_ns *ns, __u32 ifindex);
int vtap_port_stats(struct vtap_ns *ns, __u32 slot, struct vtap_port_stats *sum);
int vtap_port_stats_zero(struct vtap_ns *ns, __u32 slot);

/* Flow lists of a port entry. */
bool vtap_port_has_session(const struct vtap_port *p, int dir, __u32 sid);
bool vtap_port_remove_session(struct vtap_port *p, int dir, __u32 sid);
/*
 * Remove the flows of @p whose session is not in @sv (by id and cookie:
 * deleted, or its id given to another session); returns how many.
 */
struct session_info;
int vtap_port_forget_stale(struct vtap_port *p, const struct session_info *sv,
			   int nsv);
/*
 * Remove session @sid from every port's flows in this namespace, and its
 * rules (both directions) from the rule maps.
 */
int vtap_ports_forget_session(struct vtap_ns *ns, __u32 sid);

/* The namespace's rule maps (rules.h), or -ENOENT if they are not pinned. */
struct vtap_rule_maps;
int vtap_rule_maps_open(struct vtap_ns *ns, struct vtap_rule_maps *m);
void vtap_rule_maps_close(struct vtap_rule_maps *m);

/*
 * Flow records (vtapctl flows): the namespace's flow maps, opened on their
 * own (they stay usable after vtap_ns_close()); cfg is flow_cfg mmapped
 * (read-only unless @writable), for atomic access to its counters.
 * Returns 0 or a negative errno after saying why.
 */
struct vtap_flow_maps {
	int flows[2];		/* flows4, flows6 */
	int lost;		/* flow_lost (per-CPU) */
	int ports;
	int cfg_fd;
	struct vtap_flow_cfg *cfg;
	int ncpus;
};
int vtap_flow_maps_open(struct vtap_ns *ns, struct vtap_flow_maps *m, bool writable);
void vtap_flow_maps_close(struct vtap_flow_maps *m);
/* The per-CPU flow_lost counters, summed. */
int vtap_flow_lost_read(const struct vtap_flow_maps *m, struct vtap_flow_lost *sum);
/* bpf_map_get_next_key() (a NULL @key: the first); 0 or -ENOENT after the last. */
int vtap_map_next_key(int fd, const void *key, void *next);

/*
 * TC: attach both programs to @ifindex (creating clsact if needed; *own
 * tells whether we did), undoing everything on failure; detach ours (and
 * destroy clsact if @own_clsact and no other filter is left); and whether
 * both of our filters are attached (1), not (0), or an error.
 */
int vtap_tc_attach(struct vtap_ns *ns, int ifindex, bool *own);
int vtap_tc_detach(int ifindex, bool own_clsact);
int vtap_tc_attached(int ifindex);
int vtap_xdp_attach(struct vtap_ns *ns, int ifindex);
int vtap_xdp_detach(int ifindex);
int vtap_xdp_attached(int ifindex);

#endif
