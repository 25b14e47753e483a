# The librosa-compatible audio features: parity with librosa 0.9.2 on the reference clips copied
# into tests/data/librosa, and the defined edge cases.
cmact_test(test_audio_parity SOURCES test_audio_parity.c audio_ref.c LIBS cmact_features PkgConfig::SNDFILE
           TIMEOUT 120)
cmact_test(test_audio_edge SOURCES test_audio_edge.c audio_ref.c LIBS cmact_features PkgConfig::SNDFILE pthread
           TIMEOUT 120)
