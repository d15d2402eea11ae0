homa_add_test(BINARY footprint SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_footprint.c
  LIBS homa_core)
