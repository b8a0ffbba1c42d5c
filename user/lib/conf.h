/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vtapctl: the configuration file (vtap.conf(5)): sessions, their rules, and
 * VMs matched by identity (MAC, device name pattern, alias) with a stable
 * port id and their flows.  conf_load() checks the whole file, with the
 * same parsers as the commands; apply.c makes the namespace match it.
 */
#ifndef VTAPCTL_CONF_H
#define VTAPCTL_CONF_H

#include <linux/types.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "vtap_bpf.h"
#include <linux/vtap.h>

#define CONF_NAME_MAX	VTAP_NAME_MAX	/* VM names: as session names */
#define CONF_PATTERN_MAX 64

struct conf_session {
	int line;
	char name[VTAP_NAME_MAX];
	int argc;			/* the options after the name, */
	char **argv;			/* as "session add NAME" takes them */
};

struct conf_rule {
	int line;
	char session[VTAP_NAME_MAX];
	int dir;			/* VTAP_DIR_* */
	__u32 num;
	struct vtap_rule rule;		/* cookie 0 */
};

struct conf_flow {
	int line;
	char session[VTAP_NAME_MAX];
	unsigned int dirs;		/* 1 << VTAP_DIR_* */
};

struct conf_vm {
	int line;
	char name[CONF_NAME_MAX];
	bool has_mac;
	__u8 mac[6];			/* the tap's, or the guest's (see conf_vm_matches) */
	char dev[CONF_PATTERN_MAX];	/* fnmatch(3) pattern, "" if none */
	char alias[CONF_PATTERN_MAX];	/* the device's ifalias, "" if none */
	bool has_uuid;
	__u8 uuid[16];
	bool has_records;
	__u32 records;			/* VTAP_PORT_F_REC_* */
	bool has_xdp;
	bool xdp;			/* vtap's XDP program on the port */
	__u32 id;			/* the port id (ERSPAN index) */
	struct conf_flow *flows;
	int nflows;
};

struct vtap_conf {
	char *path;
	struct conf_session *sess;
	int nsess;
	struct conf_rule *rules;
	int nrules;
	struct conf_vm *vms;
	int nvms;
	char **words;			/* every token, owned */
	int nwords;
};

/*
 * Read and check @path; on any error print "PATH:LINE: why" for each
 * problem found and return -EINVAL (or -errno when unreadable), leaving @c
 * empty.
 */
int conf_load(const char *path, struct vtap_conf *c);
void conf_free(struct vtap_conf *c);

/* A link as rtnetlink shows it. */
struct conf_link {
	int ifindex;
	char name[IF_NAMESIZE];
	bool has_mac;
	__u8 mac[6];
	char alias[CONF_PATTERN_MAX];
};

/*
 * Does @vm match @l?  Every match key the VM gives must hold: dev (a
 * pattern on the name), alias (a pattern on the ifalias) and mac: the
 * device's MAC, or the guest's MAC as libvirt gives it to the tap (first
 * octet 0xfe, the rest the guest's).
 */
bool conf_vm_matches(const struct conf_vm *vm, const struct conf_link *l);
const struct conf_session *conf_session(const struct vtap_conf *c,
					const char *name);

#endif
