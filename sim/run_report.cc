#include "sim/run_report.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string_view>

#include "sim/csv_columns.h"

namespace edgefl {
namespace {

namespace fs = std::filesystem;

bool IsVariantFolder(const fs::path& folder) {
  std::error_code error;
  return fs::is_regular_file(folder / "metrics.csv", error) || fs::is_regular_file(folder / "predicted.csv", error);
}

// A value that is not finite is written as gnuplot's missing marker '?':
// gnuplot skips the point, where NaN would tear a filled band apart.
void AppendNumber(std::string* out, double value) {
  if (!std::isfinite(value)) {
    *out += "?";
    return;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.9g", value);
  *out += text;
}

// The columns of a data file, one row each; every column has `rows` entries.
std::string DataFile(const char* header, const std::vector<const std::vector<double>*>& columns) {
  std::string out = header;
  const size_t rows = columns.front()->size();
  for (size_t row = 0; row < rows; ++row) {
    for (size_t c = 0; c < columns.size(); ++c) {
      if (c > 0) out += ' ';
      AppendNumber(&out, (*columns[c])[row]);
    }
    out += '\n';
  }
  return out;
}

// ---- The gnuplot script.

// The x-axes, one figure each.
enum class Axis { kRounds, kSeconds, kMegabytes };

struct Figure {
  const char* stem;  // file name without extension
  const char* against;
  Axis axis;
};

constexpr Figure kFigures[] = {
    {"loss_rounds", "rounds", Axis::kRounds},
    {"loss_time", "seconds", Axis::kSeconds},
    {"loss_bytes", "cumulative uplink MB", Axis::kMegabytes},
};

// One colour a variant, measured and predicted alike.
constexpr const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

// The figure's x values of a curve, and the data file column they are in.
const std::vector<double>& MeasuredX(const MeasuredCurve& curve, Axis axis, const std::vector<double>& megabytes,
                                     int* column) {
  switch (axis) {
    case Axis::kRounds:
      *column = 1;
      return curve.round;
    case Axis::kSeconds:
      *column = 2;
      return curve.time_s;
    case Axis::kMegabytes:
      *column = 4;
      return megabytes;
  }
  return curve.round;
}

const std::vector<double>& PredictedX(const PredictedCurve& curve, Axis axis, const std::vector<double>& megabytes,
                                      int* column) {
  switch (axis) {
    case Axis::kRounds:
      *column = 1;
      return curve.round;
    case Axis::kSeconds:
      *column = 2;
      return curve.time_s;
    case Axis::kMegabytes:
      *column = 6;
      return megabytes;
  }
  return curve.round;
}

// What a figure plots, gathered to choose its scale and labels.
struct FigurePlan {
  std::vector<std::string> clauses;  // the plot command's parts
  bool measured = false, predicted = false;
  bool all_positive = true;  // every plotted loss > 0: log scale
};

// Adds the points where x and every y are finite; true when there is one.
bool CollectPoints(const std::vector<double>& x, const std::vector<const std::vector<double>*>& ys, FigurePlan* plan) {
  bool any = false;
  for (size_t i = 0; i < x.size(); ++i) {
    bool finite = std::isfinite(x[i]);
    for (const auto* y : ys) finite = finite && std::isfinite((*y)[i]);
    if (!finite) continue;
    any = true;
    for (const auto* y : ys) plan->all_positive = plan->all_positive && (*y)[i] > 0.0;
  }
  return any;
}

// Per variant, in legend order: the band (drawn first, so lines lie on it),
// the measured loss, the predicted mean.
FigurePlan PlanFigure(const Figure& figure, const std::vector<VariantCurves>& variants) {
  FigurePlan plan;
  const bool seconds = figure.axis == Axis::kSeconds;
  for (size_t v = 0; v < variants.size(); ++v) {
    const VariantCurves& variant = variants[v];
    const std::string colour = GnuplotQuoted(kColours[v % std::size(kColours)]);
    std::string band, mean;
    int column = 0;
    if (variant.predicted) {
      const PredictedCurve& curve = *variant.predicted;
      const std::vector<double> megabytes = CumulativeMegabytes(curve.bytes_up);
      const std::vector<double>& x = PredictedX(curve, figure.axis, megabytes, &column);
      const std::string using_x = GnuplotQuoted(PredictedDataName(variant)) + " using " + std::to_string(column) + ":";
      if (CollectPoints(x, {&curve.low_loss, &curve.high_loss}, &plan)) {
        band = using_x + "4:5 with filledcurves lc rgb " + colour + " title " +
               GnuplotQuoted(variant.name + " predicted 10-90%");
      }
      if (CollectPoints(x, {&curve.mean_loss}, &plan)) {
        plan.predicted = true;
        mean = using_x + "3 with lines lw 2 dt 2 lc rgb " + colour + " title " +
               GnuplotQuoted(variant.name + (seconds ? " predicted: [link] model" : " predicted mean"));
      }
    }
    if (!band.empty()) plan.clauses.push_back(band);
    if (variant.measured) {
      const MeasuredCurve& curve = *variant.measured;
      const std::vector<double> megabytes = CumulativeMegabytes(curve.bytes_up);
      const std::vector<double>& x = MeasuredX(curve, figure.axis, megabytes, &column);
      if (CollectPoints(x, {&curve.loss}, &plan)) {
        plan.measured = true;
        plan.clauses.push_back(GnuplotQuoted(MeasuredDataName(variant)) + " using " + std::to_string(column) +
                               ":3 with lines lw 2 dt 1 lc rgb " + colour + " title " +
                               GnuplotQuoted(variant.name + (seconds ? " measured: wall clock" : " measured")));
      }
    }
    if (!mean.empty()) plan.clauses.push_back(mean);
  }
  return plan;
}

std::string XLabel(const Figure& figure, const FigurePlan& plan) {
  switch (figure.axis) {
    case Axis::kRounds:
      return "round";
    case Axis::kMegabytes:
      return "cumulative uplink MB, all nodes";
    case Axis::kSeconds:
      if (plan.measured && plan.predicted) return "seconds (measured: wall clock on loopback; predicted: [link] model)";
      if (plan.predicted) return "seconds (predicted: [link] model)";
      if (plan.measured) return "seconds (measured: wall clock on loopback)";
      return "seconds";
  }
  return figure.against;
}

std::string FindOnPath(const char* program) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "";
  while (!rest.empty()) {
    const size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    rest.remove_prefix(colon == std::string_view::npos ? rest.size() : colon + 1);
    if (dir.empty()) dir = ".";
    std::error_code error;
    const fs::path candidate = fs::absolute(fs::path(dir) / program, error);
    if (!error && fs::is_regular_file(candidate, error) && access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
  }
  return {};
}

// Runs `gnuplot plot.gp` in `folder`; gnuplot's messages go to our stderr.
Status RunGnuplot(const std::string& gnuplot, const std::string& folder) {
  const char* argv[] = {"gnuplot", "plot.gp", nullptr};
  const pid_t pid = fork();
  if (pid < 0) return Status::Error(StatusCode::kInternal, "fork failed: %s", std::strerror(errno));
  if (pid == 0) {
    if (chdir(folder.c_str()) != 0) _exit(126);
    execv(gnuplot.c_str(), const_cast<char* const*>(argv));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::Error(StatusCode::kInternal, "waiting for gnuplot: %s", std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  if (WIFSIGNALED(status)) {
    return Status::Error(StatusCode::kInternal, "%s was killed by signal %d on %s/plot.gp", gnuplot.c_str(),
                         WTERMSIG(status), folder.c_str());
  }
  return Status::Error(StatusCode::kInternal, "%s failed on %s/plot.gp (exit code %d; its messages are above)",
                       gnuplot.c_str(), folder.c_str(), WEXITSTATUS(status));
}

Status WriteFile(const fs::path& path, const std::string& text, std::vector<std::string>* written) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::Error(StatusCode::kInternal, "cannot write %s: %s", path.c_str(), std::strerror(errno));
  written->push_back(path.string());
  return Status::Ok();
}

}  // namespace

Status ReadMetricsCsv(const std::string& path, MeasuredCurve* curve) {
  *curve = {};
  return ReadCsvColumns(path, {{"round", &curve->round, false},
                        {"time_s", &curve->time_s, false},
                        {"loss", &curve->loss, false},
                        {"bytes_up", &curve->bytes_up, false}});
}

Status ReadPredictedCsv(const std::string& path, PredictedCurve* curve) {
  *curve = {};
  return ReadCsvColumns(path, {{"round", &curve->round, false},
                        {"time_s", &curve->time_s, true},
                        {"bytes_up", &curve->bytes_up, false},
                        {"mean_loss", &curve->mean_loss, false},
                        {"low_loss", &curve->low_loss, false},
                        {"high_loss", &curve->high_loss, false}});
}

std::vector<double> CumulativeMegabytes(const std::vector<double>& bytes_up) {
  std::vector<double> megabytes;
  megabytes.reserve(bytes_up.size());
  double sum = 0.0;
  for (const double bytes : bytes_up) {
    sum += bytes;
    megabytes.push_back(sum / 1e6);
  }
  return megabytes;
}

Status ReadVariantFolder(const std::string& folder_name, VariantCurves* variant) {
  const fs::path folder(folder_name);
  *variant = {};
  variant->name = folder.filename().string();
  std::error_code error;
  if (fs::is_regular_file(folder / "metrics.csv", error)) {
    MeasuredCurve curve;
    EDGEFL_RETURN_IF_ERROR(ReadMetricsCsv((folder / "metrics.csv").string(), &curve));
    variant->measured = std::move(curve);
  }
  if (fs::is_regular_file(folder / "predicted.csv", error)) {
    PredictedCurve curve;
    EDGEFL_RETURN_IF_ERROR(ReadPredictedCsv((folder / "predicted.csv").string(), &curve));
    variant->predicted = std::move(curve);
  }
  return Status::Ok();
}

Status ReadRunFolder(const std::string& run_folder, std::vector<VariantCurves>* variants) {
  variants->clear();
  std::error_code error;
  // Canonical, so "." and a trailing slash still give the folder its name.
  const fs::path folder = fs::canonical(run_folder, error);
  if (error || !fs::is_directory(folder, error)) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: not a folder", run_folder.c_str());
  }
  if (IsVariantFolder(folder)) {
    variants->emplace_back();
    return ReadVariantFolder(folder.string(), &variants->back());
  }
  std::vector<fs::path> subfolders;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder, error)) {
    std::error_code entry_error;
    if (entry.is_directory(entry_error) && IsVariantFolder(entry.path())) subfolders.push_back(entry.path());
  }
  if (error) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: cannot list: %s", run_folder.c_str(),
                         error.message().c_str());
  }
  if (subfolders.empty()) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "%s: no metrics.csv or predicted.csv in it or in its subfolders: not a run folder",
                         run_folder.c_str());
  }
  std::sort(subfolders.begin(), subfolders.end());
  for (const fs::path& subfolder : subfolders) {
    variants->emplace_back();
    EDGEFL_RETURN_IF_ERROR(ReadVariantFolder(subfolder.string(), &variants->back()));
  }
  return Status::Ok();
}

std::string MeasuredDataFile(const MeasuredCurve& curve) {
  const std::vector<double> megabytes = CumulativeMegabytes(curve.bytes_up);
  return DataFile("# round time_s loss cumulative_MB\n", {&curve.round, &curve.time_s, &curve.loss, &megabytes});
}

std::string PredictedDataFile(const PredictedCurve& curve) {
  const std::vector<double> megabytes = CumulativeMegabytes(curve.bytes_up);
  return DataFile("# round time_s mean_loss low_loss high_loss cumulative_MB\n",
                  {&curve.round, &curve.time_s, &curve.mean_loss, &curve.low_loss, &curve.high_loss, &megabytes});
}

std::string MeasuredDataName(const VariantCurves& variant) { return variant.name + ".measured.dat"; }
std::string PredictedDataName(const VariantCurves& variant) { return variant.name + ".predicted.dat"; }

std::vector<std::string> ReportImageNames() {
  std::vector<std::string> names;
  for (const Figure& figure : kFigures) {
    names.push_back(std::string(figure.stem) + ".png");
    names.push_back(std::string(figure.stem) + ".svg");
  }
  return names;
}

std::string GnuplotQuoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\n' || c == '\r') {
      out += ' ';
      continue;
    }
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string GnuplotScript(const std::string& title, const std::vector<VariantCurves>& variants) {
  std::string out =
      "# edgefl report: loss against rounds, seconds and cumulative uplink MB,\n"
      "# as PNG and SVG. Redraw after editing: run `gnuplot plot.gp` in this folder.\n"
      "# Data ('?': a value that was not finite, or not given):\n"
      "#   <variant>.measured.dat   from metrics.csv: round time_s loss cumulative_MB\n"
      "#   <variant>.predicted.dat  from predicted.csv: round time_s mean_loss low_loss high_loss cumulative_MB\n"
      "# Measured seconds are the run's wall clock on loopback; predicted seconds\n"
      "# are the [link] model's. The band is the predicted 10-90% quantiles.\n"
      "png_terminal = \"pngcairo size 1100,700 noenhanced font 'Sans,11'\"\n"
      "svg_terminal = \"svg size 1100,700 noenhanced font 'Sans,11' background '#ffffff'\"\n"
      "set datafile missing '?'\n"
      "set grid\n"
      "set key top right\n"
      "set style fill transparent solid 0.2 noborder\n"
      "set ylabel 'loss'\n";
  for (const Figure& figure : kFigures) {
    const FigurePlan plan = PlanFigure(figure, variants);
    out += "\n# Loss against " + std::string(figure.against) + ".\n";
    out += "unset label 1\nset autoscale xy\n";
    out += plan.all_positive && !plan.clauses.empty() ? "set logscale y\n" : "unset logscale y\n";
    out += "set title " + GnuplotQuoted(title + ": loss against " + figure.against) + "\n";
    out += "set xlabel " + GnuplotQuoted(XLabel(figure, plan)) + "\n";
    std::string plot;
    if (plan.clauses.empty()) {
      const std::string why = figure.axis == Axis::kSeconds
                                  ? "no measured loss, and predicted.csv gives no time_s (no [link] bandwidth)"
                                  : "no finite loss";
      out += "set label 1 " + GnuplotQuoted("nothing to plot: " + why) +
             " at graph 0.5,0.5 center\nset xrange [0:1]\nset yrange [0:1]\n";
      plot = "plot -1 notitle\n";  // an empty frame: the line lies below the range
    } else {
      plot = "plot \\\n";
      for (size_t i = 0; i < plan.clauses.size(); ++i) {
        plot += "  " + plan.clauses[i] + (i + 1 < plan.clauses.size() ? ", \\\n" : "\n");
      }
    }
    out += "set terminal @png_terminal\nset output " + GnuplotQuoted(std::string(figure.stem) + ".png") + "\n" + plot;
    out += "set terminal @svg_terminal\nset output " + GnuplotQuoted(std::string(figure.stem) + ".svg") + "\nreplot\n";
    out += "unset output\n";
  }
  return out;
}

void AddCurveData(const std::vector<VariantCurves>& variants, ReportFiles* files) {
  for (const VariantCurves& variant : variants) {
    if (variant.measured) files->data.emplace_back(MeasuredDataName(variant), MeasuredDataFile(*variant.measured));
    if (variant.predicted) files->data.emplace_back(PredictedDataName(variant), PredictedDataFile(*variant.predicted));
  }
}

Status DrawReport(const std::string& report_dir, const ReportFiles& files, std::vector<std::string>* written) {
  std::error_code error;
  const fs::path report(report_dir);
  fs::create_directories(report, error);
  if (error) {
    return Status::Error(StatusCode::kInternal, "cannot create %s: %s", report.c_str(), error.message().c_str());
  }
  for (const auto& [name, text] : files.data) EDGEFL_RETURN_IF_ERROR(WriteFile(report / name, text, written));
  EDGEFL_RETURN_IF_ERROR(WriteFile(report / "plot.gp", files.script, written));

  const std::string gnuplot = FindOnPath("gnuplot");
  if (gnuplot.empty()) {
    return Status::Error(StatusCode::kUnavailable,
                         "gnuplot is not on PATH: run scripts/setup.sh (or apt-get install gnuplot-nox), then "
                         "draw with: cd %s && gnuplot plot.gp",
                         report.c_str());
  }
  // No stale figure from an earlier report may pass for a new one.
  for (const std::string& name : files.images) fs::remove(report / name, error);
  EDGEFL_RETURN_IF_ERROR(RunGnuplot(gnuplot, report.string()));
  for (const std::string& name : files.images) {
    const fs::path image = report / name;
    if (!fs::is_regular_file(image, error) || fs::file_size(image, error) == 0) {
      return Status::Error(StatusCode::kInternal, "gnuplot wrote no %s (its messages are above)", image.c_str());
    }
    written->push_back(image.string());
  }
  return Status::Ok();
}

Status WriteRunReport(const std::string& run_folder, std::vector<std::string>* written) {
  written->clear();
  std::vector<VariantCurves> variants;
  EDGEFL_RETURN_IF_ERROR(ReadRunFolder(run_folder, &variants));
  std::error_code error;
  const std::string title = fs::canonical(run_folder, error).filename().string();
  ReportFiles files;
  AddCurveData(variants, &files);
  files.script = GnuplotScript(title, variants);
  files.images = ReportImageNames();
  return DrawReport((fs::path(run_folder) / "report").string(), files, written);
}

}  // namespace edgefl
