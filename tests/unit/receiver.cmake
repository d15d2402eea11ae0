# Receiver-side scheduling modules: gap tracking (msgin) and the grant
# scheduler. The binaries compile the module sources directly rather than
# linking homa_core, so they build while the rest of the core is in progress.
homa_add_test(BINARY msgin SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_msgin.c
  ${PROJECT_SOURCE_DIR}/src/core/homa_msgin.c ${PROJECT_SOURCE_DIR}/src/core/homa_mem.c)
homa_add_test(BINARY grant SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_grant.c
  ${PROJECT_SOURCE_DIR}/src/core/homa_grant.c)
