cmact_test(test_cli SOURCES test_cli.c)
cmact_test(test_full_disk SOURCES test_full_disk.c)
cmact_test(test_bad_input SOURCES test_bad_input.c TIMEOUT 900)
set_property(TEST test_bad_input APPEND PROPERTY ENVIRONMENT
             "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_LIST_DIR}/lsan_hdf5.supp:print_suppressions=0")
