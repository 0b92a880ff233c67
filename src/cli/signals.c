#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* What the handlers cancel: a job, or a self-pipe.  Set before install. */
static struct zf_job *volatile g_job;
static struct zf_sync *volatile g_sync;
static volatile int g_cancel_wr = -1;
static volatile sig_atomic_t g_signo;

static void
on_signal(int sig)
{
	struct zf_job *job = g_job;
	struct zf_sync *sy = g_sync;
	int saved = errno;

	if (g_signo == 0)
		g_signo = sig;
	if (job != NULL)
		zf_job_cancel(job, sig); /* async-signal-safe */
	if (sy != NULL)
		zf_sync_cancel(sy, sig); /* async-signal-safe */
	if (g_cancel_wr >= 0 && write(g_cancel_wr, "x", 1) < 0)
		g_cancel_wr = -1;
	errno = saved;
}

static void
install(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

void
cli_signals_install(struct zf_job *job)
{
	g_job = job;
	install();
}

void
cli_signals_install_sync(struct zf_sync *sy)
{
	g_sync = sy;
	install();
}

int
cli_signals_install_fd(void)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	g_cancel_wr = fds[1];
	install();
	return fds[0];
}

int
cli_signal_caught(void)
{
	return g_signo;
}

void
cli_signals_reset(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	g_job = NULL;
	g_sync = NULL;
	if (g_cancel_wr >= 0)
		close(g_cancel_wr);
	g_cancel_wr = -1;
}

/*
 * Makes sure fds 0, 1 and 2 are open (on /dev/null if not), so no file
 * zferry opens can become someone's stdout by accident; writes to a closed
 * pipe return EPIPE instead of killing zferry.
 */
void
cli_stdio_sanitize(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) == -1) {
			int n =
			    open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);

			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
	}
	signal(SIGPIPE, SIG_IGN);
}
