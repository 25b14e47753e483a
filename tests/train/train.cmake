# The training engine: per-layer and whole-model parity with PyTorch (reference tensors in
# tests/data/train, made by make_reference.py), model operations, determinism.
add_library(cmact_train_refdata STATIC ${CMAKE_CURRENT_LIST_DIR}/refdata.c)
target_link_libraries(cmact_train_refdata PUBLIC cmact_testutil m)
target_include_directories(cmact_train_refdata PUBLIC ${CMAKE_CURRENT_LIST_DIR})
cmact_test(test_nn_layers SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_nn_layers.c
           LIBS cmact_train cmact_train_refdata TIMEOUT 60)
cmact_test(test_nn_models SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_nn_models.c
           LIBS cmact_train cmact_train_refdata TIMEOUT 120)
cmact_test(test_nn_fusion SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_nn_fusion.c
           LIBS cmact_train cmact_train_refdata TIMEOUT 60)
cmact_test(test_nn_ops SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_nn_ops.c LIBS cmact_train TIMEOUT 120)
cmact_test(test_train_fit SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_train_fit.c LIBS cmact_train TIMEOUT 300)
# The RecycleML procedures and experiments (train/proc_*, exp_*, stats_*, plot_*).
cmact_test(test_stats_plot SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stats_plot.c LIBS cmact_train TIMEOUT 60)
cmact_test(test_proc SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_proc.c LIBS cmact_train TIMEOUT 900)
cmact_test(test_exp_sync SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_exp_sync.c LIBS cmact_train TIMEOUT 300)
cmact_test(test_exp_fusion SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_exp_fusion.c LIBS cmact_train TIMEOUT 300)
