// The names config files and messages use for the experiment's kinds
// (aggregators, step rules, server optimisers, presets, ...), the link
// presets' figures, and what each aggregator and step rule needs (declared
// in experiment_config.h).
#include "experiment/experiment_config.h"

namespace edgefl {
namespace {

constexpr codec::KindName<AggregatorKind> kAggregatorNames[] = {
    {AggregatorKind::kMean, "mean"},
    {AggregatorKind::kSignMean, "sign-mean"},
    {AggregatorKind::kMajority, "majority"},
    {AggregatorKind::kMedian, "median"},
    {AggregatorKind::kTrimmedMean, "trimmed-mean"},
    {AggregatorKind::kKrum, "krum"},
    {AggregatorKind::kCenteredClip, "centered-clip"},
};
constexpr codec::KindName<StepRuleKind> kStepRuleNames[] = {
    {StepRuleKind::kConstant, "constant"},     {StepRuleKind::kDecay, "decay"},   {StepRuleKind::kDecayTime, "decay-time"},
    {StepRuleKind::kStepDecay, "step-decay"},  {StepRuleKind::kNormalized, "normalized"},
    {StepRuleKind::kClip, "clip"},             {StepRuleKind::kVankov, "vankov"}, {StepRuleKind::kL0L1Gd, "l0l1-gd"},
    {StepRuleKind::kL0L1, "l0l1"},
};
constexpr codec::KindName<LinkPreset> kLinkPresetNames[] = {
    {LinkPreset::kNone, "none"}, {LinkPreset::kGbe, "gbe"},      {LinkPreset::kWifi, "wifi"},
    {LinkPreset::k4g, "4g"},     {LinkPreset::k5g, "5g"},        {LinkPreset::kLteM, "lte-m"},
    {LinkPreset::kNbIot, "nb-iot"}, {LinkPreset::kLoraWan, "lorawan"},
};
constexpr codec::KindName<LinkShaping> kLinkShapingNames[] = {
    {LinkShaping::kNone, "none"}, {LinkShaping::kTokenBucket, "token-bucket"}, {LinkShaping::kKernel, "kernel"},
};
constexpr codec::KindName<PrivacyMode> kPrivacyModeNames[] = {
    {PrivacyMode::kOff, "off"}, {PrivacyMode::kLocal, "local"}, {PrivacyMode::kCentral, "central"},
};
// local.state: whether the optimiser's moments outlive the round.
constexpr codec::KindName<bool> kStateLifetimeNames[] = {{false, "round"}, {true, "run"}};
constexpr codec::KindName<AggregationMode> kAggregationModeNames[] = {
    {AggregationMode::kSync, "sync"}, {AggregationMode::kBuffered, "buffered"}};
constexpr codec::KindName<StalenessWeighting> kStalenessWeightingNames[] = {
    {StalenessWeighting::kConstant, "constant"},
    {StalenessWeighting::kPolynomial, "polynomial"},
    {StalenessWeighting::kHinge, "hinge"},
};
constexpr codec::KindName<DownlinkForm> kDownlinkFormNames[] = {
    {DownlinkForm::kModel, "model"}, {DownlinkForm::kStep, "step"},
};
constexpr codec::KindName<RoundClock> kRoundClockNames[] = {
    {RoundClock::kWall, "wall"}, {RoundClock::kVirtual, "virtual"},
};
constexpr codec::KindName<Weighting> kWeightingNames[] = {
    {Weighting::kUniform, "uniform"}, {Weighting::kSamples, "samples"},
};
constexpr codec::KindName<SmoothnessSource> kSmoothnessSourceNames[] = {
    {SmoothnessSource::kDeclared, "declared"},
    {SmoothnessSource::kOnline, "online"},
};
constexpr codec::KindName<NormEstimateKind> kNormEstimateNames[] = {
    {NormEstimateKind::kAggregate, "aggregate"},
    {NormEstimateKind::kNodes, "nodes"},
    {NormEstimateKind::kRunning, "running"},
};

constexpr codec::KindName<ServerOptimizerKind> kServerOptimizerNames[] = {
    {ServerOptimizerKind::kSgd, "sgd"},         {ServerOptimizerKind::kMomentum, "momentum"},
    {ServerOptimizerKind::kAdagrad, "adagrad"}, {ServerOptimizerKind::kAdam, "adam"},
    {ServerOptimizerKind::kYogi, "yogi"},
};

}  // namespace

std::span<const codec::KindName<ServerOptimizerKind>> ServerOptimizerNames() { return kServerOptimizerNames; }
std::span<const codec::KindName<NormEstimateKind>> NormEstimateNames() { return kNormEstimateNames; }
std::span<const codec::KindName<SmoothnessSource>> SmoothnessSourceNames() { return kSmoothnessSourceNames; }
std::span<const codec::KindName<LinkPreset>> LinkPresetNames() { return kLinkPresetNames; }
std::span<const codec::KindName<LinkShaping>> LinkShapingNames() { return kLinkShapingNames; }
std::span<const codec::KindName<RoundClock>> RoundClockNames() { return kRoundClockNames; }
std::span<const codec::KindName<DownlinkForm>> DownlinkFormNames() { return kDownlinkFormNames; }
std::span<const codec::KindName<Weighting>> WeightingNames() { return kWeightingNames; }
std::span<const codec::KindName<PrivacyMode>> PrivacyModeNames() { return kPrivacyModeNames; }
std::span<const codec::KindName<bool>> StateLifetimeNames() { return kStateLifetimeNames; }
std::span<const codec::KindName<AggregationMode>> AggregationModeNames() { return kAggregationModeNames; }
std::span<const codec::KindName<StalenessWeighting>> StalenessWeightingNames() { return kStalenessWeightingNames; }

double PresetUplinkBps(LinkPreset preset) {
  // Uplink medians of public measurements (docs/config.md, [link]).
  switch (preset) {
    case LinkPreset::kNone:
      return 0.0;
    case LinkPreset::kGbe:
      return 941e6;  // iperf3 on a Pi 4/5
    case LinkPreset::kWifi:
      return 87.5e6;  // Pi 4 at 5 GHz: 60-115 Mb/s
    case LinkPreset::k4g:
      return 7e6;  // 6-8 Mb/s
    case LinkPreset::k5g:
      return 18e6;  // 15-21 Mb/s
    case LinkPreset::kLteM:
      return 0.69e6;  // Cat-M1: 0.375-1 Mb/s
    case LinkPreset::kNbIot:
      return 11e3;  // 62-159 kb/s peak, about a tenth of that in practice
    case LinkPreset::kLoraWan:
      return 2.65e3;  // EU868: 0.3-5 kb/s, before its 1% duty cycle
  }
  return 0.0;
}
double PresetDutyCycle(LinkPreset preset) { return preset == LinkPreset::kLoraWan ? 0.01 : 1.0; }

std::span<const codec::KindName<AggregatorKind>> AggregatorNames() { return kAggregatorNames; }
std::span<const codec::KindName<StepRuleKind>> StepRuleNames() { return kStepRuleNames; }
const char* AggregatorName(AggregatorKind kind) { return codec::NameIn(AggregatorNames(), kind); }

bool IsSignVote(AggregatorKind kind) {
  switch (kind) {
    case AggregatorKind::kSignMean:
    case AggregatorKind::kMajority:
      return true;
    case AggregatorKind::kMean:
    case AggregatorKind::kMedian:
    case AggregatorKind::kTrimmedMean:
    case AggregatorKind::kKrum:
    case AggregatorKind::kCenteredClip:
      return false;
  }
  return false;
}

bool TakesWeights(AggregatorKind kind) { return kind == AggregatorKind::kMean || IsSignVote(kind); }

bool KeepsEveryUpdate(AggregatorKind kind) {
  switch (kind) {
    case AggregatorKind::kMedian:
    case AggregatorKind::kTrimmedMean:
    case AggregatorKind::kKrum:
    case AggregatorKind::kCenteredClip:
      return true;
    case AggregatorKind::kMean:
    case AggregatorKind::kSignMean:
    case AggregatorKind::kMajority:
      return false;
  }
  return false;
}

const char* StepRuleName(StepRuleKind kind) { return codec::NameIn(StepRuleNames(), kind); }

bool UsesNormEstimate(StepRuleKind rule) {
  switch (rule) {
    case StepRuleKind::kNormalized:
    case StepRuleKind::kClip:
    case StepRuleKind::kVankov:
    case StepRuleKind::kL0L1Gd:
    case StepRuleKind::kL0L1:
      return true;
    case StepRuleKind::kConstant:
    case StepRuleKind::kDecay:
    case StepRuleKind::kDecayTime:
    case StepRuleKind::kStepDecay:
      return false;
  }
  return false;
}

bool UsesSmoothness(StepRuleKind rule) {
  switch (rule) {
    case StepRuleKind::kVankov:
    case StepRuleKind::kL0L1Gd:
    case StepRuleKind::kL0L1:
      return true;
    case StepRuleKind::kConstant:
    case StepRuleKind::kDecay:
    case StepRuleKind::kDecayTime:
    case StepRuleKind::kStepDecay:
    case StepRuleKind::kNormalized:
    case StepRuleKind::kClip:
      return false;
  }
  return false;
}

}  // namespace edgefl
