// SweepGrid: the cells of `edgefl sweep`. Each --grid KEY=V1,V2,... is an
// axis; the cells are the axes' cartesian product, each a value of every
// axis, turned into `--set`-style overrides of the base config and named
// for its folder. The name depends only on the axes' keys and the cell's
// values, so a rerun of the same grid finds the same folders, and a new
// value is a new cell beside the others. Plain values; no files.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "experiment/experiment_config.h"

namespace edgefl {

// One --grid: a config key ("section.key", as --set takes it) and its
// values, as written (TOML values, as --set reads them), in order.
struct GridAxis {
  std::string key;
  std::vector<std::string> values;
};

// One cell: the index of its value on every axis, its folder name and,
// once resolved, its config (named after the cell).
struct SweepCell {
  std::vector<size_t> value_index;  // one per axis
  std::string name;
  ExperimentConfig config;
};

// Parses one --grid argument, "section.key=v1,v2,...". The key must be a
// config key other than run.name (which the cells' names take); the list
// must hold at least one value, none empty and none twice. Errors name the
// argument and what is wrong with it.
Status ParseGridAxis(std::string_view text, GridAxis* axis);

// Parses every --grid argument. A key on two axes, or both on an axis and
// among `sets` (the --set overrides, "section.key=value"), is an error.
Status ParseGrid(const std::vector<std::string>& texts, const std::vector<std::string>& sets,
                 std::vector<GridAxis>* axes);

// The cartesian product, in nested-loop order: the first axis varies
// slowest, the last fastest. Each cell is named (CellName); configs are
// left for ResolveCells.
std::vector<SweepCell> GridCells(const std::vector<GridAxis>& axes);

// A cell's folder name: "<label>-<value>" for every axis, joined by '_',
// where the label is the key's last part ("eta" for step.eta) unless two
// axes share it (compressor.kind and noise.kind), then the whole key. A
// value keeps its letters, digits, '.' and '-'; any other byte is written
// "+XX" (its hex), so names are unique, stable and a valid run.name. A name
// longer than kMaxRunNameBytes keeps its start and ends "+" and a 64-bit
// hash of the whole name.
std::string CellName(const std::vector<GridAxis>& axes, const std::vector<size_t>& value_index);

// "step.eta=0.1" for every axis of `cell`: the overrides that make it.
std::vector<std::string> CellOverrides(const std::vector<GridAxis>& axes, const SweepCell& cell);

// "step.eta=0.1, compressor.kind=qsgd": a cell's values, for messages.
std::string DescribeCell(const std::vector<GridAxis>& axes, const SweepCell& cell);

// Loads the base config with `overrides` applied last; one config or an
// error naming the key at fault.
using BaseLoader = std::function<Status(const std::vector<std::string>& overrides, ExperimentConfig* config)>;

// Fills every cell's config through `load` with the cell's overrides, and
// names it after the cell. The first cell whose config fails, and two cells
// that come out the same config (0.1 and 0.10), are errors naming the cells.
Status ResolveCells(const BaseLoader& load, const std::vector<GridAxis>& axes, std::vector<SweepCell>* cells);

}  // namespace edgefl
