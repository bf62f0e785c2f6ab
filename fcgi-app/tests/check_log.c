/* Unit tests: JSON log lines, their fields and their escaping. */
#include "check_main.h"
#include <string.h>
#include <unistd.h>

#include "log.h"

START_TEST(json_escape)
{
    char out[64];
    size_t len = 0;

    hello_json_escape(out, sizeof out, &len, "a\"b\\c\nd\x01\x7f\xc3\xa9");
    ck_assert_str_eq(out, "a\\\"b\\\\c\\u000ad\\u0001\\u007f\xc3\xa9");
    len = 0;
    hello_json_escape(out, 8, &len, "\n\n\n\n");
    ck_assert_uint_lt(len, 8); /* truncated, never split inside an escape */
    ck_assert_str_eq(out, "\\u000a");
}
END_TEST

START_TEST(log_line_is_one_json_object)
{
    int fds[2];
    char buf[4096];
    ssize_t n;
    hello_log_fields f;

    ck_assert_int_eq(pipe(fds), 0);
    hello_logger lg = {.level = HELLO_LOG_INFO, .fd = fds[1], .component = "test"};
    hello_log_fields_init(&f);
    hello_log_str(&f, "path", "/a\"b");
    hello_log_int(&f, "status", 400);
    hello_log_emit(&lg, HELLO_LOG_DEBUG, "dropped below level", &f);
    hello_log_emit(&lg, HELLO_LOG_WARN, "line\nbreak", &f);
    close(fds[1]);
    n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    ck_assert_ptr_eq(strchr(buf, '\n'), buf + n - 1); /* exactly one line */
    ck_assert_ptr_nonnull(strstr(buf, "\"level\":\"warn\""));
    ck_assert_ptr_nonnull(strstr(buf, "\"msg\":\"line\\u000abreak\""));
    ck_assert_ptr_nonnull(strstr(buf, "\"path\":\"/a\\\"b\",\"status\":400}"));
    ck_assert_int_eq(buf[0], '{');
}
END_TEST

START_TEST(log_fields_never_overflow)
{
    hello_log_fields f;
    char big[2000];

    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    hello_log_fields_init(&f);
    hello_log_str(&f, "small", "ok");
    hello_log_str(&f, "big", big); /* cut at HELLO_LOG_VALUE_MAX and marked */
    ck_assert_uint_eq(f.len, strlen(",\"small\":\"ok\",\"big\":\"\"") + HELLO_LOG_VALUE_MAX + 3);
    ck_assert_int_eq(memcmp(f.buf + f.len - 5, "x...\"", 5), 0);
    for (int i = 0; i < 200; i++) hello_log_int(&f, "n", i);
    ck_assert_uint_lt(f.len, sizeof f.buf);
    ck_assert_int_eq(f.buf[f.len - 1] >= '0' && f.buf[f.len - 1] <= '9', 1); /* ends with a whole field */
}
END_TEST

/* The reported line: a 945-character path at LOG_LEVEL=debug ended in "status} because appends
 * that did not fit were skipped one by one. Every field after it must still be whole. */
START_TEST(log_long_path_keeps_later_fields_whole)
{
    static char path[946];
    hello_log_fields f;

    memset(path, 'a', sizeof path - 1);
    path[0] = '/';
    hello_log_fields_init(&f);
    hello_log_str(&f, "request_id", "0123456789abcdef0123456789abcdef");
    hello_log_str(&f, "method", "GET");
    hello_log_str(&f, "path", path);
    hello_log_str(&f, "route", "not_found");
    hello_log_int(&f, "status", 404);
    hello_log_int(&f, "duration_us", 12);
    ck_assert_ptr_nonnull(strstr(f.buf, "aaa...\",\"route\":\"not_found\",\"status\":404,\"duration_us\":12"));
    /* Many long values: each is whole (cut and marked) or absent, never half written. */
    hello_log_fields_init(&f);
    for (int i = 0; i < 10; i++) hello_log_str(&f, "p", path);
    ck_assert_int_eq(f.buf[f.len - 1], '"');
    ck_assert_int_eq(memcmp(f.buf + f.len - 4, "...", 3), 0);
}
END_TEST

/* Bytes that are not UTF-8 become U+FFFD; well-formed sequences pass, cut only between them. */
START_TEST(json_escape_replaces_what_is_not_utf8)
{
    static const char *const cases[][2] = {
        {"/\xff", "/\xef\xbf\xbd"},                                                       /* a byte never in UTF-8 */
        {"\xff\xfe", "\xef\xbf\xbd\xef\xbf\xbd"},                                         /* the reported User-Agent */
        {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"}, /* e-acute, euro, emoji */
        {"\xc3", "\xef\xbf\xbd"},                                                         /* truncated sequence */
        {"\xc3(", "\xef\xbf\xbd("},                                                       /* bad continuation */
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},                                         /* overlong '/' */
        {"\xe0\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},                         /* overlong, three bytes */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},                         /* a UTF-16 surrogate */
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},         /* above U+10FFFF */
        {"\x80", "\xef\xbf\xbd"},                                                         /* a lone continuation byte */
    };
    char out[64];
    size_t len;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        len = 0;
        ck_assert_int_eq(hello_json_escape(out, sizeof out, &len, cases[i][0]), 0);
        ck_assert_msg(strcmp(out, cases[i][1]) == 0, "case %zu", i);
    }
    len = 0; /* room for the first character only: never half of the second */
    ck_assert_int_eq(hello_json_escape(out, 4, &len, "\xe2\x82\xac\xe2\x82\xac"), -1);
    ck_assert_str_eq(out, "\xe2\x82\xac");
}
END_TEST

START_TEST(log_level_names)
{
    hello_log_level l;

    ck_assert_int_eq(hello_log_level_parse("warn", &l), 0);
    ck_assert_int_eq(l, HELLO_LOG_WARN);
    ck_assert_int_eq(hello_log_level_parse("WARN", &l), -1);
    ck_assert_int_eq(hello_log_level_parse("", &l), -1);
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *core = tcase_create("Core");
    TCase *limits = tcase_create("Limits");
    TCase *bad = tcase_create("Bad input");

    tcase_add_test(core, json_escape);
    tcase_add_test(core, log_line_is_one_json_object);
    tcase_add_test(limits, log_fields_never_overflow);
    tcase_add_test(limits, log_long_path_keeps_later_fields_whole);
    tcase_add_test(bad, json_escape_replaces_what_is_not_utf8);
    tcase_add_test(bad, log_level_names);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return hello_check_run(log_suite());
}
