// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl session: the packet-broker options of session add/set --
 * sample 1/N [random|every], snaplen N|none, mask offset O len L [byte B]|none,
 * rate PPS|Nbit|Nkbit|Nmbit|Ngbit [burst N] | none, gso segment|slice,
 * unparsed mirror|skip, dedup [on|off|WINDOW].
 */
#include <errno.h>
#include <linux/vtap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "session_opts.h"
#include "util.h"

static const char *const broker_kws[] = {
	"sample", "snaplen", "mask", "rate", "gso", "unparsed", "dedup", NULL,
};

/* The index of broker keyword @kw, or -1. */
int broker_kw(const char *kw)
{
	int i;

	for (i = 0; broker_kws[i]; i++)
		if (!strcmp(kw, broker_kws[i]))
			return i;
	return -1;
}

bool is_broker_opt(const char *kw)
{
	return broker_kw(kw) >= 0;
}

/*
 * A dedup window: N (microseconds), Nus, Nms or Ns, from 1 us to
 * VTAP_DEDUP_WINDOW_MAX us (1 s).
 */
int parse_window(const char *s, uint32_t *us)
{
	static const struct { const char *sfx; uint64_t mul; } sfx[] = {
		{ "", 1 }, { "us", 1 }, { "ms", 1000 }, { "s", 1000000 },
	};
	unsigned long long v = 0;
	const char *c;
	size_t i;

	for (c = s; c && *c >= '0' && *c <= '9' && v <= VTAP_DEDUP_WINDOW_MAX; c++)
		v = v * 10 + (unsigned long long)(*c - '0');
	if (!s || c == s)
		return -EINVAL;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (strcmp(c, sfx[i].sfx))
			continue;
		if (!v || v > VTAP_DEDUP_WINDOW_MAX / sfx[i].mul)
			return -ERANGE;
		*us = (uint32_t)(v * sfx[i].mul);
		return 0;
	}
	return -EINVAL;
}

/* "dedup [on|off|WINDOW]": the value is optional. */
static int dedup_opt(struct nl_msg *msg, int argc, char **argv, int *used)
{
	uint32_t us = VTAP_DEDUP_WINDOW_DEFAULT;
	const char *val = argc > 1 ? argv[1] : NULL;

	*used = 1;
	if (val && (!strcmp(val, "on") || !strcmp(val, "off"))) {
		*used = 2;
		if (!strcmp(val, "off"))
			us = 0;
	} else if (val && *val >= '0' && *val <= '9') {
		*used = 2;
		if (parse_window(val, &us)) {
			errorf("dedup: '%s' is not a window from 1us to 1s (N microseconds, "
			       "Nus, Nms or Ns); 'off' turns dedup off", val);
			return -EINVAL;
		}
		/* "dedup 5 ms" would be 5 us and a stray word. */
		if (argc > 2 && (!strcmp(argv[2], "us") || !strcmp(argv[2], "ms") ||
				 !strcmp(argv[2], "s"))) {
			errorf("dedup: the unit goes with the number, without a space: '%s%s'",
			       val, argv[2]);
			return -EINVAL;
		}
	}
	return nla_put_u32(msg, VTAP_A_SESSION_DEDUP, us) ? -EMSGSIZE : 0;
}

/*
 * A rate as tc writes it, the unit in any case: N or Npps (packets/s),
 * Nbit Nkbit Nmbit Ngbit Ntbit (bits/s; kibit mibit gibit tibit: powers of
 * 1024), Nbps Nkbps Nmbps Ngbps Ntbps (bytes/s, as tc: x8; kibps...).  N
 * is decimal and may have a fraction ("1.5mbit") when the rate comes out
 * a whole number.  -EINVAL (not a rate) or -ERANGE.
 */
int parse_rate(const char *s, uint64_t *rate, uint8_t *unit)
{
	static const struct { const char *sfx; uint64_t mul; uint8_t unit; } sfx[] = {
		{ "", 1, VTAP_RATE_PPS }, { "pps", 1, VTAP_RATE_PPS },
		{ "bit", 1, VTAP_RATE_BPS },
		{ "kbit", 1000ULL, VTAP_RATE_BPS }, { "mbit", 1000000ULL, VTAP_RATE_BPS },
		{ "gbit", 1000000000ULL, VTAP_RATE_BPS },
		{ "tbit", 1000000000000ULL, VTAP_RATE_BPS },
		{ "kibit", 1ULL << 10, VTAP_RATE_BPS }, { "mibit", 1ULL << 20, VTAP_RATE_BPS },
		{ "gibit", 1ULL << 30, VTAP_RATE_BPS }, { "tibit", 1ULL << 40, VTAP_RATE_BPS },
		{ "bps", 8, VTAP_RATE_BPS },
		{ "kbps", 8000ULL, VTAP_RATE_BPS }, { "mbps", 8000000ULL, VTAP_RATE_BPS },
		{ "gbps", 8000000000ULL, VTAP_RATE_BPS },
		{ "tbps", 8000000000000ULL, VTAP_RATE_BPS },
		{ "kibps", 8ULL << 10, VTAP_RATE_BPS }, { "mibps", 8ULL << 20, VTAP_RATE_BPS },
		{ "gibps", 8ULL << 30, VTAP_RATE_BPS }, { "tibps", 8ULL << 40, VTAP_RATE_BPS },
	};
	unsigned __int128 ip = 0, fr = 0, div = 1, v;
	const char *c = s;
	size_t i;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *c >= '0' && *c <= '9'; c++) {
		ip = ip * 10 + (unsigned)(*c - '0');
		if (ip > VTAP_RATE_MAX)
			return -ERANGE;
	}
	if (*c == '.') {
		if (c[1] < '0' || c[1] > '9')
			return -EINVAL;
		for (c++; *c >= '0' && *c <= '9'; c++) {
			if (div > 1000000000000000000ULL)
				return -EINVAL;
			fr = fr * 10 + (unsigned)(*c - '0');
			div *= 10;
		}
	}
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (strcasecmp(c, sfx[i].sfx))
			continue;
		v = ip * sfx[i].mul;
		if ((fr * sfx[i].mul) % div)
			return -EINVAL;		/* not a whole number */
		v += fr * sfx[i].mul / div;
		if (!v)
			return -EINVAL;
		if (v > VTAP_RATE_MAX)
			return -ERANGE;
		*rate = (uint64_t)v;
		*unit = sfx[i].unit;
		if (*unit == VTAP_RATE_BPS && *rate < VTAP_RATE_BPS_MIN)
			return -ERANGE;
		return 0;
	}
	return -EINVAL;
}

static int need(int argc, int n, const char *what)
{
	if (argc >= n)
		return 0;
	errorf("%s needs a value", what);
	return -EINVAL;
}

/* A two-way flag: @kw @off|@on. */
static int flag_opt(const char *kw, const char *val, const char *off,
		    const char *on, uint32_t flag, struct flags_edit *fe)
{
	if (strcmp(val, off) && strcmp(val, on)) {
		errorf("%s: '%s' is not %s or %s", kw, val, off, on);
		return -EINVAL;
	}
	if (!strcmp(val, on)) {
		fe->set |= flag;
		fe->clear &= ~flag;
	} else {
		fe->clear |= flag;
		fe->set &= ~flag;
	}
	return 0;
}

int parse_broker_opt(struct nl_msg *msg, int argc, char **argv, int *used,
		     struct flags_edit *fe)
{
	const char *kw = argv[0];
	uint32_t v, off, len, byte = 0;
	int err = 0;

	if (!strcmp(kw, "dedup"))
		return dedup_opt(msg, argc, argv, used);
	*used = 2;
	if (need(argc, 2, kw))
		return -EINVAL;
	if (!strcmp(kw, "sample")) {
		if (strncmp(argv[1], "1/", 2) || parse_u32(argv[1] + 2, 1, UINT32_MAX, &v)) {
			errorf("sample: '%s' is not 1/N (N from 1)", argv[1]);
			return -EINVAL;
		}
		err = nla_put_u32(msg, VTAP_A_SESSION_SAMPLE, v);
		if (argc > 2 && (!strcmp(argv[2], "random") || !strcmp(argv[2], "every"))) {
			err = err ?: nla_put_u8(msg, VTAP_A_SESSION_SAMPLE_MODE,
						!strcmp(argv[2], "every") ?
						VTAP_SAMPLE_EVERY : VTAP_SAMPLE_RANDOM);
			*used = 3;
		}
	} else if (!strcmp(kw, "snaplen")) {
		if (!strcmp(argv[1], "none"))
			v = 0;
		else if (parse_u32(argv[1], VTAP_SNAPLEN_MIN, 65535, &v)) {
			errorf("snaplen: '%s' is not %d to 65535 bytes (or none)", argv[1],
			       VTAP_SNAPLEN_MIN);
			return -EINVAL;
		}
		err = nla_put_u32(msg, VTAP_A_SESSION_SNAPLEN, v);
	} else if (!strcmp(kw, "mask")) {
		if (!strcmp(argv[1], "none"))
			return nla_put_u16(msg, VTAP_A_SESSION_MASK_LEN, 0) ? -EMSGSIZE : 0;
		if (argc < 5 || strcmp(argv[1], "offset") || strcmp(argv[3], "len") ||
		    parse_u32(argv[2], 0, 65535, &off) || parse_u32(argv[4], 1, 65535, &len)) {
			errorf("mask: expected 'mask offset O len L [byte B]' (O 0-65535, L 1-65535) or 'mask none'");
			return -EINVAL;
		}
		*used = 5;
		if (argc > 5 && !strcmp(argv[5], "byte")) {
			if (argc < 7 || parse_u32(argv[6], 0, 255, &byte)) {
				errorf("mask: byte needs a value from 0 to 255");
				return -EINVAL;
			}
			*used = 7;
		}
		if (off + len > 65535) {
			errorf("mask: offset + len must not exceed 65535");
			return -EINVAL;
		}
		err = nla_put_u16(msg, VTAP_A_SESSION_MASK_OFFSET, (uint16_t)off) ||
		      nla_put_u16(msg, VTAP_A_SESSION_MASK_LEN, (uint16_t)len) ||
		      nla_put_u8(msg, VTAP_A_SESSION_MASK_BYTE, (uint8_t)byte);
	} else if (!strcmp(kw, "rate")) {
		uint64_t rate;
		uint8_t unit;

		if (!strcmp(argv[1], "none"))
			return nla_put_u64(msg, VTAP_A_SESSION_RATE, 0) ? -EMSGSIZE : 0;
		if (parse_rate(argv[1], &rate, &unit)) {
			errorf("rate: '%s' is not a positive whole rate: N or Npps (packets/s), "
			       "Nbit, Nkbit, Nmbit, Ngbit (bits/s, at least 1000bit) or Nbps, Nkbps, "
			       "Nmbps (bytes/s), as tc; the unit in any case, N may be 1.5; "
			       "'none' removes it", argv[1]);
			return -EINVAL;
		}
		err = nla_put_u64(msg, VTAP_A_SESSION_RATE, rate) ||
		      nla_put_u8(msg, VTAP_A_SESSION_RATE_UNIT, unit);
		if (argc > 2 && !strcmp(argv[2], "burst")) {
			if (argc < 4 || parse_u32(argv[3], 1, UINT32_MAX, &v)) {
				errorf("burst: needs a positive number (packets for pps, bytes for bit rates)");
				return -EINVAL;
			}
			err = err || nla_put_u32(msg, VTAP_A_SESSION_BURST, v);
			*used = 4;
		}
	} else if (!strcmp(kw, "gso")) {
		return flag_opt(kw, argv[1], "segment", "slice",
				VTAP_SESSION_F_GSO_SLICE, fe);
	} else if (!strcmp(kw, "unparsed")) {
		return flag_opt(kw, argv[1], "mirror", "skip",
				VTAP_SESSION_F_UNPARSED_SKIP, fe);
	}
	return err ? -EMSGSIZE : 0;
}

void print_broker(struct nlattr **tb)
{
	uint32_t sample = tb[VTAP_A_SESSION_SAMPLE] ? nla_get_u32(tb[VTAP_A_SESSION_SAMPLE]) : 1;
	uint32_t flags = tb[VTAP_A_SESSION_FLAGS] ? nla_get_u32(tb[VTAP_A_SESSION_FLAGS]) : 0;

	if (tb[VTAP_A_SESSION_SNAPLEN] && nla_get_u32(tb[VTAP_A_SESSION_SNAPLEN]))
		out_u64("snaplen", " snaplen %llu", nla_get_u32(tb[VTAP_A_SESSION_SNAPLEN]));
	if (sample > 1) {
		out_u64("sample", " sample 1/%llu", sample);
		out_str("sample_mode", " %s",
			tb[VTAP_A_SESSION_SAMPLE_MODE] &&
			nla_get_u8(tb[VTAP_A_SESSION_SAMPLE_MODE]) == VTAP_SAMPLE_EVERY ?
			"every" : "random");
	}
	if (tb[VTAP_A_SESSION_MASK_LEN]) {
		out_u64("mask_offset", " mask offset %llu",
			tb[VTAP_A_SESSION_MASK_OFFSET] ?
			nla_get_u16(tb[VTAP_A_SESSION_MASK_OFFSET]) : 0);
		out_u64("mask_len", " len %llu", nla_get_u16(tb[VTAP_A_SESSION_MASK_LEN]));
		out_u64("mask_byte", " byte %llu",
			tb[VTAP_A_SESSION_MASK_BYTE] ? nla_get_u8(tb[VTAP_A_SESSION_MASK_BYTE]) : 0);
	}
	if (tb[VTAP_A_SESSION_RATE]) {
		bool bps = tb[VTAP_A_SESSION_RATE_UNIT] &&
			   nla_get_u8(tb[VTAP_A_SESSION_RATE_UNIT]) == VTAP_RATE_BPS;

		out_u64("rate", bps ? " rate %llubit" : " rate %llupps",
			nla_get_u64(tb[VTAP_A_SESSION_RATE]));
		out_str("rate_unit", NULL, bps ? "bps" : "pps");
		if (tb[VTAP_A_SESSION_BURST])
			out_u64("burst", " burst %llu", nla_get_u32(tb[VTAP_A_SESSION_BURST]));
	}
	out_str("gso", flags & VTAP_SESSION_F_GSO_SLICE ? " gso %s" : NULL,
		flags & VTAP_SESSION_F_GSO_SLICE ? "slice" : "segment");
	out_str("unparsed", flags & VTAP_SESSION_F_UNPARSED_SKIP ? " unparsed %s" : NULL,
		flags & VTAP_SESSION_F_UNPARSED_SKIP ? "skip" : "mirror");
	if (tb[VTAP_A_SESSION_DEDUP]) {	/* JSON: the window in us, 0 for off */
		uint32_t us = nla_get_u32(tb[VTAP_A_SESSION_DEDUP]);

		out_u64("dedup_us", NULL, us);
		if (us && !(us % 1000000))
			out_text(" dedup %us", us / 1000000);
		else if (us && !(us % 1000))
			out_text(" dedup %ums", us / 1000);
		else if (us)
			out_text(" dedup %uus", us);
	}
}
