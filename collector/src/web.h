// web.h - the incident page (GET /, /app.js, /app.css): plain HTML, CSS and JS from
// collector/web, compiled into the collector (cmake/EmbedWeb.cmake), so the page works with no
// network but the collector's. The page reads /api/v1/status and /api/v1/diagnose every 2 s
// and inserts every name as text; http.c sends a Content-Security-Policy with every reply that
// lets it run only these files (no inline script or style).
//
// Thread-safe: the assets are constant.

#ifndef FL_COLLECTOR_WEB_H
#define FL_COLLECTOR_WEB_H

#include <stddef.h>

#include "http.h"

typedef struct coll_web_asset {
	const char          *path;         // the URL path, e.g. "/app.js"
	const char          *content_type; // with its charset
	const unsigned char *data;
	size_t               len;
} coll_web_asset;

// The embedded files (generated, web_assets.c).
extern const coll_web_asset coll_web_assets[];
extern const size_t         coll_web_n_assets;

// The asset served at path, or NULL.
const coll_web_asset *coll_web_find(const char *path);

// Routes (coll_http_route handlers; ctx and query are ignored): 200 with a copy of the asset,
// -1 (a 500) when out of memory.
int coll_web_page_route(void *ctx, const char *query, coll_http_reply *reply);
int coll_web_js_route(void *ctx, const char *query, coll_http_reply *reply);
int coll_web_css_route(void *ctx, const char *query, coll_http_reply *reply);

#endif // FL_COLLECTOR_WEB_H
