// Reads a column of a run's metrics.csv, for the benchmarks that time
// `edgefl run` (downlink_bench.cc, round_bench.cc).
#pragma once

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

}  // namespace edgefl::bench
