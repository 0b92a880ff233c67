#include "compat.h"

#include <time.h>

#include "util.h"

void
zf_buf_init(struct zf_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->dropped = 0;
}

static enum zf_status
buf_grow(struct zf_buf *b, size_t need)
{
	size_t cap;
	char *p;

	if (need <= b->cap)
		return ZF_OK;
	/* need counts the NUL; written so that max == SIZE_MAX cannot wrap */
	if (need - 1 > b->max)
		return ZF_E_NOMEM;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap - 1 > b->max)
		cap = b->max + 1;
	p = realloc(b->data, cap);
	if (p == NULL)
		return ZF_E_NOMEM;
	b->data = p;
	b->cap = cap;
	return ZF_OK;
}

enum zf_status
zf_buf_add(struct zf_buf *b, const void *p, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return ZF_E_NOMEM;
	if (buf_grow(b, b->len + n + 1) != ZF_OK)
		return ZF_E_NOMEM;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return ZF_OK;
}

enum zf_status
zf_buf_adds(struct zf_buf *b, const char *s)
{
	return zf_buf_add(b, s, strlen(s));
}

enum zf_status
zf_buf_addf(struct zf_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	char *big;
	int n;
	enum zf_status r;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return ZF_E_NOMEM;
	if ((size_t)n < sizeof(small))
		return zf_buf_add(b, small, (size_t)n);
	big = malloc((size_t)n + 1);
	if (big == NULL)
		return ZF_E_NOMEM;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	r = zf_buf_add(b, big, (size_t)n);
	free(big);
	return r;
}

void
zf_buf_add_trunc(struct zf_buf *b, const void *p, size_t n)
{
	size_t room = b->max - b->len;
	size_t take = n < room ? n : room;

	if (take > 0 && zf_buf_add(b, p, take) != ZF_OK)
		take = 0;
	b->dropped = zf_sat_add(b->dropped, n - take);
}

void
zf_buf_reset(struct zf_buf *b)
{
	b->len = 0;
	b->dropped = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
zf_buf_release(struct zf_buf *b)
{
	free(b->data);
	zf_buf_init(b, b->max);
}

char *
zf_buf_detach(struct zf_buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = calloc(1, 1);
	zf_buf_init(b, b->max);
	return p;
}

static bool
argv_grow(struct zf_argv *a)
{
	size_t cap;
	char **v;

	if (a->failed)
		return false;
	if (a->n + 2 <= a->cap)
		return true;
	cap = a->cap ? a->cap * 2 : 16;
	v = realloc(a->v, cap * sizeof(*v));
	if (v == NULL) {
		a->failed = true;
		return false;
	}
	a->v = v;
	a->cap = cap;
	return true;
}

static void
argv_take(struct zf_argv *a, char *s)
{
	if (s == NULL) {
		a->failed = true;
		return;
	}
	if (!argv_grow(a)) {
		free(s);
		return;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

void
zf_argv_push(struct zf_argv *a, const char *s)
{
	if (!a->failed)
		argv_take(a, strdup(s));
}

void
zf_argv_pushf(struct zf_argv *a, const char *fmt, ...)
{
	struct zf_buf b = ZF_BUF_INIT(1 << 20);
	va_list ap;
	char small[512];
	int n;

	if (a->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(small)) {
		zf_argv_push(a, small);
		return;
	}
	if (n < 0 || zf_buf_add(&b, "", 0) != ZF_OK ||
	    buf_grow(&b, (size_t)n + 1) != ZF_OK) {
		zf_buf_release(&b);
		a->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b.data, (size_t)n + 1, fmt, ap);
	va_end(ap);
	argv_take(a, zf_buf_detach(&b));
}

void
zf_argv_pushv(struct zf_argv *a, const char *const *v)
{
	for (; v != NULL && *v != NULL; v++)
		zf_argv_push(a, *v);
}

bool
zf_argv_ok(const struct zf_argv *a)
{
	return !a->failed && a->v != NULL;
}

void
zf_argv_clear(struct zf_argv *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = 0;
	a->cap = 0;
	a->failed = false;
}

char **
zf_argv_detach(struct zf_argv *a)
{
	char **v = a->v;

	a->v = NULL;
	a->n = 0;
	a->cap = 0;
	a->failed = false;
	return v;
}

char **
zf_argv_finish(struct zf_argv *a)
{
	char **v;

	if (!a->failed && a->v == NULL)
		argv_grow(a);
	if (a->failed) {
		zf_argv_clear(a);
		return NULL;
	}
	a->v[a->n] = NULL;
	v = a->v;
	a->v = NULL;
	a->n = 0;
	a->cap = 0;
	return v;
}

char **
zf_strv_dup(const char *const *v)
{
	struct zf_argv a = ZF_ARGV_INIT;

	zf_argv_pushv(&a, v);
	return zf_argv_finish(&a);
}

void
zf_argv_free_v(char **v)
{
	char **p;

	if (v == NULL)
		return;
	for (p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

size_t
zf_strv_len(const char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

uint64_t
zf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* a backslash and c: 2 bytes, not terminated */
static size_t
escape_two(char out[5], char c)
{
	out[0] = '\\';
	out[1] = c;
	return 2;
}

static size_t
escape_one(char out[5], unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case '\n':
		return escape_two(out, 'n');
	case '\t':
		return escape_two(out, 't');
	case '\r':
		return escape_two(out, 'r');
	case '\\':
		return escape_two(out, '\\');
	default:
		break;
	}
	if (c < 0x20 || c >= 0x7f) {
		out[0] = '\\';
		out[1] = 'x';
		out[2] = hex[c >> 4];
		out[3] = hex[c & 15];
		return 4;
	}
	out[0] = (char)c;
	return 1;
}

size_t
zf_escape(char *dst, size_t dstsz, const char *src, size_t len)
{
	size_t total = 0, o = 0, i, k, limit;
	char one[5];

	if (dstsz == 0)
		return 0;
	for (i = 0; i < len; i++)
		total += escape_one(one, (unsigned char)src[i]);
	/* when it does not all fit, stop early enough to add "..." */
	limit = total < dstsz ? dstsz - 1 : (dstsz > 4 ? dstsz - 4 : 0);
	for (i = 0; i < len; i++) {
		k = escape_one(one, (unsigned char)src[i]);
		if (o + k > limit)
			break;
		memcpy(dst + o, one, k);
		o += k;
	}
	if (total >= dstsz && dstsz > 4) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return o;
}

char *
zf_strdup0(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

bool
zf_strlcpy_ok(char *dst, const char *src, size_t dstsz)
{
	size_t n = strlen(src);

	if (n >= dstsz) {
		if (dstsz > 0)
			dst[0] = '\0';
		return false;
	}
	memcpy(dst, src, n + 1);
	return true;
}
