# libFuzzer target on the importer's text readers (IMU CSV logs, ISO 8601 times, column specs).
cmact_fuzz(fuzz_import_csv SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_import_csv.c
           LIBS cmact_collect CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/import_csv RUNS 3000)
