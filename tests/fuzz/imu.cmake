# Fuzz targets of the IMU capture path (collect/pmd_*, ble_*, imu_*): built with -DCMACT_FUZZ=ON.
# Seeds are the project's own hand-built frames (tests/fuzz/corpus/pmd).
cmact_fuzz(fuzz_pmd SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_pmd.c LIBS cmact_collect
           CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/pmd)
cmact_fuzz(fuzz_att SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_att.c LIBS cmact_collect
           CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/att)
