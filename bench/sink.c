/*
 * sink: the receiving side of a benchmark pipeline.  Reads stdin to the
 * end with read(2) (as zfs receive does) and prints one line:
 *
 *   bytes=N first_to_last_s=S
 *
 * With -r RATE (bytes/s) it also counts the bytes received in each 100 ms
 * slot, starting at the first byte, and prints
 *
 *   worst_window_pct=P max_window_bytes=B min_window_bytes=B windows=K
 *
 * for the sliding one-second windows (10 consecutive slots) that lie wholly
 * between the first and the last byte: P is the largest |bytes - RATE| /
 * RATE x 100 among them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUF (1024 * 1024)
#define SLOT_NS 100000000ull
#define WINDOW 10
#define MAX_SLOTS (36000)

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	static unsigned char buf[BUF];
	static uint64_t slot[MAX_SLOTS];
	uint64_t total = 0, first = 0, last = 0, rate = 0;
	size_t nslots = 0, i;

	if (argc == 3 && strcmp(argv[1], "-r") == 0)
		rate = strtoull(argv[2], NULL, 0);
	else if (argc != 1) {
		fprintf(stderr, "usage: sink [-r RATE]\n");
		return 2;
	}
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		uint64_t t;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("sink: read");
			return 1;
		}
		if (n == 0)
			break;
		t = now_ns();
		if (total == 0)
			first = t;
		last = t;
		total += (uint64_t)n;
		if (rate > 0) {
			size_t k = (size_t)((t - first) / SLOT_NS);

			if (k >= MAX_SLOTS)
				k = MAX_SLOTS - 1;
			slot[k] += (uint64_t)n;
			if (k + 1 > nslots)
				nslots = k + 1;
		}
	}
	printf("bytes=%llu first_to_last_s=%.6f\n", (unsigned long long)total,
	    (double)(last - first) / 1e9);
	if (rate > 0) {
		/* the last slot is cut short by the end of the stream */
		size_t full = nslots > 0 ? nslots - 1 : 0, windows = 0;
		uint64_t wmax = 0, wmin = UINT64_MAX;
		double worst = 0;

		for (i = 0; i + WINDOW <= full; i++) {
			uint64_t sum = 0;
			size_t j;
			double dev;

			for (j = 0; j < WINDOW; j++)
				sum += slot[i + j];
			dev = ((double)sum - (double)rate) / (double)rate * 100;
			if (dev < 0)
				dev = -dev;
			if (dev > worst)
				worst = dev;
			if (sum > wmax)
				wmax = sum;
			if (sum < wmin)
				wmin = sum;
			windows++;
		}
		printf("worst_window_pct=%.2f max_window_bytes=%llu "
		       "min_window_bytes=%llu windows=%zu\n",
		    worst, (unsigned long long)wmax,
		    (unsigned long long)(windows ? wmin : 0), windows);
	}
	return 0;
}
