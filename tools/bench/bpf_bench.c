// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_bench: ns per packet of vtap's TC classifier under BPF_PROG_TEST_RUN
 * (real JIT, real CPU), on the host kernel.
 *
 * The program measured is the real classifier built as its "record"
 * variant: where the product calls the module's kfunc bpf_vtap_mirror(), it
 * records the decision in an array map instead (include/vtap_bpf.h), so the
 * numbers cover everything up to the mirror decision, not the copy itself.
 *
 * usage: bpf_bench [-r REPEAT] [-k RUNS] [-c TEXT] [-j]
 * Each case runs RUNS times with REPEAT iterations; min/median/max of the
 * per-iteration time are printed.  -c: only the cases whose name contains
 * TEXT (the others are still set up, not measured).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vtap_bpf.h"
#include "vtap-rec.skel.h"
#include "../../user/lib/rules.h"

#define SESSION	5
#define SD	VTAP_SD(SESSION, VTAP_DIR_OUT)

static int repeat = 200000, runs = 11, json;
static const char *only;

struct pkt {
	unsigned char b[128];
	unsigned int len;
};

static struct pkt make_pkt(int v6, unsigned int src_last, unsigned int dport)
{
	struct pkt p = { .len = v6 ? 14 + 40 + 8 + 20 : 14 + 20 + 8 + 20 };
	unsigned char *b = p.b;

	memcpy(b, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
	if (!v6) {
		b[12] = 0x08;
		b[14] = 0x45; b[16] = 0; b[17] = (unsigned char)(p.len - 14);
		b[22] = 64; b[23] = 17;
		inet_pton(AF_INET, "192.0.2.0", b + 26);
		b[29] = (unsigned char)src_last;
		inet_pton(AF_INET, "198.51.100.2", b + 30);
		b[34] = 0x9c; b[35] = 0x40;
		b[36] = (unsigned char)(dport >> 8); b[37] = (unsigned char)dport;
	} else {
		b[12] = 0x86; b[13] = 0xdd;
		b[14] = 0x60; b[19] = 28; b[20] = 17; b[21] = 64;
		inet_pton(AF_INET6, "2001:db8::", b + 22);
		b[37] = (unsigned char)src_last;
		inet_pton(AF_INET6, "2001:db8:100::2", b + 38);
		b[54] = 0x9c; b[55] = 0x40;
		b[56] = (unsigned char)(dport >> 8); b[57] = (unsigned char)dport;
	}
	return p;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static int first_row = 1;

static void measure(const char *name, int prog_fd, struct pkt *p)
{
	__u32 t[64];
	int i;

	if (only && !strstr(name, only))
		return;
	for (i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b,
			    .data_size_in = p->len, .repeat = (__u32)repeat);

		if (bpf_prog_test_run_opts(prog_fd, &o)) {
			fprintf(stderr, "bpf_bench: %s: test run failed: %s\n", name,
				strerror(errno));
			exit(1);
		}
		t[i] = o.duration;
	}
	qsort(t, (size_t)runs, sizeof(t[0]), cmp_u32);
	if (json)
		printf("%s{\"case\":\"%s\",\"min_ns\":%u,\"median_ns\":%u,\"max_ns\":%u}",
		       first_row ? "[" : ",", name, t[0], t[runs / 2], t[runs - 1]);
	else
		printf("%-48s %7u %7u %7u\n", name, t[0], t[runs / 2], t[runs - 1]);
	first_row = 0;
}

/* N rules that each match one source address and port; the packet made by
 * make_pkt(v6, N - 1, 1000 + N - 1) matches the last one. */
static void install_rules(struct vtap_rec *skel, int n, int v6)
{
	static struct vtap_rule_ent ents[VTAP_RULES_MAX];
	struct vtap_rule_maps m = {
		.rules = bpf_map__fd(skel->maps.rules),
		.rulesets = bpf_map__fd(skel->maps.rulesets),
		.vlan = bpf_map__fd(skel->maps.rule_vlan),
		.proto = bpf_map__fd(skel->maps.rule_proto),
		.icmp = bpf_map__fd(skel->maps.rule_icmp),
		.lpm = { bpf_map__fd(skel->maps.rule_src4), bpf_map__fd(skel->maps.rule_dst4),
			 bpf_map__fd(skel->maps.rule_src6), bpf_map__fd(skel->maps.rule_dst6) },
		.ports = bpf_map__fd(skel->maps.rule_ports),
		.on = bpf_map__fd(skel->maps.rules_on),
	};
	struct vtap_compiled *c = calloc(1, sizeof(*c));
	char a[8][48], err[128];
	int i;

	if (!c)
		exit(1);
	for (i = 0; i < n; i++) {
		char *argv[] = { "accept", "proto", "udp", "src", a[0], "dport", a[1] };

		snprintf(a[0], sizeof(a[0]), v6 ? "2001:db8::%x/128" : "192.0.2.%d/32", i);
		snprintf(a[1], sizeof(a[1]), "%d", 1000 + i);
		ents[i].num = (__u32)(i + 1);
		if (vtap_rule_parse(7, argv, &ents[i].r, err, sizeof(err))) {
			fprintf(stderr, "bpf_bench: %s\n", err);
			exit(1);
		}
	}
	if (vtap_rules_compile(ents, n, c) || vtap_rules_install(&m, SD, c)) {
		fprintf(stderr, "bpf_bench: installing %d rules failed\n", n);
		exit(1);
	}
	free(c);
}

static int empty_prog(enum bpf_prog_type type)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd;

	/* XDP_ABORTED (0) would trace an exception: XDP_PASS (2). */
	if (type == BPF_PROG_TYPE_XDP)
		insns[0].imm = XDP_PASS;
	fd = bpf_prog_load(type, "empty", "GPL", insns, 2, NULL);

	if (fd < 0) {
		fprintf(stderr, "bpf_bench: loading the empty program: %s\n", strerror(errno));
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	static const int counts[] = { 1, 16, 256 };
	struct vtap_port port = {
		.port_id = 1, .nsess = { [VTAP_DIR_OUT] = 1 },
		.sess = { [VTAP_DIR_OUT] = { SESSION } },
	};
	struct vtap_rec *skel;
	int c, ing, xdp, v6, i;
	__u32 key = 1;		/* BPF_PROG_TEST_RUN runs on loopback */
	char name[96];

	while ((c = getopt(argc, argv, "r:k:c:j")) != -1) {
		switch (c) {
		case 'r':
			repeat = atoi(optarg);
			break;
		case 'k':
			runs = atoi(optarg);
			break;
		case 'c':
			only = optarg;
			break;
		case 'j':
			json = 1;
			break;
		default:
			fprintf(stderr, "usage: bpf_bench [-r REPEAT] [-k RUNS] [-c TEXT] [-j]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > 64 || repeat < 1) {
		fprintf(stderr, "bpf_bench: -k 1..64, -r >= 1\n");
		return 2;
	}
	skel = vtap_rec__open_and_load();
	if (!skel) {
		fprintf(stderr, "bpf_bench: loading vtap-rec.bpf.o failed (root?)\n");
		return 1;
	}
	ing = bpf_program__fd(skel->progs.vtap_tc_ingress);
	xdp = bpf_program__fd(skel->progs.vtap_xdp);
	if (!json)
		printf("%-48s %7s %7s %7s   (ns per packet, %d runs x %d)\n",
		       "case", "min", "median", "max", runs, repeat);

	for (v6 = 0; v6 <= 1; v6++) {
		struct pkt p = make_pkt(v6, 0, 1000);
		const char *fam = v6 ? "IPv6" : "IPv4";

		if (!v6) {
			snprintf(name, sizeof(name), "empty TC program (baseline)");
			measure(name, empty_prog(BPF_PROG_TYPE_SCHED_CLS), &p);
			snprintf(name, sizeof(name), "empty XDP program (XDP's baseline)");
			measure(name, empty_prog(BPF_PROG_TYPE_XDP), &p);
		}
		bpf_map_delete_elem(bpf_map__fd(skel->maps.ports), &key);
		snprintf(name, sizeof(name), "%s unmonitored port", fam);
		measure(name, ing, &p);

		bpf_map_update_elem(bpf_map__fd(skel->maps.ports), &key, &port, BPF_ANY);
		snprintf(name, sizeof(name), "%s monitored, no rules: mirror", fam);
		measure(name, ing, &p);
		/* The same with flow records (the flow's entry exists after the first run). */
		port.flags = VTAP_PORT_F_REC(VTAP_DIR_OUT);
		bpf_map_update_elem(bpf_map__fd(skel->maps.ports), &key, &port, BPF_ANY);
		snprintf(name, sizeof(name), "%s monitored, no rules, flow records", fam);
		measure(name, ing, &p);
		/* A port with vtap's XDP program: XDP mirrors, TC leaves it. */
		port.flags = VTAP_PORT_F_XDP;
		bpf_map_update_elem(bpf_map__fd(skel->maps.ports), &key, &port, BPF_ANY);
		snprintf(name, sizeof(name), "%s XDP, monitored, no rules: mirror", fam);
		measure(name, xdp, &p);
		snprintf(name, sizeof(name), "%s TC on an XDP port: left to XDP", fam);
		measure(name, ing, &p);
		port.flags = 0;
		bpf_map_update_elem(bpf_map__fd(skel->maps.ports), &key, &port, BPF_ANY);
		for (i = 0; i < 3; i++) {
			struct pkt hit = make_pkt(v6, (unsigned int)counts[i] - 1,
						  1000 + (unsigned int)counts[i] - 1);
			struct pkt miss = make_pkt(v6, 200, 7);

			install_rules(skel, counts[i], v6);
			snprintf(name, sizeof(name), "%s %3d rules, matches nothing", fam, counts[i]);
			measure(name, ing, &miss);
			snprintf(name, sizeof(name), "%s %3d rules, last rule matches", fam, counts[i]);
			measure(name, ing, &hit);
		}
		install_rules(skel, 0, v6);
	}
	if (json)
		printf("]\n");
	vtap_rec__destroy(skel);
	return 0;
}
