#include "node/attack.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "maths/gradient_noise.h"

namespace edgefl {
namespace {

// ||v||^2 summed in double in coordinate order, as the coordinator's norm
// bound measures an update (coordinator/norm_bound.h).
double SquaredNormInOrder(std::span<const float> v) {
  double sum = 0.0;
  for (const float x : v) sum += static_cast<double>(x) * x;
  return sum;
}

// g <- -R v / ||v||, each value rounded to float; the factor shrinks by an
// ulp at a time while rounding left the norm above R, so a bound of R never
// scales the update (v = 0 gives 0: no direction to take). `v` may be
// `gradient` itself.
void PushAway(double radius, std::span<const float> v, std::span<float> gradient) {
  const double norm = std::sqrt(SquaredNormInOrder(v));
  if (!(norm > 0.0)) {
    std::fill(gradient.begin(), gradient.end(), 0.0f);
    return;
  }
  const double factor = -radius / norm;
  for (size_t j = 0; j < gradient.size(); ++j) gradient[j] = static_cast<float>(v[j] * factor);
  for (int tries = 0; tries < 64 && std::sqrt(SquaredNormInOrder(gradient)) > radius; ++tries) {
    const double shrink = 1.0 - 0x1.0p-23;
    for (float& g : gradient) g = static_cast<float>(g * shrink);
  }
}

}  // namespace

Status ParseAttack(std::string_view text, NodeAttack* out) {
  const auto bad = [&](const char* why) {
    return Status::Error(StatusCode::kInvalidArgument, "--attack '%.*s': %s", static_cast<int>(text.size()),
                         text.data(), why);
  };
  const size_t colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  NodeAttack attack;
  if (kind == "sign-flip") {
    if (colon != std::string_view::npos) return bad("sign-flip takes no value (scale:-F flips and scales)");
    attack.kind = AttackKind::kSignFlip;
    *out = attack;
    return Status::Ok();
  }
  if (kind == "max-norm" && colon == std::string_view::npos) {
    attack.kind = AttackKind::kMaxNorm;  // R: the run's aggregator.max_update_norm
    *out = attack;
    return Status::Ok();
  }
  if (kind == "scale") {
    attack.kind = AttackKind::kScale;
  } else if (kind == "constant") {
    attack.kind = AttackKind::kConstant;
  } else if (kind == "alie") {
    attack.kind = AttackKind::kAlie;
  } else if (kind == "max-norm") {
    attack.kind = AttackKind::kMaxNorm;
  } else {
    return bad("the kind must be sign-flip, scale:F, constant:V, alie:Z, max-norm or max-norm:R");
  }
  if (colon == std::string_view::npos) return bad("give the value, e.g. scale:100, constant:1e12 or alie:1");
  const std::string number(text.substr(colon + 1));
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(number.c_str(), &end);
  if (number.empty() || end != number.c_str() + number.size() || errno != 0 || !std::isfinite(value) ||
      std::fabs(value) > std::numeric_limits<float>::max()) {
    return bad("the value must be a finite number that fits a float");
  }
  if ((attack.kind == AttackKind::kAlie || attack.kind == AttackKind::kMaxNorm) && !(value > 0.0)) {
    return bad("alie's Z and max-norm's R must be > 0");
  }
  attack.value = static_cast<float>(value);
  *out = attack;
  return Status::Ok();
}

std::string DescribeAttack(const NodeAttack& attack) {
  char text[48];
  const auto with_value = [&](const char* kind) {
    std::snprintf(text, sizeof(text), "%s:%.9g", kind, static_cast<double>(attack.value));
    return std::string(text);
  };
  switch (attack.kind) {
    case AttackKind::kNone:
      return "none";
    case AttackKind::kSignFlip:
      return "sign-flip";
    case AttackKind::kScale:
      std::snprintf(text, sizeof(text), "scale:%g", static_cast<double>(attack.value));
      return text;
    case AttackKind::kConstant:
      std::snprintf(text, sizeof(text), "constant:%g", static_cast<double>(attack.value));
      return text;
    case AttackKind::kAlie:
      return with_value("alie");
    case AttackKind::kMaxNorm:
      return attack.value > 0.0f ? with_value("max-norm") : "max-norm";
  }
  return "none";
}

bool UsesGradientBeforeNoise(const NodeAttack& attack) {
  return attack.kind == AttackKind::kAlie || attack.kind == AttackKind::kMaxNorm;
}

Status ResolveMaxNorm(double max_update_norm, NodeAttack* attack) {
  if (attack->kind != AttackKind::kMaxNorm || attack->value > 0.0f) return Status::Ok();
  if (!(max_update_norm > 0.0)) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "--attack max-norm takes R from aggregator.max_update_norm, which is 0 here: give "
                         "max-norm:R");
  }
  attack->value = static_cast<float>(max_update_norm);
  // A float R above the bound would be scaled: take the float below it.
  if (static_cast<double>(attack->value) > max_update_norm) {
    attack->value = std::nextafter(attack->value, 0.0f);
  }
  return Status::Ok();
}

double AttackNoiseStd(const codec::NoiseSpec& noise, uint32_t batch_size, std::span<const float> gradient) {
  const double variance =
      NoiseVariance(noise, batch_size) + NoiseVarianceSlope(noise, batch_size) * SquaredNormInOrder(gradient);
  if (!std::isfinite(variance)) return NoiseScale(noise, batch_size);
  return std::sqrt(variance);
}

void ApplyAttack(const NodeAttack& attack, const AttackContext& context, std::span<float> gradient) {
  switch (attack.kind) {
    case AttackKind::kNone:
      return;
    case AttackKind::kSignFlip:
      for (float& g : gradient) g = -g;
      return;
    case AttackKind::kScale:
      for (float& g : gradient) g *= attack.value;
      return;
    case AttackKind::kConstant:
      std::fill(gradient.begin(), gradient.end(), attack.value);
      return;
    case AttackKind::kAlie: {
      // Baruch et al. 2019, eq. (1) with the sign taken as they do: every
      // coordinate z standard deviations below the honest mean.
      const double shift = static_cast<double>(attack.value) * context.noise_std;
      for (float& g : gradient) g = static_cast<float>(g - shift);
      return;
    }
    case AttackKind::kMaxNorm:
      PushAway(attack.value, context.away.size() == gradient.size() ? context.away : gradient, gradient);
      return;
  }
}

}  // namespace edgefl
