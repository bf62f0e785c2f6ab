#include "fcgiscan.h"

#include <stdio.h>
#include <string.h>

/* Record types and constants, FastCGI Specification 1.0, section 8 ("Types and constants"). */
enum {
    BEGIN_REQUEST = 1,
    ABORT_REQUEST = 2,
    END_REQUEST = 3,
    PARAMS = 4,
    STDIN = 5,
    GET_VALUES = 9,
    GET_VALUES_RESULT = 10,
    UNKNOWN_TYPE = 11,
    VERSION_1 = 1,
    RESPONDER = 1,
    KEEP_CONN = 1,
    PROTOCOL_UNKNOWN_ROLE = 3,
};

typedef struct {
    unsigned version, type, id;
    size_t content, padding;
} header;

static void read_header(const unsigned char *p, header *h)
{
    h->version = p[0];
    h->type = p[1];
    h->id = (unsigned)p[2] << 8 | p[3];
    h->content = (size_t)p[4] << 8 | p[5];
    h->padding = p[6];
}

static void write_header(unsigned char *p, unsigned type, unsigned id, size_t content, size_t padding)
{
    p[0] = VERSION_1;
    p[1] = (unsigned char)type;
    p[2] = (unsigned char)(id >> 8);
    p[3] = (unsigned char)id;
    p[4] = (unsigned char)(content >> 8);
    p[5] = (unsigned char)content;
    p[6] = (unsigned char)padding;
    p[7] = 0;
}

/* ---------------------------------------------------------------- name-value pairs */

/* Section 3.4: each pair is a name length, a value length, the name and the value; a length is one
 * byte below 0x80, else four bytes with the top bit set ("nameLengthB3 >> 7 == 1"). The stream may
 * be split across records anywhere, so this is fed piece by piece. */
typedef struct {
    int value_next;       /* the next length read is the value's */
    unsigned char len[4]; /* a four-byte length being read */
    int len_have;
    size_t name_len;
    size_t skip; /* name and value bytes still to pass */
} pairs;

/* Feeds n bytes of the stream. Returns 0, or -1 when a pair claims more bytes than a whole request
 * may hold (this is what stops 0x7FFFFFFE lengths before libfcgi adds them in an int). */
static int pairs_feed(pairs *s, const unsigned char *p, size_t n)
{
    while (n > 0) {
        size_t len;

        if (s->skip > 0) {
            size_t k = n < s->skip ? n : s->skip;

            p += k;
            n -= k;
            s->skip -= k;
            continue;
        }
        if (s->len_have == 0 && *p < 0x80) {
            len = *p;
        } else {
            s->len[s->len_have++] = *p;
            if (s->len_have < 4) {
                p++;
                n--;
                continue;
            }
            len = (size_t)(s->len[0] & 0x7f) << 24 | (size_t)s->len[1] << 16 | (size_t)s->len[2] << 8 | s->len[3];
            s->len_have = 0;
        }
        p++;
        n--;
        if (len > HELLO_FCGI_REQUEST_MAX) return -1;
        if (!s->value_next) {
            s->name_len = len;
            s->value_next = 1;
        } else {
            if (s->name_len + len > HELLO_FCGI_REQUEST_MAX) return -1;
            s->skip = s->name_len + len;
            s->value_next = 0;
        }
    }
    return 0;
}

static int pairs_complete(const pairs *s)
{
    return !s->value_next && s->len_have == 0 && s->skip == 0;
}

/* ---------------------------------------------------------------- scan */

static void verdict(hello_fcgi_scan_result *out, hello_fcgi_verdict v, size_t length, const char *why)
{
    out->verdict = v;
    out->length = length;
    out->why = why;
}

void hello_fcgi_scan(const unsigned char *buf, size_t len, hello_fcgi_scan_result *out)
{
    enum { BEFORE_BEGIN, IN_PARAMS, IN_STDIN } stage = BEFORE_BEGIN;
    pairs params;
    size_t off = 0;

    memset(out, 0, sizeof *out);
    memset(&params, 0, sizeof params);
    for (;;) {
        header h;
        size_t rec, avail;

        if (off + HELLO_FCGI_HEADER_LEN > HELLO_FCGI_REQUEST_MAX)
            return verdict(out, HELLO_FCGI_INVALID, 0, "request larger than 64 KiB");
        if (len < off + HELLO_FCGI_HEADER_LEN) return verdict(out, HELLO_FCGI_NEED_MORE, 0, NULL);
        read_header(buf + off, &h);
        rec = HELLO_FCGI_HEADER_LEN + h.content + h.padding;
        if (h.version != VERSION_1) return verdict(out, HELLO_FCGI_INVALID, 0, "not FastCGI version 1");
        if (off + rec > HELLO_FCGI_REQUEST_MAX)
            return verdict(out, HELLO_FCGI_INVALID, 0, "request larger than 64 KiB");
        avail = len - off - HELLO_FCGI_HEADER_LEN;
        if (avail > h.content) avail = h.content;

        if (stage == BEFORE_BEGIN) {
            /* Section 3.3: "Management records have a requestId value of zero". */
            if (h.id == 0) {
                if (len < rec) return verdict(out, HELLO_FCGI_NEED_MORE, 0, NULL);
                return verdict(out, HELLO_FCGI_MANAGEMENT, rec, NULL);
            }
            /* Section 5.4: the server may abort a request the application has already answered;
             * there is nothing left to abort. */
            if (h.type == ABORT_REQUEST) {
                if (len < rec) return verdict(out, HELLO_FCGI_NEED_MORE, 0, NULL);
                return verdict(out, HELLO_FCGI_SKIP, rec, NULL);
            }
            if (h.type != BEGIN_REQUEST || h.content != 8)
                return verdict(out, HELLO_FCGI_INVALID, 0, "a request must start with FCGI_BEGIN_REQUEST");
            if (len < rec) return verdict(out, HELLO_FCGI_NEED_MORE, 0, NULL);
            out->request_id = h.id;
            out->keep_conn = (buf[HELLO_FCGI_HEADER_LEN + 2] & KEEP_CONN) != 0;
            if (((unsigned)buf[HELLO_FCGI_HEADER_LEN] << 8 | buf[HELLO_FCGI_HEADER_LEN + 1]) != RESPONDER)
                return verdict(out, HELLO_FCGI_UNKNOWN_ROLE, rec, "role other than RESPONDER");
            stage = IN_PARAMS;
            off += rec;
            continue;
        }
        /* This application does not multiplex (FCGI_MPXS_CONNS "0"), and a management record in
         * the middle of a request is one libfcgi would answer from its overflowing buffer. */
        if (h.id == 0) return verdict(out, HELLO_FCGI_INVALID, 0, "management record inside a request");
        if (h.id != out->request_id)
            return verdict(out, HELLO_FCGI_INVALID, 0, "a second request id on the connection");
        if (stage == IN_PARAMS) {
            if (h.type != PARAMS) return verdict(out, HELLO_FCGI_INVALID, 0, "expected FCGI_PARAMS");
            if (pairs_feed(&params, buf + off + HELLO_FCGI_HEADER_LEN, avail) < 0)
                return verdict(out, HELLO_FCGI_INVALID, 0, "name-value length beyond the request size");
            if (len < off + rec) return verdict(out, HELLO_FCGI_NEED_MORE, 0, NULL);
            if (h.content == 0) {
                if (!pairs_complete(&params))
                    return verdict(out, HELLO_FCGI_INVALID, 0, "FCGI_PARAMS ends inside a name-value pair");
                stage = IN_STDIN;
            }
            off += rec;
            continue;
        }
        if (h.type != STDIN) return verdict(out, HELLO_FCGI_INVALID, 0, "expected FCGI_STDIN");
        if (len < off + rec) return verdict(out, HELLO_FCGI_NEED_MORE, 0, NULL);
        off += rec;
        /* Section 3.3: a stream is "a series of zero or more non-empty records (length != 0) of
         * the stream type, followed by an empty record (length == 0)"; an empty FCGI_STDIN ends
         * the request. */
        if (h.content == 0) return verdict(out, HELLO_FCGI_REQUEST, off, NULL);
    }
}

/* ---------------------------------------------------------------- answers */

long hello_fcgi_answer_management(const unsigned char *rec, size_t rec_len, const hello_fcgi_limits *limits,
                                  unsigned char *out, size_t out_size)
{
    static const char *const names[] = {"FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"};
    int asked[3] = {0, 0, 0};
    char values[3][16];
    const unsigned char *p, *end;
    size_t body = 0, padding;
    header h;

    if (rec_len < HELLO_FCGI_HEADER_LEN) return -1;
    read_header(rec, &h);
    if (h.id != 0 || rec_len < HELLO_FCGI_HEADER_LEN + h.content) return -1;
    if (h.type != GET_VALUES) {
        /* Section 4.2: "the application responds with {FCGI_UNKNOWN_TYPE, 0, {T}}". */
        if (out_size < 16) return -1;
        write_header(out, UNKNOWN_TYPE, 0, 8, 0);
        memset(out + HELLO_FCGI_HEADER_LEN, 0, 8);
        out[HELLO_FCGI_HEADER_LEN] = (unsigned char)h.type;
        return 16;
    }
    /* Section 4.1: the query is name-value pairs with empty values; "If the application doesn't
     * understand a variable name that was included in the query, it omits that name". */
    p = rec + HELLO_FCGI_HEADER_LEN;
    end = p + h.content;
    while (p < end) {
        size_t lens[2];

        for (int i = 0; i < 2; i++) {
            if (p >= end) return -1;
            if (*p < 0x80) {
                lens[i] = *p++;
            } else {
                if (end - p < 4) return -1;
                lens[i] = (size_t)(p[0] & 0x7f) << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
                p += 4;
            }
        }
        if (lens[0] > (size_t)(end - p) || lens[1] > (size_t)(end - p) - lens[0]) return -1;
        for (int i = 0; i < 3; i++)
            if (lens[0] == strlen(names[i]) && memcmp(p, names[i], lens[0]) == 0) asked[i] = 1;
        p += lens[0] + lens[1];
    }
    snprintf(values[0], sizeof values[0], "%d", limits->max_conns);
    snprintf(values[1], sizeof values[1], "%d", limits->max_reqs);
    snprintf(values[2], sizeof values[2], "0");
    for (int i = 0; i < 3; i++)
        if (asked[i]) body += 2 + strlen(names[i]) + strlen(values[i]);
    padding = (8 - body % 8) % 8;
    if (out_size < HELLO_FCGI_HEADER_LEN + body + padding) return -1;
    write_header(out, GET_VALUES_RESULT, 0, body, padding);
    body = HELLO_FCGI_HEADER_LEN;
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(names[i]), v = strlen(values[i]);

        if (!asked[i]) continue;
        out[body++] = (unsigned char)n;
        out[body++] = (unsigned char)v;
        memcpy(out + body, names[i], n);
        memcpy(out + body + n, values[i], v);
        body += n + v;
    }
    memset(out + body, 0, padding);
    return (long)(body + padding);
}

size_t hello_fcgi_unknown_role(unsigned request_id, unsigned char *out)
{
    /* Section 5.5: FCGI_EndRequestBody {appStatus (4 bytes), protocolStatus, reserved[3]}. */
    write_header(out, END_REQUEST, request_id, 8, 0);
    memset(out + HELLO_FCGI_HEADER_LEN, 0, 8);
    out[HELLO_FCGI_HEADER_LEN + 4] = PROTOCOL_UNKNOWN_ROLE;
    return 16;
}
