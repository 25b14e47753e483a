# The sync stage's numerical pieces, tested on in-memory data with known answers.
cmact_test(test_sync_clock_fit SOURCES test_clock_fit.c LIBS cmact_sync)
cmact_test(test_sync_clock_ref SOURCES test_clock_ref.c LIBS cmact_sync)
cmact_test(test_sync_xcorr SOURCES test_xcorr.c LIBS cmact_sync)
cmact_test(test_sync_splits SOURCES test_splits.c LIBS cmact_sync)
