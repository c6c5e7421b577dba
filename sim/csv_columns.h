// ReadCsvColumns: the numeric columns of a CSV file with a header line
// (metrics.csv, predicted.csv), found by name. Blank lines are skipped; every
// other row must have as many fields as the header, and a malformed one is
// reported with its file and line. inf, -inf and nan are numbers.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace edgefl {

// One column to read: its header name and where its values go.
struct CsvColumn {
  const char* name;
  std::vector<double>* values;
  bool may_be_empty = false;  // an empty field reads as NaN instead of an error
};

Status ReadCsvColumns(const std::string& path, const std::vector<CsvColumn>& columns);

}  // namespace edgefl
