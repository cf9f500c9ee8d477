/*
 * What droverctl prints on a terminal is made harmless: much of it is agent-controlled (task
 * titles, log lines, questions, errors), and a terminal obeys escape sequences in it (erase a
 * line, forge a "tests passed" line, set the window title, OSC 52 to the clipboard). When
 * stdout or stderr is a terminal it is replaced by a stream that renders every C0 control
 * character but tab and newline, DEL, and the C1 controls (U+0080..U+009F) visibly, as
 * "\x1b" or "\u009b". Pipes and files get the bytes unchanged (--json output is JSON-escaped
 * anyway). Single-threaded, called once at start.
 */
#ifndef DROVER_AGENT_CTL_TERM_H
#define DROVER_AGENT_CTL_TERM_H

#include <stddef.h>
#include <stdio.h>

/* Guard stdout and stderr if they are terminals. */
void ctl_term_guard(void);

/*
 * The visible rendering of `in[0..len)` into `out` (at most 6 bytes per input byte), with
 * `*c2` carrying a 0xC2 lead byte across calls. Returns the bytes written. (Tests.)
 */
size_t ctl_term_render(const char *in, size_t len, char *out, int *c2);

#endif
