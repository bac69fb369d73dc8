// web_test.c - the incident page's embedded files (web.h): each route answers its file with
// its content type; the page loads only its own script and style (nothing inline, nothing
// from another origin, which the Content-Security-Policy would block anyway); the script never
// parses data as HTML.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "web.h"

// The asset at path as a NUL-terminated copy (for strstr).
static char *
asset_text(const char *path)
{
	const coll_web_asset *a = coll_web_find(path);
	assert_non_null(a);
	assert_true(a->len > 0);
	char *s = malloc(a->len + 1);
	assert_non_null(s);
	memcpy(s, a->data, a->len);
	s[a->len] = '\0';
	assert_int_equal(strlen(s), a->len); // text, no NUL inside
	return s;
}

static void
route_answers(
    int (*route)(void *, const char *, coll_http_reply *), const char *path, const char *type)
{
	coll_http_reply r;
	memset(&r, 0, sizeof(r));
	assert_int_equal(route(NULL, "ignored=1", &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, type);
	const coll_web_asset *a = coll_web_find(path);
	assert_non_null(a);
	assert_int_equal(r.len, a->len);
	assert_memory_equal(r.body, a->data, a->len);
	free(r.body);
}

static void
test_routes(void **state)
{
	(void) state;
	route_answers(coll_web_page_route, "/", "text/html; charset=utf-8");
	route_answers(coll_web_js_route, "/app.js", "text/javascript; charset=utf-8");
	route_answers(coll_web_css_route, "/app.css", "text/css; charset=utf-8");
	assert_null(coll_web_find("/index.html"));
	assert_null(coll_web_find("/app.js/"));
	assert_int_equal(coll_web_n_assets, 3);
}

static void
test_page_loads_only_its_own_files(void **state)
{
	(void) state;
	char *html = asset_text("/");
	assert_non_null(strstr(html, "<script src=\"/app.js\" defer></script>"));
	assert_non_null(strstr(html, "<link rel=\"stylesheet\" href=\"/app.css\">"));
	assert_null(strstr(html, "<script>")); // no inline script
	assert_null(strstr(html, "<style"));   // no inline style
	assert_null(strstr(html, "style="));   // no style attribute
	assert_null(strstr(html, " on"));      // no event handler attribute (onload=...)
	assert_null(strstr(html, "//"));       // no URL of another origin
	assert_non_null(strstr(html, "id=\"verdict\""));
	assert_non_null(strstr(html, "id=\"findings\""));
	assert_non_null(strstr(html, "id=\"fleet\""));
	assert_non_null(strstr(html, "id=\"timeline\""));
	assert_non_null(strstr(html, "id=\"verifications\""));
	free(html);
}

static void
test_script_inserts_text_only(void **state)
{
	(void) state;
	char *js = asset_text("/app.js");
	assert_null(strstr(js, "innerHTML"));
	assert_null(strstr(js, "outerHTML"));
	assert_null(strstr(js, "insertAdjacentHTML"));
	assert_null(strstr(js, "document.write"));
	assert_null(strstr(js, "eval("));
	assert_non_null(strstr(js, "textContent"));
	assert_non_null(strstr(js, "'/api/v1/status'"));
	assert_non_null(strstr(js, "'/api/v1/diagnose'"));
	assert_non_null(strstr(js, "const POLL_MS = 2000;"));
	// The timeline: SVG built element by element, the history asked with a bounded limit.
	assert_non_null(strstr(js, "document.createElementNS(SVG_NS, tag)"));
	assert_non_null(strstr(js, "'/api/v1/history?limit=' + HISTORY_LIMIT + '&since='"));
	assert_non_null(strstr(js, "const HISTORY_LIMIT = 1000;"));
	assert_null(strstr(js, "setAttribute('style'")); // the CSP would refuse it: CSSOM only
	// The marks bench/web/page_load.sh reads.
	assert_non_null(strstr(js, "performance.mark('fl-grid-drawn')"));
	assert_non_null(strstr(js, "performance.mark('fl-grid-painted')"));
	free(js);
	char *css = asset_text("/app.css");
	assert_null(strstr(css, "@import"));
	assert_null(strstr(css, "url("));
	free(css);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_page_loads_only_its_own_files),
		cmocka_unit_test(test_script_inserts_text_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
