// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl port: monitored VM devices.  A port is a tap or veth of this
 * network namespace with vtap's TC programs on its clsact ingress and
 * egress, and an entry in the namespace's "ports" map (bpfmaps.h).
 *
 * A port whose device was deleted (or whose filters were removed behind
 * vtapctl's back) is "stale": port show marks it, and
 * "vtapctl port del ifindex N" removes it.
 */
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfmaps.h"
#include "nl.h"
#include "util.h"
#include "vtapctl.h"

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const dir_names[VTAP_NDIRS] = {
	[VTAP_DIR_OUT]	= "out",
	[VTAP_DIR_IN]	= "in",
};

bool uuid_set(const __u8 *uuid)
{
	int i;

	for (i = 0; i < 16; i++)
		if (uuid[i])
			return true;
	return false;
}

void format_uuid(const __u8 *u, char *buf, size_t len)
{
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
		 u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

int check_dev_name(const char *dev)
{
	if (!*dev || strlen(dev) >= IF_NAMESIZE) {
		errorf("'%s' is not a device name (1 to %d characters)", dev,
		       IF_NAMESIZE - 1);
		return -EINVAL;
	}
	return 0;
}

/* The ifindex of @dev in this namespace, or 0 after saying why. */
unsigned int dev_ifindex(const char *dev)
{
	unsigned int ifindex = if_nametoindex(dev);

	if (!ifindex)
		errorf("%s: no such device in this network namespace", dev);
	return ifindex;
}

/*
 * The device of a port entry: its name (empty if the ifindex is gone), and
 * whether the entry is stale: the device is gone, or our filters are not
 * on it (the ifindex now names another device, or they were removed).
 */
bool port_dev(__u32 ifindex, char *dev)
{
	if (!if_indextoname(ifindex, dev)) {
		dev[0] = 0;
		return true;
	}
	return vtap_tc_attached((int)ifindex) != 1;
}

/*
 * As port_dev(), for a port entry: also stale when the entry says XDP
 * mirrors what the VM sends but our XDP program is not on the device
 * (someone detached it): TC leaves those frames to XDP, so they go
 * unmirrored until `port set DEV xdp on` (or apply) puts it back.
 */
bool port_stale(const struct vtap_port_ent *e, char *dev)
{
	return port_dev(e->ifindex, dev) ||
	       ((e->p.flags & VTAP_PORT_F_XDP) && vtap_xdp_attached((int)e->ifindex) != 1);
}

static void print_dir_stats(const struct vtap_port_stats *st, int d)
{
	out_u64("packets", " packets %llu", st->packets[d]);
	out_u64("bytes", " bytes %llu", st->bytes[d]);
	out_u64("mirrored", " mirrored %llu", st->mirrored[d]);
	out_u64("dropped", " dropped %llu", st->dropped[d]);
}

void print_port(const struct vtap_port_ent *e, const struct vtap_port_stats *st,
		const struct session_info *sv, int nsv, bool flows)
{
	const struct vtap_port *p = &e->p;
	char dev[IF_NAMESIZE], uuid[40];
	bool stale = port_stale(e, dev);
	int d, i;

	out_open_obj();
	if (dev[0])
		out_str("dev", "port %s", dev);
	else
		out_text("port -");
	out_u64("ifindex", " ifindex %llu", e->ifindex);
	out_u64("id", " id %llu", p->port_id);
	if (uuid_set(p->vm_uuid)) {
		format_uuid(p->vm_uuid, uuid, sizeof(uuid));
		out_str("vm", " vm %s", uuid);
	}
	if (p->flags & (VTAP_PORT_F_REC_OUT | VTAP_PORT_F_REC_IN))
		out_str("records", " records %s", records_name(p->flags));
	else if (json_output)
		out_str("records", NULL, "none");
	out_bool("xdp", " xdp", p->flags & VTAP_PORT_F_XDP);
	out_bool("stale", " stale", stale);
	if (flows)
		out_bool("own_clsact", NULL, p->flags & VTAP_PORT_F_OWN_CLSACT);

	if (json_output && flows) {
		out_open_nested("flows");
		for (d = 0; d < VTAP_NDIRS; d++) {
			out_open_array_key(dir_names[d]);
			for (i = 0; i < p->nsess[d] && i < VTAP_PORT_MAX_SESSIONS; i++) {
				const char *name = session_name_cookie(sv, nsv, p->sess[d][i],
								       p->cookie[d][i]);

				out_open_obj();
				if (name)
					out_str("session", NULL, name);
				out_u64("id", NULL, p->sess[d][i]);
				if (!name)
					out_bool("deleted", NULL, true);
				out_close_obj();
			}
			out_close_array();
		}
		out_close_nested();
	}
	if (json_output) {
		out_open_nested("stats");
		for (d = 0; d < VTAP_NDIRS; d++) {
			out_open_nested(dir_names[d]);
			print_dir_stats(st, d);
			out_close_nested();
		}
		out_close_nested();
	} else {
		for (d = 0; d < VTAP_NDIRS; d++) {
			out_text("\n    %s:", dir_names[d]);
			if (flows) {
				out_text(" sessions");
				for (i = 0; i < p->nsess[d] && i < VTAP_PORT_MAX_SESSIONS; i++) {
					const char *name = session_name_cookie(sv, nsv,
									       p->sess[d][i],
									       p->cookie[d][i]);

					if (name)
						out_text(" %s", name);
					else
						out_text(" %u(deleted)", p->sess[d][i]);
				}
				if (!p->nsess[d])
					out_text(" none");
			}
			print_dir_stats(st, d);
		}
	}
	out_close_obj();
}

/* ---- port add ----------------------------------------------------------- */

struct port_add_args {
	const char *dev;
	bool have_id, have_vm, have_rec, have_xdp, xdp;
	__u32 id, rec;
	__u8 vm[16];
};

static int parse_port_add(int argc, char **argv, struct port_add_args *a)
{
	int i;

	static const char *const kws[] = { "id", "vm", "records", "xdp", NULL };

	memset(a, 0, sizeof(*a));
	drop_name_kw(&argc, argv, "dev");
	if (argc < 2) {
		errorf("port add: which device? (try 'vtapctl port help')");
		return -EINVAL;
	}
	a->dev = argv[1];
	if (check_dev_name(a->dev))
		return -EINVAL;
	for (i = 2; i < argc; i += 2) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!kw_in(kw, kws))
			return unkarg("port", kw);
		if (!val)
			return missarg(kw);
		if (!strcmp(kw, "id") && !a->have_id) {
			if (parse_u32(val, 0, VTAP_PORT_ID_MAX, &a->id))
				return badnum("id", val, 0, VTAP_PORT_ID_MAX);
			a->have_id = true;
		} else if (!strcmp(kw, "vm") && !a->have_vm) {
			if (parse_uuid(val, a->vm)) {
				errorf("vm: '%s' is not a UUID (8-4-4-4-12 hex digits)", val);
				return -EINVAL;
			}
			a->have_vm = true;
		} else if (!strcmp(kw, "records") && !a->have_rec) {
			if (parse_records(val, &a->rec)) {
				errorf("records: '%s' is not in, out, both or none", val);
				return -EINVAL;
			}
			a->have_rec = true;
		} else if (!strcmp(kw, "xdp") && !a->have_xdp) {
			if (parse_on_off(val, &a->xdp)) {
				errorf("xdp: '%s' is not on or off", val);
				return -EINVAL;
			}
			a->have_xdp = true;
		} else {
			return duparg(kw);
		}
	}
	return 0;
}

/* A port id for @a (given and unused, or the first free one >= 1) and a free slot. */
static int pick_id_slot(const struct port_add_args *a, const struct vtap_port_ent *v,
			int n, __u32 *id, __u32 *slot)
{
	static unsigned char used_slot[VTAP_MAX_PORTS];
	int i;

	if (n >= VTAP_MAX_PORTS) {
		errorf("port add: this namespace has the maximum of %d ports", VTAP_MAX_PORTS);
		return -ENOSPC;
	}
	if (a->have_id) {
		for (i = 0; i < n; i++) {
			if (v[i].p.port_id == a->id) {
				errorf("port add: id %u is used by the port with ifindex %u",
				       a->id, v[i].ifindex);
				return -EEXIST;
			}
		}
		*id = a->id;
	} else {
		/* n < VTAP_MAX_PORTS ids are taken: one of 1..n+1 is free. */
		for (*id = 1; ; (*id)++) {
			for (i = 0; i < n && v[i].p.port_id != *id; i++)
				;
			if (i == n)
				break;
		}
	}
	memset(used_slot, 0, sizeof(used_slot));
	for (i = 0; i < n; i++)
		if (v[i].p.slot < VTAP_MAX_PORTS)
			used_slot[v[i].p.slot] = 1;
	for (i = 0; i < VTAP_MAX_PORTS && used_slot[i]; i++)
		;
	if (i == VTAP_MAX_PORTS) {
		errorf("port add: no free statistics slot");
		return -ENOSPC;
	}
	*slot = (__u32)i;
	return 0;
}

static int port_add(int argc, char **argv)
{
	struct vtap_port_stats st;
	struct port_add_args a;
	struct vtap_port_ent e, *v = NULL;
	struct vtap_nl nl;
	struct vtap_ns ns;
	unsigned int ifindex;
	bool own = false;
	int rc, err, n, i;

	if (parse_port_add(argc, argv, &a))
		return VTAP_EXIT_USAGE;
	/* The programs call the module's kfunc: no loading without it. */
	rc = vnl_open_or_explain(&nl);
	if (rc)
		return rc;
	ifindex = dev_ifindex(a.dev);
	if (!ifindex) {
		vnl_close(&nl);
		return VTAP_EXIT_NOENT;
	}
	/* On failure, closing removes what the first port's load left. */
	err = vtap_ns_open(&ns, VTAP_NS_CREATE);
	if (err) {
		vnl_close(&nl);
		return vtap_exit_code(err);
	}
	err = vtap_ports_read(&ns, &v, &n);
	if (err) {
		errorf("port add: cannot read the ports map: %s", strerror(-err));
		goto out;
	}
	for (i = 0; i < n; i++) {
		char dev[IF_NAMESIZE];

		if (v[i].ifindex != ifindex)
			continue;
		if (port_dev(ifindex, dev))
			errorf("port add: ifindex %u has a stale port entry (remove it "
			       "with 'vtapctl port del ifindex %u')", ifindex, ifindex);
		else
			errorf("port add: %s is a vtap port already", a.dev);
		err = -EEXIST;
		goto out;
	}
	memset(&e, 0, sizeof(e));
	e.ifindex = ifindex;
	memcpy(e.p.vm_uuid, a.vm, sizeof(a.vm));
	e.p.flags = a.rec;
	err = pick_id_slot(&a, v, n, &e.p.port_id, &e.p.slot);
	if (err)
		goto out;
	err = vtap_port_stats_zero(&ns, e.p.slot);
	if (err) {
		errorf("port add: cannot reset the port's counters: %s", strerror(-err));
		goto out;
	}
	err = vtap_tc_attach(&ns, (int)ifindex, &own);
	if (err) {
		errorf("port add: %s is not a port (nothing changed)", a.dev);
		goto out;
	}
	if (own)
		e.p.flags |= VTAP_PORT_F_OWN_CLSACT;
	/* XDP after TC: until the entry says so, TC mirrors everything. */
	if (a.xdp) {
		err = vtap_xdp_attach(&ns, (int)ifindex);
		if (err) {
			errorf("port add: %s is not a port (nothing changed)", a.dev);
			vtap_tc_detach((int)ifindex, own);
			goto out;
		}
		e.p.flags |= VTAP_PORT_F_XDP;
	}
	err = vtap_port_put(&ns, ifindex, &e.p, true);
	if (err) {
		errorf("port add: cannot write the ports map: %s", strerror(-err));
		if (a.xdp)
			vtap_xdp_detach((int)ifindex);
		vtap_tc_detach((int)ifindex, own);
		goto out;
	}
	if (json_output) {
		memset(&st, 0, sizeof(st));
		out_open_array();
		print_port(&e, &st, NULL, 0, true);
		out_close_array();
	}
out:
	free(v);
	vtap_ns_close(&ns);
	vnl_close(&nl);
	return err ? vtap_exit_code(err) : VTAP_EXIT_OK;
}

/* ---- port del ----------------------------------------------------------- */

static int port_del(int argc, char **argv)
{
	const char *what;
	struct vtap_port p;
	struct vtap_ns ns;
	char dev[IF_NAMESIZE];
	__u32 ifindex = 0;
	int err;

	drop_name_kw(&argc, argv, "dev");
	if (argc == 3 && !strcmp(argv[1], "ifindex")) {
		if (parse_u32(argv[2], 1, INT32_MAX, &ifindex)) {
			errorf("port del: ifindex: '%s' is not a positive number", argv[2]);
			return VTAP_EXIT_USAGE;
		}
		what = argv[2];
	} else if (argc == 2) {
		if (check_dev_name(argv[1]))
			return VTAP_EXIT_USAGE;
		what = argv[1];
	} else {
		errorf("usage: vtapctl port del {DEV | ifindex N}");
		return VTAP_EXIT_USAGE;
	}
	if (!ifindex) {
		ifindex = if_nametoindex(argv[1]);
		if (!ifindex) {
			errorf("port del: %s: no such device in this network namespace "
			       "(a deleted device's port is stale: see 'vtapctl port show', "
			       "then 'vtapctl port del ifindex N')", argv[1]);
			return VTAP_EXIT_NOENT;
		}
	}
	err = vtap_ns_open(&ns, VTAP_NS_WRITE);
	if (err)
		return vtap_exit_code(err);
	err = vtap_port_get(&ns, ifindex, &p);
	if (err) {
		if (err == -ENOENT)
			errorf("port del: %s%s is not a vtap port",
			       argc == 3 ? "ifindex " : "", what);
		else
			errorf("port del: cannot read the ports map: %s", strerror(-err));
		goto out;
	}
	port_dev(ifindex, dev);
	/*
	 * Our filters go (from a live device; a deleted device took them
	 * with it); clsact stays, even if vtapctl made it: removing a qdisc
	 * from a device that is up resets its queues (dev_deactivate()),
	 * which can drop the VM's packets.  A stale entry's device may be
	 * another one by now: only our filters are touched.
	 */
	if (dev[0]) {
		err = vtap_xdp_detach((int)ifindex);
		if (!err)
			err = vtap_tc_detach((int)ifindex, false);
		if (err) {
			errorf("port del: cannot detach from %s: %s", dev, strerror(-err));
			goto out;
		}
	}
	err = vtap_port_delete(&ns, ifindex);
	if (err) {
		errorf("port del: cannot update the ports map: %s", strerror(-err));
		goto out;
	}
	err = vtap_ns_gc(&ns);
	if (err)
		errorf("port del: the port is deleted, but unpinning failed: %s",
		       strerror(-err));
out:
	vtap_ns_close(&ns);
	return vtap_exit_code(err);
}

/* ---- port set ----------------------------------------------------------- */

static int port_set(int argc, char **argv)
{
	struct vtap_port p;
	struct vtap_ns ns;
	unsigned int ifindex;
	bool have_rec = false, have_xdp = false, xdp = false;
	__u32 rec = 0;
	int err, i;

	drop_name_kw(&argc, argv, "dev");
	if (argc < 4 || argc % 2) {
		errorf("usage: vtapctl port set [dev] DEV [records {in|out|both|none}] "
		       "[xdp {on|off}]");
		return VTAP_EXIT_USAGE;
	}
	if (check_dev_name(argv[1]))
		return VTAP_EXIT_USAGE;
	for (i = 2; i < argc; i += 2) {
		if (!strcmp(argv[i], "records") && !have_rec) {
			if (parse_records(argv[i + 1], &rec)) {
				errorf("records: '%s' is not in, out, both or none",
				       argv[i + 1]);
				return VTAP_EXIT_USAGE;
			}
			have_rec = true;
		} else if (!strcmp(argv[i], "xdp") && !have_xdp) {
			if (parse_on_off(argv[i + 1], &xdp)) {
				errorf("xdp: '%s' is not on or off", argv[i + 1]);
				return VTAP_EXIT_USAGE;
			}
			have_xdp = true;
		} else if (!strcmp(argv[i], "records") || !strcmp(argv[i], "xdp")) {
			duparg(argv[i]);
			return VTAP_EXIT_USAGE;
		} else {
			unkarg("port", argv[i]);
			return VTAP_EXIT_USAGE;
		}
	}
	ifindex = dev_ifindex(argv[1]);
	if (!ifindex)
		return VTAP_EXIT_NOENT;
	err = vtap_ns_open(&ns, VTAP_NS_WRITE);
	if (err)
		return vtap_exit_code(err);
	err = ns.exists ? vtap_port_get(&ns, ifindex, &p) : -ENOENT;
	if (err) {
		if (err == -ENOENT)
			errorf("port set: %s is not a vtap port", argv[1]);
		else
			errorf("port set: cannot read the ports map: %s", strerror(-err));
		goto out;
	}
	if (have_rec)
		p.flags = (p.flags & ~(VTAP_PORT_F_REC_OUT | VTAP_PORT_F_REC_IN)) | rec;
	/*
	 * XDP on: attached, then the flag (TC mirrors everything until then);
	 * off: the flag, then detached.  Either way no frame goes unmirrored;
	 * one passing both programs as the flag flips may be mirrored twice.
	 */
	if (have_xdp && xdp) {
		err = vtap_xdp_attach(&ns, (int)ifindex);
		if (err) {
			errorf("port set: %s: XDP not attached (nothing changed)", argv[1]);
			goto out;
		}
		p.flags |= VTAP_PORT_F_XDP;
	} else if (have_xdp) {
		p.flags &= ~VTAP_PORT_F_XDP;
	}
	err = vtap_port_put(&ns, ifindex, &p, false);
	if (err) {
		errorf("port set: cannot write the ports map: %s", strerror(-err));
		goto out;
	}
	if (have_xdp && !xdp) {
		err = vtap_xdp_detach((int)ifindex);
		if (err)
			errorf("port set: cannot detach XDP from %s: %s", argv[1],
			       strerror(-err));
	}
out:
	vtap_ns_close(&ns);
	return vtap_exit_code(err);
}

/* ---- port show ---------------------------------------------------------- */

static int port_show(int argc, char **argv)
{
	struct session_info *sv = NULL;
	struct vtap_port_ent *v = NULL;
	struct vtap_port_stats *st = NULL;
	unsigned int only = 0;
	struct vtap_nl nl;
	struct vtap_ns ns;
	int rc, err, n = 0, nsv = 0, i;

	drop_name_kw(&argc, argv, "dev");
	if (argc > 2) {
		errorf("usage: vtapctl port show [[dev] DEV]");
		return VTAP_EXIT_USAGE;
	}
	if (argc == 2 && check_dev_name(argv[1]))
		return VTAP_EXIT_USAGE;
	rc = vnl_open_or_explain(&nl);
	if (rc)
		return rc;
	if (argc == 2) {
		only = dev_ifindex(argv[1]);
		if (!only) {
			vnl_close(&nl);
			return VTAP_EXIT_NOENT;
		}
	}
	err = session_list(&nl, NULL, &sv, &nsv);
	if (err) {
		rc = vnl_fail(&nl, err, "port show");
		vnl_close(&nl);
		return rc;
	}
	err = vtap_ns_open(&ns, VTAP_NS_READ);
	if (!err)
		err = vtap_ports_read(&ns, &v, &n);
	if (err)
		goto out;
	if (only) {
		for (i = 0; i < n && v[i].ifindex != only; i++)
			;
		if (i == n) {
			errorf("port show: %s is not a vtap port", argv[1]);
			err = -ENOENT;
			goto out;
		}
	}
	/* Read everything first: no half-printed JSON on an error. */
	st = calloc((size_t)n + 1, sizeof(*st));
	if (!st) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n && !err; i++)
		err = vtap_port_stats(&ns, v[i].p.slot, &st[i]);
	if (err) {
		errorf("port show: cannot read the port counters: %s", strerror(-err));
		goto out;
	}
	out_open_array();
	for (i = 0; i < n; i++)
		if (!only || v[i].ifindex == only)
			print_port(&v[i], &st[i], sv, nsv, true);
	out_close_array();
out:
	free(st);
	free(v);
	free(sv);
	vtap_ns_close(&ns);
	vnl_close(&nl);
	return vtap_exit_code(err);
}

static const struct vtap_subcmd port_cmds[] = {
	{ "add", port_add, "DEV [vm UUID] [id N] [records {in|out|both|none}] [xdp {on|off}]" },
	{ "set", port_set, "DEV [records {in|out|both|none}] [xdp {on|off}]" },
	{ "del", port_del, "{DEV | ifindex N}" },
	{ "show", port_show, "[DEV]" },
};

int do_port(int argc, char **argv)
{
	return run_subcmd("port", port_cmds, NELEM(port_cmds), argc, argv);
}
