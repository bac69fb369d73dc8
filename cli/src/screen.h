// screen.h - the terminal under `faultline watch`: raw keys, the alternate screen, in-place
// redraws, and a clean restore whatever way the view ends.
//
// Plain ANSI/VT100 escapes and termios; no curses: the view is a list of text lines redrawn
// from the top, which needs only "move to row N", "clear to the end of the line" and "clear
// to the end of the screen", understood by every terminal emulator and by tmux.
//
// cli_term_open() saves the terminal's modes, switches stdin to non-canonical no-echo input
// (signals still work: Ctrl-C is SIGINT), enters the alternate screen and hides the cursor; it
// installs handlers for SIGINT, SIGTERM and SIGHUP (end the view) and SIGWINCH (redraw), which
// only note the event and wake cli_term_wait() through a pipe. cli_term_close() undoes it all;
// it is idempotent and also registered with atexit().

#ifndef CLI_SCREEN_H
#define CLI_SCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum cli_term_event {
	CLI_TERM_TICK,    // the timeout passed (or a key other than q was pressed: refresh now)
	CLI_TERM_RESIZED, // the terminal changed size: redraw
	CLI_TERM_QUIT,    // q was pressed, or SIGINT, SIGTERM or SIGHUP arrived
} cli_term_event;

// Takes over the terminal (stdin and stdout must both be terminals). Returns 0, or -1 with a
// one-line reason in err and the terminal untouched.
int cli_term_open(char *err, size_t errlen);

// Restores the terminal as cli_term_open() found it. Does nothing when it is not open.
void cli_term_close(void);

// Marks a stretch (a round trip with the collector, bounded only by --timeout) during which a
// quit signal cannot wait for cli_term_wait(): the handler then restores the terminal itself
// and exits 0 at once.
void cli_term_busy(bool on);

// The terminal's size; 24 × 80 when the kernel does not know it.
void cli_term_size(unsigned *rows, unsigned *cols);

// Waits up to timeout_ms for a key, a resize or a signal; returns what happened first.
cli_term_event cli_term_wait(int timeout_ms);

// Writes at most `cols` display columns of the line s[0..len) to out. ANSI escape sequences
// (ESC [ ... final byte) are copied and take no room; a UTF-8 character takes one column; a
// clipped line that carried escapes ends with a reset so its colour does not leak.
void cli_screen_clip(const char *s, size_t len, size_t cols, FILE *out);

// Draws text (lines separated by '\n') on a rows × cols screen from the top-left corner: each
// line is placed with a cursor move, clipped to cols and followed by "clear to the end of the
// line"; lines beyond rows are not drawn and the rest of the screen is cleared. Nothing is
// cleared before drawing, so a refresh does not flicker. Never writes a newline, so the
// screen never scrolls.
void cli_screen_draw(FILE *out, const char *text, unsigned rows, unsigned cols);

#endif // CLI_SCREEN_H
