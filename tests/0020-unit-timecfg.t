#!/bin/sh
exec "$WT_BUILD/unit/timecfg"
