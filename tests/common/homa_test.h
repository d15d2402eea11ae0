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

#include <stdio.h>
#include <string.h>

/*
 * A name that matches no case is an error, not an empty pass: otherwise a
 * stale binary (failed rebuild) would "pass" a renamed or new case.
 */
#define HOMA_TEST_MAIN(tests)                                                            \
	int main(int argc, char **argv)                                                  \
	{                                                                                \
		if (argc > 1) {                                                          \
			size_t i, n = sizeof(tests) / sizeof(tests[0]);                  \
			for (i = 0; i < n; i++)                                          \
				if (tests[i].name &&                                     \
				    strcmp(tests[i].name, argv[1]) == 0)                 \
					break;                                           \
			if (i == n) {                                                    \
				fprintf(stderr, "no test case named %s\n", argv[1]);     \
				return 1;                                                \
			}                                                                \
			cmocka_set_test_filter(argv[1]);                                 \
		}                                                                        \
		return cmocka_run_group_tests(tests, NULL, NULL);                        \
	}

#endif
