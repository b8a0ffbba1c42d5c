// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl: manage vtap mirror sessions, ports and flows.
 *
 *   vtapctl [OPTIONS] OBJECT [COMMAND [ARGS...]]
 *   vtapctl [OPTIONS] -b FILE
 *
 * One table of objects; each object has a table of subcommands in its own
 * file (user/cmd/session.c, ...); shared code in user/lib/, the collector
 * in user/collect/.  Objects and commands may be abbreviated to an
 * unambiguous prefix, as ip and tc allow.  See Documentation/vtapctl.8.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"
#include "vtapctl.h"
#include "vtap_version.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} objects[] = {
	{ "session",	do_session,	"mirror destinations (GRE, ERSPAN II/III)" },
	{ "port",	do_port,	"monitored VM devices (tap, veth)" },
	{ "flow",	do_flow,	"which sessions get a port's traffic" },
	{ "rule",	do_rule,	"which traffic a session mirrors (accept/reject rules)" },
	{ "stats",	do_stats,	"session and port counters" },
	{ "apply",	do_apply,	"make this namespace match a configuration file" },
	{ "daemon",	do_daemon,	"apply a configuration, and follow VMs' devices as they come and go" },
	{ "flows",	do_flows,	"flow records of ports (records DIR): show, limit, IPFIX export" },
	{ "collect",	do_collect,	"receive GRE/ERSPAN mirror traffic: pcapng files or a device" },
	{ "info",	do_info,	"module version and features" },
	{ "version",	do_version,	"vtapctl's version" },
	{ "help",	do_help,	"this text" },
};

#define NOBJECTS (sizeof(objects) / sizeof(objects[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: vtapctl [OPTIONS] OBJECT [COMMAND [ARGS...]]\n"
		   "       vtapctl [OPTIONS] -b FILE\n"
		   "       vtapctl OBJECT help\n"
		   "Options: -j, --json         JSON output\n"
		   "         -p, --pretty       JSON output, indented\n"
		   "         -n, --netns NETNS  run in network namespace NETNS (ip netns)\n"
		   "         -b, --batch FILE   run the commands in FILE ('-': stdin), one a line\n"
		   "         -f, --force        with -b: go on after a command fails\n"
		   "         -V, --version      vtapctl's version\n"
		   "         -h, --help         this text\n"
		   "Objects:\n");
	for (i = 0; i < sizeof(objects) / sizeof(objects[0]); i++)
		fprintf(f, "  %-10s %s\n", objects[i].name, objects[i].summary);
}

int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return VTAP_EXIT_OK;
}

int do_version(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "help")) {
		printf("Usage: vtapctl [-j] version\n");
		return VTAP_EXIT_OK;
	}
	if (argc > 1) {
		errorf("version takes no arguments");
		return VTAP_EXIT_USAGE;
	}
	if (json_output)
		printf("{\"vtapctl\":\"%s\"}\n", VTAP_VERSION);
	else
		printf("vtapctl %s\n", VTAP_VERSION);
	return VTAP_EXIT_OK;
}

void print_subcmd_usage(const char *object, const struct vtap_subcmd *cmds,
			int n, FILE *f)
{
	int i;

	for (i = 0; i < n; i++)
		fprintf(f, "%s vtapctl %s %s %s\n", i ? "      " : "Usage:",
			object, cmds[i].name, cmds[i].usage);
	fprintf(f, "       vtapctl %s help\n", object);
}

/* Aliases of commands, as ip's: list and ls for show, delete for del. */
static const struct {
	const char *alias, *cmd;
} cmd_aliases[] = {
	{ "list", "show" }, { "ls", "show" }, { "lst", "show" }, { "delete", "del" },
};

/* The index in @cmds of command word @w (an alias's target), or -1. */
static int cmd_index(const struct vtap_subcmd *cmds, int n, const char *w)
{
	size_t a;
	int i;

	for (a = 0; a < sizeof(cmd_aliases) / sizeof(cmd_aliases[0]); a++)
		if (!strcmp(w, cmd_aliases[a].alias))
			w = cmd_aliases[a].cmd;
	for (i = 0; i < n; i++)
		if (!strcmp(w, cmds[i].name))
			return i;
	return -1;
}

/*
 * The command @arg names: a command, "help", an alias, or an unambiguous
 * prefix of them (prefixes of several words that mean the same command,
 * such as "l" for list and ls, are fine).  n: help; -1: unknown; -2:
 * ambiguous (after saying so).
 */
static int find_subcmd(const char *object, const struct vtap_subcmd *cmds, int n,
		       const char *arg)
{
	const char *words[64];
	char buf[256] = "";
	int nw = 0, i, found = -1, k;
	size_t a, o = 0;
	bool ambiguous = false;

	for (i = 0; i < n && nw < 60; i++)
		words[nw++] = cmds[i].name;
	words[nw++] = "help";
	for (a = 0; a < sizeof(cmd_aliases) / sizeof(cmd_aliases[0]); a++)
		if (cmd_index(cmds, n, cmd_aliases[a].cmd) >= 0)
			words[nw++] = cmd_aliases[a].alias;
	for (i = 0; i < nw; i++)
		if (!strcmp(arg, words[i]))
			return !strcmp(arg, "help") ? n : cmd_index(cmds, n, arg);
	for (i = 0; i < nw; i++) {
		if (!matches(arg, words[i]))
			continue;
		k = !strcmp(words[i], "help") ? n : cmd_index(cmds, n, words[i]);
		if (found >= 0 && k != found)
			ambiguous = true;
		found = k;
		if (o < sizeof(buf))
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", o ? ", " : "",
					      words[i]);
	}
	if (ambiguous) {
		errorf("%s: '%s' is ambiguous: %s", object, arg, buf);
		return -2;
	}
	return found;
}

/*
 * "vtapctl OBJECT [COMMAND ARGS...]": without a command, show (as ip link,
 * tc qdisc), or the usage on stderr if the object has no show.
 */
int run_subcmd(const char *object, const struct vtap_subcmd *cmds, int n,
	       int argc, char **argv)
{
	int i;

	if (argc < 2) {
		i = cmd_index(cmds, n, "show");
		if (i >= 0) {
			char *v[] = { (char *)"show", NULL };

			return cmds[i].fn(1, v);
		}
		print_subcmd_usage(object, cmds, n, stderr);
		return VTAP_EXIT_USAGE;
	}
	i = find_subcmd(object, cmds, n, argv[1]);
	if (i == n) {
		print_subcmd_usage(object, cmds, n, stdout);
		return VTAP_EXIT_OK;
	}
	if (i >= 0) {
		argv[1] = (char *)cmds[i].name;	/* messages name the command */
		return cmds[i].fn(argc - 1, argv + 1);
	}
	if (i == -1)
		errorf("%s: unknown command '%s' (try 'vtapctl %s help')", object,
		       argv[1], object);
	return VTAP_EXIT_USAGE;
}

static bool is_json_opt(const char *a)
{
	return !strcmp(a, "-j") || !strcmp(a, "--json") || !strcmp(a, "-json");
}

static bool is_pretty_opt(const char *a)
{
	return !strcmp(a, "-p") || !strcmp(a, "--pretty") || !strcmp(a, "-pretty");
}

/*
 * One command, "OBJECT [COMMAND [ARGS...]]".  -j and -p may also come
 * after the object (vtapctl session show -j): they are taken out here, so
 * no name or value can be "-j".
 */
static int run_command(int argc, char **argv)
{
	const char *words[NOBJECTS + 1];
	int i, o, found;
	size_t j;

	for (i = o = 0; i < argc; i++) {
		if (i > 0 && (is_json_opt(argv[i]) || is_pretty_opt(argv[i]))) {
			json_output = true;
			continue;
		}
		argv[o++] = argv[i];
	}
	argc = o;
	argv[argc] = NULL;
	if (argc < 1) {
		usage(stderr);
		return VTAP_EXIT_USAGE;
	}
	for (j = 0; j < NOBJECTS; j++)
		words[j] = objects[j].name;
	words[j] = NULL;
	found = match_word(NULL, argv[0], words);
	if (found >= 0) {
		argv[0] = (char *)objects[found].name;
		return objects[found].fn(argc, argv);
	}
	if (found == -1)
		errorf("unknown object '%s' (try 'vtapctl help')", argv[0]);
	return VTAP_EXIT_USAGE;
}

/* -n NETNS: a name in /run/netns (ip netns add), or a path. */
static int enter_netns(const char *ns)
{
	char path[4096];
	int fd;

	if (!*ns || strlen(ns) > 255 || (!strchr(ns, '/') && (!strcmp(ns, ".") || !strcmp(ns, "..")))) {
		errorf("-n: '%s' is not a network namespace name", ns);
		return VTAP_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "%s%s", strchr(ns, '/') ? "" : "/run/netns/", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		errorf("-n %s: %s: %s%s", ns, path, strerror(e),
		       e == ENOENT ? " (see 'ip netns list')" : "");
		return e == ENOENT ? VTAP_EXIT_NOENT : exit_code_for_errno(e);
	}
	if (setns(fd, CLONE_NEWNET)) {
		int e = errno;

		errorf("-n %s: cannot enter it: %s", ns, strerror(e));
		close(fd);
		return e == EPERM ? VTAP_EXIT_PERM : e == EINVAL ? VTAP_EXIT_USAGE :
		       exit_code_for_errno(e);
	}
	close(fd);
	return VTAP_EXIT_OK;
}

/*
 * Split a batch line into words: blanks separate, "..." and '...' quote,
 * a backslash escapes the next character, # outside quotes starts a
 * comment.  Returns the number of words, or -1 (an open quote).
 */
static int split_line(char *line, char **w, int max)
{
	char *r = line, *o = line;
	int n = 0;

	for (;;) {
		char q = 0;

		while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n')
			r++;
		if (!*r || *r == '#')
			break;
		if (n >= max - 1)
			return -2;
		w[n++] = o;
		while (*r && (q || (*r != ' ' && *r != '\t' && *r != '\r' && *r != '\n'))) {
			if (!q && (*r == '"' || *r == '\'')) {
				q = *r++;
			} else if (q && *r == q) {
				q = 0;
				r++;
			} else if (*r == '\\' && q != '\'' && r[1]) {
				r++;
				*o++ = *r++;
			} else {
				*o++ = *r++;
			}
		}
		if (q)
			return -1;
		if (*r)
			r++;
		*o++ = 0;
	}
	w[n] = NULL;
	return n;
}

/*
 * -b FILE: one command a line, as after "vtapctl" (without options but -j
 * and -p), in this process and over one netlink socket.  The first
 * failure stops it and is the exit status; with -f the rest run too and
 * the exit status is the first failure's.  Errors begin with "FILE:LINE: ".
 */
static int run_batch(const char *file, bool force)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	char *line = NULL, *w[256];
	size_t cap = 0;
	int lineno = 0, rc = VTAP_EXIT_OK, r, n;
	bool jo = json_output;

	if (!f) {
		int e = errno;

		errorf("-b %s: %s", file, strerror(e));
		return e == ENOENT ? VTAP_EXIT_NOENT : exit_code_for_errno(e);
	}
	nl_shared = true;
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		snprintf(errorf_batch, sizeof(errorf_batch), "%s:%d: ",
			 f == stdin ? "-" : file, lineno);
		n = split_line(line, w, (int)(sizeof(w) / sizeof(w[0])));
		if (!n)
			continue;
		json_output = jo;
		if (n < 0) {
			errorf(n == -1 ? "a quote is not closed" : "more than %d words",
			       (int)(sizeof(w) / sizeof(w[0])) - 2);
			r = VTAP_EXIT_USAGE;
		} else if (w[0][0] == '-') {
			errorf("'%s': options go on vtapctl's command line, not in a batch "
			       "(but -j and -p after the object)", w[0]);
			r = VTAP_EXIT_USAGE;
		} else if (!strcmp(w[0], "daemon") || !strcmp(w[0], "collect") ||
			   (!strcmp(w[0], "flows") && n > 1 && matches(w[1], "export"))) {
			errorf("'%s' runs until it is stopped: not in a batch", w[0]);
			r = VTAP_EXIT_USAGE;
		} else {
			r = run_command(n, w);
		}
		fflush(stdout);
		if (r && !rc)
			rc = r;
		if (r && !force)
			break;
	}
	errorf_batch[0] = 0;
	free(line);
	if (f != stdin)
		fclose(f);
	vnl_shared_close();
	nl_shared = false;
	return rc;
}

int main(int argc, char **argv)
{
	const char *netns = NULL, *batch = NULL;
	bool pretty = false, force = false;
	int rc, saved = -1, mfd = -1, i;

	while (argc > 1 && argv[1][0] == '-' && argv[1][1]) {
		const char *a = argv[1];

		if (is_json_opt(a)) {
			json_output = true;
		} else if (is_pretty_opt(a)) {
			json_output = pretty = true;
		} else if (!strcmp(a, "-f") || !strcmp(a, "--force") || !strcmp(a, "-force")) {
			force = true;
		} else if (!strcmp(a, "-n") || !strcmp(a, "--netns") || !strcmp(a, "-netns") ||
			   !strcmp(a, "-b") || !strcmp(a, "--batch") || !strcmp(a, "-batch")) {
			if (argc < 3) {
				errorf("'%s' needs a value", a);
				return VTAP_EXIT_USAGE;
			}
			if (a[1] == 'n' || a[2] == 'n')
				netns = argv[2];
			else
				batch = argv[2];
			argc--;
			argv++;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			return do_version(1, argv);
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return VTAP_EXIT_OK;
		} else {
			errorf("unknown option '%s'", a);
			usage(stderr);
			return VTAP_EXIT_USAGE;
		}
		argc--;
		argv++;
	}
	if (batch && argc > 1) {
		errorf("-b: the commands come from %s, not the command line ('%s')", batch,
		       argv[1]);
		return VTAP_EXIT_USAGE;
	}
	for (i = 2; i < argc; i++)	/* -p after the object: indent too */
		if (is_pretty_opt(argv[i]))
			json_output = pretty = true;
	if (force && !batch) {
		errorf("-f is for -b");
		return VTAP_EXIT_USAGE;
	}
	if (!batch && argc < 2) {
		usage(stderr);
		return VTAP_EXIT_USAGE;
	}
	if (netns) {
		rc = enter_netns(netns);
		if (rc)
			return rc;
	}
	if (pretty) {	/* the output to memory, indented when the command ends */
		fflush(stdout);
		mfd = memfd_create("vtapctl-json", MFD_CLOEXEC);
		saved = mfd < 0 ? -1 : dup(STDOUT_FILENO);
		if (saved < 0 || dup2(mfd, STDOUT_FILENO) < 0) {
			errorf("-p: %s", strerror(errno));
			return VTAP_EXIT_FAIL;
		}
	}
	rc = batch ? run_batch(batch, force) : run_command(argc - 1, argv + 1);
	if (pretty) {
		off_t len;
		char *m;

		fflush(stdout);
		len = lseek(mfd, 0, SEEK_END);
		dup2(saved, STDOUT_FILENO);
		close(saved);
		m = len > 0 ? mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, mfd, 0) : NULL;
		if (m && m != MAP_FAILED) {
			json_pretty(m, (size_t)len, stdout);
			munmap(m, (size_t)len);
		}
		close(mfd);
		fflush(stdout);
	}
	return rc;
}
