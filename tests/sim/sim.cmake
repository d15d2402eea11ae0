# Scenario tests on the simulated network (src/sim), and homa-sim's output.
homa_add_test(BINARY sim SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sim.c
  LIBS homa_sim LABELS sim TIMEOUT 600)
if(TARGET homa-sim)
  add_test(NAME sim.cli_same_seed_same_bytes
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/cli_same_seed.sh $<TARGET_FILE:homa-sim>)
  set_tests_properties(sim.cli_same_seed_same_bytes PROPERTIES TIMEOUT 600 LABELS sim)
endif()
