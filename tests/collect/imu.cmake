# Tests of the IMU capture path (collect/pmd_*, ble_*, imu_*, issue 5).
cmact_test(test_pmd_decode SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pmd_decode.c LIBS cmact_collect TIMEOUT 60)
cmact_test(test_pmd_polar SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pmd_polar.c LIBS cmact_collect PkgConfig::CJSON TIMEOUT 60)
cmact_test(test_imu_stream SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_imu_stream.c LIBS cmact_collect TIMEOUT 60)
cmact_test(test_imu_udp SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_imu_udp.c LIBS cmact_collect TIMEOUT 120)
cmact_test(test_ble_att SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ble_att.c LIBS cmact_collect TIMEOUT 60)
cmact_test(test_imu_cli SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_imu_cli.c LIBS cmact_formats TIMEOUT 60)
# The decoder benchmark (docs/benchmarks.md): `build/tests/collect/bench_pmd --seconds 2`. In the
# suite it runs briefly, as a check that it still works, not as a measurement.
add_executable(bench_pmd ${CMAKE_CURRENT_LIST_DIR}/bench_pmd.c)
target_link_libraries(bench_pmd PRIVATE cmact_collect m)
add_test(NAME bench_pmd COMMAND bench_pmd --seconds 0.02)
set_tests_properties(bench_pmd PROPERTIES LABELS bench TIMEOUT 60)
