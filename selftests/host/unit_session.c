// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of vtapctl session and info without the module: the netlink
 * attributes session add/set build from their keywords (user/cmd/session.c),
 * and what session show and info print, text and JSON, for replies built
 * here as the kernel builds them.  The .c files are included to reach their
 * static functions; the BPF map helpers session del needs are stubbed.
 */
#include "kselftest_harness.h"

#include "../../user/cmd/session.c"
#include "../../user/cmd/info.c"

/* session del's BPF side, not reached here. */
int vtap_ns_open(struct vtap_ns *ns, enum vtap_ns_mode mode)
{
	(void)mode;
	memset(ns, 0, sizeof(*ns));
	return -ENOSYS;
}

void vtap_ns_close(struct vtap_ns *ns)
{
	(void)ns;
}

int vtap_ports_forget_session(struct vtap_ns *ns, __u32 sid)
{
	(void)ns;
	(void)sid;
	return -ENOSYS;
}

int vtap_exit_code(int err)
{
	return exit_code_for_errno(err);
}

int run_subcmd(const char *object, const struct vtap_subcmd *cmds, int n,
	       int argc, char **argv)
{
	(void)object, (void)cmds, (void)n, (void)argc, (void)argv;
	return VTAP_EXIT_USAGE;
}

struct parsed {
	int rc, encap;
	bool have_remote;
	unsigned int seen;
	struct nl_msg *msg;
	struct nlattr *tb[VTAP_A_SESSION_MAX + 1];
};

/* Parse the words of @line (after "session add|set NAME") as vtapctl does. */
static void parse(struct parsed *p, bool create, const char *line)
{
	char buf[512], *argv[64], *tok, *save = NULL;
	struct flags_edit fe = { 0, 0 };
	struct nlmsghdr *h;
	int argc = 0;

	memset(p, 0, sizeof(*p));
	snprintf(buf, sizeof(buf), "%s", line);
	for (tok = strtok_r(buf, " ", &save); tok && argc < 64; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	p->msg = nlmsg_alloc();
	if (!p->msg) {
		p->rc = -ENOMEM;
		return;
	}
	p->rc = parse_session_opts(p->msg, argc, argv, create, &p->encap,
				   &p->have_remote, &p->seen, &fe);
	h = nlmsg_hdr(p->msg);
	if (!p->rc && create)
		p->rc = check_encap_kws(p->seen, p->encap);
	if (nla_parse(p->tb, VTAP_A_SESSION_MAX, nlmsg_attrdata(h, 0),
		      nlmsg_attrlen(h, 0), NULL))
		p->rc = -EPROTO;
}

static void parsed_free(struct parsed *p)
{
	if (p->msg)
		nlmsg_free(p->msg);
}

TEST(add_vxlan_defaults)
{
	struct parsed p;

	parse(&p, true, "encap vxlan remote 192.0.2.1");
	ASSERT_EQ(0, p.rc);
	EXPECT_EQ(VTAP_ENCAP_VXLAN, p.encap);
	ASSERT_NE(NULL, p.tb[VTAP_A_SESSION_ENCAP]);
	EXPECT_EQ(VTAP_ENCAP_VXLAN, nla_get_u8(p.tb[VTAP_A_SESSION_ENCAP]));
	/* The kernel's defaults (the id, 4789) apply: nothing sent. */
	EXPECT_EQ(NULL, p.tb[VTAP_A_SESSION_VNI]);
	EXPECT_EQ(NULL, p.tb[VTAP_A_SESSION_DPORT]);
	parsed_free(&p);
}

TEST(add_vxlan_vni_dstport)
{
	struct parsed p;

	parse(&p, true, "encap vxlan remote 2001:db8::2 local 2001:db8::1 vni 16777215 dstport 65535 ttl 9");
	ASSERT_EQ(0, p.rc);
	ASSERT_NE(NULL, p.tb[VTAP_A_SESSION_VNI]);
	EXPECT_EQ(4, nla_len(p.tb[VTAP_A_SESSION_VNI]));
	EXPECT_EQ(VTAP_VXLAN_VNI_MAX, nla_get_u32(p.tb[VTAP_A_SESSION_VNI]));
	ASSERT_NE(NULL, p.tb[VTAP_A_SESSION_DPORT]);
	EXPECT_EQ(2, nla_len(p.tb[VTAP_A_SESSION_DPORT]));
	EXPECT_EQ(65535, nla_get_u16(p.tb[VTAP_A_SESSION_DPORT]));
	EXPECT_NE(NULL, p.tb[VTAP_A_SESSION_REMOTE6]);
	parsed_free(&p);

	parse(&p, true, "vni 0 dstport 1 remote 192.0.2.1 encap vxlan");
	ASSERT_EQ(0, p.rc) TH_LOG("encap after vni and dstport");
	EXPECT_EQ(0, nla_get_u32(p.tb[VTAP_A_SESSION_VNI]));
	EXPECT_EQ(1, nla_get_u16(p.tb[VTAP_A_SESSION_DPORT]));
	parsed_free(&p);

	/* Decimal, also with a leading zero (not octal). */
	parse(&p, true, "encap vxlan remote 192.0.2.1 vni 010 dstport 04789");
	ASSERT_EQ(0, p.rc);
	EXPECT_EQ(10, nla_get_u32(p.tb[VTAP_A_SESSION_VNI]));
	EXPECT_EQ(4789, nla_get_u16(p.tb[VTAP_A_SESSION_DPORT]));
	parsed_free(&p);
}

TEST(add_vxlan_out_of_range)
{
	static const char *const bad[] = {
		"vni 16777216", "vni 4294967296", "vni 99999999999", "vni -1", "vni +1",
		"vni 0x10", "vni 1e3", "vni ", "vni", "dstport 0", "dstport 65536",
		"dstport -1", "dstport 0x12b5", "dstport http",
	};
	char line[128];
	struct parsed p;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "encap vxlan remote 192.0.2.1 %s", bad[i]);
		parse(&p, true, line);
		EXPECT_EQ(-EINVAL, p.rc) TH_LOG("'%s' accepted", bad[i]);
		parsed_free(&p);
	}
}

TEST(encap_keywords)
{
	static const char *const bad[] = {
		"encap gre vni 5", "encap gre dstport 4789", "encap erspan2 vni 5",
		"encap erspan3 dstport 8472", "encap vxlan key 5", "encap vxlan hwid 1",
		"encap vxlan gra 100ns", "encap erspan2 key 1", "encap gre hwid 1",
		"vni 7 encap gre", "encap erspan2 subheader 7", "encap gre subheader 3",
		"encap vxlan subheader none", "encap erspan3 subheader 4",
		"encap erspan3 subheader 0", "encap erspan3 subheader 07",
		"encap erspan3 subheader",
	};
	static const char *const good[] = {
		"encap gre key 5", "encap erspan3 hwid 1 gra 100ns", "encap erspan2",
		"encap vxlan vni 5 dstport 8472", "encap erspan3 subheader 7 hwid 2",
	};
	char line[128];
	struct parsed p;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "remote 192.0.2.1 %s", bad[i]);
		parse(&p, true, line);
		EXPECT_EQ(-EINVAL, p.rc) TH_LOG("'%s' accepted", bad[i]);
		parsed_free(&p);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(line, sizeof(line), "remote 192.0.2.1 %s", good[i]);
		parse(&p, true, line);
		EXPECT_EQ(0, p.rc) TH_LOG("'%s' refused", good[i]);
		parsed_free(&p);
	}
	parse(&p, true, "encap geneve remote 192.0.2.1");
	EXPECT_EQ(-EINVAL, p.rc);
	parsed_free(&p);
}

TEST(repeated_keywords)
{
	static const char *const bad[] = {
		"encap vxlan remote 192.0.2.1 vni 1 vni 2",
		"encap vxlan remote 192.0.2.1 dstport 1 dstport 1",
		"encap vxlan encap vxlan remote 192.0.2.1",
		"encap vxlan remote 192.0.2.1 remote 192.0.2.2",
		"encap gre remote 192.0.2.1 key 1 key 2",
		"encap erspan3 remote 192.0.2.1 subheader 3 subheader 7",
		/* The broker options too (they used to be last-wins). */
		"encap gre remote 192.0.2.1 rate 10 rate 20",
		"encap gre remote 192.0.2.1 snaplen 64 snaplen 128",
		"encap gre remote 192.0.2.1 sample 1/2 sample 1/3",
		"encap gre remote 192.0.2.1 dedup dedup off",
		"encap gre remote 192.0.2.1 gso slice gso segment",
		/* An unknown keyword, last or not. */
		"encap gre remote 192.0.2.1 bogus",
		"encap gre remote 192.0.2.1 bogus 1",
		"encap gre remote 192.0.2.1 burst 10",
	};
	struct parsed p;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(&p, true, bad[i]);
		EXPECT_EQ(-EINVAL, p.rc) TH_LOG("'%s' accepted", bad[i]);
		parsed_free(&p);
	}
}

/* tc's units in any case, fractions when whole; a bare number is pps. */
TEST(rates)
{
	static const struct {
		const char *s;
		uint64_t rate;
		uint8_t unit;
	} good[] = {
		{ "1000", 1000, VTAP_RATE_PPS }, { "100pps", 100, VTAP_RATE_PPS },
		{ "100PPS", 100, VTAP_RATE_PPS }, { "010", 10, VTAP_RATE_PPS },
		{ "10mbit", 10000000, VTAP_RATE_BPS }, { "10Mbit", 10000000, VTAP_RATE_BPS },
		{ "10MBIT", 10000000, VTAP_RATE_BPS }, { "1.5mbit", 1500000, VTAP_RATE_BPS },
		{ "1.5Gbit", 1500000000, VTAP_RATE_BPS }, { "64kbit", 64000, VTAP_RATE_BPS },
		{ "1000bit", 1000, VTAP_RATE_BPS }, { "1kibit", 1024, VTAP_RATE_BPS },
		{ "1kbps", 8000, VTAP_RATE_BPS }, { "2KBps", 16000, VTAP_RATE_BPS },
		{ "1mbps", 8000000, VTAP_RATE_BPS }, { "125bps", 1000, VTAP_RATE_BPS },
		{ "1tbit", 1000000000000ULL, VTAP_RATE_BPS },
	};
	static const char *const bad[] = {
		"0", "0mbit", "1.5pps", "1.5", "1.0001bit", "999bit", "10mbits", "mbit", "1.mbit",
		".5mbit", "-1", "1e6", "2tbit", "10 mbit", "0x10", "1..5mbit", "",
	};
	uint64_t rate;
	uint8_t unit;
	unsigned int i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rate = 0;
		unit = 0;
		EXPECT_EQ(0, parse_rate(good[i].s, &rate, &unit)) TH_LOG("'%s' refused", good[i].s);
		EXPECT_EQ(good[i].rate, rate) TH_LOG("'%s'", good[i].s);
		EXPECT_EQ(good[i].unit, unit) TH_LOG("'%s'", good[i].s);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_NE(0, parse_rate(bad[i], &rate, &unit)) TH_LOG("bad[%u] accepted", i);
}

TEST(set_vni_dstport)
{
	struct parsed p;

	/* set: the session's encap is checked after looking it up. */
	parse(&p, false, "vni 42 dstport 8472");
	ASSERT_EQ(0, p.rc);
	EXPECT_EQ(42, nla_get_u32(p.tb[VTAP_A_SESSION_VNI]));
	EXPECT_EQ(8472, nla_get_u16(p.tb[VTAP_A_SESSION_DPORT]));
	EXPECT_NE(0, p.seen & encap_only_kws());
	EXPECT_EQ(-EINVAL, check_encap_kws(p.seen, VTAP_ENCAP_GRE));
	EXPECT_EQ(0, check_encap_kws(p.seen, VTAP_ENCAP_VXLAN));
	parsed_free(&p);

	parse(&p, false, "ttl 5 snaplen 100");
	ASSERT_EQ(0, p.rc);
	EXPECT_EQ(0, p.seen & encap_only_kws()) TH_LOG("no lookup needed");
	parsed_free(&p);

	parse(&p, false, "vni 16777216");
	EXPECT_EQ(-EINVAL, p.rc);
	parsed_free(&p);
	parse(&p, false, "encap vxlan");
	EXPECT_EQ(-EINVAL, p.rc) TH_LOG("set cannot change the encap");
	parsed_free(&p);
}

TEST(subheader)
{
	static const struct {
		const char *word;
		int v;
	} w[] = { { "none", 0 }, { "3", 3 }, { "7", 7 } };
	char line[128];
	struct parsed p;
	unsigned int i;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		snprintf(line, sizeof(line), "encap erspan3 remote 192.0.2.1 subheader %s",
			 w[i].word);
		parse(&p, true, line);
		ASSERT_EQ(0, p.rc) TH_LOG("'%s' refused", line);
		ASSERT_NE(NULL, p.tb[VTAP_A_SESSION_SUBHDR]);
		EXPECT_EQ(1, nla_len(p.tb[VTAP_A_SESSION_SUBHDR]));
		EXPECT_EQ(w[i].v, nla_get_u8(p.tb[VTAP_A_SESSION_SUBHDR]));
		parsed_free(&p);
	}
	parse(&p, true, "encap erspan3 remote 192.0.2.1");
	ASSERT_EQ(0, p.rc);
	EXPECT_EQ(NULL, p.tb[VTAP_A_SESSION_SUBHDR]) TH_LOG("the kernel's default applies");
	parsed_free(&p);

	/* set: checked against the session's encap once it is looked up. */
	parse(&p, false, "subheader 7");
	ASSERT_EQ(0, p.rc);
	EXPECT_EQ(7, nla_get_u8(p.tb[VTAP_A_SESSION_SUBHDR]));
	EXPECT_NE(0, p.seen & encap_only_kws());
	EXPECT_EQ(-EINVAL, check_encap_kws(p.seen, VTAP_ENCAP_ERSPAN2));
	EXPECT_EQ(0, check_encap_kws(p.seen, VTAP_ENCAP_ERSPAN3));
	parsed_free(&p);
}

TEST(dedup)
{
	static const struct {
		const char *words;
		uint32_t us;
	} ok[] = {
		{ "dedup", VTAP_DEDUP_WINDOW_DEFAULT }, { "dedup on", VTAP_DEDUP_WINDOW_DEFAULT },
		{ "dedup off", 0 }, { "dedup 1", 1 }, { "dedup 250us", 250 },
		{ "dedup 5ms", 5000 }, { "dedup 1s", 1000000 }, { "dedup 1000000", 1000000 },
		{ "dedup 1000ms", 1000000 }, { "dedup 010ms", 10000 },
		/* A window is optional: the next word may be another option. */
		{ "dedup ttl 9", VTAP_DEDUP_WINDOW_DEFAULT },
		{ "dedup snaplen 100", VTAP_DEDUP_WINDOW_DEFAULT },
		{ "snaplen 100 dedup", VTAP_DEDUP_WINDOW_DEFAULT },
		{ "dedup 2ms snaplen 100", 2000 },
	};
	static const char *const bad[] = {
		"dedup 0", "dedup 0ms", "dedup 1000001", "dedup 1001ms", "dedup 2s",
		"dedup 4294967296", "dedup 99999999999999999999", "dedup 5x", "dedup 5 ms",
		"dedup 5 us", "dedup 1 s",
		"dedup 1m", "dedup 1.5ms", "dedup 10msx",
	};
	char line[128];
	struct parsed p;
	unsigned int i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(line, sizeof(line), "encap gre remote 192.0.2.1 %s", ok[i].words);
		parse(&p, true, line);
		ASSERT_EQ(0, p.rc) TH_LOG("'%s' refused", line);
		ASSERT_NE(NULL, p.tb[VTAP_A_SESSION_DEDUP]) TH_LOG("'%s'", line);
		EXPECT_EQ(4, nla_len(p.tb[VTAP_A_SESSION_DEDUP]));
		EXPECT_EQ(ok[i].us, nla_get_u32(p.tb[VTAP_A_SESSION_DEDUP])) TH_LOG("'%s'", line);
		parsed_free(&p);
		/* The same for set. */
		parse(&p, false, ok[i].words);
		ASSERT_EQ(0, p.rc) TH_LOG("set '%s' refused", ok[i].words);
		EXPECT_EQ(ok[i].us, nla_get_u32(p.tb[VTAP_A_SESSION_DEDUP]));
		parsed_free(&p);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "encap gre remote 192.0.2.1 %s", bad[i]);
		parse(&p, true, line);
		EXPECT_EQ(-EINVAL, p.rc) TH_LOG("'%s' accepted", line);
		parsed_free(&p);
	}
	parse(&p, true, "encap gre remote 192.0.2.1");
	ASSERT_EQ(0, p.rc);
	EXPECT_EQ(NULL, p.tb[VTAP_A_SESSION_DEDUP]) TH_LOG("the kernel's default (off) applies");
	parsed_free(&p);
}

/* Run @fn with stdout going to a buffer; returns it (malloc'd). */
static char *capture(void (*fn)(void *), void *arg)
{
	FILE *t = tmpfile();
	int saved;
	char *out;
	long n;

	if (!t)
		return NULL;
	fflush(stdout);
	saved = dup(1);
	dup2(fileno(t), 1);
	fn(arg);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	n = ftell(t);
	out = calloc(1, (size_t)n + 1);
	rewind(t);
	if (out && fread(out, 1, (size_t)n, t) != (size_t)n)
		out[0] = 0;
	fclose(t);
	return out;
}

/* A session reply as the kernel builds it, parsed as vtapctl parses it. */
struct reply {
	struct nl_msg *msg;
	struct nlattr *tb[VTAP_A_SESSION_MAX + 1];
};

static void reply_build(struct reply *r, uint8_t encap, bool vxlan_attrs)
{
	struct nlmsghdr *h;
	uint32_t ip = htonl(0xc0000201);	/* 192.0.2.1 */

	memset(r, 0, sizeof(*r));
	r->msg = nlmsg_alloc();
	nla_put_string(r->msg, VTAP_A_SESSION_NAME, "vx");
	nla_put_u32(r->msg, VTAP_A_SESSION_ID, 12);
	nla_put_u8(r->msg, VTAP_A_SESSION_ENCAP, encap);
	nla_put(r->msg, VTAP_A_SESSION_REMOTE4, 4, &ip);
	if (vxlan_attrs) {
		nla_put_u32(r->msg, VTAP_A_SESSION_VNI, 4242);
		nla_put_u16(r->msg, VTAP_A_SESSION_DPORT, VTAP_VXLAN_PORT);
	}
	nla_put_u8(r->msg, VTAP_A_SESSION_TTL, 64);
	nla_put_u8(r->msg, VTAP_A_SESSION_TOS, 0);
	nla_put_u32(r->msg, VTAP_A_SESSION_FLAGS, 0);
	h = nlmsg_hdr(r->msg);
	nla_parse(r->tb, VTAP_A_SESSION_MAX, nlmsg_attrdata(h, 0), nlmsg_attrlen(h, 0), NULL);
}

static void show(void *arg)
{
	out_open_array();
	print_session(((struct reply *)arg)->tb);
	out_close_array();
}

TEST(show_vxlan_text)
{
	struct reply r;
	char *out;

	json_output = false;
	reply_build(&r, VTAP_ENCAP_VXLAN, true);
	out = capture(show, &r);
	ASSERT_NE(NULL, out);
	EXPECT_NE(NULL, strstr(out, "session vx id 12 encap vxlan remote 192.0.2.1 vni 4242 dstport 4789 ttl 64"))
		TH_LOG("got '%s'", out);
	free(out);
	nlmsg_free(r.msg);

	reply_build(&r, VTAP_ENCAP_GRE, false);
	out = capture(show, &r);
	ASSERT_NE(NULL, out);
	EXPECT_NE(NULL, strstr(out, "encap gre remote 192.0.2.1 ttl 64")) TH_LOG("got '%s'", out);
	EXPECT_EQ(NULL, strstr(out, "vni")) TH_LOG("got '%s'", out);
	EXPECT_EQ(NULL, strstr(out, "dstport")) TH_LOG("got '%s'", out);
	free(out);
	nlmsg_free(r.msg);
}

TEST(show_vxlan_json)
{
	struct reply r;
	char *out;

	json_output = true;
	reply_build(&r, VTAP_ENCAP_VXLAN, true);
	out = capture(show, &r);
	json_output = false;
	ASSERT_NE(NULL, out);
	EXPECT_NE(NULL, strstr(out, "\"encap\":\"vxlan\"")) TH_LOG("got '%s'", out);
	EXPECT_NE(NULL, strstr(out, "\"vni\":4242,")) TH_LOG("got '%s'", out);
	EXPECT_NE(NULL, strstr(out, "\"dstport\":4789,")) TH_LOG("got '%s'", out);
	EXPECT_EQ('[', out[0]) TH_LOG("got '%s'", out);
	free(out);
	nlmsg_free(r.msg);
}

struct info_reply {
	struct nl_msg *msg;
	struct nlattr *tb[VTAP_A_INFO_MAX + 1];
};

static void info_build(struct info_reply *r, uint64_t features)
{
	struct nlmsghdr *h;

	memset(r, 0, sizeof(*r));
	r->msg = nlmsg_alloc();
	nla_put_string(r->msg, VTAP_A_INFO_VERSION, "0.1.0");
	nla_put_u32(r->msg, VTAP_A_INFO_API, VTAP_GENL_VERSION);
	nla_put_u64(r->msg, VTAP_A_INFO_FEATURES, features);
	nla_put_u32(r->msg, VTAP_A_INFO_SESSIONS, 0);
	nla_put_u32(r->msg, VTAP_A_INFO_MAX_SESSIONS, VTAP_SESSION_ID_MAX);
	h = nlmsg_hdr(r->msg);
	nla_parse(r->tb, VTAP_A_INFO_MAX, nlmsg_attrdata(h, 0), nlmsg_attrlen(h, 0), NULL);
}

static void info(void *arg)
{
	info_cb(((struct info_reply *)arg)->tb, NULL);
}

TEST(show_erspan3_subheader)
{
	static const struct {
		uint8_t v;
		const char *text, *json;
	} c[] = {
		{ 0, " hwid 5 gra 100ns subheader none", "\"subheader\":0" },
		{ 3, " hwid 5 gra 100ns subheader 3", "\"subheader\":3" },
		{ 7, " hwid 5 gra 100ns subheader 7", "\"subheader\":7" },
	};
	struct nlmsghdr *h;
	struct reply r;
	unsigned int i;
	char *out;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		reply_build(&r, VTAP_ENCAP_ERSPAN3, false);
		nla_put_u8(r.msg, VTAP_A_SESSION_HWID, 5);
		nla_put_u8(r.msg, VTAP_A_SESSION_GRA, VTAP_GRA_100NS);
		nla_put_u8(r.msg, VTAP_A_SESSION_SUBHDR, c[i].v);
		h = nlmsg_hdr(r.msg);
		nla_parse(r.tb, VTAP_A_SESSION_MAX, nlmsg_attrdata(h, 0),
			  nlmsg_attrlen(h, 0), NULL);
		json_output = false;
		out = capture(show, &r);
		ASSERT_NE(NULL, out);
		EXPECT_NE(NULL, strstr(out, c[i].text)) TH_LOG("got '%s'", out);
		free(out);
		json_output = true;
		out = capture(show, &r);
		json_output = false;
		ASSERT_NE(NULL, out);
		EXPECT_NE(NULL, strstr(out, c[i].json)) TH_LOG("got '%s'", out);
		free(out);
		nlmsg_free(r.msg);
	}
}

TEST(show_dedup)
{
	static const struct {
		uint32_t us;
		const char *text, *json;
	} c[] = {
		{ 0, NULL, "\"dedup_us\":0" },
		{ 10000, " dedup 10ms", "\"dedup_us\":10000" },
		{ 1000000, " dedup 1s", "\"dedup_us\":1000000" },
		{ 250, " dedup 250us", "\"dedup_us\":250" },
		{ 1500, " dedup 1500us", "\"dedup_us\":1500" },
	};
	struct nlmsghdr *h;
	struct reply r;
	unsigned int i;
	char *out;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		reply_build(&r, VTAP_ENCAP_GRE, false);
		nla_put_u32(r.msg, VTAP_A_SESSION_DEDUP, c[i].us);
		h = nlmsg_hdr(r.msg);
		nla_parse(r.tb, VTAP_A_SESSION_MAX, nlmsg_attrdata(h, 0),
			  nlmsg_attrlen(h, 0), NULL);
		json_output = false;
		out = capture(show, &r);
		ASSERT_NE(NULL, out);
		if (c[i].text) {
			EXPECT_NE(NULL, strstr(out, c[i].text)) TH_LOG("got '%s'", out);
		} else {
			EXPECT_EQ(NULL, strstr(out, " dedup")) TH_LOG("got '%s'", out);
		}
		free(out);
		json_output = true;
		out = capture(show, &r);
		json_output = false;
		ASSERT_NE(NULL, out);
		EXPECT_NE(NULL, strstr(out, c[i].json)) TH_LOG("got '%s'", out);
		free(out);
		nlmsg_free(r.msg);
	}
}

TEST(info_features)
{
	struct info_reply r;
	uint64_t all = 0;
	size_t i;
	char *out;

	for (i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		EXPECT_EQ(0, all & features[i].bit) TH_LOG("%s twice", features[i].name);
		all |= features[i].bit;
	}
	EXPECT_EQ(VTAP_FEATURE_XDP * 2 - 1, all)
		TH_LOG("a bit below xdp has no name");

	json_output = false;
	info_build(&r, VTAP_FEATURE_SESSIONS | VTAP_FEATURE_GRE | VTAP_FEATURE_VXLAN);
	out = capture(info, &r);
	ASSERT_NE(NULL, out);
	EXPECT_NE(NULL, strstr(out, "features sessions gre vxlan\n")) TH_LOG("got '%s'", out);
	free(out);
	nlmsg_free(r.msg);

	info_build(&r, VTAP_FEATURE_VXLAN | VTAP_FEATURE_DEDUP | (1ULL << 17) |
		   (1ULL << 63));
	out = capture(info, &r);
	ASSERT_NE(NULL, out);
	EXPECT_NE(NULL, strstr(out, "features vxlan dedup 0x8000000000020000\n"))
		TH_LOG("got '%s'", out);
	free(out);

	json_output = true;
	out = capture(info, &r);
	json_output = false;
	ASSERT_NE(NULL, out);
	EXPECT_NE(NULL, strstr(out, "\"features\":[\"vxlan\",\"dedup\"],\"features_unknown\":\"0x8000000000020000\""))
		TH_LOG("got '%s'", out);
	free(out);
	nlmsg_free(r.msg);

	json_output = true;
	info_build(&r, all);
	out = capture(info, &r);
	json_output = false;
	ASSERT_NE(NULL, out);
	EXPECT_EQ(NULL, strstr(out, "features_unknown")) TH_LOG("got '%s'", out);
	EXPECT_NE(NULL, strstr(out, ",\"unparsed\",\"vxlan\",\"erspan3-subhdr\",\"dedup\",\"xdp\"]"))
		TH_LOG("got '%s'", out);
	free(out);
	nlmsg_free(r.msg);
}

TEST_HARNESS_MAIN
