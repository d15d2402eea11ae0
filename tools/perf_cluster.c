/* homa-perf cluster: placeholder until the emulated-cluster testbed lands. */
#include <stdio.h>

int perf_cluster_main(int argc, char **argv);

int perf_cluster_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "homa-perf cluster: not implemented yet\n");
	return 2;
}
