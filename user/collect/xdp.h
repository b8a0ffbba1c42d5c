/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vtapctl collect ... dev IFACE xdp: the XDP program (bpf/collect.bpf.c) on
 * the receiving interface, attached through a BPF link, so that it goes
 * away with the process however that ends.
 */
#ifndef VTAPCTL_COLLECT_XDP_H
#define VTAPCTL_COLLECT_XDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "vtap_collect_bpf.h"

enum cx_xdp_mode {
	CX_XDP_ANY,		/* native, else generic */
	CX_XDP_NATIVE,
	CX_XDP_GENERIC,
};

struct cx_xdp_opts {
	const char *ifname;		/* dev IFACE */
	enum cx_xdp_mode mode;
	int tx_ifindex;			/* to DEV (without write FILE); 0: count only */
	unsigned int enable;		/* VTAP_CX_*: the sockets the collector has */
	uint16_t vxlan_port;
	const uint32_t *ids;		/* session ID ...; none: all */
	int nids;
	const struct vtap_addr *listen;	/* NULL: the namespace's own addresses */
	uint64_t budget;		/* count N; 0: none */
};

struct cx_xdp;

/*
 * Load and attach.  0, or -errno with a reason in @why (the caller falls back
 * to the raw sockets, except for -ENODEV: IFACE does not exist).
 */
int cx_xdp_start(const struct cx_xdp_opts *o, struct cx_xdp **out, char *why, size_t len);
/* "native" or "generic" */
const char *cx_xdp_mode_name(const struct cx_xdp *x);
/* Packets consumed so far (all sessions). */
uint64_t cx_xdp_packets(struct cx_xdp *x);
/* Detach (idempotent); the counters stay readable. */
void cx_xdp_detach(struct cx_xdp *x);
/* Each session's counters, summed over the CPUs, in key order. */
int cx_xdp_for_each(struct cx_xdp *x,
		    void (*fn)(void *arg, const struct vtap_cx_key *k,
			       const struct vtap_cx_stats *s),
		    void *arg);
void cx_xdp_free(struct cx_xdp *x);

#endif
