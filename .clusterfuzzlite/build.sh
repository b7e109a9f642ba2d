#!/bin/bash -eu
# ClusterFuzzLite's build script: the repository's build.sh in its oss-fuzz mode ($CC $CFLAGS
# $LIB_FUZZING_ENGINE, every target with its seed corpus, dictionary and options in $OUT).
"$SRC/wafer/build.sh"
