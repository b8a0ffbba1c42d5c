// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of vtapctl flows export's IPFIX encoder (user/lib/ipfix.c): the
 * message header, the template and options template sets, data records
 * byte by byte, records split across messages within the size limit, and a
 * file of such messages decoded by libfixbuf's ipfixDump (every template
 * and record, no complaint) when it is installed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../../user/lib/ipfix.h"

static unsigned int be16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static struct ipfix_flow flow4(void)
{
	struct ipfix_flow f = {
		.src = { 192, 0, 2, 1 }, .dst = { 192, 0, 2, 2 }, .proto = 17,
		.sport = 5001, .dport = 6001, .vlan = 100, .cvlan = 200, .packets = 30,
		.octets = 3840, .start_ms = 1700000000123ULL, .end_ms = 1700000001456ULL,
		.tcp_flags = 0, .direction = 0, .port_id = 33, .end_reason = IPFIX_END_IDLE,
		.uuid = { 0x6f, 0x1c, 0x0e, 0x2a, 0x5b, 0x7d, 0x4c, 0x8e,
			  0x9a, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd },
	};

	return f;
}

TEST(header_and_templates)
{
	struct ipfix_msg m;
	const uint8_t *p;
	size_t len, off;

	ipfix_begin(&m, 0, 1700000000, 42, 7);
	ASSERT_EQ(0, ipfix_add_templates(&m));
	len = ipfix_end(&m);
	p = m.buf;
	EXPECT_EQ(10, be16(p));
	EXPECT_EQ(len, be16(p + 2));
	EXPECT_EQ(1700000000U, be32(p + 4));
	EXPECT_EQ(42U, be32(p + 8));
	EXPECT_EQ(7U, be32(p + 12));
	/* Template set: two templates of 19 fields. */
	off = IPFIX_HDR_LEN;
	EXPECT_EQ(IPFIX_SET_TEMPLATE, be16(p + off));
	EXPECT_EQ(4 + 2 * (4 + 19 * 4), be16(p + off + 2));
	EXPECT_EQ(IPFIX_TID_FLOW4, be16(p + off + 4));
	EXPECT_EQ(19, be16(p + off + 6));
	EXPECT_EQ(8, be16(p + off + 8));	/* sourceIPv4Address */
	EXPECT_EQ(4, be16(p + off + 10));
	EXPECT_EQ(IPFIX_TID_FLOW6, be16(p + off + 4 + 4 + 19 * 4));
	EXPECT_EQ(27, be16(p + off + 4 + 4 + 19 * 4 + 4));	/* sourceIPv6Address */
	EXPECT_EQ(16, be16(p + off + 4 + 4 + 19 * 4 + 6));
	/* Options template set, padded to 4 bytes: 4 + 6 + 4 * 4 = 26 -> 28. */
	off += be16(p + off + 2);
	EXPECT_EQ(IPFIX_SET_OPTIONS, be16(p + off));
	EXPECT_EQ(28, be16(p + off + 2));
	EXPECT_EQ(IPFIX_TID_STATS, be16(p + off + 4));
	EXPECT_EQ(4, be16(p + off + 6));	/* fields */
	EXPECT_EQ(1, be16(p + off + 8));	/* scope fields */
	EXPECT_EQ(149, be16(p + off + 10));	/* observationDomainId */
	EXPECT_EQ(len, off + 28);
	EXPECT_EQ(0U, m.records);
}

TEST(flow_record_bytes)
{
	struct ipfix_flow f = flow4();
	struct ipfix_msg m;
	const uint8_t *r;

	ipfix_begin(&m, 0, 1, 0, 1);
	ASSERT_EQ(0, ipfix_add_flow(&m, &f));
	f.direction = 1;
	f.port_id = 34;
	ASSERT_EQ(0, ipfix_add_flow(&m, &f));
	ASSERT_EQ(IPFIX_HDR_LEN + 4 + 2 * 82, ipfix_end(&m));
	EXPECT_EQ(82U, ipfix_record_len(IPFIX_TID_FLOW4));
	EXPECT_EQ(106U, ipfix_record_len(IPFIX_TID_FLOW6));
	EXPECT_EQ(28U, ipfix_record_len(IPFIX_TID_STATS));
	EXPECT_EQ(2U, m.records);
	EXPECT_EQ(IPFIX_TID_FLOW4, be16(m.buf + 16));
	EXPECT_EQ(4 + 2 * 82, be16(m.buf + 18));
	r = m.buf + 20;
	EXPECT_EQ(0, memcmp(r, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8));
	EXPECT_EQ(17, r[8]);
	EXPECT_EQ(5001, be16(r + 9));
	EXPECT_EQ(6001, be16(r + 11));
	EXPECT_EQ(0, be16(r + 13));		/* icmpTypeCode */
	EXPECT_EQ(100, be16(r + 15));		/* vlanId */
	EXPECT_EQ(200, be16(r + 17));		/* dot1qCustomerVlanId */
	EXPECT_EQ(30U, be64(r + 19));
	EXPECT_EQ(3840U, be64(r + 27));
	EXPECT_EQ(1700000000123ULL, be64(r + 35));
	EXPECT_EQ(1700000001456ULL, be64(r + 43));
	EXPECT_EQ(0, r[51]);			/* tcpControlBits */
	EXPECT_EQ(0, r[52]);			/* flowDirection: ingress */
	EXPECT_EQ(33U, be32(r + 53));		/* ingressInterface */
	EXPECT_EQ(0U, be32(r + 57));		/* egressInterface */
	EXPECT_EQ(33U, be32(r + 61));		/* observationPointId */
	EXPECT_EQ(IPFIX_END_IDLE, r[65]);
	EXPECT_EQ(0, memcmp(r + 66, f.uuid, 16));
	r += 82;
	EXPECT_EQ(1, r[52]);			/* egress */
	EXPECT_EQ(0U, be32(r + 53));
	EXPECT_EQ(34U, be32(r + 57));
	EXPECT_EQ(34U, be32(r + 61));
}

TEST(split_within_limit)
{
	struct ipfix_flow f4 = flow4(), f6 = flow4();
	struct ipfix_msg m;
	int n = 0;

	f6.v6 = 1;
	ipfix_begin(&m, 0, 1, 0, 1);
	ASSERT_EQ(0, ipfix_add_templates(&m));
	ASSERT_EQ(0, ipfix_add_flow(&m, &f6));
	/* A v4 record after a v6 one opens a second data set. */
	while (!ipfix_add_flow(&m, &f4))
		n++;
	EXPECT_LE(m.len, (size_t)IPFIX_MSG_MAX);
	/* Nothing more fits: a record is 82 bytes. */
	EXPECT_GT(m.len + 82, (size_t)IPFIX_MSG_MAX);
	EXPECT_EQ((unsigned int)n + 1, m.records);
	EXPECT_EQ(ipfix_end(&m), m.len);

	/* The templates take 208 bytes: not in 207. */
	ipfix_begin(&m, 207, 1, 0, 1);
	EXPECT_EQ(-ENOSPC, ipfix_add_templates(&m));
	EXPECT_EQ((size_t)IPFIX_HDR_LEN, m.len);
	ipfix_begin(&m, 208, 1, 0, 1);
	EXPECT_EQ(0, ipfix_add_templates(&m));
	EXPECT_EQ(208U, ipfix_end(&m));

	/* A smaller limit (e.g. a path MTU): records within it. */
	ipfix_begin(&m, 200, 1, 0, 1);
	EXPECT_EQ(0, ipfix_add_flow(&m, &f4));
	EXPECT_EQ(0, ipfix_add_flow(&m, &f4));
	EXPECT_EQ(-ENOSPC, ipfix_add_flow(&m, &f4));
	EXPECT_EQ(IPFIX_HDR_LEN + 4 + 164U, ipfix_end(&m));
}

/* A file of messages as vtapctl flows export to file:PATH writes it. */
TEST(ipfixdump_decodes)
{
	char path[] = "/tmp/unit_ipfix.XXXXXX", cmd[256], line[512];
	struct ipfix_stats st = { .domain = 7, .ignored_packets = 8,
				  .ignored_octets = 384, .exported_records = 3 };
	struct ipfix_flow f4 = flow4(), f6 = flow4();
	int records = 0, uuid = 0, ignored = 0, vlan = 0, cvlan = 0, fd, i;
	struct ipfix_msg m;
	FILE *p;

	if (system("command -v ipfixDump >/dev/null 2>&1"))
		SKIP(return, "ipfixDump (libfixbuf-tools) is not installed");
	f6.v6 = 1;
	f6.proto = 58;
	f6.sport = f6.dport = 0;
	f6.icmp = 128 << 8;
	memcpy(f6.src, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	for (i = 0; i < 2; i++) {
		ipfix_begin(&m, 0, 1700000000, (uint32_t)(i * 3), 7);
		if (!i)
			ASSERT_EQ(0, ipfix_add_templates(&m));
		ASSERT_EQ(0, ipfix_add_flow(&m, &f4));
		ASSERT_EQ(0, ipfix_add_flow(&m, &f6));
		ASSERT_EQ(0, ipfix_add_stats(&m, &st));
		ipfix_end(&m);
		ASSERT_EQ((ssize_t)m.len, write(fd, m.buf, m.len));
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "ipfixDump --hexdump=16 -i %s 2>&1", path);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	while (fgets(line, sizeof(line), p)) {
		EXPECT_EQ(NULL, strcasestr(line, "error"));
		EXPECT_EQ(NULL, strcasestr(line, "warn"));
		if (strstr(line, "--- data record"))
			records++;
		if (strstr(line, "virtualStationUUID") && strstr(line, "0x6f1c0e2a5b7d4c8e9a0123456789abcd"))
			uuid++;
		if (strstr(line, "ignoredPacketTotalCount : 8"))
			ignored++;
		if (strstr(line, "vlanId : 100"))
			vlan++;
		if (strstr(line, "dot1qCustomerVlanId : 200"))
			cvlan++;
	}
	EXPECT_EQ(0, pclose(p));
	unlink(path);
	EXPECT_EQ(6, records);
	EXPECT_EQ(4, uuid);
	EXPECT_EQ(2, ignored);
	EXPECT_EQ(4, vlan);
	EXPECT_EQ(4, cvlan);
}

TEST_HARNESS_MAIN
