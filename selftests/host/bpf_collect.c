// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl collect's XDP program (bpf/collect.bpf.c) under BPF_PROG_TEST_RUN
 * on the host kernel, with the collector's own decoder (user/collect/decode.c)
 * as the reference: every packet the program redirects comes out as exactly
 * the inner frame the socket path would send (decode.c's frame, frame_len),
 * every packet it passes comes out unchanged, and the per-session counters
 * say what it did.  Crafted packets: GRE-TEB with and without key and
 * sequence, ERSPAN II and III (with and without the sub-header, truncated,
 * VLAN field set), VXLAN, over IPv4 and IPv6, with Ethernet padding; and what
 * must be passed: another MAC, another address, a session not listened to,
 * GRE checksum, VXLAN UDP checksum, IPv4 options, fragments, a bad header
 * checksum, IPv6 extension headers, ERSPAN I, malformed headers, not GRE.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "../../user/collect/decode.h"
#include "vtap_collect_bpf.h"
#include "collect.skel.h"

#define LO_IFINDEX	1
#define XDP_PASS_	2
#define XDP_REDIRECT_	4

static const uint8_t MAC_COL[6] = { 0x02, 0, 0, 0, 0, 0x22 };
static const uint8_t MAC_SND[6] = { 0x02, 0, 0, 0, 0, 0x11 };

struct pkt {
	uint8_t b[2048];
	size_t len;
};

static void p8(struct pkt *p, uint8_t v)
{
	p->b[p->len++] = v;
}

static void p16(struct pkt *p, uint16_t v)
{
	p8(p, (uint8_t)(v >> 8));
	p8(p, (uint8_t)v);
}

static void p32(struct pkt *p, uint32_t v)
{
	p16(p, (uint16_t)(v >> 16));
	p16(p, (uint16_t)v);
}

static void pbytes(struct pkt *p, const void *d, size_t n)
{
	memcpy(p->b + p->len, d, n);
	p->len += n;
}

/* An inner Ethernet frame with an IPv4/UDP packet of @size bytes, numbered @n. */
static void inner(struct pkt *p, uint32_t n, size_t size, int vlan)
{
	size_t i = 0, start = p->len, ip;

	pbytes(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	if (vlan >= 0) {
		p16(p, 0x8100);
		p16(p, (uint16_t)vlan);
	}
	p16(p, 0x0800);
	ip = p->len;
	p8(p, 0x45);
	p8(p, 0);
	p16(p, (uint16_t)(size - (ip - start)));
	p32(p, 0x4000);
	p16(p, 0x4011);
	p16(p, 0);
	p32(p, 0xc0000201);
	p32(p, 0xc0000202);
	while (p->len - start < size)
		p8(p, (uint8_t)(n + i++ * 7));
}

struct gre_opts {
	uint16_t proto;
	bool key, seq, csum;
	uint32_t keyv, seqv;
	uint16_t extra_flags;
};

static void gre(struct pkt *p, const struct gre_opts *o)
{
	uint16_t f = o->extra_flags;

	f |= o->csum ? 0x8000 : 0;
	f |= o->key ? 0x2000 : 0;
	f |= o->seq ? 0x1000 : 0;
	p16(p, f);
	p16(p, o->proto);
	if (o->csum)
		p32(p, 0);	/* wrong, and checked by neither: passed anyway */
	if (o->key)
		p32(p, o->keyv);
	if (o->seq)
		p32(p, o->seqv);
}

static void erspan2(struct pkt *p, uint32_t sid, uint32_t index, int vlan, int t)
{
	p32(p, 1U << 28 | (uint32_t)vlan << 16 | (uint32_t)t << 10 | sid);
	p32(p, index);
}

static void erspan3(struct pkt *p, uint32_t sid, bool sub, int t, int ft)
{
	p32(p, 2U << 28 | 5U << 16 | (uint32_t)t << 10 | sid);
	p32(p, 0x12345678);
	p32(p, (uint32_t)ft << 10 | 1U << 3 | 1U << 1 | (sub ? 1 : 0));
	if (sub) {
		p32(p, 3U << 26 | 33);
		p32(p, 0x10);
	}
}

static uint16_t csum16(const uint8_t *b, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

struct outer {
	int family;		/* 4 or 6 */
	const char *dst;	/* default: the listened address */
	uint8_t proto;		/* 47 GRE, 17 UDP */
	int ihl;		/* IPv4: 5 unless given */
	uint16_t frag;
	bool bad_csum;
	bool ext;		/* IPv6: a destination options header */
	const uint8_t *mac;
};

/* Ethernet + outer IP header in front of @payload; @pad: bytes of padding after. */
static void outer(struct pkt *p, const struct outer *o, const struct pkt *payload, size_t pad)
{
	const uint8_t *mac = o->mac ? o->mac : MAC_COL;
	size_t ip;

	p->len = 0;
	pbytes(p, mac, 6);
	pbytes(p, MAC_SND, 6);
	if (o->family == 4) {
		int ihl = o->ihl ? o->ihl : 5;
		uint8_t a[4];

		p16(p, 0x0800);
		ip = p->len;
		p8(p, (uint8_t)(0x40 | ihl));
		p8(p, 0);
		p16(p, (uint16_t)(ihl * 4 + payload->len));
		p16(p, 1);
		p16(p, o->frag ? o->frag : 0x4000);
		p8(p, 64);
		p8(p, o->proto);
		p16(p, 0);
		inet_pton(AF_INET, "198.51.100.1", a);
		pbytes(p, a, 4);
		inet_pton(AF_INET, o->dst ? o->dst : "198.51.100.2", a);
		pbytes(p, a, 4);
		while (p->len - ip < (size_t)ihl * 4)
			p8(p, 1);
		p->b[ip + 10] = 0;
		p->b[ip + 11] = 0;
		{
			uint16_t c = csum16(p->b + ip, (size_t)ihl * 4);

			if (o->bad_csum)
				c ^= 0x100;
			p->b[ip + 10] = (uint8_t)(c >> 8);
			p->b[ip + 11] = (uint8_t)c;
		}
	} else {
		uint8_t a[16];

		p16(p, 0x86dd);
		p32(p, 6U << 28);
		p16(p, (uint16_t)(payload->len + (o->ext ? 8 : 0)));
		p8(p, o->ext ? 60 : o->proto);
		p8(p, 64);
		inet_pton(AF_INET6, "2001:db8:7::1", a);
		pbytes(p, a, 16);
		inet_pton(AF_INET6, o->dst ? o->dst : "2001:db8:7::2", a);
		pbytes(p, a, 16);
		if (o->ext) {
			p8(p, o->proto);
			p8(p, 0);
			p32(p, 0x01040000);
			p16(p, 0);
		}
	}
	pbytes(p, payload->b, payload->len);
	while (pad--)
		p8(p, 0);
}

/* A UDP header to port @port in front of @vx, checksum @check. */
static void udp(struct pkt *p, uint16_t port, const struct pkt *vx, uint16_t check)
{
	p->len = 0;
	p16(p, 40000);
	p16(p, port);
	p16(p, (uint16_t)(8 + vx->len));
	p16(p, check);
	pbytes(p, vx->b, vx->len);
}

/* Fill in the UDP checksum of the frame @p (outer IPv4 or IPv6, no options). */
static void udp_fix_csum(struct pkt *p, bool v6)
{
	size_t ip = 14, uh = v6 ? 54 : 34, alen = v6 ? 16 : 4, i, ulen = p->len - uh;
	uint8_t buf[4096];
	size_t n = 0;
	uint16_t c;

	/* pseudo-header, then the datagram with its checksum zero */
	memcpy(buf, p->b + ip + (v6 ? 8 : 12), 2 * alen);
	n = 2 * alen;
	buf[n++] = 0;
	buf[n++] = 17;
	buf[n++] = (uint8_t)(ulen >> 8);
	buf[n++] = (uint8_t)ulen;
	p->b[uh + 6] = 0;
	p->b[uh + 7] = 0;
	for (i = 0; i < ulen; i++)
		buf[n++] = p->b[uh + i];
	c = csum16(buf, n);
	if (!c)
		c = 0xffff;
	p->b[uh + 6] = (uint8_t)(c >> 8);
	p->b[uh + 7] = (uint8_t)c;
}

static void vxlan(struct pkt *p, uint8_t flags, uint32_t vni)
{
	p32(p, (uint32_t)flags << 24);
	p32(p, vni << 8);
}

FIXTURE(cx) {
	struct collect *skel;
	int ncpu;
};

static int setup(FIXTURE_DATA(cx) *self, bool redirect, const uint32_t *ids, int nids,
		 uint64_t budget)
{
	struct vtap_cx_addr a = { 0 };
	uint8_t one = 1;
	uint32_t k = 0, ifindex = LO_IFINDEX;
	int i, fd;

	self->skel = collect__open();
	if (!self->skel)
		return -1;
	self->skel->rodata->enable = VTAP_CX_GRE4 | VTAP_CX_GRE6 | VTAP_CX_VXLAN4 | VTAP_CX_VXLAN6;
	self->skel->rodata->redirect = redirect;
	self->skel->rodata->filter_on = nids > 0;
	self->skel->rodata->budget = budget;
	memcpy((void *)self->skel->rodata->mac, MAC_COL, 6);
	if (collect__load(self->skel))
		return -1;
	fd = bpf_map__fd(self->skel->maps.addrs);
	a.a[10] = a.a[11] = 0xff;
	inet_pton(AF_INET, "198.51.100.2", &a.a[12]);
	if (bpf_map_update_elem(fd, &a, &one, BPF_ANY))
		return -1;
	inet_pton(AF_INET6, "2001:db8:7::2", a.a);
	if (bpf_map_update_elem(fd, &a, &one, BPF_ANY))
		return -1;
	for (i = 0; i < nids; i++)
		if (bpf_map_update_elem(bpf_map__fd(self->skel->maps.sessions), &ids[i], &one,
					BPF_ANY))
			return -1;
	if (bpf_map_update_elem(bpf_map__fd(self->skel->maps.tx), &k, &ifindex, BPF_ANY))
		return -1;
	self->ncpu = libbpf_num_possible_cpus();
	return 0;
}

FIXTURE_SETUP(cx)
{
	ASSERT_EQ(0, setup(self, true, NULL, 0, 0)) TH_LOG("loading collect.bpf.o failed");
}

FIXTURE_TEARDOWN(cx)
{
	collect__destroy(self->skel);
}

static struct vtap_cx_stats get_stats(FIXTURE_DATA(cx) *self, uint8_t encap, bool has,
				      uint32_t id)
{
	struct vtap_cx_key key = { .id = id, .encap = encap, .has_id = has };
	struct vtap_cx_stats sum = { 0 }, v[self->ncpu];
	int i;

	if (bpf_map_lookup_elem(bpf_map__fd(self->skel->maps.stats), &key, v))
		return sum;
	for (i = 0; i < self->ncpu; i++) {
		sum.packets += v[i].packets;
		sum.bytes += v[i].bytes;
		sum.passed += v[i].passed;
		sum.undelivered += v[i].undelivered;
	}
	return sum;
}

/* Run the program on @p: its verdict; *@out, *@olen what came out. */
static int run(struct __test_metadata *_metadata, FIXTURE_DATA(cx) *self,
	       const struct pkt *p, uint8_t *out, uint32_t *olen)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = (uint32_t)p->len,
		    .data_out = out, .data_size_out = 4096, .repeat = 1);

	EXPECT_EQ(0, bpf_prog_test_run_opts(bpf_program__fd(self->skel->progs.vtap_collect_xdp),
					    &o));
	*olen = o.data_size_out;
	return (int)o.retval;
}

/* Redirected, and exactly decode.c's inner frame; returns its length. */
static uint32_t expect_redirect(struct __test_metadata *_metadata, FIXTURE_DATA(cx) *self,
				const struct pkt *p)
{
	struct vtap_pkt d;
	uint8_t out[4096];
	uint32_t olen;
	int err;

	err = vtap_decode_ip(p->b + 14, p->len - 14, &d);
	EXPECT_EQ(0, err) TH_LOG("the reference decoder rejects it: %s",
				 vtap_decode_strerror(err));
	EXPECT_EQ(XDP_REDIRECT_, run(_metadata, self, p, out, &olen));
	EXPECT_EQ(d.frame_len, olen);
	EXPECT_EQ(0, memcmp(out, d.frame, d.frame_len)) TH_LOG("not the inner frame");
	return d.frame_len;
}

static void expect_pass(struct __test_metadata *_metadata, FIXTURE_DATA(cx) *self,
			const struct pkt *p)
{
	uint8_t out[4096];
	uint32_t olen;

	EXPECT_EQ(XDP_PASS_, run(_metadata, self, p, out, &olen));
	EXPECT_EQ(p->len, olen);
	EXPECT_EQ(0, memcmp(out, p->b, p->len)) TH_LOG("a passed packet was changed");
}

static void gre_pkt(struct pkt *p, int family, const struct gre_opts *g, size_t pad)
{
	struct pkt pl = { .len = 0 };
	struct outer o = { .family = family, .proto = 47 };

	gre(&pl, g);
	inner(&pl, 1, 100, -1);
	outer(p, &o, &pl, pad);
}

TEST_F(cx, gre_teb_every_option_v4_v6)
{
	static const struct gre_opts g[] = {
		{ .proto = 0x6558 },
		{ .proto = 0x6558, .key = true, .keyv = 5 },
		{ .proto = 0x6558, .seq = true, .seqv = 9 },
		{ .proto = 0x6558, .key = true, .keyv = 5, .seq = true, .seqv = 10 },
	};
	struct vtap_cx_stats s;
	struct pkt p;
	unsigned int i, fam;
	uint64_t bytes = 0;

	for (fam = 4; fam <= 6; fam += 2)
		for (i = 0; i < 4; i++) {
			gre_pkt(&p, (int)fam, &g[i], 0);
			bytes += expect_redirect(_metadata, self, &p);
		}
	s = get_stats(self, 1, true, 5);
	EXPECT_EQ(4, s.packets);
	s = get_stats(self, 1, false, 0);
	EXPECT_EQ(4, s.packets);
	EXPECT_EQ(bytes / 2, s.bytes);
}

TEST_F(cx, erspan2_and_3)
{
	struct pkt pl, p;
	struct outer o = { .family = 4, .proto = 47 };
	struct gre_opts g2 = { .proto = 0x88be, .seq = true, .seqv = 1 };
	struct gre_opts g3 = { .proto = 0x22eb, .seq = true, .seqv = 1 };
	struct vtap_cx_stats s;
	int fam;

	for (fam = 4; fam <= 6; fam += 2) {
		o.family = fam;
		/* Type II with a VLAN field and T: the frame as it is (decode.c adds nothing). */
		pl.len = 0;
		gre(&pl, &g2);
		erspan2(&pl, 8, 33, 5, 1);
		inner(&pl, 2, 90, -1);
		outer(&p, &o, &pl, 0);
		expect_redirect(_metadata, self, &p);
		/* Type III, no sub-header, tagged inner frame */
		pl.len = 0;
		gre(&pl, &g3);
		erspan3(&pl, 7, false, 0, 0);
		inner(&pl, 3, 80, 5);
		outer(&p, &o, &pl, 0);
		expect_redirect(_metadata, self, &p);
		/* Type III with the sub-header, truncated (T) */
		pl.len = 0;
		gre(&pl, &g3);
		erspan3(&pl, 7, true, 1, 0);
		inner(&pl, 4, 1400, -1);
		pl.len -= 1300;
		outer(&p, &o, &pl, 0);
		expect_redirect(_metadata, self, &p);
	}
	s = get_stats(self, 2, true, 8);
	EXPECT_EQ(2, s.packets);
	s = get_stats(self, 3, true, 7);
	EXPECT_EQ(4, s.packets);
	EXPECT_EQ(0, s.passed);
}

TEST_F(cx, ethernet_padding_is_cut)
{
	struct gre_opts g = { .proto = 0x6558, .key = true, .keyv = 5 };
	struct pkt p, pl = { .len = 0 };
	struct outer o = { .family = 4, .proto = 47 };

	gre(&pl, &g);
	inner(&pl, 1, 100, -1);
	pl.len = 8 + 14;	/* 14 bytes: the shortest inner frame */
	outer(&p, &o, &pl, 18);
	EXPECT_EQ(14, expect_redirect(_metadata, self, &p));
}

TEST_F(cx, vxlan_v4_v6)
{
	struct pkt vx, u, p;
	struct outer o = { .proto = 17 };
	uint8_t out[4096];
	uint32_t olen;
	int fam, n;

	for (fam = 4; fam <= 6; fam += 2) {
		o.family = fam;
		vx.len = 0;
		vxlan(&vx, 0x08, 70);
		inner(&vx, 5, 120, -1);
		udp(&u, 4789, &vx, 0);
		outer(&p, &o, &u, 6);
		EXPECT_EQ(XDP_REDIRECT_, run(_metadata, self, &p, out, &olen));
		EXPECT_EQ(vx.len - 8, olen);
		EXPECT_EQ(0, memcmp(out, vx.b + 8, vx.len - 8));
		/* A right UDP checksum, for every length to 4 bytes beyond a chunk */
		for (n = 0; n < 70; n++) {
			vx.len = 0;
			vxlan(&vx, 0x08, 70);
			inner(&vx, 6, 60 + n, -1);
			udp(&u, 4789, &vx, 0);
			outer(&p, &o, &u, 0);
			udp_fix_csum(&p, fam == 6);
			EXPECT_EQ(XDP_REDIRECT_, run(_metadata, self, &p, out, &olen))
				TH_LOG("IPv%d, UDP length %zu", fam, u.len);
			EXPECT_EQ(vx.len - 8, olen);
			EXPECT_EQ(0, memcmp(out, vx.b + 8, vx.len - 8));
			/* and wrong by one bit: passed, unchanged */
			p.b[p.len - 1] ^= 1;
			expect_pass(_metadata, self, &p);
		}
		/* A full-size frame */
		vx.len = 0;
		vxlan(&vx, 0x08, 70);
		inner(&vx, 7, 1400, -1);
		udp(&u, 4789, &vx, 0);
		outer(&p, &o, &u, 0);
		udp_fix_csum(&p, fam == 6);
		memset(p.b + p.len, 0xee, 4);	/* after the datagram: not summed */
		p.len += 4;
		EXPECT_EQ(XDP_REDIRECT_, run(_metadata, self, &p, out, &olen));
		EXPECT_EQ(vx.len - 8, olen);
		/* A wrong UDP checksum: the socket drops it, the program passes it. */
		vx.len = 0;
		vxlan(&vx, 0x08, 70);
		inner(&vx, 5, 120, -1);
		udp(&u, 4789, &vx, 0x1234);
		outer(&p, &o, &u, 0);
		expect_pass(_metadata, self, &p);
		/* Another port, the I flag missing */
		udp(&u, 4790, &vx, 0);
		outer(&p, &o, &u, 0);
		expect_pass(_metadata, self, &p);
		vx.b[0] = 0;
		udp(&u, 4789, &vx, 0);
		outer(&p, &o, &u, 0);
		expect_pass(_metadata, self, &p);
	}
	EXPECT_EQ(2 * 72, get_stats(self, 4, true, 70).packets);
	EXPECT_EQ(2 * 71, get_stats(self, 4, true, 70).passed);
}

TEST_F(cx, passed_untouched)
{
	struct gre_opts g = { .proto = 0x22eb, .seq = true, .seqv = 1 };
	struct pkt pl, p;
	struct outer o;

	pl.len = 0;
	gre(&pl, &g);
	erspan3(&pl, 7, false, 0, 0);
	inner(&pl, 1, 100, -1);

	o = (struct outer){ .family = 4, .proto = 47, .mac = MAC_SND };
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);	/* another MAC */
	o = (struct outer){ .family = 4, .proto = 47, .dst = "198.51.100.3" };
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);	/* another address */
	o = (struct outer){ .family = 6, .proto = 47, .dst = "2001:db8:7::3" };
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);
	o = (struct outer){ .family = 4, .proto = 47, .ihl = 6 };
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);	/* IPv4 options */
	o = (struct outer){ .family = 4, .proto = 47, .frag = 0x2000 };
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);	/* a fragment */
	o = (struct outer){ .family = 4, .proto = 47, .bad_csum = true };
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);	/* bad header checksum */
	o = (struct outer){ .family = 6, .proto = 47, .ext = true };
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);	/* IPv6 extension header */
	o = (struct outer){ .family = 4, .proto = 6 };
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);	/* not GRE */

	o = (struct outer){ .family = 4, .proto = 47 };
	/* ERSPAN I: 0x88be without sequence */
	pl.len = 0;
	g = (struct gre_opts){ .proto = 0x88be };
	gre(&pl, &g);
	inner(&pl, 1, 100, -1);
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);
	/* GRE checksum, routing bit, version 1, another protocol */
	pl.len = 0;
	g = (struct gre_opts){ .proto = 0x6558, .csum = true, .key = true, .keyv = 5 };
	gre(&pl, &g);
	inner(&pl, 1, 100, -1);
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);
	EXPECT_EQ(1, get_stats(self, 1, true, 5).passed);
	g = (struct gre_opts){ .proto = 0x6558, .extra_flags = 0x4000 };
	pl.len = 0;
	gre(&pl, &g);
	inner(&pl, 1, 100, -1);
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);
	g = (struct gre_opts){ .proto = 0x6558, .extra_flags = 1 };
	pl.len = 0;
	gre(&pl, &g);
	inner(&pl, 1, 100, -1);
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);
	g = (struct gre_opts){ .proto = 0x0800 };
	pl.len = 0;
	gre(&pl, &g);
	inner(&pl, 1, 100, -1);
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);
	/* ERSPAN III frame type 2, wrong versions, inner frame of 13 bytes */
	g = (struct gre_opts){ .proto = 0x22eb };
	pl.len = 0;
	gre(&pl, &g);
	erspan3(&pl, 7, false, 0, 2);
	inner(&pl, 1, 100, -1);
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);
	pl.len = 0;
	gre(&pl, &g);
	erspan2(&pl, 7, 1, 0, 0);
	inner(&pl, 1, 100, -1);
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);
	pl.len = 0;
	gre(&pl, &g);
	erspan3(&pl, 7, false, 0, 0);
	inner(&pl, 1, 100, -1);
	pl.len = 4 + 12 + 13;
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);
	/* The IP length says more than there is */
	pl.len = 0;
	gre(&pl, &g);
	erspan3(&pl, 7, false, 0, 0);
	inner(&pl, 1, 100, -1);
	outer(&p, &o, &pl, 0);
	p.len -= 10;
	expect_pass(_metadata, self, &p);
	EXPECT_EQ(0, get_stats(self, 3, true, 7).packets);
}

/* Only the sessions listened to; the budget of count N. */
TEST(session_filter_and_budget)
{
	static const uint32_t ids[] = { 7, 9 };
	struct __test_metadata *m = _metadata;
	FIXTURE_DATA(cx) self_, *self = &self_;
	struct gre_opts g = { .proto = 0x22eb, .seq = true };
	struct outer o = { .family = 4, .proto = 47 };
	struct pkt pl, p;
	uint32_t sid;
	int i;

	(void)m;
	ASSERT_EQ(0, setup(self, true, ids, 2, 3));
	for (sid = 6; sid <= 9; sid++) {
		pl.len = 0;
		gre(&pl, &g);
		erspan3(&pl, sid, false, 0, 0);
		inner(&pl, sid, 100, -1);
		outer(&p, &o, &pl, 0);
		if (sid == 7 || sid == 9)
			expect_redirect(_metadata, self, &p);
		else
			expect_pass(_metadata, self, &p);
	}
	/* GRE-TEB without key: no session id, not listened to */
	g = (struct gre_opts){ .proto = 0x6558 };
	gre_pkt(&p, 4, &g, 0);
	expect_pass(_metadata, self, &p);
	/* The budget (3): one more redirect, then passed */
	g = (struct gre_opts){ .proto = 0x22eb, .seq = true };
	pl.len = 0;
	gre(&pl, &g);
	erspan3(&pl, 7, false, 0, 0);
	inner(&pl, 1, 100, -1);
	outer(&p, &o, &pl, 0);
	expect_redirect(_metadata, self, &p);
	for (i = 0; i < 2; i++)
		expect_pass(_metadata, self, &p);
	EXPECT_EQ(2, get_stats(self, 3, true, 7).packets);
	EXPECT_EQ(2, get_stats(self, 3, true, 7).passed);
	EXPECT_EQ(1, get_stats(self, 3, true, 9).packets);
	EXPECT_EQ(0, get_stats(self, 3, true, 6).packets + get_stats(self, 3, true, 6).passed);
	collect__destroy(self->skel);
}

/* Without to DEV (write FILE): counted and passed, never changed. */
TEST(count_only)
{
	FIXTURE_DATA(cx) self_, *self = &self_;
	struct gre_opts g = { .proto = 0x22eb, .seq = true };
	struct outer o = { .family = 6, .proto = 47 };
	struct pkt pl = { .len = 0 }, p;

	ASSERT_EQ(0, setup(self, false, NULL, 0, 0));
	gre(&pl, &g);
	erspan3(&pl, 7, true, 0, 0);
	inner(&pl, 1, 100, -1);
	outer(&p, &o, &pl, 0);
	expect_pass(_metadata, self, &p);
	EXPECT_EQ(1, get_stats(self, 3, true, 7).packets);
	EXPECT_EQ(100, get_stats(self, 3, true, 7).bytes);
	collect__destroy(self->skel);
}

/* DEV gone from the devmap: passed, counted as undelivered. */
TEST_F(cx, no_device_is_passed)
{
	struct gre_opts g = { .proto = 0x6558, .key = true, .keyv = 5 };
	uint32_t k = 0;
	struct pkt p;

	ASSERT_EQ(0, bpf_map_delete_elem(bpf_map__fd(self->skel->maps.tx), &k));
	gre_pkt(&p, 4, &g, 0);
	expect_pass(_metadata, self, &p);
	EXPECT_EQ(1, get_stats(self, 1, true, 5).undelivered);
	EXPECT_EQ(0, get_stats(self, 1, true, 5).packets);
}

TEST_HARNESS_MAIN
