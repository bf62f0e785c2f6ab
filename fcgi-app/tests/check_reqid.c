/* Unit tests: fresh request ids and the sanity rule for a client's X-Request-ID. */
#include "check_main.h"
#include <string.h>

#include "reqid.h"

static int is_lower_hex(const char *s)
{
    for (; *s != '\0'; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
    return 1;
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp(a, b);
}

START_TEST(fresh_ids_are_32_hex_digits_and_sane)
{
    hello_reqid_gen g;
    char id[HELLO_REQID_FRESH_LEN + 1];

    ck_assert_int_eq(hello_reqid_seed(&g), 0);
    hello_reqid_next(&g, id);
    ck_assert_uint_eq(strlen(id), 32);
    ck_assert(is_lower_hex(id));
    ck_assert(hello_reqid_is_sane(id));
}
END_TEST

START_TEST(one_generator_never_repeats)
{
    /* Seeded so both halves start at zero: the weakest start, and still no repeat. */
    hello_reqid_gen g = {0, 0};
    enum { N = 20000 };
    static char ids[N][HELLO_REQID_FRESH_LEN + 1];

    for (int i = 0; i < N; i++) hello_reqid_next(&g, ids[i]);
    qsort(ids, N, sizeof ids[0], compare_ids);
    for (int i = 1; i < N; i++) ck_assert_str_ne(ids[i - 1], ids[i]);
}
END_TEST

START_TEST(seeded_generators_differ)
{
    hello_reqid_gen a, b;
    char x[HELLO_REQID_FRESH_LEN + 1], y[HELLO_REQID_FRESH_LEN + 1];

    ck_assert_int_eq(hello_reqid_seed(&a), 0);
    ck_assert_int_eq(hello_reqid_seed(&b), 0);
    hello_reqid_next(&a, x);
    hello_reqid_next(&b, y);
    ck_assert_str_ne(x, y);
}
END_TEST

START_TEST(sane_client_ids)
{
    char longest[HELLO_REQID_MAX_LEN + 1];

    memset(longest, 'a', HELLO_REQID_MAX_LEN);
    longest[HELLO_REQID_MAX_LEN] = '\0';
    ck_assert(hello_reqid_is_sane("req-0123456789abcdef"));
    ck_assert(hello_reqid_is_sane("12345678"));
    ck_assert(hello_reqid_is_sane("a.b_c:d-E"));
    ck_assert(hello_reqid_is_sane(longest));
}
END_TEST

START_TEST(insane_client_ids)
{
    char too_long[HELLO_REQID_MAX_LEN + 2];

    memset(too_long, 'a', HELLO_REQID_MAX_LEN + 1);
    too_long[HELLO_REQID_MAX_LEN + 1] = '\0';
    ck_assert(!hello_reqid_is_sane(NULL));
    ck_assert(!hello_reqid_is_sane(""));
    ck_assert(!hello_reqid_is_sane("1234567"));
    ck_assert(!hello_reqid_is_sane(too_long));
    ck_assert(!hello_reqid_is_sane("has space in it"));
    ck_assert(!hello_reqid_is_sane("injected\r\nSet-Cookie: x=1"));
    ck_assert(!hello_reqid_is_sane("semi;colon;value"));
    ck_assert(!hello_reqid_is_sane("Root=1-67891233-abcdef012345678912345678")); /* '=' */
    ck_assert(!hello_reqid_is_sane("caf\xc3\xa9-request"));
}
END_TEST

static Suite *reqid_suite(void)
{
    Suite *s = suite_create("reqid");
    TCase *core = tcase_create("Core");
    TCase *limits = tcase_create("Limits");
    TCase *bad = tcase_create("Bad input");

    tcase_add_test(core, fresh_ids_are_32_hex_digits_and_sane);
    tcase_add_test(core, seeded_generators_differ);
    tcase_add_test(limits, one_generator_never_repeats);
    tcase_add_test(limits, sane_client_ids);
    tcase_add_test(bad, insane_client_ids);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return hello_check_run(reqid_suite());
}
