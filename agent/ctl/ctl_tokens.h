/* droverctl token create|revoke (/api/tokens). Single-threaded. */
#ifndef DROVER_AGENT_CTL_TOKENS_H
#define DROVER_AGENT_CTL_TOKENS_H

#include "ctl.h"

ctl_run_fn ctl_tokens_create;
ctl_run_fn ctl_tokens_revoke;

#endif
