# homa-sim: open-loop experiments on the simulated network (src/sim).
add_executable(homa-sim ${CMAKE_CURRENT_SOURCE_DIR}/homa-sim.c)
target_link_libraries(homa-sim PRIVATE homa_sim)
