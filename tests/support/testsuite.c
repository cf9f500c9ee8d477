/* The one end of every unit suite's main(). See testsuite.h. */
#include "testsuite.h"

#include <stdlib.h>

int testsuite_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
