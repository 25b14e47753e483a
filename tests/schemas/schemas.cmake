cmact_test(test_validate SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_validate.c LIBS cmact_formats)
