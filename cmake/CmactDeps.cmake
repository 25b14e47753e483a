# Every dependency is found through pkg-config. A missing one stops the configure step at once
# with the Debian package that provides it, so a user never has to read a linker error.
find_package(PkgConfig REQUIRED)

function(cmact_require prefix module debpkg)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "cmact: pkg-config cannot find '${module}'; install the Debian package "
                        "'${debpkg}' (apt-get install ${debpkg}), or run scripts/install-deps.sh")
  endif()
endfunction()

cmact_require(AVFORMAT   libavformat        libavformat-dev)
cmact_require(AVCODEC    libavcodec         libavcodec-dev)
cmact_require(AVUTIL     libavutil          libavutil-dev)
cmact_require(SWSCALE    libswscale         libswscale-dev)
cmact_require(SWRESAMPLE libswresample      libswresample-dev)
cmact_require(GST        gstreamer-1.0      libgstreamer1.0-dev)
cmact_require(GSTAPP     gstreamer-app-1.0  libgstreamer-plugins-base1.0-dev)
cmact_require(SNDFILE    sndfile            libsndfile1-dev)
cmact_require(BLUEZ      bluez              libbluetooth-dev)
# The serial flavour by name: after libhdf5-openmpi-dev is installed, plain 'hdf5' means MPI.
cmact_require(HDF5       hdf5-serial        libhdf5-dev)
cmact_require(OPENBLAS   openblas           libopenblas-dev)
cmact_require(FFTW3F     fftw3f             libfftw3-dev)
cmact_require(FFTW3      fftw3              libfftw3-dev)
cmact_require(CJSON      libcjson           libcjson-dev)
cmact_require(ZLIB       zlib               zlib1g-dev)
cmact_require(CAIRO      cairo              libcairo2-dev)
cmact_require(FONTCONFIG fontconfig         libfontconfig-dev)
cmact_require(ZLIB       zlib               zlib1g-dev)
if(CMACT_TESTS)
  cmact_require(CMOCKA   cmocka             libcmocka-dev)
endif()
