#include "experiment/experiment_config.h"

#include <string.h>
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "experiment/config_document.h"
#include "experiment/config_keys.h"
#include "experiment/profile_keys.h"
#include "experiment/link_model.h"
#include "maths/data_objective.h"
#include "maths/gradient_noise.h"
#include "maths/dataset.h"
#include "maths/synthetic_objective.h"
#include "schemas/codec/wire.h"

namespace edgefl {
namespace {

Status Bad(const char* format, auto... args) { return Status::Error(StatusCode::kInvalidArgument, format, args...); }

// What a step rule needs of the rest of the config.
Status CheckStepRule(const ExperimentConfig& c) {
  const bool fitted_from_nothing = c.step.smoothness == SmoothnessSource::kOnline && c.step.l0 == 0.0 &&
                                   c.step.l1 == 0.0;  // cautious steps until the fit (server_step.h)
  if (UsesSmoothness(c.step.rule) && !(c.step.l0 > 0.0) && !fitted_from_nothing) {
    return Bad("step.l0 = %g: step.rule = \"%s\" divides by L0 + L1 n_k, so it needs step.l0 > 0", c.step.l0,
               StepRuleName(c.step.rule));
  }
  if (c.step.rule == StepRuleKind::kL0L1 && !std::isfinite(NoiseVariance(c.noise, c.batch_size))) {
    return Bad("step.rule = \"l0l1\" needs a finite noise variance (noise.nu > 2 for student-t; got %g)", c.noise.nu);
  }
  return Status::Ok();
}

// What an aggregator needs of the rest of the config.
Status CheckAggregator(const ExperimentConfig& c) {
  const AggregatorConfig& a = c.aggregator;
  const char* kind = AggregatorName(a.kind);
  if (IsSignVote(a.kind) && c.compressor.kind != wire::CompressorKind::Sign) {
    return Bad("aggregator.kind = \"%s\" needs compressor.kind = \"sign\" (got \"%s\")", kind,
               codec::CompressorName(c.compressor.kind));
  }
  if (IsSignVote(a.kind) && a.max_update_norm > 0.0) {
    return Bad("aggregator.max_update_norm = %g: aggregator.kind = \"%s\" counts each update's signs once, so it has "
               "no norm to bound (norm bounding is for mean, median, trimmed-mean and krum)",
               a.max_update_norm, kind);
  }
  if (IsSignVote(a.kind) && a.node_momentum > 0.0) {
    return Bad("aggregator.node_momentum = %g: aggregator.kind = \"%s\" counts signs, not values (node momentum is "
               "for mean, median, trimmed-mean, krum and centered-clip)",
               a.node_momentum, kind);
  }
  if (a.weighting == Weighting::kSamples && !TakesWeights(a.kind)) {
    return Bad("aggregator.weighting = \"samples\": aggregator.kind = \"%s\" resists hostile nodes by giving each "
               "node one vote, and weights that nodes report about themselves would let one claim the votes of many "
               "(weights are for mean, sign-mean and majority; use weighting = \"uniform\")",
               kind);
  }
  // A synthetic objective's nodes each weigh their batch; a data
  // objective's weigh their shards, which the coordinator checks once it has
  // drawn them (ModelEvaluator::Create).
  const uint32_t max_weight = codec::MaxUpdateWeight(c.nodes);
  if (a.weighting == Weighting::kSamples && !codec::IsDataObjective(c.objective.kind) && c.batch_size > max_weight) {
    return Bad("aggregator.weighting = \"samples\": each update would weigh noise.batch_size = %u samples, more than "
               "the %u one update may weigh with run.nodes = %u (a round's weights total at most 2^20, the exact "
               "sum's headroom); every node of a synthetic objective weighs the same, so weighting = \"uniform\" "
               "gives the same mean",
               c.batch_size, max_weight, c.nodes);
  }
  if (a.bucket_size > 1 && !KeepsEveryUpdate(a.kind)) {
    return Bad("aggregator.bucket_size = %u: bucketing feeds bucket means to a robust rule (median, trimmed-mean, "
               "krum or centered-clip), not to \"%s\"",
               a.bucket_size, kind);
  }
  if (a.bucket_size > c.nodes) {
    return Bad("aggregator.bucket_size = %u: more than run.nodes = %u", a.bucket_size, c.nodes);
  }
  // With bucketing, Krum's n and f count buckets.
  const uint32_t inputs = (c.nodes + a.bucket_size - 1) / a.bucket_size;
  const char* what = a.bucket_size > 1 ? "buckets ceil(run.nodes / bucket_size)" : "run.nodes";
  if (a.kind == AggregatorKind::kKrum) {
    if (inputs < 2 * a.byzantine + 3) {
      return Bad("aggregator.byzantine = %u: krum needs %s >= 2f + 3 = %u (got %u)", a.byzantine, what,
                 2 * a.byzantine + 3, inputs);
    }
    if (a.krum_select > inputs - a.byzantine) {
      return Bad("aggregator.krum_select = %u: krum averages at most %s - byzantine = %u updates", a.krum_select, what,
                 inputs - a.byzantine);
    }
  }
  // A round's updates are kept whole: 4 bytes a coordinate an update (and
  // node momentum keeps two such rows a node).
  constexpr uint64_t kMaxKeptValues = uint64_t{1} << 32;
  const uint64_t kept = uint64_t{c.nodes} * c.objective.dimension;
  if ((KeepsEveryUpdate(a.kind) || a.node_momentum > 0.0) && kept > kMaxKeptValues) {
    return Bad("aggregator.kind = \"%s\" keeps every update of a round: run.nodes x objective.dimension = %llu values "
               "(%.1f GiB) is more than the 2^32 (16 GiB) allowed",
               kind, static_cast<unsigned long long>(kept), 4.0 * static_cast<double>(kept) / (1u << 30));
  }
  return Status::Ok();
}

// Why `name` cannot name a run folder, or nullptr. It becomes runs/<name>,
// which --overwrite clears: a separator or ".." would put that folder, and
// what is deleted there, anywhere on the disk.
const char* BadRunName(const std::string& name) {
  if (name.empty()) return "a run needs a name";
  if (name.size() > kMaxRunNameBytes) return "too long (at most 100 characters)";
  for (const char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '_' || c == '.' || c == '+';
    if (!plain) return "only letters, digits and - _ . + may name a run folder (no '/', spaces or other characters)";
  }
  if (name[0] == '.' || name[0] == '-') return "must not start with '.' or '-'";
  return nullptr;
}

// Whether the document sets section.key.
bool Given(const toml::table& root, const char* section, const char* key) {
  const toml::node* node = root.get(section);
  return node != nullptr && node->as_table() != nullptr && node->as_table()->contains(key);
}

// step.l0 and step.l1 that the file leaves out. A synthetic objective
// knows its own (SyntheticSmoothness), which a rule then steps with from
// round 0, and the online fit starts from. A data objective does not: a
// rule that divides by L0 + L1 n_k needs them declared, unless they are
// fitted online, which then starts with cautious steps (l0 = 0: none
// declared; server_step.h).
Status ResolveSmoothness(const toml::table& root, ExperimentConfig* c) {
  const bool l0_given = Given(root, "step", "l0"), l1_given = Given(root, "step", "l1");
  if (!codec::IsDataObjective(c->objective.kind)) {
    const SmoothnessConstants known = SyntheticSmoothness(c->objective);
    if (!l0_given) c->step.l0 = known.l0;
    if (!l1_given) c->step.l1 = known.l1;
    return Status::Ok();
  }
  if (!UsesSmoothness(c->step.rule) || (l0_given && l1_given)) return Status::Ok();
  if (c->step.smoothness == SmoothnessSource::kOnline) {
    if (!l0_given && !l1_given) c->step.l0 = c->step.l1 = 0.0;
    return Status::Ok();
  }
  return Bad("%s: step.rule = \"%s\" needs L0 and L1, which objective.kind = \"%s\" does not know: declare "
             "step.l0 and step.l1, or fit them with step.smoothness = \"online\"",
             l0_given ? "step.l1" : "step.l0", StepRuleName(c->step.rule), codec::ObjectiveName(c->objective.kind));
}

// Reads one resolved document (no variants left) into a config.
Status ParseConfig(const toml::table& root, ExperimentConfig* c) {
  for (const auto& [key, value] : root) {
    bool known = false;
    for (const char* section : ConfigSections()) known = known || key.str() == section;
    if (!known) return Bad("unknown section or key '%.*s'", static_cast<int>(key.str().size()), key.str().data());
  }
  KeyReader reader(root);
  VisitConfigKeys(*c, reader);
  EDGEFL_RETURN_IF_ERROR(reader.Finish());

  // Sign compressors default to averaging signs (DSignSGD).
  const bool plain_sign = c->compressor.kind == wire::CompressorKind::Sign;
  if (!Given(root, "aggregator", "kind") && plain_sign) c->aggregator.kind = AggregatorKind::kSignMean;

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
    if (Given(root, "objective", "dimension") && c->objective.dimension != parameters) {
      return Bad("objective.dimension = %u: the %s on %s has %u parameters (leave dimension out)",
                 c->objective.dimension, codec::ObjectiveName(c->objective.kind), info->name, parameters);
    }
    c->objective.dimension = parameters;
  }

  EDGEFL_RETURN_IF_ERROR(ResolveSmoothness(root, c));

  // Checks across keys.
  EDGEFL_RETURN_IF_ERROR(codec::ValidateTaskSpec(c->TaskFor(0)));
  EDGEFL_RETURN_IF_ERROR(CheckAggregator(*c));
  EDGEFL_RETURN_IF_ERROR(CheckStepRule(*c));
  EDGEFL_RETURN_IF_ERROR(CheckPrivacy(*c));
  EDGEFL_RETURN_IF_ERROR(CheckAsync(*c));
  if (c->round.downlink == DownlinkForm::kStep && c->async.Buffered()) {
    return Bad("round.downlink = \"step\" with async.mode = \"buffered\": a buffered task starts from the model "
               "as it stands when the task is sent, which steps do not carry yet; use round.downlink = \"model\"");
  }
  if (c->round.downlink == DownlinkForm::kStep && c->local.HasControl()) {
    return Bad("round.downlink = \"step\" with local.optimizer = \"scaffold\": SCAFFOLD's control variate c goes "
               "down in full beside the model every round; use round.downlink = \"model\"");
  }
  if (c->round.cohort > c->nodes) {
    return Bad("round.cohort = %u: must be at most run.nodes = %u (the population)", c->round.cohort, c->nodes);
  }
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

codec::TaskSpec ExperimentConfig::TaskFor(uint32_t node_index) const {
  codec::TaskSpec task;
  task.objective = objective;
  task.noise = noise;
  task.compressor = compressor;
  task.batch_size = batch_size;
  task.seed = seed;
  task.node_index = node_index;
  task.num_nodes = nodes;
  task.link = ResolveLink(LinkOf(node_index));
  task.local = local;
  task.privacy = {.clip_norm = privacy.clip_norm,
                  .noise_multiplier = privacy.mode == PrivacyMode::kLocal ? privacy.noise_multiplier : 0.0};
  return task;
}

uint32_t ExperimentConfig::CohortSize() const { return round.cohort == 0 ? nodes : std::min(round.cohort, nodes); }

uint32_t ExperimentConfig::AskedPerRound() const {
  const double asked = std::ceil(CohortSize() * (1.0 + round.over_commit) - 1e-9);
  return asked >= nodes ? nodes : static_cast<uint32_t>(asked);
}

uint32_t ExperimentConfig::QuorumCount() const {
  const auto count = static_cast<uint32_t>(std::ceil(round.quorum * CohortSize() - 1e-9));
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

// Reads the [[profile]] tables (experiment_config.h, DeviceProfile).
Status ParseProfiles(const toml::array& tables, std::vector<DeviceProfile>* out) {
  out->clear();
  for (size_t i = 0; i < tables.size(); ++i) {
    const toml::table* table = tables[i].as_table();
    if (table == nullptr) return Bad("profile %zu must be a table ([[profile]])", i + 1);
    toml::table wrapper;
    wrapper.insert("profile", *table);
    DeviceProfile profile;
    KeyReader reader(wrapper);
    VisitProfileKeys(profile, reader);
    if (const Status s = reader.Finish(); !s.ok()) return Bad("profile %zu: %s", i + 1, s.message());
    for (const DeviceProfile& earlier : *out) {
      if (earlier.name == profile.name) return Bad("profile %zu: name \"%s\" is used twice", i + 1, profile.name.c_str());
    }
    out->push_back(std::move(profile));
  }
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
  std::vector<DeviceProfile> profiles;
  if (const toml::node* node = root.get("profile")) {
    if (node->as_array() == nullptr) return Bad("'profile' must be an array of tables ([[profile]])");
    EDGEFL_RETURN_IF_ERROR(ParseProfiles(*node->as_array(), &profiles));
    root.erase("profile");
  }

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
    config.profiles = profiles;
    Status s = ParseConfig(merged, &config);
    if (s.ok()) s = CheckProfiles(config);
    if (!s.ok()) {
      if (variants.size() == 1) return s;
      return Bad("%s: %s", where, s.message());
    }
    const auto name = (*variant)["name"].value<std::string>();
    if (name) config.name = *name;
    if (const char* why = BadRunName(config.name)) {
      if (name) return Bad("%s: name = \"%s\": %s", where, config.name.c_str(), why);
      return Bad("run.name = \"%s\": %s", config.name.c_str(), why);
    }
    for (const ExperimentConfig& earlier : *out) {
      if (earlier.name == config.name) return Bad("%s: name \"%s\" is used twice", where, config.name.c_str());
    }
    out->push_back(std::move(config));
  }
  return Status::Ok();
}

Status LoadExperimentFile(const std::string& path, const std::vector<std::string>& overrides,
                          std::vector<ExperimentConfig>* out) {
  // A folder reads as empty text, which is the default experiment, and a
  // device such as /dev/zero never ends: only regular files, and of a size
  // no hand-written config comes near.
  struct stat info = {};
  if (::stat(path.c_str(), &info) != 0) {
    return Bad("cannot read config file '%s': %s", path.c_str(), std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) {
    return Bad("config file '%s' is not a regular file (%s)", path.c_str(),
               S_ISDIR(info.st_mode) ? "a folder" : "a device, pipe or socket");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) return Bad("cannot read config file '%s': %s", path.c_str(), std::strerror(errno));
  std::string text(kMaxConfigFileBytes + 1, '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(file.gcount()));
  if (text.size() > kMaxConfigFileBytes) {
    return Bad("config file '%s' is larger than %zu bytes (1 MiB): not a config", path.c_str(), kMaxConfigFileBytes);
  }
  return LoadExperiments(text, path, overrides, out);
}

std::string ToToml(const ExperimentConfig& c) {
  toml::table root;
  KeyWriter writer(root);
  VisitConfigKeys(c, writer);
  if (!c.profiles.empty()) {
    toml::array tables;
    for (const DeviceProfile& profile : c.profiles) {
      toml::table wrapper;
      KeyWriter profile_writer(wrapper);
      VisitProfileKeys(profile, profile_writer);
      tables.push_back(*wrapper.get("profile")->as_table());
    }
    root.insert("profile", std::move(tables));
  }
  std::ostringstream out;
  out << root << "\n";
  return out.str();
}

}  // namespace edgefl
