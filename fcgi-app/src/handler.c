#include "handler.h"

#include <stdio.h>
#include <string.h>

#include "reqid.h"

/* RFC 3875, 3.3: script-URI = <scheme> "://" <server-name> ":" <server-port> <script-path>
 * <extra-path> "?" <query-string>, "where <script-path> and <extra-path> are taken from SCRIPT_NAME
 * and PATH_INFO" (4.1.13: SCRIPT_NAME is "not URL-encoded"; 4.1.5: neither is PATH_INFO). Mounted
 * at "/", lighttpd sends the whole path as SCRIPT_NAME and h2o sends it as PATH_INFO. */
const char *hello_request_path(const char *document_uri, const char *script_name, const char *path_info, char *buf,
                               size_t size)
{
    size_t s, p;

    if (document_uri != NULL) return document_uri;
    if (script_name == NULL && path_info == NULL) return NULL;
    s = script_name != NULL ? strlen(script_name) : 0;
    p = path_info != NULL ? strlen(path_info) : 0;
    if (s + p + 1 > size) return NULL;
    if (s > 0) memcpy(buf, script_name, s);
    if (p > 0) memcpy(buf + s, path_info, p);
    buf[s + p] = '\0';
    return buf;
}

hello_route hello_route_of(const char *path, int internal)
{
    if (path == NULL) return HELLO_ROUTE_UNKNOWN;
    if (strcmp(path, "/") == 0) return HELLO_ROUTE_HELLO;
    if (strcmp(path, "/bye") == 0) return HELLO_ROUTE_BYE;
    if (strcmp(path, "/healthz") == 0) return HELLO_ROUTE_HEALTHZ;
    if (strcmp(path, "/readyz") == 0) return HELLO_ROUTE_READYZ;
    if (internal && strcmp(path, "/metrics") == 0) return HELLO_ROUTE_METRICS;
    return HELLO_ROUTE_UNKNOWN;
}

const char *hello_route_name(hello_route route)
{
    static const char *const names[HELLO_ROUTE_COUNT] = {
        [HELLO_ROUTE_HELLO] = "hello",   [HELLO_ROUTE_BYE] = "bye",         [HELLO_ROUTE_HEALTHZ] = "healthz",
        [HELLO_ROUTE_READYZ] = "readyz", [HELLO_ROUTE_METRICS] = "metrics", [HELLO_ROUTE_UNKNOWN] = "unknown",
    };
    return (unsigned)route < HELLO_ROUTE_COUNT ? names[route] : "unknown";
}

static void set_text(hello_response *res, int status, const char *text)
{
    res->status = status;
    res->body_len = (size_t)snprintf(res->body, sizeof res->body, "%s\n", text);
}

static void greet(hello_response *res, const char *greeting, const char *query)
{
    char name[HELLO_NAME_MAX_BYTES + 1];
    size_t name_len;
    hello_name_status status = hello_name_from_query(query, name, sizeof name, &name_len);

    if (status != HELLO_NAME_OK && status != HELLO_NAME_ABSENT) {
        set_text(res, 400, hello_name_status_reason(status));
        return;
    }
    res->status = 200;
    res->body_len = (size_t)snprintf(res->body, sizeof res->body, "%s %s!", greeting,
                                     status == HELLO_NAME_OK ? name : HELLO_NAME_DEFAULT);
}

void hello_handle(const hello_request *req, hello_response *res)
{
    const char *method = req->method != NULL ? req->method : "";

    memset(res, 0, sizeof *res);
    res->route = hello_route_of(req->path, req->internal);
    res->head = strcmp(method, "HEAD") == 0;

    if (res->route == HELLO_ROUTE_UNKNOWN) {
        set_text(res, 404, "not found");
        return;
    }
    if (!res->head && strcmp(method, "GET") != 0) {
        res->allow = "GET, HEAD";
        set_text(res, 405, "method not allowed");
        return;
    }
    switch (res->route) {
    case HELLO_ROUTE_HELLO: greet(res, "Hello", req->query); break;
    case HELLO_ROUTE_BYE: greet(res, "Goodbye", req->query); break;
    case HELLO_ROUTE_HEALTHZ: set_text(res, 200, "ok"); break;
    case HELLO_ROUTE_READYZ:
        if (req->draining) set_text(res, 503, "draining");
        else set_text(res, 200, "ready");
        break;
    case HELLO_ROUTE_METRICS:
        res->status = 200;
        res->wants_metrics = 1;
        break;
    case HELLO_ROUTE_UNKNOWN:
    case HELLO_ROUTE_COUNT: break;
    }
}

void hello_response_fail(hello_response *res, hello_failure why)
{
    res->wants_metrics = 0;
    res->allow = NULL;
    set_text(res, 500, why == HELLO_FAIL_METRICS_TOO_LARGE ? "metrics exceed the buffer" : "response error");
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

long hello_response_format(const hello_response *res, const char *body, size_t body_len, char *out, size_t out_size)
{
    if (body == NULL) {
        body = res->body;
        body_len = res->body_len;
    }
    /* Checked here too, not only by nginx: the id goes into a header line verbatim. */
    int with_id = hello_reqid_is_sane(res->request_id);
    int n = snprintf(out, out_size,
                     "Status: %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "Cache-Control: no-store\r\n"
                     "%s%s%s"
                     "%s%s%s"
                     "\r\n",
                     res->status, reason_phrase(res->status),
                     res->wants_metrics ? HELLO_METRICS_CONTENT_TYPE : HELLO_CONTENT_TYPE, body_len,
                     res->allow ? "Allow: " : "", res->allow ? res->allow : "", res->allow ? "\r\n" : "",
                     with_id ? "X-Request-ID: " : "", with_id ? res->request_id : "", with_id ? "\r\n" : "");
    if (n < 0 || (size_t)n >= out_size) return -1;
    if (res->head) return n;
    if (body_len > out_size - (size_t)n) return -1;
    memcpy(out + n, body, body_len);
    return n + (long)body_len;
}
