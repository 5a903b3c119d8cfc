#!/bin/sh
exec "$WT_BUILD/unit/trash"
