#ifndef HELLO_HANDLER_H_
#define HELLO_HANDLER_H_

#include <stddef.h>

#include "name.h"

/* The pure core: from (method, path, query, listener, draining) to a response. No I/O. */

typedef enum {
    HELLO_ROUTE_HELLO = 0, /* /      */
    HELLO_ROUTE_BYE,       /* /bye   */
    HELLO_ROUTE_HEALTHZ,   /* /healthz */
    HELLO_ROUTE_READYZ,    /* /readyz  */
    HELLO_ROUTE_METRICS,   /* /metrics, internal listener only */
    HELLO_ROUTE_UNKNOWN,
    HELLO_ROUTE_COUNT
} hello_route;

typedef struct {
    const char *method; /* REQUEST_METHOD; NULL is treated as unknown */
    const char *path;   /* decoded, normalised path (nginx $document_uri) */
    const char *query;  /* raw query string, may be NULL */
    int internal;       /* 1 when the request came through the internal (metrics) listener */
    int draining;       /* 1 once shutdown has begun */
} hello_request;

#define HELLO_BODY_MAX (HELLO_NAME_MAX_BYTES + 64)

typedef struct {
    int status; /* HTTP status code */
    hello_route route;
    int head;               /* HEAD: send headers only */
    int wants_metrics;      /* the body is the metrics exposition, rendered by the caller */
    const char *allow;      /* Allow header value, or NULL */
    const char *request_id; /* X-Request-ID value, set by the caller after hello_handle; NULL: none */
    char body[HELLO_BODY_MAX];
    size_t body_len;
} hello_response;

#define HELLO_CONTENT_TYPE "text/plain; charset=utf-8"
#define HELLO_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* What went wrong after hello_handle, when the caller could not send the answer it built. */
typedef enum {
    HELLO_FAIL_METRICS_TOO_LARGE,  /* the metrics exposition exceeds the caller's buffer */
    HELLO_FAIL_RESPONSE_TOO_LARGE, /* hello_response_format found its output buffer too small */
} hello_failure;

/* Fills res for req. Never fails: every input maps to some HTTP response. */
void hello_handle(const hello_request *req, hello_response *res);

/* Turns res into a 500 with a one-line body naming why (no metrics body any more). The route,
 * HEAD and the request id stay, so it is counted, logged and sent like any other answer. */
void hello_response_fail(hello_response *res, hello_failure why);

/* The request path from the FastCGI parameters: nginx's DOCUMENT_URI when it is given, else
 * SCRIPT_NAME followed by PATH_INFO, the CGI way (RFC 3875) that lighttpd and h2o follow. Returns
 * document_uri, or buf (size bytes) holding the joined path, or NULL when there is none or it does
 * not fit. Pure. */
const char *hello_request_path(const char *document_uri, const char *script_name, const char *path_info, char *buf,
                               size_t size);

/* Maps a path to its route (exact match). */
hello_route hello_route_of(const char *path, int internal);

/* Name of a route, for metrics labels and logs. */
const char *hello_route_name(hello_route route);

/* Writes the FastCGI response head (Status, Content-Type, Content-Length, X-Request-ID when
 * res->request_id passes hello_reqid_is_sane, ...) and, unless res->head, the body into out.
 * body/body_len override res->body when non-NULL (metrics).
 * Returns the number of bytes written, or -1 when out is too small. */
long hello_response_format(const hello_response *res, const char *body, size_t body_len, char *out, size_t out_size);

#endif /* HELLO_HANDLER_H_ */
