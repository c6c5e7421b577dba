#include "sim/sweep_folder.h"

#include <toml++/toml.h>

#include <filesystem>
#include <sstream>

#include "runfiles/atomic_file.h"
#include "runfiles/checkpoint.h"
#include "runfiles/resume.h"
#include "runfiles/run_folder.h"
#include "runfiles/run_recorder.h"

namespace edgefl {
namespace {

namespace fs = std::filesystem;

Status Bad(const char* format, auto... args) { return Status::Error(StatusCode::kInvalidArgument, format, args...); }

Status ReadText(const std::string& path, std::string* text) {
  std::vector<uint8_t> bytes;
  EDGEFL_RETURN_IF_ERROR(ReadWholeFile(path, &bytes));
  text->assign(bytes.begin(), bytes.end());
  return Status::Ok();
}

toml::array Strings(const std::vector<std::string>& values) {
  toml::array array;
  for (const std::string& v : values) array.push_back(v);
  return array;
}

// The strings of `node` (an array of strings; none when null), or an error
// naming `what`.
Status ReadStrings(const toml::node* node, const char* what, std::vector<std::string>* out) {
  out->clear();
  if (node == nullptr) return Status::Ok();
  const toml::array* array = node->as_array();
  if (array == nullptr) return Bad("%s must be an array of strings", what);
  for (const toml::node& item : *array) {
    const auto value = item.value<std::string>();
    if (!value) return Bad("%s must be an array of strings", what);
    out->push_back(*value);
  }
  return Status::Ok();
}

}  // namespace

bool HoldsSweep(const std::string& dir) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / kSweepFile, ec);
}

Status CheckSweepFolder(const std::string& dir, const ExperimentConfig& base) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return Status::Ok();
  if (!fs::is_directory(dir, ec)) return Bad("--out %s is not a folder", dir.c_str());
  if (!HoldsSweep(dir)) {
    if (fs::directory_iterator(dir, ec) == fs::directory_iterator()) return Status::Ok();  // empty
    return Bad("%s holds no %s: it is not a sweep folder, and a sweep writes only into its own (or a new or empty "
               "folder); choose another --out",
               dir.c_str(), kSweepFile);
  }
  // The base as this folder recorded it, named like ours: the cells' names
  // replace run.name, so only the other keys matter.
  const std::string path = dir + "/" + kSweepBaseFile;
  std::vector<ExperimentConfig> recorded;
  const Status loaded = LoadExperimentFile(path, {}, &recorded);
  if (!loaded.ok() || recorded.size() != 1) {
    return Bad("%s holds a sweep whose base config cannot be read (%s); choose another --out", dir.c_str(),
               loaded.ok() ? "more than one variant" : loaded.message());
  }
  recorded[0].name = base.name;
  const std::string changes = ConfigChanges(ToToml(recorded[0]), ToToml(base));
  if (!changes.empty()) {
    return Bad("%s holds a sweep of another base config (its %s): %s. One folder holds one base config: choose "
               "another --out, or make the differing key a --grid key",
               dir.c_str(), kSweepBaseFile, changes.c_str());
  }
  return Status::Ok();
}

Status WriteSweepRecord(const std::string& dir, const SweepRecord& record, const ExperimentConfig& base) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Bad("cannot create %s: %s", dir.c_str(), ec.message().c_str());
  toml::array grid;
  for (const GridAxis& axis : record.axes) {
    grid.push_back(toml::table{{"key", axis.key}, {"values", Strings(axis.values)}});
  }
  const toml::table t{{"config", record.config_path},
                      {"variant", Strings(record.variants)},
                      {"set", Strings(record.sets)},
                      {"grid", grid}};
  std::ostringstream text;
  text << "# edgefl sweep: the grid of this folder's cells (docs/outputs.md, \"Sweeps\"). `config` is the file the\n"
          "# sweep was started from (\"\": the built-in quickstart); base.toml is that config with `variant` and\n"
          "# `set` applied, which every cell overrides with its grid values.\n"
       << t << "\n";
  EDGEFL_RETURN_IF_ERROR(WriteFileAtomically(dir + "/" + kSweepFile, text.str()));
  return WriteFileAtomically(dir + "/" + kSweepBaseFile, ToToml(base));
}

Status ReadSweepRecord(const std::string& dir, SweepRecord* record) {
  const std::string path = dir + "/" + kSweepFile;
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Bad("cannot read %s: %.*s", path.c_str(), static_cast<int>(e.description().size()), e.description().data());
  }
  *record = {};
  record->config_path = t["config"].value_or(std::string());
  EDGEFL_RETURN_IF_ERROR(ReadStrings(t.get("variant"), "sweep.toml: variant", &record->variants));
  EDGEFL_RETURN_IF_ERROR(ReadStrings(t.get("set"), "sweep.toml: set", &record->sets));
  const toml::array* grid = t["grid"].as_array();
  if (grid == nullptr || grid->empty()) return Bad("%s has no [[grid]] tables", path.c_str());
  for (const toml::node& node : *grid) {
    const toml::table* table = node.as_table();
    GridAxis axis;
    if (table != nullptr) axis.key = (*table)["key"].value_or(std::string());
    if (table == nullptr || axis.key.empty()) return Bad("%s: every [[grid]] needs a key", path.c_str());
    EDGEFL_RETURN_IF_ERROR(ReadStrings(table->get("values"), "sweep.toml: grid values", &axis.values));
    record->axes.push_back(std::move(axis));
  }
  return Status::Ok();
}

CellPlan PlanCell(const std::string& cell_dir, const std::string& cell_toml) {
  const std::string existing = ExistingRunFile(cell_dir);
  std::string recorded;
  if (!ReadText(cell_dir + "/" + kConfigFile, &recorded).ok()) {
    if (existing.empty()) return {CellAction::kRun, ""};
    return {CellAction::kOverwrite, "it holds a run (" + existing + ") but no readable " + kConfigFile};
  }
  const std::string changes = ConfigChanges(recorded, cell_toml);
  if (!changes.empty()) {
    if (existing.empty()) return {CellAction::kRun, ""};
    return {CellAction::kOverwrite, "it holds a run of another config: " + changes};
  }
  bool finished = false;
  RunSummary summary;
  if (RunFinished(cell_dir, &finished).ok() && finished &&
      ReadSummary(cell_dir + "/" + kSummaryFile, &summary).ok()) {
    return {CellAction::kDone, ""};
  }
  if (existing.empty()) return {CellAction::kRun, ""};
  // Interrupted, failed after a checkpoint, or ended without its summary
  // (which the finished checkpoint writes again): the resume path decides.
  ResumePoint point;
  const Status resumable = ReadResumePoint(cell_dir, &point);
  if (resumable.ok()) return {CellAction::kResume, ""};
  return {CellAction::kOverwrite, resumable.message()};
}

}  // namespace edgefl
