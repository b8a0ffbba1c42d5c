// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of vtapctl collect's decoder, GRE sequence accounting and
 * ERSPAN III timestamps (user/collect/decode.c): crafted packets for every
 * encapsulation (GRE-TEB, ERSPAN II/III, VXLAN), version and field; every
 * truncation of each (in buffers of exactly that size: the Makefile builds
 * this with ASan, so a read past the end fails); sequence gaps, reordering,
 * duplicates, wrap at 2^32, restarts; timestamp wrap.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "../../user/collect/decode.h"

/* ---- packet builder ------------------------------------------------------ */

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
	if (n)
		memcpy(p->b + p->len, d, n);
	p->len += n;
}

/* An Ethernet frame with an IPv4 header saying @iplen, @len bytes in all. */
static void eth_ipv4(struct pkt *p, size_t len, uint16_t iplen, int vlans)
{
	static const uint8_t mac[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
	size_t start = p->len, i;

	pbytes(p, mac, 12);
	for (i = 0; i < (size_t)vlans; i++) {
		p16(p, i ? 0x8100 : 0x88a8);
		p16(p, 100 + i);
	}
	p16(p, 0x0800);
	p8(p, 0x45);
	p8(p, 0);
	p16(p, iplen);
	while (p->len - start < len)
		p8(p, (uint8_t)(p->len * 7));
}

static void gre_hdr(struct pkt *p, uint16_t flags, uint16_t proto, uint32_t key,
		    uint32_t seq)
{
	p16(p, flags);
	p16(p, proto);
	if (flags & 0x8000)
		p32(p, 0);
	if (flags & 0x2000)
		p32(p, key);
	if (flags & 0x1000)
		p32(p, seq);
}

/* Fill in the GRE checksum of the GRE packet at @off. */
static void gre_csum(struct pkt *p, size_t off)
{
	uint32_t sum = 0;
	size_t i;

	for (i = off; i + 1 < p->len; i += 2)
		sum += (uint32_t)(p->b[i] << 8 | p->b[i + 1]);
	if ((p->len - off) & 1)
		sum += (uint32_t)p->b[p->len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	p->b[off + 4] = (uint8_t)(sum >> 8);
	p->b[off + 5] = (uint8_t)sum;
}

static void erspan2_hdr(struct pkt *p, int ver, int vlan, int cos, int en,
			int t, int sid, uint32_t index)
{
	p32(p, (uint32_t)ver << 28 | (uint32_t)vlan << 16 | (uint32_t)cos << 13 |
	       (uint32_t)en << 11 | (uint32_t)t << 10 | (uint32_t)sid);
	p32(p, 0xfff00000 | index);	/* reserved bits set: ignored */
}

static void erspan3_hdr(struct pkt *p, int ver, int sid, uint32_t ts, int d,
			int gra, int hwid, int o)
{
	p32(p, (uint32_t)ver << 28 | 42u << 16 | 5u << 13 | 2u << 11 | 1u << 10 |
	       (uint32_t)sid);
	p32(p, ts);
	p32(p, 0xbeefu << 16 | 1u << 15 | 0u << 10 | (uint32_t)hwid << 4 |
	       (uint32_t)d << 3 | (uint32_t)gra << 1 | (uint32_t)o);
}

/* IPv4 header in front of what @p holds. */
static void wrap_ipv4(struct pkt *p, int ihl, int proto, int tot_delta,
		      uint16_t frag)
{
	struct pkt ip = { .len = 0 };
	int i;

	p8(&ip, (uint8_t)(0x40 | ihl));
	p8(&ip, 0);
	p16(&ip, (uint16_t)(ihl * 4 + (int)p->len + tot_delta));
	p16(&ip, 1);
	p16(&ip, frag);
	p8(&ip, 64);
	p8(&ip, (uint8_t)proto);
	p16(&ip, 0);
	p32(&ip, 0xc6336401);	/* 198.51.100.1 */
	p32(&ip, 0xc6336402);
	for (i = 5; i < ihl; i++)
		p32(&ip, 0x01010101);	/* NOP options */
	pbytes(&ip, p->b, p->len);
	*p = ip;
}

static void wrap_ipv6(struct pkt *p, const uint8_t *ext, size_t extlen,
		      uint8_t nh, int plen_delta)
{
	struct pkt ip = { .len = 0 };
	int i;

	p32(&ip, 6u << 28);
	p16(&ip, (uint16_t)((int)(extlen + p->len) + plen_delta));
	p8(&ip, nh);
	p8(&ip, 64);
	for (i = 0; i < 2; i++) {
		p32(&ip, 0x20010db8);
		p32(&ip, 0);
		p32(&ip, 0);
		p32(&ip, (uint32_t)i + 1);
	}
	pbytes(&ip, ext, extlen);
	pbytes(&ip, p->b, p->len);
	*p = ip;
}

/* Decode a copy of exactly @len bytes (ASan sees any read past it). */
static int decode_exact(const struct pkt *p, size_t len, bool ip,
			struct vtap_pkt *out, uint8_t **copy)
{
	uint8_t *b = malloc(len ? len : 1);
	int err;

	memcpy(b, p->b, len);
	err = ip ? vtap_decode_ip(b, len, out) : vtap_decode_gre(b, len, out);
	if (copy)
		*copy = b;
	else
		free(b);
	return err;
}

/* Where the last decode() found the frame, from the start of the packet. */
static long frame_off;

/* Decode a copy of the whole packet; out->frame is not valid afterwards. */
static int decode(const struct pkt *p, bool ip, struct vtap_pkt *out)
{
	uint8_t *b;
	int err = decode_exact(p, p->len, ip, out, &b);

	frame_off = err ? -1 : out->frame - b;
	free(b);
	return err;
}

/* ---- encapsulations and fields ------------------------------------------- */

TEST(erspan2_fields)
{
	struct vtap_pkt d;
	struct pkt p = { 0 };

	gre_hdr(&p, 0x1000, 0x88be, 0, 0xdeadbeef);
	erspan2_hdr(&p, 1, 0xabc, 6, 3, 1, 0x3ff, 0xfffff);
	eth_ipv4(&p, 60, 46, 0);
	wrap_ipv4(&p, 5, 47, 0, 0x4000);
	ASSERT_EQ(VTAP_DEC_OK, decode(&p, true, &d));
	EXPECT_EQ(AF_INET, d.family);
	EXPECT_EQ(0, memcmp(d.src, "\xc6\x33\x64\x01", 4));
	EXPECT_EQ(0, memcmp(d.dst, "\xc6\x33\x64\x02", 4));
	EXPECT_EQ(VTAP_PKT_ERSPAN2, d.encap);
	EXPECT_TRUE(d.has_seq);
	EXPECT_FALSE(d.has_key);
	EXPECT_EQ(0xdeadbeef, d.seq);
	EXPECT_EQ(1, d.version);
	EXPECT_EQ(0xabc, d.vlan);
	EXPECT_EQ(6, d.cos);
	EXPECT_EQ(3, d.en);
	EXPECT_TRUE(d.truncated);
	EXPECT_TRUE(d.has_session);
	EXPECT_EQ(0x3ff, d.session);
	EXPECT_TRUE(d.has_index);
	EXPECT_EQ(0xfffff, d.index);
	EXPECT_FALSE(d.has_dir);
	EXPECT_EQ(60, d.frame_len);
	EXPECT_EQ(20 + 8 + 8, frame_off);
	/* T set but the IP header says no more than was received: +1. */
	EXPECT_EQ(61, d.orig_len);
	EXPECT_FALSE(d.orig_len_exact);
}

TEST(erspan3_fields)
{
	struct vtap_pkt d;
	struct pkt p = { 0 };

	gre_hdr(&p, 0x1000, 0x22eb, 0, 7);
	erspan3_hdr(&p, 2, 7, 0x89abcdef, 1, 1, 0x2a, 0);
	eth_ipv4(&p, 64, 50, 0);
	wrap_ipv4(&p, 5, 47, 0, 0x4000);
	ASSERT_EQ(VTAP_DEC_OK, decode(&p, true, &d));
	EXPECT_EQ(VTAP_PKT_ERSPAN3, d.encap);
	EXPECT_EQ(2, d.version);
	EXPECT_EQ(42, d.vlan);
	EXPECT_EQ(5, d.cos);
	EXPECT_EQ(2, d.en);		/* BSO */
	EXPECT_TRUE(d.truncated);
	EXPECT_EQ(7, d.session);
	EXPECT_EQ(0x89abcdef, d.timestamp);
	EXPECT_EQ(0xbeef, d.sgt);
	EXPECT_TRUE(d.p);
	EXPECT_EQ(0, d.ft);
	EXPECT_EQ(0x2a, d.hwid);
	EXPECT_TRUE(d.has_dir);
	EXPECT_EQ(1, d.dir);
	EXPECT_EQ(VTAP_PKT_GRA_100NS, d.gra);
	EXPECT_FALSE(d.has_sub);
	EXPECT_FALSE(d.has_index);
	EXPECT_EQ(64, d.frame_len);
	EXPECT_EQ(20 + 8 + 12, frame_off);

	/* D = 0, Gra 00 */
	p.len = 0;
	gre_hdr(&p, 0x1000, 0x22eb, 0, 8);
	erspan3_hdr(&p, 2, 1, 1, 0, 0, 63, 0);
	eth_ipv4(&p, 60, 46, 0);
	ASSERT_EQ(VTAP_DEC_OK, decode(&p, false, &d));
	EXPECT_EQ(0, d.dir);
	EXPECT_EQ(VTAP_PKT_GRA_100US, d.gra);
	EXPECT_EQ(63, d.hwid);
	EXPECT_EQ(0, d.family);		/* from the GRE header on: no addresses */
}

static int erspan3_sub(struct pkt *p, int platf, uint32_t w1low, uint32_t w2,
		       struct vtap_pkt *d)
{
	p->len = 0;
	gre_hdr(p, 0x1000, 0x22eb, 0, 1);
	erspan3_hdr(p, 2, 9, 0x11223344, 0, 1, 1, 1);
	p32(p, (uint32_t)platf << 26 | w1low);
	p32(p, w2);
	eth_ipv4(p, 60, 46, 0);
	return decode(p, false, d);
}

TEST(erspan3_platform_subheaders)
{
	struct vtap_pkt d;
	struct pkt p;

	ASSERT_EQ(VTAP_DEC_OK, erspan3_sub(&p, 1, 0x3fff000 | 0xabc, 0x12345678, &d));
	EXPECT_TRUE(d.has_sub);
	EXPECT_EQ(1, d.platf_id);
	EXPECT_EQ(0xabc, d.domain);
	EXPECT_TRUE(d.has_index);
	EXPECT_EQ(0x12345678, d.index);
	EXPECT_EQ(8 + 12 + 8, frame_off);

	ASSERT_EQ(VTAP_DEC_OK, erspan3_sub(&p, 3, 0x3ffc000 | 0x3fff, 0xcafe, &d));
	EXPECT_EQ(3, d.platf_id);
	EXPECT_EQ(0x3fff, d.index);
	EXPECT_TRUE(d.has_ts_hi);
	EXPECT_EQ(0xcafe, d.ts_hi);

	ASSERT_EQ(VTAP_DEC_OK, erspan3_sub(&p, 5, 0x155u << 16 | 0xbeef, 1700000000, &d));
	EXPECT_EQ(0x155, d.domain);
	EXPECT_EQ(0xbeef, d.index);
	EXPECT_TRUE(d.has_ts_sec);
	EXPECT_EQ(1700000000, d.ts_sec);
	ASSERT_EQ(VTAP_DEC_OK, erspan3_sub(&p, 6, 1, 2, &d));
	EXPECT_EQ(1, d.index);

	ASSERT_EQ(VTAP_DEC_OK, erspan3_sub(&p, 7, 0x3f00000 | 0xfffff, 77, &d));
	EXPECT_EQ(0xfffff, d.index);
	EXPECT_TRUE(d.has_ts_hi);
	EXPECT_EQ(77, d.ts_hi);
	ASSERT_EQ(VTAP_DEC_OK, erspan3_sub(&p, 0, 33, 0, &d));
	EXPECT_EQ(33, d.index);

	/* Reserved platform ids: skipped, kept raw, no index. */
	ASSERT_EQ(VTAP_DEC_OK, erspan3_sub(&p, 2, 0x3ffffff, 0xffffffff, &d));
	EXPECT_FALSE(d.has_index);
	EXPECT_EQ(0x3ffffffffffffffULL, d.platf_info);
	ASSERT_EQ(VTAP_DEC_OK, erspan3_sub(&p, 63, 0, 0, &d));
	EXPECT_EQ(63, d.platf_id);
	EXPECT_FALSE(d.has_index);
	EXPECT_FALSE(d.has_ts_hi);
}

TEST(gre_teb)
{
	struct vtap_pkt d;
	struct pkt p = { 0 };

	gre_hdr(&p, 0x3000, 0x6558, 0xfeedf00d, 0xffffffff);
	eth_ipv4(&p, 60, 46, 0);
	ASSERT_EQ(VTAP_DEC_OK, decode(&p, false, &d));
	EXPECT_EQ(VTAP_PKT_GRE, d.encap);
	EXPECT_TRUE(d.has_key);
	EXPECT_TRUE(d.has_session);
	EXPECT_EQ(0xfeedf00d, d.session);
	EXPECT_EQ(0xffffffff, d.seq);
	EXPECT_EQ(12, frame_off);
	EXPECT_EQ(60, d.orig_len);

	/* Neither key nor sequence. */
	p.len = 0;
	gre_hdr(&p, 0, 0x6558, 0, 0);
	eth_ipv4(&p, 60, 46, 0);
	ASSERT_EQ(VTAP_DEC_OK, decode(&p, false, &d));
	EXPECT_FALSE(d.has_session);
	EXPECT_FALSE(d.has_seq);
	EXPECT_EQ(4, frame_off);

	/* With a checksum: good, then one bit off. */
	p.len = 0;
	gre_hdr(&p, 0xb000, 0x6558, 5, 9);
	eth_ipv4(&p, 61, 47, 0);	/* odd length */
	gre_csum(&p, 0);
	ASSERT_EQ(VTAP_DEC_OK, decode(&p, false, &d));
	EXPECT_TRUE(d.has_csum);
	EXPECT_EQ(5, d.key);
	EXPECT_EQ(9, d.seq);
	EXPECT_EQ(16, frame_off);
	p.b[p.len - 1] ^= 1;
	EXPECT_EQ(VTAP_DEC_GRE_CSUM, decode(&p, false, &d));
}

TEST(gre_rejects)
{
	struct vtap_pkt d;
	struct pkt p = { 0 };

	gre_hdr(&p, 0x0001, 0x6558, 0, 0);		/* version 1 (PPTP) */
	eth_ipv4(&p, 60, 46, 0);
	EXPECT_EQ(VTAP_DEC_GRE_VERSION, decode(&p, false, &d));
	p.len = 0;
	gre_hdr(&p, 0x4000, 0x6558, 0, 0);		/* routing present */
	eth_ipv4(&p, 60, 46, 0);
	EXPECT_EQ(VTAP_DEC_GRE_FLAGS, decode(&p, false, &d));
	p.len = 0;
	gre_hdr(&p, 0x0800, 0x6558, 0, 0);		/* strict source route */
	eth_ipv4(&p, 60, 46, 0);
	EXPECT_EQ(VTAP_DEC_GRE_FLAGS, decode(&p, false, &d));
	p.len = 0;
	gre_hdr(&p, 0x0400, 0x6558, 0, 0);		/* recursion */
	eth_ipv4(&p, 60, 46, 0);
	EXPECT_EQ(VTAP_DEC_GRE_FLAGS, decode(&p, false, &d));
	p.len = 0;
	gre_hdr(&p, 0x00f8, 0x6558, 0, 0);		/* bits 8-12: ignored */
	eth_ipv4(&p, 60, 46, 0);
	EXPECT_EQ(VTAP_DEC_OK, decode(&p, false, &d));
	p.len = 0;
	gre_hdr(&p, 0x1000, 0x0800, 0, 0);		/* IPv4 in GRE */
	eth_ipv4(&p, 60, 46, 0);
	EXPECT_EQ(VTAP_DEC_PROTO, decode(&p, false, &d));
	p.len = 0;
	gre_hdr(&p, 0x0000, 0x88be, 0, 0);		/* ERSPAN Type I */
	eth_ipv4(&p, 60, 46, 0);
	EXPECT_EQ(VTAP_DEC_ERSPAN1, decode(&p, false, &d));
	p.len = 0;
	gre_hdr(&p, 0x1000, 0x88be, 0, 0);
	erspan2_hdr(&p, 2, 0, 0, 0, 0, 1, 1);		/* Type II, version 2 */
	eth_ipv4(&p, 60, 46, 0);
	EXPECT_EQ(VTAP_DEC_ERSPAN_VER, decode(&p, false, &d));
	p.len = 0;
	gre_hdr(&p, 0x1000, 0x22eb, 0, 0);
	erspan3_hdr(&p, 1, 1, 0, 0, 0, 0, 0);		/* Type III, version 1 */
	eth_ipv4(&p, 60, 46, 0);
	EXPECT_EQ(VTAP_DEC_ERSPAN_VER, decode(&p, false, &d));
	p.len = 0;
	gre_hdr(&p, 0x1000, 0x22eb, 0, 0);
	erspan3_hdr(&p, 2, 1, 0, 0, 0, 0, 0);
	p.b[p.len - 2] |= 2 << 2;			/* FT 2: IP, not Ethernet */
	eth_ipv4(&p, 60, 46, 0);
	EXPECT_EQ(VTAP_DEC_FRAME_TYPE, decode(&p, false, &d));
	p.len = 0;
	gre_hdr(&p, 0x1000, 0x22eb, 0, 0);
	erspan3_hdr(&p, 2, 1, 0, 0, 0, 0, 0);
	pbytes(&p, "0123456789abc", 13);		/* 13 < 14 */
	EXPECT_EQ(VTAP_DEC_INNER_SHORT, decode(&p, false, &d));
	p.len -= 13;
	EXPECT_EQ(VTAP_DEC_INNER_SHORT, decode(&p, false, &d));
	/* On error, nothing is left in the result. */
	EXPECT_EQ(NULL, d.frame);
	EXPECT_EQ(0, d.encap);
}

TEST(ipv4_headers)
{
	struct vtap_pkt d;
	struct pkt p = { 0 }, q;
	int ihl;

	gre_hdr(&p, 0x1000, 0x88be, 0, 1);
	erspan2_hdr(&p, 1, 0, 0, 0, 0, 1, 1);
	eth_ipv4(&p, 60, 46, 0);
	for (ihl = 5; ihl <= 15; ihl++) {
		q = p;
		wrap_ipv4(&q, ihl, 47, 0, 0);
		ASSERT_EQ(VTAP_DEC_OK, decode(&q, true, &d)) TH_LOG("ihl %d", ihl);
		EXPECT_EQ(ihl * 4 + 16, frame_off);
		EXPECT_EQ(60, d.frame_len);
	}
	q = p;
	wrap_ipv4(&q, 4, 47, 0, 0);
	EXPECT_EQ(VTAP_DEC_IP_HDR, decode(&q, true, &d));
	q = p;
	wrap_ipv4(&q, 5, 47, -(int)p.len - 1, 0);	/* total length 19 */
	EXPECT_EQ(VTAP_DEC_IP_HDR, decode(&q, true, &d));
	q = p;
	wrap_ipv4(&q, 5, 47, 1, 0);			/* says one more byte */
	EXPECT_EQ(VTAP_DEC_IP_LEN, decode(&q, true, &d));
	q = p;
	wrap_ipv4(&q, 5, 47, -4, 0);			/* 4 bytes of trailer */
	ASSERT_EQ(VTAP_DEC_OK, decode(&q, true, &d));
	EXPECT_EQ(56, d.frame_len);
	q = p;
	wrap_ipv4(&q, 5, 47, 0, 0x2000);		/* more fragments */
	EXPECT_EQ(VTAP_DEC_IP_FRAG, decode(&q, true, &d));
	q = p;
	wrap_ipv4(&q, 5, 47, 0, 0x0001);		/* offset 8 */
	EXPECT_EQ(VTAP_DEC_IP_FRAG, decode(&q, true, &d));
	q = p;
	wrap_ipv4(&q, 5, 17, 0, 0);			/* UDP */
	EXPECT_EQ(VTAP_DEC_NOT_GRE, decode(&q, true, &d));
	q = p;
	q.b[0] = 0x55;					/* version 5 */
	EXPECT_EQ(VTAP_DEC_IP_VERSION, decode(&q, true, &d));
}

TEST(ipv6_headers)
{
	static const uint8_t hbh_dst[16] = {
		60, 0, 1, 4, 0, 0, 0, 0,	/* hop-by-hop -> dest opts */
		47, 0, 1, 4, 0, 0, 0, 0,	/* dest opts -> GRE */
	};
	static const uint8_t frag[8] = { 47, 0, 0, 1, 0, 0, 0, 1 };
	struct vtap_pkt d;
	struct pkt p = { 0 }, q;

	gre_hdr(&p, 0x1000, 0x22eb, 0, 3);
	erspan3_hdr(&p, 2, 11, 5, 0, 1, 0, 0);
	eth_ipv4(&p, 60, 46, 0);
	q = p;
	wrap_ipv6(&q, NULL, 0, 47, 0);
	ASSERT_EQ(VTAP_DEC_OK, decode(&q, true, &d));
	EXPECT_EQ(AF_INET6, d.family);
	EXPECT_EQ(0x01, d.src[15]);
	EXPECT_EQ(0x02, d.dst[15]);
	EXPECT_EQ(11, d.session);
	EXPECT_EQ(40 + 8 + 12, frame_off);
	q = p;
	wrap_ipv6(&q, hbh_dst, sizeof(hbh_dst), 0, 0);
	ASSERT_EQ(VTAP_DEC_OK, decode(&q, true, &d));
	EXPECT_EQ(40 + 16 + 20, frame_off);
	q = p;
	wrap_ipv6(&q, frag, sizeof(frag), 44, 0);
	EXPECT_EQ(VTAP_DEC_IP_FRAG, decode(&q, true, &d));
	q = p;
	wrap_ipv6(&q, NULL, 0, 17, 0);
	EXPECT_EQ(VTAP_DEC_NOT_GRE, decode(&q, true, &d));
	q = p;
	wrap_ipv6(&q, NULL, 0, 47, 1);
	EXPECT_EQ(VTAP_DEC_IP_LEN, decode(&q, true, &d));
	q = p;
	wrap_ipv6(&q, NULL, 0, 47, -3);			/* trailer ignored */
	ASSERT_EQ(VTAP_DEC_OK, decode(&q, true, &d));
	EXPECT_EQ(57, d.frame_len);
	/* An extension header longer than the packet. */
	q = p;
	wrap_ipv6(&q, hbh_dst, sizeof(hbh_dst), 0, 0);
	q.b[41] = 200;
	EXPECT_EQ(VTAP_DEC_SHORT, decode(&q, true, &d));
}

TEST(orig_len)
{
	struct vtap_pkt d;
	struct pkt p = { 0 };

	/* Cut at 100 bytes of a 1400-byte IPv4 frame: 14 + 1386. */
	gre_hdr(&p, 0x1000, 0x22eb, 0, 1);
	erspan3_hdr(&p, 2, 1, 0, 0, 1, 0, 0);
	eth_ipv4(&p, 100, 1386, 0);
	ASSERT_EQ(VTAP_DEC_OK, decode(&p, false, &d));
	EXPECT_EQ(100, d.frame_len);
	EXPECT_EQ(1400, d.orig_len);
	EXPECT_TRUE(d.orig_len_exact);
	/* The same behind two VLAN tags: 22 + 1386. */
	p.len = 0;
	gre_hdr(&p, 0x1000, 0x22eb, 0, 1);
	erspan3_hdr(&p, 2, 1, 0, 0, 1, 0, 0);
	eth_ipv4(&p, 100, 1386, 2);
	ASSERT_EQ(VTAP_DEC_OK, decode(&p, false, &d));
	EXPECT_EQ(1408, d.orig_len);
	/* GRE-TEB has no T bit: the IP header alone tells. */
	p.len = 0;
	gre_hdr(&p, 0x1000, 0x6558, 0, 1);
	eth_ipv4(&p, 200, 1000, 0);
	ASSERT_EQ(VTAP_DEC_OK, decode(&p, false, &d));
	EXPECT_EQ(1014, d.orig_len);
	/* Padded short frame: the IP length is smaller, not a truncation. */
	p.len = 0;
	gre_hdr(&p, 0x1000, 0x6558, 0, 1);
	eth_ipv4(&p, 60, 28, 0);
	ASSERT_EQ(VTAP_DEC_OK, decode(&p, false, &d));
	EXPECT_EQ(60, d.orig_len);
	EXPECT_FALSE(d.orig_len_exact);
	/* IPv6 inner: 14 + 40 + payload length. */
	p.len = 0;
	gre_hdr(&p, 0x1000, 0x22eb, 0, 1);
	erspan3_hdr(&p, 2, 1, 0, 0, 1, 0, 0);
	pbytes(&p, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x86\xdd", 14);
	p32(&p, 6u << 28);
	p16(&p, 1000);
	while (p.len < 20 + 100)
		p8(&p, 0);
	ASSERT_EQ(VTAP_DEC_OK, decode(&p, false, &d));
	EXPECT_EQ(14 + 40 + 1000, d.orig_len);
}

/* Every crafted packet, at every length, both entry points. */
TEST(truncation_at_every_length)
{
	struct pkt v[12];
	int i, n = 0, ok_short = 0;
	size_t len;

	memset(v, 0, sizeof(v));
	gre_hdr(&v[n], 0x1000, 0x88be, 0, 1);
	erspan2_hdr(&v[n], 1, 1, 1, 1, 1, 1, 1);
	eth_ipv4(&v[n++], 60, 46, 0);
	gre_hdr(&v[n], 0x1000, 0x22eb, 0, 1);
	erspan3_hdr(&v[n], 2, 1, 1, 1, 1, 1, 0);
	eth_ipv4(&v[n++], 60, 46, 0);
	gre_hdr(&v[n], 0x1000, 0x22eb, 0, 1);
	erspan3_hdr(&v[n], 2, 1, 1, 1, 1, 1, 1);
	p32(&v[n], 3u << 26 | 5);
	p32(&v[n], 9);
	eth_ipv4(&v[n++], 60, 46, 1);
	gre_hdr(&v[n], 0xb000, 0x6558, 1, 2);
	eth_ipv4(&v[n], 60, 46, 0);
	gre_csum(&v[n++], 0);
	gre_hdr(&v[n], 0x3000, 0x6558, 1, 2);
	eth_ipv4(&v[n++], 100, 1000, 2);
	for (i = 0; i < 5; i++) {		/* the same in IPv4, IPv4 + options, IPv6 */
		v[n] = v[i];
		wrap_ipv4(&v[n++], i + 5, 47, 0, 0);
	}
	v[n] = v[1];
	wrap_ipv6(&v[n++], (const uint8_t *)"\x2f\0\0\0\0\0\0\0", 8, 60, 0);
	v[n] = v[2];
	wrap_ipv6(&v[n++], NULL, 0, 47, 0);

	for (i = 0; i < n; i++) {
		for (len = 0; len <= v[i].len; len++) {
			struct vtap_pkt d;
			uint8_t *b;
			int err, k;

			for (k = 0; k < 2; k++) {
				err = decode_exact(&v[i], len, k, &d, &b);
				/* IP says how long it is: any cut is caught. */
				if (k && i >= 5 && len < v[i].len)
					EXPECT_NE(VTAP_DEC_OK, err);
				if (!err) {
					/* The frame lies inside the buffer, 14 bytes or more. */
					EXPECT_GE(d.frame, b);
					EXPECT_LE(d.frame + d.frame_len, b + len);
					EXPECT_GE(d.frame_len, VTAP_ETH_HLEN);
					EXPECT_GE(d.orig_len, d.frame_len);
					if (len < v[i].len)
						ok_short++;
				} else {
					EXPECT_LT(err, VTAP_DEC_NERR);
					EXPECT_EQ(NULL, d.frame);
				}
				free(b);
			}
		}
		/* Whole: decodes (from the IP header, or the GRE header). */
		{
			struct vtap_pkt d;

			EXPECT_EQ(VTAP_DEC_OK, decode(&v[i], i >= 5, &d)) TH_LOG("packet %d", i);
		}
	}
	/* A GRE packet cut short still decodes as a shorter frame; an IP one never. */
	EXPECT_GT(ok_short, 0);
}

/* ---- VXLAN ------------------------------------------------------------------ */

static void vxlan_hdr(struct pkt *p, uint8_t flags, uint32_t rsvd1, uint32_t vni,
		      uint8_t rsvd2)
{
	p32(p, (uint32_t)flags << 24 | (rsvd1 & 0xffffff));
	p32(p, vni << 8 | rsvd2);
}

/*
 * vtap_decode_vxlan() on a copy of exactly @len bytes; frame_off as decode(),
 * -2 when the frame is not inside the buffer.
 */
static int decode_vxlan(const struct pkt *p, size_t len, struct vtap_pkt *out)
{
	uint8_t *b = malloc(len ? len : 1);
	int err;

	memcpy(b, p->b, len);
	err = vtap_decode_vxlan(b, len, out);
	frame_off = err ? -1 : out->frame - b;
	if (!err && (out->frame < b || out->frame + out->frame_len > b + len))
		frame_off = -2;
	free(b);
	return err;
}

TEST(vxlan_fields)
{
	struct vtap_pkt d;
	struct pkt p = { 0 };

	vxlan_hdr(&p, 0x08, 0, 42, 0);
	eth_ipv4(&p, 60, 46, 0);
	ASSERT_EQ(VTAP_DEC_OK, decode_vxlan(&p, p.len, &d));
	EXPECT_EQ(VTAP_PKT_VXLAN, d.encap);
	EXPECT_TRUE(d.has_session);
	EXPECT_EQ(42, d.session);
	EXPECT_EQ(8, frame_off);
	EXPECT_EQ(60, d.frame_len);
	EXPECT_EQ(60, d.orig_len);
	EXPECT_FALSE(d.orig_len_exact);
	/* No sequence, no T bit, no direction, no addresses (the socket's). */
	EXPECT_FALSE(d.has_seq);
	EXPECT_FALSE(d.truncated);
	EXPECT_FALSE(d.has_dir);
	EXPECT_FALSE(d.has_index);
	EXPECT_EQ(0, d.family);

	/* VNI 0 and the largest, 0xffffff. */
	p.len = 0;
	vxlan_hdr(&p, 0x08, 0, 0, 0);
	eth_ipv4(&p, 60, 46, 0);
	ASSERT_EQ(VTAP_DEC_OK, decode_vxlan(&p, p.len, &d));
	EXPECT_TRUE(d.has_session);
	EXPECT_EQ(0, d.session);
	p.len = 0;
	vxlan_hdr(&p, 0x08, 0, 0xffffff, 0);
	eth_ipv4(&p, 60, 46, 0);
	ASSERT_EQ(VTAP_DEC_OK, decode_vxlan(&p, p.len, &d));
	EXPECT_EQ(0xffffff, d.session);
}

/* RFC 7348: reserved flag bits and fields are ignored on receipt. */
TEST(vxlan_reserved_ignored)
{
	struct vtap_pkt d;
	struct pkt p = { 0 };

	vxlan_hdr(&p, 0xff, 0xffffff, 0x123456, 0xff);
	eth_ipv4(&p, 64, 50, 1);
	ASSERT_EQ(VTAP_DEC_OK, decode_vxlan(&p, p.len, &d));
	EXPECT_EQ(0x123456, d.session);
	EXPECT_EQ(8, frame_off);
	EXPECT_EQ(64, d.frame_len);
}

TEST(vxlan_rejects)
{
	struct vtap_pkt d;
	struct pkt p = { 0 };
	size_t len;

	/* The I flag clear: no valid VNI. */
	vxlan_hdr(&p, 0x00, 0, 42, 0);
	eth_ipv4(&p, 60, 46, 0);
	EXPECT_EQ(VTAP_DEC_VXLAN_FLAGS, decode_vxlan(&p, p.len, &d));
	EXPECT_EQ(NULL, d.frame);
	EXPECT_FALSE(d.has_session);
	p.b[0] = 0xf7;			/* every flag but I */
	EXPECT_EQ(VTAP_DEC_VXLAN_FLAGS, decode_vxlan(&p, p.len, &d));
	p.b[0] = 0x08;
	/* Every length: short header, short inner frame, then accepted. */
	for (len = 0; len <= p.len; len++) {
		int err = decode_vxlan(&p, len, &d);

		if (len < 8) {
			EXPECT_EQ(VTAP_DEC_SHORT, err);
		} else if (len < 8 + VTAP_ETH_HLEN) {
			EXPECT_EQ(VTAP_DEC_INNER_SHORT, err);
		} else {
			EXPECT_EQ(VTAP_DEC_OK, err);
		}
		if (err) {
			EXPECT_EQ(NULL, d.frame);
		} else {
			EXPECT_EQ(len - 8, d.frame_len);
			EXPECT_EQ(8, frame_off);
		}
	}
	/* More than a UDP datagram can hold. */
	{
		uint8_t *big = calloc(1, 0x10000);

		ASSERT_NE(NULL, big);
		big[0] = 0x08;
		EXPECT_EQ(VTAP_DEC_IP_LEN, vtap_decode_vxlan(big, 0x10000, &d));
		EXPECT_EQ(VTAP_DEC_OK, vtap_decode_vxlan(big, 0xffff, &d));
		free(big);
	}
}

/* A frame cut by the sender (snaplen, path MTU): the inner IP length tells. */
TEST(vxlan_orig_len)
{
	struct vtap_pkt d;
	struct pkt p = { 0 };

	vxlan_hdr(&p, 0x08, 0, 7, 0);
	eth_ipv4(&p, 128, 1386, 0);
	ASSERT_EQ(VTAP_DEC_OK, decode_vxlan(&p, p.len, &d));
	EXPECT_EQ(128, d.frame_len);
	EXPECT_EQ(1400, d.orig_len);
	EXPECT_TRUE(d.orig_len_exact);
	EXPECT_FALSE(d.truncated);
	/* Behind a VLAN tag. */
	p.len = 0;
	vxlan_hdr(&p, 0x08, 0, 7, 0);
	eth_ipv4(&p, 128, 1386, 1);
	ASSERT_EQ(VTAP_DEC_OK, decode_vxlan(&p, p.len, &d));
	EXPECT_EQ(1404, d.orig_len);
	/* Not IP: nothing says it was cut. */
	p.len = 0;
	vxlan_hdr(&p, 0x08, 0, 7, 0);
	pbytes(&p, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x88\xb5", 14);
	while (p.len < 8 + 100)
		p8(&p, 0xee);
	ASSERT_EQ(VTAP_DEC_OK, decode_vxlan(&p, p.len, &d));
	EXPECT_EQ(100, d.orig_len);
	EXPECT_FALSE(d.orig_len_exact);
}

/* A VXLAN payload is not mistaken for GRE or IP, nor the reverse by accident. */
TEST(vxlan_entry_points_apart)
{
	struct vtap_pkt d;
	struct pkt p = { 0 };

	vxlan_hdr(&p, 0x08, 0, 42, 0);
	eth_ipv4(&p, 60, 46, 0);
	EXPECT_NE(VTAP_DEC_OK, decode(&p, true, &d));
	ASSERT_EQ(VTAP_DEC_OK, decode_vxlan(&p, p.len, &d));
	EXPECT_EQ(VTAP_PKT_VXLAN, d.encap);
	EXPECT_EQ(0, d.gre_proto);
	EXPECT_STREQ("vxlan_flags", vtap_decode_strerror(VTAP_DEC_VXLAN_FLAGS));
}

TEST(error_names)
{
	int i, j;

	for (i = 0; i < VTAP_DEC_NERR; i++) {
		ASSERT_NE(NULL, vtap_decode_strerror(i));
		for (j = 0; j < i; j++)
			EXPECT_STRNE(vtap_decode_strerror(i), vtap_decode_strerror(j));
	}
	EXPECT_STREQ("unknown", vtap_decode_strerror(-1));
	EXPECT_STREQ("unknown", vtap_decode_strerror(VTAP_DEC_NERR));
}

/* ---- sequence accounting --------------------------------------------------- */

static int feed(struct vtap_seq *s, uint32_t seq)
{
	uint32_t missing;

	return vtap_seq_update(s, seq, &missing);
}

TEST(seq_in_order_gap_reorder_dup)
{
	struct vtap_seq s;
	uint32_t missing;

	vtap_seq_init(&s);
	EXPECT_EQ(VTAP_SEQ_FIRST, feed(&s, 0));
	EXPECT_EQ(VTAP_SEQ_IN_ORDER, feed(&s, 1));
	EXPECT_EQ(VTAP_SEQ_IN_ORDER, feed(&s, 2));
	/* 3 dropped: a jump of 2 counts 1 lost. */
	EXPECT_EQ(VTAP_SEQ_GAP, vtap_seq_update(&s, 4, &missing));
	EXPECT_EQ(1, missing);
	EXPECT_EQ(1, s.lost);
	EXPECT_EQ(1, s.gaps);
	/* 6 before 5: 5 counted lost, then found. */
	EXPECT_EQ(VTAP_SEQ_GAP, feed(&s, 6));
	EXPECT_EQ(2, s.lost);
	EXPECT_EQ(VTAP_SEQ_REORDERED, feed(&s, 5));
	EXPECT_EQ(1, s.lost);
	EXPECT_EQ(1, s.reordered);
	/* Duplicates: of the last, of an older one, of the reordered one. */
	EXPECT_EQ(VTAP_SEQ_DUPLICATE, feed(&s, 6));
	EXPECT_EQ(VTAP_SEQ_DUPLICATE, feed(&s, 1));
	EXPECT_EQ(VTAP_SEQ_DUPLICATE, feed(&s, 5));
	EXPECT_EQ(3, s.duplicates);
	EXPECT_EQ(1, s.lost);
	EXPECT_EQ(VTAP_SEQ_IN_ORDER, feed(&s, 7));
	/* A jump of k counts k - 1. */
	EXPECT_EQ(VTAP_SEQ_GAP, vtap_seq_update(&s, 7 + 100, &missing));
	EXPECT_EQ(99, missing);
	EXPECT_EQ(100, s.lost);
	EXPECT_EQ(1, s.reordered);
	EXPECT_EQ(3, s.duplicates);
	EXPECT_EQ(0, s.resets);
}

TEST(seq_wraps_at_2_32)
{
	struct vtap_seq s;
	uint32_t missing;

	vtap_seq_init(&s);
	feed(&s, 0xfffffffd);
	EXPECT_EQ(VTAP_SEQ_IN_ORDER, feed(&s, 0xfffffffe));
	EXPECT_EQ(VTAP_SEQ_IN_ORDER, feed(&s, 0xffffffff));
	EXPECT_EQ(VTAP_SEQ_IN_ORDER, feed(&s, 0));
	EXPECT_EQ(VTAP_SEQ_IN_ORDER, feed(&s, 1));
	EXPECT_EQ(0, s.lost);
	/* A gap across the wrap: 0xffffffff ... 1 misses 0. */
	vtap_seq_init(&s);
	feed(&s, 0xfffffffe);
	feed(&s, 0xffffffff);
	EXPECT_EQ(VTAP_SEQ_GAP, vtap_seq_update(&s, 1, &missing));
	EXPECT_EQ(1, missing);
	EXPECT_EQ(VTAP_SEQ_REORDERED, feed(&s, 0));
	EXPECT_EQ(0, s.lost);
	EXPECT_EQ(VTAP_SEQ_DUPLICATE, feed(&s, 0xffffffff));
	EXPECT_EQ(VTAP_SEQ_DUPLICATE, feed(&s, 0));
}

TEST(seq_window_edges)
{
	struct vtap_seq s;
	uint32_t i;

	vtap_seq_init(&s);
	for (i = 0; i < 3000; i++)
		if (i % 2 == 0)
			feed(&s, i);
	EXPECT_EQ(1499, s.lost);
	/* Odd ones within the window come back as reordered, not beyond it. */
	EXPECT_EQ(VTAP_SEQ_REORDERED, feed(&s, 2999 - VTAP_SEQ_WINDOW + 2));
	EXPECT_EQ(1498, s.lost);
	EXPECT_EQ(VTAP_SEQ_LATE, feed(&s, 2999 - VTAP_SEQ_WINDOW - 10));
	EXPECT_EQ(1498, s.lost);
	EXPECT_EQ(1, s.late);
	/* A jump larger than the window forgets it all. */
	EXPECT_EQ(VTAP_SEQ_GAP, feed(&s, 10000));
	EXPECT_EQ(VTAP_SEQ_REORDERED, feed(&s, 9999));
	EXPECT_EQ(VTAP_SEQ_DUPLICATE, feed(&s, 9999));
	EXPECT_EQ(VTAP_SEQ_REORDERED, feed(&s, 10001 - VTAP_SEQ_WINDOW));
	EXPECT_EQ(VTAP_SEQ_LATE, feed(&s, 10000 - VTAP_SEQ_WINDOW));
}

TEST(seq_before_first_is_not_a_found_loss)
{
	struct vtap_seq s;

	vtap_seq_init(&s);
	feed(&s, 100);
	feed(&s, 101);
	EXPECT_EQ(VTAP_SEQ_REORDERED, feed(&s, 99));
	EXPECT_EQ(0, s.lost);	/* never counted, so not taken back */
	EXPECT_EQ(VTAP_SEQ_DUPLICATE, feed(&s, 99));
	EXPECT_EQ(VTAP_SEQ_GAP, feed(&s, 103));
	EXPECT_EQ(VTAP_SEQ_REORDERED, feed(&s, 102));
	EXPECT_EQ(0, s.lost);
}

/* Exactly half the number space away: behind, not ahead (found by the fuzzer). */
TEST(seq_jump_of_2_31)
{
	struct vtap_seq s;

	vtap_seq_init(&s);
	feed(&s, 0xffffffff);
	EXPECT_EQ(VTAP_SEQ_LATE, feed(&s, 0x80000000));
	EXPECT_EQ(0, s.lost);
	EXPECT_EQ(VTAP_SEQ_IN_ORDER, feed(&s, 0));
}

TEST(seq_restart)
{
	struct vtap_seq s;

	vtap_seq_init(&s);
	feed(&s, 5000);
	feed(&s, 5001);
	/* One straggler far behind: late, no restart. */
	EXPECT_EQ(VTAP_SEQ_LATE, feed(&s, 10));
	EXPECT_EQ(VTAP_SEQ_IN_ORDER, feed(&s, 5002));
	EXPECT_EQ(0, s.resets);
	EXPECT_EQ(0, s.lost);
	/* The sender starts over at 0: two in a row confirm it. */
	EXPECT_EQ(VTAP_SEQ_LATE, feed(&s, 0));
	EXPECT_EQ(VTAP_SEQ_FIRST, feed(&s, 1));
	EXPECT_EQ(1, s.resets);
	EXPECT_EQ(VTAP_SEQ_IN_ORDER, feed(&s, 2));
	EXPECT_EQ(VTAP_SEQ_GAP, feed(&s, 4));
	EXPECT_EQ(1, s.lost);
	EXPECT_EQ(VTAP_SEQ_REORDERED, feed(&s, 3));
	EXPECT_EQ(0, s.lost);
}

/*
 * A sender that starts over (module reloaded, session re-created) before it
 * sent a window's worth: its new numbers are ones already seen.  Two in a
 * row, the second right after the first, are a reset, not a run of
 * duplicates (nor a loss).
 */
TEST(seq_restart_within_window)
{
	struct vtap_seq s;
	uint32_t i;

	vtap_seq_init(&s);
	for (i = 0; i < 100; i++)
		feed(&s, i);
	EXPECT_EQ(VTAP_SEQ_DUPLICATE, feed(&s, 0));
	EXPECT_EQ(VTAP_SEQ_FIRST, feed(&s, 1));
	EXPECT_EQ(1, s.resets);
	EXPECT_EQ(1, s.duplicates);	/* the first of them, as a late one */
	for (i = 2; i < 150; i++)
		EXPECT_EQ(VTAP_SEQ_IN_ORDER, feed(&s, i)) TH_LOG("seq %u", i);
	EXPECT_EQ(0, s.lost);
	EXPECT_EQ(1, s.duplicates);
	/* Isolated duplicates, even two in a row that do not follow: no reset. */
	EXPECT_EQ(VTAP_SEQ_DUPLICATE, feed(&s, 140));
	EXPECT_EQ(VTAP_SEQ_DUPLICATE, feed(&s, 140));
	EXPECT_EQ(VTAP_SEQ_DUPLICATE, feed(&s, 120));
	EXPECT_EQ(VTAP_SEQ_IN_ORDER, feed(&s, 150));
	EXPECT_EQ(VTAP_SEQ_DUPLICATE, feed(&s, 149));
	EXPECT_EQ(VTAP_SEQ_IN_ORDER, feed(&s, 151));
	EXPECT_EQ(1, s.resets);
	EXPECT_EQ(5, s.duplicates);
	/* A restart at 0 after 20 copies: 0 and 1 again. */
	vtap_seq_init(&s);
	for (i = 0; i < 20; i++)
		feed(&s, i);
	EXPECT_EQ(VTAP_SEQ_DUPLICATE, feed(&s, 0));
	EXPECT_EQ(VTAP_SEQ_FIRST, feed(&s, 1));
	EXPECT_EQ(VTAP_SEQ_IN_ORDER, feed(&s, 2));
	EXPECT_EQ(1, s.resets);
	EXPECT_EQ(0, s.lost);
	/* A burst duplicated right behind its originals: duplicates. */
	vtap_seq_init(&s);
	for (i = 0; i < 20; i++)
		feed(&s, i);
	EXPECT_EQ(VTAP_SEQ_DUPLICATE, feed(&s, 17));
	EXPECT_EQ(VTAP_SEQ_DUPLICATE, feed(&s, 18));
	EXPECT_EQ(VTAP_SEQ_DUPLICATE, feed(&s, 19));
	EXPECT_EQ(0, s.resets);
	EXPECT_EQ(3, s.duplicates);
}

/* ERSPAN III with sub-header 7 or 3, decoded: the index and the full time. */
TEST(erspan3_subheader_time)
{
	uint64_t sent = 1764921600123456700ULL, ts = sent / 100, ns;
	struct vtap_pkt d;
	struct pkt p;

	ASSERT_EQ(VTAP_DEC_OK, erspan3_sub(&p, 7, 0xabcde, (uint32_t)(ts >> 32), &d));
	EXPECT_EQ(0xabcde, d.index);
	/* erspan3_sub's low timestamp is fixed: put this one's in. */
	d.timestamp = (uint32_t)ts;
	ASSERT_TRUE(vtap_pkt_time(&d, 0, &ns));
	EXPECT_EQ(sent, ns) TH_LOG("no arrival time needed");
	ASSERT_EQ(VTAP_DEC_OK, erspan3_sub(&p, 3, 0x1234, (uint32_t)(ts >> 32), &d));
	EXPECT_EQ(0x1234, d.index);
	d.timestamp = (uint32_t)ts;
	ASSERT_TRUE(vtap_pkt_time(&d, sent + 5000000000000ULL, &ns));
	EXPECT_EQ(sent, ns) TH_LOG("the upper bits win over the arrival time");

	/* O set, but the packet ends inside the sub-header: rejected, short. */
	p.len = 0;
	gre_hdr(&p, 0x1000, 0x22eb, 0, 1);
	erspan3_hdr(&p, 2, 9, 0x11223344, 0, 1, 1, 1);
	p32(&p, 7U << 26 | 5);
	EXPECT_EQ(VTAP_DEC_SHORT, decode(&p, false, &d));
	p16(&p, 0);
	EXPECT_EQ(VTAP_DEC_SHORT, decode(&p, false, &d));
}

/* ---- timestamps -------------------------------------------------------------- */

TEST(unwrap32)
{
	EXPECT_EQ(5, vtap_unwrap32(5, 0));
	EXPECT_EQ(0x100000005ULL, vtap_unwrap32(5, 0x100000000ULL));
	/* Just before a wrap of the reference: the previous epoch. */
	EXPECT_EQ(0xfffffff0ULL, vtap_unwrap32(0xfffffff0, 0x100000010ULL));
	/* Just after: the next one. */
	EXPECT_EQ(0x200000010ULL, vtap_unwrap32(0x10, 0x1fffffff0ULL));
	EXPECT_EQ(0xffffffffULL, vtap_unwrap32(0xffffffff, 0));
	EXPECT_EQ(UINT64_MAX, vtap_unwrap32(0xffffffff, UINT64_MAX));
	EXPECT_EQ(0xffffffff00000000ULL, vtap_unwrap32(0, UINT64_MAX));
}

static struct vtap_pkt erspan3_ts(int gra, uint32_t ts)
{
	struct vtap_pkt p;

	memset(&p, 0, sizeof(p));
	p.encap = VTAP_PKT_ERSPAN3;
	p.gra = (uint8_t)gra;
	p.timestamp = ts;
	return p;
}

TEST(erspan3_time)
{
	uint64_t arrival = 1700000000123456789ULL, ns, sent;
	struct vtap_pkt p;

	/* 100 ns, sent 1 ms before it arrived. */
	sent = arrival - 1000000;
	p = erspan3_ts(VTAP_PKT_GRA_100NS, (uint32_t)(sent / 100));
	ASSERT_TRUE(vtap_pkt_time(&p, arrival, &ns));
	EXPECT_EQ(sent / 100 * 100, ns);
	/* 100 us. */
	p = erspan3_ts(VTAP_PKT_GRA_100US, (uint32_t)(sent / 100000));
	ASSERT_TRUE(vtap_pkt_time(&p, arrival, &ns));
	EXPECT_EQ(sent / 100000 * 100000, ns);
	/* The upper 32 bits from sub-header 3/7 are used as they are. */
	p = erspan3_ts(VTAP_PKT_GRA_100NS, (uint32_t)(sent / 100));
	p.has_ts_hi = true;
	p.ts_hi = (uint32_t)(sent / 100 >> 32);
	ASSERT_TRUE(vtap_pkt_time(&p, 0, &ns));
	EXPECT_EQ(sent / 100 * 100, ns);
	/* ... unless the product does not fit. */
	p.ts_hi = 0xffffffff;
	EXPECT_FALSE(vtap_pkt_time(&p, arrival, &ns));
	/* IEEE 1588: ns in the timestamp, seconds in sub-header 5/6. */
	p = erspan3_ts(VTAP_PKT_GRA_1588, 999999999);
	p.has_ts_sec = true;
	p.ts_sec = 1700000000;
	ASSERT_TRUE(vtap_pkt_time(&p, arrival, &ns));
	EXPECT_EQ(1700000000999999999ULL, ns);
	p.has_ts_sec = false;	/* the second nearest to the arrival: the previous */
	ASSERT_TRUE(vtap_pkt_time(&p, arrival, &ns));
	EXPECT_EQ(1699999999999999999ULL, ns);
	p = erspan3_ts(VTAP_PKT_GRA_1588, 1000000000);
	EXPECT_FALSE(vtap_pkt_time(&p, arrival, &ns));
	/* Custom granularity, and other encapsulations: no time. */
	p = erspan3_ts(VTAP_PKT_GRA_CUSTOM, 5);
	EXPECT_FALSE(vtap_pkt_time(&p, arrival, &ns));
	p = erspan3_ts(VTAP_PKT_GRA_100NS, 5);
	p.encap = VTAP_PKT_ERSPAN2;
	EXPECT_FALSE(vtap_pkt_time(&p, arrival, &ns));
}

/* 100 ns wraps every 429.5 s: both sides of a wrap, both sides of arrival. */
TEST(erspan3_time_wrap)
{
	const uint64_t wrap = 100ULL << 32;	/* ns per wrap at 100 ns */
	uint64_t base = (1700000000000000000ULL / wrap + 1) * wrap, ns;
	int64_t offs[] = { -200000000000LL, -1000, -100, 0, 100, 1000, 5000000000LL };
	int64_t arr[] = { -3000000, -100, 0, 100, 3000000 };
	size_t i, j;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (j = 0; j < sizeof(arr) / sizeof(arr[0]); j++) {
			uint64_t sent = base + (uint64_t)offs[i];
			uint64_t arrival = sent + (uint64_t)(arr[j] + 2000000);
			struct vtap_pkt p = erspan3_ts(VTAP_PKT_GRA_100NS,
						       (uint32_t)(sent / 100));

			ASSERT_TRUE(vtap_pkt_time(&p, arrival, &ns));
			EXPECT_EQ(sent / 100 * 100, ns)
				TH_LOG("offset %lld arrival %+lld", (long long)offs[i],
				       (long long)arr[j]);
		}
	}
	/* 100 us wraps after ~4.97 days: a copy 1 day old still resolves. */
	{
		uint64_t sent = base, arrival = base + 86400ULL * 1000000000ULL;
		struct vtap_pkt p = erspan3_ts(VTAP_PKT_GRA_100US,
					       (uint32_t)(sent / 100000));

		ASSERT_TRUE(vtap_pkt_time(&p, arrival, &ns));
		EXPECT_EQ(sent / 100000 * 100000, ns);
	}
}

TEST_HARNESS_MAIN
