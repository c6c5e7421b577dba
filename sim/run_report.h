// RunReport: `edgefl report`, a run folder's loss curves drawn with gnuplot.
// It reads each variant's metrics.csv (docs/outputs.md) and, where there is
// one, its predicted.csv (the SDE forecast: mean loss and a 10-90% band),
// and writes into <run folder>/report/ one data file per curve, a gnuplot
// script plot.gp that draws loss against rounds, seconds and cumulative
// uplink MB, and the PNG and SVG figures gnuplot makes from them. The script
// and the data stay, so a figure can be edited and redrawn by hand.
// Not thread-safe: it forks to run gnuplot.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace edgefl {

// The columns of metrics.csv the report draws, one entry per row.
struct MeasuredCurve {
  std::vector<double> round, time_s, loss, bytes_up;
};

// predicted.csv, one entry per row. time_s is NaN where the file leaves it
// empty (a config without [link] bandwidth); losses may be inf.
struct PredictedCurve {
  std::vector<double> round, time_s, bytes_up, mean_loss, low_loss, high_loss;
};

// One variant folder's curves; at least one of the two is there.
struct VariantCurves {
  std::string name;  // the folder's name
  std::optional<MeasuredCurve> measured;
  std::optional<PredictedCurve> predicted;
};

// Read a metrics.csv or a predicted.csv. The header must name every column
// the curve needs (in any order, among others); a row with the wrong number
// of fields, or a field that is not a number, is an error naming file:line.
Status ReadMetricsCsv(const std::string& path, MeasuredCurve* curve);
Status ReadPredictedCsv(const std::string& path, PredictedCurve* curve);

// The running sum of per-round bytes, in MB (1e6 bytes).
std::vector<double> CumulativeMegabytes(const std::vector<double>& bytes_up);

// One variant's folder: its metrics.csv and predicted.csv, whichever it
// holds (neither: no curve); the variant is named after the folder.
Status ReadVariantFolder(const std::string& folder, VariantCurves* variant);

// `run_folder` is one variant's folder when it holds metrics.csv or
// predicted.csv itself; otherwise every subfolder holding either is a
// variant, in name order. No variant at all is an error.
Status ReadRunFolder(const std::string& run_folder, std::vector<VariantCurves>* variants);

// The data files plot.gp reads: whitespace-separated columns under a
// '#' header, '?' (gnuplot's missing value) for a value that is not finite
// or not given.
//   measured:  round time_s loss cumulative_MB
//   predicted: round time_s mean_loss low_loss high_loss cumulative_MB
std::string MeasuredDataFile(const MeasuredCurve& curve);
std::string PredictedDataFile(const PredictedCurve& curve);
// Their names in report/: <variant>.measured.dat, <variant>.predicted.dat.
std::string MeasuredDataName(const VariantCurves& variant);
std::string PredictedDataName(const VariantCurves& variant);

// The report's image files, in the order plot.gp writes them.
std::vector<std::string> ReportImageNames();

// plot.gp: three figures (loss against rounds, seconds and cumulative uplink
// MB), each as PNG and SVG, reading the data files from its own folder.
// `title` heads every figure (the run folder's name).
std::string GnuplotScript(const std::string& title, const std::vector<VariantCurves>& variants);

// A gnuplot single-quoted string of `text` (line breaks become spaces).
std::string GnuplotQuoted(const std::string& text);

// What a report folder gets: data files (name in the folder, content), the
// script plot.gp, and the images the script must write there.
struct ReportFiles {
  std::vector<std::pair<std::string, std::string>> data;
  std::string script;
  std::vector<std::string> images;
};

// The data files of the variants' curves (MeasuredDataName and
// PredictedDataName, for GnuplotScript's plot).
void AddCurveData(const std::vector<VariantCurves>& variants, ReportFiles* files);

// Writes the data files and plot.gp into `report_dir` (created as needed),
// then runs the gnuplot found on PATH there and checks that it wrote every
// image. `written` gets every file's path, even when gnuplot is missing
// (a kUnavailable error saying how to draw them) or fails.
Status DrawReport(const std::string& report_dir, const ReportFiles& files, std::vector<std::string>* written);

// Reads `run_folder`, writes report/ with its data files and plot.gp, and
// runs the gnuplot found on PATH in report/. `written` gets the path of every
// file written, even when gnuplot is missing or fails (then the script and
// the data are there, and the error says how to draw them).
Status WriteRunReport(const std::string& run_folder, std::vector<std::string>* written);

}  // namespace edgefl
