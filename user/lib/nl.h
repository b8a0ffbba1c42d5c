/* SPDX-License-Identifier: GPL-2.0 */
/* vtapctl: generic netlink requests to vtap.ko (libnl-genl-3). */
#ifndef VTAPCTL_NL_H
#define VTAPCTL_NL_H

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

struct vtap_nl {
	struct nl_sock *sk;
	int family;
	char errmsg[256];	/* extack message of the last error, if any */
	int miss_type;		/* extack: missing attribute type, or 0 */
};

/* Returns 0, or -ENOENT if the vtap family is absent (module not loaded). */
int vnl_open(struct vtap_nl *nl);
void vnl_close(struct vtap_nl *nl);
struct nl_msg *vnl_msg(struct vtap_nl *nl, int cmd, int flags);

/*
 * Send @msg (consumed) and receive the reply: @cb is called for each reply
 * message with its parsed attributes (up to @maxattr).  A dump interrupted
 * by a concurrent change (NLM_F_DUMP_INTR) returns -EAGAIN; vnl_dump()
 * retries those.  Returns 0 or a negative errno; on error nl->errmsg holds
 * the kernel's extack message when it sent one.
 */
typedef int (*vnl_cb_t)(struct nlattr **tb, void *arg);
int vnl_request(struct vtap_nl *nl, struct nl_msg *msg, int maxattr,
		vnl_cb_t cb, void *arg);
int vnl_dump(struct vtap_nl *nl, int cmd, int maxattr,
	     int (*reset)(void *arg), vnl_cb_t cb, void *arg);

/* Report a failed request on stderr and map it to an exit code. */
int vnl_fail(struct vtap_nl *nl, int err, const char *what);
/* Open, or explain that the module is missing; returns an exit code. */
int vnl_open_or_explain(struct vtap_nl *nl);

#endif
