// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl: the configuration file, vtap.conf(5).
 *
 * One statement per line, words separated by blanks, "#" to the end of the
 * line a comment.  A statement's words are what the matching command takes:
 *
 *   session NAME encap ... remote ... [OPTION...]    as "session add"
 *   rule session NAME num N dir {in|out} {accept|reject} [MATCH...]
 *                                                    as "rule add"
 *   vm NAME [mac MAC] [dev PATTERN] [alias PATTERN] [uuid UUID] id N [records DIR]
 *      [xdp on|off]
 *     mac MAC | dev PATTERN | alias PATTERN | uuid UUID | id N | records DIR | xdp on|off
 *     flow session NAME dir {in|out|both}            as "flow add", for the
 *                                                    VM's port
 *
 * The lines after "vm" that start with mac, dev, alias, uuid, id or flow
 * belong to that VM, until the next session, rule or vm.  Everything is
 * checked before anything is used; every error is reported as FILE:LINE.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/msg.h>

#include "conf.h"
#include "rules.h"
#include "util.h"
#include "vtapctl.h"

#define MAX_WORDS	256		/* per line */
#define MAX_ERRORS	50

struct parser {
	struct vtap_conf *c;
	const char *path;
	int line, errors;
};

static void perr(struct parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void perr(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	if (++ps->errors > MAX_ERRORS)
		return;
	fprintf(stderr, "vtapctl: %s:%d: ", ps->path, ps->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The parsers of the commands print their own errors: with FILE:LINE. */
static struct nl_msg *parse_session_line(struct parser *ps, char **w, int n)
{
	struct nl_msg *msg;

	snprintf(errorf_where, sizeof(errorf_where), "%s:%d: session %s: ", ps->path,
		 ps->line, w[1]);
	msg = session_parse_add(n - 1, w + 1);
	errorf_where[0] = 0;
	if (!msg)
		ps->errors++;
	return msg;
}

/* @v with room for element @n: capacities 8, 16, 32... */
static void *grow(void *v, int n, size_t size)
{
	if (n < 8)
		return n ? v : malloc(8 * size);
	if (n & (n - 1))
		return v;
	return realloc(v, (size_t)n * 2 * size);
}

static bool name_ok(const char *s)
{
	const char *p;

	if (!*s || *s == '-' || strlen(s) >= CONF_NAME_MAX)
		return false;
	for (p = s; *p; p++)
		if (!isascii((unsigned char)*p) ||
		    (!isalnum((unsigned char)*p) && !strchr("._:@+-", *p)))
			return false;
	return true;
}

static bool pattern_ok(const char *s)
{
	const char *p;

	if (!*s || strlen(s) >= CONF_PATTERN_MAX)
		return false;
	for (p = s; *p; p++)
		if (!isgraph((unsigned char)*p))
			return false;
	return true;
}

/* "KEYWORD VALUE" of a vm statement, at w[0], w[1]. */
static void vm_key(struct parser *ps, struct conf_vm *vm, unsigned int *seen,
		   char **w, int n)
{
	static const char *const keys[] = { "mac", "dev", "alias", "uuid", "id", "records",
					    "xdp" };
	unsigned int k;

	for (k = 0; k < 7 && strcmp(w[0], keys[k]); k++)
		;
	if (k == 7) {
		perr(ps, "vm %s: unknown keyword '%s' (mac, dev, alias, uuid, id, records, "
		     "xdp or flow)",
		     vm->name, w[0]);
		return;
	}
	if (n < 2) {
		perr(ps, "vm %s: '%s' needs a value", vm->name, w[0]);
		return;
	}
	if (*seen & (1U << k)) {
		perr(ps, "vm %s: '%s' given twice", vm->name, w[0]);
		return;
	}
	*seen |= 1U << k;
	switch (k) {
	case 0:
		if (parse_mac(w[1], vm->mac))
			perr(ps, "vm %s: mac: '%s' is not a MAC address (xx:xx:xx:xx:xx:xx)",
			     vm->name, w[1]);
		vm->has_mac = true;
		break;
	case 1:
	case 2:
		if (!pattern_ok(w[1])) {
			perr(ps, "vm %s: %s: '%s' is not a pattern (1 to %d printable "
			     "characters)", vm->name, w[0], w[1], CONF_PATTERN_MAX - 1);
			break;
		}
		snprintf(k == 1 ? vm->dev : vm->alias, CONF_PATTERN_MAX, "%s", w[1]);
		break;
	case 3:
		if (parse_uuid(w[1], vm->uuid))
			perr(ps, "vm %s: uuid: '%s' is not a UUID (8-4-4-4-12 hex digits)",
			     vm->name, w[1]);
		vm->has_uuid = true;
		break;
	case 4:
		if (parse_u32(w[1], 1, VTAP_PORT_ID_MAX, &vm->id))
			perr(ps, "vm %s: id: '%s' is not a port id from 1 to %u", vm->name,
			     w[1], VTAP_PORT_ID_MAX);
		break;
	case 5:
		if (parse_records(w[1], &vm->records))
			perr(ps, "vm %s: records: '%s' is not in, out, both or none",
			     vm->name, w[1]);
		vm->has_records = true;
		break;
	case 6:
		if (parse_on_off(w[1], &vm->xdp))
			perr(ps, "vm %s: xdp: '%s' is not on or off", vm->name, w[1]);
		vm->has_xdp = true;
		break;
	}
}

static void st_session(struct parser *ps, char **w, int n)
{
	struct vtap_conf *c = ps->c;
	struct conf_session *s;
	struct nlmsghdr *h;
	struct nl_msg *msg;
	int i, before = ps->errors;

	if (n < 2) {
		perr(ps, "session: which name?");
		return;
	}
	for (i = 0; i < c->nsess; i++)
		if (!strcmp(c->sess[i].name, w[1])) {
			perr(ps, "session %s is declared twice (first on line %d)", w[1],
			     c->sess[i].line);
			return;
		}
	msg = parse_session_line(ps, w, n);
	if (!msg)
		return;
	h = nlmsg_hdr(msg);
	if ((nlmsg_find_attr(h, 0, VTAP_A_SESSION_REMOTE4) &&
	     nlmsg_find_attr(h, 0, VTAP_A_SESSION_LOCAL6)) ||
	    (nlmsg_find_attr(h, 0, VTAP_A_SESSION_REMOTE6) &&
	     nlmsg_find_attr(h, 0, VTAP_A_SESSION_LOCAL4)))
		perr(ps, "session %s: remote and local are of different address families",
		     w[1]);
	nlmsg_free(msg);
	if (ps->errors != before)
		return;
	s = grow(c->sess, c->nsess, sizeof(*s));
	if (!s) {
		perr(ps, "out of memory");
		return;
	}
	c->sess = s;
	s = &c->sess[c->nsess++];
	s->line = ps->line;
	snprintf(s->name, sizeof(s->name), "%s", w[1]);
	s->argc = n - 2;
	s->argv = w + 2;
}

static void st_rule(struct parser *ps, char **w, int n)
{
	struct vtap_conf *c = ps->c;
	struct conf_rule r, *v;
	char err[160];
	int i;

	memset(&r, 0, sizeof(r));
	r.line = ps->line;
	r.dir = -1;
	for (i = 1; i < n; i += 2) {
		if (!strcmp(w[i], "accept") || !strcmp(w[i], "reject"))
			break;
		if (i + 1 >= n) {
			perr(ps, "rule: '%s' needs a value", w[i]);
			return;
		}
		if (!strcmp(w[i], "session") && !r.session[0]) {
			if (!name_ok(w[i + 1])) {
				perr(ps, "rule: session: '%s' is not a session name", w[i + 1]);
				return;
			}
			snprintf(r.session, sizeof(r.session), "%s", w[i + 1]);
		} else if (!strcmp(w[i], "num") && !r.num) {
			if (parse_u32(w[i + 1], 1, VTAP_RULE_NUM_MAX, &r.num)) {
				perr(ps, "rule: num: '%s' is not a rule number from 1 to %u",
				     w[i + 1], VTAP_RULE_NUM_MAX);
				return;
			}
		} else if (!strcmp(w[i], "dir") && r.dir < 0) {
			if (!strcmp(w[i + 1], "out")) {
				r.dir = VTAP_DIR_OUT;
			} else if (!strcmp(w[i + 1], "in")) {
				r.dir = VTAP_DIR_IN;
			} else {
				perr(ps, "rule: dir: '%s' is not in or out", w[i + 1]);
				return;
			}
		} else if (!strcmp(w[i], "session") || !strcmp(w[i], "num") ||
			   !strcmp(w[i], "dir")) {
			perr(ps, "rule: '%s' given twice", w[i]);
			return;
		} else {
			perr(ps, "rule: unknown keyword '%s' (session, num, dir, then accept "
			     "or reject)", w[i]);
			return;
		}
	}
	if (!r.session[0] || !r.num || r.dir < 0 || i >= n) {
		perr(ps, "rule: %s is required", !r.session[0] ? "session NAME" :
		     !r.num ? "num N" : r.dir < 0 ? "dir {in|out}" : "accept or reject");
		return;
	}
	if (vtap_rule_parse(n - i, w + i, &r.rule, err, sizeof(err))) {
		perr(ps, "rule: %s", err);
		return;
	}
	for (i = 0; i < c->nrules; i++)
		if (!strcmp(c->rules[i].session, r.session) && c->rules[i].dir == r.dir &&
		    c->rules[i].num == r.num) {
			perr(ps, "rule %u of session %s dir %s is declared twice (first on "
			     "line %d)", r.num, r.session, r.dir == VTAP_DIR_IN ? "in" : "out",
			     c->rules[i].line);
			return;
		}
	v = grow(c->rules, c->nrules, sizeof(*v));
	if (!v) {
		perr(ps, "out of memory");
		return;
	}
	c->rules = v;
	c->rules[c->nrules++] = r;
}

static void st_flow(struct parser *ps, struct conf_vm *vm, char **w, int n)
{
	struct conf_flow f, *v;
	int i;

	memset(&f, 0, sizeof(f));
	f.line = ps->line;
	for (i = 1; i < n; i += 2) {
		if (i + 1 >= n) {
			perr(ps, "flow: '%s' needs a value", w[i]);
			return;
		}
		if (!strcmp(w[i], "session") && !f.session[0]) {
			if (!name_ok(w[i + 1])) {
				perr(ps, "flow: session: '%s' is not a session name", w[i + 1]);
				return;
			}
			snprintf(f.session, sizeof(f.session), "%s", w[i + 1]);
		} else if (!strcmp(w[i], "dir") && !f.dirs) {
			if (!strcmp(w[i + 1], "out"))
				f.dirs = 1U << VTAP_DIR_OUT;
			else if (!strcmp(w[i + 1], "in"))
				f.dirs = 1U << VTAP_DIR_IN;
			else if (!strcmp(w[i + 1], "both"))
				f.dirs = 1U << VTAP_DIR_OUT | 1U << VTAP_DIR_IN;
			else {
				perr(ps, "flow: dir: '%s' is not one of in, out, both", w[i + 1]);
				return;
			}
		} else if (!strcmp(w[i], "session") || !strcmp(w[i], "dir")) {
			perr(ps, "flow: '%s' given twice", w[i]);
			return;
		} else {
			perr(ps, "flow: unknown keyword '%s' (session, dir)", w[i]);
			return;
		}
	}
	if (!f.session[0] || !f.dirs) {
		perr(ps, "flow: %s is required", !f.session[0] ? "session NAME" :
		     "dir {in|out|both}");
		return;
	}
	for (i = 0; i < vm->nflows; i++)
		if (!strcmp(vm->flows[i].session, f.session)) {
			perr(ps, "vm %s: a flow to session %s is declared twice (first on "
			     "line %d)", vm->name, f.session, vm->flows[i].line);
			return;
		}
	v = grow(vm->flows, vm->nflows, sizeof(*v));
	if (!v) {
		perr(ps, "out of memory");
		return;
	}
	vm->flows = v;
	vm->flows[vm->nflows++] = f;
}

/* Returns the new VM (the block that follows lines attach to), or NULL. */
static struct conf_vm *st_vm(struct parser *ps, char **w, int n)
{
	struct vtap_conf *c = ps->c;
	struct conf_vm *v, *vm;
	unsigned int seen = 0;
	int i;

	if (n < 2 || !name_ok(w[1])) {
		perr(ps, "vm: '%s' is not a name (1 to %d of A-Z a-z 0-9 . _ : @ + -, not "
		     "starting with -)", n < 2 ? "" : w[1], CONF_NAME_MAX - 1);
		return NULL;
	}
	for (i = 0; i < c->nvms; i++)
		if (!strcmp(c->vms[i].name, w[1])) {
			perr(ps, "vm %s is declared twice (first on line %d)", w[1],
			     c->vms[i].line);
			return NULL;
		}
	v = grow(c->vms, c->nvms, sizeof(*v));
	if (!v) {
		perr(ps, "out of memory");
		return NULL;
	}
	c->vms = v;
	vm = &c->vms[c->nvms++];
	memset(vm, 0, sizeof(*vm));
	vm->line = ps->line;
	snprintf(vm->name, sizeof(vm->name), "%s", w[1]);
	for (i = 2; i < n; i += 2)
		vm_key(ps, vm, &seen, w + i, n - i);
	return vm;
}

static unsigned int vm_seen(const struct conf_vm *vm)
{
	return (vm->has_mac ? 1U : 0) | (vm->dev[0] ? 2U : 0) |
	       (vm->alias[0] ? 4U : 0) | (vm->has_uuid ? 8U : 0) | (vm->id ? 16U : 0) |
	       (vm->has_records ? 32U : 0) | (vm->has_xdp ? 64U : 0);
}

/* Whole-file checks: references, uniqueness, what every VM must have. */
static void check_all(struct parser *ps)
{
	struct vtap_conf *c = ps->c;
	int i, j, k;

	for (i = 0; i < c->nrules; i++)
		if (!conf_session(c, c->rules[i].session)) {
			ps->line = c->rules[i].line;
			perr(ps, "rule: session %s is not declared in this file",
			     c->rules[i].session);
		}
	for (i = 0; i < c->nvms; i++) {
		const struct conf_vm *a = &c->vms[i];

		ps->line = a->line;
		if (!a->id)
			perr(ps, "vm %s: id N is required (the port id its copies carry)",
			     a->name);
		if (!a->has_mac && !a->dev[0] && !a->alias[0])
			perr(ps, "vm %s: nothing to match its device by (mac, dev or alias)",
			     a->name);
		for (k = 0; k < a->nflows; k++)
			if (!conf_session(c, a->flows[k].session)) {
				ps->line = a->flows[k].line;
				perr(ps, "vm %s: flow: session %s is not declared in this file",
				     a->name, a->flows[k].session);
			}
		ps->line = a->line;
		for (j = 0; j < i; j++) {
			const struct conf_vm *b = &c->vms[j];

			if (a->id && a->id == b->id)
				perr(ps, "vm %s: port id %u is vm %s's already (line %d)",
				     a->name, a->id, b->name, b->line);
			if (a->has_mac && b->has_mac && !memcmp(a->mac + 1, b->mac + 1, 5) &&
			    (a->mac[0] == b->mac[0] || a->mac[0] == 0xfe || b->mac[0] == 0xfe))
				perr(ps, "vm %s: a device with this MAC would match vm %s "
				     "(line %d) too", a->name, b->name, b->line);
			else if (!a->has_mac && !b->has_mac && !a->alias[0] && !b->alias[0] &&
				 !strcmp(a->dev, b->dev))
				perr(ps, "vm %s: dev %s is vm %s's already (line %d)", a->name,
				     a->dev, b->name, b->line);
		}
	}
}

static int split(char *s, char **w)
{
	int n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (!*s || *s == '#' || *s == '\n')
			return n;
		if (n == MAX_WORDS)
			return -1;
		w[n++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			s++;
		if (*s == '#') {
			*s = 0;
			return n;
		}
		if (*s)
			*s++ = 0;
	}
}

int conf_load(const char *path, struct vtap_conf *c)
{
	struct parser ps = { .c = c, .path = path };
	struct conf_vm *vm = NULL;
	unsigned int seen = 0;
	char *line = NULL, *w[MAX_WORDS];
	size_t cap = 0;
	FILE *f;
	int n, i, err = 0;

	memset(c, 0, sizeof(*c));
	f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		err = -errno;
		errorf("%s: %s", path, strerror(errno));
		return err;
	}
	while (getline(&line, &cap, f) > 0) {
		char **keep, **wv, *text;

		ps.line++;
		if (strlen(line) > 4096) {
			perr(&ps, "line too long");
			continue;
		}
		n = split(line, w);
		if (n < 0) {
			perr(&ps, "more than %d words", MAX_WORDS);
			continue;
		}
		if (!n)
			continue;
		/* The words stay: sessions keep their options as words. */
		keep = grow(c->words, c->nwords, sizeof(*keep));
		if (!keep) {
			err = -ENOMEM;
			break;
		}
		c->words = keep;
		c->words[c->nwords] = malloc(sizeof(char *) * (size_t)(n + 1) + cap);
		if (!c->words[c->nwords]) {
			err = -ENOMEM;
			break;
		}
		/* One block: the pointer array, then a copy of the line. */
		wv = (char **)c->words[c->nwords++];
		text = (char *)(wv + n + 1);
		memcpy(text, line, cap);
		for (i = 0; i < n; i++)
			wv[i] = text + (w[i] - line);
		wv[n] = NULL;
		if (!strcmp(wv[0], "session")) {
			vm = NULL;
			st_session(&ps, wv, n);
		} else if (!strcmp(wv[0], "rule")) {
			vm = NULL;
			st_rule(&ps, wv, n);
		} else if (!strcmp(wv[0], "vm")) {
			vm = st_vm(&ps, wv, n);
			seen = vm ? vm_seen(vm) : 0;
		} else if (vm && !strcmp(wv[0], "flow")) {
			st_flow(&ps, vm, wv, n);
		} else if (vm && (!strcmp(wv[0], "mac") || !strcmp(wv[0], "dev") ||
				  !strcmp(wv[0], "alias") || !strcmp(wv[0], "uuid") ||
				  !strcmp(wv[0], "id") || !strcmp(wv[0], "records") ||
				  !strcmp(wv[0], "xdp"))) {
			if (n != 2)
				perr(&ps, "vm %s: '%s' takes one value", vm->name, wv[0]);
			else
				vm_key(&ps, vm, &seen, wv, n);
		} else if (!strcmp(wv[0], "flow") || !strcmp(wv[0], "mac") ||
			   !strcmp(wv[0], "dev") || !strcmp(wv[0], "alias") ||
			   !strcmp(wv[0], "uuid") || !strcmp(wv[0], "id") ||
			   !strcmp(wv[0], "records") || !strcmp(wv[0], "xdp")) {
			perr(&ps, "'%s' outside a vm block", wv[0]);
		} else {
			perr(&ps, "unknown statement '%s' (session, rule, vm; in a vm block "
			     "also mac, dev, alias, uuid, id, records, xdp, flow)", wv[0]);
		}
	}
	if (!err && ferror(f))
		err = -EIO;
	free(line);
	if (f != stdin)
		fclose(f);
	if (err) {
		errorf("%s: %s", path, strerror(-err));
		conf_free(c);
		return err;
	}
	check_all(&ps);
	if (ps.errors) {
		if (ps.errors > MAX_ERRORS)
			errorf("%s: %d more errors", path, ps.errors - MAX_ERRORS);
		errorf("%s: not applied: nothing was changed", path);
		conf_free(c);
		return -EINVAL;
	}
	c->path = strdup(path);
	return 0;
}

void conf_free(struct vtap_conf *c)
{
	int i;

	for (i = 0; i < c->nvms; i++)
		free(c->vms[i].flows);
	for (i = 0; i < c->nwords; i++)
		free(c->words[i]);
	free(c->words);
	free(c->sess);
	free(c->rules);
	free(c->vms);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

bool conf_vm_matches(const struct conf_vm *vm, const struct conf_link *l)
{
	if (vm->dev[0] && fnmatch(vm->dev, l->name, 0))
		return false;
	if (vm->alias[0] && (!l->alias[0] || fnmatch(vm->alias, l->alias, 0)))
		return false;
	if (vm->has_mac) {
		if (!l->has_mac || memcmp(vm->mac + 1, l->mac + 1, 5))
			return false;
		if (vm->mac[0] != l->mac[0] && l->mac[0] != 0xfe)
			return false;
	}
	return true;
}

const struct conf_session *conf_session(const struct vtap_conf *c,
					const char *name)
{
	int i;

	for (i = 0; i < c->nsess; i++)
		if (!strcmp(c->sess[i].name, name))
			return &c->sess[i];
	return NULL;
}
