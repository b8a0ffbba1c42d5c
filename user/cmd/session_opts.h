/* SPDX-License-Identifier: GPL-2.0 */
/* vtapctl session: packet-broker options (session_opts.c). */
#ifndef VTAPCTL_SESSION_OPTS_H
#define VTAPCTL_SESSION_OPTS_H

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stdbool.h>
#include <stdint.h>

/* Session flags named on the command line: set these, clear those. */
struct flags_edit {
	uint32_t set, clear;
};

bool is_broker_opt(const char *kw);
int broker_kw(const char *kw);
/*
 * Parse the option at argv[0] into @msg (flags into @fe: the caller sends
 * VTAP_A_SESSION_FLAGS once, merged with the session's); *used = tokens
 * consumed.
 */
int parse_broker_opt(struct nl_msg *msg, int argc, char **argv, int *used,
		     struct flags_edit *fe);
int parse_rate(const char *s, uint64_t *rate, uint8_t *unit);
int parse_window(const char *s, uint32_t *us);
void print_broker(struct nlattr **tb);

#endif
