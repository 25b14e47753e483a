cmact_test(test_cli SOURCES test_cli.c)
cmact_test(test_full_disk SOURCES test_full_disk.c)
