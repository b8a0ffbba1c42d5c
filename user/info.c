// SPDX-License-Identifier: GPL-2.0
/* vtapctl info: the module's version and features. */
#include <linux/vtap.h>
#include <stdio.h>
#include <string.h>

#include "nl.h"
#include "util.h"
#include "vtapctl.h"

/* VTAP_FEATURE_* by bit; an unknown bit prints as bitN. */
static const char *const feature_names[] = {
	"sessions", "kfunc", "gre", "erspan2", "erspan3", "ipv6", "sample",
	"slice", "rate", "gso", "deferred", "cookie", "unparsed",
};

static int info_cb(struct nlattr **tb, void *arg)
{
	uint64_t f = 0;
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
	for (i = 0; i < 64; i++) {
		char unknown[8];
		const char *name = unknown;

		if (!(f & (1ULL << i)))
			continue;
		if (i < sizeof(feature_names) / sizeof(feature_names[0]))
			name = feature_names[i];
		else
			snprintf(unknown, sizeof(unknown), "bit%zu", i);
		if (json_output)
			printf("%s\"%s\"", (f & ((1ULL << i) - 1)) ? "," : "", name);
		else
			printf(" %s", name);
	}
	if (json_output)
		printf("]");
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
