#!/bin/sh
# SHA-256 against the NIST vectors.
exec "$WT_BUILD/unit/sha256"
