// SweepFolder: the files `edgefl sweep` keeps beside its cells, and what a
// cell's folder says about the cell. A sweep folder holds
//
//   <dir>/sweep.toml    the grid, and the config, --variant and --set it was started from
//   <dir>/base.toml     the base config the cells are made from (ToToml: itself a valid config)
//   <dir>/<cell>/       one `edgefl run` folder per cell (run_folder.h), with its run.log
//   <dir>/results.csv   one row per cell of the grid (sweep_results.h)
//   <dir>/report/       the figures (sweep_report.h)
//
// One folder holds one base config: a sweep of another one is refused, so
// that every cell in it differs from the others by grid values only. A
// later sweep may change the grid; cells of values no longer listed stay in
// the folder, out of results.csv. Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "experiment/experiment_config.h"
#include "sim/sweep_grid.h"

namespace edgefl {

inline constexpr const char* kSweepFile = "sweep.toml";
inline constexpr const char* kSweepBaseFile = "base.toml";
inline constexpr const char* kCellLogFile = "run.log";

// How a sweep was asked for, as sweep.toml keeps it.
struct SweepRecord {
  std::string config_path;            // "" for the built-in quickstart
  std::vector<std::string> variants;  // --variant
  std::vector<std::string> sets;      // --set and the shorthands, in the order applied
  std::vector<GridAxis> axes;
};

// Whether `dir` holds a sweep (a sweep.toml).
bool HoldsSweep(const std::string& dir);

// Checks that `dir` may take a sweep of the config `base`: it does not
// exist or is empty, or it holds a sweep of the same base config (run.name
// aside, which the cells' names replace). A folder holding anything else,
// or a sweep of another base, is an error that says what differs and what
// to do.
Status CheckSweepFolder(const std::string& dir, const ExperimentConfig& base);

// Creates `dir` and writes sweep.toml and base.toml into it.
Status WriteSweepRecord(const std::string& dir, const SweepRecord& record, const ExperimentConfig& base);

// Reads sweep.toml back (for `edgefl sweep --resume` without a grid).
Status ReadSweepRecord(const std::string& dir, SweepRecord* record);

// What a sweep does with a cell, from what its folder holds.
enum class CellAction {
  kDone,       // a summary.toml of the cell's config, of a run that has ended: nothing to do
  kRun,        // no run there yet: a fresh `edgefl run`
  kResume,     // an interrupted (or failed) run of the cell's config with a checkpoint: `edgefl run --resume`
  kOverwrite,  // a run that cannot be carried on, or of another config: run afresh with --overwrite
};

struct CellPlan {
  CellAction action = CellAction::kRun;
  std::string why;  // kOverwrite: what was wrong with the run there
};

// Decides from `cell_dir` (which may not exist) and the cell's config as
// ToToml writes it.
CellPlan PlanCell(const std::string& cell_dir, const std::string& cell_toml);

}  // namespace edgefl
