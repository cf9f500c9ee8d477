/* Embedded static files. Read-only; any thread. */
#include "net/assets.h"

#include <string.h>

const struct assets_file *assets_find(const char *path)
{
    if (!path || path[0] != '/' || strstr(path, ".."))
        return NULL;
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (const struct assets_file *f = assets_files; f->path; f++)
        if (strcmp(f->path, path) == 0)
            return f;
    return NULL;
}

const char *assets_mime(const char *path)
{
    static const struct {
        const char *ext, *mime;
    } types[] = {{".html", "text/html; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"},
                 {".css", "text/css; charset=utf-8"},
                 {".svg", "image/svg+xml"},
                 {".png", "image/png"},
                 {".json", "application/json"},
                 {".ico", "image/x-icon"}};
    const char *dot = strrchr(path, '.');

    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].mime;
    return "application/octet-stream";
}
