# `cmact sync` end to end on synthetic sessions (sessgen): alignment, the bad-input corpus,
# determinism across thread counts, offset injection.
add_library(sync_sessgen STATIC sessgen.c)
target_link_libraries(sync_sessgen PUBLIC cmact_formats cmact_util PkgConfig::AVCODEC PkgConfig::AVUTIL m)
cmact_test(test_sync_cmd SOURCES test_sync_cmd.c LIBS sync_sessgen cmact_formats TIMEOUT 600)
cmact_test(test_sync_badinput SOURCES test_sync_badinput.c LIBS sync_sessgen cmact_formats TIMEOUT 600)
# Alignment accuracy against the simulator's truth, with and without refinement (simulates a
# small corpus first: a few seconds).
cmact_test(test_sync_accuracy SOURCES test_sync_accuracy.c LIBS PkgConfig::CJSON TIMEOUT 600)
