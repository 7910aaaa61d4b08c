#!/usr/bin/env bash
# Remote sensors at full speed (#20): 100 enrolled sensors in one process, each
# with its own spool holding FLEET_BATCHES (default 5) batches of 1,000 events,
# ship them over HTTPS to one `nectar serve` (release build). Prints events/s
# from the first post to the last commit.
set -euo pipefail
cd "$(dirname "$0")/.."
FLEET_BATCHES="${FLEET_BATCHES:-5}" cargo test --release --test serve \
    sensor_fleet::fleet_full_speed -- --ignored --nocapture 2>&1 | grep -E "^fleet:|test result"
