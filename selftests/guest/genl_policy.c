// SPDX-License-Identifier: GPL-2.0
/*
 * vtap's generic netlink family against bad input, with raw netlink so that
 * types and lengths can be wrong on purpose.  Needs vtap.ko loaded and
 * CAP_NET_ADMIN (the test VM runs it as root).  Each rejection must carry
 * the right errno and an extack message, and change nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/vtap.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct nlreq {
	char buf[1024];
	size_t len;
};

struct nlres {
	int error;		/* 0 for an ACK, -errno for an error */
	char msg[256];		/* extack message */
	int nattrs;		/* attributes in a reply, if any */
	unsigned int sessions;	/* VTAP_A_INFO_SESSIONS in an INFO reply */
	unsigned long long features;	/* VTAP_A_INFO_FEATURES */
	unsigned long long cookie;	/* VTAP_A_SESSION_COOKIE in a session reply */
	unsigned int burst;		/* VTAP_A_SESSION_BURST */
	unsigned int id;		/* VTAP_A_SESSION_ID */
	int has_vni, has_dport;		/* VTAP_A_SESSION_VNI, _DPORT present */
	unsigned int vni;
	unsigned short dport;
	int has_subhdr;			/* VTAP_A_SESSION_SUBHDR present */
	unsigned char subhdr;
	int has_dedup;			/* VTAP_A_SESSION_DEDUP present */
	unsigned int dedup;
};

static void req_init(struct nlreq *r, int family, int cmd, int flags)
{
	struct nlmsghdr *nlh = (void *)r->buf;
	struct genlmsghdr *g = (void *)(nlh + 1);

	memset(r, 0, sizeof(*r));
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = 1;
	g->cmd = cmd;
	g->version = 1;
	r->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

static void req_attr(struct nlreq *r, int type, const void *data, size_t len)
{
	struct nlattr *a = (void *)(r->buf + r->len);

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->len += NLA_ALIGN(a->nla_len);
}

static void req_u32(struct nlreq *r, int type, unsigned int v)
{
	req_attr(r, type, &v, 4);
}

static void req_u16(struct nlreq *r, int type, unsigned short v)
{
	req_attr(r, type, &v, 2);
}

static void req_u8(struct nlreq *r, int type, unsigned char v)
{
	req_attr(r, type, &v, 1);
}

static void req_str(struct nlreq *r, int type, const char *s)
{
	req_attr(r, type, s, strlen(s) + 1);
}

static int nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	int one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return fd;
}

/* Send @r, read until the ACK/error; fill @res. */
static int nl_talk(int fd, struct nlreq *r, struct nlres *res)
{
	struct nlmsghdr *nlh = (void *)r->buf;
	char buf[8192];
	ssize_t n;

	memset(res, 0, sizeof(*res));
	nlh->nlmsg_len = r->len;
	if (send(fd, r->buf, r->len, 0) != (ssize_t)r->len)
		return -1;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -1;
		for (nlh = (void *)buf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);
				struct nlattr *a;
				int rem;

				res->error = e->error;
				if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
					return 0;
				a = (void *)(e + 1);
				rem = nlh->nlmsg_len - NLMSG_HDRLEN - sizeof(*e);
				while (rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
				       a->nla_len <= rem) {
					if (a->nla_type == NLMSGERR_ATTR_MSG)
						snprintf(res->msg, sizeof(res->msg), "%s",
							 (char *)a + NLA_HDRLEN);
					rem -= NLA_ALIGN(a->nla_len);
					a = (void *)((char *)a + NLA_ALIGN(a->nla_len));
				}
				return 0;
			}
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			{
				struct genlmsghdr *g = NLMSG_DATA(nlh);
				struct nlattr *a = (void *)((char *)g + GENL_HDRLEN);
				int rem = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

				while (rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
				       a->nla_len <= rem) {
					res->nattrs++;
					if (g->cmd == VTAP_CMD_INFO_GET &&
					    a->nla_type == VTAP_A_INFO_SESSIONS)
						memcpy(&res->sessions,
						       (char *)a + NLA_HDRLEN, 4);
					if (g->cmd == VTAP_CMD_INFO_GET &&
					    a->nla_type == VTAP_A_INFO_FEATURES)
						memcpy(&res->features,
						       (char *)a + NLA_HDRLEN, 8);
					if (g->cmd != VTAP_CMD_INFO_GET &&
					    a->nla_type == VTAP_A_SESSION_COOKIE)
						memcpy(&res->cookie,
						       (char *)a + NLA_HDRLEN, 8);
					if (g->cmd != VTAP_CMD_INFO_GET &&
					    a->nla_type == VTAP_A_SESSION_BURST)
						memcpy(&res->burst,
						       (char *)a + NLA_HDRLEN, 4);
					if (g->cmd != VTAP_CMD_INFO_GET &&
					    a->nla_type == VTAP_A_SESSION_ID)
						memcpy(&res->id, (char *)a + NLA_HDRLEN, 4);
					if (g->cmd != VTAP_CMD_INFO_GET &&
					    a->nla_type == VTAP_A_SESSION_VNI) {
						res->has_vni = a->nla_len == NLA_HDRLEN + 4;
						memcpy(&res->vni, (char *)a + NLA_HDRLEN, 4);
					}
					if (g->cmd != VTAP_CMD_INFO_GET &&
					    a->nla_type == VTAP_A_SESSION_SUBHDR) {
						res->has_subhdr = a->nla_len == NLA_HDRLEN + 1;
						res->subhdr = *((unsigned char *)a + NLA_HDRLEN);
					}
					if (g->cmd != VTAP_CMD_INFO_GET &&
					    a->nla_type == VTAP_A_SESSION_DEDUP) {
						res->has_dedup = a->nla_len == NLA_HDRLEN + 4;
						memcpy(&res->dedup, (char *)a + NLA_HDRLEN, 4);
					}
					if (g->cmd != VTAP_CMD_INFO_GET &&
					    a->nla_type == VTAP_A_SESSION_DPORT) {
						res->has_dport = a->nla_len == NLA_HDRLEN + 2;
						memcpy(&res->dport, (char *)a + NLA_HDRLEN, 2);
					}
					rem -= NLA_ALIGN(a->nla_len);
					a = (void *)((char *)a + NLA_ALIGN(a->nla_len));
				}
			}
		}
	}
}

static int resolve_family(int fd, const char *name)
{
	struct nlreq r;
	char buf[8192];
	struct nlmsghdr *nlh = (void *)r.buf;
	ssize_t n;

	req_init(&r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	req_str(&r, CTRL_ATTR_FAMILY_NAME, name);
	nlh->nlmsg_len = r.len;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	if (send(fd, r.buf, r.len, 0) < 0)
		return -1;
	n = recv(fd, buf, sizeof(buf), 0);
	for (nlh = (void *)buf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
		struct nlattr *a = (void *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
		int rem = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

		if (nlh->nlmsg_type != GENL_ID_CTRL)
			return -1;
		while (rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN) {
			if (a->nla_type == CTRL_ATTR_FAMILY_ID)
				return *(unsigned short *)((char *)a + NLA_HDRLEN);
			rem -= NLA_ALIGN(a->nla_len);
			a = (void *)((char *)a + NLA_ALIGN(a->nla_len));
		}
	}
	return -1;
}

FIXTURE(genl) {
	int fd;
	int family;
	unsigned int sessions_before;
};

static unsigned int count_sessions(struct __test_metadata *_metadata,
				   FIXTURE_DATA(genl) *self)
{
	struct nlreq r;
	struct nlres res;

	req_init(&r, self->family, VTAP_CMD_INFO_GET, 0);
	EXPECT_EQ(0, nl_talk(self->fd, &r, &res));
	EXPECT_EQ(0, res.error);
	return res.sessions;
}

FIXTURE_SETUP(genl)
{
	self->fd = nl_open();
	ASSERT_LE(0, self->fd);
	self->family = resolve_family(self->fd, VTAP_GENL_NAME);
	ASSERT_LT(0, self->family) TH_LOG("vtap family not registered: is vtap.ko loaded?");
	self->sessions_before = count_sessions(_metadata, self);
}

FIXTURE_TEARDOWN(genl)
{
	/* Whatever the test sent, the session table must be as it was. */
	EXPECT_EQ(self->sessions_before, count_sessions(_metadata, self))
		TH_LOG("a rejected request changed the number of sessions");
	close(self->fd);
}

/* A valid SESSION_NEW body that a test then spoils. */
static void valid_new(struct nlreq *r, int family, const char *name)
{
	req_init(r, family, VTAP_CMD_SESSION_NEW, 0);
	req_str(r, VTAP_A_SESSION_NAME, name);
	req_u8(r, VTAP_A_SESSION_ENCAP, VTAP_ENCAP_ERSPAN2);
	req_attr(r, VTAP_A_SESSION_REMOTE4, "\xc6\x33\x64\x02", 4); /* 198.51.100.2 */
}

#define EXPECT_REJECT(self, r, err, what) do {				\
	struct nlres __res;						\
	ASSERT_EQ(0, nl_talk((self)->fd, (r), &__res));			\
	EXPECT_EQ(err, __res.error) TH_LOG("%s: error %d (%s), extack '%s'", \
		what, __res.error, strerror(-__res.error), __res.msg);	\
	EXPECT_NE(0, __res.msg[0]) TH_LOG("%s: no extack message", what); \
} while (0)

TEST_F(genl, info_reports_version)
{
	struct nlreq r;
	struct nlres res;

	req_init(&r, self->family, VTAP_CMD_INFO_GET, 0);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	EXPECT_EQ(0, res.error);
	EXPECT_LE(4, res.nattrs);
}

TEST_F(genl, valid_session_roundtrip)
{
	struct nlreq r;
	struct nlres res;

	valid_new(&r, self->family, "gp-valid");
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("extack '%s'", res.msg);
	EXPECT_EQ(self->sessions_before + 1, count_sessions(_metadata, self));
	valid_new(&r, self->family, "gp-valid");
	EXPECT_REJECT(self, &r, -EEXIST, "duplicate name");
	req_init(&r, self->family, VTAP_CMD_SESSION_DEL, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-valid");
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	EXPECT_EQ(0, res.error);
}

TEST_F(genl, unknown_command)
{
	struct nlreq r;
	struct nlres res;

	req_init(&r, self->family, VTAP_CMD_MAX + 7, 0);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	EXPECT_EQ(-EOPNOTSUPP, res.error);
}

TEST_F(genl, unknown_attribute)
{
	struct nlreq r;

	valid_new(&r, self->family, "gp-unknown");
	req_u32(&r, VTAP_A_SESSION_MAX + 5, 1);
	EXPECT_REJECT(self, &r, -EINVAL, "attribute above maxattr");
}

TEST_F(genl, attribute_on_info)
{
	struct nlreq r;

	req_init(&r, self->family, VTAP_CMD_INFO_GET, 0);
	req_u32(&r, 1, 1);
	EXPECT_REJECT(self, &r, -EINVAL, "INFO_GET takes no attributes");
}

TEST_F(genl, wrong_length)
{
	struct nlreq r;
	unsigned short id16 = 5;

	valid_new(&r, self->family, "gp-len");
	req_attr(&r, VTAP_A_SESSION_ID, &id16, 2);
	EXPECT_REJECT(self, &r, -EINVAL, "u32 id sent as 2 bytes");

	req_init(&r, self->family, VTAP_CMD_SESSION_NEW, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-len6");
	req_u8(&r, VTAP_A_SESSION_ENCAP, VTAP_ENCAP_GRE);
	req_attr(&r, VTAP_A_SESSION_REMOTE6, "0123456789abcde", 15);
	EXPECT_REJECT(self, &r, -ERANGE, "IPv6 address of 15 bytes");
}

TEST_F(genl, wrong_type)
{
	struct nlreq r;

	/* A name that is not NUL-terminated. */
	req_init(&r, self->family, VTAP_CMD_SESSION_NEW, 0);
	req_attr(&r, VTAP_A_SESSION_NAME, "abcd", 4);
	req_u8(&r, VTAP_A_SESSION_ENCAP, VTAP_ENCAP_GRE);
	req_attr(&r, VTAP_A_SESSION_REMOTE4, "\xc6\x33\x64\x02", 4);
	EXPECT_REJECT(self, &r, -EINVAL, "unterminated string");

	/* The stats nest is reply-only. */
	valid_new(&r, self->family, "gp-stats");
	req_attr(&r, VTAP_A_SESSION_STATS, "", 0);
	EXPECT_REJECT(self, &r, -EINVAL, "stats in a request");
}

TEST_F(genl, out_of_range)
{
	struct nlreq r;
	char longname[VTAP_NAME_MAX + 1];

	valid_new(&r, self->family, "gp-range");
	req_u32(&r, VTAP_A_SESSION_ID, VTAP_SESSION_ID_MAX + 1);
	EXPECT_REJECT(self, &r, -ERANGE, "id 1024");

	valid_new(&r, self->family, "gp-range");
	req_u32(&r, VTAP_A_SESSION_ID, 0);
	EXPECT_REJECT(self, &r, -ERANGE, "id 0");

	req_init(&r, self->family, VTAP_CMD_SESSION_NEW, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-range");
	req_u8(&r, VTAP_A_SESSION_ENCAP, VTAP_ENCAP_MAX + 1);
	req_attr(&r, VTAP_A_SESSION_REMOTE4, "\xc6\x33\x64\x02", 4);
	EXPECT_REJECT(self, &r, -ERANGE, "encap out of range");

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	valid_new(&r, self->family, longname);
	EXPECT_REJECT(self, &r, -EINVAL, "name too long");

	valid_new(&r, self->family, "gp-range");
	req_u8(&r, VTAP_A_SESSION_TTL, 0);
	EXPECT_REJECT(self, &r, -ERANGE, "ttl 0");

	valid_new(&r, self->family, "gp-range");
	req_u32(&r, VTAP_A_SESSION_SNAPLEN, 65536);
	EXPECT_REJECT(self, &r, -ERANGE, "snaplen 65536");

	valid_new(&r, self->family, "gp-range");
	req_u32(&r, VTAP_A_SESSION_SAMPLE, 0);
	EXPECT_REJECT(self, &r, -ERANGE, "sample 0");

	valid_new(&r, self->family, "gp-range");
	req_attr(&r, VTAP_A_SESSION_RATE, "\x01\x10\xa5\xd4\xe8\x00\x00\x00", 8); /* 1e12 + 1 */
	EXPECT_REJECT(self, &r, -ERANGE, "rate over 1e12");

	valid_new(&r, self->family, "gp-range");
	req_u32(&r, VTAP_A_SESSION_FLAGS, __VTAP_SESSION_F_ALL + 1);
	EXPECT_REJECT(self, &r, -EINVAL, "unknown flag");
}

TEST_F(genl, semantic_errors)
{
	struct nlreq r;

	req_init(&r, self->family, VTAP_CMD_SESSION_NEW, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-sem");
	req_u8(&r, VTAP_A_SESSION_ENCAP, VTAP_ENCAP_GRE);
	EXPECT_REJECT(self, &r, -EINVAL, "no remote address");

	valid_new(&r, self->family, "gp-sem");
	req_attr(&r, VTAP_A_SESSION_LOCAL6, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	EXPECT_REJECT(self, &r, -EINVAL, "IPv6 local with IPv4 remote");

	req_init(&r, self->family, VTAP_CMD_SESSION_NEW, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-sem");
	req_u8(&r, VTAP_A_SESSION_ENCAP, VTAP_ENCAP_GRE);
	req_attr(&r, VTAP_A_SESSION_REMOTE4, "\xe0\0\0\x01", 4);	/* 224.0.0.1 */
	EXPECT_REJECT(self, &r, -EINVAL, "multicast remote");

	valid_new(&r, self->family, "gp-sem");
	req_u32(&r, VTAP_A_SESSION_KEY, 5);
	EXPECT_REJECT(self, &r, -EINVAL, "key on an erspan session");

	valid_new(&r, self->family, "gp-sem");
	req_u8(&r, VTAP_A_SESSION_HWID, 3);
	EXPECT_REJECT(self, &r, -EINVAL, "hwid on erspan2");

	valid_new(&r, self->family, "gp-sem");
	req_u32(&r, VTAP_A_SESSION_SNAPLEN, 13);
	EXPECT_REJECT(self, &r, -EINVAL, "snaplen 13 (less than an Ethernet header)");

	valid_new(&r, self->family, "gp-sem");
	req_u32(&r, VTAP_A_SESSION_SNAPLEN, 100);
	req_attr(&r, VTAP_A_SESSION_MASK_OFFSET, "\x5a\x00", 2);	/* 90 */
	req_attr(&r, VTAP_A_SESSION_MASK_LEN, "\x14\x00", 2);	/* 20 */
	EXPECT_REJECT(self, &r, -EINVAL, "mask past snaplen");

	valid_new(&r, self->family, "gp-sem");
	req_u32(&r, VTAP_A_SESSION_BURST, 5);
	EXPECT_REJECT(self, &r, -EINVAL, "burst without a rate");

	req_init(&r, self->family, VTAP_CMD_SESSION_DEL, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-nosuch");
	EXPECT_REJECT(self, &r, -ENOENT, "delete an unknown session");

	req_init(&r, self->family, VTAP_CMD_SESSION_DEL, 0);
	EXPECT_REJECT(self, &r, -EINVAL, "delete without a name");
}

static void del_session(struct __test_metadata *_metadata,
			FIXTURE_DATA(genl) *self, const char *name)
{
	struct nlreq r;
	struct nlres res;

	req_init(&r, self->family, VTAP_CMD_SESSION_DEL, 0);
	req_str(&r, VTAP_A_SESSION_NAME, name);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	EXPECT_EQ(0, res.error) TH_LOG("delete %s: %s", name, res.msg);
}

/* Each command takes the attributes it needs, no others. */
TEST_F(genl, per_command_policies)
{
	unsigned int before = count_sessions(_metadata, self);
	struct nlreq r;
	struct nlres res;

	valid_new(&r, self->family, "gp-pol");
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("extack '%s'", res.msg);

	req_init(&r, self->family, VTAP_CMD_SESSION_DEL, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-pol");
	req_attr(&r, VTAP_A_SESSION_REMOTE4, "\xc6\x33\x64\x02", 4);
	EXPECT_REJECT(self, &r, -EINVAL, "DEL with a remote address");
	EXPECT_EQ(before + 1, count_sessions(_metadata, self)) TH_LOG("the rejected DEL deleted");

	req_init(&r, self->family, VTAP_CMD_SESSION_GET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-pol");
	req_u32(&r, VTAP_A_SESSION_FLAGS, 0);
	EXPECT_REJECT(self, &r, -EINVAL, "GET with flags");

	req_init(&r, self->family, VTAP_CMD_SESSION_GET, NLM_F_DUMP);
	req_u8(&r, VTAP_A_SESSION_TTL, 5);
	EXPECT_REJECT(self, &r, -EINVAL, "a dump with a ttl");

	req_init(&r, self->family, VTAP_CMD_SESSION_SET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-pol");
	req_attr(&r, VTAP_A_SESSION_COOKIE, "\1\2\3\4\5\6\7\x08", 8);
	EXPECT_REJECT(self, &r, -EINVAL, "SET with a cookie");

	req_init(&r, self->family, VTAP_CMD_SESSION_GET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-pol");
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	EXPECT_EQ(0, res.error) TH_LOG("GET by name: %s", res.msg);
	del_session(_metadata, self, "gp-pol");
}

/* The cookie: the kernel's, random, new for each session. */
TEST_F(genl, cookie)
{
	unsigned long long c1;
	struct nlreq r;
	struct nlres res;

	valid_new(&r, self->family, "gp-cookie");
	req_attr(&r, VTAP_A_SESSION_COOKIE, "\1\2\3\4\5\6\7\x08", 8);
	EXPECT_REJECT(self, &r, -EINVAL, "NEW with a cookie");

	valid_new(&r, self->family, "gp-cookie");
	req_u32(&r, VTAP_A_SESSION_ID, 700);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("extack '%s'", res.msg);
	c1 = res.cookie;
	EXPECT_NE(0, c1) TH_LOG("no cookie in the reply");
	del_session(_metadata, self, "gp-cookie");

	valid_new(&r, self->family, "gp-cookie");
	req_u32(&r, VTAP_A_SESSION_ID, 700);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("extack '%s'", res.msg);
	EXPECT_NE(c1, res.cookie) TH_LOG("same name, same id: another session, another cookie");
	del_session(_metadata, self, "gp-cookie");
}

TEST_F(genl, unspecified_and_this_network_addresses)
{
	static const char any6[16];
	struct nlreq r;

	req_init(&r, self->family, VTAP_CMD_SESSION_NEW, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-addr");
	req_u8(&r, VTAP_A_SESSION_ENCAP, VTAP_ENCAP_GRE);
	req_attr(&r, VTAP_A_SESSION_REMOTE6, any6, 16);
	EXPECT_REJECT(self, &r, -EINVAL, "remote ::");

	req_init(&r, self->family, VTAP_CMD_SESSION_NEW, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-addr");
	req_u8(&r, VTAP_A_SESSION_ENCAP, VTAP_ENCAP_GRE);
	req_attr(&r, VTAP_A_SESSION_REMOTE6, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	req_attr(&r, VTAP_A_SESSION_LOCAL6, any6, 16);
	EXPECT_REJECT(self, &r, -EINVAL, "local ::");

	req_init(&r, self->family, VTAP_CMD_SESSION_NEW, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-addr");
	req_u8(&r, VTAP_A_SESSION_ENCAP, VTAP_ENCAP_GRE);
	req_attr(&r, VTAP_A_SESSION_REMOTE4, "\0\1\2\3", 4);
	EXPECT_REJECT(self, &r, -EINVAL, "remote 0.1.2.3 (this network)");
}

TEST_F(genl, session_names)
{
	static const char *const bad[] = { "a b", "-j", "x/y", "\xff\xfe", "new\nline", "é" };
	struct nlreq r;
	struct nlres res;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		valid_new(&r, self->family, bad[i]);
		EXPECT_REJECT(self, &r, -EINVAL, bad[i]);
	}
	valid_new(&r, self->family, "ok.name_1:@+-");
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	EXPECT_EQ(0, res.error) TH_LOG("extack '%s'", res.msg);
	del_session(_metadata, self, "ok.name_1:@+-");
}

/* Rate x burst never overflows: both ends of each range are kept as given. */
TEST_F(genl, rate_and_burst_extremes)
{
	static const struct { unsigned long long rate; int unit; unsigned int burst; } c[] = {
		{ 1, VTAP_RATE_PPS, 0xffffffffU },
		{ 1, VTAP_RATE_PPS, 281475 },	/* once wrapped to 23 ms of burst */
		{ 1, VTAP_RATE_PPS, 1 },
		{ 1000, VTAP_RATE_BPS, 0xffffffffU },
		{ 1000000000000ULL, VTAP_RATE_PPS, 1 },
		{ 1000000000000ULL, VTAP_RATE_BPS, 0xffffffffU },
	};
	struct nlreq r;
	struct nlres res;
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		valid_new(&r, self->family, "gp-rate");
		req_attr(&r, VTAP_A_SESSION_RATE, &c[i].rate, 8);
		req_u8(&r, VTAP_A_SESSION_RATE_UNIT, c[i].unit);
		req_u32(&r, VTAP_A_SESSION_BURST, c[i].burst);
		ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
		EXPECT_EQ(0, res.error) TH_LOG("case %u: extack '%s'", i, res.msg);
		EXPECT_EQ(c[i].burst, res.burst) TH_LOG("case %u", i);
		if (!res.error)
			del_session(_metadata, self, "gp-rate");
	}
}

TEST_F(genl, info_features)
{
	struct nlreq r;
	struct nlres res;

	req_init(&r, self->family, VTAP_CMD_INFO_GET, 0);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	EXPECT_EQ(VTAP_FEATURE_KFUNC | VTAP_FEATURE_COOKIE | VTAP_FEATURE_UNPARSED,
		  res.features & (VTAP_FEATURE_KFUNC | VTAP_FEATURE_COOKIE | VTAP_FEATURE_UNPARSED))
		TH_LOG("features %#llx", res.features);
}

/* A valid VXLAN SESSION_NEW body (no id, vni or dport) that a test extends. */
static void vxlan_new(struct nlreq *r, int family, const char *name)
{
	req_init(r, family, VTAP_CMD_SESSION_NEW, 0);
	req_str(r, VTAP_A_SESSION_NAME, name);
	req_u8(r, VTAP_A_SESSION_ENCAP, VTAP_ENCAP_VXLAN);
	req_attr(r, VTAP_A_SESSION_REMOTE4, "\xc6\x33\x64\x02", 4); /* 198.51.100.2 */
}

/* GET @name into @res. */
static void get_session(struct __test_metadata *_metadata,
			FIXTURE_DATA(genl) *self, const char *name, struct nlres *res)
{
	struct nlreq r;

	req_init(&r, self->family, VTAP_CMD_SESSION_GET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, name);
	ASSERT_EQ(0, nl_talk(self->fd, &r, res));
	EXPECT_EQ(0, res->error) TH_LOG("GET %s: %s", name, res->msg);
}

TEST_F(genl, vxlan_out_of_range)
{
	struct nlreq r;

	vxlan_new(&r, self->family, "gp-vx");
	req_u32(&r, VTAP_A_SESSION_VNI, VTAP_VXLAN_VNI_MAX + 1);
	EXPECT_REJECT(self, &r, -ERANGE, "vni 0x1000000");

	vxlan_new(&r, self->family, "gp-vx");
	req_u32(&r, VTAP_A_SESSION_VNI, 0xffffffff);
	EXPECT_REJECT(self, &r, -ERANGE, "vni 0xffffffff");

	vxlan_new(&r, self->family, "gp-vx");
	req_u16(&r, VTAP_A_SESSION_DPORT, 0);
	EXPECT_REJECT(self, &r, -ERANGE, "dport 0");

	vxlan_new(&r, self->family, "gp-vx");
	req_u32(&r, VTAP_A_SESSION_DPORT, 4789);
	EXPECT_REJECT(self, &r, -EINVAL, "dport sent as 4 bytes");

	vxlan_new(&r, self->family, "gp-vx");
	req_u16(&r, VTAP_A_SESSION_VNI, 5);
	EXPECT_REJECT(self, &r, -EINVAL, "vni sent as 2 bytes");
}

/* VNI and DPORT are vxlan's only; KEY, HWID and GRA not vxlan's. */
TEST_F(genl, vxlan_encap_attributes)
{
	struct nlreq r;
	struct nlres res;

	req_init(&r, self->family, VTAP_CMD_SESSION_NEW, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-vxe");
	req_u8(&r, VTAP_A_SESSION_ENCAP, VTAP_ENCAP_GRE);
	req_attr(&r, VTAP_A_SESSION_REMOTE4, "\xc6\x33\x64\x02", 4);
	req_u32(&r, VTAP_A_SESSION_VNI, 5);
	EXPECT_REJECT(self, &r, -EINVAL, "vni with encap gre");

	valid_new(&r, self->family, "gp-vxe");		/* erspan2 */
	req_u16(&r, VTAP_A_SESSION_DPORT, 4789);
	EXPECT_REJECT(self, &r, -EINVAL, "dport with encap erspan2");

	vxlan_new(&r, self->family, "gp-vxe");
	req_u32(&r, VTAP_A_SESSION_KEY, 5);
	EXPECT_REJECT(self, &r, -EINVAL, "key with encap vxlan");

	vxlan_new(&r, self->family, "gp-vxe");
	req_u8(&r, VTAP_A_SESSION_HWID, 3);
	EXPECT_REJECT(self, &r, -EINVAL, "hwid with encap vxlan");

	vxlan_new(&r, self->family, "gp-vxe");
	req_u8(&r, VTAP_A_SESSION_GRA, VTAP_GRA_100NS);
	EXPECT_REJECT(self, &r, -EINVAL, "gra with encap vxlan");

	/* The same through SET, on a session of each kind. */
	valid_new(&r, self->family, "gp-vxe-e2");
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("extack '%s'", res.msg);
	EXPECT_EQ(0, res.has_vni) TH_LOG("an erspan2 session reports a vni");
	EXPECT_EQ(0, res.has_dport) TH_LOG("an erspan2 session reports a dport");
	req_init(&r, self->family, VTAP_CMD_SESSION_SET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-vxe-e2");
	req_u32(&r, VTAP_A_SESSION_VNI, 5);
	EXPECT_REJECT(self, &r, -EINVAL, "SET vni on an erspan2 session");
	req_init(&r, self->family, VTAP_CMD_SESSION_SET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-vxe-e2");
	req_u16(&r, VTAP_A_SESSION_DPORT, 8472);
	EXPECT_REJECT(self, &r, -EINVAL, "SET dport on an erspan2 session");
	get_session(_metadata, self, "gp-vxe-e2", &res);
	EXPECT_EQ(0, res.has_vni);
	del_session(_metadata, self, "gp-vxe-e2");

	vxlan_new(&r, self->family, "gp-vxe-vx");
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("extack '%s'", res.msg);
	req_init(&r, self->family, VTAP_CMD_SESSION_SET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-vxe-vx");
	req_u32(&r, VTAP_A_SESSION_KEY, 5);
	EXPECT_REJECT(self, &r, -EINVAL, "SET key on a vxlan session");
	req_init(&r, self->family, VTAP_CMD_SESSION_SET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-vxe-vx");
	req_u32(&r, VTAP_A_SESSION_VNI, VTAP_VXLAN_VNI_MAX + 1);
	EXPECT_REJECT(self, &r, -ERANGE, "SET vni 0x1000000");
	del_session(_metadata, self, "gp-vxe-vx");
}

/*
 * A vxlan session reports its effective VNI and DPORT, always: as given,
 * or the session id and VTAP_VXLAN_PORT by default; SET changes them.
 */
TEST_F(genl, vxlan_session)
{
	struct nlreq r;
	struct nlres res;

	req_init(&r, self->family, VTAP_CMD_INFO_GET, 0);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	EXPECT_NE(0, res.features & VTAP_FEATURE_VXLAN) TH_LOG("features %#llx", res.features);

	vxlan_new(&r, self->family, "gp-vx1");
	req_u32(&r, VTAP_A_SESSION_ID, 77);
	req_u32(&r, VTAP_A_SESSION_VNI, 4242);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("extack '%s'", res.msg);
	EXPECT_TRUE(res.has_vni) TH_LOG("NEW reply without a vni");
	EXPECT_EQ(4242, res.vni);
	EXPECT_TRUE(res.has_dport) TH_LOG("NEW reply without a dport");
	EXPECT_EQ(VTAP_VXLAN_PORT, res.dport);
	get_session(_metadata, self, "gp-vx1", &res);
	EXPECT_EQ(77, res.id);
	EXPECT_TRUE(res.has_vni);
	EXPECT_EQ(4242, res.vni);
	EXPECT_TRUE(res.has_dport);
	EXPECT_EQ(VTAP_VXLAN_PORT, res.dport);

	req_init(&r, self->family, VTAP_CMD_SESSION_SET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-vx1");
	req_u32(&r, VTAP_A_SESSION_VNI, 5);
	req_u16(&r, VTAP_A_SESSION_DPORT, 8472);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("SET: extack '%s'", res.msg);
	EXPECT_EQ(5, res.vni);
	EXPECT_EQ(8472, res.dport);
	get_session(_metadata, self, "gp-vx1", &res);
	EXPECT_EQ(5, res.vni);
	EXPECT_EQ(8472, res.dport);
	del_session(_metadata, self, "gp-vx1");

	/* No VNI: the session id; no DPORT: 4789. */
	vxlan_new(&r, self->family, "gp-vx2");
	req_u32(&r, VTAP_A_SESSION_ID, 78);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("extack '%s'", res.msg);
	get_session(_metadata, self, "gp-vx2", &res);
	EXPECT_TRUE(res.has_vni);
	EXPECT_EQ(78, res.vni);
	EXPECT_TRUE(res.has_dport);
	EXPECT_EQ(VTAP_VXLAN_PORT, res.dport);
	del_session(_metadata, self, "gp-vx2");

	/* No id either: the allocated one. */
	vxlan_new(&r, self->family, "gp-vx3");
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("extack '%s'", res.msg);
	get_session(_metadata, self, "gp-vx3", &res);
	EXPECT_NE(0, res.id);
	EXPECT_TRUE(res.has_vni);
	EXPECT_EQ(res.id, res.vni);
	del_session(_metadata, self, "gp-vx3");

	/* Both ends of each range. */
	vxlan_new(&r, self->family, "gp-vx4");
	req_u32(&r, VTAP_A_SESSION_VNI, 0);
	req_u16(&r, VTAP_A_SESSION_DPORT, 1);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("vni 0, dport 1: extack '%s'", res.msg);
	EXPECT_TRUE(res.has_vni);
	EXPECT_EQ(0, res.vni);
	EXPECT_EQ(1, res.dport);
	del_session(_metadata, self, "gp-vx4");

	vxlan_new(&r, self->family, "gp-vx5");
	req_u32(&r, VTAP_A_SESSION_VNI, VTAP_VXLAN_VNI_MAX);
	req_u16(&r, VTAP_A_SESSION_DPORT, 65535);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("vni max, dport 65535: extack '%s'", res.msg);
	EXPECT_EQ(VTAP_VXLAN_VNI_MAX, res.vni);
	EXPECT_EQ(65535, res.dport);
	del_session(_metadata, self, "gp-vx5");

	/* Over IPv6. */
	req_init(&r, self->family, VTAP_CMD_SESSION_NEW, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-vx6");
	req_u8(&r, VTAP_A_SESSION_ENCAP, VTAP_ENCAP_VXLAN);
	req_attr(&r, VTAP_A_SESSION_REMOTE6, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	req_u32(&r, VTAP_A_SESSION_VNI, 600);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("IPv6: extack '%s'", res.msg);
	EXPECT_EQ(600, res.vni);
	EXPECT_EQ(VTAP_VXLAN_PORT, res.dport);
	del_session(_metadata, self, "gp-vx6");
}

/*
 * ERSPAN III's platform-specific sub-header: 0 (none, the default), 3 or 7,
 * erspan3 only, reported for erspan3 sessions, changed by SET.
 */
TEST_F(genl, erspan3_subhdr)
{
	struct nlreq r;
	struct nlres res;

	req_init(&r, self->family, VTAP_CMD_INFO_GET, 0);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	EXPECT_NE(0, res.features & VTAP_FEATURE_ERSPAN3_SUBHDR)
		TH_LOG("features %#llx", res.features);

	valid_new(&r, self->family, "gp-sh");		/* erspan2 */
	req_u8(&r, VTAP_A_SESSION_SUBHDR, 7);
	EXPECT_REJECT(self, &r, -EINVAL, "subhdr with encap erspan2");
	vxlan_new(&r, self->family, "gp-sh");
	req_u8(&r, VTAP_A_SESSION_SUBHDR, 3);
	EXPECT_REJECT(self, &r, -EINVAL, "subhdr with encap vxlan");

	req_init(&r, self->family, VTAP_CMD_SESSION_NEW, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-sh");
	req_u8(&r, VTAP_A_SESSION_ENCAP, VTAP_ENCAP_ERSPAN3);
	req_attr(&r, VTAP_A_SESSION_REMOTE4, "\xc6\x33\x64\x02", 4);
	req_u8(&r, VTAP_A_SESSION_SUBHDR, 4);
	EXPECT_REJECT(self, &r, -EINVAL, "subhdr 4 (not a Platf ID vtap sends)");

	req_init(&r, self->family, VTAP_CMD_SESSION_NEW, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-sh");
	req_u8(&r, VTAP_A_SESSION_ENCAP, VTAP_ENCAP_ERSPAN3);
	req_attr(&r, VTAP_A_SESSION_REMOTE4, "\xc6\x33\x64\x02", 4);
	req_u8(&r, VTAP_A_SESSION_SUBHDR, VTAP_ERSPAN_SUBHDR_MAX + 1);
	EXPECT_REJECT(self, &r, -ERANGE, "subhdr 8");

	req_init(&r, self->family, VTAP_CMD_SESSION_NEW, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-sh");
	req_u8(&r, VTAP_A_SESSION_ENCAP, VTAP_ENCAP_ERSPAN3);
	req_attr(&r, VTAP_A_SESSION_REMOTE4, "\xc6\x33\x64\x02", 4);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("extack '%s'", res.msg);
	EXPECT_TRUE(res.has_subhdr) TH_LOG("an erspan3 session reports its subhdr");
	EXPECT_EQ(0, res.subhdr);

	req_init(&r, self->family, VTAP_CMD_SESSION_SET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-sh");
	req_u8(&r, VTAP_A_SESSION_SUBHDR, 7);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("SET: extack '%s'", res.msg);
	EXPECT_EQ(7, res.subhdr);
	req_init(&r, self->family, VTAP_CMD_SESSION_SET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-sh");
	req_u8(&r, VTAP_A_SESSION_SUBHDR, 5);
	EXPECT_REJECT(self, &r, -EINVAL, "SET subhdr 5");
	get_session(_metadata, self, "gp-sh", &res);
	EXPECT_EQ(7, res.subhdr) TH_LOG("a refused SET changes nothing");
	req_init(&r, self->family, VTAP_CMD_SESSION_SET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-sh");
	req_u8(&r, VTAP_A_SESSION_SUBHDR, 3);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("SET: extack '%s'", res.msg);
	get_session(_metadata, self, "gp-sh", &res);
	EXPECT_EQ(3, res.subhdr);
	del_session(_metadata, self, "gp-sh");

	valid_new(&r, self->family, "gp-sh2");		/* erspan2 */
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("extack '%s'", res.msg);
	EXPECT_FALSE(res.has_subhdr) TH_LOG("an erspan2 session reports a subhdr");
	req_init(&r, self->family, VTAP_CMD_SESSION_SET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-sh2");
	req_u8(&r, VTAP_A_SESSION_SUBHDR, 7);
	EXPECT_REJECT(self, &r, -EINVAL, "SET subhdr on an erspan2 session");
	del_session(_metadata, self, "gp-sh2");
}

/*
 * Dedup: a u32 window in microseconds, 0 (off, the default) to
 * VTAP_DEDUP_WINDOW_MAX, any encapsulation, always reported, changed by SET.
 */
TEST_F(genl, dedup_window)
{
	struct nlreq r;
	struct nlres res;

	req_init(&r, self->family, VTAP_CMD_INFO_GET, 0);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	EXPECT_NE(0, res.features & VTAP_FEATURE_DEDUP)
		TH_LOG("features %#llx", res.features);

	valid_new(&r, self->family, "gp-dd");
	req_u32(&r, VTAP_A_SESSION_DEDUP, VTAP_DEDUP_WINDOW_MAX + 1);
	EXPECT_REJECT(self, &r, -ERANGE, "dedup 1000001 us");
	valid_new(&r, self->family, "gp-dd");
	req_u32(&r, VTAP_A_SESSION_DEDUP, 0xffffffff);
	EXPECT_REJECT(self, &r, -ERANGE, "dedup 2^32-1 us");
	valid_new(&r, self->family, "gp-dd");
	req_u16(&r, VTAP_A_SESSION_DEDUP, 100);
	EXPECT_REJECT(self, &r, -EINVAL, "dedup as a u16");

	valid_new(&r, self->family, "gp-dd");
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("extack '%s'", res.msg);
	EXPECT_TRUE(res.has_dedup) TH_LOG("a session reports its dedup window");
	EXPECT_EQ(0, res.dedup);

	req_init(&r, self->family, VTAP_CMD_SESSION_SET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-dd");
	req_u32(&r, VTAP_A_SESSION_DEDUP, VTAP_DEDUP_WINDOW_DEFAULT);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("SET: extack '%s'", res.msg);
	EXPECT_EQ(VTAP_DEDUP_WINDOW_DEFAULT, res.dedup);
	req_init(&r, self->family, VTAP_CMD_SESSION_SET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-dd");
	req_u32(&r, VTAP_A_SESSION_DEDUP, VTAP_DEDUP_WINDOW_MAX + 1);
	EXPECT_REJECT(self, &r, -ERANGE, "SET dedup 1000001 us");
	get_session(_metadata, self, "gp-dd", &res);
	EXPECT_EQ(VTAP_DEDUP_WINDOW_DEFAULT, res.dedup)
		TH_LOG("a refused SET changes nothing");
	req_init(&r, self->family, VTAP_CMD_SESSION_SET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-dd");
	req_u32(&r, VTAP_A_SESSION_DEDUP, 0);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("SET 0: extack '%s'", res.msg);
	get_session(_metadata, self, "gp-dd", &res);
	EXPECT_EQ(0, res.dedup);
	/* On again: the table kept from the first time. */
	req_init(&r, self->family, VTAP_CMD_SESSION_SET, 0);
	req_str(&r, VTAP_A_SESSION_NAME, "gp-dd");
	req_u32(&r, VTAP_A_SESSION_DEDUP, 1);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("SET 1: extack '%s'", res.msg);
	EXPECT_EQ(1, res.dedup);
	del_session(_metadata, self, "gp-dd");

	/* Created with the longest window, over VXLAN (any encap). */
	vxlan_new(&r, self->family, "gp-dd2");
	req_u32(&r, VTAP_A_SESSION_DEDUP, VTAP_DEDUP_WINDOW_MAX);
	ASSERT_EQ(0, nl_talk(self->fd, &r, &res));
	ASSERT_EQ(0, res.error) TH_LOG("extack '%s'", res.msg);
	EXPECT_EQ(VTAP_DEDUP_WINDOW_MAX, res.dedup);
	del_session(_metadata, self, "gp-dd2");
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

/*
 * A process in a new user namespace (its own uid mapped to root) is root
 * there, with CAP_NET_ADMIN in
 * that namespace, but the network namespace belongs to the initial user
 * namespace: GENL_UNS_ADMIN_PERM must refuse it.  Reading stays allowed.
 */
TEST_F(genl, unprivileged_user_namespace)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct nlreq r;
		struct nlres res;
		int fd;

		if (unshare(CLONE_NEWUSER))
			_exit(10);
		write_file("/proc/self/setgroups", "deny");
		if (write_file("/proc/self/uid_map", "0 0 1") ||
		    write_file("/proc/self/gid_map", "0 0 1"))
			_exit(11);
		fd = nl_open();
		if (fd < 0)
			_exit(12);
		valid_new(&r, self->family, "gp-unpriv");
		if (nl_talk(fd, &r, &res) || res.error != -EPERM)
			_exit(13);
		req_init(&r, self->family, VTAP_CMD_SESSION_DEL, 0);
		req_str(&r, VTAP_A_SESSION_NAME, "gp-unpriv");
		if (nl_talk(fd, &r, &res) || res.error != -EPERM)
			_exit(14);
		req_init(&r, self->family, VTAP_CMD_INFO_GET, 0);
		if (nl_talk(fd, &r, &res) || res.error != 0)
			_exit(15);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child step %d failed (10 unshare, 11 maps, 12 socket, "
		       "13 NEW not EPERM, 14 DEL not EPERM, 15 INFO refused)",
		       WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
