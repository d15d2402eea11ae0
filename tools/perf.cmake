# homa-perf: the benchmark tool (tools/perf/, docs/perf.md).
# Everything but main() goes into a library so tests/perf can unit-test it.
# Homa is compiled in only once the runtime library exists, so the tool (and
# its TCP/UDP baselines) builds before the runtime does.
set(HOMA_PERF_DIR ${CMAKE_CURRENT_LIST_DIR}/perf)
add_library(homa_perf_lib STATIC
  ${HOMA_PERF_DIR}/perf_client.c
  ${HOMA_PERF_DIR}/perf_demo.c
  ${HOMA_PERF_DIR}/perf_demo_print.c
  ${HOMA_PERF_DIR}/perf_frame.c
  ${HOMA_PERF_DIR}/perf_homa.c
  ${HOMA_PERF_DIR}/perf_load.c
  ${HOMA_PERF_DIR}/perf_opts.c
  ${HOMA_PERF_DIR}/perf_report.c
  ${HOMA_PERF_DIR}/perf_server.c
  ${HOMA_PERF_DIR}/perf_spawn.c
  ${HOMA_PERF_DIR}/perf_stats.c
  ${HOMA_PERF_DIR}/perf_stream.c
  ${HOMA_PERF_DIR}/perf_tcp.c
  ${HOMA_PERF_DIR}/perf_tcp_server.c
  ${HOMA_PERF_DIR}/perf_udp.c
  ${HOMA_PERF_DIR}/perf_util.c)
target_include_directories(homa_perf_lib PUBLIC ${HOMA_PERF_DIR}
  ${PROJECT_SOURCE_DIR}/include/homa)
find_package(Threads REQUIRED)
target_link_libraries(homa_perf_lib PUBLIC homa_util Threads::Threads)
option(HOMA_PERF_WITH_HOMA "Build homa-perf with the Homa runtime when it exists" ON)
if(TARGET homa AND HOMA_PERF_WITH_HOMA)
  target_compile_definitions(homa_perf_lib PRIVATE HOMA_PERF_HAVE_HOMA=1)
  target_link_libraries(homa_perf_lib PUBLIC homa)
endif()

add_executable(homa-perf ${HOMA_PERF_DIR}/perf_main.c
  ${CMAKE_CURRENT_LIST_DIR}/perf_cluster.c)
target_link_libraries(homa-perf PRIVATE homa_perf_lib)
