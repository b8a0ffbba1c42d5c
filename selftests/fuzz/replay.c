// SPDX-License-Identifier: GPL-2.0
/*
 * Runs fuzz_decode.c's target on files, without libFuzzer: the seed corpus
 * (selftests/fuzz/corpus/) and every input that once crashed it
 * (selftests/fuzz/regress/), or the files named on the command line.  Built
 * with ASan/UBSan as build/selftests/host/fuzz_decode_replay; prints TAP.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n;

static int run_file(const char *path, const char *name)
{
	FILE *f = fopen(path, "rb");
	long len = -1;
	uint8_t *buf;

	if (f && !fseek(f, 0, SEEK_END))
		len = ftell(f);
	if (len < 0 || fseek(f, 0, SEEK_SET)) {
		printf("not ok %d %s # cannot read\n", ++n, name);
		if (f)
			fclose(f);
		return 1;
	}
	/* Exactly the file's size: ASan catches a read past the end. */
	buf = malloc(len ? (size_t)len : 1);
	if (!buf || (len && fread(buf, (size_t)len, 1, f) != 1)) {
		printf("not ok %d %s # cannot read\n", ++n, name);
		free(buf);
		fclose(f);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	printf("ok %d %s\n", ++n, name);
	fflush(stdout);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *top, const char *sub)
{
	char path[4096], name[512], **v = NULL;
	size_t nv = 0, i;
	struct dirent *de;
	int fail = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", top, sub);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char **nvv;

		if (de->d_name[0] == '.')
			continue;
		nvv = realloc(v, (nv + 1) * sizeof(*v));
		if (!nvv)
			break;
		v = nvv;
		v[nv++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(v, nv, sizeof(*v), cmp);
	for (i = 0; i < nv; i++) {
		if (!v[i])
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", top, sub, v[i]);
		snprintf(name, sizeof(name), "%s/%s", sub, v[i]);
		fail |= run_file(path, name);
		free(v[i]);
	}
	free(v);
	return fail;
}

int main(int argc, char **argv)
{
	int fail = 0, i;

	printf("TAP version 13\n");
	if (argc > 1) {
		for (i = 1; i < argc; i++)
			fail |= run_file(argv[i], argv[i]);
	} else {
		fail |= run_dir(FUZZ_DIR, "corpus");
		fail |= run_dir(FUZZ_DIR, "regress");
	}
	printf("1..%d\n", n);
	return fail;
}
