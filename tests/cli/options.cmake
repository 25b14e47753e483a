# The option parser (util/cm_opts.h) on its own, and every subcommand's answer to a wrong
# command line (unknown option anywhere, missing value, bad number). test_options links the
# program itself (cmact.c with its main renamed) to run its ~140 command lines in forked
# children instead of starting the binary each time.
cmact_test(test_cm_opts SOURCES test_cm_opts.c TIMEOUT 60)
cmact_test(test_options SOURCES test_options.c ${CMAKE_SOURCE_DIR}/cmact.c
           LIBS cmact_collect cmact_sync cmact_train cmact_features cmact_schemas cmact_formats cmact_util
           TIMEOUT 120)
set_source_files_properties(${CMAKE_SOURCE_DIR}/cmact.c DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}
                            PROPERTIES COMPILE_DEFINITIONS main=cmact_main)
