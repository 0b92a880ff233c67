/*
 * testutil.h: small helpers shared by the unit tests.  Include after
 * compat.h and cmocka.h.
 */
#ifndef ZF_TESTUTIL_H
#define ZF_TESTUTIL_H

#include <dirent.h>
#include <ftw.h>
#include <sys/wait.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define TU_VALGRIND_H 1
#endif
#endif

static int
tu_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* rm -rf path */
static inline int
tu_rmrf(const char *path)
{
	return nftw(path, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Open descriptors of this process. */
static inline int
tu_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

/* True when this process has no child left to reap. */
static inline bool
tu_no_children(void)
{
	int st;

	return waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD;
}

/*
 * True when running under valgrind, which runs one thread at a time (so
 * no timing is tight) and cannot survive a failed execve() in a child.
 */
static inline bool
tu_under_valgrind(void)
{
#ifdef TU_VALGRIND_H
	return RUNNING_ON_VALGRIND != 0;
#else
	return false;
#endif
}

#endif
