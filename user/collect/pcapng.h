/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vtapctl collect: a pcapng writer (draft-ietf-opsawg-pcapng).
 *
 * Blocks are built whole in memory (struct pcapng_buf: the builders append
 * a complete block or nothing) and written whole (struct pcapng_file): a
 * file only ever ends at a block boundary, also after a failed write, which
 * is cut back to the last complete block.  Little-endian host byte order is
 * what the Section Header Block's byte-order magic announces; readers swap
 * as needed.
 */
#ifndef VTAPCTL_PCAPNG_H
#define VTAPCTL_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCAPNG_BT_SHB		0x0a0d0d0a
#define PCAPNG_BT_IDB		0x00000001
#define PCAPNG_BT_EPB		0x00000006
#define PCAPNG_BT_ISB		0x00000005
#define PCAPNG_BOM		0x1a2b3c4d

#define PCAPNG_LINKTYPE_ETHERNET	1

/* epb_flags: bits 0-1 direction. */
#define PCAPNG_EPB_INBOUND	1
#define PCAPNG_EPB_OUTBOUND	2

/* The largest packet an EPB may carry here (the spec sets no limit). */
#define PCAPNG_MAX_CAPLEN	262144
/* Option strings longer than this are cut. */
#define PCAPNG_MAX_OPTSTR	4096

struct pcapng_buf {
	uint8_t *data;
	size_t len, cap;
};

void pcapng_buf_free(struct pcapng_buf *b);

struct pcapng_shb_info {
	const char *hardware, *os, *userappl, *comment;	/* NULL: omitted */
};

struct pcapng_idb_info {
	uint16_t linktype;
	uint32_t snaplen;		/* 0: no limit */
	const char *name, *description, *comment;	/* NULL: omitted */
	uint8_t tsresol;		/* if_tsresol; 0: omitted (= 6, us) */
};

struct pcapng_epb_info {
	uint32_t ifid;
	uint64_t ts;			/* in units of the interface's if_tsresol */
	const uint8_t *data;
	uint32_t caplen, origlen;	/* origlen >= caplen */
	uint32_t flags;			/* epb_flags, omitted if 0 */
	bool has_dropcount;
	uint64_t dropcount;		/* epb_dropcount */
	const char *comment;		/* NULL: omitted */
};

struct pcapng_isb_info {
	uint32_t ifid;
	uint64_t ts;
	bool has_times;
	uint64_t starttime, endtime;	/* isb_starttime, isb_endtime */
	bool has_ifrecv, has_ifdrop;
	uint64_t ifrecv, ifdrop;
	const char *comment;
};

/*
 * Append one block to @b.  Returns 0, -ENOMEM (nothing appended) or -EINVAL
 * (caplen > PCAPNG_MAX_CAPLEN or origlen < caplen: nothing appended).
 */
int pcapng_put_shb(struct pcapng_buf *b, const struct pcapng_shb_info *i);
int pcapng_put_idb(struct pcapng_buf *b, const struct pcapng_idb_info *i);
int pcapng_put_epb(struct pcapng_buf *b, const struct pcapng_epb_info *i);
int pcapng_put_isb(struct pcapng_buf *b, const struct pcapng_isb_info *i);

/*
 * Check that @data holds whole, well-formed blocks (lengths match at both
 * ends, multiples of 4, options inside their block); the first must be an
 * SHB if @want_shb.  Returns the number of blocks, or -EINVAL.  For tests
 * and the fuzzer.
 */
int pcapng_check(const uint8_t *data, size_t len, bool want_shb);

struct pcapng_file {
	int fd;
	bool own;			/* opened here: closed by pcapng_close() */
	bool regular;			/* cut back after a failed write */
	uint64_t written;		/* bytes in the file: whole blocks */
	struct pcapng_buf buf;		/* whole blocks still to write */
};

/*
 * Create (truncate) @path, mode 0644, or with @path NULL use @fd (a pipe,
 * stdout: not closed by pcapng_close).  Returns 0 or a negative errno.
 */
int pcapng_open(struct pcapng_file *f, const char *path, int fd);
/* Bytes in the file once the buffer is written. */
uint64_t pcapng_size(const struct pcapng_file *f);
/* Write the buffered blocks.  On failure the file ends at the last whole block. */
int pcapng_flush(struct pcapng_file *f);
/* Flush, close; returns the first error. */
int pcapng_close(struct pcapng_file *f);

#endif
