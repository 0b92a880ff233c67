#include "compat.h"

#include "tree.h"
#include "validate.h"

#define LINE_MAX_BYTES (64 * 1024)
/* Messages quote at most this many bytes of a field (then "..."). */
#define QUOTE_MAX 64
#define QBUF (QUOTE_MAX + 4)
#define ARENA_BLOCK (256 * 1024)
/* Indexes are stored in 32 bits. */
#define OBJ_MAX (UINT32_MAX - 1)
#define NFIELDS_MAX 8
/*
 * Short snapshot names remembered, checked and stored once: recursive
 * snapshots give every dataset the same ones.
 */
#define INTERN_MAX (1 << 16)

enum {
	HAVE_TYPE = 1 << 0,
	HAVE_GUID = 1 << 1,
	HAVE_TXG = 1 << 2,
	HAVE_ORIGIN = 1 << 3,
	HAVE_ALL = HAVE_TYPE | HAVE_GUID | HAVE_TXG,
};

struct arena_block {
	struct arena_block *next;
	size_t used;
	size_t size;
	char data[];
};

/* What the parser keeps of a snapshot besides struct zf_snap. */
struct snap_x {
	uint32_t ds;
	uint32_t line; /* the line that named it first */
	uint32_t hash; /* of its kind and name, to find duplicates */
	uint8_t have; /* HAVE_* (the GET format) */
};

/* ... and of a dataset besides struct zf_ds. */
struct ds_x {
	uint32_t line; /* the line that named it first */
	uint32_t succ; /* 1 + the dataset of the line after its last one */
	uint8_t have;
	bool listed; /* it had a line of its own */
};

/* A slot of the GET format's index of snapshots; i == 0 is empty. */
struct sref {
	uint32_t hash;
	uint32_t i; /* index in ps + 1 */
};

/* An interned short name; s == NULL is an empty slot. */
struct iname {
	uint32_t hash; /* snap_hash() */
	uint32_t len;
	const char *s;
};

struct zf_tree {
	char *root;
	size_t rootlen;
	enum zf_list_format fmt;
	size_t lineno;
	bool finished;
	bool failed;
	uint64_t key[2]; /* hash key: the input is hostile */
	struct arena_block *arena;

	struct zf_ds *ds;
	struct ds_x *dsx; /* until zf_tree_finish() */
	size_t nds, capds;
	uint64_t *dsh; /* hash << 32 | (index + 1); 0 is empty */
	size_t dshcap;
	size_t lastds; /* the dataset of the previous line, or ZF_NONE */

	/*
	 * Snapshots in the order of the listing until zf_tree_finish() groups
	 * them by dataset into one block: a listing in createtxg order names
	 * every dataset in turn, and appending to each dataset's own array
	 * would write all over memory for each line.
	 */
	struct zf_snap *ps;
	struct snap_x *psx;
	size_t nps, capps;
	struct zf_snap *snaps;

	/*
	 * The GET format names an object on several lines: an index of the
	 * snapshots, and the object of the previous line.  (The LIST format
	 * names each once: zf_tree_finish() finds duplicates, which costs less
	 * than an index of a million snapshots.)
	 */
	struct sref *sh;
	size_t shcap;
	struct iname *in;
	size_t incap, inn;
	const char *lastsn; /* the interned short name of the line before */
	size_t lastsnlen;
	enum zf_name_kind lastsnkind;
	uint32_t lastsnhash;
	char last[ZF_NAME_MAX];
	size_t lastlen;
	size_t lastsnap; /* ZF_NONE: the previous object is a dataset */
	bool lastvalid;
};

/* A name field, checked. */
struct pname {
	char buf[ZF_NAME_MAX]; /* NUL-terminated */
	size_t len;
	enum zf_name_kind kind;
	size_t dn; /* length of the dataset part */
	size_t ds; /* that dataset, if the tree has it, or ZF_NONE */
	uint32_t hash; /* snap_hash() of the part after '@' or '#' */
	const char *sname; /* that part interned, or NULL */
};

/* -------- errors -------- */

static enum zf_status tree_fail(struct zf_tree *t, struct zf_error *err,
    enum zf_status code, const char *fmt, ...) ZF_PRINTF(4, 5);

static enum zf_status
tree_fail(struct zf_tree *t, struct zf_error *err, enum zf_status code,
    const char *fmt, ...)
{
	char msg[ZF_ERRMSG_MAX];
	va_list ap;

	t->failed = true;
	if (err == NULL || err->code != ZF_OK)
		return code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap); /* a cut message is still one */
	va_end(ap);
	zf_fail(err, code, "%s", msg);
	err->stage = ZF_STAGE_LIST;
	return code;
}

static enum zf_status
nomem(struct zf_tree *t, struct zf_error *err)
{
	return tree_fail(t, err, ZF_E_NOMEM,
	    "out of memory reading the listing of '%s'", t->root);
}

/* The first QUOTE_MAX bytes of a field, raw: zf_fail() escapes them. */
static const char *
quote(char *dst, size_t dstsz, const char *p, size_t n)
{
	if (n > QUOTE_MAX)
		snprintf(dst, dstsz, "%.*s...", QUOTE_MAX, p);
	else
		snprintf(dst, dstsz, "%.*s", (int)n, p);
	return dst;
}

static uint32_t
line32(const struct zf_tree *t)
{
	return t->lineno > UINT32_MAX ? UINT32_MAX : (uint32_t)t->lineno;
}

/* -------- the arena -------- */

static char *
arena_dup(struct zf_tree *t, const char *p, size_t n)
{
	struct arena_block *b = t->arena;
	char *s;

	if (b == NULL || b->size - b->used < n + 1) {
		size_t size = n + 1 > ARENA_BLOCK ? n + 1 : ARENA_BLOCK;

		b = malloc(sizeof(*b) + size);
		if (b == NULL)
			return NULL;
		b->next = t->arena;
		b->used = 0;
		b->size = size;
		t->arena = b;
	}
	s = b->data + b->used;
	memcpy(s, p, n);
	s[n] = '\0';
	b->used += n + 1;
	return s;
}

/* -------- hashing: SipHash-1-3, keyed per tree -------- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                               \
	do {                                                                   \
		v0 += v1;                                                      \
		v1 = ROTL(v1, 13);                                             \
		v1 ^= v0;                                                      \
		v0 = ROTL(v0, 32);                                             \
		v2 += v3;                                                      \
		v3 = ROTL(v3, 16);                                             \
		v3 ^= v2;                                                      \
		v0 += v3;                                                      \
		v3 = ROTL(v3, 21);                                             \
		v3 ^= v0;                                                      \
		v2 += v1;                                                      \
		v1 = ROTL(v1, 17);                                             \
		v1 ^= v2;                                                      \
		v2 = ROTL(v2, 32);                                             \
	} while (0)

static uint64_t
siphash(const uint64_t key[2], uint64_t tweak, const char *p, size_t n)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dULL ^ key[1] ^ tweak;
	uint64_t v2 = 0x6c7967656e657261ULL ^ key[0];
	uint64_t v3 = 0x7465646279746573ULL ^ key[1];
	uint64_t m, b = (uint64_t)n << 56;
	const unsigned char *s = (const unsigned char *)p;
	size_t i, left = n & 7;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&m, s + i, 8);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (; left > 0; left--)
		b |= (uint64_t)s[i + left - 1] << (8 * (left - 1));
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static uint32_t
ds_hash(const struct zf_tree *t, const char *p, size_t n)
{
	return (uint32_t)(siphash(t->key, 0, p, n) >> 32);
}

/* a snapshot and a bookmark may share a name */
static uint32_t
snap_hash(const struct zf_tree *t, bool bm, const char *p, size_t n)
{
	return (uint32_t)(siphash(t->key, 1 + bm, p, n) >> 32);
}

static bool
grow_table(uint64_t **tab, size_t *cap, size_t want)
{
	uint64_t *old = *tab, *nt;
	size_t oldcap = *cap, ncap = oldcap ? oldcap : 64, i, j;

	while (ncap < want * 2)
		ncap *= 2;
	if (ncap == oldcap)
		return true;
	nt = calloc(ncap, sizeof(*nt));
	if (nt == NULL)
		return false;
	for (i = 0; i < oldcap; i++) {
		if (old[i] == 0)
			continue;
		j = (size_t)(old[i] >> 32) & (ncap - 1);
		while (nt[j] != 0)
			j = (j + 1) & (ncap - 1);
		nt[j] = old[i];
	}
	free(old);
	*tab = nt;
	*cap = ncap;
	return true;
}

static void
table_put(uint64_t *tab, size_t cap, uint32_t h, size_t idx)
{
	size_t j = h & (cap - 1);

	while (tab[j] != 0)
		j = (j + 1) & (cap - 1);
	tab[j] = (uint64_t)h << 32 | (uint64_t)(idx + 1);
}

static bool
ds_is(const struct zf_tree *t, size_t i, const char *p, size_t n)
{
	return strncmp(t->ds[i].name, p, n) == 0 && t->ds[i].name[n] == '\0';
}

static size_t
ds_lookup(const struct zf_tree *t, const char *p, size_t n)
{
	uint32_t h;
	size_t j, i;

	if (t->dshcap == 0)
		return ZF_NONE;
	h = ds_hash(t, p, n);
	for (j = h & (t->dshcap - 1); t->dsh[j] != 0;
	     j = (j + 1) & (t->dshcap - 1)) {
		i = (size_t)(t->dsh[j] & 0xffffffffu) - 1;
		if ((uint32_t)(t->dsh[j] >> 32) == h && ds_is(t, i, p, n))
			return i;
	}
	return ZF_NONE;
}

/*
 * The dataset named p[0..n) if the tree has it.  Listings repeat patterns
 * (a dataset's lines together, or after recursive snapshots every dataset
 * in turn), so the previous line's dataset and the one that followed it
 * last time are tried before the index.
 */
static size_t
known_ds(const struct zf_tree *t, const char *p, size_t n)
{
	size_t last = t->lastds, succ;

	if (last != ZF_NONE) {
		if (ds_is(t, last, p, n))
			return last;
		succ = t->dsx[last].succ;
		if (succ != 0 && ds_is(t, succ - 1, p, n))
			return succ - 1;
	}
	return ds_lookup(t, p, n);
}

static bool
sh_grow(struct zf_tree *t)
{
	struct sref *nt;
	size_t cap = t->shcap ? t->shcap : 64, i, j;

	while (cap < t->nps * 2 + 2)
		cap *= 2;
	if (cap == t->shcap)
		return true;
	nt = calloc(cap, sizeof(*nt));
	if (nt == NULL)
		return false;
	for (i = 0; i < t->shcap; i++) {
		if (t->sh[i].i == 0)
			continue;
		for (j = t->sh[i].hash & (cap - 1); nt[j].i != 0;
		     j = (j + 1) & (cap - 1))
			;
		nt[j] = t->sh[i];
	}
	free(t->sh);
	t->sh = nt;
	t->shcap = cap;
	return true;
}

/* GET: the snapshot of ds by name, or ZF_NONE; *slot: where to add it. */
static size_t
sh_lookup(const struct zf_tree *t, size_t ds, bool bm, const char *p, size_t n,
    uint32_t h, size_t *slot)
{
	size_t j;

	for (j = h & (t->shcap - 1); t->sh[j].i != 0;
	     j = (j + 1) & (t->shcap - 1)) {
		const struct sref *r = &t->sh[j];
		const struct zf_snap *s;

		if (r->hash != h || t->psx[r->i - 1].ds != ds)
			continue;
		s = &t->ps[r->i - 1];
		if (s->bookmark == bm && strncmp(s->name, p, n) == 0 &&
		    s->name[n] == '\0')
			return r->i - 1;
	}
	*slot = j;
	return ZF_NONE;
}

/* The interned copy of a short name, or NULL. */
static const char *
intern_find(const struct zf_tree *t, const char *p, size_t n, uint32_t h)
{
	size_t j;

	if (t->incap == 0)
		return NULL;
	for (j = h & (t->incap - 1); t->in[j].s != NULL;
	     j = (j + 1) & (t->incap - 1))
		if (t->in[j].hash == h && t->in[j].len == n &&
		    memcmp(t->in[j].s, p, n) == 0)
			return t->in[j].s;
	return NULL;
}

/*
 * Interns a checked short name (not yet interned) while there is room;
 * returns the copy, or NULL when the table is full or memory short (the
 * caller then stores the name on its own).
 */
static const char *
intern_add(struct zf_tree *t, const char *p, size_t n, uint32_t h)
{
	size_t j, i, cap;
	struct iname *nt;
	char *s;

	if (t->inn >= INTERN_MAX)
		return NULL;
	if ((t->inn + 1) * 2 > t->incap) {
		cap = t->incap ? t->incap * 2 : 256;
		if ((nt = calloc(cap, sizeof(*nt))) == NULL)
			return NULL;
		for (i = 0; i < t->incap; i++) {
			if (t->in[i].s == NULL)
				continue;
			for (j = t->in[i].hash & (cap - 1); nt[j].s != NULL;
			     j = (j + 1) & (cap - 1))
				;
			nt[j] = t->in[i];
		}
		free(t->in);
		t->in = nt;
		t->incap = cap;
	}
	if ((s = arena_dup(t, p, n)) == NULL)
		return NULL;
	for (j = h & (t->incap - 1); t->in[j].s != NULL;
	     j = (j + 1) & (t->incap - 1))
		;
	t->in[j].hash = h;
	t->in[j].len = (uint32_t)n;
	t->in[j].s = s;
	t->inn++;
	return s;
}

/* -------- life cycle -------- */

enum zf_status
zf_tree_new(struct zf_tree **tp, const char *root, enum zf_list_format fmt,
    struct zf_error *err)
{
	struct zf_tree *t;
	enum zf_status r;

	*tp = NULL;
	if (fmt != ZF_LIST_FORMAT_LIST && fmt != ZF_LIST_FORMAT_GET)
		return zf_fail_input(err, "unknown listing format %d",
		    (int)fmt);
	r = zf_check_name("listing root", root, ZF_NAME_FS, NULL, err);
	if (r != ZF_OK)
		return r;
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->root = strdup(root)) == NULL) {
		free(t);
		return zf_fail(err, ZF_E_NOMEM, "out of memory");
	}
	t->rootlen = strlen(root);
	t->fmt = fmt;
	t->lastds = ZF_NONE;
	/*
	 * Not secret, only unknown to whoever wrote the listing, so that it
	 * cannot choose names that all fall into one slot.
	 */
	t->key[0] = zf_now_ns() ^ (uint64_t)(uintptr_t)t;
	t->key[1] = (uint64_t)(uintptr_t)&t ^ 0x9e3779b97f4a7c15ULL ^
	    ((uint64_t)getpid() << 17);
	*tp = t;
	return ZF_OK;
}

static void
free_parse_state(struct zf_tree *t)
{
	free(t->dsx);
	free(t->sh);
	free(t->in);
	free(t->ps);
	free(t->psx);
	t->dsx = NULL;
	t->sh = NULL;
	t->in = NULL;
	t->ps = NULL;
	t->psx = NULL;
	t->shcap = t->incap = t->inn = t->nps = t->capps = 0;
}

void
zf_tree_free(struct zf_tree *t)
{
	struct arena_block *b, *next;

	if (t == NULL)
		return;
	for (b = t->arena; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free_parse_state(t);
	free(t->snaps);
	free(t->ds);
	free(t->dsh);
	free(t->root);
	free(t);
}

/* -------- fields -------- */

static bool
parse_u64(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	/* 20 digits may overflow: compare with UINT64_MAX as text */
	if (n == 0 || n > 20 ||
	    (n == 20 && memcmp(p, "18446744073709551615", 20) > 0))
		return false;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned char)p[i] - (unsigned)'0';

		if (d > 9)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool
is_dash(const char *p, size_t n)
{
	return n == 1 && p[0] == '-';
}

static bool
field_is(const char *p, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(p, word, n) == 0;
}

/* A receive_resume_token: "1-<hex>-<hex>-<hex>", checked in full later. */
static bool
token_chars(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || p[0] < '0' || p[0] > '9')
		return false;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		        (c >= 'A' && c <= 'F') || c == '-'))
			return false;
	}
	return true;
}

/* Is the dataset name p[0..n) root or below it? */
static bool
under_root(const struct zf_tree *t, const char *p, size_t n)
{
	if (n < t->rootlen || memcmp(p, t->root, t->rootlen) != 0)
		return false;
	return n == t->rootlen || p[t->rootlen] == '/';
}

/* The message of a name (NUL-terminated) that zf_check_name() refused. */
static enum zf_status
bad_name(struct zf_tree *t, const char *what, const char *p, size_t n,
    unsigned kinds, struct zf_error *err)
{
	struct zf_error sub;
	char q[QBUF];
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		/* quoted raw, so that zf_fail() escapes them once */
		if (c < 0x20 || c >= 0x7f || c == '\\')
			return tree_fail(t, err, ZF_E_PROTOCOL,
			    "listing line %zu: %s '%s' holds an invalid character",
			    t->lineno, what, quote(q, sizeof(q), p, n));
	}
	zf_error_clear(&sub);
	zf_check_name(what, p, kinds, NULL, &sub);
	/* printable, no backslash: sub.msg is the raw text */
	return tree_fail(t, err, ZF_E_PROTOCOL, "listing line %zu: %s",
	    t->lineno, sub.msg);
}

/*
 * Checks a name with the OpenZFS rules.  The snapshot of a dataset the tree
 * already has (and so has checked) needs only its part after '@' checked,
 * and not even that when an earlier line had the same one.
 */
static enum zf_status
parse_name(struct zf_tree *t, const char *p, size_t n, struct pname *pn,
    struct zf_error *err)
{
	const unsigned all = ZF_NAME_FS | ZF_NAME_SNAPSHOT | ZF_NAME_BOOKMARK;
	const char *at, *sp;
	size_t sn;
	char q[QBUF];

	if (n >= ZF_NAME_MAX)
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: name '%s' is longer than 255 bytes",
		    t->lineno, quote(q, sizeof(q), p, n));
	/*
	 * The line is searched, not the copy just written: wide loads right
	 * after narrower stores to the same bytes stall.
	 */
	pn->dn = n;
	if ((at = memchr(p, '@', n)) != NULL)
		pn->dn = (size_t)(at - p);
	if ((at = memchr(p, '#', pn->dn)) != NULL)
		pn->dn = (size_t)(at - p);
	memcpy(pn->buf, p, n);
	pn->buf[n] = '\0';
	pn->len = n;
	pn->sname = NULL;
	sp = pn->buf + pn->dn + 1;
	sn = n - pn->dn - (pn->dn < n);
	if (pn->dn < n) {
		pn->kind = pn->buf[pn->dn] == '@' ? ZF_NAME_SNAPSHOT
		                                  : ZF_NAME_BOOKMARK;
		pn->ds = known_ds(t, pn->buf, pn->dn);
		/* after recursive snapshots, line after line has this name */
		if (t->lastsn != NULL && sn == t->lastsnlen &&
		    pn->kind == t->lastsnkind &&
		    memcmp(sp, t->lastsn, sn) == 0) {
			pn->hash = t->lastsnhash;
			pn->sname = t->lastsn;
		} else {
			pn->hash =
			    snap_hash(t, pn->kind == ZF_NAME_BOOKMARK, sp, sn);
			pn->sname = intern_find(t, sp, sn, pn->hash);
		}
		if (pn->ds != ZF_NONE &&
		    (pn->sname != NULL ||
		        zf_check_short_name("name", sp, NULL) == ZF_OK)) {
			if (pn->sname == NULL)
				pn->sname = intern_add(t, sp, sn, pn->hash);
			if (pn->sname != NULL) {
				t->lastsn = pn->sname;
				t->lastsnlen = sn;
				t->lastsnkind = pn->kind;
				t->lastsnhash = pn->hash;
			}
			return ZF_OK;
		}
		pn->sname = NULL;
	}
	if (zf_check_name("name", pn->buf, all, &pn->kind, NULL) != ZF_OK)
		return bad_name(t, "name", pn->buf, n, all, err);
	if (!under_root(t, pn->buf, pn->dn))
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: '%s' is not under '%s'", t->lineno,
		    quote(q, sizeof(q), p, n), t->root);
	pn->ds = known_ds(t, pn->buf, pn->dn);
	if (pn->kind != ZF_NAME_FS &&
	    (pn->sname = intern_find(t, sp, sn, pn->hash)) == NULL)
		pn->sname = intern_add(t, sp, sn, pn->hash);
	return ZF_OK;
}

static enum zf_status
parse_type(struct zf_tree *t, const char *p, size_t n, enum zf_name_kind kind,
    const char *name, bool *volume, struct zf_error *err)
{
	char q[QBUF];
	enum zf_name_kind want;

	*volume = false;
	if (field_is(p, n, "filesystem"))
		want = ZF_NAME_FS;
	else if (field_is(p, n, "volume")) {
		want = ZF_NAME_FS;
		*volume = true;
	} else if (field_is(p, n, "snapshot"))
		want = ZF_NAME_SNAPSHOT;
	else if (field_is(p, n, "bookmark"))
		want = ZF_NAME_BOOKMARK;
	else
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: unknown type '%s'", t->lineno,
		    quote(q, sizeof(q), p, n));
	if (want != kind)
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: '%s' is not a %.*s", t->lineno, name,
		    (int)n, p);
	return ZF_OK;
}

static enum zf_status
parse_num(struct zf_tree *t, const char *what, const char *p, size_t n,
    bool nonzero, uint64_t *v, struct zf_error *err)
{
	char q[QBUF];

	if (!parse_u64(p, n, v))
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: invalid %s '%s'", t->lineno, what,
		    quote(q, sizeof(q), p, n));
	if (nonzero && *v == 0)
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: %s 0", t->lineno, what);
	return ZF_OK;
}

/* origin: "-" or a snapshot name; only datasets may have one */
static enum zf_status
parse_origin(struct zf_tree *t, const char *p, size_t n, enum zf_name_kind kind,
    const char **origin, struct zf_error *err)
{
	char buf[ZF_NAME_MAX], q[QBUF];

	*origin = NULL;
	if (is_dash(p, n))
		return ZF_OK;
	if (kind != ZF_NAME_FS)
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: a snapshot or bookmark with an origin",
		    t->lineno);
	if (n >= ZF_NAME_MAX)
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: origin '%s' is longer than 255 bytes",
		    t->lineno, quote(q, sizeof(q), p, n));
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (zf_check_name("origin", buf, ZF_NAME_SNAPSHOT, NULL, NULL) != ZF_OK)
		return bad_name(t, "origin", buf, n, ZF_NAME_SNAPSHOT, err);
	*origin = arena_dup(t, p, n);
	return *origin == NULL ? nomem(t, err) : ZF_OK;
}

/* -------- objects -------- */

static enum zf_status
add_ds(struct zf_tree *t, const char *p, size_t n, size_t *out,
    struct zf_error *err)
{
	size_t i = t->nds;

	if (i >= OBJ_MAX)
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: more than %u datasets", t->lineno,
		    (unsigned)OBJ_MAX);
	if (i == t->capds) {
		size_t cap = t->capds ? t->capds * 2 : 64;
		struct zf_ds *ds = realloc(t->ds, cap * sizeof(*ds));
		struct ds_x *dsx;

		if (ds == NULL)
			return nomem(t, err);
		t->ds = ds;
		dsx = realloc(t->dsx, cap * sizeof(*dsx));
		if (dsx == NULL)
			return nomem(t, err);
		t->dsx = dsx;
		t->capds = cap;
	}
	if (!grow_table(&t->dsh, &t->dshcap, i + 1))
		return nomem(t, err);
	memset(&t->ds[i], 0, sizeof(t->ds[i]));
	memset(&t->dsx[i], 0, sizeof(t->dsx[i]));
	t->ds[i].name = arena_dup(t, p, n);
	if (t->ds[i].name == NULL)
		return nomem(t, err);
	t->ds[i].written = UINT64_MAX;
	t->ds[i].parent = ZF_NONE;
	t->dsx[i].line = line32(t);
	t->nds++;
	table_put(t->dsh, t->dshcap, ds_hash(t, p, n), i);
	*out = i;
	return ZF_OK;
}

/*
 * Appends a snapshot of dataset ds: its name p[0..n), interned as sname
 * (or NULL), its hash h.
 */
static enum zf_status
add_snap(struct zf_tree *t, size_t ds, bool bm, const char *p, size_t n,
    const char *sname, uint32_t h, size_t *out, struct zf_error *err)
{
	size_t i = t->nps;

	if (i >= OBJ_MAX)
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: more than %u snapshots", t->lineno,
		    (unsigned)OBJ_MAX);
	if (i == t->capps) {
		size_t cap = t->capps ? t->capps * 2 : 256;
		struct zf_snap *ps = realloc(t->ps, cap * sizeof(*ps));
		struct snap_x *psx;

		if (ps == NULL)
			return nomem(t, err);
		t->ps = ps;
		psx = realloc(t->psx, cap * sizeof(*psx));
		if (psx == NULL)
			return nomem(t, err);
		t->psx = psx;
		t->capps = cap;
	}
	memset(&t->ps[i], 0, sizeof(t->ps[i]));
	t->ps[i].name = sname != NULL ? sname : arena_dup(t, p, n);
	if (t->ps[i].name == NULL)
		return nomem(t, err);
	t->ps[i].bookmark = bm;
	t->psx[i].ds = (uint32_t)ds;
	t->psx[i].line = line32(t);
	t->psx[i].hash = h;
	t->psx[i].have = 0;
	t->nps++;
	*out = i;
	return ZF_OK;
}

/*
 * The object a line names: dataset *ds, and its snapshot *snap (an index
 * in ps, or ZF_NONE for the dataset itself); *isnew tells whether no earlier
 * line named it. With LIST a snapshot is always new here: zf_tree_finish()
 * finds the duplicates.
 */
static enum zf_status
find_object(struct zf_tree *t, const struct pname *pn, size_t *dsp,
    size_t *snap, bool *isnew, struct zf_error *err)
{
	const char *sp = pn->buf + pn->dn + 1;
	size_t sn = pn->len - pn->dn - 1, ds = pn->ds, i, slot = 0;
	bool bm = pn->kind == ZF_NAME_BOOKMARK;
	uint32_t h = pn->hash;
	enum zf_status r;

	*isnew = false;
	if (t->lastvalid && pn->len == t->lastlen &&
	    memcmp(pn->buf, t->last, pn->len) == 0) {
		/* GET: the object of the line before */
		*dsp = t->lastds;
		*snap = t->lastsnap;
		return ZF_OK;
	}
	if (ds == ZF_NONE &&
	    (r = add_ds(t, pn->buf, pn->dn, &ds, err)) != ZF_OK)
		return r;
	if (t->lastds != ZF_NONE)
		t->dsx[t->lastds].succ = (uint32_t)ds + 1;
	t->lastds = ds;
	*dsp = ds;
	*snap = ZF_NONE;
	if (pn->kind == ZF_NAME_FS) {
		*isnew = !t->dsx[ds].listed;
		t->dsx[ds].listed = true;
	} else {
		i = ZF_NONE;
		if (t->fmt == ZF_LIST_FORMAT_GET) {
			if (!sh_grow(t))
				return nomem(t, err);
			i = sh_lookup(t, ds, bm, sp, sn, h, &slot);
		}
		if (i == ZF_NONE) {
			r = add_snap(t, ds, bm, sp, sn, pn->sname, h, &i, err);
			if (r != ZF_OK)
				return r;
			*isnew = true;
			if (t->fmt == ZF_LIST_FORMAT_GET) {
				t->sh[slot].hash = h;
				t->sh[slot].i = (uint32_t)i + 1;
			}
		}
		*snap = i;
	}
	if (t->fmt == ZF_LIST_FORMAT_GET) {
		memcpy(t->last, pn->buf, pn->len);
		t->lastlen = pn->len;
		t->lastsnap = *snap;
		t->lastvalid = true;
	}
	return ZF_OK;
}

/* -------- lines -------- */

static void
field(const char **f, size_t *fn, size_t k, const char *p, size_t n)
{
	if (k < NFIELDS_MAX) {
		f[k] = p;
		fn[k] = n;
	}
}

/*
 * Splits at tabs; returns the number of fields, of which the first
 * NFIELDS_MAX are in f and fn.  Eight bytes at a time: this is most of
 * the work of reading a line.
 */
static size_t
split(const char *line, size_t len, const char **f, size_t *fn)
{
	size_t i = 0, k = 0, start = 0, b;

#if (defined(__GNUC__) || defined(__clang__)) && defined(__BYTE_ORDER__) &&    \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t highs = 0x8080808080808080ULL;
	uint64_t w, m;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, line + i, 8);
		w ^= ones * '\t';
		/* a high bit for each zero byte (and maybe after one) */
		m = (w - ones) & ~w & highs;
		while (m != 0) {
			b = i + (size_t)__builtin_ctzll(m) / 8;
			m &= m - 1;
			if (line[b] != '\t')
				continue;
			field(f, fn, k++, line + start, b - start);
			start = b + 1;
		}
	}
#endif
	for (; i < len; i++)
		if (line[i] == '\t') {
			field(f, fn, k++, line + start, i - start);
			start = i + 1;
		}
	field(f, fn, k++, line + start, len - start);
	return k;
}

/*
 * name type guid createtxg origin written receive_resume_token
 */
static enum zf_status
add_list_line(struct zf_tree *t, const char *line, size_t len,
    struct zf_error *err)
{
	const char *f[NFIELDS_MAX];
	size_t fn[NFIELDS_MAX], nf, ds, snap;
	struct pname pn;
	char q[QBUF];
	uint64_t guid, txg, written = UINT64_MAX;
	const char *origin, *token = NULL;
	bool volume, isnew;
	enum zf_status r;

	nf = split(line, len, f, fn);
	if (nf != 7)
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: %zu tab-separated fields, expected 7",
		    t->lineno, nf);
	if ((r = parse_name(t, f[0], fn[0], &pn, err)) != ZF_OK ||
	    (r = parse_type(t, f[1], fn[1], pn.kind, pn.buf, &volume, err)) !=
	        ZF_OK ||
	    (r = parse_num(t, "guid", f[2], fn[2], true, &guid, err)) !=
	        ZF_OK ||
	    (r = parse_num(t, "createtxg", f[3], fn[3], false, &txg, err)) !=
	        ZF_OK)
		return r;
	if (!is_dash(f[5], fn[5]) &&
	    (r = parse_num(t, "written", f[5], fn[5], false, &written, err)) !=
	        ZF_OK)
		return r;
	if (!is_dash(f[6], fn[6])) {
		if (pn.kind != ZF_NAME_FS)
			return tree_fail(t, err, ZF_E_PROTOCOL,
			    "listing line %zu: a snapshot or bookmark with a resume token",
			    t->lineno);
		if (!token_chars(f[6], fn[6]))
			return tree_fail(t, err, ZF_E_PROTOCOL,
			    "listing line %zu: invalid receive_resume_token '%s'",
			    t->lineno, quote(q, sizeof(q), f[6], fn[6]));
	}
	/* everything checked but the origin: now the tree changes */
	if ((r = parse_origin(t, f[4], fn[4], pn.kind, &origin, err)) != ZF_OK)
		return r;
	if (!is_dash(f[6], fn[6]) &&
	    (token = arena_dup(t, f[6], fn[6])) == NULL)
		return nomem(t, err);
	if ((r = find_object(t, &pn, &ds, &snap, &isnew, err)) != ZF_OK)
		return r;
	if (!isnew)
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: '%s' is listed twice", t->lineno,
		    pn.buf);
	if (snap != ZF_NONE) {
		t->ps[snap].guid = guid;
		t->ps[snap].createtxg = txg;
		t->psx[snap].have = HAVE_ALL | HAVE_ORIGIN;
	} else {
		struct zf_ds *d = &t->ds[ds];

		d->guid = guid;
		d->createtxg = txg;
		d->volume = volume;
		d->origin = origin;
		d->written = written;
		d->resume_token = token;
		t->dsx[ds].have = HAVE_ALL | HAVE_ORIGIN;
	}
	return ZF_OK;
}

/*
 * name property value, for the properties type, guid, createtxg, origin
 */
static enum zf_status
add_get_line(struct zf_tree *t, const char *line, size_t len,
    struct zf_error *err)
{
	const char *f[NFIELDS_MAX];
	size_t fn[NFIELDS_MAX], nf, ds, snap;
	struct pname pn;
	char q[QBUF];
	uint64_t v = 0;
	const char *origin = NULL;
	bool volume = false, isnew;
	uint8_t bit, *have;
	enum zf_status r;

	nf = split(line, len, f, fn);
	if (nf != 3)
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: %zu tab-separated fields, expected 3",
		    t->lineno, nf);
	if ((r = parse_name(t, f[0], fn[0], &pn, err)) != ZF_OK)
		return r;
	if (field_is(f[1], fn[1], "type")) {
		bit = HAVE_TYPE;
		r = parse_type(t, f[2], fn[2], pn.kind, pn.buf, &volume, err);
	} else if (field_is(f[1], fn[1], "guid")) {
		bit = HAVE_GUID;
		r = parse_num(t, "guid", f[2], fn[2], true, &v, err);
	} else if (field_is(f[1], fn[1], "createtxg")) {
		bit = HAVE_TXG;
		r = parse_num(t, "createtxg", f[2], fn[2], false, &v, err);
	} else if (field_is(f[1], fn[1], "origin")) {
		bit = HAVE_ORIGIN;
		r = ZF_OK; /* parsed once the object is known to be new */
	} else
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: unexpected property '%s'", t->lineno,
		    quote(q, sizeof(q), f[1], fn[1]));
	if (r != ZF_OK)
		return r;
	if ((r = find_object(t, &pn, &ds, &snap, &isnew, err)) != ZF_OK)
		return r;
	have = snap != ZF_NONE ? &t->psx[snap].have : &t->dsx[ds].have;
	if (*have & bit)
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: '%s' has its %.*s twice", t->lineno,
		    pn.buf, (int)fn[1], f[1]);
	if (bit == HAVE_ORIGIN &&
	    (r = parse_origin(t, f[2], fn[2], pn.kind, &origin, err)) != ZF_OK)
		return r;
	*have |= bit;
	if (snap != ZF_NONE) {
		struct zf_snap *s = &t->ps[snap];

		if (bit == HAVE_GUID)
			s->guid = v;
		else if (bit == HAVE_TXG)
			s->createtxg = v;
	} else {
		struct zf_ds *d = &t->ds[ds];

		if (bit == HAVE_TYPE)
			d->volume = volume;
		else if (bit == HAVE_GUID)
			d->guid = v;
		else if (bit == HAVE_TXG)
			d->createtxg = v;
		else
			d->origin = origin;
	}
	return ZF_OK;
}

enum zf_status
zf_tree_add_line(struct zf_tree *t, const char *line, size_t len,
    struct zf_error *err)
{
	if (t->finished)
		return zf_fail_input(err, "the listing of '%s' is finished",
		    t->root);
	if (t->failed)
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "the listing of '%s' failed before line %zu", t->root,
		    t->lineno + 1);
	t->lineno++;
	if (len > LINE_MAX_BYTES)
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: longer than %d bytes", t->lineno,
		    LINE_MAX_BYTES);
	if (len == 0)
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: empty", t->lineno);
	if (memchr(line, '\0', len) != NULL)
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "listing line %zu: holds a NUL byte", t->lineno);
	return t->fmt == ZF_LIST_FORMAT_LIST ? add_list_line(t, line, len, err)
	                                     : add_get_line(t, line, len, err);
}

/* -------- finish -------- */

static const char *
missing(uint8_t have)
{
	if (!(have & HAVE_TYPE))
		return "type";
	return !(have & HAVE_GUID) ? "guid" : "createtxg";
}

/* Every object was listed and (GET) got its type, guid and createtxg. */
static enum zf_status
check_complete(struct zf_tree *t, struct zf_error *err)
{
	size_t i, k;

	for (i = 0; i < t->nds; i++) {
		const struct zf_ds *d = &t->ds[i];
		const struct ds_x *x = &t->dsx[i];

		if (!x->listed)
			return tree_fail(t, err, ZF_E_PROTOCOL,
			    "listing line %" PRIu32
			    ": '%s' has snapshots but is not listed itself",
			    x->line, d->name);
		if ((x->have & HAVE_ALL) != HAVE_ALL)
			return tree_fail(t, err, ZF_E_PROTOCOL,
			    "listing line %" PRIu32 ": '%s' has no %s", x->line,
			    d->name, missing(x->have));
	}
	for (k = 0; k < t->nps; k++)
		if ((t->psx[k].have & HAVE_ALL) != HAVE_ALL)
			return tree_fail(t, err, ZF_E_PROTOCOL,
			    "listing line %" PRIu32 ": '%s%c%s' has no %s",
			    t->psx[k].line, t->ds[t->psx[k].ds].name,
			    t->ps[k].bookmark ? '#' : '@', t->ps[k].name,
			    missing(t->psx[k].have));
	return ZF_OK;
}

/* Every dataset but the root has its parent in the listing. */
static enum zf_status
check_parents(struct zf_tree *t, struct zf_error *err)
{
	const char *name, *slash;
	size_t i;

	for (i = 0; i < t->nds; i++) {
		name = t->ds[i].name;
		if (strlen(name) == t->rootlen)
			continue;
		slash = strrchr(name, '/');
		if (ds_lookup(t, name, (size_t)(slash - name)) == ZF_NONE)
			return tree_fail(t, err, ZF_E_PROTOCOL,
			    "listing line %" PRIu32
			    ": '%s' is listed without its parent '%.*s'",
			    t->dsx[i].line, name, (int)(slash - name), name);
	}
	return ZF_OK;
}

/* What the duplicate check needs of a snapshot, grouped by dataset. */
struct dupkey {
	uint32_t hash;
	uint32_t line;
};

/*
 * Two snapshots (or two bookmarks) of dataset d with one name; k holds
 * their keys, tab is scratch of at least 2 * d->nsnaps slots.
 */
static enum zf_status
check_dups(struct zf_tree *t, const struct zf_ds *d, const struct dupkey *k,
    uint32_t *tab, struct zf_error *err)
{
	size_t i, j, cap;

	for (cap = 4; cap < d->nsnaps * 2; cap *= 2)
		;
	memset(tab, 0, cap * sizeof(*tab));
	for (i = 0; i < d->nsnaps; i++) {
		const struct zf_snap *b = &d->snaps[i];

		for (j = k[i].hash & (cap - 1); tab[j] != 0;
		     j = (j + 1) & (cap - 1)) {
			const struct zf_snap *a = &d->snaps[tab[j] - 1];

			if (k[tab[j] - 1].hash != k[i].hash ||
			    a->bookmark != b->bookmark ||
			    (a->name != b->name &&
			        strcmp(a->name, b->name) != 0))
				continue;
			return tree_fail(t, err, ZF_E_PROTOCOL,
			    "listing line %" PRIu32
			    ": '%s%c%s' is listed twice",
			    k[i].line, d->name, b->bookmark ? '#' : '@',
			    b->name);
		}
		tab[j] = (uint32_t)i + 1;
	}
	return ZF_OK;
}

/*
 * Moves the snapshots into one block, grouped by dataset (a counting
 * sort), and checks each dataset's for duplicates.
 */
static enum zf_status
group_snapshots(struct zf_tree *t, struct zf_error *err)
{
	size_t *at, i, most = 0, cap = 4;
	struct dupkey *keys;
	uint32_t *tab = NULL;
	enum zf_status r = ZF_OK;

	at = calloc(t->nds + 1, sizeof(*at));
	keys = malloc((t->nps ? t->nps : 1) * sizeof(*keys));
	t->snaps = malloc((t->nps ? t->nps : 1) * sizeof(*t->snaps));
	if (at == NULL || keys == NULL || t->snaps == NULL)
		goto oom;
	for (i = 0; i < t->nps; i++)
		at[t->psx[i].ds + 1]++;
	for (i = 0; i < t->nds; i++) {
		if (at[i + 1] > most)
			most = at[i + 1];
		t->ds[i].snaps = t->snaps + at[i];
		t->ds[i].nsnaps = 0;
		at[i + 1] += at[i];
	}
	for (i = 0; i < t->nps; i++) {
		size_t d = t->psx[i].ds, to = at[d] + t->ds[d].nsnaps++;

		t->snaps[to] = t->ps[i];
		keys[to].hash = t->psx[i].hash;
		keys[to].line = t->psx[i].line;
	}
	while (cap < most * 2)
		cap *= 2;
	if ((tab = malloc(cap * sizeof(*tab))) == NULL)
		goto oom;
	for (i = 0; i < t->nds && r == ZF_OK; i++)
		if (t->ds[i].nsnaps > 1)
			r = check_dups(t, &t->ds[i], keys + at[i], tab, err);
	free(at);
	free(keys);
	free(tab);
	return r;
oom:
	free(at);
	free(keys);
	return nomem(t, err);
}

/* Name order with '/' first, so that every subtree is contiguous. */
static int
name_cmp(const char *a, const char *b)
{
	unsigned char x, y;

	for (;; a++, b++) {
		x = (unsigned char)*a;
		y = (unsigned char)*b;
		if (x != y || x == '\0')
			break;
	}
	if (x == y)
		return 0;
	x = x == '/' ? 1 : x;
	y = y == '/' ? 1 : y;
	return x < y ? -1 : 1;
}

static int
ds_cmp(const void *a, const void *b)
{
	return name_cmp(((const struct zf_ds *)a)->name,
	    ((const struct zf_ds *)b)->name);
}

static int
snap_cmp(const void *a, const void *b)
{
	const struct zf_snap *x = a, *y = b;

	if (x->createtxg != y->createtxg)
		return x->createtxg < y->createtxg ? -1 : 1;
	if (x->bookmark != y->bookmark)
		return x->bookmark ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Sorts the datasets by name and the snapshots by createtxg; links. */
static void
sort_all(struct zf_tree *t)
{
	const char *name;
	size_t i, k;
	bool sorted = true;

	for (i = 1; i < t->nds && sorted; i++)
		sorted = name_cmp(t->ds[i - 1].name, t->ds[i].name) < 0;
	if (!sorted) {
		qsort(t->ds, t->nds, sizeof(*t->ds), ds_cmp);
		memset(t->dsh, 0, t->dshcap * sizeof(*t->dsh));
		for (i = 0; i < t->nds; i++)
			table_put(t->dsh, t->dshcap,
			    ds_hash(t, t->ds[i].name, strlen(t->ds[i].name)),
			    i);
	}
	for (i = 0; i < t->nds; i++) {
		struct zf_ds *d = &t->ds[i];

		name = d->name;
		d->parent = strlen(name) > t->rootlen
		    ? ds_lookup(t, name, (size_t)(strrchr(name, '/') - name))
		    : ZF_NONE;
		for (k = 1; k < d->nsnaps; k++)
			if (snap_cmp(&d->snaps[k - 1], &d->snaps[k]) > 0)
				break;
		if (k < d->nsnaps)
			qsort(d->snaps, d->nsnaps, sizeof(*d->snaps), snap_cmp);
		if (d->nsnaps == 0)
			d->snaps = NULL;
	}
}

enum zf_status
zf_tree_finish(struct zf_tree *t, struct zf_error *err)
{
	enum zf_status r;

	if (t->finished)
		return ZF_OK;
	if (t->failed)
		return tree_fail(t, err, ZF_E_PROTOCOL,
		    "the listing of '%s' failed", t->root);
	if ((r = check_complete(t, err)) != ZF_OK ||
	    (r = check_parents(t, err)) != ZF_OK ||
	    (r = group_snapshots(t, err)) != ZF_OK)
		return r;
	/* the indexes move now: the parse state goes first */
	free_parse_state(t);
	sort_all(t);
	t->finished = true;
	return ZF_OK;
}

/* -------- queries -------- */

size_t
zf_tree_count(const struct zf_tree *t)
{
	return t == NULL ? 0 : t->nds;
}

const struct zf_ds *
zf_tree_at(const struct zf_tree *t, size_t i)
{
	return t == NULL || i >= t->nds ? NULL : &t->ds[i];
}

size_t
zf_tree_find(const struct zf_tree *t, const char *name)
{
	if (t == NULL || name == NULL)
		return ZF_NONE;
	return ds_lookup(t, name, strlen(name));
}
