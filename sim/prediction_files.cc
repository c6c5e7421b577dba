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

Status WritePredictionCsv(const std::string& dir, const Prediction& p, const RoundCost& cost) {
  std::error_code ignored;
  std::filesystem::create_directories(dir, ignored);
  const std::string path = dir + "/predicted.csv";
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return CannotWrite(path);
  std::fprintf(file, "round,time_s,bytes_up,mean_loss,low_loss,high_loss,grad_norm,step_size,diverged\n");
  const double bytes_up = cost.up_bytes_per_round();
  for (size_t k = 0; k < p.mean_loss.size(); ++k) {
    char seconds[32] = "";
    if (std::isfinite(cost.seconds)) std::snprintf(seconds, sizeof(seconds), "%.6f", cost.seconds * double(k + 1));
    std::fprintf(file, "%zu,%s,%.0f,%.9g,%.9g,%.9g,%.9g,%.9g,%.6g\n", k, seconds, bytes_up, p.mean_loss[k],
                 p.low_loss[k], p.high_loss[k], p.mean_grad_norm[k], p.mean_step[k], p.diverged_fraction[k]);
  }
  const bool written = std::ferror(file) == 0;
  if (std::fclose(file) != 0 || !written) return CannotWrite(path);
  return Status::Ok();
}

Status WriteAgreementToml(const std::string& dir, const PredictOptions& options, const Prediction& p,
                          const Agreement& a, const TimeAgreement& time) {
  toml::table t{
      {"prediction", toml::table{{"model", p.model},
                                 {"approximation", p.approximation},
                                 {"not_the_sde_because", p.why_discrete},
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
  if (time.compared) {
    toml::table times{{"measured_seconds_per_round", time.measured_seconds_per_round},
                      {"predicted_seconds_per_round", time.predicted_seconds_per_round},
                      {"relative_error", time.relative_error},
                      {"target_reached", time.target_reached}};
    if (time.target_reached) {
      times.insert("measured_rounds_to_target", time.measured_rounds_to_target);
      times.insert("measured_seconds_to_target", time.measured_seconds_to_target);
      // NaN (no path reached it) is left out: TOML has nan, but readers stumble on it.
      if (std::isfinite(time.predicted_seconds_to_target)) {
        times.insert("predicted_rounds_to_target", time.predicted_rounds_to_target);
        times.insert("predicted_seconds_to_target", time.predicted_seconds_to_target);
        times.insert("target_relative_error", time.target_relative_error);
      }
    }
    t.insert("time", std::move(times));
  }
  const std::string path = dir + "/agreement.toml";
  std::ofstream file(path);
  file << t << "\n";
  if (!file) return CannotWrite(path);
  return Status::Ok();
}

Status ReadMetricsLosses(const std::string& path, std::vector<double>* losses, std::vector<double>* times) {
  losses->clear();
  times->clear();
  return ReadCsvColumns(path, {{"loss", losses}, {"time_s", times}});
}

}  // namespace edgefl
