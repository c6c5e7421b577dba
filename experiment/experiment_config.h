// ExperimentConfig: one federated experiment, as read from a TOML file
// (config_keys.h declares every key; docs/config.md lists them). A file may hold [[variant]] tables that
// each override parts of the base, e.g. the same run with two compressors;
// loading yields one resolved config a variant. Unknown keys, wrong types
// and out-of-range values are errors that name the key. Plain values; the
// coordinator owns one, `edgefl run` one a variant.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "experiment/availability_schedule.h"
#include "schemas/codec/task_spec.h"

namespace edgefl {

enum class AggregatorKind : uint8_t {
  kMean,         // mean of the (unbiased) updates: DSGD, DCSGD
  kSignMean,     // (1/N) sum_i sign(g_i): DSignSGD as in the papers (docs/theory.md 1)
  kMajority,     // sign(sum_i sign(g_i)): majority vote
  kMedian,       // coordinate-wise median (robust to hostile nodes)
  kTrimmedMean,  // coordinate-wise mean without the trim fraction at each end
  kKrum,         // (multi-)Krum, Blanchard et al. 2017
  kCenteredClip, // centred clipping from last round's aggregate, Karimireddy, He, Jaggi 2021
};

// How much each accepted update counts (coordinator/aggregator.h).
enum class Weighting : uint8_t {
  kUniform,  // each once: (1/n) sum_i v_i
  kSamples,  // each by the samples behind it, Update.weight: FedAvg's sum_i n_i v_i / sum_i n_i
};

// Whether an aggregator counts plain signs (sign-mean, majority) rather than
// combining values.
bool IsSignVote(AggregatorKind kind);
// Whether an aggregator weighs updates (mean, sign-mean, majority). The
// robust ones give each node one vote: weights the nodes report themselves
// would let a hostile node buy more, so the config refuses them there.
bool TakesWeights(AggregatorKind kind);
// Whether an aggregator keeps every update of a round (median, trimmed
// mean, Krum, centered-clip): 4 bytes a coordinate an update (update_rows.h).
bool KeepsEveryUpdate(AggregatorKind kind);

// How a round's updates become the direction (coordinator/aggregator.h).
struct AggregatorConfig {
  AggregatorKind kind = AggregatorKind::kMean;
  Weighting weighting = Weighting::kUniform;
  double trim = 0.1;             // trimmed-mean: fraction dropped at each end, [0, 0.5)
  uint32_t byzantine = 1;        // krum: f, the hostile nodes tolerated
  uint32_t krum_select = 1;      // krum: m, the lowest-scoring updates averaged (1: Krum)
  double max_update_norm = 0.0;  // every value aggregator: scale longer updates down to it (0: off)
  double clip_radius = 1.0;      // centered-clip: tau
  uint32_t clip_iterations = 1;  // centered-clip: L
  uint32_t bucket_size = 1;      // median, trimmed-mean, krum, centered-clip: s, updates a bucket (1: off)
  double node_momentum = 0.0;    // every value aggregator: beta of each node's momentum (0: off)

  bool operator==(const AggregatorConfig&) const = default;
};

// The step rules (step_rule.h gives each formula and its source).
enum class StepRuleKind : uint8_t {
  kConstant,    // eta
  kDecay,       // eta / (1 + k)^p
  kDecayTime,   // eta / (1 + k eta)^p, in SDE time
  kStepDecay,   // eta factor^floor(k / every)
  kNormalized,  // eta / n_k
  kClip,        // min(eta, gamma / n_k)
  kVankov,      // 1 / (L0 + 1.5 L1 n_k)
  kL0L1Gd,      // eta / (L0 + L1 n_k)
  kL0L1,        // 2 eps s_k / (a + b n_k)
};

// n_k, the estimate of ||grad f(x_k)|| that normalising rules use.
enum class NormEstimateKind : uint8_t {
  kAggregate,  // ||direction||
  kNodes,      // the mean of the norms the nodes report
  kRunning,    // an exponential running mean of ||direction||
};

// Where L0 and L1 come from.
enum class SmoothnessSource : uint8_t {
  kDeclared,  // step.l0, step.l1
  kOnline,    // estimated from the run's steps (smoothness_estimator.h), the declared ones until then
};

// Whether a rule reads n_k, and whether it reads L0 and L1.
bool UsesNormEstimate(StepRuleKind rule);
bool UsesSmoothness(StepRuleKind rule);

struct StepConfig {
  StepRuleKind rule = StepRuleKind::kConstant;
  double eta = 0.1;
  double decay_power = 0.5;     // decay, decay-time
  double decay_factor = 0.5;    // step-decay
  uint32_t decay_every = 100;   // step-decay
  double clip_norm = 1.0;       // clip: gamma
  double l0 = 1.0;              // vankov, l0l1-gd, l0l1
  double l1 = 0.0;
  SmoothnessSource smoothness = SmoothnessSource::kDeclared;
  uint32_t smoothness_window = 32;
  double eps = 0.5;             // l0l1: safety margin
  double schedule_power = 0.0;  // l0l1: s_k = (1 + k)^-power
  NormEstimateKind norm = NormEstimateKind::kAggregate;
  double norm_smoothing = 0.9;  // running: n <- s n + (1 - s) ||direction||

  bool operator==(const StepConfig&) const = default;
};

enum class ServerOptimizerKind : uint8_t {
  kSgd,       // x -= eta d
  kMomentum,  // FedAvgM
  kAdagrad,   // FedAdagrad (Reddi et al. 2021)
  kAdam,      // FedAdam
  kYogi,      // FedYogi
};

// The server optimiser and its constants (server_optimizer.h).
struct ServerConfig {
  ServerOptimizerKind optimizer = ServerOptimizerKind::kSgd;
  double momentum = 0.9;  // momentum: beta
  double beta1 = 0.9;     // adagrad, adam, yogi: first moment
  double beta2 = 0.99;    // adam, yogi: second moment
  double tau = 1e-3;      // adagrad, adam, yogi: adaptivity floor

  bool operator==(const ServerConfig&) const = default;
};

// A node's link, for forecasts (edgefl predict): the presets' uplink
// figures are public medians (docs/config.md); a bandwidth of 0 takes the
// preset's.
enum class LinkPreset : uint8_t { kNone, kGbe, kWifi, k4g, k5g, kLteM, kNbIot, kLoraWan };

// How `edgefl run` makes a node's link what [link] says.
enum class LinkShaping : uint8_t {
  kNone,         // loopback as it is: the link is only forecast
  kTokenBucket,  // each node paces its own traffic, each direction (net/link_shaper.h)
  kKernel,       // each node in a network namespace behind a tbf qdisc (root only)
};

struct LinkConfig {
  LinkPreset preset = LinkPreset::kNone;
  LinkShaping shaping = LinkShaping::kNone;
  double uplink_bps = 0.0;    // 0: the preset's
  double downlink_bps = 0.0;  // 0: the uplink's
  double latency_ms = 0.0;    // one way
  double compute_ms = 0.0;    // a node's computation a round

  bool operator==(const LinkConfig&) const = default;
};

// Bits a second of the preset's uplink (0 for none).
double PresetUplinkBps(LinkPreset preset);
// The fraction of time the preset's radio may transmit: 0.01 for LoRaWAN
// (EU868's 1%), 1 for every other.
double PresetDutyCycle(LinkPreset preset);

// What a round's time is read from.
enum class RoundClock : uint8_t {
  kWall,     // the machine's clock: updates count as they arrive
  kVirtual,  // each node's modelled time (experiment/link_model.h): which updates count, and metrics' time_s,
             // follow from the links and compute times, never from the machine's scheduling
};

// What a RoundStart carries to a node (docs/protocol.md 9).
enum class DownlinkForm : uint8_t {
  kModel,  // the whole model, every round
  kStep,   // the last round's step, to a node that holds the model before it (the model when it holds none)
};

struct RoundConfig {
  // A round closes when every live participant has answered, or at the
  // deadline; it steps if at least `quorum` of the cohort's updates arrived.
  // (Closing at the first `quorum` answers would make which updates count
  // depend on timing, and the model on the scheduler.)
  uint32_t deadline_ms = 10000;
  double quorum = 0.5;               // fraction of the cohort whose updates a step needs
  uint32_t join_timeout_ms = 30000;  // nodes must join within this
  uint32_t heartbeat_ms = 500;
  uint32_t dead_after_ms = 5000;     // a node silent this long is dropped
  // Participation (coordinator/cohort_sampler.h): of the population of
  // run.nodes, each available in a round with `availability`, `cohort` are
  // asked (0: every one), over-committed by `over_commit` (ask
  // ceil(cohort (1 + over_commit)), step on the first `cohort` answers), and
  // an asked node's answer is lost with `dropout`. A node outside its
  // `schedule`'s on rounds is not available at all.
  uint32_t cohort = 0;
  double over_commit = 0.0;
  double availability = 1.0;
  double dropout = 0.0;
  AvailabilitySchedule schedule{};
  RoundClock clock = RoundClock::kWall;
  DownlinkForm downlink = DownlinkForm::kModel;

  bool operator==(const RoundConfig&) const = default;
};

// Differential privacy, as DP-FedAvg does it (McMahan et al. 2018; docs/theory.md 6).
enum class PrivacyMode : uint8_t {
  kOff,      // no noise (clip_norm may still clip the nodes' updates)
  kLocal,    // each node clips its update and adds N(0, (z C)^2) per coordinate before compression
  kCentral,  // nodes clip; the coordinator bounds each decoded update to C and adds N(0, (z C / n)^2) to the mean
};

struct PrivacyConfig {
  PrivacyMode mode = PrivacyMode::kOff;
  double clip_norm = 0.0;         // C
  double noise_multiplier = 0.0;  // z
  double delta = 1e-5;            // the delta epsilon is reported at

  bool operator==(const PrivacyConfig&) const = default;
};

// Buffered asynchronous aggregation (FedBuff, Nguyen et al. 2022;
// coordinator/buffered_intake.h, docs/theory.md 7): each node trains on
// the model version it was last sent, and the coordinator steps after every
// `buffer` updates, each weighed by its staleness s (the versions made since
// its model was sent).
enum class AggregationMode : uint8_t {
  kSync,      // rounds: the cohort gets one model, and the round waits for it (the default)
  kBuffered,  // no rounds: `concurrency` nodes train at once, and a step comes every `buffer` updates
};

// w(s), what an update s versions stale is worth against a fresh one.
enum class StalenessWeighting : uint8_t {
  kConstant,    // 1
  kPolynomial,  // (1 + s)^-a, a = staleness_exponent (FedBuff's 1/sqrt(1 + s) at a = 0.5)
  kHinge,       // 1 for s <= b, else 1 / (1 + a (s - b)); a = hinge_slope, b = hinge_after (FedAsync)
};

struct AsyncConfig {
  AggregationMode mode = AggregationMode::kSync;
  StalenessWeighting staleness = StalenessWeighting::kPolynomial;
  uint32_t buffer = 0;           // K, the updates a step takes (>= 1 when buffered)
  uint32_t concurrency = 0;      // nodes training at once (0: every node)
  uint32_t max_staleness = 1000; // a staler update is refused, and counted
  uint32_t hinge_after = 4;      // b
  double staleness_exponent = 0.5;  // a of the polynomial
  double hinge_slope = 1.0;         // a of the hinge

  bool Buffered() const { return mode == AggregationMode::kBuffered; }
  bool operator==(const AsyncConfig&) const = default;
};

// DeviceProfile: a group of the population's nodes alike in board, link and
// participation — e.g. "40 Pi Zero 2 on LTE-M, 8 Pi 5 on Wi-Fi" is two
// [[profile]] tables. Profiles take node ids in file order (the first
// profile's `nodes` get ids 0, 1, ...); nodes beyond the profiles keep
// [link] and [round]'s figures. A profile's link keys replace [link]'s
// (its shaping is [link]'s: one mode a run); its computation a round is
// `compute_ms` where given, else its board's factor times [link]'s
// compute_ms (the reference board, a Pi 5); its memory budget is passed to
// its nodes' processes (`edgefl-node --memory-budget`), so a board refuses
// a task larger than it can hold. Plain values.
// Boards with built-in figures (docs/config.md, "Device profiles", gives
// their sources): how many times a Pi 5's time a round's computation
// takes, and the memory budget a node on it gets by default.
enum class Board : uint8_t { kNone, kPiZero2, kPi3, kPi4, kPi5 };
std::span<const codec::KindName<Board>> BoardNames();
double BoardComputeFactor(Board board);
uint64_t BoardMemoryBudgetBytes(Board board);  // 0: the node's own default

struct DeviceProfile {
  std::string name = "profile";
  uint32_t nodes = 1;
  Board board = Board::kNone;
  LinkPreset preset = LinkPreset::kNone;
  double uplink_bps = 0.0;    // 0: the preset's ([link]'s when neither is given)
  double downlink_bps = 0.0;  // 0: the uplink's
  double latency_ms = -1.0;   // < 0: [link]'s
  double compute_ms = -1.0;   // < 0: the board's factor times [link]'s
  uint64_t memory_budget_bytes = 0;  // 0: the board's
  double availability = -1.0;        // < 0: [round]'s
  double dropout = -1.0;             // < 0: [round]'s
  AvailabilitySchedule schedule{};     // period 0: [round]'s

  bool operator==(const DeviceProfile&) const = default;
};

struct ExperimentConfig {
  std::string name = "run";
  uint32_t nodes = 4;
  uint32_t rounds = 100;
  uint64_t seed = 1;
  double target_loss = 0.0;           // stop once the loss is at or below it (0: off)
  double divergence_factor = 1e6;     // diverged once loss > factor * max(initial loss, floor)
  double divergence_floor = 1.0;
  uint32_t checkpoint_every = 100;    // checkpoint.bin every this many rounds (0: only on a signal)
  codec::ObjectiveSpec objective{.dimension = 100};
  codec::NoiseSpec noise;
  uint32_t batch_size = 1;
  codec::LocalSpec local;
  codec::CompressorSpec compressor;
  PrivacyConfig privacy;
  AggregatorConfig aggregator;
  StepConfig step;
  ServerConfig server;
  LinkConfig link;
  RoundConfig round;
  AsyncConfig async;
  std::vector<DeviceProfile> profiles;  // [[profile]] tables, in file order

  // The task node `node_index` receives in Welcome.
  codec::TaskSpec TaskFor(uint32_t node_index) const;
  // K, the updates a round steps on: round.cohort, or every node when 0.
  uint32_t CohortSize() const;
  // K', the nodes asked a round: ceil(K (1 + round.over_commit) - 1e-9), at most run.nodes.
  uint32_t AskedPerRound() const;
  // Number of updates a round needs: ceil(quorum * K - 1e-9), at least 1
  // (the epsilon keeps 0.6 * 5 at 3 despite rounding).
  uint32_t QuorumCount() const;
  // The profile node `node` belongs to, or nullptr (experiment/device_profile.cc).
  const DeviceProfile* ProfileOf(uint32_t node) const;
  // Node `node`'s link (its profile's, or [link]) and its chances of taking part.
  LinkConfig LinkOf(uint32_t node) const;
  struct Participation {
    double availability = 1.0;
    double dropout = 0.0;
    AvailabilitySchedule schedule{};
  };
  Participation ParticipationOf(uint32_t node) const;

  bool operator==(const ExperimentConfig&) const = default;
};

// Whether each node sends one plain stochastic gradient a round: one sgd step
// without FedProx, no clipping, no privacy noise. The papers' SDEs, bounds
// and closed forms (docs/theory.md 3-5) are of such runs.
inline bool SendsPlainGradient(const ExperimentConfig& c) {
  return c.local.steps == 1 && c.local.optimizer == wire::LocalOptimizer::Sgd && c.local.prox_mu == 0.0 &&
         c.privacy.mode == PrivacyMode::kOff && c.privacy.clip_norm == 0.0;
}

// What the profiles and schedules need of the rest of the config: room in
// the population, a task each profile's nodes can take (a shaped link needs
// a rate), schedules whose keys agree, and a quorum on schedule every round
// (experiment/device_profile.cc; LoadExperiments calls it).
Status CheckProfiles(const ExperimentConfig& config);

// What privacy needs of the rest of the config: a clip norm and a noise
// multiplier for its noise, and under central DP an aggregator whose
// sensitivity is one update's norm (experiment/privacy_config.cc).
Status CheckPrivacy(const ExperimentConfig& config);

// What buffered aggregation needs of the rest of the config: a buffer,
// rules that stay exact and order-free when one node may send two updates
// a step, and no per-round participation settings (experiment/async_config.cc).
Status CheckAsync(const ExperimentConfig& config);

// The aggregator the coordinator builds: [aggregator] as given, except that
// central DP bounds every decoded update to privacy.clip_norm (the tighter
// of it and aggregator.max_update_norm), the sensitivity its noise assumes.
AggregatorConfig AggregatorAsRun(const ExperimentConfig& config);

// A `section.key=value` override from the command line; value is TOML
// (numbers, true/false, or a bare word taken as a string).
struct ConfigOverride {
  std::string key;
  std::string value;
};

// Reads `text` (a TOML document; `origin` names it in messages) into one
// config a variant, `overrides` ("section.key=value", as --set takes them)
// applied last. Without [[variant]] tables the result holds one config
// named after run.name.
Status LoadExperiments(std::string_view text, std::string_view origin, const std::vector<std::string>& overrides,
                       std::vector<ExperimentConfig>* out);

// A run's name (run.name, or a variant's name) names its folder: 1 to
// kMaxRunNameBytes letters, digits, '-', '_', '.' or '+', not starting with
// '.' or '-'. LoadExperiments refuses any other.
inline constexpr size_t kMaxRunNameBytes = 100;

// Reads a file; see LoadExperiments. Only a regular file of at most
// kMaxConfigFileBytes is read.
inline constexpr size_t kMaxConfigFileBytes = size_t{1} << 20;
Status LoadExperimentFile(const std::string& path, const std::vector<std::string>& overrides,
                          std::vector<ExperimentConfig>* out);

// Parses "section.key=value".
Status ParseOverride(std::string_view text, ConfigOverride* out);

// The config as a TOML document with every key (config_keys.h), defaults
// included: what a run folder keeps and what the coordinator reads back.
std::string ToToml(const ExperimentConfig& config);

std::span<const codec::KindName<AggregatorKind>> AggregatorNames();
std::span<const codec::KindName<StepRuleKind>> StepRuleNames();
std::span<const codec::KindName<ServerOptimizerKind>> ServerOptimizerNames();
std::span<const codec::KindName<NormEstimateKind>> NormEstimateNames();
std::span<const codec::KindName<SmoothnessSource>> SmoothnessSourceNames();
std::span<const codec::KindName<LinkPreset>> LinkPresetNames();
std::span<const codec::KindName<LinkShaping>> LinkShapingNames();
std::span<const codec::KindName<RoundClock>> RoundClockNames();
std::span<const codec::KindName<DownlinkForm>> DownlinkFormNames();
std::span<const codec::KindName<Weighting>> WeightingNames();
std::span<const codec::KindName<PrivacyMode>> PrivacyModeNames();
std::span<const codec::KindName<bool>> StateLifetimeNames();
std::span<const codec::KindName<AggregationMode>> AggregationModeNames();
std::span<const codec::KindName<StalenessWeighting>> StalenessWeightingNames();
const char* AggregatorName(AggregatorKind kind);
const char* StepRuleName(StepRuleKind kind);

}  // namespace edgefl
