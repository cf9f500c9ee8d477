/*
 * The checks the coding command ran, for the pull request's body ("Checks run"): the shell
 * commands of its transcript that test, lint, type-check or build (by their words: see
 * runner_checks.c), each with whether its tool result was an error. Read off the transcript
 * entries runner_transcript.c makes, so it works for any coding CLI that reports through
 * Claude Code's stream-json; a command the model ran without telling is not seen. Pure; one
 * thread at a time.
 */
#ifndef DROVER_AGENT_RUNNER_CHECKS_H
#define DROVER_AGENT_RUNNER_CHECKS_H

#include <jansson.h>

#include "core/buf.h"

#define RUNNER_CHECKS_MAX 20 /* checks listed; more are counted */

struct runner_checks {
    json_t *list; /* [{command, tool_use_id, ok (null until its result came)}] */
    int more;     /* checks past RUNNER_CHECKS_MAX */
};

void runner_checks_init(struct runner_checks *c);
void runner_checks_clear(struct runner_checks *c);

/* Take note of transcript entries (runner_transcript_entries' output; borrowed). */
void runner_checks_note(struct runner_checks *c, const json_t *entries);

/* Append the "Checks run" section to `b` (a line saying none when there were none). */
void runner_checks_markdown(const struct runner_checks *c, struct buf *b);

#endif
