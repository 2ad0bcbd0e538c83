"""Benchmarks: run on demand (`make bench` / `python -m bench`), never in the test command; reports land in
bench/results/ as Markdown and JSON. Timings are only compared within one run (ratios), never across runs."""
