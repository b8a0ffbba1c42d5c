// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl collect: decoding GRE-TEB, ERSPAN II/III and VXLAN, GRE sequence
 * accounting and ERSPAN III timestamps.  Pure functions (see decode.h).
 *
 * Wire formats: RFC 2784/2890 (GRE, key and sequence), draft-foschiano-
 * erspan (ERSPAN Type II and III, the platform sub-header), as vtap.ko
 * sends them (kmod/encap.c) and as Wireshark decodes them; RFC 7348 (VXLAN).
 */
#include <string.h>
#include <sys/socket.h>

#include "decode.h"

#define GRE_F_CSUM	0x8000
#define GRE_F_ROUTING	0x4000
#define GRE_F_KEY	0x2000
#define GRE_F_SEQ	0x1000
#define GRE_F_SSR	0x0800
#define GRE_F_RECUR5	0x0400	/* the first recursion bit: RFC 2784 bit 5 */
#define GRE_VERSION	0x0007

#define IPPROTO_GRE_NR	47
#define ETH_P_8021Q_NR	0x8100
#define ETH_P_8021AD_NR	0x88a8
#define ETH_P_IP_NR	0x0800
#define ETH_P_IPV6_NR	0x86dd

static const char *const err_names[VTAP_DEC_NERR] = {
	[VTAP_DEC_OK]		= "ok",
	[VTAP_DEC_SHORT]	= "short",
	[VTAP_DEC_IP_VERSION]	= "ip_version",
	[VTAP_DEC_IP_HDR]	= "ip_header",
	[VTAP_DEC_IP_LEN]	= "ip_length",
	[VTAP_DEC_IP_FRAG]	= "ip_fragment",
	[VTAP_DEC_NOT_GRE]	= "not_gre",
	[VTAP_DEC_GRE_VERSION]	= "gre_version",
	[VTAP_DEC_GRE_FLAGS]	= "gre_flags",
	[VTAP_DEC_GRE_CSUM]	= "gre_checksum",
	[VTAP_DEC_PROTO]	= "gre_protocol",
	[VTAP_DEC_ERSPAN1]	= "erspan1",
	[VTAP_DEC_ERSPAN_VER]	= "erspan_version",
	[VTAP_DEC_FRAME_TYPE]	= "erspan_frame_type",
	[VTAP_DEC_INNER_SHORT]	= "inner_short",
	[VTAP_DEC_VXLAN_FLAGS]	= "vxlan_flags",
};

const char *vtap_decode_strerror(int err)
{
	if (err < 0 || err >= VTAP_DEC_NERR)
		return "unknown";
	return err_names[err];
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

/* RFC 1071 ones' complement sum; a correct GRE checksum sums to 0xffff. */
static bool csum_ok(const uint8_t *b, size_t len)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(b + i);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/*
 * The inner frame's length before truncation, as far as its own IPv4 or
 * IPv6 header (after up to two VLAN tags) says; 0 if it says nothing.
 */
static uint32_t inner_ip_len(const uint8_t *f, uint32_t len)
{
	uint32_t off = 12;
	uint16_t type;
	int tags;

	type = get16(f + off);
	for (tags = 0; tags < 2 && (type == ETH_P_8021Q_NR ||
				    type == ETH_P_8021AD_NR); tags++) {
		off += 4;
		if (len < off + 2)
			return 0;
		type = get16(f + off);
	}
	off += 2;
	if (type == ETH_P_IP_NR && len >= off + 4 && f[off] >> 4 == 4)
		return off + get16(f + off + 2);
	if (type == ETH_P_IPV6_NR && len >= off + 6 && f[off] >> 4 == 6 &&
	    get16(f + off + 4))
		return off + 40 + get16(f + off + 4);
	return 0;
}

static void set_orig_len(struct vtap_pkt *p)
{
	uint32_t ip = inner_ip_len(p->frame, p->frame_len);

	p->orig_len = p->frame_len;
	if (ip > p->frame_len) {
		p->orig_len = ip;
		p->orig_len_exact = true;
	} else if (p->truncated) {
		p->orig_len = p->frame_len + 1;
	}
}

/* The 8-byte ERSPAN III platform specific sub-header. */
static void decode_platf(const uint8_t *b, struct vtap_pkt *p)
{
	uint32_t w1 = get32(b), w2 = get32(b + 4);

	p->platf_id = (uint8_t)(w1 >> 26);
	p->platf_info = (uint64_t)(w1 & 0x03ffffff) << 32 | w2;
	switch (p->platf_id) {
	case 1:		/* reserved 14, VSM domain id 12, port id/index 32 */
		p->domain = w1 & 0xfff;
		p->has_index = true;
		p->index = w2;
		break;
	case 3:		/* reserved 12, port index 14, timestamp upper 32 */
		p->has_index = true;
		p->index = w1 & 0x3fff;
		p->has_ts_hi = true;
		p->ts_hi = w2;
		break;
	case 5:
	case 6:		/* switch id 10, port index 16, seconds 32 */
		p->domain = w1 >> 16 & 0x3ff;
		p->has_index = true;
		p->index = w1 & 0xffff;
		p->has_ts_sec = true;
		p->ts_sec = w2;
		break;
	case 0:		/* used as an alias of 7 */
	case 7:		/* reserved 6, source index 20, timestamp upper 32 */
		p->has_index = true;
		p->index = w1 & 0xfffff;
		p->has_ts_hi = true;
		p->ts_hi = w2;
		break;
	default:	/* 2, 4, 8-63: reserved, kept as platf_info */
		break;
	}
}

/* These return the header's length, or minus an enum vtap_decode_err. */
static int decode_erspan2(const uint8_t *b, size_t len, struct vtap_pkt *p)
{
	uint16_t w;

	if (len < 8)
		return -VTAP_DEC_SHORT;
	w = get16(b);
	p->version = (uint8_t)(w >> 12);
	if (p->version != 1)
		return -VTAP_DEC_ERSPAN_VER;
	p->vlan = w & 0xfff;
	w = get16(b + 2);
	p->cos = (uint8_t)(w >> 13);
	p->en = w >> 11 & 3;
	p->truncated = w >> 10 & 1;
	p->has_session = true;
	p->session = w & 0x3ff;
	p->has_index = true;
	p->index = get32(b + 4) & 0xfffff;
	return 8;
}

static int decode_erspan3(const uint8_t *b, size_t len, struct vtap_pkt *p)
{
	uint16_t w;

	if (len < 12)
		return -VTAP_DEC_SHORT;
	w = get16(b);
	p->version = (uint8_t)(w >> 12);
	if (p->version != 2)
		return -VTAP_DEC_ERSPAN_VER;
	p->vlan = w & 0xfff;
	w = get16(b + 2);
	p->cos = (uint8_t)(w >> 13);
	p->en = w >> 11 & 3;
	p->truncated = w >> 10 & 1;
	p->has_session = true;
	p->session = w & 0x3ff;
	p->timestamp = get32(b + 4);
	p->sgt = get16(b + 8);
	w = get16(b + 10);
	p->p = w >> 15;
	p->ft = w >> 10 & 0x1f;
	p->hwid = w >> 4 & 0x3f;
	p->has_dir = true;
	p->dir = w >> 3 & 1;
	p->gra = w >> 1 & 3;
	p->has_sub = w & 1;
	if (p->ft != 0)
		return -VTAP_DEC_FRAME_TYPE;
	if (!p->has_sub)
		return 12;
	if (len < 20)
		return -VTAP_DEC_SHORT;
	decode_platf(b + 12, p);
	return 20;
}

static int decode_gre(const uint8_t *b, size_t len, struct vtap_pkt *p)
{
	uint16_t flags;
	size_t off = 4;
	int n;

	if (len < 4)
		return VTAP_DEC_SHORT;
	flags = get16(b);
	if (flags & GRE_VERSION)
		return VTAP_DEC_GRE_VERSION;
	/* RFC 2784: discard when bits 1-5 are set, except K and S (RFC 2890). */
	if (flags & (GRE_F_ROUTING | GRE_F_SSR | GRE_F_RECUR5))
		return VTAP_DEC_GRE_FLAGS;
	p->gre_proto = get16(b + 2);
	p->has_csum = flags & GRE_F_CSUM;
	p->has_key = flags & GRE_F_KEY;
	p->has_seq = flags & GRE_F_SEQ;
	if (len < off + 4 * (p->has_csum + p->has_key + p->has_seq))
		return VTAP_DEC_SHORT;
	if (p->has_csum) {
		if (!csum_ok(b, len))
			return VTAP_DEC_GRE_CSUM;
		off += 4;
	}
	if (p->has_key) {
		p->key = get32(b + off);
		off += 4;
	}
	if (p->has_seq) {
		p->seq = get32(b + off);
		off += 4;
	}

	switch (p->gre_proto) {
	case VTAP_GRE_PROTO_TEB:
		p->encap = VTAP_PKT_GRE;
		p->has_session = p->has_key;
		p->session = p->key;
		n = 0;
		break;
	case VTAP_GRE_PROTO_ERSPAN2:
		/* Without a sequence number it is Type I: no header at all. */
		if (!p->has_seq)
			return VTAP_DEC_ERSPAN1;
		p->encap = VTAP_PKT_ERSPAN2;
		n = decode_erspan2(b + off, len - off, p);
		break;
	case VTAP_GRE_PROTO_ERSPAN3:
		p->encap = VTAP_PKT_ERSPAN3;
		n = decode_erspan3(b + off, len - off, p);
		break;
	default:
		return VTAP_DEC_PROTO;
	}
	if (n < 0)
		return -n;
	off += (size_t)n;
	if (len - off < VTAP_ETH_HLEN)
		return VTAP_DEC_INNER_SHORT;
	p->frame = b + off;
	p->frame_len = (uint32_t)(len - off);
	set_orig_len(p);
	return VTAP_DEC_OK;
}

int vtap_decode_gre(const uint8_t *buf, size_t len, struct vtap_pkt *p)
{
	int err;

	memset(p, 0, sizeof(*p));
	/* A GRE packet in IPv4 or (non-jumbo) IPv6 is below 64 KiB. */
	if (len > 0xffff)
		return VTAP_DEC_IP_LEN;
	err = decode_gre(buf, len, p);
	if (err)
		memset(p, 0, sizeof(*p));
	return err;
}

#define VXLAN_HLEN	8
#define VXLAN_F_I	0x08	/* the first byte: a valid VNI */

int vtap_decode_vxlan(const uint8_t *buf, size_t len, struct vtap_pkt *p)
{
	memset(p, 0, sizeof(*p));
	/* A UDP payload in IPv4 or (non-jumbo) IPv6 is below 64 KiB. */
	if (len > 0xffff)
		return VTAP_DEC_IP_LEN;
	if (len < VXLAN_HLEN)
		return VTAP_DEC_SHORT;
	/*
	 * Flags RRRRIRRR, 24 reserved bits, VNI, 8 reserved bits.  RFC 7348
	 * section 5: reserved fields "MUST be set to zero on transmission and
	 * ignored on receipt"; the I flag "MUST be set to 1 for a valid VNI".
	 */
	if (!(buf[0] & VXLAN_F_I))
		return VTAP_DEC_VXLAN_FLAGS;
	if (len - VXLAN_HLEN < VTAP_ETH_HLEN)
		return VTAP_DEC_INNER_SHORT;
	p->encap = VTAP_PKT_VXLAN;
	p->has_session = true;
	p->session = get32(buf + 4) >> 8;
	p->frame = buf + VXLAN_HLEN;
	p->frame_len = (uint32_t)(len - VXLAN_HLEN);
	set_orig_len(p);
	return VTAP_DEC_OK;
}

static int decode_ipv4(const uint8_t *b, size_t len, struct vtap_pkt *p)
{
	size_t ihl, tot;

	if (len < 20)
		return VTAP_DEC_SHORT;
	ihl = (size_t)(b[0] & 0xf) * 4;
	if (ihl < 20)
		return VTAP_DEC_IP_HDR;
	tot = get16(b + 2);
	if (tot < ihl)
		return VTAP_DEC_IP_HDR;
	if (tot > len)
		return VTAP_DEC_IP_LEN;
	/* More fragments, or a fragment offset: not a whole packet. */
	if (get16(b + 6) & 0x3fff)
		return VTAP_DEC_IP_FRAG;
	if (b[9] != IPPROTO_GRE_NR)
		return VTAP_DEC_NOT_GRE;
	p->family = AF_INET;
	memcpy(p->src, b + 12, 4);
	memcpy(p->dst, b + 16, 4);
	/* IPv4 options are skipped; bytes after the total length ignored. */
	return decode_gre(b + ihl, tot - ihl, p);
}

static int decode_ipv6(const uint8_t *b, size_t len, struct vtap_pkt *p)
{
	size_t off = 40, end;
	uint8_t nh;
	int i;

	if (len < 40)
		return VTAP_DEC_SHORT;
	end = 40 + (size_t)get16(b + 4);
	if (end > len)
		return VTAP_DEC_IP_LEN;
	nh = b[6];
	/* Hop-by-hop, routing and destination options headers, a few. */
	for (i = 0; i < 8 && (nh == 0 || nh == 43 || nh == 60); i++) {
		if (end - off < 8)
			return VTAP_DEC_SHORT;
		nh = b[off];
		off += ((size_t)b[off + 1] + 1) * 8;
		if (off > end)
			return VTAP_DEC_SHORT;
	}
	if (nh == 44)
		return VTAP_DEC_IP_FRAG;
	if (nh != IPPROTO_GRE_NR)
		return VTAP_DEC_NOT_GRE;
	p->family = AF_INET6;
	memcpy(p->src, b + 8, 16);
	memcpy(p->dst, b + 24, 16);
	return decode_gre(b + off, end - off, p);
}

int vtap_decode_ip(const uint8_t *buf, size_t len, struct vtap_pkt *p)
{
	int err;

	memset(p, 0, sizeof(*p));
	if (len < 1)
		return VTAP_DEC_SHORT;
	switch (buf[0] >> 4) {
	case 4:
		err = decode_ipv4(buf, len, p);
		break;
	case 6:
		err = decode_ipv6(buf, len, p);
		break;
	default:
		err = VTAP_DEC_IP_VERSION;
		break;
	}
	if (err)
		memset(p, 0, sizeof(*p));
	return err;
}

/* ---- sequence accounting ---------------------------------------------- */

static bool win_test(const struct vtap_seq *s, uint32_t seq)
{
	uint32_t i = seq % VTAP_SEQ_WINDOW;

	return s->win[i / 64] >> (i % 64) & 1;
}

static void win_set(struct vtap_seq *s, uint32_t seq, bool on)
{
	uint32_t i = seq % VTAP_SEQ_WINDOW;
	uint64_t bit = 1ULL << (i % 64);

	if (on)
		s->win[i / 64] |= bit;
	else
		s->win[i / 64] &= ~bit;
}

void vtap_seq_init(struct vtap_seq *s)
{
	memset(s, 0, sizeof(*s));
}

static void seq_start(struct vtap_seq *s, uint32_t seq)
{
	memset(s->win, 0, sizeof(s->win));
	win_set(s, seq, true);
	s->started = true;
	s->cand_valid = false;
	s->next = seq + 1;
	s->span = 1;
}

enum vtap_seq_verdict vtap_seq_update(struct vtap_seq *s, uint32_t seq,
				      uint32_t *missing)
{
	int32_t d = (int32_t)(seq - s->next);
	uint32_t k, behind;

	*missing = 0;
	if (!s->started) {
		seq_start(s, seq);
		return VTAP_SEQ_FIRST;
	}
	if (d >= 0) {
		/* Ahead: the numbers skipped are lost (for now). */
		k = (uint32_t)d;
		if (k >= VTAP_SEQ_WINDOW) {
			memset(s->win, 0, sizeof(s->win));
		} else {
			uint32_t i;

			for (i = 0; i < k; i++)
				win_set(s, s->next + i, false);
		}
		win_set(s, seq, true);
		s->next = seq + 1;
		s->span += (uint64_t)k + 1;
		s->cand_valid = false;
		if (!k)
			return VTAP_SEQ_IN_ORDER;
		s->lost += k;
		s->gaps++;
		*missing = k;
		return VTAP_SEQ_GAP;
	}
	behind = s->next - seq;		/* 1 .. 2^31, without negating INT32_MIN */
	if (behind > VTAP_SEQ_WINDOW) {
		/* Far behind: a straggler, or the sender started over. */
		if (s->cand_valid && seq == s->cand_next) {
			s->resets++;
			seq_start(s, seq);
			return VTAP_SEQ_FIRST;
		}
		s->cand_valid = true;
		s->cand_next = seq + 1;
		s->late++;
		s->reordered++;
		return VTAP_SEQ_LATE;
	}
	if (win_test(s, seq)) {
		/*
		 * Seen before.  A sender that started over before it sent a
		 * window's worth repeats numbers in order: two in a row, the
		 * second right after the first, are a restart, as far behind.
		 */
		if (behind > VTAP_SEQ_RESTART_MIN) {
			if (s->cand_valid && seq == s->cand_next) {
				s->resets++;
				seq_start(s, seq);
				return VTAP_SEQ_FIRST;
			}
			s->cand_valid = true;
			s->cand_next = seq + 1;
		} else {
			s->cand_valid = false;
		}
		s->duplicates++;
		return VTAP_SEQ_DUPLICATE;
	}
	s->cand_valid = false;
	win_set(s, seq, true);
	s->reordered++;
	/* Within what has been seen since the first packet: it was counted lost. */
	if (behind <= s->span && s->lost)
		s->lost--;
	return VTAP_SEQ_REORDERED;
}

/* ---- timestamps --------------------------------------------------------- */

uint64_t vtap_unwrap32(uint32_t low, uint64_t ref)
{
	uint64_t v = (ref & ~0xffffffffULL) | low;

	/* The candidates: v - 2^32, v, v + 2^32; take the nearest to ref. */
	if (v > ref && v - ref > 0x80000000ULL && v >= 0x100000000ULL)
		v -= 0x100000000ULL;
	else if (v < ref && ref - v > 0x80000000ULL &&
		 v <= UINT64_MAX - 0x100000000ULL)
		v += 0x100000000ULL;
	return v;
}

#define NSEC_PER_SEC	1000000000ULL

bool vtap_pkt_time(const struct vtap_pkt *p, uint64_t arrival_ns,
		   uint64_t *ns)
{
	uint64_t unit, v, sec, best;
	int64_t dt;

	if (p->encap != VTAP_PKT_ERSPAN3)
		return false;
	switch (p->gra) {
	case VTAP_PKT_GRA_100US:
		unit = 100000;
		break;
	case VTAP_PKT_GRA_100NS:
		unit = 100;
		break;
	case VTAP_PKT_GRA_1588:
		/* The timestamp holds nanoseconds; seconds in the sub-header. */
		if (p->timestamp >= NSEC_PER_SEC)
			return false;
		if (p->has_ts_sec) {
			*ns = p->ts_sec * NSEC_PER_SEC + p->timestamp;
			return true;
		}
		/* Else the second nearest to the arrival. */
		if (arrival_ns > UINT64_MAX - 2 * NSEC_PER_SEC)
			return false;
		sec = arrival_ns / NSEC_PER_SEC;
		best = sec * NSEC_PER_SEC + p->timestamp;
		dt = (int64_t)(best - arrival_ns);
		if (dt > (int64_t)NSEC_PER_SEC / 2 && sec > 0)
			best -= NSEC_PER_SEC;
		else if (dt < -(int64_t)NSEC_PER_SEC / 2)
			best += NSEC_PER_SEC;
		*ns = best;
		return true;
	default:
		return false;
	}
	if (p->has_ts_hi)
		v = (uint64_t)p->ts_hi << 32 | p->timestamp;
	else
		v = vtap_unwrap32(p->timestamp, arrival_ns / unit);
	if (v > UINT64_MAX / unit)
		return false;
	*ns = v * unit;
	return true;
}
