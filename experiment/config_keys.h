// The one declaration of every config key: its section, name, type, range,
// and the text docs/config.md shows for it. Reading a config file, writing
// one back (ToToml: what a run folder keeps and what `edgefl run` hands the
// coordinator), the range checks and docs/config.md's key tables all follow
// from VisitConfigKeys, so a new key is one entry here (and, if it changes
// what a node computes, a field of the task spec in schemas/codec).
//
// A visitor has these members, each called once a key, in file order:
//   Section(name)                                          starts [name]
//   Integer(key, field, lo, hi, doc)                       whole number in [lo, hi]
//   Number(key, field, range, doc)                         finite double in range
//   Word(key, field, names, doc)                           one of a kind's names
//   Text(key, field, doc)                                  std::string or char[N]
// `field` is a reference into the config (const for visitors that only
// read it). Checks that span several keys stay in ParseConfig and, for the
// task, codec::ValidateTaskSpec, which a node also applies to its Welcome.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "experiment/experiment_config.h"

namespace edgefl {

// Where a number may lie: an interval, each end open or closed, either end
// possibly infinite.
struct NumberRange {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false;
  bool hi_open = false;

  bool Contains(double v) const {
    return (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  }
  // "any", "> 0", ">= 0", "(0, 1]", "[0, 2]".
  std::string Describe() const;
};

inline constexpr NumberRange kAnyNumber{};
constexpr NumberRange Above(double lo) { return {lo, std::numeric_limits<double>::infinity(), true, false}; }
constexpr NumberRange AtLeast(double lo) { return {lo, std::numeric_limits<double>::infinity(), false, false}; }
constexpr NumberRange Between(double lo, double hi, bool lo_open = false, bool hi_open = false) {
  return {lo, hi, lo_open, hi_open};
}

// What docs/config.md says of a key. `allowed` and `default_text` are
// derived from the range and the default config unless given.
struct KeyDoc {
  const char* meaning;
  const char* allowed = nullptr;
  const char* default_text = nullptr;
};

constexpr int64_t kMaxU32 = 0xFFFFFFFFll;

// A field added to a config struct without a key here would silently keep its
// default in every run: these sizes fail the build until the new field has a
// key below (then update the size). LP64 sizes, as on x86-64 and aarch64.
static_assert(sizeof(codec::ObjectiveSpec) == 104, "a new objective field needs its key in VisitConfigKeys");
static_assert(sizeof(codec::NoiseSpec) == 32, "a new noise field needs its key in VisitConfigKeys");
static_assert(sizeof(codec::CompressorSpec) == 24, "a new compressor field needs its key in VisitConfigKeys");
static_assert(sizeof(AggregatorConfig) == 56, "a new aggregator field needs its key in VisitConfigKeys");
static_assert(sizeof(StepConfig) == 104, "a new step field needs its key in VisitConfigKeys");
static_assert(sizeof(ServerConfig) == 40, "a new server field needs its key in VisitConfigKeys");
static_assert(sizeof(RoundConfig) == 72, "a new round field needs its key in VisitConfigKeys");
static_assert(sizeof(LinkConfig) == 40, "a new link field needs its key in VisitConfigKeys");
static_assert(sizeof(codec::LocalSpec) == 64, "a new local field needs its key in VisitConfigKeys");
static_assert(sizeof(PrivacyConfig) == 32, "a new privacy field needs its key in VisitConfigKeys");
static_assert(sizeof(AsyncConfig) == 40, "a new async field needs its key in VisitConfigKeys");
static_assert(sizeof(ExperimentConfig) == 720, "a new run field needs its key in VisitConfigKeys");

template <typename Config, typename Visitor>
void VisitConfigKeys(Config& c, Visitor& v) {
  v.Section("run");
  v.Text("name", c.name,
         {"The experiment's name. It names the run folder. A `[[variant]]`'s `name` replaces it.",
          "1 to 100 letters, digits, `-`, `_`, `.`, `+`; not starting with `.` or `-`"});
  v.Integer("nodes", c.nodes, 1, 1048576,
            {"N, the number of nodes. Node ids are 0 … N−1, and all of them must join before round 0. Past 4096, "
             "`edgefl run` needs `--logical` (at most 4096 node processes) or `--relays` with `--in-process`.",
             "[1, 2^20]"});
  v.Integer("rounds", c.rounds, 1, 100000000, {"The number of rounds to run."});
  v.Integer("seed", c.seed, 0, INT64_MAX,
            {"Seeds every random stream: each node's (docs/protocol.md 6.6), the data split and the mlp's initial "
             "weights. The same config and seed give the same model bit for bit, provided the same updates are "
             "accepted in each round.",
             "[0, 2^63 − 1]"});
  v.Number("target_loss", c.target_loss, AtLeast(0.0),
           {"Stop once the loss is at or below this value. 0 turns the check off."});
  v.Number("divergence_factor", c.divergence_factor, Above(1.0),
           {"The run has diverged, and stops, once the loss is above `divergence_factor × max(initial loss, "
            "divergence_floor)` or is not finite, or once honest updates overflow (see Overflow below)."});
  v.Number("divergence_floor", c.divergence_floor, AtLeast(0.0),
           {"The smallest loss the divergence test measures from, so that a run started at or near the optimum "
            "(initial loss about 0) is not called diverged when its loss rises to the noise floor."});
  v.Integer("checkpoint_every", c.checkpoint_every, 0, 100000000,
            {"Write the run's state to `checkpoint.bin` in its folder every this many rounds, and when the run "
             "ends, so that `--resume` can carry on from it (docs/outputs.md). 0 turns checkpoints off, except "
             "the one a stop signal (SIGINT, SIGTERM) writes."});

  v.Section("objective");
  v.Word("kind", c.objective.kind, codec::ObjectiveNames(),
         {"Synthetic: f(x) = ½ Σ_j λ_j x_j² (`quadratic`), ¼ Σ_j λ_j x_j⁴ (`quartic`) or Σ_j λ_j (cosh(a x_j) − "
          "1)/a² (`cosh`), each with minimum 0 at x = 0; the last two are (L0,L1)-smooth but not L-smooth. Data: "
          "softmax regression (`logistic`) or a network with one ReLU hidden layer (`mlp`), trained on `dataset` "
          "with the mean cross-entropy."});
  v.Integer("dimension", c.objective.dimension, 1, codec::kMaxDimension,
            {"d, the number of model coordinates. For `logistic` and `mlp` it is the model's parameter count and is "
             "best left out. If given, it must equal that count.",
             "[1, 268435456] (2^28)"});
  v.Word("spectrum", c.objective.spectrum, codec::SpectrumNames(),
         {"How λ_j spreads from `lambda_min` (j = 0) to `lambda_max` (j = d−1): evenly, or by a constant ratio."});
  v.Number("lambda_min", c.objective.lambda_min, Above(0.0), {"The smallest curvature."});
  v.Number("lambda_max", c.objective.lambda_max, Above(0.0),
           {"The largest curvature.", ">= `lambda_min`"});
  v.Number("initial_value", c.objective.initial_value, Between(-1e6, 1e6),
           {"The value of every coordinate of the starting point x_0 (synthetic objectives).", "\\|v\\| <= 1e6"});
  v.Text("dataset", c.objective.dataset,
         {"The data set of `logistic` and `mlp`, which each node reads from its own disk (see below).",
          "`digits`; under 32 bytes"});
  v.Integer("hidden", c.objective.hidden, 0, 4096,
            {"The number of hidden units of `mlp`.", "[0, 4096]; [1, 4096] for `mlp`"});
  v.Word("partition", c.objective.partition, codec::PartitionNames(),
         {"How training samples are shared among the nodes: round robin, or per class with Dirichlet proportions "
          "(non-IID)."});
  v.Number("dirichlet_alpha", c.objective.dirichlet_alpha, kAnyNumber,
           {"The Dirichlet concentration. A smaller value gives each node fewer classes.",
            "(0, 1e6] for data objectives"});
  v.Number("cosh_scale", c.objective.cosh_scale, kAnyNumber,
           {"a of `cosh`, f(x) = Σ_j λ_j (cosh(a x_j) − 1)/a²: its curvature λ cosh(a x) grows with the gradient, "
            "(L0,L1)-smooth with L0 = lambda_max and L1 = a.",
            "(0, 1000]"});
  v.Number("test_fraction", c.objective.test_fraction, kAnyNumber,
           {"The fraction of samples held out as the test set, on which the coordinator reports test loss and "
            "accuracy.",
            "[0.05, 0.9] for data objectives"});

  v.Section("noise");
  v.Word("kind", c.noise.kind, codec::NoiseNames(),
         {"`gaussian`: sigma/√B · N(0, 1). `student-t`: sigma/√B · t(nu). `affine`: √((sigma² + sigma1²‖g‖²)/B) · "
          "N(0, 1), g the gradient before noise. `none`: the exact gradient."});
  v.Number("sigma", c.noise.sigma, AtLeast(0.0), {"The per-sample noise scale."});
  v.Number("sigma1", c.noise.sigma1, AtLeast(0.0),
           {"`affine`: how the noise grows with the gradient; each coordinate's variance is (sigma² + sigma1²‖g‖²)/B."});
  v.Number("nu", c.noise.nu, Between(0.5, 1e6),
           {"Degrees of freedom of `student-t` (1 is Cauchy). The range is checked whatever the kind."});
  v.Integer("batch_size", c.batch_size, 1, 1 << 24,
            {"B. A batch divides sigma by √B.", "[1, 16777216] (2^24)"});

  v.Section("local");
  v.Integer("steps", c.local.steps, 1, codec::kMaxLocalSteps,
            {"E, the local steps a node takes each round from the round's model x_0: x_{t+1} = x_t − lr·u_t, u_t its "
             "optimizer's direction at the minibatch gradient g_t. It sends the sum of its directions, Σ_t u_t = "
             "(x_0 − x_E)/lr, which the coordinator treats as the round's gradient (docs/theory.md 6.1). With 1 "
             "step and `sgd` that is g_0 itself, and `lr` does not matter."});
  v.Number("lr", c.local.lr, Between(0.0, 1e6, /*lo_open=*/true),
           {"The local step size: a node's steps move its own copy by lr·u_t. The coordinator moves the model by "
            "eta_k times the aggregate of the sums Σ_t u_t, so `step.eta` = `local.lr` with the `constant` rule, the "
            "`mean` and server `sgd` is FedAvg (the model becomes the mean of the nodes' x_E), and eta/lr is the "
            "server learning rate of FedOpt (docs/theory.md 6.1)."});
  v.Word("optimizer", c.local.optimizer, codec::LocalOptimizerNames(),
         {"The direction u_t of each local step: `sgd` g; `momentum` (heavy ball) m ← momentum·m + g, u = m; "
          "`nesterov` m ← momentum·m + g, u = g + momentum·m; `adam` (Kingma & Ba, bias-corrected) m ← "
          "momentum·m + (1 − momentum)·g, v ← beta2·v + (1 − beta2)·g², u = m̂/(√v̂ + epsilon); `scaffold` "
          "(Karimireddy et al. 2020) u = g − c_i + c, with the node's control variate c_i and the coordinator's c "
          "(sent beside the model), c_i ← c_i − c + Σ_t u_t/E after the round, and c_i's change sent beside the "
          "update (4d bytes each way). docs/protocol.md 7.1 gives the arithmetic."});
  v.Number("momentum", c.local.momentum, Between(0.0, 1.0, false, /*hi_open=*/true),
           {"beta of `momentum` and `nesterov`, and `adam`'s beta1."});
  v.Number("beta2", c.local.beta2, Between(0.0, 1.0, false, /*hi_open=*/true), {"`adam`'s second-moment decay."});
  v.Number("epsilon", c.local.epsilon, Between(0.0, 1.0, /*lo_open=*/true), {"`adam`'s floor on √v̂."});
  v.Number("prox_mu", c.local.prox_mu, Between(0.0, 1e6),
           {"FedProx (Li et al. 2020): each local step's gradient gains mu·(x_t − x_0), the gradient of "
            "mu/2·‖x − x_0‖², which keeps a node near the round's model. 0 turns it off; it acts from the second "
            "local step."});
  v.Word("state", c.local.keep_state, StateLifetimeNames(),
         {"How long the optimizer's moments live: `round`, reset to zero at each round's start (a fresh optimizer "
          "each round, as FL clients usually build one), or `run`, kept across the rounds a node takes part in "
          "(Adam's step count too). `sgd` has none."});

  v.Section("privacy");
  v.Word("mode", c.privacy.mode, PrivacyModeNames(),
         {"Differential privacy as DP-FedAvg does it (McMahan et al. 2018): `local`, each node clips its update to "
          "`clip_norm` and adds N(0, (noise_multiplier·clip_norm)²) to each coordinate before compressing it; "
          "`central`, nodes clip, and the coordinator bounds each decoded update to `clip_norm` and adds "
          "N(0, (noise_multiplier·clip_norm/n)²) to the mean of the round's n updates. Either way metrics.csv and "
          "summary.toml report epsilon at `delta` (docs/theory.md 6.3). `off`: no noise."});
  v.Number("clip_norm", c.privacy.clip_norm, Between(0.0, 1e12),
           {"C: each node scales its update (the sum of its directions) down to L2 norm C before compression. 0 "
            "turns clipping off; `local` and `central` need it > 0."});
  v.Number("noise_multiplier", c.privacy.noise_multiplier, Between(0.0, 1e6),
           {"z: the noise's standard deviation is z·C. `local` and `central` need it > 0."});
  v.Number("delta", c.privacy.delta, Between(0.0, 1.0, /*lo_open=*/true, /*hi_open=*/true),
           {"The delta of the reported (epsilon, delta) guarantee; below 1/`run.nodes` is the usual choice."});

  v.Section("compressor");
  v.Word("kind", c.compressor.kind, codec::CompressorNames(),
         {"What each node sends (docs/protocol.md 5).", "see below"});
  v.Integer("k", c.compressor.k, 0, kMaxU32,
            {"The number of coordinates sent. Other kinds ignore it (any value in [0, 2^32−1] is accepted).",
             "[1, `dimension`] for `rand-k` and `top-k`"});
  v.Number("p", c.compressor.p, kAnyNumber,
           {"The probability of keeping each coordinate. Other kinds ignore it.", "(0, 1] for `bernoulli`"});
  v.Integer("levels", c.compressor.levels, 0, kMaxU32,
            {"s, the number of quantisation levels. Other kinds ignore it (any value in [0, 2^32−1] is accepted).",
             "[1, 65535] for `qsgd`"});

  v.Section("aggregator");
  v.Word("kind", c.aggregator.kind, AggregatorNames(),
         {"How the coordinator combines a round's n accepted updates into the direction (below). `median`, "
          "`trimmed-mean`, `krum` and `centered-clip` resist hostile nodes.",
          nullptr,
          "`\"mean\"`, or `\"sign-mean\"` when `compressor.kind = \"sign\"` and `aggregator.kind` is not given"});
  v.Word("weighting", c.aggregator.weighting, WeightingNames(),
         {"How much each accepted update counts: `uniform`, once, the mean (1/n) Σ_i v_i; `samples`, by the samples "
          "behind it, n_i (a data objective's node weighs its shard, a synthetic one its batch, sent as "
          "`Update.weight`, docs/protocol.md 3), FedAvg's Σ_i n_i v_i / Σ_i n_i (McMahan et al. 2017), `sign-mean` "
          "Σ_i n_i sign(g_i) / Σ_i n_i and `majority` the sign of Σ_i n_i sign(g_i). Still exact and independent of "
          "arrival order; equal weights give `uniform`'s model bit for bit. The robust kinds refuse `samples` "
          "(below).",
          "`uniform`, `samples`; `samples` only with `mean`, `sign-mean` and `majority`, and with at most 2^20 / "
          "`run.nodes` samples a node"});
  v.Number("trim", c.aggregator.trim, Between(0.0, 0.5, false, /*hi_open=*/true),
           {"`trimmed-mean`: the fraction of each coordinate's values dropped at each end, ⌊trim·n⌋ of the largest "
            "and as many of the smallest. Other kinds ignore it."});
  v.Integer("byzantine", c.aggregator.byzantine, 0, 2046,
            {"`krum`: f, the number of hostile nodes tolerated. Krum needs n >= 2f + 3 updates; a round with fewer "
             "takes the coordinate-wise median instead. Other kinds ignore it.",
             "[0, 2046]; 2f + 3 <= `run.nodes` for `krum`"});
  v.Integer("krum_select", c.aggregator.krum_select, 1, 4096,
            {"`krum`: m, how many of the lowest-scoring updates are averaged (1 is Krum, more is multi-Krum); at "
             "most n − f in a round. Other kinds ignore it.",
             "[1, 4096]; <= `run.nodes` − `byzantine` for `krum`"});
  v.Number("max_update_norm", c.aggregator.max_update_norm, AtLeast(0.0),
           {"Norm bounding: an update whose L2 norm exceeds this is scaled down to it before it is aggregated. 0 "
            "turns it off. Only for aggregators of values (not `sign-mean` or `majority`)."});
  v.Number("clip_radius", c.aggregator.clip_radius, Above(0.0),
           {"`centered-clip`: tau, the radius each update's difference from the centre is clipped to (below). "
            "Other kinds ignore it."});
  v.Integer("clip_iterations", c.aggregator.clip_iterations, 1, 100,
            {"`centered-clip`: L, the clipping steps a round, each from the last one's result. Other kinds ignore "
             "it."});
  v.Integer("bucket_size", c.aggregator.bucket_size, 1, 4096,
            {"Bucketing (Karimireddy, He, Jaggi, ICLR 2022): the round's updates, ordered by node id and shuffled "
             "by a permutation drawn from `run.seed` and the round, are averaged in buckets of s = `bucket_size` "
             "(the last may be smaller) and the rule sees the ⌈n/s⌉ bucket means; with `krum`, n and f count "
             "buckets. 1 turns it off.",
             "[1, `run.nodes`]; > 1 only with `median`, `trimmed-mean`, `krum` or `centered-clip`"});
  v.Number("node_momentum", c.aggregator.node_momentum, Between(0.0, 1.0, false, /*hi_open=*/true),
           {"beta of each node's momentum, kept by the coordinator: m_i <- beta·m_i + (1 − beta)·g_i (m_i = g_i "
            "on node i's first update), and the rule combines the momenta m_i instead of the updates g_i "
            "(Karimireddy, He, Jaggi, ICML 2021: the honest momenta spread sqrt((1 − beta)/(1 + beta)) times "
            "less than the updates, hostile ones that stay put stand out). Checkpoints keep them. 0 turns it "
            "off. Only for aggregators of values.",
            "[0, 1); 0 with `sign-mean` and `majority`"});

  v.Section("step");
  v.Word("rule", c.step.rule, StepRuleNames(),
         {"How eta_k is chosen each round, k the round index from 0 and n_k the gradient-norm estimate (`norm`): "
          "`constant` eta; `decay` eta/(1 + k)^decay_power; `decay-time` eta/(1 + k·eta)^decay_power (SDE time); "
          "`step-decay` eta·decay_factor^⌊k/decay_every⌋; `normalized` eta/n_k; `clip` min(eta, clip_norm/n_k); "
          "`vankov` 1/(l0 + 1.5·l1·n_k); `l0l1-gd` eta/(l0 + l1·n_k); `l0l1` the (L0,L1)-aware step of "
          "docs/theory.md 4.3 (below)."});
  v.Number("eta", c.step.eta, Above(0.0), {"The step size, or the starting step size of a schedule."});
  v.Number("decay_power", c.step.decay_power, Between(0.0, 2.0),
           {"The exponent of `decay` and `decay-time` (1/2 is the schedule of docs/theory.md 4.2). The range is "
            "checked whatever the rule."});
  v.Number("decay_factor", c.step.decay_factor, Between(0.0, 1.0, /*lo_open=*/true),
           {"What `step-decay` multiplies the step by every `decay_every` rounds."});
  v.Integer("decay_every", c.step.decay_every, 1, 100000000, {"The rounds between two decays of `step-decay`."});
  v.Number("clip_norm", c.step.clip_norm, Above(0.0), {"gamma of `clip`: steps are at most gamma/n_k long."});
  v.Number("l0", c.step.l0, AtLeast(0.0),
           {"L0 of (L0,L1)-smoothness, ‖∇²f(x)‖ <= L0 + L1‖∇f(x)‖, for `vankov`, `l0l1-gd` and `l0l1` (which need "
            "it > 0). Left out, a synthetic objective's own (below); a data objective has none, so these rules need "
            "it declared unless `smoothness = \"online\"`.",
            nullptr, "the objective's: `lambda_max`; 1.0 for data objectives"});
  v.Number("l1", c.step.l1, AtLeast(0.0),
           {"L1 of (L0,L1)-smoothness, for `vankov`, `l0l1-gd` and `l0l1`. Left out, as for `l0`.", nullptr,
            "the objective's: 0.0 (`quadratic`), 3.0 (`quartic`), `cosh_scale` (`cosh`); 0.0 for data objectives"});
  v.Word("smoothness", c.step.smoothness, SmoothnessSourceNames(),
         {"Where L0 and L1 come from: `declared` (`l0`, `l1`, or the objective's), or `online`, fitted from the "
          "run's own steps (below), with the declared values until three samples exist (a data objective with "
          "neither declared steps eta/n_k until then). metrics.csv says which a round used."});
  v.Integer("smoothness_window", c.step.smoothness_window, 3, 64,
            {"`online`: how many of the latest samples the fit uses."});
  v.Number("eps", c.step.eps, Between(0.0, 1.0, /*lo_open=*/true, /*hi_open=*/true),
           {"The safety margin ε of `l0l1`."});
  v.Number("schedule_power", c.step.schedule_power, Between(0.0, 2.0),
           {"`l0l1`'s schedule s_k = (1 + k)^−schedule_power; 0 keeps s_k = 1."});
  v.Word("norm", c.step.norm, NormEstimateNames(),
         {"n_k: the norm of the round's aggregate, the mean of the gradient norms the nodes report (before "
          "compression, noise included), or a running mean of the aggregate's norm."});
  v.Number("norm_smoothing", c.step.norm_smoothing, Between(0.0, 1.0, false, /*hi_open=*/true),
           {"`running`: n_k = s·n_{k−1} + (1 − s)·‖direction‖, starting from the first norm."});

  v.Section("server");
  v.Word("optimizer", c.server.optimizer, ServerOptimizerNames(),
         {"How the coordinator turns the direction d and eta_k into the model change (Reddi et al. 2021): `sgd` "
          "x −= eta d; `momentum` (FedAvgM) m ← momentum·m + d, x −= eta m; `adagrad`, `adam`, `yogi` (FedAdagrad, "
          "FedAdam, FedYogi) x −= eta m / (√v + tau), m ← beta1·m + (1 − beta1) d, with v their second moments."});
  v.Number("momentum", c.server.momentum, Between(0.0, 1.0, false, true), {"beta of `momentum`."});
  v.Number("beta1", c.server.beta1, Between(0.0, 1.0, false, true),
           {"The first-moment decay of `adagrad`, `adam` and `yogi`."});
  v.Number("beta2", c.server.beta2, Between(0.0, 1.0, false, true), {"The second-moment decay of `adam` and `yogi`."});
  v.Number("tau", c.server.tau, Above(0.0),
           {"The adaptivity floor of `adagrad`, `adam` and `yogi`: v starts at tau², and the step divides by √v + "
            "tau."});

  v.Section("link");
  v.Word("preset", c.link.preset, LinkPresetNames(),
         {"A node's uplink from public measurements, for `edgefl predict`'s time forecast: `gbe` 941 Mb/s, `wifi` "
          "87.5 Mb/s (Pi 4, 5 GHz), `4g` 7 Mb/s, `5g` 18 Mb/s, `lte-m` 0.69 Mb/s, `nb-iot` 11 kb/s, `lorawan` 2.65 "
          "kb/s (before its 1% duty cycle)."});
  v.Word("shaping", c.link.shaping, LinkShapingNames(),
         {"How `edgefl run` makes the link what this section says: `none` runs over loopback as it is (the link is "
          "only forecast), `token-bucket` has each node hold every RoundStart and Update until it would have crossed "
          "the link, each way, and wait out `compute_ms` (net/link_shaper.h), `kernel` puts each node in a network "
          "namespace behind a tbf qdisc, the node adding the latency, `compute_ms` and the head start tbf's burst "
          "gives each message (needs root; otherwise the token bucket, with the reason printed). A shaped link needs a rate: `uplink_bps` or a `preset`."});
  v.Number("uplink_bps", c.link.uplink_bps, Between(0.0, codec::kMaxLinkBps),
           {"A node's uplink in bits a second; 0 takes the preset's."});
  v.Number("downlink_bps", c.link.downlink_bps, Between(0.0, codec::kMaxLinkBps),
           {"A node's downlink in bits a second; 0 takes the uplink's (links are often faster down)."});
  v.Number("latency_ms", c.link.latency_ms, Between(0.0, codec::kMaxLinkMs),
           {"One-way latency, paid once each way a round."});
  v.Number("compute_ms", c.link.compute_ms, Between(0.0, codec::kMaxLinkMs),
           {"A node's computation a round (gradient, compression). A shaped node that computes faster waits out the "
            "difference."});

  v.Section("round");
  v.Integer("deadline_ms", c.round.deadline_ms, 10, 3600000,
            {"How long a round collects updates after its RoundStart. The round closes earlier only once every "
             "live participant has answered."});
  v.Number("quorum", c.round.quorum, Between(0.0, 1.0, /*lo_open=*/true),
           {"The fraction of the cohort K (`cohort`, or `run.nodes` when 0) whose accepted updates a step needs: "
            "q = max(1, ⌈quorum × K − "
            "10⁻⁹⌉). A round with fewer makes no step. Three such rounds in a row stop the run with an error, and "
            "so do fewer than q live nodes at the start of a round once `join_timeout_ms` has passed without "
            "enough of them rejoining; but a round whose availability draws (`availability`, schedules) leave "
            "fewer than q of the population available makes no step at once, and is no failure. The default, half the nodes, keeps a run going when boards drop out; with "
            "1.0 every lost node must come back."});
  v.Integer("join_timeout_ms", c.round.join_timeout_ms, 100, 3600000,
            {"All `run.nodes` nodes must join within this time, or the run fails; later, lost nodes get as "
             "long to rejoin when fewer than the quorum are alive."});
  v.Integer("heartbeat_ms", c.round.heartbeat_ms, 10, 60000,
            {"The nodes' heartbeat interval (sent to them in Welcome). While a round collects updates, the "
             "coordinator also waits at most this long between checks for silent nodes."});
  v.Integer("dead_after_ms", c.round.dead_after_ms, 50, 3600000,
            {"A node silent for longer than this is dropped from the following rounds until it is heard from "
             "again.",
             "[50, 3600000], > `heartbeat_ms`"});
  v.Integer("cohort", c.round.cohort, 0, 1000000,
            {"K, the nodes a round steps on, drawn afresh each round from the available live nodes of the "
             "population (`run.nodes`), uniformly and from `run.seed` alone; 0 asks every available node.",
             "[0, 1000000], <= `run.nodes`"});
  v.Number("over_commit", c.round.over_commit, Between(0.0, 10.0),
           {"Asks ⌈K (1 + over_commit)⌉ nodes (at most `run.nodes`) and steps on the first K answers, as "
            "production FL does to cut stragglers; later answers count as late. Which K answered first depends on "
            "the machine's timing unless `clock = \"virtual\"`."});
  v.Number("availability", c.round.availability, Between(0.0, 1.0, /*lo_open=*/true),
           {"The probability that a node is available for a round (a seeded draw per node and round); unavailable "
            "nodes are not asked."});
  v.Number("dropout", c.round.dropout, Between(0.0, 1.0, false, /*hi_open=*/true),
           {"The probability that an asked node's answer is lost (a seeded draw per node and round): it computes, "
            "and the coordinator counts its update as dropped."});
  v.Integer("schedule_period", c.round.schedule.period, 0, 1000000,
            {"Availability schedules: a node can be asked only in the `schedule_on` rounds from round "
             "`schedule_start` of every `schedule_period` rounds (wrapping; rounds count from 0), and there with "
             "its `availability`. E.g. 24, 8, 22: rounds 22, 23, 0..5 of each 24. Every round must have a quorum "
             "of the population on schedule. 0: every round."});
  v.Integer("schedule_on", c.round.schedule.on, 0, 1000000,
            {"The rounds of each `schedule_period` a node can be asked in.", "[1, `schedule_period`]; 0 without one"});
  v.Integer("schedule_start", c.round.schedule.start, 0, 1000000,
            {"The round of each `schedule_period` its on rounds begin at.", "[0, `schedule_period`)"});
  v.Word("clock", c.round.clock, RoundClockNames(),
         {"`wall`: updates count as they arrive, and `time_s` is the machine's. `virtual`: each asked node's "
          "answer arrives at its modelled time, 2·latency + compute + its exact bytes over its link ([link]); "
          "the deadline, over-commitment and `time_s` follow that time, so the same seed gives the same model "
          "whatever the machine's scheduling."});
  v.Word("downlink", c.round.downlink, DownlinkFormNames(),
         {"What a round sends each node. `model`: the whole model, 4 bytes a coordinate. `step`: to a node that "
          "holds an earlier model, the steps since, with a hash of the model they make; the node applies them to "
          "its replica, and the coordinator moves its own model by exactly what it sent, so both stay equal bit "
          "for bit. A sign vote's step goes as its counts (2 bits a coordinate for `majority`), exactly; a sparse "
          "step (top-k, rand-k) as f32 indices and values. A dense step would cost what the model does: the model "
          "is sent then, and moves as with `model`. A node that holds no model (it just joined) gets the model. "
          "docs/protocol.md 9."});

  v.Section("async");
  v.Word("mode", c.async.mode, AggregationModeNames(),
         {"`sync`: rounds, each waiting for its cohort. `buffered`: FedBuff's asynchronous rounds: `concurrency` "
          "nodes train at once, each on the model version it was sent, and the coordinator steps after every "
          "`buffer` updates, weighing each by its staleness; `run.rounds` counts steps. With `round.clock = "
          "\"virtual\"` each update arrives at its modelled time and the run is reproducible bit for bit."});
  v.Integer("buffer", c.async.buffer, 0, 100000,
            {"K, the updates a buffered step takes (FedBuff's buffer); the step is (1/K) Σ w(s_i) g_i.",
             "[1, 100000] when buffered; 0 with `sync`"});
  v.Integer("concurrency", c.async.concurrency, 0, 1000000,
            {"How many nodes train at once; each that answers is replaced by an idle node drawn from `run.seed` "
             "(itself when every node trains). 0: every node.",
             "[0, `run.nodes`]"});
  v.Word("staleness", c.async.staleness, StalenessWeightingNames(),
         {"w(s), the weight of an update whose model is s versions old: `constant` 1, `polynomial` (1 + s)^−a, "
          "`hinge` 1 up to s = b, then 1/(1 + a (s − b))."});
  v.Number("staleness_exponent", c.async.staleness_exponent, Between(0.0, 10.0),
           {"a of `polynomial` (0.5 is FedBuff's 1/√(1 + s))."});
  v.Integer("hinge_after", c.async.hinge_after, 0, 1000000, {"b of `hinge`: updates up to b versions old weigh 1."});
  v.Number("hinge_slope", c.async.hinge_slope, Between(0.0, 1e6), {"a of `hinge`."});
  v.Integer("max_staleness", c.async.max_staleness, 0, 1000000,
            {"An update more versions old than this is refused (nodes.csv says `stale`; metrics.csv counts them) "
             "and its node given the current model."});
}

// docs/config.md's table of the keys of `section` ("run", "objective", ...),
// with the defaults of a default ExperimentConfig; empty for an unknown
// section.
std::string ConfigKeysMarkdown(const std::string& section);
// docs/config.md's table of the keys of a [[profile]] table
// (experiment/profile_keys.h).
std::string ProfileKeysMarkdown();

// The sections, in file order.
std::span<const char* const> ConfigSections();

// Whether `key` ("section.key", as --set takes it) names a config key.
bool IsConfigKey(std::string_view key);

}  // namespace edgefl
