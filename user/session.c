// SPDX-License-Identifier: GPL-2.0
/* vtapctl session: mirror destinations (kernel objects in vtap.ko). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/vtap.h>
#include <stdio.h>
#include <string.h>

#include "nl.h"
#include "util.h"
#include "vtapctl.h"

static const char *const encap_names[] = {
	[VTAP_ENCAP_GRE]	= "gre",
	[VTAP_ENCAP_ERSPAN2]	= "erspan2",
	[VTAP_ENCAP_ERSPAN3]	= "erspan3",
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
};

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int put_name(struct nl_msg *msg, const char *name)
{
	if (!*name || strlen(name) >= VTAP_NAME_MAX) {
		errorf("session name must be 1 to %d characters", VTAP_NAME_MAX - 1);
		return -EINVAL;
	}
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
	if (a.family == AF_INET)
		return nla_put(msg, a4, 4, &a.v4) ? -EMSGSIZE : 0;
	return nla_put(msg, a6, 16, &a.v6) ? -EMSGSIZE : 0;
}

static int put_num(struct nl_msg *msg, const char *what, const char *s,
		   uint32_t min, uint32_t max, int attr, int bytes)
{
	uint32_t v;
	int err = parse_u32(s, min, max, &v);

	if (err) {
		errorf("%s: '%s' is not a number from %u to %u", what, s ? s : "",
		       min, max);
		return -EINVAL;
	}
	if (bytes == 1)
		return nla_put_u8(msg, attr, (uint8_t)v) ? -EMSGSIZE : 0;
	return nla_put_u32(msg, attr, v) ? -EMSGSIZE : 0;
}

/*
 * Parse "KEYWORD VALUE" pairs of session add/set into @msg.  @create allows
 * encap.  Returns 0 or -EINVAL (after printing why).
 */
static int parse_session_opts(struct nl_msg *msg, int argc, char **argv,
			      bool create, bool *have_encap, bool *have_remote)
{
	int i, k, err = 0;

	for (i = 0; i < argc && !err; i += 2) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val) {
			errorf("'%s' needs a value", kw);
			return -EINVAL;
		}
		if (!strcmp(kw, "encap") && create) {
			k = parse_keyword(val, encap_names, NELEM(encap_names));
			if (k < 0) {
				errorf("encap: '%s' is not one of gre, erspan2, erspan3", val);
				return -EINVAL;
			}
			err = nla_put_u8(msg, VTAP_A_SESSION_ENCAP, (uint8_t)k);
			*have_encap = true;
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
		} else {
			errorf("unknown option '%s' (try 'vtapctl session help')", kw);
			return -EINVAL;
		}
	}
	return err ? -EINVAL : 0;
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
	if (tb[VTAP_A_SESSION_STATS] &&
	    !nla_parse_nested(st, VTAP_A_STATS_MAX, tb[VTAP_A_SESSION_STATS], NULL)) {
		out_open_nested("stats");
		out_text("\n   ");
		for (i = 1; i <= VTAP_A_STATS_MAX; i++) {
			char fmt[48];

			if (!stat_names[i] || !st[i])
				continue;
			snprintf(fmt, sizeof(fmt), " %s %%llu", stat_names[i]);
			out_u64(stat_names[i], fmt, nla_get_u64(st[i]));
		}
		out_close_nested();
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

static int session_change(int argc, char **argv, int cmd)
{
	bool create = cmd == VTAP_CMD_SESSION_NEW;
	const char *what = create ? "session add" : "session set";
	bool have_encap = false, have_remote = false, shown = false;
	struct vtap_nl nl;
	struct nl_msg *msg;
	int rc, err;

	if (argc < 2) {
		errorf("%s: which session? (try 'vtapctl session help')", what);
		return VTAP_EXIT_USAGE;
	}
	msg = nlmsg_alloc();
	if (!msg)
		return VTAP_EXIT_FAIL;
	/* Parse everything before talking to the kernel: bad input changes nothing. */
	if (put_name(msg, argv[1]) ||
	    parse_session_opts(msg, argc - 2, argv + 2, create, &have_encap,
			       &have_remote)) {
		nlmsg_free(msg);
		return VTAP_EXIT_USAGE;
	}
	if (create && (!have_encap || !have_remote)) {
		errorf("%s: %s is required", what, !have_encap ? "encap" : "remote");
		nlmsg_free(msg);
		return VTAP_EXIT_USAGE;
	}
	rc = vnl_open_or_explain(&nl);
	if (rc) {
		nlmsg_free(msg);
		return rc;
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
	rc = err ? vnl_fail(&nl, err, what) : VTAP_EXIT_OK;
	vnl_close(&nl);
	return rc;
}

static int session_add(int argc, char **argv)
{
	return session_change(argc, argv, VTAP_CMD_SESSION_NEW);
}

static int session_set(int argc, char **argv)
{
	return session_change(argc, argv, VTAP_CMD_SESSION_SET);
}

static int session_del(int argc, char **argv)
{
	struct vtap_nl nl;
	struct nl_msg *msg;
	int rc, err;

	if (argc != 2) {
		errorf("usage: vtapctl session del NAME");
		return VTAP_EXIT_USAGE;
	}
	if (!*argv[1] || strlen(argv[1]) >= VTAP_NAME_MAX) {
		errorf("session name must be 1 to %d characters", VTAP_NAME_MAX - 1);
		return VTAP_EXIT_USAGE;
	}
	rc = vnl_open_or_explain(&nl);
	if (rc)
		return rc;
	msg = vnl_msg(&nl, VTAP_CMD_SESSION_DEL, 0);
	if (!msg || put_name(msg, argv[1])) {
		if (msg)
			nlmsg_free(msg);
		vnl_close(&nl);
		return VTAP_EXIT_FAIL;
	}
	err = vnl_request(&nl, msg, VTAP_A_SESSION_MAX, NULL, NULL);
	rc = err ? vnl_fail(&nl, err, "session del") : VTAP_EXIT_OK;
	vnl_close(&nl);
	return rc;
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

	if (argc > 2) {
		errorf("usage: vtapctl session show [NAME]");
		return VTAP_EXIT_USAGE;
	}
	if (argc == 2 && (!*argv[1] || strlen(argv[1]) >= VTAP_NAME_MAX)) {
		errorf("session name must be 1 to %d characters", VTAP_NAME_MAX - 1);
		return VTAP_EXIT_USAGE;
	}
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
		out_open_array();
		err = vnl_request(&nl, msg, VTAP_A_SESSION_MAX, show_cb, NULL);
		out_close_array();
	} else {
		/* A dump interrupted by a change starts over: buffer it. */
		out_open_array();
		out_buffer_begin();
		err = vnl_dump(&nl, VTAP_CMD_SESSION_GET, VTAP_A_SESSION_MAX,
			       dump_restart, show_cb, NULL);
		out_buffer_end(!err);
		out_close_array();
	}
	rc = err ? vnl_fail(&nl, err, "session show") : VTAP_EXIT_OK;
	vnl_close(&nl);
	return rc;
}

static const struct vtap_subcmd session_cmds[] = {
	{ "add", session_add,
	  "NAME encap {gre|erspan2|erspan3} remote ADDR [local ADDR] [id N] [key N]\n"
	  "                     [ttl N] [tos N] [hwid N] [gra {100us|100ns}]" },
	{ "set", session_set,
	  "NAME [remote ADDR] [local ADDR] [key N] [ttl N] [tos N] [hwid N]\n"
	  "                     [gra {100us|100ns}]" },
	{ "del", session_del, "NAME" },
	{ "show", session_show, "[NAME]" },
};

int do_session(int argc, char **argv)
{
	return run_subcmd("session", session_cmds, NELEM(session_cmds), argc, argv);
}
