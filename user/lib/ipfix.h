/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IPFIX (RFC 7011) messages for vtapctl flows export: the templates vtap
 * uses and a message builder that keeps each message within a size limit.
 * No I/O and no state beyond one message: unit-tested on its own
 * (selftests/host/unit_ipfix.c).
 */
#ifndef VTAPCTL_IPFIX_H
#define VTAPCTL_IPFIX_H

#include <stddef.h>
#include <stdint.h>

#define IPFIX_VERSION		10
#define IPFIX_HDR_LEN		16
#define IPFIX_SET_HDR_LEN	4
#define IPFIX_SET_TEMPLATE	2
#define IPFIX_SET_OPTIONS	3

/* vtap's template ids. */
#define IPFIX_TID_FLOW4		256
#define IPFIX_TID_FLOW6		257
#define IPFIX_TID_STATS		258	/* options: what the flow table lost */

/* Largest message: fits a 1500-byte MTU over IPv6 (1452) with room to spare. */
#define IPFIX_MSG_MAX		1400

/* flowEndReason (IE 136). */
enum ipfix_end_reason {
	IPFIX_END_IDLE = 1,
	IPFIX_END_ACTIVE = 2,
	IPFIX_END_OF_FLOW = 3,
	IPFIX_END_FORCED = 4,
	IPFIX_END_LACK_OF_RESOURCES = 5,
};

/* One flow record, in host order (addresses as on the wire). */
struct ipfix_flow {
	int v6;
	uint8_t src[16], dst[16];	/* IPv4: the first 4 bytes */
	uint8_t proto;
	uint16_t sport, dport;		/* 0 for ICMP */
	uint16_t icmp;			/* type << 8 | code, 0 if not ICMP */
	uint16_t vlan;			/* VLAN id (the outer tag), 0 if untagged */
	uint16_t cvlan;			/* the inner tag's VLAN id, 0 if none */
	uint64_t packets, octets;
	uint64_t start_ms, end_ms;	/* since the epoch */
	uint8_t tcp_flags;
	uint8_t direction;		/* flowDirection: 0 ingress, 1 egress */
	uint32_t port_id;		/* observationPointId, in/egressInterface */
	uint8_t uuid[16];		/* virtualStationUUID */
	uint8_t end_reason;		/* enum ipfix_end_reason */
};

/* The options record: what the flow table could not record. */
struct ipfix_stats {
	uint32_t domain;
	uint64_t ignored_packets, ignored_octets;
	uint64_t exported_records;
};

struct ipfix_msg {
	uint8_t buf[IPFIX_MSG_MAX];
	size_t len;
	size_t max;		/* <= IPFIX_MSG_MAX */
	size_t set;		/* offset of the open set's header, 0 if none */
	uint16_t set_id;
	unsigned int records;	/* data records in this message */
};

/* Start a message (header without its length); @max 0 means IPFIX_MSG_MAX. */
void ipfix_begin(struct ipfix_msg *m, size_t max, uint32_t export_time,
		 uint32_t seq, uint32_t domain);
/* Append the template set and the options template set: 0, or -ENOSPC. */
int ipfix_add_templates(struct ipfix_msg *m);
/* Append a data record (opening its set as needed): 0, or -ENOSPC. */
int ipfix_add_flow(struct ipfix_msg *m, const struct ipfix_flow *f);
int ipfix_add_stats(struct ipfix_msg *m, const struct ipfix_stats *s);
/* Close the open set and fill in the length; returns the message length. */
size_t ipfix_end(struct ipfix_msg *m);
/* Size of a data record of template @tid. */
size_t ipfix_record_len(uint16_t tid);

#endif
