#include "coordinator/experiment_config.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "node/data_objective.h"
#include "node/dataset.h"

namespace edgefl {
namespace {

Status Bad(const char* format, auto... args) { return Status::Error(StatusCode::kInvalidArgument, format, args...); }

// Reads the keys of one section and remembers which it saw, so that any
// other key is reported as unknown.
class SectionReader {
 public:
  SectionReader(const toml::table& root, const char* section) : section_(section) {
    const toml::node* node = root.get(section);
    if (node != nullptr) {
      table_ = node->as_table();
      if (table_ == nullptr) status_ = Bad("'%s' must be a table ([%s])", section, section);
    }
  }

  template <typename T>
  void Integer(const char* key, T* out, int64_t lo, int64_t hi) {
    const toml::node* node = Find(key);
    if (node == nullptr) return;
    const auto value = node->value<int64_t>();
    if (!node->is_integer() || !value) {
      Fail(Bad("%s.%s must be an integer", section_, key));
    } else if (*value < lo || *value > hi) {
      Fail(Bad("%s.%s = %lld: must be in [%lld, %lld]", section_, key, static_cast<long long>(*value),
               static_cast<long long>(lo), static_cast<long long>(hi)));
    } else {
      *out = static_cast<T>(*value);
    }
  }

  void Real(const char* key, double* out) {
    const toml::node* node = Find(key);
    if (node == nullptr) return;
    const auto value = node->value<double>();  // integers convert too
    if (!(node->is_floating_point() || node->is_integer()) || !value || !std::isfinite(*value)) {
      Fail(Bad("%s.%s must be a finite number", section_, key));
    } else {
      *out = *value;
    }
  }

  // A word from `parse` (returns false for an unknown word).
  template <typename Kind>
  void Word(const char* key, Kind* out, bool (*parse)(const char*, Kind*), const char* allowed) {
    const toml::node* node = Find(key);
    if (node == nullptr) return;
    const auto value = node->value<std::string>();
    if (!value) {
      Fail(Bad("%s.%s must be a string, one of: %s", section_, key, allowed));
    } else if (!parse(value->c_str(), out)) {
      Fail(Bad("%s.%s = \"%s\": must be one of: %s", section_, key, value->c_str(), allowed));
    }
  }

  void Text(const char* key, std::string* out) {
    const toml::node* node = Find(key);
    if (node == nullptr) return;
    const auto value = node->value<std::string>();
    if (!value) {
      Fail(Bad("%s.%s must be a string", section_, key));
    } else {
      *out = *value;
    }
  }

  // Call after every key was read: reports the first unknown one.
  Status Finish() {
    if (status_.ok() && table_ != nullptr) {
      for (const auto& [key, value] : *table_) {
        bool known = false;
        for (const std::string& seen : seen_) known = known || seen == key.str();
        if (!known) {
          Fail(Bad("unknown key '%s.%.*s'", section_, static_cast<int>(key.str().size()), key.str().data()));
          break;
        }
      }
    }
    return status_;
  }

 private:
  const toml::node* Find(const char* key) {
    seen_.emplace_back(key);
    return table_ == nullptr ? nullptr : table_->get(key);
  }
  void Fail(Status s) {
    if (status_.ok()) status_ = s;
  }

  const char* section_;
  const toml::table* table_ = nullptr;
  std::vector<std::string> seen_;
  Status status_;
};

bool ParseAggregator(const char* name, AggregatorKind* kind) {
  for (auto k : {AggregatorKind::kMean, AggregatorKind::kSignMean, AggregatorKind::kMajority}) {
    if (std::string_view(name) == AggregatorName(k)) {
      *kind = k;
      return true;
    }
  }
  return false;
}

bool ParseStepRule(const char* name, StepRuleKind* kind) {
  for (auto k : {StepRuleKind::kConstant, StepRuleKind::kDecay}) {
    if (std::string_view(name) == StepRuleName(k)) {
      *kind = k;
      return true;
    }
  }
  return false;
}

constexpr const char* kSections[] = {"run", "objective", "noise", "compressor", "aggregator", "step", "round"};

// Reads one resolved document (no variants left) into a config.
Status ParseConfig(const toml::table& root, ExperimentConfig* c) {
  for (const auto& [key, value] : root) {
    bool known = false;
    for (const char* section : kSections) known = known || key.str() == section;
    if (!known) return Bad("unknown section or key '%.*s'", static_cast<int>(key.str().size()), key.str().data());
  }
  constexpr int64_t kU32 = 0xFFFFFFFFll;
  bool aggregator_given = false;
  {
    SectionReader r(root, "run");
    r.Text("name", &c->name);
    r.Integer("nodes", &c->nodes, 1, 4096);
    r.Integer("rounds", &c->rounds, 1, 100000000);
    r.Integer("seed", &c->seed, 0, INT64_MAX);
    r.Real("target_loss", &c->target_loss);
    r.Real("divergence_factor", &c->divergence_factor);
    EDGEFL_RETURN_IF_ERROR(r.Finish());
  }
  bool dimension_given = false;
  {
    SectionReader r(root, "objective");
    r.Word("kind", &c->objective.kind, codec::ParseObjectiveName, "quadratic, quartic, logistic, mlp");
    const toml::node* objective = root.get("objective");
    dimension_given = objective != nullptr && objective->as_table() != nullptr &&
                      objective->as_table()->contains("dimension");
    r.Integer("dimension", &c->objective.dimension, 1, codec::kMaxDimension);
    r.Word("spectrum", &c->objective.spectrum, codec::ParseSpectrumName, "linear, geometric");
    r.Real("lambda_min", &c->objective.lambda_min);
    r.Real("lambda_max", &c->objective.lambda_max);
    r.Real("initial_value", &c->objective.initial_value);
    std::string dataset;
    r.Text("dataset", &dataset);
    if (dataset.size() >= sizeof(c->objective.dataset)) return Bad("objective.dataset: name too long");
    std::memcpy(c->objective.dataset, dataset.c_str(), dataset.size() + 1);
    r.Integer("hidden", &c->objective.hidden, 0, 4096);
    r.Word("partition", &c->objective.partition, codec::ParsePartitionName, "iid, dirichlet");
    r.Real("dirichlet_alpha", &c->objective.dirichlet_alpha);
    r.Real("test_fraction", &c->objective.test_fraction);
    EDGEFL_RETURN_IF_ERROR(r.Finish());
  }
  {
    SectionReader r(root, "noise");
    r.Word("kind", &c->noise.kind, codec::ParseNoiseName, "none, gaussian, student-t");
    r.Real("sigma", &c->noise.sigma);
    r.Real("nu", &c->noise.nu);
    r.Integer("batch_size", &c->batch_size, 1, 1 << 24);
    EDGEFL_RETURN_IF_ERROR(r.Finish());
  }
  {
    SectionReader r(root, "compressor");
    r.Word("kind", &c->compressor.kind, codec::ParseCompressorName,
           "identity, rand-k, bernoulli, qsgd, natural, sign, scaled-sign, ef-sign, top-k");
    r.Integer("k", &c->compressor.k, 0, kU32);
    r.Real("p", &c->compressor.p);
    r.Integer("levels", &c->compressor.levels, 0, kU32);
    EDGEFL_RETURN_IF_ERROR(r.Finish());
  }
  {
    SectionReader r(root, "aggregator");
    const toml::node* node = root.get("aggregator");
    aggregator_given = node != nullptr && node->as_table() != nullptr && node->as_table()->contains("kind");
    r.Word("kind", &c->aggregator, ParseAggregator, "mean, sign-mean, majority");
    EDGEFL_RETURN_IF_ERROR(r.Finish());
  }
  {
    SectionReader r(root, "step");
    r.Word("rule", &c->step.rule, ParseStepRule, "constant, decay");
    r.Real("eta", &c->step.eta);
    r.Real("decay_power", &c->step.decay_power);
    EDGEFL_RETURN_IF_ERROR(r.Finish());
  }
  {
    SectionReader r(root, "round");
    r.Integer("deadline_ms", &c->round.deadline_ms, 10, 3600000);
    r.Real("quorum", &c->round.quorum);
    r.Integer("join_timeout_ms", &c->round.join_timeout_ms, 100, 3600000);
    r.Integer("heartbeat_ms", &c->round.heartbeat_ms, 10, 60000);
    r.Integer("dead_after_ms", &c->round.dead_after_ms, 50, 3600000);
    EDGEFL_RETURN_IF_ERROR(r.Finish());
  }

  // Sign compressors default to averaging signs (DSignSGD).
  const bool plain_sign = c->compressor.kind == wire::CompressorKind::Sign;
  if (!aggregator_given && plain_sign) c->aggregator = AggregatorKind::kSignMean;

  // A data objective's dimension is its model's parameter count.
  if (codec::IsDataObjective(c->objective.kind)) {
    const DatasetInfo* info = FindDataset(c->objective.dataset);
    if (info == nullptr) {
      return Bad("objective.dataset = \"%s\": unknown data set (known: digits)", c->objective.dataset);
    }
    if (c->objective.kind == wire::ObjectiveKind::Mlp && c->objective.hidden == 0) {
      return Bad("objective.hidden: an mlp needs hidden units (e.g. 32)");
    }
    const uint32_t parameters = ClassifierFor(c->objective, *info).ParameterCount();
    if (dimension_given && c->objective.dimension != parameters) {
      return Bad("objective.dimension = %u: the %s on %s has %u parameters (leave dimension out)",
                 c->objective.dimension, codec::ObjectiveName(c->objective.kind), info->name, parameters);
    }
    c->objective.dimension = parameters;
  }

  // Cross-field checks.
  EDGEFL_RETURN_IF_ERROR(codec::ValidateTaskSpec(c->TaskFor(0)));
  if (c->aggregator != AggregatorKind::kMean && !plain_sign) {
    return Bad("aggregator.kind = \"%s\" needs compressor.kind = \"sign\" (got \"%s\")", AggregatorName(c->aggregator),
               codec::CompressorName(c->compressor.kind));
  }
  if (!(c->step.eta > 0.0)) return Bad("step.eta = %g: must be > 0", c->step.eta);
  if (c->step.decay_power < 0.0 || c->step.decay_power > 2.0) {
    return Bad("step.decay_power = %g: must be in [0, 2]", c->step.decay_power);
  }
  if (!(c->round.quorum > 0.0 && c->round.quorum <= 1.0)) return Bad("round.quorum = %g: must be in (0, 1]", c->round.quorum);
  if (c->target_loss < 0.0) return Bad("run.target_loss = %g: must be >= 0", c->target_loss);
  if (!(c->divergence_factor > 1.0)) return Bad("run.divergence_factor = %g: must be > 1", c->divergence_factor);
  if (c->round.dead_after_ms <= c->round.heartbeat_ms) {
    return Bad("round.dead_after_ms = %u: must exceed round.heartbeat_ms = %u", c->round.dead_after_ms,
               c->round.heartbeat_ms);
  }
  return Status::Ok();
}

// Copies every key of `from` into `into`, section tables merged key by key.
Status MergeInto(toml::table& into, const toml::table& from, std::string_view where) {
  for (const auto& [key, value] : from) {
    if (key.str() == "name") continue;
    const toml::table* section = value.as_table();
    if (section == nullptr) {
      return Bad("%.*s: '%.*s' must be a table such as %.*s = { ... }", static_cast<int>(where.size()), where.data(),
                 static_cast<int>(key.str().size()), key.str().data(), static_cast<int>(key.str().size()),
                 key.str().data());
    }
    if (!into.contains(key.str())) into.insert(key.str(), toml::table{});
    toml::table* target = into.get(key.str())->as_table();
    if (target == nullptr) return Bad("'%.*s' must be a table", static_cast<int>(key.str().size()), key.str().data());
    for (const auto& [inner_key, inner_value] : *section) target->insert_or_assign(inner_key.str(), inner_value);
  }
  return Status::Ok();
}

Status ApplyOverride(toml::table& root, const ConfigOverride& o) {
  const size_t dot = o.key.find('.');
  const std::string section = o.key.substr(0, dot);
  const std::string key = o.key.substr(dot + 1);
  if (!root.contains(section)) root.insert(section, toml::table{});
  toml::table* target = root.get(section)->as_table();
  if (target == nullptr) return Bad("--set %s: '%s' is not a table", o.key.c_str(), section.c_str());
  try {
    toml::table parsed = toml::parse("v = " + o.value);
    target->insert_or_assign(key, *parsed.get("v"));
  } catch (const toml::parse_error&) {
    target->insert_or_assign(key, o.value);  // a bare word: a string
  }
  return Status::Ok();
}

}  // namespace

const char* AggregatorName(AggregatorKind kind) {
  switch (kind) {
    case AggregatorKind::kMean:
      return "mean";
    case AggregatorKind::kSignMean:
      return "sign-mean";
    case AggregatorKind::kMajority:
      return "majority";
  }
  return "unknown";
}

const char* StepRuleName(StepRuleKind kind) {
  switch (kind) {
    case StepRuleKind::kConstant:
      return "constant";
    case StepRuleKind::kDecay:
      return "decay";
  }
  return "unknown";
}

codec::TaskSpec ExperimentConfig::TaskFor(uint32_t node_index) const {
  codec::TaskSpec task;
  task.objective = objective;
  task.noise = noise;
  task.compressor = compressor;
  task.batch_size = batch_size;
  task.seed = seed;
  task.node_index = node_index;
  task.num_nodes = nodes;
  return task;
}

uint32_t ExperimentConfig::QuorumCount() const {
  const auto count = static_cast<uint32_t>(std::ceil(round.quorum * nodes - 1e-9));
  return count < 1 ? 1 : count;
}

Status ParseOverride(std::string_view text, ConfigOverride* out) {
  const size_t eq = text.find('=');
  const size_t dot = text.find('.');
  if (eq == std::string_view::npos || dot == std::string_view::npos || dot > eq || dot == 0 || dot + 1 == eq) {
    return Bad("--set '%.*s': expected section.key=value, e.g. compressor.k=10", static_cast<int>(text.size()),
               text.data());
  }
  out->key = std::string(text.substr(0, eq));
  out->value = std::string(text.substr(eq + 1));
  return Status::Ok();
}

Status LoadExperiments(std::string_view text, std::string_view origin, const std::vector<std::string>& override_texts,
                       std::vector<ExperimentConfig>* out) {
  std::vector<ConfigOverride> overrides(override_texts.size());
  for (size_t i = 0; i < override_texts.size(); ++i) EDGEFL_RETURN_IF_ERROR(ParseOverride(override_texts[i], &overrides[i]));
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return Bad("%.*s:%u:%u: %.*s", static_cast<int>(origin.size()), origin.data(), e.source().begin.line,
               e.source().begin.column, static_cast<int>(e.description().size()), e.description().data());
  }
  toml::array variants;
  if (const toml::node* node = root.get("variant")) {
    if (node->as_array() == nullptr) return Bad("'variant' must be an array of tables ([[variant]])");
    variants = *node->as_array();
    root.erase("variant");
  }
  if (variants.empty()) variants.push_back(toml::table{});

  out->clear();
  for (size_t i = 0; i < variants.size(); ++i) {
    const toml::table* variant = variants[i].as_table();
    char where[48];
    std::snprintf(where, sizeof(where), "variant %zu", i + 1);
    if (variant == nullptr) return Bad("%s must be a table", where);
    toml::table merged = root;
    EDGEFL_RETURN_IF_ERROR(MergeInto(merged, *variant, where));
    for (const ConfigOverride& o : overrides) EDGEFL_RETURN_IF_ERROR(ApplyOverride(merged, o));
    ExperimentConfig config;
    Status s = ParseConfig(merged, &config);
    if (!s.ok()) {
      if (variants.size() == 1) return s;
      return Bad("%s: %s", where, s.message());
    }
    if (const auto name = (*variant)["name"].value<std::string>()) config.name = *name;
    for (const ExperimentConfig& earlier : *out) {
      if (earlier.name == config.name) return Bad("%s: name \"%s\" is used twice", where, config.name.c_str());
    }
    out->push_back(std::move(config));
  }
  return Status::Ok();
}

Status LoadExperimentFile(const std::string& path, const std::vector<std::string>& overrides,
                          std::vector<ExperimentConfig>* out) {
  std::ifstream file(path);
  if (!file) return Bad("cannot read config file '%s'", path.c_str());
  std::stringstream text;
  text << file.rdbuf();
  return LoadExperiments(text.str(), path, overrides, out);
}

std::string ToToml(const ExperimentConfig& c) {
  toml::table root;
  root.insert("run", toml::table{{"name", c.name},
                                 {"nodes", c.nodes},
                                 {"rounds", c.rounds},
                                 {"seed", static_cast<int64_t>(c.seed)},
                                 {"target_loss", c.target_loss},
                                 {"divergence_factor", c.divergence_factor}});
  root.insert("objective", toml::table{{"kind", codec::ObjectiveName(c.objective.kind)},
                                       {"dimension", c.objective.dimension},
                                       {"spectrum", codec::SpectrumName(c.objective.spectrum)},
                                       {"lambda_min", c.objective.lambda_min},
                                       {"lambda_max", c.objective.lambda_max},
                                       {"initial_value", c.objective.initial_value},
                                       {"dataset", c.objective.dataset},
                                       {"hidden", c.objective.hidden},
                                       {"partition", codec::PartitionName(c.objective.partition)},
                                       {"dirichlet_alpha", c.objective.dirichlet_alpha},
                                       {"test_fraction", c.objective.test_fraction}});
  root.insert("noise", toml::table{{"kind", codec::NoiseName(c.noise.kind)},
                                   {"sigma", c.noise.sigma},
                                   {"nu", c.noise.nu},
                                   {"batch_size", c.batch_size}});
  root.insert("compressor", toml::table{{"kind", codec::CompressorName(c.compressor.kind)},
                                        {"k", c.compressor.k},
                                        {"p", c.compressor.p},
                                        {"levels", c.compressor.levels}});
  root.insert("aggregator", toml::table{{"kind", AggregatorName(c.aggregator)}});
  root.insert("step", toml::table{{"rule", StepRuleName(c.step.rule)},
                                  {"eta", c.step.eta},
                                  {"decay_power", c.step.decay_power}});
  root.insert("round", toml::table{{"deadline_ms", c.round.deadline_ms},
                                   {"quorum", c.round.quorum},
                                   {"join_timeout_ms", c.round.join_timeout_ms},
                                   {"heartbeat_ms", c.round.heartbeat_ms},
                                   {"dead_after_ms", c.round.dead_after_ms}});
  std::ostringstream out;
  out << root << "\n";
  return out.str();
}

}  // namespace edgefl
