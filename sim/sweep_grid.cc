#include "sim/sweep_grid.h"

#include <algorithm>
#include <cstdio>
#include <span>

#include "core/fnv.h"
#include "experiment/config_keys.h"

namespace edgefl {
namespace {

Status Bad(const char* format, auto... args) { return Status::Error(StatusCode::kInvalidArgument, format, args...); }

// The key of a "section.key=value" override (all of it when there is no '=').
std::string_view KeyOf(std::string_view set) { return set.substr(0, set.find('=')); }

// The key's last part: "eta" of "step.eta".
std::string_view ShortLabel(std::string_view key) { return key.substr(key.rfind('.') + 1); }

// Letters, digits, '.' and '-' as they are; every other byte as "+XX". '_'
// (between axes) and '+' (the escape) are escaped too, so that two values
// never write the same text.
std::string EscapeValue(std::string_view value) {
  std::string out;
  for (const char c : value) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                       c == '-';
    if (plain) {
      out += c;
    } else {
      char hex[4];
      std::snprintf(hex, sizeof(hex), "+%02X", static_cast<unsigned char>(c));
      out += hex;
    }
  }
  return out;
}

}  // namespace

Status ParseGridAxis(std::string_view text, GridAxis* axis) {
  const std::string arg(text);
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return Bad("--grid '%s': expected section.key=value1,value2,... (e.g. step.eta=0.05,0.1)", arg.c_str());
  }
  axis->key = std::string(text.substr(0, eq));
  axis->values.clear();
  if (!IsConfigKey(axis->key)) {
    return Bad("--grid '%s': '%s' is not a config key (`edgefl config-keys` lists them)", arg.c_str(),
               axis->key.c_str());
  }
  if (axis->key == "run.name") {
    return Bad("--grid '%s': run.name cannot be a grid key: each cell is named after its values", arg.c_str());
  }
  const std::string_view list = text.substr(eq + 1);
  if (list.empty()) return Bad("--grid '%s': no values after '=' (give one or more, separated by commas)", arg.c_str());
  size_t start = 0;
  for (;;) {
    const size_t comma = list.find(',', start);
    const size_t length = comma == std::string_view::npos ? std::string_view::npos : comma - start;
    const std::string value(list.substr(start, length));
    if (value.empty()) {
      return Bad("--grid '%s': an empty value in the list (two commas, or one at an end)", arg.c_str());
    }
    if (std::find(axis->values.begin(), axis->values.end(), value) != axis->values.end()) {
      return Bad("--grid '%s': the value '%s' is listed twice", arg.c_str(), value.c_str());
    }
    axis->values.push_back(value);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return Status::Ok();
}

Status ParseGrid(const std::vector<std::string>& texts, const std::vector<std::string>& sets,
                 std::vector<GridAxis>* axes) {
  axes->clear();
  if (texts.empty()) return Bad("a sweep needs at least one --grid section.key=value1,value2,...");
  for (const std::string& text : texts) {
    GridAxis axis;
    EDGEFL_RETURN_IF_ERROR(ParseGridAxis(text, &axis));
    for (const GridAxis& earlier : *axes) {
      if (earlier.key == axis.key) {
        return Bad("--grid %s is given twice: list all its values in one --grid %s=v1,v2,...", axis.key.c_str(),
                   axis.key.c_str());
      }
    }
    for (const std::string& set : sets) {
      if (KeyOf(set) == axis.key) {
        return Bad("%s is both a --grid key and set by '%s' (--set, --nodes, --rounds or --seed): give it one way",
                   axis.key.c_str(), set.c_str());
      }
    }
    axes->push_back(std::move(axis));
  }
  return Status::Ok();
}

std::vector<SweepCell> GridCells(const std::vector<GridAxis>& axes) {
  std::vector<SweepCell> cells;
  if (axes.empty()) return cells;
  std::vector<size_t> index(axes.size(), 0);
  for (;;) {
    SweepCell cell;
    cell.value_index = index;
    cell.name = CellName(axes, index);
    cells.push_back(std::move(cell));
    // Count up like an odometer: the last axis turns fastest.
    size_t axis = axes.size();
    while (axis > 0) {
      --axis;
      if (++index[axis] < axes[axis].values.size()) break;
      index[axis] = 0;
      if (axis == 0) return cells;
    }
  }
}

std::string CellName(const std::vector<GridAxis>& axes, const std::vector<size_t>& value_index) {
  std::string name;
  for (size_t a = 0; a < axes.size(); ++a) {
    const std::string_view label = ShortLabel(axes[a].key);
    bool shared = false;
    for (size_t b = 0; b < axes.size(); ++b) shared = shared || (b != a && ShortLabel(axes[b].key) == label);
    if (!name.empty()) name += '_';
    name += shared ? axes[a].key : std::string(label);
    name += '-';
    name += EscapeValue(axes[a].values[value_index[a]]);
  }
  if (name.size() <= kMaxRunNameBytes) return name;
  const uint64_t hash = Fnv1a64(std::span(reinterpret_cast<const uint8_t*>(name.data()), name.size()));
  char tail[20];
  std::snprintf(tail, sizeof(tail), "+%016llx", static_cast<unsigned long long>(hash));
  return name.substr(0, kMaxRunNameBytes - 17) + tail;
}

std::vector<std::string> CellOverrides(const std::vector<GridAxis>& axes, const SweepCell& cell) {
  std::vector<std::string> overrides;
  for (size_t a = 0; a < axes.size(); ++a) overrides.push_back(axes[a].key + "=" + axes[a].values[cell.value_index[a]]);
  return overrides;
}

std::string DescribeCell(const std::vector<GridAxis>& axes, const SweepCell& cell) {
  std::string text;
  for (const std::string& set : CellOverrides(axes, cell)) text += (text.empty() ? "" : ", ") + set;
  return text;
}

Status ResolveCells(const BaseLoader& load, const std::vector<GridAxis>& axes, std::vector<SweepCell>* cells) {
  for (SweepCell& cell : *cells) {
    const Status loaded = load(CellOverrides(axes, cell), &cell.config);
    if (!loaded.ok()) {
      return Bad("cell %s (%s): %s", cell.name.c_str(), DescribeCell(axes, cell).c_str(), loaded.message());
    }
    cell.config.name = cell.name;
  }
  // Two values that read the same (0.1, 0.10) would run one experiment twice.
  for (size_t i = 0; i < cells->size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const SweepCell& earlier = (*cells)[j];
      ExperimentConfig renamed = (*cells)[i].config;
      renamed.name = earlier.config.name;
      if (renamed == earlier.config) {
        return Bad("cells %s and %s are the same config (%s and %s read the same): list each value once",
                   earlier.name.c_str(), (*cells)[i].name.c_str(), DescribeCell(axes, earlier).c_str(),
                   DescribeCell(axes, (*cells)[i]).c_str());
      }
    }
  }
  return Status::Ok();
}

}  // namespace edgefl
