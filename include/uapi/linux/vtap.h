/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * vtap: a virtual TAP for Linux hypervisors.
 *
 * Generic netlink family "vtap" (VTAP_GENL_NAME), version VTAP_GENL_VERSION.
 * Every object lives in the network namespace of the netlink socket that
 * manages it; commands that change state need CAP_NET_ADMIN over that
 * namespace (GENL_UNS_ADMIN_PERM).  All attributes are validated strictly:
 * unknown attributes, wrong types and wrong lengths are rejected with an
 * extack message.  Documentation/netlink/specs/vtap.yaml describes the same
 * family.
 *
 * VTAP_CMD_INFO_GET (do, unprivileged)
 *   request:  (no attributes)
 *   reply:    VTAP_A_INFO_VERSION       string, module version
 *             VTAP_A_INFO_API           u32, VTAP_GENL_VERSION
 *             VTAP_A_INFO_FEATURES      u64, VTAP_FEATURE_* bits
 *             VTAP_A_INFO_SESSIONS      u32, sessions in this netns
 *             VTAP_A_INFO_MAX_SESSIONS  u32, VTAP_SESSION_ID_MAX
 *
 * VTAP_CMD_SESSION_NEW (do, admin)
 *   request:  VTAP_A_SESSION_NAME       string, 1..VTAP_NAME_MAX-1 bytes, required
 *             VTAP_A_SESSION_ID         u32, 1..VTAP_SESSION_ID_MAX; allocated if absent
 *             VTAP_A_SESSION_ENCAP      u8, enum vtap_encap, required
 *             VTAP_A_SESSION_REMOTE4 or
 *             VTAP_A_SESSION_REMOTE6    be32 / 16 bytes, required (exactly one)
 *             VTAP_A_SESSION_LOCAL4 or
 *             VTAP_A_SESSION_LOCAL6     same family as the remote, optional
 *             VTAP_A_SESSION_KEY        u32, GRE key (gre only)
 *             VTAP_A_SESSION_VNI        u32, 0..VTAP_VXLAN_VNI_MAX (vxlan only;
 *                                       default: the session id)
 *             VTAP_A_SESSION_DPORT      u16, UDP destination port, 1..65535
 *                                       (vxlan only; default VTAP_VXLAN_PORT)
 *             VTAP_A_SESSION_TTL        u8, 1..255 (default 64)
 *             VTAP_A_SESSION_TOS        u8 (default 0)
 *             VTAP_A_SESSION_HWID       u8, 0..63 (erspan3 only)
 *             VTAP_A_SESSION_GRA        u8, enum vtap_gra (erspan3 only)
 *             VTAP_A_SESSION_SUBHDR     u8, the platform-specific sub-header
 *                                       (erspan3 only): 0 none (O bit 0,
 *                                       default), 3 (Platf ID 3: the port
 *                                       id's low 14 bits) or 7 (Platf ID 7:
 *                                       all 20 bits), each with the upper 32
 *                                       bits of the timestamp
 *             VTAP_A_SESSION_SNAPLEN    u32, 0 (whole frames) or 14..65535
 *             VTAP_A_SESSION_SAMPLE     u32, mirror 1 frame in N (default 1)
 *             VTAP_A_SESSION_SAMPLE_MODE u8, enum vtap_sample_mode
 *             VTAP_A_SESSION_MASK_OFFSET u16 \ bytes [OFFSET, OFFSET+LEN) of
 *             VTAP_A_SESSION_MASK_LEN   u16  | each copy (from the start of
 *             VTAP_A_SESSION_MASK_BYTE  u8  /  the frame) overwritten with BYTE
 *             VTAP_A_SESSION_RATE       u64, budget: 0 none, else units/s
 *             VTAP_A_SESSION_RATE_UNIT  u8, enum vtap_rate_unit
 *             VTAP_A_SESSION_BURST      u32, packets or bytes (default 1/10 s)
 *             VTAP_A_SESSION_FLAGS      u32, VTAP_SESSION_F_*
 *             VTAP_A_SESSION_DEDUP      u32, 0 (off, the default) or
 *                                       1..VTAP_DEDUP_WINDOW_MAX: the
 *                                       window in microseconds within which
 *                                       a frame delivered to a VM (an "in"
 *                                       copy) is not sent again when the
 *                                       session sent the same bytes as
 *                                       another port's "out" copy (both
 *                                       ends of a conversation monitored);
 *                                       counted in VTAP_A_STATS_DEDUP
 *   reply:    the new session, as in SESSION_GET
 *
 * VTAP_CMD_SESSION_DEL (do, admin)
 *   request:  VTAP_A_SESSION_NAME or VTAP_A_SESSION_ID
 *
 * VTAP_CMD_SESSION_SET (do, admin)
 *   request:  VTAP_A_SESSION_NAME or VTAP_A_SESSION_ID (selects the session),
 *             then any attribute of SESSION_NEW but ENCAP and ID to change.
 *   reply:    the session, as in SESSION_GET
 *
 * VTAP_CMD_SESSION_GET (do and dump, unprivileged)
 *   request:  VTAP_A_SESSION_NAME or VTAP_A_SESSION_ID (do only)
 *   reply:    VTAP_A_SESSION_NAME, _ID, _ENCAP, _REMOTE4|6, _LOCAL4|6 (if set),
 *             _KEY (if set), _VNI and _DPORT (vxlan), _TTL, _TOS, _HWID,
 *             _GRA and _SUBHDR (erspan3), _SNAPLEN,
 *             _SAMPLE, _SAMPLE_MODE, _MASK_* (if set), _RATE, _RATE_UNIT and
 *             _BURST (if set), _FLAGS, _DEDUP
 *             VTAP_A_SESSION_COOKIE     u64, random, fixed for the session's life:
 *                                       a flow or rule made for this session
 *                                       carries it, and feeds no other session
 *                                       that later gets the same id
 *             VTAP_A_SESSION_STATS      nested, VTAP_A_STATS_* (u64 each)
 *
 * The order of work on a frame: sampling, dedup (an in copy whose bytes
 * the session sent as an out copy within the window is counted and not
 * sent), copy (GSO segmented unless
 * VTAP_SESSION_F_GSO_SLICE), slice to SNAPLEN, cut to the path MTU, rate
 * budget, mask, encapsulate.  A copy cut by SNAPLEN or the path MTU has the
 * ERSPAN T bit set (GRE and VXLAN have no such bit); its original length
 * is the one its own headers state (the inner IPv4 total length or IPv6
 * payload length), which the collector uses.  The rate budget is charged
 * per copy actually sent: one per copy (pps) or the copy's bits before
 * encapsulation, after slicing (bps); it is a GCRA token bucket: BURST
 * units may go at once.
 *
 * Requests are checked against a policy per command: SESSION_DEL and the
 * doit of SESSION_GET take only NAME and ID, INFO_GET and the dump take no
 * attribute; STATS and COOKIE are read-only, ENCAP cannot change in SET.
 *
 * Multicast group VTAP_MCGRP_EVENTS: SESSION_NEW, SESSION_SET and
 * SESSION_DEL messages, built like a SESSION_GET reply, on every change.
 */
#ifndef _UAPI_LINUX_VTAP_H
#define _UAPI_LINUX_VTAP_H

#define VTAP_GENL_NAME		"vtap"
#define VTAP_GENL_VERSION	1
#define VTAP_MCGRP_EVENTS	"events"

#define VTAP_NAME_MAX		32	/* including the terminating NUL */
#define VTAP_SESSION_ID_MAX	1023	/* ERSPAN session ids are 10 bits */
#define VTAP_ERSPAN_HWID_MAX	63
#define VTAP_VXLAN_VNI_MAX	0xffffff	/* 24 bits */
#define VTAP_VXLAN_PORT		4789		/* IANA's port for VXLAN */
#define VTAP_ERSPAN_SUBHDR_MAX	7	/* VTAP_A_SESSION_SUBHDR: 0, 3 or 7 */
#define VTAP_DEDUP_WINDOW_MAX	1000000	/* VTAP_A_SESSION_DEDUP: 1 s, in us */
#define VTAP_DEDUP_WINDOW_DEFAULT 10000	/* what vtapctl's "dedup" asks for: 10 ms */

enum vtap_cmd {
	VTAP_CMD_UNSPEC,
	VTAP_CMD_INFO_GET,
	VTAP_CMD_SESSION_NEW,
	VTAP_CMD_SESSION_DEL,
	VTAP_CMD_SESSION_GET,
	VTAP_CMD_SESSION_SET,

	__VTAP_CMD_MAX
};

#define VTAP_CMD_MAX (__VTAP_CMD_MAX - 1)

enum vtap_encap {
	VTAP_ENCAP_UNSPEC,
	VTAP_ENCAP_GRE,		/* GRE-TEB (0x6558), key and sequence */
	VTAP_ENCAP_ERSPAN2,	/* ERSPAN Type II (0x88BE) */
	VTAP_ENCAP_ERSPAN3,	/* ERSPAN Type III (0x22EB) */
	VTAP_ENCAP_VXLAN,	/* VXLAN (RFC 7348) over UDP */

	__VTAP_ENCAP_MAX
};

#define VTAP_ENCAP_MAX (__VTAP_ENCAP_MAX - 1)

/* ERSPAN Type III timestamp granularity, values as on the wire. */
enum vtap_gra {
	VTAP_GRA_100US,
	VTAP_GRA_100NS,

	__VTAP_GRA_MAX
};

#define VTAP_GRA_MAX (__VTAP_GRA_MAX - 1)

enum vtap_sample_mode {
	VTAP_SAMPLE_RANDOM,	/* each frame with probability 1/N */
	VTAP_SAMPLE_EVERY,	/* every Nth frame, deterministic */

	__VTAP_SAMPLE_MAX
};

#define VTAP_SAMPLE_MAX (__VTAP_SAMPLE_MAX - 1)

enum vtap_rate_unit {
	VTAP_RATE_PPS,		/* copies per second, burst in copies */
	VTAP_RATE_BPS,		/* bits per second, burst in bytes */

	__VTAP_RATE_UNIT_MAX
};

#define VTAP_RATE_UNIT_MAX (__VTAP_RATE_UNIT_MAX - 1)

#define VTAP_SNAPLEN_MIN	14		/* an Ethernet header */
#define VTAP_RATE_BPS_MIN	1000ULL
#define VTAP_RATE_MAX		1000000000000ULL	/* 1e12 /s */

/* VTAP_A_SESSION_FLAGS */
enum vtap_session_flags {
	/* GSO super-packets: one copy cut to fit, instead of the segments. */
	VTAP_SESSION_F_GSO_SLICE	= 1U << 0,
	/*
	 * Frames whose shape the classifier cannot follow far enough to
	 * decide the session's rules (more than two VLAN tags, more than
	 * eight IPv6 extension headers, a truncated header, the
	 * ports of a non-first fragment): skipped instead of mirrored.
	 */
	VTAP_SESSION_F_UNPARSED_SKIP	= 1U << 1,

	__VTAP_SESSION_F_ALL		= VTAP_SESSION_F_GSO_SLICE |
					  VTAP_SESSION_F_UNPARSED_SKIP,
};

/* VTAP_A_INFO_FEATURES: what this module implements. */
enum vtap_feature {
	VTAP_FEATURE_SESSIONS	= 1ULL << 0,	/* session objects over genetlink */
	VTAP_FEATURE_KFUNC	= 1ULL << 1,	/* bpf_vtap_mirror() for TC programs */
	VTAP_FEATURE_GRE	= 1ULL << 2,	/* GRE-TEB encapsulation */
	VTAP_FEATURE_ERSPAN2	= 1ULL << 3,	/* ERSPAN Type II */
	VTAP_FEATURE_ERSPAN3	= 1ULL << 4,	/* ERSPAN Type III */
	VTAP_FEATURE_IPV6	= 1ULL << 5,	/* IPv6 underlay */
	VTAP_FEATURE_SAMPLE	= 1ULL << 6,	/* sampling */
	VTAP_FEATURE_SLICE	= 1ULL << 7,	/* snaplen, masking */
	VTAP_FEATURE_RATE	= 1ULL << 8,	/* rate budget */
	VTAP_FEATURE_GSO	= 1ULL << 9,	/* GSO segmented or sliced */
	VTAP_FEATURE_DEFERRED	= 1ULL << 10,	/* deferred transmit queue */
	VTAP_FEATURE_COOKIE	= 1ULL << 11,	/* session cookies, checked per copy */
	VTAP_FEATURE_UNPARSED	= 1ULL << 12,	/* unparsed frames: mirror or skip */
	VTAP_FEATURE_VXLAN	= 1ULL << 13,	/* VXLAN encapsulation */
	VTAP_FEATURE_ERSPAN3_SUBHDR = 1ULL << 14, /* ERSPAN III Platf ID 3, 7 */
	VTAP_FEATURE_DEDUP	= 1ULL << 15,	/* in copies of sent out copies skipped */
	VTAP_FEATURE_XDP	= 1ULL << 16,	/* bpf_vtap_mirror_xdp() for XDP programs */
};

enum vtap_info_attrs {
	VTAP_A_INFO_UNSPEC,
	VTAP_A_INFO_VERSION,
	VTAP_A_INFO_API,
	VTAP_A_INFO_FEATURES,
	VTAP_A_INFO_SESSIONS,
	VTAP_A_INFO_MAX_SESSIONS,
	VTAP_A_INFO_PAD,

	__VTAP_A_INFO_MAX
};

#define VTAP_A_INFO_MAX (__VTAP_A_INFO_MAX - 1)

enum vtap_session_attrs {
	VTAP_A_SESSION_UNSPEC,
	VTAP_A_SESSION_NAME,
	VTAP_A_SESSION_ID,
	VTAP_A_SESSION_ENCAP,
	VTAP_A_SESSION_REMOTE4,
	VTAP_A_SESSION_REMOTE6,
	VTAP_A_SESSION_LOCAL4,
	VTAP_A_SESSION_LOCAL6,
	VTAP_A_SESSION_KEY,
	VTAP_A_SESSION_TTL,
	VTAP_A_SESSION_TOS,
	VTAP_A_SESSION_HWID,
	VTAP_A_SESSION_GRA,
	VTAP_A_SESSION_STATS,
	VTAP_A_SESSION_PAD,
	VTAP_A_SESSION_SNAPLEN,
	VTAP_A_SESSION_SAMPLE,
	VTAP_A_SESSION_SAMPLE_MODE,
	VTAP_A_SESSION_MASK_OFFSET,
	VTAP_A_SESSION_MASK_LEN,
	VTAP_A_SESSION_MASK_BYTE,
	VTAP_A_SESSION_RATE,
	VTAP_A_SESSION_RATE_UNIT,
	VTAP_A_SESSION_BURST,
	VTAP_A_SESSION_FLAGS,
	VTAP_A_SESSION_COOKIE,
	VTAP_A_SESSION_VNI,
	VTAP_A_SESSION_DPORT,
	VTAP_A_SESSION_SUBHDR,
	VTAP_A_SESSION_DEDUP,

	__VTAP_A_SESSION_MAX
};

#define VTAP_A_SESSION_MAX (__VTAP_A_SESSION_MAX - 1)

/*
 * Nested in VTAP_A_SESSION_STATS, all u64, summed over CPUs.  New counters
 * are only ever appended.
 */
enum vtap_stats_attrs {
	VTAP_A_STATS_UNSPEC,
	VTAP_A_STATS_PAD,
	VTAP_A_STATS_MATCHED,		/* bpf_vtap_mirror() calls for this session */
	VTAP_A_STATS_SENT,		/* copies handed to the underlay */
	VTAP_A_STATS_BYTES,		/* bytes of those copies, outer headers included */
	VTAP_A_STATS_TRUNCATED,		/* copies cut to fit the path MTU */
	VTAP_A_STATS_DROP_NOMEM,	/* no memory for the copy */
	VTAP_A_STATS_DROP_NOROUTE,	/* no route to the remote */
	VTAP_A_STATS_DROP_LOOP,		/* the packet was vtap's own output */
	VTAP_A_STATS_DROP_XMIT,		/* the underlay refused the copy */
	VTAP_A_STATS_DROP_MALFORMED,	/* no usable L2 header */
	VTAP_A_STATS_DROP_QUEUE,	/* the deferred transmit queue was full */
	VTAP_A_STATS_SAMPLED_OUT,	/* not copied: sampling passed it over */
	VTAP_A_STATS_DROP_RATE,		/* over the session's rate budget */
	VTAP_A_STATS_SLICED,		/* copies cut to SNAPLEN */
	VTAP_A_STATS_GSO,		/* GSO super-packets (segmented or sliced) */
	VTAP_A_STATS_UNPARSED,		/* frames the rules could not decide */
	VTAP_A_STATS_DEDUP,		/* in copies not sent: the out copy was */

	__VTAP_A_STATS_MAX
};

#define VTAP_A_STATS_MAX (__VTAP_A_STATS_MAX - 1)

#endif /* _UAPI_LINUX_VTAP_H */
