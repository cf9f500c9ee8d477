/* The database URL of a subcommand. Main thread. */
#include "cmd/cmd_db.h"

#include <stdlib.h>

const char *cmd_database_url(const char *flag)
{
    const char *env = getenv("DATABASE_URL");

    if (flag && *flag)
        return flag;
    return env && *env ? env : NULL;
}
