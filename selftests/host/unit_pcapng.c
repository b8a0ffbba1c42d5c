// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of vtapctl collect's pcapng writer (user/collect/pcapng.c): block
 * layouts byte by byte, what it refuses, the structure checker, files read
 * back by Wireshark's tshark/capinfos/editcap (per-interface counts,
 * directions, lengths, nanosecond timestamps, byte-identical packets), and a
 * failed write leaving a file that ends at a whole block.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../../user/collect/pcapng.h"

static uint32_t u32at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t u16at(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* Find option @code in the options from @p to @end; its value and length. */
static const uint8_t *find_opt(const uint8_t *p, const uint8_t *end,
			       uint16_t code, uint16_t *len)
{
	while (end - p >= 4) {
		uint16_t c = u16at(p), l = u16at(p + 2);

		if (c == 0)
			return NULL;
		if (c == code) {
			*len = l;
			return p + 4;
		}
		p += 4 + ((l + 3) & ~3);
	}
	return NULL;
}

TEST(shb_layout)
{
	struct pcapng_shb_info i = { .userappl = "vtapctl collect", .os = "Linux" };
	struct pcapng_buf b = { 0 };
	const uint8_t *v;
	uint32_t total;
	uint16_t len;

	ASSERT_EQ(0, pcapng_put_shb(&b, &i));
	total = u32at(b.data + 4);
	EXPECT_EQ(b.len, total);
	EXPECT_EQ(0, total % 4);
	EXPECT_EQ(PCAPNG_BT_SHB, u32at(b.data));
	EXPECT_EQ(PCAPNG_BOM, u32at(b.data + 8));
	EXPECT_EQ(1, u16at(b.data + 12));
	EXPECT_EQ(0, u16at(b.data + 14));
	EXPECT_EQ(0xffffffff, u32at(b.data + 16));	/* section length -1 */
	EXPECT_EQ(0xffffffff, u32at(b.data + 20));
	EXPECT_EQ(total, u32at(b.data + total - 4));
	v = find_opt(b.data + 24, b.data + total - 4, 4, &len);
	ASSERT_NE(NULL, v);
	EXPECT_EQ(strlen("vtapctl collect"), len);
	EXPECT_EQ(0, memcmp(v, "vtapctl collect", len));
	v = find_opt(b.data + 24, b.data + total - 4, 3, &len);
	ASSERT_NE(NULL, v);
	EXPECT_EQ(5, len);
	EXPECT_EQ(1, pcapng_check(b.data, b.len, true));
	pcapng_buf_free(&b);

	/* No options: no opt_endofopt either, 28 bytes. */
	memset(&i, 0, sizeof(i));
	ASSERT_EQ(0, pcapng_put_shb(&b, &i));
	EXPECT_EQ(28, b.len);
	EXPECT_EQ(1, pcapng_check(b.data, b.len, true));
	pcapng_buf_free(&b);
}

TEST(idb_layout)
{
	struct pcapng_idb_info i = {
		.linktype = PCAPNG_LINKTYPE_ETHERNET, .snaplen = 0,
		.name = "vtap-s7-i33", .description = "vtap ERSPAN III session 7",
		.tsresol = 9,
	};
	struct pcapng_buf b = { 0 };
	const uint8_t *v, *end;
	uint16_t len;

	ASSERT_EQ(0, pcapng_put_idb(&b, &i));
	EXPECT_EQ(PCAPNG_BT_IDB, u32at(b.data));
	EXPECT_EQ(b.len, u32at(b.data + 4));
	EXPECT_EQ(1, u16at(b.data + 8));
	EXPECT_EQ(0, u16at(b.data + 10));
	EXPECT_EQ(0, u32at(b.data + 12));
	end = b.data + b.len - 4;
	v = find_opt(b.data + 16, end, 2, &len);
	ASSERT_NE(NULL, v);
	EXPECT_EQ(11, len);
	EXPECT_EQ(0, memcmp(v, "vtap-s7-i33", 11));
	EXPECT_EQ(0, v[11]);		/* zero padding */
	v = find_opt(b.data + 16, end, 3, &len);
	ASSERT_NE(NULL, v);
	EXPECT_EQ(strlen(i.description), len);
	v = find_opt(b.data + 16, end, 9, &len);
	ASSERT_NE(NULL, v);
	EXPECT_EQ(1, len);
	EXPECT_EQ(9, v[0]);
	/* opt_endofopt last */
	EXPECT_EQ(0, u32at(b.data + b.len - 8));
	EXPECT_EQ(1, pcapng_check(b.data, b.len, false));
	pcapng_buf_free(&b);
}

TEST(epb_layout_and_padding)
{
	uint8_t data[16];
	unsigned int caplen;

	for (caplen = 0; caplen < sizeof(data); caplen++)
		data[caplen] = (uint8_t)(0xa0 + caplen);
	for (caplen = 0; caplen <= 9; caplen++) {
		struct pcapng_epb_info e = {
			.ifid = 3, .ts = 0x0123456789abcdefULL, .data = data,
			.caplen = caplen, .origlen = caplen + 100,
		};
		struct pcapng_buf b = { 0 };
		size_t pad = (caplen + 3) & ~3u, i;

		ASSERT_EQ(0, pcapng_put_epb(&b, &e));
		EXPECT_EQ(PCAPNG_BT_EPB, u32at(b.data));
		EXPECT_EQ(32 + pad, b.len);	/* no options */
		EXPECT_EQ(b.len, u32at(b.data + 4));
		EXPECT_EQ(3, u32at(b.data + 8));
		EXPECT_EQ(0x01234567, u32at(b.data + 12));
		EXPECT_EQ(0x89abcdef, u32at(b.data + 16));
		EXPECT_EQ(caplen, u32at(b.data + 20));
		EXPECT_EQ(caplen + 100, u32at(b.data + 24));
		EXPECT_EQ(0, memcmp(b.data + 28, data, caplen));
		for (i = caplen; i < pad; i++)
			EXPECT_EQ(0, b.data[28 + i]);
		EXPECT_EQ(1, pcapng_check(b.data, b.len, false));
		pcapng_buf_free(&b);
	}
}

TEST(epb_options)
{
	uint8_t data[5] = { 1, 2, 3, 4, 5 };
	struct pcapng_epb_info e = {
		.data = data, .caplen = 5, .origlen = 5,
		.flags = PCAPNG_EPB_OUTBOUND, .comment = "vtap: duplicate",
		.has_dropcount = true, .dropcount = 7,
	};
	struct pcapng_buf b = { 0 };
	const uint8_t *v, *opts, *end;
	uint16_t len;
	uint64_t d;

	ASSERT_EQ(0, pcapng_put_epb(&b, &e));
	opts = b.data + 28 + 8;
	end = b.data + b.len - 4;
	v = find_opt(opts, end, 2, &len);
	ASSERT_NE(NULL, v);
	EXPECT_EQ(4, len);
	EXPECT_EQ(PCAPNG_EPB_OUTBOUND, u32at(v));
	v = find_opt(opts, end, 1, &len);
	ASSERT_NE(NULL, v);
	EXPECT_EQ(15, len);
	EXPECT_EQ(0, memcmp(v, "vtap: duplicate", 15));
	v = find_opt(opts, end, 4, &len);
	ASSERT_NE(NULL, v);
	memcpy(&d, v, 8);
	EXPECT_EQ(7, d);
	EXPECT_EQ(1, pcapng_check(b.data, b.len, false));
	pcapng_buf_free(&b);
}

TEST(epb_refuses_and_appends_nothing)
{
	static uint8_t big[PCAPNG_MAX_CAPLEN + 1];
	struct pcapng_epb_info e = { .data = big, .caplen = 10, .origlen = 9 };
	struct pcapng_buf b = { 0 };

	EXPECT_EQ(-EINVAL, pcapng_put_epb(&b, &e));	/* origlen < caplen */
	EXPECT_EQ(0, b.len);
	e.caplen = PCAPNG_MAX_CAPLEN + 1;
	e.origlen = e.caplen;
	EXPECT_EQ(-EINVAL, pcapng_put_epb(&b, &e));
	EXPECT_EQ(0, b.len);
	e.caplen = PCAPNG_MAX_CAPLEN;
	e.origlen = e.caplen;
	EXPECT_EQ(0, pcapng_put_epb(&b, &e));
	EXPECT_EQ(1, pcapng_check(b.data, b.len, false));
	e.data = NULL;
	e.caplen = 1;
	EXPECT_EQ(-EINVAL, pcapng_put_epb(&b, &e));
	pcapng_buf_free(&b);
}

TEST(long_option_strings_are_cut)
{
	static char s[PCAPNG_MAX_OPTSTR * 2];
	struct pcapng_idb_info i = { .linktype = 1, .name = s };
	struct pcapng_buf b = { 0 };
	uint16_t len;

	memset(s, 'x', sizeof(s) - 1);
	ASSERT_EQ(0, pcapng_put_idb(&b, &i));
	ASSERT_NE(NULL, find_opt(b.data + 16, b.data + b.len - 4, 2, &len));
	EXPECT_EQ(PCAPNG_MAX_OPTSTR, len);
	EXPECT_EQ(1, pcapng_check(b.data, b.len, false));
	pcapng_buf_free(&b);
}

TEST(isb_layout)
{
	struct pcapng_isb_info i = {
		.ifid = 2, .ts = 0x100000002ULL, .has_times = true,
		.starttime = 0x300000004ULL, .endtime = 0x500000006ULL,
		.has_ifrecv = true, .ifrecv = 42, .comment = "c",
	};
	struct pcapng_buf b = { 0 };
	const uint8_t *v;
	uint16_t len;
	uint64_t r;

	ASSERT_EQ(0, pcapng_put_isb(&b, &i));
	EXPECT_EQ(PCAPNG_BT_ISB, u32at(b.data));
	EXPECT_EQ(2, u32at(b.data + 8));
	EXPECT_EQ(1, u32at(b.data + 12));
	EXPECT_EQ(2, u32at(b.data + 16));
	v = find_opt(b.data + 20, b.data + b.len - 4, 2, &len);
	ASSERT_NE(NULL, v);
	EXPECT_EQ(3, u32at(v));
	EXPECT_EQ(4, u32at(v + 4));
	v = find_opt(b.data + 20, b.data + b.len - 4, 4, &len);
	ASSERT_NE(NULL, v);
	memcpy(&r, v, 8);
	EXPECT_EQ(42, r);
	EXPECT_EQ(NULL, find_opt(b.data + 20, b.data + b.len - 4, 5, &len));
	EXPECT_EQ(1, pcapng_check(b.data, b.len, false));
	pcapng_buf_free(&b);
}

TEST(check_rejects_corruption)
{
	struct pcapng_shb_info shb = { .os = "Linux" };
	struct pcapng_idb_info idb = { .linktype = 1, .name = "a" };
	struct pcapng_epb_info epb = {
		.data = (const uint8_t *)"abcdef", .caplen = 6, .origlen = 6,
	};
	struct pcapng_buf b = { 0 };
	uint8_t *c;
	size_t i;

	ASSERT_EQ(0, pcapng_put_shb(&b, &shb));
	ASSERT_EQ(0, pcapng_put_idb(&b, &idb));
	ASSERT_EQ(0, pcapng_put_epb(&b, &epb));
	ASSERT_EQ(3, pcapng_check(b.data, b.len, true));
	/* Cut anywhere but at a block boundary: refused. */
	for (i = 1; i < b.len; i++) {
		int n = pcapng_check(b.data, i, true);

		if (n >= 0)
			EXPECT_TRUE(i == u32at(b.data + 4) ||
				    i == u32at(b.data + 4) + u32at(b.data + u32at(b.data + 4) + 4));
	}
	c = malloc(b.len);
	ASSERT_NE(NULL, c);
	memcpy(c, b.data, b.len);
	c[b.len - 1] ^= 1;			/* trailing length */
	EXPECT_EQ(-EINVAL, pcapng_check(c, b.len, true));
	memcpy(c, b.data, b.len);
	c[8] ^= 1;				/* byte-order magic */
	EXPECT_EQ(-EINVAL, pcapng_check(c, b.len, true));
	memcpy(c, b.data, b.len);
	EXPECT_EQ(-EINVAL, pcapng_check(c + u32at(c + 4), b.len - u32at(c + 4), true));
	free(c);
	pcapng_buf_free(&b);
}

/* ---- files, read back by Wireshark --------------------------------------- */

#define NPKT	40

static void frame_bytes(uint8_t *f, unsigned int n, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		f[i] = (uint8_t)(n * 31 + i);
	f[12] = 0x88;		/* an EtherType nobody dissects further */
	f[13] = 0xb5;
}

static unsigned int frame_len(unsigned int n)
{
	return n == 7 ? 65535 : 14 + n * 37 % 1500;
}

static int write_test_file(const char *path)
{
	struct pcapng_shb_info shb = { .userappl = "unit_pcapng", .os = "Linux" };
	struct pcapng_idb_info idb = {
		.linktype = PCAPNG_LINKTYPE_ETHERNET, .tsresol = 9,
	};
	struct pcapng_file f;
	static uint8_t data[65536];
	unsigned int n;
	int err;

	err = pcapng_open(&f, path, -1);
	if (err)
		return err;
	err = pcapng_put_shb(&f.buf, &shb);
	idb.name = "vtap-s7-i33";
	idb.description = "port 33";
	err = err ?: pcapng_put_idb(&f.buf, &idb);
	idb.name = "vtap-s8";
	idb.description = "session 8";
	err = err ?: pcapng_put_idb(&f.buf, &idb);
	for (n = 0; n < NPKT && !err; n++) {
		struct pcapng_epb_info e = {
			.ifid = n % 3 == 0 ? 1 : 0,
			.ts = 1700000000ULL * 1000000000ULL + n * 1001ULL,
			.data = data, .caplen = frame_len(n),
			.origlen = frame_len(n) + (n == 5 ? 1000 : 0),
			.flags = n % 2 ? PCAPNG_EPB_OUTBOUND : PCAPNG_EPB_INBOUND,
			.comment = n == 5 ? "vtap: truncated" : NULL,
		};

		frame_bytes(data, n, e.caplen);
		err = pcapng_put_epb(&f.buf, &e);
		if (!err && n % 8 == 0)
			err = pcapng_flush(&f);
	}
	{
		struct pcapng_isb_info isb = { .ifid = 0, .ts = 1, .has_ifrecv = true,
					       .ifrecv = NPKT - (NPKT + 2) / 3 };

		err = err ?: pcapng_put_isb(&f.buf, &isb);
	}
	return pcapng_close(&f) ?: err;
}

static bool have(const char *tool)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return !system(cmd);
}

TEST(file_read_back_by_tshark)
{
	char path[] = "/tmp/unit_pcapng.XXXXXX", cmd[512], line[512];
	unsigned int n = 0, per_if[2] = { 0, 0 };
	FILE *p;
	int fd;

	if (!have("tshark"))
		SKIP(return, "tshark is not installed");
	fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	close(fd);
	ASSERT_EQ(0, write_test_file(path));

	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -T fields -E separator=, -e frame.interface_id "
		 "-e frame.interface_name -e frame.packet_flags_direction -e frame.len "
		 "-e frame.cap_len -e frame.time_epoch -e frame.comment 2>/dev/null", path);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	while (fgets(line, sizeof(line), p)) {
		unsigned int ifid, len, caplen, dir;
		char name[32], ts[40], comment[64] = "";
		unsigned int want_if = n % 3 == 0 ? 1 : 0;

		ASSERT_LE(6, sscanf(line, "%u,%31[^,],0x%x,%u,%u,%39[^,\n],%63[^\n]",
				    &ifid, name, &dir, &len, &caplen, ts, comment))
			TH_LOG("line: %s", line);
		EXPECT_EQ(want_if, ifid);
		EXPECT_STREQ(want_if ? "vtap-s8" : "vtap-s7-i33", name);
		EXPECT_EQ(n % 2 ? 2 : 1, dir);
		EXPECT_EQ(frame_len(n), caplen);
		EXPECT_EQ(frame_len(n) + (n == 5 ? 1000 : 0), len);
		{
			char want[40];

			snprintf(want, sizeof(want), "1700000000.%09u", n * 1001);
			EXPECT_STREQ(want, ts);
		}
		if (n == 5)
			EXPECT_STREQ("vtap: truncated", comment);
		per_if[ifid < 2 ? ifid : 0]++;
		n++;
	}
	EXPECT_EQ(0, pclose(p));
	EXPECT_EQ(NPKT, n);
	EXPECT_EQ(NPKT - (NPKT + 2) / 3, per_if[0]);
	EXPECT_EQ((NPKT + 2) / 3, per_if[1]);

	/* capinfos agrees and sees two interfaces at ns resolution. */
	snprintf(cmd, sizeof(cmd),
		 "capinfos %s | grep -c -e 'Number of packets = ' -e 'Time precision = nanoseconds'",
		 path);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, fgets(line, sizeof(line), p));
	pclose(p);
	EXPECT_EQ(4, atoi(line));

	/* Byte-identical: editcap turns it into pcap, read here. */
	snprintf(cmd, sizeof(cmd), "editcap -F pcap %s %s.pcap", path, path);
	ASSERT_EQ(0, system(cmd));
	{
		static uint8_t want[65536], got[65536];
		char pcap[64];
		uint32_t rec[4];
		FILE *f;

		snprintf(pcap, sizeof(pcap), "%s.pcap", path);
		f = fopen(pcap, "rb");
		ASSERT_NE(NULL, f);
		ASSERT_EQ(1, fread(got, 24, 1, f));
		for (n = 0; n < NPKT; n++) {
			ASSERT_EQ(1, fread(rec, sizeof(rec), 1, f));
			ASSERT_EQ(frame_len(n), rec[2]);
			ASSERT_EQ(1, fread(got, rec[2], 1, f));
			frame_bytes(want, n, rec[2]);
			EXPECT_EQ(0, memcmp(want, got, rec[2])) TH_LOG("packet %u", n);
		}
		EXPECT_EQ(0, fread(rec, 1, 1, f));
		fclose(f);
		unlink(pcap);
	}
	unlink(path);
}

/* A write that fails half way (file size limit): the file ends at a block. */
TEST(failed_write_leaves_whole_blocks)
{
	char path[] = "/tmp/unit_pcapng.XXXXXX";
	struct pcapng_shb_info shb = { .os = "Linux" };
	struct pcapng_idb_info idb = { .linktype = 1, .name = "x" };
	static uint8_t data[3000];
	struct rlimit rl = { 10000, 10000 };
	struct pcapng_file f;
	struct stat st;
	int fd, err = 0, i;
	uint8_t *buf;

	signal(SIGXFSZ, SIG_IGN);
	fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	close(fd);
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &rl));
	ASSERT_EQ(0, pcapng_open(&f, path, -1));
	ASSERT_EQ(0, pcapng_put_shb(&f.buf, &shb));
	ASSERT_EQ(0, pcapng_put_idb(&f.buf, &idb));
	ASSERT_EQ(0, pcapng_flush(&f));
	for (i = 0; i < 10 && !err; i++) {
		struct pcapng_epb_info e = { .data = data, .caplen = 2500, .origlen = 2500 };

		ASSERT_EQ(0, pcapng_put_epb(&f.buf, &e));
		ASSERT_EQ(0, pcapng_put_epb(&f.buf, &e));	/* two per write */
		err = pcapng_flush(&f);
	}
	EXPECT_EQ(-EFBIG, err);
	EXPECT_EQ(0, f.buf.len);
	/* SHB (44) + IDB (32) + one pair of EPBs (2 * 2532): the rest is cut. */
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(76 + 2 * 2532, st.st_size);
	EXPECT_EQ(st.st_size, (off_t)f.written);
	/* The file goes on from there: one more EPB still fits. */
	ASSERT_EQ(0, pcapng_put_epb(&f.buf, &(struct pcapng_epb_info){
		.data = data, .caplen = 2500, .origlen = 2500 }));
	ASSERT_EQ(0, pcapng_close(&f));
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(76 + 3 * 2532, st.st_size);
	buf = malloc((size_t)st.st_size + 1);
	ASSERT_NE(NULL, buf);
	fd = open(path, O_RDONLY);
	ASSERT_EQ(st.st_size, read(fd, buf, (size_t)st.st_size));
	close(fd);
	EXPECT_EQ(5, pcapng_check(buf, (size_t)st.st_size, true));
	free(buf);
	unlink(path);
}

TEST(stdout_style_fd_is_not_closed)
{
	struct pcapng_shb_info shb = { .os = "Linux" };
	struct pcapng_file f;
	uint8_t buf[64];
	int p[2];

	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, pcapng_open(&f, NULL, p[1]));
	EXPECT_FALSE(f.regular);
	ASSERT_EQ(0, pcapng_put_shb(&f.buf, &shb));
	EXPECT_EQ(f.buf.len, pcapng_size(&f));
	ASSERT_EQ(0, pcapng_close(&f));
	EXPECT_EQ(0, fcntl(p[1], F_GETFD));	/* still open */
	EXPECT_EQ(44, read(p[0], buf, sizeof(buf)));
	EXPECT_EQ(1, pcapng_check(buf, 44, true));
	close(p[0]);
	close(p[1]);
}

TEST_HARNESS_MAIN
