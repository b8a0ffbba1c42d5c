/* SPDX-License-Identifier: GPL-2.0 */
/* vtapctl apply: make this namespace match a configuration (apply.c). */
#ifndef VTAPCTL_APPLY_H
#define VTAPCTL_APPLY_H

#include <stdbool.h>

struct vtap_conf;

enum apply_what {
	APPLY_ALL,		/* sessions, rules and ports */
	APPLY_PORTS,		/* ports only: a device came or went */
};

/*
 * Bring sessions, rules and ports in line with @c (APPLY_ALL), or only
 * the ports (APPLY_PORTS); with @check, only say what would change.  Each
 * change is reported as one line through apply_log.  Returns the number
 * of changes (made or planned), or a negative errno after reporting why;
 * changes made before a failure stay made.
 */
int apply_conf(const struct vtap_conf *c, enum apply_what what, bool check);

/* Where the report lines go: stdout for apply, the log for the daemon. */
extern void (*apply_log)(bool error, const char *line);

#endif
