/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vtapctl collect: the decoder.  A GRE-TEB or ERSPAN II/III packet as a raw
 * socket delivers it, or a VXLAN UDP payload (bytes) -> what it carries (struct vtap_pkt).  Pure
 * functions: no I/O, no allocation, no global state; fuzzed with libFuzzer
 * (selftests/fuzz/).  Also here, just as pure: the GRE sequence accounting
 * of a session and the reconstruction of ERSPAN III timestamps.
 *
 * The decoder never reads outside [buf, buf + len) and accepts a packet only
 * if every length in it is consistent with what was received; the inner
 * frame it points to lies inside the buffer and is at least an Ethernet
 * header long.
 */
#ifndef VTAPCTL_DECODE_H
#define VTAPCTL_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VTAP_GRE_PROTO_TEB	0x6558
#define VTAP_GRE_PROTO_ERSPAN2	0x88be
#define VTAP_GRE_PROTO_ERSPAN3	0x22eb

#define VTAP_ETH_HLEN		14

enum vtap_pkt_encap {
	VTAP_PKT_NONE,
	VTAP_PKT_GRE,		/* GRE-TEB: an Ethernet frame in GRE */
	VTAP_PKT_ERSPAN2,	/* ERSPAN Type II */
	VTAP_PKT_ERSPAN3,	/* ERSPAN Type III */
	VTAP_PKT_VXLAN,		/* VXLAN (RFC 7348): an Ethernet frame in UDP */
};

/* Why a packet was not accepted; vtap_decode_strerror() names them. */
enum vtap_decode_err {
	VTAP_DEC_OK,
	VTAP_DEC_SHORT,		/* shorter than its headers */
	VTAP_DEC_IP_VERSION,	/* neither IPv4 nor IPv6 */
	VTAP_DEC_IP_HDR,	/* IPv4 header length or total length impossible */
	VTAP_DEC_IP_LEN,	/* the IP length says more than was received */
	VTAP_DEC_IP_FRAG,	/* a fragment */
	VTAP_DEC_NOT_GRE,	/* the IP payload is not GRE */
	VTAP_DEC_GRE_VERSION,	/* GRE version is not 0 */
	VTAP_DEC_GRE_FLAGS,	/* routing, strict source route or recursion bits */
	VTAP_DEC_GRE_CSUM,	/* the GRE checksum is wrong */
	VTAP_DEC_PROTO,		/* GRE protocol is not TEB, ERSPAN II or III */
	VTAP_DEC_ERSPAN1,	/* 0x88BE without a sequence number: Type I */
	VTAP_DEC_ERSPAN_VER,	/* the ERSPAN version does not match the protocol */
	VTAP_DEC_FRAME_TYPE,	/* ERSPAN III frame type other than Ethernet */
	VTAP_DEC_INNER_SHORT,	/* the inner frame is shorter than 14 bytes */
	VTAP_DEC_VXLAN_FLAGS,	/* VXLAN without the I flag (no valid VNI) */

	VTAP_DEC_NERR
};

/* ERSPAN III timestamp granularity (Gra). */
enum vtap_pkt_gra {
	VTAP_PKT_GRA_100US,
	VTAP_PKT_GRA_100NS,
	VTAP_PKT_GRA_1588,
	VTAP_PKT_GRA_CUSTOM,
};

struct vtap_pkt {
	/* Outer IP header: vtap_decode_ip() only (vtap_decode_gre() leaves 0). */
	uint8_t family;			/* AF_INET or AF_INET6, 0 if unknown */
	uint8_t src[16], dst[16];	/* IPv4: the first 4 bytes */

	/* GRE */
	uint16_t gre_proto;
	bool has_csum, has_key, has_seq;
	uint32_t key, seq;

	/*
	 * What the frame belongs to: the ERSPAN session id, the GRE key
	 * (has_session is false for GRE-TEB without a key), or the VXLAN VNI.
	 */
	enum vtap_pkt_encap encap;
	bool has_session;
	uint32_t session;

	/* ERSPAN (Type II and III) */
	uint8_t version;		/* 1 (Type II) or 2 (Type III) */
	uint16_t vlan;
	uint8_t cos;
	uint8_t en;			/* Type II: En; Type III: BSO */
	bool truncated;			/* T: the sender cut the frame */
	bool has_index;
	uint32_t index;			/* Type II index; sub-header port index */
	bool has_dir;
	uint8_t dir;			/* Type III D: 0 ingress, 1 egress */

	/* ERSPAN Type III */
	uint32_t timestamp;
	uint16_t sgt;
	bool p;
	uint8_t ft;			/* frame type: 0 Ethernet */
	uint8_t hwid;
	uint8_t gra;			/* enum vtap_pkt_gra */
	bool has_sub;			/* O: the 8-byte platform sub-header */
	uint8_t platf_id;
	uint64_t platf_info;		/* the other 58 bits, as sent */
	bool has_ts_hi;			/* Platf ID 3, 7, 0: upper 32 bits */
	uint32_t ts_hi;
	bool has_ts_sec;		/* Platf ID 5, 6: seconds (IEEE 1588) */
	uint32_t ts_sec;
	uint32_t domain;		/* Platf ID 1: VSM domain; 5, 6: switch id */

	/* The inner frame, inside the decoded buffer. */
	const uint8_t *frame;
	uint32_t frame_len;
	/*
	 * Best estimate of the frame's length before the sender cut it: the
	 * inner IPv4/IPv6 header's length when that says more than was
	 * received, else frame_len + 1 when the T bit says the frame was cut
	 * (larger, by an unknown amount), else frame_len.
	 */
	uint32_t orig_len;
	bool orig_len_exact;		/* orig_len comes from the inner IP header */
};

/*
 * Decode @buf, which starts with an IPv4 header (as an AF_INET raw socket
 * delivers it) or an IPv6 header.  Returns enum vtap_decode_err; @p is
 * filled only on VTAP_DEC_OK (it is cleared first in any case).
 */
int vtap_decode_ip(const uint8_t *buf, size_t len, struct vtap_pkt *p);

/*
 * Decode @buf, which starts with the GRE header (as an AF_INET6 raw socket
 * delivers it).  Same contract as vtap_decode_ip(); the address fields stay
 * zero.
 */
int vtap_decode_gre(const uint8_t *buf, size_t len, struct vtap_pkt *p);

/*
 * Decode @buf, a VXLAN UDP payload (RFC 7348; as a UDP socket delivers it):
 * the 8-byte header, then the inner Ethernet frame.  The I flag must be set;
 * the other flag bits and the reserved fields are ignored, as RFC 7348 says
 * a receiver must.  The VNI is the session (has_session, session); vtap.ko
 * uses the session id unless the session sets another VNI.  VXLAN has no
 * sequence number (has_seq stays false) and no truncation bit: a frame cut
 * by the sender is told only by its inner IP length (orig_len).  Same
 * contract as vtap_decode_ip(); the address fields stay zero.
 */
int vtap_decode_vxlan(const uint8_t *buf, size_t len, struct vtap_pkt *p);

/* A short name for an error ("short", "ip_len", ...), for counters. */
const char *vtap_decode_strerror(int err);

/* ---- sequence accounting ---------------------------------------------- */

/*
 * One sender's session.  A jump from n to n + k counts k - 1 lost; a
 * sequence number below the expected one is reordered (it fills a gap,
 * which is no longer counted as lost) or a duplicate (it arrived before),
 * as far as the last VTAP_SEQ_WINDOW numbers go.  Numbers wrap at 2^32.
 * A packet further behind than the window is "late" (counted as reordered,
 * since it cannot be told apart); two such packets in a row, the second
 * right after the first, mean that the sender started over (a session
 * re-created, a module reloaded): "resets", and accounting resumes there.
 * Two duplicates in a row more than VTAP_SEQ_RESTART_MIN behind, the
 * second right after the first (or a late one and such a duplicate), are a
 * restart too: a sender that started over before it sent a window's worth
 * repeats numbers seen already (a network's duplicates come right after
 * their originals).  The first packet of the new run stays counted as late
 * or duplicate; nothing is lost.
 */
#define VTAP_SEQ_WINDOW		1024
#define VTAP_SEQ_RESTART_MIN	16

enum vtap_seq_verdict {
	VTAP_SEQ_FIRST,		/* the first packet, or the first after a reset */
	VTAP_SEQ_IN_ORDER,
	VTAP_SEQ_GAP,		/* in order after *missing lost packets */
	VTAP_SEQ_REORDERED,	/* arrived after a later one */
	VTAP_SEQ_DUPLICATE,
	VTAP_SEQ_LATE,		/* too far behind to tell */
};

struct vtap_seq {
	bool started;
	bool cand_valid;		/* a possible restart was seen */
	uint32_t next;			/* the next expected number */
	uint32_t cand_next;
	uint64_t span;			/* numbers from the first to next */
	uint64_t lost, reordered, duplicates, late, resets, gaps;
	uint64_t win[VTAP_SEQ_WINDOW / 64];	/* seen: [next - WINDOW, next) */
};

void vtap_seq_init(struct vtap_seq *s);
/* Account for @seq; *@missing gets the gap's size for VTAP_SEQ_GAP, else 0. */
enum vtap_seq_verdict vtap_seq_update(struct vtap_seq *s, uint32_t seq,
				      uint32_t *missing);

/* ---- timestamps --------------------------------------------------------- */

/* The number whose low 32 bits are @low that is nearest to @ref. */
uint64_t vtap_unwrap32(uint32_t low, uint64_t ref);

/*
 * The sender's time of an ERSPAN III packet in ns since the epoch, from its
 * timestamp (and sub-header), with the receiver's clock @arrival_ns
 * resolving what the 32 bits leave open: 100 us and 100 ns units wrap after
 * about 4.97 days and 429 s, so the time nearest to the arrival is taken.
 * Returns false when the packet has no usable timestamp (not Type III,
 * custom granularity, a value that does not fit): use the arrival time.
 */
bool vtap_pkt_time(const struct vtap_pkt *p, uint64_t arrival_ns,
		   uint64_t *ns);

#endif
