// The run folder's files (docs/outputs.md), and what may be done with a
// folder that already holds a run: a fresh run refuses it unless told to
// start over (ClearRun), and a resumed run cuts metrics.csv and nodes.csv
// back to the rounds its checkpoint holds (KeepRows) before it appends.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace edgefl {

inline constexpr const char* kConfigFile = "config.toml";
inline constexpr const char* kMetricsFile = "metrics.csv";
inline constexpr const char* kNodesFile = "nodes.csv";
inline constexpr const char* kSummaryFile = "summary.toml";
inline constexpr const char* kModelFile = "model.bin";
inline constexpr const char* kCheckpointFile = "checkpoint.bin";

// The file that shows `dir` holds a run worth keeping: a metrics.csv or
// nodes.csv with a round's row, or checkpoint.bin; "" when it holds none. A
// config.toml alone is no run (`edgefl run` writes it before the run
// starts), and neither is what a run that failed before round 0 leaves
// (headers, and the summary and model.bin of x_0): a fresh run clears
// those (ClearRun) and starts there.
std::string ExistingRunFile(const std::string& dir);

// Creates a new folder `base`, or `base`-2, `base`-3, ... when it exists
// (its parents as needed); *made receives the one created. For folders
// named by the time, which two runs may share.
Status MakeFreshFolder(const std::string& base, std::string* made);

// The error for a fresh run started on a folder that holds one.
Status RefuseExistingRun(const std::string& dir, const std::string& file);

// Removes a run's files from `dir` (and the temporaries a crash may have
// left), so that a fresh run starts there; config.toml is left for the run
// to rewrite.
Status ClearRun(const std::string& dir);

// Cuts the CSV file at `path` (a header line, then rows whose first column
// is the round, in round order) back to its header and the rows of the
// rounds before `rounds`, dropping a torn last line. With
// `one_row_per_round` (metrics.csv) those rounds must have one row each.
// A missing file is fine only when `rounds` is 0.
Status KeepRows(const std::string& path, uint32_t rounds, bool one_row_per_round);

// The number of data rows of a CSV file (0 when it does not exist).
Status CountRows(const std::string& path, uint64_t* rows);

}  // namespace edgefl
