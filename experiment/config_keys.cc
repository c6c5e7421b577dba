#include "experiment/config_keys.h"
#include "experiment/profile_keys.h"

#include <cstdio>
#include <cstring>

namespace edgefl {
namespace {

constexpr const char* kSections[] = {"run", "objective", "noise", "local", "privacy", "compressor", "aggregator", "step", "server", "link", "round", "async"};

// A number as docs/config.md writes it: 0.1, 1e6, and whole numbers as 1.0
// for a default (a TOML float) but 1 in a range.
std::string NumberText(double v, bool as_default) {
  char text[32];
  if (v == std::floor(v) && std::fabs(v) < 1e5) {
    std::snprintf(text, sizeof(text), as_default ? "%.1f" : "%.0f", v);
  } else {
    std::snprintf(text, sizeof(text), "%g", v);
  }
  std::string s = text;
  // 1e+06 -> 1e6, 1e-07 -> 1e-7
  const size_t e = s.find('e');
  if (e != std::string::npos) {
    std::string exponent = s.substr(e + 1);
    const bool negative = exponent[0] == '-';
    if (exponent[0] == '+' || exponent[0] == '-') exponent.erase(0, 1);
    while (exponent.size() > 1 && exponent[0] == '0') exponent.erase(0, 1);
    s = s.substr(0, e + 1) + (negative ? "-" : "") + exponent;
  }
  return s;
}

// Writes the Markdown rows of one section's keys.
class KeyDocWriter {
 public:
  explicit KeyDocWriter(const std::string& section) : wanted_(section) {}

  void Section(const char* section) { in_section_ = wanted_ == section; }
  template <typename T>
  void Integer(const char* key, const T& value, int64_t lo, int64_t hi, const KeyDoc& doc) {
    Row(key, "integer", std::to_string(value), "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]", doc);
  }
  void Number(const char* key, double value, const NumberRange& range, const KeyDoc& doc) {
    Row(key, "number", NumberText(value, true), range.Describe(), doc);
  }
  template <typename Kind>
  void Word(const char* key, Kind value, std::span<const codec::KindName<Kind>> names, const KeyDoc& doc) {
    std::string allowed;
    for (const auto& entry : names) allowed += (allowed.empty() ? "`" : ", `") + std::string(entry.name) + "`";
    Row(key, "word", "`\"" + std::string(codec::NameIn(names, value)) + "\"`", allowed, doc);
  }
  void Text(const char* key, const std::string& value, const KeyDoc& doc) {
    Row(key, "string", "`\"" + value + "\"`", "any", doc);
  }
  template <size_t N>
  void Text(const char* key, const char (&value)[N], const KeyDoc& doc) {
    Text(key, std::string(value, strnlen(value, N)), doc);
  }

  const std::string& rows() const { return rows_; }

 private:
  void Row(const char* key, const char* type, const std::string& default_text, const std::string& allowed,
           const KeyDoc& doc) {
    if (!in_section_) return;
    rows_ += "| `" + std::string(key) + "` | " + type + " | " +
             (doc.default_text != nullptr ? doc.default_text : default_text) + " | " +
             (doc.allowed != nullptr ? doc.allowed : allowed) + " | " + doc.meaning + " |\n";
  }

  std::string wanted_;
  bool in_section_ = false;
  std::string rows_;
};

// Looks for one "section.key" among the keys.
class KeyFinder {
 public:
  explicit KeyFinder(std::string_view wanted) : wanted_(wanted) {}

  void Section(const char* section) { section_ = section; }
  template <typename T>
  void Integer(const char* key, const T&, int64_t, int64_t, const KeyDoc&) { Check(key); }
  void Number(const char* key, double, const NumberRange&, const KeyDoc&) { Check(key); }
  template <typename Kind>
  void Word(const char* key, Kind, std::span<const codec::KindName<Kind>>, const KeyDoc&) { Check(key); }
  template <typename T>
  void Text(const char* key, const T&, const KeyDoc&) { Check(key); }

  bool found() const { return found_; }

 private:
  void Check(const char* key) { found_ = found_ || section_ + "." + key == wanted_; }

  std::string_view wanted_;
  std::string section_;
  bool found_ = false;
};

}  // namespace

bool IsConfigKey(std::string_view key) {
  const ExperimentConfig defaults;
  KeyFinder finder(key);
  VisitConfigKeys(defaults, finder);
  return finder.found();
}

std::string NumberRange::Describe() const {
  const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
  if (!has_lo && !has_hi) return "any";
  if (has_lo && has_hi) {
    return std::string(lo_open ? "(" : "[") + NumberText(lo, false) + ", " + NumberText(hi, false) + (hi_open ? ")" : "]");
  }
  if (has_lo) return std::string(lo_open ? "> " : ">= ") + NumberText(lo, false);
  return std::string(hi_open ? "< " : "<= ") + NumberText(hi, false);
}

std::span<const char* const> ConfigSections() { return kSections; }

std::string ConfigKeysMarkdown(const std::string& section) {
  const ExperimentConfig defaults;
  KeyDocWriter writer(section);
  VisitConfigKeys(defaults, writer);
  if (writer.rows().empty()) return "";
  return "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n" + writer.rows();
}

std::string ProfileKeysMarkdown() {
  const DeviceProfile defaults;
  KeyDocWriter writer("profile");
  VisitProfileKeys(defaults, writer);
  return "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n" + writer.rows();
}

}  // namespace edgefl
