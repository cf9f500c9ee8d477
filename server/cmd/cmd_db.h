/* What the subcommands share: where the database is. Main thread. */
#ifndef DROVER_CMD_DB_H
#define DROVER_CMD_DB_H

/* The database URL: `flag` (--database-url) when given, else DATABASE_URL, else NULL (libpq's
 * PG* environment). */
const char *cmd_database_url(const char *flag);

#endif
