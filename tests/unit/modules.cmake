# Standalone core modules: wire codec, stats, allocator wrapper, receive-buffer
# pool and priority cutoffs. Each binary compiles the module sources it tests
# directly instead of linking homa_core, so unfinished core files elsewhere
# never break these tests.
set(HOMA_CORE_DIR ${PROJECT_SOURCE_DIR}/src/core)
set(HOMA_UNIT_DIR ${PROJECT_SOURCE_DIR}/tests/unit)

homa_add_test(BINARY wire SOURCES ${HOMA_UNIT_DIR}/test_wire.c ${HOMA_CORE_DIR}/homa_wire.c
  ${PROJECT_SOURCE_DIR}/tests/common/homa_pktbuild.c)
homa_add_test(BINARY stats SOURCES ${HOMA_UNIT_DIR}/test_stats.c ${HOMA_CORE_DIR}/homa_stats.c)
homa_add_test(BINARY mem SOURCES ${HOMA_UNIT_DIR}/test_mem.c ${HOMA_CORE_DIR}/homa_mem.c)
homa_add_test(BINARY pool SOURCES ${HOMA_UNIT_DIR}/test_pool.c ${HOMA_CORE_DIR}/homa_pool.c
  ${HOMA_CORE_DIR}/homa_mem.c)
homa_add_test(BINARY prio SOURCES ${HOMA_UNIT_DIR}/test_prio.c ${HOMA_CORE_DIR}/homa_prio.c
  ${HOMA_CORE_DIR}/homa_wire.c ${PROJECT_SOURCE_DIR}/tests/common/homa_pktbuild.c)
