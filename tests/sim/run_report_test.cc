#include "sim/run_report.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace edgefl {
namespace {

namespace fs = std::filesystem;

// A fresh folder under the system's temporary folder, removed at the end.
class TempFolder {
 public:
  TempFolder() {
    std::string pattern = (fs::temp_directory_path() / "edgefl-report-test-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void WriteText(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// metrics.csv as the coordinator writes it (docs/outputs.md).
const char* kMetrics =
    "round,time_s,loss,grad_norm,node_loss,step_size,direction_norm,bytes_up,bytes_down,participants,updates,"
    "rejected,test_loss,test_accuracy,norm_estimate,l0,l1,smoothness\n"
    "0,0.001000,926.346728,71.0312301,1250,0.05,83.9376194,32896,32416,8,8,0,,,,,,\n"
    "1,0.002000,692.10597,60.4920442,926.346728,0.05,71.5194982,32896,32480,8,8,0,,,,,,\n"
    "2,0.004000,inf,nan,692.10597,0.05,71.5194982,30000,32480,8,8,0,,,,,,\n";

// predicted.csv of a config without [link] bandwidth: time_s is empty.
const char* kPredictedNoTime =
    "round,time_s,bytes_up,mean_loss,low_loss,high_loss\n"
    "0,,32896,963.19,962.34,964.04\n"
    "1,,32896,746.29,745.43,inf\n"
    "2,,32896,inf,inf,inf\n";

const char* kPredictedTimed =
    "round,time_s,bytes_up,mean_loss,low_loss,high_loss\n"
    "0,0.5,1000,10,9,11\n"
    "1,1,1000,5,4,6\n"
    "2,1.5,1000,2.5,2,3\n";

TEST_CASE("metrics.csv: the drawn columns are found by name, and inf reads as a number") {
  TempFolder temp;
  WriteText(temp.path() / "metrics.csv", kMetrics);
  MeasuredCurve curve;
  const Status s = ReadMetricsCsv((temp.path() / "metrics.csv").string(), &curve);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(curve.round == std::vector<double>{0, 1, 2});
  CHECK(curve.time_s == std::vector<double>{0.001, 0.002, 0.004});
  CHECK(curve.loss[0] == doctest::Approx(926.346728));
  CHECK(std::isinf(curve.loss[2]));
  CHECK(curve.bytes_up == std::vector<double>{32896, 32896, 30000});
}

TEST_CASE("predicted.csv: an empty time_s reads as NaN; inf values are kept") {
  TempFolder temp;
  WriteText(temp.path() / "predicted.csv", kPredictedNoTime);
  PredictedCurve curve;
  const Status s = ReadPredictedCsv((temp.path() / "predicted.csv").string(), &curve);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(curve.time_s.size() == 3);
  for (const double t : curve.time_s) CHECK(std::isnan(t));
  CHECK(curve.mean_loss[1] == doctest::Approx(746.29));
  CHECK(std::isinf(curve.high_loss[1]));
  CHECK(std::isinf(curve.mean_loss[2]));
  CHECK(curve.bytes_up == std::vector<double>{32896, 32896, 32896});
}

TEST_CASE("a malformed row is an error naming the file and its line") {
  TempFolder temp;
  const fs::path path = temp.path() / "predicted.csv";
  PredictedCurve curve;

  WriteText(path, "round,time_s,bytes_up,mean_loss,low_loss,high_loss\n0,,1,2,1,3\n1,,1,2,1\n");
  Status s = ReadPredictedCsv(path.string(), &curve);
  CHECK_FALSE(s.ok());
  CHECK(std::string(s.message()) == path.string() + ":3: 5 fields, but the header has 6");

  WriteText(path, "round,time_s,bytes_up,mean_loss,low_loss,high_loss\n0,,1,2x,1,3\n");
  s = ReadPredictedCsv(path.string(), &curve);
  CHECK(std::string(s.message()) == path.string() + ":2: 'mean_loss' is not a number: '2x'");

  // Only time_s may be empty.
  WriteText(path, "round,time_s,bytes_up,mean_loss,low_loss,high_loss\n0,,,2,1,3\n");
  s = ReadPredictedCsv(path.string(), &curve);
  CHECK(std::string(s.message()) == path.string() + ":2: 'bytes_up' is empty");
}

TEST_CASE("a missing column or file is an error naming it") {
  TempFolder temp;
  const fs::path path = temp.path() / "metrics.csv";
  WriteText(path, "round,time_s,grad_norm,bytes_up\n0,0.001,1,2\n");
  MeasuredCurve curve;
  Status s = ReadMetricsCsv(path.string(), &curve);
  CHECK(std::string(s.message()) == path.string() + ":1: the header has no 'loss' column");

  s = ReadMetricsCsv((temp.path() / "absent.csv").string(), &curve);
  CHECK(std::string(s.message()).find("absent.csv: cannot open") != std::string::npos);
}

TEST_CASE("cumulative uplink MB is the running sum of per-round bytes") {
  const std::vector<double> megabytes = CumulativeMegabytes({32896, 32896, 30000});
  REQUIRE(megabytes.size() == 3);
  CHECK(megabytes[0] == doctest::Approx(0.032896));
  CHECK(megabytes[1] == doctest::Approx(0.065792));
  CHECK(megabytes[2] == doctest::Approx(0.095792));
  CHECK(CumulativeMegabytes({}).empty());
}

TEST_CASE("the data files write what is not finite as gnuplot's missing '?'") {
  TempFolder temp;
  WriteText(temp.path() / "metrics.csv", kMetrics);
  WriteText(temp.path() / "predicted.csv", kPredictedNoTime);
  MeasuredCurve measured;
  PredictedCurve predicted;
  REQUIRE(ReadMetricsCsv((temp.path() / "metrics.csv").string(), &measured).ok());
  REQUIRE(ReadPredictedCsv((temp.path() / "predicted.csv").string(), &predicted).ok());
  CHECK(MeasuredDataFile(measured) ==
        "# round time_s loss cumulative_MB\n"
        "0 0.001 926.346728 0.032896\n"
        "1 0.002 692.10597 0.065792\n"
        "2 0.004 ? 0.095792\n");
  CHECK(PredictedDataFile(predicted) ==
        "# round time_s mean_loss low_loss high_loss cumulative_MB\n"
        "0 ? 963.19 962.34 964.04 0.032896\n"
        "1 ? 746.29 745.43 ? 0.065792\n"
        "2 ? ? ? ? 0.098688\n");
}

TEST_CASE("a variant folder alone, or a run folder of variants in name order") {
  TempFolder temp;
  const fs::path run = temp.path() / "run";
  WriteText(run / "zeta" / "metrics.csv", kMetrics);
  WriteText(run / "alpha" / "metrics.csv", kMetrics);
  WriteText(run / "alpha" / "predicted.csv", kPredictedTimed);
  WriteText(run / "report" / "plot.gp", "# an earlier report: not a variant\n");

  std::vector<VariantCurves> variants;
  Status s = ReadRunFolder(run.string() + "/", &variants);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(variants.size() == 2);
  CHECK(variants[0].name == "alpha");
  CHECK(variants[0].measured.has_value());
  CHECK(variants[0].predicted.has_value());
  CHECK(variants[1].name == "zeta");
  CHECK_FALSE(variants[1].predicted.has_value());

  s = ReadRunFolder((run / "zeta").string(), &variants);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(variants.size() == 1);
  CHECK(variants[0].name == "zeta");
  CHECK(variants[0].measured.has_value());

  // A prediction alone is a variant too.
  WriteText(temp.path() / "forecast" / "predicted.csv", kPredictedNoTime);
  s = ReadRunFolder((temp.path() / "forecast").string(), &variants);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(variants.size() == 1);
  CHECK_FALSE(variants[0].measured.has_value());
  CHECK(variants[0].predicted.has_value());

  fs::create_directories(temp.path() / "empty");
  s = ReadRunFolder((temp.path() / "empty").string(), &variants);
  CHECK(std::string(s.message()).find("no metrics.csv or predicted.csv") != std::string::npos);

  // A bad file in one variant fails the folder, naming that file.
  WriteText(run / "zeta" / "metrics.csv", "round,loss\n");
  s = ReadRunFolder(run.string(), &variants);
  CHECK(std::string(s.message()).find("zeta/metrics.csv:1: the header has no 'time_s' column") != std::string::npos);
}

TEST_CASE("plot.gp: predicted time only with time_s, log scale only for positive losses") {
  VariantCurves timed{"timed", MeasuredCurve{{0, 1}, {0.1, 0.2}, {4, 2}, {10, 10}},
                      PredictedCurve{{0, 1}, {0.5, 1.0}, {10, 10}, {4, 2}, {3, 1}, {5, 3}}};
  VariantCurves untimed{"it's", std::nullopt,
                        PredictedCurve{{0, 1}, {NAN, NAN}, {10, 10}, {4, 2}, {3, 1}, {5, 3}}};
  const std::string script = GnuplotScript("run", {timed, untimed});
  const auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = script.find(what); at != std::string::npos; at = script.find(what, at + 1)) ++n;
    return n;
  };
  // Three figures, each with both terminals.
  for (const std::string& image : ReportImageNames()) CHECK(count("set output '" + image + "'") == 1);
  CHECK(count("\nset logscale y\n") == 3);
  CHECK(count("'timed measured: wall clock'") == 1);
  CHECK(count("'timed predicted: [link] model'") == 1);
  // The quote in a name is doubled; its prediction has no time, so it is on two figures.
  CHECK(count("'it''s.predicted.dat' using 1:3 ") == 1);
  CHECK(count("'it''s.predicted.dat' using 6:3 ") == 1);
  CHECK(count("'it''s.predicted.dat' using 2:") == 0);
  CHECK(count("seconds (measured: wall clock on loopback; predicted: [link] model)") == 1);

  VariantCurves zero{"zero", MeasuredCurve{{0, 1}, {0.1, 0.2}, {1, 0}, {10, 10}}, std::nullopt};
  const std::string linear = GnuplotScript("run", {zero});
  CHECK(linear.find("\nset logscale y\n") == std::string::npos);
  CHECK(linear.find("\nunset logscale y\n") != std::string::npos);
}

// The first bytes of a file.
std::string Head(const fs::path& path, size_t n) { return ReadText(path).substr(0, n); }

TEST_CASE("edgefl report draws a run folder of two variants as PNG and SVG") {
  TempFolder temp;
  const fs::path run = temp.path() / "run";
  WriteText(run / "dsgd" / "metrics.csv", kMetrics);
  WriteText(run / "dsgd" / "predicted.csv", kPredictedTimed);
  WriteText(run / "sign" / "metrics.csv", kMetrics);
  WriteText(run / "sign" / "predicted.csv", kPredictedNoTime);

  std::vector<std::string> written;
  const Status s = WriteRunReport(run.string(), &written);
  REQUIRE_MESSAGE(s.ok(), s.message(), " (edgefl report needs gnuplot: scripts/setup.sh installs gnuplot-nox)");
  const fs::path report = run / "report";
  CHECK(written.size() == 4 + 1 + 6);
  for (const char* name : {"dsgd.measured.dat", "dsgd.predicted.dat", "sign.measured.dat",
                                  "sign.predicted.dat", "plot.gp"}) {
    CHECK(fs::file_size(report / name) > 0);
  }
  for (const std::string& image : ReportImageNames()) {
    const fs::path path = report / image;
    INFO(path.string());
    REQUIRE(fs::is_regular_file(path));
    CHECK(fs::file_size(path) > 0);
    if (path.extension() == ".png") {
      CHECK(Head(path, 8) == "\x89PNG\r\n\x1a\n");
    } else {
      const std::string head = Head(path, 5);
      CHECK((head == "<?xml" || Head(path, 4) == "<svg"));
    }
  }
}

TEST_CASE("without gnuplot, the report leaves its script and data and says what to install") {
  TempFolder temp;
  const fs::path run = temp.path() / "run";
  WriteText(run / "dsgd" / "metrics.csv", kMetrics);
  const char* old_path = std::getenv("PATH");
  const std::string saved = old_path != nullptr ? old_path : "";
  fs::create_directories(temp.path() / "bin");
  setenv("PATH", (temp.path() / "bin").c_str(), 1);
  std::vector<std::string> written;
  const Status s = WriteRunReport(run.string(), &written);
  setenv("PATH", saved.c_str(), 1);

  CHECK_FALSE(s.ok());
  const std::string message = s.message();
  CHECK(message.find("gnuplot is not on PATH") != std::string::npos);
  CHECK(message.find("scripts/setup.sh") != std::string::npos);
  CHECK(message.find("gnuplot-nox") != std::string::npos);
  CHECK(written == std::vector<std::string>{(run / "report" / "dsgd.measured.dat").string(),
                                            (run / "report" / "plot.gp").string()});
  CHECK(fs::file_size(run / "report" / "plot.gp") > 0);
}

}  // namespace
}  // namespace edgefl
