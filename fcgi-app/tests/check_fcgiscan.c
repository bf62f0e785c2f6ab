/* Unit tests: the FastCGI pre-parser passes on only whole, valid responder requests. */
#include "check_main.h"
#include <string.h>

#include "fcgiscan.h"

enum { BEGIN = 1, ABORT = 2, END = 3, PARAMS = 4, STDIN = 5, GET_VALUES = 9, RESULT = 10, UNKNOWN = 11 };

typedef struct {
    unsigned char b[80 * 1024];
    size_t n;
} bytes;

static void add_record(bytes *out, int type, unsigned id, const void *content, size_t len, size_t padding)
{
    unsigned char *p = out->b + out->n;

    p[0] = 1;
    p[1] = (unsigned char)type;
    p[2] = (unsigned char)(id >> 8);
    p[3] = (unsigned char)id;
    p[4] = (unsigned char)(len >> 8);
    p[5] = (unsigned char)len;
    p[6] = (unsigned char)padding;
    p[7] = 0;
    if (len > 0) memcpy(p + 8, content, len);
    memset(p + 8 + len, 0, padding);
    out->n += 8 + len + padding;
}

static void add_begin(bytes *out, unsigned id, int role, int keep)
{
    unsigned char body[8] = {(unsigned char)(role >> 8), (unsigned char)role, (unsigned char)keep, 0, 0, 0, 0, 0};

    add_record(out, BEGIN, id, body, sizeof body, 0);
}

/* Appends one name-value pair (short or four-byte lengths) to p; returns its length. */
static size_t pair(unsigned char *p, const char *name, const char *value)
{
    size_t n = strlen(name), v = strlen(value), used = 0;
    size_t lens[2] = {n, v};

    for (int i = 0; i < 2; i++) {
        if (lens[i] < 0x80) {
            p[used++] = (unsigned char)lens[i];
        } else {
            p[used++] = (unsigned char)(0x80 | lens[i] >> 24);
            p[used++] = (unsigned char)(lens[i] >> 16);
            p[used++] = (unsigned char)(lens[i] >> 8);
            p[used++] = (unsigned char)lens[i];
        }
    }
    memcpy(p + used, name, n);
    memcpy(p + used + n, value, v);
    return used + n + v;
}

static void whole_request(bytes *out, unsigned id, int keep)
{
    unsigned char params[256];
    size_t len = 0;

    len += pair(params + len, "REQUEST_METHOD", "GET");
    len += pair(params + len, "DOCUMENT_URI", "/");
    add_begin(out, id, 1, keep);
    add_record(out, PARAMS, id, params, len, 3);
    add_record(out, PARAMS, id, NULL, 0, 0);
    add_record(out, STDIN, id, NULL, 0, 0);
}

static hello_fcgi_scan_result scan(const bytes *in)
{
    hello_fcgi_scan_result r;

    hello_fcgi_scan(in->b, in->n, &r);
    return r;
}

/* ---------------------------------------------------------------- Core */

START_TEST(whole_request_is_a_request)
{
    static bytes in;
    hello_fcgi_scan_result r;

    in.n = 0;
    whole_request(&in, 1, 1);
    r = scan(&in);
    ck_assert_int_eq(r.verdict, HELLO_FCGI_REQUEST);
    ck_assert_uint_eq(r.length, in.n);
    ck_assert_uint_eq(r.request_id, 1);
    ck_assert_int_eq(r.keep_conn, 1);
    in.n = 0;
    whole_request(&in, 300, 0);
    r = scan(&in);
    ck_assert_int_eq(r.verdict, HELLO_FCGI_REQUEST);
    ck_assert_uint_eq(r.request_id, 300);
    ck_assert_int_eq(r.keep_conn, 0);
}
END_TEST

/* What libfcgi would block on: every proper prefix of a request waits for more. */
START_TEST(every_prefix_needs_more)
{
    static bytes in;

    in.n = 0;
    whole_request(&in, 1, 1);
    for (size_t n = 0; n < in.n; n++) {
        hello_fcgi_scan_result r;

        hello_fcgi_scan(in.b, n, &r);
        ck_assert_msg(r.verdict == HELLO_FCGI_NEED_MORE, "prefix of %zu bytes: verdict %d", n, r.verdict);
    }
}
END_TEST

START_TEST(only_the_first_of_two_requests)
{
    static bytes in;
    size_t first;

    in.n = 0;
    whole_request(&in, 1, 1);
    first = in.n;
    whole_request(&in, 1, 1);
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_REQUEST);
    ck_assert_uint_eq(scan(&in).length, first);
}
END_TEST

/* A stream's bytes may be split anywhere, four-byte lengths included; a body is any bytes. */
START_TEST(pairs_split_across_records)
{
    static bytes in;
    static char long_value[300];
    unsigned char params[512];
    size_t len;

    memset(long_value, 'v', sizeof long_value - 1);
    len = pair(params, "QUERY_STRING", long_value);
    len += pair(params + len, "A", "");
    in.n = 0;
    add_begin(&in, 7, 1, 1);
    for (size_t i = 0; i < len; i += 3) add_record(&in, PARAMS, 7, params + i, len - i < 3 ? len - i : 3, 1);
    add_record(&in, PARAMS, 7, NULL, 0, 0);
    add_record(&in, STDIN, 7, "body", 4, 4);
    add_record(&in, STDIN, 7, NULL, 0, 0);
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_REQUEST);
    ck_assert_uint_eq(scan(&in).length, in.n);
}
END_TEST

START_TEST(abort_before_a_request_is_skipped)
{
    static bytes in;

    in.n = 0;
    add_record(&in, ABORT, 1, NULL, 0, 0);
    whole_request(&in, 2, 1);
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_SKIP);
    ck_assert_uint_eq(scan(&in).length, 8);
}
END_TEST

/* ---------------------------------------------------------------- Management */

static long answer(const bytes *in, unsigned char *out, size_t out_size)
{
    const hello_fcgi_limits limits = {.max_conns = 1024, .max_reqs = 1024};

    return hello_fcgi_answer_management(in->b, in->n, &limits, out, out_size);
}

START_TEST(get_values_naming_one_variable_four_times)
{
    static bytes in;
    unsigned char query[128], out[128];
    size_t len = 0;
    long n;

    for (int i = 0; i < 4; i++) len += pair(query + len, "FCGI_MPXS_CONNS", "");
    in.n = 0;
    add_record(&in, GET_VALUES, 0, query, len, 0);
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_MANAGEMENT);
    ck_assert_uint_eq(scan(&in).length, in.n);
    n = answer(&in, out, sizeof out);
    ck_assert_int_eq(n, 32); /* header, 2 + 15 + 1 bytes, 6 of padding */
    ck_assert_int_eq(out[1], RESULT);
    ck_assert_int_eq(out[5], 18);
    ck_assert_int_eq(out[6], 6);
    ck_assert_int_eq(memcmp(out + 8,
                            "\x0f\x01"
                            "FCGI_MPXS_CONNS0",
                            18),
                     0);
}
END_TEST

START_TEST(get_values_answers_known_names_only)
{
    static bytes in;
    unsigned char query[128], out[128];
    size_t len = 0;
    long n;

    len += pair(query + len, "FCGI_MAX_REQS", "");
    len += pair(query + len, "SOMETHING_ELSE", "");
    len += pair(query + len, "FCGI_MAX_CONNS", "");
    in.n = 0;
    add_record(&in, GET_VALUES, 0, query, len, 0);
    n = answer(&in, out, sizeof out);
    ck_assert_int_gt(n, 8);
    ck_assert_int_eq(n % 8, 0);
    ck_assert_ptr_nonnull(memmem(out, (size_t)n, "FCGI_MAX_CONNS1024", 18));
    ck_assert_ptr_nonnull(memmem(out, (size_t)n, "FCGI_MAX_REQS1024", 17));
    ck_assert_ptr_null(memmem(out, (size_t)n, "SOMETHING", 9));
    ck_assert_int_eq(answer(&in, out, 16), -1); /* does not fit */
}
END_TEST

START_TEST(unknown_management_type)
{
    static bytes in;
    unsigned char out[32];

    in.n = 0;
    add_record(&in, 42, 0, "12345678", 8, 0);
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_MANAGEMENT);
    ck_assert_int_eq(answer(&in, out, sizeof out), 16);
    ck_assert_int_eq(out[1], UNKNOWN);
    ck_assert_int_eq(out[8], 42);
}
END_TEST

START_TEST(unknown_role_answer)
{
    unsigned char out[16];

    ck_assert_uint_eq(hello_fcgi_unknown_role(0x1234, out), 16);
    ck_assert_int_eq(out[1], END);
    ck_assert_int_eq(out[2], 0x12);
    ck_assert_int_eq(out[3], 0x34);
    ck_assert_int_eq(out[12], 3); /* FCGI_UNKNOWN_ROLE */
}
END_TEST

/* ---------------------------------------------------------------- Bad input */

/* From the report: name and value lengths of 0x7FFFFFFE in an otherwise ordinary request. */
START_TEST(huge_name_value_lengths)
{
    static const unsigned char conn[] = {0x01, 0x01, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00,
                                         0x00, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00,
                                         0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xfe, 0x41, 0x42};
    hello_fcgi_scan_result r;

    hello_fcgi_scan(conn, sizeof conn, &r);
    ck_assert_int_eq(r.verdict, HELLO_FCGI_INVALID);
    ck_assert_ptr_nonnull(r.why);
    /* Already the lengths alone, before the rest could arrive. */
    hello_fcgi_scan(conn, 28, &r);
    ck_assert_int_eq(r.verdict, HELLO_FCGI_INVALID);
}
END_TEST

START_TEST(malformed_management_records)
{
    static bytes in;
    unsigned char out[128];

    in.n = 0;
    add_record(&in, GET_VALUES, 0,
               "\x0f\x00"
               "FCGI",
               6, 0); /* name shorter than its length */
    ck_assert_int_eq(answer(&in, out, sizeof out), -1);
    in.n = 0;
    add_record(&in, GET_VALUES, 0, "\x80\x00", 2, 0); /* a four-byte length cut short */
    ck_assert_int_eq(answer(&in, out, sizeof out), -1);
    in.n = 0;
    add_record(&in, GET_VALUES, 0, "\x01", 1, 0); /* no value length */
    ck_assert_int_eq(answer(&in, out, sizeof out), -1);
    ck_assert_int_eq(hello_fcgi_answer_management(in.b, 4, NULL, out, sizeof out), -1);
}
END_TEST

START_TEST(records_out_of_order_or_foreign)
{
    static bytes in;
    static bytes base;
    unsigned char bad_pair[] = {5, 5, 'a', 'b', 'c'};

    base.n = 0;
    whole_request(&base, 1, 1);

    in = base; /* version 2 */
    in.b[0] = 2;
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_INVALID);

    in.n = 0; /* PARAMS before BEGIN_REQUEST */
    add_record(&in, PARAMS, 1, NULL, 0, 0);
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_INVALID);

    in.n = 0; /* BEGIN_REQUEST with a short body */
    add_record(&in, BEGIN, 1, "\0\1\1\0\0\0\0", 7, 0);
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_INVALID);

    in.n = 0; /* a second request id */
    add_begin(&in, 1, 1, 1);
    add_record(&in, PARAMS, 2, NULL, 0, 0);
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_INVALID);

    in.n = 0; /* a management record inside a request */
    add_begin(&in, 1, 1, 1);
    add_record(&in, GET_VALUES, 0, NULL, 0, 0);
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_INVALID);

    in.n = 0; /* PARAMS ending inside a pair */
    add_begin(&in, 1, 1, 1);
    add_record(&in, PARAMS, 1, bad_pair, sizeof bad_pair, 0);
    add_record(&in, PARAMS, 1, NULL, 0, 0);
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_INVALID);

    in.n = 0; /* STDIN before the end of PARAMS */
    add_begin(&in, 1, 1, 1);
    add_record(&in, STDIN, 1, NULL, 0, 0);
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_INVALID);

    in.n = 0; /* DATA (the filter role's stream) where STDIN belongs */
    add_begin(&in, 1, 1, 1);
    add_record(&in, PARAMS, 1, NULL, 0, 0);
    add_record(&in, 8, 1, NULL, 0, 0);
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_INVALID);
}
END_TEST

START_TEST(other_roles)
{
    static bytes in;

    in.n = 0;
    add_begin(&in, 9, 2, 1); /* AUTHORIZER */
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_UNKNOWN_ROLE);
    ck_assert_uint_eq(scan(&in).request_id, 9);
    ck_assert_uint_eq(scan(&in).length, 16);
}
END_TEST

START_TEST(requests_over_64_kib)
{
    static bytes in;
    static unsigned char body[60000];

    in.n = 0;
    add_begin(&in, 1, 1, 1);
    add_record(&in, PARAMS, 1, NULL, 0, 0);
    add_record(&in, STDIN, 1, body, sizeof body, 0);
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_NEED_MORE);
    add_record(&in, STDIN, 1, body, 10000, 0);
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_INVALID);
    /* A declared length that cannot fit is refused before its bytes arrive. */
    in.n -= 10000;
    ck_assert_int_eq(scan(&in).verdict, HELLO_FCGI_INVALID);
}
END_TEST

static Suite *fcgiscan_suite(void)
{
    Suite *s = suite_create("fcgiscan");
    TCase *core = tcase_create("Core");
    TCase *management = tcase_create("Management");
    TCase *bad = tcase_create("Bad input");

    tcase_add_test(core, whole_request_is_a_request);
    tcase_add_test(core, every_prefix_needs_more);
    tcase_add_test(core, only_the_first_of_two_requests);
    tcase_add_test(core, pairs_split_across_records);
    tcase_add_test(core, abort_before_a_request_is_skipped);
    tcase_add_test(management, get_values_naming_one_variable_four_times);
    tcase_add_test(management, get_values_answers_known_names_only);
    tcase_add_test(management, unknown_management_type);
    tcase_add_test(management, unknown_role_answer);
    tcase_add_test(bad, huge_name_value_lengths);
    tcase_add_test(bad, malformed_management_records);
    tcase_add_test(bad, records_out_of_order_or_foreign);
    tcase_add_test(bad, other_roles);
    tcase_add_test(bad, requests_over_64_kib);
    suite_add_tcase(s, core);
    suite_add_tcase(s, management);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return hello_check_run(fcgiscan_suite());
}
