# A hostile peer against live engines: crafted packets, floods, caps.
homa_add_test(BINARY hostile SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_hostile.c
  ${PROJECT_SOURCE_DIR}/tests/common/homa_testnet.c
  ${PROJECT_SOURCE_DIR}/tests/common/homa_pktbuild.c
  LIBS homa_core LABELS hostile TIMEOUT 120)
