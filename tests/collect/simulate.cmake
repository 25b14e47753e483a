# The simulator: physics and encoders in memory (test_sim_physics), and the `cmact simulate`
# command end to end: files that read back, byte-identical for a seed (test_simulate).
cmact_test(test_sim_physics SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sim_physics.c LIBS cmact_collect TIMEOUT 300)
cmact_test(test_simulate SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_simulate.c LIBS cmact_collect cmact_formats TIMEOUT 600)
