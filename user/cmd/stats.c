// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl stats: session counters (from vtap.ko, as session show prints
 * them) and port counters (from the namespace's port_stats map, summed over
 * CPUs), all of them or those of one session and/or one port.
 *
 * JSON: {"sessions":[{"name","id","stats":{...}}...],
 *        "ports":[{"dev","ifindex","id","stale","stats":{"out":{...},"in":{...}}}...]}
 * with only the requested arrays when filtered.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfmaps.h"
#include "nl.h"
#include "util.h"
#include "vtapctl.h"

int do_stats(int argc, char **argv)
{
	const char *session = NULL, *dev = NULL;
	struct session_info *sv = NULL;
	struct vtap_port_ent *v = NULL;
	struct vtap_port_stats *st = NULL;
	struct vtap_nl nl;
	struct vtap_ns ns;
	unsigned int only = 0;
	int i, rc, err, n = 0, nsv = 0;
	bool want_sessions, want_ports;

	if (argc == 2 && !strcmp(argv[1], "help")) {
		printf("Usage: vtapctl stats [session NAME] [port DEV]\n");
		return VTAP_EXIT_OK;
	}
	for (i = 1; i < argc; i += 2) {
		if (strcmp(argv[i], "session") && strcmp(argv[i], "port")) {
			unkarg("stats", argv[i]);
			return VTAP_EXIT_USAGE;
		}
		if (i + 1 >= argc) {
			missarg(argv[i]);
			return VTAP_EXIT_USAGE;
		}
		if ((!strcmp(argv[i], "session") && session) || (!strcmp(argv[i], "port") && dev)) {
			duparg(argv[i]);
			return VTAP_EXIT_USAGE;
		}
		if (!strcmp(argv[i], "session") && !session) {
			if (check_session_name(argv[i + 1]))
				return VTAP_EXIT_USAGE;
			session = argv[i + 1];
		} else if (!strcmp(argv[i], "port") && !dev) {
			if (check_dev_name(argv[i + 1]))
				return VTAP_EXIT_USAGE;
			dev = argv[i + 1];
		}
	}
	/* No filter: everything; a filter: only what it names. */
	want_sessions = session || !dev;
	want_ports = dev || !session;

	rc = vnl_open_or_explain(&nl);
	if (rc)
		return rc;
	if (dev) {
		only = dev_ifindex(dev);
		if (!only) {
			vnl_close(&nl);
			return VTAP_EXIT_NOENT;
		}
	}
	/* Gather everything before printing anything. */
	if (want_sessions) {
		err = session_list(&nl, session, &sv, &nsv);
		if (err) {
			rc = vnl_fail(&nl, err, "stats");
			vnl_close(&nl);
			return rc;
		}
	}
	err = vtap_ns_open(&ns, VTAP_NS_READ);
	if (err)
		goto out;
	if (want_ports) {
		err = vtap_ports_read(&ns, &v, &n);
		if (err) {
			errorf("stats: cannot read the ports map: %s", strerror(-err));
			goto out;
		}
		st = calloc((size_t)n + 1, sizeof(*st));
		if (!st) {
			err = -ENOMEM;
			goto out;
		}
		for (i = 0; i < n && !err; i++) {
			if (only && v[i].ifindex != only)
				continue;
			err = vtap_port_stats(&ns, v[i].p.slot, &st[i]);
			if (err) {
				errorf("stats: cannot read the port counters: %s",
				       strerror(-err));
				goto out;
			}
			if (only)
				break;
		}
		if (only && i == n) {
			errorf("stats: %s is not a vtap port", dev);
			err = -ENOENT;
			goto out;
		}
	}

	out_open_obj();
	if (want_sessions) {
		out_open_array_key("sessions");
		for (i = 0; i < nsv; i++)
			print_session_stats(&sv[i]);
		out_close_array();
	}
	if (want_ports) {
		out_open_array_key("ports");
		for (i = 0; i < n; i++)
			if (!only || v[i].ifindex == only)
				print_port(&v[i], &st[i], NULL, 0, false);
		out_close_array();
	}
	if (json_output) {
		out_close_obj();
		putchar('\n');
	}
out:
	free(st);
	free(v);
	free(sv);
	vtap_ns_close(&ns);
	vnl_close(&nl);
	return vtap_exit_code(err);
}
