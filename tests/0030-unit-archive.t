#!/bin/sh
exec "$WT_BUILD/unit/archive"
