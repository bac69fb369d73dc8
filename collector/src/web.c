// web.c - see web.h.

#include "web.h"

#include <stdlib.h>
#include <string.h>

const coll_web_asset *
coll_web_find(const char *path)
{
	for (size_t i = 0; i < coll_web_n_assets; i++) {
		if (strcmp(coll_web_assets[i].path, path) == 0) {
			return &coll_web_assets[i];
		}
	}
	return NULL;
}

// Fills reply with a copy of the asset at path (the server frees the body).
static int
answer(const char *path, coll_http_reply *reply)
{
	const coll_web_asset *a = coll_web_find(path);

	if (a == NULL) {
		return -1; // a route without its file: a build mistake, seen as a 500
	}
	reply->body = malloc(a->len > 0 ? a->len : 1);
	if (reply->body == NULL) {
		return -1;
	}
	memcpy(reply->body, a->data, a->len);
	reply->len          = a->len;
	reply->status       = 200;
	reply->content_type = a->content_type;
	return 0;
}

int
coll_web_page_route(void *ctx, const char *query, coll_http_reply *reply)
{
	(void) ctx;
	(void) query; // the page takes no parameters: any are ignored, as a browser may add some
	return answer("/", reply);
}

int
coll_web_js_route(void *ctx, const char *query, coll_http_reply *reply)
{
	(void) ctx;
	(void) query;
	return answer("/app.js", reply);
}

int
coll_web_css_route(void *ctx, const char *query, coll_http_reply *reply)
{
	(void) ctx;
	(void) query;
	return answer("/app.css", reply);
}
