"""Benchmarks. Figures are quoted in bench/RESULTS.md and the README, never asserted in tests."""
