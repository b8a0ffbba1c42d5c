// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl: mirror rules -- parse, check, compile into bit vectors, install.
 * See include/vtap_bpf.h for the maps and how the classifier uses them.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "util.h"

static int fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const struct {
	const char *name;
	__u8 proto;
} protos[] = {
	{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmpv6", 58 },
	{ "sctp", 132 },
};

static const char *proto_name(__u8 p)
{
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].proto == p)
			return protos[i].name;
	return NULL;
}

/* "192.0.2.0/24", "2001:db8::/32" or a plain address; host bits refused. */
static int parse_cidr(const char *s, __u8 *family, __u8 *addr, __u8 *plen,
		      char *err, size_t errlen, const char *what)
{
	char buf[64], *slash;
	struct vtap_addr a;
	uint32_t len, max;
	int i;

	if (strlen(s) >= sizeof(buf))
		return fail(err, errlen, "%s: '%s' is not a CIDR", what, s);
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	if (parse_addr(buf, &a))
		return fail(err, errlen, "%s: '%s' is not an IPv4 or IPv6 CIDR", what, s);
	max = a.family == AF_INET ? 32 : 128;
	len = max;
	if (slash && parse_u32(slash, 0, max, &len))
		return fail(err, errlen, "%s: prefix length of '%s' must be 0 to %u",
			    what, s, max);
	memset(addr, 0, 16);
	memcpy(addr, a.family == AF_INET ? (void *)&a.v4 : (void *)&a.v6, max / 8);
	for (i = 0; i < (int)max; i++)
		if (i >= (int)len && (addr[i / 8] >> (7 - i % 8) & 1))
			return fail(err, errlen,
				    "%s: '%s' has bits set past the prefix length", what, s);
	*family = a.family == AF_INET ? 4 : 6;
	*plen = (__u8)len;
	return 0;
}

static int parse_range(const char *s, __u16 *lo, __u16 *hi, char *err,
		       size_t errlen, const char *what)
{
	char buf[16], *dash;
	uint32_t a, b;

	if (strlen(s) >= sizeof(buf))
		return fail(err, errlen, "%s: '%s' is not a port or range", what, s);
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash++ = 0;
	if (parse_u32(buf, 0, 65535, &a) || (dash && parse_u32(dash, 0, 65535, &b)))
		return fail(err, errlen, "%s: '%s' is not a port (0-65535) or range A-B",
			    what, s);
	if (!dash)
		b = a;
	if (a > b)
		return fail(err, errlen, "%s: range '%s' is reversed", what, s);
	*lo = (__u16)a;
	*hi = (__u16)b;
	return 0;
}

int vtap_rule_parse(int argc, char **argv, struct vtap_rule *r, char *err,
		    size_t errlen)
{
	__u8 fam;
	int i;

	memset(r, 0, sizeof(*r));
	if (argc < 1)
		return fail(err, errlen, "accept or reject?");
	if (!strcmp(argv[0], "accept"))
		r->flags |= VTAP_RULE_F_ACCEPT;
	else if (strcmp(argv[0], "reject"))
		return fail(err, errlen, "'%s': a rule starts with accept or reject", argv[0]);

	for (i = 1; i < argc; i += 2) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		uint32_t v;
		__u32 bit;

		if (!strcmp(kw, "proto"))
			bit = VTAP_RULE_F_PROTO;
		else if (!strcmp(kw, "src"))
			bit = VTAP_RULE_F_SRC;
		else if (!strcmp(kw, "dst"))
			bit = VTAP_RULE_F_DST;
		else if (!strcmp(kw, "sport"))
			bit = VTAP_RULE_F_SPORT;
		else if (!strcmp(kw, "dport"))
			bit = VTAP_RULE_F_DPORT;
		else if (!strcmp(kw, "vlan"))
			bit = VTAP_RULE_F_VLAN;
		else if (!strcmp(kw, "icmp-type"))
			bit = VTAP_RULE_F_ICMP;
		else
			return fail(err, errlen, "unknown rule option '%s'", kw);
		if (!val)
			return fail(err, errlen, "'%s' needs a value", kw);
		if (r->flags & bit)
			return fail(err, errlen, "'%s' given twice", kw);
		r->flags |= bit;

		switch (bit) {
		case VTAP_RULE_F_PROTO: {
			size_t j;

			for (j = 0; j < sizeof(protos) / sizeof(protos[0]); j++)
				if (!strcmp(val, protos[j].name))
					break;
			if (j < sizeof(protos) / sizeof(protos[0]))
				r->proto = protos[j].proto;
			else if (!parse_u32(val, 0, 255, &v))
				r->proto = (__u8)v;
			else
				return fail(err, errlen,
					    "proto: '%s' is not tcp, udp, icmp, icmpv6, sctp or 0-255",
					    val);
			break;
		}
		case VTAP_RULE_F_SRC:
			if (parse_cidr(val, &fam, r->src, &r->src_len, err, errlen, "src"))
				return -EINVAL;
			if (r->family && r->family != fam)
				return fail(err, errlen, "src and dst must be of one family");
			r->family = fam;
			break;
		case VTAP_RULE_F_DST:
			if (parse_cidr(val, &fam, r->dst, &r->dst_len, err, errlen, "dst"))
				return -EINVAL;
			if (r->family && r->family != fam)
				return fail(err, errlen, "src and dst must be of one family");
			r->family = fam;
			break;
		case VTAP_RULE_F_SPORT:
			if (parse_range(val, &r->sport_lo, &r->sport_hi, err, errlen, "sport"))
				return -EINVAL;
			break;
		case VTAP_RULE_F_DPORT:
			if (parse_range(val, &r->dport_lo, &r->dport_hi, err, errlen, "dport"))
				return -EINVAL;
			break;
		case VTAP_RULE_F_VLAN:
			if (parse_u32(val, 0, 4095, &v))
				return fail(err, errlen, "vlan: '%s' is not 0-4095", val);
			r->vlan = (__u16)v;
			break;
		case VTAP_RULE_F_ICMP:
			if (parse_u32(val, 0, 255, &v))
				return fail(err, errlen, "icmp-type: '%s' is not 0-255", val);
			r->icmp_type = (__u8)v;
			break;
		}
	}
	return vtap_rule_check(r, err, errlen);
}

int vtap_rule_check(const struct vtap_rule *r, char *err, size_t errlen)
{
	bool ports = r->flags & (VTAP_RULE_F_SPORT | VTAP_RULE_F_DPORT);
	bool proto = r->flags & VTAP_RULE_F_PROTO;

	if (ports && (!proto || (r->proto != 6 && r->proto != 17 && r->proto != 132)))
		return fail(err, errlen, "ports need proto tcp, udp or sctp");
	if ((r->flags & VTAP_RULE_F_ICMP) &&
	    (!proto || (r->proto != 1 && r->proto != 58)))
		return fail(err, errlen, "icmp-type needs proto icmp or icmpv6");
	if (proto && r->proto == 1 && r->family == 6)
		return fail(err, errlen, "proto icmp with IPv6 addresses never matches (icmpv6?)");
	if (proto && r->proto == 58 && r->family == 4)
		return fail(err, errlen, "proto icmpv6 with IPv4 addresses never matches (icmp?)");
	if ((r->flags & (VTAP_RULE_F_SRC | VTAP_RULE_F_DST)) &&
	    r->family != 4 && r->family != 6)
		return fail(err, errlen, "bad address family");
	return 0;
}

static void format_cidr(const struct vtap_rule *r, const __u8 *addr, __u8 len,
			char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(r->family == 4 ? AF_INET : AF_INET6, addr, a, sizeof(a));
	snprintf(buf, n, "%s/%u", a, len);
}

void vtap_rule_format(const struct vtap_rule *r, char *buf, size_t len)
{
	char tmp[64];
	size_t o;

	o = (size_t)snprintf(buf, len, "%s",
			     r->flags & VTAP_RULE_F_ACCEPT ? "accept" : "reject");
#define ADD(...) do { if (o < len) o += (size_t)snprintf(buf + o, len - o, __VA_ARGS__); } while (0)
	if (r->flags & VTAP_RULE_F_PROTO) {
		const char *n = proto_name(r->proto);

		if (n)
			ADD(" proto %s", n);
		else
			ADD(" proto %u", r->proto);
	}
	if (r->flags & VTAP_RULE_F_SRC) {
		format_cidr(r, r->src, r->src_len, tmp, sizeof(tmp));
		ADD(" src %s", tmp);
	}
	if (r->flags & VTAP_RULE_F_DST) {
		format_cidr(r, r->dst, r->dst_len, tmp, sizeof(tmp));
		ADD(" dst %s", tmp);
	}
	if (r->flags & VTAP_RULE_F_SPORT) {
		if (r->sport_lo == r->sport_hi)
			ADD(" sport %u", r->sport_lo);
		else
			ADD(" sport %u-%u", r->sport_lo, r->sport_hi);
	}
	if (r->flags & VTAP_RULE_F_DPORT) {
		if (r->dport_lo == r->dport_hi)
			ADD(" dport %u", r->dport_lo);
		else
			ADD(" dport %u-%u", r->dport_lo, r->dport_hi);
	}
	if (r->flags & VTAP_RULE_F_VLAN)
		ADD(" vlan %u", r->vlan);
	if (r->flags & VTAP_RULE_F_ICMP)
		ADD(" icmp-type %u", r->icmp_type);
#undef ADD
}

/* ---- compile ----------------------------------------------------------- */

static void bit_set(struct vtap_bits *b, int i)
{
	b->w[i / 64] |= 1ULL << (i % 64);
}

static int cmp_num(const void *a, const void *b)
{
	const struct vtap_rule_ent *x = a, *y = b;

	return x->num < y->num ? -1 : x->num > y->num;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const __u16 *)a - (int)*(const __u16 *)b;
}

/* Does CIDR (a, alen) contain CIDR (p, plen)? */
static bool cidr_contains(const __u8 *a, int alen, const __u8 *p, int plen)
{
	int i;

	if (alen > plen)
		return false;
	for (i = 0; i < alen; i++)
		if ((a[i / 8] ^ p[i / 8]) >> (7 - i % 8) & 1)
			return false;
	return true;
}

/* Field values of rule @r: which of the four tries, and the CIDR. */
static bool rule_lpm(const struct vtap_rule *r, int t, const __u8 **addr,
		     int *len)
{
	bool src = !(t & 1), v6 = t >= 2;
	__u32 bit = src ? VTAP_RULE_F_SRC : VTAP_RULE_F_DST;

	if (!(r->flags & bit) || r->family != (v6 ? 6 : 4))
		return false;
	*addr = src ? r->src : r->dst;
	*len = src ? r->src_len : r->dst_len;
	return true;
}

static void compile_ports(struct vtap_rule_ent *rules, int n, int field,
			  const struct vtap_bits *any, struct vtap_port_spans *ps)
{
	__u32 bit = field == 0 ? VTAP_RULE_F_SPORT : VTAP_RULE_F_DPORT;
	__u16 b[2 * VTAP_RULES_MAX + 1];
	int nb = 0, i, j, m = 0;

	b[nb++] = 0;
	for (i = 0; i < n; i++) {
		const struct vtap_rule *r = &rules[i].r;
		__u16 lo = field == 0 ? r->sport_lo : r->dport_lo;
		__u16 hi = field == 0 ? r->sport_hi : r->dport_hi;

		if (!(r->flags & bit))
			continue;
		b[nb++] = lo;
		if (hi < 65535)
			b[nb++] = (__u16)(hi + 1);
	}
	qsort(b, (size_t)nb, sizeof(b[0]), cmp_u16);
	memset(ps, 0, sizeof(*ps));
	for (i = 0; i < nb; i++) {
		if (m && ps->lo[m - 1] == b[i])
			continue;
		ps->lo[m] = b[i];
		ps->bits[m] = *any;
		for (j = 0; j < n; j++) {
			const struct vtap_rule *r = &rules[j].r;
			__u16 lo = field == 0 ? r->sport_lo : r->dport_lo;
			__u16 hi = field == 0 ? r->sport_hi : r->dport_hi;

			if ((r->flags & bit) && lo <= b[i] && b[i] <= hi)
				bit_set(&ps->bits[m], j);
		}
		m++;
	}
	ps->n = (__u32)m;
}

/* Longest first: the first inline prefix holding an address is its LPM. */
static int cmp_lpm_len(const void *a, const void *b)
{
	const struct vtap_lpm_ent *x = a, *y = b;

	return (int)y->len - (int)x->len;
}

/* The prefix's address and mask, as the classifier loads them. */
static void lpm_mask(const struct vtap_lpm_ent *e, __u8 *net, __u8 *mask)
{
	int i;

	memset(mask, 0, 16);
	for (i = 0; i < e->len; i++)
		mask[i / 8] |= (__u8)(0x80 >> (i % 8));
	for (i = 0; i < 16; i++)
		net[i] = e->addr[i] & mask[i];
}

/* Copy the tables that fit into the ruleset value itself (vtap_bpf.h). */
static void compile_inline(struct vtap_compiled *c)
{
	struct vtap_ruleset *rs = &c->rs;
	int i, f, t;

	if (c->nvlan <= VTAP_INL_VALS) {
		rs->inl |= 1U << VTAP_RT_VLAN;
		rs->n[VTAP_RT_VLAN] = (__u8)c->nvlan;
		for (i = 0; i < c->nvlan; i++) {
			rs->vid[i] = c->vlan[i].vid;
			rs->vid_bits[i] = c->vlan[i].bits;
		}
	}
	if (c->nproto <= VTAP_INL_VALS) {
		rs->inl |= 1U << VTAP_RT_PROTO;
		rs->n[VTAP_RT_PROTO] = (__u8)c->nproto;
		for (i = 0; i < c->nproto; i++) {
			rs->proto[i] = c->proto[i].proto;
			rs->proto_bits[i] = c->proto[i].bits;
		}
	}
	if (c->nicmp <= VTAP_INL_VALS) {
		rs->inl |= 1U << VTAP_RT_ICMP;
		rs->n[VTAP_RT_ICMP] = (__u8)c->nicmp;
		for (i = 0; i < c->nicmp; i++) {
			rs->icmp[i] = (__u16)(c->icmp[i].proto << 8 | c->icmp[i].type);
			rs->icmp_bits[i] = c->icmp[i].bits;
		}
	}
	for (f = 0; f < 2; f++) {
		if (!c->has_ports[f] || c->ports[f].n > VTAP_INL_SPANS)
			continue;
		rs->inl |= 1U << (VTAP_RT_SPORT + f);
		rs->n[VTAP_RT_SPORT + f] = (__u8)c->ports[f].n;
		for (i = 0; i < (int)c->ports[f].n; i++) {
			rs->port_lo[f][i] = c->ports[f].lo[i];
			rs->port_bits[f][i] = c->ports[f].bits[i];
		}
	}
	for (t = 0; t < 4; t++) {
		struct vtap_lpm_ent sorted[VTAP_INL_PREFIXES];
		__u8 net[16], mask[16];

		if (c->nlpm[t] > VTAP_INL_PREFIXES)
			continue;
		memcpy(sorted, c->lpm[t], sizeof(sorted[0]) * (size_t)c->nlpm[t]);
		qsort(sorted, (size_t)c->nlpm[t], sizeof(sorted[0]), cmp_lpm_len);
		rs->inl |= 1U << (VTAP_RT_SRC4 + t);
		rs->n[VTAP_RT_SRC4 + t] = (__u8)c->nlpm[t];
		for (i = 0; i < c->nlpm[t]; i++) {
			lpm_mask(&sorted[i], net, mask);
			if (t < 2) {
				memcpy(&rs->pfx4[t][i].net, net, 4);
				memcpy(&rs->pfx4[t][i].mask, mask, 4);
			} else {
				memcpy(rs->pfx6[t - 2][i].net, net, 16);
				memcpy(rs->pfx6[t - 2][i].mask, mask, 16);
			}
			rs->pfx_bits[t][i] = sorted[i].bits;
		}
	}
}

int vtap_rules_compile(struct vtap_rule_ent *rules, int n,
		       struct vtap_compiled *c)
{
	static const __u32 field_bit[VTAP_NRF] = {
		[VTAP_RF_VLAN] = VTAP_RULE_F_VLAN,
		[VTAP_RF_PROTO] = VTAP_RULE_F_PROTO,
		[VTAP_RF_SRC] = VTAP_RULE_F_SRC,
		[VTAP_RF_DST] = VTAP_RULE_F_DST,
		[VTAP_RF_SPORT] = VTAP_RULE_F_SPORT,
		[VTAP_RF_DPORT] = VTAP_RULE_F_DPORT,
		[VTAP_RF_ICMP] = VTAP_RULE_F_ICMP,
	};
	int i, j, f, t;

	if (n > VTAP_RULES_MAX)
		return -E2BIG;
	memset(c, 0, sizeof(*c));
	if (n)
		qsort(rules, (size_t)n, sizeof(rules[0]), cmp_num);
	c->rs.nrules = (__u32)n;

	for (i = 0; i < n; i++) {
		const struct vtap_rule *r = &rules[i].r;

		if (r->flags & VTAP_RULE_F_ACCEPT)
			bit_set(&c->rs.accept, i);
		for (f = 0; f < VTAP_NRF; f++) {
			if (r->flags & field_bit[f])
				c->rs.used |= 1U << f;
			else
				bit_set(&c->rs.any[f], i);
		}
	}

	for (i = 0; i < n; i++) {
		const struct vtap_rule *r = &rules[i].r;

		if (r->flags & VTAP_RULE_F_VLAN) {
			for (j = 0; j < c->nvlan && c->vlan[j].vid != r->vlan; j++)
				;
			if (j == c->nvlan) {
				c->vlan[j].vid = r->vlan;
				c->vlan[j].bits = c->rs.any[VTAP_RF_VLAN];
				c->nvlan++;
			}
			bit_set(&c->vlan[j].bits, i);
		}
		if (r->flags & VTAP_RULE_F_PROTO) {
			for (j = 0; j < c->nproto && c->proto[j].proto != r->proto; j++)
				;
			if (j == c->nproto) {
				c->proto[j].proto = r->proto;
				c->proto[j].bits = c->rs.any[VTAP_RF_PROTO];
				c->nproto++;
			}
			bit_set(&c->proto[j].bits, i);
		}
		if (r->flags & VTAP_RULE_F_ICMP) {
			for (j = 0; j < c->nicmp && (c->icmp[j].proto != r->proto ||
						     c->icmp[j].type != r->icmp_type); j++)
				;
			if (j == c->nicmp) {
				c->icmp[j].proto = r->proto;
				c->icmp[j].type = r->icmp_type;
				c->icmp[j].bits = c->rs.any[VTAP_RF_ICMP];
				c->nicmp++;
			}
			bit_set(&c->icmp[j].bits, i);
		}
	}

	/* Tries: an entry per distinct CIDR; its bits, the rules containing it. */
	for (t = 0; t < 4; t++) {
		int f_any = t & 1 ? VTAP_RF_DST : VTAP_RF_SRC;

		for (i = 0; i < n; i++) {
			struct vtap_lpm_ent *e;
			const __u8 *a;
			int len;

			if (!rule_lpm(&rules[i].r, t, &a, &len))
				continue;
			for (j = 0; j < c->nlpm[t]; j++)
				if (c->lpm[t][j].len == len &&
				    !memcmp(c->lpm[t][j].addr, a, 16))
					break;
			if (j < c->nlpm[t])
				continue;
			e = &c->lpm[t][c->nlpm[t]++];
			e->len = (__u8)len;
			memcpy(e->addr, a, 16);
			e->bits = c->rs.any[f_any];
		}
		for (j = 0; j < c->nlpm[t]; j++) {
			struct vtap_lpm_ent *e = &c->lpm[t][j];

			for (i = 0; i < n; i++) {
				const __u8 *a;
				int len;

				if (rule_lpm(&rules[i].r, t, &a, &len) &&
				    cidr_contains(a, len, e->addr, e->len))
					bit_set(&e->bits, i);
			}
		}
	}

	for (f = 0; f < 2; f++) {
		int rf = f == 0 ? VTAP_RF_SPORT : VTAP_RF_DPORT;

		c->has_ports[f] = c->rs.used & (1U << rf);
		if (c->has_ports[f])
			compile_ports(rules, n, f, &c->rs.any[rf], &c->ports[f]);
	}
	compile_inline(c);
	return 0;
}

/* ---- install ----------------------------------------------------------- */

/* Delete every key of @fd whose sd2 (at @off, 2 bytes, @be) is @sd2. */
static int purge_sd2(int fd, size_t keylen, size_t off, bool be, __u16 sd2)
{
	unsigned char key[64], next[64], (*del)[64] = NULL;
	size_t ndel = 0, cap = 0, i;
	void *prev = NULL;
	int err = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		__u16 v;

		memcpy(&v, next + off, 2);
		if (be)
			v = ntohs(v);
		if (v == sd2) {
			if (ndel == cap) {
				void *n = realloc(del, (cap = cap ? 2 * cap : 64) * sizeof(*del));

				if (!n) {
					free(del);
					return -ENOMEM;
				}
				del = n;
			}
			memcpy(del[ndel++], next, keylen);
		}
		memcpy(key, next, keylen);
		prev = key;
	}
	for (i = 0; i < ndel; i++)
		if (bpf_map_delete_elem(fd, del[i]) && errno != ENOENT)
			err = -errno;
	free(del);
	return err;
}

static int purge_gen(const struct vtap_rule_maps *m, __u32 sd2)
{
	int err = 0, t;

	err = err ?: purge_sd2(m->vlan, sizeof(struct vtap_rkey_vlan), 0, false, (__u16)sd2);
	err = err ?: purge_sd2(m->proto, sizeof(struct vtap_rkey_proto), 0, false, (__u16)sd2);
	err = err ?: purge_sd2(m->icmp, sizeof(struct vtap_rkey_icmp), 0, false, (__u16)sd2);
	err = err ?: purge_sd2(m->ports, sizeof(struct vtap_rkey_ports), 0, false, (__u16)sd2);
	for (t = 0; t < 4 && !err; t++)
		err = purge_sd2(m->lpm[t], t < 2 ? sizeof(struct vtap_rkey_lpm4)
						 : sizeof(struct vtap_rkey_lpm6),
				4, true, (__u16)sd2);
	return err;
}

static int put(int fd, const void *k, const void *v)
{
	return bpf_map_update_elem(fd, k, v, BPF_ANY) ? -errno : 0;
}

/* Is table @t inline in the ruleset (no map entries)? */
static bool inl(const struct vtap_compiled *c, int t)
{
	return c->rs.inl & (1U << t);
}

/* Set or clear bit @sd of "rules_on" (the caller holds the namespace's lock). */
static int rules_on_set(const struct vtap_rule_maps *m, __u32 sd, bool on)
{
	struct vtap_rules_on v;
	__u64 bit = 1ULL << (sd % 64);
	__u32 zero = 0;

	if (sd >= VTAP_NSD)
		return -EINVAL;
	if (bpf_map_lookup_elem(m->on, &zero, &v))
		return -errno;
	if (!!(v.w[sd / 64] & bit) == on)
		return 0;
	v.w[sd / 64] ^= bit;
	return put(m->on, &zero, &v);
}

int vtap_rules_install(const struct vtap_rule_maps *m, __u32 sd,
		       const struct vtap_compiled *c)
{
	struct vtap_ruleset cur, rs = c->rs;
	__u32 gen = 0, sd2;
	int err, i, t;

	if (!bpf_map_lookup_elem(m->rulesets, &sd, &cur))
		gen = (cur.gen & 1) ^ 1;
	if (!c->rs.nrules) {
		/* Packets stop looking before the ruleset goes. */
		err = rules_on_set(m, sd, false);
		if (err)
			return err;
		if (bpf_map_delete_elem(m->rulesets, &sd) && errno != ENOENT)
			return -errno;
		err = purge_gen(m, VTAP_SD2(sd, 0));
		return err ?: purge_gen(m, VTAP_SD2(sd, 1));
	}
	sd2 = VTAP_SD2(sd, gen);
	err = purge_gen(m, sd2);
	if (err)
		return err;

	for (i = 0; i < c->nvlan && !err && !inl(c, VTAP_RT_VLAN); i++) {
		struct vtap_rkey_vlan k = { .sd2 = (__u16)sd2, .vid = c->vlan[i].vid };

		err = put(m->vlan, &k, &c->vlan[i].bits);
	}
	for (i = 0; i < c->nproto && !err && !inl(c, VTAP_RT_PROTO); i++) {
		struct vtap_rkey_proto k = { .sd2 = (__u16)sd2, .proto = c->proto[i].proto };

		err = put(m->proto, &k, &c->proto[i].bits);
	}
	for (i = 0; i < c->nicmp && !err && !inl(c, VTAP_RT_ICMP); i++) {
		struct vtap_rkey_icmp k = {
			.sd2 = (__u16)sd2, .proto = c->icmp[i].proto, .type = c->icmp[i].type,
		};

		err = put(m->icmp, &k, &c->icmp[i].bits);
	}
	for (t = 0; t < 4 && !err; t++) {
		for (i = 0; i < c->nlpm[t] && !err && !inl(c, VTAP_RT_SRC4 + t); i++) {
			const struct vtap_lpm_ent *e = &c->lpm[t][i];

			if (t < 2) {
				struct vtap_rkey_lpm4 k = { .prefixlen = 16 + e->len };

				k.sd2[0] = (__u8)(sd2 >> 8);
				k.sd2[1] = (__u8)sd2;
				memcpy(k.addr, e->addr, 4);
				err = put(m->lpm[t], &k, &e->bits);
			} else {
				struct vtap_rkey_lpm6 k = { .prefixlen = 16 + e->len };

				k.sd2[0] = (__u8)(sd2 >> 8);
				k.sd2[1] = (__u8)sd2;
				memcpy(k.addr, e->addr, 16);
				err = put(m->lpm[t], &k, &e->bits);
			}
		}
	}
	for (i = 0; i < 2 && !err; i++) {
		struct vtap_rkey_ports k = {
			.sd2 = (__u16)sd2,
			.field = i == 0 ? VTAP_RF_SPORT : VTAP_RF_DPORT,
		};

		if (c->has_ports[i] && !inl(c, VTAP_RT_SPORT + i))
			err = put(m->ports, &k, &c->ports[i]);
	}
	if (err) {
		purge_gen(m, sd2);	/* the live generation is untouched */
		return err;
	}
	rs.gen = gen;
	err = put(m->rulesets, &sd, &rs);
	/* ...and start looking once it is there. */
	return err ?: rules_on_set(m, sd, true);
}

int vtap_rules_read(const struct vtap_rule_maps *m, __u32 sd,
		    struct vtap_rule_ent **out)
{
	struct vtap_rule_key key, next, *prev = NULL;
	struct vtap_rule_ent *v = NULL;
	int n = 0, cap = 0;

	while (!bpf_map_get_next_key(m->rules, prev, &next)) {
		key = next;
		prev = &key;
		if (key.sd != sd)
			continue;
		if (n == cap) {
			void *nv = realloc(v, (size_t)(cap = cap ? 2 * cap : 16) * sizeof(*v));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		if (bpf_map_lookup_elem(m->rules, &key, &v[n].r))
			continue;	/* deleted meanwhile */
		v[n++].num = key.num;
	}
	if (n)
		qsort(v, (size_t)n, sizeof(*v), cmp_num);
	*out = v;
	return n;
}

int vtap_rules_purge(const struct vtap_rule_maps *m, __u32 sd)
{
	struct vtap_compiled *none = calloc(1, sizeof(*none));
	struct vtap_rule_ent *v = NULL;
	int n, i, err;

	if (!none)
		return -ENOMEM;
	n = vtap_rules_read(m, sd, &v);
	for (i = 0; i < n; i++) {
		struct vtap_rule_key k = { .sd = sd, .num = v[i].num };

		bpf_map_delete_elem(m->rules, &k);
	}
	free(v);
	err = vtap_rules_install(m, sd, none);
	free(none);
	return n < 0 ? n : err;
}
