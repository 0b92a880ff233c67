/*
 * transport.h: one shared ssh connection per remote host (ssh
 * ControlMaster).  The master runs as zferry's child with its socket in a
 * private 0700 directory; every later ssh of the run names that socket and
 * rides the same connection (one key exchange, one login).  It is closed
 * with "ssh -O exit" at the end, on every path: success, error, cancel.
 */
#ifndef ZF_TRANSPORT_H
#define ZF_TRANSPORT_H

#include "session.h"

struct zf_master {
	struct zf_child child;
	char dir[64]; /* the private directory */
	char path[96]; /* its socket */
	bool running;
	const struct zf_location *loc;
};

/*
 * Starts the master for loc's host and waits until its socket is there
 * (or it exits: then err says why, classified like any ssh failure; or
 * on cancel).  On success ssh->control_path points at m->path: set it on
 * the spec the session uses, for every later command.
 */
enum zf_status zf_master_start(struct zf_master *m, struct zf_session *s,
    struct zf_ssh_spec *ssh, const struct zf_location *loc,
    struct zf_error *err);

/* Closes the connection (ssh -O exit, then the child), removes the dir. */
void zf_master_stop(struct zf_master *m, struct zf_session *s,
    struct zf_ssh_spec *ssh);

#endif
