// SPDX-License-Identifier: GPL-2.0
/* vtapctl collect: pcapng blocks and files (see pcapng.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcapng.h"

#define OPT_ENDOFOPT		0
#define OPT_COMMENT		1
#define SHB_HARDWARE		2
#define SHB_OS			3
#define SHB_USERAPPL		4
#define IF_NAME			2
#define IF_DESCRIPTION		3
#define IF_TSRESOL		9
#define EPB_FLAGS		2
#define EPB_DROPCOUNT		4
#define ISB_STARTTIME		2
#define ISB_ENDTIME		3
#define ISB_IFRECV		4
#define ISB_IFDROP		5

#define PAD4(n)			(((n) + 3) & ~(size_t)3)

void pcapng_buf_free(struct pcapng_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/*
 * A block under construction: bytes are appended after b->len; only
 * block_end() makes them part of the buffer.  Space is reserved up front by
 * block_begin() for the largest size the block can reach.
 */
struct block {
	struct pcapng_buf *b;
	size_t start, pos;
};

static int block_begin(struct block *k, struct pcapng_buf *b, uint32_t type,
		       size_t max)
{
	size_t need = b->len + max + 12;

	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *d;

		while (cap < need)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	k->b = b;
	k->start = b->len;
	k->pos = b->len;
	memcpy(b->data + k->pos, &type, 4);
	k->pos += 8;		/* type, total length (filled by block_end) */
	return 0;
}

static void put(struct block *k, const void *p, size_t n)
{
	memcpy(k->b->data + k->pos, p, n);
	k->pos += n;
}

static void put32(struct block *k, uint32_t v)
{
	put(k, &v, 4);
}

static void put_pad(struct block *k)
{
	while (k->pos & 3)
		k->b->data[k->pos++] = 0;
}

static void opt(struct block *k, uint16_t code, const void *v, size_t n)
{
	uint16_t len = (uint16_t)n;

	put(k, &code, 2);
	put(k, &len, 2);
	put(k, v, n);
	put_pad(k);
}

static size_t str_len(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > PCAPNG_MAX_OPTSTR ? PCAPNG_MAX_OPTSTR : n;
}

/* An option string: omitted if NULL or empty. */
static void opt_str(struct block *k, uint16_t code, const char *s)
{
	size_t n = str_len(s);

	if (n)
		opt(k, code, s, n);
}

static void opt_u64(struct block *k, uint16_t code, uint64_t v)
{
	opt(k, code, &v, 8);
}

/* Room an option string needs at most. */
static size_t str_room(const char *s)
{
	return 4 + PAD4(str_len(s));
}

static void block_end(struct block *k, bool has_opts)
{
	uint32_t total;

	if (has_opts) {
		uint32_t end = OPT_ENDOFOPT;

		put32(k, end);
	}
	total = (uint32_t)(k->pos + 4 - k->start);
	put32(k, total);
	memcpy(k->b->data + k->start + 4, &total, 4);
	k->b->len = k->pos;
}

int pcapng_put_shb(struct pcapng_buf *b, const struct pcapng_shb_info *i)
{
	uint32_t bom = PCAPNG_BOM;
	uint16_t major = 1, minor = 0;
	int64_t section_len = -1;	/* unknown: blocks are streamed */
	struct block k;
	size_t room;
	int err;

	room = 16 + str_room(i->hardware) + str_room(i->os) +
	       str_room(i->userappl) + str_room(i->comment) + 4;
	err = block_begin(&k, b, PCAPNG_BT_SHB, room);
	if (err)
		return err;
	put(&k, &bom, 4);
	put(&k, &major, 2);
	put(&k, &minor, 2);
	put(&k, &section_len, 8);
	opt_str(&k, OPT_COMMENT, i->comment);
	opt_str(&k, SHB_HARDWARE, i->hardware);
	opt_str(&k, SHB_OS, i->os);
	opt_str(&k, SHB_USERAPPL, i->userappl);
	block_end(&k, k.pos > k.start + 24);
	return 0;
}

int pcapng_put_idb(struct pcapng_buf *b, const struct pcapng_idb_info *i)
{
	uint16_t reserved = 0;
	struct block k;
	size_t room;
	int err;

	room = 8 + str_room(i->name) + str_room(i->description) +
	       str_room(i->comment) + 8 + 4;
	err = block_begin(&k, b, PCAPNG_BT_IDB, room);
	if (err)
		return err;
	put(&k, &i->linktype, 2);
	put(&k, &reserved, 2);
	put32(&k, i->snaplen);
	opt_str(&k, OPT_COMMENT, i->comment);
	opt_str(&k, IF_NAME, i->name);
	opt_str(&k, IF_DESCRIPTION, i->description);
	if (i->tsresol)
		opt(&k, IF_TSRESOL, &i->tsresol, 1);
	block_end(&k, k.pos > k.start + 16);
	return 0;
}

int pcapng_put_epb(struct pcapng_buf *b, const struct pcapng_epb_info *i)
{
	struct block k;
	size_t room;
	int err;

	if (i->caplen > PCAPNG_MAX_CAPLEN || i->origlen < i->caplen ||
	    (i->caplen && !i->data))
		return -EINVAL;
	room = 20 + PAD4((size_t)i->caplen) + 8 + 12 + str_room(i->comment) + 4;
	err = block_begin(&k, b, PCAPNG_BT_EPB, room);
	if (err)
		return err;
	put32(&k, i->ifid);
	put32(&k, (uint32_t)(i->ts >> 32));
	put32(&k, (uint32_t)i->ts);
	put32(&k, i->caplen);
	put32(&k, i->origlen);
	if (i->caplen)
		put(&k, i->data, i->caplen);
	put_pad(&k);
	{
		size_t before = k.pos;

		opt_str(&k, OPT_COMMENT, i->comment);
		if (i->flags)
			opt(&k, EPB_FLAGS, &i->flags, 4);
		if (i->has_dropcount)
			opt_u64(&k, EPB_DROPCOUNT, i->dropcount);
		block_end(&k, k.pos > before);
	}
	return 0;
}

int pcapng_put_isb(struct pcapng_buf *b, const struct pcapng_isb_info *i)
{
	struct block k;
	size_t room;
	int err;

	room = 12 + str_room(i->comment) + 4 * 12 + 4;
	err = block_begin(&k, b, PCAPNG_BT_ISB, room);
	if (err)
		return err;
	put32(&k, i->ifid);
	put32(&k, (uint32_t)(i->ts >> 32));
	put32(&k, (uint32_t)i->ts);
	opt_str(&k, OPT_COMMENT, i->comment);
	if (i->has_times) {
		/* Timestamps as two 32-bit halves, high first. */
		uint32_t t[2];

		t[0] = (uint32_t)(i->starttime >> 32);
		t[1] = (uint32_t)i->starttime;
		opt(&k, ISB_STARTTIME, t, 8);
		t[0] = (uint32_t)(i->endtime >> 32);
		t[1] = (uint32_t)i->endtime;
		opt(&k, ISB_ENDTIME, t, 8);
	}
	if (i->has_ifrecv)
		opt_u64(&k, ISB_IFRECV, i->ifrecv);
	if (i->has_ifdrop)
		opt_u64(&k, ISB_IFDROP, i->ifdrop);
	block_end(&k, k.pos > k.start + 20);
	return 0;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Options from @p to @end: each inside, ending with opt_endofopt or at end. */
static int check_opts(const uint8_t *p, const uint8_t *end)
{
	while (end - p >= 4) {
		uint16_t code, len;

		memcpy(&code, p, 2);
		memcpy(&len, p + 2, 2);
		if (code == OPT_ENDOFOPT)
			return len == 0 && end - p == 4 ? 0 : -EINVAL;
		p += 4;
		if ((size_t)(end - p) < PAD4((size_t)len))
			return -EINVAL;
		p += PAD4((size_t)len);
	}
	return p == end ? 0 : -EINVAL;
}

int pcapng_check(const uint8_t *data, size_t len, bool want_shb)
{
	size_t off = 0;
	int n = 0;

	while (off < len) {
		uint32_t type, total, fixed;
		const uint8_t *blk = data + off;

		if (len - off < 12)
			return -EINVAL;
		type = rd32(blk);
		total = rd32(blk + 4);
		if (total < 12 || total % 4 || total > len - off ||
		    rd32(blk + total - 4) != total)
			return -EINVAL;
		if (!n && want_shb && type != PCAPNG_BT_SHB)
			return -EINVAL;
		switch (type) {
		case PCAPNG_BT_SHB:
			fixed = 16;
			if (total < 12 + fixed || rd32(blk + 8) != PCAPNG_BOM)
				return -EINVAL;
			break;
		case PCAPNG_BT_IDB:
			fixed = 8;
			break;
		case PCAPNG_BT_ISB:
			fixed = 12;
			break;
		case PCAPNG_BT_EPB:
			if (total < 32 || rd32(blk + 20) > rd32(blk + 24) ||
			    PAD4((size_t)rd32(blk + 20)) > total - 32)
				return -EINVAL;
			fixed = 20 + (uint32_t)PAD4((size_t)rd32(blk + 20));
			break;
		default:
			return -EINVAL;
		}
		if (total < 12 + fixed ||
		    check_opts(blk + 8 + fixed, blk + total - 4))
			return -EINVAL;
		off += total;
		n++;
	}
	return n;
}

int pcapng_open(struct pcapng_file *f, const char *path, int fd)
{
	struct stat st;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (path) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		f->own = true;
	}
	/* Only a file of ours is cut back after a failed write. */
	f->regular = f->own && !fstat(fd, &st) && S_ISREG(st.st_mode);
	f->fd = fd;
	return 0;
}

uint64_t pcapng_size(const struct pcapng_file *f)
{
	return f->written + f->buf.len;
}

int pcapng_flush(struct pcapng_file *f)
{
	size_t done = 0;
	int err = 0;

	while (done < f->buf.len) {
		ssize_t n = write(f->fd, f->buf.data + done, f->buf.len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (err) {
		/* Leave whole blocks only: cut what this flush wrote. */
		if (f->regular && ftruncate(f->fd, (off_t)f->written) == 0)
			(void)lseek(f->fd, (off_t)f->written, SEEK_SET);
		f->buf.len = 0;
		return err;
	}
	f->written += f->buf.len;
	f->buf.len = 0;
	return 0;
}

int pcapng_close(struct pcapng_file *f)
{
	int err = 0;

	if (f->fd >= 0) {
		err = pcapng_flush(f);
		if (f->own && close(f->fd) && !err)
			err = -errno;
	}
	pcapng_buf_free(&f->buf);
	f->fd = -1;
	return err;
}
