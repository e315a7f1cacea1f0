"""Reports: the catalog and training runs as figures, in one self-contained HTML file or PNGs.

`srpo-curate report [--run RUN_ID ...] -o report.html` (see `srpo.cli.report`) calls
`build.build_report`, then `html.write_html` or `png.write_pngs`. The figures: per source, rows
kept and rejected by reason, verification, duplicates, contamination, difficulty and pass rate
(`catalog_charts`); per training run, reward, accuracy and length per domain across the stage
switch, identical-reward groups, history resampling per epoch (`run_charts`, from the catalog);
the update's clip fractions, KL and entropy, the engine/trainer mismatch and timings
(`update_charts`, from metrics.jsonl); and the reasoning behaviour of stored responses
(`behaviour`, `behaviour_charts`, also behind `srpo-curate query --behaviour RUN`).

Layer: beside `train` and `curate`; reads the catalog, imports neither. Charts need the `report`
extra (Altair, vl-convert), imported only when a report is drawn (`deps`). Importing this
package imports nothing heavy.
"""
