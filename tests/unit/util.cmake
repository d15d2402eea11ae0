homa_add_test(BINARY util SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_util.c LIBS homa_util)
