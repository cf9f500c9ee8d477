/*
 * Static files compiled into droverd (the dashboard), looked up by URL path.
 * Read-only data; any thread.
 */
#ifndef DROVER_NET_ASSETS_H
#define DROVER_NET_ASSETS_H

#include <stddef.h>

struct assets_file {
    const char *path; /* "/index.html" */
    const unsigned char *data;
    size_t len;
};

/* Generated from server/net/www; terminated by {NULL, NULL, 0}. */
extern const struct assets_file assets_files[];

/* The file for `path` ("/" means "/index.html"), or NULL. Rejects any ".." segment. */
const struct assets_file *assets_find(const char *path);

/* A Content-Type for the file name's extension. */
const char *assets_mime(const char *path);

#endif
