// SPDX-License-Identifier: GPL-2.0
/*
 * IPFIX messages (RFC 7011): see ipfix.h.  Information elements from the
 * IANA registry; the field lengths below are what vtap sends (reduced-size
 * encoding where IANA's type is wider, RFC 7011 section 6.2).
 */
#include <errno.h>
#include <string.h>

#include "ipfix.h"

struct ie {
	uint16_t id;
	uint16_t len;
};

#define FLOW_FIELDS(src, dst, icmp, alen)				\
	{ src, alen },		/* sourceIPv4/6Address */		\
	{ dst, alen },		/* destinationIPv4/6Address */		\
	{ 4, 1 },		/* protocolIdentifier */		\
	{ 7, 2 },		/* sourceTransportPort */		\
	{ 11, 2 },		/* destinationTransportPort */		\
	{ icmp, 2 },		/* icmpTypeCodeIPv4/6 */		\
	{ 58, 2 },		/* vlanId */				\
	{ 245, 2 },		/* dot1qCustomerVlanId */		\
	{ 2, 8 },		/* packetDeltaCount */			\
	{ 1, 8 },		/* octetDeltaCount */			\
	{ 152, 8 },		/* flowStartMilliseconds */		\
	{ 153, 8 },		/* flowEndMilliseconds */		\
	{ 6, 1 },		/* tcpControlBits */			\
	{ 61, 1 },		/* flowDirection */			\
	{ 10, 4 },		/* ingressInterface */			\
	{ 14, 4 },		/* egressInterface */			\
	{ 138, 4 },		/* observationPointId */		\
	{ 136, 1 },		/* flowEndReason */			\
	{ 349, 16 }		/* virtualStationUUID */

static const struct ie flow4[] = { FLOW_FIELDS(8, 12, 32, 4) };
static const struct ie flow6[] = { FLOW_FIELDS(27, 28, 139, 16) };
/* Options template: one scope field. */
static const struct ie stats[] = {
	{ 149, 4 },		/* observationDomainId (scope) */
	{ 164, 8 },		/* ignoredPacketTotalCount */
	{ 165, 8 },		/* ignoredOctetTotalCount */
	{ 42, 8 },		/* exportedFlowRecordTotalCount */
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static size_t fields_len(const struct ie *f, size_t n)
{
	size_t i, len = 0;

	for (i = 0; i < n; i++)
		len += f[i].len;
	return len;
}

size_t ipfix_record_len(uint16_t tid)
{
	switch (tid) {
	case IPFIX_TID_FLOW4:
		return fields_len(flow4, NELEM(flow4));
	case IPFIX_TID_FLOW6:
		return fields_len(flow6, NELEM(flow6));
	case IPFIX_TID_STATS:
		return fields_len(stats, NELEM(stats));
	}
	return 0;
}

void ipfix_begin(struct ipfix_msg *m, size_t max, uint32_t export_time,
		 uint32_t seq, uint32_t domain)
{
	m->max = max && max <= IPFIX_MSG_MAX ? max : IPFIX_MSG_MAX;
	put16(m->buf, IPFIX_VERSION);
	put16(m->buf + 2, 0);
	put32(m->buf + 4, export_time);
	put32(m->buf + 8, seq);
	put32(m->buf + 12, domain);
	m->len = IPFIX_HDR_LEN;
	m->set = 0;
	m->set_id = 0;
	m->records = 0;
}

static void close_set(struct ipfix_msg *m)
{
	if (!m->set)
		return;
	put16(m->buf + m->set + 2, (uint16_t)(m->len - m->set));
	m->set = 0;
	m->set_id = 0;
}

/* Open a set with id @id unless it is open; 0, or -ENOSPC if @need more
 * bytes would not fit after its header. */
static int open_set(struct ipfix_msg *m, uint16_t id, size_t need)
{
	if (m->set && m->set_id == id)
		return m->len + need <= m->max ? 0 : -ENOSPC;
	if (m->len + IPFIX_SET_HDR_LEN + need > m->max)
		return -ENOSPC;
	close_set(m);
	m->set = m->len;
	m->set_id = id;
	put16(m->buf + m->len, id);
	m->len += IPFIX_SET_HDR_LEN;
	return 0;
}

static void put_fields(struct ipfix_msg *m, const struct ie *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		put16(m->buf + m->len, f[i].id);
		put16(m->buf + m->len + 2, f[i].len);
		m->len += 4;
	}
}

int ipfix_add_templates(struct ipfix_msg *m)
{
	size_t t = 4 * (2 + NELEM(flow4) + NELEM(flow6));
	size_t o = 6 + 4 * NELEM(stats);

	/* Both sets, the options one padded to 4 bytes. */
	if (m->len + 2 * IPFIX_SET_HDR_LEN + t + o + 2 > m->max)
		return -ENOSPC;
	open_set(m, IPFIX_SET_TEMPLATE, t);
	put16(m->buf + m->len, IPFIX_TID_FLOW4);
	put16(m->buf + m->len + 2, NELEM(flow4));
	m->len += 4;
	put_fields(m, flow4, NELEM(flow4));
	put16(m->buf + m->len, IPFIX_TID_FLOW6);
	put16(m->buf + m->len + 2, NELEM(flow6));
	m->len += 4;
	put_fields(m, flow6, NELEM(flow6));
	close_set(m);
	open_set(m, IPFIX_SET_OPTIONS, o);
	put16(m->buf + m->len, IPFIX_TID_STATS);
	put16(m->buf + m->len + 2, NELEM(stats));
	put16(m->buf + m->len + 4, 1);		/* scope field count */
	m->len += 6;
	put_fields(m, stats, NELEM(stats));
	/* Pad the set to 4 bytes (6 + 4n is not a multiple of 4). */
	while ((m->len - m->set) % 4)
		m->buf[m->len++] = 0;
	close_set(m);
	return 0;
}

int ipfix_add_flow(struct ipfix_msg *m, const struct ipfix_flow *f)
{
	uint16_t tid = f->v6 ? IPFIX_TID_FLOW6 : IPFIX_TID_FLOW4;
	size_t alen = f->v6 ? 16 : 4;
	uint8_t *p;

	if (open_set(m, tid, ipfix_record_len(tid)))
		return -ENOSPC;
	p = m->buf + m->len;
	memcpy(p, f->src, alen);
	p += alen;
	memcpy(p, f->dst, alen);
	p += alen;
	*p++ = f->proto;
	put16(p, f->sport);
	put16(p + 2, f->dport);
	put16(p + 4, f->icmp);
	put16(p + 6, f->vlan);
	put16(p + 8, f->cvlan);
	put64(p + 10, f->packets);
	put64(p + 18, f->octets);
	put64(p + 26, f->start_ms);
	put64(p + 34, f->end_ms);
	p += 42;
	*p++ = f->tcp_flags;
	*p++ = f->direction;
	put32(p, f->direction ? 0 : f->port_id);	/* ingressInterface */
	put32(p + 4, f->direction ? f->port_id : 0);	/* egressInterface */
	put32(p + 8, f->port_id);			/* observationPointId */
	p += 12;
	*p++ = f->end_reason;
	memcpy(p, f->uuid, 16);
	p += 16;
	m->len = (size_t)(p - m->buf);
	m->records++;
	return 0;
}

int ipfix_add_stats(struct ipfix_msg *m, const struct ipfix_stats *s)
{
	uint8_t *p;

	if (open_set(m, IPFIX_TID_STATS, ipfix_record_len(IPFIX_TID_STATS)))
		return -ENOSPC;
	p = m->buf + m->len;
	put32(p, s->domain);
	put64(p + 4, s->ignored_packets);
	put64(p + 12, s->ignored_octets);
	put64(p + 20, s->exported_records);
	m->len += 28;
	m->records++;
	return 0;
}

size_t ipfix_end(struct ipfix_msg *m)
{
	close_set(m);
	put16(m->buf + 2, (uint16_t)m->len);
	return m->len;
}
