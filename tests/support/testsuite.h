/*
 * The one end of every unit suite's main(): run the suite (output as CK_VERBOSITY says,
 * CK_NORMAL by default) and turn its failures into the exit status CTest reads.
 */
#ifndef DROVER_TESTS_TESTSUITE_H
#define DROVER_TESTS_TESTSUITE_H

#include <check.h>

/* Run `s` (taken over) and return EXIT_SUCCESS or EXIT_FAILURE. */
int testsuite_run(Suite *s);

#endif
