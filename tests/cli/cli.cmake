cmact_test(test_cli SOURCES test_cli.c)
