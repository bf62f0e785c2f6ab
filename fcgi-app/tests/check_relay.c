/* Unit tests: nginx's output relayed line by line, repaired to valid UTF-8. */
#include "check_main.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"

static size_t repair(const char *in, char *out)
{
    size_t n = hello_utf8_repair(in, strlen(in), out);

    out[n] = '\0';
    return n;
}

START_TEST(valid_utf8_passes_unchanged)
{
    char out[256];
    const char *line = "{\"path\":\"/caf\xc3\xa9\",\"ua\":\"\xe2\x82\xac \xf0\x9f\x98\x80\"}\n";

    ck_assert_uint_eq(repair(line, out), strlen(line));
    ck_assert_str_eq(out, line);
}
END_TEST

START_TEST(bytes_outside_utf8_become_escapes)
{
    char out[256];

    repair("{\"user_agent\":\"\xff\xfe\"}", out);
    ck_assert_str_eq(out, "{\"user_agent\":\"\\ufffd\\ufffd\"}");
    repair("\xc3(\xed\xa0\x80\xc0\xaf", out);
    ck_assert_str_eq(out, "\\ufffd(\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd");
    repair("\xe2\x82", out); /* a sequence cut short by the end of the data */
    ck_assert_str_eq(out, "\\ufffd\\ufffd");
}
END_TEST

/* Lines written in pieces, with a partial last line, come out whole and repaired. */
START_TEST(pump_relays_lines_and_the_rest_at_eof)
{
    static hello_relay r;
    char path[] = "/tmp/check_relay.XXXXXX";
    char got[512];
    int in[2], out_fd = mkstemp(path);
    ssize_t n;

    ck_assert_int_ge(out_fd, 0);
    unlink(path);
    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(fcntl(in[0], F_SETFL, O_NONBLOCK), 0);
    r.in_fd = in[0];
    r.out_fd = out_fd;
    r.len = 0;
    ck_assert_int_eq(write(in[1], "{\"a\":\"\xff\"}\n{\"b\"", 14), 14);
    ck_assert_int_eq(hello_relay_pump(&r), 0); /* nothing more waiting: back to the caller */
    ck_assert_int_eq(write(in[1], ":1}\n{\"c\":2", 10), 10);
    ck_assert_int_eq(hello_relay_pump(&r), 0);
    close(in[1]);
    ck_assert_int_eq(hello_relay_pump(&r), -1);
    ck_assert_int_eq(r.in_fd, -1);
    n = pread(out_fd, got, sizeof got - 1, 0);
    close(out_fd);
    ck_assert_int_gt(n, 0);
    got[n] = '\0';
    ck_assert_str_eq(got, "{\"a\":\"\\ufffd\"}\n{\"b\":1}\n{\"c\":2");
}
END_TEST

static Suite *relay_suite(void)
{
    Suite *s = suite_create("relay");
    TCase *core = tcase_create("Core");
    TCase *bad = tcase_create("Bad input");

    tcase_add_test(core, valid_utf8_passes_unchanged);
    tcase_add_test(core, pump_relays_lines_and_the_rest_at_eof);
    tcase_add_test(bad, bytes_outside_utf8_become_escapes);
    suite_add_tcase(s, core);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return hello_check_run(relay_suite());
}
