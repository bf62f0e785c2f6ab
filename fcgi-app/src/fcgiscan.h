#ifndef HELLO_FCGISCAN_H_
#define HELLO_FCGISCAN_H_

#include <stddef.h>

/* The FastCGI pre-parser. A worker serves many connections from one thread, and libfcgi reads
 * with blocking calls: handed a connection that has sent half a request, it waits, and every other
 * connection of that worker waits with it. libfcgi also has record-level defects (a stack buffer
 * overflow answering FCGI_GET_VALUES, an integer overflow on huge name-value lengths: see
 * docs/libfcgi-*.md). So the worker looks at the bytes waiting on a connection first (without
 * consuming them) and hands the connection to libfcgi only when they hold one complete, well-formed
 * responder request; management records it answers itself; anything else closes the connection.
 * Record layout and rules: the FastCGI Specification 1.0 (Open Market, 1996). */

#define HELLO_FCGI_HEADER_LEN 8
#define HELLO_FCGI_REQUEST_MAX (64 * 1024) /* one whole request: BEGIN_REQUEST, PARAMS and STDIN */

typedef enum {
    HELLO_FCGI_NEED_MORE,    /* a valid beginning: wait for more bytes (up to the deadline) */
    HELLO_FCGI_REQUEST,      /* one complete responder request in the first `length` bytes */
    HELLO_FCGI_MANAGEMENT,   /* a management record (request id 0) of `length` bytes: answer it */
    HELLO_FCGI_SKIP,         /* an FCGI_ABORT_REQUEST for a request already answered: drop it */
    HELLO_FCGI_UNKNOWN_ROLE, /* a BEGIN_REQUEST for a role other than RESPONDER: refuse, close */
    HELLO_FCGI_INVALID,      /* not FastCGI as the specification allows, or too large: close */
} hello_fcgi_verdict;

typedef struct {
    hello_fcgi_verdict verdict;
    size_t length;       /* bytes the verdict covers (REQUEST, MANAGEMENT, SKIP, UNKNOWN_ROLE) */
    unsigned request_id; /* of the BEGIN_REQUEST (REQUEST, UNKNOWN_ROLE) */
    int keep_conn;       /* BEGIN_REQUEST's FCGI_KEEP_CONN flag (REQUEST) */
    const char *why;     /* INVALID: a short reason for the log */
} hello_fcgi_scan_result;

/* Examines the first len bytes waiting on a connection (a request starts at buf[0]). Never fails:
 * every input gets a verdict. Pure: reads buf only. */
void hello_fcgi_scan(const unsigned char *buf, size_t len, hello_fcgi_scan_result *out);

/* What a worker says about itself in FCGI_GET_VALUES_RESULT. */
typedef struct {
    int max_conns; /* FCGI_MAX_CONNS */
    int max_reqs;  /* FCGI_MAX_REQS */
} hello_fcgi_limits;

/* Writes the answer to the management record rec (rec_len bytes, a MANAGEMENT verdict) into out:
 * FCGI_GET_VALUES_RESULT naming each known variable asked for once, or FCGI_UNKNOWN_TYPE.
 * Returns the answer's length, or -1 when the record's name-value pairs are malformed or the
 * answer does not fit out_size (then close the connection). */
long hello_fcgi_answer_management(const unsigned char *rec, size_t rec_len, const hello_fcgi_limits *limits,
                                  unsigned char *out, size_t out_size);

/* Writes FCGI_END_REQUEST {request_id, FCGI_UNKNOWN_ROLE} into out (at least 16 bytes).
 * Returns its length. */
size_t hello_fcgi_unknown_role(unsigned request_id, unsigned char *out);

#endif /* HELLO_FCGISCAN_H_ */
