// SweepResults: a sweep's outcome, one row per cell, as results.csv. Each
// row holds the cell's grid values, then figures of its summary.toml
// (ReadSummary) and, when a cell's config has run.target_loss, when its
// loss first reached it (from metrics.csv). Plain values and text; the
// reading of a cell folder is the only I/O.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "runfiles/run_recorder.h"
#include "sim/sweep_grid.h"

namespace edgefl {

struct CellResult {
  bool summary_read = false;
  RunSummary summary;
  // The first round whose loss was at or below run.target_loss: the seconds
  // (metrics.csv's time_s) and rounds (its round + 1) it took. NaN when the
  // config has no target or the run did not reach it.
  double time_to_target_s = NAN;
  double rounds_to_target = NAN;
  // Why the sweep could not run the cell (its `edgefl run` failed), if so.
  std::string problem;
};

// Reads `cell_dir`'s summary.toml and, when `config` has a target loss, its
// metrics.csv. A missing or unreadable file leaves the result without it.
CellResult ReadCellResult(const std::string& cell_dir, const ExperimentConfig& config);

// "done" (all rounds, or the target), "diverged", "stopped" (by a signal),
// "failed" (an error ended it, or it could not run) or "not run".
std::string CellStatus(const CellResult& result);

// results.csv: a header, then one row per cell in grid order:
//   cell, one column per grid key (its value as given), status, stop_reason,
//   rounds, final_loss, tail_mean_loss, best_loss, best_test_accuracy,
//   wall_time_s, bytes_up, bytes_down, [target_loss, time_to_target_s,
//   rounds_to_target: when a cell has run.target_loss], model_hash
// A figure that is missing or not finite is an empty field; text with a
// comma or a quote is quoted (RFC 4180).
std::string ResultsCsv(const std::vector<GridAxis>& axes, const std::vector<SweepCell>& cells,
                       const std::vector<CellResult>& results);

}  // namespace edgefl
