#include "sim/sweep_results.h"

#include <cstdio>
#include <filesystem>

#include "runfiles/run_folder.h"
#include "sim/run_report.h"

namespace edgefl {
namespace {

// A CSV field: as it is, or quoted with its quotes doubled when it holds a
// comma, a quote or a line break.
std::string Field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Number(double value) {
  if (!std::isfinite(value)) return "";
  char text[32];
  std::snprintf(text, sizeof(text), "%.9g", value);
  return text;
}

std::string Count(uint64_t value) { return std::to_string(value); }

bool HasTarget(const std::vector<SweepCell>& cells) {
  for (const SweepCell& cell : cells) {
    if (cell.config.target_loss > 0.0) return true;
  }
  return false;
}

}  // namespace

CellResult ReadCellResult(const std::string& cell_dir, const ExperimentConfig& config) {
  CellResult result;
  std::error_code ec;
  const std::string summary = cell_dir + "/" + kSummaryFile;
  result.summary_read = std::filesystem::exists(summary, ec) && ReadSummary(summary, &result.summary).ok();
  MeasuredCurve curve;
  if (config.target_loss > 0.0 && ReadMetricsCsv(cell_dir + "/" + kMetricsFile, &curve).ok()) {
    for (size_t row = 0; row < curve.loss.size(); ++row) {
      if (curve.loss[row] <= config.target_loss) {
        result.time_to_target_s = curve.time_s[row];
        result.rounds_to_target = curve.round[row] + 1.0;
        break;
      }
    }
  }
  return result;
}

std::string CellStatus(const CellResult& result) {
  if (!result.summary_read) return result.problem.empty() ? "not run" : "failed";
  const RunSummary& s = result.summary;
  if (s.diverged_at >= 0) return "diverged";
  if (s.stop_reason == "stopped by signal") return "stopped";
  if (!s.ok || !result.problem.empty()) return "failed";
  return "done";
}

std::string ResultsCsv(const std::vector<GridAxis>& axes, const std::vector<SweepCell>& cells,
                       const std::vector<CellResult>& results) {
  const bool target = HasTarget(cells);
  std::string out = "cell";
  for (const GridAxis& axis : axes) out += "," + Field(axis.key);
  out += ",status,stop_reason,rounds,final_loss,tail_mean_loss,best_loss,best_test_accuracy,wall_time_s,bytes_up,"
         "bytes_down";
  if (target) out += ",target_loss,time_to_target_s,rounds_to_target";
  out += ",model_hash\n";
  for (size_t i = 0; i < cells.size(); ++i) {
    const SweepCell& cell = cells[i];
    const CellResult& r = results[i];
    const RunSummary& s = r.summary;
    out += Field(cell.name);
    for (size_t a = 0; a < axes.size(); ++a) out += "," + Field(axes[a].values[cell.value_index[a]]);
    std::string reason = r.summary_read ? s.stop_reason : "";
    if (!r.problem.empty()) reason += (reason.empty() ? "" : "; ") + r.problem;
    out += "," + CellStatus(r) + "," + Field(reason);
    if (r.summary_read) {
      char hash[24];
      std::snprintf(hash, sizeof(hash), "%016llx", static_cast<unsigned long long>(s.model_hash));
      out += "," + Count(s.rounds) + "," + Number(s.final_loss) + "," + Number(s.tail_mean_loss) + "," +
             Number(s.best_loss) + "," + Number(s.best_test_accuracy) + "," + Number(s.wall_time_s) + "," +
             Count(s.bytes_up) + "," + Count(s.bytes_down);
      if (target) {
        out += "," + Number(cell.config.target_loss > 0.0 ? cell.config.target_loss : NAN) + "," +
               Number(r.time_to_target_s) + "," + Number(r.rounds_to_target);
      }
      out += "," + std::string(hash);
    } else {
      out += ",,,,,,,,";
      if (target) out += "," + Number(cell.config.target_loss > 0.0 ? cell.config.target_loss : NAN) + ",,";
      out += ",";
    }
    out += "\n";
  }
  return out;
}

}  // namespace edgefl
