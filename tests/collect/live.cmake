# The live device path (issues 3, 4, 5): `cmact simulate --live` on loopback into `cmact record`
# (IMU over UDP with faults; RTP video and audio with the IMUs into one file), and the PMD
# decoder on the simulator's live frames. A few seconds of real-time streaming per test.
cmact_test(test_record_live SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_record_live.c LIBS cmact_collect cmact_formats TIMEOUT 120)
set_property(TEST test_record_live APPEND PROPERTY ENVIRONMENT
             "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/lsan.supp:print_suppressions=0")
