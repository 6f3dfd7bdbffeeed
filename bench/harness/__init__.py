"""The benchmark harness behind bench/run: servers, load generator, /proc counters, report."""
