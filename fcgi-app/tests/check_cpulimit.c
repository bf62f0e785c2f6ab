/* Unit tests: the worker default follows the cgroup CPU quota, read from fake cgroup trees. */
#include "check_main.h"
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpulimit.h"

static char root[64];       /* a fresh directory standing in for /sys/fs/cgroup */
static char self_file[128]; /* standing in for /proc/self/cgroup */

/* Writes text to root/rel, creating the directories on the way. */
static void put(const char *rel, const char *text)
{
    char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p != '\0'; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static void membership(const char *text)
{
    FILE *f = fopen(self_file, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static int limit(int affinity)
{
    return hello_cpu_limit(root, self_file, affinity);
}

static void setup(void)
{
    strcpy(root, "/tmp/check_cpulimit.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    snprintf(self_file, sizeof self_file, "%s/self-cgroup", root);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---------------------------------------------------------------- cgroup v2 */

START_TEST(v2_half_a_cpu_is_one)
{
    membership("0::/\n");
    put("cpu.max", "50000 100000\n");
    ck_assert_int_eq(limit(16), 1);
}
END_TEST

START_TEST(v2_two_cpus_are_two)
{
    membership("0::/\n");
    put("cpu.max", "200000 100000\n");
    ck_assert_int_eq(limit(16), 2);
}
END_TEST

START_TEST(v2_one_and_a_half_rounds_up)
{
    membership("0::/\n");
    put("cpu.max", "150000 100000\n");
    ck_assert_int_eq(limit(16), 2);
}
END_TEST

START_TEST(v2_max_is_the_affinity_count)
{
    membership("0::/\n");
    put("cpu.max", "max 100000\n");
    ck_assert_int_eq(limit(16), 16);
}
END_TEST

/* Without a cgroup namespace the process sees the host's path; the tighter of its cgroup and
 * its parent wins. */
START_TEST(v2_nested_path_takes_the_tightest_ancestor)
{
    membership("0::/kubepods/pod1/ctr\n");
    put("kubepods/cpu.max", "max 100000\n");
    put("kubepods/pod1/cpu.max", "300000 100000\n");
    put("kubepods/pod1/ctr/cpu.max", "max 100000\n");
    ck_assert_int_eq(limit(16), 3);
}
END_TEST

/* A container without its own cgroup namespace: /proc/self/cgroup names the host's path, the
 * mount shows the container's cgroup as its root. */
START_TEST(v2_path_missing_under_the_mount_reads_the_mount_root)
{
    membership("0::/system.slice/docker-abc.scope\n");
    put("cpu.max", "100000 100000\n");
    ck_assert_int_eq(limit(16), 1);
}
END_TEST

/* systemd's hybrid layout: cgroup v2 mounted as "unified" beside the v1 controllers. */
START_TEST(v2_in_the_hybrid_layout)
{
    membership("1:cpu:/\n0::/app\n");
    put("unified/app/cpu.max", "250000 100000\n");
    ck_assert_int_eq(limit(16), 3);
}
END_TEST

START_TEST(never_more_than_the_affinity_count)
{
    membership("0::/\n");
    put("cpu.max", "800000 100000\n");
    ck_assert_int_eq(limit(2), 2);
}
END_TEST

/* ---------------------------------------------------------------- cgroup v1 */

START_TEST(v1_half_a_cpu_is_one)
{
    membership("4:memory:/x\n3:cpu,cpuacct:/\n2:cpuset:/\n");
    put("cpu,cpuacct/cpu.cfs_quota_us", "50000\n");
    put("cpu,cpuacct/cpu.cfs_period_us", "100000\n");
    ck_assert_int_eq(limit(16), 1);
}
END_TEST

START_TEST(v1_two_cpus_are_two)
{
    membership("1:cpu:/hello\n");
    put("cpu/hello/cpu.cfs_quota_us", "200000\n");
    put("cpu/hello/cpu.cfs_period_us", "100000\n");
    put("cpu/cpu.cfs_quota_us", "-1\n");
    put("cpu/cpu.cfs_period_us", "100000\n");
    ck_assert_int_eq(limit(16), 2);
}
END_TEST

START_TEST(v1_one_and_a_half_rounds_up)
{
    membership("3:cpuacct,cpu:/\n");
    put("cpuacct,cpu/cpu.cfs_quota_us", "75000\n");
    put("cpuacct,cpu/cpu.cfs_period_us", "50000\n");
    ck_assert_int_eq(limit(16), 2);
}
END_TEST

START_TEST(v1_minus_one_is_the_affinity_count)
{
    membership("1:cpu:/\n");
    put("cpu/cpu.cfs_quota_us", "-1\n");
    put("cpu/cpu.cfs_period_us", "100000\n");
    ck_assert_int_eq(limit(16), 16);
}
END_TEST

/* cpuacct alone is not the cpu controller: its directory is not read. */
START_TEST(v1_other_controllers_are_ignored)
{
    membership("2:cpuacct:/\n5:cpuset:/\n");
    put("cpuacct/cpu.cfs_quota_us", "50000\n");
    put("cpuacct/cpu.cfs_period_us", "100000\n");
    ck_assert_int_eq(limit(16), 16);
}
END_TEST

/* ---------------------------------------------------------------- bad input */

START_TEST(garbage_is_the_affinity_count)
{
    static const char *const bad_v2[] = {"",
                                         "max",
                                         "50000",
                                         "abc 100000",
                                         "50000 0",
                                         "0 100000",
                                         "-5 100000",
                                         "50000 10x",
                                         "99999999999999999999999 100000",
                                         "50000  100000",
                                         "\xff\xfe"};

    membership("0::/\n");
    for (size_t i = 0; i < sizeof bad_v2 / sizeof bad_v2[0]; i++) {
        put("cpu.max", bad_v2[i]);
        ck_assert_msg(limit(7) == 7, "cpu.max \"%s\" gave %d", bad_v2[i], limit(7));
    }
    membership("1:cpu:/\n");
    put("cpu/cpu.cfs_quota_us", "lots\n");
    put("cpu/cpu.cfs_period_us", "100000\n");
    ck_assert_int_eq(limit(7), 7);
    put("cpu/cpu.cfs_quota_us", "50000\n");
    put("cpu/cpu.cfs_period_us", "0\n");
    ck_assert_int_eq(limit(7), 7);
}
END_TEST

START_TEST(broken_membership_is_the_affinity_count)
{
    static const char *const bad[] = {"", "\n\n", "garbage", "0:", "0::", "0::relative/path\n", "::/\n", "1:cpu\n"};

    put("cpu.max", "50000 100000\n");
    put("cpu/cpu.cfs_quota_us", "50000\n");
    put("cpu/cpu.cfs_period_us", "100000\n");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        membership(bad[i]);
        ck_assert_msg(limit(5) == 5, "membership \"%s\" gave %d", bad[i], limit(5));
    }
}
END_TEST

START_TEST(missing_files_are_the_affinity_count)
{
    ck_assert_int_eq(limit(3), 3); /* no membership file */
    membership("0::/\n");
    ck_assert_int_eq(limit(3), 3); /* no cpu.max */
    ck_assert_int_eq(hello_cpu_limit("/nonexistent", "/nonexistent/cgroup", 4), 4);
}
END_TEST

START_TEST(affinity_below_one_is_one)
{
    ck_assert_int_eq(limit(0), 1);
    ck_assert_int_eq(limit(-3), 1);
}
END_TEST

static Suite *cpulimit_suite(void)
{
    Suite *s = suite_create("cpulimit");
    TCase *v2 = tcase_create("cgroup v2");
    TCase *v1 = tcase_create("cgroup v1");
    TCase *bad = tcase_create("Bad input");

    tcase_add_checked_fixture(v2, setup, teardown);
    tcase_add_checked_fixture(v1, setup, teardown);
    tcase_add_checked_fixture(bad, setup, teardown);
    tcase_add_test(v2, v2_half_a_cpu_is_one);
    tcase_add_test(v2, v2_two_cpus_are_two);
    tcase_add_test(v2, v2_one_and_a_half_rounds_up);
    tcase_add_test(v2, v2_max_is_the_affinity_count);
    tcase_add_test(v2, v2_nested_path_takes_the_tightest_ancestor);
    tcase_add_test(v2, v2_path_missing_under_the_mount_reads_the_mount_root);
    tcase_add_test(v2, v2_in_the_hybrid_layout);
    tcase_add_test(v2, never_more_than_the_affinity_count);
    tcase_add_test(v1, v1_half_a_cpu_is_one);
    tcase_add_test(v1, v1_two_cpus_are_two);
    tcase_add_test(v1, v1_one_and_a_half_rounds_up);
    tcase_add_test(v1, v1_minus_one_is_the_affinity_count);
    tcase_add_test(v1, v1_other_controllers_are_ignored);
    tcase_add_test(bad, garbage_is_the_affinity_count);
    tcase_add_test(bad, broken_membership_is_the_affinity_count);
    tcase_add_test(bad, missing_files_are_the_affinity_count);
    tcase_add_test(bad, affinity_below_one_is_one);
    suite_add_tcase(s, v2);
    suite_add_tcase(s, v1);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return hello_check_run(cpulimit_suite());
}
