#include "core/units.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace edgefl {

bool ParseByteSize(std::string_view text, uint64_t* bytes) {
  const std::string s(text);
  char* end = nullptr;
  const double number = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || !std::isfinite(number) || number < 0) return false;
  const std::string_view suffix(end);
  struct Unit {
    std::string_view name;
    double factor;
  };
  static constexpr Unit kUnits[] = {{"", 1},          {"B", 1},          {"k", 1024.0},       {"K", 1024.0},
                                    {"KiB", 1024.0},  {"kB", 1e3},       {"KB", 1e3},         {"M", 1048576.0},
                                    {"MiB", 1048576.0}, {"MB", 1e6},     {"G", 1073741824.0}, {"GiB", 1073741824.0},
                                    {"GB", 1e9}};
  for (const Unit& unit : kUnits) {
    if (suffix == unit.name) {
      const double value = number * unit.factor;
      if (value > 1.8e19 || value != std::floor(value)) return false;
      *bytes = static_cast<uint64_t>(value);
      return true;
    }
  }
  return false;
}

}  // namespace edgefl
