// SPDX-License-Identifier: GPL-2.0
/*
 * tapwrite: a VM's vNIC writing frames, for tools/bench/guest_bench.sh.
 *
 *   tapwrite DEV COUNT SIZE
 *
 * Opens tap DEV (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, non-blocking, as
 * vhost-net and QEMU open theirs) and writes COUNT UDP frames of SIZE bytes
 * with an empty virtio_net_hdr, one write() each: tun builds each one in a
 * single buffer (tun_build_skb()) and runs native XDP on it, then hands it
 * to the stack in the writer's context, so the writer's rate is what a
 * frame costs the VM, mirror copies included.  Prints "PPS" (frames per
 * second over the whole run).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static uint16_t ip_csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

int main(int argc, char **argv)
{
	struct virtio_net_hdr vh;
	struct timespec t0, t1;
	struct ifreq ifr;
	uint8_t frame[9000];
	unsigned long count, i, again = 0;
	size_t size;
	double secs;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: tapwrite DEV COUNT SIZE\n");
		return 2;
	}
	count = strtoul(argv[2], NULL, 10);
	size = strtoul(argv[3], NULL, 10);
	if (size < 42 || size > sizeof(frame) || !count) {
		fprintf(stderr, "tapwrite: SIZE is 42 to %zu, COUNT at least 1\n", sizeof(frame));
		return 2;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
	if (fd < 0) {
		perror("tapwrite: /dev/net/tun");
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		perror("tapwrite: TUNSETIFF");
		return 1;
	}

	/* 02:00:00:00:0b:01 > 02:00:00:00:0b:02, 192.0.2.11 > 192.0.2.12 UDP 9. */
	memset(frame, 0, sizeof(frame));
	memcpy(frame, "\x02\x00\x00\x00\x0b\x02\x02\x00\x00\x00\x0b\x01\x08\x00", 14);
	frame[14] = 0x45;
	frame[16] = (uint8_t)((size - 14) >> 8);
	frame[17] = (uint8_t)(size - 14);
	frame[22] = 64;
	frame[23] = 17;
	memcpy(frame + 26, "\xc0\x00\x02\x0b\xc0\x00\x02\x0c", 8);
	{
		uint16_t c = ip_csum(frame + 14, 20);

		frame[24] = (uint8_t)(c >> 8);
		frame[25] = (uint8_t)c;
	}
	frame[34] = 0x9c;
	frame[35] = 0x41;
	frame[37] = 9;
	frame[38] = (uint8_t)((size - 34) >> 8);
	frame[39] = (uint8_t)(size - 34);
	memset(&vh, 0, sizeof(vh));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < count; ) {
		struct iovec iov[2] = {
			{ .iov_base = &vh, .iov_len = sizeof(vh) },
			{ .iov_base = frame, .iov_len = size },
		};

		if (writev(fd, iov, 2) < 0) {
			if (errno == EAGAIN || errno == ENOBUFS) {
				again++;
				continue;
			}
			perror("tapwrite: write");
			return 1;
		}
		i++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%.0f\n", (double)count / (secs > 0 ? secs : 1e-9));
	if (again)
		fprintf(stderr, "tapwrite: %lu writes retried\n", again);
	close(fd);
	return 0;
}
