# The option parser (util/cm_opts.h) on its own, and every subcommand's answer to a wrong
# command line (unknown option anywhere, missing value, bad number).
cmact_test(test_cm_opts SOURCES test_cm_opts.c TIMEOUT 60)
