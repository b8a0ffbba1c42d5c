// SPDX-License-Identifier: GPL-2.0
/*
 * tapvm: a tiny "VM NIC" for tests of tap-based VMs, without a VM.
 *
 *   tapvm [--host-ns PATH] --host-tap NAME [--vm-ns PATH] --vm-dev NAME
 *         [--mac MAC] [--host-mac MAC] [--pidfile PATH]
 *
 * A hypervisor holds one end of a tap device (the VM's vNIC as the host sees
 * it) and moves frames between it and the VM.  tapvm does the same with a
 * network namespace as the "VM": it opens tap NAME in the host namespace
 * (--host-tap, what a bridge or vtap attaches to) and a second tap device in
 * the VM namespace (--vm-dev, the VM's own NIC, which its "kernel" -- that
 * namespace's stack -- sends and receives through), brings both up and
 * relays frames between the two file descriptors until SIGTERM or SIGINT.
 *
 * Frames pass byte for byte: IFF_TAP | IFF_NO_PI, no vnet header, no
 * offloads, so the VM's stack completes every checksum and segments every
 * packet before tapvm sees it, as with a plain virtio-net without offloads.
 * Both taps exist only while tapvm runs (not persistent): stopping tapvm is
 * the VM's vNIC going away.
 *
 * Namespaces are given as paths (/run/netns/NAME, /proc/PID/ns/net); either
 * defaults to tapvm's own.  Prints "ready" on stdout once both devices are
 * up, and on exit a summary of what it relayed on stderr.  Exit status 0
 * after a signal, 1 on a setup or I/O error, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define FRAME_MAX	65536	/* IFF_NO_PI tap: one frame per read, at most 64 KiB */

struct tap {
	const char *what;	/* "host" or "vm", for messages */
	const char *ns;		/* namespace path, NULL for our own */
	const char *name;
	int fd;
	uint64_t frames, bytes, errors;	/* read from this tap and relayed */
};

static const char *prog = "tapvm";

static void __attribute__((format(printf, 1, 2))) err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [--host-ns PATH] --host-tap NAME [--vm-ns PATH] --vm-dev NAME\n"
		"             [--mac MAC] [--host-mac MAC] [--pidfile PATH]\n"
		"Opens tap NAME in the host namespace and tap device --vm-dev (the VM's NIC,\n"
		"with MAC) in the VM namespace, and relays frames between them until SIGTERM.\n"
		"--host-mac sets the host tap's MAC after it is created, as libvirt does\n"
		"(the guest's MAC with the first octet 0xfe).\n"
		"Prints \"ready\" when both are up.\n", prog);
}

static int parse_mac(const char *s, unsigned char mac[6])
{
	unsigned int b[6];
	char end;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (unsigned char)b[i];
	if (mac[0] & 1)		/* a multicast address cannot be a NIC's */
		return -1;
	return 0;
}

/* Enter the namespace at @path, or go back to @self when @path is NULL. */
static int enter_ns(const char *path, int self)
{
	int fd, rc;

	if (!path)
		return setns(self, CLONE_NEWNET);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err("%s: %s", path, strerror(errno));
		return -1;
	}
	rc = setns(fd, CLONE_NEWNET);
	if (rc)
		err("setns %s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

/*
 * Create tap @t->name in the current namespace, optionally set its MAC, and
 * bring it up.  The socket for the interface ioctls is made here, so that it
 * belongs to the same namespace as the device.
 */
static int open_tap(struct tap *t, const unsigned char *mac)
{
	struct ifreq ifr;
	int sk = -1;

	if (strlen(t->name) >= IFNAMSIZ) {
		err("%s: device name too long (at most %d characters)", t->name,
		    IFNAMSIZ - 1);
		return -1;
	}
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		err("/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	strncpy(ifr.ifr_name, t->name, IFNAMSIZ - 1);
	if (ioctl(t->fd, TUNSETIFF, &ifr)) {
		int e = errno;

		err("%s tap %s: TUNSETIFF: %s%s", t->what, t->name, strerror(e),
		    e == EBUSY || e == EINVAL ?
		    " (a device of that name exists already?)" : "");
		return -1;
	}
	/* No offloads: the stack hands us complete, segmented frames. */
	if (ioctl(t->fd, TUNSETOFFLOAD, 0UL)) {
		err("%s tap %s: TUNSETOFFLOAD: %s", t->what, t->name, strerror(errno));
		return -1;
	}
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0) {
		err("socket: %s", strerror(errno));
		return -1;
	}
	if (mac) {
		memset(&ifr, 0, sizeof(ifr));
		strncpy(ifr.ifr_name, t->name, IFNAMSIZ - 1);
		ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
		memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
		if (ioctl(sk, SIOCSIFHWADDR, &ifr)) {
			err("%s tap %s: set MAC: %s", t->what, t->name, strerror(errno));
			goto fail;
		}
	}
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, t->name, IFNAMSIZ - 1);
	if (ioctl(sk, SIOCGIFFLAGS, &ifr)) {
		err("%s tap %s: get flags: %s", t->what, t->name, strerror(errno));
		goto fail;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sk, SIOCSIFFLAGS, &ifr)) {
		err("%s tap %s: set up: %s", t->what, t->name, strerror(errno));
		goto fail;
	}
	close(sk);
	return 0;
fail:
	close(sk);
	return -1;
}

/*
 * Move the frames waiting on @from to @to, at most RELAY_BATCH so that the
 * other direction gets its turn.  A frame the other side refuses is counted
 * and dropped, like a NIC whose peer is not ready; returns -1 only when
 * @from itself fails (the device went away).
 */
#define RELAY_BATCH	64

static int relay(struct tap *from, struct tap *to, unsigned char *buf)
{
	ssize_t n, w;
	int i;

	for (i = 0; i < RELAY_BATCH; i++) {
		n = read(from->fd, buf, FRAME_MAX);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			err("read from %s tap %s: %s", from->what, from->name,
			    strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		w = write(to->fd, buf, (size_t)n);
		if (w != n) {
			if (from->errors++ == 0)
				err("write to %s tap %s: %s (counting further drops)",
				    to->what, to->name, w < 0 ? strerror(errno) : "short write");
			continue;
		}
		from->frames++;
		from->bytes += (uint64_t)n;
	}
	return 0;
}

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f) {
		err("%s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f)) {
		err("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Relay between the two taps until a stop signal; 0, or -1 on an error. */
static int run(struct tap *host, struct tap *vm, const sigset_t *waitmask)
{
	unsigned char *buf = malloc(FRAME_MAX);
	struct pollfd pfd[2];
	int rc = 0;

	if (!buf) {
		err("out of memory");
		return -1;
	}
	pfd[0] = (struct pollfd){ .fd = host->fd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = vm->fd, .events = POLLIN };
	while (!stop_signal) {
		if (ppoll(pfd, 2, NULL, waitmask) < 0) {
			if (errno == EINTR)
				continue;
			err("poll: %s", strerror(errno));
			rc = -1;
			break;
		}
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL) ||
		    pfd[1].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			err("a tap device went away");
			rc = -1;
			break;
		}
		/* VM -> host: what the VM sends arrives on the host's tap. */
		if ((pfd[1].revents & POLLIN) && relay(vm, host, buf)) {
			rc = -1;
			break;
		}
		/* host -> VM: what the host sends on its tap reaches the VM. */
		if ((pfd[0].revents & POLLIN) && relay(host, vm, buf)) {
			rc = -1;
			break;
		}
	}
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host-ns",	required_argument, NULL, 'H' },
		{ "host-tap",	required_argument, NULL, 'h' },
		{ "vm-ns",	required_argument, NULL, 'V' },
		{ "vm-dev",	required_argument, NULL, 'v' },
		{ "mac",	required_argument, NULL, 'm' },
		{ "host-mac",	required_argument, NULL, 'M' },
		{ "pidfile",	required_argument, NULL, 'p' },
		{ "help",	no_argument,       NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct tap host = { .what = "host", .fd = -1 };
	struct tap vm = { .what = "vm", .fd = -1 };
	struct sigaction sa;
	const char *pidfile = NULL;
	unsigned char mac[6], host_mac[6];
	bool have_mac = false, have_host_mac = false;
	sigset_t block, waitmask;
	bool wrote_pidfile = false;
	int self = -1, rc = 1, c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'H': host.ns = optarg; break;
		case 'h': host.name = optarg; break;
		case 'V': vm.ns = optarg; break;
		case 'v': vm.name = optarg; break;
		case 'p': pidfile = optarg; break;
		case 'm':
			if (parse_mac(optarg, mac)) {
				err("--mac: '%s' is not a unicast MAC address (aa:bb:cc:dd:ee:ff)",
				    optarg);
				return 2;
			}
			have_mac = true;
			break;
		case 'M':
			if (parse_mac(optarg, host_mac)) {
				err("--host-mac: '%s' is not a unicast MAC address (aa:bb:cc:dd:ee:ff)",
				    optarg);
				return 2;
			}
			have_host_mac = true;
			break;
		case 'u':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !host.name || !vm.name) {
		if (optind != argc)
			err("unexpected argument '%s'", argv[optind]);
		else
			err("--host-tap and --vm-dev are required");
		usage(stderr);
		return 2;
	}

	/*
	 * SIGTERM and SIGINT stay blocked except inside ppoll(), so that a
	 * stop request never falls between the check and the wait.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	if (sigprocmask(SIG_BLOCK, &block, &waitmask)) {
		err("sigprocmask: %s", strerror(errno));
		return 1;
	}
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL)) {
		err("sigaction: %s", strerror(errno));
		return 1;
	}

	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		err("/proc/self/ns/net: %s", strerror(errno));
		return 1;
	}
	if (enter_ns(host.ns, self) || open_tap(&host, have_host_mac ? host_mac : NULL) ||
	    enter_ns(vm.ns, self) || open_tap(&vm, have_mac ? mac : NULL) ||
	    enter_ns(NULL, self))
		goto out;
	if (pidfile) {
		if (write_pidfile(pidfile))
			goto out;
		wrote_pidfile = true;
	}
	printf("ready\n");
	if (fflush(stdout)) {
		err("stdout: %s", strerror(errno));
		goto out;
	}
	if (run(&host, &vm, &waitmask) == 0)
		rc = 0;
	fprintf(stderr, "%s: %s: vm->host %llu frames %llu bytes (%llu dropped), "
		"host->vm %llu frames %llu bytes (%llu dropped)\n", prog,
		rc ? "stopped on error" : "stopped",
		(unsigned long long)vm.frames, (unsigned long long)vm.bytes,
		(unsigned long long)vm.errors, (unsigned long long)host.frames,
		(unsigned long long)host.bytes, (unsigned long long)host.errors);
out:
	if (wrote_pidfile)
		unlink(pidfile);
	if (vm.fd >= 0)
		close(vm.fd);
	if (host.fd >= 0)
		close(host.fd);
	close(self);
	return rc;
}
