# The protocol engine, end to end through the back-to-back test network.
set(HOMA_ENGINE_TEST_COMMON ${PROJECT_SOURCE_DIR}/tests/common/homa_testnet.c
  ${PROJECT_SOURCE_DIR}/tests/common/homa_pktbuild.c)
homa_add_test(BINARY engine SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_engine.c
  ${HOMA_ENGINE_TEST_COMMON} LIBS homa_core)
homa_add_test(BINARY engine_api SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_engine_api.c
  ${HOMA_ENGINE_TEST_COMMON} LIBS homa_core)
homa_add_test(BINARY engine_pacer SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_pacer.c
  ${HOMA_ENGINE_TEST_COMMON} LIBS homa_core)
homa_add_test(BINARY engine_timer SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_timer.c
  ${HOMA_ENGINE_TEST_COMMON} LIBS homa_core)
homa_add_test(BINARY engine_peer SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_peer.c
  LIBS homa_core)
homa_add_test(BINARY engine_place SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_place.c
  ${HOMA_ENGINE_TEST_COMMON} LIBS homa_core)
