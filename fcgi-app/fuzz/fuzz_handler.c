/* libFuzzer target: the pure request handler and response formatting on arbitrary input.
 * Input layout: method \0 path \0 query \0 request-id \0 flags-byte; missing parts are NULL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handler.h"
#include "reqid.h"

static const char *next_part(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *start = *p, *nul;

    if (start >= end) return NULL;
    nul = memchr(start, 0, (size_t)(end - start));
    if (nul == NULL) return NULL; /* the caller copied the input with a trailing NUL */
    *p = nul + 1;
    return (const char *)start;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size + 1);
    const uint8_t *p, *end;
    hello_request req;
    hello_response res;
    char out[2048];
    long n;

    if (copy == NULL) return 0;
    memcpy(copy, data, size);
    copy[size] = 0;
    p = copy;
    end = copy + size + 1;
    req.method = next_part(&p, end);
    req.path = next_part(&p, end);
    req.query = next_part(&p, end);
    const char *request_id = next_part(&p, end);
    req.internal = p < end && (*p & 1);
    req.draining = p < end && (*p & 2);

    hello_handle(&req, &res);
    if (res.status < 200 || res.status > 599 || res.body_len >= sizeof res.body) abort();
    if (res.status == 200 && res.route == HELLO_ROUTE_HELLO && !res.head &&
        (res.body_len < 8 || memcmp(res.body, "Hello ", 6) != 0 || res.body[res.body_len - 1] != '!'))
        abort();
    res.request_id = request_id;
    n = hello_response_format(&res, NULL, 0, out, sizeof out);
    if (n < 0 || (size_t)n > sizeof out) abort();
    /* Every line break in the head is CRLF: no id may smuggle in a header line of its own. */
    const char *blank = memmem(out, (size_t)n, "\r\n\r\n", 4);
    if (blank == NULL) abort();
    for (const char *q = out; q < blank; q++)
        if ((*q == '\n' && (q == out || q[-1] != '\r')) || (*q == '\r' && q[1] != '\n')) abort();
    if (!hello_reqid_is_sane(request_id) && memmem(out, (size_t)(blank - out), "X-Request-ID", 12) != NULL) abort();

    /* The name decoder on the raw bytes as well, without the query-string framing. */
    char name[HELLO_NAME_MAX_BYTES + 1];
    size_t name_len;
    hello_name_status st = hello_name_decode((const char *)data, size, name, sizeof name, &name_len);
    if (st == HELLO_NAME_OK && (name_len == 0 || name_len > HELLO_NAME_MAX_BYTES || strlen(name) != name_len)) abort();
    free(copy);
    return 0;
}
