#!/bin/sh
# json.c's tokens against jsmn's: the reader and record tests' inputs, generated records.
exec "$WT_BUILD/unit/tokens" "$(dirname "$0")/unit/reader.c" "$(dirname "$0")/unit/record.c"
