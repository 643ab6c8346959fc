"""Benchmarks (``make bench``): measured ratios against a baseline taken in the same run."""
