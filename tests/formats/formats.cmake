cmact_test(test_session SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_session.c LIBS cmact_formats)
cmact_test(test_dataset_model SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_dataset_model.c LIBS cmact_formats)
cmact_test(test_crash SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_crash.c LIBS cmact_formats TIMEOUT 600)
