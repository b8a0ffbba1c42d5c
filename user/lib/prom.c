// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl: the Prometheus text format (see prom.h), and vtapctl stats in it.
 *
 * Names follow Prometheus' conventions: the vtap_ prefix, the unit in the
 * name (packets, bytes), _total on counters, one family per quantity with
 * labels for what varies (session, port, vm, direction, cause) rather than
 * one metric per drop cause.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "prom.h"
#include "util.h"
#include "vtapctl.h"
#include "vtap_bpf.h"

void prom_init(struct prom *p, FILE *f)
{
	memset(p, 0, sizeof(*p));
	p->f = f;
}

static bool name_char(char c, bool first, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

bool prom_metric_name_ok(const char *name)
{
	const char *c;

	if (!name || !*name)
		return false;
	for (c = name; *c; c++)
		if (!name_char(*c, c == name, true))
			return false;
	return true;
}

bool prom_label_name_ok(const char *name)
{
	const char *c;

	if (!name || !*name || !strncmp(name, "__", 2))
		return false;
	for (c = name; *c; c++)
		if (!name_char(*c, c == name, false))
			return false;
	return true;
}

/* @help: only \ and newline are escaped (HELP text); else a label value. */
static size_t escape(const char *s, char *buf, size_t len, bool help)
{
	static const char fffd[] = "\xef\xbf\xbd";	/* U+FFFD */
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0;

	if (!len)
		return 0;
	while (*u) {
		const char *add;
		char two[2];
		size_t n;
		int cl = utf8_len(u);

		if (*u == '\\' || *u == '\n' || (*u == '"' && !help)) {
			two[0] = '\\';
			two[1] = *u == '\n' ? 'n' : (char)*u;
			add = two, n = 2, cl = 1;
		} else if (!cl) {
			add = fffd, n = 3, cl = 1;
		} else {
			add = (const char *)u, n = (size_t)cl;
		}
		if (o + n >= len)
			break;
		memcpy(buf + o, add, n);
		o += n;
		u += cl;
	}
	buf[o] = 0;
	return o;
}

size_t prom_escape_label(const char *s, char *buf, size_t len)
{
	return escape(s, buf, len, false);
}

size_t prom_escape_help(const char *s, char *buf, size_t len)
{
	return escape(s, buf, len, true);
}

static int misuse(struct prom *p)
{
	if (!p->err)
		p->err = -EINVAL;
	return -EINVAL;
}

int prom_family(struct prom *p, const char *name, const char *type, const char *help)
{
	char esc[1024];
	int i;

	if (!prom_metric_name_ok(name) || !type ||
	    (strcmp(type, "counter") && strcmp(type, "gauge")) ||
	    p->ndeclared >= PROM_MAX_FAMILIES)
		return misuse(p);
	for (i = 0; i < p->ndeclared; i++)
		if (!strcmp(p->declared[i], name))
			return misuse(p);
	p->declared[p->ndeclared++] = name;
	p->family = name;
	prom_escape_help(help ? help : "", esc, sizeof(esc));
	fprintf(p->f, "# HELP %s %s\n# TYPE %s %s\n", name, esc, name, type);
	return 0;
}

int prom_sample(struct prom *p, const char *const *labels, uint64_t value)
{
	char esc[1024];
	bool any = false;
	int i;

	if (!p->family)
		return misuse(p);
	for (i = 0; labels && labels[i]; i += 2)
		if (!prom_label_name_ok(labels[i]))
			return misuse(p);
	fputs(p->family, p->f);
	for (i = 0; labels && labels[i]; i += 2) {
		if (!labels[i + 1])
			continue;
		prom_escape_label(labels[i + 1], esc, sizeof(esc));
		fprintf(p->f, "%s%s=\"%s\"", any ? "," : "{", labels[i], esc);
		any = true;
	}
	fprintf(p->f, "%s %llu\n", any ? "}" : "", (unsigned long long)value);
	return 0;
}

/* ---- vtapctl stats ---------------------------------------------------- */

/* Session counters, one family each (VTAP_A_STATS_*); the drops below. */
static const struct {
	int attr;
	const char *name, *help;
} session_counters[] = {
	{ VTAP_A_STATS_MATCHED, "vtap_session_matched_packets_total",
	  "Frames a flow sent to the session and its rules accepted (counter matched)." },
	{ VTAP_A_STATS_SENT, "vtap_session_sent_packets_total",
	  "Copies handed to the underlay, one per GSO segment (counter sent)." },
	{ VTAP_A_STATS_BYTES, "vtap_session_sent_bytes_total",
	  "Bytes of the sent copies, outer headers included (counter bytes)." },
	{ VTAP_A_STATS_TRUNCATED, "vtap_session_truncated_packets_total",
	  "Copies cut to fit the path MTU, still sent (counter truncated)." },
	{ VTAP_A_STATS_SLICED, "vtap_session_sliced_packets_total",
	  "Copies cut to the session's snaplen, still sent (counter sliced)." },
	{ VTAP_A_STATS_GSO, "vtap_session_gso_packets_total",
	  "GSO super-packets seen, segmented or sliced (counter gso)." },
	{ VTAP_A_STATS_SAMPLED_OUT, "vtap_session_sampled_out_packets_total",
	  "Frames sampling passed over, by design (counter sampled_out)." },
	{ VTAP_A_STATS_UNPARSED, "vtap_session_unparsed_packets_total",
	  "Frames the session's rules could not decide (counter unparsed)." },
	{ VTAP_A_STATS_DEDUP, "vtap_session_dedup_packets_total",
	  "In copies not sent: the session sent the frame's out copy (counter dedup)." },
};

static const struct {
	int attr;
	const char *cause;
} drop_causes[] = {
	{ VTAP_A_STATS_DROP_NOMEM,	"nomem" },
	{ VTAP_A_STATS_DROP_NOROUTE,	"noroute" },
	{ VTAP_A_STATS_DROP_LOOP,	"loop" },
	{ VTAP_A_STATS_DROP_XMIT,	"xmit" },
	{ VTAP_A_STATS_DROP_MALFORMED,	"malformed" },
	{ VTAP_A_STATS_DROP_QUEUE,	"queue" },
	{ VTAP_A_STATS_DROP_RATE,	"rate" },
};

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void session_families(struct prom *p, const struct session_info *sv, int nsv)
{
	char id[16];
	int i, k;

	prom_family(p, "vtap_sessions", "gauge", "Sessions reported (in this network namespace).");
	prom_sample(p, NULL, (uint64_t)nsv);
	prom_family(p, "vtap_session_info", "gauge",
		    "Each session, value 1: its name and its id (vtapctl session show).");
	for (i = 0; i < nsv; i++) {
		snprintf(id, sizeof(id), "%u", sv[i].id);
		prom_sample(p, (const char *const[]){ "session", sv[i].name, "id", id, NULL }, 1);
	}
	for (k = 0; k < NELEM(session_counters); k++) {
		int a = session_counters[k].attr;

		prom_family(p, session_counters[k].name, "counter", session_counters[k].help);
		for (i = 0; i < nsv; i++)
			if (sv[i].has[a])
				prom_sample(p, (const char *const[]){ "session", sv[i].name, NULL },
					    sv[i].stat[a]);
	}
	prom_family(p, "vtap_session_dropped_packets_total", "counter",
		    "Copies the session dropped, by cause (counters drop_CAUSE); the VM's own "
		    "frames are never dropped.");
	for (i = 0; i < nsv; i++)
		for (k = 0; k < NELEM(drop_causes); k++)
			if (sv[i].has[drop_causes[k].attr])
				prom_sample(p, (const char *const[]){ "session", sv[i].name,
						"cause", drop_causes[k].cause, NULL },
					    sv[i].stat[drop_causes[k].attr]);
}

static const char *const dir_label[VTAP_NDIRS] = {
	[VTAP_DIR_OUT]	= "out",
	[VTAP_DIR_IN]	= "in",
};

/*
 * A port's label: its device, or "ifindex:N" for one whose device is gone
 * (no device name has a ':', so it never names another port).
 */
static const char *port_label(const struct prom_port *pp, char *buf, size_t len)
{
	if (pp->dev && *pp->dev)
		return pp->dev;
	snprintf(buf, len, "ifindex:%u", pp->ifindex);
	return buf;
}

static void port_families(struct prom *p, const struct prom_port *pv, int npv)
{
	static const struct {
		const char *name, *help;
	} fam[] = {
		{ "vtap_port_packets_total",
		  "Frames seen on the port in a direction with flows, before rules (counter packets)." },
		{ "vtap_port_bytes_total",
		  "Bytes of those frames, Ethernet header included (counter bytes)." },
		{ "vtap_port_mirrored_total",
		  "(frame, session) pairs whose copies all went out (counter mirrored)." },
		{ "vtap_port_dropped_total",
		  "(frame, session) pairs the module could not copy (counter dropped); "
		  "copies only, the VM's own frames are never dropped." },
	};
	char buf[32], ifx[16], id[16];
	int i, k, d;

	prom_family(p, "vtap_port_info", "gauge",
		    "Each port, value 1: its device, ifindex, port id and VM.");
	for (i = 0; i < npv; i++) {
		snprintf(ifx, sizeof(ifx), "%u", pv[i].ifindex);
		snprintf(id, sizeof(id), "%u", pv[i].id);
		prom_sample(p, (const char *const[]){ "port", port_label(&pv[i], buf, sizeof(buf)),
				"ifindex", ifx, "id", id, "vm", pv[i].vm, NULL }, 1);
	}
	prom_family(p, "vtap_port_stale", "gauge",
		    "1 if the port's device is gone or vtap's filters are not on it.");
	for (i = 0; i < npv; i++)
		prom_sample(p, (const char *const[]){ "port", port_label(&pv[i], buf, sizeof(buf)),
				"vm", pv[i].vm, NULL }, pv[i].stale);
	for (k = 0; k < NELEM(fam); k++) {
		prom_family(p, fam[k].name, "counter", fam[k].help);
		for (i = 0; i < npv; i++) {
			const struct vtap_port_stats *st = pv[i].st;

			for (d = 0; d < VTAP_NDIRS; d++) {
				const __u64 *v = k == 0 ? st->packets : k == 1 ? st->bytes :
						 k == 2 ? st->mirrored : st->dropped;

				prom_sample(p, (const char *const[]){ "port",
						port_label(&pv[i], buf, sizeof(buf)),
						"vm", pv[i].vm, "direction", dir_label[d], NULL },
					    v[d]);
			}
		}
	}
}

static void flow_families(struct prom *p, const struct prom_flows *fl)
{
	prom_family(p, "vtap_flows_limit", "gauge",
		    "Entries the namespace's flow table may hold (flows set limit).");
	prom_sample(p, NULL, fl->limit);
	prom_family(p, "vtap_flows_entries", "gauge", "Entries in the flow table (used).");
	prom_sample(p, NULL, fl->used);
	prom_family(p, "vtap_flows_lost_packets_total", "counter",
		    "IP packets of recording ports not recorded: the flow table was full (lost packets).");
	prom_sample(p, NULL, fl->lost_packets);
	prom_family(p, "vtap_flows_lost_bytes_total", "counter",
		    "IP-layer bytes of those packets (lost octets).");
	prom_sample(p, NULL, fl->lost_octets);
	prom_family(p, "vtap_flows_nonip_packets_total", "counter",
		    "Frames of recording ports that are not IP, counted only (nonip_packets).");
	prom_sample(p, NULL, fl->nonip_packets);
	prom_family(p, "vtap_flows_nonip_bytes_total", "counter",
		    "Bytes of those frames from the MAC header (nonip_octets).");
	prom_sample(p, NULL, fl->nonip_octets);
}

int prom_stats(FILE *f, bool sessions, const struct session_info *sv, int nsv,
	       bool ports, const struct prom_port *pv, int npv,
	       const struct prom_flows *flows)
{
	struct prom p;

	prom_init(&p, f);
	if (sessions)
		session_families(&p, sv, nsv);
	if (ports)
		port_families(&p, pv, npv);
	if (flows)
		flow_families(&p, flows);
	return p.err;
}
