/*
 * fuzz_ssh: the checks of what zferry puts on ssh's command line:
 * zf_check_ssh_option, zf_check_host, zf_check_user, zf_check_cipher_list.
 *
 * Checks: an accepted option is never one that runs a command, reads more
 * configuration, forwards anything, or weakens host-key checking; its
 * canonical form fits the buffer, holds no whitespace, control character
 * or '%', and is accepted again as itself.  Accepted hosts, users and
 * cipher lists hold only the characters their rules allow (so never a
 * shell metacharacter or a leading '-').
 *
 * Input: byte 0 picks the size of the canonical-form buffer (255: none),
 * the rest is the text given to every check.
 */
#include "fuzz.h"

#include <strings.h>

#include "validate.h"

/* Options that must never pass, whatever their value. */
static const char *const never[] = {"ProxyCommand", "LocalCommand",
    "PermitLocalCommand", "KnownHostsCommand", "RemoteCommand", "Include",
    "Match", "ProxyJump", "PKCS11Provider", "SecurityKeyProvider",
    "UserKnownHostsFile", "GlobalKnownHostsFile", "IdentityFile", "Port",
    "User", "Hostname", "ControlMaster", "ControlPath", "ControlPersist",
    "ForwardAgent", "ForwardX11", "ForwardX11Trusted", "LocalForward",
    "RemoteForward", "DynamicForward", "Tunnel", "TunnelDevice", "SendEnv",
    "SetEnv", "BatchMode", "UpdateHostKeys", "VerifyHostKeyDNS",
    "PasswordAuthentication", "KbdInteractiveAuthentication",
    "ExitOnForwardFailure", "RequestTTY", "EscapeChar", "IdentityAgent",
    "CertificateFile", "AddKeysToAgent", "CanonicalizeHostname", "StdinNull",
    "SessionType", "ForkAfterAuthentication"};

static void
check_option(const char *s, uint8_t sel)
{
	char *canon = NULL, again[2048];
	size_t csz = 0, i, klen;
	struct zf_error err;
	enum zf_status r;
	const char *eq, *v;

	if (sel != 255) {
		/* small sizes often, so that truncation is tried */
		csz = sel < 128 ? sel : 1100;
		canon = malloc(csz > 0 ? csz : 1);
		if (canon == NULL)
			abort();
	}
	zf_error_clear(&err);
	r = zf_check_ssh_option(s, canon, csz, &err);
	if (r != ZF_OK) {
		fz_check_error(&err, ZF_E_INVALID);
		FZ_CHECK(strncmp(err.msg, "--ssh-option: ", 14) == 0, "'%s'",
		    err.msg);
		free(canon);
		return;
	}
	/* the value as given, after the first '=' or ' ' */
	v = s + strcspn(s, "= ");
	FZ_CHECK(*v != '\0', "'%s' accepted without a value", s);
	klen = (size_t)(v - s);
	v++;
	for (i = 0; v[i] != '\0'; i++)
		FZ_CHECK((unsigned char)v[i] > ' ' &&
		        (unsigned char)v[i] < 0x7f && v[i] != '%',
		    "value of '%s' holds byte 0x%02x", s, (unsigned char)v[i]);
	for (i = 0; i < ZF_ARRAY_SIZE(never); i++)
		FZ_CHECK(klen != strlen(never[i]) ||
		        strncasecmp(s, never[i], klen) != 0,
		    "'%s' accepted", s);
	if (klen == strlen("StrictHostKeyChecking") &&
	    strncasecmp(s, "StrictHostKeyChecking", klen) == 0)
		FZ_CHECK(strcasecmp(v, "yes") == 0, "'%s' accepted", s);
	if (canon == NULL)
		return;
	FZ_CHECK(memchr(canon, '\0', csz) != NULL, "canon not terminated");
	eq = strchr(canon, '=');
	FZ_CHECK(eq != NULL && (size_t)(eq - canon) == klen &&
	        strncasecmp(canon, s, klen) == 0 && strcmp(eq + 1, v) == 0,
	    "canon '%s' of '%s'", canon, s);
	/* the canonical form is accepted again, unchanged */
	FZ_CHECK(zf_check_ssh_option(canon, again, sizeof(again), NULL) ==
	            ZF_OK &&
	        strcmp(again, canon) == 0,
	    "canon '%s' is not stable ('%s')", canon, again);
	free(canon);
}

static bool
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

static void
check_host(const char *s)
{
	struct zf_error err;
	const char *pct;
	size_t i, n = strlen(s);

	zf_error_clear(&err);
	if (zf_check_host("host", s, &err) != ZF_OK) {
		fz_check_error(&err, ZF_E_INVALID);
		return;
	}
	FZ_CHECK(n > 0 && n < ZF_HOST_MAX && s[0] != '-', "host '%s'", s);
	if (strchr(s, ':') == NULL) {
		FZ_CHECK(s[0] != '.', "host '%s'", s);
		for (i = 0; i < n; i++)
			FZ_CHECK(host_char(s[i]), "host '%s'", s);
		return;
	}
	/* IPv6: hex digits, ':' and '.', then maybe "%zone" */
	pct = strchr(s, '%');
	for (i = 0; i < (pct != NULL ? (size_t)(pct - s) : n); i++)
		FZ_CHECK(fz_hexval((char)(s[i] | 0x20)) >= 0 || s[i] == ':' ||
		        s[i] == '.',
		    "IPv6 host '%s'", s);
	if (pct != NULL) {
		FZ_CHECK(pct[1] != '\0', "empty zone in '%s'", s);
		for (i = 1; pct[i] != '\0'; i++)
			FZ_CHECK(host_char(pct[i]), "zone of '%s'", s);
	}
}

static void
check_user(const char *s)
{
	struct zf_error err;
	size_t i, n = strlen(s);

	zf_error_clear(&err);
	if (zf_check_user("user", s, &err) != ZF_OK) {
		fz_check_error(&err, ZF_E_INVALID);
		return;
	}
	FZ_CHECK(n > 0 && n < ZF_USER_MAX && s[0] != '-', "user '%s'", s);
	for (i = 0; i < n; i++)
		FZ_CHECK(host_char(s[i]) ||
		        (s[i] == '$' && i == n - 1 && i > 0),
		    "user '%s'", s);
}

static void
check_ciphers(const char *s)
{
	struct zf_error err;
	size_t i, n = strlen(s);
	bool item = false;

	zf_error_clear(&err);
	if (zf_check_cipher_list("--ssh-cipher", s, &err) != ZF_OK) {
		fz_check_error(&err, ZF_E_INVALID);
		return;
	}
	FZ_CHECK(n > 0 && n <= 512, "cipher list of %zu bytes", n);
	i = s[0] == '+' || s[0] == '-' || s[0] == '^';
	for (; i < n; i++) {
		if (s[i] == ',') {
			FZ_CHECK(item, "empty item in '%s'", s);
			item = false;
			continue;
		}
		FZ_CHECK(host_char(s[i]) || s[i] == '@', "cipher list '%s'", s);
		item = true;
	}
	FZ_CHECK(item, "empty last item in '%s'", s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	s = fz_str(data + 1, size - 1);
	check_option(s, data[0]);
	check_host(s);
	check_user(s);
	check_ciphers(s);
	free(s);
	return 0;
}
