// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl: manage vtap mirror sessions, ports and flows.
 *
 *   vtapctl [-j] OBJECT COMMAND [ARGS...]
 *
 * One table of objects; each object has a table of subcommands in its own
 * file (session.c, ...).  See Documentation/vtapctl.8.
 */
#include <stdio.h>
#include <string.h>

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

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: vtapctl [-j] OBJECT COMMAND [ARGS...]\n"
		   "       vtapctl OBJECT help\n"
		   "Options: -j, --json     JSON output\n"
		   "         -V, --version  vtapctl's version\n"
		   "         -h, --help     this text\n"
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

int run_subcmd(const char *object, const struct vtap_subcmd *cmds, int n,
	       int argc, char **argv)
{
	int i;

	if (argc < 2) {
		print_subcmd_usage(object, cmds, n, stderr);
		return VTAP_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help")) {
		print_subcmd_usage(object, cmds, n, stdout);
		return VTAP_EXIT_OK;
	}
	for (i = 0; i < n; i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	errorf("%s: unknown command '%s' (try 'vtapctl %s help')", object,
	       argv[1], object);
	return VTAP_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	size_t i;

	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "-j") || !strcmp(argv[1], "--json")) {
			json_output = true;
		} else if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
			return do_version(1, argv);
		} else if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			usage(stdout);
			return VTAP_EXIT_OK;
		} else {
			errorf("unknown option '%s'", argv[1]);
			usage(stderr);
			return VTAP_EXIT_USAGE;
		}
		argc--;
		argv++;
	}
	if (argc < 2) {
		usage(stderr);
		return VTAP_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(objects) / sizeof(objects[0]); i++)
		if (!strcmp(argv[1], objects[i].name))
			return objects[i].fn(argc - 1, argv + 1);
	errorf("unknown object '%s' (try 'vtapctl help')", argv[1]);
	return VTAP_EXIT_USAGE;
}
