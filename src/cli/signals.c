#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The job the handlers cancel; set before they are installed. */
static struct zf_job *volatile g_job;

static void
on_signal(int sig)
{
	struct zf_job *job = g_job;

	if (job != NULL)
		zf_job_cancel(job, sig); /* async-signal-safe */
}

void
cli_signals_install(struct zf_job *job)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;
	size_t i;

	g_job = job;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
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
