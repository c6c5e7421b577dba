// What the benchmarks that time `edgefl run` share (downlink_bench.cc,
// round_bench.cc): running it, and reading its metrics.csv.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace edgefl::bench {

// Column `name` of every data row of a CSV file, as numbers (empty when the
// file or the column is missing).
inline std::vector<double> MetricsColumn(const std::string& path, const std::string& name) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  int index = -1, i = 0;
  std::stringstream header(line);
  for (std::string field; std::getline(header, field, ','); ++i) {
    if (field == name) index = i;
  }
  std::vector<double> values;
  while (index >= 0 && std::getline(file, line)) {
    std::stringstream row(line);
    std::string field;
    for (int j = 0; j <= index && std::getline(row, field, ','); ++j) {
    }
    values.push_back(std::atof(field.c_str()));
  }
  return values;
}

// Runs `bin`/edgefl run on dir/config.toml with `flags` into dir/name, its
// output in dir/name.log; returns the metrics.csv of its run `run_name`, or
// "" when it failed (and says so on stderr).
inline std::string RunEdgefl(const std::string& bin, const std::string& dir, const std::string& name,
                             const std::string& flags, const std::string& run_name) {
  const std::string command = bin + "/edgefl run " + dir + "/config.toml " + flags + " --out " + dir + "/" + name +
                              " > " + dir + "/" + name + ".log 2>&1";
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "edgefl run %s failed: see %s/%s.log\n", flags.c_str(), dir.c_str(), name.c_str());
    return "";
  }
  return dir + "/" + name + "/" + run_name + "/metrics.csv";
}

// Seconds a round over rounds 1..R-1 of a time_s column (round 0 sends the
// model in every form, and starts the clock); 0 with fewer than two rounds.
inline double SecondsPerRound(const std::vector<double>& time) {
  return time.size() < 2 ? 0.0 : (time.back() - time.front()) / static_cast<double>(time.size() - 1);
}

// The median of `values` (0 when empty): a round time robust to the odd
// round a busy machine stretches.
inline double Median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// The median of a time_s column's rounds 1..R-1.
inline double MedianSecondsPerRound(const std::vector<double>& time) {
  std::vector<double> rounds;
  for (size_t i = 1; i < time.size(); ++i) rounds.push_back(time[i] - time[i - 1]);
  return Median(rounds);
}

}  // namespace edgefl::bench
