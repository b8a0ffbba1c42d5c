// SPDX-License-Identifier: GPL-2.0
/*
 * vtapctl daemon: apply a configuration file, then keep this network
 * namespace in line with it as VMs' devices come and go.
 *
 *   rtnetlink (RTMGRP_LINK)  a device appeared, changed (name, MAC, alias)
 *                            or went: the ports are brought in line at once
 *                            (apply.c, APPLY_PORTS): a VM's new tap gets its
 *                            port id, flows and rules before the event after
 *                            it is read, and a vanished tap's port is removed.
 *   vtap's "events" group    a session was added, changed or deleted by
 *                            someone else: everything is applied again.
 *   SIGHUP                   the file is read again; a file with an error is
 *                            refused as a whole and the last good one stays.
 *   SIGTERM, SIGINT          exit; the state stays as configured, or with
 *                            "cleanup" it is removed first.
 *
 * One line per change on stderr (with a syslog priority prefix when stderr
 * is the journal), sd_notify(3) readiness when started by systemd.  The
 * data path never waits for the daemon: it only writes maps and sessions.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/socket.h>

#include "apply.h"
#include "conf.h"
#include "util.h"
#include "vtapctl.h"

#define DEFAULT_CONF	"/etc/vtap/vtap.conf"

static bool journal;

static void daemon_log(bool error, const char *line)
{
	if (journal)
		fprintf(stderr, "<%d>%s\n", error ? 3 : 6, line);
	else
		fprintf(stderr, "vtapctl daemon: %s%s\n", error ? "error: " : "", line);
	fflush(stderr);
}

static void logf_(bool error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_(bool error, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	daemon_log(error, line);
}

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = 0;	/* abstract */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	close(fd);
}

static int open_rtnl(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd, sz = 1 << 20;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* vtap's events group, for sessions changed behind the daemon's back. */
static struct nl_sock *open_events(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int grp;

	if (!sk)
		return NULL;
	if (genl_connect(sk))
		goto fail;
	grp = genl_ctrl_resolve_grp(sk, VTAP_GENL_NAME, VTAP_MCGRP_EVENTS);
	if (grp < 0 || nl_socket_add_membership(sk, grp))
		goto fail;
	nl_socket_set_nonblocking(sk);
	return sk;
fail:
	nl_socket_free(sk);
	return NULL;
}

/*
 * Read everything queued on @fd; returns the number of link messages
 * (RTM_NEWLINK, RTM_DELLINK), or -ENOBUFS when the kernel had to drop
 * some (then only a full look tells the truth, which apply does anyway).
 */
static int drain(int fd, bool rtnl)
{
	char buf[16384];
	int n = 0, overrun = 0;

	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *h;

		if (len < 0) {
			if (errno == ENOBUFS) {
				overrun = 1;
				continue;
			}
			break;
		}
		if (!rtnl) {
			n++;
			continue;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len))
			if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK)
				n++;
	}
	return overrun ? -ENOBUFS : n;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: vtapctl daemon [config FILE] [cleanup]\n\n"
		   "FILE defaults to " DEFAULT_CONF "; cleanup: remove the configured\n"
		   "state on SIGTERM/SIGINT instead of leaving it.\n");
}

int do_daemon(int argc, char **argv)
{
	const char *path = DEFAULT_CONF;
	struct vtap_conf conf, next;
	struct nl_sock *ev = NULL;
	struct pollfd pfd[3];
	bool cleanup = false, have_path = false;
	int rtnl, sfd, i, n, rc = VTAP_EXIT_OK;
	sigset_t mask;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "help") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return VTAP_EXIT_OK;
		} else if (!strcmp(argv[i], "config") && i + 1 < argc && !have_path) {
			path = argv[++i];
			have_path = true;
		} else if (!strcmp(argv[i], "cleanup") && !cleanup) {
			cleanup = true;
		} else {
			errorf("daemon: unexpected '%s'", argv[i]);
			usage(stderr);
			return VTAP_EXIT_USAGE;
		}
	}
	journal = getenv("JOURNAL_STREAM") != NULL;
	apply_log = daemon_log;
	if (conf_load(path, &conf))
		return VTAP_EXIT_USAGE;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	/* Listen before the first look: no device can slip in between. */
	rtnl = open_rtnl();
	ev = open_events();
	if (sfd < 0 || rtnl < 0 || !ev) {
		errorf("daemon: %s", !ev ? "vtap.ko is not loaded (modprobe vtap)" :
		       "cannot open the netlink sockets");
		rc = !ev ? VTAP_EXIT_NOMODULE : VTAP_EXIT_FAIL;
		goto out;
	}
	n = apply_conf(&conf, APPLY_ALL, false);
	logf_(n < 0, "started with %s: %s", path,
	      n < 0 ? "not all of it could be applied" : n ? "applied" : "no change");
	notify("READY=1");

	pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = rtnl, .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = nl_socket_get_fd(ev), .events = POLLIN };
	for (;;) {
		struct signalfd_siginfo si;
		bool all = false, ports = false;

		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			logf_(true, "poll: %s", strerror(errno));
			rc = VTAP_EXIT_FAIL;
			break;
		}
		if (pfd[0].revents && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo != SIGHUP)
				break;
			notify("RELOADING=1");
			if (conf_load(path, &next)) {
				logf_(true, "reload of %s refused: keeping the last good "
				      "configuration", path);
			} else {
				conf_free(&conf);
				conf = next;
				logf_(false, "reloaded %s", path);
				all = true;
			}
			notify("READY=1");
		}
		if (pfd[1].revents) {
			n = drain(rtnl, true);
			if (n == -ENOBUFS)
				logf_(true, "rtnetlink overrun: looking at every device");
			ports = n != 0;
		}
		if (pfd[2].revents && drain(nl_socket_get_fd(ev), false) > 0)
			all = true;
		if (all || ports)
			apply_conf(&conf, all ? APPLY_ALL : APPLY_PORTS, false);
	}
	notify("STOPPING=1");
	if (cleanup) {
		struct vtap_conf empty;

		memset(&empty, 0, sizeof(empty));
		empty.path = (char *)"an empty configuration (cleanup)";
		logf_(false, "stopping: removing the configured state");
		apply_conf(&empty, APPLY_ALL, false);
	} else {
		logf_(false, "stopping: the configured state stays");
	}
out:
	if (ev)
		nl_socket_free(ev);
	if (rtnl >= 0)
		close(rtnl);
	if (sfd >= 0)
		close(sfd);
	conf_free(&conf);
	return rc;
}
