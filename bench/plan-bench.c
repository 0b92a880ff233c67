/*
 * plan-bench: parses a synthetic "zfs list -Hp" listing of 10,000 datasets
 * with 100 snapshots each for the source and one for a target that holds
 * most of them, and plans the recursive sync between the two.
 *
 *   plan-bench [NDATASETS [NSNAPS]]     (BENCH_PLAN_REPS: runs, default 3)
 *
 * The listings are in the order "zfs list -s createtxg" prints after
 * recursive snapshots: the datasets, then every dataset's first snapshot,
 * every dataset's second one, and so on, so that consecutive lines name
 * different datasets (with BENCH_PLAN_GROUPED set, each dataset's
 * snapshots come together instead).  They are made 64 KiB at a time, as a pipe
 * from zfs would deliver them; making them is not timed, splitting them into
 * lines, parsing, finishing the trees and planning is (CLOCK_MONOTONIC).  The
 * peak RSS is that of the whole process (VmHWM).  The machine this runs on
 * is assumed busy: the best of BENCH_PLAN_REPS runs is reported.
 *
 * Prints '#' lines that say what was measured, then
 *   plan_10k_seconds=S
 *   plan_10k_peak_rss_mib=M
 */
#include "compat.h"

#include <sys/resource.h>
#include <time.h>

#include "plan.h"

#define CHUNK (64 * 1024)

static uint64_t
mix(uint64_t x)
{
	/* splitmix64: guids that look random and never repeat */
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return (x ^ (x >> 31)) | 1;
}

struct gen {
	const char *root;
	size_t nds, nsnaps;
	bool target;
	size_t next; /* line number to make */
	bool grouped; /* each dataset's snapshots together */
};

/* Dataset i: the root, then 100 groups, then the groups' children. */
static int
ds_name(char *out, size_t n, const struct gen *g, size_t i)
{
	size_t ngroups = 100;

	if (i == 0)
		return snprintf(out, n, "%s", g->root);
	if (i <= ngroups)
		return snprintf(out, n, "%s/grp%03zu", g->root, i - 1);
	return snprintf(out, n, "%s/grp%03zu/fs%05zu", g->root,
	    (i - 1 - ngroups) % ngroups, i);
}

/*
 * What the target holds: 5% of the datasets not at all, a third of the
 * rest up to date, the others all but the last ten snapshots.
 */
static bool
target_lacks(size_t i)
{
	return i > 100 && i % 20 == 7;
}

static bool
target_has(size_t i, size_t k, size_t nsnaps)
{
	return !target_lacks(i) && (i % 3 == 0 || k + 10 < nsnaps);
}

/* Appends the next lines to buf up to about CHUNK bytes; false at the end. */
static bool
gen_chunk(struct gen *g, char *buf, size_t *len)
{
	size_t total = g->nds + g->nds * g->nsnaps;
	char name[256];
	int n;

	*len = 0;
	while (g->next < total && *len + 600 < CHUNK) {
		size_t l = g->next++;
		size_t i, k;

		if (l < g->nds) {
			i = l;
			if (g->target && target_lacks(i))
				continue;
			ds_name(name, sizeof(name), g, i);
			n = snprintf(buf + *len, CHUNK - *len,
			    "%s\tfilesystem\t%" PRIu64 "\t%zu\t-\t%s\t-\n",
			    name, mix(i * 7 + g->target), 10 + i,
			    g->target ? "0" : "123904");
		} else {
			l -= g->nds;
			k = l / g->nds;
			i = l % g->nds;
			if (g->grouped) {
				i = l / g->nsnaps;
				k = l % g->nsnaps;
			}
			if (g->target && !target_has(i, k, g->nsnaps))
				continue;
			ds_name(name, sizeof(name), g, i);
			n = snprintf(buf + *len, CHUNK - *len,
			    "%s@autosnap_2024-01-%02zu_%02zu:00:00_hourly\t"
			    "snapshot\t%" PRIu64 "\t%zu\t-\t%zu\t-\n",
			    name, 1 + k / 24, k % 24, mix(i << 20 | k),
			    100000 + k * 10 + (g->target ? 5 : 0),
			    (size_t)4096 * (k + 1));
		}
		*len += (size_t)n;
	}
	return *len > 0;
}

/* CPU time of this process: the wall time of a busy machine misleads. */
static uint64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double
secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* Parses a generated listing; returns the time spent in zferry's code. */
static uint64_t
parse(struct zf_tree **tp, struct gen *g, size_t *nlines, uint64_t *cpu)
{
	static char buf[CHUNK];
	struct zf_error err;
	uint64_t spent = 0, t0, c0;
	size_t len;

	zf_error_clear(&err);
	if (zf_tree_new(tp, g->root, ZF_LIST_FORMAT_LIST, &err) != ZF_OK)
		goto fail;
	while (gen_chunk(g, buf, &len)) {
		const char *p = buf, *end = buf + len, *nl;

		t0 = zf_now_ns();
		c0 = cpu_ns();
		for (; p < end; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(end - p));
			if (zf_tree_add_line(*tp, p, (size_t)(nl - p), &err) !=
			    ZF_OK)
				goto fail;
			(*nlines)++;
		}
		spent += zf_now_ns() - t0;
		*cpu += cpu_ns() - c0;
	}
	t0 = zf_now_ns();
	c0 = cpu_ns();
	if (zf_tree_finish(*tp, &err) != ZF_OK)
		goto fail;
	*cpu += cpu_ns() - c0;
	return spent + zf_now_ns() - t0;
fail:
	fprintf(stderr, "plan-bench: %s\n", err.msg);
	exit(1);
}

static long
peak_rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	struct rusage ru;

	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "VmHWM:", 6) == 0)
				kib = strtol(line + 6, NULL, 10);
		fclose(f);
	}
	if (kib < 0 && getrusage(RUSAGE_SELF, &ru) == 0)
		kib = ru.ru_maxrss;
	return kib;
}

struct run {
	uint64_t src, dst, plan; /* wall time of each part */
	uint64_t cpu;
	size_t nsrc, ndst, nsteps, kinds[5];
};

static void
run_once(size_t nds, size_t nsnaps, struct run *r)
{
	struct gen src = {"tank/src", nds, nsnaps, false, 0};
	struct gen dst = {"back/src", nds, nsnaps, true, 0};
	struct zf_tree *st = NULL, *dt = NULL;
	struct zf_plan_opts o;
	struct zf_plan plan;
	struct zf_error err;
	uint64_t t0, c0;
	size_t i;

	memset(r, 0, sizeof(*r));
	src.grouped = dst.grouped = getenv("BENCH_PLAN_GROUPED") != NULL;
	r->src = parse(&st, &src, &r->nsrc, &r->cpu);
	r->dst = parse(&dt, &dst, &r->ndst, &r->cpu);
	memset(&o, 0, sizeof(o));
	o.src_root = src.root;
	o.dst_root = dst.root;
	o.recursive = true;
	zf_error_clear(&err);
	t0 = zf_now_ns();
	c0 = cpu_ns();
	if (zf_plan_make(&plan, st, dt, &o, &err) != ZF_OK) {
		fprintf(stderr, "plan-bench: %s\n", err.msg);
		exit(1);
	}
	r->plan = zf_now_ns() - t0;
	r->cpu += cpu_ns() - c0;
	r->nsteps = plan.nsteps;
	for (i = 0; i < plan.nsteps; i++)
		r->kinds[plan.steps[i].kind]++;
	zf_plan_release(&plan);
	zf_tree_free(st);
	zf_tree_free(dt);
}

int
main(int argc, char **argv)
{
	size_t nds = 10001, nsnaps = 100, reps = 3, i;
	const char *env = getenv("BENCH_PLAN_REPS");
	struct run r, best;
	uint64_t best_cpu = UINT64_MAX;

	if (argc > 1)
		nds = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		nsnaps = strtoul(argv[2], NULL, 10);
	if (env != NULL && strtoul(env, NULL, 10) > 0)
		reps = strtoul(env, NULL, 10);
	if (nds < 102 || nsnaps < 11) {
		fprintf(stderr,
		    "usage: plan-bench [NDATASETS>101 [NSNAPS>10]]\n");
		return 2;
	}
	memset(&best, 0, sizeof(best));
	for (i = 0; i < reps; i++) {
		run_once(nds, nsnaps, &r);
		if (i == 0 ||
		    r.src + r.dst + r.plan < best.src + best.dst + best.plan)
			best = r;
		if (r.cpu < best_cpu)
			best_cpu = r.cpu;
	}
	printf("# plan-bench: source %zu datasets x %zu snapshots (%zu lines), "
	       "target %zu lines; the best of %zu runs\n",
	    nds, nsnaps, best.nsrc, best.ndst, reps);
	printf("# parse source %.3f s, parse target %.3f s, plan %.3f s "
	       "(CLOCK_MONOTONIC, listing generation excluded)\n",
	    secs(best.src), secs(best.dst), secs(best.plan));
	printf("# the same in CPU time: %.3f s (the wall time includes waiting "
	       "for a CPU on a busy machine)\n",
	    secs(best_cpu));
	printf("# %zu steps: %zu full, %zu incremental, %zu skip, %zu "
	       "refuse, %zu resume\n",
	    best.nsteps, best.kinds[ZF_STEP_FULL],
	    best.kinds[ZF_STEP_INCREMENTAL], best.kinds[ZF_STEP_SKIP],
	    best.kinds[ZF_STEP_REFUSE], best.kinds[ZF_STEP_RESUME]);
	printf("# peak RSS: VmHWM of the whole process, both trees and the "
	       "plan alive at once\n");
	printf("plan_10k_seconds=%.3f\n",
	    secs(best.src + best.dst + best.plan));
	printf("plan_10k_peak_rss_mib=%.1f\n", (double)peak_rss_kib() / 1024.0);
	return 0;
}
