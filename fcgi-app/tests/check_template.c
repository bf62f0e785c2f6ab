/* Unit tests: the nginx template renderer. */
#include "check_main.h"
#include <string.h>

#include "template.h"

static const hello_template_var vars[] = {{"PORT", "8080"}, {"RUNTIME_DIR", "/tmp/hello.x"}, {"EMPTY", ""}};
#define NVARS (sizeof vars / sizeof vars[0])

START_TEST(fills_placeholders)
{
    char out[256], err[128];
    long n = hello_template_render("listen ${PORT};\npid ${RUNTIME_DIR}/nginx.pid;${EMPTY}", vars, NVARS, out,
                                   sizeof out, err, sizeof err);

    ck_assert_int_gt(n, 0);
    ck_assert_str_eq(out, "listen 8080;\npid /tmp/hello.x/nginx.pid;");
    ck_assert_uint_eq(strlen(out), (size_t)n);
}
END_TEST

START_TEST(leaves_nginx_variables_alone)
{
    char out[256], err[128];
    const char *tpl = "log $request_id ${request_id} $ {PORT} ${} ${Port} $";

    ck_assert_int_gt(hello_template_render(tpl, vars, NVARS, out, sizeof out, err, sizeof err), 0);
    ck_assert_str_eq(out, tpl);
}
END_TEST

START_TEST(unknown_placeholder_fails)
{
    char out[256], err[128];

    ck_assert_int_eq(hello_template_render("x ${NOPE} y", vars, NVARS, out, sizeof out, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "NOPE"));
}
END_TEST

START_TEST(overflow_fails)
{
    char out[8], err[128];

    ck_assert_int_eq(hello_template_render("listen ${PORT};", vars, NVARS, out, sizeof out, err, sizeof err), -1);
    ck_assert_int_eq(hello_template_render("12345678", vars, NVARS, out, sizeof out, err, sizeof err), -1);
    ck_assert_int_eq(hello_template_render("1234567", vars, NVARS, out, sizeof out, err, sizeof err), 7);
}
END_TEST

static Suite *template_suite(void)
{
    Suite *s = suite_create("template");
    TCase *core = tcase_create("Core");
    TCase *limits = tcase_create("Limits");
    TCase *bad = tcase_create("Bad input");

    tcase_add_test(core, fills_placeholders);
    tcase_add_test(core, leaves_nginx_variables_alone);
    tcase_add_test(limits, overflow_fails);
    tcase_add_test(bad, unknown_placeholder_fails);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return hello_check_run(template_suite());
}
