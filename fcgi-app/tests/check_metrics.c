/* Unit tests: metrics recording across worker slots and the Prometheus text rendering. */
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const hello_build_info build = {.version = "1.2.3", .commit = "abc\"def", .arch = "arm64"};
static char out[64 * 1024];

static const char *render(const hello_metrics *m)
{
    long n = hello_metrics_render(m, &build, out, sizeof out);

    ck_assert_int_gt(n, 0);
    ck_assert_uint_eq(strlen(out), (size_t)n);
    return out;
}

START_TEST(sums_across_workers)
{
    hello_metrics *m = hello_metrics_create(3, 1700000000.5);

    ck_assert_ptr_nonnull(m);
    for (int w = 0; w < 3; w++) {
        hello_metrics_begin(&m->slots[w]);
        hello_metrics_end(&m->slots[w], HELLO_ROUTE_HELLO, 200, 30);
    }
    hello_metrics_begin(&m->slots[1]);
    hello_metrics_end(&m->slots[1], HELLO_ROUTE_BYE, 400, 5);
    render(m);
    ck_assert_ptr_nonnull(strstr(out, "hello_requests_total{route=\"hello\",code=\"200\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(out, "hello_requests_total{route=\"bye\",code=\"400\"} 1\n"));
    ck_assert_ptr_null(strstr(out, "code=\"404\"")); /* zero series are left out */
    ck_assert_ptr_nonnull(strstr(out, "hello_requests_in_flight 0\n"));
    ck_assert_ptr_nonnull(strstr(out, "hello_workers 3\n"));
    ck_assert_ptr_nonnull(strstr(out, "process_start_time_seconds 1700000000.500\n"));
    hello_metrics_destroy(m);
}
END_TEST

START_TEST(histogram_is_cumulative)
{
    hello_metrics *m = hello_metrics_create(1, 0);

    hello_metrics_end(&m->slots[0], HELLO_ROUTE_HELLO, 200, 5);       /* <= 10us */
    hello_metrics_end(&m->slots[0], HELLO_ROUTE_HELLO, 200, 200);     /* <= 250us */
    hello_metrics_end(&m->slots[0], HELLO_ROUTE_HELLO, 200, 9000000); /* +Inf */
    render(m);
    ck_assert_ptr_nonnull(strstr(out, "hello_request_duration_seconds_bucket{route=\"hello\",le=\"1e-05\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(out, "hello_request_duration_seconds_bucket{route=\"hello\",le=\"0.0001\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(out, "hello_request_duration_seconds_bucket{route=\"hello\",le=\"0.00025\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(out, "hello_request_duration_seconds_bucket{route=\"hello\",le=\"0.1\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(out, "hello_request_duration_seconds_bucket{route=\"hello\",le=\"+Inf\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(out, "hello_request_duration_seconds_count{route=\"hello\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(out, "hello_request_duration_seconds_sum{route=\"hello\"} 9.000205\n"));
    hello_metrics_destroy(m);
}
END_TEST

START_TEST(in_flight_and_state)
{
    hello_metrics *m = hello_metrics_create(2, 0);

    hello_metrics_begin(&m->slots[0]);
    hello_metrics_begin(&m->slots[1]);
    m->draining = 1;
    m->worker_restarts = 4;
    render(m);
    ck_assert_ptr_nonnull(strstr(out, "hello_requests_in_flight 2\n"));
    ck_assert_ptr_nonnull(strstr(out, "hello_draining 1\n"));
    ck_assert_ptr_nonnull(strstr(out, "hello_worker_restarts_total 4\n"));
    hello_metrics_destroy(m);
}
END_TEST

START_TEST(build_info_escaped)
{
    hello_metrics *m = hello_metrics_create(1, 0);

    render(m);
    ck_assert_ptr_nonnull(strstr(out, "hello_build_info{version=\"1.2.3\",commit=\"abc\\\"def\",arch=\"arm64\"} 1\n"));
    hello_metrics_destroy(m);
}
END_TEST

START_TEST(every_series_has_help_and_type)
{
    hello_metrics *m = hello_metrics_create(1, 0);
    char *line, *save = NULL;
    char last_type[128] = "";

    render(m);
    for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "# TYPE ", 7) == 0) {
            snprintf(last_type, sizeof last_type, "%s", line + 7);
            *strchr(last_type, ' ') = '\0';
        } else if (line[0] != '#') {
            ck_assert_msg(strncmp(line, last_type, strlen(last_type)) == 0, "series %s outside its family %s", line,
                          last_type);
        }
    }
    hello_metrics_destroy(m);
}
END_TEST

START_TEST(unknown_status_and_route_are_bucketed)
{
    hello_metrics *m = hello_metrics_create(1, 0);

    ck_assert_int_eq(hello_status_class_of(418), HELLO_STATUS_OTHER);
    hello_metrics_end(&m->slots[0], (hello_route)99, 418, 1);
    render(m);
    ck_assert_ptr_nonnull(strstr(out, "hello_requests_total{route=\"unknown\",code=\"other\"} 1\n"));
    hello_metrics_destroy(m);
}
END_TEST

START_TEST(small_buffer_refused)
{
    hello_metrics *m = hello_metrics_create(1, 0);
    char tiny[100];

    ck_assert_int_eq(hello_metrics_render(m, &build, tiny, sizeof tiny), -1);
    ck_assert_int_eq(hello_metrics_render(m, &build, tiny, 0), -1);
    hello_metrics_destroy(m);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *core = tcase_create("Core");
    TCase *limits = tcase_create("Limits");
    TCase *bad = tcase_create("Bad input");

    tcase_add_test(core, sums_across_workers);
    tcase_add_test(core, histogram_is_cumulative);
    tcase_add_test(core, in_flight_and_state);
    tcase_add_test(core, build_info_escaped);
    tcase_add_test(core, every_series_has_help_and_type);
    tcase_add_test(limits, small_buffer_refused);
    tcase_add_test(bad, unknown_status_and_route_are_bucketed);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return hello_check_run(metrics_suite());
}
