/* SPDX-License-Identifier: GPL-2.0 */
/* vtapctl: argument parsing and output helpers shared by all subcommands. */
#ifndef VTAPCTL_UTIL_H
#define VTAPCTL_UTIL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* Exit codes: see Documentation/vtapctl.8 ("EXIT STATUS"). */
enum vtap_exit {
	VTAP_EXIT_OK		= 0,
	VTAP_EXIT_FAIL		= 1,	/* the operation failed */
	VTAP_EXIT_USAGE		= 2,	/* bad command line or argument */
	VTAP_EXIT_NOMODULE	= 3,	/* vtap.ko is not loaded */
	VTAP_EXIT_PERM		= 4,	/* not permitted (CAP_NET_ADMIN) */
	VTAP_EXIT_NOENT		= 5,	/* no such object */
	VTAP_EXIT_EXIST		= 6,	/* object exists already */
	VTAP_EXIT_LIMIT		= 7,	/* out of ids, memory or table space */
	VTAP_EXIT_OUTPUT	= 8,	/* collect: cannot create or write its file */
};

int exit_code_for_errno(int err);

struct vtap_addr {
	int family;			/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

/*
 * Decimal (a leading zero is refused: it once meant octal) or 0x-hex, the
 * whole string, within [min, max]: 0, -EINVAL or -ERANGE.  No number
 * vtapctl reads is octal.
 */
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
/* "010": a number with a leading zero, which parse_u32() refuses. */
bool leading_zero(const char *s);
/* After parse_u32() failed on @s for @kw: say why, -EINVAL. */
int badnum(const char *kw, const char *s, uint32_t min, uint32_t max);

/*
 * Keyword arguments, one way for every command (iproute2's utils.c):
 *   NEXT_ARG()  step to a keyword's value, or say "'KW' needs a value"
 *   duparg()    "'KW' given twice"
 *   invarg()    "KW: 'VAL' is not WHAT"
 *   unkarg()    "OBJECT: unknown keyword 'KW' (try 'vtapctl OBJECT help')"
 * Each prints why and returns -EINVAL.  NEXT_ARG() needs int argc and
 * char **argv in scope and returns -EINVAL from the caller.
 */
int missarg(const char *kw);
int duparg(const char *kw);
int invarg(const char *kw, const char *val, const char *what);
int unkarg(const char *object, const char *kw);
int parse_on_off(const char *s, bool *on);
#define NEXT_ARG() do {						\
		if (argc < 2)					\
			return missarg(argv[0]);		\
		argc--, argv++;					\
	} while (0)
/*
 * "name NAME", "dev DEV" (as ip): the optional keyword @kw before the
 * object's name in argv[1] is dropped.
 */
void drop_name_kw(int *argc, char **argv, const char *kw);
/* 1 if @kw is one of the NULL-terminated @words. */
bool kw_in(const char *kw, const char *const *words);
int parse_addr(const char *s, struct vtap_addr *a);
/* Not 0.0.0.0/8, 255.255.255.255, ::, multicast or IPv4-mapped (as the kernel). */
bool addr_is_unicast(const struct vtap_addr *a);
const char *format_addr(const struct vtap_addr *a, char *buf, size_t len);
int parse_keyword(const char *s, const char *const *words, int n);
bool matches(const char *arg, const char *word);
/*
 * A command word: @arg exactly, else the one word of @words that it is a
 * prefix of (NULL-terminated).
 * Returns the index, -1 if none, -2 if @arg is a prefix of several
 * (after printing which, after "@what: " unless @what is NULL).
 */
int match_word(const char *what, const char *arg, const char *const *words);
int parse_mac(const char *s, uint8_t *mac);	/* xx:xx:xx:xx:xx:xx */
int parse_uuid(const char *s, uint8_t *uuid);	/* 8-4-4-4-12 hex digits */
/* A port's "records {in|out|both|none}": VTAP_PORT_F_REC_* bits, or -EINVAL. */
int parse_records(const char *s, uint32_t *flags);
const char *records_name(uint32_t flags);

/* Output: plain text or, with -j, JSON (iproute2 style). */
extern bool json_output;
void out_open_array(void);
void out_open_array_key(const char *key);
void out_close_array(void);
void out_open_obj(void);
void out_close_obj(void);
void out_open_nested(const char *key);
void out_close_nested(void);
void out_str(const char *key, const char *fmt, const char *val);
void out_u64(const char *key, const char *fmt, uint64_t val);
void out_bool(const char *key, const char *fmt, bool val);
void out_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_buffer_begin(void);
void out_buffer_restart(void);
void out_buffer_end(bool print);
void json_escape(const char *s, char *buf, size_t len);
/* Length of the valid UTF-8 sequence at @s (1-4), or 0 if it is not one. */
int utf8_len(const unsigned char *s);

void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Printed after "vtapctl: " by errorf(), e.g. "FILE:LINE: "; empty normally. */
extern char errorf_where[128];
/* "FILE:LINE: " of the command a batch (vtapctl -b) runs; empty otherwise. */
extern char errorf_batch[160];
/* -b: one netlink socket for every command (nl.c); closed at the end. */
extern bool nl_shared;
void vnl_shared_close(void);
/* -p: pretty-print the JSON @in holds onto @out. */
void json_pretty(const char *in, size_t len, FILE *out);

#endif
