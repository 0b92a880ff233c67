/*
 * fuzz_tree.c: libFuzzer harness for the listing parser (tree.c) and the
 * planner (plan.c) on whatever it parses.  The first byte picks the
 * format (odd: GET) and the options; the rest are lines.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *       -Isrc/lib -Iinclude tests/fuzz/fuzz_tree.c src/lib/tree.c \
 *       src/lib/plan.c src/lib/validate.c src/lib/util.c src/lib/error.c \
 *       src/lib/config.c src/lib/codec.c -lzstd -llz4 -lz -lpthread \
 *       -o fuzz_tree
 *   ./fuzz_tree -max_len=4096 CORPUS_DIR
 */
#include "compat.h"

#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
plan(const struct zf_tree *t, unsigned flags, const char *dst_root)
{
	struct zf_plan_opts o;
	struct zf_plan p;

	memset(&o, 0, sizeof(o));
	o.src_root = "p/r";
	o.dst_root = dst_root;
	o.recursive = true;
	o.force = flags & 2;
	o.delete_target_snapshots = flags & 4;
	o.no_stream = flags & 8;
	o.skip_parent = flags & 16;
	/* the tree is its own target: every rule gets its turn */
	if (zf_plan_make(&p, t, t, &o, NULL) == ZF_OK)
		zf_plan_release(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1,
	           *end = (const char *)data + size;
	const char *nl;
	struct zf_tree *t = NULL;
	enum zf_status r = ZF_OK;

	if (size == 0)
		return 0;
	if (zf_tree_new(&t, "p/r",
	        data[0] & 1 ? ZF_LIST_FORMAT_GET : ZF_LIST_FORMAT_LIST,
	        NULL) != ZF_OK)
		return 0;
	while (p < end && r == ZF_OK) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		r = zf_tree_add_line(t, p, (size_t)(nl - p), NULL);
		p = nl + 1;
	}
	if (r == ZF_OK && zf_tree_finish(t, NULL) == ZF_OK &&
	    zf_tree_find(t, "p/r") != ZF_NONE) {
		plan(t, data[0], "q");
		plan(t, data[0], "p/r/x");
	}
	zf_tree_free(t);
	return 0;
}
