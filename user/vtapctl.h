/* SPDX-License-Identifier: GPL-2.0 */
/* vtapctl: subcommand entry points. */
#ifndef VTAPCTL_H
#define VTAPCTL_H

int do_version(int argc, char **argv);
int do_info(int argc, char **argv);
int do_session(int argc, char **argv);
int do_help(int argc, char **argv);

/* The subcommands an object knows, for help texts and the man page test. */
struct vtap_subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

int run_subcmd(const char *object, const struct vtap_subcmd *cmds, int n,
	       int argc, char **argv);
void print_subcmd_usage(const char *object, const struct vtap_subcmd *cmds,
			int n, FILE *f);

#endif
