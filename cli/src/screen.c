// screen.c - see screen.h.

#include "screen.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define ENTER_SCREEN "\033[?1049h\033[?25l\033[H\033[2J" // alternate screen, cursor hidden
#define LEAVE_SCREEN "\033[0m\033[?25h\033[?1049l"       // colours reset, cursor, main screen

static struct {
	bool             open;
	struct termios   saved;
	int              wake[2]; // the signal handlers write one byte; cli_term_wait polls it
	struct sigaction old_int, old_term, old_hup, old_winch;
} term = { .wake = { -1, -1 } };

static volatile sig_atomic_t got_quit, got_resize, busy;

static void
on_signal(int sig)
{
	int  saved = errno;
	char b     = 0;
	if (sig == SIGWINCH) {
		got_resize = 1;
	} else {
		got_quit = 1;
		if (busy) {
			// Stuck asking a hung collector: leave now rather than after the timeout.
			// write() and tcsetattr() are async-signal-safe.
			if (write(STDOUT_FILENO, LEAVE_SCREEN, sizeof(LEAVE_SCREEN) - 1) < 0) {
				// nothing more can be done about the screen
			}
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &term.saved);
			_exit(0);
		}
	}
	if (write(term.wake[1], &b, 1) < 0) {
		// the pipe is full: a wake-up is pending anyway
	}
	errno = saved;
}

static void
write_all(const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, s, n);
		if (w <= 0) {
			if (w < 0 && errno == EINTR) {
				continue;
			}
			return;
		}
		s += w;
		n -= (size_t) w;
	}
}

static int
wake_pipe(void)
{
	if (pipe(term.wake) != 0) {
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(term.wake[i], F_SETFL, fcntl(term.wake[i], F_GETFL) | O_NONBLOCK);
		fcntl(term.wake[i], F_SETFD, FD_CLOEXEC);
	}
	return 0;
}

static void
handle(int sig, struct sigaction *old)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, old);
}

int
cli_term_open(char *err, size_t errlen)
{
	struct termios raw;

	if (term.open) {
		return 0;
	}
	if (isatty(STDIN_FILENO) != 1 || isatty(STDOUT_FILENO) != 1) {
		snprintf(err, errlen, "%s is not a terminal",
		    isatty(STDOUT_FILENO) != 1 ? "stdout" : "stdin");
		return -1;
	}
	if (tcgetattr(STDIN_FILENO, &term.saved) != 0) {
		snprintf(err, errlen, "cannot read the terminal's modes: %s", strerror(errno));
		return -1;
	}
	if (wake_pipe() != 0) {
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
		return -1;
	}
	raw = term.saved;
	raw.c_lflag &= ~(tcflag_t) (ICANON | ECHO | IEXTEN);
	raw.c_cc[VMIN]  = 0;
	raw.c_cc[VTIME] = 0;
	// Ctrl-Z would stop us with the terminal still raw and on the alternate screen.
	raw.c_cc[VSUSP] = _POSIX_VDISABLE;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) != 0) {
		snprintf(err, errlen, "cannot set the terminal's modes: %s", strerror(errno));
		close(term.wake[0]);
		close(term.wake[1]);
		return -1;
	}
	got_quit = got_resize = 0;
	handle(SIGINT, &term.old_int);
	handle(SIGTERM, &term.old_term);
	handle(SIGHUP, &term.old_hup);
	handle(SIGWINCH, &term.old_winch);
	term.open = true;
	static bool registered;
	if (!registered) {
		registered = atexit(cli_term_close) == 0;
	}
	write_all(ENTER_SCREEN);
	return 0;
}

void
cli_term_close(void)
{
	if (!term.open) {
		return;
	}
	busy      = 0;
	term.open = false;
	fflush(stdout);
	write_all(LEAVE_SCREEN);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &term.saved);
	sigaction(SIGINT, &term.old_int, NULL);
	sigaction(SIGTERM, &term.old_term, NULL);
	sigaction(SIGHUP, &term.old_hup, NULL);
	sigaction(SIGWINCH, &term.old_winch, NULL);
	close(term.wake[0]);
	close(term.wake[1]);
	term.wake[0] = term.wake[1] = -1;
}

void
cli_term_busy(bool on)
{
	busy = on && term.open;
}

void
cli_term_size(unsigned *rows, unsigned *cols)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	} else {
		*rows = 24;
		*cols = 80;
	}
}

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Reads the keys waiting on stdin: q or Q quits, any other key asks for a refresh.
static cli_term_event
read_keys(void)
{
	char           buf[64];
	ssize_t        n;
	cli_term_event ev = CLI_TERM_TICK;
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == 'q' || buf[i] == 'Q') {
				ev = CLI_TERM_QUIT;
			}
		}
	}
	return ev;
}

cli_term_event
cli_term_wait(int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = term.wake[0], .events = POLLIN } };
		int64_t       left   = deadline - now_ms();
		char          drain[32];

		if (got_quit) {
			return CLI_TERM_QUIT;
		}
		if (got_resize) {
			got_resize = 0;
			return CLI_TERM_RESIZED;
		}
		if (left <= 0) {
			return CLI_TERM_TICK;
		}
		int rv = poll(fds, 2, (int) left);
		if (rv < 0 && errno != EINTR) {
			return CLI_TERM_QUIT; // cannot wait: better end than spin
		}
		if (rv > 0 && (fds[1].revents & POLLIN)) {
			while (read(term.wake[0], drain, sizeof(drain)) > 0) {
			}
		}
		if (rv > 0 && (fds[0].revents & (POLLIN | POLLHUP))) {
			if (fds[0].revents & POLLHUP) {
				return CLI_TERM_QUIT; // the terminal went away
			}
			return read_keys();
		}
	}
}

void
cli_screen_clip(const char *s, size_t len, size_t cols, FILE *out)
{
	size_t used = 0, i = 0;
	bool   escapes = false, clipped = false;

	while (i < len) {
		unsigned char c = (unsigned char) s[i];
		if (c == 0x1b && i + 1 < len && s[i + 1] == '[') {
			size_t k = i + 2;
			while (k < len &&
			    ((unsigned char) s[k] < 0x40 || (unsigned char) s[k] > 0x7e)) {
				k++;
			}
			k = k < len ? k + 1 : len;
			fwrite(s + i, 1, k - i, out);
			escapes = true;
			i       = k;
			continue;
		}
		if ((c & 0xc0) != 0x80) { // the first byte of a character
			if (used == cols) {
				clipped = true;
				break;
			}
			used++;
		}
		fputc(c, out);
		i++;
	}
	if (clipped && escapes) {
		fputs("\033[0m", out);
	}
}

void
cli_screen_draw(FILE *out, const char *text, unsigned rows, unsigned cols)
{
	unsigned row = 0;

	while (row < rows && text != NULL && *text != '\0') {
		const char *nl  = strchr(text, '\n');
		size_t      len = nl != NULL ? (size_t) (nl - text) : strlen(text);
		fprintf(out, "\033[%u;1H", row + 1);
		cli_screen_clip(text, len, cols, out);
		fputs("\033[K", out);
		row++;
		text = nl != NULL ? nl + 1 : text + len;
	}
	if (row < rows) {
		fprintf(out, "\033[%u;1H\033[J", row + 1);
	}
	fflush(out);
}
