# cmact import: round trips against ffmpeg/ffprobe, start-time evidence, the CMActivity raw
# layout, one test per kind of bad input. Makes its own small MP4s with the ffmpeg command.
cmact_test(test_import SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_import.c LIBS cmact_collect cmact_formats TIMEOUT 600)
# Issue 6 item 1: simulate --export-raw, import, compare with the simulator's own session files.
cmact_test(test_import_sim SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_import_sim.c LIBS cmact_formats TIMEOUT 600)
