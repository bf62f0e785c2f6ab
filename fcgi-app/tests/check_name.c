/* Unit tests: query parsing, percent-decoding and validation of the greeting's name. */
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"

static hello_name_status from_query(const char *q, char *out)
{
    size_t len;

    return hello_name_from_query(q, out, HELLO_NAME_MAX_BYTES + 1, &len);
}

START_TEST(plain_name)
{
    char out[HELLO_NAME_MAX_BYTES + 1];

    ck_assert_int_eq(from_query("name=Ada", out), HELLO_NAME_OK);
    ck_assert_str_eq(out, "Ada");
}
END_TEST

START_TEST(name_among_other_parameters)
{
    char out[HELLO_NAME_MAX_BYTES + 1];

    ck_assert_int_eq(from_query("a=1&name=Grace&b=2", out), HELLO_NAME_OK);
    ck_assert_str_eq(out, "Grace");
    ck_assert_int_eq(from_query("names=x&nam=y&xname=z", out), HELLO_NAME_ABSENT);
}
END_TEST

START_TEST(plus_and_percent_decoding)
{
    char out[HELLO_NAME_MAX_BYTES + 1];

    ck_assert_int_eq(from_query("name=Ada+Lovelace", out), HELLO_NAME_OK);
    ck_assert_str_eq(out, "Ada Lovelace");
    ck_assert_int_eq(from_query("name=Ada%20L%2b", out), HELLO_NAME_OK);
    ck_assert_str_eq(out, "Ada L+");
    ck_assert_int_eq(from_query("name=Jos%C3%A9", out), HELLO_NAME_OK);
    ck_assert_str_eq(out, "Jos\xC3\xA9");
    ck_assert_int_eq(from_query("name=%F0%9F%98%80", out), HELLO_NAME_OK); /* emoji, 4 bytes */
    ck_assert_str_eq(out, "\xF0\x9F\x98\x80");
}
END_TEST

START_TEST(absent_or_empty_means_default)
{
    char out[HELLO_NAME_MAX_BYTES + 1];

    ck_assert_int_eq(from_query(NULL, out), HELLO_NAME_ABSENT);
    ck_assert_int_eq(from_query("", out), HELLO_NAME_ABSENT);
    ck_assert_int_eq(from_query("name=", out), HELLO_NAME_ABSENT);
    ck_assert_int_eq(from_query("name", out), HELLO_NAME_ABSENT);
    ck_assert_int_eq(from_query("other=1", out), HELLO_NAME_ABSENT);
}
END_TEST

START_TEST(exactly_the_maximum_characters)
{
    char q[8 + HELLO_NAME_MAX_CHARS * 9], out[HELLO_NAME_MAX_BYTES + 1];

    strcpy(q, "name=");
    for (int i = 0; i < HELLO_NAME_MAX_CHARS; i++) strcat(q, "%E2%82%AC"); /* euro sign: 3 bytes each */
    ck_assert_int_eq(from_query(q, out), HELLO_NAME_OK);
    ck_assert_uint_eq(strlen(out), HELLO_NAME_MAX_CHARS * 3);
}
END_TEST

START_TEST(too_long)
{
    char q[1024], out[HELLO_NAME_MAX_BYTES + 1];

    strcpy(q, "name=");
    memset(q + 5, 'a', 65);
    q[70] = '\0';
    ck_assert_int_eq(from_query(q, out), HELLO_NAME_TOO_LONG);
    strcpy(q, "name=");
    for (int i = 0; i < 65; i++) strcat(q, "%F0%9F%98%80"); /* 65 x 4 bytes: cut inside a character */
    ck_assert_int_eq(from_query(q, out), HELLO_NAME_TOO_LONG);
    memset(q + 5, 'a', 1000);
    q[1005] = '\0';
    ck_assert_int_eq(from_query(q, out), HELLO_NAME_TOO_LONG);
}
END_TEST

START_TEST(malformed_percent)
{
    char out[HELLO_NAME_MAX_BYTES + 1];
    const char *bad[] = {"name=%", "name=%4", "name=%G1", "name=%1G", "name=abc%", "name=%%41", "name=%-1"};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(from_query(bad[i], out) == HELLO_NAME_BAD_PERCENT, "%s", bad[i]);
}
END_TEST

START_TEST(invalid_utf8)
{
    char out[HELLO_NAME_MAX_BYTES + 1];
    const char *bad[] = {
        "name=%FF",          /* never valid */
        "name=%C3",          /* truncated */
        "name=%C3%28",       /* bad continuation */
        "name=%C0%AF",       /* overlong '/' */
        "name=%E0%80%AF",    /* overlong 3-byte */
        "name=%ED%A0%80",    /* UTF-16 surrogate */
        "name=%F4%90%80%80", /* above U+10FFFF */
        "name=%80",          /* lone continuation */
        "name=%F0%9F%98",    /* truncated 4-byte */
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(from_query(bad[i], out) == HELLO_NAME_BAD_UTF8, "%s", bad[i]);
}
END_TEST

START_TEST(control_characters)
{
    char out[HELLO_NAME_MAX_BYTES + 1];
    const char *bad[] = {"name=%00", "name=a%0Ab",  "name=%0D%0ASet-Cookie:x",
                         "name=%7F", "name=%C2%85", "name=%1B[31m"};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(from_query(bad[i], out) == HELLO_NAME_CONTROL, "%s", bad[i]);
}
END_TEST

START_TEST(repeated_parameter)
{
    char out[HELLO_NAME_MAX_BYTES + 1];

    ck_assert_int_eq(from_query("name=a&name=b", out), HELLO_NAME_REPEATED);
    ck_assert_int_eq(from_query("name=&name=b", out), HELLO_NAME_REPEATED);
    /* Keys are percent-decoded like values: these are the same parameter. */
    ck_assert_int_eq(from_query("name=a&na%6De=b", out), HELLO_NAME_REPEATED);
    ck_assert_int_eq(from_query("%6E%61%6D%65=a&name=b", out), HELLO_NAME_REPEATED);
}
END_TEST

START_TEST(encoded_keys)
{
    char out[HELLO_NAME_MAX_BYTES + 1];

    ck_assert_int_eq(from_query("na%6De=Ada", out), HELLO_NAME_OK);
    ck_assert_str_eq(out, "Ada");
    ck_assert_int_eq(from_query("%6eame=Bo&x=1", out), HELLO_NAME_OK);
    ck_assert_str_eq(out, "Bo");
    /* Not the name parameter: another key, or a malformed escape in the key. */
    ck_assert_int_eq(from_query("na%6D=Ada&nam%65s=x&na%6=y&na%zze=z&name+=w", out), HELLO_NAME_ABSENT);
}
END_TEST

/* Decided: a name of only spaces greets nobody, so it gets the default like an empty one. */
START_TEST(only_spaces_means_default)
{
    char out[HELLO_NAME_MAX_BYTES + 1];

    ck_assert_int_eq(from_query("name=+", out), HELLO_NAME_ABSENT);
    ck_assert_int_eq(from_query("name=%20%20+", out), HELLO_NAME_ABSENT);
    ck_assert_int_eq(from_query("name=+Ada+", out), HELLO_NAME_OK); /* spaces around a name stay */
    ck_assert_str_eq(out, " Ada ");
}
END_TEST

START_TEST(reasons_are_one_line)
{
    for (int s = HELLO_NAME_BAD_PERCENT; s <= HELLO_NAME_REPEATED; s++) {
        const char *r = hello_name_status_reason((hello_name_status)s);

        ck_assert_ptr_nonnull(r);
        ck_assert_ptr_null(strchr(r, '\n'));
        ck_assert_uint_gt(strlen(r), 5);
    }
}
END_TEST

/* The limit and the message that states it are one: changing HELLO_NAME_MAX_CHARS changes both. */
START_TEST(too_long_reason_states_the_limit)
{
    char expected[64];

    snprintf(expected, sizeof expected, "name is longer than %d characters", HELLO_NAME_MAX_CHARS);
    ck_assert_str_eq(hello_name_status_reason(HELLO_NAME_TOO_LONG), expected);
}
END_TEST

static Suite *name_suite(void)
{
    Suite *s = suite_create("name");
    TCase *core = tcase_create("Core");
    TCase *limits = tcase_create("Limits");
    TCase *bad = tcase_create("Bad input");

    tcase_add_test(core, plain_name);
    tcase_add_test(core, name_among_other_parameters);
    tcase_add_test(core, plus_and_percent_decoding);
    tcase_add_test(core, absent_or_empty_means_default);
    tcase_add_test(core, encoded_keys);
    tcase_add_test(core, only_spaces_means_default);
    tcase_add_test(limits, exactly_the_maximum_characters);
    tcase_add_test(limits, too_long);
    tcase_add_test(limits, too_long_reason_states_the_limit);
    tcase_add_test(bad, malformed_percent);
    tcase_add_test(bad, invalid_utf8);
    tcase_add_test(bad, control_characters);
    tcase_add_test(bad, repeated_parameter);
    tcase_add_test(bad, reasons_are_one_line);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return hello_check_run(name_suite());
}
