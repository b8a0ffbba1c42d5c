// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl apply: make the sessions, rules and ports of this network
 * namespace what a configuration file (conf.c) says, changing only what
 * differs, like "nft -f" or "wg syncconf":
 *
 *  1. sessions: the file's, no others.  A session whose options differ is
 *     changed in place (session set) when the kernel can, else replaced
 *     (deleted and added: a new cookie, so its flows and rules are made
 *     again below); a session the file does not name is deleted.
 *  2. rules: per session and direction, the file's set; a set that differs
 *     is rewritten and recompiled once.
 *  3. ports: a device that exactly one VM of the file matches is a port
 *     with the VM's port id, UUID and flows; a port whose device is gone,
 *     or matches no VM, is removed.  A device that two VMs match is left
 *     alone (and said so): the file is ambiguous for it.
 *
 * Each change is one line of the report; nothing is said of what already
 * matches.  The data path never waits for any of it: every map update is
 * one atomic element update.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "apply.h"
#include "bpfmaps.h"
#include "conf.h"
#include "nl.h"
#include "rules.h"
#include "util.h"
#include "vtapctl.h"

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void log_stdout(bool error, const char *line)
{
	fprintf(error ? stderr : stdout, "%s%s\n", error ? "vtapctl: " : "", line);
}

void (*apply_log)(bool error, const char *line) = log_stdout;

struct run {
	const struct vtap_conf *c;
	bool check;
	int changes, errors;
};

static void say(struct run *r, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct run *r, bool error, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (error)
		r->errors++;
	else
		r->changes++;
	apply_log(error, line);
}

/* ---- links (rtnetlink) ---------------------------------------------------- */

static void link_parse(struct nlmsghdr *h, struct conf_link *l, bool *loopback)
{
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	struct rtattr *a;

	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	*loopback = ifi->ifi_flags & IFF_LOOPBACK;
	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t n = RTA_PAYLOAD(a);

		if (a->rta_type == IFLA_IFNAME && n) {
			snprintf(l->name, sizeof(l->name), "%.*s", (int)n,
				 (const char *)RTA_DATA(a));
		} else if (a->rta_type == IFLA_ADDRESS && n == 6) {
			memcpy(l->mac, RTA_DATA(a), 6);
			l->has_mac = true;
		} else if (a->rta_type == IFLA_IFALIAS && n) {
			snprintf(l->alias, sizeof(l->alias), "%.*s", (int)n,
				 (const char *)RTA_DATA(a));
		}
	}
}

/* Every link of this namespace but loopback; free(*out) after use. */
static int links_dump(struct conf_link **out, int *nout)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {
		.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		.h.nlmsg_type = RTM_GETLINK,
		.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.h.nlmsg_seq = 1,
		.i.ifi_family = AF_UNSPEC,
	};
	struct conf_link *v = NULL, *nv;
	int fd, n = 0, cap = 0, err = 0;
	bool done = false;
	char *buf;

	*out = NULL;
	*nout = 0;
	buf = malloc(32768);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0 || !buf) {
		err = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	if (send(fd, &req, req.h.nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	while (!done && !err) {
		ssize_t len = recv(fd, buf, 32768, 0);
		struct nlmsghdr *h;

		if (len < 0) {
			err = -errno;
			break;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len)) {
			bool lo;

			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				err = e->error ? e->error : -EIO;
				break;
			}
			if (h->nlmsg_type != RTM_NEWLINK)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 32;
				nv = realloc(v, (size_t)cap * sizeof(*v));
				if (!nv) {
					err = -ENOMEM;
					break;
				}
				v = nv;
			}
			link_parse(h, &v[n], &lo);
			if (!lo && v[n].name[0])
				n++;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*nout = n;
	return 0;
}

/* ---- sessions ------------------------------------------------------------- */

/* A session as its attributes, for comparing. */
struct sess_attrs {
	char name[VTAP_NAME_MAX];
	uint32_t id;
	uint64_t cookie;
	int len[VTAP_A_SESSION_MAX + 1];	/* -1: absent */
	uint8_t val[VTAP_A_SESSION_MAX + 1][16];
};

static void attrs_from_tb(struct sess_attrs *s, struct nlattr **tb)
{
	int t;

	memset(s, 0, sizeof(*s));
	for (t = 0; t <= VTAP_A_SESSION_MAX; t++) {
		s->len[t] = -1;
		if (!tb[t] || t == VTAP_A_SESSION_STATS || t == VTAP_A_SESSION_NAME ||
		    nla_len(tb[t]) > 16)
			continue;
		s->len[t] = nla_len(tb[t]);
		memcpy(s->val[t], nla_data(tb[t]), (size_t)s->len[t]);
	}
	if (tb[VTAP_A_SESSION_NAME])
		snprintf(s->name, sizeof(s->name), "%s", nla_get_string(tb[VTAP_A_SESSION_NAME]));
	if (tb[VTAP_A_SESSION_ID])
		s->id = nla_get_u32(tb[VTAP_A_SESSION_ID]);
	if (tb[VTAP_A_SESSION_COOKIE])
		s->cookie = nla_get_u64(tb[VTAP_A_SESSION_COOKIE]);
}

/* What a new session has when the request does not say (kmod/netlink.c). */
static const struct {
	int type, len;
	uint32_t val;
} attr_defaults[] = {
	{ VTAP_A_SESSION_TTL, 1, 64 },
	{ VTAP_A_SESSION_TOS, 1, 0 },
	{ VTAP_A_SESSION_HWID, 1, 0 },
	{ VTAP_A_SESSION_GRA, 1, VTAP_GRA_100US },
	{ VTAP_A_SESSION_DPORT, 2, 4789 },
	{ VTAP_A_SESSION_SNAPLEN, 4, 0 },
	{ VTAP_A_SESSION_SAMPLE, 4, 1 },
	{ VTAP_A_SESSION_SAMPLE_MODE, 1, VTAP_SAMPLE_RANDOM },
	{ VTAP_A_SESSION_FLAGS, 4, 0 },
	{ VTAP_A_SESSION_RATE, 8, 0 },
	{ VTAP_A_SESSION_SUBHDR, 1, 0 },
	{ VTAP_A_SESSION_DEDUP, 4, 0 },
};

/* Attribute @t of @s, with the default filled in; false if absent. */
static bool attr_get(const struct sess_attrs *s, int t, uint8_t *buf, int *len)
{
	int i;

	if (s->len[t] >= 0) {
		*len = s->len[t];
		memcpy(buf, s->val[t], (size_t)*len);
		return true;
	}
	for (i = 0; i < NELEM(attr_defaults); i++) {
		uint64_t v = attr_defaults[i].val;

		if (attr_defaults[i].type != t)
			continue;
		*len = attr_defaults[i].len;
		memset(buf, 0, 16);
		if (*len == 1)
			buf[0] = (uint8_t)v;
		else if (*len == 2)
			*(uint16_t *)buf = (uint16_t)v;
		else if (*len == 4)
			*(uint32_t *)buf = (uint32_t)v;
		else
			memcpy(buf, &v, 8);
		return true;
	}
	return false;
}

/*
 * Compare the session the file wants (@w, parsed from its line) with the
 * kernel's (@k).  Returns 0 if they are the same, 1 if session set can
 * make @k into @w, 2 if it must be replaced; @what names the first
 * difference.
 */
static int sess_diff(const struct sess_attrs *w, const struct sess_attrs *k,
		     const char **what)
{
	/* What session set cannot do: change the encap, remove a local or a key. */
	enum { SET, REPLACE, REPLACE_IF_GONE };
	static const struct {
		int type;
		const char *name;
		int how;
	} cmp[] = {
		{ VTAP_A_SESSION_ENCAP, "encap", REPLACE },
		{ VTAP_A_SESSION_REMOTE4, "remote", SET },
		{ VTAP_A_SESSION_REMOTE6, "remote", SET },
		{ VTAP_A_SESSION_LOCAL4, "local", REPLACE_IF_GONE },
		{ VTAP_A_SESSION_LOCAL6, "local", REPLACE_IF_GONE },
		{ VTAP_A_SESSION_KEY, "key", REPLACE_IF_GONE },
		{ VTAP_A_SESSION_TTL, "ttl", SET },
		{ VTAP_A_SESSION_TOS, "tos", SET },
		{ VTAP_A_SESSION_HWID, "hwid", SET },
		{ VTAP_A_SESSION_GRA, "gra", SET },
		{ VTAP_A_SESSION_SUBHDR, "subheader", SET },
		{ VTAP_A_SESSION_DPORT, "dstport", SET },
		{ VTAP_A_SESSION_SNAPLEN, "snaplen", SET },
		{ VTAP_A_SESSION_SAMPLE, "sample", SET },
		{ VTAP_A_SESSION_SAMPLE_MODE, "sample", SET },
		{ VTAP_A_SESSION_MASK_OFFSET, "mask", SET },
		{ VTAP_A_SESSION_MASK_LEN, "mask", SET },
		{ VTAP_A_SESSION_MASK_BYTE, "mask", SET },
		{ VTAP_A_SESSION_RATE, "rate", SET },
		{ VTAP_A_SESSION_RATE_UNIT, "rate", SET },
		{ VTAP_A_SESSION_FLAGS, "gso/unparsed", SET },
		{ VTAP_A_SESSION_DEDUP, "dedup", SET },
	};
	uint8_t a[16], b[16];
	int i, la, lb, worst = 0;
	bool ha, hb;

	*what = NULL;
	/* The id, VNI and burst only when the file gives them. */
	if (w->len[VTAP_A_SESSION_ID] >= 0 && w->id != k->id) {
		*what = "id";
		return 2;
	}
	for (i = 0; i < NELEM(cmp); i++) {
		int t = cmp[i].type;

		ha = attr_get(w, t, a, &la);
		hb = attr_get(k, t, b, &lb);
		if (ha == hb && (!ha || (la == lb && !memcmp(a, b, (size_t)la))))
			continue;
		/* A rate of 0 is no rate, whatever its unit. */
		if (t == VTAP_A_SESSION_RATE_UNIT) {
			uint8_t r1[16], r2[16];
			int l1, l2;

			attr_get(w, VTAP_A_SESSION_RATE, r1, &l1);
			attr_get(k, VTAP_A_SESSION_RATE, r2, &l2);
			if (!*(uint64_t *)r1 && !*(uint64_t *)r2)
				continue;
		}
		/* Set changes the rest, "none" removes a mask or a rate. */
		if (cmp[i].how == REPLACE || (cmp[i].how == REPLACE_IF_GONE && !ha)) {
			*what = cmp[i].name;
			return 2;
		}
		if (!*what)
			*what = cmp[i].name;
		worst = 1;
	}
	if (w->len[VTAP_A_SESSION_VNI] >= 0 &&
	    (k->len[VTAP_A_SESSION_VNI] != 4 ||
	     memcmp(w->val[VTAP_A_SESSION_VNI], k->val[VTAP_A_SESSION_VNI], 4))) {
		*what = *what ? *what : "vni";
		worst = worst ? worst : 1;
	}
	if (w->len[VTAP_A_SESSION_BURST] >= 0 &&
	    (k->len[VTAP_A_SESSION_BURST] != 4 ||
	     memcmp(w->val[VTAP_A_SESSION_BURST], k->val[VTAP_A_SESSION_BURST], 4))) {
		*what = *what ? *what : "burst";
		worst = worst ? worst : 1;
	}
	return worst;
}

struct sess_list {
	struct sess_attrs *v;
	int n, cap;
};

static int sess_list_cb(struct nlattr **tb, void *arg)
{
	struct sess_list *l = arg;

	if (!tb[VTAP_A_SESSION_NAME] || !tb[VTAP_A_SESSION_ID])
		return 0;
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 16;
		struct sess_attrs *v = realloc(l->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	attrs_from_tb(&l->v[l->n++], tb);
	return 0;
}

static int sess_list_reset(void *arg)
{
	((struct sess_list *)arg)->n = 0;
	return 0;
}

static int sessions_read(struct vtap_nl *nl, struct sess_list *l)
{
	memset(l, 0, sizeof(*l));
	return vnl_dump(nl, VTAP_CMD_SESSION_GET, VTAP_A_SESSION_MAX, sess_list_reset,
			sess_list_cb, l);
}

static struct sess_attrs *sess_find(struct sess_list *l, const char *name)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

/* The file's session line as attributes (it parsed when the file loaded). */
static int sess_wanted(const struct conf_session *cs, struct sess_attrs *w)
{
	struct nlattr *tb[VTAP_A_SESSION_MAX + 1];
	char *argv[cs->argc + 1];
	struct nl_msg *msg;
	struct nlmsghdr *h;
	int err;

	argv[0] = (char *)cs->name;
	memcpy(argv + 1, cs->argv, (size_t)cs->argc * sizeof(char *));
	msg = session_parse_add(cs->argc + 1, argv);
	if (!msg)
		return -EINVAL;
	h = nlmsg_hdr(msg);
	err = nla_parse(tb, VTAP_A_SESSION_MAX, nlmsg_attrdata(h, 0),
			nlmsg_attrlen(h, 0), NULL);
	if (!err)
		attrs_from_tb(w, tb);
	nlmsg_free(msg);
	return err ? -EINVAL : 0;
}

/*
 * "session set" for @cs: the file's options, and for each it does not give
 * the default, so that options removed from the file are undone.
 */
static int sess_set(const struct conf_session *cs, int encap)
{
	static const struct {
		const char *kw;
		const char *dflt[3];
		int encap;		/* 0: any */
	} resets[] = {
		{ "ttl", { "64" }, 0 }, { "tos", { "0" }, 0 },
		{ "hwid", { "0" }, VTAP_ENCAP_ERSPAN3 },
		{ "gra", { "100us" }, VTAP_ENCAP_ERSPAN3 },
		{ "subheader", { "none" }, VTAP_ENCAP_ERSPAN3 },
		{ "dstport", { "4789" }, VTAP_ENCAP_VXLAN },
		{ "snaplen", { "none" }, 0 }, { "sample", { "1/1", "random" }, 0 },
		{ "mask", { "none" }, 0 }, { "rate", { "none" }, 0 },
		{ "gso", { "segment" }, 0 }, { "unparsed", { "mirror" }, 0 },
		{ "dedup", { "off" }, 0 },
	};
	char *argv[1 + cs->argc + 3 * NELEM(resets)];
	int argc = 0, i, j, k;

	argv[argc++] = (char *)cs->name;
	/* Neither encap nor id can be set (they are the same here). */
	for (i = 0; i < cs->argc; i++) {
		if (!strcmp(cs->argv[i], "encap") || !strcmp(cs->argv[i], "id"))
			i++;
		else
			argv[argc++] = cs->argv[i];
	}
	for (k = 0; k < NELEM(resets); k++) {
		if (resets[k].encap && resets[k].encap != encap)
			continue;
		for (i = 0; i < cs->argc && strcmp(cs->argv[i], resets[k].kw); i++)
			;
		if (i < cs->argc)
			continue;
		argv[argc++] = (char *)resets[k].kw;
		for (j = 0; j < 3 && resets[k].dflt[j]; j++)
			argv[argc++] = (char *)resets[k].dflt[j];
	}
	return session_command(false, argc, argv);
}

static int sess_add(const struct conf_session *cs)
{
	char *argv[cs->argc + 1];

	argv[0] = (char *)cs->name;
	memcpy(argv + 1, cs->argv, (size_t)cs->argc * sizeof(char *));
	return session_command(true, cs->argc + 1, argv);
}

static int apply_sessions(struct run *r, struct vtap_nl *nl)
{
	const struct vtap_conf *c = r->c;
	struct sess_list l;
	struct sess_attrs w;
	bool jo = json_output;
	int i, err, rc;

	err = sessions_read(nl, &l);
	if (err) {
		say(r, true, "cannot list the sessions: %s", strerror(-err));
		return err;
	}
	json_output = false;	/* the commands below print nothing then */
	for (i = 0; i < l.n; i++) {
		if (conf_session(c, l.v[i].name))
			continue;
		if (!r->check && (rc = session_delete(l.v[i].name)))
			say(r, true, "session %s: delete failed (exit %d)", l.v[i].name, rc);
		else
			say(r, false, "session %s: %s (not in %s)", l.v[i].name,
			    r->check ? "would delete" : "deleted",
			    c->path ? c->path : "the file");
	}
	for (i = 0; i < c->nsess && !err; i++) {
		const struct conf_session *cs = &c->sess[i];
		struct sess_attrs *k = sess_find(&l, cs->name);
		const char *what;
		int d;

		if (sess_wanted(cs, &w)) {
			err = -EINVAL;
			break;
		}
		if (!k) {
			if (!r->check && (rc = sess_add(cs)))
				say(r, true, "session %s: add failed (exit %d)", cs->name, rc);
			else
				say(r, false, "session %s: %s", cs->name,
				    r->check ? "would add" : "added");
			continue;
		}
		d = sess_diff(&w, k, &what);
		if (!d)
			continue;
		if (d == 1) {
			if (!r->check && (rc = sess_set(cs, w.val[VTAP_A_SESSION_ENCAP][0])))
				say(r, true, "session %s: set failed (exit %d)", cs->name, rc);
			else
				say(r, false, "session %s: %s (%s)", cs->name,
				    r->check ? "would change" : "changed", what);
			continue;
		}
		rc = 0;
		if (!r->check) {
			rc = session_delete(cs->name);
			if (!rc)
				rc = sess_add(cs);
		}
		if (rc)
			say(r, true, "session %s: replace failed (exit %d)", cs->name, rc);
		else
			say(r, false, "session %s: %s (%s differs; its flows and rules are made again)",
			    cs->name, r->check ? "would replace" : "replaced", what);
	}
	json_output = jo;
	free(l.v);
	return err;
}

/* ---- rules ---------------------------------------------------------------- */

static int rule_cmp(const void *x, const void *y)
{
	const struct vtap_rule_ent *a = x, *b = y;

	return a->num < b->num ? -1 : a->num > b->num;
}

/* Make the rules of (@sid, @dir) the file's; true if they changed. */
static int apply_rules_sd(struct run *r, struct vtap_rule_maps *m,
			  const struct sess_attrs *s, int dir)
{
	const struct vtap_conf *c = r->c;
	struct vtap_rule_ent want[VTAP_RULES_MAX], *have = NULL;
	struct vtap_compiled *comp;
	__u32 sd = VTAP_SD(s->id, (__u32)dir);
	int nw = 0, nh, i, err = 0;
	bool same;

	for (i = 0; i < c->nrules; i++) {
		if (strcmp(c->rules[i].session, s->name) || c->rules[i].dir != dir)
			continue;
		if (nw == VTAP_RULES_MAX) {
			say(r, true, "session %s dir %s: more than %d rules", s->name,
			    dir == VTAP_DIR_IN ? "in" : "out", VTAP_RULES_MAX);
			return -ENOSPC;
		}
		want[nw].num = c->rules[i].num;
		want[nw].r = c->rules[i].rule;
		want[nw].r.cookie = s->cookie;
		nw++;
	}
	qsort(want, (size_t)nw, sizeof(want[0]), rule_cmp);
	nh = m ? vtap_rules_read(m, sd, &have) : 0;
	if (nh < 0)
		return nh;
	same = nh == nw;
	for (i = 0; same && i < nw; i++)
		same = have[i].num == want[i].num &&
		       !memcmp(&have[i].r, &want[i].r, sizeof(want[i].r));
	if (same) {
		free(have);
		return 0;
	}
	say(r, false, "rules of session %s dir %s: %s (%d, were %d)", s->name,
	    dir == VTAP_DIR_IN ? "in" : "out", r->check ? "would rewrite" : "rewritten",
	    nw, nh);
	if (r->check || !m) {
		free(have);
		return 0;
	}
	for (i = 0; i < nh; i++) {
		struct vtap_rule_key k = { .sd = sd, .num = have[i].num };

		bpf_map_delete_elem(m->rules, &k);
	}
	for (i = 0; i < nw && !err; i++) {
		struct vtap_rule_key k = { .sd = sd, .num = want[i].num };

		if (bpf_map_update_elem(m->rules, &k, &want[i].r, BPF_ANY))
			err = -errno;
	}
	comp = calloc(1, sizeof(*comp));
	if (!comp)
		err = -ENOMEM;
	if (!err)
		err = vtap_rules_compile(want, nw, comp);
	if (!err) {
		comp->rs.cookie = s->cookie;
		err = vtap_rules_install(m, sd, comp);
	}
	free(comp);
	free(have);
	if (err)
		say(r, true, "rules of session %s dir %s: %s", s->name,
		    dir == VTAP_DIR_IN ? "in" : "out", strerror(-err));
	return err;
}

/* ---- ports ---------------------------------------------------------------- */

/* The flows @vm wants, as a port entry's session lists. */
static int vm_flows(struct run *r, const struct conf_vm *vm, const struct sess_list *l,
		    struct vtap_port *p)
{
	int i, d, k;

	memset(p->nsess, 0, sizeof(p->nsess));
	memset(p->sess, 0, sizeof(p->sess));
	memset(p->cookie, 0, sizeof(p->cookie));
	for (i = 0; i < vm->nflows; i++) {
		const struct sess_attrs *s = NULL;

		for (k = 0; k < l->n; k++)
			if (!strcmp(l->v[k].name, vm->flows[i].session))
				s = &l->v[k];
		if (!s)
			continue;	/* --check: not made yet */
		for (d = 0; d < VTAP_NDIRS; d++) {
			if (!(vm->flows[i].dirs & (1U << d)))
				continue;
			if (p->nsess[d] == VTAP_PORT_MAX_SESSIONS) {
				say(r, true, "vm %s: more than %d sessions in one direction",
				    vm->name, VTAP_PORT_MAX_SESSIONS);
				return -ENOSPC;
			}
			p->cookie[d][p->nsess[d]] = s->cookie;
			p->sess[d][p->nsess[d]++] = (__u16)s->id;
		}
	}
	return 0;
}

static bool flows_equal(const struct vtap_port *a, const struct vtap_port *b)
{
	int d, i, j;

	for (d = 0; d < VTAP_NDIRS; d++) {
		if (a->nsess[d] != b->nsess[d])
			return false;
		for (i = 0; i < a->nsess[d]; i++) {
			for (j = 0; j < b->nsess[d]; j++)
				if (a->sess[d][i] == b->sess[d][j] &&
				    a->cookie[d][i] == b->cookie[d][j])
					break;
			if (j == b->nsess[d])
				return false;
		}
	}
	return true;
}

static void flows_text(const struct conf_vm *vm, char *buf, size_t len)
{
	static const char *const dn[] = { "", "out", "in", "both" };
	size_t o = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < vm->nflows && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s %s", i ? ", " : "",
				      vm->flows[i].session, dn[vm->flows[i].dirs & 3]);
	if (!vm->nflows)
		snprintf(buf, len, "none");
}

static const struct conf_vm *link_vm(struct run *r, const struct conf_link *l,
				     bool *ambiguous)
{
	const struct conf_vm *found = NULL;
	int i;

	*ambiguous = false;
	for (i = 0; i < r->c->nvms; i++) {
		if (!conf_vm_matches(&r->c->vms[i], l))
			continue;
		if (found) {
			say(r, true, "%s matches vm %s and vm %s: left alone", l->name,
			    found->name, r->c->vms[i].name);
			*ambiguous = true;
			return NULL;
		}
		found = &r->c->vms[i];
	}
	return found;
}

static int free_slot(const struct vtap_port_ent *v, int n, __u32 *slot)
{
	static unsigned char used[VTAP_MAX_PORTS];
	int i;

	memset(used, 0, sizeof(used));
	for (i = 0; i < n; i++)
		if (v[i].ifindex && v[i].p.slot < VTAP_MAX_PORTS)
			used[v[i].p.slot] = 1;
	for (i = 0; i < VTAP_MAX_PORTS && used[i]; i++)
		;
	if (i == VTAP_MAX_PORTS)
		return -ENOSPC;
	*slot = (__u32)i;
	return 0;
}

static int port_remove(struct run *r, struct vtap_ns *ns, struct vtap_port_ent *e,
		       const char *dev, const char *why)
{
	int err = 0;

	if (!r->check && dev[0])
		err = vtap_xdp_detach((int)e->ifindex);
	if (!r->check && dev[0] && !err)
		err = vtap_tc_detach((int)e->ifindex, false);
	if (!r->check && !err)
		err = vtap_port_delete(ns, e->ifindex);
	if (err)
		say(r, true, "port %s: cannot remove: %s", dev[0] ? dev : "-",
		    strerror(-err));
	else
		say(r, false, "port %s (ifindex %u, id %u): %s (%s)", dev[0] ? dev : "-",
		    e->ifindex, e->p.port_id, r->check ? "would remove" : "removed", why);
	if (r->check)
		return 0;
	e->ifindex = 0;		/* its slot is free */
	return err;
}

static int apply_ports(struct run *r, struct vtap_ns *ns, const struct sess_list *sl)
{
	struct conf_link *links = NULL;
	struct vtap_port_ent *v = NULL;
	const struct conf_vm **want = NULL;
	bool *ambiguous = NULL;
	int nl = 0, n = 0, i, j, err;

	err = links_dump(&links, &nl);
	if (err) {
		say(r, true, "cannot list the devices: %s", strerror(-err));
		return err;
	}
	if (ns->exists) {
		err = vtap_ports_read(ns, &v, &n);
		if (err) {
			say(r, true, "cannot read the ports map: %s", strerror(-err));
			goto out;
		}
	}
	want = calloc((size_t)nl + 1, sizeof(*want));
	ambiguous = calloc((size_t)nl + 1, sizeof(*ambiguous));
	if (!want || !ambiguous) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nl; i++)
		want[i] = link_vm(r, &links[i], &ambiguous[i]);
	/* One device per VM: the one that is its port already, else the first. */
	for (i = 0; i < nl; i++) {
		if (!want[i])
			continue;
		for (j = 0; j < nl; j++) {
			bool i_port = false, j_port = false;
			int k;

			if (j == i || want[j] != want[i])
				continue;
			for (k = 0; k < n; k++) {
				i_port |= v[k].ifindex == (__u32)links[i].ifindex &&
					  v[k].p.port_id == want[i]->id;
				j_port |= v[k].ifindex == (__u32)links[j].ifindex &&
					  v[k].p.port_id == want[i]->id;
			}
			if (j_port || (!i_port && j < i)) {
				say(r, true, "%s matches vm %s, which is %s already: left alone",
				    links[i].name, want[i]->name, links[j].name);
				want[i] = NULL;
				ambiguous[i] = true;
				break;
			}
		}
	}
	/* Removals first: they free port ids and slots. */
	for (i = 0; i < n; i++) {
		for (j = 0; j < nl && links[j].ifindex != (int)v[i].ifindex; j++)
			;
		if (j == nl) {
			err = port_remove(r, ns, &v[i], "", "its device is gone");
		} else if (ambiguous[j]) {
			continue;
		} else if (!want[j]) {
			err = port_remove(r, ns, &v[i], links[j].name,
					  "matches no vm of the file");
		} else if (want[j]->id != v[i].p.port_id) {
			/* Another VM's device now, or the VM's id changed. */
			err = port_remove(r, ns, &v[i], links[j].name, "its port id changes");
		}
		if (err)
			goto out;
	}
	for (j = 0; j < nl; j++) {
		struct vtap_port_ent e;
		char fl[256];
		bool own = false, have = false;

		if (!want[j])
			continue;
		for (i = 0; i < n && v[i].ifindex != (__u32)links[j].ifindex; i++)
			;
		have = i < n;
		memset(&e, 0, sizeof(e));
		e.ifindex = (__u32)links[j].ifindex;
		if (have)
			e.p = v[i].p;
		e.p.port_id = want[j]->id;
		memset(e.p.vm_uuid, 0, sizeof(e.p.vm_uuid));
		if (want[j]->has_uuid)
			memcpy(e.p.vm_uuid, want[j]->uuid, 16);
		e.p.flags = (e.p.flags & ~(VTAP_PORT_F_REC_OUT | VTAP_PORT_F_REC_IN |
					   VTAP_PORT_F_XDP)) |
			    want[j]->records | (want[j]->xdp ? VTAP_PORT_F_XDP : 0);
		err = vm_flows(r, want[j], sl, &e.p);
		if (err)
			goto out;
		flows_text(want[j], fl, sizeof(fl));
		if (have) {
			bool attached = vtap_tc_attached((int)e.ifindex) == 1 &&
					(!want[j]->xdp || vtap_xdp_attached((int)e.ifindex) == 1);

			if (attached && flows_equal(&e.p, &v[i].p) &&
			    !memcmp(e.p.vm_uuid, v[i].p.vm_uuid, 16) &&
			    e.p.flags == v[i].p.flags)
				continue;
			if (!r->check) {
				if (vtap_tc_attached((int)e.ifindex) != 1 &&
				    (err = vtap_tc_attach(ns, (int)e.ifindex, &own)))
					goto fail;
				/* XDP: attached before the flag, detached after. */
				if (want[j]->xdp && (err = vtap_xdp_attach(ns, (int)e.ifindex)))
					goto fail;
				err = vtap_port_put(ns, e.ifindex, &e.p, false);
				if (err)
					goto fail;
				if (!want[j]->xdp && (err = vtap_xdp_detach((int)e.ifindex)))
					goto fail;
			}
			/* Said once it is so: a reader may act on the line. */
			say(r, false, "port %s (vm %s, id %u): %s (flows %s)", links[j].name,
			    want[j]->name, e.p.port_id, r->check ? "would update" : "updated", fl);
			continue;
		}
		for (i = 0; i < n; i++)
			if (v[i].ifindex && v[i].p.port_id == e.p.port_id)
				break;
		if (i < n) {
			say(r, true, "port %s (vm %s): port id %u is ifindex %u's, left alone",
			    links[j].name, want[j]->name, e.p.port_id, v[i].ifindex);
			continue;
		}
		/* Appeared since apply_conf() looked: its own event comes next. */
		if (!r->check && !ns->exists && ns->mode != VTAP_NS_CREATE)
			continue;
		if (r->check) {
			say(r, false, "port %s (vm %s, id %u): would add (flows %s)",
			    links[j].name, want[j]->name, e.p.port_id, fl);
			continue;
		}
		if (n >= VTAP_MAX_PORTS || free_slot(v, n, &e.p.slot)) {
			err = -ENOSPC;
			goto fail;
		}
		err = vtap_port_stats_zero(ns, e.p.slot);
		if (!err)
			err = vtap_tc_attach(ns, (int)e.ifindex, &own);
		if (err)
			goto fail;
		if (want[j]->xdp && (err = vtap_xdp_attach(ns, (int)e.ifindex))) {
			vtap_tc_detach((int)e.ifindex, own);
			goto fail;
		}
		if (own)
			e.p.flags |= VTAP_PORT_F_OWN_CLSACT;
		err = vtap_port_put(ns, e.ifindex, &e.p, true);
		if (err) {
			vtap_xdp_detach((int)e.ifindex);
			vtap_tc_detach((int)e.ifindex, own);
			goto fail;
		}
		/* Said once it is so: the port mirrors from this line on. */
		say(r, false, "port %s (vm %s, id %u): added (flows %s)", links[j].name,
		    want[j]->name, e.p.port_id, fl);
		/* Its slot and id are taken now. */
		{
			struct vtap_port_ent *nv = realloc(v, (size_t)(n + 1) * sizeof(*v));

			if (!nv) {
				err = -ENOMEM;
				goto out;
			}
			v = nv;
			v[n++] = e;
		}
		continue;
fail:
		say(r, true, "port %s (vm %s): %s", links[j].name, want[j]->name,
		    strerror(-err));
		goto out;
	}
	err = 0;
out:
	free(want);
	free(ambiguous);
	free(v);
	free(links);
	return err;
}

/* ---- all ------------------------------------------------------------------ */

/* Does any device of this namespace match a VM of @c? */
static bool any_vm_device(const struct vtap_conf *c)
{
	struct conf_link *links;
	bool found = false;
	int n, i, k;

	if (!c->nvms || links_dump(&links, &n))
		return c->nvms > 0;	/* when in doubt, be ready */
	for (i = 0; i < n && !found; i++)
		for (k = 0; k < c->nvms && !found; k++)
			found = conf_vm_matches(&c->vms[k], &links[i]);
	free(links);
	return found;
}

int apply_conf(const struct vtap_conf *c, enum apply_what what, bool check)
{
	struct run r = { .c = c, .check = check };
	struct vtap_rule_maps m;
	struct sess_list sl = { 0 };
	struct vtap_nl nl;
	struct vtap_ns ns;
	bool need_maps;
	int err, d, i;

	err = vnl_open(&nl);
	if (err) {
		say(&r, true, "vtap.ko is not loaded (modprobe vtap)");
		return err;
	}
	if (what == APPLY_ALL) {
		err = apply_sessions(&r, &nl);
		if (err)
			goto out_nl;
	}
	err = sessions_read(&nl, &sl);
	if (err) {
		say(&r, true, "cannot list the sessions: %s", strerror(-err));
		goto out_nl;
	}
	/*
	 * The maps are made (and the programs loaded) only when something
	 * will use them: a rule, or a device of a VM.  Otherwise a daemon
	 * would load and unload the programs on every link event.
	 */
	need_maps = !check && (c->nrules || any_vm_device(c));
	err = vtap_ns_open(&ns, check ? VTAP_NS_READ :
				need_maps ? VTAP_NS_CREATE : VTAP_NS_WRITE);
	if (err) {
		say(&r, true, "cannot open this namespace's maps: %s", strerror(-err));
		goto out_nl;
	}
	if (what == APPLY_ALL && (ns.exists || check)) {
		bool have_maps = ns.exists && !vtap_rule_maps_open(&ns, &m);

		for (i = 0; i < sl.n && !err; i++)
			for (d = 0; d < VTAP_NDIRS && !err; d++)
				err = apply_rules_sd(&r, have_maps ? &m : NULL, &sl.v[i], d);
		if (have_maps)
			vtap_rule_maps_close(&m);
		if (err)
			goto out_ns;
	}
	err = apply_ports(&r, &ns, &sl);
out_ns:
	vtap_ns_close(&ns);
out_nl:
	free(sl.v);
	vnl_close(&nl);
	if (err)
		return err;
	return r.errors ? -EIO : r.changes;
}

/* ---- vtapctl apply -------------------------------------------------------- */

int do_apply(int argc, char **argv)
{
	struct vtap_conf c;
	bool check = false;
	const char *path = NULL;
	int i, n;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "help") || !strcmp(argv[i], "--help")) {
			printf("Usage: vtapctl apply [--check] FILE\n");
			return VTAP_EXIT_OK;
		}
		if (!strcmp(argv[i], "--check") || !strcmp(argv[i], "check")) {
			check = true;
		} else if (!path) {
			path = argv[i];
		} else {
			errorf("apply: one file only ('%s')", argv[i]);
			return VTAP_EXIT_USAGE;
		}
	}
	if (!path) {
		errorf("usage: vtapctl apply [--check] FILE");
		return VTAP_EXIT_USAGE;
	}
	n = conf_load(path, &c);
	if (n)
		return n == -EINVAL ? VTAP_EXIT_USAGE : VTAP_EXIT_NOENT;
	n = apply_conf(&c, APPLY_ALL, check);
	conf_free(&c);
	if (n == -ENOENT)
		return VTAP_EXIT_NOMODULE;
	if (n < 0)
		return vtap_exit_code(n);
	if (!n)
		printf("no change: this namespace matches %s\n", path);
	else if (check)
		printf("%d change%s planned, none made (--check)\n", n, n == 1 ? "" : "s");
	return VTAP_EXIT_OK;
}
