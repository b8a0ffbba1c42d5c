// SPDX-License-Identifier: GPL-2.0
/* Unit tests of vtapctl's parsers and output helpers (user/lib/util.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../../user/lib/util.h"

TEST(parse_u32_accepts)
{
	uint32_t v;

	ASSERT_EQ(0, parse_u32("0", 0, 10, &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(0, parse_u32("1023", 1, 1023, &v));
	EXPECT_EQ(1023, v);
	ASSERT_EQ(0, parse_u32("0x3ff", 1, 1023, &v));
	EXPECT_EQ(1023, v);
	ASSERT_EQ(0, parse_u32("4294967295", 0, UINT32_MAX, &v));
	EXPECT_EQ(UINT32_MAX, v);
}

TEST(parse_u32_rejects)
{
	uint32_t v = 77;

	EXPECT_EQ(-ERANGE, parse_u32("1024", 1, 1023, &v));
	EXPECT_EQ(-ERANGE, parse_u32("0", 1, 1023, &v));
	EXPECT_EQ(-ERANGE, parse_u32("4294967296", 0, UINT32_MAX, &v));
	EXPECT_EQ(-EINVAL, parse_u32("-1", 0, 10, &v));
	EXPECT_EQ(-EINVAL, parse_u32("+1", 0, 10, &v));
	EXPECT_EQ(-EINVAL, parse_u32(" 1", 0, 10, &v));
	EXPECT_EQ(-EINVAL, parse_u32("1x", 0, 10, &v));
	EXPECT_EQ(-EINVAL, parse_u32("", 0, 10, &v));
	EXPECT_EQ(-EINVAL, parse_u32(NULL, 0, 10, &v));
	EXPECT_EQ(-EINVAL, parse_u32("99999999999999999999999", 0, 10, &v));
	EXPECT_EQ(77, v);	/* untouched on error */
}

/* No number is octal: a leading zero is refused, not read as base 8. */
TEST(parse_u32_never_octal)
{
	uint32_t v = 77;

	EXPECT_EQ(-EINVAL, parse_u32("010", 0, 100, &v));
	EXPECT_EQ(-EINVAL, parse_u32("08", 0, 100, &v));
	EXPECT_EQ(-EINVAL, parse_u32("00", 0, 100, &v));
	EXPECT_EQ(-EINVAL, parse_u32("0x", 0, 100, &v));
	EXPECT_EQ(-EINVAL, parse_u32("0x-1", 0, 100, &v));
	EXPECT_EQ(77, v);
	EXPECT_TRUE(leading_zero("010"));
	EXPECT_FALSE(leading_zero("0"));
	EXPECT_FALSE(leading_zero("0x10"));
	ASSERT_EQ(0, parse_u32("0X1f", 0, 100, &v));
	EXPECT_EQ(31, v);
	ASSERT_EQ(0, parse_u32("10", 0, 100, &v));
	EXPECT_EQ(10, v);
}

TEST(match_word_prefixes)
{
	static const char *const w[] = { "add", "set", "del", "show", NULL };

	EXPECT_EQ(3, match_word("t", "show", w));
	EXPECT_EQ(3, match_word("t", "sh", w));
	EXPECT_EQ(0, match_word("t", "a", w));
	EXPECT_EQ(-2, match_word("t", "s", w));	/* set, show */
	EXPECT_EQ(-1, match_word("t", "x", w));
	EXPECT_EQ(-1, match_word("t", "shows", w));
	EXPECT_EQ(-1, match_word("t", "", w));
}

static char *pretty(const char *in)
{
	static char out[512];
	FILE *f = fmemopen(out, sizeof(out), "w");

	json_pretty(in, strlen(in), f);
	fclose(f);
	return out;
}

TEST(json_pretty_indents)
{
	EXPECT_STREQ("[]\n", pretty("[]\n"));
	EXPECT_STREQ("{\n    \"a\": 1,\n    \"b\": [\n        \"x,{]\"\n    ],\n    \"c\": {}\n}\n",
		     pretty("{\"a\":1,\"b\":[\"x,{]\"],\"c\":{}}\n"));
	EXPECT_STREQ("{\n    \"q\": \"\\\"\"\n}", pretty("{\"q\":\"\\\"\"}"));
}

TEST(parse_addr_families)
{
	struct vtap_addr a;
	char buf[64];

	ASSERT_EQ(0, parse_addr("198.51.100.2", &a));
	EXPECT_EQ(AF_INET, a.family);
	EXPECT_STREQ("198.51.100.2", format_addr(&a, buf, sizeof(buf)));
	ASSERT_EQ(0, parse_addr("2001:db8::2", &a));
	EXPECT_EQ(AF_INET6, a.family);
	EXPECT_STREQ("2001:db8::2", format_addr(&a, buf, sizeof(buf)));
	EXPECT_EQ(-EINVAL, parse_addr("198.51.100", &a));
	EXPECT_EQ(-EINVAL, parse_addr("198.51.100.256", &a));
	EXPECT_EQ(-EINVAL, parse_addr("2001:db8:::2", &a));
	EXPECT_EQ(-EINVAL, parse_addr("host.example", &a));
	EXPECT_EQ(-EINVAL, parse_addr("", &a));
	EXPECT_EQ(-EINVAL, parse_addr(NULL, &a));
}

TEST(keywords_and_prefixes)
{
	static const char *const w[] = { NULL, "gre", "erspan2", "erspan3" };

	EXPECT_EQ(1, parse_keyword("gre", w, 4));
	EXPECT_EQ(3, parse_keyword("erspan3", w, 4));
	EXPECT_EQ(-1, parse_keyword("erspan", w, 4));
	EXPECT_EQ(-1, parse_keyword(NULL, w, 4));
	EXPECT_TRUE(matches("sess", "session"));
	EXPECT_FALSE(matches("", "session"));
	EXPECT_FALSE(matches("sessions", "session"));
}

TEST(exit_codes)
{
	EXPECT_EQ(VTAP_EXIT_OK, exit_code_for_errno(0));
	EXPECT_EQ(VTAP_EXIT_PERM, exit_code_for_errno(-EPERM));
	EXPECT_EQ(VTAP_EXIT_NOENT, exit_code_for_errno(-ENOENT));
	EXPECT_EQ(VTAP_EXIT_EXIST, exit_code_for_errno(-EEXIST));
	EXPECT_EQ(VTAP_EXIT_USAGE, exit_code_for_errno(-EINVAL));
	EXPECT_EQ(VTAP_EXIT_USAGE, exit_code_for_errno(-ERANGE));
	EXPECT_EQ(VTAP_EXIT_LIMIT, exit_code_for_errno(-ENOSPC));
	EXPECT_EQ(VTAP_EXIT_FAIL, exit_code_for_errno(-EIO));
}

TEST(json_escape_controls)
{
	char buf[64];

	json_escape("a\"b\\c\n\x01", buf, sizeof(buf));
	EXPECT_STREQ("a\\\"b\\\\c\\u000a\\u0001", buf);
	json_escape("0123456789", buf, 8);	/* truncates, stays terminated */
	EXPECT_LT(strlen(buf), 8);
}

/* Always valid UTF-8 out: valid sequences kept, every other byte U+FFFD. */
TEST(json_escape_utf8)
{
	char buf[96];

	json_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", buf, sizeof(buf));
	EXPECT_STREQ("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", buf);
	json_escape("a\xff\xfe", buf, sizeof(buf));
	EXPECT_STREQ("a\\ufffd\\ufffd", buf);
	json_escape("\xc3", buf, sizeof(buf));		/* cut short */
	EXPECT_STREQ("\\ufffd", buf);
	json_escape("\xc0\xaf", buf, sizeof(buf));	/* overlong '/' */
	EXPECT_STREQ("\\ufffd\\ufffd", buf);
	json_escape("\xed\xa0\x80", buf, sizeof(buf));	/* a surrogate */
	EXPECT_STREQ("\\ufffd\\ufffd\\ufffd", buf);
	json_escape("\x7f", buf, sizeof(buf));
	EXPECT_STREQ("\\u007f", buf);
}

/* Run @fn with stdout captured; returns what it printed (malloc'd). */
static char *capture(void (*fn)(void))
{
	char *out = NULL;
	size_t len = 0;

	out_buffer_begin();
	fn();
	fflush(stdout);
	/* out_buffer_end(true) prints to stdout: capture via a pipe instead. */
	{
		int p[2], saved = dup(1);
		ssize_t n;

		if (pipe(p) || saved < 0)
			return NULL;
		fflush(stdout);
		dup2(p[1], 1);
		out_buffer_end(true);
		fflush(stdout);
		dup2(saved, 1);
		close(saved);
		close(p[1]);
		out = calloc(1, 4096);
		n = out ? read(p[0], out, 4095) : -1;
		close(p[0]);
		len = n > 0 ? (size_t)n : 0;
		if (out)
			out[len] = 0;
	}
	return out;
}

static void emit_sessions(void)
{
	out_open_array();
	out_open_obj();
	out_str("name", "session %s", "s\"1");
	out_u64("id", " id %llu", 7);
	out_open_nested("stats");
	out_u64("sent", " sent %llu", 3);
	out_u64("bytes", " bytes %llu", 300);
	out_close_nested();
	out_close_obj();
	out_open_obj();
	out_str("name", "session %s", "s2");
	out_bool("up", " up", true);
	out_close_obj();
	out_close_array();
}

TEST(json_output_is_well_formed)
{
	char *s;

	json_output = true;
	s = capture(emit_sessions);
	json_output = false;
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("[{\"name\":\"s\\\"1\",\"id\":7,\"stats\":{\"sent\":3,\"bytes\":300}},"
		     "{\"name\":\"s2\",\"up\":true}]\n", s);
	free(s);
}

TEST(plain_output)
{
	char *s = capture(emit_sessions);

	ASSERT_NE(NULL, s);
	EXPECT_STREQ("session s\"1 id 7 sent 3 bytes 300\nsession s2 up\n", s);
	free(s);
}

TEST_HARNESS_MAIN
