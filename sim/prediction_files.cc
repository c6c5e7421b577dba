#include "sim/prediction_files.h"

#include <toml++/toml.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "sim/csv_columns.h"

namespace edgefl {
namespace {

Status CannotWrite(const std::string& path) {
  return Status::Error(StatusCode::kInvalidArgument, "cannot write %s: %s", path.c_str(), std::strerror(errno));
}

}  // namespace

Status WritePredictionCsv(const std::string& dir, const ExperimentConfig& config, const Prediction& p,
                          const RoundCost& cost) {
  std::error_code ignored;
  std::filesystem::create_directories(dir, ignored);
  const std::string path = dir + "/predicted.csv";
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return CannotWrite(path);
  std::fprintf(file, "round,time_s,bytes_up,mean_loss,low_loss,high_loss,grad_norm,step_size\n");
  const double bytes_up = cost.up_bytes * config.nodes;
  for (size_t k = 0; k < p.mean_loss.size(); ++k) {
    char seconds[32] = "";
    if (std::isfinite(cost.seconds)) std::snprintf(seconds, sizeof(seconds), "%.6f", cost.seconds * double(k + 1));
    std::fprintf(file, "%zu,%s,%.0f,%.9g,%.9g,%.9g,%.9g,%.9g\n", k, seconds, bytes_up, p.mean_loss[k], p.low_loss[k],
                 p.high_loss[k], p.mean_grad_norm[k], p.mean_step[k]);
  }
  const bool written = std::ferror(file) == 0;
  if (std::fclose(file) != 0 || !written) return CannotWrite(path);
  return Status::Ok();
}

Status WriteAgreementToml(const std::string& dir, const PredictOptions& options, const Prediction& p,
                          const Agreement& a) {
  const toml::table t{
      {"prediction", toml::table{{"model", p.model},
                                 {"approximation", p.approximation},
                                 {"paths", options.paths},
                                 {"substeps", p.substeps},
                                 {"drift", SdeDriftName(options.drift)}}},
      {"agreement", toml::table{{"measured_verdict", RunVerdictName(a.measured_verdict)},
                                {"predicted_verdict", RunVerdictName(a.predicted_verdict)},
                                {"verdict_agrees", a.verdict_agrees()},
                                {"measured_stationary_loss", a.measured.mean},
                                {"measured_stationary_error", a.measured.error},
                                {"predicted_stationary_loss", a.predicted.mean},
                                {"predicted_stationary_error", a.predicted.error},
                                {"relative_error", a.relative_error},
                                {"relative_error_sigma", a.relative_error_sigma}}}};
  const std::string path = dir + "/agreement.toml";
  std::ofstream file(path);
  file << t << "\n";
  if (!file) return CannotWrite(path);
  return Status::Ok();
}

Status ReadMetricsLosses(const std::string& path, std::vector<double>* losses) {
  losses->clear();
  return ReadCsvColumns(path, {{"loss", losses}});
}

}  // namespace edgefl
