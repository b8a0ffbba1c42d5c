// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for vtapctl collect's decoder (user/collect/decode.c: every input
 * as an IP packet, as a GRE packet and as a VXLAN UDP payload) and what
 * consumes its output: the pcapng blocks built from a decoded frame
 * (user/collect/pcapng.c), ERSPAN III time reconstruction, and GRE sequence
 * accounting fed with the input read as 32-bit sequence numbers.
 *
 *   make fuzz                    a bounded run (FUZZ_TIME=60 seconds)
 *   build/fuzz/fuzz_decode FILE  reproduce one input
 *
 * The same file, built with replay.c instead of libFuzzer, runs the seed
 * corpus and every input that once crashed (selftests/fuzz/regress/) in the
 * host tier of the test suite.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../user/collect/decode.h"
#include "../../user/collect/pcapng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

static void check_pkt(const uint8_t *data, size_t size, int err,
		      const struct vtap_pkt *p)
{
	static const uint64_t arrivals[] = {
		0, 1, 1700000000123456789ULL, UINT64_MAX / 2, UINT64_MAX,
	};
	struct pcapng_epb_info epb;
	struct pcapng_idb_info idb = { .linktype = 1, .name = "vtap-s1", .tsresol = 9 };
	struct pcapng_buf b = { 0 };
	size_t i;
	uint64_t ns;

	CHECK(err >= 0 && err < VTAP_DEC_NERR);
	CHECK(vtap_decode_strerror(err) != NULL);
	if (err) {
		CHECK(p->frame == NULL && p->frame_len == 0);
		return;
	}
	/* The frame lies inside the input, at least an Ethernet header. */
	CHECK(p->frame >= data && p->frame + p->frame_len <= data + size);
	CHECK(p->frame_len >= VTAP_ETH_HLEN);
	CHECK(p->orig_len >= p->frame_len);
	CHECK(p->encap >= VTAP_PKT_GRE && p->encap <= VTAP_PKT_VXLAN);
	CHECK(!p->has_session || p->encap != VTAP_PKT_GRE || p->has_key);
	CHECK(p->session <= 0x3ff || p->encap == VTAP_PKT_GRE ||
	      (p->encap == VTAP_PKT_VXLAN && p->session <= 0xffffff));
	/* VXLAN: always a VNI, never a sequence number nor a T bit. */
	CHECK(p->encap != VTAP_PKT_VXLAN ||
	      (p->has_session && !p->has_seq && !p->truncated &&
	       p->frame == data + 8 && p->frame_len == size - 8));
	CHECK(!p->has_dir || p->encap == VTAP_PKT_ERSPAN3);
	for (i = 0; i < sizeof(arrivals) / sizeof(arrivals[0]); i++)
		if (vtap_pkt_time(p, arrivals[i], &ns))
			CHECK(p->encap == VTAP_PKT_ERSPAN3);

	/* What the collector would write: well-formed blocks. */
	memset(&epb, 0, sizeof(epb));
	epb.ts = p->timestamp;
	epb.data = p->frame;
	epb.caplen = p->frame_len;
	epb.origlen = p->orig_len;
	epb.flags = p->has_dir ? 1 + p->dir : 0;
	epb.comment = p->truncated ? "vtap: truncated by the sender" : NULL;
	CHECK(pcapng_put_idb(&b, &idb) == 0);
	CHECK(pcapng_put_epb(&b, &epb) == 0);
	CHECK(pcapng_check(b.data, b.len, false) == 2);
	pcapng_buf_free(&b);
}

static void check_seq(const uint8_t *data, size_t size)
{
	uint64_t n = 0, verdicts[6] = { 0 }, missing_sum = 0;
	struct vtap_seq s;
	size_t i;

	vtap_seq_init(&s);
	for (i = 0; i + 4 <= size; i += 4) {
		uint32_t seq, missing;
		int v;

		/* Small steps are more interesting than random 32-bit values. */
		seq = (uint32_t)data[i] << 24 | (uint32_t)data[i + 1] << 16 |
		      (uint32_t)data[i + 2] << 8 | data[i + 3];
		if (data[i] & 0x80)
			seq = s.next + (uint32_t)(int8_t)data[i + 3];
		v = vtap_seq_update(&s, seq, &missing);
		CHECK(v >= VTAP_SEQ_FIRST && v <= VTAP_SEQ_LATE);
		CHECK((v == VTAP_SEQ_GAP) == (missing != 0));
		verdicts[v]++;
		missing_sum += missing;
		n++;
	}
	CHECK(s.lost <= missing_sum);
	CHECK(s.reordered == verdicts[VTAP_SEQ_REORDERED] + verdicts[VTAP_SEQ_LATE]);
	CHECK(s.duplicates == verdicts[VTAP_SEQ_DUPLICATE]);
	CHECK(s.gaps == verdicts[VTAP_SEQ_GAP]);
	CHECK(verdicts[VTAP_SEQ_FIRST] == (n ? 1 : 0) + s.resets);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vtap_pkt p;
	int err;

	err = vtap_decode_ip(data, size, &p);
	check_pkt(data, size, err, &p);
	err = vtap_decode_gre(data, size, &p);
	check_pkt(data, size, err, &p);
	err = vtap_decode_vxlan(data, size, &p);
	check_pkt(data, size, err, &p);
	CHECK(err || p.encap == VTAP_PKT_VXLAN);
	check_seq(data, size);
	return 0;
}
