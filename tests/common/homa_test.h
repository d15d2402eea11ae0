/*
 * Common glue for cmocka test binaries. Every test file ends with
 *
 *     HOMA_TEST_MAIN(tests)
 *
 * where `tests` is its CMUnitTest array. Run with no argument, the binary runs
 * every case; with a case name as argv[1] (as CTest does), only that case.
 */
#ifndef HOMA_TEST_H
#define HOMA_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define HOMA_TEST_MAIN(tests)                                                            \
	int main(int argc, char **argv)                                                  \
	{                                                                                \
		if (argc > 1)                                                            \
			cmocka_set_test_filter(argv[1]);                                 \
		return cmocka_run_group_tests(tests, NULL, NULL);                        \
	}

#endif
