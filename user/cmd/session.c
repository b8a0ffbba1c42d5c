// SPDX-License-Identifier: GPL-2.0
/* vtapctl session: mirror destinations (kernel objects in vtap.ko). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <linux/vtap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfmaps.h"
#include "nl.h"
#include "session_opts.h"
#include "util.h"
#include "vtapctl.h"

static const char *const encap_names[] = {
	[VTAP_ENCAP_GRE]	= "gre",
	[VTAP_ENCAP_ERSPAN2]	= "erspan2",
	[VTAP_ENCAP_ERSPAN3]	= "erspan3",
	[VTAP_ENCAP_VXLAN]	= "vxlan",
};

static const char *const gra_names[] = {
	[VTAP_GRA_100US]	= "100us",
	[VTAP_GRA_100NS]	= "100ns",
};

static const char *const stat_names[VTAP_A_STATS_MAX + 1] = {
	[VTAP_A_STATS_MATCHED]		= "matched",
	[VTAP_A_STATS_SENT]		= "sent",
	[VTAP_A_STATS_BYTES]		= "bytes",
	[VTAP_A_STATS_TRUNCATED]	= "truncated",
	[VTAP_A_STATS_DROP_NOMEM]	= "drop_nomem",
	[VTAP_A_STATS_DROP_NOROUTE]	= "drop_noroute",
	[VTAP_A_STATS_DROP_LOOP]	= "drop_loop",
	[VTAP_A_STATS_DROP_XMIT]	= "drop_xmit",
	[VTAP_A_STATS_DROP_MALFORMED]	= "drop_malformed",
	[VTAP_A_STATS_DROP_QUEUE]	= "drop_queue",
	[VTAP_A_STATS_SAMPLED_OUT]	= "sampled_out",
	[VTAP_A_STATS_DROP_RATE]	= "drop_rate",
	[VTAP_A_STATS_SLICED]		= "sliced",
	[VTAP_A_STATS_GSO]		= "gso",
	[VTAP_A_STATS_UNPARSED]		= "unparsed",
	[VTAP_A_STATS_DEDUP]		= "dedup",
};

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int put_name(struct nl_msg *msg, const char *name)
{
	if (check_session_name(name))
		return -EINVAL;
	return nla_put_string(msg, VTAP_A_SESSION_NAME, name) ? -EMSGSIZE : 0;
}

static int put_addr(struct nl_msg *msg, const char *what, const char *s,
		    int a4, int a6)
{
	struct vtap_addr a;

	if (parse_addr(s, &a)) {
		errorf("%s: '%s' is not an IPv4 or IPv6 address", what, s ? s : "");
		return -EINVAL;
	}
	if (!addr_is_unicast(&a)) {
		errorf("%s: '%s' is not a unicast address (not 0.0.0.0/8, ::, multicast, "
		       "broadcast or IPv4-mapped)", what, s);
		return -EINVAL;
	}
	if (a.family == AF_INET)
		return nla_put(msg, a4, 4, &a.v4) ? -EMSGSIZE : 0;
	return nla_put(msg, a6, 16, &a.v6) ? -EMSGSIZE : 0;
}

static int put_num(struct nl_msg *msg, const char *what, const char *s,
		   uint32_t min, uint32_t max, int attr, int bytes)
{
	uint32_t v;
	int err = parse_u32(s, min, max, &v);

	if (err)
		return badnum(what, s, min, max);
	if (bytes == 1)
		return nla_put_u8(msg, attr, (uint8_t)v) ? -EMSGSIZE : 0;
	if (bytes == 2)
		return nla_put_u16(msg, attr, (uint16_t)v) ? -EMSGSIZE : 0;
	return nla_put_u32(msg, attr, v) ? -EMSGSIZE : 0;
}

/* As put_num(), in decimal only (VNIs and ports: no 0x, 010 is ten). */
static int put_dec(struct nl_msg *msg, const char *what, const char *s,
		   uint32_t min, uint32_t max, int attr, int bytes)
{
	unsigned long long v = 0;
	const char *c;

	for (c = s; c && *c >= '0' && *c <= '9' && v <= UINT32_MAX; c++)
		v = v * 10 + (unsigned long long)(*c - '0');
	if (!s || !*s || *c || v < min || v > max) {
		errorf("%s: '%s' is not a decimal number from %u to %u", what,
		       s ? s : "", min, max);
		return -EINVAL;
	}
	if (bytes == 2)
		return nla_put_u16(msg, attr, (uint16_t)v) ? -EMSGSIZE : 0;
	return nla_put_u32(msg, attr, (uint32_t)v) ? -EMSGSIZE : 0;
}

/*
 * The keywords of session add/set that take a value; each may be given
 * once.  @encaps: the encapsulations it applies to (1 << VTAP_ENCAP_*), 0
 * for all.
 */
static const struct {
	const char *kw;
	unsigned int encaps;
} session_kws[] = {
	{ "encap", 0 }, { "remote", 0 }, { "local", 0 }, { "id", 0 },
	{ "key", 1U << VTAP_ENCAP_GRE },
	{ "ttl", 0 }, { "tos", 0 },
	{ "hwid", 1U << VTAP_ENCAP_ERSPAN3 },
	{ "gra", 1U << VTAP_ENCAP_ERSPAN3 },
	{ "subheader", 1U << VTAP_ENCAP_ERSPAN3 },
	{ "vni", 1U << VTAP_ENCAP_VXLAN },
	{ "dstport", 1U << VTAP_ENCAP_VXLAN },
};

/* Which keyword of session_kws @kw is, or -1. */
static int session_kw(const char *kw)
{
	int i;

	for (i = 0; i < NELEM(session_kws); i++)
		if (!strcmp(kw, session_kws[i].kw))
			return i;
	return -1;
}

/*
 * A keyword of @seen (bits of session_kws) that @encap does not take:
 * print why and return -EINVAL.
 */
static int check_encap_kws(unsigned int seen, int encap)
{
	int i, e;

	for (i = 0; i < NELEM(session_kws); i++) {
		const char *sep = "";
		char which[48] = "";

		if (!(seen & (1U << i)) || !session_kws[i].encaps ||
		    (session_kws[i].encaps & (1U << encap)))
			continue;
		for (e = 1; e < NELEM(encap_names); e++)
			if (session_kws[i].encaps & (1U << e)) {
				snprintf(which + strlen(which), sizeof(which) - strlen(which),
					 "%s%s", sep, encap_names[e]);
				sep = ", ";
			}
		errorf("%s: only for encap %s, not %s", session_kws[i].kw, which,
		       encap > 0 && encap < NELEM(encap_names) && encap_names[encap] ?
		       encap_names[encap] : "unknown");
		return -EINVAL;
	}
	return 0;
}

/*
 * Parse "KEYWORD VALUE" pairs of session add/set into @msg.  @create allows
 * encap and id, and checks that the keywords given fit the encap (*encap:
 * the VTAP_ENCAP_* given, 0 if none).  *seen: the keywords given, bits of
 * session_kws.  Returns 0 or -EINVAL (after printing why).
 */
static int parse_session_opts(struct nl_msg *msg, int argc, char **argv,
			      bool create, int *encap, bool *have_remote,
			      unsigned int *seen, struct flags_edit *fe)
{
	unsigned int broker_seen_v = 0, *broker_seen = &broker_seen_v;
	int i, k, err = 0;

	*encap = 0;
	*seen = 0;
	for (i = 0; i < argc && !err; i += 2) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (is_broker_opt(kw)) {
			int used, b = broker_kw(kw);

			if (*broker_seen & (1U << b))
				return duparg(kw);
			*broker_seen |= 1U << b;
			if (parse_broker_opt(msg, argc - i, argv + i, &used, fe))
				return -EINVAL;
			i += used - 2;
			continue;
		}
		k = session_kw(kw);
		if (k < 0 || (!create && (!strcmp(kw, "encap") || !strcmp(kw, "id"))))
			break;
		if (*seen & (1U << k))
			return duparg(kw);
		*seen |= 1U << k;
		if (!val)
			return missarg(kw);
		if (!strcmp(kw, "encap") && create) {
			k = parse_keyword(val, encap_names, NELEM(encap_names));
			if (k < 0) {
				errorf("encap: '%s' is not one of gre, erspan2, erspan3, vxlan", val);
				return -EINVAL;
			}
			err = nla_put_u8(msg, VTAP_A_SESSION_ENCAP, (uint8_t)k);
			*encap = k;
		} else if (!strcmp(kw, "remote")) {
			err = put_addr(msg, "remote", val, VTAP_A_SESSION_REMOTE4,
				       VTAP_A_SESSION_REMOTE6);
			*have_remote = true;
		} else if (!strcmp(kw, "local")) {
			err = put_addr(msg, "local", val, VTAP_A_SESSION_LOCAL4,
				       VTAP_A_SESSION_LOCAL6);
		} else if (!strcmp(kw, "id") && create) {
			err = put_num(msg, "id", val, 1, VTAP_SESSION_ID_MAX,
				      VTAP_A_SESSION_ID, 4);
		} else if (!strcmp(kw, "key")) {
			err = put_num(msg, "key", val, 0, UINT32_MAX,
				      VTAP_A_SESSION_KEY, 4);
		} else if (!strcmp(kw, "ttl")) {
			err = put_num(msg, "ttl", val, 1, 255, VTAP_A_SESSION_TTL, 1);
		} else if (!strcmp(kw, "tos")) {
			err = put_num(msg, "tos", val, 0, 255, VTAP_A_SESSION_TOS, 1);
		} else if (!strcmp(kw, "hwid")) {
			err = put_num(msg, "hwid", val, 0, VTAP_ERSPAN_HWID_MAX,
				      VTAP_A_SESSION_HWID, 1);
		} else if (!strcmp(kw, "gra")) {
			k = parse_keyword(val, gra_names, NELEM(gra_names));
			if (k < 0) {
				errorf("gra: '%s' is not one of 100us, 100ns", val);
				return -EINVAL;
			}
			err = nla_put_u8(msg, VTAP_A_SESSION_GRA, (uint8_t)k);
		} else if (!strcmp(kw, "subheader")) {
			k = !strcmp(val, "none") ? 0 : !strcmp(val, "3") ? 3 :
			    !strcmp(val, "7") ? 7 : -1;
			if (k < 0) {
				errorf("subheader: '%s' is not one of none, 3, 7", val);
				return -EINVAL;
			}
			err = nla_put_u8(msg, VTAP_A_SESSION_SUBHDR, (uint8_t)k);
		} else if (!strcmp(kw, "vni")) {
			err = put_dec(msg, "vni", val, 0, VTAP_VXLAN_VNI_MAX,
				      VTAP_A_SESSION_VNI, 4);
		} else if (!strcmp(kw, "dstport")) {
			err = put_dec(msg, "dstport", val, 1, 65535,
				      VTAP_A_SESSION_DPORT, 2);
		}
	}
	if (err)
		return -EINVAL;
	if (i < argc) {
		if (!create && (!strcmp(argv[i], "encap") || !strcmp(argv[i], "id")))
			errorf("session set: '%s' cannot be changed (delete the session and "
			       "add it again)", argv[i]);
		else
			unkarg("session", argv[i]);
		return -EINVAL;
	}
	if (create && *encap && check_encap_kws(*seen, *encap))
		return -EINVAL;
	return 0;
}

/* The "stats" of a session, as session show prints them. */
static void print_stats(const bool *has, const uint64_t *val)
{
	int i;

	out_open_nested("stats");
	out_text("\n   ");
	for (i = 1; i <= VTAP_A_STATS_MAX; i++) {
		char fmt[48];

		if (!stat_names[i] || !has[i])
			continue;
		snprintf(fmt, sizeof(fmt), " %s %%llu", stat_names[i]);
		out_u64(stat_names[i], fmt, val[i]);
	}
	out_close_nested();
}

void print_session_stats(const struct session_info *si)
{
	out_open_obj();
	out_str("name", "session %s", si->name);
	out_u64("id", " id %llu", si->id);
	print_stats(si->has, si->stat);
	out_close_obj();
}

static void print_session(struct nlattr **tb)
{
	char buf[INET6_ADDRSTRLEN];
	struct nlattr *st[VTAP_A_STATS_MAX + 1];
	int enc = 0, i;

	out_open_obj();
	if (tb[VTAP_A_SESSION_NAME])
		out_str("name", "session %s", nla_get_string(tb[VTAP_A_SESSION_NAME]));
	if (tb[VTAP_A_SESSION_ID])
		out_u64("id", " id %llu", nla_get_u32(tb[VTAP_A_SESSION_ID]));
	if (tb[VTAP_A_SESSION_COOKIE])	/* for scripts and bpftool dumps: JSON only */
		out_u64("cookie", NULL, nla_get_u64(tb[VTAP_A_SESSION_COOKIE]));
	if (tb[VTAP_A_SESSION_ENCAP]) {
		enc = nla_get_u8(tb[VTAP_A_SESSION_ENCAP]);
		out_str("encap", " encap %s",
			enc < NELEM(encap_names) && encap_names[enc] ?
			encap_names[enc] : "unknown");
	}
	if (tb[VTAP_A_SESSION_REMOTE4])
		out_str("remote", " remote %s",
			inet_ntop(AF_INET, nla_data(tb[VTAP_A_SESSION_REMOTE4]), buf, sizeof(buf)));
	if (tb[VTAP_A_SESSION_REMOTE6])
		out_str("remote", " remote %s",
			inet_ntop(AF_INET6, nla_data(tb[VTAP_A_SESSION_REMOTE6]), buf, sizeof(buf)));
	if (tb[VTAP_A_SESSION_LOCAL4])
		out_str("local", " local %s",
			inet_ntop(AF_INET, nla_data(tb[VTAP_A_SESSION_LOCAL4]), buf, sizeof(buf)));
	if (tb[VTAP_A_SESSION_LOCAL6])
		out_str("local", " local %s",
			inet_ntop(AF_INET6, nla_data(tb[VTAP_A_SESSION_LOCAL6]), buf, sizeof(buf)));
	if (tb[VTAP_A_SESSION_KEY])
		out_u64("key", " key %llu", nla_get_u32(tb[VTAP_A_SESSION_KEY]));
	if (tb[VTAP_A_SESSION_VNI])
		out_u64("vni", " vni %llu", nla_get_u32(tb[VTAP_A_SESSION_VNI]));
	if (tb[VTAP_A_SESSION_DPORT])
		out_u64("dstport", " dstport %llu", nla_get_u16(tb[VTAP_A_SESSION_DPORT]));
	if (tb[VTAP_A_SESSION_TTL])
		out_u64("ttl", " ttl %llu", nla_get_u8(tb[VTAP_A_SESSION_TTL]));
	if (tb[VTAP_A_SESSION_TOS])
		out_u64("tos", " tos %llu", nla_get_u8(tb[VTAP_A_SESSION_TOS]));
	if (tb[VTAP_A_SESSION_HWID])
		out_u64("hwid", " hwid %llu", nla_get_u8(tb[VTAP_A_SESSION_HWID]));
	if (tb[VTAP_A_SESSION_GRA]) {
		int g = nla_get_u8(tb[VTAP_A_SESSION_GRA]);

		out_str("gra", " gra %s", g < NELEM(gra_names) ? gra_names[g] : "?");
	}
	if (tb[VTAP_A_SESSION_SUBHDR]) {	/* JSON: the Platf ID, 0 for none */
		int sh = nla_get_u8(tb[VTAP_A_SESSION_SUBHDR]);

		out_u64("subheader", NULL, (uint64_t)sh);
		if (sh)
			out_text(" subheader %d", sh);
		else
			out_text(" subheader none");
	}
	print_broker(tb);
	if (tb[VTAP_A_SESSION_STATS] &&
	    !nla_parse_nested(st, VTAP_A_STATS_MAX, tb[VTAP_A_SESSION_STATS], NULL)) {
		bool has[VTAP_A_STATS_MAX + 1] = { false };
		uint64_t val[VTAP_A_STATS_MAX + 1] = { 0 };

		for (i = 1; i <= VTAP_A_STATS_MAX; i++) {
			if (st[i]) {
				has[i] = true;
				val[i] = nla_get_u64(st[i]);
			}
		}
		print_stats(has, val);
	}
	out_close_obj();
}

static int show_cb(struct nlattr **tb, void *arg)
{
	(void)arg;
	print_session(tb);
	return 0;
}

/* Print a request's reply (add/set) unless quiet. */
static int reply_cb(struct nlattr **tb, void *arg)
{
	bool *shown = arg;

	if (!json_output)
		return 0;
	out_open_array();
	print_session(tb);
	out_close_array();
	*shown = true;
	return 0;
}

struct list_ctx {
	struct session_info *v;
	int n, cap;
};

static int list_cb(struct nlattr **tb, void *arg)
{
	struct nlattr *st[VTAP_A_STATS_MAX + 1];
	struct list_ctx *c = arg;
	struct session_info *si;
	int i;

	if (!tb[VTAP_A_SESSION_ID] || !tb[VTAP_A_SESSION_NAME])
		return 0;
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 16;
		struct session_info *v = realloc(c->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	si = &c->v[c->n++];
	memset(si, 0, sizeof(*si));
	si->id = nla_get_u32(tb[VTAP_A_SESSION_ID]);
	if (tb[VTAP_A_SESSION_ENCAP])
		si->encap = nla_get_u8(tb[VTAP_A_SESSION_ENCAP]);
	if (tb[VTAP_A_SESSION_COOKIE])
		si->cookie = nla_get_u64(tb[VTAP_A_SESSION_COOKIE]);
	if (tb[VTAP_A_SESSION_FLAGS])
		si->flags = nla_get_u32(tb[VTAP_A_SESSION_FLAGS]);
	snprintf(si->name, sizeof(si->name), "%s",
		 nla_get_string(tb[VTAP_A_SESSION_NAME]));
	if (tb[VTAP_A_SESSION_STATS] &&
	    !nla_parse_nested(st, VTAP_A_STATS_MAX, tb[VTAP_A_SESSION_STATS], NULL))
		for (i = 1; i <= VTAP_A_STATS_MAX; i++)
			if (st[i]) {
				si->has[i] = true;
				si->stat[i] = nla_get_u64(st[i]);
			}
	return 0;
}

static int list_reset(void *arg)
{
	((struct list_ctx *)arg)->n = 0;
	return 0;
}

int session_list(struct vtap_nl *nl, const char *name,
		 struct session_info **v, int *n)
{
	struct list_ctx c = { 0 };
	struct nl_msg *msg;
	int err;

	*v = NULL;
	*n = 0;
	if (name) {
		msg = vnl_msg(nl, VTAP_CMD_SESSION_GET, 0);
		if (!msg)
			return -ENOMEM;
		if (nla_put_string(msg, VTAP_A_SESSION_NAME, name)) {
			nlmsg_free(msg);
			return -EMSGSIZE;
		}
		err = vnl_request(nl, msg, VTAP_A_SESSION_MAX, list_cb, &c);
	} else {
		err = vnl_dump(nl, VTAP_CMD_SESSION_GET, VTAP_A_SESSION_MAX,
			       list_reset, list_cb, &c);
	}
	if (!err && name && c.n != 1)
		err = -ENOENT;
	if (err) {
		free(c.v);
		return err;
	}
	*v = c.v;
	*n = c.n;
	return 0;
}

const char *session_name(const struct session_info *v, int n, uint32_t id)
{
	int i;

	for (i = 0; i < n; i++)
		if (v[i].id == id)
			return v[i].name;
	return NULL;
}

const char *session_name_cookie(const struct session_info *v, int n, uint32_t id,
				uint64_t cookie)
{
	int i;

	for (i = 0; i < n; i++)
		if (v[i].id == id && v[i].cookie == cookie)
			return v[i].name;
	return NULL;
}

/* As the kernel checks new names (netlink.c: vtap_name_ok()). */
int check_session_name(const char *name)
{
	const char *c;
	char esc[4 * VTAP_NAME_MAX];

	for (c = name; *c; c++)
		if (!isalnum((unsigned char)*c) || !isascii((unsigned char)*c))
			if (!strchr("._:@+-", *c))
				break;
	if (!*name || *c || *name == '-' || strlen(name) >= VTAP_NAME_MAX ||
	    !strcmp(name, "help")) {
		json_escape(name, esc, sizeof(esc));
		errorf("a session name is 1 to %d of A-Z a-z 0-9 . _ : @ + - , does not start "
		       "with - and is not 'help' (not \"%s\")", VTAP_NAME_MAX - 1, esc);
		return -EINVAL;
	}
	return 0;
}

/* The bits of session_kws that only some encapsulations take. */
static unsigned int encap_only_kws(void)
{
	unsigned int m = 0;
	int i;

	for (i = 0; i < NELEM(session_kws); i++)
		if (session_kws[i].encaps)
			m |= 1U << i;
	return m;
}

static int session_change(int argc, char **argv, int cmd)
{
	bool create = cmd == VTAP_CMD_SESSION_NEW;
	const char *what = create ? "session add" : "session set";
	bool have_remote = false, shown = false;
	struct flags_edit fe = { 0, 0 };
	unsigned int seen;
	struct vtap_nl nl;
	struct nl_msg *msg;
	int rc, err, encap;

	drop_name_kw(&argc, argv, "name");
	if (argc < 2) {
		errorf("%s: which session? (try 'vtapctl session help')", what);
		return VTAP_EXIT_USAGE;
	}
	msg = nlmsg_alloc();
	if (!msg)
		return VTAP_EXIT_FAIL;
	/* Parse everything before talking to the kernel: bad input changes nothing. */
	if (put_name(msg, argv[1]) ||
	    parse_session_opts(msg, argc - 2, argv + 2, create, &encap,
			       &have_remote, &seen, &fe)) {
		nlmsg_free(msg);
		return VTAP_EXIT_USAGE;
	}
	if (create && (!encap || !have_remote)) {
		errorf("%s: %s is required", what, !encap ? "encap" : "remote");
		nlmsg_free(msg);
		return VTAP_EXIT_USAGE;
	}
	rc = vnl_open_or_explain(&nl);
	if (rc) {
		nlmsg_free(msg);
		return rc;
	}
	/*
	 * SET: the flags not named keep their value, and the keywords of one
	 * encapsulation (key, hwid, gra, subheader, vni, dstport) must be the
	 * session's.
	 */
	if (!create && (fe.set || fe.clear || (seen & encap_only_kws()))) {
		struct session_info *si = NULL;
		int n;

		err = session_list(&nl, argv[1], &si, &n);
		if (err) {
			char w[96];

			snprintf(w, sizeof(w), "%s %s", what, argv[1]);
			nlmsg_free(msg);
			rc = vnl_fail(&nl, err, w);
			vnl_close(&nl);
			return rc;
		}
		if (fe.set || fe.clear)
			fe.set = (si[0].flags & ~fe.clear) | fe.set;
		encap = si[0].encap;
		free(si);
		/* An unknown encap (a newer module's) is the kernel's to judge. */
		if (encap > 0 && encap < NELEM(encap_names) && encap_names[encap] &&
		    check_encap_kws(seen, encap)) {
			nlmsg_free(msg);
			vnl_close(&nl);
			return VTAP_EXIT_USAGE;
		}
	}
	if ((fe.set || fe.clear) && nla_put_u32(msg, VTAP_A_SESSION_FLAGS, fe.set)) {
		nlmsg_free(msg);
		vnl_close(&nl);
		return VTAP_EXIT_FAIL;
	}
	{
		struct nl_msg *req = vnl_msg(&nl, cmd, 0);

		if (!req || nlmsg_append(req, nlmsg_data(nlmsg_hdr(msg)),
					 nlmsg_datalen(nlmsg_hdr(msg)), NLMSG_ALIGNTO)) {
			nlmsg_free(msg);
			if (req)
				nlmsg_free(req);
			vnl_close(&nl);
			return VTAP_EXIT_FAIL;
		}
		nlmsg_free(msg);
		err = vnl_request(&nl, req, VTAP_A_SESSION_MAX, reply_cb, &shown);
	}
	if (err) {
		char w[96];

		snprintf(w, sizeof(w), "%s %s", what, argv[1]);
		rc = vnl_fail(&nl, err, w);
	} else {
		rc = VTAP_EXIT_OK;
	}
	vnl_close(&nl);
	return rc;
}

/*
 * "NAME OPTION..." as session add takes them (argv[0] is the name), parsed
 * into a new message of attributes only, flags included: what a
 * configuration file's session line asks for.  NULL after printing why.
 */
struct nl_msg *session_parse_add(int argc, char **argv)
{
	struct flags_edit fe = { 0, 0 };
	bool have_remote = false;
	unsigned int seen;
	struct nl_msg *msg;
	int encap;

	if (argc < 1)
		return NULL;
	msg = nlmsg_alloc();
	if (!msg)
		return NULL;
	if (put_name(msg, argv[0]) ||
	    parse_session_opts(msg, argc - 1, argv + 1, true, &encap, &have_remote,
			       &seen, &fe))
		goto fail;
	if (!encap || !have_remote) {
		errorf("%s is required", !encap ? "encap" : "remote");
		goto fail;
	}
	if (fe.set && nla_put_u32(msg, VTAP_A_SESSION_FLAGS, fe.set))
		goto fail;
	return msg;
fail:
	nlmsg_free(msg);
	return NULL;
}

/* Send session add (@create) or set "NAME OPTION..." from argv[0]. */
int session_command(bool create, int argc, char **argv)
{
	char *v[argc + 1];

	v[0] = create ? "add" : "set";
	memcpy(v + 1, argv, (size_t)argc * sizeof(*v));
	return session_change(argc + 1, v, create ? VTAP_CMD_SESSION_NEW :
				     VTAP_CMD_SESSION_SET);
}

static int session_add(int argc, char **argv)
{
	return session_change(argc, argv, VTAP_CMD_SESSION_NEW);
}

static int session_set(int argc, char **argv)
{
	return session_change(argc, argv, VTAP_CMD_SESSION_SET);
}

/*
 * Ports and rules refer to sessions by id: after the kernel deleted the
 * session, its flows go from every port of the namespace, and its rules
 * too (a new session could get the id).  The namespace's lock is held from
 * the id lookup to the cleanup, so that no vtapctl flow or rule add can slip
 * in between.
 */
static int session_del(int argc, char **argv)
{
	struct session_info *si = NULL;
	struct vtap_nl nl;
	struct vtap_ns ns;
	struct nl_msg *msg;
	uint32_t sid = 0;
	bool no_bpf = false;
	int rc, err, n;

	drop_name_kw(&argc, argv, "name");
	if (argc != 2) {
		errorf("usage: vtapctl session del [name] NAME");
		return VTAP_EXIT_USAGE;
	}
	if (check_session_name(argv[1]))
		return VTAP_EXIT_USAGE;
	rc = vnl_open_or_explain(&nl);
	if (rc)
		return rc;
	err = vtap_ns_open(&ns, VTAP_NS_WRITE);
	if (err == -EPERM || err == -EACCES) {
		/*
		 * Sessions need CAP_NET_ADMIN over the namespace, the BPF maps
		 * CAP_BPF (bpf(2)): the owner of a user namespace may have the
		 * one without the other.  Its flows and rules cannot be removed
		 * then, but they carry the session's cookie and feed no other
		 * session: the session goes, they stay inert until a
		 * privileged vtapctl touches the port or the rules.
		 */
		no_bpf = true;
	} else if (err) {
		errorf("session del: not deleted, the flows of ports could not be updated");
		vnl_close(&nl);
		return vtap_exit_code(err);
	}
	if (ns.exists && !session_list(&nl, argv[1], &si, &n)) {
		sid = si[0].id;
		free(si);
	}
	msg = vnl_msg(&nl, VTAP_CMD_SESSION_DEL, 0);
	if (!msg || put_name(msg, argv[1])) {
		if (msg)
			nlmsg_free(msg);
		vtap_ns_close(&ns);
		vnl_close(&nl);
		return VTAP_EXIT_FAIL;
	}
	err = vnl_request(&nl, msg, VTAP_A_SESSION_MAX, NULL, NULL);
	if (err) {
		char w[96];

		snprintf(w, sizeof(w), "session del %s", argv[1]);
		rc = vnl_fail(&nl, err, w);
	} else {
		rc = VTAP_EXIT_OK;
	}
	if (!err && no_bpf)
		fprintf(stderr, "vtapctl: session del: %s is deleted; its flows and rules, if "
			"any, stay in the BPF maps (not permitted here) and feed no other "
			"session\n", argv[1]);
	if (!err && sid) {
		err = vtap_ports_forget_session(&ns, sid);
		if (err) {
			errorf("session del: the session is deleted, but removing its flows "
			       "and rules failed: %s", strerror(-err));
			rc = VTAP_EXIT_FAIL;
		}
	}
	vtap_ns_close(&ns);
	vnl_close(&nl);
	return rc;
}

int session_delete(const char *name)
{
	char *v[2] = { "del", (char *)name };

	return session_del(2, v);
}

static int dump_restart(void *arg)
{
	(void)arg;
	out_buffer_restart();
	return 0;
}

static int session_show(int argc, char **argv)
{
	struct vtap_nl nl;
	struct nl_msg *msg;
	int rc, err;

	drop_name_kw(&argc, argv, "name");
	if (argc > 2) {
		errorf("usage: vtapctl session show [[name] NAME]");
		return VTAP_EXIT_USAGE;
	}
	if (argc == 2 && check_session_name(argv[1]))
		return VTAP_EXIT_USAGE;
	rc = vnl_open_or_explain(&nl);
	if (rc)
		return rc;
	if (argc == 2) {
		msg = vnl_msg(&nl, VTAP_CMD_SESSION_GET, 0);
		if (!msg || put_name(msg, argv[1])) {
			if (msg)
				nlmsg_free(msg);
			vnl_close(&nl);
			return VTAP_EXIT_FAIL;
		}
		/* Nothing on stdout (not even "[]") when there is no such session. */
		out_buffer_begin();
		out_open_array();
		err = vnl_request(&nl, msg, VTAP_A_SESSION_MAX, show_cb, NULL);
		out_close_array();
		out_buffer_end(!err);
	} else {
		/* A dump interrupted by a change starts over: buffer it. */
		out_open_array();
		out_buffer_begin();
		err = vnl_dump(&nl, VTAP_CMD_SESSION_GET, VTAP_A_SESSION_MAX,
			       dump_restart, show_cb, NULL);
		out_buffer_end(!err);
		out_close_array();
	}
	if (err) {
		char w[96];

		snprintf(w, sizeof(w), "session show%s%s", argc == 2 ? " " : "",
			 argc == 2 ? argv[1] : "");
		rc = vnl_fail(&nl, err, w);
	} else {
		rc = VTAP_EXIT_OK;
	}
	vnl_close(&nl);
	return rc;
}

static const struct vtap_subcmd session_cmds[] = {
	{ "add", session_add,
	  "NAME encap {gre|erspan2|erspan3|vxlan} remote ADDR [local ADDR] [id N]\n"
	  "                     [key N] [ttl N] [tos N] [hwid N] [gra {100us|100ns}]\n"
	  "                     [subheader {none|3|7}] [vni N] [dstport N] [BROKER...]" },
	{ "set", session_set,
	  "NAME [remote ADDR] [local ADDR] [key N] [ttl N] [tos N] [hwid N]\n"
	  "                     [gra {100us|100ns}] [subheader {none|3|7}] [vni N]\n"
	  "                     [dstport N] [BROKER...]\n"
	  "       BROKER := sample 1/N [random|every] | snaplen {N|none}\n"
	  "                 | mask {offset O len L [byte B]|none}\n"
	  "                 | rate {PPS|Nbit|Nkbit|Nmbit|Ngbit|none} [burst N] | gso {segment|slice}\n"
	  "                 | unparsed {mirror|skip} | dedup [on|off|WINDOW]" },
	{ "del", session_del, "NAME" },
	{ "show", session_show, "[NAME]" },
};

int do_session(int argc, char **argv)
{
	return run_subcmd("session", session_cmds, NELEM(session_cmds), argc, argv);
}
