/*
 * Claude Code's `--output-format stream-json` events as a readable transcript: each event
 * line becomes activity entries {message, level, metadata} with metadata.source "claude" and
 * metadata.kind one of init (the session: model, tools, MCP servers), text (the model's own
 * words), tool_use (the tool's name and a short form of its input), tool_result (bounded, with
 * is_error), result (how the session ended, its usage and cost; level error when it failed)
 * and event (anything else, by type). The dashboard's task page and `droverctl logs` render
 * them; the raw line is not stored. Pure; any thread.
 */
#ifndef DROVER_AGENT_RUNNER_TRANSCRIPT_H
#define DROVER_AGENT_RUNNER_TRANSCRIPT_H

#include <jansson.h>

/* Bounds of what one entry carries. */
#define RUNNER_TRANSCRIPT_TEXT_MAX 4000   /* the model's message */
#define RUNNER_TRANSCRIPT_INPUT_MAX 300   /* a tool call's input, short form */
#define RUNNER_TRANSCRIPT_RESULT_MAX 1000 /* a tool's result */

/*
 * The entries for one output line (a new array, possibly empty for events not worth a line,
 * such as partial-message chunks), or NULL when the line is not a stream-json event (then it is
 * logged as it is).
 */
json_t *runner_transcript_entries(const char *line);

#endif
