// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl rule: numbered accept/reject rules per session and direction.
 * The rules are kept as given in the namespace's "rules" map and compiled
 * into the classifier's maps on every change (rules.c).
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/vtap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfmaps.h"
#include "nl.h"
#include "rules.h"
#include "util.h"
#include "vtapctl.h"

struct rule_args {
	const char *session;
	__u32 num;
	int dir;		/* VTAP_DIR_*, -1 if not given */
	int spec_argc;
	char **spec_argv;
};

/* "session NAME num N dir {in|out}" in any order, then the rule itself. */
static int parse_head(int argc, char **argv, struct rule_args *a, bool need_num,
		      bool need_dir, bool allow_spec)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->dir = -1;
	for (i = 1; i < argc; i += 2) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		uint32_t v;

		if (!strcmp(kw, "accept") || !strcmp(kw, "reject")) {
			if (!allow_spec)
				break;
			a->spec_argc = argc - i;
			a->spec_argv = argv + i;
			i = argc;
			break;
		}
		if (strcmp(kw, "session") && strcmp(kw, "num") && strcmp(kw, "dir"))
			return unkarg("rule", kw);
		if (!val)
			return missarg(kw);
		if ((!strcmp(kw, "session") && a->session) || (!strcmp(kw, "num") && a->num) ||
		    (!strcmp(kw, "dir") && a->dir >= 0))
			return duparg(kw);
		if (!strcmp(kw, "session")) {
			if (check_session_name(val))
				return -EINVAL;
			a->session = val;
		} else if (!strcmp(kw, "num")) {
			if (parse_u32(val, 1, VTAP_RULE_NUM_MAX, &v)) {
				if (leading_zero(val))
					return badnum("num", val, 1, VTAP_RULE_NUM_MAX);
				errorf("num: '%s' is not a rule number from 1 to %u", val,
				       VTAP_RULE_NUM_MAX);
				return -EINVAL;
			}
			a->num = v;
		} else if (!strcmp(kw, "dir")) {
			if (!strcmp(val, "out"))
				a->dir = VTAP_DIR_OUT;
			else if (!strcmp(val, "in"))
				a->dir = VTAP_DIR_IN;
			else {
				errorf("dir: '%s' is not in or out", val);
				return -EINVAL;
			}
		}
	}
	if (i < argc) {
		errorf("unexpected '%s'", argv[i]);
		return -EINVAL;
	}
	if (!a->session || (need_num && !a->num) || (need_dir && a->dir < 0)) {
		errorf("%s is required", !a->session ? "session NAME" :
		       need_num && !a->num ? "num N" : "dir {in|out}");
		return -EINVAL;
	}
	if (allow_spec && !a->spec_argc) {
		errorf("accept or reject?");
		return -EINVAL;
	}
	return 0;
}

/* The id and cookie of session @name in this namespace. */
static int session_id_of(const char *name, uint32_t *id, uint64_t *cookie)
{
	struct session_info *v = NULL;
	struct vtap_nl nl;
	int rc, n = 0, err;

	rc = vnl_open_or_explain(&nl);
	if (rc)
		return rc;
	err = session_list(&nl, name, &v, &n);
	if (err || n != 1) {
		char w[96];

		snprintf(w, sizeof(w), "rule: session %s", name);
		rc = vnl_fail(&nl, err ? err : -ENOENT, w);
		free(v);
		vnl_close(&nl);
		return rc;
	}
	*id = v[0].id;
	*cookie = v[0].cookie;
	free(v);
	vnl_close(&nl);
	return VTAP_EXIT_OK;
}

/*
 * Rules of @sd made for another session (an earlier owner of the id, whose
 * deletion left them behind) are not this session's: remove them.
 */
static void purge_stale(struct vtap_rule_maps *m, __u32 sd, uint64_t cookie)
{
	struct vtap_rule_ent *v = NULL;
	int n, i;

	n = vtap_rules_read(m, sd, &v);
	for (i = 0; i < n; i++) {
		struct vtap_rule_key k = { .sd = sd, .num = v[i].num };

		if (v[i].r.cookie != cookie)
			bpf_map_delete_elem(m->rules, &k);
	}
	free(v);
}

/* Recompile @sd from the rules map; returns an exit code. */
static int recompile(struct vtap_rule_maps *m, __u32 sd, uint64_t cookie)
{
	struct vtap_compiled *c = calloc(1, sizeof(*c));
	struct vtap_rule_ent *v = NULL;
	int n, err;

	if (!c)
		return VTAP_EXIT_LIMIT;
	n = vtap_rules_read(m, sd, &v);
	err = n < 0 ? n : vtap_rules_compile(v, n, c);
	c->rs.cookie = cookie;
	err = err ?: vtap_rules_install(m, sd, c);
	free(v);
	free(c);
	if (err) {
		errorf("rule: cannot install the rules: %s", strerror(-err));
		return vtap_exit_code(err);
	}
	return VTAP_EXIT_OK;
}

static int rule_add(int argc, char **argv)
{
	struct vtap_rule_key key;
	struct vtap_rule_ent *v = NULL;
	struct vtap_rule_maps m;
	struct vtap_rule r;
	struct rule_args a;
	struct vtap_ns ns;
	char err[160];
	uint64_t cookie;
	uint32_t sid;
	int rc, n;

	if (parse_head(argc, argv, &a, true, true, true))
		return VTAP_EXIT_USAGE;
	if (vtap_rule_parse(a.spec_argc, a.spec_argv, &r, err, sizeof(err))) {
		errorf("rule: %s", err);
		return VTAP_EXIT_USAGE;
	}
	rc = session_id_of(a.session, &sid, &cookie);
	if (rc)
		return rc;
	rc = vtap_ns_open(&ns, VTAP_NS_CREATE);
	if (rc)
		return vtap_exit_code(rc);
	rc = vtap_rule_maps_open(&ns, &m);
	if (rc) {
		errorf("rule: the rule maps of this namespace are missing");
		vtap_ns_close(&ns);
		return vtap_exit_code(rc);
	}
	key.sd = VTAP_SD(sid, (__u32)a.dir);
	key.num = a.num;
	r.cookie = cookie;
	purge_stale(&m, key.sd, cookie);
	n = vtap_rules_read(&m, key.sd, &v);
	if (n >= VTAP_RULES_MAX) {
		errorf("rule: session %s has %d rules in this direction, the most there can be",
		       a.session, VTAP_RULES_MAX);
		rc = VTAP_EXIT_LIMIT;
	} else if (n < 0) {
		rc = vtap_exit_code(n);
	} else if (!bpf_map_update_elem(m.rules, &key, &r, BPF_NOEXIST)) {
		rc = recompile(&m, key.sd, cookie);
		if (rc)
			bpf_map_delete_elem(m.rules, &key);	/* leave it as it was */
	} else if (errno == EEXIST) {
		errorf("rule: session %s already has rule %u in direction %s", a.session,
		       a.num, a.dir == VTAP_DIR_IN ? "in" : "out");
		rc = VTAP_EXIT_EXIST;
	} else {
		errorf("rule: %s", strerror(errno));
		rc = vtap_exit_code(-errno);
	}
	free(v);
	vtap_rule_maps_close(&m);
	vtap_ns_close(&ns);
	return rc;
}

static int rule_del(int argc, char **argv)
{
	struct vtap_rule_maps m;
	struct vtap_rule_key key;
	struct rule_args a;
	struct vtap_ns ns;
	uint64_t cookie;
	uint32_t sid;
	int rc;

	if (parse_head(argc, argv, &a, true, true, false))
		return VTAP_EXIT_USAGE;
	rc = session_id_of(a.session, &sid, &cookie);
	if (rc)
		return rc;
	rc = vtap_ns_open(&ns, VTAP_NS_WRITE);
	if (rc)
		return vtap_exit_code(rc);
	key.sd = VTAP_SD(sid, (__u32)a.dir);
	key.num = a.num;
	if (!ns.exists || vtap_rule_maps_open(&ns, &m)) {
		errorf("rule: session %s has no rule %u in direction %s", a.session, a.num,
		       a.dir == VTAP_DIR_IN ? "in" : "out");
		vtap_ns_close(&ns);
		return VTAP_EXIT_NOENT;
	}
	purge_stale(&m, key.sd, cookie);
	if (bpf_map_delete_elem(m.rules, &key)) {
		errorf("rule: session %s has no rule %u in direction %s", a.session, a.num,
		       a.dir == VTAP_DIR_IN ? "in" : "out");
		rc = VTAP_EXIT_NOENT;
	} else {
		rc = recompile(&m, key.sd, cookie);
	}
	vtap_rule_maps_close(&m);
	vtap_ns_close(&ns);
	return rc;
}

static int cmp_key(const void *x, const void *y)
{
	const struct vtap_rule_key *a = x, *b = y;

	if (a->sd != b->sd)
		return a->sd < b->sd ? -1 : 1;
	return a->num < b->num ? -1 : a->num > b->num;
}

static int rule_show(int argc, char **argv)
{
	struct vtap_rule_key *keys = NULL, k, *prev = NULL;
	struct session_info *sv = NULL;
	struct vtap_rule_maps m;
	struct vtap_nl nl;
	struct vtap_ns ns;
	int rc, nsv = 0, n = 0, cap = 0, i, err;
	uint32_t only = 0;
	bool nomem = false;

	if (argc != 1 && !(argc == 3 && !strcmp(argv[1], "session"))) {
		errorf("usage: vtapctl rule show [session NAME]");
		return VTAP_EXIT_USAGE;
	}
	if (argc == 3 && check_session_name(argv[2]))
		return VTAP_EXIT_USAGE;
	rc = vnl_open_or_explain(&nl);
	if (rc)
		return rc;
	err = session_list(&nl, argc == 3 ? argv[2] : NULL, &sv, &nsv);
	if (err) {
		rc = vnl_fail(&nl, err, "rule show");
		vnl_close(&nl);
		return rc;
	}
	vnl_close(&nl);
	if (argc == 3)
		only = sv[0].id;

	rc = vtap_ns_open(&ns, VTAP_NS_READ);
	if (rc) {
		free(sv);
		return vtap_exit_code(rc);
	}
	/* All or nothing: no partial list that looks complete. */
	out_buffer_begin();
	out_open_array();
	if (ns.exists && !vtap_rule_maps_open(&ns, &m)) {
		while (!bpf_map_get_next_key(m.rules, prev, &k)) {
			if (n == cap) {
				void *nk = realloc(keys, (size_t)(cap = cap ? cap * 2 : 64) * sizeof(*keys));

				if (!nk) {
					nomem = true;
					break;
				}
				keys = nk;
			}
			keys[n++] = k;
			prev = &keys[n - 1];
		}
		if (n)
			qsort(keys, (size_t)n, sizeof(*keys), cmp_key);
		for (i = 0; i < n && !nomem; i++) {
			struct vtap_rule r;
			char buf[256];
			uint32_t sid = keys[i].sd >> 1;
			const char *name;

			if ((only && sid != only) ||
			    bpf_map_lookup_elem(m.rules, &keys[i], &r))
				continue;
			/* Only this session's: not rules an earlier owner of the id left. */
			name = session_name_cookie(sv, nsv, sid, r.cookie);
			if (!name)
				continue;
			vtap_rule_format(&r, buf, sizeof(buf));
			out_open_obj();
			out_str("session", "session %s", name);
			out_str("dir", " dir %s", keys[i].sd & 1 ? "in" : "out");
			out_u64("num", " num %llu", keys[i].num);
			out_str("rule", " %s", buf);
			out_close_obj();
		}
		vtap_rule_maps_close(&m);
	}
	out_close_array();
	out_buffer_end(!nomem);
	free(keys);
	free(sv);
	vtap_ns_close(&ns);
	if (nomem) {
		errorf("rule show: out of memory after %d rules", n);
		return VTAP_EXIT_LIMIT;
	}
	return VTAP_EXIT_OK;
}

static const struct vtap_subcmd rule_cmds[] = {
	{ "add", rule_add,
	  "session NAME num N dir {in|out} {accept|reject} [proto {tcp|udp|icmp|icmpv6|sctp|NUM}]\n"
	  "                  [src CIDR] [dst CIDR] [sport A[-B]] [dport A[-B]] [vlan N] [icmp-type T]" },
	{ "del", rule_del, "session NAME num N dir {in|out}" },
	{ "show", rule_show, "[session NAME]" },
};

int do_rule(int argc, char **argv)
{
	return run_subcmd("rule", rule_cmds, (int)(sizeof(rule_cmds) / sizeof(rule_cmds[0])),
			  argc, argv);
}
