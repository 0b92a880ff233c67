/*
 * produce: the sending side of a benchmark pipeline, as cheap as it can be
 * so the stage under test gets the CPU.
 *
 *   produce zeros BYTES   writes BYTES zero bytes to stdout
 *   produce file PATH     writes the file (mapped once) to stdout
 *   produce mix BYTES     writes BYTES of compressible test data: 128 KiB
 *                         records of log-like text, binary records, zeros
 *                         and random bytes, the same on every run
 *   produce records BYTES writes BYTES of zero records the way OpenZFS's
 *                         zfs send writes its stream (dump_record()): a
 *                         312-byte record header, then a 128 KiB payload,
 *                         each with a write(2) of its own
 *
 * The others write 1 MiB at a time with write(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1024 * 1024)
#define RECORD (128 * 1024)
#define WORDS 4096

static int
write_all(const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			perror("produce: write");
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* xorshift64*: fast, and the same stream on every machine */
static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static char words[WORDS][12];

/* a skewed pick: low indexes (common words) come up far more often */
static const char *
word(void)
{
	uint64_t a = rnd() % WORDS, b = rnd() % WORDS;

	return words[a * b / WORDS];
}

static void
text_record(unsigned char *p, size_t cap, uint64_t *clock)
{
	size_t len = 0;

	while (len + 200 < cap) {
		int n, w, nw = 4 + (int)(rnd() % 12);

		*clock += rnd() % 5000;
		n = snprintf((char *)p + len, cap - len,
		    "2024-05-%02d %02d:%02d:%02d.%03d host%d %s[%d]:",
		    (int)(*clock / 86400000 % 28 + 1),
		    (int)(*clock / 3600000 % 24), (int)(*clock / 60000 % 60),
		    (int)(*clock / 1000 % 60), (int)(*clock % 1000),
		    (int)(rnd() % 4), word(), (int)(rnd() % 32768));
		len += (size_t)n;
		for (w = 0; w < nw; w++) {
			n = snprintf((char *)p + len, cap - len, " %s", word());
			len += (size_t)n;
		}
		p[len++] = '\n';
	}
	memset(p + len, ' ', cap - len);
}

static void
binary_record(unsigned char *p, size_t cap, uint64_t *id)
{
	size_t off;

	/* 64-byte records: a counter, small fields, a name, padding, noise */
	for (off = 0; off + 64 <= cap; off += 64) {
		uint64_t v[8];

		v[0] = (*id)++;
		v[1] = 1700000000u + *id / 16;
		v[2] = rnd() % 8 | (rnd() % 4) << 16;
		v[3] = rnd() % 65536;
		memcpy(&v[4], word(), 8);
		memcpy(&v[5], word(), 8);
		v[6] = 0;
		v[7] = rnd() % 4 == 0 ? rnd() : 0;
		memcpy(p + off, v, 64);
	}
}

static void
random_record(unsigned char *p, size_t cap)
{
	size_t off;

	for (off = 0; off + 8 <= cap; off += 8) {
		uint64_t v = rnd();

		memcpy(p + off, &v, 8);
	}
}

static int
mix(unsigned long long left)
{
	static unsigned char rec[RECORD + 256];
	uint64_t clock = 0, id = 0;
	int i, j;

	for (i = 0; i < WORDS; i++) {
		int n = 2 + (int)(rnd() % 9);

		for (j = 0; j < n; j++)
			words[i][j] = (char)('a' + rnd() % 26);
	}
	while (left > 0) {
		unsigned kind = (unsigned)(rnd() % 20);
		size_t n = left < RECORD ? (size_t)left : RECORD;

		if (kind < 9)
			text_record(rec, RECORD, &clock);
		else if (kind < 15)
			binary_record(rec, RECORD, &id);
		else if (kind < 17)
			memset(rec, 0, RECORD);
		else
			random_record(rec, RECORD);
		if (write_all(rec, n) != 0)
			return 1;
		left -= n;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "zeros") == 0) {
		static unsigned char buf[CHUNK];
		unsigned long long left = strtoull(argv[2], NULL, 0);

		while (left > 0) {
			size_t n = left < CHUNK ? (size_t)left : CHUNK;

			if (write_all(buf, n) != 0)
				return 1;
			left -= n;
		}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "mix") == 0)
		return mix(strtoull(argv[2], NULL, 0));
	if (argc == 3 && strcmp(argv[1], "records") == 0) {
		static unsigned char hdr[312], payload[RECORD];
		unsigned long long left = strtoull(argv[2], NULL, 0);

		while (left > 0) {
			size_t h =
			    left < sizeof(hdr) ? (size_t)left : sizeof(hdr);
			size_t n =
			    left - h < RECORD ? (size_t)(left - h) : RECORD;

			if (write_all(hdr, h) != 0 ||
			    (n > 0 && write_all(payload, n) != 0))
				return 1;
			left -= h + n;
		}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "file") == 0) {
		struct stat st;
		unsigned char *p;
		size_t off;
		int fd = open(argv[2], O_RDONLY);

		if (fd < 0 || fstat(fd, &st) != 0) {
			perror("produce: open");
			return 1;
		}
		if (st.st_size == 0)
			return 0;
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd,
		    0);
		if (p == MAP_FAILED) {
			perror("produce: mmap");
			return 1;
		}
		for (off = 0; off < (size_t)st.st_size; off += CHUNK) {
			size_t n = (size_t)st.st_size - off;

			if (write_all(p + off, n < CHUNK ? n : CHUNK) != 0)
				return 1;
		}
		return 0;
	}
	fprintf(stderr,
	    "usage: produce zeros|mix|records BYTES | produce file PATH\n");
	return 2;
}
