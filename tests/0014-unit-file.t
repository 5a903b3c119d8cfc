#!/bin/sh
# A small file replaced whole or not at all (wt_write_atomic).
exec "$WT_BUILD/unit/file"
