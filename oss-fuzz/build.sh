#!/bin/bash -eu
# oss-fuzz's build script for wafer (projects/wafer/build.sh): the repository's own build.sh
# reads $CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE $OUT $WORK and writes every target with
# its seed corpus, dictionary and options to $OUT.
"$SRC/wafer/build.sh"
