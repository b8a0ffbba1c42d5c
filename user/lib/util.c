// SPDX-License-Identifier: GPL-2.0
/* vtapctl: argument parsing and output helpers. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vtap_bpf.h"

bool json_output;

int exit_code_for_errno(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:
		return VTAP_EXIT_OK;
	case EPERM:
	case EACCES:
		return VTAP_EXIT_PERM;
	case ENOENT:
	case ENODEV:
		return VTAP_EXIT_NOENT;
	case EEXIST:
	case EBUSY:
		return VTAP_EXIT_EXIST;
	case EINVAL:
	case ERANGE:
	case EOPNOTSUPP:
		return VTAP_EXIT_USAGE;
	case ENOSPC:
	case ENOMEM:
	case E2BIG:
	case ENOBUFS:
		return VTAP_EXIT_LIMIT;
	default:
		return VTAP_EXIT_FAIL;
	}
}

char errorf_where[128];
char errorf_batch[160];

void errorf(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vtapctl: %s%s", errorf_batch, errorf_where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool leading_zero(const char *s)
{
	return s && s[0] == '0' && s[1] >= '0' && s[1] <= '9';
}

/* Decimal or 0x-hex, the whole string, within [min, max]. */
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;
	int base = 10;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ' || leading_zero(s))
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	if (!*s || !isxdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int badnum(const char *kw, const char *s, uint32_t min, uint32_t max)
{
	if (leading_zero(s))
		errorf("%s: '%s' has a leading zero, which once meant octal here: write it "
		       "in decimal without the zero (or 0x for hex)", kw, s);
	else
		errorf("%s: '%s' is not a number from %u to %u", kw, s ? s : "", min, max);
	return -EINVAL;
}

/* ---- keyword arguments ------------------------------------------------- */

int missarg(const char *kw)
{
	errorf("'%s' needs a value", kw);
	return -EINVAL;
}

int duparg(const char *kw)
{
	errorf("'%s' given twice", kw);
	return -EINVAL;
}

int invarg(const char *kw, const char *val, const char *what)
{
	errorf("%s: '%s' is not %s", kw, val, what);
	return -EINVAL;
}

/* "on" or "off": 0 and *@on, else -EINVAL (the caller says why). */
int parse_on_off(const char *s, bool *on)
{
	if (s && !strcmp(s, "on"))
		*on = true;
	else if (s && !strcmp(s, "off"))
		*on = false;
	else
		return -EINVAL;
	return 0;
}

int unkarg(const char *object, const char *kw)
{
	errorf("%s: unknown keyword '%s' (try 'vtapctl %s help')", object, kw, object);
	return -EINVAL;
}

void drop_name_kw(int *argc, char **argv, const char *kw)
{
	int i;

	if (*argc < 3 || strcmp(argv[1], kw))
		return;
	for (i = 1; i < *argc; i++)
		argv[i] = argv[i + 1];
	(*argc)--;
}

bool kw_in(const char *kw, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(kw, *words))
			return true;
	return false;
}

int match_word(const char *what, const char *arg, const char *const *words)
{
	int i, found = -1, n = 0;

	for (i = 0; words[i]; i++)
		if (!strcmp(arg, words[i]))
			return i;
	for (i = 0; words[i]; i++)
		if (matches(arg, words[i])) {
			found = i;
			n++;
		}
	if (n < 2)
		return found;
	{
		char buf[256] = "";
		size_t o = 0;

		for (i = 0; words[i] && o < sizeof(buf); i++)
			if (matches(arg, words[i]))
				o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
						      o ? ", " : "", words[i]);
		if (what)
			errorf("%s: '%s' is ambiguous: %s", what, arg, buf);
		else
			errorf("'%s' is ambiguous: %s", arg, buf);
	}
	return -2;
}

int parse_addr(const char *s, struct vtap_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &a->v4) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->v6) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

bool addr_is_unicast(const struct vtap_addr *a)
{
	static const uint8_t zero[16], mapped[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *b = a->family == AF_INET ? (const uint8_t *)&a->v4
						: (const uint8_t *)&a->v6;

	if (a->family == AF_INET)
		return b[0] != 0 && (b[0] & 0xf0) != 0xe0 &&
		       !(b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255);
	return memcmp(b, zero, 16) && b[0] != 0xff && memcmp(b, mapped, 12);
}

const char *format_addr(const struct vtap_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->family == AF_INET ? (const void *)&a->v4
						      : (const void *)&a->v6,
		       buf, len))
		snprintf(buf, len, "?");
	return buf;
}

/* Index of @s in @words (exact match), or -1. */
int parse_keyword(const char *s, const char *const *words, int n)
{
	int i;

	for (i = 0; s && i < n; i++)
		if (words[i] && !strcmp(s, words[i]))
			return i;
	return -1;
}

/* iproute2-style: @arg is a non-empty prefix of @word. */
bool matches(const char *arg, const char *word)
{
	size_t n = strlen(arg);

	return n && n <= strlen(word) && !strncmp(arg, word, n);
}

/* ---- output ------------------------------------------------------------ */

/* JSON state: is the next member the first of its container? */
static int depth;
static bool first[32] = { true };
static FILE *out_fp;

/*
 * Buffer output (for dumps that may have to start over): out_buffer_begin()
 * saves the JSON state and sends output to memory; out_buffer_restart()
 * throws away what was buffered; out_buffer_end() prints it.
 */
static char *buf_mem;
static size_t buf_len;
static int saved_depth;
static bool saved_first[32];

static FILE *of(void)
{
	return out_fp ? out_fp : stdout;
}

void out_buffer_restart(void)
{
	if (out_fp && out_fp != stdout)
		fclose(out_fp);
	free(buf_mem);
	buf_mem = NULL;
	out_fp = open_memstream(&buf_mem, &buf_len);
	depth = saved_depth;
	memcpy(first, saved_first, sizeof(first));
}

void out_buffer_begin(void)
{
	saved_depth = depth;
	memcpy(saved_first, first, sizeof(first));
	out_fp = NULL;
	out_buffer_restart();
}

void out_buffer_end(bool print)
{
	if (out_fp && out_fp != stdout) {
		fclose(out_fp);
		if (print && buf_mem)
			fwrite(buf_mem, 1, buf_len, stdout);
	}
	free(buf_mem);
	buf_mem = NULL;
	out_fp = stdout;
}

static void json_sep(void)
{
	if (!first[depth])
		fputc(',', of());
	first[depth] = false;
}

static void json_push(char c)
{
	fputc(c, of());
	if (depth < (int)(sizeof(first) / sizeof(first[0])) - 1)
		depth++;
	first[depth] = true;
}

static void json_pop(char c)
{
	fputc(c, of());
	if (depth > 0)
		depth--;
	if (!depth && c == ']')
		fputc('\n', of());
}

int utf8_len(const unsigned char *s)
{
	int n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and past U+10FFFF are not UTF-8. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/*
 * A JSON string's contents: quotes, backslashes and control characters
 * escaped, valid UTF-8 kept, every byte that is not valid UTF-8 written as
 * U+FFFD, so that the output is always valid JSON (RFC 8259).
 */
void json_escape(const char *s, char *buf, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0;

	while (*u && o + 7 < len) {
		int n = utf8_len(u);

		if (*u == '"' || *u == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)*u++;
		} else if (*u < 0x20 || *u == 0x7f) {
			o += (size_t)snprintf(buf + o, len - o, "\\u%04x", *u++);
		} else if (!n) {
			o += (size_t)snprintf(buf + o, len - o, "\\ufffd");
			u++;
		} else {
			memcpy(buf + o, u, (size_t)n);
			o += (size_t)n;
			u += n;
		}
	}
	buf[o] = 0;
}

static void json_key(const char *key)
{
	char esc[256];

	json_sep();
	if (key) {
		json_escape(key, esc, sizeof(esc));
		fprintf(of(), "\"%s\":", esc);
	}
}

void out_open_array(void)
{
	if (json_output)
		json_push('[');
}

/* A keyed array inside an object: "key":[ ... ] (JSON only). */
void out_open_array_key(const char *key)
{
	if (json_output) {
		json_key(key);
		json_push('[');
	}
}

void out_close_array(void)
{
	if (json_output)
		json_pop(']');
}

void out_open_obj(void)
{
	if (json_output) {
		json_sep();
		json_push('{');
	}
}

void out_close_obj(void)
{
	if (json_output)
		json_pop('}');
	else
		fputc('\n', of());
}

void out_open_nested(const char *key)
{
	if (json_output) {
		json_key(key);
		json_push('{');
	}
}

void out_close_nested(void)
{
	if (json_output)
		json_pop('}');
}

void out_str(const char *key, const char *fmt, const char *val)
{
	char esc[1024];

	if (json_output) {
		json_key(key);
		json_escape(val, esc, sizeof(esc));
		fprintf(of(), "\"%s\"", esc);
	} else if (fmt) {
		fprintf(of(), fmt, val);
	}
}

void out_u64(const char *key, const char *fmt, uint64_t val)
{
	if (json_output) {
		json_key(key);
		fprintf(of(), "%llu", (unsigned long long)val);
	} else if (fmt) {
		fprintf(of(), fmt, (unsigned long long)val);
	}
}

void out_bool(const char *key, const char *fmt, bool val)
{
	if (json_output) {
		json_key(key);
		fputs(val ? "true" : "false", of());
	} else if (fmt && val) {
		fputs(fmt, of());
	}
}

/* Plain-text only decoration. */
void out_text(const char *fmt, ...)
{
	va_list ap;

	if (json_output)
		return;
	va_start(ap, fmt);
	vfprintf(of(), fmt, ap);
	va_end(ap);
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* xx:xx:xx:xx:xx:xx, hex digits in either case. */
int parse_mac(const char *s, uint8_t *mac)
{
	int i, hi, lo;

	if (strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		hi = hexval((unsigned char)s[3 * i]);
		lo = hexval((unsigned char)s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Strictly 8-4-4-4-12 hex digits. */
int parse_uuid(const char *s, uint8_t *uuid)
{
	int i, o = 0, hi, lo;

	if (strlen(s) != 36)
		return -EINVAL;
	for (i = 0; i < 36; ) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i++] != '-')
				return -EINVAL;
			continue;
		}
		hi = hexval((unsigned char)s[i]);
		lo = hexval((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		uuid[o++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

/* "records" values, indexed by the VTAP_PORT_F_REC_* bits >> 1. */
static const char *const rec_names[] = { "none", "out", "in", "both" };

int parse_records(const char *s, uint32_t *flags)
{
	uint32_t i;

	for (i = 0; i < 4; i++) {
		if (!strcmp(s, rec_names[i])) {
			*flags = i << 1;
			return 0;
		}
	}
	return -EINVAL;
}

const char *records_name(uint32_t flags)
{
	return rec_names[(flags & (VTAP_PORT_F_REC_OUT | VTAP_PORT_F_REC_IN)) >> 1];
}

/* ---- -p: pretty JSON ----------------------------------------------------- */

static void pretty_nl(FILE *out, int indent)
{
	fputc('\n', out);
	while (indent-- > 0)
		fputs("    ", out);
}

/*
 * Re-indent compact JSON (one document a line, as -j prints): four spaces
 * a level, "key": value, empty containers as {} and [].  Text outside a
 * document is copied as it is.
 */
void json_pretty(const char *in, size_t len, FILE *out)
{
	bool str = false, esc = false;
	int level = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = in[i];

		if (str) {
			fputc(c, out);
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				str = false;
			continue;
		}
		switch (c) {
		case '"':
			str = true;
			fputc(c, out);
			break;
		case '{':
		case '[':
			fputc(c, out);
			if (i + 1 < len && (in[i + 1] == '}' || in[i + 1] == ']')) {
				fputc(in[++i], out);
				break;
			}
			pretty_nl(out, ++level);
			break;
		case '}':
		case ']':
			pretty_nl(out, level > 0 ? --level : 0);
			fputc(c, out);
			break;
		case ',':
			fputc(c, out);
			if (level)
				pretty_nl(out, level);
			break;
		case ':':
			fputs(level ? ": " : ":", out);
			break;
		case ' ':
		case '\t':
			if (!level)
				fputc(c, out);
			break;
		case '\n':
			if (!level)
				fputc(c, out);
			break;
		default:
			fputc(c, out);
		}
	}
}
