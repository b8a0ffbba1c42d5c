// SPDX-License-Identifier: GPL-2.0
/* vtapctl: argument parsing and output helpers. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

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

void errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("vtapctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Decimal or 0x-hex, the whole string, within [min, max]. */
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
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

void json_escape(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 7 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(buf + o, len - o, "\\u%04x", c);
		} else {
			buf[o++] = (char)c;
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
