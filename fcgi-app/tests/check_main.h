#ifndef HELLO_CHECK_MAIN_H_
#define HELLO_CHECK_MAIN_H_

#include <check.h>
#include <stdlib.h>

/* Runs one Check suite (CK_NORMAL output) and returns the process exit status. */
static inline int hello_check_run(Suite *suite)
{
    SRunner *sr = srunner_create(suite);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* HELLO_CHECK_MAIN_H_ */
