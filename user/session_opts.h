/* SPDX-License-Identifier: GPL-2.0 */
/* vtapctl session: packet-broker options (session_opts.c). */
#ifndef VTAPCTL_SESSION_OPTS_H
#define VTAPCTL_SESSION_OPTS_H

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stdbool.h>
#include <stdint.h>

bool is_broker_opt(const char *kw);
/* Parse the option at argv[0] into @msg; *used = tokens consumed. */
int parse_broker_opt(struct nl_msg *msg, int argc, char **argv, int *used);
int parse_rate(const char *s, uint64_t *rate, uint8_t *unit);
void print_broker(struct nlattr **tb);

#endif
