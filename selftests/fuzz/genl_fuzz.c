// SPDX-License-Identifier: GPL-2.0
/*
 * genl_fuzz: random and mutated messages to vtap's generic netlink family,
 * over raw netlink (no libnl) so that anything can be malformed.  Run inside
 * the test VM by selftests/guest/fuzz_netlink.sh (make fuzz-netlink); needs
 * vtap.ko loaded.
 *
 *   genl_fuzz [-n N] [-s SEED] [-v] [-T MS] [--unpriv]
 *
 *   -n N      messages to send (default 10000)
 *   -s SEED   random seed (default: from the clock; printed at start)
 *   -v        print a message in hex when its replies are wrong
 *   -T MS     receive timeout (default 5000 ms): a reply later than that is
 *             a hang, and ends the run
 *   --unpriv  drop to uid/gid 65534 without capabilities first: then every
 *             command that changes state must fail with EPERM
 *
 * Each message (a datagram: usually one netlink message, sometimes several)
 * is one of: a valid request (SESSION_NEW for each encapsulation over IPv4
 * and IPv6, SESSION_SET, SESSION_DEL, SESSION_GET do and dump, INFO_GET), a
 * valid request mutated (bit flips, truncation, splicing, duplicated
 * attributes, broken lengths, NLA_F_* bits, more messages appended), or a
 * random message (commands 0..VTAP_CMD_MAX+3, attribute types
 * 0..VTAP_A_SESSION_MAX+3 with right- and wrong-sized payloads, strings with
 * and without NUL, nests in nests).  The bounds come from the uapi header's
 * enums, so new commands and attributes are covered without a change here.
 * Message types other than vtap's family id are never sent (but the
 * netlink control types 0..15, which the core ignores).
 *
 * After each datagram a NLMSG_NOOP with NLM_F_ACK follows as a barrier: its
 * ack comes after every reply to the datagram, dumps aside, which must end
 * with NLMSG_DONE.  Every reply is checked: sequence number and port id of a
 * message we sent, an error/ack echoing the request's header (and payload,
 * on the socket without NETLINK_CAP_ACK) with well-formed extack TLVs whose
 * offsets lie inside the request, at most one ack per request and one when
 * NLM_F_ACK asked for it, well-formed attributes in replies, dumps that end.
 *
 * Sessions it may create are named fz-0..fz-63 (random messages can make
 * others) with ids 1..1023; every 500 messages, and at the end, it deletes
 * every session that was not there when it started.
 *
 * Exit status: 0 if every reply was well-formed (and, with --unpriv, no
 * state-changing command succeeded and the sessions are as they were), 1
 * otherwise, 2 for bad usage or setup failures.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/vtap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* What is sent: the uapi's bounds, and a few past them. */
#define CMD_LIMIT	(VTAP_CMD_MAX + 3)
#define SATTR_LIMIT	(VTAP_A_SESSION_MAX + 3)
#define STATS_LIMIT	(VTAP_A_STATS_MAX + 3)
#define INFO_LIMIT	(VTAP_A_INFO_MAX + 3)
#define ATTR_LIMIT	(SATTR_LIMIT > INFO_LIMIT ? SATTR_LIMIT : INFO_LIMIT)

#define NAMES		64	/* fz-0 .. fz-63 */
#define MAXDGRAM	4096
#define MAXMSGS		64	/* netlink messages in one datagram */
#define RBUF		(64 * 1024)
#define CLEAN_EVERY	500
#define MAXSESS		(VTAP_SESSION_ID_MAX + 1)
#define MAX_REPORTS	20	/* failures printed in full */

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define ALIGN4(x)	(((size_t)(x) + 3) & ~(size_t)3)

/* ---- options, state ------------------------------------------------------ */

static unsigned long opt_count = 10000;
static uint64_t opt_seed;
static bool opt_verbose;
static bool opt_unpriv;
static unsigned int opt_timeout_ms = 5000;

static int family;		/* vtap's family id */
static uint32_t next_seq = 1;

struct sock {
	int fd;
	uint32_t portid;
	bool cap_ack;		/* NETLINK_CAP_ACK: errors without the request */
};

static struct sock socks[2];

static struct {
	unsigned long msgs, ok, rejected, dumps, ignored;
	unsigned long created, set, deleted, cleaned;
	unsigned long failures;
	unsigned long err[4096];	/* by errno */
} st;

static bool aborted;		/* a hang: the socket's state is unknown */

/* Extack messages seen, for the -v statistics: what rejects the most. */
static struct {
	char msg[96];
	unsigned long count;
} extacks[128];

static void count_extack(const char *m)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(extacks) && extacks[i].count; i++) {
		if (!strcmp(extacks[i].msg, m)) {
			extacks[i].count++;
			return;
		}
	}
	if (i < ARRAY_SIZE(extacks)) {
		snprintf(extacks[i].msg, sizeof(extacks[i].msg), "%s", m);
		extacks[i].count = 1;
	}
}

static int cmp_extack(const void *a, const void *b)
{
	unsigned long ca = ((const typeof(extacks[0]) *)a)->count;
	unsigned long cb = ((const typeof(extacks[0]) *)b)->count;

	return ca < cb ? 1 : ca > cb ? -1 : 0;
}

/* ---- random numbers (splitmix64: reproducible from the seed) ------------- */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rn(uint32_t n)	/* 0..n-1 */
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

static bool pct(unsigned int p)
{
	return rn(100) < p;
}

/* ---- building messages --------------------------------------------------- */

struct dgram {
	uint8_t b[MAXDGRAM];
	size_t len;
};

static size_t room(const struct dgram *d)
{
	return MAXDGRAM - d->len;
}

static void put(struct dgram *d, const void *p, size_t n)
{
	if (n > room(d))
		n = room(d);
	memcpy(d->b + d->len, p, n);
	d->len += n;
}

static void put_zero(struct dgram *d, size_t n)
{
	if (n > room(d))
		n = room(d);
	memset(d->b + d->len, 0, n);
	d->len += n;
}

static void put_pad(struct dgram *d)
{
	put_zero(d, NLA_ALIGN(d->len) - d->len);
}

static void wr16(struct dgram *d, size_t off, uint16_t v)
{
	if (off + 2 <= d->len)
		memcpy(d->b + off, &v, 2);
}

static void wr32(struct dgram *d, size_t off, uint32_t v)
{
	if (off + 4 <= d->len)
		memcpy(d->b + off, &v, 4);
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Start a message: nlmsghdr + genlmsghdr; returns its offset. */
static size_t msg_begin(struct dgram *d, uint16_t flags, uint8_t cmd,
			uint8_t version, uint16_t reserved)
{
	struct nlmsghdr h = {
		.nlmsg_type = family,
		.nlmsg_flags = flags,
	};
	struct genlmsghdr g = {
		.cmd = cmd,
		.version = version,
		.reserved = reserved,
	};
	size_t off;

	put_pad(d);
	off = d->len;
	put(d, &h, sizeof(h));
	put(d, &g, sizeof(g));
	return off;
}

static void msg_end(struct dgram *d, size_t off)
{
	wr32(d, off, (uint32_t)(d->len - off));
}

static void attr(struct dgram *d, uint16_t type, const void *p, size_t n)
{
	struct nlattr a;

	if (NLA_ALIGN(NLA_HDRLEN + n) > room(d))
		return;
	a.nla_len = (uint16_t)(NLA_HDRLEN + n);
	a.nla_type = type;
	put(d, &a, sizeof(a));
	put(d, p, n);
	put_pad(d);
}

static void attr_u8(struct dgram *d, uint16_t type, uint8_t v)
{
	attr(d, type, &v, 1);
}

static void attr_u16(struct dgram *d, uint16_t type, uint16_t v)
{
	attr(d, type, &v, 2);
}

static void attr_u32(struct dgram *d, uint16_t type, uint32_t v)
{
	attr(d, type, &v, 4);
}

static void attr_u64(struct dgram *d, uint16_t type, uint64_t v)
{
	attr(d, type, &v, 8);
}

static void attr_str(struct dgram *d, uint16_t type, const char *s)
{
	attr(d, type, s, strlen(s) + 1);
}

/* Nests: the header now, its length at the end. */
static size_t nest_begin(struct dgram *d, uint16_t type)
{
	size_t off = d->len;
	struct nlattr a = { .nla_len = NLA_HDRLEN, .nla_type = type };

	if (room(d) < 64)
		return SIZE_MAX;
	put(d, &a, sizeof(a));
	return off;
}

static void nest_end(struct dgram *d, size_t off)
{
	if (off != SIZE_MAX)
		wr16(d, off, (uint16_t)(d->len - off));
}

/* ---- valid requests (the seeds of mutation) ----------------------------- */

static uint16_t valid_flags(void)
{
	return NLM_F_REQUEST | (pct(80) ? NLM_F_ACK : 0);
}

/* Mostly a few names and ids, so that SET, DEL and GET find sessions. */
static void fz_name(char *buf, size_t n)
{
	snprintf(buf, n, "fz-%u", pct(70) ? rn(8) : rn(NAMES));
}

static uint32_t fz_id(void)
{
	if (pct(70))
		return 1 + rn(16);
	return pct(50) ? 1 + rn(64) : 1 + rn(VTAP_SESSION_ID_MAX);
}

static void addr4(uint8_t a[4], bool local)
{
	static const uint8_t nets[][3] = {
		{ 198, 51, 100 }, { 203, 0, 113 },	/* remotes */
		{ 192, 0, 2 },				/* locals */
	};
	const uint8_t *n = nets[local ? 2 : rn(2)];

	a[0] = n[0];
	a[1] = n[1];
	a[2] = n[2];
	a[3] = (uint8_t)(1 + rn(254));
}

static void addr6(uint8_t a[16], bool local)
{
	memset(a, 0, 16);
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[4] = local ? 0x00 : 0x01;
	a[5] = local ? 0x01 : 0x00;	/* 2001:db8:100::/48 or 2001:db8:1::/48 */
	a[15] = (uint8_t)(1 + rn(254));
}

/* Sampling, slicing, masking, rate, flags: each present or not. */
static void broker_attrs(struct dgram *d)
{
	uint32_t snap = 0;

	if (pct(25)) {
		snap = pct(20) ? 0 : VTAP_SNAPLEN_MIN + rn(65535 - VTAP_SNAPLEN_MIN + 1);
		attr_u32(d, VTAP_A_SESSION_SNAPLEN, snap);
	}
	if (pct(25))
		attr_u32(d, VTAP_A_SESSION_SAMPLE, 1 + rn(1000));
	if (pct(15))
		attr_u8(d, VTAP_A_SESSION_SAMPLE_MODE, (uint8_t)rn(VTAP_SAMPLE_MAX + 1));
	if (pct(20)) {
		uint16_t len = (uint16_t)rn(snap ? snap : 1500);

		if (pct(70))
			attr_u16(d, VTAP_A_SESSION_MASK_OFFSET,
				 (uint16_t)rn((snap ? snap : 1500) - len + 1));
		attr_u16(d, VTAP_A_SESSION_MASK_LEN, len);
		if (pct(70))
			attr_u8(d, VTAP_A_SESSION_MASK_BYTE, (uint8_t)rn(256));
	}
	if (pct(25)) {
		bool bps = pct(50);

		attr_u64(d, VTAP_A_SESSION_RATE, pct(10) ? 0 :
			 bps ? VTAP_RATE_BPS_MIN + rnd64() % VTAP_RATE_MAX : 1 + rn(1000000));
		attr_u8(d, VTAP_A_SESSION_RATE_UNIT, bps ? VTAP_RATE_BPS : VTAP_RATE_PPS);
		if (pct(50))
			attr_u32(d, VTAP_A_SESSION_BURST, 1 + rn(100000));
	}
	if (pct(20))	/* off, a window, or (rarely) one too long */
		attr_u32(d, VTAP_A_SESSION_DEDUP, pct(30) ? 0 :
			 pct(5) ? VTAP_DEDUP_WINDOW_MAX + 1 : 1 + rn(VTAP_DEDUP_WINDOW_MAX));
	if (pct(25))
		attr_u32(d, VTAP_A_SESSION_FLAGS, (uint32_t)rnd64() & __VTAP_SESSION_F_ALL);
}

/* The session a SET, DEL or GET names: by name, id or both. */
static void select_attrs(struct dgram *d)
{
	char name[16];

	fz_name(name, sizeof(name));
	switch (rn(4)) {
	case 0:
		attr_u32(d, VTAP_A_SESSION_ID, fz_id());
		break;
	case 1:
		attr_str(d, VTAP_A_SESSION_NAME, name);
		attr_u32(d, VTAP_A_SESSION_ID, fz_id());
		break;
	default:
		attr_str(d, VTAP_A_SESSION_NAME, name);
		break;
	}
}

static void seed_new(struct dgram *d, uint8_t encap, bool v6)
{
	size_t m = msg_begin(d, valid_flags(), VTAP_CMD_SESSION_NEW, VTAP_GENL_VERSION, 0);
	uint8_t a[16];
	char name[16];

	fz_name(name, sizeof(name));
	attr_str(d, VTAP_A_SESSION_NAME, name);
	if (pct(60))
		attr_u32(d, VTAP_A_SESSION_ID, fz_id());
	attr_u8(d, VTAP_A_SESSION_ENCAP, encap);
	if (v6) {
		addr6(a, false);
		attr(d, VTAP_A_SESSION_REMOTE6, a, 16);
		if (pct(30)) {
			addr6(a, true);
			attr(d, VTAP_A_SESSION_LOCAL6, a, 16);
		}
	} else {
		addr4(a, false);
		attr(d, VTAP_A_SESSION_REMOTE4, a, 4);
		if (pct(30)) {
			addr4(a, true);
			attr(d, VTAP_A_SESSION_LOCAL4, a, 4);
		}
	}
	if (encap == VTAP_ENCAP_GRE && pct(50))
		attr_u32(d, VTAP_A_SESSION_KEY, (uint32_t)rnd64());
	if (pct(30))
		attr_u8(d, VTAP_A_SESSION_TTL, (uint8_t)(1 + rn(255)));
	if (pct(30))
		attr_u8(d, VTAP_A_SESSION_TOS, (uint8_t)rn(256));
	if (encap == VTAP_ENCAP_ERSPAN3) {
		if (pct(50))
			attr_u8(d, VTAP_A_SESSION_HWID, (uint8_t)rn(VTAP_ERSPAN_HWID_MAX + 1));
		if (pct(50))
			attr_u8(d, VTAP_A_SESSION_GRA, (uint8_t)rn(VTAP_GRA_MAX + 1));
		if (pct(30))
			attr_u8(d, VTAP_A_SESSION_SUBHDR, (uint8_t)(rn(3) == 0 ? 0 : rn(2) ? 3 : 7));
	}
	if (encap == VTAP_ENCAP_VXLAN) {
		if (pct(50))
			attr_u32(d, VTAP_A_SESSION_VNI, (uint32_t)rn(VTAP_VXLAN_VNI_MAX + 1));
		if (pct(50))
			attr_u16(d, VTAP_A_SESSION_DPORT, (uint16_t)(1 + rn(65535)));
	}
	broker_attrs(d);
	msg_end(d, m);
}

static void seed_set(struct dgram *d)
{
	size_t m = msg_begin(d, valid_flags(), VTAP_CMD_SESSION_SET, VTAP_GENL_VERSION, 0);
	uint8_t a[16];

	select_attrs(d);
	if (pct(20)) {
		addr4(a, false);
		attr(d, VTAP_A_SESSION_REMOTE4, a, 4);
	} else if (pct(20)) {
		addr6(a, false);
		attr(d, VTAP_A_SESSION_REMOTE6, a, 16);
	}
	if (pct(20))
		attr_u32(d, VTAP_A_SESSION_KEY, (uint32_t)rnd64());
	if (pct(30))
		attr_u8(d, VTAP_A_SESSION_TTL, (uint8_t)(1 + rn(255)));
	if (pct(20))
		attr_u8(d, VTAP_A_SESSION_TOS, (uint8_t)rn(256));
	if (pct(20))
		attr_u8(d, VTAP_A_SESSION_HWID, (uint8_t)rn(VTAP_ERSPAN_HWID_MAX + 1));
	if (pct(20))
		attr_u8(d, VTAP_A_SESSION_GRA, (uint8_t)rn(VTAP_GRA_MAX + 1));
	if (pct(20))
		attr_u8(d, VTAP_A_SESSION_SUBHDR, (uint8_t)rn(VTAP_ERSPAN_SUBHDR_MAX + 1));
	if (pct(20))
		attr_u32(d, VTAP_A_SESSION_VNI, (uint32_t)rn(VTAP_VXLAN_VNI_MAX + 1));
	if (pct(20))
		attr_u16(d, VTAP_A_SESSION_DPORT, (uint16_t)(1 + rn(65535)));
	broker_attrs(d);
	msg_end(d, m);
}

static void seed_simple(struct dgram *d, uint8_t cmd, uint16_t flags, bool sel)
{
	size_t m = msg_begin(d, flags, cmd, VTAP_GENL_VERSION, 0);

	if (sel)
		select_attrs(d);
	msg_end(d, m);
}

enum { SEED_NEW, SEED_SET, SEED_DEL, SEED_GET, SEED_DUMP, SEED_INFO, SEED_N };

static void build_seed(struct dgram *d)
{
	switch (rn(SEED_N + 2)) {	/* NEW three times as often */
	case SEED_SET:
		seed_set(d);
		break;
	case SEED_DEL:
		seed_simple(d, VTAP_CMD_SESSION_DEL, valid_flags(), true);
		break;
	case SEED_GET:
		seed_simple(d, VTAP_CMD_SESSION_GET, valid_flags(), true);
		break;
	case SEED_DUMP:
		seed_simple(d, VTAP_CMD_SESSION_GET, NLM_F_REQUEST | NLM_F_DUMP |
			    (pct(30) ? NLM_F_ACK : 0), false);
		break;
	case SEED_INFO:
		seed_simple(d, VTAP_CMD_INFO_GET, valid_flags(), false);
		break;
	default:
		seed_new(d, (uint8_t)(VTAP_ENCAP_GRE + rn(VTAP_ENCAP_MAX)), pct(50));
		break;
	}
}

/* ---- random messages ---------------------------------------------------- */

enum { SZ_UNKNOWN, SZ_STR, SZ_NEST, SZ_1 = 1, SZ_2 = 2, SZ_4 = 4, SZ_8 = 8, SZ_16 = 16 };

/* What each session attribute's payload is; unknown (0) for new ones. */
static const uint8_t sess_size[VTAP_A_SESSION_MAX + 1] = {
	[VTAP_A_SESSION_NAME]		= SZ_STR,
	[VTAP_A_SESSION_ID]		= SZ_4,
	[VTAP_A_SESSION_ENCAP]		= SZ_1,
	[VTAP_A_SESSION_REMOTE4]	= SZ_4,
	[VTAP_A_SESSION_REMOTE6]	= SZ_16,
	[VTAP_A_SESSION_LOCAL4]		= SZ_4,
	[VTAP_A_SESSION_LOCAL6]		= SZ_16,
	[VTAP_A_SESSION_KEY]		= SZ_4,
	[VTAP_A_SESSION_TTL]		= SZ_1,
	[VTAP_A_SESSION_TOS]		= SZ_1,
	[VTAP_A_SESSION_HWID]		= SZ_1,
	[VTAP_A_SESSION_GRA]		= SZ_1,
	[VTAP_A_SESSION_STATS]		= SZ_NEST,
	[VTAP_A_SESSION_SNAPLEN]	= SZ_4,
	[VTAP_A_SESSION_SAMPLE]		= SZ_4,
	[VTAP_A_SESSION_SAMPLE_MODE]	= SZ_1,
	[VTAP_A_SESSION_MASK_OFFSET]	= SZ_2,
	[VTAP_A_SESSION_MASK_LEN]	= SZ_2,
	[VTAP_A_SESSION_MASK_BYTE]	= SZ_1,
	[VTAP_A_SESSION_RATE]		= SZ_8,
	[VTAP_A_SESSION_RATE_UNIT]	= SZ_1,
	[VTAP_A_SESSION_BURST]		= SZ_4,
	[VTAP_A_SESSION_FLAGS]		= SZ_4,
	[VTAP_A_SESSION_VNI]		= SZ_4,
	[VTAP_A_SESSION_DPORT]		= SZ_2,
	[VTAP_A_SESSION_SUBHDR]		= SZ_1,
	[VTAP_A_SESSION_DEDUP]		= SZ_4,
};

static uint64_t interesting(unsigned int size)
{
	static const uint64_t v8[] = {
		0, 1, 2, 3, 4, VTAP_ENCAP_MAX, VTAP_ENCAP_MAX + 1, 13, 14, 15, 63, 64,
		127, 128, 254, 255,
	};
	static const uint64_t v16[] = {
		0, 1, 13, 14, 15, 255, 256, 1500, VTAP_VXLAN_PORT, 0x7fff, 0x8000,
		0xfffe, 0xffff,
	};
	static const uint64_t v32[] = {
		0, 1, 2, 3, 13, 14, 64, VTAP_SESSION_ID_MAX - 1, VTAP_SESSION_ID_MAX,
		VTAP_SESSION_ID_MAX + 1, 65535, 65536, 0x7fffffff, 0x80000000,
		0xffffffff, __VTAP_SESSION_F_ALL, __VTAP_SESSION_F_ALL + 1,
		VTAP_VXLAN_VNI_MAX, VTAP_VXLAN_VNI_MAX + 1,
		0xc6336402,	/* 198.51.100.2, as read on x86 */
		0x026433c6,	/* 198.51.100.2 in network order */
		0x010000e0,	/* 224.0.0.1 */
	};
	static const uint64_t v64[] = {
		0, 1, VTAP_RATE_BPS_MIN - 1, VTAP_RATE_BPS_MIN, VTAP_RATE_MAX,
		VTAP_RATE_MAX + 1, UINT32_MAX, (uint64_t)UINT32_MAX + 1,
		INT64_MAX, UINT64_MAX,
	};

	if (pct(25))
		return rnd64();
	switch (size) {
	case 1:
		return v8[rn(ARRAY_SIZE(v8))];
	case 2:
		return v16[rn(ARRAY_SIZE(v16))];
	case 4:
		return v32[rn(ARRAY_SIZE(v32))];
	default:
		return v64[rn(ARRAY_SIZE(v64))];
	}
}

static const unsigned int wrong_sizes[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 32 };

static void rand_bytes(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rnd64();
}

/* A string payload: names, long, unterminated, random bytes. */
static size_t rand_string(uint8_t *p)
{
	size_t n, k;

	switch (rn(8)) {
	case 0:			/* a name without its NUL */
		snprintf((char *)p, 16, "fz-%u", rn(NAMES));
		return strlen((char *)p);
	case 1:			/* empty, with or without NUL */
		p[0] = 0;
		return rn(2);
	case 2:			/* around VTAP_NAME_MAX */
		n = VTAP_NAME_MAX - 2 + rn(4);
		memset(p, 'x', n);
		p[n] = 0;
		return n + rn(2);
	case 3:			/* random bytes, maybe NUL-terminated */
		n = rn(301);
		rand_bytes(p, n);
		if (n && pct(50))
			p[n - 1] = 0;
		return n;
	case 4:			/* a name, a NUL inside, garbage after */
		snprintf((char *)p, 16, "fz-%u", rn(NAMES));
		n = strlen((char *)p) + 1;
		k = rn(8);
		rand_bytes(p + n, k);
		return n + k;
	case 5:			/* short random bytes then NUL */
		n = 1 + rn(VTAP_NAME_MAX);
		rand_bytes(p, n);
		p[n - 1] = 0;
		return n;
	default:		/* a name */
		snprintf((char *)p, 16, "fz-%u", rn(NAMES));
		return strlen((char *)p) + 1;
	}
}

static uint16_t type_flags(void)
{
	uint16_t f = 0;

	if (pct(8))
		f |= NLA_F_NESTED;
	if (pct(8))
		f |= NLA_F_NET_BYTEORDER;
	return f;
}

static void rand_attr(struct dgram *d, unsigned int depth);

/* A nest of random attributes; inside stats-like u64s, or nests again. */
static void rand_nest(struct dgram *d, uint16_t type, unsigned int depth)
{
	size_t off = nest_begin(d, type);
	unsigned int i, n = rn(7);

	if (off == SIZE_MAX)
		return;
	for (i = 0; i < n; i++) {
		if (depth < 3 && pct(15)) {
			rand_nest(d, (uint16_t)(rn(STATS_LIMIT + 1) | (pct(70) ? NLA_F_NESTED : 0)),
				  depth + 1);
		} else if (pct(60)) {
			attr_u64(d, (uint16_t)(rn(STATS_LIMIT + 1) | type_flags()),
				 interesting(8));
		} else {
			rand_attr(d, depth + 1);
		}
	}
	nest_end(d, off);
}

static void rand_attr(struct dgram *d, unsigned int depth)
{
	/* every type; the stats nest (reply-only) more often */
	uint16_t type = pct(6) ? VTAP_A_SESSION_STATS : (uint16_t)rn(ATTR_LIMIT + 1);
	unsigned int size = type <= VTAP_A_SESSION_MAX ? sess_size[type] : SZ_UNKNOWN;
	uint8_t buf[320];
	uint64_t v;
	size_t n;

	if (depth < 3 && ((size == SZ_NEST && pct(70)) || pct(5))) {
		rand_nest(d, (uint16_t)(type | (pct(60) ? NLA_F_NESTED : 0) |
					(pct(5) ? NLA_F_NET_BYTEORDER : 0)), depth + 1);
		return;
	}
	type |= type_flags();
	if (size == SZ_STR && pct(80)) {
		n = rand_string(buf);
		attr(d, type, buf, n);
		return;
	}
	if (size == SZ_UNKNOWN || size == SZ_STR || size == SZ_NEST)
		size = wrong_sizes[rn(ARRAY_SIZE(wrong_sizes))];
	if (pct(75)) {		/* right-sized, or the size we picked */
		n = size;
	} else if (pct(60)) {
		n = wrong_sizes[rn(ARRAY_SIZE(wrong_sizes))];
	} else {
		n = rn(301);	/* random length 0..300 */
	}
	rand_bytes(buf, n);
	if (n == 1 || n == 2 || n == 4 || n == 8) {
		v = interesting((unsigned int)n);
		if (type & NLA_F_NET_BYTEORDER)
			v = __builtin_bswap64(v) >> (64 - 8 * n);
		memcpy(buf, &v, n);
	} else if (n == 16 && pct(60)) {
		static const uint8_t a6[][16] = {
			{ 0x20, 0x01, 0x0d, 0xb8, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 },
			{ 0 },								/* :: */
			{ 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },	/* ff02::1 */
			{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 2 },	/* mapped */
			{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },		/* ::1 */
			{ 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },	/* fe80::1 */
		};

		memcpy(buf, a6[rn(ARRAY_SIZE(a6))], 16);
	}
	attr(d, type, buf, n);
}

static uint16_t rand_flags(void)
{
	static const uint16_t bits[] = {
		NLM_F_ACK, NLM_F_ECHO, NLM_F_ROOT, NLM_F_MATCH,
		NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_APPEND,
	};
	uint16_t f = pct(90) ? NLM_F_REQUEST : 0;
	size_t i;

	if (pct(25))
		f |= NLM_F_DUMP;
	for (i = 0; i < ARRAY_SIZE(bits); i++)
		if (pct(bits[i] == NLM_F_ACK ? 60 : 8))
			f |= bits[i];
	if (pct(2))
		f = (uint16_t)rnd64();
	return f;
}

static void build_random(struct dgram *d)
{
	size_t m = msg_begin(d, rand_flags(), (uint8_t)(pct(97) ? rn(CMD_LIMIT + 1) : rnd64()),
			     pct(80) ? VTAP_GENL_VERSION : (uint8_t)rnd64(),
			     pct(92) ? 0 : (uint16_t)rnd64());
	unsigned int i, n = rn(13);

	for (i = 0; i < n; i++)
		rand_attr(d, 0);
	msg_end(d, m);
}

/* ---- mutations ----------------------------------------------------------- */

/* Top-level attributes of the first message, while well-formed. */
static size_t walk_attrs(const struct dgram *d, size_t *offs, size_t max)
{
	size_t end = d->len, off = NLMSG_HDRLEN + GENL_HDRLEN, n = 0;
	uint32_t mlen;

	if (d->len < NLMSG_HDRLEN)
		return 0;
	mlen = rd32(d->b);
	if (mlen < end)
		end = mlen;
	while (off + NLA_HDRLEN <= end && n < max) {
		uint16_t l = rd16(d->b + off);

		if (l < NLA_HDRLEN || off + l > end)
			break;
		offs[n++] = off;
		off += ALIGN4(l);
	}
	return n;
}

static void fix_len(struct dgram *d)
{
	wr32(d, 0, (uint32_t)d->len);
}

static void mutate_one(struct dgram *d)
{
	size_t offs[64], n = walk_attrs(d, offs, ARRAY_SIZE(offs)), i, k;
	struct dgram e;

	switch (rn(14)) {
	case 0:			/* bit flips */
		for (k = 1 + rn(8); k && d->len; k--) {
			i = rn((uint32_t)d->len * 8);
			d->b[i / 8] ^= (uint8_t)(1u << (i % 8));
		}
		break;
	case 1: {		/* interesting bytes */
		static const uint8_t vals[] = { 0, 1, 4, 0x7f, 0x80, 0xff };

		for (k = 1 + rn(4); k && d->len; k--)
			d->b[rn((uint32_t)d->len)] = pct(70) ? vals[rn(ARRAY_SIZE(vals))]
							     : (uint8_t)rnd64();
		break;
	}
	case 2:			/* truncation; the length told or not */
		d->len = rn((uint32_t)d->len + 1);
		if (pct(50))
			fix_len(d);
		break;
	case 3:			/* more bytes than nlmsg_len says */
		k = 1 + rn(64);
		if (k > room(d))
			k = room(d);
		rand_bytes(d->b + d->len, k);
		d->len += k;
		break;
	case 4: {		/* an nlmsg_len that disagrees */
		static const int deltas[] = { -1, 1, 4, -4, 8, 100 };
		uint32_t l = (uint32_t)d->len;

		switch (rn(3)) {
		case 0:
			l += deltas[rn(ARRAY_SIZE(deltas))];
			break;
		case 1:
			l = rn(NLMSG_HDRLEN + GENL_HDRLEN + 1);
			break;
		default:
			l = (uint32_t)rnd64();
			break;
		}
		wr32(d, 0, l);
		break;
	}
	case 5:			/* splice: our head, another seed's tail */
		e.len = 0;
		build_seed(&e);
		{
			size_t eoffs[64], en = walk_attrs(&e, eoffs, ARRAY_SIZE(eoffs));
			size_t from = en ? eoffs[rn((uint32_t)en)] : e.len;

			if (n)
				d->len = offs[rn((uint32_t)n)];
			put_pad(d);
			put(d, e.b + from, e.len - from);
		}
		fix_len(d);
		break;
	case 6:			/* a duplicated attribute */
		if (n) {
			i = offs[rn((uint32_t)n)];
			k = NLA_ALIGN(rd16(d->b + i));
			if (i + k <= d->len && k <= room(d)) {
				memmove(d->b + d->len, d->b + i, k);
				d->len += k;
				fix_len(d);
			}
		}
		break;
	case 7:			/* a wrong nla_len */
		if (n) {
			static const int deltas[] = { -1, 1, -4, 4, 8 };
			uint16_t l;

			i = offs[rn((uint32_t)n)];
			l = rd16(d->b + i);
			switch (rn(3)) {
			case 0:
				l = (uint16_t)rn(NLA_HDRLEN + 1);
				break;
			case 1:
				l = (uint16_t)(l + deltas[rn(ARRAY_SIZE(deltas))]);
				break;
			default:
				l = pct(50) ? 0xffff : (uint16_t)rn(400);
				break;
			}
			wr16(d, i, l);
		}
		break;
	case 8:			/* NLA_F_NESTED / NLA_F_NET_BYTEORDER bits */
		if (n) {
			i = offs[rn((uint32_t)n)] + 2;
			wr16(d, i, (uint16_t)(rd16(d->b + i) ^
					      (pct(50) ? NLA_F_NESTED : NLA_F_NET_BYTEORDER)));
		}
		break;
	case 9:			/* one more random attribute */
		rand_attr(d, 0);
		fix_len(d);
		break;
	case 10:		/* a truncated nlattr header at the end */
		put_pad(d);
		k = 1 + rn(NLA_HDRLEN - 1);
		if (k <= room(d)) {
			rand_bytes(d->b + d->len, k);
			d->len += k;
		}
		if (pct(70))
			fix_len(d);
		break;
	case 11:		/* a netlink control type (ignored by the core) */
		if (d->len >= NLMSG_HDRLEN)
			wr16(d, 4, (uint16_t)rn(NLMSG_MIN_TYPE));
		break;
	case 12:		/* header fields */
		if (d->len < NLMSG_HDRLEN + GENL_HDRLEN)
			break;
		switch (rn(4)) {
		case 0:
			d->b[NLMSG_HDRLEN] = (uint8_t)rn(CMD_LIMIT + 1);
			break;
		case 1:
			d->b[NLMSG_HDRLEN + 1] = (uint8_t)rnd64();
			break;
		case 2:
			wr16(d, NLMSG_HDRLEN + 2, (uint16_t)rnd64());
			break;
		default:
			wr16(d, 6, rand_flags());
			break;
		}
		break;
	default:		/* an attribute's payload overwritten */
		if (n) {
			i = offs[rn((uint32_t)n)];
			k = rd16(d->b + i);
			if (k > NLA_HDRLEN && i + k <= d->len) {
				uint64_t v = interesting((unsigned int)(k - NLA_HDRLEN));

				memcpy(d->b + i + NLA_HDRLEN, &v,
				       k - NLA_HDRLEN < 8 ? k - NLA_HDRLEN : 8);
			}
		}
		break;
	}
}

/* One datagram to send. */
static void generate(struct dgram *d)
{
	unsigned int k;

	d->len = 0;
	switch (rn(20)) {
	case 0: case 1: case 2: case 3:		/* valid */
		build_seed(d);
		break;
	case 4: case 5: case 6: case 7: case 8: case 9:	/* random */
		build_random(d);
		if (pct(30))
			mutate_one(d);
		break;
	default:				/* valid, mutated */
		build_seed(d);
		for (k = 1 + rn(3); k; k--)
			mutate_one(d);
		break;
	}
	if (pct(4)) {				/* more messages in the datagram */
		struct dgram e;

		for (k = 1 + rn(3); k; k--) {
			e.len = 0;
			if (pct(50))
				build_seed(&e);
			else
				build_random(&e);
			if (pct(30))
				mutate_one(&e);
			put_pad(d);
			put(d, e.b, e.len);
		}
	}
}

/* ---- what was sent, what came back -------------------------------------- */

struct sent {
	size_t off;
	struct nlmsghdr h;
	bool dispatched;	/* reaches the family (REQUEST, not a control type) */
	bool dump;		/* dispatched, NLM_F_DUMP */
	bool short_hdr;		/* dispatched without a whole genlmsghdr */
	bool known_cmd;		/* a command the family has */
	bool must_eperm;	/* --unpriv: must fail with EPERM */
	uint8_t cmd;
	/* replies */
	int nacks;
	int err;
	int nreplies;
	int nparts;
	bool done;
};

struct exchange {
	const struct dgram *d;
	struct sent m[MAXMSGS];
	size_t n;
	uint32_t sync_seq;
	bool sync_seen;
	bool failed;
	unsigned long idx;
};

static void hexdump(const char *what, const uint8_t *p, size_t n)
{
	size_t i;

	fprintf(stderr, "genl_fuzz:   %s (%zu bytes):", what, n);
	for (i = 0; i < n; i++) {
		if (i % 32 == 0)
			fprintf(stderr, "\ngenl_fuzz:     ");
		fprintf(stderr, "%02x", p[i]);
	}
	fprintf(stderr, "\n");
}

static void failf(struct exchange *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void failf(struct exchange *x, const char *fmt, ...)
{
	va_list ap;

	st.failures++;
	if (st.failures > MAX_REPORTS) {
		if (st.failures == MAX_REPORTS + 1)
			fprintf(stderr, "genl_fuzz: more failures, not shown\n");
		x->failed = true;
		return;
	}
	fprintf(stderr, "genl_fuzz: FAIL message #%lu (seed %" PRIu64 "): ", x->idx, opt_seed);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (opt_verbose && !x->failed)
		hexdump("sent", x->d->b, x->d->len);
	x->failed = true;
}

static bool is_state_cmd(uint8_t cmd)
{
	return cmd == VTAP_CMD_SESSION_NEW || cmd == VTAP_CMD_SESSION_DEL ||
	       cmd == VTAP_CMD_SESSION_SET;
}

static bool known_cmd(uint8_t cmd)
{
	return cmd >= VTAP_CMD_INFO_GET && cmd <= VTAP_CMD_MAX;
}

/*
 * Walk the datagram as netlink_rcv_skb() will, give every message a fresh
 * sequence number, keep message types to vtap's family or a control type,
 * and note what each message should get back.
 */
static void prepare(struct dgram *d, struct exchange *x)
{
	size_t off = 0;

	x->n = 0;
	while (d->len - off >= NLMSG_HDRLEN && x->n < MAXMSGS) {
		struct sent *s = &x->m[x->n];
		uint32_t len = rd32(d->b + off);
		uint16_t type = rd16(d->b + off + 4), flags;
		size_t step;

		if (len < NLMSG_HDRLEN || len > d->len - off)
			break;
		if (type >= NLMSG_MIN_TYPE && type != family)
			wr16(d, off + 4, (uint16_t)family);
		wr32(d, off + 8, next_seq++);
		memset(s, 0, sizeof(*s));
		s->off = off;
		memcpy(&s->h, d->b + off, sizeof(s->h));
		flags = s->h.nlmsg_flags;
		s->dispatched = (flags & NLM_F_REQUEST) && s->h.nlmsg_type >= NLMSG_MIN_TYPE;
		if (s->dispatched) {
			s->short_hdr = len < NLMSG_HDRLEN + GENL_HDRLEN;
			s->dump = (flags & NLM_F_DUMP) == NLM_F_DUMP;
			if (!s->short_hdr) {
				const struct genlmsghdr *g = (const void *)(d->b + off + NLMSG_HDRLEN);
				uint16_t f = flags;

				s->cmd = g->cmd;
				s->known_cmd = known_cmd(g->cmd);
				if ((f & NLM_F_DUMP) == NLM_F_DUMP)
					f &= ~NLM_F_DUMP;
				/* genl_header_check() lets these through */
				s->must_eperm = opt_unpriv && is_state_cmd(g->cmd) &&
						!g->reserved &&
						!(f & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO));
			}
		}
		x->n++;
		step = NLMSG_ALIGN(len);
		if (step > d->len - off)
			step = d->len - off;
		off += step;
	}
}

static struct sent *find_sent(struct exchange *x, uint32_t seq)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		if (x->m[i].h.nlmsg_seq == seq)
			return &x->m[i];
	return NULL;
}

/* Attributes from @p for @n bytes: each well-formed, exactly to the end. */
static bool attrs_ok(const uint8_t *p, size_t n, unsigned int maxtype, bool stats,
		     const char **why)
{
	while (n >= NLA_HDRLEN) {
		uint16_t l = rd16(p), t = rd16(p + 2) & NLA_TYPE_MASK;

		if (l < NLA_HDRLEN || l > n) {
			*why = "attribute length out of bounds";
			return false;
		}
		if (t > maxtype) {
			*why = "attribute type above the uapi's maximum";
			return false;
		}
		if (stats && t != VTAP_A_STATS_PAD && l != NLA_HDRLEN + 8) {
			*why = "a counter that is not a u64";
			return false;
		}
		if (!stats && t == VTAP_A_SESSION_STATS && maxtype == VTAP_A_SESSION_MAX &&
		    !attrs_ok(p + NLA_HDRLEN, l - NLA_HDRLEN, VTAP_A_STATS_MAX, true, why))
			return false;
		if (ALIGN4(l) >= n) {
			n = 0;
			break;
		}
		p += ALIGN4(l);
		n -= ALIGN4(l);
	}
	if (n) {
		*why = "trailing bytes after the attributes";
		return false;
	}
	return true;
}

/* A session in a reply: name and id present and sane.  Fills @id/@name. */
static bool session_ok(const uint8_t *p, size_t n, uint32_t *id, char *name,
		       const char **why)
{
	bool has_name = false, has_id = false;

	while (n >= NLA_HDRLEN) {
		uint16_t l = rd16(p), t = rd16(p + 2) & NLA_TYPE_MASK;

		if (l < NLA_HDRLEN || l > n)
			break;
		if (t == VTAP_A_SESSION_NAME) {
			size_t sl = l - NLA_HDRLEN;

			if (!sl || sl > VTAP_NAME_MAX || p[l - 1] != 0 ||
			    strlen((const char *)p + NLA_HDRLEN) + 1 != sl) {
				*why = "a session name that is not a NUL-terminated string of at most VTAP_NAME_MAX bytes";
				return false;
			}
			if (name)
				memcpy(name, p + NLA_HDRLEN, sl);
			has_name = true;
		} else if (t == VTAP_A_SESSION_ID) {
			uint32_t v;

			if (l != NLA_HDRLEN + 4) {
				*why = "a session id that is not a u32";
				return false;
			}
			v = rd32(p + NLA_HDRLEN);
			if (v < 1 || v > VTAP_SESSION_ID_MAX) {
				*why = "a session id out of range";
				return false;
			}
			if (id)
				*id = v;
			has_id = true;
		}
		if (ALIGN4(l) >= n)
			break;
		p += ALIGN4(l);
		n -= ALIGN4(l);
	}
	if (!has_name || !has_id) {
		*why = "a session without name or id";
		return false;
	}
	return true;
}

/* A genetlink message of the family (reply or dump part). */
static bool genl_reply_ok(const struct nlmsghdr *h, const uint8_t *p, const char **why)
{
	const struct genlmsghdr *g = (const void *)(p + NLMSG_HDRLEN);
	const uint8_t *a = p + NLMSG_HDRLEN + GENL_HDRLEN;
	size_t n;

	if (h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN) {
		*why = "a reply shorter than the genetlink header";
		return false;
	}
	n = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	if (g->version != VTAP_GENL_VERSION) {
		*why = "a reply with another genetlink version";
		return false;
	}
	if (g->cmd == VTAP_CMD_INFO_GET)
		return attrs_ok(a, n, VTAP_A_INFO_MAX, false, why);
	if (g->cmd < VTAP_CMD_SESSION_NEW || g->cmd > VTAP_CMD_MAX) {
		*why = "a reply with an unknown command";
		return false;
	}
	return attrs_ok(a, n, VTAP_A_SESSION_MAX, false, why) &&
	       session_ok(a, n, NULL, NULL, why);
}

/* Extended ack TLVs at @p for @n bytes, about request @s. */
static bool ack_tlvs_ok(const struct sent *s, const uint8_t *p, size_t n, const char **why)
{
	uint32_t mlen = s->h.nlmsg_len;

	while (n >= NLA_HDRLEN) {
		uint16_t l = rd16(p), t = rd16(p + 2) & NLA_TYPE_MASK;
		uint32_t v;

		if (l < NLA_HDRLEN || l > n) {
			*why = "extack TLV length out of bounds";
			return false;
		}
		switch (t) {
		case NLMSGERR_ATTR_MSG:
			if (l == NLA_HDRLEN || memchr(p + NLA_HDRLEN, 0, l - NLA_HDRLEN) == NULL) {
				*why = "extack message not NUL-terminated";
				return false;
			}
			count_extack((const char *)p + NLA_HDRLEN);
			break;
		case NLMSGERR_ATTR_OFFS:
		case NLMSGERR_ATTR_MISS_NEST:
			if (l != NLA_HDRLEN + 4) {
				*why = "extack offset not a u32";
				return false;
			}
			v = rd32(p + NLA_HDRLEN);
			if (v < NLMSG_HDRLEN + GENL_HDRLEN || v + NLA_HDRLEN > mlen) {
				*why = "extack offset outside the request";
				return false;
			}
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			if (l != NLA_HDRLEN + 4) {
				*why = "extack missing type not a u32";
				return false;
			}
			break;
		case NLMSGERR_ATTR_POLICY: {
			const char *w2 = NULL;

			if (!attrs_ok(p + NLA_HDRLEN, l - NLA_HDRLEN, 0xffff, false, &w2)) {
				*why = "extack policy nest malformed";
				return false;
			}
			break;
		}
		case NLMSGERR_ATTR_COOKIE:
			break;
		default:
			*why = "unknown extack TLV";
			return false;
		}
		if (ALIGN4(l) >= n) {
			n = 0;
			break;
		}
		p += ALIGN4(l);
		n -= ALIGN4(l);
	}
	if (n) {
		*why = "trailing bytes after the extack TLVs";
		return false;
	}
	return true;
}

static void on_error_msg(struct exchange *x, struct sock *sk, struct sent *s,
			 const struct nlmsghdr *h, const uint8_t *p)
{
	size_t plen = h->nlmsg_len - NLMSG_HDRLEN, tlv;
	struct nlmsgerr e;
	const char *why = NULL;

	if (plen < sizeof(e)) {
		failf(x, "NLMSG_ERROR of %u bytes, shorter than struct nlmsgerr", h->nlmsg_len);
		return;
	}
	memcpy(&e, p + NLMSG_HDRLEN, sizeof(e));
	if (memcmp(&e.msg, &s->h, sizeof(s->h))) {
		failf(x, "seq %u: the error does not echo the request's header "
		      "(len %u type %u flags %#x seq %u, sent len %u type %u flags %#x seq %u)",
		      s->h.nlmsg_seq, e.msg.nlmsg_len, e.msg.nlmsg_type, e.msg.nlmsg_flags,
		      e.msg.nlmsg_seq, s->h.nlmsg_len, s->h.nlmsg_type, s->h.nlmsg_flags,
		      s->h.nlmsg_seq);
		return;
	}
	if (e.error > 0 || e.error < -4095) {
		failf(x, "seq %u: error %d is no errno", s->h.nlmsg_seq, e.error);
		return;
	}
	tlv = NLMSG_HDRLEN + sizeof(e);
	if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
		size_t body = s->h.nlmsg_len - NLMSG_HDRLEN;

		if (!e.error || sk->cap_ack) {
			failf(x, "seq %u: an %s without NLM_F_CAPPED", s->h.nlmsg_seq,
			      e.error ? "error on a NETLINK_CAP_ACK socket" : "ack");
			return;
		}
		if (plen < sizeof(e) + body ||
		    memcmp(p + tlv, x->d->b + s->off + NLMSG_HDRLEN, body)) {
			failf(x, "seq %u: the error does not echo the request's payload",
			      s->h.nlmsg_seq);
			return;
		}
		tlv += NLMSG_ALIGN(body);
	} else if (e.error && !sk->cap_ack) {
		failf(x, "seq %u: an error capped without NETLINK_CAP_ACK", s->h.nlmsg_seq);
		return;
	}
	if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
		if (tlv > h->nlmsg_len ||
		    !ack_tlvs_ok(s, p + tlv, h->nlmsg_len - tlv, &why)) {
			failf(x, "seq %u (error %d): %s", s->h.nlmsg_seq, e.error,
			      why ? why : "extack TLVs past the message");
			return;
		}
	}
	s->nacks++;
	if (s->nacks > 1) {
		failf(x, "seq %u: a second ack/error (%d after %d)", s->h.nlmsg_seq, e.error, s->err);
		return;
	}
	s->err = e.error;
	if (!s->dispatched && e.error) {
		failf(x, "seq %u: error %d for a message the core should skip", s->h.nlmsg_seq,
		      e.error);
		return;
	}
	if (!e.error && !(s->h.nlmsg_flags & NLM_F_ACK)) {
		failf(x, "seq %u: an ack without NLM_F_ACK", s->h.nlmsg_seq);
		return;
	}
	if (e.error && (s->nreplies || s->nparts) &&
	    e.error != -ENOBUFS && e.error != -EAGAIN) {
		failf(x, "seq %u: error %d after a reply", s->h.nlmsg_seq, e.error);
		return;
	}
}

static void on_family_msg(struct exchange *x, struct sent *s, const struct nlmsghdr *h,
			  const uint8_t *p)
{
	const char *why = NULL;
	uint8_t cmd;

	if (!s->dispatched) {
		failf(x, "seq %u: a reply to a message the core should skip", s->h.nlmsg_seq);
		return;
	}
	if (!genl_reply_ok(h, p, &why)) {
		failf(x, "seq %u: malformed reply: %s", s->h.nlmsg_seq, why);
		if (opt_verbose)
			hexdump("reply", p, h->nlmsg_len);
		return;
	}
	cmd = p[NLMSG_HDRLEN];
	if (h->nlmsg_flags & NLM_F_MULTI) {
		if (!s->dump || s->done) {
			failf(x, "seq %u: a dump part %s", s->h.nlmsg_seq,
			      s->done ? "after NLMSG_DONE" : "for a request that was no dump");
			return;
		}
		s->nparts++;
		return;
	}
	if (s->dump) {
		failf(x, "seq %u: a reply without NLM_F_MULTI to a dump request", s->h.nlmsg_seq);
		return;
	}
	if (++s->nreplies > 1) {
		failf(x, "seq %u: two replies to one request", s->h.nlmsg_seq);
		return;
	}
	if (s->nacks) {
		failf(x, "seq %u: a reply after the ack", s->h.nlmsg_seq);
		return;
	}
	if (opt_unpriv && is_state_cmd(cmd)) {
		failf(x, "seq %u: unprivileged, yet a %s reply: the state changed",
		      s->h.nlmsg_seq, cmd == VTAP_CMD_SESSION_NEW ? "SESSION_NEW" :
		      cmd == VTAP_CMD_SESSION_SET ? "SESSION_SET" : "SESSION_DEL");
		return;
	}
	if (cmd == VTAP_CMD_SESSION_NEW)
		st.created++;
	else if (cmd == VTAP_CMD_SESSION_SET)
		st.set++;
}

static void on_done(struct exchange *x, struct sent *s, const struct nlmsghdr *h,
		    const uint8_t *p)
{
	const char *why = NULL;
	int err;

	if (!s->dump || s->done || !s->dispatched) {
		failf(x, "seq %u: NLMSG_DONE %s", s->h.nlmsg_seq,
		      s->done ? "twice" : "for a request that was no dump");
		return;
	}
	if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(int)) {
		failf(x, "seq %u: NLMSG_DONE without its error code", s->h.nlmsg_seq);
		return;
	}
	memcpy(&err, p + NLMSG_HDRLEN, sizeof(err));
	if (err > 0 || err < -4095) {
		failf(x, "seq %u: NLMSG_DONE with error %d", s->h.nlmsg_seq, err);
		return;
	}
	if ((h->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    !ack_tlvs_ok(s, p + NLMSG_HDRLEN + sizeof(int),
			 h->nlmsg_len - NLMSG_HDRLEN - sizeof(int), &why)) {
		failf(x, "seq %u: NLMSG_DONE: %s", s->h.nlmsg_seq, why);
		return;
	}
	if (s->nacks && s->err) {
		failf(x, "seq %u: NLMSG_DONE after error %d", s->h.nlmsg_seq, s->err);
		return;
	}
	s->done = true;
	if (err && !s->err)
		s->err = err;
}

/* One datagram of replies. */
static void on_replies(struct exchange *x, struct sock *sk, const uint8_t *buf, size_t n)
{
	size_t off = 0;

	while (n - off >= NLMSG_HDRLEN) {
		struct nlmsghdr h;
		const uint8_t *p = buf + off;
		struct sent *s;
		size_t step;

		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > n - off) {
			failf(x, "reply framing: nlmsg_len %u with %zu bytes left", h.nlmsg_len,
			      n - off);
			return;
		}
		if (h.nlmsg_pid != sk->portid) {
			failf(x, "reply to port %u, ours is %u", h.nlmsg_pid, sk->portid);
			return;
		}
		if (h.nlmsg_seq == x->sync_seq) {
			if (h.nlmsg_type != NLMSG_ERROR || x->sync_seen ||
			    h.nlmsg_len < NLMSG_HDRLEN + sizeof(struct nlmsgerr) ||
			    ((const struct nlmsgerr *)(p + NLMSG_HDRLEN))->error) {
				failf(x, "the barrier's ack is wrong (type %u)", h.nlmsg_type);
				return;
			}
			x->sync_seen = true;
		} else if ((s = find_sent(x, h.nlmsg_seq)) == NULL) {
			failf(x, "a reply (type %u) with sequence number %u, not one we sent now",
			      h.nlmsg_type, h.nlmsg_seq);
			return;
		} else if (x->sync_seen && !s->dump) {
			failf(x, "seq %u: a reply (type %u) after the barrier", h.nlmsg_seq,
			      h.nlmsg_type);
			return;
		} else if (h.nlmsg_type == NLMSG_ERROR) {
			on_error_msg(x, sk, s, &h, p);
		} else if (h.nlmsg_type == NLMSG_DONE) {
			on_done(x, s, &h, p);
		} else if (h.nlmsg_type == family) {
			on_family_msg(x, s, &h, p);
		} else {
			failf(x, "seq %u: a reply of type %u", h.nlmsg_seq, h.nlmsg_type);
			return;
		}
		step = NLMSG_ALIGN(h.nlmsg_len);
		if (step > n - off)
			step = n - off;
		off += step;
	}
	if (off != n)
		failf(x, "%zu trailing bytes in a reply datagram", n - off);
}

static bool dumps_pending(const struct exchange *x)
{
	size_t i;

	for (i = 0; i < x->n; i++) {
		const struct sent *s = &x->m[i];

		if (s->dump && s->dispatched && !s->done && !(s->nacks && s->err))
			return true;
	}
	return false;
}

static int send_all(int fd, const void *p, size_t n)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	ssize_t r = sendto(fd, p, n, 0, (struct sockaddr *)&to, sizeof(to));

	return r == (ssize_t)n ? 0 : -1;
}

static const char *errname(int e)
{
	const char *s = strerrorname_np(e);

	return s ? s : "?";
}

/* Send one datagram and a barrier, read and check everything that comes. */
static void exchange(struct sock *sk, struct dgram *d, unsigned long idx)
{
	static uint8_t buf[RBUF];
	struct exchange x = { .d = d, .idx = idx };
	struct nlmsghdr sync = {	/* the barrier */
		.nlmsg_len = NLMSG_HDRLEN,
		.nlmsg_type = NLMSG_NOOP,
		.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
	};
	int first_err = 0;
	size_t i;

	prepare(d, &x);
	x.sync_seq = sync.nlmsg_seq = next_seq++;
	if (!d->len) {		/* netlink refuses empty datagrams */
		if (!send_all(sk->fd, d->b, 0) || errno != ENODATA)
			failf(&x, "an empty datagram: not ENODATA but %s",
			      strerror(errno));
		st.ignored++;
		st.ok++;
		return;
	}
	if (send_all(sk->fd, d->b, d->len)) {
		failf(&x, "send of %zu bytes: %s", d->len, strerror(errno));
		return;
	}
	if (send_all(sk->fd, &sync, sizeof(sync))) {
		failf(&x, "send of the barrier: %s", strerror(errno));
		return;
	}
	while (!x.sync_seen || dumps_pending(&x)) {
		ssize_t n = recv(sk->fd, buf, sizeof(buf), MSG_TRUNC);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				failf(&x, "no reply within %u ms (%s): a hang?", opt_timeout_ms,
				      x.sync_seen ? "a dump did not end" : "no barrier ack");
			else
				failf(&x, "recv: %s", strerror(errno));
			aborted = true;
			return;
		}
		if ((size_t)n > sizeof(buf)) {
			failf(&x, "a reply datagram of %zd bytes, larger than %zu", n, sizeof(buf));
			aborted = true;
			return;
		}
		on_replies(&x, sk, buf, (size_t)n);
	}

	/* Per request: what must have come back. */
	for (i = 0; i < x.n; i++) {
		struct sent *s = &x.m[i];
		bool ack = s->h.nlmsg_flags & NLM_F_ACK;

		if (!s->dispatched) {
			if (ack != (s->nacks == 1))
				failf(&x, "seq %u: skipped message: %d acks with NLM_F_ACK %s",
				      s->h.nlmsg_seq, s->nacks, ack ? "set" : "clear");
			continue;
		}
		if (s->err && !first_err)
			first_err = s->err;
		if (s->dump && s->done)
			st.dumps++;
		if (ack && !s->dump && !s->nacks)
			failf(&x, "seq %u: NLM_F_ACK, but no ack", s->h.nlmsg_seq);
		if (s->short_hdr && s->err != -EINVAL)
			failf(&x, "seq %u: no whole genlmsghdr, yet error %d, not EINVAL",
			      s->h.nlmsg_seq, s->err);
		if (!s->short_hdr && !s->known_cmd && s->err != -EOPNOTSUPP &&
		    s->err != -EINVAL)
			failf(&x, "seq %u: unknown command %u, yet error %d", s->h.nlmsg_seq,
			      s->cmd, s->err);
		if (s->must_eperm && s->err != -EPERM &&
		    !(s->dump && s->err == -EOPNOTSUPP))
			failf(&x, "seq %u: unprivileged %s: %s (%d), not EPERM", s->h.nlmsg_seq,
			      s->cmd == VTAP_CMD_SESSION_NEW ? "SESSION_NEW" :
			      s->cmd == VTAP_CMD_SESSION_SET ? "SESSION_SET" : "SESSION_DEL",
			      s->err ? errname(-s->err) : "success", s->err);
		if (s->cmd == VTAP_CMD_SESSION_DEL && !s->dump && !s->short_hdr &&
		    s->nacks && !s->err)
			st.deleted++;
	}
	if (first_err) {
		st.rejected++;
		if (-first_err < (int)ARRAY_SIZE(st.err))
			st.err[-first_err]++;
	} else {
		bool any = false;

		for (i = 0; i < x.n; i++)
			any |= x.m[i].dispatched;
		if (!any)
			st.ignored++;
		st.ok++;
	}
}

/* ---- sessions: list, clean up ------------------------------------------- */

struct session {
	uint32_t id;
	char name[VTAP_NAME_MAX];
};

struct slist {
	struct session s[MAXSESS];
	size_t n;
};

/* A dump of the namespace's sessions, with the same checks as above. */
static int list_sessions(struct sock *sk, struct slist *l)
{
	static uint8_t buf[RBUF];
	uint32_t seq = next_seq++;
	struct {
		struct nlmsghdr h;
		struct genlmsghdr g;
	} req = {
		.h = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = (uint16_t)family,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = seq,
		},
		.g = { .cmd = VTAP_CMD_SESSION_GET, .version = VTAP_GENL_VERSION },
	};

	l->n = 0;
	if (send_all(sk->fd, &req, sizeof(req)))
		return -1;
	for (;;) {
		ssize_t n = recv(sk->fd, buf, sizeof(buf), 0);
		size_t off = 0;

		if (n < 0) {
			fprintf(stderr, "genl_fuzz: session dump: %s\n", strerror(errno));
			return -1;
		}
		while ((size_t)n - off >= NLMSG_HDRLEN) {
			struct nlmsghdr h;
			const uint8_t *p = buf + off;
			const char *why = NULL;

			memcpy(&h, p, sizeof(h));
			if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > (size_t)n - off ||
			    h.nlmsg_seq != seq) {
				fprintf(stderr, "genl_fuzz: session dump: malformed reply\n");
				return -1;
			}
			if (h.nlmsg_type == NLMSG_DONE)
				return 0;
			if (h.nlmsg_type == NLMSG_ERROR) {
				fprintf(stderr, "genl_fuzz: session dump: error %d\n",
					((const struct nlmsgerr *)(p + NLMSG_HDRLEN))->error);
				return -1;
			}
			if (h.nlmsg_type != family || !genl_reply_ok(&h, p, &why) ||
			    l->n >= ARRAY_SIZE(l->s)) {
				fprintf(stderr, "genl_fuzz: session dump: %s\n",
					why ? why : "unexpected message");
				return -1;
			}
			memset(&l->s[l->n], 0, sizeof(l->s[0]));
			session_ok(p + NLMSG_HDRLEN + GENL_HDRLEN,
				   h.nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN,
				   &l->s[l->n].id, l->s[l->n].name, &why);
			l->n++;
			off += NLMSG_ALIGN(h.nlmsg_len);
			if (off > (size_t)n)
				off = (size_t)n;
		}
	}
}

static bool in_list(const struct slist *l, const struct session *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->s[i].id == s->id && !strcmp(l->s[i].name, s->name))
			return true;
	return false;
}

/* VTAP_A_INFO_SESSIONS of INFO_GET, or -1. */
static long info_sessions(struct sock *sk)
{
	uint8_t buf[4096];
	struct {
		struct nlmsghdr h;
		struct genlmsghdr g;
	} req = {
		.h = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = (uint16_t)family,
			.nlmsg_flags = NLM_F_REQUEST,
			.nlmsg_seq = next_seq++,
		},
		.g = { .cmd = VTAP_CMD_INFO_GET, .version = VTAP_GENL_VERSION },
	};
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN, end;
	ssize_t n;

	if (send_all(sk->fd, &req, sizeof(req)))
		return -1;
	n = recv(sk->fd, buf, sizeof(buf), 0);
	if (n < (ssize_t)(NLMSG_HDRLEN + GENL_HDRLEN) || rd16(buf + 4) != family ||
	    rd32(buf + 8) != req.h.nlmsg_seq)
		return -1;
	end = rd32(buf) < (size_t)n ? rd32(buf) : (size_t)n;
	while (off + NLA_HDRLEN <= end) {
		uint16_t l = rd16(buf + off), t = rd16(buf + off + 2) & NLA_TYPE_MASK;

		if (l < NLA_HDRLEN || off + l > end)
			break;
		if (t == VTAP_A_INFO_SESSIONS && l == NLA_HDRLEN + 4)
			return rd32(buf + off + NLA_HDRLEN);
		off += ALIGN4(l);
	}
	return -1;
}

/* The session count INFO_GET reports is the number of sessions a dump has. */
static int check_count(struct sock *sk, const struct slist *l, const char *when)
{
	long n = info_sessions(sk);

	if (n == (long)l->n)
		return 0;
	fprintf(stderr, "genl_fuzz: FAIL %s: INFO_GET counts %ld sessions, a dump has %zu\n",
		when, n, l->n);
	return -1;
}

/* Delete every session that was not in @keep; -1 on a failure. */
static int cleanup(struct sock *sk, const struct slist *keep)
{
	static struct slist now;
	size_t i;

	if (list_sessions(sk, &now) || check_count(sk, &now, "before a cleanup"))
		return -1;
	for (i = 0; i < now.n; i++) {
		struct {
			struct nlmsghdr h;
			struct genlmsghdr g;
			struct nlattr a;
			uint32_t id;
		} req = {
			.h = {
				.nlmsg_len = sizeof(req),
				.nlmsg_type = (uint16_t)family,
				.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
				.nlmsg_seq = next_seq++,
			},
			.g = { .cmd = VTAP_CMD_SESSION_DEL, .version = VTAP_GENL_VERSION },
			.a = { .nla_len = NLA_HDRLEN + 4, .nla_type = VTAP_A_SESSION_ID },
			.id = now.s[i].id,
		};
		uint8_t buf[4096];
		struct nlmsgerr e;
		ssize_t n;

		if (in_list(keep, &now.s[i]))
			continue;
		if (send_all(sk->fd, &req, sizeof(req)))
			return -1;
		n = recv(sk->fd, buf, sizeof(buf), 0);
		if (n < (ssize_t)(NLMSG_HDRLEN + sizeof(e)) ||
		    rd16(buf + 4) != NLMSG_ERROR || rd32(buf + 8) != req.h.nlmsg_seq) {
			fprintf(stderr, "genl_fuzz: cleanup: bad reply to SESSION_DEL\n");
			return -1;
		}
		memcpy(&e, buf + NLMSG_HDRLEN, sizeof(e));
		if (e.error) {
			fprintf(stderr, "genl_fuzz: cleanup: deleting session %u (%s): %s\n",
				now.s[i].id, now.s[i].name, strerror(-e.error));
			return -1;
		}
		st.cleaned++;
	}
	if (list_sessions(sk, &now) || check_count(sk, &now, "after a cleanup"))
		return -1;
	/* The fuzzer may have deleted some of @keep, but nothing else is left. */
	for (i = 0; i < now.n; i++) {
		if (!in_list(keep, &now.s[i])) {
			fprintf(stderr, "genl_fuzz: FAIL: session %u (%s) still there after a cleanup\n",
				now.s[i].id, now.s[i].name);
			return -1;
		}
	}
	return 0;
}

/* ---- setup --------------------------------------------------------------- */

static int sock_open(struct sock *sk, bool cap_ack)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = {
		.tv_sec = opt_timeout_ms / 1000,
		.tv_usec = (opt_timeout_ms % 1000) * 1000,
	};
	socklen_t sl = sizeof(sa);
	int one = 1, rcvbuf = 1 << 20;

	sk->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (sk->fd < 0)
		return -1;
	sk->cap_ack = cap_ack;
	setsockopt(sk->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (cap_ack)
		setsockopt(sk->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(sk->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (setsockopt(sk->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    bind(sk->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(sk->fd, (struct sockaddr *)&sa, &sl))
		return -1;
	sk->portid = sa.nl_pid;
	return 0;
}

static int resolve_family(struct sock *sk)
{
	uint8_t buf[8192];
	struct dgram d = { .len = 0 };
	size_t m;
	ssize_t n;

	m = msg_begin(&d, NLM_F_REQUEST, CTRL_CMD_GETFAMILY, 1, 0);
	wr16(&d, m + 4, GENL_ID_CTRL);
	wr32(&d, m + 8, next_seq++);
	attr_str(&d, CTRL_ATTR_FAMILY_NAME, VTAP_GENL_NAME);
	msg_end(&d, m);
	if (send_all(sk->fd, d.b, d.len))
		return -1;
	n = recv(sk->fd, buf, sizeof(buf), 0);
	if (n < (ssize_t)(NLMSG_HDRLEN + GENL_HDRLEN) || rd16(buf + 4) != GENL_ID_CTRL)
		return -1;	/* NLMSG_ERROR: no such family */
	{
		size_t off = NLMSG_HDRLEN + GENL_HDRLEN, end = rd32(buf);

		if (end > (size_t)n)
			end = (size_t)n;
		while (off + NLA_HDRLEN <= end) {
			uint16_t l = rd16(buf + off), t = rd16(buf + off + 2) & NLA_TYPE_MASK;

			if (l < NLA_HDRLEN || off + l > end)
				break;
			if (t == CTRL_ATTR_FAMILY_ID && l >= NLA_HDRLEN + 2)
				return rd16(buf + off + NLA_HDRLEN);
			off += ALIGN4(l);
		}
	}
	return -1;
}

/* uid/gid 65534, no supplementary groups, no capabilities left. */
static int drop_privileges(void)
{
	char line[256];
	FILE *f;
	int bad = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    setgroups(0, NULL) ||
	    setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534)) {
		perror("genl_fuzz: dropping privileges");
		return -1;
	}
	if (setuid(0) == 0) {
		fprintf(stderr, "genl_fuzz: could become root again\n");
		return -1;
	}
	f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "CapEff:", 7) || !strncmp(line, "CapPrm:", 7) ||
		    !strncmp(line, "CapAmb:", 7)) {
			if (strtoull(line + 7, NULL, 16)) {
				fprintf(stderr, "genl_fuzz: still capable: %s", line);
				bad = 1;
			}
		}
	}
	fclose(f);
	return bad ? -1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: genl_fuzz [-n N] [-s SEED] [-v] [-T MS] [--unpriv]\n");
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "unpriv", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct slist initial, final;
	bool seeded = false;
	unsigned long i;
	double t0, secs;
	struct dgram d;
	char *end;
	int c, e;

	while ((c = getopt_long(argc, argv, "n:s:vT:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			opt_count = strtoul(optarg, &end, 0);
			if (errno || *end || !*optarg)
				usage();
			break;
		case 's':
			errno = 0;
			opt_seed = strtoull(optarg, &end, 0);
			if (errno || *end || !*optarg)
				usage();
			seeded = true;
			break;
		case 'v':
			opt_verbose = true;
			break;
		case 'T':
			opt_timeout_ms = (unsigned int)strtoul(optarg, &end, 0);
			if (*end || !opt_timeout_ms)
				usage();
			break;
		case 'U':
			opt_unpriv = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (!seeded) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		opt_seed = ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec ^
			   ((uint64_t)getpid() << 32);
	}
	rng_state = opt_seed;
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (opt_unpriv && drop_privileges())
		return 2;
	if (sock_open(&socks[0], true) || sock_open(&socks[1], false)) {
		perror("genl_fuzz: netlink socket");
		return 2;
	}
	family = resolve_family(&socks[0]);
	if (family < 0) {
		fprintf(stderr, "genl_fuzz: no generic netlink family \"%s\": is vtap.ko loaded?\n",
			VTAP_GENL_NAME);
		return 2;
	}
	printf("genl_fuzz: seed %" PRIu64 ", %lu messages, %s, family id %d, "
	       "commands 0..%d, attribute types 0..%d\n", opt_seed, opt_count,
	       opt_unpriv ? "unprivileged (uid 65534, no capabilities)" : "privileged",
	       family, CMD_LIMIT, ATTR_LIMIT);
	if (list_sessions(&socks[0], &initial) ||
	    check_count(&socks[0], &initial, "at the start"))
		return 2;

	t0 = now_s();
	for (i = 0; i < opt_count && !aborted; i++) {
		generate(&d);
		exchange(&socks[rn(2)], &d, i);
		st.msgs++;
		if (!opt_unpriv && (i + 1) % CLEAN_EVERY == 0 && cleanup(&socks[0], &initial)) {
			st.failures++;
			break;
		}
	}
	secs = now_s() - t0;

	if (!aborted) {
		if (!opt_unpriv) {
			if (cleanup(&socks[0], &initial))
				st.failures++;
		} else if (list_sessions(&socks[0], &final) ||
			   check_count(&socks[0], &final, "at the end")) {
			st.failures++;
		} else {
			bool same = final.n == initial.n;
			size_t k;

			for (k = 0; same && k < final.n; k++)
				same = in_list(&initial, &final.s[k]);
			if (!same) {
				fprintf(stderr, "genl_fuzz: FAIL: unprivileged, yet the sessions "
					"changed (%zu before, %zu after)\n", initial.n, final.n);
				st.failures++;
			}
		}
	}

	printf("genl_fuzz: %lu messages, %lu ok, %lu rejected (", st.msgs, st.ok, st.rejected);
	for (e = 1, c = 0; e < (int)ARRAY_SIZE(st.err); e++) {
		if (!st.err[e])
			continue;
		printf("%s%s: %lu", c++ ? " " : "", errname(e), st.err[e]);
	}
	printf("), %lu dumps\n", st.dumps);
	printf("genl_fuzz: %.1f s, %.0f messages/s; %lu ignored by the netlink core; "
	       "sessions: %lu created, %lu changed, %lu deleted (acked), %lu cleaned up; "
	       "%lu failures%s\n", secs, secs > 0 ? st.msgs / secs : 0.0, st.ignored,
	       st.created, st.set, st.deleted, st.cleaned, st.failures,
	       aborted ? " (aborted: no reply)" : "");
	if (opt_verbose) {
		qsort(extacks, ARRAY_SIZE(extacks), sizeof(extacks[0]), cmp_extack);
		for (i = 0; i < ARRAY_SIZE(extacks) && extacks[i].count; i++)
			printf("genl_fuzz: extack %6lu \"%s\"\n", extacks[i].count, extacks[i].msg);
	}
	return st.failures ? 1 : 0;
}
