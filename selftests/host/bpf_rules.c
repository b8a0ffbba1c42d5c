// SPDX-License-Identifier: GPL-2.0
/*
 * Mirror rules end to end on the host: rules parsed and compiled by
 * vtapctl's code (user/lib/rules.c), installed into the maps of the record
 * variant of the TC classifier, and packets run through it with
 * BPF_PROG_TEST_RUN.  Every field at its boundaries, priorities, IPv4/IPv6,
 * VLAN, IPv6 extension headers, short and malformed packets; the packet is
 * never changed and the verdict is always TC_ACT_UNSPEC (next filter).
 * Each field's table both inline in the ruleset value (small) and in its
 * map (past the inline size).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "vtap_bpf.h"
#include "vtap-rec.skel.h"
#include "../../user/lib/rules.h"

#define LO_IFINDEX	1
#define SESSION		5
#define SD		VTAP_SD(SESSION, VTAP_DIR_OUT)
#define COOKIE		0x5e55105e55105eULL	/* the flow's session cookie */
#define UNPARSED	2	/* mirrored(): asked for a copy, VTAP_MIRROR_F_UNPARSED */

/* ---- packet builder ---------------------------------------------------- */

struct pkt {
	unsigned char b[256];
	size_t len;
};

static void put8(struct pkt *p, unsigned int v) { p->b[p->len++] = (unsigned char)v; }
static void put16(struct pkt *p, unsigned int v) { put8(p, v >> 8); put8(p, v); }
static void putn(struct pkt *p, const void *d, size_t n) { memcpy(p->b + p->len, d, n); p->len += n; }

static void eth(struct pkt *p, const int *vlans, int nvlan, unsigned int type)
{
	int i;

	p->len = 0;
	putn(p, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
	for (i = 0; i < nvlan; i++) {
		put16(p, i == 0 && nvlan == 2 ? 0x88a8 : 0x8100);
		put16(p, (unsigned int)vlans[i]);
	}
	put16(p, type);
}

static void ip4(struct pkt *p, const char *src, const char *dst, int proto,
		unsigned int frag)
{
	unsigned char a[4];

	put8(p, 0x45); put8(p, 0); put16(p, 60); put16(p, 1); put16(p, frag);
	put8(p, 64); put8(p, (unsigned int)proto); put16(p, 0);
	inet_pton(AF_INET, src, a); putn(p, a, 4);
	inet_pton(AF_INET, dst, a); putn(p, a, 4);
}

static void ip6(struct pkt *p, const char *src, const char *dst, int nexthdr)
{
	unsigned char a[16];

	put16(p, 0x6000); put16(p, 0); put16(p, 40); put8(p, (unsigned int)nexthdr); put8(p, 64);
	inet_pton(AF_INET6, src, a); putn(p, a, 16);
	inet_pton(AF_INET6, dst, a); putn(p, a, 16);
}

static void l4ports(struct pkt *p, unsigned int sport, unsigned int dport)
{
	put16(p, sport); put16(p, dport);
	while (p->len < 80)
		put8(p, 0);
}

static void icmp(struct pkt *p, unsigned int type)
{
	put8(p, type); put8(p, 0);
	while (p->len < 80)
		put8(p, 0);
}

/* Typical packets. */
static struct pkt udp4(const char *src, const char *dst, unsigned int sp, unsigned int dp)
{
	struct pkt p;

	eth(&p, NULL, 0, 0x0800);
	ip4(&p, src, dst, 17, 0);
	l4ports(&p, sp, dp);
	return p;
}

static struct pkt tcp4(unsigned int dp)
{
	struct pkt p;

	eth(&p, NULL, 0, 0x0800);
	ip4(&p, "192.0.2.1", "192.0.2.2", 6, 0);
	l4ports(&p, 40000, dp);
	return p;
}

static struct pkt udp6(const char *src, unsigned int dp)
{
	struct pkt p;

	eth(&p, NULL, 0, 0x86dd);
	ip6(&p, src, "2001:db8::2", 17);
	l4ports(&p, 40000, dp);
	return p;
}

/* Any protocol, with ports (read only for tcp, udp and sctp). */
static struct pkt l4pkt(const char *src, const char *dst, int proto,
			unsigned int sp, unsigned int dp)
{
	struct pkt p;

	if (strchr(src, ':')) {
		eth(&p, NULL, 0, 0x86dd);
		ip6(&p, src, dst, proto);
	} else {
		eth(&p, NULL, 0, 0x0800);
		ip4(&p, src, dst, proto, 0);
	}
	l4ports(&p, sp, dp);
	return p;
}

/* ---- fixture ----------------------------------------------------------- */

FIXTURE(rules) {
	struct vtap_rec *skel;
	struct vtap_rule_maps m;
	struct vtap_rule_ent ents[VTAP_RULES_MAX + 1];
	int n;
	__u64 cookie;			/* of the rules installed: COOKIE, the flow's */
};

FIXTURE_SETUP(rules)
{
	struct vtap_port port = {
		.port_id = 9, .nsess = { [VTAP_DIR_OUT] = 1 },
		.sess = { [VTAP_DIR_OUT] = { SESSION } },
		.cookie = { [VTAP_DIR_OUT] = { COOKIE } },
	};
	__u32 key = LO_IFINDEX;
	int t;

	self->skel = vtap_rec__open_and_load();
	ASSERT_NE(NULL, self->skel);
	self->m.rules = bpf_map__fd(self->skel->maps.rules);
	self->m.rulesets = bpf_map__fd(self->skel->maps.rulesets);
	self->m.vlan = bpf_map__fd(self->skel->maps.rule_vlan);
	self->m.proto = bpf_map__fd(self->skel->maps.rule_proto);
	self->m.icmp = bpf_map__fd(self->skel->maps.rule_icmp);
	self->m.lpm[0] = bpf_map__fd(self->skel->maps.rule_src4);
	self->m.lpm[1] = bpf_map__fd(self->skel->maps.rule_dst4);
	self->m.lpm[2] = bpf_map__fd(self->skel->maps.rule_src6);
	self->m.lpm[3] = bpf_map__fd(self->skel->maps.rule_dst6);
	self->m.ports = bpf_map__fd(self->skel->maps.rule_ports);
	self->m.on = bpf_map__fd(self->skel->maps.rules_on);
	ASSERT_LE(0, self->m.on);
	for (t = 0; t < 4; t++)
		ASSERT_LE(0, self->m.lpm[t]);
	ASSERT_EQ(0, bpf_map_update_elem(bpf_map__fd(self->skel->maps.ports),
					 &key, &port, BPF_ANY));
	self->n = 0;
	self->cookie = COOKIE;
}

FIXTURE_TEARDOWN(rules)
{
	vtap_rec__destroy(self->skel);
}

/* Add a rule "NUM ACTION ..." written as one string. */
static int add(FIXTURE_DATA(rules) *self, unsigned int num, const char *spec)
{
	char buf[256], *argv[32], *tok, err[128];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok(buf, " "); tok && argc < 32; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	self->ents[self->n].num = num;
	if (vtap_rule_parse(argc, argv, &self->ents[self->n].r, err, sizeof(err))) {
		fprintf(stderr, "# parse '%s': %s\n", spec, err);
		return -1;
	}
	self->n++;
	return 0;
}

static int install(FIXTURE_DATA(rules) *self)
{
	struct vtap_compiled *c = calloc(1, sizeof(*c));
	struct vtap_rule_ent copy[VTAP_RULES_MAX + 1];
	int err;

	if (!c)
		return -ENOMEM;
	memcpy(copy, self->ents, sizeof(copy[0]) * (size_t)self->n);
	err = vtap_rules_compile(copy, self->n, c);
	c->rs.cookie = self->cookie;
	err = err ?: vtap_rules_install(&self->m, SD, c);
	free(c);
	return err;
}

/* The port's flags: with or without vtap's XDP program on it. */
static void port_flags(FIXTURE_DATA(rules) *self, __u32 flags)
{
	int fd = bpf_map__fd(self->skel->maps.ports);
	struct vtap_port port;
	__u32 key = LO_IFINDEX;

	bpf_map_lookup_elem(fd, &key, &port);
	port.flags = flags;
	bpf_map_update_elem(fd, &key, &port, BPF_ANY);
}

/* Run @p through @prog; the decisions recorded so far (count, first's flags). */
static __u32 run_rec(struct __test_metadata *_metadata, FIXTURE_DATA(rules) *self,
		     struct bpf_program *prog, int retval, struct pkt *p, __u32 *flags)
{
	struct vtap_decision cnt, d;
	unsigned char out[512];
	__u32 k = 0;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b,
		.data_size_in = (__u32)p->len, .data_out = out,
		.data_size_out = sizeof(out), .repeat = 1);
	int fd = bpf_map__fd(self->skel->maps.decisions);

	EXPECT_EQ(0, bpf_prog_test_run_opts(bpf_program__fd(prog), &o));
	EXPECT_EQ(retval, o.retval);
	EXPECT_EQ(p->len, o.data_size_out);
	EXPECT_EQ(0, memcmp(out, p->b, p->len)) TH_LOG("the packet was changed");
	bpf_map_lookup_elem(fd, &k, &cnt);
	if (cnt.session_id >= 1 && !*flags) {
		k = 1;
		bpf_map_lookup_elem(fd, &k, &d);
		*flags = d.flags;
	}
	return cnt.session_id;
}

/*
 * Run @p through the ingress program: was the session asked for a copy?
 * And again with vtap's XDP program on the port: XDP and TC together must
 * ask for the same, once (each rule test runs on both paths).
 */
static int mirrored(struct __test_metadata *_metadata,
		    FIXTURE_DATA(rules) *self, struct pkt *p)
{
	struct vtap_decision zero = { 0 };
	__u32 k = 0, n, nx, f = 0, fx = 0;
	int fd = bpf_map__fd(self->skel->maps.decisions);

	port_flags(self, 0);
	bpf_map_update_elem(fd, &k, &zero, BPF_ANY);
	n = run_rec(_metadata, self, self->skel->progs.vtap_tc_ingress,
		    TC_ACT_UNSPEC, p, &f);

	port_flags(self, VTAP_PORT_F_XDP);
	bpf_map_update_elem(fd, &k, &zero, BPF_ANY);
	run_rec(_metadata, self, self->skel->progs.vtap_xdp, XDP_PASS, p, &fx);
	nx = run_rec(_metadata, self, self->skel->progs.vtap_tc_ingress,
		     TC_ACT_UNSPEC, p, &fx);
	port_flags(self, 0);
	EXPECT_EQ(n, nx) TH_LOG("TC alone and XDP + TC disagree");
	EXPECT_EQ(f & VTAP_MIRROR_F_UNPARSED, fx & VTAP_MIRROR_F_UNPARSED)
		TH_LOG("TC alone and XDP + TC disagree on the flags");
	if (n == 1 && (f & VTAP_MIRROR_F_UNPARSED))
		return UNPARSED;
	return (int)n;
}

#define EXPECT_MIRROR(pk, want, what) do {				\
	struct pkt __p = (pk);						\
	EXPECT_EQ(want, mirrored(_metadata, self, &__p)) TH_LOG("%s", what); \
} while (0)

TEST_F(rules, no_rules_mirror_everything)
{
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 2), 1, "no ruleset");
	ASSERT_EQ(0, add(self, 1, "reject"));
	ASSERT_EQ(0, install(self));
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 2), 0, "reject all");
	self->n = 0;
	ASSERT_EQ(0, install(self));
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 2), 1, "rules removed");
}

/* Bit SD of "rules_on": set while SD has a ruleset, and what the program reads. */
static int rules_on_bit(FIXTURE_DATA(rules) *self, __u32 sd)
{
	struct vtap_rules_on v;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(self->m.on, &zero, &v))
		return -1;
	return (int)(v.w[sd / 64] >> (sd % 64) & 1);
}

TEST_F(rules, rules_on_bit_follows_the_ruleset)
{
	struct vtap_rules_on none = { { 0 } };
	__u32 zero = 0;

	EXPECT_EQ(0, rules_on_bit(self, SD));
	ASSERT_EQ(0, add(self, 1, "reject"));
	ASSERT_EQ(0, install(self));
	EXPECT_EQ(1, rules_on_bit(self, SD)) TH_LOG("set once the ruleset is written");
	EXPECT_EQ(0, rules_on_bit(self, SD ^ 1)) TH_LOG("the other direction untouched");
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 2), 0, "reject all");
	/* The program looks at the ruleset only for sessions with the bit. */
	ASSERT_EQ(0, bpf_map_update_elem(self->m.on, &zero, &none, BPF_ANY));
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 2), 1, "bit clear: no rules looked at");
	ASSERT_EQ(0, install(self));
	EXPECT_EQ(1, rules_on_bit(self, SD)) TH_LOG("set again by the next install");
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 2), 0, "reject all again");
	self->n = 0;
	ASSERT_EQ(0, install(self));
	EXPECT_EQ(0, rules_on_bit(self, SD)) TH_LOG("cleared with the last rule");
}

TEST_F(rules, unmatched_is_not_mirrored)
{
	ASSERT_EQ(0, add(self, 10, "accept proto tcp"));
	ASSERT_EQ(0, install(self));
	EXPECT_MIRROR(tcp4(80), 1, "tcp accepted");
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 80), 0, "udp unmatched");
}

TEST_F(rules, first_match_by_number_wins)
{
	/* Added out of order: numbers decide, not insertion. */
	ASSERT_EQ(0, add(self, 20, "accept src 192.0.2.0/24"));
	ASSERT_EQ(0, add(self, 10, "reject src 192.0.2.0/25"));
	ASSERT_EQ(0, add(self, 30, "accept proto udp"));
	ASSERT_EQ(0, install(self));
	EXPECT_MIRROR(udp4("192.0.2.1", "203.0.113.1", 1, 2), 0, ".1: rule 10 rejects");
	EXPECT_MIRROR(udp4("192.0.2.127", "203.0.113.1", 1, 2), 0, ".127: rule 10");
	EXPECT_MIRROR(udp4("192.0.2.128", "203.0.113.1", 1, 2), 1, ".128: rule 20");
	EXPECT_MIRROR(udp4("198.51.100.1", "203.0.113.1", 1, 2), 1, "rule 30");
	EXPECT_MIRROR(tcp4(80), 0, "tcp from 192.0.2.1: rule 10");
}

TEST_F(rules, cidr_boundaries)
{
	ASSERT_EQ(0, add(self, 1, "accept dst 198.51.100.0/24"));
	ASSERT_EQ(0, add(self, 2, "accept src 203.0.113.7/32"));
	ASSERT_EQ(0, add(self, 3, "accept dst 0.0.0.0/0 src 192.0.2.64/26"));
	ASSERT_EQ(0, install(self));
	EXPECT_MIRROR(udp4("10.0.0.1", "198.51.100.0", 1, 2), 1, "first of /24");
	EXPECT_MIRROR(udp4("10.0.0.1", "198.51.100.255", 1, 2), 1, "last of /24");
	EXPECT_MIRROR(udp4("10.0.0.1", "198.51.101.0", 1, 2), 0, "past /24");
	EXPECT_MIRROR(udp4("10.0.0.1", "198.51.99.255", 1, 2), 0, "before /24");
	EXPECT_MIRROR(udp4("203.0.113.7", "10.0.0.2", 1, 2), 1, "/32");
	EXPECT_MIRROR(udp4("203.0.113.6", "10.0.0.2", 1, 2), 0, "next to /32");
	EXPECT_MIRROR(udp4("192.0.2.64", "10.0.0.2", 1, 2), 1, "/26 first");
	EXPECT_MIRROR(udp4("192.0.2.127", "10.0.0.2", 1, 2), 1, "/26 last");
	EXPECT_MIRROR(udp4("192.0.2.128", "10.0.0.2", 1, 2), 0, "past /26");
}

TEST_F(rules, port_ranges)
{
	ASSERT_EQ(0, add(self, 1, "accept proto udp dport 1000-2000"));
	ASSERT_EQ(0, add(self, 2, "accept proto udp sport 53"));
	ASSERT_EQ(0, add(self, 3, "accept proto tcp dport 0"));
	ASSERT_EQ(0, add(self, 4, "accept proto tcp dport 65535"));
	ASSERT_EQ(0, install(self));
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 9, 999), 0, "999");
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 9, 1000), 1, "1000");
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 9, 2000), 1, "2000");
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 9, 2001), 0, "2001");
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 53, 5), 1, "sport 53");
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 54, 5), 0, "sport 54");
	EXPECT_MIRROR(tcp4(0), 1, "tcp dport 0");
	EXPECT_MIRROR(tcp4(65535), 1, "tcp dport 65535");
	EXPECT_MIRROR(tcp4(65534), 0, "tcp dport 65534");
	EXPECT_MIRROR(tcp4(1500), 0, "tcp, not udp");
}

TEST_F(rules, ipv6_and_families)
{
	ASSERT_EQ(0, add(self, 1, "accept src 2001:db8:1::/48"));
	ASSERT_EQ(0, add(self, 2, "accept proto udp dport 7"));
	ASSERT_EQ(0, install(self));
	EXPECT_MIRROR(udp6("2001:db8:1::5", 9), 1, "v6 in /48");
	EXPECT_MIRROR(udp6("2001:db8:2::5", 9), 0, "v6 outside");
	EXPECT_MIRROR(udp6("2001:db8:2::5", 7), 1, "v6 port rule");
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 9, 9), 0, "v4 never matches a v6 CIDR");
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 9, 7), 1, "v4 port rule");
}

TEST_F(rules, ipv6_extension_headers)
{
	struct pkt p;

	ASSERT_EQ(0, add(self, 1, "accept proto udp dport 4789"));
	ASSERT_EQ(0, add(self, 2, "accept proto 17 src 2001:db8:9::/64"));
	ASSERT_EQ(0, install(self));

	/* hop-by-hop (8 bytes) + destination options (16) + udp */
	eth(&p, NULL, 0, 0x86dd);
	ip6(&p, "2001:db8::1", "2001:db8::2", 0);
	put8(&p, 60); put8(&p, 0); putn(&p, "\x01\x04\0\0\0\0", 6);
	put8(&p, 17); put8(&p, 1); putn(&p, "\x01\x0c\0\0\0\0\0\0\0\0\0\0\0\0", 14);
	l4ports(&p, 1, 4789);
	EXPECT_MIRROR(p, 1, "udp behind two extension headers");

	/* first fragment: ports present */
	eth(&p, NULL, 0, 0x86dd);
	ip6(&p, "2001:db8::1", "2001:db8::2", 44);
	put8(&p, 17); put8(&p, 0); put16(&p, 0x0001); put16(&p, 0); put16(&p, 7);
	l4ports(&p, 1, 4789);
	EXPECT_MIRROR(p, 1, "first fragment has ports");

	/* later fragment: no ports, the port rule cannot match */
	eth(&p, NULL, 0, 0x86dd);
	ip6(&p, "2001:db8::1", "2001:db8::2", 44);
	put8(&p, 17); put8(&p, 0); put16(&p, 0x0101); put16(&p, 0); put16(&p, 7);
	l4ports(&p, 1, 4789);
	EXPECT_MIRROR(p, UNPARSED, "later fragment: its ports unknown, rule 1 may match");

	/* ...but a rule on the protocol and address still does */
	eth(&p, NULL, 0, 0x86dd);
	ip6(&p, "2001:db8:9::1", "2001:db8::2", 44);
	put8(&p, 17); put8(&p, 0); put16(&p, 0x0101); put16(&p, 0); put16(&p, 7);
	l4ports(&p, 1, 1);
	EXPECT_MIRROR(p, 1, "later fragment, proto and src");

	/* more extension headers than the documented bound: L4 unknown */
	eth(&p, NULL, 0, 0x86dd);
	ip6(&p, "2001:db8::1", "2001:db8::2", 60);
	for (int i = 0; i < VTAP_IPV6_EXT_MAX; i++) {
		put8(&p, i == VTAP_IPV6_EXT_MAX - 1 ? 17 : 60); put8(&p, 0);
		putn(&p, "\x01\x04\0\0\0\0", 6);
	}
	l4ports(&p, 1, 4789);
	EXPECT_MIRROR(p, UNPARSED, "past the extension header bound: protocol unknown");
}

TEST_F(rules, vlan)
{
	static const int v100[] = { 100 }, v200[] = { 200 }, qinq[] = { 300, 100 };
	struct pkt p;

	ASSERT_EQ(0, add(self, 1, "accept vlan 100"));
	ASSERT_EQ(0, add(self, 2, "accept vlan 300 proto udp"));
	ASSERT_EQ(0, install(self));
	eth(&p, v100, 1, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 17, 0); l4ports(&p, 1, 2);
	EXPECT_MIRROR(p, 1, "vlan 100");
	eth(&p, v200, 1, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 17, 0); l4ports(&p, 1, 2);
	EXPECT_MIRROR(p, 0, "vlan 200");
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 2), 0, "untagged");
	eth(&p, qinq, 2, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 17, 0); l4ports(&p, 1, 2);
	EXPECT_MIRROR(p, 1, "QinQ: the outer tag (300) and the inner L4 (udp)");
}

TEST_F(rules, icmp_type)
{
	struct pkt p;

	ASSERT_EQ(0, add(self, 1, "accept proto icmp icmp-type 8"));
	ASSERT_EQ(0, add(self, 2, "accept proto icmpv6 icmp-type 128"));
	ASSERT_EQ(0, install(self));
	eth(&p, NULL, 0, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 1, 0); icmp(&p, 8);
	EXPECT_MIRROR(p, 1, "echo request");
	eth(&p, NULL, 0, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 1, 0); icmp(&p, 0);
	EXPECT_MIRROR(p, 0, "echo reply");
	eth(&p, NULL, 0, 0x86dd); ip6(&p, "2001:db8::1", "2001:db8::2", 58); icmp(&p, 128);
	EXPECT_MIRROR(p, 1, "icmpv6 echo request");
	eth(&p, NULL, 0, 0x86dd); ip6(&p, "2001:db8::1", "2001:db8::2", 58); icmp(&p, 8);
	EXPECT_MIRROR(p, 0, "icmpv6 type 8 is not icmp type 8");
}

TEST_F(rules, short_and_malformed)
{
	struct pkt p;

	ASSERT_EQ(0, add(self, 1, "accept proto udp dport 53"));
	ASSERT_EQ(0, add(self, 2, "accept vlan 7"));
	ASSERT_EQ(0, install(self));

	/* IPv4 header claiming options that are not there: no L4 read */
	eth(&p, NULL, 0, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 17, 0);
	p.b[14] = 0x4f;
	EXPECT_MIRROR(p, UNPARSED, "ihl past the end");
	/* bad version */
	eth(&p, NULL, 0, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 17, 0); l4ports(&p, 1, 53);
	p.b[14] = 0x65;
	EXPECT_MIRROR(p, UNPARSED, "IPv4 ethertype, version 6");
	/* ihl < 5 */
	eth(&p, NULL, 0, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 17, 0); l4ports(&p, 1, 53);
	p.b[14] = 0x44;
	EXPECT_MIRROR(p, UNPARSED, "ihl 4");
	/* IPv4 later fragment: no ports */
	eth(&p, NULL, 0, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 17, 0x0010); l4ports(&p, 1, 53);
	EXPECT_MIRROR(p, UNPARSED, "later IPv4 fragment");
	/* a VLAN tag cut short */
	{
		static const int v7[] = { 7 };

		eth(&p, v7, 1, 0x0800);
		p.len = 15;
		EXPECT_MIRROR(p, UNPARSED, "truncated tag");
	}
	/* an unknown ethertype with a tag still matches the vlan rule */
	{
		static const int v7[] = { 7 };

		eth(&p, v7, 1, 0x88b5);
		put16(&p, 0);
		EXPECT_MIRROR(p, 1, "vlan rule on a non-IP frame");
	}
	/*
	 * IPv6 cut right after its header (BPF_PROG_TEST_RUN refuses frames
	 * shorter than an IP header, like the stack would): no UDP ports.
	 */
	eth(&p, NULL, 0, 0x86dd); ip6(&p, "2001:db8::1", "2001:db8::2", 17);
	put16(&p, 1);
	EXPECT_MIRROR(p, UNPARSED, "IPv6 with half a UDP header");
	/* IPv4 likewise */
	eth(&p, NULL, 0, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 17, 0);
	put16(&p, 1);
	EXPECT_MIRROR(p, UNPARSED, "IPv4 with half a UDP header");
}

/*
 * Frames whose shape hides a field the rules need: undecidable (the
 * session decides, mirror by default) only when the hidden field could
 * change the verdict.
 */
TEST_F(rules, unparsed_only_when_it_matters)
{
	static const int three[] = { 10, 20, 30 }, two[] = { 10, 20 };
	struct pkt p;

	ASSERT_EQ(0, add(self, 10, "reject proto udp dport 53"));
	ASSERT_EQ(0, add(self, 20, "accept proto udp"));
	ASSERT_EQ(0, add(self, 30, "reject proto tcp"));
	ASSERT_EQ(0, install(self));

	/* two tags: parsed */
	eth(&p, two, 2, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 17, 0); l4ports(&p, 1, 53);
	EXPECT_MIRROR(p, 0, "QinQ udp 53: rule 10 rejects");
	/* three tags: everything behind them is hidden */
	eth(&p, three, 3, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 17, 0); l4ports(&p, 1, 53);
	EXPECT_MIRROR(p, UNPARSED, "three tags: any rule may match");
	/* a later UDP fragment: rule 10 or 20 -- reject or accept */
	eth(&p, NULL, 0, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 17, 0x0010); l4ports(&p, 1, 53);
	EXPECT_MIRROR(p, UNPARSED, "later udp fragment: 10 or 20");
	/* a later TCP fragment: only rule 30 can match, whatever its ports */
	eth(&p, NULL, 0, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 6, 0x0010); l4ports(&p, 1, 53);
	EXPECT_MIRROR(p, 0, "later tcp fragment: decided, rule 30");
}

TEST_F(rules, reject_only_rules_decide_without_the_hidden_fields)
{
	static const int three[] = { 10, 20, 30 };
	struct pkt p;

	ASSERT_EQ(0, add(self, 1, "reject proto udp dport 53"));
	ASSERT_EQ(0, install(self));
	eth(&p, three, 3, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 17, 0); l4ports(&p, 1, 53);
	EXPECT_MIRROR(p, 0, "nothing can accept it: not mirrored");
}

/* Rules made for an earlier owner of the session id are not this session's. */
TEST_F(rules, a_ruleset_of_another_cookie_is_ignored)
{
	ASSERT_EQ(0, add(self, 1, "accept proto tcp"));
	self->cookie = COOKIE + 1;
	ASSERT_EQ(0, install(self));
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 2), 1,
		      "udp mirrored: the session has no rules of its own");
	self->cookie = COOKIE;
	ASSERT_EQ(0, install(self));
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 2), 0, "its own rules apply");
}

TEST_F(rules, many_rules)
{
	char spec[64];
	int i;

	for (i = 0; i < VTAP_RULES_MAX; i++) {
		snprintf(spec, sizeof(spec), "accept proto udp dport %d", 1000 + i);
		ASSERT_EQ(0, add(self, (unsigned int)(i + 1), spec));
	}
	ASSERT_EQ(0, install(self));
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 1000), 1, "rule 1");
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 1255), 1, "rule 256");
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 1256), 0, "past the rules");
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 999), 0, "before the rules");
	ASSERT_EQ(0, add(self, 9999, "accept"));
	EXPECT_EQ(-E2BIG, install(self)) TH_LOG("rule 257 must be refused");
}

TEST_F(rules, replace_keeps_one_live_generation)
{
	struct vtap_ruleset rs;
	__u32 sd = SD;

	ASSERT_EQ(0, add(self, 1, "accept proto udp dport 1"));
	ASSERT_EQ(0, install(self));
	ASSERT_EQ(0, bpf_map_lookup_elem(self->m.rulesets, &sd, &rs));
	EXPECT_EQ(0, rs.gen);
	self->ents[0].r.dport_lo = self->ents[0].r.dport_hi = 2;
	ASSERT_EQ(0, install(self));
	ASSERT_EQ(0, bpf_map_lookup_elem(self->m.rulesets, &sd, &rs));
	EXPECT_EQ(1, rs.gen);
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 2), 1, "new rule live");
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 1), 0, "old rule gone");
	self->ents[0].r.dport_lo = self->ents[0].r.dport_hi = 3;
	ASSERT_EQ(0, install(self));
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 3), 1, "third generation");
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 2), 0, "second gone");
}

/* ---- inline tables and their map fallbacks ---------------------------- */

static int map_entries(int fd)
{
	unsigned char key[64], next[64];
	void *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

/*
 * Is table @t inline in the live ruleset, with no entries in @fd?  Or, if
 * not, out of line in @fd?  (@want_inline says which the test expects.)
 */
static void check_where(struct __test_metadata *_metadata,
			FIXTURE_DATA(rules) *self, int t, int fd, bool want_inline)
{
	struct vtap_ruleset rs;
	__u32 sd = SD;

	ASSERT_EQ(0, bpf_map_lookup_elem(self->m.rulesets, &sd, &rs));
	EXPECT_EQ(want_inline, !!(rs.inl & (1U << t))) TH_LOG("table %d", t);
	if (want_inline) {
		EXPECT_EQ(0, map_entries(fd)) TH_LOG("table %d inline and in its map", t);
	} else {
		EXPECT_LT(0, map_entries(fd)) TH_LOG("table %d: map empty", t);
	}
}

/* Protocols 100..100+n-1, every other one rejected; one more rule without. */
static void protos_case(struct __test_metadata *_metadata,
			FIXTURE_DATA(rules) *self, int n)
{
	char spec[64];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(spec, sizeof(spec), "%s proto %d", i % 2 ? "reject" : "accept", 100 + i);
		ASSERT_EQ(0, add(self, (unsigned int)(i + 1), spec));
	}
	ASSERT_EQ(0, add(self, 1000, "accept src 192.0.2.9/32"));
	ASSERT_EQ(0, install(self));
	check_where(_metadata, self, VTAP_RT_PROTO, self->m.proto, n <= VTAP_INL_VALS);
	for (i = 0; i < n; i++) {
		EXPECT_MIRROR(l4pkt("192.0.2.1", "192.0.2.2", 100 + i, 1, 2), i % 2 ? 0 : 1,
			      "listed protocol");
		EXPECT_MIRROR(l4pkt("192.0.2.9", "192.0.2.2", 100 + i, 1, 2), i % 2 ? 0 : 1,
			      "listed protocol, lower rule number than the src rule");
	}
	EXPECT_MIRROR(l4pkt("192.0.2.1", "192.0.2.2", 99, 1, 2), 0, "protocol not listed");
	EXPECT_MIRROR(l4pkt("192.0.2.9", "192.0.2.2", 99, 1, 2), 1, "not listed, src rule");
	EXPECT_MIRROR(l4pkt("2001:db8::1", "2001:db8::2", 100, 1, 2), 1, "IPv6, protocol 100");
}

TEST_F(rules, protocols_inline)
{
	protos_case(_metadata, self, VTAP_INL_VALS);
}

TEST_F(rules, protocols_in_map)
{
	protos_case(_metadata, self, VTAP_INL_VALS + 1);
}

static void vlans_case(struct __test_metadata *_metadata,
		       FIXTURE_DATA(rules) *self, int n)
{
	char spec[64];
	struct pkt p;
	int i, v;

	for (i = 0; i < n; i++) {
		snprintf(spec, sizeof(spec), "%s vlan %d", i % 2 ? "reject" : "accept", 10 + i);
		ASSERT_EQ(0, add(self, (unsigned int)(i + 1), spec));
	}
	ASSERT_EQ(0, add(self, 1000, "accept proto tcp"));
	ASSERT_EQ(0, install(self));
	check_where(_metadata, self, VTAP_RT_VLAN, self->m.vlan, n <= VTAP_INL_VALS);
	for (v = 9; v <= 10 + n; v++) {
		int want = v >= 10 && v < 10 + n ? (v - 10) % 2 == 0 : 0;

		eth(&p, &v, 1, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 17, 0); l4ports(&p, 1, 2);
		EXPECT_MIRROR(p, want, "udp, vlan");
		eth(&p, &v, 1, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 6, 0); l4ports(&p, 1, 2);
		EXPECT_MIRROR(p, v >= 10 && v < 10 + n ? want : 1, "tcp, vlan");
	}
	EXPECT_MIRROR(udp4("192.0.2.1", "192.0.2.2", 1, 2), 0, "untagged udp");
}

TEST_F(rules, vlans_inline)
{
	vlans_case(_metadata, self, VTAP_INL_VALS);
}

TEST_F(rules, vlans_in_map)
{
	vlans_case(_metadata, self, VTAP_INL_VALS + 1);
}

static void icmp_case(struct __test_metadata *_metadata,
		      FIXTURE_DATA(rules) *self, int n)
{
	char spec[64];
	struct pkt p;
	int i;

	/* ICMP types 3.., ICMPv6 type 128 and ICMP type 128 on the same row */
	for (i = 0; i < n - 1; i++) {
		snprintf(spec, sizeof(spec), "accept proto icmp icmp-type %d", 3 + i);
		ASSERT_EQ(0, add(self, (unsigned int)(i + 1), spec));
	}
	ASSERT_EQ(0, add(self, 500, "accept proto icmpv6 icmp-type 128"));
	ASSERT_EQ(0, install(self));
	check_where(_metadata, self, VTAP_RT_ICMP, self->m.icmp, n <= VTAP_INL_VALS);
	for (i = 2; i <= n + 2; i++) {
		eth(&p, NULL, 0, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 1, 0); icmp(&p, (unsigned int)i);
		EXPECT_MIRROR(p, i >= 3 && i < 3 + n - 1, "icmp type");
	}
	eth(&p, NULL, 0, 0x0800); ip4(&p, "192.0.2.1", "192.0.2.2", 1, 0); icmp(&p, 128);
	EXPECT_MIRROR(p, 0, "icmp type 128 is not icmpv6 type 128");
	eth(&p, NULL, 0, 0x86dd); ip6(&p, "2001:db8::1", "2001:db8::2", 58); icmp(&p, 128);
	EXPECT_MIRROR(p, 1, "icmpv6 type 128");
	eth(&p, NULL, 0, 0x86dd); ip6(&p, "2001:db8::1", "2001:db8::2", 58); icmp(&p, 3);
	EXPECT_MIRROR(p, 0, "icmpv6 type 3 is not icmp type 3");
}

TEST_F(rules, icmp_types_inline)
{
	icmp_case(_metadata, self, VTAP_INL_VALS);
}

TEST_F(rules, icmp_types_in_map)
{
	icmp_case(_metadata, self, VTAP_INL_VALS + 1);
}

/*
 * @n ranges [1000 + 10i, 1004 + 10i] (2n + 1 spans), alternately accepted
 * and rejected, on sport or dport, plus "65535" when @top (one more span).
 */
static void ports_case(struct __test_metadata *_metadata,
		       FIXTURE_DATA(rules) *self, int n, bool top, bool sport)
{
	const char *kw = sport ? "sport" : "dport";
	int rt = sport ? VTAP_RT_SPORT : VTAP_RT_DPORT, spans = 2 * n + 1 + top;
	char spec[96];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(spec, sizeof(spec), "%s proto udp %s %d-%d", i % 2 ? "reject" : "accept",
			 kw, 1000 + 10 * i, 1004 + 10 * i);
		ASSERT_EQ(0, add(self, (unsigned int)(i + 1), spec));
	}
	if (top) {
		snprintf(spec, sizeof(spec), "accept proto udp %s 65535", kw);
		ASSERT_EQ(0, add(self, 900, spec));
	}
	ASSERT_EQ(0, add(self, 1000, "accept proto tcp"));
	ASSERT_EQ(0, install(self));
	check_where(_metadata, self, rt, self->m.ports, spans <= VTAP_INL_SPANS);
	for (i = 0; i < n; i++) {
		static const int off[] = { -1, 0, 2, 4, 5 };
		size_t j;

		for (j = 0; j < sizeof(off) / sizeof(off[0]); j++) {
			unsigned int port = (unsigned int)(1000 + 10 * i + off[j]);
			int want = off[j] >= 0 && off[j] <= 4 && i % 2 == 0;

			EXPECT_MIRROR(l4pkt("192.0.2.1", "192.0.2.2", 17, sport ? port : 1,
					    sport ? 1 : port), want, kw);
			EXPECT_MIRROR(l4pkt("2001:db8::1", "2001:db8::2", 17, sport ? port : 1,
					    sport ? 1 : port), want, kw);
		}
	}
	EXPECT_MIRROR(l4pkt("192.0.2.1", "192.0.2.2", 17, sport ? 0 : 1, sport ? 1 : 0), 0,
		      "port 0");
	EXPECT_MIRROR(l4pkt("192.0.2.1", "192.0.2.2", 17, sport ? 65534 : 1, sport ? 1 : 65534),
		      0, "port 65534");
	EXPECT_MIRROR(l4pkt("192.0.2.1", "192.0.2.2", 17, sport ? 65535 : 1, sport ? 1 : 65535),
		      top, "port 65535");
	EXPECT_MIRROR(l4pkt("192.0.2.1", "192.0.2.2", 6, 1000, 1000), 1, "tcp");
}

TEST_F(rules, port_spans_inline)
{
	ports_case(_metadata, self, 31, true, false);	/* 64 spans */
}

TEST_F(rules, port_spans_in_map)
{
	ports_case(_metadata, self, 32, false, false);	/* 65 */
}

TEST_F(rules, sport_spans_inline)
{
	ports_case(_metadata, self, 5, false, true);
}

TEST_F(rules, sport_spans_in_map)
{
	ports_case(_metadata, self, 40, true, true);
}

/*
 * @n prefixes on src or dst of one family: rule 1 rejects tcp in a short
 * prefix, rule 2 accepts a longer one inside it, the rest accept /24s (or
 * /64s) elsewhere.  Listed short first, so a scan that does not find the
 * longest match first gets udp in the longer prefix wrong.
 */
static void prefixes_case(struct __test_metadata *_metadata,
			  FIXTURE_DATA(rules) *self, int n, bool v6, bool src)
{
	const char *kw = src ? "src" : "dst", *other = v6 ? "2001:db8::99" : "192.0.2.99";
	int t = (src ? 0 : 1) + (v6 ? 2 : 0);
	char spec[96], a[64];
	int i;

	snprintf(spec, sizeof(spec), "reject proto tcp %s %s", kw, v6 ? "2001:db8::/32" : "10.0.0.0/8");
	ASSERT_EQ(0, add(self, 1, spec));
	snprintf(spec, sizeof(spec), "accept %s %s", kw, v6 ? "2001:db8:1::/48" : "10.1.0.0/16");
	ASSERT_EQ(0, add(self, 2, spec));
	for (i = 0; i < n - 2; i++) {
		if (v6)
			snprintf(spec, sizeof(spec), "accept %s 2001:db8:ff:%x::/64", kw, i);
		else
			snprintf(spec, sizeof(spec), "accept %s 172.16.%d.0/24", kw, i);
		ASSERT_EQ(0, add(self, (unsigned int)(3 + i), spec));
	}
	/* the other family and the other field: their own tables */
	ASSERT_EQ(0, add(self, 500, v6 ? "reject src 10.0.0.0/8" : "reject src 2001:db8::/32"));
	ASSERT_EQ(0, add(self, 501, src ? "accept dst 203.0.113.0/24" : "accept src 203.0.113.0/24"));
	ASSERT_EQ(0, install(self));
	check_where(_metadata, self, VTAP_RT_SRC4 + t, self->m.lpm[t], n <= VTAP_INL_PREFIXES);

#define PFX(addr, proto, want, what) do {						EXPECT_MIRROR(l4pkt(src ? (addr) : other, src ? other : (addr), proto, 1, 2), 		      want, what);						} while (0)
	PFX(v6 ? "2001:db8:1::5" : "10.1.2.3", 17, 1, "udp in the longer prefix");
	PFX(v6 ? "2001:db8:1::5" : "10.1.2.3", 6, 0, "tcp in the longer prefix");
	PFX(v6 ? "2001:db8:2::5" : "10.2.0.1", 17, 0, "udp in the short prefix only");
	PFX(v6 ? "2001:db9::1" : "11.0.0.1", 17, 0, "outside");
	for (i = 0; i < n - 2; i++) {
		if (v6)
			snprintf(a, sizeof(a), "2001:db8:ff:%x::7", i);
		else
			snprintf(a, sizeof(a), "172.16.%d.7", i);
		PFX(a, 17, 1, "a /24 or /64");
		PFX(a, 6, v6 ? 0 : 1, v6 ? "tcp in 2001:db8::/32: rule 1" : "tcp in a /24");
	}
#undef PFX
}

TEST_F(rules, src4_prefixes_inline)
{
	prefixes_case(_metadata, self, VTAP_INL_PREFIXES, false, true);
}

TEST_F(rules, src4_prefixes_in_map)
{
	prefixes_case(_metadata, self, VTAP_INL_PREFIXES + 1, false, true);
}

TEST_F(rules, dst4_prefixes_inline)
{
	prefixes_case(_metadata, self, 3, false, false);
}

TEST_F(rules, dst4_prefixes_in_map)
{
	prefixes_case(_metadata, self, 40, false, false);
}

TEST_F(rules, src6_prefixes_inline)
{
	prefixes_case(_metadata, self, VTAP_INL_PREFIXES, true, true);
}

TEST_F(rules, src6_prefixes_in_map)
{
	prefixes_case(_metadata, self, VTAP_INL_PREFIXES + 1, true, true);
}

TEST_F(rules, dst6_prefixes_inline)
{
	prefixes_case(_metadata, self, VTAP_INL_PREFIXES, true, false);
}

TEST_F(rules, dst6_prefixes_in_map)
{
	prefixes_case(_metadata, self, VTAP_INL_PREFIXES + 1, true, false);
}

TEST(parse_rejects)
{
	static const char *const bad[] = {
		"", "allow", "accept proto xyz", "accept proto 256",
		"accept src 192.0.2.1/24", "accept src 192.0.2.0/33",
		"accept src 2001:db8::/129", "accept dst banana",
		"accept src 192.0.2.0/24 dst 2001:db8::/32",
		"accept proto udp dport 2000-1000", "accept proto udp dport 65536",
		"accept dport 80", "accept proto icmp dport 80",
		"accept icmp-type 8", "accept proto udp icmp-type 8",
		"accept vlan 4096", "accept proto tcp proto udp",
		"accept proto icmp src 2001:db8::/32", "accept proto", "accept frob 1",
	};
	struct vtap_rule r;
	char buf[128], *argv[16], *tok, err[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int argc = 0;

		snprintf(buf, sizeof(buf), "%s", bad[i]);
		for (tok = strtok(buf, " "); tok; tok = strtok(NULL, " "))
			argv[argc++] = tok;
		EXPECT_EQ(-EINVAL, vtap_rule_parse(argc, argv, &r, err, sizeof(err)))
			TH_LOG("'%s' was accepted", bad[i]);
		EXPECT_NE(0, err[0]) TH_LOG("'%s': no message", bad[i]);
	}
}

TEST(format_roundtrip)
{
	static const char *const good[] = {
		"accept", "reject proto tcp", "accept proto udp src 192.0.2.0/24 dport 53",
		"accept proto tcp dst 2001:db8::/32 sport 1-1023 dport 443",
		"reject vlan 100", "accept proto icmpv6 icmp-type 135", "accept proto 47",
	};
	struct vtap_rule r;
	char buf[128], out[256], *argv[16], *tok, err[128];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int argc = 0;

		snprintf(buf, sizeof(buf), "%s", good[i]);
		for (tok = strtok(buf, " "); tok; tok = strtok(NULL, " "))
			argv[argc++] = tok;
		ASSERT_EQ(0, vtap_rule_parse(argc, argv, &r, err, sizeof(err)))
			TH_LOG("'%s': %s", good[i], err);
		vtap_rule_format(&r, out, sizeof(out));
		EXPECT_STREQ(good[i], out);
	}
}

TEST_HARNESS_MAIN
