# The recorder (issue 4): chrony client, GStreamer capture, record/label/export commands.
# rec_env.c starts the real daemons (chronyd, PulseAudio) that these tests talk to.
cmact_test(test_chrony SOURCES test_chrony.c rec_env.c LIBS cmact_collect TIMEOUT 60)
cmact_test(test_rec_capture SOURCES test_rec_capture.c LIBS cmact_collect TIMEOUT 60)
cmact_test(test_record SOURCES test_record.c rec_env.c LIBS cmact_collect cmact_formats TIMEOUT 120)
cmact_test(test_record_faults SOURCES test_record_faults.c rec_env.c LIBS cmact_collect cmact_formats TIMEOUT 120)
