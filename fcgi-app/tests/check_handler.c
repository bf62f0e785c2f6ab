/* Unit tests: routing, the HTTP contract of the pure handler, and response formatting. */
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler.h"

static hello_response res;

static const hello_response *handle(const char *method, const char *path, const char *query)
{
    hello_request req = {.method = method, .path = path, .query = query};

    hello_handle(&req, &res);
    return &res;
}

static void assert_body(const char *expected)
{
    ck_assert_uint_eq(res.body_len, strlen(expected));
    ck_assert_mem_eq(res.body, expected, res.body_len);
}

START_TEST(hello_default_and_named)
{
    ck_assert_int_eq(handle("GET", "/", NULL)->status, 200);
    assert_body("Hello John!");
    ck_assert_int_eq(handle("GET", "/", "name=Ada")->status, 200);
    assert_body("Hello Ada!");
    ck_assert_int_eq(handle("GET", "/", "name=")->status, 200);
    assert_body("Hello John!");
}
END_TEST

/* nginx's DOCUMENT_URI wins; otherwise SCRIPT_NAME + PATH_INFO (lighttpd, h2o). */
START_TEST(request_path_from_cgi_parameters)
{
    char buf[16];

    ck_assert_str_eq(hello_request_path("/bye", "/ignored", "/too", buf, sizeof buf), "/bye");
    ck_assert_str_eq(hello_request_path(NULL, "/bye", NULL, buf, sizeof buf), "/bye"); /* lighttpd */
    ck_assert_str_eq(hello_request_path(NULL, "", "/bye", buf, sizeof buf), "/bye");   /* h2o at / */
    ck_assert_str_eq(hello_request_path(NULL, "/app", "/x", buf, sizeof buf), "/app/x");
    ck_assert_ptr_null(hello_request_path(NULL, NULL, NULL, buf, sizeof buf));
    ck_assert_ptr_null(hello_request_path(NULL, "/0123456789", "/abcd", buf, sizeof buf)); /* 16 + NUL */
    ck_assert_str_eq(hello_request_path(NULL, "/0123456789", "/abc", buf, sizeof buf), "/0123456789/abc");
}
END_TEST

START_TEST(bye)
{
    ck_assert_int_eq(handle("GET", "/bye", NULL)->status, 200);
    assert_body("Goodbye John!");
    ck_assert_int_eq(handle("GET", "/bye", "name=Ada")->status, 200);
    assert_body("Goodbye Ada!");
    ck_assert_int_eq(res.route, HELLO_ROUTE_BYE);
}
END_TEST

START_TEST(head_has_no_body_but_same_length)
{
    char get_out[512], head_out[512];
    long g, h;

    handle("GET", "/", "name=Ada");
    g = hello_response_format(&res, NULL, 0, get_out, sizeof get_out);
    handle("HEAD", "/", "name=Ada");
    ck_assert_int_eq(res.status, 200);
    ck_assert(res.head);
    h = hello_response_format(&res, NULL, 0, head_out, sizeof head_out);
    ck_assert_int_gt(g, h);
    ck_assert_int_eq(g - h, (long)strlen("Hello Ada!"));
    ck_assert_mem_eq(get_out, head_out, (size_t)h); /* identical headers */
}
END_TEST

START_TEST(health_and_readiness)
{
    hello_request req = {.method = "GET", .path = "/readyz"};

    ck_assert_int_eq(handle("GET", "/healthz", NULL)->status, 200);
    hello_handle(&req, &res);
    ck_assert_int_eq(res.status, 200);
    req.draining = 1;
    hello_handle(&req, &res);
    ck_assert_int_eq(res.status, 503);
    req.path = "/healthz";
    hello_handle(&req, &res);
    ck_assert_int_eq(res.status, 200); /* liveness holds while draining */
}
END_TEST

START_TEST(metrics_only_internal)
{
    hello_request req = {.method = "GET", .path = "/metrics", .internal = 0};

    hello_handle(&req, &res);
    ck_assert_int_eq(res.status, 404);
    ck_assert(!res.wants_metrics);
    req.internal = 1;
    hello_handle(&req, &res);
    ck_assert_int_eq(res.status, 200);
    ck_assert(res.wants_metrics);
}
END_TEST

/* Formats GET / with the given request id into out as a string. */
static const char *format_hello(const char *request_id, char *out, size_t out_size)
{
    long n;

    handle("GET", "/", NULL);
    res.request_id = request_id;
    n = hello_response_format(&res, NULL, 0, out, out_size - 1);
    ck_assert_int_gt(n, 0);
    out[n] = '\0';
    return out;
}

START_TEST(format_headers)
{
    char out[512];

    format_hello(NULL, out, sizeof out);
    ck_assert_ptr_nonnull(strstr(out, "Status: 200 OK\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "Content-Type: text/plain; charset=utf-8\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "Content-Length: 11\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nHello John!"));
    ck_assert_ptr_null(strstr(out, "X-Request-ID"));                     /* none set */
    ck_assert_int_eq(hello_response_format(&res, NULL, 0, out, 20), -1); /* too small: refused */
}
END_TEST

START_TEST(format_request_id)
{
    char out[512];

    format_hello("req-0123456789abcdef", out, sizeof out);
    ck_assert_ptr_nonnull(strstr(out, "\r\nX-Request-ID: req-0123456789abcdef\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nHello John!"));
}
END_TEST

START_TEST(format_drops_an_insane_request_id)
{
    char out[512];

    format_hello("abcdefgh\r\nSet-Cookie: session=stolen", out, sizeof out);
    ck_assert_ptr_null(strstr(out, "X-Request-ID"));
    ck_assert_ptr_null(strstr(out, "Set-Cookie"));
}
END_TEST

START_TEST(unknown_path_404)
{
    const char *paths[] = {"/nope", "/bye/", "//", "/Bye", "/healthz/x", "", "/metrics"};

    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        ck_assert_int_eq(handle("GET", paths[i], NULL)->status, 404);
        ck_assert_int_eq(res.route, HELLO_ROUTE_UNKNOWN);
    }
    ck_assert_int_eq(handle("GET", NULL, NULL)->status, 404);
}
END_TEST

START_TEST(other_methods_405)
{
    const char *methods[] = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "get", "", "GETX"};
    char out[512];
    long n;

    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        ck_assert_int_eq(handle(methods[i], "/", NULL)->status, 405);
        ck_assert_str_eq(res.allow, "GET, HEAD");
    }
    ck_assert_int_eq(handle(NULL, "/", NULL)->status, 405);
    n = hello_response_format(&res, NULL, 0, out, sizeof out);
    out[n] = '\0';
    ck_assert_ptr_nonnull(strstr(out, "Allow: GET, HEAD\r\n"));
}
END_TEST

START_TEST(bad_names_400_one_line)
{
    const char *queries[] = {"name=%FF", "name=%ZZ", "name=%00", "name=a&name=b",
                             "name=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};

    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        ck_assert_int_eq(handle("GET", "/bye", queries[i])->status, 400);
        ck_assert_uint_gt(res.body_len, 1);
        ck_assert_int_eq(res.body[res.body_len - 1], '\n');
        ck_assert_ptr_eq(memchr(res.body, '\n', res.body_len), res.body + res.body_len - 1);
    }
}
END_TEST

/* One character over HELLO_NAME_MAX_CHARS gets a 400 whose body states the constant; exactly
 * HELLO_NAME_MAX_CHARS is a greeting. */
START_TEST(too_long_name_body_states_the_limit)
{
    char query[8 + HELLO_NAME_MAX_CHARS + 1], expected[64];

    memcpy(query, "name=", 5);
    memset(query + 5, 'a', HELLO_NAME_MAX_CHARS + 1);
    query[5 + HELLO_NAME_MAX_CHARS + 1] = '\0';
    ck_assert_int_eq(handle("GET", "/", query)->status, 400);
    snprintf(expected, sizeof expected, "name is longer than %d characters\n", HELLO_NAME_MAX_CHARS);
    assert_body(expected);
    query[5 + HELLO_NAME_MAX_CHARS] = '\0';
    ck_assert_int_eq(handle("GET", "/", query)->status, 200);
}
END_TEST

/* Formats res into out as a string; returns its length. */
static long format_res(char *out, size_t out_size)
{
    long n = hello_response_format(&res, NULL, 0, out, out_size - 1);

    ck_assert_int_gt(n, 0);
    out[n] = '\0';
    return n;
}

/* Asserts that out (n bytes) is a plain-text 500 whose Content-Length counts body, ending in it. */
static void assert_500(const char *out, long n, const char *body)
{
    char length[48];

    snprintf(length, sizeof length, "\r\nContent-Length: %zu\r\n", strlen(body));
    ck_assert_ptr_nonnull(strstr(out, "Status: 500 Internal Server Error\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "\r\nContent-Type: " HELLO_CONTENT_TYPE "\r\n"));
    ck_assert_ptr_nonnull(strstr(out, length));
    ck_assert_str_eq(out + n - (long)strlen(body), body);
}

/* The worker's 500s come from here, with a Content-Length counted from their body. */
START_TEST(failures_are_plain_text_500s)
{
    hello_request req = {.method = "GET", .path = "/metrics", .internal = 1};
    char out[512];
    long n;

    hello_handle(&req, &res);
    res.request_id = "req-0123456789abcdef";
    hello_response_fail(&res, HELLO_FAIL_METRICS_TOO_LARGE);
    ck_assert(!res.wants_metrics);
    ck_assert_int_eq(res.route, HELLO_ROUTE_METRICS);
    n = format_res(out, sizeof out);
    assert_500(out, n, "metrics exceed the buffer\n");
    ck_assert_ptr_nonnull(strstr(out, "\r\nX-Request-ID: req-0123456789abcdef\r\n"));

    handle("GET", "/", "name=Ada");
    hello_response_fail(&res, HELLO_FAIL_RESPONSE_TOO_LARGE);
    n = format_res(out, sizeof out);
    assert_500(out, n, "response error\n");
    res.head = 1; /* HEAD: the same head, no body */
    n = format_res(out, sizeof out);
    ck_assert_str_eq(out + n - 4, "\r\n\r\n");
}
END_TEST

static Suite *handler_suite(void)
{
    Suite *s = suite_create("handler");
    TCase *core = tcase_create("Core");
    TCase *bad = tcase_create("Bad input");

    tcase_add_test(core, hello_default_and_named);
    tcase_add_test(core, bye);
    tcase_add_test(core, request_path_from_cgi_parameters);
    tcase_add_test(core, head_has_no_body_but_same_length);
    tcase_add_test(core, health_and_readiness);
    tcase_add_test(core, metrics_only_internal);
    tcase_add_test(core, format_headers);
    tcase_add_test(core, format_request_id);
    tcase_add_test(bad, unknown_path_404);
    tcase_add_test(bad, other_methods_405);
    tcase_add_test(bad, bad_names_400_one_line);
    tcase_add_test(bad, format_drops_an_insane_request_id);
    tcase_add_test(bad, too_long_name_body_states_the_limit);
    tcase_add_test(bad, failures_are_plain_text_500s);
    suite_add_tcase(s, core);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return hello_check_run(handler_suite());
}
