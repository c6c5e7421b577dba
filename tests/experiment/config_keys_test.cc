// The key table (config_keys.h) is the one declaration of every key: these
// tests hold the file reader, ToToml, docs/config.md and the kind names to it.
#include "experiment/config_keys.h"
#include "schemas/codec/wire.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

namespace edgefl {
namespace {

// Every key set to a value other than its default, in one valid config.
// A new key must be added here with a non-default value, or the tests below
// fail naming it.
const char* kEveryKeyChanged = R"(
[run]
name = "every-key"
nodes = 5
rounds = 7
seed = 9
target_loss = 0.25
divergence_factor = 50.0
divergence_floor = 2.5
checkpoint_every = 25
[objective]
kind = "quartic"
dimension = 64
spectrum = "geometric"
lambda_min = 0.5
lambda_max = 3.0
initial_value = 0.75
dataset = "digits"
hidden = 16
partition = "dirichlet"
dirichlet_alpha = 0.3
test_fraction = 0.25
cosh_scale = 2.0
[noise]
kind = "student-t"
sigma = 0.5
sigma1 = 0.3
nu = 4.0
batch_size = 3
[local]
steps = 3
lr = 0.05
optimizer = "adam"
momentum = 0.8
beta2 = 0.99
epsilon = 1e-6
prox_mu = 0.01
state = "run"
[privacy]
mode = "local"
clip_norm = 2.5
noise_multiplier = 0.7
delta = 1e-6
[compressor]
kind = "sign"
k = 3
p = 0.5
levels = 4
[aggregator]
kind = "krum"
trim = 0.2
byzantine = 0
krum_select = 2
max_update_norm = 5.0
clip_radius = 2.5
clip_iterations = 2
bucket_size = 2
node_momentum = 0.5
[step]
rule = "l0l1"
eta = 0.05
decay_power = 0.75
decay_factor = 0.25
decay_every = 7
clip_norm = 2.5
l0 = 3.0
l1 = 0.5
smoothness = "online"
smoothness_window = 12
eps = 0.25
schedule_power = 0.5
norm = "running"
norm_smoothing = 0.5
[server]
optimizer = "yogi"
momentum = 0.5
beta1 = 0.8
beta2 = 0.95
tau = 0.01
[link]
preset = "lte-m"
shaping = "token-bucket"
uplink_bps = 1000000.0
downlink_bps = 2000000.0
latency_ms = 40.0
compute_ms = 3.5
[round]
deadline_ms = 1234
quorum = 0.75
join_timeout_ms = 4321
heartbeat_ms = 111
dead_after_ms = 2222
cohort = 3
over_commit = 0.5
availability = 0.9
dropout = 0.1
schedule_period = 5
schedule_on = 5
schedule_start = 2
clock = "virtual"
downlink = "step"
[async]
buffer = 4
concurrency = 3
staleness = "hinge"
staleness_exponent = 0.75
hinge_after = 2
hinge_slope = 0.5
max_staleness = 9
)";

// The keys whose non-default value the document above cannot hold as well,
// changed in a second valid config: aggregator.weighting = "samples" is
// refused with krum and bucketing, which give each node one vote.
const char* kKeysChangedApart = R"(
[aggregator]
weighting = "samples"
)";

// Buffered aggregation, which refuses the cohort and participation keys
// the first document sets.
const char* kBufferedKeysChanged = R"(
[async]
mode = "buffered"
buffer = 2
)";

// "section.key" -> the value as TOML text, for every key of a document.
std::map<std::string, std::string> Flatten(const std::string& text) {
  const toml::table root = toml::parse(text);
  std::map<std::string, std::string> keys;
  for (const auto& [section, table] : root) {
    REQUIRE(table.as_table() != nullptr);
    for (const auto& [key, value] : *table.as_table()) {
      std::ostringstream printed;
      value.visit([&printed](const auto& v) { printed << v; });
      keys[std::string(section.str()) + "." + std::string(key.str())] = printed.str();
    }
  }
  return keys;
}

// "section.key" of every key docs/config.md's tables list.
std::set<std::string> DocumentedKeys(const std::string& docs) {
  std::set<std::string> keys;
  std::istringstream lines(docs);
  std::string line, section;
  while (std::getline(lines, line)) {
    if (line.rfind("### `[[", 0) == 0) {
      section.clear();  // [[profile]]: its own test below
    } else if (line.rfind("### `[", 0) == 0) {
      section = line.substr(6, line.find(']') - 6);
    }
    if (line.rfind("## ", 0) == 0) section.clear();
    if (section.empty() || line.rfind("| `", 0) != 0) continue;
    for (const char* type : {"| integer |", "| number |", "| word |", "| string |"}) {
      if (line.find(type) != std::string::npos) keys.insert(section + "." + line.substr(3, line.find('`', 3) - 3));
    }
  }
  return keys;
}

std::string ReadDocs() {
  std::ifstream file(std::string(EDGEFL_SOURCE_DIR) + "/docs/config.md");
  REQUIRE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// "section.key" of every key the documents above change.
std::set<std::string> ChangedKeys() {
  std::set<std::string> changed;
  for (const char* document : {kEveryKeyChanged, kKeysChangedApart, kBufferedKeysChanged}) {
    for (const auto& [key, value] : Flatten(document)) changed.insert(key);
  }
  return changed;
}

TEST_CASE("every key, set to a non-default value, survives file -> config -> ToToml -> config") {
  const auto defaults = Flatten(ToToml(ExperimentConfig{}));
  for (const char* document : {kEveryKeyChanged, kKeysChangedApart, kBufferedKeysChanged}) {
    std::vector<ExperimentConfig> from_file;
    const Status loaded = LoadExperiments(document, "every-key.toml", {}, &from_file);
    REQUIRE_MESSAGE(loaded.ok(), loaded.message());
    REQUIRE(from_file.size() == 1);

    // The reader took every value, and ToToml writes every key: each key of
    // ToToml holds the file's value, which differs from the default's.
    const auto written = Flatten(ToToml(from_file[0]));
    const auto given = Flatten(document);
    CHECK(written.size() == defaults.size());
    for (const auto& [key, value] : given) {
      INFO(key);
      REQUIRE(written.contains(key));
      CHECK(written.at(key) == value);
      CHECK(defaults.at(key) != value);
    }

    std::vector<ExperimentConfig> read_back;
    const Status reloaded = LoadExperiments(ToToml(from_file[0]), "config.toml", {}, &read_back);
    REQUIRE_MESSAGE(reloaded.ok(), reloaded.message());
    REQUIRE(read_back.size() == 1);
    CHECK(read_back[0] == from_file[0]);
    CHECK(!(read_back[0] == ExperimentConfig{}));
  }
  // Between them the documents change every key ToToml writes.
  std::set<std::string> written;
  for (const auto& [key, value] : defaults) written.insert(key);
  CHECK(ChangedKeys() == written);
}

TEST_CASE("numbers survive ToToml to the last bit") {
  // edgefl run hands the coordinator ToToml(config): a number printed short
  // of round-trip precision would run another experiment than the file's.
  for (const char* eta : {"0.333333333333333314829616256247", "0.30000000000000004", "5e-324", "1.0000000000000002",
                          "123456.78901234567"}) {
    CAPTURE(eta);
    std::vector<ExperimentConfig> configs, read_back;
    REQUIRE(LoadExperiments(std::string("[step]\neta = ") + eta + "\n", "t.toml", {}, &configs).ok());
    REQUIRE(LoadExperiments(ToToml(configs[0]), "config.toml", {}, &read_back).ok());
    CHECK(read_back[0].step.eta == configs[0].step.eta);
    CHECK(read_back[0] == configs[0]);
  }
}

TEST_CASE("the task of a config with every key changed crosses a Welcome whole") {
  std::vector<ExperimentConfig> configs;
  REQUIRE(LoadExperiments(kEveryKeyChanged, "every-key.toml", {}, &configs).ok());
  const codec::TaskSpec sent = configs[0].TaskFor(2);
  flatbuffers::FlatBufferBuilder fbb;
  codec::EncodeWelcome(fbb, sent, configs[0].round.heartbeat_ms);
  const wire::Envelope* envelope = nullptr;
  REQUIRE(codec::ReadEnvelope({fbb.GetBufferPointer(), fbb.GetSize()}, &envelope).ok());
  codec::TaskSpec got;
  uint32_t heartbeat_ms = 0;
  std::span<const uint32_t> shard;
  const Status s = codec::ReadWelcome(*envelope->body_as_Welcome(), &got, &heartbeat_ms, &shard);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(got == sent);
  CHECK(heartbeat_ms == 111);
}

TEST_CASE("docs/config.md lists exactly the declared keys, with the declared tables") {
  const std::string docs = ReadDocs();
  std::set<std::string> declared;
  for (const auto& [key, value] : Flatten(ToToml(ExperimentConfig{}))) declared.insert(key);
  CHECK(DocumentedKeys(docs) == declared);
  CHECK(ChangedKeys() == declared);
  for (const char* section : ConfigSections()) {
    INFO("section [" << std::string(section) << "]: run scripts/update_config_docs.py");
    const std::string table = ConfigKeysMarkdown(section);
    CHECK(!table.empty());
    CHECK(docs.find(table) != std::string::npos);
  }
  INFO("[[profile]]: run scripts/update_config_docs.py");
  CHECK(docs.find("### `[[profile]]`\n\n" + ProfileKeysMarkdown()) != std::string::npos);
}

TEST_CASE("every config in examples/ loads as it is") {
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(EDGEFL_SOURCE_DIR) + "/examples")) {
    if (entry.path().extension() != ".toml") continue;
    CAPTURE(entry.path().string());
    std::vector<ExperimentConfig> configs;
    const Status s = LoadExperimentFile(entry.path().string(), {}, &configs);
    CHECK_MESSAGE(s.ok(), s.message());
    CHECK(!configs.empty());
    ++loaded;
  }
  CHECK(loaded >= 4);
}

TEST_CASE("range errors name the key and the range the table declares") {
  std::vector<ExperimentConfig> configs;
  Status s = LoadExperiments("[step]\neta = 0\n", "t.toml", {}, &configs);
  CHECK(std::string(s.message()) == "step.eta = 0: must be > 0");
  s = LoadExperiments("[round]\nquorum = 1.5\n", "t.toml", {}, &configs);
  CHECK(std::string(s.message()) == "round.quorum = 1.5: must be in (0, 1]");
  s = LoadExperiments("[objective]\ndataset = \"a-name-of-more-than-thirty-one-bytes\"\n", "t.toml", {}, &configs);
  CHECK(std::string(s.message()).find("objective.dataset") != std::string::npos);
}

template <typename Kind, size_t N>
void CheckEveryKindNamed(const Kind (&values)[N], std::span<const codec::KindName<Kind>> names) {
  CHECK(names.size() == N);
  for (const Kind kind : values) {
    INFO("kind value " << static_cast<int>(kind));
    CHECK(std::string(codec::NameIn(names, kind)) != "unknown");
  }
}

TEST_CASE("IsConfigKey knows each section.key and nothing else") {
  for (const char* key : {"run.name", "step.eta", "compressor.kind", "link.preset", "round.deadline_ms"}) {
    CHECK_MESSAGE(IsConfigKey(key), key);
  }
  for (const char* key : {"step.etaa", "eta", "step", "step.", ".eta", "variant.name", "step.eta.x", ""}) {
    CHECK_FALSE_MESSAGE(IsConfigKey(key), key);
  }
}

TEST_CASE("every kind the schema declares has a config name") {
  CheckEveryKindNamed(wire::EnumValuesCompressorKind(), codec::CompressorNames());
  CheckEveryKindNamed(wire::EnumValuesNoiseKind(), codec::NoiseNames());
  CheckEveryKindNamed(wire::EnumValuesObjectiveKind(), codec::ObjectiveNames());
  CheckEveryKindNamed(wire::EnumValuesSpectrumKind(), codec::SpectrumNames());
  CheckEveryKindNamed(wire::EnumValuesPartitionKind(), codec::PartitionNames());
}

}  // namespace
}  // namespace edgefl
