#include "compat.h"

#include <sys/stat.h>

#include "codec.h"
#include "relay.h"
#include "spec.h"
#include "validate.h"

void
zf_send_config_init(struct zf_send_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->compress = ZF_COMPRESS_AUTO;
	cfg->stall_timeout_ms = ZF_DEFAULT_STALL_MS;
	cfg->progress_interval_ms = 1000;
}

bool
zf_location_is_remote(const struct zf_location *loc)
{
	return loc->host[0] != '\0';
}

/* Splits "[user@]host" or "[user@][v6]" into loc; no message on failure. */
static bool
parse_userhost(struct zf_location *loc, const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	const char *h = s;
	size_t hlen = len;

	loc->user[0] = '\0';
	if (at != NULL) {
		size_t ulen = (size_t)(at - s);

		if (ulen == 0 || ulen >= sizeof(loc->user))
			return false;
		memcpy(loc->user, s, ulen);
		loc->user[ulen] = '\0';
		if (zf_check_user("", loc->user, NULL) != ZF_OK)
			return false;
		h = at + 1;
		hlen = len - ulen - 1;
	}
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
		if (memchr(h, ':', hlen) == NULL)
			return false;
	} else if (memchr(h, ':', hlen) != NULL || memchr(h, '[', hlen)) {
		return false;
	}
	if (hlen == 0 || hlen >= sizeof(loc->host))
		return false;
	memcpy(loc->host, h, hlen);
	loc->host[hlen] = '\0';
	return zf_check_host("", loc->host, NULL) == ZF_OK;
}

enum zf_status
zf_location_parse(struct zf_location *loc, const char *text, unsigned kinds,
    const char *what, struct zf_error *err)
{
	const char *colon, *slash, *rest;

	memset(loc, 0, sizeof(*loc));
	if (text == NULL || text[0] == '\0') {
		return zf_fail_input(err, "%s: empty argument", what);
	}
	/* "[v6]:..." and "user@[v6]:...": the ':' after the ']' separates */
	colon = strchr(text, ':');
	if (colon != NULL) {
		const char *lb = strchr(text, '[');

		if (lb != NULL && lb < colon) {
			const char *rb = strchr(lb, ']');

			colon = rb != NULL && rb[1] == ':' ? rb + 1 : NULL;
		}
	}
	slash = strchr(text, '/');
	if (colon != NULL && (slash == NULL || colon < slash)) {
		rest = colon + 1;
		if (parse_userhost(loc, text, (size_t)(colon - text)) &&
		    zf_check_name(what, rest, kinds, NULL, NULL) == ZF_OK) {
			zf_strlcpy_ok(loc->dataset, rest, sizeof(loc->dataset));
			return ZF_OK; /* the name check bounds its length */
		}
		memset(loc, 0, sizeof(*loc));
		/* not remote: a local name may hold ':' too */
		if (zf_check_name(what, text, kinds, NULL, NULL) != ZF_OK) {
			/* explain the remote reading when it looks meant */
			struct zf_location tmp;

			memset(&tmp, 0, sizeof(tmp));
			if (text[0] == '-')
				return zf_fail_input(err,
				    "%s: '%s' must not begin with '-'", what,
				    text);
			if (!parse_userhost(&tmp, text, (size_t)(colon - text)))
				return zf_fail_input(err,
				    "%s: invalid [user@]host in '%s'", what,
				    text);
			return zf_check_name(what, rest, kinds, NULL, err);
		}
	} else if (zf_check_name(what, text, kinds, NULL, err) != ZF_OK) {
		return ZF_E_INVALID;
	}
	zf_strlcpy_ok(loc->dataset, text, sizeof(loc->dataset));
	return ZF_OK; /* the name check bounds its length */
}

static bool
path_char_ok(char c)
{
	/* ssh splits these option values on whitespace and expands % and ~ */
	return (unsigned char)c > ' ' && c != 0x7f && c != '%' && c != '"' &&
	    c != '\'' && c != '\\';
}

enum zf_status
zf_check_ssh_file(const char *what, const char *path, char **abs,
    bool *too_open, struct zf_error *err)
{
	struct stat st;
	const char *p;
	char *real;

	*abs = NULL;
	if (too_open != NULL)
		*too_open = false;
	if (path == NULL || path[0] == '\0')
		return zf_fail_input(err, "%s: empty file name", what);
	if (path[0] == '-')
		return zf_fail_input(err,
		    "%s: file name '%s' must not begin with '-'", what, path);
	real = realpath(path, NULL);
	if (real == NULL)
		return zf_fail_input(err, "%s: cannot use '%s': %s", what, path,
		    strerror(errno));
	for (p = real; *p != '\0'; p++) {
		if (!path_char_ok(*p)) {
			zf_fail_input(err,
			    "%s: file name '%s' holds whitespace, a quote, '%%' or '\\', which ssh would not read as written",
			    what, real);
			free(real);
			return ZF_E_INVALID;
		}
	}
	if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
		zf_fail_input(err, "%s: '%s' is not a regular file", what,
		    path);
		free(real);
		return ZF_E_INVALID;
	}
	if (access(real, R_OK) != 0) {
		zf_fail_input(err, "%s: cannot read '%s': %s", what, path,
		    strerror(errno));
		free(real);
		return ZF_E_INVALID;
	}
	if (too_open != NULL && (st.st_mode & 077) != 0)
		*too_open = true;
	*abs = real;
	return ZF_OK;
}

static char *
dataset_of(const char *name)
{
	size_t n = strcspn(name, "@#");

	return strndup(name, n);
}

/* Turns the -i/-I base into a full snapshot or bookmark name. */
static enum zf_status
resolve_base(struct zf_spec *s, const char *base, struct zf_error *err)
{
	const char *what = s->intermediates ? "-I base" : "-i base";
	enum zf_name_kind kind;
	char *ds;
	int n;
	char full[ZF_NAME_MAX + 1];

	if (base == NULL)
		return ZF_OK;
	if (base[0] == '@' || base[0] == '#' || strpbrk(base, "/@#") == NULL) {
		const char *shortname =
		    base[0] == '@' || base[0] == '#' ? base + 1 : base;

		if (zf_check_short_name(what, shortname, err) != ZF_OK)
			return ZF_E_INVALID;
		ds = dataset_of(s->source.dataset);
		if (ds == NULL)
			return zf_fail(err, ZF_E_NOMEM, "out of memory");
		n = snprintf(full, sizeof(full), "%s%c%s", ds,
		    base[0] == '#' ? '#' : '@', shortname);
		free(ds);
		if (n < 0 || (size_t)n >= ZF_NAME_MAX) {
			return zf_fail_input(err,
			    "%s: '%s' makes a name longer than 255 bytes", what,
			    base);
		}
		base = full;
	}
	if (zf_check_name(what, base, ZF_NAME_SNAPSHOT | ZF_NAME_BOOKMARK,
	        &kind, err) != ZF_OK)
		return ZF_E_INVALID;
	if (kind == ZF_NAME_BOOKMARK && s->intermediates) {
		return zf_fail_input(err,
		    "-I base: '%s' is a bookmark; -I needs a snapshot (use -i to send from a bookmark)",
		    base);
	}
	if (strcmp(base, s->source.dataset) == 0) {
		return zf_fail_input(err, "%s: '%s' is the snapshot being sent",
		    what, base);
	}
	s->base = strdup(base);
	return s->base == NULL ? zf_fail(err, ZF_E_NOMEM, "out of memory")
	                       : ZF_OK;
}

static enum zf_status
check_location(const struct zf_location *loc, unsigned kinds, const char *what,
    struct zf_error *err)
{
	if (loc->user[0] != '\0' && zf_check_user(what, loc->user, err))
		return ZF_E_INVALID;
	if (loc->user[0] != '\0' && loc->host[0] == '\0') {
		return zf_fail_input(err, "%s: a user name needs a host", what);
	}
	if (loc->host[0] != '\0' && zf_check_host(what, loc->host, err))
		return ZF_E_INVALID;
	return zf_check_name(what, loc->dataset, kinds, NULL, err);
}

static enum zf_status
spec_ssh(struct zf_ssh_spec *ssh, const struct zf_ssh_config *c,
    const char *program, struct zf_error *err)
{
	const char *const *o;
	struct zf_argv opts = ZF_ARGV_INIT;
	char canon[1100];

	if (c->port > 65535) {
		return zf_fail_input(err,
		    "--ssh-port: %u is out of range (1 to 65535)", c->port);
	}
	ssh->port = c->port;
	if (c->key_file != NULL &&
	    zf_check_ssh_file("--ssh-key", c->key_file, &ssh->key_file,
	        &ssh->key_too_open, err) != ZF_OK)
		return ZF_E_INVALID;
	if (c->known_hosts != NULL &&
	    zf_check_ssh_file("--known-hosts", c->known_hosts,
	        &ssh->known_hosts, NULL, err) != ZF_OK)
		return ZF_E_INVALID;
	if (c->cipher != NULL) {
		if (zf_check_cipher_list("--ssh-cipher", c->cipher, err))
			return ZF_E_INVALID;
		ssh->cipher = strdup(c->cipher);
	}
	for (o = c->options; o != NULL && *o != NULL; o++) {
		if (zf_check_ssh_option(*o, canon, sizeof(canon), err)) {
			zf_argv_clear(&opts);
			return ZF_E_INVALID;
		}
		zf_argv_push(&opts, canon);
	}
	ssh->options = zf_argv_finish(&opts);
	ssh->program = strdup(program != NULL ? program : "ssh");
	if (ssh->options == NULL || ssh->program == NULL ||
	    (c->cipher != NULL && ssh->cipher == NULL))
		return zf_fail(err, ZF_E_NOMEM, "out of memory");
	return ZF_OK;
}

static enum zf_status
check_program(const char *what, const char *prog, struct zf_error *err)
{
	const char *p;

	if (prog == NULL)
		return ZF_OK;
	if (prog[0] == '\0' || prog[0] == '-')
		return zf_fail_input(err, "%s: invalid program name '%s'", what,
		    prog);
	for (p = prog; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			return zf_fail_input(err,
			    "%s: invalid program name '%s'", what, prog);
	return ZF_OK;
}

/*
 * The remote zfs runs as "env LC_ALL=C ZFS ARGS..." (cmd.c), and env(1)
 * takes any word with a '=' for a variable to set, not the program.
 */
static enum zf_status
check_remote_zfs(const char *prog, struct zf_error *err)
{
	if (check_program("--remote-zfs", prog, err) != ZF_OK)
		return ZF_E_INVALID;
	if (prog != NULL && strchr(prog, '=') != NULL)
		return zf_fail_input(err,
		    "--remote-zfs: invalid program name '%s': env would read it as a variable",
		    prog);
	return ZF_OK;
}

static enum zf_status
spec_engine(struct zf_spec *s, const struct zf_send_config *c,
    struct zf_error *err)
{
	int max_level;

	switch (c->compress) {
	case ZF_COMPRESS_NONE:
	case ZF_COMPRESS_AUTO:
		max_level = 0;
		break;
	case ZF_COMPRESS_ZSTD:
		max_level = 19;
		break;
	case ZF_COMPRESS_LZ4:
		max_level = 12;
		break;
	default:
		return zf_fail_input(err, "--compress: unknown algorithm %d",
		    (int)c->compress);
	}
	if (c->compress_level < 0 || c->compress_level > max_level)
		return zf_fail_input(err,
		    "--compress: level %d is out of range for %s (1 to %d)",
		    c->compress_level, zf_compress_name(c->compress),
		    max_level);
	if (c->bwlimit != 0 && c->bwlimit < ZF_BWLIMIT_MIN)
		return zf_fail_input(err,
		    "--bwlimit: %" PRIu64 " bytes/s is below the minimum of 1k",
		    c->bwlimit);
	if (c->buffer_size != 0 &&
	    (c->buffer_size < ZF_RELAY_MIN_BUFFER ||
	        c->buffer_size > ZF_BUFFER_MAX))
		return zf_fail_input(err,
		    "--buffer: %" PRIu64 " bytes is out of range (64k to 4G)",
		    c->buffer_size);
	if (c->timeout_ms > ZF_TIMEOUT_MAX ||
	    c->stall_timeout_ms > ZF_TIMEOUT_MAX)
		return zf_fail_input(err, "a timeout is longer than a year");
	s->compress = c->compress;
	s->compress_level = c->compress_level ? c->compress_level : 1;
	s->bwlimit = c->bwlimit;
	s->buffer_size = c->buffer_size;
	s->timeout_ms = c->timeout_ms;
	s->stall_timeout_ms = c->stall_timeout_ms;
	s->progress_interval_ms =
	    c->progress_interval_ms ? c->progress_interval_ms : 1000;
	s->estimate = !c->no_estimate;
	return ZF_OK;
}

static enum zf_status
spec_fill(struct zf_spec *s, const struct zf_send_config *c, bool sync,
    struct zf_error *err)
{
	const char *const *p;
	unsigned src_kind = sync ? ZF_NAME_FS : ZF_NAME_SNAPSHOT;
	unsigned dst_kind = sync ? ZF_NAME_FS : ZF_NAME_FS | ZF_NAME_SNAPSHOT;

	if (check_location(&c->source, src_kind, "source", err) ||
	    check_location(&c->target, dst_kind, "target", err))
		return ZF_E_INVALID;
	if (sync && (c->base != NULL || c->intermediates))
		return zf_fail_input(err,
		    "sync chooses the incremental base itself");
	if (zf_location_is_remote(&c->source) &&
	    zf_location_is_remote(&c->target))
		return zf_fail_input(err,
		    "source and target are both remote ('%s' and '%s'); one side must be this host",
		    c->source.host, c->target.host);
	s->source = c->source;
	s->target = c->target;
	s->intermediates = c->intermediates;
	if (c->intermediates && c->base == NULL)
		return zf_fail_input(err, "-I needs a base snapshot");
	if (resolve_base(s, c->base, err) != ZF_OK)
		return ZF_E_INVALID;
	if (c->send_flags & ~0xffu)
		return zf_fail_input(err, "unknown send flags 0x%x",
		    c->send_flags);
	if (c->recv_flags & ~0x7u)
		return zf_fail_input(err, "unknown receive flags 0x%x",
		    c->recv_flags);
	s->send_flags = c->send_flags;
	s->recv_flags = c->recv_flags;
	for (p = c->props; p != NULL && *p != NULL; p++)
		if (zf_check_prop_assign("-o", *p, err) != ZF_OK)
			return ZF_E_INVALID;
	for (p = c->excludes; p != NULL && *p != NULL; p++)
		if (zf_check_prop_name("-x", *p, err) != ZF_OK)
			return ZF_E_INVALID;
	if (c->origin != NULL &&
	    zf_check_name("--origin", c->origin, ZF_NAME_SNAPSHOT, NULL, err))
		return ZF_E_INVALID;
	if (check_program("ZFERRY_ZFS", c->zfs_program, err) ||
	    check_program("ZFERRY_SSH", c->ssh_program, err) ||
	    check_remote_zfs(c->remote_zfs, err) ||
	    check_program("--remote-zferry", c->remote_zferry, err))
		return ZF_E_INVALID;
	if (spec_engine(s, c, err) != ZF_OK)
		return ZF_E_INVALID;
	if (spec_ssh(&s->ssh, &c->ssh, c->ssh_program, err) != ZF_OK)
		return ZF_E_INVALID;
	s->props = zf_strv_dup(c->props);
	s->excludes = zf_strv_dup(c->excludes);
	s->origin = zf_strdup0(c->origin);
	s->zfs_program = strdup(c->zfs_program ? c->zfs_program : "zfs");
	s->remote_zfs = strdup(c->remote_zfs ? c->remote_zfs : "zfs");
	s->remote_zferry =
	    strdup(c->remote_zferry ? c->remote_zferry : "zferry");
	s->remote_zferry_given = c->remote_zferry != NULL;
	if (s->props == NULL || s->excludes == NULL ||
	    (c->origin != NULL && s->origin == NULL) ||
	    s->zfs_program == NULL || s->remote_zfs == NULL ||
	    s->remote_zferry == NULL)
		return zf_fail(err, ZF_E_NOMEM, "out of memory");
	return ZF_OK;
}

enum zf_status
zf_spec_init(struct zf_spec *s, const struct zf_send_config *c,
    struct zf_error *err)
{
	return zf_spec_init_as(s, c, false, err);
}

enum zf_status
zf_spec_init_as(struct zf_spec *s, const struct zf_send_config *c, bool sync,
    struct zf_error *err)
{
	enum zf_status r;

	memset(s, 0, sizeof(*s));
	r = spec_fill(s, c, sync, err);
	if (r != ZF_OK)
		zf_spec_release(s);
	return r;
}

void
zf_spec_release(struct zf_spec *s)
{
	free(s->base);
	zf_argv_free_v(s->props);
	zf_argv_free_v(s->excludes);
	free(s->origin);
	free(s->ssh.key_file);
	free(s->ssh.known_hosts);
	free(s->ssh.cipher);
	zf_argv_free_v(s->ssh.options);
	free(s->ssh.program);
	free(s->zfs_program);
	free(s->remote_zfs);
	free(s->remote_zferry);
	memset(s, 0, sizeof(*s));
}
