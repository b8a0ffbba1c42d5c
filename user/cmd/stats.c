// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl stats: session counters (from vtap.ko, as session show prints
 * them) and port counters (from the namespace's port_stats map, summed over
 * CPUs), all of them or those of one session and/or one port.
 *
 * JSON: {"sessions":[{"name","id","stats":{...}}...],
 *        "ports":[{"dev","ifindex","id","stale","stats":{"out":{...},"in":{...}}}...],
 *        "flows":{"limit","used","lost":{"packets","octets","nonip_packets",
 *                 "nonip_octets"}}}
 * with only the requested arrays when filtered; "flows" (the namespace's
 * flow table, as flows show reports it) without a filter, when the
 * namespace has ports.
 *
 * format prometheus: the same counters as metrics (lib/prom.c), on standard
 * output or, with write FILE, in FILE replaced at once (a temporary file in
 * its directory, renamed over it) for node_exporter's textfile collector,
 * which must never read half a file.
 */
#include <errno.h>
#include <libgen.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpfmaps.h"
#include "nl.h"
#include "prom.h"
#include "util.h"
#include "vtapctl.h"

enum stats_format { FMT_TEXT, FMT_JSON, FMT_PROMETHEUS };

static const char *const format_names[] = { "text", "json", "prometheus" };

/*
 * write FILE: the metrics go to a temporary file in FILE's directory
 * (hidden, without the .prom suffix, so that the textfile collector skips
 * it), made before anything else (a file that cannot be written is found
 * before the module is asked), mode 0644 less the umask; when they are
 * all written, flushed and synced, it is renamed over FILE at once.  On
 * any failure it is removed and FILE is left as it was.
 */
struct out_file {
	const char *path;
	char *tmp;
	FILE *f;
};

static int out_file_fail(struct out_file *o, const char *what, int err)
{
	errorf("stats: write %s: %s%s%s", o->path, what, err ? ": " : "",
	       err ? strerror(err) : "");
	return -(err ? err : EINVAL);
}

/* 0, or a negative errno after saying why. */
static int out_file_open(struct out_file *o, const char *path)
{
	char *dcopy = strdup(path), *bcopy = strdup(path);
	struct stat sb;
	mode_t um;
	int fd, err = 0;

	memset(o, 0, sizeof(*o));
	o->path = path;
	if (!dcopy || !bcopy ||
	    asprintf(&o->tmp, "%s/.%s.XXXXXX", dirname(dcopy), basename(bcopy)) < 0) {
		o->tmp = NULL;
		err = out_file_fail(o, "cannot prepare it", ENOMEM);
		goto out;
	}
	/* Never replace a device, a directory or a FIFO (/dev/null...). */
	if (!stat(path, &sb) && !S_ISREG(sb.st_mode)) {
		free(o->tmp);
		o->tmp = NULL;
		err = out_file_fail(o, "not a regular file", 0);
		goto out;
	}
	fd = mkstemp(o->tmp);
	if (fd < 0) {
		err = out_file_fail(o, "cannot create a temporary file in its directory", errno);
		free(o->tmp);
		o->tmp = NULL;
		goto out;
	}
	um = umask(0);
	umask(um);
	if (fchmod(fd, 0644 & ~um) || !(o->f = fdopen(fd, "w"))) {
		err = out_file_fail(o, "cannot write it", errno);
		close(fd);
		unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
	}
out:
	free(dcopy);
	free(bcopy);
	return err;
}

/* Remove the temporary file, if any (FILE stays as it was). */
static void out_file_abort(struct out_file *o)
{
	if (o->f)
		fclose(o->f);
	if (o->tmp) {
		unlink(o->tmp);
		free(o->tmp);
	}
	o->f = NULL;
	o->tmp = NULL;
}

/* Flush, sync, close, rename over FILE: 0 or a negative errno after saying why. */
static int out_file_commit(struct out_file *o)
{
	int err;

	errno = 0;
	if (fflush(o->f) || ferror(o->f) || fsync(fileno(o->f))) {
		err = out_file_fail(o, "cannot write it", errno ? errno : EIO);
		goto fail;
	}
	err = fclose(o->f);
	o->f = NULL;
	if (err) {
		err = out_file_fail(o, "cannot write it", errno);
		goto fail;
	}
	if (rename(o->tmp, o->path)) {
		err = out_file_fail(o, "cannot rename the temporary file over it", errno);
		goto fail;
	}
	free(o->tmp);
	o->tmp = NULL;
	return 0;
fail:
	out_file_abort(o);
	return err;
}

/*
 * The flow table's counters into @fl: 0, 1 if the namespace has no flow
 * maps (no port, or a state made by a vtapctl without flow records), or a
 * negative errno after saying why.
 */
static int read_flows(struct vtap_ns *ns, struct prom_flows *fl)
{
	struct vtap_flow_maps m;
	struct vtap_flow_lost lost;
	char pin[96];
	int err;

	snprintf(pin, sizeof(pin), "%s/flow_cfg", ns->dir);
	if (!ns->exists || access(pin, F_OK))
		return 1;
	err = vtap_flow_maps_open(ns, &m, false);
	if (err)
		return err;
	err = vtap_flow_lost_read(&m, &lost);
	if (err) {
		errorf("stats: cannot read flow_lost: %s", strerror(-err));
	} else {
		fl->limit = __atomic_load_n(&m.cfg->limit, __ATOMIC_RELAXED);
		if (!fl->limit)
			fl->limit = VTAP_FLOWS_DEFAULT_LIMIT;
		fl->used = __atomic_load_n(&m.cfg->used, __ATOMIC_RELAXED);
		fl->lost_packets = lost.packets;
		fl->lost_octets = lost.octets;
		fl->nonip_packets = lost.nonip_packets;
		fl->nonip_octets = lost.nonip_octets;
	}
	vtap_flow_maps_close(&m);
	return err;
}

static void print_flows(const struct prom_flows *fl)
{
	out_open_nested("flows");
	out_u64("limit", "flows limit %llu", fl->limit);
	out_u64("used", " used %llu", fl->used);
	out_open_nested("lost");
	out_u64("packets", " lost packets %llu", fl->lost_packets);
	out_u64("octets", " octets %llu", fl->lost_octets);
	out_u64("nonip_packets", " non-ip packets %llu", fl->nonip_packets);
	out_u64("nonip_octets", " octets %llu", fl->nonip_octets);
	out_close_nested();
	out_close_nested();
	out_text("\n");
}

/* Metrics of the ports in @v (all, or ifindex @only), after the sessions'. */
static int print_metrics(struct out_file *file, bool want_sessions, const struct session_info *sv,
			 int nsv, bool want_ports, const struct vtap_port_ent *v,
			 const struct vtap_port_stats *st, int n, unsigned int only,
			 const struct prom_flows *fl)
{
	char (*vm)[40] = calloc((size_t)n + 1, sizeof(*vm));
	char (*dn)[IF_NAMESIZE] = calloc((size_t)n + 1, sizeof(*dn));
	struct prom_port *pv = calloc((size_t)n + 1, sizeof(*pv));
	int i, npv = 0, rc = VTAP_EXIT_OK;

	if (!pv || !vm || !dn) {
		errorf("stats: %s", strerror(ENOMEM));
		rc = VTAP_EXIT_LIMIT;
		goto out;
	}
	for (i = 0; want_ports && i < n; i++) {
		struct prom_port *pp = &pv[npv];

		if (only && v[i].ifindex != only)
			continue;
		pp->stale = port_stale(&v[i], dn[i]);
		pp->dev = dn[i];
		pp->ifindex = v[i].ifindex;
		pp->id = v[i].p.port_id;
		if (uuid_set(v[i].p.vm_uuid)) {
			format_uuid(v[i].p.vm_uuid, vm[i], sizeof(vm[i]));
			pp->vm = vm[i];
		}
		pp->st = &st[i];
		npv++;
	}
	if (prom_stats(file->f ? file->f : stdout, want_sessions, sv, nsv, want_ports, pv, npv,
		       fl)) {
		errorf("stats: internal error: a bad metric");
		rc = VTAP_EXIT_FAIL;
	} else if (file->f && out_file_commit(file)) {
		rc = VTAP_EXIT_OUTPUT;
	}
out:
	free(pv);
	free(vm);
	free(dn);
	return rc;
}

int do_stats(int argc, char **argv)
{
	const char *session = NULL, *dev = NULL, *file = NULL;
	struct session_info *sv = NULL;
	struct vtap_port_ent *v = NULL;
	struct vtap_port_stats *st = NULL;
	struct out_file of = { 0 };
	struct prom_flows fl = { 0 };
	bool have_flows = false;
	struct vtap_nl nl;
	struct vtap_ns ns;
	unsigned int only = 0;
	int i, rc, err, n = 0, nsv = 0, fmt = -1;
	bool want_sessions, want_ports;

	if (argc == 2 && !strcmp(argv[1], "help")) {
		printf("Usage: vtapctl stats [session NAME] [port DEV] "
		       "[format {text|json|prometheus}] [write FILE]\n");
		return VTAP_EXIT_OK;
	}
	while (argc > 1) {
		NEXT_ARG();
		if (!strcmp(argv[0], "session")) {
			if (session)
				return duparg(argv[0]), VTAP_EXIT_USAGE;
			if (argc < 2)
				return missarg(argv[0]), VTAP_EXIT_USAGE;
			NEXT_ARG();
			if (check_session_name(argv[0]))
				return VTAP_EXIT_USAGE;
			session = argv[0];
		} else if (!strcmp(argv[0], "port")) {
			if (dev)
				return duparg(argv[0]), VTAP_EXIT_USAGE;
			if (argc < 2)
				return missarg(argv[0]), VTAP_EXIT_USAGE;
			NEXT_ARG();
			if (check_dev_name(argv[0]))
				return VTAP_EXIT_USAGE;
			dev = argv[0];
		} else if (!strcmp(argv[0], "format")) {
			if (fmt >= 0)
				return duparg(argv[0]), VTAP_EXIT_USAGE;
			if (argc < 2)
				return missarg(argv[0]), VTAP_EXIT_USAGE;
			NEXT_ARG();
			fmt = parse_keyword(argv[0], format_names, 3);
			if (fmt < 0)
				return invarg("format", argv[0], "text, json or prometheus"),
				       VTAP_EXIT_USAGE;
		} else if (!strcmp(argv[0], "write")) {
			if (file)
				return duparg(argv[0]), VTAP_EXIT_USAGE;
			if (argc < 2)
				return missarg(argv[0]), VTAP_EXIT_USAGE;
			NEXT_ARG();
			if (!*argv[0])
				return invarg("write", argv[0], "a file name"), VTAP_EXIT_USAGE;
			file = argv[0];
		} else {
			unkarg("stats", argv[0]);
			return VTAP_EXIT_USAGE;
		}
	}
	/* -j is format json, and goes with no other format. */
	if (json_output && fmt >= 0 && fmt != FMT_JSON) {
		errorf("stats: format %s: not with -j", format_names[fmt]);
		return VTAP_EXIT_USAGE;
	}
	if (fmt == FMT_JSON)
		json_output = true;
	if (file && fmt != FMT_PROMETHEUS) {
		errorf("stats: write: only with format prometheus");
		return VTAP_EXIT_USAGE;
	}
	/* No filter: everything; a filter: only what it names. */
	want_sessions = session || !dev;
	want_ports = dev || !session;

	if (file && out_file_open(&of, file))
		return VTAP_EXIT_OUTPUT;
	rc = vnl_open_or_explain(&nl);
	if (rc) {
		out_file_abort(&of);
		return rc;
	}
	if (dev) {
		only = dev_ifindex(dev);
		if (!only) {
			out_file_abort(&of);
			vnl_close(&nl);
			return VTAP_EXIT_NOENT;
		}
	}
	/* Gather everything before printing anything. */
	if (want_sessions) {
		err = session_list(&nl, session, &sv, &nsv);
		if (err) {
			out_file_abort(&of);
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
	/* The flow table is the namespace's: without a filter only. */
	if (!session && !dev) {
		err = read_flows(&ns, &fl);
		if (err < 0)
			goto out;
		have_flows = !err;
		err = 0;
	}

	if (fmt == FMT_PROMETHEUS) {
		rc = print_metrics(&of, want_sessions, sv, nsv, want_ports, v, st, n, only,
				   have_flows ? &fl : NULL);
		goto done;
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
	if (have_flows)
		print_flows(&fl);
	if (json_output) {
		out_close_obj();
		putchar('\n');
	}
out:
	rc = vtap_exit_code(err);
done:
	out_file_abort(&of);
	free(st);
	free(v);
	free(sv);
	vtap_ns_close(&ns);
	vnl_close(&nl);
	return rc;
}
