# Scenario tests on the simulated network (src/sim). Skipped while the core
# has no engine (see src/sim/CMakeLists.txt).
if(TARGET homa_sim)
  homa_add_test(BINARY sim SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sim.c
    LIBS homa_sim LABELS sim TIMEOUT 600)
endif()
