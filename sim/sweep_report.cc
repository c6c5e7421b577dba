#include "sim/sweep_report.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "sim/run_report.h"

namespace edgefl {
namespace {

namespace fs = std::filesystem;

constexpr const char* kChartData = "cells.dat";

bool HasTarget(const std::vector<SweepCell>& cells) {
  for (const SweepCell& cell : cells) {
    if (cell.config.target_loss > 0.0) return true;
  }
  return false;
}

// What the chart shows of a cell: seconds to the target when the sweep has
// one, else the final loss; NaN when the cell has none.
double ChartValue(bool target, const CellResult& result) {
  if (!result.summary_read) return NAN;
  return target ? result.time_to_target_s : result.summary.final_loss;
}

// Why a cell has no bar, for its label.
const char* Missing(bool target, const CellResult& result) {
  if (!result.summary_read) return "not run";
  if (result.summary.diverged_at >= 0) return "diverged";
  return target ? "target not reached" : "no finite loss";
}

}  // namespace

std::string CellChartData(const std::vector<SweepCell>& cells, const std::vector<CellResult>& results) {
  const bool target = HasTarget(cells);
  std::string out = target ? "# index seconds_to_target cell\n" : "# index final_loss cell\n";
  for (size_t i = 0; i < cells.size(); ++i) {
    const double value = ChartValue(target, results[i]);
    char text[32] = "?";
    if (std::isfinite(value)) std::snprintf(text, sizeof(text), "%.9g", value);
    out += std::to_string(i) + " " + text + " " + cells[i].name + "\n";
  }
  return out;
}

std::string CellChartScript(const std::string& title, const std::vector<SweepCell>& cells,
                            const std::vector<CellResult>& results) {
  const bool target = HasTarget(cells);
  // Each cell's name under its bar, with why it has none where it has none.
  std::string tics;
  bool any = false, all_positive = true;
  for (size_t i = 0; i < cells.size(); ++i) {
    const double value = ChartValue(target, results[i]);
    std::string label = cells[i].name;
    if (std::isfinite(value)) {
      any = true;
      all_positive = all_positive && value > 0.0;
    } else {
      label += std::string(" (") + Missing(target, results[i]) + ")";
    }
    tics += (tics.empty() ? "" : ", ") + GnuplotQuoted(label) + " " + std::to_string(i);
  }
  std::string out = target ? "\n# Per cell: wall-clock seconds until the loss first reached run.target_loss.\n"
                           : "\n# Per cell: the final loss.\n";
  out += "unset label 1\nset autoscale xy\nunset logscale y\n";
  if (any && all_positive) out += "set logscale y\n";
  out += "set title " +
         GnuplotQuoted(title + (target ? ": seconds to run.target_loss, per cell" : ": final loss, per cell")) + "\n";
  out += "set xlabel 'cell'\n";
  out += std::string("set ylabel ") + (target ? "'seconds to target (wall clock)'" : "'final loss'") + "\n";
  out += "set xrange [-0.5:" + std::to_string(cells.size()) + "-0.5]\n";
  out += "set xtics rotate by -30 left (" + tics + ")\n";
  out += "set bmargin 10\nset style fill solid 0.6 border -1\nset boxwidth 0.6\n";
  std::string plot;
  if (any) {
    plot = std::string("plot ") + GnuplotQuoted(kChartData) + " using 1:2 with boxes lc rgb '#1f77b4' notitle\n";
  } else {
    const char* why = target ? "no cell reached run.target_loss" : "no finite final loss";
    out += "set label 1 " + GnuplotQuoted(std::string("nothing to plot: ") + why) +
           " at graph 0.5,0.5 center\nset yrange [0:1]\n";
    plot = "plot -1 notitle\n";
  }
  out += "set terminal @png_terminal\nset output 'cells.png'\n" + plot;
  out += "set terminal @svg_terminal\nset output 'cells.svg'\nreplot\nunset output\n";
  return out;
}

Status WriteSweepReport(const std::string& sweep_dir, const std::vector<SweepCell>& cells,
                        const std::vector<CellResult>& results, std::vector<std::string>* written) {
  written->clear();
  // The curves of the cells that ran, in grid order.
  std::vector<VariantCurves> curves;
  for (const SweepCell& cell : cells) {
    VariantCurves variant;
    EDGEFL_RETURN_IF_ERROR(ReadVariantFolder(sweep_dir + "/" + cell.name, &variant));
    if (variant.measured) curves.push_back(std::move(variant));
  }
  std::error_code error;
  const std::string title = fs::canonical(sweep_dir, error).filename().string();
  ReportFiles files;
  AddCurveData(curves, &files);
  files.data.emplace_back(kChartData, CellChartData(cells, results));
  files.script = GnuplotScript(title, curves) + CellChartScript(title, cells, results);
  files.images = ReportImageNames();
  files.images.insert(files.images.end(), {"cells.png", "cells.svg"});
  return DrawReport(sweep_dir + "/report", files, written);
}

}  // namespace edgefl
