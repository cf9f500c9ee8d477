/*
 * Which way Claude Code can authenticate in this environment, as the agent sees it before it
 * takes a task: an API key, an OAuth token (`claude setup-token`), a gateway's bearer token, a
 * cloud provider (Bedrock, Vertex) or a logged-in ~/.claude/.credentials.json. The agent never
 * reads a secret's value: it only checks that one is there. Main thread, at start-up.
 */
#ifndef DROVER_AGENT_RUNNER_CREDS_H
#define DROVER_AGENT_RUNNER_CREDS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Looks up the model credentials through `get` (getenv in the agent; a table in the tests) and
 * `home` (the user's home directory, may be NULL). True with `how` naming the way found
 * ("ANTHROPIC_API_KEY", "Bedrock (AWS_REGION=…)", …); false with `how` saying what is missing
 * or incomplete, in words an operator can act on.
 */
bool runner_creds_find(const char *(*get)(const char *name), const char *home, char *how,
                       size_t how_size);

#endif
