#include "sim/csv_columns.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <string_view>

namespace edgefl {
namespace {

std::vector<std::string> SplitFields(std::string_view line) {
  std::vector<std::string> fields;
  for (;;) {
    const size_t comma = line.find(',');
    fields.emplace_back(line.substr(0, comma));
    if (comma == std::string_view::npos) return fields;
    line.remove_prefix(comma + 1);
  }
}

// A whole field as a number; inf, -inf and nan are numbers too.
bool ParseNumber(const std::string& field, double* value) {
  const char* end = field.data() + field.size();
  const auto [stop, error] = std::from_chars(field.data(), end, *value);
  return error == std::errc() && stop == end;
}

}  // namespace

Status ReadCsvColumns(const std::string& path, const std::vector<CsvColumn>& columns) {
  std::ifstream in(path);
  if (!in) return Status::Error(StatusCode::kInvalidArgument, "%s: cannot open: %s", path.c_str(), std::strerror(errno));
  std::string line;
  if (!std::getline(in, line)) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: empty, expected a header line", path.c_str());
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const std::vector<std::string> header = SplitFields(line);
  std::vector<size_t> index;
  for (const CsvColumn& column : columns) {
    const auto found = std::find(header.begin(), header.end(), column.name);
    if (found == header.end()) {
      return Status::Error(StatusCode::kInvalidArgument, "%s:1: the header has no '%s' column", path.c_str(),
                           column.name);
    }
    index.push_back(static_cast<size_t>(found - header.begin()));
  }
  size_t line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::vector<std::string> fields = SplitFields(line);
    if (fields.size() != header.size()) {
      return Status::Error(StatusCode::kInvalidArgument, "%s:%zu: %zu fields, but the header has %zu", path.c_str(),
                           line_number, fields.size(), header.size());
    }
    for (size_t c = 0; c < columns.size(); ++c) {
      const std::string& field = fields[index[c]];
      double value = std::numeric_limits<double>::quiet_NaN();
      if (field.empty()) {
        if (!columns[c].may_be_empty) {
          return Status::Error(StatusCode::kInvalidArgument, "%s:%zu: '%s' is empty", path.c_str(), line_number,
                               columns[c].name);
        }
      } else if (!ParseNumber(field, &value)) {
        return Status::Error(StatusCode::kInvalidArgument, "%s:%zu: '%s' is not a number: '%s'", path.c_str(),
                             line_number, columns[c].name, field.c_str());
      }
      columns[c].values->push_back(value);
    }
  }
  if (in.bad()) return Status::Error(StatusCode::kInvalidArgument, "%s: read failed", path.c_str());
  return Status::Ok();
}

}  // namespace edgefl
