/*
 * test_stats.c - the counter table: names and descriptions generated for
 * every field, and the printer covering every counter with its value.
 */
#include <stdio.h>
#include <string.h>

#include "homa/homa_stats.h"
#include "homa_test.h"

static void test_names__one_per_field_in_struct_order(void **state)
{
	(void)state;
	assert_int_equal(HOMA_STATS_COUNT, sizeof(struct homa_stats) / sizeof(uint64_t));
	assert_string_equal(homa_stats_names[0], "tx_data");
	assert_string_equal(homa_stats_descs[0], "DATA packets sent");
	assert_string_equal(homa_stats_names[HOMA_STATS_COUNT - 1], "cutoffs_recomputed");
	for (size_t i = 0; i < HOMA_STATS_COUNT; i++) {
		assert_non_null(homa_stats_names[i]);
		assert_true(strlen(homa_stats_descs[i]) > 0);
	}
}

static void test_names__unique(void **state)
{
	(void)state;
	for (size_t i = 0; i < HOMA_STATS_COUNT; i++)
		for (size_t j = i + 1; j < HOMA_STATS_COUNT; j++)
			assert_string_not_equal(homa_stats_names[i], homa_stats_names[j]);
}

/* Every wire error has its drop_<name> counter (homa_wire.h promises it). */
static void test_names__drop_counter_for_every_wire_error(void **state)
{
	static const char *const errs[] = {
#define X(name, lname, text) "drop_" #lname,
	    HOMA_WIRE_ERRORS(X)
#undef X
	};

	(void)state;
	for (size_t e = 0; e < sizeof(errs) / sizeof(errs[0]); e++) {
		size_t i = 0;

		while (i < HOMA_STATS_COUNT && strcmp(homa_stats_names[i], errs[e]) != 0)
			i++;
		if (i == HOMA_STATS_COUNT)
			fail_msg("no counter %s", errs[e]);
	}
}

static void test_get__reads_the_named_field(void **state)
{
	struct homa_stats s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.rx_grant = 77;
	s.cutoffs_recomputed = 5;
	assert_int_equal(homa_stats_get(&s, 10), 77);
	assert_string_equal(homa_stats_names[10], "rx_grant");
	assert_int_equal(homa_stats_get(&s, HOMA_STATS_COUNT - 1), 5);
}

/* The X-macro promise: every field is printed with its own value. */
static void test_format__every_counter_with_its_value(void **state)
{
	static char buf[1 << 16];
	uint64_t vals[HOMA_STATS_COUNT];
	struct homa_stats s;
	size_t n;
	char *p = buf;

	(void)state;
	for (size_t i = 0; i < HOMA_STATS_COUNT; i++)
		vals[i] = 1000003ull * (i + 1) + (i << 40);
	memcpy(&s, vals, sizeof(s));
	n = homa_stats_format(&s, 0, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	for (size_t i = 0; i < HOMA_STATS_COUNT; i++) {
		char want[256];
		int len =
		    snprintf(want, sizeof(want), "%s %llu %s\n", homa_stats_names[i],
			     (unsigned long long)vals[i], homa_stats_descs[i]);

		assert_memory_equal(p, want, (size_t)len);
		p += len;
	}
	assert_int_equal(*p, '\0');
}

static void test_format__nonzero_only_skips_zero_counters(void **state)
{
	struct homa_stats s;
	char buf[512];
	size_t n;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.rx_data = 3;
	s.drop_bad_port = 18446744073709551615ull;
	n = homa_stats_format(&s, 1, buf, sizeof(buf));
	assert_string_equal(
	    buf, "rx_data 3 DATA packets received\n"
		 "drop_bad_port 18446744073709551615 dropped: destination port 0\n");
	assert_int_equal(n, strlen(buf));
}

static void test_format__all_zero_nonzero_only_is_empty(void **state)
{
	struct homa_stats s;
	char buf[16] = "junk";

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(homa_stats_format(&s, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void test_format__truncates_but_reports_full_length(void **state)
{
	static char full[1 << 16];
	struct homa_stats s;
	char small[40];
	size_t n;

	(void)state;
	memset(&s, 0, sizeof(s));
	n = homa_stats_format(&s, 0, full, sizeof(full));
	memset(small, 'x', sizeof(small));
	assert_int_equal(homa_stats_format(&s, 0, small, sizeof(small)), n);
	assert_int_equal(small[sizeof(small) - 1], '\0');
	assert_memory_equal(small, full, sizeof(small) - 1);
	assert_int_equal(homa_stats_format(&s, 0, NULL, 0), n);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_names__one_per_field_in_struct_order),
    cmocka_unit_test(test_names__unique),
    cmocka_unit_test(test_names__drop_counter_for_every_wire_error),
    cmocka_unit_test(test_get__reads_the_named_field),
    cmocka_unit_test(test_format__every_counter_with_its_value),
    cmocka_unit_test(test_format__nonzero_only_skips_zero_counters),
    cmocka_unit_test(test_format__all_zero_nonzero_only_is_empty),
    cmocka_unit_test(test_format__truncates_but_reports_full_length),
};

HOMA_TEST_MAIN(tests)
