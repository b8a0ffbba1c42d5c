// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl flow: which session gets a copy of which port's traffic, in which
 * direction (TaaS "tap-flow").  Flows are the session lists of a port's
 * entry in the namespace's "ports" map (struct vtap_port); sessions are
 * named here and stored by id.
 */
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

#define DIRS_OUT	(1U << VTAP_DIR_OUT)
#define DIRS_IN		(1U << VTAP_DIR_IN)

static const char *const dir_words[] = { "out", "in", "both" };
static const unsigned int dir_masks[] = { DIRS_OUT, DIRS_IN, DIRS_OUT | DIRS_IN };
static const char *const dir_names[VTAP_NDIRS] = {
	[VTAP_DIR_OUT]	= "out",
	[VTAP_DIR_IN]	= "in",
};

struct flow_args {
	const char *session;
	const char *dev;
	unsigned int dirs;
};

static int parse_flow(const char *what, int argc, char **argv, bool add,
		      struct flow_args *a)
{
	int i, k;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i += 2) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(kw, "session") && strcmp(kw, "port") && (strcmp(kw, "dir") || !add))
			return unkarg("flow", kw);
		if (!val)
			return missarg(kw);
		if (!strcmp(kw, "session") && !a->session) {
			if (check_session_name(val))
				return -EINVAL;
			a->session = val;
		} else if (!strcmp(kw, "port") && !a->dev) {
			if (check_dev_name(val))
				return -EINVAL;
			a->dev = val;
		} else if (!strcmp(kw, "dir") && add && !a->dirs) {
			k = parse_keyword(val, dir_words, NELEM(dir_words));
			if (k < 0) {
				errorf("%s: dir: '%s' is not one of in, out, both", what, val);
				return -EINVAL;
			}
			a->dirs = dir_masks[k];
		} else {
			return duparg(kw);
		}
	}
	if (!a->session || !a->dev || (add && !a->dirs)) {
		errorf("%s: %s is required", what,
		       !a->session ? "session" : !a->dev ? "port" : "dir");
		return -EINVAL;
	}
	return 0;
}

static int flow_change(int argc, char **argv, bool add)
{
	const char *what = add ? "flow add" : "flow del";
	struct session_info *si = NULL, *all = NULL;
	struct flow_args a;
	struct vtap_port p;
	struct vtap_nl nl;
	struct vtap_ns ns;
	unsigned int ifindex;
	bool found = false;
	__u64 cookie;
	__u32 sid;
	int rc, err, n, nall = 0, d;

	if (parse_flow(what, argc, argv, add, &a))
		return VTAP_EXIT_USAGE;
	rc = vnl_open_or_explain(&nl);
	if (rc)
		return rc;
	ifindex = dev_ifindex(a.dev);
	if (!ifindex) {
		vnl_close(&nl);
		return VTAP_EXIT_NOENT;
	}
	/* Locked from the session lookup on: session del takes the lock too. */
	err = vtap_ns_open(&ns, VTAP_NS_WRITE);
	if (err) {
		vnl_close(&nl);
		return vtap_exit_code(err);
	}
	err = session_list(&nl, a.session, &si, &n);
	if (err) {
		char w[96];

		snprintf(w, sizeof(w), "%s: session %s", what, a.session);
		rc = vnl_fail(&nl, err, w);
		goto out;
	}
	sid = si[0].id;
	cookie = si[0].cookie;
	free(si);
	err = session_list(&nl, NULL, &all, &nall);
	if (err) {
		rc = vnl_fail(&nl, err, what);
		goto out;
	}
	err = vtap_port_get(&ns, ifindex, &p);
	if (err) {
		if (err == -ENOENT)
			errorf("%s: %s is not a vtap port (vtapctl port add %s)", what,
			       a.dev, a.dev);
		else
			errorf("%s: cannot read the ports map: %s", what, strerror(-err));
		rc = vtap_exit_code(err);
		goto out;
	}
	/* Flows of deleted sessions (or of an id's earlier owner) go first. */
	vtap_port_forget_stale(&p, all, nall);
	if (add) {
		/* Check both directions before changing either. */
		for (d = 0; d < VTAP_NDIRS; d++) {
			if (!(a.dirs & (1U << d)))
				continue;
			if (vtap_port_has_session(&p, d, sid)) {
				errorf("%s: session %s has a flow on %s dir %s already",
				       what, a.session, a.dev, dir_names[d]);
				rc = VTAP_EXIT_EXIST;
				goto out;
			}
			if (p.nsess[d] >= VTAP_PORT_MAX_SESSIONS) {
				errorf("%s: %s has the maximum of %d sessions in dir %s",
				       what, a.dev, VTAP_PORT_MAX_SESSIONS, dir_names[d]);
				rc = VTAP_EXIT_LIMIT;
				goto out;
			}
		}
		for (d = 0; d < VTAP_NDIRS; d++) {
			if (!(a.dirs & (1U << d)))
				continue;
			p.cookie[d][p.nsess[d]] = cookie;
			p.sess[d][p.nsess[d]++] = (__u16)sid;
		}
	} else {
		for (d = 0; d < VTAP_NDIRS; d++)
			found |= vtap_port_remove_session(&p, d, sid);
		if (!found) {
			errorf("%s: session %s has no flow on %s", what, a.session, a.dev);
			rc = VTAP_EXIT_NOENT;
			goto out;
		}
	}
	err = vtap_port_put(&ns, ifindex, &p, false);
	if (err) {
		errorf("%s: cannot update the ports map: %s", what, strerror(-err));
		rc = vtap_exit_code(err);
		goto out;
	}
	rc = VTAP_EXIT_OK;
out:
	free(all);
	vtap_ns_close(&ns);
	vnl_close(&nl);
	return rc;
}

static int flow_add(int argc, char **argv)
{
	return flow_change(argc, argv, true);
}

static int flow_del(int argc, char **argv)
{
	return flow_change(argc, argv, false);
}

/* "[session NAME] [port DEV]", with the shared argument helpers. */
static int parse_show(int argc, char **argv, const char **session, const char **dev)
{
	*session = *dev = NULL;
	while (argc > 1) {
		argc--, argv++;
		if (!strcmp(*argv, "session")) {
			if (*session)
				return duparg(*argv);
			NEXT_ARG();
			if (check_session_name(*argv))
				return -EINVAL;
			*session = *argv;
		} else if (!strcmp(*argv, "port")) {
			if (*dev)
				return duparg(*argv);
			NEXT_ARG();
			if (check_dev_name(*argv))
				return -EINVAL;
			*dev = *argv;
		} else {
			return unkarg("flow", *argv);
		}
	}
	return 0;
}

/*
 * flow show [session NAME] [port DEV]: one line a (session, port), its
 * directions together ("both"), as flow add takes them.
 */
static int flow_show(int argc, char **argv)
{
	const char *session = NULL, *dev = NULL;
	struct session_info *sv = NULL;
	struct vtap_port_ent *v = NULL;
	unsigned int only = 0;
	struct vtap_nl nl;
	struct vtap_ns ns;
	int i, j, d, e, rc, err, n = 0, nsv = 0;

	if (parse_show(argc, argv, &session, &dev))
		return VTAP_EXIT_USAGE;
	rc = vnl_open_or_explain(&nl);
	if (rc)
		return rc;
	if (dev) {
		only = dev_ifindex(dev);
		if (!only) {
			vnl_close(&nl);
			return VTAP_EXIT_NOENT;
		}
	}
	err = session_list(&nl, session, &sv, &nsv);
	if (err) {
		rc = vnl_fail(&nl, err, "flow show");
		vnl_close(&nl);
		return rc;
	}
	vnl_close(&nl);
	err = vtap_ns_open(&ns, VTAP_NS_READ);
	if (!err && ns.exists)
		err = vtap_ports_read(&ns, &v, &n);
	if (err) {
		errorf("flow show: cannot read the ports: %s", strerror(-err));
		goto out;
	}
	if (only) {
		for (i = 0; i < n && v[i].ifindex != only; i++)
			;
		if (i == n) {
			errorf("flow show: %s is not a vtap port", dev);
			err = -ENOENT;
			goto out;
		}
	}
	out_open_array();
	for (i = 0; i < n; i++) {
		const struct vtap_port *p = &v[i].p;
		char name[IF_NAMESIZE];

		if (only && v[i].ifindex != only)
			continue;
		if (!if_indextoname(v[i].ifindex, name))
			snprintf(name, sizeof(name), "if%u", v[i].ifindex);
		for (e = 0; e < nsv; e++) {
			unsigned int dirs = 0;

			for (d = 0; d < VTAP_NDIRS; d++)
				for (j = 0; j < p->nsess[d] && j < VTAP_PORT_MAX_SESSIONS; j++)
					if (p->sess[d][j] == sv[e].id &&
					    p->cookie[d][j] == sv[e].cookie)
						dirs |= 1U << d;
			if (!dirs)
				continue;
			out_open_obj();
			out_str("session", "flow session %s", sv[e].name);
			out_str("port", " port %s", name);
			out_str("dir", " dir %s", dirs == (DIRS_OUT | DIRS_IN) ? "both" :
				dirs == DIRS_OUT ? "out" : "in");
			out_close_obj();
		}
	}
	out_close_array();
out:
	free(v);
	free(sv);
	vtap_ns_close(&ns);
	return vtap_exit_code(err);
}

static const struct vtap_subcmd flow_cmds[] = {
	{ "add", flow_add, "session NAME port DEV dir {in|out|both}" },
	{ "del", flow_del, "session NAME port DEV" },
	{ "show", flow_show, "[session NAME] [port DEV]" },
};

int do_flow(int argc, char **argv)
{
	return run_subcmd("flow", flow_cmds, NELEM(flow_cmds), argc, argv);
}
