/* SPDX-License-Identifier: GPL-2.0 */
/* vtapctl: subcommand entry points. */
#ifndef VTAPCTL_H
#define VTAPCTL_H

#include <linux/vtap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

int do_version(int argc, char **argv);
int do_info(int argc, char **argv);
int do_session(int argc, char **argv);
int do_port(int argc, char **argv);
int do_flow(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_rule(int argc, char **argv);
int do_collect(int argc, char **argv);
int do_flows(int argc, char **argv);
int do_apply(int argc, char **argv);
int do_daemon(int argc, char **argv);
int do_help(int argc, char **argv);

/* Sessions as seen from ports, flows and stats (session.c). */
struct vtap_nl;
struct session_info {
	uint32_t id;
	uint32_t flags;			/* VTAP_SESSION_F_* */
	uint8_t encap;			/* VTAP_ENCAP_*, 0 if not reported */
	uint64_t cookie;		/* VTAP_A_SESSION_COOKIE */
	char name[VTAP_NAME_MAX];
	bool has[VTAP_A_STATS_MAX + 1];
	uint64_t stat[VTAP_A_STATS_MAX + 1];
};

/*
 * The session called @name, or all sessions if @name is NULL; free(*v)
 * after use.  Returns 0 or a negative errno (-ENOENT: no such session;
 * nl->errmsg has the kernel's message).
 */
int session_list(struct vtap_nl *nl, const char *name,
		 struct session_info **v, int *n);
const char *session_name(const struct session_info *v, int n, uint32_t id);
/* The name of the session with @id and @cookie (a flow's or rule's), or NULL. */
const char *session_name_cookie(const struct session_info *v, int n, uint32_t id,
				uint64_t cookie);
void print_session_stats(const struct session_info *si);
int check_session_name(const char *name);	/* prints why, -EINVAL */
struct nl_msg;
struct nl_msg *session_parse_add(int argc, char **argv);
/* session add (@create) or set with "NAME OPTION..."; an exit code. */
int session_command(bool create, int argc, char **argv);
int session_delete(const char *name);		/* session del NAME */

/* Ports (port.c). */
struct vtap_port_ent;
struct vtap_port_stats;
int check_dev_name(const char *dev);		/* prints why, -EINVAL */
unsigned int dev_ifindex(const char *dev);	/* 0 after saying why */
void print_port(const struct vtap_port_ent *e, const struct vtap_port_stats *st,
		const struct session_info *sv, int nsv, bool flows);
/*
 * The device of port @ifindex in @dev (IF_NAMESIZE bytes; "" if it is
 * gone); true if the port is stale (no device, or our filters are not on it).
 */
bool port_dev(uint32_t ifindex, char *dev);
struct vtap_port_ent;
bool port_stale(const struct vtap_port_ent *e, char *dev);
bool uuid_set(const uint8_t *uuid);				/* not all zero */
void format_uuid(const uint8_t *u, char *buf, size_t len);	/* 8-4-4-4-12 */

/*
 * Collector (collect.c): the display name of a VM port (session id, port
 * index), e.g. from a configuration file; see collect.c.
 */
struct collector;
int collect_port_label(struct collector *c, uint32_t session, uint32_t index,
		       const char *label);

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
