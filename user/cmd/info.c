// SPDX-License-Identifier: GPL-2.0
/* vtapctl info: the module's version and features. */
#include <linux/vtap.h>
#include <stdio.h>
#include <string.h>

#include "nl.h"
#include "util.h"
#include "vtapctl.h"

/*
 * Every VTAP_FEATURE_*, by name (selftests/host/spec_sync.py checks that
 * none is missing); bits not in here print as a hex remainder.
 */
static const struct {
	uint64_t bit;
	const char *name;
} features[] = {
	{ VTAP_FEATURE_SESSIONS, "sessions" },
	{ VTAP_FEATURE_KFUNC, "kfunc" },
	{ VTAP_FEATURE_GRE, "gre" },
	{ VTAP_FEATURE_ERSPAN2, "erspan2" },
	{ VTAP_FEATURE_ERSPAN3, "erspan3" },
	{ VTAP_FEATURE_IPV6, "ipv6" },
	{ VTAP_FEATURE_SAMPLE, "sample" },
	{ VTAP_FEATURE_SLICE, "slice" },
	{ VTAP_FEATURE_RATE, "rate" },
	{ VTAP_FEATURE_GSO, "gso" },
	{ VTAP_FEATURE_DEFERRED, "deferred" },
	{ VTAP_FEATURE_COOKIE, "cookie" },
	{ VTAP_FEATURE_UNPARSED, "unparsed" },
	{ VTAP_FEATURE_VXLAN, "vxlan" },
	{ VTAP_FEATURE_ERSPAN3_SUBHDR, "erspan3-subhdr" },
	{ VTAP_FEATURE_DEDUP, "dedup" },
	{ VTAP_FEATURE_XDP, "xdp" },
};

static int info_cb(struct nlattr **tb, void *arg)
{
	uint64_t f = 0, rest;
	bool first = true;
	size_t i;

	(void)arg;
	out_open_obj();
	if (tb[VTAP_A_INFO_VERSION])
		out_str("version", "vtap %s\n", nla_get_string(tb[VTAP_A_INFO_VERSION]));
	if (tb[VTAP_A_INFO_API])
		out_u64("api", "api %llu\n", nla_get_u32(tb[VTAP_A_INFO_API]));
	if (tb[VTAP_A_INFO_SESSIONS])
		out_u64("sessions", "sessions %llu",
			nla_get_u32(tb[VTAP_A_INFO_SESSIONS]));
	if (tb[VTAP_A_INFO_MAX_SESSIONS])
		out_u64("max_sessions", " (max %llu)\n",
			nla_get_u32(tb[VTAP_A_INFO_MAX_SESSIONS]));
	if (tb[VTAP_A_INFO_FEATURES])
		f = nla_get_u64(tb[VTAP_A_INFO_FEATURES]);
	out_u64("feature_bits", NULL, f);
	printf(json_output ? ",\"features\":[" : "features");
	rest = f;
	for (i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		if (!(f & features[i].bit))
			continue;
		rest &= ~features[i].bit;
		if (json_output)
			printf("%s\"%s\"", first ? "" : ",", features[i].name);
		else
			printf(" %s", features[i].name);
		first = false;
	}
	if (json_output) {
		printf("]");
		/* A newer module's bits that this vtapctl has no name for. */
		if (rest)
			printf(",\"features_unknown\":\"%#llx\"", (unsigned long long)rest);
	} else if (rest) {
		printf(" %#llx", (unsigned long long)rest);
	}
	out_close_obj();
	if (json_output)
		putchar('\n');
	return 0;
}

int do_info(int argc, char **argv)
{
	struct vtap_nl nl;
	struct nl_msg *msg;
	int rc, err;

	if (argc == 2 && !strcmp(argv[1], "help")) {
		printf("Usage: vtapctl [-j] info\n");
		return VTAP_EXIT_OK;
	}
	if (argc > 1) {
		errorf("info takes no arguments");
		return VTAP_EXIT_USAGE;
	}
	rc = vnl_open_or_explain(&nl);
	if (rc)
		return rc;
	msg = vnl_msg(&nl, VTAP_CMD_INFO_GET, 0);
	if (!msg) {
		vnl_close(&nl);
		return VTAP_EXIT_FAIL;
	}
	err = vnl_request(&nl, msg, VTAP_A_INFO_MAX, info_cb, NULL);
	rc = err ? vnl_fail(&nl, err, "info") : VTAP_EXIT_OK;
	vnl_close(&nl);
	return rc;
}
