/*
 * The forge hook table; empty until a forge implementation installs itself.
 */
#include "forge/forge.h"

struct forge_hooks forge_hooks;
