cmact_fuzz(fuzz_audio_features SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_audio_features.c
           LIBS cmact_features CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/audio RUNS 300)
