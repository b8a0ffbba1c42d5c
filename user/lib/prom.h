/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vtapctl: Prometheus text exposition format (version 0.0.4, what
 * node_exporter's textfile collector reads), for `vtapctl stats format
 * prometheus`.  Metric names are vtap_..., counters end in _total, each
 * family has one HELP and one TYPE line and all its samples follow them;
 * label values are escaped (\\, \", \n) and made valid UTF-8.  The metric
 * names and labels are documented in Documentation/troubleshooting.md
 * ("Prometheus").
 */
#ifndef VTAPCTL_PROM_H
#define VTAPCTL_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROM_MAX_FAMILIES	64

struct prom {
	FILE *f;
	const char *family;			/* the family samples go to */
	const char *declared[PROM_MAX_FAMILIES];
	int ndeclared;
	int err;				/* the first misuse, -EINVAL */
};

void prom_init(struct prom *p, FILE *f);
/*
 * Start family @name (@type "counter" or "gauge"): its HELP and TYPE lines.
 * -EINVAL (and nothing written) if the name is not a metric name, the type
 * is neither, or the family was started before: a family's samples must
 * not be split (the format does not allow it).
 */
int prom_family(struct prom *p, const char *name, const char *type, const char *help);
/*
 * One sample of the current family: @labels is NULL-terminated pairs of
 * label name and value (a NULL value leaves that label out).  -EINVAL if
 * there is no family or a label name is invalid.
 */
int prom_sample(struct prom *p, const char *const *labels, uint64_t value);

/* [a-zA-Z_:][a-zA-Z0-9_:]* */
bool prom_metric_name_ok(const char *name);
/* [a-zA-Z_][a-zA-Z0-9_]*, not beginning with "__" (reserved) */
bool prom_label_name_ok(const char *name);
/*
 * A label value's text between its quotes: \ " and newline escaped, bytes
 * that are not UTF-8 written as U+FFFD.  Cut at a whole character if @len
 * is too small.  Returns the length written.
 */
size_t prom_escape_label(const char *s, char *buf, size_t len);
/* A HELP text: \ and newline escaped (the format's rule for HELP). */
size_t prom_escape_help(const char *s, char *buf, size_t len);

/*
 * vtapctl stats as metrics: the sessions' counters (VTAP_A_STATS_*) and the
 * ports' (struct vtap_port_stats); either may be absent (n 0 and NULL, or
 * @sessions/@ports false: the family is not written at all); and the flow
 * table's counters, if @flows is not NULL.
 */
struct session_info;
struct vtap_port_stats;
struct prom_port {
	const char *dev;		/* "" if the device is gone */
	uint32_t ifindex;
	uint32_t id;			/* the port id (ERSPAN index) */
	const char *vm;			/* UUID, or NULL */
	bool stale;
	const struct vtap_port_stats *st;
};
/* The namespace's flow table (flows show): its limit, entries, what it lost. */
struct prom_flows {
	uint64_t limit, used;
	uint64_t lost_packets, lost_octets, nonip_packets, nonip_octets;
};
int prom_stats(FILE *f, bool sessions, const struct session_info *sv, int nsv,
	       bool ports, const struct prom_port *pv, int npv,
	       const struct prom_flows *flows);

#endif
