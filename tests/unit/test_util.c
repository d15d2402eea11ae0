/* Tests of the tools' shared helpers: workload files and percentiles. */
#include "homa_test.h"
#include "homa_workload.h"

#include <string.h>

static void test_workload__fixed_length(void **state)
{
	struct homa_workload w;
	char err[128];

	(void)state;
	assert_int_equal(homa_workload_load(&w, "100", NULL, err, sizeof(err)), 0);
	assert_int_equal(homa_workload_sample(&w, 0.0), 100);
	assert_int_equal(homa_workload_sample(&w, 0.999), 100);
	assert_true(w.mean == 100.0);
	homa_workload_free(&w);
}

static void test_workload__rejects_bad_names(void **state)
{
	struct homa_workload w;
	char err[128];

	(void)state;
	assert_int_equal(homa_workload_load(&w, "0", NULL, err, sizeof(err)), -1);
	assert_int_equal(homa_workload_load(&w, "1000001", NULL, err, sizeof(err)), -1);
	assert_int_equal(homa_workload_load(&w, "w9", NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "w9"));
	assert_int_equal(homa_workload_load(&w, "../w1", NULL, err, sizeof(err)), -1);
}

static void test_workload__published_means(void **state)
{
	/* Means of the capped distributions as stated in their file headers. */
	static const struct {
		const char *name;
		double mean;
	} cases[] = {{"w1", 192.806},
		     {"w2", 440.807},
		     {"w3", 2567.71},
		     {"w4", 61008.1},
		     {"w5", 386161.4}};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct homa_workload w;
		char err[128];

		assert_int_equal(
		    homa_workload_load(&w, cases[i].name, NULL, err, sizeof(err)), 0);
		assert_true(w.mean > cases[i].mean * 0.999 &&
			    w.mean < cases[i].mean * 1.001);
		assert_true(w.lengths[w.n - 1] <= 1000000);
		homa_workload_free(&w);
	}
}

static void test_workload__sampling_follows_cdf(void **state)
{
	struct homa_workload w;
	struct homa_rng rng;
	char err[128];
	int small = 0, n = 100000;

	(void)state;
	assert_int_equal(homa_workload_load(&w, "w4", NULL, err, sizeof(err)), 0);
	homa_rng_seed(&rng, 7);
	for (int i = 0; i < n; i++)
		small += homa_workload_sample(&w, homa_rng_uniform(&rng)) <= w.lengths[0];
	/* The first point's mass is cum[0]; the sample fraction must be close. */
	assert_true((double)small / n > w.cum[0] - 0.01);
	assert_true((double)small / n < w.cum[0] + 0.01);
	homa_workload_free(&w);
}

static void test_percentile__nearest_rank(void **state)
{
	double v[] = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};

	(void)state;
	assert_true(homa_percentile(v, 10, 50) == 5);
	assert_true(homa_percentile(v, 10, 99) == 10);
	assert_true(homa_percentile(v, 10, 0) == 1);
	assert_true(homa_percentile(v, 0, 50) == 0);
}

static void test_rng__same_seed_same_sequence(void **state)
{
	struct homa_rng a, b;

	(void)state;
	homa_rng_seed(&a, 42);
	homa_rng_seed(&b, 42);
	for (int i = 0; i < 100; i++)
		assert_int_equal(homa_rng_next(&a), homa_rng_next(&b));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_workload__fixed_length),
    cmocka_unit_test(test_workload__rejects_bad_names),
    cmocka_unit_test(test_workload__published_means),
    cmocka_unit_test(test_workload__sampling_follows_cdf),
    cmocka_unit_test(test_percentile__nearest_rank),
    cmocka_unit_test(test_rng__same_seed_same_sequence),
};

HOMA_TEST_MAIN(tests)
