// SPDX-License-Identifier: GPL-2.0
/* vtapctl: generic netlink requests to vtap.ko (libnl-genl-3). */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/vtap.h>
#include <netlink/genl/ctrl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "nl.h"
#include "util.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/*
 * vtapctl -b: the first successful vnl_open() keeps its socket, and the
 * later ones get it too; vnl_close() leaves it open (and reads what an
 * interrupted dump left behind), vnl_shared_close() closes it.
 */
bool nl_shared;
static struct nl_sock *shared_sk;
static int shared_family;

void vnl_shared_close(void)
{
	if (shared_sk)
		nl_socket_free(shared_sk);
	shared_sk = NULL;
}

int vnl_open(struct vtap_nl *nl)
{
	int one = 1, fd, err;

	memset(nl, 0, sizeof(*nl));
	if (nl_shared && shared_sk) {
		nl->sk = shared_sk;
		nl->family = shared_family;
		return 0;
	}
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	err = genl_connect(nl->sk);
	if (err) {
		nl_socket_free(nl->sk);
		nl->sk = NULL;
		return -EIO;
	}
	fd = nl_socket_get_fd(nl->sk);
	/* Error messages from the kernel, without a copy of our request. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, VTAP_GENL_NAME);
	if (nl->family < 0) {
		vnl_close(nl);
		return -ENOENT;
	}
	if (nl_shared) {
		shared_sk = nl->sk;
		shared_family = nl->family;
	}
	return 0;
}

void vnl_close(struct vtap_nl *nl)
{
	if (nl->sk && nl->sk == shared_sk) {
		char buf[8192];
		int fd = nl_socket_get_fd(nl->sk);

		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
		nl->sk = NULL;
		return;
	}
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

struct nl_msg *vnl_msg(struct vtap_nl *nl, int cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags,
			 cmd, VTAP_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

struct req_ctx {
	struct vtap_nl *nl;
	int maxattr;
	vnl_cb_t cb;
	void *arg;
	int err;
	int done;
	int intr;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct req_ctx *c = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[c->maxattr + 1];
	int err;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		c->intr = 1;
	err = genlmsg_parse(nlh, 0, tb, c->maxattr, NULL);
	if (err < 0) {
		c->err = -EPROTO;
		return NL_STOP;
	}
	if (c->cb) {
		err = c->cb(tb, c->arg);
		if (err) {
			c->err = err;
			return NL_STOP;
		}
	}
	return NL_OK;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	struct req_ctx *c = arg;

	(void)msg;
	c->done = 1;
	return NL_STOP;
}

/* Pick the extack message and missing-attribute type out of an error. */
static void parse_extack(struct vtap_nl *nl, struct nlmsgerr *e)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = { 0 };
	size_t off = sizeof(*e);
	int len;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	len = (int)nlh->nlmsg_len - NLMSG_HDRLEN - (int)off;
	if (len <= 0)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off),
		      len, NULL))
		return;
	if (tb[NLMSGERR_ATTR_MSG]) {
		const char *m = nla_get_string(tb[NLMSGERR_ATTR_MSG]);

		/* NL_SET_ERR_MSG_MOD prefixes the module name: drop it. */
		if (!strncmp(m, "vtap: ", 6))
			m += 6;
		snprintf(nl->errmsg, sizeof(nl->errmsg), "%s", m);
	}
#ifdef NLMSGERR_ATTR_MISS_TYPE
	if (tb[NLMSGERR_ATTR_MISS_TYPE])
		nl->miss_type = (int)nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
#endif
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct req_ctx *c = arg;

	(void)nla;
	c->err = e->error;
	c->done = 1;
	parse_extack(c->nl, e);
	return NL_STOP;
}

int vnl_request(struct vtap_nl *nl, struct nl_msg *msg, int maxattr,
		vnl_cb_t cb, void *arg)
{
	struct req_ctx c = { .nl = nl, .maxattr = maxattr, .cb = cb, .arg = arg };
	struct nl_cb *ncb;
	int err;

	nl->errmsg[0] = 0;
	nl->miss_type = 0;
	ncb = nl_cb_alloc(NL_CB_CUSTOM);
	if (!ncb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(ncb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &c);
	nl_cb_set(ncb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &c);
	nl_cb_set(ncb, NL_CB_ACK, NL_CB_CUSTOM, on_finish, &c);
	nl_cb_err(ncb, NL_CB_CUSTOM, on_error, &c);

	err = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (err < 0) {
		nl_cb_put(ncb);
		return -EIO;
	}
	while (!c.done && !c.err) {
		err = nl_recvmsgs(nl->sk, ncb);
		if (err < 0 && !c.err) {
			c.err = -EIO;
			break;
		}
	}
	nl_cb_put(ncb);
	if (!c.err && c.intr)
		return -EAGAIN;
	return c.err;
}

int vnl_dump(struct vtap_nl *nl, int cmd, int maxattr,
	     int (*reset)(void *arg), vnl_cb_t cb, void *arg)
{
	int tries, err = -EAGAIN;

	for (tries = 0; tries < 10 && err == -EAGAIN; tries++) {
		struct nl_msg *msg = vnl_msg(nl, cmd, NLM_F_DUMP);

		if (!msg)
			return -ENOMEM;
		if (reset) {
			err = reset(arg);
			if (err) {
				nlmsg_free(msg);
				return err;
			}
		}
		err = vnl_request(nl, msg, maxattr, cb, arg);
	}
	return err;
}

int vnl_fail(struct vtap_nl *nl, int err, const char *what)
{
	if (nl->errmsg[0])
		errorf("%s: %s", what, nl->errmsg);
	else if (err == -EPERM || err == -EACCES)
		errorf("%s: %s (CAP_NET_ADMIN is needed)", what, strerror(-err));
	else
		errorf("%s: %s", what, strerror(-err));
	return exit_code_for_errno(err);
}

int vnl_open_or_explain(struct vtap_nl *nl)
{
	int err = vnl_open(nl);

	if (err == -ENOENT) {
		errorf("the vtap kernel module is not loaded (load it with 'modprobe vtap')");
		return VTAP_EXIT_NOMODULE;
	}
	if (err) {
		errorf("cannot open a generic netlink socket: %s", strerror(-err));
		return VTAP_EXIT_FAIL;
	}
	return VTAP_EXIT_OK;
}
