// KeyReader and KeyWriter: a config's keys between a TOML document and
// ExperimentConfig's fields, as VisitConfigKeys and VisitProfileKeys
// (config_keys.h) walk them. The reader checks each key's type and range and
// reports any key a section does not declare; the writer writes every key.
// experiment_config.cc's loading and ToToml use them.
#pragma once

#include <cmath>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#ifndef TOML_EXCEPTIONS
#define TOML_EXCEPTIONS 1
#endif
#include <toml++/toml.h>

#include "core/status.h"
#include "experiment/config_keys.h"

namespace edgefl {

// Reads every key of VisitConfigKeys from a document, checking types and
// ranges; any key of a section it did not ask for is reported as unknown.
// Keeps the first error.
class KeyReader {
 public:
  explicit KeyReader(const toml::table& root) : root_(root) {}

  void Section(const char* section) {
    FinishSection();
    section_ = section;
    table_ = nullptr;
    seen_.clear();
    const toml::node* node = root_.get(section);
    if (node != nullptr) {
      table_ = node->as_table();
      if (table_ == nullptr) Fail(Invalid("'%s' must be a table ([%s])", section, section));
    }
  }

  template <typename T>
  void Integer(const char* key, T& out, int64_t lo, int64_t hi, const KeyDoc&) {
    const toml::node* node = Find(key);
    if (node == nullptr) return;
    const auto value = node->value<int64_t>();
    if (!node->is_integer() || !value) {
      Fail(Invalid("%s.%s must be an integer", section_, key));
    } else if (*value < lo || *value > hi) {
      Fail(Invalid("%s.%s = %lld: must be in [%lld, %lld]", section_, key, static_cast<long long>(*value),
               static_cast<long long>(lo), static_cast<long long>(hi)));
    } else {
      out = static_cast<T>(*value);
    }
  }

  void Number(const char* key, double& out, const NumberRange& range, const KeyDoc&) {
    const toml::node* node = Find(key);
    if (node == nullptr) return;
    const auto value = node->value<double>();  // integers convert too
    if (!(node->is_floating_point() || node->is_integer()) || !value || !std::isfinite(*value)) {
      Fail(Invalid("%s.%s must be a finite number", section_, key));
    } else if (!range.Contains(*value)) {
      const bool interval = std::isfinite(range.lo) && std::isfinite(range.hi);
      Fail(Invalid("%s.%s = %g: must be %s%s", section_, key, *value, interval ? "in " : "", range.Describe().c_str()));
    } else {
      out = *value;
    }
  }

  template <typename Kind>
  void Word(const char* key, Kind& out, std::span<const codec::KindName<Kind>> names, const KeyDoc&) {
    const toml::node* node = Find(key);
    if (node == nullptr) return;
    const auto value = node->value<std::string>();
    std::string allowed;
    for (const auto& entry : names) allowed += (allowed.empty() ? "" : ", ") + std::string(entry.name);
    if (!value) {
      Fail(Invalid("%s.%s must be a string, one of: %s", section_, key, allowed.c_str()));
    } else if (!codec::KindIn(names, value->c_str(), &out)) {
      Fail(Invalid("%s.%s = \"%s\": must be one of: %s", section_, key, value->c_str(), allowed.c_str()));
    }
  }

  void Text(const char* key, std::string& out, const KeyDoc&) {
    const toml::node* node = Find(key);
    if (node == nullptr) return;
    const auto value = node->value<std::string>();
    if (!value) {
      Fail(Invalid("%s.%s must be a string", section_, key));
    } else {
      out = *value;
    }
  }

  template <size_t N>
  void Text(const char* key, char (&out)[N], const KeyDoc& doc) {
    std::string value = out;
    Text(key, value, doc);
    if (value.size() >= N) {
      Fail(Invalid("%s.%s: \"%s\" is too long (at most %zu bytes)", section_, key, value.c_str(), N - 1));
      return;
    }
    std::memcpy(out, value.c_str(), value.size() + 1);
  }

  // Call after the last key: reports a section's unknown key, then the first
  // error.
  Status Finish() {
    FinishSection();
    return status_;
  }

 private:
  const toml::node* Find(const char* key) {
    seen_.emplace_back(key);
    return table_ == nullptr ? nullptr : table_->get(key);
  }
  void FinishSection() {
    if (!status_.ok() || table_ == nullptr) return;
    for (const auto& [key, value] : *table_) {
      bool known = false;
      for (const std::string& seen : seen_) known = known || seen == key.str();
      if (!known) {
        Fail(Invalid("unknown key '%s.%.*s'", section_, static_cast<int>(key.str().size()), key.str().data()));
        return;
      }
    }
  }
  void Fail(Status s) {
    if (status_.ok()) status_ = s;
  }

  static Status Invalid(const char* format, auto... args) {
    return Status::Error(StatusCode::kInvalidArgument, format, args...);
  }

  const toml::table& root_;
  const char* section_ = "";
  const toml::table* table_ = nullptr;
  std::vector<std::string> seen_;
  Status status_;
};

// Writes every key of VisitConfigKeys into a document.
class KeyWriter {
 public:
  explicit KeyWriter(toml::table& root) : root_(root) {}

  void Section(const char* section) { table_ = root_.insert(section, toml::table{}).first->second.as_table(); }
  template <typename T>
  void Integer(const char* key, const T& value, int64_t, int64_t, const KeyDoc&) {
    table_->insert(key, static_cast<int64_t>(value));
  }
  void Number(const char* key, double value, const NumberRange&, const KeyDoc&) { table_->insert(key, value); }
  template <typename Kind>
  void Word(const char* key, Kind value, std::span<const codec::KindName<Kind>> names, const KeyDoc&) {
    table_->insert(key, codec::NameIn(names, value));
  }
  void Text(const char* key, const std::string& value, const KeyDoc&) { table_->insert(key, value); }
  template <size_t N>
  void Text(const char* key, const char (&value)[N], const KeyDoc&) {
    table_->insert(key, std::string(value, strnlen(value, N)));
  }

 private:
  toml::table& root_;
  toml::table* table_ = nullptr;
};

}  // namespace edgefl
