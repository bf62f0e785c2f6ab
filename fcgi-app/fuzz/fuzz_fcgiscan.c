/* libFuzzer target: the FastCGI pre-parser on arbitrary connection bytes. Beyond "no crash", it
 * asserts what libfcgi relies on: a REQUEST verdict covers whole records of one request id that
 * form BEGIN_REQUEST (RESPONDER), PARAMS whose name-value pairs end exactly where the stream ends,
 * and STDIN, in that order; a shorter prefix is never a REQUEST; management answers are records. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fcgiscan.h"

#define CHECK(cond)           \
    do {                      \
        if (!(cond)) abort(); \
    } while (0)

/* Walks the records of a REQUEST independently of the scanner and checks their shape. */
static void check_request(const uint8_t *p, size_t len, unsigned id)
{
    static uint8_t params[HELLO_FCGI_REQUEST_MAX];
    size_t off = 0, plen = 0, q = 0;
    int stage = 0; /* 0 BEGIN, 1 PARAMS, 2 STDIN, 3 done */

    while (off < len) {
        size_t content, rec;

        CHECK(len - off >= HELLO_FCGI_HEADER_LEN && stage < 3);
        content = (size_t)p[off + 4] << 8 | p[off + 5];
        rec = HELLO_FCGI_HEADER_LEN + content + p[off + 6];
        CHECK(off + rec <= len);
        CHECK(p[off] == 1 && ((unsigned)p[off + 2] << 8 | p[off + 3]) == id);
        if (stage == 0) {
            CHECK(p[off + 1] == 1 && content == 8 && p[off + 8] == 0 && p[off + 9] == 1);
            stage = 1;
        } else if (stage == 1) {
            CHECK(p[off + 1] == 4);
            memcpy(params + plen, p + off + HELLO_FCGI_HEADER_LEN, content);
            plen += content;
            if (content == 0) stage = 2;
        } else {
            CHECK(p[off + 1] == 5);
            if (content == 0) stage = 3;
        }
        off += rec;
    }
    CHECK(stage == 3);
    /* The pairs, as libfcgi's ReadParams reads them, consume the stream exactly. */
    while (q < plen) {
        size_t lens[2];

        for (int i = 0; i < 2; i++) {
            CHECK(q < plen);
            if (params[q] < 0x80) {
                lens[i] = params[q++];
            } else {
                CHECK(plen - q >= 4);
                lens[i] = (size_t)(params[q] & 0x7f) << 24 | (size_t)params[q + 1] << 16 | (size_t)params[q + 2] << 8 |
                          params[q + 3];
                q += 4;
            }
        }
        CHECK(lens[0] + lens[1] <= plen - q);
        q += lens[0] + lens[1];
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const hello_fcgi_limits limits = {.max_conns = 1024, .max_reqs = 1024};
    hello_fcgi_scan_result r, again;
    uint8_t out[128];
    long n;

    hello_fcgi_scan(data, size, &r);
    switch (r.verdict) {
    case HELLO_FCGI_NEED_MORE: CHECK(size < HELLO_FCGI_REQUEST_MAX); break;
    case HELLO_FCGI_REQUEST:
        CHECK(r.length > 0 && r.length <= size && r.length <= HELLO_FCGI_REQUEST_MAX);
        check_request(data, r.length, r.request_id);
        hello_fcgi_scan(data, r.length, &again);
        CHECK(again.verdict == HELLO_FCGI_REQUEST && again.length == r.length);
        hello_fcgi_scan(data, r.length - 1, &again);
        CHECK(again.verdict == HELLO_FCGI_NEED_MORE);
        break;
    case HELLO_FCGI_MANAGEMENT:
        CHECK(r.length >= HELLO_FCGI_HEADER_LEN && r.length <= size && data[2] == 0 && data[3] == 0);
        n = hello_fcgi_answer_management(data, r.length, &limits, out, sizeof out);
        if (n >= 0) {
            CHECK(n >= HELLO_FCGI_HEADER_LEN && n % 8 == 0 && (size_t)n <= sizeof out);
            CHECK((size_t)n == HELLO_FCGI_HEADER_LEN + ((size_t)out[4] << 8 | out[5]) + out[6]);
            CHECK(out[0] == 1 && (out[1] == 10 || out[1] == 11) && out[2] == 0 && out[3] == 0);
        }
        break;
    case HELLO_FCGI_SKIP:
    case HELLO_FCGI_UNKNOWN_ROLE: CHECK(r.length >= HELLO_FCGI_HEADER_LEN && r.length <= size); break;
    case HELLO_FCGI_INVALID: CHECK(r.why != NULL); break;
    default: CHECK(0);
    }
    return 0;
}
