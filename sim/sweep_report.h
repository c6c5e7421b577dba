// SweepReport: a sweep's figures, drawn with gnuplot through the same
// pieces as `edgefl report` (run_report.h): one loss curve per cell against
// rounds, wall-clock seconds and cumulative uplink MB, and one figure that
// sets the cells side by side, cells.png/.svg: the seconds each took to
// reach run.target_loss when the cells have one, else their final loss.
// Written into <sweep folder>/report/, with the data and plot.gp.
// Not thread-safe: it forks to run gnuplot.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "sim/sweep_grid.h"
#include "sim/sweep_results.h"

namespace edgefl {

// cells.dat, one row per cell in grid order: "index value cell" ('?' for a
// cell without the value: not run, target not reached, not finite).
std::string CellChartData(const std::vector<SweepCell>& cells, const std::vector<CellResult>& results);

// The part of plot.gp that draws cells.png and cells.svg from cells.dat;
// it follows GnuplotScript's, whose terminals it uses.
std::string CellChartScript(const std::string& title, const std::vector<SweepCell>& cells,
                            const std::vector<CellResult>& results);

// Reads the cells' metrics.csv from `sweep_dir`/<cell>/ and draws every
// figure into `sweep_dir`/report/. `written` gets every file's path; the
// error (e.g. no gnuplot on PATH) says what was not drawn.
Status WriteSweepReport(const std::string& sweep_dir, const std::vector<SweepCell>& cells,
                        const std::vector<CellResult>& results, std::vector<std::string>* written);

}  // namespace edgefl
