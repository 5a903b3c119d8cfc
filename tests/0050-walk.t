#!/bin/sh
# The walker of libcommon (walk.c): its C unit test prints the TAP.
: "${WT_BUILD:?run the tests through make check (WT_BUILD unset)}"
exec "$WT_BUILD/unit/walk"
