cmact_fuzz(fuzz_formats_read SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_formats_read.c
           LIBS cmact_schemas cmact_formats CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/formats RUNS 3000)
