#include "compat.h"

#include "plan.h"
#include "validate.h"

/* Planning state of one source dataset. */
struct ds_st {
	bool selected;
	uint8_t visit; /* 0 not yet, 1 on the stack, 2 planned */
	bool origin_seen; /* its origin's dataset was looked at */
	bool origin_cut; /* using the origin would close a cycle */
	size_t up; /* nearest selected ancestor, or ZF_NONE */
	size_t last_step; /* ZF_NONE until planned */
	/* what the target will hold afterwards, as source snapshot positions */
	size_t sent_lo, sent_hi; /* ZF_NONE if nothing is sent */
	bool sent_all; /* everything in [lo, hi], not only hi */
	bool replaced; /* its target is destroyed and sent anew */
	bool gone; /* ... or that of an ancestor, and this one with it */
};

struct planner {
	struct zf_plan *plan;
	const struct zf_tree *src, *dst;
	const struct zf_plan_opts *o;
	size_t srclen;
	struct ds_st *st;
	size_t capsteps;
	size_t capnames;
	size_t *dsoff; /* per step: offset of its destroy_snaps, or ZF_NONE */
	uint32_t *set; /* guid_index() */
	size_t capset, allocset;
	const struct zf_ds *setds;
	uint64_t key;
	struct zf_error *err;
};

const char *
zf_step_kind_str(enum zf_step_kind k)
{
	switch (k) {
	case ZF_STEP_FULL:
		return "full";
	case ZF_STEP_INCREMENTAL:
		return "incremental";
	case ZF_STEP_RESUME:
		return "resume";
	case ZF_STEP_SKIP:
		return "skip";
	case ZF_STEP_REFUSE:
		return "refuse";
	}
	return "unknown";
}

void
zf_plan_release(struct zf_plan *plan)
{
	size_t i;

	if (plan == NULL)
		return;
	for (i = 0; i < plan->nnames; i++)
		free((char *)(uintptr_t)plan->names[i]);
	free(plan->names);
	free(plan->steps);
	memset(plan, 0, sizeof(*plan));
}

/* -------- helpers -------- */

static enum zf_status
nomem(struct planner *p)
{
	return zf_fail(p->err, ZF_E_NOMEM, "out of memory while planning");
}

/* Is name root or below it? */
static bool
under(const char *name, const char *root, size_t rootlen)
{
	return strncmp(name, root, rootlen) == 0 &&
	    (name[rootlen] == '\0' || name[rootlen] == '/');
}

/* The target of a source dataset; false when the name would be too long. */
static bool
map_name(const struct planner *p, const char *srcname, char *out, size_t outsz)
{
	int n =
	    snprintf(out, outsz, "%s%s", p->o->dst_root, srcname + p->srclen);

	return n >= 0 && (size_t)n < outsz && (size_t)n < ZF_NAME_MAX;
}

/* ds@snap or ds#bookmark; the tree checked that it is < 256 bytes. */
static void
full_name(char *out, size_t outsz, const char *ds, const struct zf_snap *s)
{
	snprintf(out, outsz, "%s%c%s", ds, s->bookmark ? '#' : '@', s->name);
}

/* Positions of the oldest and the newest snapshot (bookmarks skipped). */
static bool
snap_range(const struct zf_ds *d, size_t *oldest, size_t *newest)
{
	size_t i;

	*oldest = *newest = ZF_NONE;
	for (i = 0; i < d->nsnaps; i++) {
		if (d->snaps[i].bookmark)
			continue;
		if (*oldest == ZF_NONE)
			*oldest = i;
		*newest = i;
	}
	return *oldest != ZF_NONE;
}

/*
 * A set of the guids of a dataset's snapshots (bookmarks left out): the
 * positions + 1 in an open-addressing table.  The guids come from another
 * host: the hash is keyed.
 */
static size_t
guid_slot(const struct planner *p, uint64_t guid)
{
	uint64_t x = guid ^ p->key;

	/* splitmix64's finalizer */
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return (size_t)(x ^ (x >> 31)) & (p->capset - 1);
}

static enum zf_status
guid_index(struct planner *p, const struct zf_ds *d)
{
	size_t i, j, cap = 8;

	while (cap < d->nsnaps * 2)
		cap *= 2;
	if (cap > p->allocset) {
		uint32_t *s = realloc(p->set, cap * sizeof(*s));

		if (s == NULL)
			return nomem(p);
		p->set = s;
		p->allocset = cap;
	}
	p->capset = cap;
	p->setds = d;
	memset(p->set, 0, cap * sizeof(*p->set));
	for (i = 0; i < d->nsnaps; i++) {
		if (d->snaps[i].bookmark)
			continue;
		for (j = guid_slot(p, d->snaps[i].guid); p->set[j] != 0;
		     j = (j + 1) & (cap - 1))
			;
		p->set[j] = (uint32_t)i + 1;
	}
	return ZF_OK;
}

/* The position of the snapshot with that guid in the indexed dataset. */
static size_t
guid_find(const struct planner *p, uint64_t guid)
{
	size_t j;

	for (j = guid_slot(p, guid); p->set[j] != 0;
	     j = (j + 1) & (p->capset - 1))
		if (p->setds->snaps[p->set[j] - 1].guid == guid)
			return p->set[j] - 1;
	return ZF_NONE;
}

/* Position of the snapshot (not bookmark) of d with that guid. */
static size_t
snap_by_guid(const struct zf_ds *d, uint64_t guid)
{
	size_t i;

	for (i = 0; i < d->nsnaps; i++)
		if (!d->snaps[i].bookmark && d->snaps[i].guid == guid)
			return i;
	return ZF_NONE;
}

/* -------- steps -------- */

static enum zf_status
add_step(struct planner *p, size_t src, size_t dst, const char *target,
    enum zf_step_kind kind, struct zf_step **out)
{
	struct zf_plan *plan = p->plan;
	struct ds_st *st = &p->st[src];
	struct zf_step *s;

	if (plan->nsteps == p->capsteps) {
		size_t cap = p->capsteps ? p->capsteps * 2 : 64;
		struct zf_step *v = realloc(plan->steps, cap * sizeof(*v));
		size_t *off;

		if (v == NULL)
			return nomem(p);
		plan->steps = v;
		off = realloc(p->dsoff, cap * sizeof(*off));
		if (off == NULL)
			return nomem(p);
		p->dsoff = off;
		p->capsteps = cap;
	}
	s = &plan->steps[plan->nsteps];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->src = src;
	s->dst = dst;
	/* target was checked to fit by map_name() */
	zf_strlcpy_ok(s->target, target, sizeof(s->target));
	if (st->last_step != ZF_NONE) {
		s->after = st->last_step;
		s->after2 = ZF_NONE;
	} else {
		s->after =
		    st->up != ZF_NONE ? p->st[st->up].last_step : ZF_NONE;
		s->after2 = ZF_NONE;
	}
	p->dsoff[plan->nsteps] = ZF_NONE;
	st->last_step = plan->nsteps++;
	*out = s;
	return ZF_OK;
}

static void add_reason(struct zf_step *s, const char *fmt, ...) ZF_PRINTF(2, 3);

static void
add_reason(struct zf_step *s, const char *fmt, ...)
{
	va_list ap;

	/* a reason cut at 511 bytes still tells what happened */
	va_start(ap, fmt);
	vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
}

static void fmt_into(char *buf, size_t n, const char *fmt, ...) ZF_PRINTF(3, 4);

static void
fmt_into(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

/* A FULL or INCREMENTAL step of source dataset d from..to. */
static enum zf_status
send_step(struct planner *p, size_t src, size_t dst, const char *target,
    const struct zf_snap *from, const char *from_ds, const struct zf_snap *to,
    bool intermediates, struct zf_step **out)
{
	const struct zf_ds *d = zf_tree_at(p->src, src);
	struct zf_step *s;
	enum zf_status r;

	r = add_step(p, src, dst, target,
	    from == NULL ? ZF_STEP_FULL : ZF_STEP_INCREMENTAL, &s);
	if (r != ZF_OK)
		return r;
	if (from != NULL) {
		/* from_ds: the origin's name for a clone, else this dataset */
		full_name(s->from, sizeof(s->from),
		    from_ds != NULL ? from_ds : d->name, from);
		s->from_guid = from->guid;
		s->intermediates = intermediates;
	}
	full_name(s->to, sizeof(s->to), d->name, to);
	s->to_guid = to->guid;
	*out = s;
	return ZF_OK;
}

/*
 * Rule 7: lists, in step, the target snapshots whose guid no source
 * snapshot has, but for those after position rolled_after (ZF_NONE: none)
 * that a forced receive rolls back anyway.
 */
static enum zf_status
list_destroys(struct planner *p, size_t step, const struct zf_ds *sd,
    const struct zf_ds *td, size_t rolled_after)
{
	struct zf_plan *plan = p->plan;
	size_t i, off = plan->nnames;
	char name[ZF_NAME_MAX + 2];
	enum zf_status r;
	bool any = false;

	if ((r = guid_index(p, sd)) != ZF_OK)
		return r;
	for (i = 0; i < td->nsnaps; i++) {
		const struct zf_snap *s = &td->snaps[i];

		if (s->bookmark || guid_find(p, s->guid) != ZF_NONE)
			continue;
		if (rolled_after != ZF_NONE && i > rolled_after)
			continue;
		if (plan->nnames + 2 > p->capnames) {
			size_t cap = p->capnames ? p->capnames * 2 : 64;
			const char **v = realloc(plan->names, cap * sizeof(*v));

			if (v == NULL)
				return nomem(p);
			plan->names = v;
			p->capnames = cap;
		}
		full_name(name, sizeof(name), td->name, s);
		if ((plan->names[plan->nnames] = strdup(name)) == NULL)
			return nomem(p);
		plan->nnames++;
		any = true;
	}
	if (!any)
		return ZF_OK;
	plan->names[plan->nnames++] = NULL;
	p->dsoff[step] = off;
	return ZF_OK;
}

/* -------- clones -------- */

enum have { HAVE_NOT, HAVE_ALREADY, HAVE_SENT };

/*
 * Will the target hold the snapshot at position pos of source dataset o
 * (guid) once the steps planned so far have run: not, already, or because
 * they send it?
 */
static enum have
target_will_have(const struct planner *p, size_t o, size_t pos, uint64_t guid)
{
	const struct ds_st *st = &p->st[o];
	char tname[ZF_NAME_MAX];
	size_t k;

	if (st->selected && st->sent_hi != ZF_NONE &&
	    (pos == st->sent_hi ||
	        (st->sent_all && pos >= st->sent_lo && pos <= st->sent_hi)))
		return HAVE_SENT;
	if (st->replaced || st->gone ||
	    (st->up != ZF_NONE &&
	        (p->st[st->up].replaced || p->st[st->up].gone)) ||
	    !map_name(p, zf_tree_at(p->src, o)->name, tname, sizeof(tname)))
		return HAVE_NOT;
	k = zf_tree_find(p->dst, tname);
	return k != ZF_NONE &&
	        snap_by_guid(zf_tree_at(p->dst, k), guid) != ZF_NONE
	    ? HAVE_ALREADY
	    : HAVE_NOT;
}

/*
 * The origin snapshot a clone (source index x) can be sent from: its
 * dataset and position, when it is in the source tree under the source
 * root and the target holds it or will (*sent: by this plan).  Returns
 * false otherwise.
 */
static bool
usable_origin(const struct planner *p, size_t x, size_t *od, size_t *opos,
    bool *sent)
{
	enum have h;

	const struct zf_ds *d = zf_tree_at(p->src, x), *o;
	const char *at;
	char oname[ZF_NAME_MAX];
	size_t i;

	if (d->origin == NULL || p->st[x].origin_cut)
		return false;
	at = strchr(d->origin, '@');
	if (at == NULL || (size_t)(at - d->origin) >= sizeof(oname))
		return false;
	memcpy(oname, d->origin, (size_t)(at - d->origin));
	oname[at - d->origin] = '\0';
	if (!under(oname, p->o->src_root, p->srclen))
		return false;
	*od = zf_tree_find(p->src, oname);
	if (*od == ZF_NONE || *od == x)
		return false;
	o = zf_tree_at(p->src, *od);
	for (i = 0; i < o->nsnaps; i++)
		if (!o->snaps[i].bookmark &&
		    strcmp(o->snaps[i].name, at + 1) == 0)
			break;
	if (i == o->nsnaps)
		return false;
	*opos = i;
	h = target_will_have(p, *od, i, o->snaps[i].guid);
	*sent = h == HAVE_SENT;
	return h != HAVE_NOT;
}

/* -------- one dataset -------- */

/* Rule 2, and rule 3 under --force: the target starts from nothing. */
static enum zf_status
plan_new(struct planner *p, size_t x, size_t j, const char *tname,
    size_t oldest, size_t newest, bool replace)
{
	const struct zf_ds *d = zf_tree_at(p->src, x);
	const struct zf_snap *first =
	    &d->snaps[p->o->no_stream ? newest : oldest];
	struct ds_st *st = &p->st[x];
	struct zf_step *s;
	size_t od, opos;
	enum zf_status r;
	char oname[ZF_NAME_MAX];
	bool sent;

	if (!replace && usable_origin(p, x, &od, &opos, &sent)) {
		const struct zf_ds *o = zf_tree_at(p->src, od);

		r = send_step(p, x, j, tname, &o->snaps[opos], o->name, first,
		    false, &s);
		if (r != ZF_OK)
			return r;
		s->clone = true;
		/*
		 * It waits for the steps that send the origin; an origin the
		 * target has already needs no wait (and a refused step of
		 * its dataset must not hold the clone back).
		 */
		if (sent)
			s->after2 = p->st[od].last_step;
		full_name(oname, sizeof(oname), o->name, &o->snaps[opos]);
		add_reason(s,
		    "no target dataset '%s': '%s' is a clone of '%s', sent from it",
		    tname, d->name, oname);
	} else {
		r = send_step(p, x, j, tname, NULL, NULL, first, false, &s);
		if (r != ZF_OK)
			return r;
		if (replace) {
			s->destroy_target = true;
			s->force = true;
			add_reason(s,
			    "'%s' shares no snapshot with '%s'; replacing it (--force)",
			    tname, d->name);
		} else
			add_reason(s, "no target dataset '%s'", tname);
	}
	st->replaced = replace;
	st->sent_lo = st->sent_hi = p->o->no_stream ? newest : oldest;
	st->sent_all = true;
	if (p->o->no_stream || oldest == newest)
		return ZF_OK;
	r = send_step(p, x, j, tname, &d->snaps[oldest], d->name,
	    &d->snaps[newest], true, &s);
	if (r != ZF_OK)
		return r;
	add_reason(s, "the snapshots after '%s'", s->from);
	st->sent_hi = newest;
	return ZF_OK;
}

/* Rules 3 to 7: the target dataset j exists. */
static enum zf_status
plan_existing(struct planner *p, size_t x, size_t j, const char *tname,
    size_t oldest, size_t newest)
{
	const struct zf_ds *d = zf_tree_at(p->src, x);
	const struct zf_ds *td = zf_tree_at(p->dst, j);
	struct ds_st *st = &p->st[x];
	const struct zf_snap *base = NULL;
	size_t k, base_pos = ZF_NONE, tpos = ZF_NONE, newer = ZF_NONE;
	size_t rolled_after = ZF_NONE, next;
	char tbase[ZF_NAME_MAX + 2], teg[ZF_NAME_MAX + 2], why[512];
	struct zf_step *s;
	enum zf_status r;
	bool diverged = false;

	/* rule 3: the newest source snapshot or bookmark the target has */
	if ((r = guid_index(p, td)) != ZF_OK)
		return r;
	for (k = d->nsnaps; k-- > 0;) {
		tpos = guid_find(p, d->snaps[k].guid);
		if (tpos != ZF_NONE) {
			base_pos = k;
			base = &d->snaps[k];
			break;
		}
	}
	if (base == NULL) {
		if (p->o->force)
			return plan_new(p, x, j, tname, oldest, newest, true);
		r = add_step(p, x, j, tname, ZF_STEP_REFUSE, &s);
		if (r == ZF_OK)
			add_reason(s,
			    "'%s' shares no snapshot with '%s'; --force replaces it",
			    tname, d->name);
		return r;
	}

	/* rule 4: a target that moved on since the base */
	full_name(tbase, sizeof(tbase), td->name, &td->snaps[tpos]);
	for (k = tpos + 1; k < td->nsnaps; k++)
		if (!td->snaps[k].bookmark) {
			newer = k;
			break;
		}
	why[0] = '\0';
	if (newer != ZF_NONE) {
		full_name(teg, sizeof(teg), td->name, &td->snaps[newer]);
		fmt_into(why, sizeof(why),
		    "target '%s' has snapshots newer than the common snapshot '%s' (eg. '%s')",
		    tname, tbase, teg);
		diverged = true;
	} else if (td->written != UINT64_MAX && td->written > 0) {
		fmt_into(why, sizeof(why),
		    "target '%s' was modified since '%s' (written %" PRIu64
		    " bytes)",
		    tname, tbase, td->written);
		diverged = true;
	}
	if (diverged && !p->o->force) {
		r = add_step(p, x, j, tname, ZF_STEP_REFUSE, &s);
		if (r == ZF_OK)
			add_reason(s, "%s; --force rolls %s back", why,
			    newer != ZF_NONE ? "them" : "it");
		return r;
	}

	/* rule 5 */
	if (base_pos >= newest) {
		r = add_step(p, x, j, tname, ZF_STEP_SKIP, &s);
		if (r != ZF_OK)
			return r;
		if (diverged)
			add_reason(s,
			    "up to date at '%s' (nothing to send; %s)", tbase,
			    why);
		else
			add_reason(s, "up to date at '%s'", tbase);
		goto destroys;
	}

	/* rule 6 */
	for (next = base_pos + 1; d->snaps[next].bookmark; next++)
		;
	if (diverged)
		rolled_after = tpos;
	if (base->bookmark && !p->o->no_stream) {
		r = send_step(p, x, j, tname, base, d->name, &d->snaps[next],
		    false, &s);
		if (r != ZF_OK)
			return r;
		s->force = diverged;
		add_reason(s, "from the bookmark '%s' (the target has '%s')%s",
		    s->from, tbase,
		    diverged ? "; rolling back the target (--force)" : "");
		if (next != newest) {
			r = send_step(p, x, j, tname, &d->snaps[next], d->name,
			    &d->snaps[newest], true, &s);
			if (r != ZF_OK)
				return r;
			add_reason(s, "the snapshots after '%s'", s->from);
		}
	} else {
		r = send_step(p, x, j, tname, base, d->name, &d->snaps[newest],
		    !p->o->no_stream, &s);
		if (r != ZF_OK)
			return r;
		s->force = diverged;
		add_reason(s, "from the common %s '%s' (the target has '%s')%s",
		    base->bookmark ? "bookmark" : "snapshot", s->from, tbase,
		    diverged ? "; rolling back the target (--force)" : "");
	}
	st->sent_lo = p->o->no_stream ? newest : next;
	st->sent_hi = newest;
	st->sent_all = true;

destroys:
	if (p->o->delete_target_snapshots)
		return list_destroys(p, st->last_step, d, td, rolled_after);
	return ZF_OK;
}

/* The longest snapshot name of d (bookmarks are not sent), or NULL. */
static const char *
longest_snap(const struct zf_ds *d)
{
	const char *best = NULL;
	size_t i, n, most = 0;

	for (i = 0; i < d->nsnaps; i++)
		if (!d->snaps[i].bookmark &&
		    (n = strlen(d->snaps[i].name)) > most) {
			most = n;
			best = d->snaps[i].name;
		}
	return best;
}

static enum zf_status
plan_one(struct planner *p, size_t x)
{
	const struct zf_ds *d = zf_tree_at(p->src, x);
	const char *longest;
	char tname[ZF_NAME_MAX];
	size_t j = ZF_NONE, oldest, newest;
	const struct zf_ds *td = NULL;
	struct zf_step *s;
	enum zf_status r;

	if (!map_name(p, d->name, tname, sizeof(tname))) {
		r = add_step(p, x, ZF_NONE, "", ZF_STEP_REFUSE, &s);
		if (r == ZF_OK)
			add_reason(s,
			    "the target name of '%s' under '%s' would be longer than 255 bytes",
			    d->name, p->o->dst_root);
		return r;
	}
	if ((longest = longest_snap(d)) != NULL &&
	    strlen(tname) + 1 + strlen(longest) >= ZF_NAME_MAX) {
		r = add_step(p, x, ZF_NONE, tname, ZF_STEP_REFUSE, &s);
		if (r == ZF_OK)
			add_reason(s, "'%s@%s' would be longer than 255 bytes",
			    tname, longest);
		return r;
	}
	/* "zfs destroy -r" of a replaced target takes its children along */
	if (p->st[x].up != ZF_NONE)
		p->st[x].gone =
		    p->st[p->st[x].up].replaced || p->st[p->st[x].up].gone;
	j = p->st[x].gone ? ZF_NONE : zf_tree_find(p->dst, tname);
	if (j != ZF_NONE)
		td = zf_tree_at(p->dst, j);

	/* rule 1 */
	if (td != NULL && td->resume_token != NULL) {
		r = add_step(p, x, j, tname, ZF_STEP_RESUME, &s);
		if (r != ZF_OK)
			return r;
		s->token = td->resume_token;
		add_reason(s, "'%s' holds an interrupted receive", tname);
		return ZF_OK;
	}
	if (!snap_range(d, &oldest, &newest)) {
		r = add_step(p, x, j, tname, ZF_STEP_SKIP, &s);
		if (r == ZF_OK)
			add_reason(s, "no snapshot to send");
		return r;
	}
	if (td == NULL)
		return plan_new(p, x, j, tname, oldest, newest, false);
	return plan_existing(p, x, j, tname, oldest, newest);
}

/* -------- order: parents before children, origins before clones -------- */

/* Is o or one of its selected ancestors on the stack? */
static bool
chain_on_stack(const struct planner *p, size_t o)
{
	for (; o != ZF_NONE; o = p->st[o].up)
		if (p->st[o].visit == 1)
			return true;
	return false;
}

/* The source index of the dataset of x's origin if it is planned too. */
static size_t
origin_ds(const struct planner *p, size_t x)
{
	const struct zf_ds *d = zf_tree_at(p->src, x);
	const char *at;
	char oname[ZF_NAME_MAX];
	size_t o;

	if (d->origin == NULL || (at = strchr(d->origin, '@')) == NULL ||
	    (size_t)(at - d->origin) >= sizeof(oname))
		return ZF_NONE;
	memcpy(oname, d->origin, (size_t)(at - d->origin));
	oname[at - d->origin] = '\0';
	o = zf_tree_find(p->src, oname);
	return o != ZF_NONE && p->st[o].selected ? o : ZF_NONE;
}

/*
 * Plans x after what it depends on, without recursion (a hostile listing
 * can chain clones deeply).  The parent edges never form a cycle; an origin
 * edge that would close one is cut: that clone is sent in full.
 */
static enum zf_status
visit(struct planner *p, size_t x, size_t *stack)
{
	size_t sp = 0, y, o;
	enum zf_status r;

	stack[sp++] = x;
	while (sp > 0) {
		y = stack[sp - 1];
		if (p->st[y].visit == 2) {
			sp--;
			continue;
		}
		p->st[y].visit = 1;
		if (p->st[y].up != ZF_NONE && p->st[p->st[y].up].visit == 0) {
			stack[sp++] = p->st[y].up;
			continue;
		}
		if (!p->st[y].origin_seen) {
			p->st[y].origin_seen = true;
			o = origin_ds(p, y);
			if (o != ZF_NONE && p->st[o].visit != 2) {
				if (chain_on_stack(p, o))
					p->st[y].origin_cut = true;
				else {
					stack[sp++] = o;
					continue;
				}
			}
		}
		if ((r = plan_one(p, y)) != ZF_OK)
			return r;
		p->st[y].visit = 2;
		sp--;
	}
	return ZF_OK;
}

/* -------- entry -------- */

static enum zf_status
check_opts(const struct zf_tree *src, const struct zf_plan_opts *o,
    size_t *root, struct zf_error *err)
{
	enum zf_status r;

	if (src == NULL || o == NULL)
		return zf_fail_input(err, "no source listing or no options");
	if ((r = zf_check_name("source", o->src_root, ZF_NAME_FS, NULL, err)) !=
	        ZF_OK ||
	    (r = zf_check_name("target", o->dst_root, ZF_NAME_FS, NULL, err)) !=
	        ZF_OK)
		return r;
	if (o->skip_parent && !o->recursive)
		return zf_fail_input(err,
		    "skipping the parent needs a recursive sync");
	if (o->nexcludes > 0 && o->excludes == NULL)
		return zf_fail_input(err, "%zu excludes but no expressions",
		    o->nexcludes);
	*root = zf_tree_find(src, o->src_root);
	if (*root == ZF_NONE)
		return zf_fail_input(err, "source '%s' is not in its listing",
		    o->src_root);
	return ZF_OK;
}

static bool
excluded(const struct zf_plan_opts *o, const char *name)
{
	size_t i;

	for (i = 0; i < o->nexcludes; i++)
		if (regexec(&o->excludes[i], name, 0, NULL, 0) == 0)
			return true;
	return false;
}

enum zf_status
zf_plan_make(struct zf_plan *plan, const struct zf_tree *src,
    const struct zf_tree *dst, const struct zf_plan_opts *o,
    struct zf_error *err)
{
	struct planner p;
	size_t root, n, i, *stack = NULL;
	enum zf_status r;

	memset(plan, 0, sizeof(*plan));
	if ((r = check_opts(src, o, &root, err)) != ZF_OK)
		return r;
	memset(&p, 0, sizeof(p));
	p.plan = plan;
	p.src = src;
	p.dst = dst;
	p.o = o;
	p.err = err;
	p.key = zf_now_ns() ^ (uint64_t)(uintptr_t)&p;
	p.srclen = strlen(o->src_root);
	n = zf_tree_count(src);
	p.st = calloc(n, sizeof(*p.st));
	stack = malloc(n * sizeof(*stack));
	if (p.st == NULL || stack == NULL) {
		r = nomem(&p);
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct zf_ds *d = zf_tree_at(src, i);
		struct ds_st *st = &p.st[i];

		st->last_step = st->sent_lo = st->sent_hi = ZF_NONE;
		st->up = ZF_NONE;
		if (i == root)
			st->selected = !o->skip_parent;
		else
			st->selected = o->recursive &&
			    under(d->name, o->src_root, p.srclen) &&
			    !excluded(o, d->name);
	}
	/* parents come first in the tree: their .up is known by then */
	for (i = 0; i < n; i++) {
		size_t up = zf_tree_at(src, i)->parent;

		if (up != ZF_NONE)
			p.st[i].up = p.st[up].selected ? up : p.st[up].up;
	}
	for (i = 0; i < n; i++)
		if (p.st[i].selected && p.st[i].visit == 0 &&
		    (r = visit(&p, i, stack)) != ZF_OK)
			goto out;
	for (i = 0; i < plan->nsteps; i++)
		plan->steps[i].destroy_snaps =
		    p.dsoff[i] == ZF_NONE ? NULL : plan->names + p.dsoff[i];
	r = ZF_OK;
out:
	if (r != ZF_OK)
		zf_plan_release(plan);
	free(p.st);
	free(p.dsoff);
	free(p.set);
	free(stack);
	return r;
}
