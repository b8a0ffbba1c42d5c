// SPDX-License-Identifier: GPL-2.0
/*
 * The TC classifier (bpf/vtap.bpf.c, record variant) under BPF_PROG_TEST_RUN
 * on the host kernel: which sessions it asks for, with which port id and
 * direction, and that it never changes the packet or drops it.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vtap_bpf.h"
#include "vtap-rec.skel.h"

#define LO_IFINDEX 1	/* BPF_PROG_TEST_RUN runs tc programs on loopback */

static void make_udp4(unsigned char *pkt, size_t len)
{
	struct ethhdr *eth = (void *)pkt;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	memset(pkt, 0, len);
	memcpy(eth->h_dest, "\x02\x00\x00\x00\x00\x02", 6);
	memcpy(eth->h_source, "\x02\x00\x00\x00\x00\x01", 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(len - sizeof(*eth));
	inet_pton(AF_INET, "192.0.2.1", &ip->saddr);
	inet_pton(AF_INET, "192.0.2.2", &ip->daddr);
	udp->source = htons(1234);
	udp->dest = htons(5678);
	udp->len = htons(len - sizeof(*eth) - sizeof(*ip));
}

/* An IPv6 UDP frame 2001:db8::1 port 1234 > 2001:db8::2 port 5678, @payload bytes of IP payload. */
static void make_udp6(unsigned char *pkt, size_t len, __u16 payload)
{
	memset(pkt, 0, len);
	pkt[12] = 0x86;
	pkt[13] = 0xdd;
	pkt[14] = 0x60;
	pkt[18] = (__u8)(payload >> 8);
	pkt[19] = (__u8)payload;
	pkt[20] = IPPROTO_UDP;
	pkt[21] = 64;
	inet_pton(AF_INET6, "2001:db8::1", pkt + 22);
	inet_pton(AF_INET6, "2001:db8::2", pkt + 38);
	pkt[54] = 1234 >> 8;
	pkt[55] = 1234 & 0xff;
	pkt[56] = 5678 >> 8;
	pkt[57] = 5678 & 0xff;
	pkt[58] = (__u8)(payload >> 8);
	pkt[59] = (__u8)payload;
}

FIXTURE(classify) {
	struct vtap_rec *skel;
	unsigned char pkt[128];
};

FIXTURE_SETUP(classify)
{
	self->skel = vtap_rec__open_and_load();
	ASSERT_NE(NULL, self->skel) TH_LOG("loading vtap-rec.bpf.o failed");
	make_udp4(self->pkt, sizeof(self->pkt));
}

FIXTURE_TEARDOWN(classify)
{
	vtap_rec__destroy(self->skel);
}

/* Run @prog once on the fixture's packet; check it passed unchanged. */
static int run_once(struct __test_metadata *_metadata,
		    FIXTURE_DATA(classify) *self, struct bpf_program *prog)
{
	unsigned char out[256];
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = self->pkt, .data_size_in = sizeof(self->pkt),
		.data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &o);

	EXPECT_EQ(0, err);
	EXPECT_EQ(TC_ACT_UNSPEC, o.retval);
	EXPECT_EQ(sizeof(self->pkt), o.data_size_out);
	EXPECT_EQ(0, memcmp(out, self->pkt, sizeof(self->pkt)))
		TH_LOG("the program changed the packet");
	return err;
}

static void decisions(FIXTURE_DATA(classify) *self, struct vtap_decision *d,
		      unsigned int n)
{
	int fd = bpf_map__fd(self->skel->maps.decisions);
	__u32 i;

	for (i = 0; i < n; i++)
		bpf_map_lookup_elem(fd, &i, &d[i]);
}

static void reset_decisions(FIXTURE_DATA(classify) *self)
{
	struct vtap_decision zero = { 0 };
	int fd = bpf_map__fd(self->skel->maps.decisions);
	__u32 i;

	for (i = 0; i <= VTAP_REC_MAX; i++)
		bpf_map_update_elem(fd, &i, &zero, BPF_ANY);
}

static void set_port(FIXTURE_DATA(classify) *self, struct vtap_port *p)
{
	__u32 key = LO_IFINDEX;

	bpf_map_update_elem(bpf_map__fd(self->skel->maps.ports), &key, p, BPF_ANY);
}

static struct vtap_port_stats port_stats(FIXTURE_DATA(classify) *self,
					 __u32 slot)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct vtap_port_stats sum = { 0 }, v[ncpu];
	int d;

	bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.port_stats), &slot, v);
	for (i = 0; i < ncpu; i++)
		for (d = 0; d < VTAP_NDIRS; d++) {
			sum.packets[d] += v[i].packets[d];
			sum.bytes[d] += v[i].bytes[d];
			sum.mirrored[d] += v[i].mirrored[d];
			sum.dropped[d] += v[i].dropped[d];
		}
	return sum;
}

TEST_F(classify, unmonitored_port_is_not_mirrored)
{
	struct vtap_decision d[1];

	run_once(_metadata, self, self->skel->progs.vtap_tc_ingress);
	run_once(_metadata, self, self->skel->progs.vtap_tc_egress);
	decisions(self, d, 1);
	EXPECT_EQ(0, d[0].session_id);
}

TEST_F(classify, out_direction_calls_each_session)
{
	struct vtap_port p = {
		.port_id = 0x12345, .slot = 3,
		.nsess = { [VTAP_DIR_OUT] = 2, [VTAP_DIR_IN] = 1 },
		.sess = { [VTAP_DIR_OUT] = { 5, 9 }, [VTAP_DIR_IN] = { 7 } },
		.cookie = { [VTAP_DIR_OUT] = { 0x1122334455667788ULL, 0xfedcba9876543210ULL } },
	};
	struct vtap_decision d[4];
	struct vtap_port_stats st;

	set_port(self, &p);
	run_once(_metadata, self, self->skel->progs.vtap_tc_ingress);
	decisions(self, d, 4);
	ASSERT_EQ(2, d[0].session_id) TH_LOG("number of kfunc calls");
	EXPECT_EQ(5, d[1].session_id);
	EXPECT_EQ(9, d[2].session_id);
	EXPECT_EQ(0x1122334455667788ULL, d[1].cookie) TH_LOG("each flow's session cookie");
	EXPECT_EQ(0xfedcba9876543210ULL, d[2].cookie);
	EXPECT_EQ(0x12345, d[1].port_id);
	EXPECT_EQ(0, d[1].flags) TH_LOG("ingress of the VM port is direction out");
	EXPECT_EQ(sizeof(self->pkt), d[1].len);
	st = port_stats(self, 3);
	EXPECT_EQ(1, st.packets[VTAP_DIR_OUT]);
	EXPECT_EQ(sizeof(self->pkt), st.bytes[VTAP_DIR_OUT]);
	EXPECT_EQ(2, st.mirrored[VTAP_DIR_OUT]);
	EXPECT_EQ(0, st.packets[VTAP_DIR_IN]);
}

TEST_F(classify, in_direction_sets_flag)
{
	struct vtap_port p = {
		.port_id = 42, .slot = 0,
		.nsess = { [VTAP_DIR_IN] = 1 },
		.sess = { [VTAP_DIR_IN] = { 7 } },
	};
	struct vtap_decision d[2];

	set_port(self, &p);
	run_once(_metadata, self, self->skel->progs.vtap_tc_ingress);
	decisions(self, d, 2);
	EXPECT_EQ(0, d[0].session_id) TH_LOG("no flow for direction out");
	run_once(_metadata, self, self->skel->progs.vtap_tc_egress);
	decisions(self, d, 2);
	ASSERT_EQ(1, d[0].session_id);
	EXPECT_EQ(7, d[1].session_id);
	EXPECT_EQ(42, d[1].port_id);
	EXPECT_EQ(VTAP_MIRROR_F_DIR_IN, d[1].flags);
}

/*
 * Run @prog on @len bytes of @pkt: the number of kfunc calls (decisions),
 * and the first's flags in *@flags; the frame passes unchanged.
 */
static __u32 run_frame(struct __test_metadata *_metadata, FIXTURE_DATA(classify) *self,
		       struct bpf_program *prog, const unsigned char *pkt,
		       __u32 len, __u32 *flags)
{
	static unsigned char out[2048];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len,
		.data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	bool xdp = prog == self->skel->progs.vtap_xdp;
	struct vtap_decision d[2];

	reset_decisions(self);
	EXPECT_EQ(0, bpf_prog_test_run_opts(bpf_program__fd(prog), &o));
	EXPECT_EQ(xdp ? XDP_PASS : TC_ACT_UNSPEC, (int)o.retval);
	EXPECT_EQ(len, o.data_size_out);
	EXPECT_EQ(0, memcmp(out, pkt, len)) TH_LOG("the program changed the frame");
	decisions(self, d, 2);
	*flags = d[1].flags;
	return d[0].session_id;
}

/*
 * With vtap's XDP program on the port, each frame the VM sends is
 * mirrored once: by XDP when it can copy it exactly (up to 1522 bytes,
 * not SCTP, no IPv6 extension header), else by TC; without the port's
 * XDP flag, by TC alone; what the VM receives, by TC alone.
 */
TEST_F(classify, xdp_and_tc_mirror_each_frame_once)
{
	struct vtap_port p = {
		.port_id = 7, .slot = 2,
		.nsess = { [VTAP_DIR_OUT] = 1, [VTAP_DIR_IN] = 1 },
		.sess = { [VTAP_DIR_OUT] = { 4 }, [VTAP_DIR_IN] = { 4 } },
		.cookie = { [VTAP_DIR_OUT] = { 99 }, [VTAP_DIR_IN] = { 99 } },
	};
	static unsigned char big[VTAP_XDP_MAX_FRAME + 1], max[VTAP_XDP_MAX_FRAME];
	unsigned char sctp[128], ext[128], v6[128];
	struct {
		const char *what;
		const unsigned char *pkt;
		__u32 len;
		bool by_xdp;
	} c[] = {
		{ "a small UDP frame", self->pkt, sizeof(self->pkt), true },
		{ "a frame of the largest length XDP takes", max, sizeof(max), true },
		{ "a frame one byte longer", big, sizeof(big), false },
		{ "SCTP", sctp, sizeof(sctp), false },
		{ "IPv6 UDP", v6, sizeof(v6), true },
		{ "IPv6 with a hop-by-hop header", ext, sizeof(ext), false },
	};
	struct vtap_port_stats st;
	__u32 i, n, f;

	make_udp4(max, sizeof(max));
	make_udp4(big, sizeof(big));
	make_udp4(sctp, sizeof(sctp));
	sctp[23] = IPPROTO_SCTP;
	make_udp6(v6, sizeof(v6), sizeof(v6) - 54);
	make_udp6(ext, sizeof(ext), sizeof(ext) - 54);
	ext[20] = 0;			/* hop-by-hop, then UDP */
	memmove(ext + 62, ext + 54, sizeof(ext) - 62);
	memset(ext + 54, 0, 8);
	ext[54] = IPPROTO_UDP;
	ext[56] = 1;			/* PadN, 4 bytes */
	ext[57] = 4;

	set_port(self, &p);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		/* No XDP flag: XDP leaves every frame to TC. */
		p.flags = 0;
		set_port(self, &p);
		EXPECT_EQ(0, run_frame(_metadata, self, self->skel->progs.vtap_xdp,
				       c[i].pkt, c[i].len, &f)) TH_LOG("%s", c[i].what);
		EXPECT_EQ(1, run_frame(_metadata, self, self->skel->progs.vtap_tc_ingress,
				       c[i].pkt, c[i].len, &f)) TH_LOG("%s", c[i].what);

		p.flags = VTAP_PORT_F_XDP;
		set_port(self, &p);
		n = run_frame(_metadata, self, self->skel->progs.vtap_xdp, c[i].pkt,
			      c[i].len, &f);
		EXPECT_EQ(c[i].by_xdp, n) TH_LOG("%s: XDP", c[i].what);
		if (n)
			EXPECT_EQ(VTAP_REC_F_XDP, f) TH_LOG("%s: the XDP kfunc", c[i].what);
		EXPECT_EQ(!c[i].by_xdp, run_frame(_metadata, self,
				self->skel->progs.vtap_tc_ingress, c[i].pkt, c[i].len, &f))
			TH_LOG("%s: TC", c[i].what);
		/* Delivered to the VM: TC's, XDP flag or not. */
		EXPECT_EQ(1, run_frame(_metadata, self, self->skel->progs.vtap_tc_egress,
				       c[i].pkt, c[i].len, &f)) TH_LOG("%s: in", c[i].what);
		EXPECT_EQ(VTAP_MIRROR_F_DIR_IN, f);
	}
	/* Counted once per frame, by whichever program mirrored it. */
	st = port_stats(self, 2);
	EXPECT_EQ(2 * (sizeof(c) / sizeof(c[0])), st.packets[VTAP_DIR_OUT]);
	EXPECT_EQ(2 * (sizeof(c) / sizeof(c[0])), st.mirrored[VTAP_DIR_OUT]);
}

TEST_F(classify, corrupt_session_count_is_bounded)
{
	struct vtap_port p = {
		.port_id = 1, .slot = VTAP_MAX_PORTS + 5,	/* out of range */
		.nsess = { [VTAP_DIR_OUT] = 200 },
		.sess = { [VTAP_DIR_OUT] = { 1, 2, 3, 4, 5, 6, 7, 8 } },
	};
	struct vtap_decision d[1];

	set_port(self, &p);
	reset_decisions(self);
	run_once(_metadata, self, self->skel->progs.vtap_tc_ingress);
	decisions(self, d, 1);
	EXPECT_EQ(VTAP_PORT_MAX_SESSIONS, d[0].session_id);
}

TEST_F(classify, short_packets_pass)
{
	/*
	 * BPF_PROG_TEST_RUN itself refuses an IPv4 frame shorter than an IPv4
	 * header, so the shortest frames carry another ethertype.
	 */
	static const unsigned int lens[] = { 15, 20, 33, 34, 42, 60 };
	struct vtap_port p = {
		.port_id = 1, .nsess = { [VTAP_DIR_OUT] = 1 },
		.sess = { [VTAP_DIR_OUT] = { 3 } },
	};
	unsigned int i;

	set_port(self, &p);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		unsigned char out[128];
		struct ethhdr *eth = (void *)self->pkt;

		eth->h_proto = htons(lens[i] < 34 ? 0x88b5 : ETH_P_IP);
		LIBBPF_OPTS(bpf_test_run_opts, o,
			.data_in = self->pkt, .data_size_in = lens[i],
			.data_out = out, .data_size_out = sizeof(out));

		ASSERT_EQ(0, bpf_prog_test_run_opts(
				bpf_program__fd(self->skel->progs.vtap_tc_ingress), &o))
			TH_LOG("length %u", lens[i]);
		EXPECT_EQ(TC_ACT_UNSPEC, o.retval);
		EXPECT_EQ(lens[i], o.data_size_out);
		EXPECT_EQ(0, memcmp(out, self->pkt, lens[i]));
	}
}

/*
 * What loading costs: the verifier's work for each program, from its
 * statistics (log level 4).  `vtapctl port add` loads both programs on a
 * namespace's first port, on the hypervisor's CPU, and a debug kernel runs
 * the verifier several times slower still.  The classifier at its worst
 * took 300 000 instructions per program (a parser inlined into the session
 * loop); it takes under 30 000 as a global function.
 */
#define VERIFIER_BUDGET 100000

/* ---- flow records --------------------------------------------------------- */

static void set_rec_port(FIXTURE_DATA(classify) *self, __u32 flags)
{
	struct vtap_port p = { .port_id = 33, .flags = flags };

	set_port(self, &p);
}

static int run_pkt(struct __test_metadata *_metadata, struct bpf_program *prog,
		   const unsigned char *pkt, size_t len)
{
	unsigned char out[256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &o);

	EXPECT_EQ(0, err);
	EXPECT_EQ(TC_ACT_UNSPEC, o.retval);
	EXPECT_EQ(0, memcmp(out, pkt, len)) TH_LOG("the program changed the packet");
	return err;
}

static int count_keys(int fd, size_t ksize)
{
	unsigned char k[64], next[64];
	int n = 0;

	if (bpf_map_get_next_key(fd, NULL, next))
		return 0;
	do {
		memcpy(k, next, ksize);
		n++;
	} while (!bpf_map_get_next_key(fd, k, next));
	return n;
}

static struct vtap_flow_lost flow_lost(FIXTURE_DATA(classify) *self)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct vtap_flow_lost sum = { 0 }, v[ncpu];
	__u32 zero = 0;

	bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.flow_lost), &zero, v);
	for (i = 0; i < ncpu; i++) {
		sum.packets += v[i].packets;
		sum.octets += v[i].octets;
		sum.nonip_packets += v[i].nonip_packets;
		sum.nonip_octets += v[i].nonip_octets;
	}
	return sum;
}

static struct vtap_flow4_key key4(__u8 dir, __u8 proto, __u16 sport, __u16 dport)
{
	struct vtap_flow4_key k = {
		.ifindex = LO_IFINDEX, .dir = dir, .proto = proto,
		.sport = sport, .dport = dport,
	};

	inet_pton(AF_INET, "192.0.2.1", &k.src);
	inet_pton(AF_INET, "192.0.2.2", &k.dst);
	return k;
}

static struct vtap_flow_cfg flow_cfg(FIXTURE_DATA(classify) *self)
{
	struct vtap_flow_cfg c = { 0 };
	__u32 zero = 0;

	bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.flow_cfg), &zero, &c);
	return c;
}

/*
 * Wait until no CPU's flow_cache holds counts (its timer adds them to the
 * table within VTAP_FLOW_FLUSH_NS): what the tests read is then complete.
 */
static void flows_settle(struct __test_metadata *_metadata, FIXTURE_DATA(classify) *self)
{
	int fd = bpf_map__fd(self->skel->maps.flow_cache);
	int ncpu = libbpf_num_possible_cpus(), i, n;
	struct vtap_flow_cache c;

	for (n = 0; n < 2000; n++) {
		for (i = 0; i < ncpu && i < VTAP_FLOW_CACHE_CPUS; i++) {
			__u32 cpu = (__u32)i;

			if (bpf_map_lookup_elem(fd, &cpu, &c) || c.packets || c.armed)
				break;
		}
		if (i == ncpu || i == VTAP_FLOW_CACHE_CPUS)
			return;
		usleep(1000);
	}
	ASSERT_TRUE(0) TH_LOG("flow_cache not flushed after 2 s");
}

/* A port with records and no session: counted, nothing mirrored. */
TEST_F(classify, flow_records_without_sessions)
{
	struct vtap_flow4_key k = key4(VTAP_DIR_OUT, IPPROTO_UDP, 1234, 5678);
	int fd4 = bpf_map__fd(self->skel->maps.flows4);
	struct vtap_decision d[1];
	struct vtap_flow_val v;
	int i;

	set_rec_port(self, VTAP_PORT_F_REC_OUT);
	for (i = 0; i < 3; i++)
		run_once(_metadata, self, self->skel->progs.vtap_tc_ingress);
	/* Only "out" records: egress (in) adds nothing. */
	run_once(_metadata, self, self->skel->progs.vtap_tc_egress);
	flows_settle(_metadata, self);
	ASSERT_EQ(0, bpf_map_lookup_elem(fd4, &k, &v));
	EXPECT_EQ(3, v.packets);
	EXPECT_EQ(3 * (sizeof(self->pkt) - ETH_HLEN), v.octets);
	EXPECT_NE(0, v.first_ns);
	EXPECT_LE(v.first_ns, v.last_ns);
	EXPECT_EQ(0, v.tcp_flags);
	EXPECT_EQ(1, count_keys(fd4, sizeof(k)));
	EXPECT_EQ(1, flow_cfg(self).used);
	decisions(self, d, 1);
	EXPECT_EQ(0, d[0].session_id);

	set_rec_port(self, VTAP_PORT_F_REC_IN);
	run_once(_metadata, self, self->skel->progs.vtap_tc_egress);
	k.dir = VTAP_DIR_IN;
	flows_settle(_metadata, self);
	ASSERT_EQ(0, bpf_map_lookup_elem(fd4, &k, &v));
	EXPECT_EQ(1, v.packets);
	EXPECT_EQ(2, count_keys(fd4, sizeof(k)));
}

/* Octets are the IP total length: Ethernet padding is not counted. */
TEST_F(classify, flow_octets_are_ip_length)
{
	struct vtap_flow4_key k = key4(VTAP_DIR_OUT, IPPROTO_UDP, 1234, 5678);
	struct iphdr *ip = (void *)(self->pkt + ETH_HLEN);
	struct vtap_flow_val v;

	ip->tot_len = htons(46);
	set_rec_port(self, VTAP_PORT_F_REC_OUT | VTAP_PORT_F_REC_IN);
	run_once(_metadata, self, self->skel->progs.vtap_tc_ingress);
	flows_settle(_metadata, self);
	ASSERT_EQ(0, bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.flows4), &k, &v));
	EXPECT_EQ(46, v.octets);
}

/*
 * VLANs in the key: the outer tag (802.1ad or 802.1Q) is vlan, the inner
 * one of a double-tagged frame cvlan; frames that differ in the inner tag
 * only are two flows.  IPv4 and IPv6.
 */
static size_t tag_frame(unsigned char *pkt, size_t len, size_t cap, __u16 tpid, __u16 vid)
{
	if (len + 4 > cap)
		return 0;
	memmove(pkt + 16, pkt + 12, len - 12);
	pkt[12] = (__u8)(tpid >> 8);
	pkt[13] = (__u8)tpid;
	pkt[14] = (__u8)(vid >> 8);
	pkt[15] = (__u8)vid;
	return len + 4;
}

TEST_F(classify, flow_vlans)
{
	unsigned char pkt[136];
	struct vtap_flow4_key k = key4(VTAP_DIR_OUT, IPPROTO_UDP, 1234, 5678);
	struct vtap_flow6_key k6 = { .ifindex = LO_IFINDEX, .dir = VTAP_DIR_OUT,
				     .proto = IPPROTO_UDP, .sport = 1234, .dport = 5678,
				     .vlan = 0x1000 | 10, .cvlan = 0x1000 | 20 };
	int fd4 = bpf_map__fd(self->skel->maps.flows4);
	struct vtap_flow_val v;
	size_t len;
	int i;

	set_rec_port(self, VTAP_PORT_F_REC_OUT);
	/* S-tag 10, C-tag 20, twice; S-tag 10, C-tag 21 once. */
	for (i = 0; i < 3; i++) {
		make_udp4(pkt, 128);
		len = tag_frame(pkt, 128, sizeof(pkt), ETH_P_8021Q, i < 2 ? 20 : 21);
		len = tag_frame(pkt, len, sizeof(pkt), ETH_P_8021AD, 10);
		ASSERT_EQ(136, len);
		run_pkt(_metadata, self->skel->progs.vtap_tc_ingress, pkt, len);
	}
	/* One 802.1Q tag 30: vlan only. */
	make_udp4(pkt, 128);
	len = tag_frame(pkt, 128, sizeof(pkt), ETH_P_8021Q, 30);
	run_pkt(_metadata, self->skel->progs.vtap_tc_ingress, pkt, len);
	flows_settle(_metadata, self);
	EXPECT_EQ(3, count_keys(fd4, sizeof(k)));
	k.vlan = 0x1000 | 10;
	k.cvlan = 0x1000 | 20;
	ASSERT_EQ(0, bpf_map_lookup_elem(fd4, &k, &v));
	EXPECT_EQ(2, v.packets);
	EXPECT_EQ(2 * (128 - ETH_HLEN), v.octets);
	k.cvlan = 0x1000 | 21;
	ASSERT_EQ(0, bpf_map_lookup_elem(fd4, &k, &v));
	EXPECT_EQ(1, v.packets);
	k.vlan = 0x1000 | 30;
	k.cvlan = 0;
	ASSERT_EQ(0, bpf_map_lookup_elem(fd4, &k, &v));
	EXPECT_EQ(1, v.packets);

	/* IPv6 UDP (payload 40) behind S-tag 10 and C-tag 20. */
	make_udp6(pkt, sizeof(pkt), 40);
	len = tag_frame(pkt, 54 + 40, sizeof(pkt), ETH_P_8021Q, 20);
	len = tag_frame(pkt, len, sizeof(pkt), ETH_P_8021AD, 10);
	run_pkt(_metadata, self->skel->progs.vtap_tc_ingress, pkt, len);
	flows_settle(_metadata, self);
	inet_pton(AF_INET6, "2001:db8::1", k6.src);
	inet_pton(AF_INET6, "2001:db8::2", k6.dst);
	ASSERT_EQ(0, bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.flows6), &k6, &v));
	EXPECT_EQ(1, v.packets);
	EXPECT_EQ(80, v.octets);
}

/* TCP flags ORed; ICMP keyed by type and code; IPv6 in flows6. */
TEST_F(classify, flow_tcp_flags_icmp_ipv6)
{
	unsigned char pkt[128];
	struct iphdr *ip = (void *)(pkt + ETH_HLEN);
	unsigned char *l4 = pkt + ETH_HLEN + 20;
	struct vtap_flow4_key k;
	struct vtap_flow6_key k6 = { .ifindex = LO_IFINDEX, .dir = VTAP_DIR_OUT,
				     .proto = IPPROTO_UDP, .sport = 1234, .dport = 5678 };
	struct vtap_flow_val v;

	set_rec_port(self, VTAP_PORT_F_REC_OUT);
	make_udp4(pkt, sizeof(pkt));
	ip->protocol = IPPROTO_TCP;
	l4[12] = 5 << 4;
	l4[13] = 0x02;				/* SYN */
	run_pkt(_metadata, self->skel->progs.vtap_tc_ingress, pkt, sizeof(pkt));
	l4[13] = 0x11;				/* FIN ACK */
	run_pkt(_metadata, self->skel->progs.vtap_tc_ingress, pkt, sizeof(pkt));
	k = key4(VTAP_DIR_OUT, IPPROTO_TCP, 1234, 5678);
	flows_settle(_metadata, self);
	ASSERT_EQ(0, bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.flows4), &k, &v));
	EXPECT_EQ(2, v.packets);
	EXPECT_EQ(0x13, v.tcp_flags);
	/* Cut short after the ports: still the flow, no flags. */
	ip->tot_len = htons(24);
	run_pkt(_metadata, self->skel->progs.vtap_tc_ingress, pkt, ETH_HLEN + 24);
	flows_settle(_metadata, self);
	ASSERT_EQ(0, bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.flows4), &k, &v));
	EXPECT_EQ(3, v.packets);
	EXPECT_EQ(2 * (sizeof(pkt) - ETH_HLEN) + 24, v.octets);
	EXPECT_EQ(0x13, v.tcp_flags);

	make_udp4(pkt, sizeof(pkt));
	ip->protocol = IPPROTO_ICMP;
	l4[0] = 3;				/* unreachable, port */
	l4[1] = 3;
	run_pkt(_metadata, self->skel->progs.vtap_tc_ingress, pkt, sizeof(pkt));
	k = key4(VTAP_DIR_OUT, IPPROTO_ICMP, 0, 0x0303);
	flows_settle(_metadata, self);
	ASSERT_EQ(0, bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.flows4), &k, &v));
	EXPECT_EQ(1, v.packets);

	/* IPv6 UDP, payload length 50: 90 octets. */
	make_udp6(pkt, sizeof(pkt), 50);
	run_pkt(_metadata, self->skel->progs.vtap_tc_ingress, pkt, ETH_HLEN + 40 + 50);
	inet_pton(AF_INET6, "2001:db8::1", k6.src);
	inet_pton(AF_INET6, "2001:db8::2", k6.dst);
	flows_settle(_metadata, self);
	ASSERT_EQ(0, bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.flows6), &k6, &v));
	EXPECT_EQ(1, v.packets);
	EXPECT_EQ(90, v.octets);
	EXPECT_EQ(3, flow_cfg(self).used);
}

/* A full table: new flows are lost (counted), known ones still counted;
 * frames that are not IP are counted apart. */
TEST_F(classify, flow_table_limit)
{
	int fd4 = bpf_map__fd(self->skel->maps.flows4);
	struct vtap_flow_cfg cfg = { .limit = 1 };
	struct udphdr *udp = (void *)(self->pkt + ETH_HLEN + 20);
	struct vtap_flow_lost lost;
	struct vtap_flow_val v;
	struct vtap_flow4_key k = key4(VTAP_DIR_OUT, IPPROTO_UDP, 1234, 5678);
	__u32 zero = 0;

	ASSERT_EQ(0, bpf_map_update_elem(bpf_map__fd(self->skel->maps.flow_cfg), &zero,
					 &cfg, BPF_ANY));
	set_rec_port(self, VTAP_PORT_F_REC_OUT);
	run_once(_metadata, self, self->skel->progs.vtap_tc_ingress);
	udp->source = htons(1235);
	run_once(_metadata, self, self->skel->progs.vtap_tc_ingress);
	run_once(_metadata, self, self->skel->progs.vtap_tc_ingress);
	udp->source = htons(1234);
	run_once(_metadata, self, self->skel->progs.vtap_tc_ingress);
	EXPECT_EQ(1, count_keys(fd4, sizeof(k)));
	flows_settle(_metadata, self);
	ASSERT_EQ(0, bpf_map_lookup_elem(fd4, &k, &v));
	EXPECT_EQ(2, v.packets);
	flows_settle(_metadata, self);
	lost = flow_lost(self);
	EXPECT_EQ(2, lost.packets);
	EXPECT_EQ(2 * (sizeof(self->pkt) - ETH_HLEN), lost.octets);
	EXPECT_EQ(1, flow_cfg(self).used);

	self->pkt[12] = 0x88;			/* LLDP */
	self->pkt[13] = 0xcc;
	run_once(_metadata, self, self->skel->progs.vtap_tc_ingress);
	flows_settle(_metadata, self);
	lost = flow_lost(self);
	EXPECT_EQ(1, lost.nonip_packets);
	EXPECT_EQ(sizeof(self->pkt), lost.nonip_octets);
	EXPECT_EQ(2, lost.packets);
}

/*
 * Each CPU's last-flow cache: flows that alternate, and trains of one flow,
 * are counted exactly; a flow whose entry the exporter deleted while the
 * cache still holds its key gets a new entry, with the times of the
 * packets after the delete (not a write into the deleted one).
 */
TEST_F(classify, flow_cache_alternating_and_deleted)
{
	static const int seq[] = { 0, 1, 0, 1, 0, 0, 1, 1, 1, 0 };
	struct udphdr *udp = (void *)(self->pkt + ETH_HLEN + 20);
	int fd4 = bpf_map__fd(self->skel->maps.flows4);
	struct vtap_flow4_key ka = key4(VTAP_DIR_OUT, IPPROTO_UDP, 1234, 5678);
	struct vtap_flow4_key kb = key4(VTAP_DIR_OUT, IPPROTO_UDP, 1235, 5678);
	struct vtap_flow_cfg cfg;
	struct vtap_flow_val v, old;
	__u32 zero = 0;
	size_t len = sizeof(self->pkt) - ETH_HLEN;
	unsigned int i;

	set_rec_port(self, VTAP_PORT_F_REC_OUT);
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		udp->source = htons(seq[i] ? 1235 : 1234);
		run_once(_metadata, self, self->skel->progs.vtap_tc_ingress);
	}
	flows_settle(_metadata, self);
	ASSERT_EQ(0, bpf_map_lookup_elem(fd4, &ka, &v));
	EXPECT_EQ(5, v.packets);
	EXPECT_EQ(5 * len, v.octets);
	ASSERT_EQ(0, bpf_map_lookup_elem(fd4, &kb, &v));
	EXPECT_EQ(5, v.packets);
	EXPECT_EQ(2, flow_cfg(self).used);

	/* A train of A; the exporter deletes A; more of A (cached: hits). */
	udp->source = htons(1234);
	for (i = 0; i < 3; i++)
		run_once(_metadata, self, self->skel->progs.vtap_tc_ingress);
	flows_settle(_metadata, self);
	ASSERT_EQ(0, bpf_map_lookup_and_delete_elem(fd4, &ka, &old));
	EXPECT_EQ(8, old.packets);
	cfg = flow_cfg(self);
	cfg.used--;			/* as the exporter does */
	ASSERT_EQ(0, bpf_map_update_elem(bpf_map__fd(self->skel->maps.flow_cfg), &zero,
					 &cfg, BPF_ANY));
	usleep(20000);			/* a coarse clock tick or more */
	for (i = 0; i < 4; i++)
		run_once(_metadata, self, self->skel->progs.vtap_tc_ingress);
	flows_settle(_metadata, self);
	ASSERT_EQ(0, bpf_map_lookup_elem(fd4, &ka, &v));
	EXPECT_EQ(4, v.packets);
	EXPECT_EQ(4 * len, v.octets);
	EXPECT_GT(v.first_ns, old.last_ns);
	EXPECT_LE(v.first_ns, v.last_ns);
	EXPECT_EQ(2, flow_cfg(self).used);
	EXPECT_EQ(2, count_keys(fd4, sizeof(ka)));
	EXPECT_EQ(0, flow_lost(self).packets);
}

TEST(verifier_cost_is_bounded)
{
	static char log[3][16384];
	struct vtap_rec *skel = vtap_rec__open();
	struct bpf_program *progs[3];
	int i, err;

	ASSERT_NE(NULL, skel);
	progs[0] = skel->progs.vtap_tc_ingress;
	progs[1] = skel->progs.vtap_tc_egress;
	progs[2] = skel->progs.vtap_xdp;
	for (i = 0; i < 3; i++) {
		bpf_program__set_log_level(progs[i], 4);	/* BPF_LOG_STATS */
		bpf_program__set_log_buf(progs[i], log[i], sizeof(log[i]));
	}
	err = vtap_rec__load(skel);
	ASSERT_EQ(0, err);
	for (i = 0; i < 3; i++) {
		const char *p = strstr(log[i], "processed ");
		long insns = -1;

		ASSERT_NE(NULL, p) TH_LOG("no verifier statistics: %.200s", log[i]);
		insns = strtol(p + strlen("processed "), NULL, 10);
		TH_LOG("%s: verifier processed %ld instructions",
		       bpf_program__name(progs[i]), insns);
		EXPECT_GT(insns, 0);
		EXPECT_LT(insns, VERIFIER_BUDGET)
			TH_LOG("%s: the verifier processed %ld instructions (budget %d)",
			       bpf_program__name(progs[i]), insns, VERIFIER_BUDGET);
	}
	vtap_rec__destroy(skel);
}

TEST_HARNESS_MAIN
