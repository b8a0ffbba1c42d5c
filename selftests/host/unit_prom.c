// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of vtapctl's Prometheus text format (user/lib/prom.c): names,
 * label escaping (\, ", newline, bytes that are not UTF-8), HELP and TYPE
 * once per family with its samples together, and vtapctl stats' metrics
 * read back by a real parser (python3-prometheus-client's
 * text_string_to_metric_families), when it is installed.
 *
 * unit_prom --sample: print the metrics of two sessions, three ports (label
 * values with \, " and invalid UTF-8) and a flow table, and exit; for
 * selftests/host/prom_textfile.sh, which gives them to node_exporter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../../user/lib/prom.h"
#include "../../user/lib/util.h"
#include "../../user/vtapctl.h"
#include "vtap_bpf.h"

#define PYTHON "/usr/bin/python3"

static char *esc(const char *s)
{
	static char buf[256];

	prom_escape_label(s, buf, sizeof(buf));
	return buf;
}

TEST(label_escaping)
{
	char small[6];

	EXPECT_STREQ("plain", esc("plain"));
	EXPECT_STREQ("a\\\\b", esc("a\\b"));
	EXPECT_STREQ("a\\\"b", esc("a\"b"));
	EXPECT_STREQ("a\\nb", esc("a\nb"));
	EXPECT_STREQ("\\\\\\\"\\n", esc("\\\"\n"));
	EXPECT_STREQ("tab\tkept", esc("tab\tkept"));
	/* UTF-8 kept; bytes that are not UTF-8 become U+FFFD. */
	EXPECT_STREQ("caf\xc3\xa9", esc("caf\xc3\xa9"));
	EXPECT_STREQ("x\xef\xbf\xbdy", esc("x\xffy"));
	EXPECT_STREQ("\xef\xbf\xbd(", esc("\xc3\x28"));	/* a cut sequence */
	EXPECT_STREQ("\xef\xbf\xbd\xef\xbf\xbd", esc("\xc0\xaf"));	/* overlong '/' */
	/* Cut at a whole character or escape, never in one. */
	EXPECT_EQ(5, prom_escape_label("abcdefgh", small, sizeof(small)));
	EXPECT_STREQ("abcde", small);
	EXPECT_EQ(4, prom_escape_label("abcd\"", small, sizeof(small)));
	EXPECT_STREQ("abcd", small);
	EXPECT_EQ(4, prom_escape_label("\xc3\xa9\xc3\xa9\xc3\xa9", small, 6));
	EXPECT_EQ(0, prom_escape_label("x", small, 1));
	EXPECT_STREQ("", small);
}

TEST(help_escaping)
{
	char buf[64];

	prom_escape_help("a \"quoted\" \\ and\nnewline", buf, sizeof(buf));
	EXPECT_STREQ("a \"quoted\" \\\\ and\\nnewline", buf);
}

TEST(names)
{
	EXPECT_TRUE(prom_metric_name_ok("vtap_session_sent_packets_total"));
	EXPECT_TRUE(prom_metric_name_ok("a:b_c9"));
	EXPECT_TRUE(prom_metric_name_ok("_x"));
	EXPECT_FALSE(prom_metric_name_ok("9x"));
	EXPECT_FALSE(prom_metric_name_ok("vtap-sent"));
	EXPECT_FALSE(prom_metric_name_ok("vtap sent"));
	EXPECT_FALSE(prom_metric_name_ok(""));
	EXPECT_FALSE(prom_metric_name_ok(NULL));
	EXPECT_TRUE(prom_label_name_ok("session"));
	EXPECT_TRUE(prom_label_name_ok("_x1"));
	EXPECT_FALSE(prom_label_name_ok("__name__"));
	EXPECT_FALSE(prom_label_name_ok("a:b"));
	EXPECT_FALSE(prom_label_name_ok("1a"));
	EXPECT_FALSE(prom_label_name_ok(""));
}

/* Run @fn on a memory stream; the text it wrote (static buffer). */
static char *capture(int (*fn)(FILE *f), int *rc)
{
	static char *mem;
	size_t len;
	FILE *f;

	free(mem);
	mem = NULL;
	f = open_memstream(&mem, &len);
	*rc = fn(f);
	fclose(f);
	return mem;
}

static int misuse(FILE *f)
{
	struct prom p;
	int bad = 0;

	prom_init(&p, f);
	bad += prom_sample(&p, NULL, 1) == -EINVAL;			/* no family yet */
	bad += prom_family(&p, "a_total", "counter", "A.") == 0;
	bad += prom_sample(&p, (const char *const[]){ "x", "1", NULL }, 2) == 0;
	bad += prom_family(&p, "a_total", "counter", "again") == -EINVAL;	/* twice */
	bad += prom_family(&p, "b-c", "counter", "bad name") == -EINVAL;
	bad += prom_family(&p, "b", "histogram", "not ours") == -EINVAL;
	bad += prom_sample(&p, (const char *const[]){ "__x", "1", NULL }, 3) == -EINVAL;
	bad += prom_sample(&p, (const char *const[]){ "x", NULL, "y", "v", NULL }, 4) == 0;
	return bad;
}

TEST(family_once)
{
	int rc;
	char *out = capture(misuse, &rc);

	EXPECT_EQ(8, rc);	/* each call did what it should */
	EXPECT_STREQ("# HELP a_total A.\n# TYPE a_total counter\n"
		     "a_total{x=\"1\"} 2\n"
		     "a_total{y=\"v\"} 4\n", out);
}

/* Two sessions (one from an older module without dedup), three ports. */
static struct session_info sv[2];
static struct vtap_port_stats st[3];
static struct prom_port pv[3];
static const struct prom_flows fl = { 16384, 12, 8, 384, 3, 180 };

static void fill(void)
{
	int i, d;

	memset(sv, 0, sizeof(sv));
	strcpy(sv[0].name, "ids");
	sv[0].id = 7;
	strcpy(sv[1].name, "a.b_c:d@e+f-g");
	sv[1].id = 1023;
	for (i = 1; i <= VTAP_A_STATS_MAX; i++) {
		sv[0].has[i] = true;
		sv[0].stat[i] = 1000 + i;
		sv[1].has[i] = i != VTAP_A_STATS_DEDUP;
		sv[1].stat[i] = 2000 + i;
	}
	sv[0].stat[VTAP_A_STATS_BYTES] = 18446744073709551615ULL;	/* u64 max */
	for (i = 0; i < 3; i++)
		for (d = 0; d < VTAP_NDIRS; d++) {
			st[i].packets[d] = 100 * i + 10 * d + 1;
			st[i].bytes[d] = 100 * i + 10 * d + 2;
			st[i].mirrored[d] = 100 * i + 10 * d + 3;
			st[i].dropped[d] = 100 * i + 10 * d + 4;
		}
	pv[0] = (struct prom_port){ "vnet3", 5, 33, "6b1f1d3e-7c1e-4b52-9d3a-1b2c3d4e5f60",
				    false, &st[0] };
	/* Device names may hold \ and " (not : / or blanks); not UTF-8 either. */
	pv[1] = (struct prom_port){ "t\\a\"p\xff", 6, 34, NULL, false, &st[1] };
	pv[2] = (struct prom_port){ "", 9, 35, NULL, true, &st[2] };	/* gone */
}

static int sample(FILE *f)
{
	fill();
	return prom_stats(f, true, sv, 2, true, pv, 3, &fl);
}

/* Lines of @out that begin with @prefix. */
static int count_lines(const char *out, const char *prefix)
{
	const char *l;
	int n = 0;

	for (l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, prefix, strlen(prefix)))
			n++;
	return n;
}

TEST(stats_families)
{
	int rc;
	char *out = capture(sample, &rc);
	const char *l;
	char name[128], seen[64][128];
	int nseen = 0, i;

	ASSERT_EQ(0, rc);
	/* Each family: HELP, then TYPE, then only its own samples. */
	for (l = out; *l; l = strchr(l, '\n') + 1) {
		if (!strncmp(l, "# HELP ", 7)) {
			sscanf(l + 7, "%127s", name);
			for (i = 0; i < nseen; i++)
				ASSERT_STRNE(seen[i], name);
			ASSERT_LT(nseen, 64);
			strcpy(seen[nseen++], name);
			l = strchr(l, '\n') + 1;
			ASSERT_EQ(0, strncmp(l, "# TYPE ", 7));
			ASSERT_EQ(0, strncmp(l + 7, name, strlen(name)));
			ASSERT_EQ(' ', l[7 + strlen(name)]);
			ASSERT_TRUE(strlen(name) > 6 && !strncmp(name, "vtap_", 5));
			/* Counters end in _total, gauges do not. */
			if (strstr(l, " counter\n") == l + 7 + strlen(name))
				ASSERT_EQ(0, strcmp(name + strlen(name) - 6, "_total"));
			continue;
		}
		ASSERT_NE('#', *l);
		ASSERT_GT(nseen, 0);
		ASSERT_EQ(0, strncmp(l, seen[nseen - 1], strlen(seen[nseen - 1])));
		ASSERT_TRUE(l[strlen(seen[nseen - 1])] == '{' || l[strlen(seen[nseen - 1])] == ' ');
	}
	EXPECT_EQ(1, count_lines(out, "# TYPE vtap_session_dropped_packets_total counter"));
	/* The drop causes: one family, a label per cause, 7 per session. */
	EXPECT_EQ(14, count_lines(out, "vtap_session_dropped_packets_total{"));
	EXPECT_EQ(1, count_lines(out, "vtap_session_dropped_packets_total{session=\"ids\",cause=\"rate\"} 1013\n"));
	EXPECT_EQ(1, count_lines(out, "vtap_session_sent_bytes_total{session=\"ids\"} 18446744073709551615\n"));
	/* A counter the module did not report is left out, not 0. */
	EXPECT_EQ(1, count_lines(out, "vtap_session_dedup_packets_total{"));
	EXPECT_EQ(1, count_lines(out, "vtap_session_info{session=\"a.b_c:d@e+f-g\",id=\"1023\"} 1\n"));
	EXPECT_EQ(1, count_lines(out, "vtap_sessions 2\n"));
	EXPECT_EQ(1, count_lines(out, "vtap_port_packets_total{port=\"vnet3\","
				 "vm=\"6b1f1d3e-7c1e-4b52-9d3a-1b2c3d4e5f60\",direction=\"in\"} 11\n"));
	EXPECT_EQ(1, count_lines(out, "vtap_port_dropped_total{port=\"t\\\\a\\\"p\xef\xbf\xbd\","
				 "direction=\"out\"} 104\n"));
	EXPECT_EQ(1, count_lines(out, "vtap_port_mirrored_total{port=\"ifindex:9\",direction=\"in\"} 213\n"));
	EXPECT_EQ(1, count_lines(out, "vtap_port_stale{port=\"ifindex:9\"} 1\n"));
	EXPECT_EQ(6, count_lines(out, "vtap_port_bytes_total{"));
	/* The flow table: the namespace's, no labels. */
	EXPECT_EQ(1, count_lines(out, "vtap_flows_limit 16384\n"));
	EXPECT_EQ(1, count_lines(out, "vtap_flows_entries 12\n"));
	EXPECT_EQ(1, count_lines(out, "vtap_flows_lost_packets_total 8\n"));
	EXPECT_EQ(1, count_lines(out, "vtap_flows_lost_bytes_total 384\n"));
	EXPECT_EQ(1, count_lines(out, "vtap_flows_nonip_packets_total 3\n"));
	EXPECT_EQ(1, count_lines(out, "vtap_flows_nonip_bytes_total 180\n"));
}

TEST(filtered_families)
{
	char *mem = NULL;
	size_t len;
	FILE *f = open_memstream(&mem, &len);

	fill();
	ASSERT_EQ(0, prom_stats(f, false, NULL, 0, true, pv, 1, NULL));
	fclose(f);
	EXPECT_EQ(NULL, strstr(mem, "vtap_session"));
	EXPECT_EQ(NULL, strstr(mem, "vtap_flows"));
	EXPECT_EQ(2, count_lines(mem, "vtap_port_packets_total{port=\"vnet3\""));
	free(mem);
	/* No session at all: the families, and vtap_sessions 0. */
	f = open_memstream(&mem, &len);
	ASSERT_EQ(0, prom_stats(f, true, NULL, 0, false, NULL, 0, NULL));
	fclose(f);
	EXPECT_EQ(1, count_lines(mem, "vtap_sessions 0\n"));
	EXPECT_EQ(1, count_lines(mem, "# TYPE vtap_session_sent_packets_total counter"));
	free(mem);
}

/* Read the sample with prometheus_client's parser: what it prints, back. */
static const char parse_py[] =
	"import sys\n"
	"from prometheus_client.parser import text_string_to_metric_families\n"
	"fams = list(text_string_to_metric_families(sys.stdin.read()))\n"
	"names = [f.name for f in fams]\n"
	"assert len(names) == len(set(names)), names\n"
	"for f in fams:\n"
	"    for s in f.samples:\n"
	"        print(f.type, s.name, repr(sorted(s.labels.items())), int(s.value))\n";

TEST(real_parser)
{
	char in[] = "/tmp/unit_prom.XXXXXX", cmd[512], line[1024];
	int rc, fd, lines = 0, found = 0;
	char *out = capture(sample, &rc);
	FILE *p;

	if (access(PYTHON, X_OK) ||
	    system(PYTHON " -c 'import prometheus_client.parser' 2>/dev/null"))
		SKIP(return, "python3-prometheus-client is not installed");
	ASSERT_EQ(0, rc);
	fd = mkstemp(in);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)strlen(out), write(fd, out, strlen(out)));
	close(fd);
	snprintf(cmd, sizeof(cmd), PYTHON " -c \"$UNIT_PROM_PY\" < %s", in);
	setenv("UNIT_PROM_PY", parse_py, 1);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	while (fgets(line, sizeof(line), p)) {
		lines++;
		/* The escaped values come back as they were (U+FFFD for 0xff). */
		if (!strcmp(line, "counter vtap_port_dropped_total [('direction', 'out'), "
			    "('port', 't\\\\a\"p\xef\xbf\xbd')] 104\n"))
			found |= 1;
		if (!strcmp(line, "counter vtap_session_dropped_packets_total [('cause', 'rate'), "
			    "('session', 'ids')] 1013\n"))
			found |= 2;
		if (!strcmp(line, "gauge vtap_port_stale [('port', 'ifindex:9')] 1\n"))
			found |= 4;
		if (!strcmp(line, "counter vtap_session_sent_packets_total [('session', "
			    "'a.b_c:d@e+f-g')] 2003\n"))
			found |= 8;
	}
	EXPECT_EQ(0, pclose(p));
	unlink(in);
	EXPECT_EQ(count_lines(out, "vtap_"), lines);
	EXPECT_EQ(15, found);
}

/* A newline in a label value: escaped, and the parser reads it back. */
static int newline_value(FILE *f)
{
	struct prom p;

	prom_init(&p, f);
	prom_family(&p, "vtap_x_total", "counter", "Help with a \\ and a\nnewline.");
	return prom_sample(&p, (const char *const[]){ "v", "a\nb\\c\"d", NULL }, 5);
}

TEST(newline_round_trip)
{
	char cmd[1024], line[256];
	int rc;
	char *out = capture(newline_value, &rc);
	FILE *p;

	ASSERT_EQ(0, rc);
	EXPECT_STREQ("# HELP vtap_x_total Help with a \\\\ and a\\nnewline.\n"
		     "# TYPE vtap_x_total counter\n"
		     "vtap_x_total{v=\"a\\nb\\\\c\\\"d\"} 5\n", out);
	if (access(PYTHON, X_OK) ||
	    system(PYTHON " -c 'import prometheus_client.parser' 2>/dev/null"))
		SKIP(return, "python3-prometheus-client is not installed");
	setenv("UNIT_PROM_TEXT", out, 1);
	snprintf(cmd, sizeof(cmd), PYTHON " -c 'import os\n"
		 "from prometheus_client.parser import text_string_to_metric_families as t\n"
		 "f = list(t(os.environ[\"UNIT_PROM_TEXT\"]))[0]\n"
		 "print(repr(f.documentation), repr(f.samples[0].labels[\"v\"]))'");
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, fgets(line, sizeof(line), p));
	EXPECT_EQ(0, pclose(p));
	EXPECT_STREQ("'Help with a \\\\ and a\\nnewline.' 'a\\nb\\\\c\"d'\n", line);
}

static void __attribute__((constructor)) __constructor_order_last(void)
{
	if (!__constructor_order)
		__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--sample")) {
		fill();
		return prom_stats(stdout, true, sv, 2, true, pv, 3, &fl) ? 1 : 0;
	}
	return test_harness_run(argc, argv);
}
