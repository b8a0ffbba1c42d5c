/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vtapctl: mirror rules (per session and direction, first match by number
 * wins) -- parsing, validation, and compilation into the bit-vector tables
 * of include/vtap_bpf.h (inline in the ruleset value when small, else in
 * the maps).  Everything here but vtap_rules_install() is pure.
 */
#ifndef VTAPCTL_RULES_H
#define VTAPCTL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "vtap_bpf.h"

/* A rule with its number, as stored in the "rules" map. */
struct vtap_rule_ent {
	__u32 num;
	struct vtap_rule r;
};

/*
 * Parse "{accept|reject} [proto P] [src CIDR] [dst CIDR] [sport A[-B]]
 * [dport A[-B]] [vlan N] [icmp-type T]" into @r.  On error returns -EINVAL
 * and writes the reason to @err.
 */
int vtap_rule_parse(int argc, char **argv, struct vtap_rule *r, char *err,
		    size_t errlen);
/* Cross-field checks (ports need tcp/udp/sctp, families agree, ...). */
int vtap_rule_check(const struct vtap_rule *r, char *err, size_t errlen);
/* "accept proto tcp src 192.0.2.0/24 dport 80-443" */
void vtap_rule_format(const struct vtap_rule *r, char *buf, size_t len);

struct vtap_lpm_ent {
	__u8 len;			/* CIDR length */
	__u8 addr[16];
	struct vtap_bits bits;
};

/*
 * The compiled form of one session-direction's rules: every table in full;
 * rs.inl says which of them rs also holds inline (those get no map entries).
 */
struct vtap_compiled {
	struct vtap_ruleset rs;
	int nvlan, nproto, nicmp, nlpm[4];
	struct { __u16 vid; struct vtap_bits bits; } vlan[VTAP_RULES_MAX];
	struct { __u8 proto; struct vtap_bits bits; } proto[VTAP_RULES_MAX];
	struct { __u8 proto, type; struct vtap_bits bits; } icmp[VTAP_RULES_MAX];
	/* src4, dst4, src6, dst6 */
	struct vtap_lpm_ent lpm[4][VTAP_RULES_MAX];
	bool has_ports[2];		/* sport, dport */
	struct vtap_port_spans ports[2];
};

/*
 * Compile @n rules (any order; sorted here by number) into @c.
 * Returns 0 or -E2BIG (more than VTAP_RULES_MAX rules).
 */
int vtap_rules_compile(struct vtap_rule_ent *rules, int n,
		       struct vtap_compiled *c);

/* The compiled maps, by file descriptor. */
struct vtap_rule_maps {
	int rules, rulesets, vlan, proto, icmp, lpm[4], ports, on;
};

/*
 * Make @c the live ruleset of @sd: clear the spare generation, write it,
 * flip the ruleset entry (one atomic element replacement), then set sd's bit
 * in "rules_on".  n == 0 rules clears the bit, then removes the ruleset.
 * The caller holds the namespace's lock (the bitmap is read-modify-write).
 * Returns 0 or a negative errno.
 */
int vtap_rules_install(const struct vtap_rule_maps *m, __u32 sd,
		       const struct vtap_compiled *c);
/* Read all rules of @sd from the "rules" map; free(*out) after use. */
int vtap_rules_read(const struct vtap_rule_maps *m, __u32 sd,
		    struct vtap_rule_ent **out);
/* Remove every rule and compiled entry of @sd. */
int vtap_rules_purge(const struct vtap_rule_maps *m, __u32 sd);

#endif
