// SPDX-License-Identifier: GPL-2.0
/*
 * vtap generic netlink family: see include/uapi/linux/vtap.h for the
 * commands and their attribute trees, and "DOC: Locking" in vtap.h.
 */

#include <linux/ctype.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <linux/slab.h>
#include <net/ipv6.h>

#include "vtap.h"

static struct genl_family vtap_genl_family;

enum vtap_mcgrp {
	VTAP_MCGRP_EVENTS_ID,
};

static const struct genl_multicast_group vtap_mcgrps[] = {
	[VTAP_MCGRP_EVENTS_ID] = { .name = VTAP_MCGRP_EVENTS },
};

/* struct nla_policy keeps min/max in s16: larger bounds need a range. */
static struct netlink_range_validation vtap_snaplen_range = {
	.min = 0,
	.max = 65535,
};

static struct netlink_range_validation vtap_vni_range = {
	.min = 0,
	.max = VTAP_VXLAN_VNI_MAX,
};

static struct netlink_range_validation vtap_dedup_range = {
	.min = 0,
	.max = VTAP_DEDUP_WINDOW_MAX,
};

static struct netlink_range_validation vtap_rate_range = {
	.min = 0,
	.max = VTAP_RATE_MAX,
};

/* SESSION_NEW and SESSION_SET: everything a session is made of. */
static const struct nla_policy vtap_session_policy[VTAP_A_SESSION_MAX + 1] = {
	[VTAP_A_SESSION_NAME]	 = { .type = NLA_NUL_STRING,
				     .len = VTAP_NAME_MAX - 1 },
	[VTAP_A_SESSION_ID]	 = NLA_POLICY_RANGE(NLA_U32, 1,
						    VTAP_SESSION_ID_MAX),
	[VTAP_A_SESSION_ENCAP]	 = NLA_POLICY_RANGE(NLA_U8, VTAP_ENCAP_GRE,
						    VTAP_ENCAP_MAX),
	[VTAP_A_SESSION_REMOTE4] = { .type = NLA_BE32 },
	[VTAP_A_SESSION_REMOTE6] = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[VTAP_A_SESSION_LOCAL4]	 = { .type = NLA_BE32 },
	[VTAP_A_SESSION_LOCAL6]	 = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[VTAP_A_SESSION_KEY]	 = { .type = NLA_U32 },
	[VTAP_A_SESSION_TTL]	 = NLA_POLICY_MIN(NLA_U8, 1),
	[VTAP_A_SESSION_TOS]	 = { .type = NLA_U8 },
	[VTAP_A_SESSION_HWID]	 = NLA_POLICY_MAX(NLA_U8, VTAP_ERSPAN_HWID_MAX),
	[VTAP_A_SESSION_GRA]	 = NLA_POLICY_MAX(NLA_U8, VTAP_GRA_MAX),
	[VTAP_A_SESSION_STATS]	 = { .type = NLA_REJECT,
				     .reject_message = "statistics are read-only" },
	[VTAP_A_SESSION_SNAPLEN] = NLA_POLICY_FULL_RANGE(NLA_U32, &vtap_snaplen_range),
	[VTAP_A_SESSION_SAMPLE]	 = NLA_POLICY_MIN(NLA_U32, 1),
	[VTAP_A_SESSION_SAMPLE_MODE] = NLA_POLICY_MAX(NLA_U8, VTAP_SAMPLE_MAX),
	[VTAP_A_SESSION_MASK_OFFSET] = { .type = NLA_U16 },
	[VTAP_A_SESSION_MASK_LEN] = { .type = NLA_U16 },
	[VTAP_A_SESSION_MASK_BYTE] = { .type = NLA_U8 },
	[VTAP_A_SESSION_RATE]	 = NLA_POLICY_FULL_RANGE(NLA_U64, &vtap_rate_range),
	[VTAP_A_SESSION_RATE_UNIT] = NLA_POLICY_MAX(NLA_U8, VTAP_RATE_UNIT_MAX),
	[VTAP_A_SESSION_BURST]	 = NLA_POLICY_MIN(NLA_U32, 1),
	[VTAP_A_SESSION_FLAGS]	 = NLA_POLICY_MASK(NLA_U32, __VTAP_SESSION_F_ALL),
	[VTAP_A_SESSION_COOKIE]	 = { .type = NLA_REJECT,
				     .reject_message = "the cookie is the kernel's choice" },
	[VTAP_A_SESSION_VNI]	 = NLA_POLICY_FULL_RANGE(NLA_U32, &vtap_vni_range),
	[VTAP_A_SESSION_DPORT]	 = NLA_POLICY_MIN(NLA_U16, 1),
	[VTAP_A_SESSION_SUBHDR]	 = NLA_POLICY_MAX(NLA_U8, VTAP_ERSPAN_SUBHDR_MAX),
	[VTAP_A_SESSION_DEDUP]	 = NLA_POLICY_FULL_RANGE(NLA_U32, &vtap_dedup_range),
};

/* SESSION_DEL and SESSION_GET: which session, nothing else. */
static const struct nla_policy vtap_session_id_policy[VTAP_A_SESSION_MAX + 1] = {
	[VTAP_A_SESSION_NAME]	 = { .type = NLA_NUL_STRING,
				     .len = VTAP_NAME_MAX - 1 },
	[VTAP_A_SESSION_ID]	 = NLA_POLICY_RANGE(NLA_U32, 1,
						    VTAP_SESSION_ID_MAX),
};

/* INFO_GET: no attribute at all (each is "Unsupported" in strict mode). */
static const struct nla_policy vtap_info_policy[VTAP_A_INFO_MAX + 1] = {
};

/* ---- INFO_GET ---------------------------------------------------------- */

static u64 vtap_features(void)
{
	return VTAP_FEATURE_SESSIONS | VTAP_FEATURE_GRE |
	       VTAP_FEATURE_ERSPAN2 | VTAP_FEATURE_ERSPAN3 | VTAP_FEATURE_IPV6 |
	       VTAP_FEATURE_SAMPLE | VTAP_FEATURE_SLICE | VTAP_FEATURE_RATE |
	       VTAP_FEATURE_GSO | VTAP_FEATURE_DEFERRED | VTAP_FEATURE_COOKIE |
	       VTAP_FEATURE_UNPARSED | VTAP_FEATURE_VXLAN |
	       VTAP_FEATURE_ERSPAN3_SUBHDR | VTAP_FEATURE_DEDUP |
	       (vtap_kfunc_registered ? VTAP_FEATURE_KFUNC | VTAP_FEATURE_XDP : 0);
}

/**
 * vtap_nl_info_get - report the module version, API version and features
 * @skb: the request
 * @info: its attributes (none accepted)
 *
 * Return: 0 or a negative errno.
 */
static int vtap_nl_info_get(struct sk_buff *skb, struct genl_info *info)
{
	struct vtap_net *vn = vtap_net(genl_info_net(info));
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &vtap_genl_family, 0,
				VTAP_CMD_INFO_GET);
	if (!hdr)
		goto err_size;
	if (nla_put_string(msg, VTAP_A_INFO_VERSION, VTAP_VERSION) ||
	    nla_put_u32(msg, VTAP_A_INFO_API, VTAP_GENL_VERSION) ||
	    nla_put_u64_64bit(msg, VTAP_A_INFO_FEATURES, vtap_features(),
			      VTAP_A_INFO_PAD) ||
	    nla_put_u32(msg, VTAP_A_INFO_SESSIONS, READ_ONCE(vn->nsessions)) ||
	    nla_put_u32(msg, VTAP_A_INFO_MAX_SESSIONS, VTAP_SESSION_ID_MAX))
		goto err_size;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_size:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* ---- sessions: messages ------------------------------------------------ */

static int vtap_put_stats(struct sk_buff *msg, const struct vtap_session *s)
{
	u64 v[VTAP_NSTATS];
	struct nlattr *nest;
	int i;

	vtap_session_stats_read(s, v);
	nest = nla_nest_start(msg, VTAP_A_SESSION_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < VTAP_NSTATS; i++)
		if (nla_put_u64_64bit(msg, VTAP_A_STATS_MATCHED + i, v[i],
				      VTAP_A_STATS_PAD))
			goto err_cancel;
	nla_nest_end(msg, nest);
	return 0;

err_cancel:
	nla_nest_cancel(msg, nest);
	return -EMSGSIZE;
}

/* The burst a session uses: as given, or a tenth of a second's worth. */
static u32 vtap_burst(const struct vtap_params *p)
{
	u64 b;

	if (p->burst)
		return p->burst;
	if (p->rate_unit == VTAP_RATE_PPS)
		b = div_u64(p->rate, 10);
	else
		b = div_u64(p->rate, 80);	/* bytes in 100 ms */
	b = max_t(u64, b, p->rate_unit == VTAP_RATE_PPS ? 1 : ETH_FRAME_LEN);
	return (u32)min_t(u64, b, U32_MAX);
}

static int vtap_session_fill(struct sk_buff *msg, const struct vtap_session *s,
			     const struct vtap_params *p, u32 portid, u32 seq,
			     int flags, u8 cmd, struct netlink_callback *cb)
{
	void *hdr;

	hdr = genlmsg_put(msg, portid, seq, &vtap_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);

	if (nla_put_string(msg, VTAP_A_SESSION_NAME, s->name) ||
	    nla_put_u32(msg, VTAP_A_SESSION_ID, s->id) ||
	    nla_put_u64_64bit(msg, VTAP_A_SESSION_COOKIE, s->cookie,
			      VTAP_A_SESSION_PAD) ||
	    nla_put_u8(msg, VTAP_A_SESSION_ENCAP, p->encap) ||
	    nla_put_u8(msg, VTAP_A_SESSION_TTL, p->ttl) ||
	    nla_put_u8(msg, VTAP_A_SESSION_TOS, p->tos))
		goto err_cancel;
	if (p->family == AF_INET) {
		if (nla_put_in_addr(msg, VTAP_A_SESSION_REMOTE4, p->remote4) ||
		    (p->has_local &&
		     nla_put_in_addr(msg, VTAP_A_SESSION_LOCAL4, p->local4)))
			goto err_cancel;
	} else {
		if (nla_put_in6_addr(msg, VTAP_A_SESSION_REMOTE6, &p->remote6) ||
		    (p->has_local &&
		     nla_put_in6_addr(msg, VTAP_A_SESSION_LOCAL6, &p->local6)))
			goto err_cancel;
	}
	if (p->has_key && nla_put_u32(msg, VTAP_A_SESSION_KEY, p->key))
		goto err_cancel;
	if (p->encap == VTAP_ENCAP_VXLAN &&
	    (nla_put_u32(msg, VTAP_A_SESSION_VNI, p->has_vni ? p->vni : s->id) ||
	     nla_put_u16(msg, VTAP_A_SESSION_DPORT, p->dport)))
		goto err_cancel;
	if (p->encap == VTAP_ENCAP_ERSPAN3 &&
	    (nla_put_u8(msg, VTAP_A_SESSION_HWID, p->hwid) ||
	     nla_put_u8(msg, VTAP_A_SESSION_GRA, p->gra) ||
	     nla_put_u8(msg, VTAP_A_SESSION_SUBHDR, p->subhdr)))
		goto err_cancel;
	if (nla_put_u32(msg, VTAP_A_SESSION_SNAPLEN, p->snaplen) ||
	    nla_put_u32(msg, VTAP_A_SESSION_SAMPLE, p->sample) ||
	    nla_put_u8(msg, VTAP_A_SESSION_SAMPLE_MODE, p->sample_mode) ||
	    nla_put_u32(msg, VTAP_A_SESSION_FLAGS, p->flags) ||
	    nla_put_u32(msg, VTAP_A_SESSION_DEDUP,
			(u32)div_u64(p->dedup_ns, NSEC_PER_USEC)))
		goto err_cancel;
	if (p->mask_len &&
	    (nla_put_u16(msg, VTAP_A_SESSION_MASK_OFFSET, p->mask_offset) ||
	     nla_put_u16(msg, VTAP_A_SESSION_MASK_LEN, p->mask_len) ||
	     nla_put_u8(msg, VTAP_A_SESSION_MASK_BYTE, p->mask_byte)))
		goto err_cancel;
	if (p->rate &&
	    (nla_put_u64_64bit(msg, VTAP_A_SESSION_RATE, p->rate,
			       VTAP_A_SESSION_PAD) ||
	     nla_put_u8(msg, VTAP_A_SESSION_RATE_UNIT, p->rate_unit) ||
	     nla_put_u32(msg, VTAP_A_SESSION_BURST, vtap_burst(p))))
		goto err_cancel;
	if (vtap_put_stats(msg, s))
		goto err_cancel;

	genlmsg_end(msg, hdr);
	return 0;

err_cancel:
	genlmsg_cancel(msg, hdr);
	return -EMSGSIZE;
}

/* Build a notification while the session is still stable (lock held). */
static struct sk_buff *vtap_session_event(struct net *net,
					  const struct vtap_session *s,
					  const struct vtap_params *p, u8 cmd)
{
	struct sk_buff *msg;

	if (!genl_has_listeners(&vtap_genl_family, net, VTAP_MCGRP_EVENTS_ID))
		return NULL;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return NULL;
	if (vtap_session_fill(msg, s, p, 0, 0, 0, cmd, NULL)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* Send it after unlocking. */
static void vtap_session_notify(struct net *net, struct sk_buff *msg)
{
	if (msg)
		genlmsg_multicast_netns(&vtap_genl_family, net, msg, 0,
					VTAP_MCGRP_EVENTS_ID, GFP_KERNEL);
}

/* ---- sessions: parsing ------------------------------------------------- */

/* A unicast address: not 0.0.0.0/8 ("this network"), multicast or broadcast. */
static bool vtap_addr4_ok(__be32 a)
{
	return (a & htonl(IN_CLASSA_NET)) && !ipv4_is_multicast(a) &&
	       !ipv4_is_lbcast(a);
}

/* A unicast address: not ::, multicast or IPv4-mapped. */
static bool vtap_addr6_ok(const struct in6_addr *a)
{
	int t = ipv6_addr_type(a);

	return t != IPV6_ADDR_ANY &&
	       !(t & (IPV6_ADDR_MULTICAST | IPV6_ADDR_MAPPED));
}

/*
 * Session names: letters, digits and "._:@+-", not starting with '-', so
 * that they print as they are and never read as an option.
 */
static bool vtap_name_ok(const char *name)
{
	const char *c;

	if (!*name || *name == '-')
		return false;
	/* ASCII only: the kernel's isalnum() takes Latin-1 letters too. */
	for (c = name; *c; c++)
		if (!(isascii(*c) && isalnum(*c)) && !strchr("._:@+-", *c))
			return false;
	return true;
}

/* Sampling, slicing, masking, rate budget and flags of NEW or SET. */
static int vtap_params_parse_broker(struct genl_info *info,
				    struct vtap_params *p)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **tb = info->attrs;
	u64 unit_ns;

	if (tb[VTAP_A_SESSION_SNAPLEN]) {
		p->snaplen = nla_get_u32(tb[VTAP_A_SESSION_SNAPLEN]);
		if (p->snaplen && p->snaplen < VTAP_SNAPLEN_MIN) {
			NL_SET_ERR_MSG_ATTR(extack, tb[VTAP_A_SESSION_SNAPLEN],
					    "snaplen must be 0 (whole frames) or at least 14");
			return -EINVAL;
		}
	}
	if (tb[VTAP_A_SESSION_SAMPLE])
		p->sample = nla_get_u32(tb[VTAP_A_SESSION_SAMPLE]);
	if (tb[VTAP_A_SESSION_SAMPLE_MODE])
		p->sample_mode = nla_get_u8(tb[VTAP_A_SESSION_SAMPLE_MODE]);
	if (tb[VTAP_A_SESSION_MASK_OFFSET] || tb[VTAP_A_SESSION_MASK_LEN] ||
	    tb[VTAP_A_SESSION_MASK_BYTE]) {
		if (!tb[VTAP_A_SESSION_MASK_LEN]) {
			NL_SET_ERR_MSG_MOD(extack, "a mask needs a length (0 removes it)");
			NL_SET_ERR_ATTR_MISS(extack, NULL, VTAP_A_SESSION_MASK_LEN);
			return -EINVAL;
		}
		p->mask_len = nla_get_u16(tb[VTAP_A_SESSION_MASK_LEN]);
		p->mask_offset = tb[VTAP_A_SESSION_MASK_OFFSET] ?
				 nla_get_u16(tb[VTAP_A_SESSION_MASK_OFFSET]) : 0;
		p->mask_byte = tb[VTAP_A_SESSION_MASK_BYTE] ?
			       nla_get_u8(tb[VTAP_A_SESSION_MASK_BYTE]) : 0;
		if (!p->mask_len) {
			p->mask_offset = 0;
			p->mask_byte = 0;
		}
	}
	if (p->mask_len && p->snaplen &&
	    p->mask_offset + p->mask_len > p->snaplen) {
		NL_SET_ERR_MSG_MOD(extack, "the mask reaches past snaplen");
		return -EINVAL;
	}
	if (tb[VTAP_A_SESSION_RATE_UNIT])
		p->rate_unit = nla_get_u8(tb[VTAP_A_SESSION_RATE_UNIT]);
	if (tb[VTAP_A_SESSION_RATE]) {
		p->rate = nla_get_u64(tb[VTAP_A_SESSION_RATE]);
		if (!p->rate)
			p->burst = 0;
	}
	if (tb[VTAP_A_SESSION_BURST]) {
		if (!p->rate) {
			NL_SET_ERR_MSG_ATTR(extack, tb[VTAP_A_SESSION_BURST],
					    "a burst needs a rate");
			return -EINVAL;
		}
		p->burst = nla_get_u32(tb[VTAP_A_SESSION_BURST]);
	}
	if (p->rate) {
		if (p->rate_unit == VTAP_RATE_BPS && p->rate < VTAP_RATE_BPS_MIN) {
			NL_SET_ERR_MSG_MOD(extack,
					   "a rate in bits per second must be at least 1000");
			return -EINVAL;
		}
		/*
		 * GCRA: one unit every unit_ns; a burst's worth of tolerance,
		 * at most 2^32 units at the slowest rate (1 pps: 136 years of
		 * nanoseconds, 2^62), so the 128-bit product fits in an s64.
		 */
		p->rate_ns_fp = div64_u64((u64)NSEC_PER_SEC << 16, p->rate);
		unit_ns = p->rate_unit == VTAP_RATE_PPS ? p->rate_ns_fp
							: p->rate_ns_fp * 8;
		p->rate_tolerance = mul_u64_u64_shr(vtap_burst(p), unit_ns, 16);
		if (p->rate_tolerance > S64_MAX / 2) {
			NL_SET_ERR_MSG_MOD(extack, "rate and burst: a burst longer than a century");
			return -ERANGE;
		}
	}
	if (tb[VTAP_A_SESSION_FLAGS])
		p->flags = nla_get_u32(tb[VTAP_A_SESSION_FLAGS]);
	if (tb[VTAP_A_SESSION_DEDUP])
		p->dedup_ns = (u64)nla_get_u32(tb[VTAP_A_SESSION_DEDUP]) *
			      NSEC_PER_USEC;
	return 0;
}

/*
 * Apply the attributes of a NEW or SET request to @p, which holds the
 * defaults (NEW) or the current parameters (SET).  Cross-attribute rules are
 * checked here; types, ranges and lengths were checked by the policy.
 */
static int vtap_params_parse(struct genl_info *info, struct vtap_params *p,
			     bool create)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **tb = info->attrs;
	struct nlattr *r4 = tb[VTAP_A_SESSION_REMOTE4];
	struct nlattr *r6 = tb[VTAP_A_SESSION_REMOTE6];
	struct nlattr *l4 = tb[VTAP_A_SESSION_LOCAL4];
	struct nlattr *l6 = tb[VTAP_A_SESSION_LOCAL6];

	if (tb[VTAP_A_SESSION_ENCAP]) {
		if (!create) {
			NL_SET_ERR_MSG_ATTR(extack, tb[VTAP_A_SESSION_ENCAP],
					    "the encapsulation of a session cannot change");
			return -EOPNOTSUPP;
		}
		p->encap = nla_get_u8(tb[VTAP_A_SESSION_ENCAP]);
	}

	if (r4 && r6) {
		NL_SET_ERR_MSG_ATTR(extack, r6, "give one remote address, IPv4 or IPv6");
		return -EINVAL;
	}
	if (l4 && l6) {
		NL_SET_ERR_MSG_ATTR(extack, l6, "give one local address, IPv4 or IPv6");
		return -EINVAL;
	}
	if (create && !r4 && !r6) {
		NL_SET_ERR_MSG_MOD(extack, "a remote address is required");
		NL_SET_ERR_ATTR_MISS(extack, NULL, VTAP_A_SESSION_REMOTE4);
		return -EINVAL;
	}
	if (r4) {
		__be32 a = nla_get_in_addr(r4);

		if (!vtap_addr4_ok(a)) {
			NL_SET_ERR_MSG_ATTR(extack, r4,
					    "remote must be a unicast address");
			return -EINVAL;
		}
		if (p->family != AF_INET)
			p->has_local = false;
		p->family = AF_INET;
		p->remote4 = a;
	} else if (r6) {
		struct in6_addr a = nla_get_in6_addr(r6);

		if (!vtap_addr6_ok(&a)) {
			NL_SET_ERR_MSG_ATTR(extack, r6,
					    "remote must be a unicast address");
			return -EINVAL;
		}
		if (p->family != AF_INET6)
			p->has_local = false;
		p->family = AF_INET6;
		p->remote6 = a;
	}
	if (l4) {
		if (p->family != AF_INET) {
			NL_SET_ERR_MSG_ATTR(extack, l4,
					    "local and remote addresses must be of one family");
			return -EINVAL;
		}
		p->local4 = nla_get_in_addr(l4);
		if (!vtap_addr4_ok(p->local4)) {
			NL_SET_ERR_MSG_ATTR(extack, l4,
					    "local must be a unicast address");
			return -EINVAL;
		}
		p->has_local = true;
	} else if (l6) {
		if (p->family != AF_INET6) {
			NL_SET_ERR_MSG_ATTR(extack, l6,
					    "local and remote addresses must be of one family");
			return -EINVAL;
		}
		p->local6 = nla_get_in6_addr(l6);
		if (!vtap_addr6_ok(&p->local6)) {
			NL_SET_ERR_MSG_ATTR(extack, l6,
					    "local must be a unicast address");
			return -EINVAL;
		}
		p->has_local = true;
	}

	if (tb[VTAP_A_SESSION_KEY]) {
		if (p->encap != VTAP_ENCAP_GRE) {
			NL_SET_ERR_MSG_ATTR(extack, tb[VTAP_A_SESSION_KEY],
					    "a key is only for encap gre (ERSPAN uses the session id, VXLAN the vni)");
			return -EINVAL;
		}
		p->key = nla_get_u32(tb[VTAP_A_SESSION_KEY]);
		p->has_key = true;
	}
	if (tb[VTAP_A_SESSION_TTL])
		p->ttl = nla_get_u8(tb[VTAP_A_SESSION_TTL]);
	if (tb[VTAP_A_SESSION_TOS])
		p->tos = nla_get_u8(tb[VTAP_A_SESSION_TOS]);
	if (tb[VTAP_A_SESSION_HWID] || tb[VTAP_A_SESSION_GRA] ||
	    tb[VTAP_A_SESSION_SUBHDR]) {
		struct nlattr *a = tb[VTAP_A_SESSION_HWID] ?:
				   tb[VTAP_A_SESSION_GRA] ?:
				   tb[VTAP_A_SESSION_SUBHDR];

		if (p->encap != VTAP_ENCAP_ERSPAN3) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "hwid, gra and subheader are only for encap erspan3");
			return -EINVAL;
		}
		if (tb[VTAP_A_SESSION_HWID])
			p->hwid = nla_get_u8(tb[VTAP_A_SESSION_HWID]);
		if (tb[VTAP_A_SESSION_GRA])
			p->gra = nla_get_u8(tb[VTAP_A_SESSION_GRA]);
	}
	if (tb[VTAP_A_SESSION_SUBHDR]) {
		u8 v = nla_get_u8(tb[VTAP_A_SESSION_SUBHDR]);

		if (v != 0 && v != 3 && v != 7) {
			NL_SET_ERR_MSG_ATTR(extack, tb[VTAP_A_SESSION_SUBHDR],
					    "subheader is 0 (none), 3 or 7 (the Platf ID)");
			return -EINVAL;
		}
		p->subhdr = v;
	}
	if (tb[VTAP_A_SESSION_VNI] || tb[VTAP_A_SESSION_DPORT]) {
		struct nlattr *a = tb[VTAP_A_SESSION_VNI] ?: tb[VTAP_A_SESSION_DPORT];

		if (p->encap != VTAP_ENCAP_VXLAN) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "vni and dstport are only for encap vxlan");
			return -EINVAL;
		}
		if (tb[VTAP_A_SESSION_VNI]) {
			p->vni = nla_get_u32(tb[VTAP_A_SESSION_VNI]);
			p->has_vni = true;
		}
		if (tb[VTAP_A_SESSION_DPORT])
			p->dport = nla_get_u16(tb[VTAP_A_SESSION_DPORT]);
	}
	return vtap_params_parse_broker(info, p);
}

/* Find the session a request names (by NAME or ID); lock held, or RCU. */
static struct vtap_session *vtap_session_lookup(struct vtap_net *vn,
						struct genl_info *info)
{
	struct nlattr **tb = info->attrs;
	struct vtap_session *s = NULL;

	if (tb[VTAP_A_SESSION_NAME]) {
		s = vtap_session_find_name(vn, nla_data(tb[VTAP_A_SESSION_NAME]));
		if (s && tb[VTAP_A_SESSION_ID] &&
		    s->id != nla_get_u32(tb[VTAP_A_SESSION_ID])) {
			NL_SET_ERR_MSG_ATTR(info->extack, tb[VTAP_A_SESSION_ID],
					    "name and id name different sessions");
			return ERR_PTR(-EINVAL);
		}
	} else if (tb[VTAP_A_SESSION_ID]) {
		s = xa_load(&vn->sessions, nla_get_u32(tb[VTAP_A_SESSION_ID]));
	} else {
		NL_SET_ERR_MSG_MOD(info->extack, "name the session (name or id)");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, VTAP_A_SESSION_NAME);
		return ERR_PTR(-EINVAL);
	}
	if (!s) {
		NL_SET_ERR_MSG_MOD(info->extack, "no such session");
		return ERR_PTR(-ENOENT);
	}
	return s;
}

/* ---- sessions: commands ------------------------------------------------ */

/**
 * vtap_nl_session_new - create a session
 * @skb: the request
 * @info: its attributes, see VTAP_CMD_SESSION_NEW
 *
 * Return: 0 or a negative errno; nothing changes on error.
 */
static int vtap_nl_session_new(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct vtap_net *vn = vtap_net(net);
	struct vtap_dedup *d = NULL;
	struct sk_buff *reply, *event;
	struct vtap_session *s;
	struct vtap_params *p;
	u32 id = 0;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, VTAP_A_SESSION_NAME) ||
	    GENL_REQ_ATTR_CHECK(info, VTAP_A_SESSION_ENCAP))
		return -EINVAL;
	if (!vtap_name_ok(nla_data(info->attrs[VTAP_A_SESSION_NAME]))) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VTAP_A_SESSION_NAME],
				    "a session name is 1 to 31 of A-Z a-z 0-9 . _ : @ + - and does not start with -");
		return -EINVAL;
	}
	if (info->attrs[VTAP_A_SESSION_ID])
		id = nla_get_u32(info->attrs[VTAP_A_SESSION_ID]);

	p = vtap_params_alloc();
	if (!p)
		return -ENOMEM;
	p->ttl = 64;
	p->sample = 1;
	p->dport = VTAP_VXLAN_PORT;
	err = vtap_params_parse(info, p, true);
	if (err)
		goto err_params;
	if (p->dedup_ns) {
		d = vtap_dedup_alloc();
		if (!d) {
			err = -ENOMEM;
			goto err_params;
		}
	}

	reply = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!reply) {
		err = -ENOMEM;
		goto err_params;
	}

	mutex_lock(&vn->lock);
	s = vtap_session_create(vn, nla_data(info->attrs[VTAP_A_SESSION_NAME]),
				id, p, d, info->extack);
	if (IS_ERR(s)) {
		mutex_unlock(&vn->lock);
		nlmsg_free(reply);
		err = PTR_ERR(s);
		goto err_params;
	}
	err = vtap_session_fill(reply, s, p, info->snd_portid, info->snd_seq,
				0, VTAP_CMD_SESSION_NEW, NULL);
	event = vtap_session_event(net, s, p, VTAP_CMD_SESSION_NEW);
	mutex_unlock(&vn->lock);

	vtap_session_notify(net, event);
	if (err) {	/* cannot happen with NLMSG_DEFAULT_SIZE */
		nlmsg_free(reply);
		return 0;
	}
	return genlmsg_reply(reply, info);

err_params:
	kvfree(d);
	vtap_params_free(p);
	return err;
}

/**
 * vtap_nl_session_del - delete a session
 * @skb: the request
 * @info: VTAP_A_SESSION_NAME or VTAP_A_SESSION_ID
 *
 * Copies already handed to the underlay still go out; no new copy is made
 * once this returns.
 *
 * Return: 0 or a negative errno.
 */
static int vtap_nl_session_del(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct vtap_net *vn = vtap_net(net);
	struct vtap_session *s;
	struct sk_buff *event;

	mutex_lock(&vn->lock);
	s = vtap_session_lookup(vn, info);
	if (IS_ERR(s)) {
		mutex_unlock(&vn->lock);
		return PTR_ERR(s);
	}
	event = vtap_session_event(net, s,
				   rcu_dereference_protected(s->params,
							     lockdep_is_held(&vn->lock)),
				   VTAP_CMD_SESSION_DEL);
	vtap_session_destroy(vn, s);
	mutex_unlock(&vn->lock);

	vtap_session_notify(net, event);
	return 0;
}

/**
 * vtap_nl_session_set - change a session's parameters
 * @skb: the request
 * @info: the session's NAME or ID, then the attributes to change
 *
 * The change is atomic: the data path sees the old or the new parameters.
 *
 * Return: 0 or a negative errno; nothing changes on error.
 */
static int vtap_nl_session_set(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct vtap_net *vn = vtap_net(net);
	struct sk_buff *reply, *event;
	struct vtap_params *p, *old;
	struct vtap_session *s;
	int err;

	p = vtap_params_alloc();
	reply = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!p || !reply) {
		err = -ENOMEM;
		goto err_free;
	}

	mutex_lock(&vn->lock);
	s = vtap_session_lookup(vn, info);
	if (IS_ERR(s)) {
		err = PTR_ERR(s);
		goto err_unlock;
	}
	old = rcu_dereference_protected(s->params, lockdep_is_held(&vn->lock));
	/* Start from the current values, with p's own (empty) route cache. */
	{
		struct dst_cache cache = p->dst_cache;

		*p = *old;
		p->dst_cache = cache;
	}
	err = vtap_params_parse(info, p, false);
	if (err)
		goto err_unlock;
	/*
	 * Dedup turned on: the table is published before the parameters that
	 * use it, and stays until the session goes (a reader of the old or
	 * the new parameters may hold it).
	 */
	if (p->dedup_ns && !rcu_access_pointer(s->dedup)) {
		struct vtap_dedup *d = vtap_dedup_alloc();

		if (!d) {
			err = -ENOMEM;
			goto err_unlock;
		}
		rcu_assign_pointer(s->dedup, d);
	}
	vtap_session_replace_params(s, p);
	vn->genid++;
	err = vtap_session_fill(reply, s, p, info->snd_portid, info->snd_seq,
				0, VTAP_CMD_SESSION_SET, NULL);
	event = vtap_session_event(net, s, p, VTAP_CMD_SESSION_SET);
	mutex_unlock(&vn->lock);

	vtap_session_notify(net, event);
	if (err) {
		nlmsg_free(reply);
		return 0;
	}
	return genlmsg_reply(reply, info);

err_unlock:
	mutex_unlock(&vn->lock);
err_free:
	nlmsg_free(reply);
	vtap_params_free(p);
	return err;
}

/**
 * vtap_nl_session_get - report one session
 * @skb: the request
 * @info: VTAP_A_SESSION_NAME or VTAP_A_SESSION_ID
 *
 * Return: 0 or a negative errno.
 */
static int vtap_nl_session_get(struct sk_buff *skb, struct genl_info *info)
{
	struct vtap_net *vn = vtap_net(genl_info_net(info));
	struct vtap_session *s;
	struct sk_buff *reply;
	int err;

	reply = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;

	/* A reader, possibly unprivileged: no lock, as the dump. */
	rcu_read_lock();
	s = vtap_session_lookup(vn, info);
	if (IS_ERR(s)) {
		rcu_read_unlock();
		nlmsg_free(reply);
		return PTR_ERR(s);
	}
	err = vtap_session_fill(reply, s, rcu_dereference(s->params),
				info->snd_portid, info->snd_seq, 0,
				VTAP_CMD_SESSION_GET, NULL);
	rcu_read_unlock();
	if (err) {
		nlmsg_free(reply);
		return err;
	}
	return genlmsg_reply(reply, info);
}

/**
 * vtap_nl_session_dump - report every session of the namespace
 * @skb: where to write
 * @cb: cb->args[0] is the lowest session id not yet reported
 *
 * Return: the message length, 0 when done, or a negative errno.
 */
static int vtap_nl_session_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct vtap_net *vn = vtap_net(sock_net(skb->sk));
	struct vtap_session *s;
	unsigned long id;
	int err = 0;

	rcu_read_lock();
	cb->seq = READ_ONCE(vn->genid);
	xa_for_each_start(&vn->sessions, id, s, cb->args[0]) {
		err = vtap_session_fill(skb, s, rcu_dereference(s->params),
					NETLINK_CB(cb->skb).portid,
					cb->nlh->nlmsg_seq, NLM_F_MULTI,
					VTAP_CMD_SESSION_GET, cb);
		if (err)
			break;
		cb->args[0] = id + 1;	/* resume after the last one sent */
	}
	rcu_read_unlock();
	if (err && !skb->len)
		return err;
	return skb->len;
}

static const struct genl_ops vtap_genl_ops[] = {
	{
		.cmd	= VTAP_CMD_INFO_GET,
		.doit	= vtap_nl_info_get,
		.policy	= vtap_info_policy,
		.maxattr = VTAP_A_INFO_MAX,
	},
	{
		.cmd	= VTAP_CMD_SESSION_NEW,
		.doit	= vtap_nl_session_new,
		.policy	= vtap_session_policy,
		.maxattr = VTAP_A_SESSION_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= VTAP_CMD_SESSION_DEL,
		.doit	= vtap_nl_session_del,
		.policy	= vtap_session_id_policy,
		.maxattr = VTAP_A_SESSION_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= VTAP_CMD_SESSION_GET,
		.doit	= vtap_nl_session_get,
		.dumpit	= vtap_nl_session_dump,
		.policy	= vtap_session_id_policy,
		.maxattr = VTAP_A_SESSION_MAX,
	},
	{
		.cmd	= VTAP_CMD_SESSION_SET,
		.doit	= vtap_nl_session_set,
		.policy	= vtap_session_policy,
		.maxattr = VTAP_A_SESSION_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family vtap_genl_family __ro_after_init = {
	.name		= VTAP_GENL_NAME,
	.version	= VTAP_GENL_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.ops		= vtap_genl_ops,
	.n_ops		= ARRAY_SIZE(vtap_genl_ops),
	.mcgrps		= vtap_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(vtap_mcgrps),
	.module		= THIS_MODULE,
};

int __init vtap_genl_init(void)
{
	return genl_register_family(&vtap_genl_family);
}

void vtap_genl_exit(void)
{
	genl_unregister_family(&vtap_genl_family);
}
