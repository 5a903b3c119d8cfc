#!/bin/sh
exec "$WT_BUILD/unit/safety"
