# The recorder (issue 4): chrony client, GStreamer capture, record/label/export commands.
# rec_env.c starts the real daemons (chronyd, PulseAudio) that these tests talk to.
cmact_test(test_chrony SOURCES test_chrony.c rec_env.c LIBS cmact_collect TIMEOUT 60)
cmact_test(test_rec_capture SOURCES test_rec_capture.c LIBS cmact_collect TIMEOUT 60)
cmact_test(test_record SOURCES test_record.c rec_env.c LIBS cmact_collect cmact_formats TIMEOUT 120)
cmact_test(test_record_faults SOURCES test_record_faults.c rec_env.c LIBS cmact_collect cmact_formats TIMEOUT 120)
foreach(t test_chrony test_rec_capture test_record test_record_faults)
  set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT
               "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/lsan.supp:print_suppressions=0")
endforeach()
cmact_fuzz(fuzz_chrony_reply SOURCES fuzz_chrony_reply.c LIBS cmact_collect)
